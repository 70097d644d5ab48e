/*
 * Core access to the store plugin (see store.h).
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

static const struct jg_store_ops *S_ops;
static void *S_inst;

/* Is op present in a plugin's table (it may predate a newer op)? */
#define HAS_OP(ops, field)                                                    \
	((ops)->size >= offsetof(struct jg_store_ops, field) +                \
				sizeof((ops)->field) &&                       \
	 (ops)->field)

int store_set(const struct jg_store_ops *ops, void *instance, char *err,
	      size_t errlen)
{
	if (ops && (!HAS_OP(ops, append) || !HAS_OP(ops, read_record) ||
		    !HAS_OP(ops, put) || !HAS_OP(ops, get) ||
		    !HAS_OP(ops, list) || !HAS_OP(ops, watch) ||
		    !HAS_OP(ops, unwatch))) {
		if (err && errlen)
			snprintf(err, errlen,
				 "store plugin lacks a required operation");
		return JG_ERROR;
	}
	__atomic_store_n(&S_inst, instance, __ATOMIC_RELEASE);
	__atomic_store_n(&S_ops, ops, __ATOMIC_RELEASE);
	return JG_OK;
}

static const struct jg_store_ops *ops_now(void **inst)
{
	const struct jg_store_ops *o = __atomic_load_n(&S_ops, __ATOMIC_ACQUIRE);
	*inst = __atomic_load_n(&S_inst, __ATOMIC_ACQUIRE);
	return o;
}

int store_configured(void)
{
	void *inst;
	return ops_now(&inst) != NULL;
}

int store_append(struct jg_loop *l, const char *sid, const char *event,
		 int durable, jg_store_cb cb, void *ud)
{
	void *inst;
	const struct jg_store_ops *o = ops_now(&inst);
	return o ? o->append(inst, l, sid, event, durable, cb, ud) : JG_ERROR;
}

int store_close_record(struct jg_loop *l, const char *sid, jg_store_cb cb,
		       void *ud)
{
	void *inst;
	const struct jg_store_ops *o = ops_now(&inst);
	if (!o)
		return JG_ERROR;
	if (!HAS_OP(o, close_record))
		return JG_OK; /* nothing to release */
	return o->close_record(inst, l, sid, cb, ud);
}

int store_read_record(struct jg_loop *l, const char *sid, jg_store_cb cb,
		      void *ud)
{
	void *inst;
	const struct jg_store_ops *o = ops_now(&inst);
	return o ? o->read_record(inst, l, sid, cb, ud) : JG_ERROR;
}

int store_list_records(struct jg_loop *l, jg_store_cb cb, void *ud)
{
	void *inst;
	const struct jg_store_ops *o = ops_now(&inst);
	if (!o || !HAS_OP(o, list_records))
		return JG_ERROR;
	return o->list_records(inst, l, cb, ud);
}

int store_put(struct jg_loop *l, const char *collection, const char *id,
	      const char *doc, uint64_t expect_version, jg_store_cb cb,
	      void *ud)
{
	void *inst;
	const struct jg_store_ops *o = ops_now(&inst);
	return o ? o->put(inst, l, collection, id, doc, expect_version, cb, ud)
		 : JG_ERROR;
}

int store_get(struct jg_loop *l, const char *collection, const char *id,
	      jg_store_cb cb, void *ud)
{
	void *inst;
	const struct jg_store_ops *o = ops_now(&inst);
	return o ? o->get(inst, l, collection, id, cb, ud) : JG_ERROR;
}

int store_list(struct jg_loop *l, const char *collection, jg_store_cb cb,
	       void *ud)
{
	void *inst;
	const struct jg_store_ops *o = ops_now(&inst);
	return o ? o->list(inst, l, collection, cb, ud) : JG_ERROR;
}

int store_remove(struct jg_loop *l, const char *collection, const char *id,
		 uint64_t expect_version, jg_store_cb cb, void *ud)
{
	void *inst;
	const struct jg_store_ops *o = ops_now(&inst);
	if (!o || !HAS_OP(o, remove))
		return JG_ERROR;
	return o->remove(inst, l, collection, id, expect_version, cb, ud);
}

/*
 * Watch dispatch: one plugin watch per thread (its loop), shared by that
 * thread's subscribers; a change is handed to those whose collection and
 * id match.  Everything here runs on the subscriber's own thread.
 */
struct store_sub {
	char collection[32];
	char *id; /* NULL: any */
	jg_store_watch_cb cb;
	void *ud;
	struct store_sub *next;
};

static __thread struct {
	struct jg_loop *loop;
	void *handle;
	const struct jg_store_ops *ops; /* the store the handle belongs to */
	void *inst;
	struct store_sub *subs;
	int dispatching;
	int removed; /* a sub was removed while dispatching */
} W;

static void dispatch(void *ud, const char *collection, const char *id,
		     uint64_t version)
{
	(void)ud;
	W.dispatching++;
	for (struct store_sub *s = W.subs; s; s = s->next) {
		if (!s->cb || strcmp(s->collection, collection) != 0)
			continue;
		if (id && s->id && strcmp(s->id, id) != 0)
			continue;
		s->cb(s->ud, collection, id, version);
	}
	if (--W.dispatching == 0 && W.removed) {
		/* Free the subscribers unwatched during the calls above. */
		struct store_sub **p = &W.subs;
		while (*p) {
			struct store_sub *s = *p;
			if (s->cb) {
				p = &s->next;
				continue;
			}
			*p = s->next;
			free(s->id);
			free(s);
		}
		W.removed = 0;
	}
}

/* Make sure this thread's plugin watch exists on the current store. */
static int ensure_watch(struct jg_loop *l)
{
	void *inst;
	const struct jg_store_ops *o = ops_now(&inst);

	if (!o)
		return -1;
	if (W.handle && W.ops == o && W.inst == inst)
		return 0;
	if (W.handle)
		W.ops->unwatch(W.inst, W.handle);
	W.handle = o->watch(inst, l, dispatch, NULL);
	W.ops = o;
	W.inst = inst;
	W.loop = l;
	return W.handle ? 0 : -1;
}

struct store_sub *store_watch(struct jg_loop *l, const char *collection,
			      const char *id, jg_store_watch_cb cb, void *ud)
{
	struct store_sub *s;

	if (!collection || strlen(collection) >= sizeof(s->collection) ||
	    ensure_watch(l) < 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s || (id && !(s->id = strdup(id)))) {
		free(s);
		return NULL;
	}
	strcpy(s->collection, collection);
	s->cb = cb;
	s->ud = ud;
	s->next = W.subs;
	W.subs = s;
	return s;
}

void store_unwatch(struct store_sub *sub)
{
	struct store_sub **p;

	if (!sub)
		return;
	if (W.dispatching) {
		sub->cb = NULL; /* freed when dispatch returns */
		W.removed = 1;
		return;
	}
	for (p = &W.subs; *p; p = &(*p)->next) {
		if (*p == sub) {
			*p = sub->next;
			break;
		}
	}
	free(sub->id);
	free(sub);
	if (!W.subs && W.handle) {
		W.ops->unwatch(W.inst, W.handle);
		W.handle = NULL;
	}
}

/*
 * Read-modify-write with the version check (see store.h): get, let fn
 * change the document, put it back expecting the version read; when
 * another gateway changed it in between, read again and retry.
 */
#define MODIFY_TRIES 8

struct modify {
	struct jg_loop *loop;
	char collection[32];
	char *id;
	char *out; /* the document being put */
	store_modify_fn fn;
	jg_store_cb done;
	void *ud;
	int tries;
};

static void modify_get(struct modify *m);

static void modify_finish(struct modify *m, int status, const char *doc,
			  uint64_t version, const char *err)
{
	m->done(m->ud, status, doc, version, err);
	free(m->out);
	free(m->id);
	free(m);
}

static void modify_put_done(void *ud, int status, const char *doc,
			    uint64_t version, const char *err)
{
	struct modify *m = ud;

	(void)doc;
	if (status == JG_DECLINED && ++m->tries < MODIFY_TRIES) {
		free(m->out);
		m->out = NULL;
		modify_get(m); /* changed elsewhere meanwhile: again */
		return;
	}
	if (status == JG_DECLINED)
		modify_finish(m, JG_ERROR, NULL, 0,
			      "the document keeps changing; try again");
	else
		modify_finish(m, status, status == JG_OK ? m->out : NULL,
			      version, err);
}

static void modify_got(void *ud, int status, const char *doc,
		       uint64_t version, const char *err)
{
	struct modify *m = ud;
	int rc;

	if (status == JG_ERROR) {
		modify_finish(m, JG_ERROR, NULL, 0, err);
		return;
	}
	if (status != JG_OK) {
		doc = NULL;
		version = 0;
	}
	rc = m->fn(m->ud, doc, version, &m->out);
	if (rc != JG_OK || !m->out) {
		/* fn refused, or has nothing to change: done as stored */
		modify_finish(m, rc == JG_OK ? JG_DECLINED : rc, doc, version,
			      NULL);
		return;
	}
	if (store_put(m->loop, m->collection, m->id, m->out, version,
		      modify_put_done, m) != JG_AGAIN)
		modify_finish(m, JG_ERROR, NULL, 0, "the store refused");
}

static void modify_get(struct modify *m)
{
	if (store_get(m->loop, m->collection, m->id, modify_got, m) !=
	    JG_AGAIN)
		modify_finish(m, JG_ERROR, NULL, 0, "the store refused");
}

int store_modify(struct jg_loop *l, const char *collection, const char *id,
		 store_modify_fn fn, jg_store_cb done, void *ud)
{
	struct modify *m;

	if (!store_configured() || !collection ||
	    strlen(collection) >= sizeof(m->collection) || !id)
		return JG_ERROR;
	m = calloc(1, sizeof(*m));
	if (!m || !(m->id = strdup(id))) {
		free(m);
		return JG_ERROR;
	}
	m->loop = l;
	strcpy(m->collection, collection);
	m->fn = fn;
	m->done = done;
	m->ud = ud;
	/* done runs later in every case, never inside this call */
	if (store_get(l, collection, id, modify_got, m) != JG_AGAIN) {
		free(m->id);
		free(m);
		return JG_ERROR;
	}
	return JG_AGAIN;
}

/*
 * Following a collection (see store.h): read it all, then every change.
 */
static void follow_listed(void *ud, int status, const char *doc,
			  uint64_t version, const char *err)
{
	struct store_follow *f = ud;
	struct json_object *a = doc ? json_tokener_parse(doc) : NULL;
	size_t n = 0;

	(void)version;
	f->listing = 0;
	if (status != JG_OK || !json_object_is_type(a, json_type_array)) {
		json_object_put(a);
		if (f->listed)
			f->listed(n, err ? err : "the store gave no list");
		return; /* store_follow_retry() tries again */
	}
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *it = json_object_array_get_idx(a, i), *d,
				   *v;

		if (json_object_object_get_ex(it, "doc", &d) &&
		    json_object_object_get_ex(it, "version", &v)) {
			f->doc(json_object_to_json_string_ext(
				       d, JSON_C_TO_STRING_PLAIN),
			       (uint64_t)json_object_get_int64(v));
			n++;
		}
	}
	json_object_put(a);
	if (f->listed && !f->loaded)
		f->listed(n, NULL);
	f->loaded = 1;
}

static void follow_list(struct store_follow *f)
{
	if (f->listing || !store_configured())
		return;
	f->listing = 1;
	if (store_list(f->loop, f->collection, follow_listed, f) != JG_AGAIN)
		f->listing = 0;
}

static void follow_got(void *ud, int status, const char *doc,
		       uint64_t version, const char *err)
{
	struct store_follow *f = ud;

	(void)err;
	if (status == JG_OK && doc)
		f->doc(doc, version);
}

static void follow_changed(void *ud, const char *collection, const char *id,
			   uint64_t version)
{
	struct store_follow *f = ud;

	(void)collection;
	if (!id)
		follow_list(f); /* the store may have missed changes */
	else if (version && (!f->want || f->want(id, version)))
		store_get(f->loop, f->collection, id, follow_got, f);
}

int store_follow_start(struct store_follow *f, struct jg_loop *l)
{
	store_follow_stop(f);
	f->loop = l;
	f->loaded = !store_configured();
	if (f->loaded)
		return 0;
	f->sub = store_watch(l, f->collection, NULL, follow_changed, f);
	follow_list(f);
	return f->sub ? 0 : -1;
}

void store_follow_retry(struct store_follow *f)
{
	if (!f->loaded)
		follow_list(f);
}

void store_follow_stop(struct store_follow *f)
{
	store_unwatch(f->sub);
	f->sub = NULL;
}
