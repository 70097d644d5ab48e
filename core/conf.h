/*
 * Configuration: JSON (comments allowed) read with json-c, one main file
 * plus "include" globs, validated against option schemas.
 *
 * A jg_conf is one loaded generation of the whole configuration.  Reload
 * builds a new one; sessions keep a reference to the generation they
 * started under, so a reload never changes a live session.
 *
 * A jg_config is one validated section (a plugin instance, a listener, a
 * connection): its values with defaults applied and secrets resolved.  It
 * is what the host table's cfg_* services read, and it lives as long as
 * its jg_conf.
 */
#ifndef JG_CONF_H
#define JG_CONF_H

#include <stddef.h>
#include <stdint.h>

#include <jitgate/jitgate.h>

struct json_object;
struct jg_conf;
struct jg_config;

/*
 * Load path and its includes.  On failure return NULL with
 * "FILE:LINE: KEY.PATH: what is wrong" in err.
 */
struct jg_conf *conf_load(const char *path, char *err, size_t errlen);

/* Reference counting: sessions hold the generation they started with. */
void conf_ref(struct jg_conf *c);
void conf_unref(struct jg_conf *c);

/* The merged JSON document (main file with includes merged in). */
struct json_object *conf_root(const struct jg_conf *c);

/* "FILE:LINE" where the value at key path ("listeners[0].listen") was
 * written, or the main file's name when it cannot be told. */
const char *conf_where(const struct jg_conf *c, const char *keypath);

/*
 * Validate obj (found at keypath) against schema and build a section.
 * Unknown keys, wrong types, missing required keys, bad durations or
 * sizes and unresolvable secrets are errors naming FILE:LINE and the key
 * path.  extra_ok lists keys the caller handles itself (NULL-terminated,
 * may be NULL) so they are not reported as unknown.
 */
struct jg_config *conf_section(struct jg_conf *c, struct json_object *obj,
			       const char *keypath,
			       const struct jg_option *schema,
			       const char *const *extra_ok, char *err,
			       size_t errlen);

/* Getters, also exported to plugins through the host table. */
const char *cfg_string(const struct jg_config *s, const char *key);
int64_t cfg_int(const struct jg_config *s, const char *key);
size_t cfg_list_len(const struct jg_config *s, const char *key);
const char *cfg_list_item(const struct jg_config *s, const char *key,
			  size_t i);
const char *cfg_json(const struct jg_config *s, const char *key);
const char *cfg_secret(const struct jg_config *s, const char *key,
		       size_t *len);
const char *cfg_where(const struct jg_config *s, const char *key);

/* Parse "250ms", "30s", "15m", "2h", "1d" or a number of ms. */
int conf_parse_duration(const char *text, int64_t *ms);
/* Parse "512", "64k", "16M", "1G" (powers of 1024). */
int conf_parse_size(const char *text, int64_t *bytes);
/* Resolve a secret reference "env:NAME" or "file:PATH".  The caller
 * frees *out (and wipes it).  Never puts the secret in err. */
int conf_resolve_secret(const char *ref, char **out, size_t *len, char *err,
			size_t errlen);

#endif /* JG_CONF_H */
