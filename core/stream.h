/*
 * Buffered non-blocking streams (struct jg_stream), plain or TLS.
 *
 * Input is read into a capped buffer; when the consumer does not consume,
 * reading stops (backpressure) and restarts as it consumes.  Output is
 * written straight to the socket when nothing is queued, otherwise queued;
 * over the high-water mark stream_write() says JG_AGAIN and on_drained
 * follows at the low-water mark.
 *
 * Name resolution: numeric addresses are used directly (inet_pton via
 * AI_NUMERICHOST); a host name is resolved with getaddrinfo() on a
 * short-lived helper thread whose result is posted back to the stream's
 * loop, so a slow DNS server never blocks a worker.  The connect timeout
 * covers resolution, connect and the TLS handshake.
 *
 * Lifetime: a stream is freed by stream_close() (or, after
 * stream_shutdown(), once its output is written).  Freeing is deferred
 * while one of its callbacks is running.  Callbacks never run from inside
 * a call the owner made (stream_write, stream_starttls, ...).
 */
#ifndef JG_STREAM_H
#define JG_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include <ev.h>
#include <gnutls/gnutls.h>

#include <jitgate/host.h>

#include "buf.h"

struct jg_loop;
struct tls_server;
struct resolve;
struct splice;

#define STREAM_MAGIC 0x4a475354U /* "JGST" */

enum stream_state {
	ST_RESOLVING = 1,
	ST_CONNECTING,
	ST_TLS_WAIT, /* flushing plain output before STARTTLS */
	ST_HANDSHAKE,
	ST_OPEN,
	ST_FAILED, /* error reported; waiting for close */
	ST_CLOSED
};

struct jg_stream {
	uint32_t magic;
	enum stream_state state;
	struct jg_loop *loop;
	struct jg_session *session; /* owner, or NULL (admin, lingering) */
	struct jg_stream *snext, *sprev; /* the session's streams */
	int fd;
	int is_client;   /* the session's client side */
	ev_io rio, wio;
	ev_timer timer;  /* connect / handshake / linger deadline */
	struct ibuf in;
	struct oqueue out;
	const struct jg_stream_events *cb;
	void *ud;

	unsigned read_on : 1;        /* owner wants input */
	unsigned eof : 1;            /* peer closed its side */
	unsigned shut_after_flush : 1;
	unsigned shutwr_after_flush : 1;
	unsigned wr_shut : 1;        /* our write side is closed */
	unsigned fail_owed : 1;      /* failure to report from the loop */
	int busy;                    /* callbacks running: defer free */

	gnutls_session_t tls;
	int tls_active;              /* handshake done */
	size_t tls_retry;            /* length of an interrupted send */
	const struct tls_server *tls_srv; /* listener credentials */
	struct jg_tls_client tlsc;   /* upstream TLS (strings owned) */
	int want_tls;                /* upstream: handshake after connect */

	char *host, *port;
	struct addrinfo *ai, *ai_next;
	struct resolve *rr;
	uint32_t timeout_ms;
	char err[256];

	struct splice *splice;
	uint64_t nin, nout;          /* bytes read from / written to peer */

	/* Run when the stream is freed: releases what tls_srv lives in
	 * (GnuTLS credentials must outlive every session using them). */
	void (*on_free)(void *);
	void *on_free_ud;
};

/* Wrap an accepted, connected fd (made non-blocking here). */
struct jg_stream *stream_new_fd(struct jg_loop *l, int fd,
				struct jg_session *s, size_t max_buffer);
/* Begin a server-side TLS handshake now (listener "immediate" mode);
 * completion comes as on_connected. */
int stream_tls_accept(struct jg_stream *st, const struct tls_server *t);

/* The host table's stream functions. */
void stream_set_events(struct jg_stream *st, const struct jg_stream_events *ev,
		       void *ud);
struct jg_stream *stream_connect(struct jg_session *s, const char *host,
				 const char *port,
				 const struct jg_tls_client *tls,
				 uint32_t timeout_ms);
/* The same without a session (tests, admin helpers). */
struct jg_stream *stream_connect_on(struct jg_loop *l, struct jg_session *s,
				    const char *host, const char *port,
				    const struct jg_tls_client *tls,
				    uint32_t timeout_ms, size_t max_buffer);
size_t stream_peek(struct jg_stream *st, const uint8_t **data);
void stream_consume(struct jg_stream *st, size_t n);
int stream_write(struct jg_stream *st, const void *data, size_t n);
void stream_read_enable(struct jg_stream *st, int on);
int stream_starttls(struct jg_stream *st, const struct jg_tls_client *tls);
int stream_is_tls(const struct jg_stream *st);
size_t stream_pending(const struct jg_stream *st);
void stream_shutdown(struct jg_stream *st);
void stream_close(struct jg_stream *st);
int stream_splice(struct jg_stream *a, struct jg_stream *b);

/* Close our write side once the queued output is written (half close);
 * reading goes on. */
void stream_shutdown_write(struct jg_stream *st);
/* Write what is queued, then close; give up after linger_ms. */
void stream_linger(struct jg_stream *st, uint32_t linger_ms);
/* Output water marks derive from max_buffer: high = max, low = max/4. */
void stream_counts(const struct jg_stream *st, uint64_t *in, uint64_t *out);

#endif /* JG_STREAM_H */
