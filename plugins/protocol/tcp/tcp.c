/*
 * tcp: the simplest protocol plugin.  Every client connection is spliced
 * to the upstream of one named connection; the session's open and close
 * (with byte counts) are recorded.
 *
 * It cannot authenticate anyone: whoever reaches the listener reaches the
 * upstream.  That is why it only runs when "plugins" lists it and a
 * listener uses it; put it behind network controls or TLS with client
 * certificates (listener tls.client_ca).
 *
 * Listener options: "connection" (required), "recording": "required"
 * (default: a session that cannot be recorded is refused) or
 * "best_effort" (log the failure once and carry on).
 * Connection options: "upstream" (host:port, required), "tls" (object:
 * ca_file, server_name, verify (default true), cert_file, key_file),
 * "connect_timeout" (default 10s).
 */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jitgate/host.h>
#include <jitgate/jitgate.h>
#include <jitgate/protocol.h>

#define NAME "tcp"

static const struct jg_option listener_options[] = {
	{"connection", JG_OPT_STRING, NULL, 1, 0,
	 "name of the connection (in \"connections\") to forward to"},
	{"recording", JG_OPT_STRING, "required", 0, 0,
	 "required: refuse sessions that cannot be recorded; best_effort: "
	 "log and go on"},
	{NULL, 0, NULL, 0, 0, NULL},
};

static const struct jg_option connection_options[] = {
	{"upstream", JG_OPT_ADDRESS, NULL, 1, 0, "host:port to forward to"},
	{"tls", JG_OPT_JSON, NULL, 0, 0,
	 "upstream TLS: {ca_file, server_name, verify, cert_file, key_file}"},
	{"connect_timeout", JG_OPT_DURATION, "10s", 0, 0,
	 "give up connecting upstream after this long"},
	{NULL, 0, NULL, 0, 0, NULL},
};

struct tcp_instance {
	const struct jg_host *host;
	const struct jg_config *cfg;
	const char *connection;
	int best_effort;
};

struct tcp_session {
	struct tcp_instance *in;
	struct jg_session *s;
	struct jg_stream *client, *upstream;
	int spliced;
	int record_warned;
	char ca[1024], sni[256], cert[1024], key[1024];
	struct jg_tls_client tls;
};

static int tcp_init(const struct jg_host *host, const struct jg_config *cfg,
		    void **instance, char *err, size_t errlen)
{
	struct tcp_instance *in;
	const char *rec;

	if (host->size < offsetof(struct jg_host, stream_counts) +
				 sizeof(host->stream_counts)) {
		snprintf(err, errlen, "core too old: needs stream_counts");
		return JG_ERROR;
	}
	rec = host->cfg_string(cfg, "recording");
	if (strcmp(rec, "required") != 0 && strcmp(rec, "best_effort") != 0) {
		snprintf(err, errlen,
			 "%s: recording: wanted \"required\" or "
			 "\"best_effort\", found \"%s\"",
			 host->cfg_where(cfg, "recording"), rec);
		return JG_ERROR;
	}
	in = calloc(1, sizeof(*in));
	if (in == NULL) {
		snprintf(err, errlen, "out of memory");
		return JG_ERROR;
	}
	in->host = host;
	in->cfg = cfg;
	in->connection = host->cfg_string(cfg, "connection");
	in->best_effort = strcmp(rec, "best_effort") == 0;
	*instance = in;
	return JG_OK;
}

static void tcp_fini(void *instance)
{
	free(instance);
}

/* Record an event; JG_ERROR if it failed and recording is required. */
static int tcp_record(struct tcp_session *ts, const char *event,
		      const struct jg_attr *a, size_t n)
{
	const struct jg_host *h = ts->in->host;

	if (h->record(ts->s, event, a, n) == JG_OK)
		return JG_OK;
	if (!ts->in->best_effort) {
		h->log(NAME, ts->s, JG_LOG_ERROR, "TCP0003",
		       "cannot record %s and recording is required: refusing",
		       event);
		return JG_ERROR;
	}
	if (!ts->record_warned) {
		ts->record_warned = 1;
		h->log(NAME, ts->s, JG_LOG_WARN, "TCP0004",
		       "cannot record %s; recording is best_effort, going on",
		       event);
	}
	return JG_OK;
}

static void upstream_connected(struct jg_stream *st, int status,
			       const char *err, void *ud)
{
	struct tcp_session *ts = ud;
	const struct jg_host *h = ts->in->host;

	if (status != JG_OK) {
		h->log(NAME, ts->s, JG_LOG_WARN, "TCP0002",
		       "upstream connection failed: %s", err ? err : "?");
		h->metric_add(NAME, "upstream_failures_total", 1);
		h->session_end(ts->s, "upstream connection failed");
		return;
	}
	if (h->stream_splice(ts->client, st) != JG_OK) {
		h->session_end(ts->s, "cannot relay");
		return;
	}
	ts->spliced = 1;
}

static const struct jg_stream_events upstream_events = {
	.on_connected = upstream_connected,
};

/* Fill ts->tls from the connection's "tls" object; 1 if TLS is wanted,
 * 0 if not, -1 on a malformed object. */
static int tls_options(struct tcp_session *ts, const char *json)
{
	struct json_object *o, *v;
	int rc = -1;

	if (json == NULL || strcmp(json, "null") == 0)
		return 0;
	o = json_tokener_parse(json);
	if (o == NULL || !json_object_is_type(o, json_type_object))
		goto out;
	ts->tls.verify = 1;
	if (json_object_object_get_ex(o, "verify", &v))
		ts->tls.verify = json_object_get_boolean(v);
#define STR(key, buf, field)                                                  \
	if (json_object_object_get_ex(o, key, &v)) {                          \
		if (!json_object_is_type(v, json_type_string) ||              \
		    (size_t)snprintf(buf, sizeof(buf), "%s",                  \
				     json_object_get_string(v)) >= sizeof(buf)) \
			goto out;                                             \
		ts->tls.field = buf;                                          \
	}
	STR("ca_file", ts->ca, ca_file)
	STR("server_name", ts->sni, server_name)
	STR("cert_file", ts->cert, cert_file)
	STR("key_file", ts->key, key_file)
#undef STR
	rc = 1;
out:
	json_object_put(o);
	return rc;
}

static int split_address(const char *a, char *host, size_t hl, char *port,
			 size_t pl)
{
	const char *colon;
	size_t n;

	if (a[0] == '[') {
		const char *end = strchr(a, ']');
		if (end == NULL || end[1] != ':')
			return -1;
		n = (size_t)(end - a - 1);
		colon = end + 1;
		a++;
	} else {
		colon = strrchr(a, ':');
		if (colon == NULL)
			return -1;
		n = (size_t)(colon - a);
	}
	if (n == 0 || n >= hl || strlen(colon + 1) == 0 ||
	    strlen(colon + 1) >= pl)
		return -1;
	memcpy(host, a, n);
	host[n] = '\0';
	strcpy(port, colon + 1);
	return 0;
}

static int tcp_session_open(void *instance, struct jg_session *s,
			    void **state)
{
	struct tcp_instance *in = instance;
	const struct jg_host *h = in->host;
	const struct jg_config *conn;
	struct tcp_session *ts;
	char host[256], port[16];
	int tls;

	ts = h->session_alloc(s, sizeof(*ts));
	if (ts == NULL)
		return JG_ERROR;
	ts->in = in;
	ts->s = s;
	ts->client = h->session_client(s);
	conn = h->session_connection(s, in->connection);
	if (conn == NULL) {
		h->log(NAME, s, JG_LOG_ERROR, "TCP0001",
		       "no tcp connection named \"%s\"", in->connection);
		return JG_ERROR;
	}
	if (split_address(h->cfg_string(conn, "upstream"), host, sizeof(host),
			  port, sizeof(port)) < 0 ||
	    (tls = tls_options(ts, h->cfg_json(conn, "tls"))) < 0) {
		h->log(NAME, s, JG_LOG_ERROR, "TCP0005",
		       "connection \"%s\" is malformed (%s)", in->connection,
		       h->cfg_where(conn, "upstream"));
		return JG_ERROR;
	}
	{
		struct jg_attr a[] = {{"connection", in->connection},
				      {"peer", h->session_peer(s)},
				      {"upstream", h->cfg_string(conn, "upstream")}};
		if (tcp_record(ts, "session.open", a, 3) != JG_OK)
			return JG_ERROR;
	}
	/* No authentication: the handshake timeout ends when the splice
	 * starts (the core marks a spliced session ready). */
	ts->upstream = h->stream_connect(
		s, host, port, tls ? &ts->tls : NULL,
		(uint32_t)h->cfg_int(conn, "connect_timeout"));
	if (ts->upstream == NULL)
		return JG_ERROR;
	h->stream_set_events(ts->upstream, &upstream_events, ts);
	*state = ts;
	return JG_OK;
}

static void tcp_session_close(void *instance, struct jg_session *s,
			      void *state)
{
	struct tcp_session *ts = state;
	const struct jg_host *h;
	uint64_t cin = 0, cout = 0;
	char bin[24], bout[24];

	if (ts == NULL)
		return;
	h = ts->in->host;
	if (ts->client)
		h->stream_counts(ts->client, &cin, &cout);
	snprintf(bin, sizeof(bin), "%llu", (unsigned long long)cin);
	snprintf(bout, sizeof(bout), "%llu", (unsigned long long)cout);
	struct jg_attr a[] = {{"bytes_from_client", bin},
			      {"bytes_to_client", bout}};
	tcp_record(ts, "session.close", a, 2);
	h->metric_add(NAME, "bytes_from_client_total", (int64_t)cin);
	h->metric_add(NAME, "bytes_to_client_total", (int64_t)cout);
}

static const struct jg_protocol_ops tcp_ops = {
	.size = sizeof(struct jg_protocol_ops),
	.connection_options = connection_options,
	.session_open = tcp_session_open,
	.session_close = tcp_session_close,
};

JG_EXPORT const struct jg_plugin jg_plugin = {
	JG_PLUGIN_PREFIX,
	.kind = JG_KIND_PROTOCOL,
	.name = NAME,
	.version = "0.1.0",
	.description = "forwards bytes to one upstream (no authentication)",
	.options = listener_options,
	.init = tcp_init,
	.fini = tcp_fini,
	.ops = &tcp_ops,
};
