/*
 * The "masking" section of one configuration generation: make the mask
 * plugin's instance, compile the profiles (maskcore_load), and check that
 * every policy rule's "mask" names a profile that exists, so a typo stops
 * the load (and --check-config) instead of failing every query closed.
 * Errors name "FILE:LINE: KEY.PATH: what is wrong".
 */
#include "config.h"
#include "maskcore.h"
#include "conf.h"
#include "host.h"
#include "loader.h"
#include "runtime.h"
#include "session.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

static const struct jg_option masking_schema[] = {
	{"plugin", JG_OPT_STRING, NULL, 0, 0,
	 "masking plugin name (listed in \"plugins\"), e.g. pii"},
	{"default_profile", JG_OPT_STRING, NULL, 0, 0,
	 "profile for what a rule allows without naming one"},
	{NULL, 0, NULL, 0, 0, NULL},
};
static const char *const masking_extra[] = {"options", "profiles", NULL};

static int fail_at(const struct jg_conf *c, const char *kp, const char *what,
		   char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s: %s", conf_where(c, kp), kp, what);
	return -1;
}

/*
 * maskcore_load says "masking.profiles.NAME: SUB.PATH: what" (SUB.PATH
 * from the plugin, may be absent).  Point at the deepest key written in
 * the file.
 */
static int profile_error(const struct jg_conf *c, struct json_object *profiles,
			 const char *msg, char *err, size_t errlen)
{
	static const char pre[] = "masking.profiles.";
	char kp[CONF_MAX_KEYPATH];
	const char *rest, *sub, *end;
	size_t n;

	if (strncmp(msg, pre, sizeof(pre) - 1) || !profiles) {
		snprintf(err, errlen, "%s: %s", conf_where(c, "masking"), msg);
		return -1;
	}
	rest = msg + sizeof(pre) - 1;
	json_object_object_foreach(profiles, name, v)
	{
		(void)v;
		n = strlen(name);
		if (strncmp(rest, name, n) || strncmp(rest + n, ": ", 2))
			continue;
		if (conf_path_key(kp, sizeof(kp), "masking.profiles", name))
			break;
		sub = rest + n + 2;
		end = strstr(sub, ": ");
		/* the plugin's key path, if it starts its message with one */
		if (end && (size_t)(end - sub) < sizeof(kp) - strlen(kp) - 2 &&
		    strspn(sub, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS"
				"TUVWXYZ0123456789_-.[]") == (size_t)(end - sub)) {
			size_t k = strlen(kp);
			if (*sub != '[')
				kp[k++] = '.';
			memcpy(kp + k, sub, (size_t)(end - sub));
			kp[k + (size_t)(end - sub)] = '\0';
			return fail_at(c, kp, end + 2, err, errlen);
		}
		return fail_at(c, kp, sub, err, errlen);
	}
	snprintf(err, errlen, "%s: %s", conf_where(c, "masking"), msg);
	return -1;
}

/* Every policy.rules[i].mask must be a profile of mc. */
static int check_rules(const struct jg_conf *c, const struct maskcore *mc,
		       char *err, size_t errlen)
{
	struct json_object *pol = conf_get(c, "policy"), *rules, *r, *m;
	char rk[CONF_MAX_KEYPATH], kp[CONF_MAX_KEYPATH], what[256];
	size_t n;

	if (!pol || !json_object_object_get_ex(pol, "rules", &rules) ||
	    !json_object_is_type(rules, json_type_array))
		return 0;
	n = json_object_array_length(rules);
	for (size_t i = 0; i < n; i++) {
		r = json_object_array_get_idx(rules, i);
		if (!json_object_is_type(r, json_type_object) ||
		    !json_object_object_get_ex(r, "mask", &m) ||
		    !json_object_is_type(m, json_type_string))
			continue;
		if (maskcore_has_profile(mc, json_object_get_string(m)))
			continue;
		conf_path_index(rk, sizeof(rk), "policy.rules", i);
		conf_path_key(kp, sizeof(kp), rk, "mask");
		snprintf(what, sizeof(what),
			 "no masking profile \"%.100s\" (define it under "
			 "masking.profiles)",
			 json_object_get_string(m));
		return fail_at(c, kp, what, err, errlen);
	}
	return 0;
}

int maskcore_setup(struct rt *rt, char *err, size_t errlen)
{
	struct json_object *m = conf_get(rt->conf, "masking"), *o = NULL,
			   *profiles = NULL;
	const struct jg_mask_ops *ops = NULL;
	const struct jg_loaded *p;
	const struct jg_config *mc;
	struct jg_instance *inst;
	void *state = NULL;
	const char *name;
	char perr[512] = "";

	if (m) {
		mc = conf_section(rt->conf, m, "masking", masking_schema,
				  masking_extra, err, errlen);
		if (!mc)
			return -1;
		json_object_object_get_ex(m, "profiles", &profiles);
		name = cfg_string(mc, "plugin");
		if (name) {
			p = loader_find(rt->plugins, name);
			if (!p)
				return fail_at(rt->conf, "masking.plugin",
					       "no such plugin loaded (list it "
					       "in \"plugins\")",
					       err, errlen);
			if (p->plugin->kind != JG_KIND_MASK)
				return fail_at(rt->conf, "masking.plugin",
					       "not a masking plugin", err,
					       errlen);
			if (!json_object_object_get_ex(m, "options", &o))
				o = NULL;
			inst = loader_instance_new(rt->plugins, rt->conf,
						   name, o, "masking",
						   &core_host, err, errlen);
			if (!inst)
				return -1;
			ops = loader_ops(p);
			state = inst->state;
		}
	}
	if (maskcore_load(&rt->mask, ops, state, m, perr, sizeof(perr)) !=
	    JG_OK)
		return profile_error(rt->conf, profiles, perr, err, errlen);
	return check_rules(rt->conf, rt->mask, err, errlen);
}

static const struct maskcore *session_maskcore(const struct jg_session *s)
{
	return s->rt ? s->rt->mask : NULL;
}

void maskcore_start(void)
{
	maskcore_set_lookup(session_maskcore);
}
