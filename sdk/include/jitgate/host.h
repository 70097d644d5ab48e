/*
 * jitgate plugin SDK: the host services table.
 *
 * The core exports no symbols to plugins.  Everything a plugin may ask of
 * the core goes through this table of function pointers, handed to init().
 * The table only grows by appending (see the changelog in jitgate.h); check
 * host->size before using a service newer than the ABI minor you built for.
 *
 * Threads: every session belongs to one worker thread and its event loop
 * for its whole life.  Functions taking a session, stream, io or timer must
 * be called on that session's worker thread.  loop_post() is the one way in
 * from another thread.
 */
#ifndef JITGATE_HOST_H
#define JITGATE_HOST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <jitgate/jitgate.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque handles.  Their layout is the core's business. */
struct jg_session;  /**< one client connection and what it opened */
struct jg_stream;   /**< a buffered, non-blocking byte stream, maybe TLS */
struct jg_loop;     /**< an event loop (one per worker, one main) */
struct jg_io;       /**< a file descriptor watcher */
struct jg_timer;    /**< a timer */
struct jg_identity; /**< an authenticated caller */
struct jg_identity_builder; /**< filled in by an idp plugin */

/** Log levels, syslog order. */
enum jg_log_level {
	JG_LOG_ERROR = 3,
	JG_LOG_WARN = 4,
	JG_LOG_INFO = 6,
	JG_LOG_DEBUG = 7
};

/** I/O readiness bits for io_add(). */
#define JG_IO_READ 0x1
#define JG_IO_WRITE 0x2

/** A key/value pair: action attributes, record fields, log fields. */
struct jg_attr {
	const char *key;   /**< attribute name, e.g. "table" */
	const char *value; /**< its value; keys may repeat for lists */
};

/**
 * An action a protocol plugin asks policy about.  The attribute vocabulary
 * per type is documented in docs/policy.md, e.g. type "sql" has "class",
 * "table", "function", "flag"; type "http" has "method" and "path".
 */
struct jg_action {
	const char *type;            /**< "connect", "sql", "http", "k8s", "ssh" */
	const struct jg_attr *attrs; /**< attributes policy may match */
	size_t nattrs;               /**< number of attrs */
	const char *text;            /**< exact text (statement, request line);
	                                  reviews bind to it; may be NULL */
};

/** What policy decided. */
enum jg_effect {
	JG_EFFECT_DENY = 0,   /**< refuse; the default */
	JG_EFFECT_ALLOW = 1,  /**< go ahead */
	JG_EFFECT_REVIEW = 2  /**< hold for human approval (review_hold) */
};

/** A decision, with the rule that made it so it can be explained. */
struct jg_decision {
	int effect;             /**< enum jg_effect */
	char rule[128];         /**< name of the matching rule, or "default" */
	char reason[256];       /**< human words: why */
	char mask_profile[64];  /**< masking profile to apply, "" for none */
	int record_level;       /**< 0 none, 1 metadata, 2 full */
};

/** Outcome of a review, passed to the review_hold() callback. */
enum jg_review_outcome {
	JG_REVIEW_APPROVED = 1,
	JG_REVIEW_DENIED = 2,
	JG_REVIEW_EXPIRED = 3,
	JG_REVIEW_FAILED = 4  /**< could not be created or tracked */
};

/** Callback for review_hold(): the held action may go on, or not. */
typedef void (*jg_review_cb)(void *ud, int outcome, const char *review_id,
			     const char *detail);

/** Callback for io_add(): events is JG_IO_READ and/or JG_IO_WRITE. */
typedef void (*jg_io_cb)(void *ud, int fd, int events);
/** Callback for timers and loop_post(). */
typedef void (*jg_task_cb)(void *ud);

/**
 * Events of a stream.  Any member may be NULL.  The stream is valid during
 * each call; close it from any callback.
 */
struct jg_stream_events {
	/** New bytes are in the input buffer: stream_peek()/stream_consume(). */
	void (*on_readable)(struct jg_stream *st, void *ud);
	/** Output fell below the low-water mark after a JG_AGAIN write. */
	void (*on_drained)(struct jg_stream *st, void *ud);
	/** An outgoing connect (and TLS handshake) finished; status JG_OK or
	 *  JG_ERROR with err saying why. */
	void (*on_connected)(struct jg_stream *st, int status, const char *err,
			     void *ud);
	/** The peer closed (status JG_OK) or the stream failed (JG_ERROR).
	 *  Input still buffered may be read; writes are refused. */
	void (*on_closed)(struct jg_stream *st, int status, const char *reason,
			  void *ud);
};

/** Options for an outgoing TLS connection. */
struct jg_tls_client {
	const char *ca_file;     /**< PEM bundle; NULL: system trust store */
	const char *server_name; /**< SNI and host name check; NULL: the host */
	int verify;              /**< non-zero: verify chain and host name */
	const char *cert_file;   /**< client certificate (PEM) or NULL */
	const char *key_file;    /**< its key (PEM) or NULL */
};

/**
 * One value of a host mask_values() call (ABI 1.3).  The caller fills the
 * "in" fields; the core fills the "out" ones.
 */
struct jg_mask_item {
	/** in: "schema.table.column" or a key name, or NULL (as for
	 *  mask_value()). */
	const char *column;
	/** in: PostgreSQL type name ("int4", "text", "jsonb"...) or NULL
	 *  (text).  A value whose type cannot carry a replacement string
	 *  comes back as JG_MASK_NULL when anything in it is masked. */
	const char *type;
	/** in: the value, len bytes (NULL only when len is 0). */
	const char *in;
	/** in: its length. */
	size_t len;
	/** in/out: the core's memo of whether a column rule applies to
	 *  column under the session's profile.  Set it to 0 when column is
	 *  new (a new result description) and hand back what the last call
	 *  left for the same column: the rule is then looked up once per
	 *  result, not once per value.  Opaque otherwise. */
	uint32_t hint;
	/** out: JG_OK (send out/outlen) or JG_MASK_NULL (send NULL). */
	int status;
	/** out: non-zero if what to send differs from in. */
	int changed;
	/** out: the value to send (in itself when unchanged; else session
	 *  memory valid until the session's next mask call). */
	const char *out;
	/** out: its length. */
	size_t outlen;
};

/**
 * The host services table.  Starts with a frozen prefix like the
 * descriptor; everything after it is appended, never reordered.
 */
struct jg_host {
	uint32_t magic;     /**< JG_PLUGIN_MAGIC */
	uint16_t abi_major; /**< core's JG_ABI_MAJOR */
	uint16_t abi_minor; /**< core's JG_ABI_MINOR */
	uint32_t size;      /**< sizeof(struct jg_host) in the core */

	/* ---- logging, memory ---- */

	/**
	 * Write a structured log line.  plugin is the caller's name, s may be
	 * NULL, msgid is a stable id such as "PG0012".  Never pass a secret.
	 */
	void (*log)(const char *plugin, const struct jg_session *s, int level,
		    const char *msgid, const char *fmt, ...)
		__attribute__((format(printf, 5, 6)));

	/** Allocate n bytes that live as long as the session; freed with it. */
	void *(*session_alloc)(struct jg_session *s, size_t n);

	/** Run fn(ud) when the session ends, in reverse order of adding. */
	int (*session_cleanup)(struct jg_session *s, jg_task_cb fn, void *ud);

	/* ---- configuration ---- */

	/** A string or address option, or the default; NULL if neither. */
	const char *(*cfg_string)(const struct jg_config *c, const char *key);
	/** An int, duration (ms), size (bytes) or bool (0/1) option. */
	int64_t (*cfg_int)(const struct jg_config *c, const char *key);
	/** Number of items of a list option (0 if unset). */
	size_t (*cfg_list_len)(const struct jg_config *c, const char *key);
	/** Item i of a list option. */
	const char *(*cfg_list_item)(const struct jg_config *c, const char *key,
				     size_t i);
	/** A JSON option as compact JSON text; NULL if unset. */
	const char *(*cfg_json)(const struct jg_config *c, const char *key);
	/** A secret option, resolved at load; *len gets its length.  The
	 *  bytes stay valid while the config is live.  Never log them. */
	const char *(*cfg_secret)(const struct jg_config *c, const char *key,
				  size_t *len);
	/** Where an option was set, "file:line", for error messages. */
	const char *(*cfg_where)(const struct jg_config *c, const char *key);

	/* ---- event loops ---- */

	/** The loop of the session's worker thread. */
	struct jg_loop *(*session_loop)(struct jg_session *s);
	/** The main thread's loop, for background work (key refresh...). */
	struct jg_loop *(*main_loop)(void);
	/** Watch fd for events; NULL on failure. */
	struct jg_io *(*io_add)(struct jg_loop *l, int fd, int events,
				jg_io_cb cb, void *ud);
	/** Change the events watched. */
	void (*io_set)(struct jg_io *io, int events);
	/** Stop watching and free the watcher (does not close fd). */
	void (*io_del)(struct jg_io *io);
	/** Call cb after ms, then every repeat_ms if non-zero. */
	struct jg_timer *(*timer_add)(struct jg_loop *l, uint64_t ms,
				      uint64_t repeat_ms, jg_task_cb cb,
				      void *ud);
	/** Cancel and free a timer. */
	void (*timer_del)(struct jg_timer *t);
	/** Run cb(ud) on loop l soon.  Safe from any thread. */
	int (*loop_post)(struct jg_loop *l, jg_task_cb cb, void *ud);

	/* ---- sessions ---- */

	/** Stable id of the session, e.g. "s-4f1c...". */
	const char *(*session_id)(const struct jg_session *s);
	/** Peer address "ip:port" of the client. */
	const char *(*session_peer)(const struct jg_session *s);
	/** Non-zero if the client connected over loopback. */
	int (*session_is_loopback)(const struct jg_session *s);
	/** The stream to the client. */
	struct jg_stream *(*session_client)(struct jg_session *s);
	/** End the session: the core closes its streams and calls the
	 *  plugin's session_close.  reason is logged and recorded. */
	void (*session_end)(struct jg_session *s, const char *reason);
	/**
	 * Bind the session to a named connection from the config.  Returns
	 * the connection's options (validated against the protocol plugin's
	 * connection schema) or NULL if no such connection exists for this
	 * protocol.
	 */
	const struct jg_config *(*session_connection)(struct jg_session *s,
						      const char *name);
	/** The listener's instance options. */
	const struct jg_config *(*session_listener)(struct jg_session *s);

	/* ---- streams ---- */

	/** Set the callbacks and their user data. */
	void (*stream_set_events)(struct jg_stream *st,
				  const struct jg_stream_events *ev, void *ud);
	/**
	 * Open an outgoing connection for session s to host:port, with TLS
	 * if tls is not NULL.  Completion is reported by on_connected (set
	 * events right after this returns).  Fails by on_connected with
	 * JG_ERROR after timeout_ms.
	 */
	struct jg_stream *(*stream_connect)(struct jg_session *s,
					    const char *host, const char *port,
					    const struct jg_tls_client *tls,
					    uint32_t timeout_ms);
	/** View the buffered input: returns its length, *data its start. */
	size_t (*stream_peek)(struct jg_stream *st, const uint8_t **data);
	/** Drop n bytes from the front of the input. */
	void (*stream_consume)(struct jg_stream *st, size_t n);
	/**
	 * Queue bytes for the peer.  JG_OK: queued.  JG_AGAIN: queued, but
	 * the output is over its high-water mark: stop producing until
	 * on_drained.  JG_ERROR: the stream is closed.
	 */
	int (*stream_write)(struct jg_stream *st, const void *data, size_t n);
	/** Stop or restart reading from the peer (backpressure). */
	void (*stream_read_enable)(struct jg_stream *st, int on);
	/**
	 * Start TLS on a plain stream in the middle of a protocol
	 * (PostgreSQL SSLRequest).  On the client stream the listener's
	 * certificate is used and tls must be NULL.  Completion comes as
	 * on_connected.
	 */
	int (*stream_starttls)(struct jg_stream *st,
			       const struct jg_tls_client *tls);
	/** Non-zero if the stream is TLS-protected now. */
	int (*stream_is_tls)(const struct jg_stream *st);
	/** Bytes queued for the peer and not yet written. */
	size_t (*stream_pending)(const struct jg_stream *st);
	/** Close after the queued output is written. */
	void (*stream_shutdown)(struct jg_stream *st);
	/** Close now, dropping queued output. */
	void (*stream_close)(struct jg_stream *st);
	/**
	 * Relay bytes both ways between a and b until either side closes,
	 * with backpressure, counting bytes for metrics and records.  The
	 * core takes over both streams' events; when the relay ends the
	 * session ends.  Use it when a plugin has nothing more to inspect.
	 */
	int (*stream_splice)(struct jg_stream *a, struct jg_stream *b);

	/* ---- identity, policy, reviews ---- */

	/**
	 * Authenticate a credential presented by the client (a jitgate
	 * grant credential or an identity token) for connection conn.  On
	 * JG_OK the session is bound to the identity.  JG_DECLINED or
	 * JG_ERROR: refused, err says why in words fit for the client.
	 */
	int (*authenticate)(struct jg_session *s, const char *user,
			    const char *credential, size_t len,
			    const char *conn, char *err, size_t errlen);
	/** The session's identity subject, NULL before authenticate. */
	const char *(*session_subject)(const struct jg_session *s);

	/** Decide an action for the session's identity and connection. */
	int (*decide)(struct jg_session *s, const struct jg_action *a,
		      struct jg_decision *out);

	/**
	 * Hold an action that policy sent to review.  Returns JG_AGAIN and
	 * calls cb later on the session's loop, or JG_ERROR (fail closed).
	 * *review_id gets the id to show the client (session memory).
	 */
	int (*review_hold)(struct jg_session *s, const struct jg_action *a,
			   const struct jg_decision *d, jg_review_cb cb,
			   void *ud, const char **review_id);

	/* ---- masking ---- */

	/**
	 * Mask one value under the session's masking profile.  column is
	 * "schema.table.column" or a key name, may be NULL.  On JG_OK,
	 * *out and *outlen is the value to send (session memory, valid until
	 * the session's next mask_value call: copy it before then; or in
	 * itself when nothing changed) and *changed says whether it differs.
	 * JG_MASK_NULL (mask.h): the value must be sent as NULL (its type
	 * cannot carry a replacement).  Any other status, JG_ERROR among
	 * them: the value must not be sent (fail closed).
	 */
	int (*mask_value)(struct jg_session *s, const char *column,
			  const char *in, size_t len, const char **out,
			  size_t *outlen, int *changed);

	/* ---- recording ---- */

	/**
	 * Append an event to the session's record.  JG_ERROR means it could
	 * not be recorded and, unless the config chose best effort, the
	 * action must not happen.  Secrets are redacted by the core.
	 */
	int (*record)(struct jg_session *s, const char *event,
		      const struct jg_attr *attrs, size_t n);

	/* ---- metrics ---- */

	/** Add delta to counter name{plugin="..."}; created on first use. */
	void (*metric_add)(const char *plugin, const char *name,
			   int64_t delta);

	/* ---- identity builder, for idp plugins ---- */

	/** Set the subject (required). */
	int (*identity_set_subject)(struct jg_identity_builder *b,
				    const char *subject);
	/** Add a group the identity belongs to. */
	int (*identity_add_group)(struct jg_identity_builder *b,
				  const char *group);
	/** Set a claim policy may match ("repository", "ref", ...). */
	int (*identity_set_claim)(struct jg_identity_builder *b,
				  const char *key, const char *value);
	/** Set when the identity stops being valid (unix seconds). */
	void (*identity_set_expiry)(struct jg_identity_builder *b,
				    int64_t exp);

	/* ---- appended in ABI 1.1 ---- */

	/**
	 * Bytes read from (*in) and written to (*out) the peer of st so far,
	 * including what stream_splice() relayed.  Either pointer may be
	 * NULL.  For records of a session's size.
	 */
	void (*stream_counts)(const struct jg_stream *st, uint64_t *in,
			      uint64_t *out);

	/* ---- appended in ABI 1.2 ---- */

	/**
	 * Non-zero while the core only checks a configuration (jitgated
	 * --check-config) and will serve nothing with it.  init() should
	 * then validate everything it can but take no exclusive resource
	 * (a lock another running gateway holds, a port) and start no
	 * background work, so that checking a change for a running gateway
	 * works.  Check host->size before calling it.
	 */
	int (*checking)(void);

	/* ---- appended in ABI 1.3 ---- */

	/**
	 * Give up an action this session holds for review (review_hold)
	 * because nobody waits for it any more: the client canceled it
	 * (PostgreSQL's CancelRequest), or disconnected, or the session is
	 * ending (call it from session_close; the record is still open
	 * there).  The review becomes "withdrawn", a final state kept in
	 * the store like the others: approving or denying it afterwards
	 * fails, and the session's record says it was withdrawn and why.
	 * Once this returns, the review_hold() callback for review_id is
	 * never called.  JG_OK; JG_DECLINED if the session holds no such
	 * review (its outcome was delivered already, or it was withdrawn);
	 * JG_ERROR on a bad argument.  reason is words for the record and
	 * approvers ("canceled by the client").  A session that ends still
	 * holding a review has it withdrawn by the core in any case.  Check
	 * JG_HOST_HAS(host, review_withdraw) before calling it.
	 */
	int (*review_withdraw)(struct jg_session *s, const char *review_id,
			       const char *reason);

	/**
	 * Mask n values in one call under the session's masking profile:
	 * all the values of a result row, say.  The same as n mask_value()
	 * calls (with each item's type), for less per value: one call, and
	 * a column's rule looked up once while its hint is kept.  JG_OK:
	 * every item's status says what to send (every changed out stays
	 * valid together until the session's next mask call).  Any other
	 * status: send none of them (fail closed).  n is at most 65535.
	 * With n == 0 (v may be NULL) it masks nothing and says whether
	 * column rules could apply: 1 when the session's profile has any,
	 * JG_OK (0) when it has none or no profile applies; for values the
	 * caller cannot name (it must then not send them).  Check
	 * JG_HOST_HAS(host, mask_values) before calling it.
	 */
	int (*mask_values)(struct jg_session *s, struct jg_mask_item *v,
			   size_t n);

	/**
	 * Why the gateway itself is ending session s (its grant expired or
	 * was revoked, an admin killed it, the idle timeout, shutdown,
	 * recording failed), for the protocol's last word to the client:
	 * call it from session_close.  NULL while the session is not
	 * ending, or when this plugin ended it through session_end().  The
	 * words name no secret and are fit for the client.  Check
	 * JG_HOST_HAS(host, session_end_reason) before calling it.
	 */
	const char *(*session_end_reason)(const struct jg_session *s);

	/* ---- appended in ABI 1.4 ---- */

	/**
	 * Whether a column rule of the session's masking profile covers
	 * column ("schema.table.column"): 1 it does, 0 it does not (or no
	 * profile applies), JG_ERROR it cannot tell (fail closed).  For a
	 * value computed from a column, which carries no column name of its
	 * own when it reaches the client.  Check JG_HOST_HAS(host,
	 * mask_column_rule) before calling it.
	 */
	int (*mask_column_rule)(struct jg_session *s, const char *column);
};

/** Non-zero if host h provides the service named member. */
#define JG_HOST_HAS(h, member)                                                \
	((h)->size >= offsetof(struct jg_host, member) + sizeof((h)->member) && \
	 (h)->member != NULL)

#ifdef __cplusplus
}
#endif

#endif /* JITGATE_HOST_H */
