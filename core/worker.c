/*
 * Event loops and worker threads (see worker.h).
 */
#include "config.h"
#include "worker.h"
#include "log.h"
#include "runtime.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct post {
	struct post *next;
	jg_task_cb cb;
	void *ud;
};

static __thread struct jg_loop *this_loop;
static struct jg_loop the_main_loop;
static struct worker *workers;
static int nworkers;

static void loop_wake_cb(struct ev_loop *ev, ev_async *w, int revents)
{
	struct jg_loop *l = w->data;
	struct post *p;

	pthread_mutex_lock(&l->lock);
	p = l->head;
	l->head = l->tail = NULL;
	pthread_mutex_unlock(&l->lock);
	while (p) {
		struct post *next = p->next;
		p->cb(p->ud);
		free(p);
		p = next;
	}
}

int loop_init(struct jg_loop *l, struct ev_loop *ev)
{
	memset(l, 0, sizeof(*l));
	l->ev = ev ? ev : ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
	if (l->ev == NULL)
		return -1;
	pthread_mutex_init(&l->lock, NULL);
	ev_async_init(&l->wake, loop_wake_cb);
	l->wake.data = l;
	ev_async_start(l->ev, &l->wake);
	/* The wake-up watcher alone must not keep a loop alive. */
	ev_unref(l->ev);
	return 0;
}

void loop_fini(struct jg_loop *l)
{
	struct post *p = l->head;

	while (p) {
		struct post *next = p->next;
		free(p);
		p = next;
	}
	l->head = l->tail = NULL;
	ev_ref(l->ev);
	ev_async_stop(l->ev, &l->wake);
	pthread_mutex_destroy(&l->lock);
	if (l->ev != EV_DEFAULT)
		ev_loop_destroy(l->ev);
}

void loop_close(struct jg_loop *l)
{
	pthread_mutex_lock(&l->lock);
	l->closed = 1;
	pthread_mutex_unlock(&l->lock);
}

int loop_post(struct jg_loop *l, jg_task_cb cb, void *ud)
{
	struct post *p = malloc(sizeof(*p));

	if (p == NULL || l == NULL) {
		free(p);
		return JG_ERROR;
	}
	p->next = NULL;
	p->cb = cb;
	p->ud = ud;
	pthread_mutex_lock(&l->lock);
	if (l->closed) {
		pthread_mutex_unlock(&l->lock);
		free(p);
		return JG_ERROR;
	}
	if (l->tail)
		l->tail->next = p;
	else
		l->head = p;
	l->tail = p;
	pthread_mutex_unlock(&l->lock);
	ev_async_send(l->ev, &l->wake);
	return JG_OK;
}

static int ev_mask(int events)
{
	return ((events & JG_IO_READ) ? EV_READ : 0) |
	       ((events & JG_IO_WRITE) ? EV_WRITE : 0);
}

static void io_cb(struct ev_loop *ev, ev_io *w, int revents)
{
	struct jg_io *io = (struct jg_io *)w;

	io->cb(io->ud, w->fd,
	       ((revents & EV_READ) ? JG_IO_READ : 0) |
		       ((revents & EV_WRITE) ? JG_IO_WRITE : 0));
}

struct jg_io *loop_io_add(struct jg_loop *l, int fd, int events,
			  jg_io_cb cb, void *ud)
{
	struct jg_io *io;

	if (l == NULL || fd < 0 || cb == NULL)
		return NULL;
	io = calloc(1, sizeof(*io));
	if (io == NULL)
		return NULL;
	io->cb = cb;
	io->ud = ud;
	io->loop = l;
	ev_io_init(&io->w, io_cb, fd, ev_mask(events));
	if (events)
		ev_io_start(l->ev, &io->w);
	return io;
}

void loop_io_set(struct jg_io *io, int events)
{
	ev_io_stop(io->loop->ev, &io->w);
	ev_io_set(&io->w, io->w.fd, ev_mask(events));
	if (events)
		ev_io_start(io->loop->ev, &io->w);
}

void loop_io_del(struct jg_io *io)
{
	if (io == NULL)
		return;
	ev_io_stop(io->loop->ev, &io->w);
	free(io);
}

static void timer_cb(struct ev_loop *ev, ev_timer *w, int revents)
{
	struct jg_timer *t = (struct jg_timer *)w;

	t->cb(t->ud);
}

struct jg_timer *loop_timer_add(struct jg_loop *l, uint64_t ms,
				uint64_t repeat_ms, jg_task_cb cb, void *ud)
{
	struct jg_timer *t;

	if (l == NULL || cb == NULL)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->cb = cb;
	t->ud = ud;
	t->loop = l;
	ev_timer_init(&t->w, timer_cb, (double)ms / 1000.0,
		      (double)repeat_ms / 1000.0);
	ev_timer_start(l->ev, &t->w);
	return t;
}

void loop_timer_del(struct jg_timer *t)
{
	if (t == NULL)
		return;
	ev_timer_stop(t->loop->ev, &t->w);
	free(t);
}

struct jg_loop *main_loop(void)
{
	return &the_main_loop;
}

int main_loop_init(void)
{
	struct ev_loop *ev = ev_default_loop(EVFLAG_AUTO);

	if (ev == NULL || loop_init(&the_main_loop, ev) < 0)
		return -1;
	this_loop = &the_main_loop;
	return 0;
}

struct jg_loop *loop_current(void)
{
	return this_loop;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	sigset_t all;

	/* Signals belong to the main thread's loop. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	this_loop = &w->loop;
	ev_run(w->loop.ev, 0);
	return NULL;
}

static void worker_break(void *ud)
{
	struct worker *w = ud;

	ev_break(w->loop.ev, EVBREAK_ALL);
}

int workers_start(int n, struct rt *rt)
{
	if (n <= 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n = cpus > 0 ? (int)cpus : 1;
	}
	workers = calloc((size_t)n, sizeof(*workers));
	if (workers == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		struct worker *w = &workers[i];

		w->index = i;
		if (loop_init(&w->loop, NULL) < 0)
			return -1;
		w->loop.worker = w;
		/* Keep the loop running while it has no watchers. */
		ev_ref(w->loop.ev);
		w->rt = rt;
		rt_ref(rt);
		nworkers = i + 1;
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			log_msg(JG_LOG_ERROR, "JG0010", NULL, NULL,
				"cannot start worker thread: %s",
				strerror(errno));
			return -1;
		}
	}
	return 0;
}

int workers_count(void)
{
	return nworkers;
}

struct worker *worker_at(int i)
{
	return (i >= 0 && i < nworkers) ? &workers[i] : NULL;
}

void workers_stop(void)
{
	for (int i = 0; i < nworkers; i++)
		loop_post(&workers[i].loop, worker_break, &workers[i]);
	for (int i = 0; i < nworkers; i++) {
		pthread_join(workers[i].thread, NULL);
		/* A store's I/O thread may still complete a session's
		 * operation and post it here: refused, not a use after free. */
		loop_close(&workers[i].loop);
		if (workers[i].rt)
			rt_unref(workers[i].rt);
		workers[i].rt = NULL;
	}
}

void workers_free(void)
{
	for (int i = 0; i < nworkers; i++)
		loop_fini(&workers[i].loop);
	free(workers);
	workers = NULL;
	nworkers = 0;
}
