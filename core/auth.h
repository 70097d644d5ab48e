/*
 * Identity and decisions for one configuration generation: the compiled
 * policy, the idp plugin instances in configured order, approver and
 * admin groups, grant settings and notifiers.  core/auth.c implements
 * core_authenticate, core_session_subject and core_decide on top of it;
 * core/review_hold.c core_review_hold; core/api.c the /v1 admin API.
 *
 * Config keys read here (besides "policy"):
 *   "identity": [{"plugin": "oidc", "name": "ci", "options": {...}}]
 *   "admin": {"approver_groups": [...], "admin_groups": [...]}
 *   "grants": {"max_ttl": "1h", "default_ttl": "15m", "grace": "30s"}
 *   "notify": [{"plugin": "webhook", "options": {...}}]
 */
#ifndef JG_AUTH_H
#define JG_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include <jitgate/host.h>

struct rt;
struct jg_conf;
struct policy;
struct jg_identity;

struct access_idp {
	const char *name;
	const struct jg_idp_ops *ops;
	void *state;
};

struct access_notifier {
	const struct jg_notify_ops *ops;
	void *state;
};

struct access {
	struct jg_conf *conf;
	struct policy *policy;
	struct access_idp *idps;
	size_t nidps;
	struct access_notifier *notifiers;
	size_t nnotifiers;
	char **approver_groups, **admin_groups; /* NULL-terminated */
	int64_t grant_max_ttl, grant_default_ttl, grant_grace; /* ms */
};

/* What core/auth.c hangs on a session (s->identity). */
struct auth_state {
	struct jg_identity *id;
	const struct access *acc;
	int64_t authenticated_at; /* unix seconds */
	struct policy_prepared *prep; /* id's part of every decision */
};

/* Build the generation's access state (called by rt_load on the main
 * thread); freed with the configuration. */
int auth_apply(struct rt *rt, char *err, size_t errlen);

/* The newest live generation (main thread), or NULL. */
const struct access *access_current(void);
/* The generation of conf, or NULL (any thread). */
const struct access *access_for_conf(const struct jg_conf *conf);

/*
 * Run the idp instances in order on a bearer token (admin API, direct
 * token use).  JG_OK with *id, or JG_ERROR with err fit for the caller.
 */
int auth_idp_verify(const struct access *acc, const char *cred, size_t len,
		    struct jg_identity **id, char *err, size_t errlen);

/* Is id in one of the NULL-terminated groups? */
int auth_in_groups(const struct jg_identity *id, char *const *groups);

/* The session's identity or NULL. */
const struct jg_identity *auth_session_identity(const struct jg_session *s);

/* Tell every notifier (main thread). */
void auth_notify(const char *event, const char *json);

/*
 * State through the store (core/api_grants.c, core/review_store.c), main
 * thread: auth_activate() when a generation becomes the running one
 * reads stored grants and reviews and follows changes other gateways
 * make; auth_state_loaded() once both were read; auth_shutdown() stops
 * following before the store goes away.
 */
void auth_activate(void);
int auth_state_loaded(void);
void auth_shutdown(void);

#endif /* JG_AUTH_H */
