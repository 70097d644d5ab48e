/*
 * Sessions (see session.h).
 */
#include "config.h"
#include "session.h"
#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "record.h"
#include "runtime.h"
#include "stream.h"
#include "worker.h"

#include <arpa/inet.h>
#include <assert.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <jitgate/protocol.h>

/* Output still queued when a session ends gets this long to go out
 * (a protocol's last error message to its client). */
#define END_LINGER_MS 5000

struct pool_block {
	struct pool_block *next;
	max_align_t align[];
};

struct cleanup {
	struct cleanup *next;
	jg_task_cb fn;
	void *ud;
};

void session_make_id(char *buf, size_t len)
{
	uint8_t r[8];
	size_t got = 0;

	while (got < sizeof(r)) {
		ssize_t n = getrandom(r + got, sizeof(r) - got, 0);
		if (n <= 0)
			abort(); /* no entropy: ids must not be guessable */
		got += (size_t)n;
	}
	snprintf(buf, len, "s-%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1],
		 r[2], r[3], r[4], r[5], r[6], r[7]);
}

static void peer_text(struct jg_session *s, const struct sockaddr *sa)
{
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		port = ntohs(in->sin_port);
		s->loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
		snprintf(s->peer, sizeof(s->peer), "%s:%u", ip, port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		port = ntohs(in6->sin6_port);
		s->loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr) ||
			      (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) &&
			       in6->sin6_addr.s6_addr[12] == 127);
		snprintf(s->peer, sizeof(s->peer), "[%s]:%u", ip, port);
	} else {
		snprintf(s->peer, sizeof(s->peer), "unix");
		s->loopback = 1;
	}
}

size_t session_max_buffer(const struct jg_session *s)
{
	int64_t m = s->rt->set->max_buffer;

	return m > 0 ? (size_t)m : 0;
}

void session_stream_add(struct jg_session *s, struct jg_stream *st)
{
	st->sprev = NULL;
	st->snext = s->streams;
	if (s->streams)
		s->streams->sprev = st;
	s->streams = st;
}

void session_stream_remove(struct jg_session *s, struct jg_stream *st)
{
	if (st->sprev)
		st->sprev->snext = st->snext;
	else if (s->streams == st)
		s->streams = st->snext;
	if (st->snext)
		st->snext->sprev = st->sprev;
	st->snext = st->sprev = NULL;
	if (s->client == st)
		s->client = NULL;
}

void *session_alloc(struct jg_session *s, size_t n)
{
	struct pool_block *b;

	if (n > SIZE_MAX - sizeof(*b))
		return NULL;
	b = calloc(1, sizeof(*b) + n);
	if (b == NULL)
		return NULL;
	b->next = s->pool;
	s->pool = b;
	return b->align;
}

int session_cleanup(struct jg_session *s, jg_task_cb fn, void *ud)
{
	struct cleanup *c = malloc(sizeof(*c));

	if (c == NULL || fn == NULL) {
		free(c);
		return JG_ERROR;
	}
	c->fn = fn;
	c->ud = ud;
	c->next = s->cleanups;
	s->cleanups = c;
	return JG_OK;
}

static void session_teardown(struct jg_session *s)
{
	struct worker *w = s->worker;
	uint64_t in = 0, out = 0;
	char bin[24], bout[24];

	if (s->client)
		stream_counts(s->client, &in, &out);
	snprintf(bin, sizeof(bin), "%llu", (unsigned long long)in);
	snprintf(bout, sizeof(bout), "%llu", (unsigned long long)out);
	struct log_field f[] = {{"reason", s->end_reason, 0},
				{"peer", s->peer, 0},
				{"bytes_in", bin, 0},
				{"bytes_out", bout, 0}};
	log_fields(JG_LOG_INFO, "JG0102", s->plugin ? s->plugin->name : NULL,
		   s->id, "session closed", f, 4);

	if (s->opened) {
		const struct jg_protocol_ops *ops = s->plugin->ops;
		ops->session_close(s->instance, s, s->state);
		metrics_inc(M_SESSIONS_ACTIVE, -1);
	}
	/* After the plugin's last events, before the cleanups: the record
	 * ends with the reason and the client's byte counts, sealed. */
	{
		struct jg_attr a[] = {{"bytes_in", bin}, {"bytes_out", bout}};
		record_session_end_attrs(s, s->end_reason, a, 2);
	}
	while (s->cleanups) {
		struct cleanup *c = s->cleanups;
		s->cleanups = c->next;
		c->fn(c->ud);
		free(c);
	}
	while (s->streams)
		stream_linger(s->streams, END_LINGER_MS);
	ev_timer_stop(s->loop->ev, &s->handshake_timer);
	ev_timer_stop(s->loop->ev, &s->idle_timer);
	ev_timer_stop(s->loop->ev, &s->end_timer);
	if (s->prev)
		s->prev->next = s->next;
	else if (w->sessions == s)
		w->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	while (s->pool) {
		struct pool_block *b = s->pool;
		s->pool = b->next;
		free(b);
	}
	metrics_inc(M_CONNECTIONS_ACTIVE, -1);
	rt_unref(s->rt);
	s->magic = 0;
	free(s);
}

static void end_timer_cb(struct ev_loop *ev, ev_timer *t, int revents)
{
	session_teardown(t->data);
}

void session_end(struct jg_session *s, const char *reason)
{
	if (s == NULL || s->ending)
		return;
	assert(s->magic == SESSION_MAGIC);
	s->ending = 1;
	snprintf(s->end_reason, sizeof(s->end_reason), "%s",
		 reason ? reason : "ended");
	/* Tear down from the loop: the caller may be deep in a callback of
	 * one of the session's streams. */
	for (struct jg_stream *st = s->streams; st; st = st->snext)
		stream_read_enable(st, 0);
	ev_timer_set(&s->end_timer, 0., 0.);
	ev_timer_start(s->loop->ev, &s->end_timer);
}

void session_end_by_plugin(struct jg_session *s, const char *reason)
{
	if (s && !s->ending)
		s->ended_by_plugin = 1;
	session_end(s, reason);
}

const char *session_end_reason(const struct jg_session *s)
{
	return s && s->ending && !s->ended_by_plugin ? s->end_reason : NULL;
}

void sessions_end_all(struct worker *w, const char *reason)
{
	for (struct jg_session *s = w->sessions; s; s = s->next)
		session_end(s, reason);
}

void session_mark_ready(struct jg_session *s)
{
	s->ready = 1;
	ev_timer_stop(s->loop->ev, &s->handshake_timer);
}

static void handshake_timeout_cb(struct ev_loop *ev, ev_timer *t, int revents)
{
	struct jg_session *s = t->data;

	if (s->ready)
		return;
	metrics_inc(M_TIMEOUTS, 1);
	log_msg(JG_LOG_WARN, "JG0103", s->plugin->name, s->id,
		"handshake timeout");
	session_end(s, "handshake timeout");
}

static void idle_timeout_cb(struct ev_loop *ev, ev_timer *t, int revents)
{
	struct jg_session *s = t->data;
	ev_tstamp idle = (double)s->rt->set->idle_timeout / 1000.0;
	ev_tstamp left = s->last_active + idle - ev_now(ev);

	if (left > 0) {
		ev_timer_set(t, left, 0.);
		ev_timer_start(ev, t);
		return;
	}
	metrics_inc(M_TIMEOUTS, 1);
	log_msg(JG_LOG_INFO, "JG0104", s->plugin->name, s->id,
		"idle timeout");
	session_end(s, "idle timeout");
}

/*
 * The record's "connect" event.  When recording is configured and the
 * store cannot take it (or failed moments ago), the session is refused
 * before the protocol sees it: fail closed.  Without a store the
 * protocol plugin decides (its own record calls fail).
 */
static int session_record_begin(struct jg_session *s)
{
	char why[256] = "";
	struct jg_attr a[] = {{"listener", s->listener->name},
			      {"protocol", s->listener->protocol},
			      {"tls", s->client && stream_is_tls(s->client)
					      ? "true"
					      : "false"}};

	if (!record_configured() ||
	    record_session_begin(s, a, 3, why, sizeof(why)) == JG_OK)
		return 0;
	metrics_inc(M_ERRORS, 1);
	{
		struct log_field f[] = {{"peer", s->peer, 0},
					{"error", why, 0}};
		log_fields(JG_LOG_ERROR, "JG0108", s->plugin->name, s->id,
			   "session refused: recording unavailable", f, 2);
	}
	session_end(s, "recording unavailable");
	return -1;
}

static void session_open_plugin(struct jg_session *s)
{
	const struct jg_protocol_ops *ops = s->plugin->ops;
	int rc;

	if (session_record_begin(s) < 0)
		return;
	rc = ops->session_open(s->instance, s, &s->state);
	if (rc != JG_OK) {
		metrics_inc(M_ERRORS, 1);
		session_end(s, "protocol plugin refused the session");
		return;
	}
	s->opened = 1;
	metrics_inc(M_SESSIONS_TOTAL, 1);
	metrics_inc(M_SESSIONS_ACTIVE, 1);
	metrics_add(s->plugin->name, "sessions_total", 1);
}

static void tls_accepted(struct jg_stream *st, int status, const char *err,
			 void *ud)
{
	struct jg_session *s = ud;

	stream_set_events(st, NULL, NULL);
	if (status != JG_OK) {
		struct log_field f[] = {{"peer", s->peer, 0},
					{"error", err ? err : "", 0}};
		log_fields(JG_LOG_WARN, "JG0105", s->plugin->name, s->id,
			   "client TLS handshake failed", f, 2);
		session_end(s, "TLS handshake failed");
		return;
	}
	session_open_plugin(s);
}

static const struct jg_stream_events tls_accept_events = {
	.on_connected = tls_accepted,
};

struct jg_session *session_start(struct worker *w, const struct rt_listener *l,
				 int fd, const struct sockaddr *peer,
				 socklen_t peerlen)
{
	struct rt *rt = w->rt;
	struct jg_session *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		close(fd);
		return NULL;
	}
	s->magic = SESSION_MAGIC;
	session_make_id(s->id, sizeof(s->id));
	peer_text(s, peer);
	s->worker = w;
	s->loop = &w->loop;
	s->rt = rt;
	rt_ref(rt);
	s->conf = rt->conf;
	s->listener = l;
	s->plugin = l->plugin;
	s->instance = l->instance;
	s->last_active = ev_now(s->loop->ev);
	metrics_inc(M_CONNECTIONS_TOTAL, 1);
	metrics_inc(M_CONNECTIONS_ACTIVE, 1);

	s->next = w->sessions;
	if (w->sessions)
		w->sessions->prev = s;
	w->sessions = s;

	ev_init(&s->end_timer, end_timer_cb);
	s->end_timer.data = s;
	ev_init(&s->handshake_timer, handshake_timeout_cb);
	s->handshake_timer.data = s;
	ev_init(&s->idle_timer, idle_timeout_cb);
	s->idle_timer.data = s;
	if (rt->set->handshake_timeout > 0) {
		ev_timer_set(&s->handshake_timer,
			     (double)rt->set->handshake_timeout / 1000.0, 0.);
		ev_timer_start(s->loop->ev, &s->handshake_timer);
	}
	if (rt->set->idle_timeout > 0) {
		ev_timer_set(&s->idle_timer,
			     (double)rt->set->idle_timeout / 1000.0, 0.);
		ev_timer_start(s->loop->ev, &s->idle_timer);
	}

	s->client = stream_new_fd(s->loop, fd, s, session_max_buffer(s));
	if (s->client == NULL) {
		close(fd);
		session_end(s, "out of memory");
		return s;
	}
	s->client->is_client = 1;
	s->client->tls_srv = l->tls;
	if (l->tls) {
		rt_ref(rt);
		s->client->on_free = rt_release;
		s->client->on_free_ud = rt;
	}
	{
		struct log_field f[] = {{"peer", s->peer, 0},
					{"listener", l->name, 0}};
		log_fields(JG_LOG_INFO, "JG0101", l->plugin->name, s->id,
			   "session opened", f, 2);
	}
	if (l->tls && l->tls_immediate) {
		stream_set_events(s->client, &tls_accept_events, s);
		if (stream_tls_accept(s->client, l->tls) != JG_OK)
			session_end(s, "TLS setup failed");
		return s;
	}
	session_open_plugin(s);
	return s;
}
