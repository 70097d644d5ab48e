/*
 * store_postgres connections: libpq's non-blocking connect and query
 * API driven by io watchers on the main loop, one statement in flight
 * per connection, reconnect with exponential backoff.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_store.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

static void conn_io(void *ud, int fd, int events);

static void watch_fd(struct pg_conn *c, int events)
{
	const struct jg_host *h = c->st->host;
	int fd = PQsocket(c->pq);

	/* libpq may move to another socket while connecting (next address) */
	if (c->io && fd != c->fd) {
		h->io_del(c->io);
		c->io = NULL;
	}
	if (!c->io) {
		c->fd = fd;
		c->io = h->io_add(h->main_loop(), fd, events, conn_io, c);
	} else {
		h->io_set(c->io, events);
	}
}

static void retry_fire(void *ud)
{
	struct pg_conn *c = ud;
	c->st->host->timer_del(c->retry);
	c->retry = NULL;
	conn_start(c);
}

/* The connection failed: drop it, keep or fail its request, retry. */
static void conn_lost(struct pg_conn *c, const char *why)
{
	struct pgs *st = c->st;
	const struct jg_host *h = st->host;

	snprintf(st->last_error, sizeof(st->last_error), "%s",
		 why ? why : "connection lost");
	/* libpq messages end with a newline */
	st->last_error[strcspn(st->last_error, "\n")] = '\0';
	h->log(PLUGIN, NULL, JG_LOG_WARN, "SP0001",
	       "connection %d: %s; retrying in %d ms", c->index,
	       st->last_error, c->backoff_ms ? c->backoff_ms : BACKOFF_MIN_MS);
	if (c->io) {
		h->io_del(c->io);
		c->io = NULL;
	}
	if (c->pq) {
		PQfinish(c->pq);
		c->pq = NULL;
	}
	if (c->cur) {
		struct pg_req *r = c->cur;
		c->cur = NULL;
		if (req_idempotent(r)) {
			conn_enqueue(c, r, 1); /* sent again after reconnect */
		} else {
			/* It may or may not have committed: say so. */
			r->status = JG_ERROR;
			snprintf(r->err, sizeof(r->err),
				 "database connection lost; the change may "
				 "or may not have been applied: %.150s",
				 st->last_error);
			req_done(r);
		}
	}
	c->state = C_DOWN;
	if (st->closing)
		return;
	c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (c->backoff_ms > BACKOFF_MAX_MS)
		c->backoff_ms = BACKOFF_MAX_MS;
	c->retry = h->timer_add(h->main_loop(), (uint64_t)c->backoff_ms, 0,
				retry_fire, c);
}

static void become_ready(struct pg_conn *c)
{
	struct pgs *st = c->st;

	c->state = C_READY;
	c->backoff_ms = 0;
	if (c->listener) {
		/* Changes made while we were away were not heard. */
		if (c->ever_up)
			pg_resync_watchers(st);
		c->ever_up = 1;
		return;
	}
	c->ever_up = 1;
	conn_kick(c);
}

/* After connecting: migrations (first connection), LISTEN (listener). */
static void setup(struct pg_conn *c)
{
	struct pgs *st = c->st;
	char *q = NULL;

	if (c->listener) {
		if (asprintf(&q, "LISTEN %s", st->channel) < 0)
			q = NULL;
	} else if (!st->migrated) {
		if (c->index != 0) {
			c->state = C_WAIT_SCHEMA;
			return;
		}
		q = sql_migrations(st->schema);
	} else {
		become_ready(c);
		return;
	}
	if (!q || !PQsendQuery(c->pq, q)) {
		free(q);
		conn_lost(c, PQerrorMessage(c->pq));
		return;
	}
	free(q);
	c->state = C_MIGRATING;
	c->had_error = 0;
	watch_fd(c, JG_IO_READ | JG_IO_WRITE);
}

static void setup_done(struct pg_conn *c)
{
	struct pgs *st = c->st;

	if (c->had_error) {
		conn_lost(c, st->last_error);
		return;
	}
	if (!c->listener && !st->migrated) {
		st->migrated = 1;
		st->host->log(PLUGIN, NULL, JG_LOG_INFO, "SP0002",
			      "schema %s is up to date", st->schema);
		for (int i = 0; i < st->pool; i++)
			if (st->conns[i].state == C_WAIT_SCHEMA)
				become_ready(&st->conns[i]);
	}
	become_ready(c);
}

static void connect_poll(struct pg_conn *c)
{
	switch (PQconnectPoll(c->pq)) {
	case PGRES_POLLING_READING:
		watch_fd(c, JG_IO_READ);
		break;
	case PGRES_POLLING_WRITING:
		watch_fd(c, JG_IO_WRITE);
		break;
	case PGRES_POLLING_OK:
		if (PQsetnonblocking(c->pq, 1) != 0) {
			conn_lost(c, PQerrorMessage(c->pq));
			break;
		}
		watch_fd(c, JG_IO_READ);
		setup(c);
		break;
	default:
		conn_lost(c, PQerrorMessage(c->pq));
		break;
	}
}

static void quiet_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;
}

void conn_start(struct pg_conn *c)
{
	struct pgs *st = c->st;

	if (st->closing)
		return;
	c->pq = PQconnectStart(st->conninfo);
	if (!c->pq || PQstatus(c->pq) == CONNECTION_BAD) {
		conn_lost(c, c->pq ? PQerrorMessage(c->pq) : "out of memory");
		return;
	}
	/* Server notices (e.g. "already exists, skipping") are not ours to
	 * print on the gateway's stderr. */
	PQsetNoticeProcessor(c->pq, quiet_notice, NULL);
	c->state = C_CONNECTING;
	c->fd = -1;
	connect_poll(c);
}

void conn_stop(struct pg_conn *c)
{
	const struct jg_host *h = c->st->host;
	if (c->retry)
		h->timer_del(c->retry);
	c->retry = NULL;
	if (c->io)
		h->io_del(c->io);
	c->io = NULL;
	if (c->pq)
		PQfinish(c->pq);
	c->pq = NULL;
	c->state = C_DOWN;
}

void conn_enqueue(struct pg_conn *c, struct pg_req *r, int front)
{
	if (front) {
		r->next = c->head;
		c->head = r;
		if (!c->tail)
			c->tail = r;
	} else {
		r->next = NULL;
		if (c->tail)
			c->tail->next = r;
		else
			c->head = r;
		c->tail = r;
	}
}

void conn_kick(struct pg_conn *c)
{
	struct pg_req *r;

	if (c->state != C_READY || !c->head)
		return;
	/* A server that went away while we were idle shows as EOF here:
	 * reconnect first rather than send a change into the void. */
	if (!PQconsumeInput(c->pq) || PQstatus(c->pq) == CONNECTION_BAD) {
		conn_lost(c, PQerrorMessage(c->pq));
		return;
	}
	r = c->head;
	c->head = r->next;
	if (!c->head)
		c->tail = NULL;
	r->next = NULL;
	c->cur = r;
	c->had_error = 0;
	if (sql_send(c, r) < 0) {
		conn_lost(c, PQerrorMessage(c->pq));
		return;
	}
	c->state = C_BUSY;
	watch_fd(c, JG_IO_READ | JG_IO_WRITE);
}

static void notifications(struct pg_conn *c)
{
	PGnotify *n;
	while ((n = PQnotifies(c->pq))) {
		pg_notify_watchers(c->st, n->extra);
		PQfreemem(n);
	}
}

/* Read what is there; results of the statement in flight. */
static void read_results(struct pg_conn *c)
{
	if (!PQconsumeInput(c->pq)) {
		conn_lost(c, PQerrorMessage(c->pq));
		return;
	}
	notifications(c);
	while (c->state == C_BUSY || c->state == C_MIGRATING) {
		if (PQisBusy(c->pq))
			return;
		PGresult *res = PQgetResult(c->pq);
		if (!res)
			break; /* the statement is over */
		ExecStatusType s = PQresultStatus(res);
		if (s == PGRES_FATAL_ERROR) {
			const char *m = PQresultErrorMessage(res);
			snprintf(c->st->last_error, sizeof(c->st->last_error),
				 "%s", m);
			c->st->last_error[strcspn(c->st->last_error, "\n")] =
				'\0';
			c->had_error = 1;
		}
		if (c->state == C_BUSY && c->cur)
			sql_result(c->cur, res);
		PQclear(res);
	}
	if (PQstatus(c->pq) == CONNECTION_BAD) {
		conn_lost(c, PQerrorMessage(c->pq));
		return;
	}
	if (c->state == C_MIGRATING) {
		setup_done(c);
		return;
	}
	if (c->state == C_BUSY) {
		struct pg_req *r = c->cur;
		c->cur = NULL;
		c->state = C_READY;
		watch_fd(c, JG_IO_READ);
		if (r)
			req_done(r);
		conn_kick(c);
	}
}

static void conn_io(void *ud, int fd, int events)
{
	struct pg_conn *c = ud;
	(void)fd;

	if (c->state == C_CONNECTING) {
		connect_poll(c);
		return;
	}
	if (events & JG_IO_WRITE) {
		int f = PQflush(c->pq);
		if (f < 0) {
			conn_lost(c, PQerrorMessage(c->pq));
			return;
		}
		if (f == 0)
			watch_fd(c, JG_IO_READ);
	}
	if (events & JG_IO_READ)
		read_results(c);
}
