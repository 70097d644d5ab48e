/*
 * Fake host table: see pg_fakehost.h.
 */
#include "pg_fakehost.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_session.h"

struct fh fh;
const char *fh_next_allow_parameters;
extern const struct jg_plugin jg_plugin;

static void buf_add(struct fh_buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->data = realloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void fh_log(const char *plugin, const struct jg_session *s, int level,
		   const char *msgid, const char *fmt, ...)
{
	(void)plugin;
	(void)s;
	(void)level;
	(void)msgid;
	(void)fmt;
}

static const char *cfg_lookup(const struct jg_config *c, const char *key)
{
	size_t i;

	for (i = 0; i < 16 && c->keys[i]; i++)
		if (strcmp(c->keys[i], key) == 0)
			return c->vals[i];
	return NULL;
}

static const char *fh_cfg_string(const struct jg_config *c, const char *key)
{
	const char *v = cfg_lookup(c, key);
	size_t i;

	if (v)
		return v;
	/* schema defaults, as the core applies them */
	for (i = 0; jg_plugin.options[i].key; i++)
		if (strcmp(jg_plugin.options[i].key, key) == 0)
			return jg_plugin.options[i].def;
	return NULL;
}

static int64_t fh_cfg_int(const struct jg_config *c, const char *key)
{
	const char *v = cfg_lookup(c, key);

	if (strcmp(key, "max_message") == 0)
		return v ? atoll(v) : 1 << 20;
	if (strcmp(key, "loopback_plaintext") == 0)
		return v ? strcmp(v, "true") == 0 : 1;
	if (strcmp(key, "connect_timeout") == 0)
		return 10000;
	return v ? atoll(v) : 0;
}

static const char *fh_cfg_secret(const struct jg_config *c, const char *key,
				 size_t *len)
{
	const char *v = cfg_lookup(c, key);

	*len = v ? strlen(v) : 0;
	return v;
}

static size_t fh_cfg_list_len(const struct jg_config *c, const char *key)
{
	const char *v = cfg_lookup(c, key);

	return v ? 1 : 0; /* one-item lists are enough for the tests */
}

static const char *fh_cfg_list_item(const struct jg_config *c,
				    const char *key, size_t i)
{
	return cfg_lookup(c, key);
}

static const char *fh_cfg_where(const struct jg_config *c, const char *key)
{
	return "test.json:1";
}

static int fh_session_is_loopback(const struct jg_session *s)
{
	return s->loopback;
}

static struct jg_stream *fh_session_client(struct jg_session *s)
{
	return &s->client;
}

static void fh_session_end(struct jg_session *s, const char *reason)
{
	if (s->ended)
		return;
	s->ended = 1;
	snprintf(s->end_reason, sizeof(s->end_reason), "%s", reason);
	/* like the core: the plugin's session_close runs right away */
	((const struct jg_protocol_ops *)jg_plugin.ops)
		->session_close(fh.instance, s, fh.state);
	fh.closed_called = 1;
}

static const struct jg_config *fh_session_connection(struct jg_session *s,
						     const char *name)
{
	return strcmp(name, "app") == 0 ? &fh.conn : NULL;
}

static const struct jg_config *fh_session_listener(struct jg_session *s)
{
	return &fh.listener;
}

static struct jg_loop *fh_session_loop(struct jg_session *s)
{
	return (struct jg_loop *)&fh;
}

static int fh_loop_post(struct jg_loop *l, jg_task_cb cb, void *ud)
{
	cb(ud); /* one thread in tests: run now */
	return JG_OK;
}

static void fh_stream_set_events(struct jg_stream *st,
				 const struct jg_stream_events *ev, void *ud)
{
	st->ev = ev;
	st->ud = ud;
}

static struct jg_stream *fh_stream_connect(struct jg_session *s,
					   const char *host, const char *port,
					   const struct jg_tls_client *tls,
					   uint32_t timeout_ms)
{
	if (!s->up) {
		s->up = calloc(1, sizeof(*s->up));
		s->up->read_on = 1;
	}
	return s->up;
}

static size_t fh_stream_peek(struct jg_stream *st, const uint8_t **data)
{
	*data = st->in.data;
	return st->in.len;
}

static void fh_stream_consume(struct jg_stream *st, size_t n)
{
	if (n > st->in.len)
		abort();
	memmove(st->in.data, st->in.data + n, st->in.len - n);
	st->in.len -= n;
}

static int fh_stream_write(struct jg_stream *st, const void *data, size_t n)
{
	if (st->closed)
		return JG_ERROR;
	buf_add(&st->out, data, n);
	return JG_OK;
}

static void fh_stream_read_enable(struct jg_stream *st, int on)
{
	st->read_on = on;
}

static int fh_stream_starttls(struct jg_stream *st,
			      const struct jg_tls_client *tls)
{
	/* like the core: no TLS without a certificate, and never with
	 * unread plain bytes in the input */
	if (fh.no_tls || st->in.len)
		return JG_ERROR;
	st->starttls_calls++;
	return JG_OK;
}

static int fh_stream_is_tls(const struct jg_stream *st)
{
	return st->tls;
}

static size_t fh_stream_pending(const struct jg_stream *st)
{
	return 0;
}

static void fh_stream_shutdown(struct jg_stream *st)
{
	st->closed = 1;
}

static int fh_authenticate(struct jg_session *s, const char *user,
			   const char *cred, size_t len, const char *conn,
			   char *err, size_t errlen)
{
	if (len == 8 && memcmp(cred, "grant-ok", 8) == 0) {
		s->authenticated = 1;
		snprintf(s->subject, sizeof(s->subject), "%s", user);
		return JG_OK;
	}
	snprintf(err, errlen, "the grant is not valid");
	return JG_DECLINED;
}

static void attrs_text(const struct jg_action *a)
{
	size_t i, off = 0;

	fh.last_attrs[0] = 0;
	for (i = 0; i < a->nattrs && off < sizeof(fh.last_attrs); i++)
		off += (size_t)snprintf(fh.last_attrs + off,
					sizeof(fh.last_attrs) - off, "%s=%s ",
					a->attrs[i].key, a->attrs[i].value);
}

static int fh_decide(struct jg_session *s, const struct jg_action *a,
		     struct jg_decision *out)
{
	memset(out, 0, sizeof(*out));
	out->effect = JG_EFFECT_ALLOW;
	out->record_level = 2;
	snprintf(out->rule, sizeof(out->rule), "allow-all");
	snprintf(fh.last_action_text, sizeof(fh.last_action_text), "%s",
		 a->text ? a->text : "");
	attrs_text(a);
	fh.ndecisions++;
	if (fh.policy)
		fh.policy(a, out);
	return JG_OK;
}

static int fh_review_hold(struct jg_session *s, const struct jg_action *a,
			  const struct jg_decision *d, jg_review_cb cb,
			  void *ud, const char **review_id)
{
	size_t i, off = 0;

	if (fh.review_fail)
		return JG_ERROR;
	snprintf(fh.held_text, sizeof(fh.held_text), "%s",
		 a->text ? a->text : "");
	fh.held_attrs[0] = 0;
	for (i = 0; i < a->nattrs && off < sizeof(fh.held_attrs); i++)
		off += (size_t)snprintf(fh.held_attrs + off,
					sizeof(fh.held_attrs) - off, "%s=%s|",
					a->attrs[i].key, a->attrs[i].value);
	fh.review_cb = cb;
	fh.review_ud = ud;
	*review_id = "r-1";
	return JG_AGAIN;
}

static int fh_review_withdraw(struct jg_session *s, const char *review_id,
			      const char *reason)
{
	(void)s;
	if (!fh.review_cb || strcmp(review_id, "r-1") != 0)
		return JG_DECLINED;
	fh.nwithdrawn++;
	snprintf(fh.withdrawn_reason, sizeof(fh.withdrawn_reason), "%s",
		 reason);
	return JG_OK;
}

/* Masks "ssn" columns (bare or as "schema.table.ssn") and the column
 * "public.people.tier" whole, and any run of 16 digits starting 4111. */
static char mask_out[4096];

static int fh_mask_value(struct jg_session *s, const char *column,
			 const char *in, size_t len, const char **out,
			 size_t *outlen, int *changed)
{
	const char *p;

	*changed = 0;
	*out = in;
	*outlen = len;
	p = column ? strrchr(column, '.') : NULL;
	/* a rule by schema.table.column matches the whole name exactly */
	if ((column && strcmp(p ? p + 1 : column, "ssn") == 0) ||
	    (column && strcmp(column, "public.people.tier") == 0)) {
		*out = "***";
		*outlen = 3;
		*changed = 1;
		return JG_OK;
	}
	if (len >= sizeof(mask_out))
		return JG_OK;
	memcpy(mask_out, in, len);
	mask_out[len] = 0;
	p = strstr(mask_out, "4111111111111111");
	if (p) {
		memcpy((char *)p, "XXXXXXXXXXXX", 12);
		*out = mask_out;
		*changed = 1;
	}
	return JG_OK;
}

/* The same rules by name, as host->mask_column_rule (ABI 1.4) says. */
static int fh_mask_column_rule(struct jg_session *s, const char *column)
{
	const char *p = column ? strrchr(column, '.') : NULL;

	(void)s;
	return column && (strcmp(p ? p + 1 : column, "ssn") == 0 ||
			  strcmp(column, "public.people.tier") == 0);
}

static int fh_record(struct jg_session *s, const char *event,
		     const struct jg_attr *attrs, size_t n)
{
	size_t i, off;
	char *r;

	if (fh.record_fails)
		return JG_ERROR;
	if (fh.nrecords == 64)
		return JG_OK;
	r = fh.records[fh.nrecords++];
	off = (size_t)snprintf(r, 256, "%s", event);
	for (i = 0; i < n && off < 256; i++)
		off += (size_t)snprintf(r + off, 256 - off, " %s=%s",
					attrs[i].key, attrs[i].value);
	return JG_OK;
}

static void fh_metric_add(const char *plugin, const char *name,
			  int64_t delta)
{
}

static const char *fh_session_id(const struct jg_session *s)
{
	return "s-test";
}

void fh_setup(void)
{
	char err[256];
	const struct jg_protocol_ops *ops = jg_plugin.ops;

	memset(&fh, 0, sizeof(fh));
	fh.host.magic = JG_PLUGIN_MAGIC;
	fh.host.abi_major = JG_ABI_MAJOR;
	fh.host.abi_minor = JG_ABI_MINOR;
	fh.host.size = sizeof(fh.host);
	fh.host.log = fh_log;
	fh.host.cfg_string = fh_cfg_string;
	fh.host.cfg_int = fh_cfg_int;
	fh.host.cfg_secret = fh_cfg_secret;
	fh.host.cfg_where = fh_cfg_where;
	fh.host.cfg_list_len = fh_cfg_list_len;
	fh.host.cfg_list_item = fh_cfg_list_item;
	fh.host.session_loop = fh_session_loop;
	fh.host.loop_post = fh_loop_post;
	fh.host.session_id = fh_session_id;
	fh.host.session_is_loopback = fh_session_is_loopback;
	fh.host.session_client = fh_session_client;
	fh.host.session_end = fh_session_end;
	fh.host.session_connection = fh_session_connection;
	fh.host.session_listener = fh_session_listener;
	fh.host.stream_set_events = fh_stream_set_events;
	fh.host.stream_connect = fh_stream_connect;
	fh.host.stream_peek = fh_stream_peek;
	fh.host.stream_consume = fh_stream_consume;
	fh.host.stream_write = fh_stream_write;
	fh.host.stream_read_enable = fh_stream_read_enable;
	fh.host.stream_starttls = fh_stream_starttls;
	fh.host.stream_is_tls = fh_stream_is_tls;
	fh.host.stream_pending = fh_stream_pending;
	fh.host.stream_shutdown = fh_stream_shutdown;
	fh.host.stream_close = fh_stream_shutdown;
	fh.host.authenticate = fh_authenticate;
	fh.host.decide = fh_decide;
	fh.host.review_hold = fh_review_hold;
	fh.host.review_withdraw = fh_review_withdraw;
	fh.host.mask_value = fh_mask_value;
	fh.host.mask_column_rule = fh_mask_column_rule;
	fh.host.record = fh_record;
	fh.host.metric_add = fh_metric_add;
	fh.sess.loopback = 1;
	fh.sess.client.read_on = 1;
	fh.conn.keys[0] = "address";
	fh.conn.vals[0] = "127.0.0.1:5432";
	fh.conn.keys[1] = "user";
	fh.conn.vals[1] = "appuser";
	fh.conn.keys[2] = "password";
	fh.conn.vals[2] = "upstream-secret";
	fh.conn.keys[3] = "tls";
	fh.conn.vals[3] = "disable";
	fh.conn.keys[4] = "database";
	fh.conn.vals[4] = "appdb";
	if (fh_next_allow_parameters) {
		fh.listener.keys[0] = "allow_parameters";
		fh.listener.vals[0] = fh_next_allow_parameters;
		fh_next_allow_parameters = NULL;
	}
	if (jg_plugin.init(&fh.host, &fh.listener, &fh.instance, err,
			   sizeof(err)) != JG_OK)
		abort();
	if (ops->session_open(fh.instance, &fh.sess, &fh.state) != JG_OK)
		abort();
}

void fh_teardown(void)
{
	if (!fh.sess.ended)
		fh_session_end(&fh.sess, "test over");
	jg_plugin.fini(fh.instance);
	free(fh.sess.client.in.data);
	free(fh.sess.client.out.data);
	if (fh.sess.up) {
		free(fh.sess.up->in.data);
		free(fh.sess.up->out.data);
		free(fh.sess.up);
	}
	memset(&fh.sess, 0, sizeof(fh.sess));
}

void fh_client_send(const void *p, size_t n)
{
	struct jg_stream *st = &fh.sess.client;

	if (fh.sess.ended)
		return;
	buf_add(&st->in, p, n);
	if (st->ev && st->ev->on_readable)
		st->ev->on_readable(st, st->ud);
}

void fh_up_send(const void *p, size_t n)
{
	struct jg_stream *st = fh.sess.up;

	if (fh.sess.ended || !st)
		return;
	buf_add(&st->in, p, n);
	if (st->ev && st->ev->on_readable)
		st->ev->on_readable(st, st->ud);
}

void fh_up_connected(int status)
{
	struct jg_stream *st = fh.sess.up;

	if (st && st->ev && st->ev->on_connected && !fh.sess.ended)
		st->ev->on_connected(st, status, status ? "refused" : NULL,
				     st->ud);
}

void fh_client_tls_done(int status)
{
	struct jg_stream *st = &fh.sess.client;

	st->tls = status == JG_OK;
	if (st->ev && st->ev->on_connected && !fh.sess.ended)
		st->ev->on_connected(st, status, NULL, st->ud);
}

static size_t take(struct fh_buf *b, uint8_t *buf, size_t cap)
{
	size_t n = b->len < cap ? b->len : cap;

	if (buf)
		memcpy(buf, b->data, n);
	b->len = 0;
	return n;
}

size_t fh_client_take(uint8_t *buf, size_t cap)
{
	return take(&fh.sess.client.out, buf, cap);
}

size_t fh_up_take(uint8_t *buf, size_t cap)
{
	return fh.sess.up ? take(&fh.sess.up->out, buf, cap) : 0;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

const uint8_t *fh_find_msg(const uint8_t *buf, size_t n, uint8_t type,
			   size_t *body_len)
{
	size_t off = 0, len;

	while (off + 5 <= n) {
		len = be32(buf + off + 1);
		if (buf[off] == type) {
			*body_len = len - 4;
			return buf + off + 5;
		}
		off += len + 1;
	}
	return NULL;
}

size_t fh_count_msgs(const uint8_t *buf, size_t n, uint8_t type)
{
	size_t off = 0, c = 0;

	while (off + 5 <= n) {
		if (buf[off] == type)
			c++;
		off += be32(buf + off + 1) + 1;
	}
	return c;
}

size_t fh_msg(uint8_t *buf, uint8_t type, const void *body, size_t n)
{
	uint32_t len = (uint32_t)n + 4;

	buf[0] = type;
	buf[1] = (uint8_t)(len >> 24);
	buf[2] = (uint8_t)(len >> 16);
	buf[3] = (uint8_t)(len >> 8);
	buf[4] = (uint8_t)len;
	memcpy(buf + 5, body, n);
	return n + 5;
}

size_t fh_query(uint8_t *buf, const char *sql)
{
	return fh_msg(buf, 'Q', sql, strlen(sql) + 1);
}

/* The catalog rows the fake server has: public.people's name (1), ssn
 * (2) and tier (4).  OID text and column number are of different
 * lengths so a name built from the wrong lengths shows. */
static const char *const catalog_rows[][5] = {
	{"16384", "1", "public", "people", "name"},
	{"16384", "2", "public", "people", "ssn"},
	{"16384", "4", "public", "people", "tier"},
};

void fh_backend_catalog(struct pg_buf *b)
{
	size_t off;

	off = pg_msg_begin(b, 'T');
	pg_buf_i16(b, 5);
	for (size_t i = 0; i < 5; i++) {
		pg_buf_str(b, "c");
		pg_buf_add(b, "\0\0\0\0\0\0\0\0\0\x19\xff\xff\xff\xff\xff\xff"
			      "\0\0",
			   18);
	}
	pg_msg_end(b, off);
	for (size_t r = 0; r < sizeof(catalog_rows) / sizeof(*catalog_rows);
	     r++) {
		off = pg_msg_begin(b, 'D');
		pg_buf_i16(b, 5);
		for (size_t i = 0; i < 5; i++) {
			const char *v = catalog_rows[r][i];

			pg_buf_i32(b, (int32_t)strlen(v));
			pg_buf_add(b, v, strlen(v));
		}
		pg_msg_end(b, off);
	}
	off = pg_msg_begin(b, 'C');
	pg_buf_str(b, "SELECT 3");
	pg_msg_end(b, off);
	pg_build_ready(b, 'I');
}

void fh_backend_login(struct pg_buf *b)
{
	size_t off;

	/* AuthenticationOk, ParameterStatus, BackendKeyData, ReadyForQuery */
	off = pg_msg_begin(b, 'R');
	pg_buf_i32(b, 0);
	pg_msg_end(b, off);
	off = pg_msg_begin(b, 'S');
	pg_buf_str(b, "server_version");
	pg_buf_str(b, "15.0");
	pg_msg_end(b, off);
	off = pg_msg_begin(b, 'K');
	pg_buf_i32(b, 42);
	pg_buf_i32(b, 0x01020304);
	pg_msg_end(b, off);
	pg_build_ready(b, 'I');
}

void fh_up_catalog(void)
{
	uint8_t q[1024];
	size_t n = fh_up_take(q, sizeof(q));
	struct pg_buf b;

	/* the plugin's own catalog query, before the client's first byte */
	if (n < 6 || q[0] != 'Q' || !memmem(q, n, "pg_attribute", 12))
		fh.catalog_missing = 1;
	pg_buf_init(&b);
	fh_backend_catalog(&b);
	fh_up_send(b.data, b.len);
	pg_buf_free(&b);
}

void fh_login_begin(void)
{
	static const uint8_t startup[] = {
		0, 0, 0, 41, 0, 3, 0, 0, 'u', 's', 'e', 'r', 0, 'c', 'i', 0,
		'd', 'a', 't', 'a', 'b', 'a', 's', 'e', 0, 'a', 'p', 'p', 0,
		'D', 'a', 't', 'e', 'S', 't', 'y', 'l', 'e', 0, 'I', 'S', 'O',
		0, 0};
	uint8_t m[64];
	size_t n;

	/* the length byte above counts 44 bytes minus 3: fix it up */
	memcpy(m, startup, sizeof(startup));
	m[3] = (uint8_t)sizeof(startup);
	fh_client_send(m, sizeof(startup));
	fh_client_take(NULL, 0);
	n = fh_msg(m, 'p', "grant-ok", 9);
	fh_client_send(m, n);
	fh_up_connected(JG_OK);
	fh_up_take(NULL, 0);
}

void fh_login(void)
{
	struct pg_buf b;

	fh_login_begin();
	pg_buf_init(&b);
	fh_backend_login(&b);
	fh_up_send(b.data, b.len);
	pg_buf_free(&b);
	fh_up_catalog();
}

const char *fh_error_field(const uint8_t *buf, size_t n, uint8_t code)
{
	size_t bl;
	const uint8_t *b = fh_find_msg(buf, n, 'E', &bl);

	return b ? pg_error_field(b, bl, code) : NULL;
}

void fh_up_rejects_stand_in(void)
{
	struct pg_buf b;

	pg_buf_init(&b);
	pg_build_error(&b, 'E', "ERROR", "42601",
		       "syntax error at or near \"jitgate_denied_4b1d\"", NULL,
		       NULL);
	pg_build_ready(&b, 'I');
	fh_up_send(b.data, b.len);
	pg_buf_free(&b);
}
