/*
 * The policy engine: rules in JSON compiled once per configuration
 * generation, then asked for decisions by any worker thread at once.
 *
 * Pure: depends on json-c and libc only, so the jitgate CLI links it for
 * `jitgate policy test` without a running gateway.
 *
 * Evaluation: rules are tried in file order and the first one that
 * matches decides; when none matches the answer is deny (rule "default").
 * See docs/policy.md for the rule language.
 */
#ifndef JG_POLICY_H
#define JG_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jitgate/host.h>

struct json_object;
struct policy;
struct policy_rule;

/* Limits on what an identity may carry, so a token cannot make the
 * gateway allocate without bound. */
#define IDENTITY_MAX_GROUPS 256
#define IDENTITY_MAX_CLAIMS 256
#define IDENTITY_MAX_STRING 4096

/*
 * An authenticated caller: filled by an idp plugin through the host's
 * identity_* services, or rebuilt from a grant.  Owned strings.
 */
#define IDENTITY_MAGIC 0x4a474944U /* "JGID" */
struct jg_identity {
	uint32_t magic;
	char *subject;
	char **groups;
	size_t ngroups;
	struct jg_attr *claims; /* key/value, owned; keys may repeat */
	size_t nclaims;
	int64_t expiry;   /* unix seconds, 0: none */
	char *source;     /* idp instance name, or "grant" */
	char *grant_id;   /* set when the credential was a grant */
};

/* The builder an idp plugin fills in is the identity itself. */
struct jg_identity_builder {
	struct jg_identity id;
};

/* core/policy_identity.c */
struct jg_identity *identity_new(void);
void identity_free(struct jg_identity *id);
struct jg_identity *identity_dup(const struct jg_identity *id);
int identity_set_subject(struct jg_identity_builder *b, const char *subject);
int identity_add_group(struct jg_identity_builder *b, const char *group);
int identity_set_claim(struct jg_identity_builder *b, const char *key,
		       const char *value);
void identity_set_expiry(struct jg_identity_builder *b, int64_t exp);
int identity_set_source(struct jg_identity *id, const char *source);
int identity_has_group(const struct jg_identity *id, const char *group);
/* {"sub": "...", "groups": [...], "claims": {"k": "v" or ["v", ...]}} */
struct jg_identity *identity_from_json(const struct json_object *o, char *err,
				       size_t errlen);
struct json_object *identity_to_json(const struct jg_identity *id);

/* An approval rule: each listed group must give `count` approvals. */
struct policy_approval_need {
	char *group;
	unsigned count;
};
struct policy_approval {
	struct policy_approval_need *need;
	size_t n;
	int64_t timeout_ms; /* 0: the reviews default */
};

/* A decision with what the caller needs beyond the host's jg_decision. */
struct policy_result {
	struct jg_decision d;
	const struct policy_rule *rule; /* NULL: default deny */
	size_t index;                   /* rule position in the file */
	int64_t max_ttl_ms;             /* grants: 0 = not bounded here */
	int64_t max_sessions;           /* grants: 0 = not bounded here */
	const struct policy_approval *approval; /* effect review */
};

/*
 * Compile obj, the value of the config's "policy" key ({"rules": [...]}),
 * or NULL for an empty policy (deny everything).  On error return NULL
 * with "policy.rules[N].key: what is wrong" in err.
 */
struct policy *policy_compile(const struct json_object *obj, char *err,
			      size_t errlen);
void policy_free(struct policy *p);
size_t policy_rule_count(const struct policy *p);

/*
 * Decide action a on connection conn for identity id (NULL before
 * authentication: identity conditions then never match).  Thread-safe,
 * allocation-free.  Always fills out; returns its effect.
 */
int policy_decide(const struct policy *p, const struct jg_identity *id,
		  const char *conn, const struct jg_action *a,
		  struct policy_result *out);

/*
 * The connection and identity part of every decision of one session,
 * worked out once: the rules whose connection and identity conditions
 * hold, so that each later decision only looks at the action.  The
 * identity does not change during a session, so core_decide prepares at
 * authentication and keeps the result with the session.
 *
 * policy_prepare borrows p and id: free the result before either.  NULL
 * when p is NULL or out of memory (policy_decide_prepared then decides
 * the slow way).
 */
struct policy_prepared;
struct policy_prepared *policy_prepare(const struct policy *p,
				       const struct jg_identity *id,
				       const char *conn);
void policy_prepared_free(struct policy_prepared *pp);

/*
 * The same decision as policy_decide(p, id, conn, a, out), faster when
 * pp was prepared for this p, id and conn; any other pp (or NULL) is
 * ignored and the decision made without it.
 */
int policy_decide_prepared(const struct policy_prepared *pp,
			   const struct policy *p,
			   const struct jg_identity *id, const char *conn,
			   const struct jg_action *a,
			   struct policy_result *out);

/*
 * Explain: call fn for every rule in order with whether it matched and,
 * if not, the first condition that failed, until the deciding rule.
 * Slow path for `jitgate policy test`.
 */
typedef void (*policy_trace_fn)(void *ud, size_t index, const char *rule,
				int matched, const char *why);
void policy_trace(const struct policy *p, const struct jg_identity *id,
		  const char *conn, const struct jg_action *a,
		  policy_trace_fn fn, void *ud);

/* Look a rule up by name (reviews find their approval rule this way). */
const struct policy_rule *policy_rule_find(const struct policy *p,
					   const char *name);
const char *policy_rule_name(const struct policy_rule *r);
const struct policy_approval *
policy_rule_approval(const struct policy_rule *r);

/* Names of effects and record levels as written in the policy. */
const char *policy_effect_name(int effect);
const char *policy_record_name(int level);

/* "30s", "15m", "2h", "1d", "250ms" or plain milliseconds. */
int policy_parse_duration(const char *text, int64_t *ms);

/* Glob matching as rules use it (exposed for tests and the benchmark). */
int policy_glob_match(const char *pattern, const char *text);

#endif /* JG_POLICY_H */
