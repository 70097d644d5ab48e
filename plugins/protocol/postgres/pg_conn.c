/*
 * Session start: the client's first packets (SSLRequest, GSSENCRequest,
 * CancelRequest, StartupMessage, password), authentication through the
 * core, then the upstream connection (SSLRequest, TLS, StartupMessage,
 * SCRAM/md5/password) until the server is ready for queries.
 */
#include "pg_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pg_cancel.h"

/* Largest PasswordMessage we take from a client: tokens are long. */
#define PG_MAX_PASSWORD 65536

static void wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;

	while (n--)
		*v++ = 0;
}

static int client_write_now(struct pg_session *ps, struct pg_buf *b)
{
	int rc;

	if (b->oom)
		return -1;
	rc = pg_client_write(ps, b->data, b->len);
	pg_buf_reset(b);
	return rc;
}

static int is_loopback_ok(struct pg_session *ps)
{
	return ps->in->loopback_plaintext && ps->h->session_is_loopback(ps->s);
}

static int handle_ssl_request(struct pg_session *ps)
{
	uint8_t c = 'N';

	/* Start TLS first: a listener without a certificate refuses, and
	 * the client then hears 'N' instead of a handshake that cannot
	 * happen.  The 'S' queued after it still goes out in plain text
	 * before the handshake (the core flushes, then handshakes). */
	if (ps->in->client_tls != PG_TLS_DISABLED &&
	    !ps->h->stream_is_tls(ps->client) &&
	    ps->h->stream_starttls(ps->client, NULL) == JG_OK) {
		c = 'S';
		ps->state = ST_CLIENT_TLS;
	}
	if (ps->h->stream_write(ps->client, &c, 1) == JG_ERROR) {
		ps->state = ST_DONE;
		ps->h->session_end(ps->s, "client gone");
		return -1;
	}
	return c == 'S' ? 1 : 0;
}

/* Parse "host:port" or "[v6]:port" from the connection's address. */
static int split_address(const char *addr, char *host, size_t hlen,
			 char *port, size_t plen)
{
	const char *colon;
	size_t n;

	if (!addr)
		return -1;
	if (addr[0] == '[') {
		colon = strstr(addr, "]:");
		if (!colon)
			return -1;
		n = (size_t)(colon - addr - 1);
		if (n >= hlen)
			return -1;
		memcpy(host, addr + 1, n);
		host[n] = 0;
		colon++;
	} else {
		colon = strrchr(addr, ':');
		if (!colon)
			return -1;
		n = (size_t)(colon - addr);
		if (n == 0 || n >= hlen)
			return -1;
		memcpy(host, addr, n);
		host[n] = 0;
	}
	if (strlen(colon + 1) == 0 || strlen(colon + 1) >= plen)
		return -1;
	snprintf(port, plen, "%s", colon + 1);
	return 0;
}

static int parse_up_tls(const char *mode)
{
	if (!mode || strcmp(mode, "prefer") == 0)
		return PG_UP_PREFER;
	if (strcmp(mode, "disable") == 0)
		return PG_UP_DISABLE;
	if (strcmp(mode, "require") == 0)
		return PG_UP_REQUIRE;
	if (strcmp(mode, "verify-full") == 0)
		return PG_UP_VERIFY_FULL;
	return -1;
}

static int handle_startup_message(struct pg_session *ps)
{
	const char *db = pg_startup_get(&ps->su, "database");
	const char *user = pg_startup_get(&ps->su, "user");
	char msg[300];

	if (!db || !*db)
		db = user; /* libpq's default */
	snprintf(ps->conn_name, sizeof(ps->conn_name), "%s", db);
	if (!ps->h->stream_is_tls(ps->client) &&
	    ps->in->client_tls == PG_TLS_REQUIRED && !is_loopback_ok(ps)) {
		pg_fatal(ps, "28000",
			 "the gateway requires TLS: connect with sslmode=require",
			 NULL);
		return -1;
	}
	ps->conn = ps->h->session_connection(ps->s, ps->conn_name);
	if (!ps->conn) {
		snprintf(msg, sizeof(msg),
			 "database \"%.200s\" does not exist on this gateway",
			 ps->conn_name);
		pg_fatal(ps, "3D000", msg,
			 "The database name is the name of a configured "
			 "connection.");
		return -1;
	}
	if (split_address(ps->h->cfg_string(ps->conn, "address"), ps->up_host,
			  sizeof(ps->up_host), ps->up_port,
			  sizeof(ps->up_port)) < 0 ||
	    (ps->up_tls = parse_up_tls(ps->h->cfg_string(ps->conn, "tls"))) <
		    0) {
		pg_fatal(ps, "08001", "the connection is misconfigured", NULL);
		return -1;
	}
	/* The password travels in clear inside this connection: only
	 * inside TLS or on loopback (checked above). */
	pg_build_auth(&ps->out, PG_AUTH_REQ_CLEARTEXT, NULL, 0);
	ps->state = ST_PASSWORD;
	return client_write_now(ps, &ps->out);
}

/* The packet was parsed into ps->su and consumed: the core refuses to
 * start TLS while unread bytes sit in the input (STARTTLS injection). */
static int handle_first_packet(struct pg_session *ps)
{
	switch (ps->su.code) {
	case PG_SSL_CODE:
		return handle_ssl_request(ps);
	case PG_GSSENC_CODE: {
		uint8_t c = 'N'; /* no GSSAPI encryption: libpq goes on */

		ps->h->stream_write(ps->client, &c, 1);
		return 0;
	}
	case PG_CANCEL_CODE:
		pg_start_cancel_forward(ps, ps->su.cancel_pid,
					ps->su.cancel_key);
		return 1;
	default:
		return handle_startup_message(ps);
	}
}

static int param_listed(const struct pg_instance *in, const char *key)
{
	size_t i;

	for (i = 0; i < in->nallow; i++)
		if (strcasecmp(in->allow_params[i], key) == 0)
			return 1;
	return 0;
}

/*
 * The connect decision (docs/policy.md: the startup parameters by name).
 * Parameters that change server behaviour (options, search_path,
 * replication) must also be listed in the listener's allow_parameters,
 * since a broad connect rule would otherwise let them through unseen;
 * each one present is named in a "sensitive" attribute for rules too.
 */
static int check_connect_policy(struct pg_session *ps)
{
	struct jg_decision d;
	struct jg_attr attrs[2 * PG_MAX_PARAMS + 2];
	struct jg_action a;
	char msg[400];
	size_t i, n = 0;

	for (i = 0; i < ps->su.nparams; i++) {
		const char *k = ps->su.keys[i];
		int kind = pg_param_kind(k);

		if (kind == PG_PARAM_DROP)
			continue;
		attrs[n].key = k;
		attrs[n++].value = strcmp(k, "database") == 0 ? ps->conn_name
							       : ps->su.vals[i];
		if (kind != PG_PARAM_POLICY)
			continue;
		attrs[n].key = "sensitive";
		attrs[n++].value = k;
		if (!param_listed(ps->in, k)) {
			snprintf(msg, sizeof(msg),
				 "startup parameter \"%.100s\" is not allowed "
				 "on this gateway",
				 k);
			pg_fatal(ps, "42501", msg,
				 "The listener's allow_parameters option does "
				 "not list it.");
			return -1;
		}
	}
	if (!pg_startup_get(&ps->su, "database")) {
		attrs[n].key = "database";
		attrs[n++].value = ps->conn_name;
	}
	a.type = "connect";
	a.attrs = attrs;
	a.nattrs = n;
	a.text = NULL;
	memset(&d, 0, sizeof(d));
	if (ps->h->decide(ps->s, &a, &d) != JG_OK ||
	    d.effect != JG_EFFECT_ALLOW) {
		snprintf(msg, sizeof(msg),
			 "connection denied by jitgate policy rule \"%.120s\"",
			 d.rule[0] ? d.rule : "default");
		pg_fatal(ps, "42501", msg, d.reason[0] ? d.reason : NULL);
		return -1;
	}
	if (d.mask_profile[0])
		ps->masking = 1;
	return 0;
}

static int handle_password(struct pg_session *ps, const struct pg_frame *f)
{
	char err[256] = "";
	char msg[400];
	const char *user = pg_startup_get(&ps->su, "user");
	int rc;

	if (f->type != 'p' || f->body_len == 0 ||
	    memchr(f->body, 0, f->body_len) != f->body + f->body_len - 1) {
		pg_fatal(ps, "08P01", "expected a password message", NULL);
		return -1;
	}
	rc = ps->h->authenticate(ps->s, user, (const char *)f->body,
				 f->body_len - 1, ps->conn_name, err,
				 sizeof(err));
	/* the core records the authentication itself */
	if (rc != JG_OK) {
		ps->h->metric_add(PG_PLUGIN, "auth_failures", 1);
		snprintf(msg, sizeof(msg),
			 "password authentication failed for user \"%.100s\"",
			 user);
		pg_fatal(ps, "28P01", msg, err[0] ? err : NULL);
		return -1;
	}
	if (check_connect_policy(ps) < 0)
		return -1;
	ps->ua.user = ps->h->cfg_string(ps->conn, "user");
	ps->ua.pass = ps->h->cfg_secret(ps->conn, "password", &ps->ua.passlen);
	if (!ps->ua.user)
		ps->ua.user = user;
	ps->state = ST_UP_CONNECT;
	ps->up = ps->h->stream_connect(
		ps->s, ps->up_host, ps->up_port, NULL,
		(uint32_t)ps->h->cfg_int(ps->conn, "connect_timeout"));
	if (!ps->up) {
		pg_fatal(ps, "08001", "could not connect to the upstream server",
			 NULL);
		return -1;
	}
	pg_set_upstream_events(ps);
	return 1;
}

int pg_client_startup_input(struct pg_session *ps)
{
	const uint8_t *d;
	size_t n;
	struct pg_frame f;
	const char *why = NULL;
	int rc, fr;

	while (ps->state == ST_STARTUP || ps->state == ST_PASSWORD) {
		n = ps->h->stream_peek(ps->client, &d);
		if (ps->state == ST_STARTUP)
			fr = pg_frame_startup(d, n, &f, &why);
		else
			fr = pg_frame_typed(d, n, PG_MAX_PASSWORD, &f, &why);
		if (fr == PG_FRAME_MORE)
			return 0;
		if (fr == PG_FRAME_BAD) {
			pg_fatal(ps, "08P01", why, NULL);
			return -1;
		}
		if (ps->state == ST_STARTUP) {
			pg_startup_free(&ps->su);
			if (pg_startup_parse(f.body, f.body_len, &ps->su, &why) <
			    0) {
				pg_fatal(ps, "08P01", why, NULL);
				return -1;
			}
			ps->h->stream_consume(ps->client, f.total);
			if (handle_first_packet(ps) < 0)
				return -1;
			continue;
		}
		rc = handle_password(ps, &f);
		/* the password has no business staying in memory */
		wipe((void *)d, f.total);
		if (rc < 0)
			return -1;
		ps->h->stream_consume(ps->client, f.total);
	}
	return 0;
}

/* ---- upstream ---- */

static void send_upstream_startup(struct pg_session *ps)
{
	size_t off, i;
	const char *db = ps->h->cfg_string(ps->conn, "database");

	pg_buf_reset(&ps->out);
	off = pg_msg_begin(&ps->out, 0);
	pg_buf_i32(&ps->out, (int32_t)PG_PROTO_V3);
	pg_buf_str(&ps->out, "user");
	pg_buf_str(&ps->out, ps->ua.user);
	pg_buf_str(&ps->out, "database");
	pg_buf_str(&ps->out, db ? db : ps->ua.user);
	for (i = 0; i < ps->su.nparams; i++) {
		int k = pg_param_kind(ps->su.keys[i]);

		/* policy parameters got here only if policy allowed them */
		if (k != PG_PARAM_PASS && k != PG_PARAM_POLICY)
			continue;
		pg_buf_str(&ps->out, ps->su.keys[i]);
		pg_buf_str(&ps->out, ps->su.vals[i]);
	}
	/* Policy reports an unqualified table as public.name: make that
	 * what the server resolves, whatever the role's or database's
	 * default (a "$user" schema first, say).  Statements that change
	 * it are refused (pg_guard.c). */
	if (!pg_startup_get(&ps->su, "search_path")) {
		pg_buf_str(&ps->out, "search_path");
		pg_buf_str(&ps->out, "public");
	}
	pg_buf_u8(&ps->out, 0);
	pg_msg_end(&ps->out, off);
	ps->state = ST_UP_AUTH;
	ps->h->stream_write(ps->up, ps->out.data, ps->out.len);
	pg_buf_reset(&ps->out);
}

static void up_fail(struct pg_session *ps, const char *why)
{
	ps->h->log(PG_PLUGIN, ps->s, JG_LOG_WARN, "PG0201",
		   "upstream %s:%s: %s", ps->up_host, ps->up_port, why);
	pg_fatal(ps, "08001", "the gateway could not connect to the database",
		 why);
}

static void start_upstream_tls(struct pg_session *ps)
{
	struct jg_tls_client t;

	memset(&t, 0, sizeof(t));
	t.ca_file = ps->h->cfg_string(ps->conn, "ca_file");
	t.server_name = ps->h->cfg_string(ps->conn, "server_name");
	if (!t.server_name)
		t.server_name = ps->up_host;
	t.verify = ps->up_tls == PG_UP_VERIFY_FULL;
	ps->state = ST_UP_TLS;
	if (ps->h->stream_starttls(ps->up, &t) != JG_OK)
		up_fail(ps, "TLS to the server could not start");
}

void pg_up_connected(struct pg_session *ps, int status, const char *err)
{
	uint8_t req[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}; /* 80877103 */

	if (status != JG_OK) {
		up_fail(ps, err ? err : "connect failed");
		return;
	}
	if (ps->state == ST_UP_CONNECT && ps->up_tls != PG_UP_DISABLE) {
		ps->state = ST_UP_SSL;
		ps->h->stream_write(ps->up, req, sizeof(req));
		return;
	}
	send_upstream_startup(ps);
}

void pg_up_closed(struct pg_session *ps, const char *reason)
{
	if (ps->state == ST_DONE)
		return;
	if (ps->state == ST_RELAY) {
		/* deliver what the server said before it went */
		pg_relay_upstream_input(ps);
		if (ps->state == ST_DONE)
			return;
		ps->state = ST_DONE;
		ps->h->stream_shutdown(ps->client);
		ps->h->session_end(ps->s, "upstream closed");
		return;
	}
	up_fail(ps, reason ? reason : "server closed the connection");
}

/* The server's answer to our SSLRequest is one byte. */
static void upstream_ssl_answer(struct pg_session *ps)
{
	const uint8_t *d;

	if (ps->h->stream_peek(ps->up, &d) < 1)
		return;
	if (d[0] == 'S') {
		ps->h->stream_consume(ps->up, 1);
		start_upstream_tls(ps);
		return;
	}
	if (d[0] == 'N' && ps->up_tls == PG_UP_PREFER) {
		ps->h->stream_consume(ps->up, 1);
		send_upstream_startup(ps);
		return;
	}
	up_fail(ps, "the server refused TLS");
}

static int register_cancel_key(struct pg_session *ps)
{
	struct pg_cancel_target t;

	memset(&t, 0, sizeof(t));
	snprintf(t.host, sizeof(t.host), "%s", ps->up_host);
	snprintf(t.port, sizeof(t.port), "%s", ps->up_port);
	t.up_pid = ps->up_pid;
	t.up_key = ps->up_key;
	t.loop = ps->h->session_loop(ps->s);
	t.owner = ps;
	if (pg_cancel_register(&t, &ps->gw_pid, &ps->gw_key) < 0)
		return -1;
	ps->cancel_registered = 1;
	return 0;
}

/* The first ReadyForQuery came: the session is running. */
static int session_begin(struct pg_session *ps, const struct pg_frame *f)
{
	struct jg_attr a[3] = {
		{"connection", ps->conn_name},
		{"upstream", ps->up_host},
		{"auth_method", ps->ua.method ?: "trust"},
	};

	ps->txstatus = f->body[0];
	ps->state = ST_RELAY;
	/* no session runs unrecorded: the core records each decision, this
	 * proves the record is writable */
	if (pg_record(ps, "session_start", a, 3) < 0) {
		pg_fatal(ps, "58000",
			 "the session cannot be recorded, so the gateway "
			 "refuses it",
			 NULL);
		return -1;
	}
	ps->h->metric_add(PG_PLUGIN, "sessions", 1);
	return pg_client_write(ps, f->body - 5, f->total) < 0 ? -1 : 0;
}

/*
 * Before the client sees ReadyForQuery, read the column names column
 * rules need (pg_rows.h): one query of our own on the upstream
 * connection, answered before anything of the client's goes there, so
 * nothing interleaves with its protocol stream.
 */
static int catalog_start(struct pg_session *ps)
{
	size_t off;

	pg_buf_reset(&ps->out);
	off = pg_msg_begin(&ps->out, 'Q');
	pg_buf_str(&ps->out, PG_CATALOG_QUERY);
	pg_msg_end(&ps->out, off);
	if (ps->out.oom) {
		up_fail(ps, "out of memory");
		return -1;
	}
	ps->state = ST_UP_CATALOG;
	ps->h->stream_write(ps->up, ps->out.data, ps->out.len);
	pg_buf_reset(&ps->out);
	return 0;
}

/* One backend message while authenticating or before the first
 * ReadyForQuery.  Returns 0 to go on, -1 when the session ended. */
static int upstream_startup_msg(struct pg_session *ps, const struct pg_frame *f)
{
	const char *why = NULL;
	struct pg_reader r;
	int rc;

	switch (f->type) {
	case 'R':
		if (ps->state != ST_UP_AUTH)
			break;
		rc = pg_auth_step(&ps->ua, f->body, f->body_len, &ps->out, &why);
		if (rc == PG_AUTH_FAIL) {
			up_fail(ps, why);
			return -1;
		}
		if (ps->out.len)
			ps->h->stream_write(ps->up, ps->out.data, ps->out.len);
		wipe(ps->out.data, ps->out.len);
		pg_buf_reset(&ps->out);
		if (rc == PG_AUTH_DONE) {
			ps->state = ST_UP_READY;
			pg_build_auth(&ps->out, PG_AUTH_REQ_OK, NULL, 0);
			return client_write_now(ps, &ps->out);
		}
		return 0;
	case 'E':
		ps->h->log(PG_PLUGIN, ps->s, JG_LOG_WARN, "PG0202",
			   "upstream refused the session: %s %s",
			   pg_error_field(f->body, f->body_len, 'C') ?: "",
			   pg_error_field(f->body, f->body_len, 'M') ?: "");
		up_fail(ps, "the server refused the gateway's login");
		return -1;
	case 'K':
		if (ps->state != ST_UP_READY)
			break;
		pg_reader_init(&r, f->body, f->body_len);
		ps->up_pid = pg_get_i32(&r);
		ps->up_key = pg_get_i32(&r);
		if (r.bad || register_cancel_key(ps) < 0) {
			up_fail(ps, "bad BackendKeyData");
			return -1;
		}
		{
			size_t off = pg_msg_begin(&ps->out, 'K');

			pg_buf_i32(&ps->out, ps->gw_pid);
			pg_buf_i32(&ps->out, ps->gw_key);
			pg_msg_end(&ps->out, off);
		}
		return client_write_now(ps, &ps->out);
	case 'S':
	case 'N':
		if (ps->state != ST_UP_READY)
			break;
		if (f->type == 'S') {
			pg_copy_backend(ps, f); /* client_encoding */
			pg_guard_parameter(ps, f);
		}
		return pg_client_write(ps, f->body - 5, f->total) < 0 ? -1 : 0;
	case 'Z':
		if (ps->state != ST_UP_READY || f->body_len != 1)
			break;
		return catalog_start(ps);
	default:
		break;
	}
	up_fail(ps, "unexpected message from the server during startup");
	return -1;
}

/* Our catalog query's answer (pg_rows.h), then the session starts. */
static int upstream_catalog_msg(struct pg_session *ps,
				const struct pg_frame *f)
{
	switch (f->type) {
	case 'T':
	case 'C':
	case 'N':
		return 0;
	case 'S':
		return pg_client_write(ps, f->body - 5, f->total) < 0 ? -1 : 0;
	case 'D':
		if (!ps->cat.failed &&
		    pg_catalog_row(&ps->cat, f->body, f->body_len) < 0)
			ps->cat.failed = 1;
		return 0;
	case 'E':
		ps->cat.failed = 1;
		return 0;
	case 'Z':
		if (f->body_len != 1)
			break;
		if (ps->cat.failed) {
			pg_catalog_free(&ps->cat);
			ps->cat.failed = 1;
			ps->h->log(PG_PLUGIN, ps->s, JG_LOG_WARN, "PG0205",
				   "could not read column names from the "
				   "server's catalog: column rules see result "
				   "column names only");
		} else if (ps->cat.truncated) {
			ps->h->log(PG_PLUGIN, ps->s, JG_LOG_WARN, "PG0206",
				   "more than %d table columns: column rules "
				   "see result column names for the rest",
				   PG_CATALOG_MAX);
		}
		pg_catalog_done(&ps->cat);
		return session_begin(ps, f);
	default:
		break;
	}
	up_fail(ps, "unexpected message from the server during startup");
	return -1;
}

void pg_upstream_input(struct pg_session *ps)
{
	const uint8_t *d;
	size_t n;
	struct pg_frame f;
	const char *why = NULL;
	int fr;

	if (ps->state == ST_UP_SSL) {
		upstream_ssl_answer(ps);
		return;
	}
	while (ps->state == ST_UP_AUTH || ps->state == ST_UP_READY ||
	       ps->state == ST_UP_CATALOG) {
		n = ps->h->stream_peek(ps->up, &d);
		fr = pg_frame_typed(d, n, 1U << 20, &f, &why);
		if (fr == PG_FRAME_MORE)
			return;
		if (fr == PG_FRAME_BAD) {
			up_fail(ps, why);
			return;
		}
		if ((ps->state == ST_UP_CATALOG
			     ? upstream_catalog_msg(ps, &f)
			     : upstream_startup_msg(ps, &f)) < 0)
			return;
		ps->h->stream_consume(ps->up, f.total);
	}
	if (ps->state == ST_RELAY) {
		pg_relay_upstream_input(ps);
		if (ps->state == ST_RELAY)
			pg_relay_client_input(ps);
	}
}

/* ---- CancelRequest forwarding ---- */

struct cancel_post {
	int32_t pid, key;
	const struct jg_host *h;
};

/* Runs on the owning session's loop: a held statement is withdrawn. */
static void cancel_on_owner(void *ud)
{
	struct cancel_post *cp = ud;
	struct pg_session *owner = pg_cancel_owner(cp->pid, cp->key);

	if (owner && owner->magic == PG_SESSION_MAGIC && owner->held) {
		pg_enter(owner);
		pg_guard_cancel_hold(owner);
		pg_leave(owner);
	}
	free(cp);
}

void pg_cancel_connected(struct pg_session *ps, int status)
{
	struct pg_cancel_target t;

	if (status != JG_OK ||
	    pg_cancel_lookup(ps->su.cancel_pid, ps->su.cancel_key, &t) < 0) {
		ps->state = ST_DONE;
		ps->h->session_end(ps->s, "cancel not forwarded");
		return;
	}
	pg_buf_reset(&ps->out);
	pg_buf_i32(&ps->out, 16);
	pg_buf_i32(&ps->out, (int32_t)PG_CANCEL_CODE);
	pg_buf_i32(&ps->out, t.up_pid);
	pg_buf_i32(&ps->out, t.up_key);
	ps->h->stream_write(ps->up, ps->out.data, ps->out.len);
	/* The stream lingers until the cancel is written, and reports no
	 * close after a shutdown: end the cancel session now, so the client
	 * (libpq's PQcancel waits for EOF; psql blocks on Ctrl-C until
	 * then) is let go at once rather than at the handshake timeout. */
	ps->h->stream_shutdown(ps->up);
	ps->up = NULL;
	ps->state = ST_DONE;
	ps->h->session_end(ps->s, "cancel forwarded");
}

void pg_start_cancel_forward(struct pg_session *ps, int32_t pid, int32_t key)
{
	struct pg_cancel_target t;
	struct cancel_post *cp;

	ps->state = ST_CANCEL;
	ps->h->metric_add(PG_PLUGIN, "cancel_requests", 1);
	/* PostgreSQL answers a cancel with nothing and closes; so do we,
	 * whether or not the key was ours. */
	if (pg_cancel_lookup(pid, key, &t) < 0) {
		ps->state = ST_DONE;
		ps->h->session_end(ps->s, "cancel with an unknown key");
		return;
	}
	cp = calloc(1, sizeof(*cp));
	if (cp) {
		cp->pid = pid;
		cp->key = key;
		cp->h = ps->h;
		if (ps->h->loop_post(t.loop, cancel_on_owner, cp) != JG_OK)
			free(cp);
	}
	if (t.held) {
		/* A statement held for review: nothing of it runs upstream.
		 * The owner withdraws it; a cancel sent to the server could
		 * only hit the client's next statement. */
		ps->state = ST_DONE;
		ps->h->session_end(ps->s, "cancel withdrew a held statement");
		return;
	}
	ps->up = ps->h->stream_connect(ps->s, t.host, t.port, NULL, 10000);
	if (!ps->up) {
		ps->state = ST_DONE;
		ps->h->session_end(ps->s, "cancel not forwarded");
		return;
	}
	pg_set_upstream_events(ps);
}
