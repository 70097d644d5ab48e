/*
 * Session recording (see record.h): per-session hash chains, redaction,
 * record levels, dispatch to the store and fail-closed handling.
 */
#include "record.h"
#include "record_buf.h"
#include "record_chain.h"
#include "redact.h"
#include "store.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <json-c/json.h>

#define LOGNAME "record"
#define REFUSE_MS 5000          /* refuse new sessions this long */
#define MAX_VALUE (256u << 10)  /* longer values are cut */

const struct jg_option record_options[] = {
	{"key", JG_OPT_SECRET, NULL, 1, 1,
	 "HMAC-SHA256 key for record chains, e.g. env:JITGATE_RECORD_KEY"},
	{"mode", JG_OPT_STRING, "required", 0, 0,
	 "required (fail closed) or best_effort"},
	{"grace", JG_OPT_DURATION, "30s", 0, 0,
	 "how long an open session may go on after recording failed"},
	{NULL, 0, NULL, 0, 0, NULL},
};

/* A key shared by the sessions that started under it. */
struct rkey {
	int refs;
	size_t len;
	unsigned char b[];
};

static struct {
	pthread_mutex_t lock;
	const struct jg_host *host;
	struct rkey *key;
	int best_effort;
	int64_t grace_ms;
	int64_t refuse_until; /* monotonic ms; atomic */
} R = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* One session's recording state, private to its worker thread. */
struct rsess {
	struct jg_session *s; /* NULL once the session is gone */
	char sid[129];
	struct jg_loop *loop;
	const struct jg_host *host;
	struct rkey *key;
	struct rec_chain chain;
	int level;
	int failed;  /* an append failed */
	int ended;   /* sealed */
	int pending; /* appends in flight */
	int warned;
	struct jg_timer *grace;
	struct rbuf ev; /* the event being built, kept between events */
	struct rsess *next;
	/* on the orphan list: its session is gone, appends are in flight */
	struct rsess *oprev, *onext;
	int orphan;
};

static __thread struct {
	struct rsess **b;
	size_t n, count;
} M;

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* name without "jitgate_": /metrics shows jitgate_NAME{plugin="core"} */
static void count(const char *name, int64_t d)
{
	const struct jg_host *h = R.host;
	if (h && h->metric_add)
		h->metric_add("core", name, d);
}

static void key_unref(struct rkey *k)
{
	if (k && __atomic_sub_fetch(&k->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		gnutls_memset(k->b, 0, k->len);
		free(k);
	}
}

int record_check(const struct jg_host *host, const struct jg_config *sec,
		 char *err, size_t errlen)
{
	size_t len = 0;
	const char *secret = host->cfg_secret(sec, "key", &len);
	const char *mode = host->cfg_string(sec, "mode");

	if (!secret || len < 16) {
		snprintf(err, errlen,
			 "recording.key: need a secret of at least 16 bytes");
		return JG_ERROR;
	}
	if (mode && strcmp(mode, "required") != 0 &&
	    strcmp(mode, "best_effort") != 0) {
		snprintf(err, errlen,
			 "recording.mode: \"required\" or \"best_effort\"");
		return JG_ERROR;
	}
	return JG_OK;
}

int record_configure(const struct jg_host *host, const struct jg_config *sec,
		     char *err, size_t errlen)
{
	size_t len = 0;
	const char *secret = host->cfg_secret(sec, "key", &len);
	const char *mode = host->cfg_string(sec, "mode");
	struct rkey *k, *old;

	if (record_check(host, sec, err, errlen) != JG_OK)
		return JG_ERROR;
	if (!(k = malloc(sizeof(*k) + len))) {
		snprintf(err, errlen, "out of memory");
		return JG_ERROR;
	}
	k->refs = 1;
	k->len = len;
	memcpy(k->b, secret, len);
	pthread_mutex_lock(&R.lock);
	old = R.key;
	R.key = k;
	R.host = host;
	R.best_effort = mode && strcmp(mode, "best_effort") == 0;
	R.grace_ms = host->cfg_int(sec, "grace");
	pthread_mutex_unlock(&R.lock);
	key_unref(old);
	return JG_OK;
}

void record_shutdown(void)
{
	pthread_mutex_lock(&R.lock);
	struct rkey *old = R.key;
	R.key = NULL;
	pthread_mutex_unlock(&R.lock);
	key_unref(old);
}

int record_refusing(void)
{
	return __atomic_load_n(&R.refuse_until, __ATOMIC_RELAXED) > mono_ms();
}

/* ---- per-thread session map ---- */

static size_t hash_ptr(const void *p)
{
	uintptr_t x = (uintptr_t)p;
	x ^= x >> 17;
	x *= 0xed5ad4bbu;
	x ^= x >> 11;
	return (size_t)x;
}

static struct rsess **map_slot(const struct jg_session *s)
{
	if (!M.n)
		return NULL;
	struct rsess **p = &M.b[hash_ptr(s) & (M.n - 1)];
	while (*p && (*p)->s != s)
		p = &(*p)->next;
	return p;
}

static struct rsess *map_get(const struct jg_session *s)
{
	struct rsess **p = map_slot(s);
	return p ? *p : NULL;
}

static int map_add(struct rsess *rs)
{
	if (M.count >= M.n) {
		size_t n = M.n ? M.n * 2 : 64;
		struct rsess **b = calloc(n, sizeof(*b));
		if (!b)
			return -1;
		for (size_t i = 0; i < M.n; i++) {
			struct rsess *e = M.b[i], *next;
			for (; e; e = next) {
				next = e->next;
				e->next = b[hash_ptr(e->s) & (n - 1)];
				b[hash_ptr(e->s) & (n - 1)] = e;
			}
		}
		free(M.b);
		M.b = b;
		M.n = n;
	}
	struct rsess **h = &M.b[hash_ptr(rs->s) & (M.n - 1)];
	rs->next = *h;
	*h = rs;
	M.count++;
	return 0;
}

static void map_del(struct rsess *rs)
{
	struct rsess **p = map_slot(rs->s);
	if (p && *p == rs) {
		*p = rs->next;
		M.count--;
		if (!M.count) {
			free(M.b);
			M.b = NULL;
			M.n = 0;
		}
	}
}

static void rsess_free(struct rsess *rs)
{
	free(rs->ev.p);
	rec_chain_fini(&rs->chain);
	key_unref(rs->key);
	free(rs);
}

/* ---- events ---- */

static int is_lifecycle(const char *type)
{
	static const char *const t[] = {"connect", "auth",       "decision",
					"review",  "error",      "disconnect",
					"seal",    "record_gap", NULL};
	for (const char *const *p = t; *p; p++)
		if (strcmp(type, *p) == 0)
			return 1;
	return 0;
}

/* Attributes that carry content rather than metadata. */
static int is_content(const char *key)
{
	static const char *const k[] = {"text", "data",   "output", "input",
					"params", "body", "values", NULL};
	for (const char *const *p = k; *p; p++)
		if (strcmp(key, *p) == 0)
			return 1;
	return 0;
}

/* out (n bytes, n > 5): in lower-cased with odd bytes as '_'; a key the
 * event itself uses ("type", also "Type") gets "attr_" before it. */
static void clean_key(const char *in, char *out, size_t n)
{
	static const char *const reserved[] = {"seq",  "ts",  "session",
					       "type", "prev", "hash",
					       "mac",  "count", NULL};
	size_t j = 0;

	for (; *in && j + 1 < n; in++) {
		unsigned char c = (unsigned char)tolower((unsigned char)*in);
		out[j++] = (isalnum(c) || c == '_' || c == '.' || c == '-')
				   ? (char)c
				   : '_';
	}
	out[j] = '\0';
	if (!j) {
		snprintf(out, n, "attr");
		return;
	}
	for (const char *const *r = reserved; *r; r++) {
		if (out[0] == (*r)[0] && strcmp(out, *r) == 0) {
			size_t len = strlen(out);
			memmove(out + 5, out, len + 1); /* reserved: short */
			memcpy(out, "attr_", 5);
			break;
		}
	}
}

/* The redacted value of one attribute, as a json string. */
static struct json_object *value_of(const char *key, const char *v)
{
	size_t len = strlen(v);
	char *r;

	if (redact_key_is_secret(key))
		return json_object_new_string(REDACT_MARK);
	if (len > MAX_VALUE)
		len = MAX_VALUE;
	r = redact_text(v, len, NULL);
	if (!r)
		return NULL;
	struct json_object *o = json_object_new_string(r);
	free(r);
	return o;
}

/* Fields of an event: keys cleaned, values redacted, repeats as arrays,
 * content dropped below full recording. */
static struct json_object *fields_of(const struct jg_attr *attrs, size_t n,
				     int level)
{
	struct json_object *f = json_object_new_object(), *old, *v;
	char key[72];

	if (!f)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (!attrs[i].key || !attrs[i].value)
			continue;
		clean_key(attrs[i].key, key, sizeof(key));
		if (level < RECORD_FULL && is_content(key))
			continue;
		if (!(v = value_of(key, attrs[i].value)))
			goto oom;
		if (!json_object_object_get_ex(f, key, &old)) {
			json_object_object_add(f, key, v);
		} else if (json_object_is_type(old, json_type_array)) {
			json_object_array_add(old, v);
		} else {
			struct json_object *a = json_object_new_array();
			if (!a) {
				json_object_put(v);
				goto oom;
			}
			json_object_array_add(a, json_object_get(old));
			json_object_array_add(a, v);
			json_object_object_add(f, key, a);
		}
	}
	return f;
oom:
	json_object_put(f);
	return NULL;
}

static void (*end_session)(struct jg_session *s, const char *reason);

void record_set_end(void (*end)(struct jg_session *s, const char *reason))
{
	end_session = end;
}

static void grace_expired(void *ud)
{
	struct rsess *rs = ud;
	const char *why = "recording failed: the store cannot accept events";

	rs->host->timer_del(rs->grace); /* one-shot: ours to free */
	rs->grace = NULL;
	if (rs->s)
		(end_session ? end_session : rs->host->session_end)(rs->s, why);
}

/* The store could not take an event of rs. */
static void store_failed(struct rsess *rs, const char *why)
{
	int64_t until = mono_ms() + REFUSE_MS;

	count("record_failures_total", 1);
	__atomic_store_n(&R.refuse_until, until, __ATOMIC_RELAXED);
	if (!rs->failed && rs->host)
		rs->host->log(LOGNAME, rs->s, JG_LOG_ERROR, "RC0002",
			      "recording failed for session %s: %s%s", rs->sid,
			      why ? why : "store error",
			      R.best_effort ? " (best effort: going on)" : "");
	rs->failed = 1;
	if (!R.best_effort && rs->s && !rs->grace && !rs->ended)
		rs->grace = rs->host->timer_add(rs->loop, (uint64_t)R.grace_ms,
						0, grace_expired, rs);
}

/*
 * A record whose session is gone waits for its last appends; at
 * shutdown the store may be gone before they complete (a completion to
 * a stopped loop is dropped), so such records are listed, and
 * record_free_orphans() frees what is left once no thread runs.
 */
static struct rsess *orphans;

static void orphan_add(struct rsess *rs)
{
	pthread_mutex_lock(&R.lock);
	rs->oprev = NULL;
	rs->onext = orphans;
	if (orphans)
		orphans->oprev = rs;
	orphans = rs;
	rs->orphan = 1;
	pthread_mutex_unlock(&R.lock);
}

static void orphan_del(struct rsess *rs)
{
	if (!rs->orphan)
		return;
	pthread_mutex_lock(&R.lock);
	if (rs->oprev)
		rs->oprev->onext = rs->onext;
	else
		orphans = rs->onext;
	if (rs->onext)
		rs->onext->oprev = rs->oprev;
	rs->orphan = 0;
	pthread_mutex_unlock(&R.lock);
}

void record_free_orphans(void)
{
	struct rsess *rs, *next;

	pthread_mutex_lock(&R.lock);
	rs = orphans;
	orphans = NULL;
	pthread_mutex_unlock(&R.lock);
	for (; rs; rs = next) {
		next = rs->onext;
		rsess_free(rs);
	}
}

static void maybe_free(struct rsess *rs)
{
	if (!rs->s && !rs->pending) {
		orphan_del(rs);
		if (rs->grace)
			rs->host->timer_del(rs->grace);
		rsess_free(rs);
	}
}

static void append_done(void *ud, int status, const char *doc,
			uint64_t version, const char *err)
{
	struct rsess *rs = ud;
	(void)doc;
	(void)version;

	rs->pending--;
	if (status != JG_OK)
		store_failed(rs, err);
	else if (!rs->failed)
		__atomic_store_n(&R.refuse_until, 0, __ATOMIC_RELAXED);
	maybe_free(rs);
}

static void close_done(void *ud, int status, const char *doc,
		       uint64_t version, const char *err)
{
	append_done(ud, status, doc, version, err);
}

/* Append one finished event (the store copies it). */
static int append_text(struct rsess *rs, const char *type, const char *ev)
{
	int rc = store_append(rs->loop, rs->sid, ev, is_lifecycle(type),
			      append_done, rs);

	if (rc == JG_ERROR) {
		store_failed(rs, "the store refused the event");
		return JG_ERROR;
	}
	count("record_events_total", 1);
	if (rc == JG_AGAIN)
		rs->pending++;
	return JG_OK;
}

/* append_text() of a malloc'd event (consumed); ev NULL: out of memory. */
static int append_event(struct rsess *rs, const char *type, char *ev)
{
	int rc;

	if (!ev) {
		store_failed(rs, "out of memory");
		return JG_ERROR;
	}
	rc = append_text(rs, type, ev);
	free(ev);
	return rc;
}

/* Chain, serialise and append one event; fields may be NULL. */
static int emit(struct rsess *rs, const char *type, struct json_object *fields)
{
	return append_event(rs, type,
			    rec_chain_event(&rs->chain, rs->sid, type,
					    wall_ms(), fields));
}

/* One value as fields_of() stores it: redacted, cut, quoted. */
static int put_value(struct rbuf *b, int secret_key, const char *v)
{
	size_t len = strlen(v);
	char *r;

	if (secret_key) {
		rec_quote(b, REDACT_MARK, strlen(REDACT_MARK));
		return 0;
	}
	if (len > MAX_VALUE)
		len = MAX_VALUE;
	if (!redact_may_hold_secret(v, len)) {
		rec_quote(b, v, len);
		return 0;
	}
	if (!(r = redact_text(v, len, NULL)))
		return -1;
	rec_quote(b, r, strlen(r));
	free(r);
	return 0;
}

#define FAST_ATTRS 64
#define EV_KEEP 4096 /* bytes of event buffer a session keeps */

/*
 * What an attribute key becomes in an event: cleaned, quoted, and
 * whether it names content or a secret.  Keys are nearly always the
 * plugins' string literals, the same few for every statement, so each
 * thread remembers them by address (and checks the text, in case the
 * address was a reused buffer): working them out for every attribute
 * of every event showed in profiles.
 */
struct key_info {
	const char *ptr; /* the caller's key; NULL: slot unused */
	uint64_t call;   /* the put_fields() call that last used the slot */
	char orig[48];
	char quoted[80]; /* ,"key": */
	unsigned char qlen, content, secret;
	unsigned char bit; /* 0..63, from the cleaned key's text */
	char clean[72];
};

#define KEY_SLOTS 128
#define KEY_PROBE 8
static __thread struct key_info key_memo[KEY_SLOTS];
static __thread uint64_t key_call;

static void key_fill(struct key_info *k, const char *key)
{
	size_t l;

	clean_key(key, k->clean, sizeof(k->clean));
	k->content = (unsigned char)is_content(k->clean);
	k->secret = (unsigned char)redact_key_is_secret(k->clean);
	/* a cleaned key is [a-z0-9_.-]: quoting it adds the quotes only */
	l = strlen(k->clean);
	k->quoted[0] = ',';
	k->quoted[1] = '"';
	memcpy(k->quoted + 2, k->clean, l);
	memcpy(k->quoted + 2 + l, "\":", 3);
	k->qlen = (unsigned char)(l + 4);
	k->bit = (unsigned char)((l * 31 + (unsigned char)k->clean[0] * 7 +
				  (unsigned char)k->clean[l ? l - 1 : 0]) %
				 64);
}

#define KEY_SCRATCH 8

/* Key info for key, valid until the next put_fields() call, or NULL.
 * The memo is open-addressed (KEY_PROBE slots from the key's hash); a
 * slot is not reused within one call: a long key, or one whose slots
 * all serve other keys of this call, goes to scratch (*ns used of
 * KEY_SCRATCH); NULL when that is full too. */
static const struct key_info *key_info(const char *key,
				       struct key_info *scratch, size_t *ns)
{
	/* Fibonacci hashing: literals sit a few bytes apart */
	size_t h = (size_t)(((uint64_t)(uintptr_t)key *
			     0x9e3779b97f4a7c15ull) >> 57);
	struct key_info *k, *free_slot = NULL;
	size_t l;

	for (size_t i = 0; i < KEY_PROBE; i++) {
		k = &key_memo[(h + i) % KEY_SLOTS];
		if (k->ptr == key && strcmp(k->orig, key) == 0) {
			k->call = key_call;
			return k;
		}
		if (!free_slot && (!k->ptr || k->call != key_call))
			free_slot = k;
	}
	l = strlen(key);
	if (l >= sizeof(k->orig) || !free_slot) {
		if (*ns >= KEY_SCRATCH)
			return NULL;
		key_fill(&scratch[*ns], key);
		return &scratch[(*ns)++];
	}
	k = free_slot;
	key_fill(k, key);
	memcpy(k->orig, key, l + 1);
	k->ptr = key;
	k->call = key_call;
	return k;
}

static int same_key(const struct key_info *a, const struct key_info *b)
{
	return a == b || (a->bit == b->bit && a->qlen == b->qlen &&
			  strcmp(a->clean, b->clean) == 0);
}

/*
 * The fields fields_of() would make, written straight into the event
 * text: this runs for every statement, and a json-c tree per event
 * (tables, a string object per value, a second serialisation) cost more
 * than hashing and storing it.  The bytes are the same.  -1: out of
 * memory, or more attributes than FAST_ATTRS or long keys than
 * KEY_SCRATCH (the caller then takes the json-c path).
 */
static int put_fields(struct rbuf *b, const struct jg_attr *attrs, size_t n,
		      int level)
{
	const struct key_info *ki[FAST_ATTRS];
	struct key_info scratch[KEY_SCRATCH]; /* rarely touched */
	unsigned char use[FAST_ATTRS];
	size_t i, j, ns = 0;
	uint64_t bits = 0;
	int repeats = 0; /* may a key come twice?  Mostly not: no pairs */

	if (n > FAST_ATTRS)
		return -1;
	key_call++;
	for (i = 0; i < n; i++) {
		use[i] = 0;
		if (!attrs[i].key || !attrs[i].value)
			continue;
		if (!(ki[i] = key_info(attrs[i].key, scratch, &ns)))
			return -1;
		use[i] = level >= RECORD_FULL || !ki[i]->content;
		if (use[i]) {
			repeats |= (bits >> ki[i]->bit) & 1;
			bits |= 1ull << ki[i]->bit;
		}
	}
	for (i = 0; i < n; i++) {
		size_t same = 0;
		if (!use[i])
			continue;
		for (j = i + 1; repeats && j < n; j++)
			same += use[j] && same_key(ki[i], ki[j]);
		/* the quoted key with its comma and colon, less the colon
		 * when an array follows */
		rbuf_put(b, ki[i]->quoted, ki[i]->qlen);
		if (same)
			rbuf_put(b, "[", 1);
		if (put_value(b, ki[i]->secret, attrs[i].value) < 0)
			return -1;
		for (j = i + 1; same && j < n; j++) {
			if (!use[j] || !same_key(ki[i], ki[j]))
				continue;
			use[j] = 0; /* written here, at the key's first place */
			rbuf_put(b, ",", 1);
			if (put_value(b, ki[i]->secret, attrs[j].value) < 0)
				return -1;
		}
		if (same)
			rbuf_put(b, "]", 1);
	}
	return b->oom ? -1 : 0;
}

/* emit() of fields_of(attrs), without the json-c tree when it can. */
static int emit_attrs(struct rsess *rs, const char *type,
		      const struct jg_attr *attrs, size_t n)
{
	struct rbuf *b = &rs->ev;
	struct json_object *f;
	int rc;

	/* The session's buffer, kept between events: an allocation and a
	 * free per event showed in profiles.  A rare big one is not kept. */
	b->len = 0;
	b->oom = 0;
	rec_event_open(b, &rs->chain, rs->sid, type, wall_ms());
	if (put_fields(b, attrs, n, rs->level) == 0) {
		if (rec_event_finish(b, &rs->chain) == 0)
			rc = append_text(rs, type, b->p);
		else
			rc = append_event(rs, type, NULL);
		if (b->cap > EV_KEEP || b->oom)
			free(rbuf_take(b));
		return rc;
	}
	free(rbuf_take(b));
	if (!(f = fields_of(attrs, n, rs->level))) {
		store_failed(rs, "out of memory");
		return JG_ERROR;
	}
	rc = emit(rs, type, f);
	json_object_put(f);
	return rc;
}

/* The last event: how many came before it.  The record is then ended. */
static void seal(struct rsess *rs)
{
	struct json_object *f;

	if (!rs->failed) {
		f = json_object_new_object();
		if (f)
			json_object_object_add(
				f, "count",
				json_object_new_int64((int64_t)rs->chain.seq));
		emit(rs, "seal", f);
		json_object_put(f);
	}
	rs->ended = 1;
}

static void end(struct rsess *rs, const char *reason,
		const struct jg_attr *attrs, size_t n)
{
	struct json_object *f;

	if (rs->ended)
		return;
	if (!rs->failed) {
		f = fields_of(attrs, n, RECORD_METADATA);
		if (f)
			json_object_object_add(
				f, "reason",
				json_object_new_string(reason ? reason : ""));
		emit(rs, "disconnect", f);
		json_object_put(f);
	}
	seal(rs);
	if (rs->grace) {
		rs->host->timer_del(rs->grace);
		rs->grace = NULL;
	}
	if (store_close_record(rs->loop, rs->sid, close_done, rs) == JG_AGAIN)
		rs->pending++;
}

static void on_cleanup(void *ud)
{
	struct rsess *rs = ud;
	end(rs, "session closed", NULL, 0);
	map_del(rs);
	rs->s = NULL;
	if (rs->pending)
		orphan_add(rs);
	maybe_free(rs);
}

/* The session's state, made on first use.  NULL: refused (err says why). */
static struct rsess *get_rs(struct jg_session *s, const char **why)
{
	struct rsess *rs = map_get(s);
	const struct jg_host *h;
	const char *sid;

	if (rs)
		return rs;
	pthread_mutex_lock(&R.lock);
	h = R.host;
	struct rkey *k = R.key;
	if (k)
		__atomic_add_fetch(&k->refs, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&R.lock);
	if (!k || !store_configured()) {
		key_unref(k);
		*why = "recording is not configured (no store or no "
		       "recording.key)";
		return NULL;
	}
	if (!R.best_effort && record_refusing()) {
		key_unref(k);
		*why = "recording unavailable: the store failed recently";
		return NULL;
	}
	rs = calloc(1, sizeof(*rs));
	sid = h->session_id(s);
	if (!rs || !sid || strlen(sid) >= sizeof(rs->sid)) {
		free(rs);
		key_unref(k);
		*why = "cannot start a record for this session";
		return NULL;
	}
	rs->s = s;
	rs->host = h;
	rs->key = k;
	rs->level = RECORD_FULL;
	snprintf(rs->sid, sizeof(rs->sid), "%s", sid);
	rs->loop = h->session_loop(s);
	rec_chain_init(&rs->chain, k->b, k->len);
	rec_chain_keep_key(&rs->chain);
	if (map_add(rs) < 0) {
		rsess_free(rs);
		*why = "out of memory";
		return NULL;
	}
	if (h->session_cleanup(s, on_cleanup, rs) != JG_OK) {
		map_del(rs);
		rsess_free(rs);
		*why = "cannot hook the session's end";
		return NULL;
	}
	return rs;
}

/* Refuse (required mode) or drop (best effort) an event. */
static int not_recorded(const char *why, struct jg_session *s)
{
	const struct jg_host *h = R.host;

	if (R.best_effort && store_configured()) {
		count("record_dropped_total", 1);
		return JG_OK;
	}
	count("record_refused_total", 1);
	if (h)
		h->log(LOGNAME, s, JG_LOG_WARN, "RC0001", "%s", why);
	return JG_ERROR;
}

int core_record(struct jg_session *s, const char *event,
		const struct jg_attr *attrs, size_t n)
{
	const char *why = NULL;
	struct rsess *rs;
	int rc;

	if (!event || !*event)
		return JG_ERROR;
	if (!(rs = get_rs(s, &why)))
		return not_recorded(why, s);
	if (rs->ended)
		return not_recorded("the session's record is sealed", s);
	if (rs->failed)
		return not_recorded("recording failed for this session", s);
	if (rs->level == RECORD_NONE && !is_lifecycle(event))
		return JG_OK;
	if (strcmp(event, "seal") == 0)
		return JG_ERROR; /* only the core seals */
	rc = emit_attrs(rs, event, attrs, n);
	if (rc != JG_OK)
		return not_recorded("the store refused the event", s);
	return JG_OK;
}

int record_session_begin(struct jg_session *s, const struct jg_attr *attrs,
			 size_t n, char *err, size_t errlen)
{
	const char *why = NULL;
	struct rsess *rs = get_rs(s, &why);
	struct jg_attr *all;
	int rc;

	if (!rs) {
		if (not_recorded(why, s) == JG_OK)
			return JG_OK;
		snprintf(err, errlen, "%s", why);
		return JG_ERROR;
	}
	all = calloc(n + 2, sizeof(*all));
	if (!all) {
		snprintf(err, errlen, "out of memory");
		return JG_ERROR;
	}
	all[0] = (struct jg_attr){"peer", rs->host->session_peer(s)};
	all[1] = (struct jg_attr){"loopback",
				  rs->host->session_is_loopback(s) ? "true"
								   : "false"};
	if (n)
		memcpy(all + 2, attrs, n * sizeof(*attrs));
	rc = core_record(s, "connect", all, n + 2);
	free(all);
	if (rc != JG_OK)
		snprintf(err, errlen, "recording unavailable: the store cannot "
				      "accept events");
	return rc;
}

void record_session_end(struct jg_session *s, const char *reason)
{
	record_session_end_attrs(s, reason, NULL, 0);
}

void record_session_end_attrs(struct jg_session *s, const char *reason,
			      const struct jg_attr *attrs, size_t n)
{
	struct rsess *rs = map_get(s);
	if (rs)
		end(rs, reason, attrs, n);
}

int record_configured(void)
{
	int on;

	pthread_mutex_lock(&R.lock);
	on = R.key != NULL;
	pthread_mutex_unlock(&R.lock);
	return on && store_configured();
}

int record_best_effort(void)
{
	return R.best_effort;
}

int record_standalone(struct jg_loop *l, const char *sid, const char *type,
		      const struct jg_attr *attrs, size_t n)
{
	struct rsess *rs;
	struct json_object *f;
	struct rkey *k;
	int rc;

	if (!l || !sid || strlen(sid) >= sizeof(rs->sid) || !type)
		return JG_ERROR;
	pthread_mutex_lock(&R.lock);
	k = R.key;
	if (k)
		__atomic_add_fetch(&k->refs, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_unlock(&R.lock);
	if (!k || !store_configured() || !(rs = calloc(1, sizeof(*rs)))) {
		key_unref(k);
		return not_recorded("recording is not configured", NULL);
	}
	/* No session: rs->s stays NULL, so the record is freed once its
	 * appends complete and no grace timer ever starts. */
	rs->host = R.host;
	rs->key = k;
	rs->level = RECORD_FULL;
	rs->loop = l;
	snprintf(rs->sid, sizeof(rs->sid), "%s", sid);
	rec_chain_init(&rs->chain, k->b, k->len);
	f = fields_of(attrs, n, RECORD_FULL);
	rc = f ? emit(rs, type, f) : JG_ERROR;
	json_object_put(f);
	seal(rs);
	if (store_close_record(rs->loop, rs->sid, close_done, rs) == JG_AGAIN)
		rs->pending++;
	if (rs->failed)
		rc = JG_ERROR;
	if (rs->pending)
		orphan_add(rs);
	maybe_free(rs);
	return rc == JG_OK ? JG_OK : not_recorded("the store refused", NULL);
}

void record_set_level(struct jg_session *s, int level)
{
	const char *why;
	struct rsess *rs = get_rs(s, &why);
	if (rs && level >= RECORD_NONE && level <= RECORD_FULL)
		rs->level = level;
}

int record_decision(struct jg_session *s, const struct jg_action *a,
		    const struct jg_decision *d)
{
	static const char *const effects[] = {"deny", "allow", "review"};
	size_t n = a ? a->nattrs : 0, k = 0;
	struct jg_attr few[FAST_ATTRS];
	struct jg_attr *all = n + 6 <= FAST_ATTRS ? few
						   : calloc(n + 6, sizeof(*all));
	int rc;

	if (!all)
		return not_recorded("out of memory", s);
	all[k++] = (struct jg_attr){
		"effect", d->effect >= 0 && d->effect <= 2 ? effects[d->effect]
							    : "deny"};
	all[k++] = (struct jg_attr){"rule", d->rule};
	all[k++] = (struct jg_attr){"reason", d->reason};
	if (d->mask_profile[0])
		all[k++] = (struct jg_attr){"mask_profile", d->mask_profile};
	if (a && a->type)
		all[k++] = (struct jg_attr){"action", a->type};
	for (size_t i = 0; i < n; i++)
		all[k++] = a->attrs[i];
	if (a && a->text)
		all[k++] = (struct jg_attr){"text", a->text};
	/* The decision's level already governs its own event: a statement
	 * recorded as metadata only loses its text here too. */
	record_set_level(s, d->record_level);
	rc = core_record(s, "decision", all, k);
	if (all != few)
		free(all);
	return rc;
}
