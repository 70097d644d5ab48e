/*
 * Buffered non-blocking streams (see stream.h for the rules).
 */
#include "config.h"
#include "stream.h"
#include "log.h"
#include "metrics.h"
#include "session.h"
#include "tls.h"
#include "worker.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEFAULT_MAX_BUFFER (1024 * 1024)
/* One read asks for at most this much: big enough for few syscalls,
 * small enough that many sessions stay cheap. */
#define READ_CHUNK (64 * 1024)

struct splice {
	struct jg_stream *a, *b;
	struct jg_session *s;
	int eof_a, eof_b;
};

static void stream_io_cb(struct ev_loop *ev, ev_io *w, int revents);
static void stream_timer_cb(struct ev_loop *ev, ev_timer *w, int revents);
static void stream_update(struct jg_stream *st);

static void stream_free(struct jg_stream *st)
{
	assert(st->magic == STREAM_MAGIC && st->state == ST_CLOSED);
	ibuf_free(&st->in);
	oq_free(&st->out);
	free(st->host);
	free(st->port);
	free((char *)st->tlsc.ca_file);
	free((char *)st->tlsc.server_name);
	free((char *)st->tlsc.cert_file);
	free((char *)st->tlsc.key_file);
	if (st->ai)
		freeaddrinfo(st->ai);
	if (st->on_free)
		st->on_free(st->on_free_ud);
	st->magic = 0;
	free(st);
}

/* Enter / leave an event handler or callback: closing inside is safe. */
static void hold(struct jg_stream *st)
{
	st->busy++;
}

static void release(struct jg_stream *st)
{
	if (--st->busy == 0 && st->state == ST_CLOSED)
		stream_free(st);
}

static struct jg_stream *stream_alloc(struct jg_loop *l, int fd,
				      struct jg_session *s, size_t max_buffer)
{
	struct jg_stream *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return NULL;
	if (max_buffer == 0)
		max_buffer = DEFAULT_MAX_BUFFER;
	st->magic = STREAM_MAGIC;
	st->loop = l;
	st->fd = fd;
	ibuf_init(&st->in, max_buffer);
	oq_init(&st->out, max_buffer, max_buffer / 4);
	ev_io_init(&st->rio, stream_io_cb, fd, EV_READ);
	ev_io_init(&st->wio, stream_io_cb, fd, EV_WRITE);
	st->rio.data = st->wio.data = st;
	ev_init(&st->timer, stream_timer_cb);
	st->timer.data = st;
	st->read_on = 1;
	if (s) {
		st->session = s;
		session_stream_add(s, st);
	}
	return st;
}

static void set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl >= 0)
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

struct jg_stream *stream_new_fd(struct jg_loop *l, int fd,
				struct jg_session *s, size_t max_buffer)
{
	struct jg_stream *st = stream_alloc(l, fd, s, max_buffer);

	if (st == NULL)
		return NULL;
	set_nonblock(fd);
	st->state = ST_OPEN;
	stream_update(st);
	return st;
}

static void count(struct jg_stream *st, int out, size_t n)
{
	if (out)
		st->nout += n;
	else
		st->nin += n;
	if (st->session == NULL)
		return;
	if (st->is_client)
		metrics_inc(out ? M_BYTES_CLIENT_OUT : M_BYTES_CLIENT_IN,
			    (int64_t)n);
	else
		metrics_inc(out ? M_BYTES_UPSTREAM_OUT : M_BYTES_UPSTREAM_IN,
			    (int64_t)n);
	session_touch(st->session, ev_now(st->loop->ev));
}

/* Start or stop a watcher to match what the state wants. */
static void want(struct jg_stream *st, ev_io *w, int on)
{
	if (on && !ev_is_active(w))
		ev_io_start(st->loop->ev, w);
	else if (!on && ev_is_active(w))
		ev_io_stop(st->loop->ev, w);
}

static void stream_update(struct jg_stream *st)
{
	int r = 0, w = 0;

	if (st->fd < 0)
		return;
	switch (st->state) {
	case ST_CONNECTING:
		w = 1;
		break;
	case ST_HANDSHAKE:
		if (gnutls_record_get_direction(st->tls))
			w = 1;
		else
			r = 1;
		break;
	case ST_TLS_WAIT:
		w = st->out.pending > 0;
		break;
	case ST_OPEN:
		r = st->read_on && !st->eof && !ibuf_full(&st->in) &&
		    !st->shut_after_flush;
		w = st->out.pending > 0 && !st->wr_shut;
		/* Decrypted bytes GnuTLS holds never make the fd readable. */
		if (r && st->tls_active &&
		    gnutls_record_check_pending(st->tls) > 0)
			ev_feed_event(st->loop->ev, &st->rio, EV_READ);
		break;
	default:
		break;
	}
	want(st, &st->rio, r);
	want(st, &st->wio, w);
}

/* The stream broke: stop I/O and report once, from the loop. */
static void stream_fail(struct jg_stream *st, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void stream_fail(struct jg_stream *st, const char *fmt, ...)
{
	va_list ap;
	enum stream_state was = st->state;

	if (st->state == ST_FAILED || st->state == ST_CLOSED)
		return;
	char msg[sizeof(st->err)];

	/* Format aside: callers pass st->err itself as an argument. */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(st->err, msg, sizeof(msg));
	st->state = ST_FAILED;
	want(st, &st->rio, 0);
	want(st, &st->wio, 0);
	ev_timer_stop(st->loop->ev, &st->timer);
	metrics_inc(M_ERRORS, 1);
	hold(st);
	if (was == ST_RESOLVING || was == ST_CONNECTING ||
	    was == ST_HANDSHAKE || was == ST_TLS_WAIT) {
		if (was == ST_HANDSHAKE)
			metrics_inc(M_TLS_HANDSHAKE_FAILURES, 1);
		if (st->cb && st->cb->on_connected)
			st->cb->on_connected(st, JG_ERROR, st->err, st->ud);
	} else if (st->cb && st->cb->on_closed) {
		st->cb->on_closed(st, JG_ERROR, st->err, st->ud);
	}
	release(st);
}

/* From inside an owner's call: report the failure from the loop. */
static void stream_fail_later(struct jg_stream *st, const char *why)
{
	if (st->fail_owed || st->state == ST_FAILED)
		return;
	if (why != st->err)
		snprintf(st->err, sizeof(st->err), "%s", why);
	st->fail_owed = 1;
	ev_feed_event(st->loop->ev, &st->wio, EV_WRITE);
}

/* ---- TLS handshake ---- */

static void tls_verify_error(struct jg_stream *st, int rc)
{
	unsigned status = gnutls_session_get_verify_cert_status(st->tls);
	gnutls_datum_t txt = {NULL, 0};

	if (rc == GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR && status &&
	    gnutls_certificate_verification_status_print(
		    status, GNUTLS_CRT_X509, &txt, 0) == 0) {
		stream_fail(st, "TLS certificate verification failed: %s",
			    (const char *)txt.data);
		gnutls_free(txt.data);
		return;
	}
	stream_fail(st, "TLS handshake failed: %s", gnutls_strerror(rc));
}

static void stream_handshake(struct jg_stream *st)
{
	int rc;

	do {
		rc = gnutls_handshake(st->tls);
	} while (rc < 0 && !gnutls_error_is_fatal(rc) && rc != GNUTLS_E_AGAIN);
	if (rc == GNUTLS_E_AGAIN) {
		stream_update(st);
		return;
	}
	if (rc < 0) {
		tls_verify_error(st, rc);
		return;
	}
	st->tls_active = 1;
	st->state = ST_OPEN;
	ev_timer_stop(st->loop->ev, &st->timer);
	stream_update(st);
	if (st->cb && st->cb->on_connected)
		st->cb->on_connected(st, JG_OK, NULL, st->ud);
}

static int tls_begin(struct jg_stream *st)
{
	int rc;

	if (st->tls_srv)
		rc = tls_session_server(&st->tls, st->tls_srv, st->fd, st->err,
					sizeof(st->err));
	else
		rc = tls_session_client(&st->tls, &st->tlsc, st->host, st->fd,
					st->err, sizeof(st->err));
	if (rc < 0)
		return -1;
	st->state = ST_HANDSHAKE;
	return 0;
}

int stream_tls_accept(struct jg_stream *st, const struct tls_server *t)
{
	st->tls_srv = t;
	if (tls_begin(st) < 0) {
		stream_fail_later(st, st->err);
		return JG_ERROR;
	}
	/* Start from the loop so on_connected never runs inside this call. */
	ev_feed_event(st->loop->ev, &st->rio, EV_READ);
	return JG_OK;
}

/* ---- reading and writing ---- */

static void stream_read(struct jg_stream *st)
{
	uint8_t *p;
	size_t room = ibuf_space(&st->in, READ_CHUNK, &p);
	ssize_t n;

	if (room == 0) {
		stream_update(st);
		return;
	}
	if (room > READ_CHUNK && ibuf_len(&st->in) == 0)
		room = READ_CHUNK;
	if (st->tls_active) {
		n = gnutls_record_recv(st->tls, p, room);
		if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
			return;
		/* A peer that closes without close_notify ends the stream
		 * like a TCP close: the protocol above knows if it was
		 * complete. */
		if (n == GNUTLS_E_PREMATURE_TERMINATION)
			n = 0;
		if (n < 0) {
			stream_fail(st, "TLS read failed: %s",
				    gnutls_strerror((int)n));
			return;
		}
	} else {
		n = read(st->fd, p, room);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			stream_fail(st, "read failed: %s", strerror(errno));
			return;
		}
	}
	if (n == 0) {
		st->eof = 1;
		stream_update(st);
		if (st->cb && st->cb->on_closed)
			st->cb->on_closed(st, JG_OK, "peer closed", st->ud);
		return;
	}
	ibuf_commit(&st->in, (size_t)n);
	count(st, 0, (size_t)n);
	if (st->cb && st->cb->on_readable)
		st->cb->on_readable(st, st->ud);
	if (st->state == ST_OPEN)
		stream_update(st);
}

static void shut_wr(struct jg_stream *st)
{
	if (st->wr_shut)
		return;
	st->wr_shut = 1;
	if (st->tls_active)
		gnutls_bye(st->tls, GNUTLS_SHUT_WR); /* best effort */
	shutdown(st->fd, SHUT_WR);
}

/* Write queued output.  0: fine (maybe more to do), -1: failed. */
static int stream_flush(struct jg_stream *st)
{
	const uint8_t *p;
	size_t len;

	while ((len = oq_peek(&st->out, &p)) > 0) {
		ssize_t n;

		if (st->tls_active) {
			/* After GNUTLS_E_AGAIN the same call must be
			 * repeated; the queue head has not moved. */
			if (st->tls_retry)
				len = st->tls_retry;
			n = gnutls_record_send(st->tls, p, len);
			if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
				st->tls_retry = len;
				return 0;
			}
			st->tls_retry = 0;
			if (n < 0) {
				stream_fail(st, "TLS write failed: %s",
					    gnutls_strerror((int)n));
				return -1;
			}
		} else {
			n = send(st->fd, p, len, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					return 0;
				stream_fail(st, "write failed: %s",
					    strerror(errno));
				return -1;
			}
		}
		oq_consume(&st->out, (size_t)n);
		count(st, 1, (size_t)n);
	}
	return 0;
}

static void stream_writable(struct jg_stream *st)
{
	if (stream_flush(st) < 0)
		return;
	if (st->out.pending == 0) {
		if (st->shut_after_flush) {
			shut_wr(st);
			stream_close(st);
			return;
		}
		if (st->shutwr_after_flush)
			shut_wr(st);
	}
	stream_update(st);
	if (oq_drained(&st->out) && st->cb && st->cb->on_drained)
		st->cb->on_drained(st, st->ud);
}

/* ---- connecting ---- */

static void connect_next(struct jg_stream *st)
{
	while (st->ai_next) {
		struct addrinfo *a = st->ai_next;
		int fd;

		st->ai_next = a->ai_next;
		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK |
						  SOCK_CLOEXEC,
			    a->ai_protocol);
		if (fd < 0) {
			snprintf(st->err, sizeof(st->err), "socket: %s",
				 strerror(errno));
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) == 0 ||
		    errno == EINPROGRESS) {
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
			st->fd = fd;
			ev_io_set(&st->rio, fd, EV_READ);
			ev_io_set(&st->wio, fd, EV_WRITE);
			st->state = ST_CONNECTING;
			stream_update(st);
			return;
		}
		snprintf(st->err, sizeof(st->err), "connect to %s:%s: %s",
			 st->host, st->port, strerror(errno));
		close(fd);
	}
	stream_fail(st, "%s", st->err[0] ? st->err : "no address to connect to");
}

static void connect_done(struct jg_stream *st)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (getsockopt(st->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		soerr = errno;
	if (soerr) {
		snprintf(st->err, sizeof(st->err), "connect to %s:%s: %s",
			 st->host, st->port, strerror(soerr));
		want(st, &st->wio, 0);
		close(st->fd);
		st->fd = -1;
		connect_next(st);
		return;
	}
	if (st->want_tls) {
		if (tls_begin(st) < 0) {
			stream_fail(st, "%s", st->err);
			return;
		}
		stream_handshake(st);
		return;
	}
	st->state = ST_OPEN;
	ev_timer_stop(st->loop->ev, &st->timer);
	stream_update(st);
	if (st->cb && st->cb->on_connected)
		st->cb->on_connected(st, JG_OK, NULL, st->ud);
}

/* Name resolution on a helper thread, result posted back. */
struct resolve {
	struct jg_stream *st; /* NULL once the stream went away */
	struct jg_loop *loop;
	char *host, *port;
	struct addrinfo *res;
	int rc;
};

static void resolve_done(void *ud)
{
	struct resolve *r = ud;
	struct jg_stream *st = r->st;

	if (st == NULL) {
		if (r->res)
			freeaddrinfo(r->res);
		goto out;
	}
	st->rr = NULL;
	if (r->rc != 0) {
		hold(st);
		stream_fail(st, "cannot resolve %s: %s", st->host,
			    gai_strerror(r->rc));
		release(st);
		goto out;
	}
	st->ai = st->ai_next = r->res;
	hold(st);
	connect_next(st);
	release(st);
out:
	free(r->host);
	free(r->port);
	free(r);
}

static void *resolve_thread(void *ud)
{
	struct resolve *r = ud;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_ADDRCONFIG};

	r->rc = getaddrinfo(r->host, r->port, &hints, &r->res);
	loop_post(r->loop, resolve_done, r);
	return NULL;
}

static int resolve_start(struct jg_stream *st)
{
	struct resolve *r = calloc(1, sizeof(*r));
	pthread_attr_t attr;
	pthread_t t;
	int rc;

	if (r == NULL)
		return -1;
	r->st = st;
	r->loop = st->loop;
	r->host = strdup(st->host);
	r->port = strdup(st->port);
	if (r->host == NULL || r->port == NULL)
		goto fail;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	rc = pthread_create(&t, &attr, resolve_thread, r);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		goto fail;
	st->rr = r;
	return 0;
fail:
	free(r->host);
	free(r->port);
	free(r);
	return -1;
}

static char *dup_opt(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct jg_stream *stream_connect_on(struct jg_loop *l, struct jg_session *s,
				    const char *host, const char *port,
				    const struct jg_tls_client *tls,
				    uint32_t timeout_ms, size_t max_buffer)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST};
	struct jg_stream *st;
	int rc;

	if (l == NULL || host == NULL || port == NULL)
		return NULL;
	st = stream_alloc(l, -1, s, max_buffer);
	if (st == NULL)
		return NULL;
	st->host = strdup(host);
	st->port = strdup(port);
	if (tls) {
		st->want_tls = 1;
		st->tlsc.verify = tls->verify;
		st->tlsc.ca_file = dup_opt(tls->ca_file);
		st->tlsc.server_name = dup_opt(tls->server_name);
		st->tlsc.cert_file = dup_opt(tls->cert_file);
		st->tlsc.key_file = dup_opt(tls->key_file);
	}
	st->timeout_ms = timeout_ms ? timeout_ms : 10000;
	ev_timer_set(&st->timer, st->timeout_ms / 1000.0, 0.);
	ev_timer_start(l->ev, &st->timer);
	st->state = ST_RESOLVING;
	if (st->host == NULL || st->port == NULL) {
		stream_fail_later(st, "out of memory");
		return st;
	}
	rc = getaddrinfo(host, port, &hints, &st->ai);
	if (rc == 0) {
		/* Failures are reported from the loop, after the caller
		 * has set its events. */
		st->ai_next = st->ai;
		st->state = ST_CONNECTING;
		ev_feed_event(l->ev, &st->wio, EV_CUSTOM);
	} else if (resolve_start(st) < 0) {
		stream_fail_later(st, "cannot start name resolution");
	}
	return st;
}

struct jg_stream *stream_connect(struct jg_session *s, const char *host,
				 const char *port,
				 const struct jg_tls_client *tls,
				 uint32_t timeout_ms)
{
	if (s == NULL || s->magic != SESSION_MAGIC)
		return NULL;
	return stream_connect_on(s->loop, s, host, port, tls, timeout_ms,
				 session_max_buffer(s));
}

/* New owner: hand over what was read (and an EOF seen) before it came. */
static void stream_redeliver(struct jg_stream *st)
{
	if (st->state != ST_OPEN)
		return;
	if (ibuf_len(&st->in) && st->cb && st->cb->on_readable)
		st->cb->on_readable(st, st->ud);
	if (st->state == ST_OPEN && st->eof && st->cb && st->cb->on_closed)
		st->cb->on_closed(st, JG_OK, "peer closed", st->ud);
}

static void stream_io_cb(struct ev_loop *ev, ev_io *w, int revents)
{
	struct jg_stream *st = w->data;

	hold(st);
	if (st->fail_owed) {
		st->fail_owed = 0;
		char why[sizeof(st->err)];
		memcpy(why, st->err, sizeof(why));
		stream_fail(st, "%s", why);
		goto out;
	}
	if ((revents & EV_CUSTOM) && w == &st->rio) {
		stream_redeliver(st);
		goto out;
	}
	switch (st->state) {
	case ST_CONNECTING:
		if (revents & EV_CUSTOM) /* first address, numeric host */
			connect_next(st);
		else
			connect_done(st);
		break;
	case ST_HANDSHAKE:
		stream_handshake(st);
		break;
	case ST_TLS_WAIT:
		if (stream_flush(st) < 0)
			break;
		if (st->out.pending == 0) {
			if (tls_begin(st) < 0)
				stream_fail(st, "%s", st->err);
			else
				stream_handshake(st);
		} else {
			stream_update(st);
		}
		break;
	case ST_OPEN:
		if (revents & EV_WRITE)
			stream_writable(st);
		if ((revents & EV_READ) && st->state == ST_OPEN)
			stream_read(st);
		break;
	default:
		break;
	}
out:
	release(st);
}

static void stream_timer_cb(struct ev_loop *ev, ev_timer *w, int revents)
{
	struct jg_stream *st = w->data;

	hold(st);
	if (st->shut_after_flush) {
		stream_close(st); /* linger over: drop what is left */
	} else if (st->state != ST_OPEN) {
		if (st->state == ST_HANDSHAKE)
			metrics_inc(M_TIMEOUTS, 1);
		stream_fail(st, "%s to %s:%s timed out after %u ms",
			    st->state == ST_HANDSHAKE ? "TLS handshake"
						      : "connect",
			    st->host ? st->host : "client",
			    st->port ? st->port : "-", st->timeout_ms);
	}
	release(st);
}

/* ---- the owner's calls ---- */

void stream_set_events(struct jg_stream *st, const struct jg_stream_events *ev,
		       void *ud)
{
	st->cb = ev;
	st->ud = ud;
}

size_t stream_peek(struct jg_stream *st, const uint8_t **data)
{
	return ibuf_peek(&st->in, data);
}

void stream_consume(struct jg_stream *st, size_t n)
{
	int was_full = ibuf_full(&st->in);

	ibuf_consume(&st->in, n);
	if (was_full && st->state == ST_OPEN)
		stream_update(st);
}

int stream_write(struct jg_stream *st, const void *data, size_t n)
{
	const uint8_t *p = data;
	int rc;

	if (st->state == ST_CLOSED || st->state == ST_FAILED ||
	    st->wr_shut || st->shut_after_flush || st->shutwr_after_flush ||
	    st->fail_owed)
		return JG_ERROR;
	if (n == 0)
		return JG_OK;
	/* Fast path: nothing queued, plain socket: write straight out. */
	if (st->state == ST_OPEN && !st->tls_active && st->out.pending == 0) {
		ssize_t w = send(st->fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			count(st, 1, (size_t)w);
			p += w;
			n -= (size_t)w;
			if (n == 0)
				return JG_OK;
		} else if (w < 0 && errno != EAGAIN && errno != EINTR) {
			snprintf(st->err, sizeof(st->err), "write failed: %s",
				 strerror(errno));
			stream_fail_later(st, st->err);
			return JG_ERROR;
		}
	}
	rc = oq_append(&st->out, p, n);
	if (rc < 0) {
		stream_fail_later(st, "out of memory");
		return JG_ERROR;
	}
	if (st->state == ST_OPEN || st->state == ST_TLS_WAIT)
		want(st, &st->wio, 1);
	return rc ? JG_AGAIN : JG_OK;
}

void stream_read_enable(struct jg_stream *st, int on)
{
	st->read_on = on ? 1 : 0;
	if (st->state == ST_OPEN)
		stream_update(st);
}

int stream_starttls(struct jg_stream *st, const struct jg_tls_client *tls)
{
	if (st->state != ST_OPEN || st->tls_active)
		return JG_ERROR;
	if (st->is_client) {
		if (tls != NULL || st->tls_srv == NULL)
			return JG_ERROR;
	} else {
		if (tls == NULL)
			return JG_ERROR;
		st->tlsc.verify = tls->verify;
		st->tlsc.ca_file = dup_opt(tls->ca_file);
		st->tlsc.server_name = dup_opt(tls->server_name);
		st->tlsc.cert_file = dup_opt(tls->cert_file);
		st->tlsc.key_file = dup_opt(tls->key_file);
	}
	/* Bytes that came before the handshake would be trusted as if
	 * they had been protected (STARTTLS injection): refuse. */
	if (ibuf_len(&st->in) > 0)
		return JG_ERROR;
	st->state = ST_TLS_WAIT;
	want(st, &st->rio, 0);
	/* Flush the plain reply (e.g. 'S'), then handshake, from the loop. */
	ev_feed_event(st->loop->ev, &st->wio, EV_WRITE);
	return JG_OK;
}

int stream_is_tls(const struct jg_stream *st)
{
	return st->tls_active;
}

size_t stream_pending(const struct jg_stream *st)
{
	return st->out.pending;
}

void stream_close(struct jg_stream *st)
{
	if (st == NULL || st->state == ST_CLOSED)
		return;
	st->state = ST_CLOSED;
	ev_io_stop(st->loop->ev, &st->rio);
	ev_io_stop(st->loop->ev, &st->wio);
	ev_timer_stop(st->loop->ev, &st->timer);
	if (st->rr)
		st->rr->st = NULL; /* the resolver frees itself */
	if (st->tls)
		gnutls_deinit(st->tls);
	st->tls = NULL;
	if (st->fd >= 0)
		close(st->fd);
	st->fd = -1;
	if (st->session)
		session_stream_remove(st->session, st);
	st->session = NULL;
	st->cb = NULL;
	if (st->splice) {
		if (st->splice->a == st)
			st->splice->a = NULL;
		else
			st->splice->b = NULL;
		st->splice = NULL;
	}
	if (st->busy == 0)
		stream_free(st);
}

void stream_linger(struct jg_stream *st, uint32_t linger_ms)
{
	if (st->state != ST_OPEN || st->out.pending == 0 || st->wr_shut) {
		stream_close(st);
		return;
	}
	st->shut_after_flush = 1;
	st->cb = NULL;
	if (st->session)
		session_stream_remove(st->session, st);
	st->session = NULL;
	ev_timer_stop(st->loop->ev, &st->timer);
	ev_timer_set(&st->timer, linger_ms / 1000.0, 0.);
	ev_timer_start(st->loop->ev, &st->timer);
	stream_update(st);
}

void stream_shutdown(struct jg_stream *st)
{
	stream_linger(st, 30000);
}

void stream_shutdown_write(struct jg_stream *st)
{
	if (st->state != ST_OPEN)
		return;
	if (st->out.pending == 0)
		shut_wr(st);
	else
		st->shutwr_after_flush = 1;
}

void stream_counts(const struct jg_stream *st, uint64_t *in, uint64_t *out)
{
	if (in)
		*in = st->nin;
	if (out)
		*out = st->nout;
}

/* ---- splice: the core relay ---- */


static struct jg_stream *other(struct splice *sp, struct jg_stream *x)
{
	return x == sp->a ? sp->b : sp->a;
}

static void splice_end(struct splice *sp, const char *why)
{
	if (sp->s)
		session_end(sp->s, why);
}

static void splice_relay(struct jg_stream *x, void *ud)
{
	struct splice *sp = ud;
	struct jg_stream *y = other(sp, x);
	const uint8_t *p;
	size_t n = stream_peek(x, &p);
	int rc;

	if (n == 0)
		return;
	if (y == NULL) {
		splice_end(sp, "relay peer closed");
		return;
	}
	rc = stream_write(y, p, n);
	if (rc == JG_ERROR) {
		splice_end(sp, "relay write failed");
		return;
	}
	stream_consume(x, n);
	/* y is full: stop reading x until y drains. */
	if (rc == JG_AGAIN)
		stream_read_enable(x, 0);
}

static void splice_drained(struct jg_stream *y, void *ud)
{
	struct splice *sp = ud;
	struct jg_stream *x = other(sp, y);

	if (x == NULL)
		return;
	stream_read_enable(x, 1);
	splice_relay(x, ud);
}

static void splice_closed(struct jg_stream *x, int status, const char *reason,
			  void *ud)
{
	struct splice *sp = ud;
	struct jg_stream *y = other(sp, x);

	if (status != JG_OK) {
		splice_end(sp, reason);
		return;
	}
	splice_relay(x, ud);
	if (x == sp->a)
		sp->eof_a = 1;
	else
		sp->eof_b = 1;
	if ((sp->eof_a && sp->eof_b) || y == NULL) {
		splice_end(sp, x->is_client ? "client closed" : "upstream closed");
		return;
	}
	/* Half close: pass the end of this direction on, keep the other. */
	stream_shutdown_write(y);
}

static const struct jg_stream_events splice_events = {
	.on_readable = splice_relay,
	.on_drained = splice_drained,
	.on_closed = splice_closed,
};

static void splice_free(void *ud)
{
	struct splice *sp = ud;

	if (sp->a)
		sp->a->splice = NULL;
	if (sp->b)
		sp->b->splice = NULL;
	free(sp);
}

int stream_splice(struct jg_stream *a, struct jg_stream *b)
{
	struct splice *sp;
	struct jg_session *s = a->session ? a->session : b->session;

	if (a == b || a->state != ST_OPEN || b->state != ST_OPEN ||
	    a->splice || b->splice || s == NULL)
		return JG_ERROR;
	sp = calloc(1, sizeof(*sp));
	if (sp == NULL)
		return JG_ERROR;
	sp->a = a;
	sp->b = b;
	sp->s = s;
	if (session_cleanup(s, splice_free, sp) != JG_OK) {
		free(sp);
		return JG_ERROR;
	}
	a->splice = b->splice = sp;
	/* Nothing more for the plugin to negotiate: the handshake is over
	 * and the idle timeout alone applies. */
	session_mark_ready(s);
	stream_set_events(a, &splice_events, sp);
	stream_set_events(b, &splice_events, sp);
	stream_read_enable(a, 1);
	stream_read_enable(b, 1);
	/* Bytes already buffered (read before the splice) go first; a side
	 * that already hit EOF is reported from the loop. */
	if (ibuf_len(&a->in) || a->eof)
		ev_feed_event(a->loop->ev, &a->rio, EV_CUSTOM);
	if (ibuf_len(&b->in) || b->eof)
		ev_feed_event(b->loop->ev, &b->rio, EV_CUSTOM);
	return JG_OK;
}
