/*
 * store-file session records (see sf_records.h).
 */
#include "sf_records.h"
#include "sf_frame.h"
#include "sf_state.h"
#include "record_buf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define REC_SUFFIX ".rec"

/* The characters of an id (see store.h), by table: every operation
 * checks its id on the caller's thread. */
static const unsigned char id_char[256] = {
	['a' ... 'z'] = 1, ['A' ... 'Z'] = 1, ['0' ... '9'] = 1,
	['.'] = 1, ['_'] = 1, [':'] = 1, ['-'] = 1,
};

size_t sf_id_scan(const char *id, uint64_t *hash)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	size_t n;

	if (!id || id[0] == '.')
		return 0;
	for (n = 0; id[n]; n++) {
		unsigned char c = (unsigned char)id[n];
		if (n >= 128 || !id_char[c])
			return 0;
		h = (h ^ c) * 1099511628211ull;
	}
	*hash = h;
	return n;
}

int sf_id_valid(const char *id)
{
	uint64_t h;
	return sf_id_scan(id, &h) != 0;
}

static size_t hash_sid(const char *s)
{
	size_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct sf_rec **rec_slot(struct sf_records *r, const char *sid)
{
	struct sf_rec **p = &r->buckets[hash_sid(sid) & (r->nbuckets - 1)];
	while (*p && strcmp((*p)->sid, sid) != 0)
		p = &(*p)->next;
	return p;
}

int sf_records_init(struct sf_records *r, const char *dir, size_t max_open)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	r->nbuckets = 1024;
	r->max_open = max_open ? max_open : 256;
	r->buckets = calloc(r->nbuckets, sizeof(*r->buckets));
	return r->buckets ? 0 : -1;
}

static void rec_free(struct sf_rec *rec)
{
	if (rec->fd >= 0)
		close(rec->fd);
	free(rec->sid);
	free(rec->failed);
	free(rec);
}

void sf_records_fini(struct sf_records *r)
{
	for (size_t i = 0; i < r->nbuckets; i++) {
		struct sf_rec *rec = r->buckets[i], *next;
		for (; rec; rec = next) {
			next = rec->next;
			if (rec->dirty)
				fsync(rec->fd);
			rec_free(rec);
		}
	}
	free(r->buckets);
	r->buckets = NULL;
}

static int rec_path(const struct sf_records *r, const char *sid, char *out,
		    size_t n)
{
	return snprintf(out, n, "%s/%s" REC_SUFFIX, r->dir, sid) < (int)n
		       ? 0
		       : -1;
}

static int is_rec_name(const char *name, char *sid, size_t n)
{
	size_t len = strlen(name), sl = strlen(REC_SUFFIX);

	if (len <= sl || len - sl >= n ||
	    strcmp(name + len - sl, REC_SUFFIX) != 0)
		return 0;
	memcpy(sid, name, len - sl);
	sid[len - sl] = '\0';
	return sf_id_valid(sid);
}

void sf_records_recover(struct sf_records *r,
			void (*warn)(void *ud, const char *path, size_t off,
				     int torn),
			void *ud)
{
	DIR *d = opendir(r->dir);
	struct dirent *e;
	char sid[256], path[4500];

	if (!d)
		return;
	while ((e = readdir(d))) {
		char *buf;
		size_t len;
		struct sf_scan scan;
		if (!is_rec_name(e->d_name, sid, sizeof(sid)) ||
		    rec_path(r, sid, path, sizeof(path)) < 0 ||
		    sf_read_file(path, &buf, &len) < 0)
			continue;
		sf_scan(buf, len, NULL, NULL, &scan);
		free(buf);
		if (scan.torn) {
			/* A crash cut the last write short: keep every whole
			 * frame before it. */
			if (truncate(path, (off_t)scan.good_end) == 0) {
				int fd = open(path, O_WRONLY | O_CLOEXEC);
				if (fd >= 0) {
					fsync(fd);
					close(fd);
				}
			}
			warn(ud, path, scan.good_end, 1);
		} else if (scan.corrupt) {
			warn(ud, path, scan.bad_offset, 0);
		}
	}
	closedir(d);
}

static struct sf_rec *rec_open(struct sf_records *r, const char *sid,
			       char *err, size_t errlen)
{
	struct sf_rec **p = rec_slot(r, sid), *rec = *p;
	char path[4500];
	struct stat st;

	if (rec)
		return rec;
	if (rec_path(r, sid, path, sizeof(path)) < 0) {
		snprintf(err, errlen, "record path too long");
		return NULL;
	}
	int existed = stat(path, &st) == 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open record %s: %s", sid,
			 strerror(errno));
		return NULL;
	}
	rec = calloc(1, sizeof(*rec));
	if (!rec || !(rec->sid = strdup(sid))) {
		free(rec);
		close(fd);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rec->fd = fd;
	rec->next = *p;
	*p = rec;
	r->count++;
	if (!existed)
		r->dir_dirty = 1;
	return rec;
}

struct sf_rec *sf_records_append_group(struct sf_records *r, const char *sid,
					const char *const *events,
					const size_t *lens, size_t n,
					uint64_t batch, char *err,
					size_t errlen)
{
	struct sf_rec *rec = rec_open(r, sid, err, errlen);

	if (!rec)
		return NULL;
	rec->used = batch;
	if (rec->failed) {
		/* Writing after a lost event would leave a gap in the
		 * chain: the record stays a clean prefix instead. */
		snprintf(err, errlen, "record %s failed earlier: %s", sid,
			 rec->failed);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		if (memchr(events[i], '\n', lens[i])) {
			snprintf(err, errlen, "event holds a raw newline");
			return NULL;
		}
	}
	if (sf_write_frames(rec->fd, events, lens, n) < 0) {
		snprintf(err, errlen, "cannot write record %s: %s", sid,
			 strerror(errno));
		rec->failed = strdup(strerror(errno));
		return NULL;
	}
	rec->dirty = 1;
	return rec;
}

struct sf_rec *sf_records_append(struct sf_records *r, const char *sid,
				 const char *event, uint64_t batch, char *err,
				 size_t errlen)
{
	size_t len = strlen(event);
	return sf_records_append_group(r, sid, &event, &len, 1, batch, err,
				       errlen);
}

int sf_records_sync(struct sf_records *r, int need_only)
{
	int failures = 0;

	if (r->dir_dirty) {
		if (sf_sync_dir(r->dir) < 0)
			failures++;
		r->dir_dirty = 0;
	}
	for (size_t i = 0; i < r->nbuckets; i++) {
		for (struct sf_rec *rec = r->buckets[i]; rec; rec = rec->next) {
			if (!rec->dirty || (need_only && !rec->need_sync))
				continue;
			if (fsync(rec->fd) < 0) {
				if (!rec->failed)
					rec->failed = strdup(strerror(errno));
				failures++;
			}
			rec->dirty = 0;
			rec->need_sync = 0;
		}
	}
	return failures;
}

int sf_records_close(struct sf_records *r, const char *sid, int do_fsync)
{
	struct sf_rec **p = rec_slot(r, sid), *rec = *p;
	int rc = 0;

	if (!rec)
		return 0;
	if (rec->dirty && do_fsync && fsync(rec->fd) < 0)
		rc = -1;
	*p = rec->next;
	r->count--;
	rec_free(rec);
	return rc;
}

void sf_records_trim(struct sf_records *r, uint64_t batch, int do_fsync)
{
	if (r->count <= r->max_open)
		return;
	/* Close records idle for a while; they reopen on the next append. */
	for (size_t i = 0; i < r->nbuckets && r->count > r->max_open / 2;
	     i++) {
		struct sf_rec **p = &r->buckets[i];
		while (*p) {
			struct sf_rec *rec = *p;
			if (rec->used + 16 > batch || rec->failed) {
				p = &rec->next;
				continue;
			}
			if (rec->dirty && do_fsync)
				fsync(rec->fd);
			*p = rec->next;
			r->count--;
			rec_free(rec);
		}
	}
}

static int read_frame(void *ud, const char *payload, size_t len, size_t i)
{
	struct rbuf *a = ud;
	if (i)
		rbuf_put(a, ",", 1);
	rbuf_put(a, payload, len);
	return 0;
}

char *sf_records_read(struct sf_records *r, const char *sid, int *absent,
		      char *err, size_t errlen)
{
	char path[4500], *buf;
	size_t len;
	struct sf_scan scan;
	struct rbuf a = {0};

	*absent = 0;
	if (rec_path(r, sid, path, sizeof(path)) < 0 ||
	    sf_read_file(path, &buf, &len) < 0) {
		*absent = errno == ENOENT;
		snprintf(err, errlen, "cannot read record %s: %s", sid,
			 strerror(errno));
		return NULL;
	}
	rbuf_put(&a, "[", 1);
	sf_scan(buf, len, read_frame, &a, &scan);
	free(buf);
	rbuf_put(&a, "]", 1);
	if (scan.corrupt && !a.oom) {
		snprintf(err, errlen,
			 "record %s is damaged after event %zu (byte %zu)", sid,
			 scan.frames, scan.bad_offset);
		free(a.p);
		return NULL;
	}
	if (a.oom) {
		snprintf(err, errlen, "out of memory");
		free(a.p);
		return NULL;
	}
	return a.p;
}

struct ent {
	char sid[160];
	int64_t size;
	int64_t mtime_ms;
};

static int by_mtime(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	if (x->mtime_ms != y->mtime_ms)
		return x->mtime_ms < y->mtime_ms ? -1 : 1;
	return strcmp(x->sid, y->sid);
}

/* Every record file, oldest first. */
static struct ent *scan_dir(struct sf_records *r, size_t *n)
{
	DIR *d = opendir(r->dir);
	struct dirent *e;
	struct ent *v = NULL;
	size_t cap = 0;
	char path[4500];

	*n = 0;
	if (!d)
		return NULL;
	while ((e = readdir(d))) {
		struct stat st;
		char sid[160];
		if (!is_rec_name(e->d_name, sid, sizeof(sid)) ||
		    rec_path(r, sid, path, sizeof(path)) < 0 ||
		    stat(path, &st) < 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			struct ent *nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		snprintf(v[*n].sid, sizeof(v[*n].sid), "%s", sid);
		v[*n].size = st.st_size;
		v[*n].mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 +
				 st.st_mtim.tv_nsec / 1000000;
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(v, *n, sizeof(*v), by_mtime);
	return v;
}

char *sf_records_list(struct sf_records *r)
{
	size_t n;
	struct ent *v = scan_dir(r, &n);
	struct rbuf a = {0};
	char line[400];

	rbuf_put(&a, "[", 1);
	for (size_t i = 0; i < n; i++) {
		int l = snprintf(line, sizeof(line),
				 "%s{\"id\":\"%s\",\"size\":%lld,\"events\":-1,"
				 "\"updated\":%lld}",
				 i ? "," : "", v[i].sid, (long long)v[i].size,
				 (long long)v[i].mtime_ms);
		rbuf_put(&a, line, (size_t)l);
	}
	rbuf_put(&a, "]", 1);
	free(v);
	if (a.oom) {
		free(a.p);
		return NULL;
	}
	return a.p;
}

size_t sf_records_retain(struct sf_records *r, int64_t max_age_ms,
			 int64_t max_bytes, int64_t now_ms)
{
	size_t n, deleted = 0;
	struct ent *v = scan_dir(r, &n);
	int64_t total = 0;
	char path[4500];

	for (size_t i = 0; i < n; i++)
		total += v[i].size;
	for (size_t i = 0; i < n; i++) {
		int old = max_age_ms > 0 && now_ms - v[i].mtime_ms > max_age_ms;
		int big = max_bytes > 0 && total > max_bytes;
		if (!old && !big)
			continue;
		/* Open records belong to live sessions: never delete them. */
		if (*rec_slot(r, v[i].sid))
			continue;
		if (rec_path(r, v[i].sid, path, sizeof(path)) == 0 &&
		    unlink(path) == 0) {
			total -= v[i].size;
			deleted++;
		}
	}
	free(v);
	return deleted;
}
