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
 * Change one document safely while other gateways may change it too:
 * get it, call fn with the stored document (NULL and version 0 when
 * absent), put what fn wrote to *out (malloc'd) expecting the version
 * read, and retry from the get when the version moved meanwhile.  fn
 * returns JG_OK (put *out; no *out: nothing to change), JG_DECLINED or
 * JG_ERROR (stop; done gets that status and the stored document).
 * fn may run several times.  done gets JG_OK with the document put and
 * its new version, JG_DECLINED/JG_ERROR otherwise; it runs on l, never
 * inside this call.  Returns JG_AGAIN, or JG_ERROR at once (no store).
 */
typedef int (*store_modify_fn)(void *ud, const char *doc, uint64_t version,
			       char **out);
int store_modify(struct jg_loop *l, const char *collection, const char *id,
		 store_modify_fn fn, jg_store_cb done, void *ud);

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

/*
 * Follow a collection on loop l: every stored document is handed to doc
 * (the list at start, then each change any gateway makes, and the list
 * again after the store may have missed changes).  want (may be NULL)
 * says whether a change to id at version is worth reading.  listed tells
 * how the first list went (err NULL: n documents); loaded is set once it
 * worked.  Call store_follow_retry() now and then until loaded; stop
 * before the store goes away.  Start returns -1 when no watch could be
 * made (changes elsewhere are then not seen).  All on l's thread.
 */
struct store_follow {
	const char *collection;
	void (*doc)(const char *json, uint64_t version);
	int (*want)(const char *id, uint64_t version);
	void (*listed)(size_t n, const char *err);
	/* state */
	struct jg_loop *loop;
	struct store_sub *sub;
	int loaded, listing;
};
int store_follow_start(struct store_follow *f, struct jg_loop *l);
void store_follow_retry(struct store_follow *f);
void store_follow_stop(struct store_follow *f);

#endif /* JG_STORE_H */
