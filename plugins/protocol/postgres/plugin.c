/*
 * The PostgreSQL protocol plugin: descriptor, options, instance and
 * session lifecycle, and the stream callbacks that drive a session.
 */
#include "pg_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_cancel.h"

static const struct jg_option listener_options[] = {
	{"client_tls", JG_OPT_STRING, "required", 0, 0,
	 "TLS to clients: required, optional or disabled"},
	{"loopback_plaintext", JG_OPT_BOOL, "true", 0, 0,
	 "allow plain-text clients on loopback even when TLS is required"},
	{"max_message", JG_OPT_SIZE, "1M", 0, 0,
	 "largest frontend message accepted (bytes)"},
	{"allow_parameters", JG_OPT_LIST, NULL, 0, 0,
	 "startup parameters that change server behaviour (options, "
	 "search_path, replication) clients may send, policy permitting"},
	{"allow_function_call", JG_OPT_BOOL, "false", 0, 0,
	 "let policy decide FunctionCall messages (by function OID, which "
	 "name rules cannot match); refused when false"},
	{NULL, 0, NULL, 0, 0, NULL},
};

static const struct jg_option connection_options[] = {
	{"address", JG_OPT_ADDRESS, NULL, 1, 0,
	 "upstream server host:port"},
	{"database", JG_OPT_STRING, NULL, 0, 0,
	 "upstream database (default: the user name)"},
	{"user", JG_OPT_STRING, NULL, 1, 0, "upstream user name"},
	{"password", JG_OPT_SECRET, NULL, 0, 1,
	 "upstream password: env:NAME or file:PATH"},
	{"tls", JG_OPT_STRING, "prefer", 0, 0,
	 "upstream TLS: disable, prefer, require or verify-full"},
	{"ca_file", JG_OPT_STRING, NULL, 0, 0,
	 "CA bundle to verify the server (verify-full)"},
	{"server_name", JG_OPT_STRING, NULL, 0, 0,
	 "name expected in the server certificate (default: the host)"},
	{"connect_timeout", JG_OPT_DURATION, "10s", 0, 0,
	 "upstream connect and TLS timeout"},
	{NULL, 0, NULL, 0, 0, NULL},
};

static int pg_init(const struct jg_host *h, const struct jg_config *cfg,
		   void **instance, char *err, size_t errlen)
{
	struct pg_instance *in;
	const char *tls = h->cfg_string(cfg, "client_tls");

	in = calloc(1, sizeof(*in));
	if (!in) {
		snprintf(err, errlen, "out of memory");
		return JG_ERROR;
	}
	in->h = h;
	if (!tls || strcmp(tls, "required") == 0) {
		in->client_tls = PG_TLS_REQUIRED;
	} else if (strcmp(tls, "optional") == 0) {
		in->client_tls = PG_TLS_OPTIONAL;
	} else if (strcmp(tls, "disabled") == 0) {
		in->client_tls = PG_TLS_DISABLED;
	} else {
		snprintf(err, errlen,
			 "%s: client_tls must be required, optional or "
			 "disabled",
			 h->cfg_where(cfg, "client_tls"));
		free(in);
		return JG_ERROR;
	}
	in->loopback_plaintext = h->cfg_int(cfg, "loopback_plaintext") != 0;
	in->max_message = (size_t)h->cfg_int(cfg, "max_message");
	in->allow_function_call = h->cfg_int(cfg, "allow_function_call") != 0;
	in->nallow = h->cfg_list_len(cfg, "allow_parameters");
	in->allow_params = calloc(in->nallow + 1, sizeof(char *));
	for (size_t i = 0; in->allow_params && i < in->nallow; i++)
		in->allow_params[i] =
			strdup(h->cfg_list_item(cfg, "allow_parameters", i));
	if (in->max_message < 1024)
		in->max_message = 1024;
	*instance = in;
	return JG_OK;
}

static void pg_fini(void *instance)
{
	struct pg_instance *in = instance;
	size_t i;

	for (i = 0; in->allow_params && i < in->nallow; i++)
		free(in->allow_params[i]);
	free(in->allow_params);
	free(in);
}

void pg_enter(struct pg_session *ps)
{
	ps->busy++;
}

static void session_free(struct pg_session *ps)
{
	struct pg_replace *r;

	if (ps->cancel_registered)
		pg_cancel_unregister(ps->gw_pid, ps->gw_key);
	while ((r = ps->repl)) {
		ps->repl = r->next;
		free(r->message);
		free(r->detail);
		free(r);
	}
	pg_startup_free(&ps->su);
	pg_auth_free(&ps->ua);
	pg_rowdesc_free(&ps->rd);
	pg_catalog_free(&ps->cat);
	if (ps->ccache) {
		pg_ccache_free(ps->ccache);
		free(ps->ccache);
	}
	pg_copy_state_free(ps->copy);
	pg_buf_free(&ps->out);
	pg_buf_free(&ps->upq);
	pg_buf_free(&ps->cq);
	free(ps->held_msg);
	ps->magic = 0;
	free(ps);
}

void pg_leave(struct pg_session *ps)
{
	if (ps->busy == 1 && !ps->closed)
		pg_flush(ps);
	if (--ps->busy == 0 && ps->closed)
		session_free(ps);
}

/* ---- client stream ---- */

static void client_readable(struct jg_stream *st, void *ud)
{
	struct pg_session *ps = ud;

	pg_enter(ps);
	if (ps->state == ST_STARTUP || ps->state == ST_PASSWORD)
		pg_client_startup_input(ps);
	else if (ps->state == ST_RELAY)
		pg_relay_client_input(ps);
	pg_leave(ps);
}

static void client_connected(struct jg_stream *st, int status,
			     const char *err, void *ud)
{
	struct pg_session *ps = ud;

	pg_enter(ps);
	if (ps->state == ST_CLIENT_TLS) {
		if (status != JG_OK) {
			ps->state = ST_DONE;
			ps->h->session_end(ps->s, err ? err : "client TLS "
							      "failed");
		} else {
			ps->state = ST_STARTUP;
			pg_client_startup_input(ps);
		}
	}
	pg_leave(ps);
}

static void client_drained(struct jg_stream *st, void *ud)
{
	struct pg_session *ps = ud;

	pg_enter(ps);
	pg_relay_resume(ps);
	pg_leave(ps);
}

static void client_closed(struct jg_stream *st, int status,
			  const char *reason, void *ud)
{
	struct pg_session *ps = ud;

	pg_enter(ps);
	if (ps->state != ST_DONE) {
		/* nobody waits for a held statement any more */
		pg_guard_drop_hold(ps, "the client disconnected");
		ps->state = ST_DONE;
		ps->h->session_end(ps->s, "client closed");
	}
	pg_leave(ps);
}

/* ---- upstream stream ---- */

static void up_readable(struct jg_stream *st, void *ud)
{
	struct pg_session *ps = ud;

	pg_enter(ps);
	if (ps->state == ST_RELAY)
		pg_relay_upstream_input(ps);
	else if (ps->state != ST_CANCEL && ps->state != ST_DONE)
		pg_upstream_input(ps);
	pg_leave(ps);
}

static void up_drained(struct jg_stream *st, void *ud)
{
	struct pg_session *ps = ud;

	pg_enter(ps);
	pg_relay_resume(ps);
	pg_leave(ps);
}

static void up_connected(struct jg_stream *st, int status, const char *err,
			 void *ud)
{
	struct pg_session *ps = ud;

	pg_enter(ps);
	if (ps->state == ST_CANCEL)
		pg_cancel_connected(ps, status);
	else if (ps->state == ST_UP_CONNECT || ps->state == ST_UP_TLS)
		pg_up_connected(ps, status, err);
	pg_leave(ps);
}

static void up_closed(struct jg_stream *st, int status, const char *reason,
		      void *ud)
{
	struct pg_session *ps = ud;

	pg_enter(ps);
	if (ps->state == ST_CANCEL) {
		ps->state = ST_DONE;
		ps->h->session_end(ps->s, "cancel forwarded");
	} else {
		pg_up_closed(ps, reason);
	}
	pg_leave(ps);
}

void pg_set_upstream_events(struct pg_session *ps)
{
	static const struct jg_stream_events ev = {
		.on_readable = up_readable,
		.on_drained = up_drained,
		.on_connected = up_connected,
		.on_closed = up_closed,
	};

	ps->h->stream_set_events(ps->up, &ev, ps);
}

int pg_session_open(void *instance, struct jg_session *s, void **state)
{
	static const struct jg_stream_events ev = {
		.on_readable = client_readable,
		.on_drained = client_drained,
		.on_connected = client_connected,
		.on_closed = client_closed,
	};
	struct pg_instance *in = instance;
	struct pg_session *ps = calloc(1, sizeof(*ps));

	if (!ps)
		return JG_ERROR;
	ps->magic = PG_SESSION_MAGIC;
	ps->in = in;
	ps->h = in->h;
	ps->s = s;
	ps->client = in->h->session_client(s);
	ps->state = ST_STARTUP;
	ps->txstatus = 'I';
	pg_buf_init(&ps->out);
	pg_buf_init(&ps->upq);
	pg_buf_init(&ps->cq);
	in->h->stream_set_events(ps->client, &ev, ps);
	*state = ps;
	return JG_OK;
}

/*
 * The gateway ends the session (its grant expired or was revoked, an
 * admin killed it, idle timeout, shutdown): tell the client why, as
 * PostgreSQL does when an administrator terminates a backend, so psql
 * prints the reason instead of only "server closed the connection
 * unexpectedly".  Only between two messages to the client, and only
 * once the client speaks the protocol (not during TLS or a cancel).
 */
static void tell_client_why(struct pg_session *ps)
{
	const char *why = JG_HOST_HAS(ps->h, session_end_reason)
				  ? ps->h->session_end_reason(ps->s)
				  : NULL;
	char msg[200];

	if (!why || ps->passthru || ps->state < ST_PASSWORD ||
	    ps->state > ST_RELAY)
		return;
	snprintf(msg, sizeof(msg), "terminating connection: %s", why);
	pg_flush(ps); /* what was already answered goes first */
	pg_buf_reset(&ps->out);
	pg_build_error(&ps->out, 'E', "FATAL",
		       strcmp(why, "idle timeout") == 0 ? "57P05" : "57P01", msg,
		       NULL,
		       NULL);
	if (!ps->out.oom)
		ps->h->stream_write(ps->client, ps->out.data, ps->out.len);
	pg_buf_reset(&ps->out);
}

void pg_session_close(void *instance, struct jg_session *s, void *state)
{
	struct pg_session *ps = state;

	if (!ps || ps->magic != PG_SESSION_MAGIC)
		return;
	tell_client_why(ps);
	/* ended while a statement was held (idle timeout, shutdown, a
	 * revoked grant): withdraw its review while the record is open */
	pg_guard_drop_hold(ps, "the session ended");
	if (ps->statements || ps->state == ST_DONE) {
		struct jg_attr a[1] = {{"connection", ps->conn_name}};

		if (ps->conn)
			ps->h->record(ps->s, "session_end", a, 1);
	}
	ps->state = ST_DONE;
	ps->closed = 1;
	if (ps->busy == 0)
		session_free(ps);
}

static const struct jg_protocol_ops ops = {
	.size = sizeof(struct jg_protocol_ops),
	.connection_options = connection_options,
	.session_open = pg_session_open,
	.session_close = pg_session_close,
};

JG_EXPORT const struct jg_plugin jg_plugin = {
	JG_PLUGIN_PREFIX,
	.kind = JG_KIND_PROTOCOL,
	.name = "postgres",
	.version = "0.1.0",
	.description = "PostgreSQL wire protocol with guardrails, reviews, "
		       "masking and recording",
	.options = listener_options,
	.init = pg_init,
	.fini = pg_fini,
	.ops = &ops,
};
