/*
 * The plugin loader and registry.
 *
 * A registry holds the plugins one configuration generation named in
 * "plugins", and the instances made from them.  It belongs to that
 * generation: loader_load() ties it to the jg_conf, and when the last
 * reference to the conf goes, instances are finalised (fini, in reverse
 * order of creation) and the shared objects closed.  A reload builds a
 * new registry; dlopen() shares the mapping of a plugin that both
 * generations name.
 *
 * Every check that refuses a plugin says what it wanted and what it
 * found, into a caller-supplied buffer (nginx style).
 */
#ifndef JG_LOADER_H
#define JG_LOADER_H

#include <stddef.h>
#include <stdio.h>

#include <jitgate/host.h>
#include <jitgate/jitgate.h>

struct jg_conf;
struct jg_config;
struct json_object;
struct jg_registry;

/* One loaded and checked plugin. */
struct jg_loaded {
	const struct jg_plugin *plugin; /* its descriptor */
	const char *name;               /* plugin->name */
	const char *path;               /* the file it came from */
};

/* One configured instance of a plugin: made by init(), ended by fini(). */
struct jg_instance {
	const struct jg_loaded *loaded;
	const struct jg_config *cfg; /* its validated "options" */
	void *state;                 /* what init() returned */
	const char *keypath;         /* "listeners[0]", for messages */
};

/* Smallest descriptor / ops tables this core accepts (ABI 1.0 fields). */
size_t loader_min_descriptor_size(void);
size_t loader_min_ops_size(uint32_t kind);
/* "protocol", "idp", "mask", "store", "notify", or "unknown". */
const char *loader_kind_name(uint32_t kind);

/* An empty registry; plugin_dir is where bare names are looked up and
 * basedir the directory relative paths are taken from (may be NULL). */
struct jg_registry *loader_new(const char *plugin_dir, const char *basedir);
void loader_free(struct jg_registry *r);

/*
 * Load and check one plugin: spec is a bare name (plugin_dir/NAME.so) or
 * a path (contains a '/').  On failure return NULL with
 * "PATH: what was wanted, what was found" in err.
 */
const struct jg_loaded *loader_open(struct jg_registry *r, const char *spec,
				    char *err, size_t errlen);

/*
 * Load every plugin in c's "plugins" into a new registry owned by c
 * (freed with it).  Errors are prefixed "FILE:LINE: plugins[i]: ".
 */
struct jg_registry *loader_load(struct jg_conf *c, char *err, size_t errlen);

/* Look-ups. */
const struct jg_loaded *loader_find(const struct jg_registry *r,
				    const char *name);
size_t loader_count(const struct jg_registry *r);
const struct jg_loaded *loader_at(const struct jg_registry *r, size_t i);
/* The next plugin of kind after prev (NULL: the first), or NULL. */
const struct jg_loaded *loader_next_kind(const struct jg_registry *r,
					 uint32_t kind,
					 const struct jg_loaded *prev);
/* The kind-specific ops table, e.g. (const struct jg_protocol_ops *). */
const void *loader_ops(const struct jg_loaded *p);

/*
 * Make an instance of the plugin called name: validate options (the JSON
 * object found at keypath + ".options", NULL when absent) against the
 * plugin's schema with conf_section(), then call init(host, cfg, ...).
 * The instance lives in r until r is freed.  NULL with the reason in err:
 * "FILE:LINE: listeners[0].options.port: ..." or
 * "listeners[0]: plugin tcp: init failed: <the plugin's words>".
 */
struct jg_instance *loader_instance_new(struct jg_registry *r,
					struct jg_conf *c, const char *name,
					struct json_object *options,
					const char *keypath,
					const struct jg_host *host, char *err,
					size_t errlen);

/* For `jitgated --list-plugins`: one line per plugin with name, kind,
 * version, ABI and path, under a header line. */
void loader_print_list(const struct jg_registry *r, FILE *f);

#endif /* JG_LOADER_H */
