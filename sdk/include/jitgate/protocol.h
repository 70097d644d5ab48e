/*
 * jitgate plugin SDK: protocol plugins.
 *
 * A protocol plugin owns one wire protocol on both sides of the gateway.
 * The core accepts a connection on a listener whose "protocol" names the
 * plugin, makes a session on one worker, and calls session_open().  From
 * then on the plugin drives the client stream and any upstream streams it
 * opens through the host table, asking the core to authenticate, decide,
 * mask and record.
 */
#ifndef JITGATE_PROTOCOL_H
#define JITGATE_PROTOCOL_H

#include <jitgate/host.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Operations of a JG_KIND_PROTOCOL plugin (descriptor ops). */
struct jg_protocol_ops {
	uint32_t size; /**< sizeof(struct jg_protocol_ops) at build time */

	/**
	 * Schema of a "connections" entry for this protocol (upstream
	 * address, credentials...), NULL-key terminated.  May be NULL.
	 */
	const struct jg_option *connection_options;

	/**
	 * A client connected.  Set the client stream's events and return
	 * JG_OK, storing per-session state in *state; JG_ERROR ends the
	 * session at once.  Runs on the session's worker thread.
	 */
	int (*session_open)(void *instance, struct jg_session *s,
			    void **state);

	/**
	 * The session is ending (client gone, session_end(), drain timeout
	 * or revocation).  Release state; the core closes the streams.
	 */
	void (*session_close)(void *instance, struct jg_session *s,
			      void *state);
};

#ifdef __cplusplus
}
#endif

#endif /* JITGATE_PROTOCOL_H */
