/*
 * store_postgres: records and state in PostgreSQL, shared by several
 * gateways.  A review approved through one gateway is announced with
 * NOTIFY and wakes the watch of the gateway holding the statement.
 *
 * All libpq work happens on the host's main loop (pg_conn.c); operations
 * from worker threads are posted there and their results posted back.
 * Appends of one record always use the same connection, so they stay in
 * order.  Requests wait for a connection while the database is away, up
 * to "timeout", then fail (the recorder then fails closed).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "pg_store.h"

#define PG_MAGIC 0x53505354u /* "SPST" */
#define TICK_MS 250
#define RETAIN_MS 60000

int64_t pg_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void st_free(struct pgs *st)
{
	pthread_mutex_destroy(&st->wlock);
	if (st->conninfo) {
		memset(st->conninfo, 0, strlen(st->conninfo));
		free(st->conninfo);
	}
	free(st->conns);
	st->magic = 0;
	free(st);
}

static void req_free(struct pg_req *r)
{
	free(r->id);
	free(r->coll);
	free(r->data);
	free(r->result);
	free(r);
}

/* On the caller's loop. */
static void req_complete(void *arg)
{
	struct pg_req *r = arg;
	if (r->cb)
		r->cb(r->ud, r->status, r->result, r->version,
		      r->status == JG_OK ? NULL : r->err);
	req_free(r);
}

void req_done(struct pg_req *r)
{
	if (r->cb && r->loop &&
	    r->st->host->loop_post(r->loop, req_complete, r) == JG_OK)
		return;
	req_free(r);
}

static int id_valid(const char *id)
{
	size_t n = 0;
	if (!id || !*id || id[0] == '.')
		return 0;
	for (; id[n]; n++)
		if (n >= 128 || !(isalnum((unsigned char)id[n]) ||
				  strchr("._:-", id[n])))
			return 0;
	return 1;
}

static int coll_valid(const char *c)
{
	return c && (strcmp(c, "grants") == 0 || strcmp(c, "reviews") == 0 ||
		     strcmp(c, "sessions") == 0);
}

static size_t hash_sid(const char *s)
{
	size_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* On the main loop: route the request to a connection. */
static void submit_main(void *arg)
{
	struct pg_req *r = arg;
	struct pgs *st = r->st;
	struct pg_conn *c;

	if (st->closing) {
		r->status = JG_ERROR;
		snprintf(r->err, sizeof(r->err), "store is shutting down");
		req_done(r);
	} else {
		if (r->kind == RQ_APPEND || r->kind == RQ_READ)
			c = &st->conns[hash_sid(r->id) % (size_t)st->pool];
		else
			c = &st->conns[st->rr++ % st->pool];
		r->deadline = pg_now_ms() + st->timeout_ms;
		conn_enqueue(c, r, 0);
		conn_kick(c);
	}
	if (__atomic_sub_fetch(&st->posts, 1, __ATOMIC_ACQ_REL) == 0 &&
	    st->closing == 2)
		st_free(st);
}

static int submit(struct pgs *st, struct pg_req *r)
{
	__atomic_add_fetch(&st->posts, 1, __ATOMIC_ACQ_REL);
	if (st->host->loop_post(st->host->main_loop(), submit_main, r) !=
	    JG_OK) {
		__atomic_sub_fetch(&st->posts, 1, __ATOMIC_ACQ_REL);
		req_free(r);
		return JG_ERROR;
	}
	return JG_AGAIN;
}

static struct pgs *store_of(void *instance)
{
	struct pgs *st = instance;
	if (!st || st->magic != PG_MAGIC)
		abort();
	return st;
}

static struct pg_req *req_new(struct pgs *st, enum req_kind kind,
			      struct jg_loop *l, const char *coll,
			      const char *id, const char *data, jg_store_cb cb,
			      void *ud)
{
	struct pg_req *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->kind = kind;
	r->st = st;
	r->loop = l;
	r->cb = cb;
	r->ud = ud;
	if ((coll && !(r->coll = strdup(coll))) ||
	    (id && !(r->id = strdup(id))) ||
	    (data && !(r->data = strdup(data)))) {
		req_free(r);
		return NULL;
	}
	return r;
}

static int pg_append(void *instance, struct jg_loop *l, const char *sid,
		     const char *event_json, int durable, jg_store_cb cb,
		     void *ud)
{
	struct pgs *st = store_of(instance);
	struct json_object *o, *seq;
	struct pg_req *r;
	(void)durable; /* every commit is durable (synchronous_commit) */

	if (!id_valid(sid) || !event_json)
		return JG_ERROR;
	o = json_tokener_parse(event_json);
	if (!o || !json_object_object_get_ex(o, "seq", &seq) ||
	    !json_object_is_type(seq, json_type_int)) {
		json_object_put(o);
		return JG_ERROR;
	}
	r = req_new(st, RQ_APPEND, l, NULL, sid, event_json, cb, ud);
	if (r)
		r->seq = json_object_get_int64(seq);
	json_object_put(o);
	return r ? submit(st, r) : JG_ERROR;
}

static int pg_read_record(void *instance, struct jg_loop *l, const char *sid,
			  jg_store_cb cb, void *ud)
{
	struct pgs *st = store_of(instance);
	struct pg_req *r;
	if (!id_valid(sid) ||
	    !(r = req_new(st, RQ_READ, l, NULL, sid, NULL, cb, ud)))
		return JG_ERROR;
	return submit(st, r);
}

static int doc_req(void *instance, enum req_kind kind, struct jg_loop *l,
		   const char *coll, const char *id, const char *doc,
		   uint64_t version, jg_store_cb cb, void *ud)
{
	struct pgs *st = store_of(instance);
	struct pg_req *r;
	char *norm = NULL;

	if (!coll_valid(coll) || (kind != RQ_LIST && !id_valid(id)))
		return JG_ERROR;
	if (doc) {
		/* one line of valid JSON, as store_file keeps it */
		struct json_object *o = json_tokener_parse(doc);
		if (!o)
			return JG_ERROR;
		norm = strdup(json_object_to_json_string_ext(
			o, JSON_C_TO_STRING_PLAIN |
				   JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
		if (!norm)
			return JG_ERROR;
	}
	r = req_new(st, kind, l, coll, id, norm, cb, ud);
	free(norm);
	if (!r)
		return JG_ERROR;
	r->version = version;
	return submit(st, r);
}

static int pg_put(void *instance, struct jg_loop *l, const char *collection,
		  const char *id, const char *doc_json, uint64_t expect_version,
		  jg_store_cb cb, void *ud)
{
	if (!doc_json)
		return JG_ERROR;
	return doc_req(instance, RQ_PUT, l, collection, id, doc_json,
		       expect_version, cb, ud);
}

static int pg_get(void *instance, struct jg_loop *l, const char *collection,
		  const char *id, jg_store_cb cb, void *ud)
{
	return doc_req(instance, RQ_GET, l, collection, id, NULL, 0, cb, ud);
}

static int pg_list(void *instance, struct jg_loop *l, const char *collection,
		   jg_store_cb cb, void *ud)
{
	return doc_req(instance, RQ_LIST, l, collection, NULL, NULL, 0, cb, ud);
}

static int pg_remove(void *instance, struct jg_loop *l, const char *collection,
		     const char *id, uint64_t expect_version, jg_store_cb cb,
		     void *ud)
{
	return doc_req(instance, RQ_REMOVE, l, collection, id, NULL,
		       expect_version, cb, ud);
}

static int pg_close_record(void *instance, struct jg_loop *l, const char *sid,
			   jg_store_cb cb, void *ud)
{
	(void)instance;
	(void)l;
	(void)sid;
	(void)cb;
	(void)ud;
	return JG_OK; /* nothing is held per record */
}

static int pg_list_records(void *instance, struct jg_loop *l, jg_store_cb cb,
			   void *ud)
{
	struct pgs *st = store_of(instance);
	struct pg_req *r = req_new(st, RQ_LIST_RECORDS, l, NULL, NULL, NULL,
				   cb, ud);
	return r ? submit(st, r) : JG_ERROR;
}

/* ---- watches: NOTIFY payload "collection id version" ---- */

struct note {
	struct pg_watch *w;
	char coll[16];
	char *id;
	uint64_t version;
};

static void watch_unref(struct pg_watch *w)
{
	if (__atomic_sub_fetch(&w->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(w);
}

static void note_fire(void *arg)
{
	struct note *n = arg;
	if (!n->w->cancelled)
		n->w->cb(n->w->ud, n->coll, n->id, n->version);
	watch_unref(n->w);
	free(n->id);
	free(n);
}

static void broadcast(struct pgs *st, const char *coll, const char *id,
		      uint64_t version)
{
	pthread_mutex_lock(&st->wlock);
	for (struct pg_watch *w = st->watches; w; w = w->next) {
		struct note *n = calloc(1, sizeof(*n));
		if (!n || (id && !(n->id = strdup(id)))) {
			free(n);
			continue;
		}
		n->w = w;
		snprintf(n->coll, sizeof(n->coll), "%s", coll);
		n->version = version;
		__atomic_add_fetch(&w->refs, 1, __ATOMIC_ACQ_REL);
		if (st->host->loop_post(w->loop, note_fire, n) != JG_OK) {
			watch_unref(w);
			free(n->id);
			free(n);
		}
	}
	pthread_mutex_unlock(&st->wlock);
}

void pg_notify_watchers(struct pgs *st, const char *payload)
{
	char coll[16], id[160];
	unsigned long long v;

	if (!payload ||
	    sscanf(payload, "%15s %159s %llu", coll, id, &v) != 3 ||
	    !coll_valid(coll) || !id_valid(id))
		return;
	broadcast(st, coll, id, v);
}

void pg_resync_watchers(struct pgs *st)
{
	static const char *const colls[] = {"grants", "reviews", "sessions"};
	for (int i = 0; i < 3; i++)
		broadcast(st, colls[i], NULL, 0);
}

static void *pg_watch(void *instance, struct jg_loop *l,
		      jg_store_watch_cb cb, void *ud)
{
	struct pgs *st = store_of(instance);
	struct pg_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->loop = l;
	w->cb = cb;
	w->ud = ud;
	w->refs = 1;
	pthread_mutex_lock(&st->wlock);
	w->next = st->watches;
	st->watches = w;
	pthread_mutex_unlock(&st->wlock);
	return w;
}

static void pg_unwatch(void *instance, void *handle)
{
	struct pgs *st = store_of(instance);
	struct pg_watch *w = handle, **p;
	if (!w)
		return;
	w->cancelled = 1;
	pthread_mutex_lock(&st->wlock);
	for (p = &st->watches; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	pthread_mutex_unlock(&st->wlock);
	watch_unref(w);
}

/* ---- lifecycle ---- */

/* Fail requests that waited too long for the database. */
static void tick(void *ud)
{
	struct pgs *st = ud;
	int64_t now = pg_now_ms();

	for (int i = 0; i < st->pool; i++) {
		struct pg_conn *c = &st->conns[i];
		struct pg_req **p = &c->head, *keep_tail = NULL;
		while (*p) {
			struct pg_req *r = *p;
			if (r->deadline > now) {
				keep_tail = r;
				p = &r->next;
				continue;
			}
			*p = r->next;
			r->next = NULL;
			r->status = JG_ERROR;
			snprintf(r->err, sizeof(r->err),
				 "database unavailable: %.200s",
				 st->last_error[0] ? st->last_error
						   : "timed out");
			req_done(r);
		}
		c->tail = keep_tail;
	}
	if (st->retention_age_ms > 0 && st->migrated &&
	    now - st->last_retain >= RETAIN_MS) {
		struct pg_req *r = req_new(st, RQ_RETAIN, NULL, NULL, NULL,
					   NULL, NULL, NULL);
		st->last_retain = now;
		if (r) {
			r->deadline = now + st->timeout_ms;
			conn_enqueue(&st->conns[0], r, 0);
			conn_kick(&st->conns[0]);
		}
	}
}

static int schema_valid(const char *s)
{
	if (!s || !*s || strlen(s) > 48 ||
	    !(islower((unsigned char)s[0]) || s[0] == '_'))
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) ||
		      *s == '_'))
			return 0;
	return 1;
}

static int pg_init(const struct jg_host *host, const struct jg_config *cfg,
		   void **instance, char *err, size_t errlen)
{
	size_t len = 0;
	const char *conninfo = host->cfg_secret(cfg, "conninfo", &len);
	const char *schema = host->cfg_string(cfg, "schema");
	int64_t pool = host->cfg_int(cfg, "pool_size");
	struct pgs *st;

	if (!conninfo || !len) {
		snprintf(err, errlen, "conninfo: required");
		return JG_ERROR;
	}
	if (!schema_valid(schema ? schema : "jitgate")) {
		snprintf(err, errlen,
			 "schema: a lower-case identifier of at most 48 "
			 "characters");
		return JG_ERROR;
	}
	if (pool < 1 || pool > 64) {
		snprintf(err, errlen, "pool_size: 1 to 64");
		return JG_ERROR;
	}
	st = calloc(1, sizeof(*st));
	if (!st || !(st->conninfo = strndup(conninfo, len)) ||
	    !(st->conns = calloc((size_t)pool + 1, sizeof(*st->conns)))) {
		if (st)
			free(st->conninfo);
		free(st);
		snprintf(err, errlen, "out of memory");
		return JG_ERROR;
	}
	st->magic = PG_MAGIC;
	st->host = host;
	st->pool = (int)pool;
	snprintf(st->schema, sizeof(st->schema), "%s",
		 schema ? schema : "jitgate");
	snprintf(st->channel, sizeof(st->channel), "jitgate_%s", st->schema);
	st->timeout_ms = host->cfg_int(cfg, "timeout");
	if (st->timeout_ms <= 0)
		st->timeout_ms = 10000;
	st->retention_age_ms = host->cfg_int(cfg, "retention_age");
	pthread_mutex_init(&st->wlock, NULL);
	for (int i = 0; i <= st->pool; i++) {
		st->conns[i].st = st;
		st->conns[i].index = i;
		st->conns[i].listener = i == st->pool;
		st->conns[i].fd = -1;
	}
	/* Connecting is asynchronous: init does not wait for the database,
	 * and requests queue until it answers (or time out). */
	for (int i = 0; i <= st->pool; i++)
		conn_start(&st->conns[i]);
	st->tick = host->timer_add(host->main_loop(), TICK_MS, TICK_MS, tick,
				   st);
	*instance = st;
	return JG_OK;
}

static void pg_fini(void *instance)
{
	struct pgs *st = store_of(instance);

	st->closing = 1;
	if (st->tick)
		st->host->timer_del(st->tick);
	for (int i = 0; i <= st->pool; i++) {
		struct pg_conn *c = &st->conns[i];
		struct pg_req *r = c->cur;
		conn_stop(c);
		c->cur = NULL;
		if (r) {
			r->next = c->head;
			c->head = r;
		}
		while ((r = c->head)) {
			c->head = r->next;
			r->status = JG_ERROR;
			snprintf(r->err, sizeof(r->err),
				 "store is shutting down");
			req_done(r);
		}
	}
	while (st->watches) {
		struct pg_watch *w = st->watches;
		st->watches = w->next;
		watch_unref(w);
	}
	/* Posts still on their way to the main loop free it when done. */
	st->closing = 2;
	if (__atomic_load_n(&st->posts, __ATOMIC_ACQUIRE) == 0)
		st_free(st);
}

static const struct jg_option pg_options[] = {
	{"conninfo", JG_OPT_SECRET, NULL, 1, 1,
	 "libpq connection string or URI, e.g. file:/etc/jitgate/pg.conninfo"},
	{"pool_size", JG_OPT_INT, "4", 0, 0,
	 "connections for records and documents (plus one for LISTEN)"},
	{"schema", JG_OPT_STRING, "jitgate", 0, 0,
	 "schema holding the tables; created and migrated at start"},
	{"timeout", JG_OPT_DURATION, "10s", 0, 0,
	 "how long a request waits for the database before it fails"},
	{"retention_age", JG_OPT_DURATION, "0", 0, 0,
	 "delete records not written to for this long (0: keep)"},
	{NULL, 0, NULL, 0, 0, NULL},
};

static const struct jg_store_ops pg_ops = {
	.size = sizeof(struct jg_store_ops),
	.append = pg_append,
	.read_record = pg_read_record,
	.put = pg_put,
	.get = pg_get,
	.list = pg_list,
	.watch = pg_watch,
	.unwatch = pg_unwatch,
	.remove = pg_remove,
	.close_record = pg_close_record,
	.list_records = pg_list_records,
};

JG_EXPORT const struct jg_plugin jg_plugin = {
	JG_PLUGIN_PREFIX,
	.kind = JG_KIND_STORE,
	.name = "store_postgres",
	.version = "0.1.0",
	.description = "PostgreSQL store shared by several gateways "
		       "(LISTEN/NOTIFY for review changes)",
	.options = pg_options,
	.init = pg_init,
	.fini = pg_fini,
	.ops = &pg_ops,
};
