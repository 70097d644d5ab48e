/*
 * store-file session records: one append-only file per session,
 * records/SID.rec, of line frames each holding one event (sf_frame.h).
 *
 * Single-threaded: only the store's I/O thread touches these.
 */
#ifndef SF_RECORDS_H
#define SF_RECORDS_H

#include <stddef.h>
#include <stdint.h>

struct sf_rec {
	char *sid;
	int fd;
	int dirty;        /* written, not yet fsynced */
	int need_sync;    /* a durable append waits for fsync in this batch */
	char *failed;     /* why appends to it fail now, or NULL */
	uint64_t used;    /* batch counter of last use, for closing idle fds */
	struct sf_rec *next;
};

struct sf_records {
	char dir[4096];
	struct sf_rec **buckets;
	size_t nbuckets, count;
	int dir_dirty;    /* a file was created: fsync the directory */
	size_t max_open;
};

int sf_records_init(struct sf_records *r, const char *dir, size_t max_open);
void sf_records_fini(struct sf_records *r);

/* Non-zero if sid is a valid record or document id (see store.h). */
int sf_id_valid(const char *id);
/* The same in one pass that also hashes: id's length if valid (*hash
 * gets its 64-bit FNV-1a), else 0. */
size_t sf_id_scan(const char *id, uint64_t *hash);

/* Cut torn tails of every record file; damage in the middle is logged by
 * the caller through warn (called with the path and offset). */
void sf_records_recover(struct sf_records *r,
			void (*warn)(void *ud, const char *path, size_t off,
				     int torn),
			void *ud);

/* Append n events (at most SF_MAX_GROUP) with one write: all of them or,
 * with err set and NULL returned, none.  Returns the record (for a later
 * fsync). */
struct sf_rec *sf_records_append_group(struct sf_records *r, const char *sid,
					const char *const *events,
					const size_t *lens, size_t n,
					uint64_t batch, char *err,
					size_t errlen);

/* Append one event.  Returns the record (for a later fsync) or NULL with
 * err set. */
struct sf_rec *sf_records_append(struct sf_records *r, const char *sid,
				 const char *event, uint64_t batch, char *err,
				 size_t errlen);

/* fsync what needs it; need_only: only records a durable append marked.
 * Returns the number of failures; each failed record gets ->failed. */
int sf_records_sync(struct sf_records *r, int need_only);

/* Close sid's file (fsync first if dirty).  -1 if it failed. */
int sf_records_close(struct sf_records *r, const char *sid, int do_fsync);

/* Close idle files when more than max_open are open. */
void sf_records_trim(struct sf_records *r, uint64_t batch, int do_fsync);

/* Read sid's record as a JSON array of events (malloc'd), or NULL with
 * err ("no such record" sets *absent). */
char *sf_records_read(struct sf_records *r, const char *sid, int *absent,
		      char *err, size_t errlen);

/* JSON array of {"id","size","events":-1,"updated"} oldest first. */
char *sf_records_list(struct sf_records *r);

/* Delete closed records older than max_age_ms (0: no limit), then the
 * oldest while the total is over max_bytes (0: no limit).  Returns the
 * number deleted. */
size_t sf_records_retain(struct sf_records *r, int64_t max_age_ms,
			 int64_t max_bytes, int64_t now_ms);

#endif /* SF_RECORDS_H */
