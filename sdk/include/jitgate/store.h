/*
 * jitgate plugin SDK: store plugins (embedded files, PostgreSQL).
 *
 * A store keeps session records (append-only event streams) and the state
 * decisions depend on (grants, reviews, sessions) as JSON documents with a
 * version for optimistic updates.  Every operation is asynchronous from
 * the caller's side: it returns JG_AGAIN and later calls the callback on
 * the loop given, or returns JG_OK/JG_ERROR at once.  No event loop ever
 * blocks on the store's disk or network I/O.
 *
 * Threads: operations may be called from any thread; cb runs on loop l
 * (the caller's loop, passed with each call), never inside the call.
 * Operations on one record (same sid) complete in the order they were
 * called.  A store keeps an instance usable from all workers at once.
 *
 * Statuses given to cb: JG_OK done; JG_DECLINED the document does not
 * exist (get, remove) or the version check failed (put, remove: version
 * is then the stored version, 0 if absent); JG_ERROR the store failed,
 * err says why in words (never with a secret in them).
 *
 * Identifiers: sid and document ids are 1-128 characters of
 * [A-Za-z0-9._:-], not starting with '.'; a store refuses others with
 * JG_ERROR.  Collections are "grants", "reviews" and "sessions".
 */
#ifndef JITGATE_STORE_H
#define JITGATE_STORE_H

#include <jitgate/host.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Completion of a store operation.  doc is JSON or NULL. */
typedef void (*jg_store_cb)(void *ud, int status, const char *doc,
			    uint64_t version, const char *err);

/**
 * One change seen by watch(): a document of collection now has version
 * (0: removed).  id NULL means the store may have missed changes (it
 * reconnected): re-read the collection.
 */
typedef void (*jg_store_watch_cb)(void *ud, const char *collection,
				  const char *id, uint64_t version);

/** Operations of a JG_KIND_STORE plugin (descriptor ops). */
struct jg_store_ops {
	uint32_t size; /**< sizeof(struct jg_store_ops) at build time */

	/**
	 * Append one event (JSON object, already hash-chained and redacted
	 * by the core) to session sid's record.  durable non-zero: the event
	 * must be on stable storage before cb reports JG_OK.
	 */
	int (*append)(void *instance, struct jg_loop *l, const char *sid,
		      const char *event_json, int durable, jg_store_cb cb,
		      void *ud);

	/** Read session sid's record as a JSON array of events. */
	int (*read_record)(void *instance, struct jg_loop *l, const char *sid,
			   jg_store_cb cb, void *ud);

	/**
	 * Put document id into collection ("grants", "reviews", "sessions").
	 * expect_version 0: create (fails if it exists); otherwise update
	 * only if the stored version equals it.  cb gets the new version.
	 */
	int (*put)(void *instance, struct jg_loop *l, const char *collection,
		   const char *id, const char *doc_json,
		   uint64_t expect_version, jg_store_cb cb, void *ud);

	/** Get document id; cb gets JG_DECLINED if absent. */
	int (*get)(void *instance, struct jg_loop *l, const char *collection,
		   const char *id, jg_store_cb cb, void *ud);

	/** List a collection: cb gets a JSON array of {id,version,doc}. */
	int (*list)(void *instance, struct jg_loop *l, const char *collection,
		    jg_store_cb cb, void *ud);

	/**
	 * Call cb on loop l for every change to the collections made by any
	 * gateway sharing this store, until unwatch.  Returns a handle.
	 */
	void *(*watch)(void *instance, struct jg_loop *l,
		       jg_store_watch_cb cb, void *ud);

	/** Stop a watch.  Call on the watch's loop; no cb runs after it. */
	void (*unwatch)(void *instance, void *handle);

	/**
	 * Remove document id if its version equals expect_version (0: any).
	 * cb gets JG_DECLINED if absent or the version differs.
	 */
	int (*remove)(void *instance, struct jg_loop *l, const char *collection,
		      const char *id, uint64_t expect_version, jg_store_cb cb,
		      void *ud);

	/**
	 * Session sid's record is complete (sealed): the store may release
	 * what it keeps open for it.  The core appends nothing to sid
	 * afterwards; a store need not refuse it (the bundled ones do not),
	 * since a record's verification reports any event after its seal.
	 * cb may be NULL.  Completes after every earlier append of sid.
	 */
	int (*close_record)(void *instance, struct jg_loop *l, const char *sid,
			    jg_store_cb cb, void *ud);

	/**
	 * List records: cb gets a JSON array of {"id": sid, "size": bytes,
	 * "events": n or -1 if unknown, "updated": unix ms}, oldest first.
	 */
	int (*list_records)(void *instance, struct jg_loop *l, jg_store_cb cb,
			    void *ud);
};

#ifdef __cplusplus
}
#endif

#endif /* JITGATE_STORE_H */
