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
#include <stdio.h>

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

/* ---- additions (h2-conf): limits, paths, settings, dumps ---- */

/* Refuse config files larger than this, and nesting deeper than that. */
#define CONF_MAX_FILE (4u << 20)
#define CONF_MAX_DEPTH 64
/* At most this many files (main + includes) in one configuration. */
#define CONF_MAX_FILES 256
/* Longest key path, e.g. "listeners[3].tls.client_ca". */
#define CONF_MAX_KEYPATH 512

/*
 * Build key paths the way error messages and conf_where() spell them:
 * "a" + "b" -> "a.b", "" + "b" -> "b", "a" + 3 -> "a[3]", and a key that
 * is not [A-Za-z0-9_-]+ as a["odd.key"].  Return 0, or -1 if it does not
 * fit in len bytes.
 */
int conf_path_key(char *buf, size_t len, const char *parent, const char *key);
int conf_path_index(char *buf, size_t len, const char *parent, size_t i);

/* The main file as given, and its directory (base of relative paths). */
const char *conf_file(const struct jg_conf *c);
const char *conf_dir(const struct jg_conf *c);

/*
 * Resolve a path written in the config: absolute paths stay, relative
 * ones are taken from the main file's directory.  0, or -1 if too long.
 */
int conf_resolve_path(const struct jg_conf *c, const char *path, char *out,
		      size_t outlen);

/*
 * Core settings: the top-level keys the core itself reads, validated and
 * with defaults applied at conf_load().  Durations in ms, sizes in bytes.
 * Strings point into the configuration and live as long as it.
 */
struct conf_settings {
	int workers;                 /* 0 = one per core */
	const char *log_format;      /* "logfmt" or "json" */
	const char *log_level;       /* "error", "warn", "info", "debug" */
	int log_level_num;           /* enum jg_log_level */
	int64_t max_connections;     /* limits.max_connections */
	int64_t handshake_timeout;   /* limits.handshake_timeout, ms */
	int64_t idle_timeout;        /* limits.idle_timeout, ms */
	int64_t shutdown_grace;      /* limits.shutdown_grace, ms */
	int64_t max_buffer;          /* limits.max_buffer, bytes */
	const char *plugin_dir;      /* resolved; default JG_PLUGINDIR */
	size_t nplugins;             /* entries of "plugins" */
	const char *const *plugins;  /* names or paths, as written */
};
const struct conf_settings *conf_settings(const struct jg_conf *c);

/*
 * A top-level section ("admin", "listeners", ...) of the merged document,
 * or NULL when absent.  conf_load() has already checked that each known
 * section has the right JSON type (object or array).
 */
struct json_object *conf_get(const struct jg_conf *c, const char *section);

/*
 * Run fn(ud) when the last reference goes, before the sections are freed
 * (so plugin instances can be finalised while their options still live).
 * Hooks run in reverse order of adding.  Main thread, before the
 * generation is shared.  0, or -1 on allocation failure.
 */
int conf_on_free(struct jg_conf *c, void (*fn)(void *), void *ud);

/*
 * Warnings found while loading (a secret file readable by others...),
 * for the daemon to log.  They never contain a secret.
 */
size_t conf_warning_count(const struct jg_conf *c);
const char *conf_warning(const struct jg_conf *c, size_t i);

/*
 * Print the merged configuration as JSON to f, with every value that a
 * schema marked secret replaced by "<secret>" (for --check-config).
 */
void conf_dump(const struct jg_conf *c, FILE *f);

/* The option type's name for messages ("duration", "address"...). */
const char *conf_type_name(int type);

/* Split "host:port" or "[v6]:port".  0 or -1 (not an address). */
int conf_split_address(const char *text, char *host, size_t hostlen,
		       char *port, size_t portlen);

#endif /* JG_CONF_H */
