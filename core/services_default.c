/*
 * Fail-closed defaults for the core services (services.h), one function
 * each.  Until the engineer who owns a service moves its function into
 * its own file (core/auth.c, core/policy.c, core/review.c,
 * core/maskcore.c, core/record.c) and deletes it here, the service
 * refuses: nothing happens that could not be authenticated, decided,
 * masked or recorded.
 */
#include "config.h"
#include "services.h"

#include <stdio.h>
#include <string.h>

int core_authenticate(struct jg_session *s, const char *user,
		      const char *credential, size_t len, const char *conn,
		      char *err, size_t errlen)
{
	snprintf(err, errlen, "authentication is not configured");
	return JG_ERROR;
}

const char *core_session_subject(const struct jg_session *s)
{
	return NULL;
}

int core_decide(struct jg_session *s, const struct jg_action *a,
		struct jg_decision *out)
{
	memset(out, 0, sizeof(*out));
	out->effect = JG_EFFECT_DENY;
	snprintf(out->rule, sizeof(out->rule), "default");
	snprintf(out->reason, sizeof(out->reason),
		 "policy is not configured");
	return JG_OK;
}

int core_review_hold(struct jg_session *s, const struct jg_action *a,
		     const struct jg_decision *d, jg_review_cb cb, void *ud,
		     const char **review_id)
{
	return JG_ERROR; /* reviews are not configured */
}

int core_mask_value(struct jg_session *s, const char *column, const char *in,
		    size_t len, const char **out, size_t *outlen,
		    int *changed)
{
	return JG_ERROR; /* masking is not configured: do not send */
}

/* core_record: core/record.c (fails closed until recording is configured) */
