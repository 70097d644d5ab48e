/*
 * Private to core/conf*.c: the pieces the configuration files share.
 */
#ifndef JG_CONF_INT_H
#define JG_CONF_INT_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>

#include <json-c/json.h>

#include "conf.h"

/*
 * Key path -> "FILE:LINE" index.  json-c keeps no positions, so the
 * source text is scanned once more by a tiny tokenizer that only tracks
 * strings, nesting, keys and array indexes (conf_index.c).
 */
struct conf_index;

struct conf_index *cindex_new(void);
void cindex_free(struct conf_index *ix);
/* 0 stored, 1 path already present (nothing changed), -1 no memory. */
int cindex_put(struct conf_index *ix, const char *path, const char *where);
const char *cindex_get(const struct conf_index *ix, const char *path);

/*
 * Scan text (json-c already accepted it) and record the line of every
 * value under its key path, as "fname:LINE".  A key given twice in one
 * object is an error (json-c would silently keep the last one).
 */
int conf_scan(const char *text, size_t len, const char *fname,
	      struct conf_index *ix, char *err, size_t errlen);

/* 1-based line of byte offset off in text. */
unsigned conf_line_at(const char *text, size_t off);

/* Format into err: "WHERE: PATH: message" (PATH omitted when empty). */
void conf_err(char *err, size_t errlen, const char *where, const char *path,
	      const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Describe a JSON value's type for messages: "a string", "an array". */
const char *conf_json_type(const struct json_object *o);

/* Quote a value for an error message, shortened; "<secret>" if secret. */
void conf_quote(char *buf, size_t len, const struct json_object *o,
		int secret);

/* The closest candidate within a small edit distance, or NULL. */
const char *conf_did_you_mean(const char *key, const char *const *cands,
			      size_t n);

/* Secrets (conf_secret.c).  basedir resolves relative file: paths;
 * warn (may be NULL) gets a warning such as lax file permissions. */
int conf_secret_resolve(const char *ref, const char *basedir, char **out,
			size_t *len, char *err, size_t errlen, char *warn,
			size_t warnlen);
void conf_secret_free(char *s, size_t len);

/* Hooks conf_schema.c uses on the generation it validates into. */
struct jg_config;
void conf_attach_section(struct jg_conf *c, struct jg_config *s);
void conf_add_warning(struct jg_conf *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void conf_mark_secret(struct jg_conf *c, const char *path);
void conf_section_free(struct jg_config *s);
/* A list option's items, NULL-terminated (NULL if unset). */
const char *const *cfg_list(const struct jg_config *s, const char *key);
struct jg_config *conf_section_next(struct jg_config *s);
void conf_section_link(struct jg_config *s, struct jg_config *next);

#endif /* JG_CONF_INT_H */
