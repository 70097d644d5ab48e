/*
 * store_postgres internals.  Everything below runs on the host's main
 * loop: operations called from workers are posted there, driven through
 * libpq's asynchronous API (io_add on PQsocket), and their results are
 * posted back to the caller's loop.
 */
#ifndef PG_STORE_H
#define PG_STORE_H

#include <pthread.h>
#include <stdint.h>

#include <libpq-fe.h>

#include <jitgate/store.h>

#define PLUGIN "store_postgres"

enum req_kind {
	RQ_APPEND,
	RQ_READ,
	RQ_PUT,
	RQ_GET,
	RQ_LIST,
	RQ_REMOVE,
	RQ_LIST_RECORDS,
	RQ_RETAIN /* internal */
};

struct pg_req {
	enum req_kind kind;
	struct pgs *st;
	struct jg_loop *loop;
	jg_store_cb cb;
	void *ud;
	char *id;   /* sid or document id */
	char *coll;
	char *data; /* event or document */
	int64_t seq;
	uint64_t version;
	int64_t deadline; /* monotonic ms */
	/* result */
	int status;
	char *result;
	char err[256];
	struct pg_req *next;
};

enum conn_state {
	C_DOWN,       /* waiting for the retry timer */
	C_CONNECTING, /* PQconnectPoll */
	C_MIGRATING,  /* running the schema migrations */
	C_WAIT_SCHEMA, /* another connection migrates */
	C_READY,
	C_BUSY
};

struct pg_conn {
	struct pgs *st;
	int index;
	int listener; /* the LISTEN connection */
	PGconn *pq;
	struct jg_io *io;
	int fd;
	enum conn_state state;
	struct pg_req *cur;          /* in flight */
	struct pg_req *head, *tail;  /* queued */
	int backoff_ms;
	struct jg_timer *retry;
	int ever_up;
	int had_error;               /* cur's result was an error */
};

struct pg_watch {
	struct jg_loop *loop;
	jg_store_watch_cb cb;
	void *ud;
	int cancelled;
	int refs;
	struct pg_watch *next;
};

struct pgs {
	uint32_t magic;
	const struct jg_host *host;
	char *conninfo;
	char schema[64];
	char channel[80];
	int pool;
	int64_t timeout_ms;
	int64_t retention_age_ms;
	struct pg_conn *conns; /* pool data connections + 1 listener */
	int migrated;
	int rr;
	struct jg_timer *tick;
	int64_t last_retain;
	char last_error[256];
	int closing;
	int posts; /* atomic: posts to the main loop in flight */
	pthread_mutex_t wlock;
	struct pg_watch *watches;
};

int64_t pg_now_ms(void);

/* pg_conn.c */
void conn_start(struct pg_conn *c);
void conn_stop(struct pg_conn *c);
void conn_kick(struct pg_conn *c);
void conn_enqueue(struct pg_conn *c, struct pg_req *r, int front);

/* pg_sql.c */
char *sql_migrations(const char *schema);
int sql_send(struct pg_conn *c, struct pg_req *r);
void sql_result(struct pg_req *r, PGresult *res);
int req_idempotent(const struct pg_req *r);

/* store_pg.c */
void req_done(struct pg_req *r);
void pg_notify_watchers(struct pgs *st, const char *payload);
void pg_resync_watchers(struct pgs *st);

#endif
