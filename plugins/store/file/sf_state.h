/*
 * store-file state: one collection (grants, reviews, sessions) is an
 * append-only log of versioned documents, state/NAME.log, replayed into a
 * hash table at start and compacted (rewritten with only live documents)
 * at start and when dead entries outnumber live ones.
 *
 * Log frame payload: {"id":"...","v":N,"doc":{...}}; doc null = removed.
 *
 * Single-threaded: only the store's I/O thread touches a collection.
 */
#ifndef SF_STATE_H
#define SF_STATE_H

#include <stddef.h>
#include <stdint.h>

struct sf_doc {
	char *id;
	uint64_t version;
	char *doc; /* JSON text; NULL: removed (a tombstone keeps version) */
	struct sf_doc *next;
};

struct sf_coll {
	char name[16];
	char path[4096];
	int fd;             /* log, open for append */
	struct sf_doc **buckets;
	size_t nbuckets;
	size_t live;        /* documents not removed */
	size_t frames;      /* frames in the log */
	int dirty;          /* written since the last fsync */
};

/* Load (cutting a torn tail), compact and open dir/NAME.log.  Damage in
 * the middle of the log is an error: the store refuses to start. */
int sf_coll_open(struct sf_coll *c, const char *dir, const char *name,
		 char *err, size_t errlen);
void sf_coll_close(struct sf_coll *c);

/* The live document id, or NULL. */
const struct sf_doc *sf_coll_get(const struct sf_coll *c, const char *id);

/*
 * Store doc (JSON text) as id if the version matches (see store.h).
 * Returns JG_OK with *version set, JG_DECLINED (version mismatch; *version
 * is the stored one) or JG_ERROR with err.  The log is written but not
 * fsynced: sf_coll_sync() does that for a whole batch.
 */
int sf_coll_put(struct sf_coll *c, const char *id, const char *doc,
		uint64_t expect, uint64_t *version, char *err, size_t errlen);
int sf_coll_remove(struct sf_coll *c, const char *id, uint64_t expect,
		   uint64_t *version, char *err, size_t errlen);

/* JSON array [{"id":..,"version":N,"doc":{..}}, ...]; malloc'd. */
char *sf_coll_list(const struct sf_coll *c);

/* Rewrite the log with only live documents (tmp file, fsync, rename). */
int sf_coll_compact(struct sf_coll *c, char *err, size_t errlen);
/* Compact when the log holds many more frames than live documents. */
int sf_coll_maybe_compact(struct sf_coll *c, char *err, size_t errlen);

/* fsync the log if written since the last sync.  -1 with errno. */
int sf_coll_sync(struct sf_coll *c);

/* Write all of buf to fd; on failure cut fd back to its old size so no
 * half frame stays behind.  -1 with errno. */
int sf_write_frame(int fd, const char *payload, size_t len);

/* Write n (at most SF_MAX_GROUP) frames with one writev: all of them, or
 * none (cut back as above).  -1 with errno. */
#define SF_MAX_GROUP 128
int sf_write_frames(int fd, const char *const *payload, const size_t *len,
		    size_t n);

/* fsync a directory (after creating or renaming a file in it). */
int sf_sync_dir(const char *dir);

#endif /* SF_STATE_H */
