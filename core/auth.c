/*
 * Authentication and decisions for sessions: a jitgate grant credential
 * first (hash lookup, constant-time compare), then the configured idp
 * plugin instances in order; then the policy engine for every action.
 */
#include "config.h" /* autoconf */
#include "auth.h"
#include "maskcore.h"
#include "conf.h"
#include "grants.h"
#include "loader.h"
#include "log.h"
#include "policy.h"
#include "record.h"
#include "runtime.h"
#include "services.h"
#include "session.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <jitgate/idp.h>
#include <jitgate/notify.h>

#include "host.h"
#include "api_int.h"

/* A credential longer than this is refused before any work. */
#define MAX_CREDENTIAL 16384


static pthread_mutex_t gens_lock = PTHREAD_MUTEX_INITIALIZER;
static struct access **gens;
static size_t ngens;

const struct access *access_for_conf(const struct jg_conf *conf)
{
	const struct access *a = NULL;

	pthread_mutex_lock(&gens_lock);
	for (size_t i = 0; i < ngens; i++)
		if (gens[i]->conf == conf)
			a = gens[i];
	pthread_mutex_unlock(&gens_lock);
	return a;
}

const struct access *access_current(void)
{
	const struct access *a;

	pthread_mutex_lock(&gens_lock);
	a = ngens ? gens[ngens - 1] : NULL;
	pthread_mutex_unlock(&gens_lock);
	return a;
}

static void free_list(char **l)
{
	for (size_t i = 0; l && l[i]; i++)
		free(l[i]);
	free(l);
}

static void access_free(void *ud)
{
	struct access *a = ud;
	size_t k = 0;

	pthread_mutex_lock(&gens_lock);
	for (size_t i = 0; i < ngens; i++)
		if (gens[i] != a)
			gens[k++] = gens[i];
	ngens = k;
	pthread_mutex_unlock(&gens_lock);
	policy_free(a->policy);
	free(a->idps);
	free(a->notifiers);
	free_list(a->approver_groups);
	free_list(a->admin_groups);
	free(a);
}

static char **string_list(struct json_object *o, const char *what, char *err,
			  size_t errlen)
{
	size_t n = o ? json_object_array_length(o) : 0;
	char **l = calloc(n + 1, sizeof(*l));

	if (o && !json_object_is_type(o, json_type_array)) {
		free(l);
		snprintf(err, errlen, "%s: must be a list of group names", what);
		return NULL;
	}
	for (size_t i = 0; l && i < n; i++) {
		struct json_object *s = json_object_array_get_idx(o, i);

		if (!json_object_is_type(s, json_type_string)) {
			free_list(l);
			snprintf(err, errlen, "%s[%zu]: must be a string", what,
				 i);
			return NULL;
		}
		l[i] = strdup(json_object_get_string(s));
	}
	return l;
}

/* Instances of kind from a list section ("identity", "notify"). */
static int load_instances(struct rt *rt, const char *section, uint32_t kind,
			  struct json_object *list, char *err, size_t errlen,
			  void (*add)(struct access *, const char *,
				      const void *, void *),
			  struct access *acc)
{
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		struct json_object *e = json_object_array_get_idx(list, i), *p,
				   *o = NULL, *nm;
		struct jg_instance *inst;
		char kp[64];

		snprintf(kp, sizeof(kp), "%s[%zu]", section, i);
		if (!json_object_object_get_ex(e, "plugin", &p) ||
		    !json_object_is_type(p, json_type_string)) {
			snprintf(err, errlen, "%s: %s.plugin: required",
				 conf_where(rt->conf, kp), kp);
			return -1;
		}
		json_object_object_get_ex(e, "options", &o);
		inst = loader_instance_new(rt->plugins, rt->conf,
					   json_object_get_string(p), o, kp,
					   &core_host, err, errlen);
		if (!inst)
			return -1;
		if (inst->loaded->plugin->kind != kind) {
			snprintf(err, errlen, "%s: %s.plugin: %s is a %s plugin",
				 conf_where(rt->conf, kp), kp,
				 json_object_get_string(p),
				 loader_kind_name(inst->loaded->plugin->kind));
			return -1;
		}
		add(acc,
		    json_object_object_get_ex(e, "name", &nm)
			    ? json_object_get_string(nm)
			    : json_object_get_string(p),
		    loader_ops(inst->loaded), inst->state);
	}
	return 0;
}

static void add_idp(struct access *a, const char *name, const void *ops,
		    void *state)
{
	struct access_idp *p = realloc(a->idps, (a->nidps + 1) * sizeof(*p));

	if (!p)
		return;
	a->idps = p;
	/* The name lives in the configuration, as long as this access. */
	p[a->nidps++] = (struct access_idp){name, ops, state};
}

static void add_notifier(struct access *a, const char *name, const void *ops,
			 void *state)
{
	struct access_notifier *p =
		realloc(a->notifiers, (a->nnotifiers + 1) * sizeof(*p));

	(void)name;
	if (!p)
		return;
	a->notifiers = p;
	p[a->nnotifiers++] = (struct access_notifier){ops, state};
}

static int duration(struct json_object *sec, const char *key, int64_t def,
		    int64_t *out, char *err, size_t errlen)
{
	struct json_object *v;

	*out = def;
	if (!sec || !json_object_object_get_ex(sec, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    policy_parse_duration(json_object_get_string(v), out) < 0) {
		snprintf(err, errlen, "grants.%s: must be a duration", key);
		return -1;
	}
	return 0;
}

int auth_apply(struct rt *rt, char *err, size_t errlen)
{
	struct access *a = calloc(1, sizeof(*a));
	struct json_object *adm = conf_get(rt->conf, "admin"), *g = NULL,
			   *ag = NULL;
	struct json_object *gr = conf_get(rt->conf, "grants");
	char perr[512];
	static int started;

	if (!a) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	a->conf = rt->conf;
	if (conf_on_free(rt->conf, access_free, a) < 0) {
		free(a);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_lock(&gens_lock);
	{
		struct access **p = realloc(gens, (ngens + 1) * sizeof(*p));

		if (p) {
			gens = p;
			gens[ngens++] = a;
		}
	}
	pthread_mutex_unlock(&gens_lock);
	a->policy = policy_compile(conf_get(rt->conf, "policy"), perr,
				   sizeof(perr));
	if (!a->policy) {
		snprintf(err, errlen, "%s: %s", conf_file(rt->conf), perr);
		return -1;
	}
	if (adm) {
		json_object_object_get_ex(adm, "approver_groups", &g);
		json_object_object_get_ex(adm, "admin_groups", &ag);
	}
	a->approver_groups = string_list(g, "admin.approver_groups", err,
					 errlen);
	a->admin_groups = string_list(ag, "admin.admin_groups", err, errlen);
	if (!a->approver_groups || !a->admin_groups)
		return -1;
	if (duration(gr, "max_ttl", 3600 * 1000, &a->grant_max_ttl, err,
		     errlen) < 0 ||
	    duration(gr, "default_ttl", 15 * 60 * 1000, &a->grant_default_ttl,
		     err, errlen) < 0 ||
	    duration(gr, "grace", 30 * 1000, &a->grant_grace, err, errlen) < 0)
		return -1;
	if (load_instances(rt, "identity", JG_KIND_IDP,
			   conf_get(rt->conf, "identity"), err, errlen, add_idp,
			   a) < 0 ||
	    load_instances(rt, "notify", JG_KIND_NOTIFY,
			   conf_get(rt->conf, "notify"), err, errlen,
			   add_notifier, a) < 0)
		return -1;
	if (!started) {
		started = 1;
		api_start();
	}
	return 0;
}

int auth_in_groups(const struct jg_identity *id, char *const *groups)
{
	for (size_t i = 0; id && groups && groups[i]; i++)
		if (identity_has_group(id, groups[i]))
			return 1;
	return 0;
}

void auth_notify(const char *event, const char *json)
{
	const struct access *a = access_current();

	for (size_t i = 0; a && i < a->nnotifiers; i++)
		a->notifiers[i].ops->notify(a->notifiers[i].state, event, json);
}

int auth_idp_verify(const struct access *acc, const char *cred, size_t len,
		    struct jg_identity **out, char *err, size_t errlen)
{
	*out = NULL;
	if (len == 0 || len > MAX_CREDENTIAL) {
		snprintf(err, errlen, "credential missing or too long");
		return JG_ERROR;
	}
	for (size_t i = 0; acc && i < acc->nidps; i++) {
		struct jg_identity *id = identity_new();
		int rc;

		if (!id)
			break;
		err[0] = '\0';
		rc = acc->idps[i].ops->authenticate(
			acc->idps[i].state, cred, len,
			(struct jg_identity_builder *)id, err, errlen);
		if (rc == JG_OK && id->subject) {
			identity_set_source(id, acc->idps[i].name);
			*out = id;
			return JG_OK;
		}
		identity_free(id);
		if (rc == JG_ERROR || rc == JG_OK) {
			if (rc == JG_OK || !err[0])
				snprintf(err, errlen, "%s: identity without "
						      "a subject",
					 acc->idps[i].name);
			return JG_ERROR;
		}
	}
	snprintf(err, errlen, acc && acc->nidps
				      ? "credential not recognised by any "
					"identity provider"
				      : "no identity provider is configured");
	return JG_ERROR;
}

static void state_free(void *ud)
{
	struct auth_state *st = ud;

	policy_prepared_free(st->prep);
	identity_free(st->id);
	free(st);
}

static void record_auth(struct jg_session *s, const char *result,
			const struct jg_identity *id, const char *conn,
			const char *reason)
{
	int grant = id && id->grant_id;
	struct jg_attr at[6] = {
		{"result", result},
		{"connection", conn ? conn : ""},
		{"subject", id && id->subject ? id->subject : ""},
		{"method", id && id->source ? id->source : ""},
		{"reason", reason ? reason : ""},
		/* which grant opened the session, or which idp vouched */
		{grant ? "grant" : "idp",
		 grant ? id->grant_id : id && id->source ? id->source : ""},
	};

	core_record(s, "auth", at, 6);
	log_msg(strcmp(result, "ok") == 0 ? JG_LOG_INFO : JG_LOG_WARN,
		"JG4001", NULL, s->id, "auth %s: subject=%s connection=%s%s%s",
		result, at[2].value, at[1].value, reason ? " reason=" : "",
		reason ? reason : "");
}

int core_authenticate(struct jg_session *s, const char *user,
		      const char *credential, size_t len, const char *conn,
		      char *err, size_t errlen)
{
	const struct access *acc = access_for_conf(s->conf);
	struct jg_identity *id = NULL;
	struct auth_state *st;
	char gid[GRANT_ID_LEN];
	const char *code = "";
	int rc;

	(void)user;
	api_ensure_ticking();
	if (!credential || len == 0 || len > MAX_CREDENTIAL) {
		snprintf(err, errlen, "credential missing or too long");
		record_auth(s, "refused", NULL, conn, err);
		return JG_ERROR;
	}
	rc = grants_check(credential, len, conn, &id, gid, &code, err, errlen);
	if (rc == JG_DECLINED) {
		struct policy_result r;
		struct jg_action a = {.type = "token"};

		rc = auth_idp_verify(acc, credential, len, &id, err, errlen);
		/* A token used directly needs a rule allowing it. */
		if (rc == JG_OK &&
		    policy_decide(acc ? acc->policy : NULL, id, conn, &a, &r) !=
			    JG_EFFECT_ALLOW) {
			snprintf(err, errlen,
				 "%s may not use its token directly on %s "
				 "(rule %s); ask for a grant",
				 id->subject, conn ? conn : "(none)",
				 r.d.rule);
			rc = JG_ERROR;
		}
	}
	if (rc != JG_OK) {
		record_auth(s, "refused", id, conn, err);
		identity_free(id);
		return JG_ERROR;
	}
	st = calloc(1, sizeof(*st));
	if (!st || session_cleanup(s, state_free, st) != 0) {
		free(st);
		identity_free(id);
		snprintf(err, errlen, "out of memory");
		return JG_ERROR;
	}
	st->id = id;
	st->acc = acc;
	/* NULL is fine: decisions then take the slower path. */
	st->prep = policy_prepare(acc ? acc->policy : NULL, id, s->conn_name);
	st->authenticated_at = (int64_t)time(NULL);
	s->identity = st;
	s->subject = id->subject;
	record_auth(s, "ok", id, conn, NULL);
	if (id->grant_id)
		api_grants_count_session(id->grant_id);
	return JG_OK;
}

const char *core_session_subject(const struct jg_session *s)
{
	return s->subject;
}

const struct jg_identity *auth_session_identity(const struct jg_session *s)
{
	const struct auth_state *st = s->identity;

	return st ? st->id : NULL;
}

int core_decide(struct jg_session *s, const struct jg_action *a,
		struct jg_decision *out)
{
	const struct auth_state *st = s->identity;
	const struct access *acc = st ? st->acc : access_for_conf(s->conf);
	struct policy_result r;

	if (!a) {
		memset(out, 0, sizeof(*out));
		return JG_ERROR;
	}
	policy_decide_prepared(st ? st->prep : NULL, acc ? acc->policy : NULL,
			       st ? st->id : NULL, s->conn_name, a, &r);
	*out = r.d;
	/* masking.default_profile: what a rule allows without naming a
	 * profile is masked all the same (first match would otherwise let
	 * a statement that falls through to a broader rule go unmasked) */
	if (out->effect != JG_EFFECT_DENY && !out->mask_profile[0]) {
		const char *dp = maskcore_session_default(s);

		if (dp)
			snprintf(out->mask_profile, sizeof(out->mask_profile),
				 "%s", dp);
	}
	if (out->effect != JG_EFFECT_DENY) {
		memcpy(s->mask_profile, out->mask_profile,
		       sizeof(s->mask_profile));
		s->record_level = out->record_level;
	}
	/* Recorded with its rule before it takes effect: a decision that
	 * cannot be recorded (recording configured, mode required) is a
	 * deny.  Without a store the protocol plugin's own record calls
	 * decide. */
	if (record_decision(s, a, out) != JG_OK && record_configured() &&
	    out->effect != JG_EFFECT_DENY) {
		out->effect = JG_EFFECT_DENY;
		snprintf(out->reason, sizeof(out->reason),
			 "recording unavailable: the decision (rule %s) could "
			 "not be recorded",
			 out->rule);
		snprintf(out->rule, sizeof(out->rule), "recording");
	}
	return JG_OK;
}
