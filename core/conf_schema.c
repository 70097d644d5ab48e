/*
 * Validating a section against a struct jg_option schema (nginx
 * ngx_command_t style) and reading it back: the cfg_* getters behind the
 * host table.  A jg_config is immutable once built, so workers read it
 * without locks.
 */
#include "conf_int.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONF_CONFIG_MAGIC 0x4a47434fU /* "JGCO" */

struct cfg_value {
	char *key;
	int type;
	int secret;
	int set;           /* given or defaulted */
	char *str;         /* string, address */
	int64_t num;       /* int, bool, duration, size */
	char **list;       /* list items */
	size_t nlist;
	char *json;        /* json as compact text */
	char *sec;         /* resolved secret */
	size_t seclen;
	const char *where; /* "FILE:LINE", owned by the conf's index */
};

struct jg_config {
	uint32_t magic;
	struct jg_config *next; /* the generation's list */
	char *keypath;
	const char *where;
	size_t n;
	struct cfg_value v[];
};

/* ---- value parsers ------------------------------------------------------ */

static int parse_count(const char **p, int64_t *v)
{
	int64_t n = 0;

	if (!isdigit((unsigned char)**p))
		return -1;
	while (isdigit((unsigned char)**p)) {
		int d = **p - '0';
		if (n > (INT64_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
		(*p)++;
	}
	*v = n;
	return 0;
}

int conf_parse_duration(const char *text, int64_t *ms)
{
	static const struct {
		const char *unit;
		int64_t mul;
	} units[] = {{"ms", 1},          {"s", 1000},     {"m", 60000},
		     {"h", 3600000},     {"d", 86400000}, {"", 1}};
	const char *p = text;
	int64_t n;

	if (!text || parse_count(&p, &n) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(p, units[i].unit) != 0)
			continue;
		if (n > INT64_MAX / units[i].mul)
			return -1;
		*ms = n * units[i].mul;
		return 0;
	}
	return -1;
}

int conf_parse_size(const char *text, int64_t *bytes)
{
	const char *p = text;
	int64_t n, mul = 1;

	if (!text || parse_count(&p, &n) < 0)
		return -1;
	switch (*p) {
	case '\0': break;
	case 'k': case 'K': mul = 1ll << 10; p++; break;
	case 'm': case 'M': mul = 1ll << 20; p++; break;
	case 'g': case 'G': mul = 1ll << 30; p++; break;
	default: return -1;
	}
	if (*p || n > INT64_MAX / mul)
		return -1;
	*bytes = n * mul;
	return 0;
}

int conf_split_address(const char *text, char *host, size_t hostlen,
		       char *port, size_t portlen)
{
	const char *colon, *hs, *he;
	int64_t pn;
	const char *p;

	if (!text)
		return -1;
	if (text[0] == '[') {
		he = strchr(text, ']');
		if (!he || he[1] != ':' || he == text + 1)
			return -1;
		hs = text + 1;
		colon = he + 1;
		for (const char *q = hs; q < he; q++)
			if (!isxdigit((unsigned char)*q) && *q != ':' &&
			    *q != '.' && *q != '%')
				return -1;
	} else {
		colon = strrchr(text, ':');
		if (!colon || colon == text)
			return -1;
		hs = text;
		he = colon;
		for (const char *q = hs; q < he; q++)
			if (!isalnum((unsigned char)*q) && *q != '.' &&
			    *q != '-' && *q != '_' && *q != '*')
				return -1;
	}
	p = colon + 1;
	if (parse_count(&p, &pn) < 0 || *p || pn > 65535 || strlen(colon + 1) > 5)
		return -1;
	if ((size_t)(he - hs) >= hostlen || strlen(colon + 1) >= portlen)
		return -1;
	memcpy(host, hs, (size_t)(he - hs));
	host[he - hs] = '\0';
	snprintf(port, portlen, "%s", colon + 1);
	return 0;
}

const char *conf_type_name(int type)
{
	switch (type) {
	case JG_OPT_STRING: return "string";
	case JG_OPT_INT: return "integer";
	case JG_OPT_BOOL: return "boolean";
	case JG_OPT_DURATION: return "duration";
	case JG_OPT_SIZE: return "size";
	case JG_OPT_SECRET: return "secret";
	case JG_OPT_LIST: return "list";
	case JG_OPT_JSON: return "json";
	case JG_OPT_ADDRESS: return "address";
	}
	return "unknown";
}

/* ---- validation --------------------------------------------------------- */

struct vctx {
	struct jg_conf *conf;
	const char *path;   /* of the option */
	const char *where;  /* where it was written */
	char *err;
	size_t errlen;
};

static int bad_value(struct vctx *x, const struct json_object *o, int secret,
		     const char *what)
{
	char q[80];

	conf_quote(q, sizeof(q), o, secret);
	conf_err(x->err, x->errlen, x->where, x->path, "%s is not %s", q, what);
	return -1;
}

/* A JSON string without embedded NUL bytes, or NULL. */
static const char *plain_string(const struct json_object *o)
{
	const char *s;

	if (!json_object_is_type(o, json_type_string))
		return NULL;
	s = json_object_get_string((struct json_object *)o);
	if (strlen(s) != (size_t)json_object_get_string_len(o))
		return NULL;
	return s;
}

/* json-c clamps integers beyond int64 (or keeps them as uint64): an
 * integer is in range when it prints back as it was written. */
static int int_value(const struct json_object *o, int64_t *v)
{
	char back[32];

	*v = json_object_get_int64(o);
	snprintf(back, sizeof(back), "%" PRId64, *v);
	return strcmp(back, json_object_to_json_string_ext(
				    (struct json_object *)o,
				    JSON_C_TO_STRING_PLAIN)) == 0
		       ? 0
		       : -1;
}

static int store_secret(struct vctx *x, struct cfg_value *v, const char *ref)
{
	char warn[512], why[512];

	if (conf_secret_resolve(ref, x->conf ? conf_dir(x->conf) : NULL,
				&v->sec, &v->seclen, why, sizeof(why), warn,
				sizeof(warn)) < 0) {
		conf_err(x->err, x->errlen, x->where, x->path, "%s", why);
		return -1;
	}
	if (warn[0] && x->conf)
		conf_add_warning(x->conf, "%s: %s: %s", x->where, x->path,
				 warn);
	return 0;
}

static int is_reference(const char *s)
{
	return strncmp(s, "env:", 4) == 0 || strncmp(s, "file:", 5) == 0;
}

static int set_value(struct vctx *x, struct cfg_value *v,
		     const struct json_object *o)
{
	const char *s = plain_string(o);
	int64_t n;
	char host[256], port[8];

	switch (v->type) {
	case JG_OPT_STRING:
		if (!s)
			return bad_value(x, o, v->secret, "a string");
		if (v->secret && is_reference(s))
			return store_secret(x, v, s);
		v->str = strdup(s);
		return v->str ? 0 : -1;
	case JG_OPT_ADDRESS:
		if (!s || conf_split_address(s, host, sizeof(host), port,
					     sizeof(port)) < 0)
			return bad_value(x, o, v->secret,
					 "an address (\"host:port\" or "
					 "\"[v6]:port\")");
		v->str = strdup(s);
		return v->str ? 0 : -1;
	case JG_OPT_SECRET:
		if (!s)
			return bad_value(x, o, 1, "a secret reference "
						  "(\"env:NAME\" or "
						  "\"file:PATH\")");
		return store_secret(x, v, s);
	case JG_OPT_INT:
		if (!json_object_is_type(o, json_type_int))
			return bad_value(x, o, v->secret, "an integer");
		if (int_value(o, &v->num) < 0)
			return bad_value(x, o, v->secret,
					 "an integer in range");
		return 0;
	case JG_OPT_BOOL:
		if (!json_object_is_type(o, json_type_boolean))
			return bad_value(x, o, v->secret, "true or false");
		v->num = json_object_get_boolean(o) ? 1 : 0;
		return 0;
	case JG_OPT_DURATION:
		if (json_object_is_type(o, json_type_int) &&
		    int_value(o, &n) == 0 && n >= 0) {
			v->num = n;
			return 0;
		}
		if (!s || conf_parse_duration(s, &v->num) < 0)
			return bad_value(x, o, v->secret,
					 "a duration (\"250ms\", \"30s\", "
					 "\"15m\", \"2h\", \"1d\" or "
					 "milliseconds)");
		return 0;
	case JG_OPT_SIZE:
		if (json_object_is_type(o, json_type_int) &&
		    int_value(o, &n) == 0 && n >= 0) {
			v->num = n;
			return 0;
		}
		if (!s || conf_parse_size(s, &v->num) < 0)
			return bad_value(x, o, v->secret,
					 "a size (\"512\", \"64k\", \"16M\", "
					 "\"1G\" or bytes)");
		return 0;
	case JG_OPT_LIST: {
		size_t len;

		if (!json_object_is_type(o, json_type_array))
			return bad_value(x, o, v->secret,
					 "a list of strings");
		len = json_object_array_length(o);
		v->list = calloc(len + 1, sizeof(char *));
		if (!v->list)
			return -1;
		for (size_t i = 0; i < len; i++) {
			const char *it = plain_string(
				json_object_array_get_idx(o, i));
			if (!it) {
				char ipath[CONF_MAX_KEYPATH];
				conf_path_index(ipath, sizeof(ipath), x->path,
						i);
				x->path = ipath;
				if (x->conf)
					x->where = conf_where(x->conf, ipath);
				bad_value(x, json_object_array_get_idx(o, i),
					  v->secret, "a string");
				x->path = NULL;
				return -1;
			}
			v->list[i] = strdup(it);
			if (!v->list[i])
				return -1;
			v->nlist = i + 1;
		}
		return 0;
	}
	case JG_OPT_JSON:
		v->json = strdup(json_object_to_json_string_ext(
			(struct json_object *)o, JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE));
		return v->json ? 0 : -1;
	}
	conf_err(x->err, x->errlen, x->where, x->path,
		 "schema has an unknown option type %d", v->type);
	return -1;
}

/* A default is config text; lists and json take JSON text. */
static int set_default(struct vctx *x, struct cfg_value *v, const char *def)
{
	struct json_object *o;
	int rc;

	switch (v->type) {
	case JG_OPT_INT:
	case JG_OPT_BOOL:
	case JG_OPT_LIST:
	case JG_OPT_JSON:
		o = json_tokener_parse(def);
		break;
	default:
		o = json_object_new_string(def);
		break;
	}
	if (!o) {
		conf_err(x->err, x->errlen, x->where, x->path,
			 "the schema's default is not valid %s (plugin bug)",
			 conf_type_name(v->type));
		return -1;
	}
	rc = set_value(x, v, o);
	json_object_put(o);
	return rc;
}

void conf_section_free(struct jg_config *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		struct cfg_value *v = &s->v[i];

		/* A literal secret-flagged value is wiped like a resolved one. */
		if (v->secret && v->str)
			explicit_bzero(v->str, strlen(v->str));
		if (v->secret && v->json)
			explicit_bzero(v->json, strlen(v->json));
		free(v->key);
		free(v->str);
		free(v->json);
		for (size_t j = 0; j < v->nlist; j++)
			free(v->list[j]);
		free(v->list);
		conf_secret_free(v->sec, v->seclen);
	}
	free(s->keypath);
	s->magic = 0;
	free(s);
}

static int in_list(const char *key, const char *const *list)
{
	for (; list && *list; list++)
		if (strcmp(*list, key) == 0)
			return 1;
	return 0;
}

static void unknown_key(struct vctx *x, const char *key,
			const struct jg_option *schema,
			const char *const *extra_ok)
{
	const char *cands[128];
	size_t n = 0;
	const char *hint;

	for (const struct jg_option *o = schema; o && o->key && n < 128; o++)
		cands[n++] = o->key;
	for (; extra_ok && *extra_ok && n < 128; extra_ok++)
		cands[n++] = *extra_ok;
	hint = conf_did_you_mean(key, cands, n);
	if (hint)
		conf_err(x->err, x->errlen, x->where, x->path,
			 "unknown key (did you mean \"%s\"?)", hint);
	else
		conf_err(x->err, x->errlen, x->where, x->path, "unknown key");
}

struct jg_config *conf_section(struct jg_conf *c, struct json_object *obj,
			       const char *keypath,
			       const struct jg_option *schema,
			       const char *const *extra_ok, char *err,
			       size_t errlen)
{
	char path[CONF_MAX_KEYPATH];
	struct vctx x = {.conf = c, .err = err, .errlen = errlen};
	struct jg_config *s;
	size_t n = 0;

	if (!keypath)
		keypath = "";
	x.where = c ? conf_where(c, keypath) : "config";
	if (obj && !json_object_is_type(obj, json_type_object)) {
		conf_err(err, errlen, x.where, keypath,
			 "wanted an object, found %s", conf_json_type(obj));
		return NULL;
	}
	for (const struct jg_option *o = schema; o && o->key; o++)
		n++;
	s = calloc(1, sizeof(*s) + n * sizeof(struct cfg_value));
	if (!s || !(s->keypath = strdup(keypath))) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->magic = CONF_CONFIG_MAGIC;
	s->where = x.where;
	s->n = n;
	for (size_t i = 0; i < n; i++) {
		s->v[i].type = schema[i].type;
		s->v[i].secret = schema[i].secret ||
				 schema[i].type == JG_OPT_SECRET;
		s->v[i].where = s->where;
		if (!(s->v[i].key = strdup(schema[i].key)))
			goto oom;
	}
	if (obj) {
		json_object_object_foreach(obj, key, val)
		{
			size_t i;

			if (conf_path_key(path, sizeof(path), keypath, key)) {
				conf_err(err, errlen, s->where, keypath,
					 "key path too long");
				goto fail;
			}
			x.path = path;
			x.where = c ? conf_where(c, path) : s->where;
			for (i = 0; i < n; i++)
				if (strcmp(schema[i].key, key) == 0)
					break;
			if (i == n) {
				if (in_list(key, extra_ok))
					continue;
				unknown_key(&x, key, schema, extra_ok);
				goto fail;
			}
			s->v[i].where = x.where;
			if (s->v[i].secret && c)
				conf_mark_secret(c, path);
			if (json_object_is_type(val, json_type_null))
				continue; /* null: as if not given */
			if (set_value(&x, &s->v[i], val) < 0)
				goto fail;
			s->v[i].set = 1;
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (s->v[i].set)
			continue;
		conf_path_key(path, sizeof(path), keypath, schema[i].key);
		x.path = path;
		x.where = s->where;
		if (schema[i].required) {
			conf_err(err, errlen, s->where, path,
				 "required %s option missing%s%s",
				 conf_type_name(schema[i].type),
				 schema[i].help ? " (" : "",
				 schema[i].help ? schema[i].help : "");
			if (schema[i].help)
				strncat(err, ")", errlen - strlen(err) - 1);
			goto fail;
		}
		if (schema[i].def) {
			if (set_default(&x, &s->v[i], schema[i].def) < 0)
				goto fail;
			s->v[i].set = 1;
		}
	}
	if (c)
		conf_attach_section(c, s);
	return s;
oom:
	snprintf(err, errlen, "out of memory");
fail:
	conf_section_free(s);
	return NULL;
}

/* ---- getters ------------------------------------------------------------ */

static const struct cfg_value *find(const struct jg_config *s,
				    const char *key)
{
	if (!s || !key)
		return NULL;
	if (s->magic != CONF_CONFIG_MAGIC)
		abort(); /* a stale or foreign pointer: stop loudly */
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i].key, key) == 0)
			return &s->v[i];
	return NULL;
}

const char *cfg_string(const struct jg_config *s, const char *key)
{
	const struct cfg_value *v = find(s, key);

	if (!v || !v->set)
		return NULL;
	/* A secret string given as a reference reads as its value. */
	if (v->type == JG_OPT_STRING && v->sec)
		return v->sec;
	return v->type == JG_OPT_STRING || v->type == JG_OPT_ADDRESS ? v->str
								     : NULL;
}

int64_t cfg_int(const struct jg_config *s, const char *key)
{
	const struct cfg_value *v = find(s, key);

	if (!v || !v->set)
		return 0;
	switch (v->type) {
	case JG_OPT_INT:
	case JG_OPT_BOOL:
	case JG_OPT_DURATION:
	case JG_OPT_SIZE:
		return v->num;
	}
	return 0;
}

size_t cfg_list_len(const struct jg_config *s, const char *key)
{
	const struct cfg_value *v = find(s, key);

	return v && v->type == JG_OPT_LIST ? v->nlist : 0;
}

const char *cfg_list_item(const struct jg_config *s, const char *key,
			  size_t i)
{
	const struct cfg_value *v = find(s, key);

	return v && v->type == JG_OPT_LIST && i < v->nlist ? v->list[i]
							   : NULL;
}

const char *const *cfg_list(const struct jg_config *s, const char *key)
{
	const struct cfg_value *v = find(s, key);

	return v && v->type == JG_OPT_LIST ? (const char *const *)v->list
					   : NULL;
}

const char *cfg_json(const struct jg_config *s, const char *key)
{
	const struct cfg_value *v = find(s, key);

	return v && v->type == JG_OPT_JSON ? v->json : NULL;
}

const char *cfg_secret(const struct jg_config *s, const char *key,
		       size_t *len)
{
	const struct cfg_value *v = find(s, key);

	if (!v || !v->sec) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = v->seclen;
	return v->sec;
}

const char *cfg_where(const struct jg_config *s, const char *key)
{
	const struct cfg_value *v = find(s, key);

	if (v)
		return v->where;
	return s ? s->where : "config";
}

/* Sections of one generation form a list freed with it (conf.c). */
struct jg_config *conf_section_next(struct jg_config *s)
{
	return s->next;
}

void conf_section_link(struct jg_config *s, struct jg_config *next)
{
	s->next = next;
}
