/*
 * Sessions: one client connection and everything it opened.
 *
 * The struct is opaque to plugins; core files (auth, policy, record...)
 * read and fill the fields below.  A session lives on one worker loop.
 * Its memory (session_alloc) and cleanup hooks go away with it, in one
 * place: session teardown.
 */
#ifndef JG_SESSION_H
#define JG_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include <ev.h>

#include <jitgate/host.h>
#include <jitgate/jitgate.h>

struct jg_conf;
struct worker;
struct rt;
struct rt_listener;
struct pool_block;
struct cleanup;

#define SESSION_MAGIC 0x4a475345U /* "JGSE" */

struct jg_session {
	uint32_t magic;
	char id[24];                 /* "s-" + 16 hex */
	char peer[64];               /* "ip:port" */
	int loopback;
	struct worker *worker;
	struct jg_loop *loop;
	struct jg_stream *client;
	struct jg_stream *streams;   /* every open stream of the session */

	struct rt *rt;               /* runtime generation it started with */
	struct jg_conf *conf;        /* rt's configuration (conf_ref held) */
	const struct rt_listener *listener;

	const struct jg_plugin *plugin; /* protocol plugin */
	void *instance;              /* its instance */
	void *state;                 /* its per-session state */
	int opened;                  /* session_open returned JG_OK */

	struct pool_block *pool;     /* session_alloc memory */
	struct cleanup *cleanups;    /* run in reverse order at the end */

	/* identity: filled by core/auth.c */
	void *identity;
	char *subject;

	/* the named connection it was bound to */
	const char *conn_name;
	const struct jg_config *conn;

	/* the masking profile (the latest one a decision named: it sticks,
	 * since results of pipelined statements cannot be told apart) and
	 * the last decision's recording level */
	char mask_profile[64];
	int record_level;
	unsigned mask_serial;        /* bumped when mask_profile changes */
	void *mask;                  /* core/maskcore.c per-session state */

	void *record;                /* core/record.c state */

	int ready;                   /* handshake over: no handshake timeout */
	int ending;
	int ended_by_plugin;         /* the protocol plugin called session_end */
	char end_reason[128];
	ev_timer handshake_timer;
	ev_timer idle_timer;
	ev_timer end_timer;
	ev_tstamp last_active;

	struct jg_session *prev, *next; /* the worker's sessions */
};

/* Accept path: build and start a session for a connected fd. */
struct jg_session *session_start(struct worker *w, const struct rt_listener *l,
				 int fd, const struct sockaddr *peer,
				 socklen_t peerlen);
/* The handshake is over (authenticated or the plugin says so). */
void session_mark_ready(struct jg_session *s);
/* Activity: pushes the idle deadline. */
static inline void session_touch(struct jg_session *s, ev_tstamp now)
{
	s->last_active = now;
}
void session_end(struct jg_session *s, const char *reason);
/* host->session_end(): the plugin's own end, which its client caused */
void session_end_by_plugin(struct jg_session *s, const char *reason);
/* host->session_end_reason() */
const char *session_end_reason(const struct jg_session *s);
/* End every session of the worker now (shutdown grace over). */
void sessions_end_all(struct worker *w, const char *reason);

void *session_alloc(struct jg_session *s, size_t n);
int session_cleanup(struct jg_session *s, jg_task_cb fn, void *ud);
size_t session_max_buffer(const struct jg_session *s);

/* Stream bookkeeping (stream.c). */
void session_stream_add(struct jg_session *s, struct jg_stream *st);
void session_stream_remove(struct jg_session *s, struct jg_stream *st);

/* Random id "s-" + 16 hex into buf (at least 19 bytes). */
void session_make_id(char *buf, size_t len);

#endif /* JG_SESSION_H */
