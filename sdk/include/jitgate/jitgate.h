/*
 * jitgate plugin SDK: the descriptor every plugin exports.
 *
 * A plugin is one shared object that exports exactly one symbol,
 * JG_PLUGIN_SYMBOL, a const struct jg_plugin.  The core dlopen()s it with
 * RTLD_NOW | RTLD_LOCAL, checks the frozen prefix, and calls init() once per
 * configured instance with the host services table (host.h).
 *
 * ABI CHANGELOG
 *
 * Rules: a field or function is never removed, moved or changed without a
 * major bump.  Additions go at the end of a struct and bump the minor, in
 * the same commit as the change.  The core loads plugins whose major equals
 * its own and whose minor is not newer than its own; a plugin checks
 * host->size before it uses a service added after the minor it was built
 * for.
 *
 *   1.0  first stable ABI: descriptor, option schema, host table, protocol,
 *        idp, mask, store and notify operation tables.
 *   1.1  host: stream_counts() appended (bytes a stream moved, for
 *        session records).  store: remove(), close_record() and
 *        list_records() appended to struct jg_store_ops; status rules
 *        written down (JG_DECLINED: missing document or version
 *        conflict; a watch id of NULL means "resync").  mask: struct
 *        jg_mask_field (column, type, carrier) passed to mask_value(),
 *        JG_MASK_NULL status, report flags, stream_init() op; host
 *        mask_value() may return JG_MASK_NULL.
 *   1.2  host: checking() appended (the core is only checking a
 *        configuration: take no exclusive resources, start no work).
 *   1.3  host: review_withdraw() appended (a protocol plugin gives up
 *        an action held for review when its client cancels or leaves;
 *        the review becomes "withdrawn").  host: mask_values() appended
 *        after it (a row's values masked in one call, struct
 *        jg_mask_item; column rules resolved once per result).  mask:
 *        column_rule() and mask_values() appended to struct jg_mask_ops
 *        (JG_MASK_OPS_HAS).  host: session_end_reason() appended (why
 *        the gateway ends a session, for the client's last message).
 *   1.4  host: mask_column_rule() appended (whether a column rule of the
 *        session's masking profile covers a column, for values computed
 *        from one, which reach the client without its name).
 */
#ifndef JITGATE_JITGATE_H
#define JITGATE_JITGATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** "JGPL" in ASCII: first field of every descriptor. */
#define JG_PLUGIN_MAGIC 0x4a47504cU
/** ABI major: bumped on any incompatible change. */
#define JG_ABI_MAJOR 1
/** ABI minor: bumped when something is appended. */
#define JG_ABI_MINOR 4
/** Name of the one symbol a plugin exports. */
#define JG_PLUGIN_SYMBOL "jg_plugin"

/** Mark the descriptor so it survives -fvisibility=hidden. */
#if defined(__GNUC__)
#define JG_EXPORT __attribute__((visibility("default")))
#else
#define JG_EXPORT
#endif

/** Status codes returned by plugin and host functions (nginx style). */
enum jg_status {
	JG_OK = 0,        /**< done */
	JG_AGAIN = 1,     /**< not done yet: a callback follows */
	JG_DECLINED = 2,  /**< not mine / not applicable; try the next one */
	JG_ERROR = -1     /**< failed; an error text says why */
};

/** Plugin kinds.  A plugin is exactly one kind. */
enum jg_kind {
	JG_KIND_PROTOCOL = 1, /**< owns a wire protocol (protocol.h) */
	JG_KIND_IDP = 2,      /**< verifies credentials (idp.h) */
	JG_KIND_MASK = 3,     /**< masks sensitive values (mask.h) */
	JG_KIND_STORE = 4,    /**< stores records and state (store.h) */
	JG_KIND_NOTIFY = 5    /**< tells people about reviews (notify.h) */
};

/** Highest kind number this ABI knows; the loader refuses larger. */
#define JG_KIND_MAX JG_KIND_NOTIFY

/** Types of configuration options a plugin can declare. */
enum jg_option_type {
	JG_OPT_STRING = 1,   /**< a JSON string */
	JG_OPT_INT = 2,      /**< a JSON integer */
	JG_OPT_BOOL = 3,     /**< true or false */
	JG_OPT_DURATION = 4, /**< "250ms", "30s", "15m", "2h" or milliseconds */
	JG_OPT_SIZE = 5,     /**< "64k", "16M", "1G" or bytes */
	JG_OPT_SECRET = 6,   /**< a reference "env:NAME" or "file:PATH" */
	JG_OPT_LIST = 7,     /**< an array of strings */
	JG_OPT_JSON = 8,     /**< any JSON value, handed over as text */
	JG_OPT_ADDRESS = 9   /**< "host:port", "[v6]:port" */
};

/**
 * One configuration option, nginx ngx_command_t style.  A plugin's options
 * form an array ending with an entry whose key is NULL.  The core validates
 * a plugin's configuration against it before init() and reports the file,
 * line and key path of any mistake.
 */
struct jg_option {
	const char *key;          /**< option name, lower_snake_case */
	enum jg_option_type type; /**< what the value must be */
	const char *def;          /**< default as config text, or NULL */
	int required;             /**< non-zero: must be given */
	int secret;               /**< non-zero: never logged or printed */
	const char *help;         /**< one line for docs and --help */
};

struct jg_host;   /* host.h */
struct jg_config; /* an instance's validated options; read via the host */

/**
 * The plugin descriptor.  The first four fields are frozen forever: the
 * loader reads them before it trusts anything else.
 */
struct jg_plugin {
	uint32_t magic;     /**< JG_PLUGIN_MAGIC */
	uint16_t abi_major; /**< JG_ABI_MAJOR the plugin was built with */
	uint16_t abi_minor; /**< JG_ABI_MINOR the plugin was built with */
	uint32_t size;      /**< sizeof(struct jg_plugin) at build time */
	/* --- end of frozen prefix --- */

	uint32_t kind;           /**< enum jg_kind */
	const char *name;        /**< unique, [a-z0-9_-]+, e.g. "postgres" */
	const char *version;     /**< the plugin's own version, e.g. "0.1.0" */
	const char *description; /**< one line for --list-plugins */
	const struct jg_option *options; /**< instance options, NULL-key end */

	/**
	 * Create one instance from its validated options.  Called on the main
	 * thread at start and on reload.  On failure write the reason into
	 * err (errlen bytes, NUL-terminated) and return JG_ERROR.
	 */
	int (*init)(const struct jg_host *host, const struct jg_config *cfg,
		    void **instance, char *err, size_t errlen);

	/** Destroy an instance made by init().  May be NULL. */
	void (*fini)(void *instance);

	/**
	 * Kind-specific operations: struct jg_protocol_ops, jg_idp_ops,
	 * jg_mask_ops, jg_store_ops or jg_notify_ops.  Each starts with its
	 * own size field.
	 */
	const void *ops;
};

/** Initialise the frozen prefix of a descriptor. */
#define JG_PLUGIN_PREFIX                                                      \
	.magic = JG_PLUGIN_MAGIC, .abi_major = JG_ABI_MAJOR,                  \
	.abi_minor = JG_ABI_MINOR, .size = sizeof(struct jg_plugin)

#ifdef __cplusplus
}
#endif

#endif /* JITGATE_JITGATE_H */
