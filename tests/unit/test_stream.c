/*
 * Streams on real sockets and a real loop: a slow reader never makes the
 * gateway buffer without bound (both directions), and connect reports
 * success and failure through on_connected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stream.h"
#include "worker.h"

static struct jg_loop L;

static int setup(void **state)
{
	return loop_init(&L, NULL);
}

static int teardown(void **state)
{
	loop_fini(&L);
	return 0;
}

static void guard_cb(struct ev_loop *ev, ev_timer *t, int revents)
{
	*(int *)t->data = 1;
}

/* Run the loop until *flag or 5 s (a hang fails the test, never time). */
static void spin(int *flag)
{
	ev_timer guard;
	int expired = 0;

	ev_timer_init(&guard, guard_cb, 5., 0.);
	guard.data = &expired;
	ev_timer_start(L.ev, &guard);
	while (!*flag && !expired)
		ev_run(L.ev, EVRUN_ONCE);
	ev_timer_stop(L.ev, &guard);
	assert_false(expired);
}

struct probe {
	int drained, readable, connected, status, closed;
	char err[256];
};

static void on_drained(struct jg_stream *st, void *ud)
{
	((struct probe *)ud)->drained++;
}

static void on_readable(struct jg_stream *st, void *ud)
{
	((struct probe *)ud)->readable++;
}

static void on_connected(struct jg_stream *st, int status, const char *err,
			 void *ud)
{
	struct probe *p = ud;

	p->connected = 1;
	p->status = status;
	snprintf(p->err, sizeof(p->err), "%s", err ? err : "");
}

static void on_closed(struct jg_stream *st, int status, const char *reason,
		      void *ud)
{
	((struct probe *)ud)->closed = 1;
}

static const struct jg_stream_events events = {
	.on_readable = on_readable,
	.on_drained = on_drained,
	.on_connected = on_connected,
	.on_closed = on_closed,
};

/* The peer reads only when told to. */
struct reader {
	ev_io io;
	int on;
	size_t got;
};

static void reader_cb(struct ev_loop *ev, ev_io *w, int revents)
{
	struct reader *r = (struct reader *)w;
	char buf[65536];
	ssize_t n = read(w->fd, buf, sizeof(buf));

	if (n > 0)
		r->got += (size_t)n;
}

static void test_write_backpressure(void **state)
{
	int sp[2];
	struct probe p = {0};
	struct reader r;
	char chunk[16384];
	size_t queued = 0;
	int rc, writes = 0;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	struct jg_stream *st = stream_new_fd(&L, sp[0], NULL, 65536);
	stream_set_events(st, &events, &p);
	memset(chunk, 'w', sizeof(chunk));
	/* Nobody reads: the kernel buffer fills, then the queue, then
	 * stream_write says JG_AGAIN. */
	while ((rc = stream_write(st, chunk, sizeof(chunk))) == JG_OK) {
		queued += sizeof(chunk);
		assert_true(++writes < 100000);
	}
	assert_int_equal(rc, JG_AGAIN);
	queued += sizeof(chunk);
	assert_true(stream_pending(st) >= 65536);
	assert_true(stream_pending(st) < 65536 + sizeof(chunk));
	/* The reader wakes up: the queue drains and on_drained fires once. */
	ev_io_init(&r.io, reader_cb, sp[1], EV_READ);
	r.got = 0;
	fcntl(sp[1], F_SETFL, O_NONBLOCK);
	ev_io_start(L.ev, &r.io);
	spin(&p.drained);
	assert_int_equal(p.drained, 1);
	assert_true(stream_pending(st) <= 65536 / 4);
	/* Everything arrives. */
	while (r.got < queued)
		ev_run(L.ev, EVRUN_ONCE);
	assert_int_equal(r.got, queued);
	ev_io_stop(L.ev, &r.io);
	stream_close(st);
	close(sp[1]);
}

static void test_read_backpressure(void **state)
{
	int sp[2];
	struct probe p = {0};
	char chunk[65536];
	size_t sent = 0, got = 0;
	const uint8_t *data;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	fcntl(sp[1], F_SETFL, O_NONBLOCK);
	struct jg_stream *st = stream_new_fd(&L, sp[0], NULL, 32768);
	stream_set_events(st, &events, &p);
	memset(chunk, 'r', sizeof(chunk));
	/* 4 MiB, as much as the socket takes; the consumer does nothing. */
	for (int i = 0; i < 64; i++) {
		ssize_t n = write(sp[1], chunk, sizeof(chunk));
		if (n > 0)
			sent += (size_t)n;
		for (int k = 0; k < 4; k++)
			ev_run(L.ev, EVRUN_NOWAIT);
	}
	assert_true(p.readable > 0);
	/* Held input never exceeds the cap. */
	assert_int_equal(stream_peek(st, &data), 32768);
	assert_true(sent > 32768);
	/* Consuming lets the rest flow, still never above the cap. */
	while (got < sent) {
		size_t n = stream_peek(st, &data);
		assert_true(n <= 32768);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(data[i], 'r');
		stream_consume(st, n);
		got += n;
		if (got < sent)
			ev_run(L.ev, EVRUN_ONCE);
	}
	assert_int_equal(got, sent);
	/* The peer closes: on_closed with the input fully read. */
	close(sp[1]);
	spin(&p.closed);
	stream_close(st);
}

static int listen_any(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 4), 0);
	getsockname(fd, (struct sockaddr *)&a, &al);
	*port = ntohs(a.sin_port);
	return fd;
}

static void test_connect_ok_and_refused(void **state)
{
	struct probe p = {0};
	char port[16];
	int lport, lfd = listen_any(&lport);

	snprintf(port, sizeof(port), "%d", lport);
	struct jg_stream *st =
		stream_connect_on(&L, NULL, "127.0.0.1", port, NULL, 2000, 0);
	assert_non_null(st);
	stream_set_events(st, &events, &p);
	spin(&p.connected);
	assert_int_equal(p.status, JG_OK);
	stream_close(st);
	close(lfd); /* nothing listens there any more */

	memset(&p, 0, sizeof(p));
	st = stream_connect_on(&L, NULL, "127.0.0.1", port, NULL, 2000, 0);
	stream_set_events(st, &events, &p);
	spin(&p.connected);
	assert_int_equal(p.status, JG_ERROR);
	if (strstr(p.err, "refused") == NULL)
		fail_msg("error was: %s", p.err);
	stream_close(st);
}

static void test_connect_by_name(void **state)
{
	struct probe p = {0};
	char port[16];
	int lport, lfd = listen_any(&lport);

	/* A name goes through the resolver thread. */
	snprintf(port, sizeof(port), "%d", lport);
	struct jg_stream *st =
		stream_connect_on(&L, NULL, "localhost", port, NULL, 2000, 0);
	stream_set_events(st, &events, &p);
	spin(&p.connected);
	/* localhost may resolve to ::1 first; one of them is listening. */
	assert_int_equal(p.status, JG_OK);
	stream_close(st);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_backpressure),
		cmocka_unit_test(test_read_backpressure),
		cmocka_unit_test(test_connect_ok_and_refused),
		cmocka_unit_test(test_connect_by_name),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
