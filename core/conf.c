/*
 * Loading one configuration generation: the main file, its includes
 * merged in, the where-index for messages, and the core's own settings.
 *
 * Merge rules for includes (docs/configuration.md): objects merge key by
 * key, arrays append, and a scalar (or a value of another type) set in two
 * files is an error naming both places: an include never silently
 * overrides a setting.
 */
#include "conf_int.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jitgate/host.h>

#ifndef JG_PLUGINDIR
#define JG_PLUGINDIR "/usr/local/lib/jitgate/plugins"
#endif

#define CONF_MAGIC 0x4a47434eU /* "JGCN" */

struct conf_hook {
	void (*fn)(void *);
	void *ud;
};

struct jg_conf {
	uint32_t magic;
	atomic_int refs;
	char *path;
	char *dir;
	struct json_object *root;
	struct conf_index *where;   /* key path -> "FILE:LINE" */
	struct conf_index *secrets; /* key paths holding secrets (a set) */
	pthread_mutex_t lock;       /* sections, warnings, hooks, secrets */
	struct jg_config *sections;
	struct conf_hook *hooks;
	size_t nhooks;
	char **warnings;
	size_t nwarnings;
	struct conf_settings settings;
	char plugin_dir[PATH_MAX];
	dev_t devs[CONF_MAX_FILES]; /* files read, so none is read twice */
	ino_t inos[CONF_MAX_FILES];
	size_t nfiles;
};

/* ---- reading and parsing one file --------------------------------------- */

static char *read_file(const char *path, size_t *len, char *err,
		       size_t errlen, dev_t *dev, ino_t *ino)
{
	struct stat sb;
	char *buf;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path,
			 errno == ENOENT ? "file not found" : strerror(errno));
		return NULL;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return NULL;
	}
	if (sb.st_size > (off_t)CONF_MAX_FILE) {
		snprintf(err, errlen,
			 "%s: %lld bytes, more than the %u a configuration "
			 "file may have",
			 path, (long long)sb.st_size, CONF_MAX_FILE);
		close(fd);
		return NULL;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		snprintf(err, errlen, "%s: out of memory", path);
		close(fd);
		return NULL;
	}
	while (n < (size_t)sb.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)sb.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	*dev = sb.st_dev;
	*ino = sb.st_ino;
	return buf;
}

/* Offset of the first byte after white space and comments from off. */
static size_t skip_trailer(const char *t, size_t len, size_t off)
{
	while (off < len) {
		if (t[off] == ' ' || t[off] == '\t' || t[off] == '\n' ||
		    t[off] == '\r') {
			off++;
		} else if (t[off] == '/' && off + 1 < len && t[off + 1] == '/') {
			while (off < len && t[off] != '\n')
				off++;
		} else if (t[off] == '/' && off + 1 < len && t[off + 1] == '*') {
			const char *e = strstr(t + off + 2, "*/");
			if (!e)
				return off;
			off = (size_t)(e - t) + 2;
		} else {
			break;
		}
	}
	return off;
}

static struct json_object *parse(const char *text, size_t len,
				 const char *fname, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error e;
	const char *nul = memchr(text, '\0', len);
	size_t end;

	if (nul) {
		snprintf(err, errlen, "%s:%u: contains a NUL byte", fname,
			 conf_line_at(text, (size_t)(nul - text)));
		return NULL;
	}
	tok = json_tokener_new_ex(CONF_MAX_DEPTH);
	if (!tok) {
		snprintf(err, errlen, "%s: out of memory", fname);
		return NULL;
	}
	o = json_tokener_parse_ex(tok, text, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (e == json_tokener_continue) {
		snprintf(err, errlen,
			 "%s:%u: invalid JSON: unexpected end of file (an "
			 "object, array or string is not closed)",
			 fname, conf_line_at(text, len));
		return NULL;
	}
	if (e != json_tokener_success) {
		snprintf(err, errlen, "%s:%u: invalid JSON: %s", fname,
			 conf_line_at(text, end > 0 ? end - 1 : 0),
			 json_tokener_error_desc(e));
		return NULL;
	}
	end = skip_trailer(text, len, end);
	if (end < len) {
		snprintf(err, errlen,
			 "%s:%u: invalid JSON: unexpected text after the end "
			 "of the document",
			 fname, conf_line_at(text, end));
		json_object_put(o);
		return NULL;
	}
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen,
			 "%s:1: a configuration must be a JSON object, found %s",
			 fname, conf_json_type(o));
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Read, parse and index one file.  1 if it was read before (skipped). */
static int load_one(struct jg_conf *c, const char *path,
		    struct json_object **root, struct conf_index *ix,
		    char *err, size_t errlen)
{
	size_t len;
	dev_t dev;
	ino_t ino;
	char *text = read_file(path, &len, err, errlen, &dev, &ino);
	int rc;

	if (!text)
		return -1;
	for (size_t i = 0; i < c->nfiles; i++) {
		if (c->devs[i] == dev && c->inos[i] == ino) {
			free(text);
			return 1;
		}
	}
	if (c->nfiles == CONF_MAX_FILES) {
		snprintf(err, errlen, "%s: more than %d configuration files",
			 path, CONF_MAX_FILES);
		free(text);
		return -1;
	}
	c->devs[c->nfiles] = dev;
	c->inos[c->nfiles++] = ino;
	*root = parse(text, len, path, err, errlen);
	rc = *root ? conf_scan(text, len, path, ix, err, errlen) : -1;
	free(text);
	if (rc < 0 && *root) {
		json_object_put(*root);
		*root = NULL;
	}
	return rc;
}

/* ---- includes and merging ---------------------------------------------- */

/* Record where every value under val (from an include) now sits. */
static int copy_where(struct jg_conf *c, const struct conf_index *from,
		      struct json_object *val, const char *src,
		      const char *dst)
{
	char s2[CONF_MAX_KEYPATH], d2[CONF_MAX_KEYPATH];
	const char *w = cindex_get(from, src);

	if (w && cindex_put(c->where, dst, w) < 0)
		return -1;
	if (json_object_is_type(val, json_type_object)) {
		json_object_object_foreach(val, k, v)
		{
			if (conf_path_key(s2, sizeof(s2), src, k) ||
			    conf_path_key(d2, sizeof(d2), dst, k) ||
			    copy_where(c, from, v, s2, d2) < 0)
				return -1;
		}
	} else if (json_object_is_type(val, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(val); i++) {
			if (conf_path_index(s2, sizeof(s2), src, i) ||
			    conf_path_index(d2, sizeof(d2), dst, i) ||
			    copy_where(c, from, json_object_array_get_idx(val, i),
				       s2, d2) < 0)
				return -1;
		}
	}
	return 0;
}

static int merge(struct jg_conf *c, struct json_object *dst,
		 struct json_object *src, const char *dpath, const char *spath,
		 const struct conf_index *from, char *err, size_t errlen)
{
	char sp[CONF_MAX_KEYPATH], dp[CONF_MAX_KEYPATH];

	json_object_object_foreach(src, key, val)
	{
		struct json_object *have = NULL;

		if (conf_path_key(sp, sizeof(sp), spath, key) ||
		    conf_path_key(dp, sizeof(dp), dpath, key))
			goto toolong;
		if (!json_object_object_get_ex(dst, key, &have)) {
			json_object_object_add(dst, key, json_object_get(val));
			if (copy_where(c, from, val, sp, dp) < 0)
				goto toolong;
		} else if (json_object_is_type(have, json_type_object) &&
			   json_object_is_type(val, json_type_object)) {
			if (merge(c, have, val, dp, sp, from, err, errlen) < 0)
				return -1;
		} else if (json_object_is_type(have, json_type_array) &&
			   json_object_is_type(val, json_type_array)) {
			size_t off = json_object_array_length(have);
			for (size_t i = 0; i < json_object_array_length(val);
			     i++) {
				struct json_object *it =
					json_object_array_get_idx(val, i);
				char si[CONF_MAX_KEYPATH], di[CONF_MAX_KEYPATH];

				json_object_array_add(have,
						      json_object_get(it));
				if (conf_path_index(si, sizeof(si), sp, i) ||
				    conf_path_index(di, sizeof(di), dp,
						    off + i) ||
				    copy_where(c, from, it, si, di) < 0)
					goto toolong;
			}
		} else {
			const char *w = cindex_get(from, sp);
			conf_err(err, errlen, w ? w : "include", dp,
				 "already set at %s (objects merge and arrays "
				 "append; other values may be set only once)",
				 conf_where(c, dp));
			return -1;
		}
	}
	return 0;
toolong:
	snprintf(err, errlen, "%s: key path too long or out of memory",
		 spath);
	return -1;
}

static int include_file(struct jg_conf *c, const char *path, char *err,
			size_t errlen)
{
	struct conf_index *ix = cindex_new();
	struct json_object *root = NULL, *inc;
	int rc;

	if (!ix) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = load_one(c, path, &root, ix, err, errlen);
	if (rc == 0 && json_object_object_get_ex(root, "include", &inc)) {
		conf_err(err, errlen, cindex_get(ix, "include"), "include",
			 "an included file may not include others");
		rc = -1;
	}
	if (rc == 0)
		rc = merge(c, c->root, root, "", "", ix, err, errlen);
	json_object_put(root);
	cindex_free(ix);
	return rc < 0 ? -1 : 0;
}

static int do_includes(struct jg_conf *c, char *err, size_t errlen)
{
	struct json_object *inc, *list;
	char pat[PATH_MAX];
	char ipath[CONF_MAX_KEYPATH];
	size_t n;

	if (!json_object_object_get_ex(c->root, "include", &inc))
		return 0;
	if (!json_object_is_type(inc, json_type_array)) {
		conf_err(err, errlen, conf_where(c, "include"), "include",
			 "wanted a list of file patterns, found %s",
			 conf_json_type(inc));
		return -1;
	}
	/* Keep the list alive: merging may not touch it (no include may
	 * include), but be safe against reallocations of root. */
	list = json_object_get(inc);
	n = json_object_array_length(list);
	for (size_t i = 0; i < n; i++) {
		struct json_object *it = json_object_array_get_idx(list, i);
		const char *p = json_object_get_string(it);
		glob_t g;
		int grc;

		conf_path_index(ipath, sizeof(ipath), "include", i);
		if (!json_object_is_type(it, json_type_string) || !*p) {
			conf_err(err, errlen, conf_where(c, ipath), ipath,
				 "wanted a file pattern (string), found %s",
				 conf_json_type(it));
			goto fail;
		}
		if (conf_resolve_path(c, p, pat, sizeof(pat)) < 0) {
			conf_err(err, errlen, conf_where(c, ipath), ipath,
				 "path too long");
			goto fail;
		}
		/* GLOB_NOMAGIC: a plain file name that does not exist is
		 * kept, so reading it says "file not found"; a pattern that
		 * matches nothing (an empty conf.d) is fine. */
		grc = glob(pat, GLOB_ERR | GLOB_NOMAGIC, NULL, &g);
		if (grc == GLOB_NOMATCH)
			continue;
		if (grc != 0) {
			conf_err(err, errlen, conf_where(c, ipath), ipath,
				 "cannot expand \"%s\": %s", pat,
				 grc == GLOB_ABORTED ? "unreadable directory"
						     : "out of memory");
			goto fail;
		}
		for (size_t j = 0; j < g.gl_pathc; j++) {
			char why[1024];

			if (include_file(c, g.gl_pathv[j], why, sizeof(why)) <
			    0) {
				/* A file that cannot be read at all is told
				 * from where the include asked for it. */
				if (strncmp(why, g.gl_pathv[j],
					    strlen(g.gl_pathv[j])) == 0 &&
				    why[strlen(g.gl_pathv[j])] == ':' &&
				    why[strlen(g.gl_pathv[j]) + 1] == ' ')
					conf_err(err, errlen,
						 conf_where(c, ipath), ipath,
						 "%s", why);
				else
					snprintf(err, errlen, "%s", why);
				globfree(&g);
				goto fail;
			}
		}
		globfree(&g);
	}
	json_object_put(list);
	return 0;
fail:
	json_object_put(list);
	return -1;
}

/* ---- the core's own settings ------------------------------------------- */

static const struct jg_option root_schema[] = {
	{"workers", JG_OPT_INT, "0", 0, 0, "worker threads, 0 = one per core"},
	{"plugin_dir", JG_OPT_STRING, NULL, 0, 0, "where plugin names are"},
	{"plugins", JG_OPT_LIST, "[]", 0, 0, "plugins to load"},
	{"include", JG_OPT_LIST, NULL, 0, 0, "files to merge in (globs)"},
	{NULL, 0, NULL, 0, 0, NULL},
};

/* Sections read by their owners, and the JSON type each must have. */
static const struct {
	const char *key;
	enum json_type type;
} sections[] = {
	{"log", json_type_object},      {"limits", json_type_object},
	{"admin", json_type_object},    {"listeners", json_type_array},
	{"connections", json_type_object}, {"identity", json_type_array},
	{"policy", json_type_object},   {"masking", json_type_object},
	{"store", json_type_object},    {"recording", json_type_object},
	{"grants", json_type_object},   {"notify", json_type_array},
};
#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

static const struct jg_option log_schema[] = {
	{"format", JG_OPT_STRING, "logfmt", 0, 0, "logfmt or json"},
	{"level", JG_OPT_STRING, "info", 0, 0, "error, warn, info or debug"},
	{NULL, 0, NULL, 0, 0, NULL},
};

static const struct jg_option limits_schema[] = {
	{"max_connections", JG_OPT_INT, "10000", 0, 0,
	 "open client connections, all workers together"},
	{"handshake_timeout", JG_OPT_DURATION, "10s", 0, 0,
	 "from accept to an authenticated session"},
	{"idle_timeout", JG_OPT_DURATION, "15m", 0, 0,
	 "a session with no traffic either way is closed"},
	{"shutdown_grace", JG_OPT_DURATION, "30s", 0, 0,
	 "how long open sessions may finish on SIGTERM"},
	{"max_buffer", JG_OPT_SIZE, "1M", 0, 0,
	 "per-stream buffer before backpressure"},
	{NULL, 0, NULL, 0, 0, NULL},
};

static int settings(struct jg_conf *c, char *err, size_t errlen)
{
	static const char *const levels[] = {"error", "warn", "info", "debug"};
	static const int level_num[] = {JG_LOG_ERROR, JG_LOG_WARN, JG_LOG_INFO,
					JG_LOG_DEBUG};
	const char *extra[NSECTIONS + 1];
	struct conf_settings *st = &c->settings;
	struct jg_config *root, *log, *lim;
	struct json_object *o;
	const char *pd;
	size_t i;

	for (i = 0; i < NSECTIONS; i++)
		extra[i] = sections[i].key;
	extra[i] = NULL;
	root = conf_section(c, c->root, "", root_schema, extra, err, errlen);
	if (!root)
		return -1;
	for (i = 0; i < NSECTIONS; i++) {
		if (!json_object_object_get_ex(c->root, sections[i].key, &o) ||
		    json_object_is_type(o, sections[i].type))
			continue;
		conf_err(err, errlen, conf_where(c, sections[i].key),
			 sections[i].key, "wanted %s, found %s",
			 sections[i].type == json_type_object ? "an object"
							      : "an array",
			 conf_json_type(o));
		return -1;
	}
	if (cfg_int(root, "workers") < 0 || cfg_int(root, "workers") > 1024) {
		conf_err(err, errlen, cfg_where(root, "workers"), "workers",
			 "%lld is out of range (0 = one per core, at most 1024)",
			 (long long)cfg_int(root, "workers"));
		return -1;
	}
	st->workers = (int)cfg_int(root, "workers");

	json_object_object_get_ex(c->root, "log", &o);
	if (!(log = conf_section(c, o, "log", log_schema, NULL, err, errlen)))
		return -1;
	st->log_format = cfg_string(log, "format");
	if (strcmp(st->log_format, "logfmt") && strcmp(st->log_format, "json")) {
		conf_err(err, errlen, cfg_where(log, "format"), "log.format",
			 "\"%s\" is not a log format (logfmt or json)",
			 st->log_format);
		return -1;
	}
	st->log_level = cfg_string(log, "level");
	for (i = 0; i < 4 && strcmp(levels[i], st->log_level); i++)
		;
	if (i == 4) {
		conf_err(err, errlen, cfg_where(log, "level"), "log.level",
			 "\"%s\" is not a log level (error, warn, info or "
			 "debug)",
			 st->log_level);
		return -1;
	}
	st->log_level_num = level_num[i];

	json_object_object_get_ex(c->root, "limits", &o);
	if (!(lim = conf_section(c, o, "limits", limits_schema, NULL, err,
				 errlen)))
		return -1;
	st->max_connections = cfg_int(lim, "max_connections");
	st->handshake_timeout = cfg_int(lim, "handshake_timeout");
	st->idle_timeout = cfg_int(lim, "idle_timeout");
	st->shutdown_grace = cfg_int(lim, "shutdown_grace");
	st->max_buffer = cfg_int(lim, "max_buffer");
	if (st->max_connections < 1) {
		conf_err(err, errlen, cfg_where(lim, "max_connections"),
			 "limits.max_connections", "must be at least 1");
		return -1;
	}
	if (st->handshake_timeout < 1 || st->idle_timeout < 1) {
		int hs = st->handshake_timeout < 1;
		conf_err(err, errlen,
			 cfg_where(lim, hs ? "handshake_timeout"
					   : "idle_timeout"),
			 hs ? "limits.handshake_timeout" : "limits.idle_timeout",
			 "must be longer than 0");
		return -1;
	}
	if (st->max_buffer < 4096) {
		conf_err(err, errlen, cfg_where(lim, "max_buffer"),
			 "limits.max_buffer", "must be at least 4k");
		return -1;
	}

	pd = cfg_string(root, "plugin_dir");
	if (conf_resolve_path(c, pd ? pd : JG_PLUGINDIR, c->plugin_dir,
			      sizeof(c->plugin_dir)) < 0) {
		conf_err(err, errlen, cfg_where(root, "plugin_dir"),
			 "plugin_dir", "path too long");
		return -1;
	}
	st->plugin_dir = c->plugin_dir;
	st->nplugins = cfg_list_len(root, "plugins");
	st->plugins = st->nplugins ? cfg_list(root, "plugins")
				   : NULL;
	return 0;
}

/* ---- the generation ----------------------------------------------------- */

struct jg_conf *conf_load(const char *path, char *err, size_t errlen)
{
	struct jg_conf *c = calloc(1, sizeof(*c));
	const char *slash;

	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->magic = CONF_MAGIC;
	atomic_init(&c->refs, 1);
	pthread_mutex_init(&c->lock, NULL);
	c->path = strdup(path);
	slash = strrchr(path, '/');
	c->dir = slash ? strndup(path, (size_t)(slash - path + (slash == path)))
		       : strdup(".");
	c->where = cindex_new();
	c->secrets = cindex_new();
	if (!c->path || !c->dir || !c->where || !c->secrets) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (load_one(c, path, &c->root, c->where, err, errlen) != 0)
		goto fail;
	if (do_includes(c, err, errlen) < 0 || settings(c, err, errlen) < 0)
		goto fail;
	return c;
fail:
	conf_unref(c);
	return NULL;
}

void conf_ref(struct jg_conf *c)
{
	atomic_fetch_add_explicit(&c->refs, 1, memory_order_relaxed);
}

void conf_unref(struct jg_conf *c)
{
	struct jg_config *s, *next;

	if (!c || atomic_fetch_sub_explicit(&c->refs, 1,
					    memory_order_acq_rel) != 1)
		return;
	if (c->magic != CONF_MAGIC)
		abort();
	while (c->nhooks > 0) {
		c->nhooks--;
		c->hooks[c->nhooks].fn(c->hooks[c->nhooks].ud);
	}
	free(c->hooks);
	for (s = c->sections; s; s = next) {
		next = conf_section_next(s);
		conf_section_free(s);
	}
	for (size_t i = 0; i < c->nwarnings; i++)
		free(c->warnings[i]);
	free(c->warnings);
	json_object_put(c->root);
	cindex_free(c->where);
	cindex_free(c->secrets);
	pthread_mutex_destroy(&c->lock);
	free(c->path);
	free(c->dir);
	c->magic = 0;
	free(c);
}

struct json_object *conf_root(const struct jg_conf *c)
{
	return c->root;
}

struct json_object *conf_get(const struct jg_conf *c, const char *section)
{
	struct json_object *o;

	return json_object_object_get_ex(c->root, section, &o) ? o : NULL;
}

const struct conf_settings *conf_settings(const struct jg_conf *c)
{
	return &c->settings;
}

const char *conf_file(const struct jg_conf *c)
{
	return c->path;
}

const char *conf_dir(const struct jg_conf *c)
{
	return c->dir;
}

int conf_resolve_path(const struct jg_conf *c, const char *path, char *out,
		      size_t outlen)
{
	int n;

	if (path[0] == '/')
		n = snprintf(out, outlen, "%s", path);
	else
		n = snprintf(out, outlen, "%s/%s", c->dir, path);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

const char *conf_where(const struct jg_conf *c, const char *keypath)
{
	char p[CONF_MAX_KEYPATH];
	size_t n;

	if (!keypath || strlen(keypath) >= sizeof(p))
		return c->path;
	strcpy(p, keypath);
	/* Not written (a missing key): say where its parent is. */
	while ((n = strlen(p)) > 0) {
		const char *w = cindex_get(c->where, p);
		char *cut;

		if (w)
			return w;
		if (p[n - 1] == ']') {
			cut = strrchr(p, '[');
			/* ["a[b"]: the bracket after an opening quote */
			while (cut && cut > p && cut[1] != '"' &&
			       !(cut[1] >= '0' && cut[1] <= '9'))
				cut = memrchr(p, '[', (size_t)(cut - p));
		} else {
			cut = strrchr(p, '.');
		}
		if (!cut)
			break;
		*cut = '\0';
	}
	return c->path;
}

/* ---- hooks used by sections -------------------------------------------- */

void conf_attach_section(struct jg_conf *c, struct jg_config *s)
{
	pthread_mutex_lock(&c->lock);
	conf_section_link(s, c->sections);
	c->sections = s;
	pthread_mutex_unlock(&c->lock);
}

void conf_mark_secret(struct jg_conf *c, const char *path)
{
	pthread_mutex_lock(&c->lock);
	cindex_put(c->secrets, path, "");
	pthread_mutex_unlock(&c->lock);
}

void conf_add_warning(struct jg_conf *c, const char *fmt, ...)
{
	char buf[1024];
	char **w;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&c->lock);
	w = realloc(c->warnings, (c->nwarnings + 1) * sizeof(*w));
	if (w) {
		c->warnings = w;
		if ((w[c->nwarnings] = strdup(buf)))
			c->nwarnings++;
	}
	pthread_mutex_unlock(&c->lock);
}

size_t conf_warning_count(const struct jg_conf *c)
{
	return c->nwarnings;
}

const char *conf_warning(const struct jg_conf *c, size_t i)
{
	return i < c->nwarnings ? c->warnings[i] : NULL;
}

int conf_on_free(struct jg_conf *c, void (*fn)(void *), void *ud)
{
	struct conf_hook *h;
	int rc = -1;

	pthread_mutex_lock(&c->lock);
	h = realloc(c->hooks, (c->nhooks + 1) * sizeof(*h));
	if (h) {
		c->hooks = h;
		h[c->nhooks].fn = fn;
		h[c->nhooks++].ud = ud;
		rc = 0;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* ---- dump --------------------------------------------------------------- */

static void hide_secrets(const struct jg_conf *c, struct json_object *o,
			 const char *path)
{
	char p[CONF_MAX_KEYPATH];

	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v)
		{
			if (conf_path_key(p, sizeof(p), path, k))
				continue;
			if (cindex_get(c->secrets, p))
				json_object_object_add(
					o, k, json_object_new_string("<secret>"));
			else
				hide_secrets(c, v, p);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			if (conf_path_index(p, sizeof(p), path, i))
				continue;
			if (cindex_get(c->secrets, p))
				json_object_array_put_idx(
					o, i, json_object_new_string("<secret>"));
			else
				hide_secrets(c, json_object_array_get_idx(o, i),
					     p);
		}
	}
}

void conf_dump(const struct jg_conf *c, FILE *f)
{
	struct json_object *copy = NULL;

	if (json_object_deep_copy(c->root, &copy, NULL) < 0) {
		fputs("{}\n", f);
		return;
	}
	hide_secrets(c, copy, "");
	fprintf(f, "%s\n",
		json_object_to_json_string_ext(copy,
					       JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(copy);
}
