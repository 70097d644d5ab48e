/*
 * Event loops and worker threads.
 *
 * Each worker thread runs its own libev loop; the main thread runs the
 * default loop (signals, admin listener, timers, host->main_loop()).
 * Every session lives on one worker for its whole life.  loop_post() is
 * the only way to hand work to another thread: a locked queue drained by
 * an ev_async watcher.
 */
#ifndef JG_WORKER_H
#define JG_WORKER_H

#include <pthread.h>
#include <stdint.h>

#include <ev.h>

#include <jitgate/host.h>

struct post;
struct rt;
struct lsock;
struct jg_session;

struct jg_loop {
	struct ev_loop *ev;
	ev_async wake;
	pthread_mutex_t lock;
	struct post *head, *tail;
	struct worker *worker; /* NULL for the main loop */
	int closed;            /* its thread is gone: posts are refused */
};

struct jg_io {
	ev_io w;
	jg_io_cb cb;
	void *ud;
	struct jg_loop *loop;
};

struct jg_timer {
	ev_timer w;
	jg_task_cb cb;
	void *ud;
	struct jg_loop *loop;
};

struct worker {
	struct jg_loop loop;
	pthread_t thread;
	int index;
	struct rt *rt;             /* generation new sessions start with */
	struct lsock *socks;       /* this worker's listening sockets */
	struct jg_session *sessions; /* open sessions, doubly linked */
	int draining;              /* no new sessions */
};

/* Initialise a loop around ev (NULL: a new loop). */
int loop_init(struct jg_loop *l, struct ev_loop *ev);
void loop_fini(struct jg_loop *l);
/* Run cb(ud) on l's thread soon; safe from any thread.  JG_ERROR once
 * the loop is closed (the caller keeps, and frees, ud). */
int loop_post(struct jg_loop *l, jg_task_cb cb, void *ud);
/*
 * The loop's thread has stopped for good: refuse posts from now on.  Its
 * memory stays until loop_fini(), which must wait until no other thread
 * (a plugin's I/O thread finishing its queue) can post any more.
 */
void loop_close(struct jg_loop *l);

struct jg_io *loop_io_add(struct jg_loop *l, int fd, int events,
			  jg_io_cb cb, void *ud);
void loop_io_set(struct jg_io *io, int events);
void loop_io_del(struct jg_io *io);
struct jg_timer *loop_timer_add(struct jg_loop *l, uint64_t ms,
				uint64_t repeat_ms, jg_task_cb cb, void *ud);
void loop_timer_del(struct jg_timer *t);

/* The main thread's loop (the libev default loop). */
struct jg_loop *main_loop(void);
int main_loop_init(void);
/* The loop of the calling thread (main or worker), or NULL. */
struct jg_loop *loop_current(void);

/* Start n workers (n = 0: one per online CPU), each with rt referenced. */
int workers_start(int n, struct rt *rt);
int workers_count(void);
struct worker *worker_at(int i);
/* Break every worker loop, join the threads, close their loops and drop
 * their configuration references. */
void workers_stop(void);
/* Free the worker loops, after the plugin instances (and their threads,
 * which may post to these loops) are gone. */
void workers_free(void);

#endif /* JG_WORKER_H */
