/*
 * Core access to the store plugin (see store.h).
 */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
