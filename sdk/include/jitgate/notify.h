/*
 * jitgate plugin SDK: notifier plugins (webhook, chat).
 *
 * Told about review events so approvers learn of them.  A notifier never
 * blocks or fails a decision: delivery is its own business, in the
 * background.
 */
#ifndef JITGATE_NOTIFY_H
#define JITGATE_NOTIFY_H

#include <jitgate/host.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Operations of a JG_KIND_NOTIFY plugin (descriptor ops). */
struct jg_notify_ops {
	uint32_t size; /**< sizeof(struct jg_notify_ops) at build time */

	/**
	 * An event happened ("review.created", "review.approved",
	 * "review.denied", "review.expired").  json is the event body
	 * (review id, requester, connection, action text, approval rule).
	 * Called on the main thread; copy what you keep.
	 */
	void (*notify)(void *instance, const char *event, const char *json);
};

#ifdef __cplusplus
}
#endif

#endif /* JITGATE_NOTIFY_H */
