/*
 * store-file state collections: versioned documents in an append-only
 * log, replayed into a hash table (see sf_state.h).
 */
#include "sf_state.h"
#include "sf_frame.h"
#include "record_buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <json-c/json.h>

#include <jitgate/jitgate.h>

static size_t hash_id(const char *s)
{
	size_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct sf_doc **slot(const struct sf_coll *c, const char *id)
{
	struct sf_doc **p = &c->buckets[hash_id(id) & (c->nbuckets - 1)];
	while (*p && strcmp((*p)->id, id) != 0)
		p = &(*p)->next;
	return p;
}

static int grow(struct sf_coll *c)
{
	size_t n = c->nbuckets ? c->nbuckets * 2 : 64;
	struct sf_doc **b = calloc(n, sizeof(*b));

	if (!b)
		return -1;
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct sf_doc *d = c->buckets[i], *next;
		for (; d; d = next) {
			next = d->next;
			struct sf_doc **h = &b[hash_id(d->id) & (n - 1)];
			d->next = *h;
			*h = d;
		}
	}
	free(c->buckets);
	c->buckets = b;
	c->nbuckets = n;
	return 0;
}

/* Set id to (version, doc) in memory; doc NULL marks it removed. */
static int set_doc(struct sf_coll *c, const char *id, uint64_t version,
		   const char *doc)
{
	struct sf_doc **p, *d;
	char *copy;

	if (c->live >= c->nbuckets && grow(c) < 0)
		return -1;
	p = slot(c, id);
	d = *p;
	copy = doc ? strdup(doc) : NULL;

	if (doc && !copy)
		return -1;
	if (!d) {
		d = calloc(1, sizeof(*d));
		if (!d || !(d->id = strdup(id))) {
			free(d);
			free(copy);
			return -1;
		}
		*p = d;
	} else if (d->doc) {
		c->live--;
	}
	free(d->doc);
	d->doc = copy;
	d->version = version;
	if (copy)
		c->live++;
	return 0;
}

struct load {
	struct sf_coll *c;
	int failed;
};

static int load_frame(void *ud, const char *payload, size_t len, size_t i)
{
	struct load *l = ud;
	struct json_object *o = json_tokener_parse(payload), *id, *v, *doc;
	(void)len;
	(void)i;

	if (!o || !json_object_object_get_ex(o, "id", &id) ||
	    !json_object_object_get_ex(o, "v", &v) ||
	    !json_object_object_get_ex(o, "doc", &doc)) {
		json_object_put(o);
		l->failed = 1;
		return 1;
	}
	const char *text = doc ? json_object_to_json_string_ext(
					 doc, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE)
			       : NULL;
	if (set_doc(l->c, json_object_get_string(id),
		    (uint64_t)json_object_get_int64(v), text) < 0)
		l->failed = 1;
	json_object_put(o);
	l->c->frames++;
	return l->failed;
}

int sf_write_frames(int fd, const char *const *payload, const size_t *len,
		    size_t n)
{
	char hdr[SF_MAX_GROUP][SF_HDR_LEN + 1];
	struct iovec iov[3 * SF_MAX_GROUP];
	size_t total = 0, done = 0, nv = 3 * n, first = 0;

	if (n > SF_MAX_GROUP) {
		errno = EINVAL;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		sf_frame_header(hdr[i], payload[i], len[i]);
		iov[3 * i] = (struct iovec){hdr[i], SF_HDR_LEN};
		iov[3 * i + 1] = (struct iovec){(void *)payload[i], len[i]};
		iov[3 * i + 2] = (struct iovec){"\n", 1};
		total += SF_HDR_LEN + len[i] + 1;
	}
	while (done < total) {
		ssize_t w = writev(fd, iov + first, (int)(nv - first));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = w < 0 ? errno : ENOSPC;
			/* fd is O_APPEND and only this thread writes it: the
			 * frames began done bytes before the end (no lseek
			 * per write on the good path) */
			off_t end = lseek(fd, 0, SEEK_END);
			if (end < (off_t)done ||
			    ftruncate(fd, end - (off_t)done) < 0) {
				/* The torn frame stays; start-up cuts it. */
			}
			errno = e;
			return -1;
		}
		done += (size_t)w;
		/* skip what was written, partly written vectors included */
		for (size_t k = (size_t)w; first < nv && k;) {
			if (k >= iov[first].iov_len) {
				k -= iov[first].iov_len;
				first++;
			} else {
				iov[first].iov_base = (char *)iov[first].iov_base + k;
				iov[first].iov_len -= k;
				k = 0;
			}
		}
	}
	return 0;
}

int sf_write_frame(int fd, const char *payload, size_t len)
{
	return sf_write_frames(fd, &payload, &len, 1);
}

int sf_sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int sf_coll_open(struct sf_coll *c, const char *dir, const char *name,
		 char *err, size_t errlen)
{
	struct sf_scan scan;
	struct load l = {c, 0};
	char *buf = NULL;
	size_t len = 0;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->path, sizeof(c->path), "%s/%s.log", dir, name);
	if (grow(c) < 0)
		goto oom;
	if (sf_read_file(c->path, &buf, &len) < 0) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "cannot read %s: %s", c->path,
				 strerror(errno));
			return JG_ERROR;
		}
		buf = NULL;
		len = 0;
	}
	sf_scan(buf ? buf : "", len, load_frame, &l, &scan);
	free(buf);
	if (l.failed) {
		snprintf(err, errlen, "%s: frame %zu is not a state entry",
			 c->path, scan.frames);
		return JG_ERROR;
	}
	if (scan.corrupt) {
		snprintf(err, errlen,
			 "%s is damaged at byte %zu (good entries follow): "
			 "refusing to start; move it away to recover",
			 c->path, scan.bad_offset);
		return JG_ERROR;
	}
	c->fd = open(c->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (c->fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", c->path,
			 strerror(errno));
		return JG_ERROR;
	}
	if (scan.torn && ftruncate(c->fd, (off_t)scan.good_end) < 0) {
		snprintf(err, errlen, "cannot cut the torn tail of %s: %s",
			 c->path, strerror(errno));
		return JG_ERROR;
	}
	if (c->frames > c->live)
		return sf_coll_compact(c, err, errlen);
	return JG_OK;
oom:
	snprintf(err, errlen, "out of memory");
	return JG_ERROR;
}

void sf_coll_close(struct sf_coll *c)
{
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct sf_doc *d = c->buckets[i], *next;
		for (; d; d = next) {
			next = d->next;
			free(d->id);
			free(d->doc);
			free(d);
		}
	}
	free(c->buckets);
	c->buckets = NULL;
	c->nbuckets = 0;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

const struct sf_doc *sf_coll_get(const struct sf_coll *c, const char *id)
{
	const struct sf_doc *d = *slot(c, id);
	return d && d->doc ? d : NULL;
}

static char *entry(const char *id, uint64_t v, const char *doc)
{
	char *out = NULL;
	if (asprintf(&out, "{\"id\":\"%s\",\"v\":%llu,\"doc\":%s}", id,
		     (unsigned long long)v, doc ? doc : "null") < 0)
		return NULL;
	return out;
}

static int log_entry(struct sf_coll *c, int fd, const char *id, uint64_t v,
		     const char *doc, char *err, size_t errlen)
{
	char *e = entry(id, v, doc);

	if (!e) {
		snprintf(err, errlen, "out of memory");
		return JG_ERROR;
	}
	if (sf_write_frame(fd, e, strlen(e)) < 0) {
		snprintf(err, errlen, "cannot write %s: %s", c->path,
			 strerror(errno));
		free(e);
		return JG_ERROR;
	}
	free(e);
	return JG_OK;
}

int sf_coll_put(struct sf_coll *c, const char *id, const char *doc,
		uint64_t expect, uint64_t *version, char *err, size_t errlen)
{
	struct sf_doc *d = *slot(c, id);
	uint64_t cur = d && d->doc ? d->version : 0;
	struct json_object *o;
	int rc;

	if (cur != expect) {
		*version = cur;
		snprintf(err, errlen, "%s", expect ? "version conflict"
						   : "already exists");
		return JG_DECLINED;
	}
	/* Re-serialise: the log needs one line of valid JSON. */
	o = json_tokener_parse(doc);
	if (!o) {
		snprintf(err, errlen, "document is not valid JSON");
		return JG_ERROR;
	}
	const char *text = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	uint64_t v = (d ? d->version : 0) + 1;
	rc = log_entry(c, c->fd, id, v, text, err, errlen);
	if (rc == JG_OK && set_doc(c, id, v, text) < 0) {
		snprintf(err, errlen, "out of memory");
		rc = JG_ERROR;
	}
	json_object_put(o);
	if (rc == JG_OK) {
		c->frames++;
		c->dirty = 1;
		*version = v;
	}
	return rc;
}

int sf_coll_remove(struct sf_coll *c, const char *id, uint64_t expect,
		   uint64_t *version, char *err, size_t errlen)
{
	struct sf_doc *d = *slot(c, id);
	int rc;

	if (!d || !d->doc || (expect && d->version != expect)) {
		*version = d && d->doc ? d->version : 0;
		snprintf(err, errlen, "%s", d && d->doc ? "version conflict"
							: "no such document");
		return JG_DECLINED;
	}
	rc = log_entry(c, c->fd, id, d->version, NULL, err, errlen);
	if (rc == JG_OK) {
		set_doc(c, id, d->version, NULL);
		c->frames++;
		c->dirty = 1;
		*version = 0;
	}
	return rc;
}

char *sf_coll_list(const struct sf_coll *c)
{
	struct rbuf b = {0};
	char head[200];

	rbuf_put(&b, "[", 1);
	for (size_t i = 0; i < c->nbuckets; i++) {
		for (const struct sf_doc *d = c->buckets[i]; d; d = d->next) {
			if (!d->doc)
				continue;
			snprintf(head, sizeof(head),
				 "%s{\"id\":\"%s\",\"version\":%llu,\"doc\":",
				 b.len > 1 ? "," : "", d->id,
				 (unsigned long long)d->version);
			rbuf_str(&b, head);
			rbuf_str(&b, d->doc);
			rbuf_put(&b, "}", 1);
		}
	}
	rbuf_put(&b, "]", 1);
	return rbuf_take(&b);
}

int sf_coll_compact(struct sf_coll *c, char *err, size_t errlen)
{
	char tmp[4200], dir[4096];
	int fd;
	size_t frames = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", c->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp,
			 strerror(errno));
		return JG_ERROR;
	}
	for (size_t i = 0; i < c->nbuckets; i++) {
		for (struct sf_doc *d = c->buckets[i]; d; d = d->next) {
			if (!d->doc)
				continue;
			if (log_entry(c, fd, d->id, d->version, d->doc, err,
				      errlen) != JG_OK)
				goto fail;
			frames++;
		}
	}
	if (fsync(fd) < 0 || rename(tmp, c->path) < 0) {
		snprintf(err, errlen, "cannot replace %s: %s", c->path,
			 strerror(errno));
		goto fail;
	}
	snprintf(dir, sizeof(dir), "%s", c->path);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	sf_sync_dir(dir);
	/* Tombstones are gone from the file; drop them from memory too. */
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct sf_doc **p = &c->buckets[i];
		while (*p) {
			struct sf_doc *d = *p;
			if (d->doc) {
				p = &d->next;
				continue;
			}
			*p = d->next;
			free(d->id);
			free(d);
		}
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = fd;
	c->frames = frames;
	c->dirty = 0;
	return JG_OK;
fail:
	close(fd);
	unlink(tmp);
	return JG_ERROR;
}

int sf_coll_maybe_compact(struct sf_coll *c, char *err, size_t errlen)
{
	if (c->frames < 1024 || c->frames < 4 * (c->live + 1))
		return JG_OK;
	return sf_coll_compact(c, err, errlen);
}

int sf_coll_sync(struct sf_coll *c)
{
	if (!c->dirty)
		return 0;
	if (fsync(c->fd) < 0)
		return -1;
	c->dirty = 0;
	return 0;
}
