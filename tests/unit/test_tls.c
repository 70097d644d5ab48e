/*
 * TLS streams in one loop: a plain connection upgraded with STARTTLS the
 * way PostgreSQL's SSLRequest does it, the client verifying the server's
 * chain and name; a name mismatch fails; bytes sent before the handshake
 * are refused (STARTTLS injection).  Certificates are made with certtool
 * (gnutls-bin) in a scratch directory.
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
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "stream.h"
#include "tls.h"
#include "worker.h"

static struct jg_loop L;
static char dir[64], ca[128], cert[128], key[128];
static struct tls_server *srv;

static int setup(void **state)
{
	char cmd[2048];

	snprintf(dir, sizeof(dir), "/tmp/jg-tls-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(cert, sizeof(cert), "%s/server.pem", dir);
	snprintf(key, sizeof(key), "%s/server.key", dir);
	snprintf(cmd, sizeof(cmd),
		 "(cd %s && printf 'cn = test ca\\nca\\ncert_signing_key\\n"
		 "expiration_days = 2\\n' >ca.tmpl && "
		 "printf 'cn = localhost\\ndns_name = localhost\\n"
		 "tls_www_server\\nsigning_key\\nexpiration_days = 2\\n' "
		 ">server.tmpl && "
		 "certtool --generate-privkey --key-type=ecdsa --outfile ca.key "
		 "&& certtool --generate-self-signed --load-privkey ca.key "
		 "--template ca.tmpl --outfile ca.pem && "
		 "certtool --generate-privkey --key-type=ecdsa --outfile "
		 "server.key && certtool --generate-certificate --load-privkey "
		 "server.key --load-ca-certificate ca.pem --load-ca-privkey "
		 "ca.key --template server.tmpl --outfile server.pem) "
		 ">/dev/null 2>&1",
		 dir);
	if (system(cmd) != 0)
		return -1;
	char err[256];
	if (tls_global_init() < 0)
		return -1;
	srv = tls_server_new(cert, key, NULL, err, sizeof(err));
	if (srv == NULL)
		return -1;
	return loop_init(&L, NULL);
}

static int teardown(void **state)
{
	char cmd[128];

	loop_fini(&L);
	tls_server_free(srv);
	tls_global_fini();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void guard_cb(struct ev_loop *ev, ev_timer *t, int revents)
{
	*(int *)t->data = 1;
}

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

/* One side of the conversation. */
struct side {
	struct jg_stream *st;
	int is_server;
	const char *server_name;
	int connected, tls_done, tls_status, starttls_rc;
	char err[256];
	char got[256];
	size_t got_len;
};

static void s_readable(struct jg_stream *st, void *ud)
{
	struct side *s = ud;
	const uint8_t *p;
	size_t n = stream_peek(st, &p);

	if (!s->tls_done && s->is_server && n >= 10 &&
	    memcmp(p, "SSLRequest", 10) == 0) {
		stream_consume(st, 10);
		stream_write(st, "S", 1);
		s->starttls_rc = stream_starttls(st, NULL);
		return;
	}
	if (!s->tls_done && !s->is_server && n >= 1 && p[0] == 'S') {
		struct jg_tls_client t = {.ca_file = ca,
					  .server_name = s->server_name,
					  .verify = 1};
		stream_consume(st, 1);
		s->starttls_rc = stream_starttls(st, &t);
		return;
	}
	if (n > sizeof(s->got) - s->got_len)
		n = sizeof(s->got) - s->got_len;
	memcpy(s->got + s->got_len, p, n);
	s->got_len += n;
	stream_consume(st, n);
}

static void s_connected(struct jg_stream *st, int status, const char *err,
			void *ud)
{
	struct side *s = ud;

	if (!s->connected) { /* the plain TCP connect */
		s->connected = 1;
		return;
	}
	s->tls_done = 1;
	s->tls_status = status;
	snprintf(s->err, sizeof(s->err), "%s", err ? err : "");
}

static const struct jg_stream_events ev = {
	.on_readable = s_readable,
	.on_connected = s_connected,
};

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

/* A connected plain pair: c (client, dialled) and s (server, accepted). */
static void pair(struct side *c, struct side *s)
{
	int lport, lfd = listen_any(&lport);
	char port[16];

	snprintf(port, sizeof(port), "%d", lport);
	c->st = stream_connect_on(&L, NULL, "127.0.0.1", port, NULL, 2000, 0);
	stream_set_events(c->st, &ev, c);
	spin(&c->connected);
	int fd = accept(lfd, NULL, NULL);
	close(lfd);
	assert_true(fd >= 0);
	s->st = stream_new_fd(&L, fd, NULL, 0);
	/* What the listener sets on a session's client stream. */
	s->st->is_client = 1;
	s->st->tls_srv = srv;
	s->is_server = 1;
	s->connected = 1;
	stream_set_events(s->st, &ev, s);
}

static void test_starttls_verified(void **state)
{
	struct side c = {.server_name = "localhost"}, s = {0};

	pair(&c, &s);
	stream_write(c.st, "SSLRequest", 10);
	spin(&c.tls_done);
	spin(&s.tls_done);
	assert_int_equal(s.starttls_rc, JG_OK);
	assert_int_equal(c.starttls_rc, JG_OK);
	if (c.tls_status != JG_OK)
		fail_msg("client handshake: %s", c.err);
	assert_int_equal(s.tls_status, JG_OK);
	assert_true(stream_is_tls(c.st) && stream_is_tls(s.st));
	/* Application bytes now go encrypted both ways. */
	stream_write(c.st, "select 1", 8);
	while (s.got_len < 8)
		ev_run(L.ev, EVRUN_ONCE);
	assert_memory_equal(s.got, "select 1", 8);
	stream_write(s.st, "one row", 7);
	while (c.got_len < 7)
		ev_run(L.ev, EVRUN_ONCE);
	assert_memory_equal(c.got, "one row", 7);
	stream_close(c.st);
	stream_close(s.st);
}

static void test_starttls_name_mismatch(void **state)
{
	struct side c = {.server_name = "db.example"}, s = {0};

	pair(&c, &s);
	stream_write(c.st, "SSLRequest", 10);
	spin(&c.tls_done);
	assert_int_equal(c.tls_status, JG_ERROR);
	if (strstr(c.err, "verification failed") == NULL)
		fail_msg("error was: %s", c.err);
	assert_false(stream_is_tls(c.st));
	stream_close(c.st);
	stream_close(s.st);
}

static void test_starttls_refuses_early_bytes(void **state)
{
	struct side c = {.server_name = "localhost"}, s = {0};

	pair(&c, &s);
	/* Bytes after the request, before the handshake: an attacker's
	 * injection that must not pass as protected. */
	stream_write(c.st, "SSLRequestQ injected", 20);
	while (s.starttls_rc == 0 && s.got_len == 0)
		ev_run(L.ev, EVRUN_ONCE);
	assert_int_equal(s.starttls_rc, JG_ERROR);
	assert_false(stream_is_tls(s.st));
	stream_close(c.st);
	stream_close(s.st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_starttls_verified),
		cmocka_unit_test(test_starttls_name_mismatch),
		cmocka_unit_test(test_starttls_refuses_early_bytes),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
