/*
 * The core's access to the configured store plugin: asynchronous
 * wrappers over its operations (used by grants, reviews and the
 * recorder) and a watch dispatch, so many waiters on one worker share a
 * single plugin watch and each hears only the documents it asked about.
 *
 * The runtime calls store_set() after it has created the store plugin's
 * instance (and again after a reload).  Every wrapper returns JG_AGAIN
 * and calls cb later on loop l, or returns JG_ERROR at once when no store
 * is configured or the plugin refused the call (fail closed).
 */
#ifndef JG_STORE_H
#define JG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <jitgate/store.h>

/* Install the store (NULL ops: none).  Returns JG_ERROR if the ops table
 * lacks a required operation.  Not thread-safe: call before workers run
 * or from the main thread during a reload. */
int store_set(const struct jg_store_ops *ops, void *instance, char *err,
	      size_t errlen);
/* Non-zero when a store is configured. */
int store_configured(void);

int store_append(struct jg_loop *l, const char *sid, const char *event,
		 int durable, jg_store_cb cb, void *ud);
int store_close_record(struct jg_loop *l, const char *sid, jg_store_cb cb,
		       void *ud);
int store_read_record(struct jg_loop *l, const char *sid, jg_store_cb cb,
		      void *ud);
int store_list_records(struct jg_loop *l, jg_store_cb cb, void *ud);
int store_put(struct jg_loop *l, const char *collection, const char *id,
	      const char *doc, uint64_t expect_version, jg_store_cb cb,
	      void *ud);
int store_get(struct jg_loop *l, const char *collection, const char *id,
	      jg_store_cb cb, void *ud);
int store_list(struct jg_loop *l, const char *collection, jg_store_cb cb,
	       void *ud);
int store_remove(struct jg_loop *l, const char *collection, const char *id,
		 uint64_t expect_version, jg_store_cb cb, void *ud);

/*
 * Call cb on loop l (the calling thread's loop) whenever document id of
 * collection changes on any gateway sharing the store; id NULL: any
 * document of the collection.  cb also runs with id NULL when the store
 * may have missed changes (re-read then).  Returns a handle for
 * store_unwatch(), called on the same thread; NULL on failure.
 */
struct store_sub;
struct store_sub *store_watch(struct jg_loop *l, const char *collection,
			      const char *id, jg_store_watch_cb cb, void *ud);
void store_unwatch(struct store_sub *sub);

#endif /* JG_STORE_H */
