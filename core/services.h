/*
 * The core services behind the host table's identity, policy, review,
 * masking and recording entries.  core/host.c forwards the plugin-facing
 * functions here; each service lives in its own file:
 *
 *   core_authenticate, core_session_subject   core/auth.c    (grants, idp)
 *   core_decide                               core/policy.c
 *   core_review_hold, core_review_withdraw    core/review_hold.c
 *   core_mask_value, core_mask_values         core/maskcore.c
 *   core_record                               core/record.c
 *
 * Until a service is configured it fails closed: it returns JG_ERROR (or
 * a deny decision) and says why, so nothing happens that could not be
 * decided, masked or recorded.
 */
#ifndef JG_SERVICES_H
#define JG_SERVICES_H

#include <jitgate/host.h>

int core_authenticate(struct jg_session *s, const char *user,
		      const char *credential, size_t len, const char *conn,
		      char *err, size_t errlen);
const char *core_session_subject(const struct jg_session *s);
int core_decide(struct jg_session *s, const struct jg_action *a,
		struct jg_decision *out);
int core_review_hold(struct jg_session *s, const struct jg_action *a,
		     const struct jg_decision *d, jg_review_cb cb, void *ud,
		     const char **review_id);
int core_review_withdraw(struct jg_session *s, const char *review_id,
			 const char *reason);
int core_mask_value(struct jg_session *s, const char *column, const char *in,
		    size_t len, const char **out, size_t *outlen,
		    int *changed);
int core_mask_values(struct jg_session *s, struct jg_mask_item *v, size_t n);
int core_mask_column_rule(struct jg_session *s, const char *column);
int core_record(struct jg_session *s, const char *event,
		const struct jg_attr *attrs, size_t n);

#endif /* JG_SERVICES_H */
