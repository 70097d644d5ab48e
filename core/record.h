/*
 * Session recording: core_record() (core/services.h) and the helpers the
 * session layer, authentication and policy call so every session becomes
 * one tamper-evident record in the store.
 *
 * Per session: a hash chain (record_chain.h) whose events are redacted
 * (redact.h) and appended to the store in order.  At the end the record
 * gets a "disconnect" and a "seal" event and is closed.
 *
 * Failure is closed: when the store cannot take an event, core_record()
 * returns JG_ERROR for that session from then on (the plugin refuses the
 * action), the session is ended after recording.grace, and new sessions
 * are refused for a short while.  "mode": "best_effort" records what it
 * can instead.  Either way it is logged and counted:
 *   jitgate_record_events_total, jitgate_record_failures_total,
 *   jitgate_record_dropped_total, jitgate_record_refused_total
 *
 * Threads: every function taking a session runs on its worker thread;
 * the per-session state is private to that thread.
 */
#ifndef JG_RECORD_H
#define JG_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include <jitgate/host.h>

struct jg_config;

/* The "recording" section's schema: key (secret, required), mode
 * ("required" or "best_effort"), grace (duration). */
extern const struct jg_option record_options[];

/*
 * Configure recording from the validated "recording" section (built by
 * the caller with conf_section(..., record_options, ...)); host is the
 * core's host table.  Call at start and after each reload, from the main
 * thread.  Sessions keep the key they started with.
 */
/*
 * How the recorder ends a session whose recording failed past its grace:
 * the core's own session_end (so the client is told why), not the host
 * table's, which counts as the plugin's doing.  Unset (unit tests): the
 * host's session_end.
 */
void record_set_end(void (*end)(struct jg_session *s, const char *reason));

int record_configure(const struct jg_host *host, const struct jg_config *sec,
		     char *err, size_t errlen);
/* Only the checks of record_configure (key length, mode). */
int record_check(const struct jg_host *host, const struct jg_config *sec,
		 char *err, size_t errlen);
/*
 * core/record_load.c: from a loaded configuration, make the "store"
 * section's plugin instance (store_set) and configure "recording".  No
 * store: nothing is configured and core_record() refuses.  0 or -1 with
 * err.  The runtime calls it once per configuration generation.
 */
struct jg_registry;
struct jg_conf;
int record_load(struct jg_registry *plugins, struct jg_conf *c,
		const struct jg_host *host, char *err, size_t errlen);

/*
 * The same in two steps: record_prepare() validates both sections and
 * makes the store instance (only validates its options when check_only),
 * record_apply() installs them when that configuration becomes the
 * running one.  A configuration without a store uninstalls it.
 */
struct jg_store_ops;
struct record_setup {
	const struct jg_store_ops *ops; /* NULL: no store */
	void *instance;
	const struct jg_config *recording;
	const struct jg_host *host;
};
int record_prepare(struct jg_registry *plugins, struct jg_conf *c,
		   const struct jg_host *host, int check_only,
		   struct record_setup *out, char *err, size_t errlen);
int record_apply(const struct record_setup *rs, char *err, size_t errlen);

/* Forget the configuration (shutdown); open sessions keep their key. */
void record_shutdown(void);
/* After every worker and plugin thread is gone: free the records of
 * ended sessions whose last appends the store never completed. */
void record_free_orphans(void);

/* Record levels, as in jg_decision.record_level. */
enum {
	RECORD_NONE = 0,     /* only lifecycle and decision events */
	RECORD_METADATA = 1, /* statements without their text and data */
	RECORD_FULL = 2      /* everything, redacted */
};

/* The host's record(): append an event to the session's record. */
int core_record(struct jg_session *s, const char *event,
		const struct jg_attr *attrs, size_t n);

/*
 * The session layer calls these.  begin records "connect" (peer and the
 * attributes given) and returns JG_ERROR when new sessions are refused
 * (the store is failing), with the reason in err for the client.  end
 * records "disconnect" with the reason, seals and closes the record; it
 * also runs by itself when the session is cleaned up.
 */
int record_session_begin(struct jg_session *s, const struct jg_attr *attrs,
			 size_t n, char *err, size_t errlen);
void record_session_end(struct jg_session *s, const char *reason);
/* The same with more attributes for "disconnect" (byte counts). */
void record_session_end_attrs(struct jg_session *s, const char *reason,
			      const struct jg_attr *attrs, size_t n);

/* Recording is configured (a store and a key): the session layer and
 * policy then refuse what cannot be recorded.  Without it, protocol
 * plugins decide (host->record() fails for them). */
int record_configured(void);
/* "mode": "best_effort" */
int record_best_effort(void);

/*
 * A record of its own, outside any session: one event of type with
 * attrs, sealed and closed at once, as record sid (review steps).
 * Callbacks run on loop l.  JG_OK, or JG_ERROR when it cannot be
 * recorded (JG_OK in best-effort mode).
 */
int record_standalone(struct jg_loop *l, const char *sid, const char *type,
		      const struct jg_attr *attrs, size_t n);

/* Policy calls this for each decision: records it with its rule and
 * applies the decision's record level to the session's later events. */
int record_decision(struct jg_session *s, const struct jg_action *a,
		    const struct jg_decision *d);

/* Set the session's record level (RECORD_*). */
void record_set_level(struct jg_session *s, int level);

/* Non-zero while new sessions are refused because the store failed. */
int record_refusing(void);

#endif /* JG_RECORD_H */
