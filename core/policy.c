/*
 * The policy engine: compile rules once, decide many times.
 *
 * Order: first matching rule in file order decides; nothing matching is
 * a deny by the rule "default".  To keep a decision in the low hundreds
 * of nanoseconds with a thousand rules, rules are indexed at compile time
 * by every attribute they name (core/policy_index.c); a decision tests
 * only the rules the index lets through, still in file order.
 */
#include "policy.h"
#include "policy_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#define MAX_RULES 100000
#define MAX_APPROVALS 16

struct compile {
	char *err;
	size_t errlen;
	size_t i; /* rule being compiled */
};

__attribute__((format(printf, 2, 3))) static int fail(struct compile *c,
						      const char *fmt, ...)
{
	int off = snprintf(c->err, c->errlen, "policy.rules[%zu].", c->i);
	va_list ap;

	if (off < 0 || (size_t)off >= c->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(c->err + off, c->errlen - (size_t)off, fmt, ap);
	va_end(ap);
	return -1;
}

int policy_parse_duration(const char *text, int64_t *ms)
{
	char *end;
	long long v;
	int64_t mul = 1;

	if (!text || !isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno || v < 0)
		return -1;
	if (strcmp(end, "") == 0 || strcmp(end, "ms") == 0)
		mul = 1;
	else if (strcmp(end, "s") == 0)
		mul = 1000;
	else if (strcmp(end, "m") == 0)
		mul = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		mul = 3600 * 1000;
	else if (strcmp(end, "d") == 0)
		mul = 86400 * 1000;
	else
		return -1;
	if (v > INT64_MAX / mul)
		return -1;
	*ms = v * mul;
	return 0;
}

const char *policy_effect_name(int effect)
{
	switch (effect) {
	case JG_EFFECT_ALLOW:
		return "allow";
	case JG_EFFECT_REVIEW:
		return "review";
	default:
		return "deny";
	}
}

const char *policy_record_name(int level)
{
	static const char *const names[] = {"none", "metadata", "full"};

	return level >= 0 && level <= 2 ? names[level] : "full";
}

static int attr_matches_compile(struct compile *c, const char *what,
				struct json_object *obj, const char *skip,
				struct attr_match **out, size_t *nout)
{
	char e[200];
	size_t n = 0;

	*out = calloc((size_t)json_object_object_length(obj) + 1,
		      sizeof(**out));
	if (!*out)
		return fail(c, "%s: out of memory", what);
	json_object_object_foreach(obj, key, val)
	{
		if (skip && strcmp(key, skip) == 0)
			continue;
		if (strlen(key) == 0 || strlen(key) > 64)
			return fail(c, "%s: bad attribute name", what);
		(*out)[n].key = strdup(key);
		if (!(*out)[n].key)
			return fail(c, "%s: out of memory", what);
		n++;
		*nout = n;
		if (globset_compile(&(*out)[n - 1].gs, val, e, sizeof(e)) < 0)
			return fail(c, "%s.%s: %s", what, key, e);
	}
	return 0;
}

static int compile_identity(struct compile *c, struct policy_rule *r,
			    struct json_object *o)
{
	char e[200];

	if (!json_object_is_type(o, json_type_object))
		return fail(c, "identity: must be an object");
	json_object_object_foreach(o, key, val)
	{
		struct globset *gs = NULL;

		if (strcmp(key, "subject") == 0) {
			gs = &r->subject;
		} else if (strcmp(key, "groups") == 0) {
			gs = &r->groups;
		} else if (strcmp(key, "claims") == 0) {
			if (!json_object_is_type(val, json_type_object))
				return fail(c, "identity.claims: must be an "
					       "object of claim: glob(s)");
			if (attr_matches_compile(c, "identity.claims", val,
						 NULL, &r->claims,
						 &r->nclaims) < 0)
				return -1;
			continue;
		} else {
			return fail(c,
				    "identity.%s: unknown key (subject, groups, "
				    "claims)",
				    key);
		}
		if (globset_compile(gs, val, e, sizeof(e)) < 0)
			return fail(c, "identity.%s: %s", key, e);
	}
	return 0;
}

static int compile_action(struct compile *c, struct policy_rule *r,
			  struct json_object *o)
{
	struct json_object *t;

	if (!json_object_is_type(o, json_type_object))
		return fail(c, "action: must be an object");
	if (json_object_object_get_ex(o, "type", &t)) {
		size_t n = json_object_is_type(t, json_type_array)
				   ? json_object_array_length(t)
				   : 1;

		if (!json_object_is_type(t, json_type_string) &&
		    !json_object_is_type(t, json_type_array))
			return fail(c, "action.type: must be a string or a "
				       "list of strings");
		r->types = calloc(n, sizeof(char *));
		if (!r->types)
			return fail(c, "action.type: out of memory");
		for (size_t i = 0; i < n; i++) {
			struct json_object *s =
				json_object_is_type(t, json_type_string)
					? t
					: json_object_array_get_idx(t, i);
			const char *v = json_object_get_string(s);

			if (!json_object_is_type(s, json_type_string) ||
			    !*v || strpbrk(v, "*?[\\"))
				return fail(c, "action.type: must name types "
					       "(\"sql\", \"http\", ...), "
					       "not globs");
			r->types[i] = strdup(v);
			if (!r->types[i])
				return fail(c, "action.type: out of memory");
			r->ntypes = i + 1;
		}
		/* "*" alone means any type, like leaving it out. */
	}
	return attr_matches_compile(c, "action", o, "type", &r->attrs,
				    &r->nattrs);
}

static int compile_approval(struct compile *c, struct policy_rule *r,
			    struct json_object *o)
{
	struct json_object *g, *t;
	size_t n = 0;

	if (!json_object_is_type(o, json_type_object))
		return fail(c, "approval: must be an object");
	json_object_object_foreach(o, k, unused)
	{
		(void)unused;
		if (strcmp(k, "groups") && strcmp(k, "timeout"))
			return fail(c, "approval.%s: unknown key (groups, "
				       "timeout)",
				    k);
	}
	if (!json_object_object_get_ex(o, "groups", &g) ||
	    !json_object_is_type(g, json_type_object) ||
	    json_object_object_length(g) == 0)
		return fail(c, "approval.groups: required, an object "
			       "{\"group\": approvals needed, ...}");
	if (json_object_object_length(g) > MAX_APPROVALS)
		return fail(c, "approval.groups: at most %d groups",
			    MAX_APPROVALS);
	r->approval.need = calloc((size_t)json_object_object_length(g),
				  sizeof(*r->approval.need));
	if (!r->approval.need)
		return fail(c, "approval: out of memory");
	json_object_object_foreach(g, group, cnt)
	{
		int64_t want = json_object_get_int64(cnt);

		if (!json_object_is_type(cnt, json_type_int) || want < 1 ||
		    want > MAX_APPROVALS)
			return fail(c,
				    "approval.groups.%s: must be a number of "
				    "approvals from 1 to %d",
				    group, MAX_APPROVALS);
		if (!*group)
			return fail(c, "approval.groups: empty group name");
		r->approval.need[n].group = strdup(group);
		r->approval.need[n].count = (unsigned)want;
		r->approval.n = ++n;
		if (!r->approval.need[n - 1].group)
			return fail(c, "approval: out of memory");
	}
	if (json_object_object_get_ex(o, "timeout", &t) &&
	    (!json_object_is_type(t, json_type_string) ||
	     policy_parse_duration(json_object_get_string(t),
				   &r->approval.timeout_ms) < 0 ||
	     r->approval.timeout_ms == 0))
		return fail(c, "approval.timeout: must be a duration such as "
			       "\"1h\"");
	return 0;
}

static int compile_effect(struct compile *c, struct policy_rule *r,
			  struct json_object *o)
{
	const char *e = json_object_get_string(o);

	if (!json_object_is_type(o, json_type_string))
		return fail(c, "effect: must be \"allow\", \"deny\" or "
			       "\"review\"");
	if (strcmp(e, "allow") == 0)
		r->effect = JG_EFFECT_ALLOW;
	else if (strcmp(e, "deny") == 0)
		r->effect = JG_EFFECT_DENY;
	else if (strcmp(e, "review") == 0)
		r->effect = JG_EFFECT_REVIEW;
	else
		return fail(c,
			    "effect: \"%s\" is not \"allow\", \"deny\" or "
			    "\"review\"",
			    e);
	return 0;
}

static int compile_record(struct compile *c, struct policy_rule *r,
			  struct json_object *o)
{
	const char *v = json_object_get_string(o);

	for (int l = 0; l <= 2; l++)
		if (json_object_is_type(o, json_type_string) &&
		    strcmp(v, policy_record_name(l)) == 0) {
			r->record = l;
			return 0;
		}
	return fail(c, "record: must be \"none\", \"metadata\" or \"full\"");
}

static int compile_rule(struct compile *c, struct policy_rule *r,
			struct json_object *o)
{
	char e[200];

	if (!json_object_is_type(o, json_type_object))
		return fail(c, "must be an object");
	r->record = 2;
	r->effect = -1;
	json_object_object_foreach(o, key, val)
	{
		if (strcmp(key, "name") == 0) {
			const char *n = json_object_get_string(val);

			if (!json_object_is_type(val, json_type_string) ||
			    !*n || strlen(n) >= sizeof(((struct jg_decision *)0)->rule))
				return fail(c, "name: must be a non-empty "
					       "string under 128 bytes");
			if (strcmp(n, "default") == 0)
				return fail(c, "name: \"default\" is reserved "
					       "for the default deny");
			r->name = strdup(n);
		} else if (strcmp(key, "description") == 0) {
			if (!json_object_is_type(val, json_type_string))
				return fail(c, "description: must be a string");
			r->description = strdup(json_object_get_string(val));
		} else if (strcmp(key, "identity") == 0) {
			if (compile_identity(c, r, val) < 0)
				return -1;
		} else if (strcmp(key, "connection") == 0) {
			if (globset_compile(&r->conn, val, e, sizeof(e)) < 0)
				return fail(c, "connection: %s", e);
		} else if (strcmp(key, "action") == 0) {
			if (compile_action(c, r, val) < 0)
				return -1;
		} else if (strcmp(key, "effect") == 0) {
			if (compile_effect(c, r, val) < 0)
				return -1;
		} else if (strcmp(key, "approval") == 0) {
			if (compile_approval(c, r, val) < 0)
				return -1;
		} else if (strcmp(key, "mask") == 0) {
			const char *m = json_object_get_string(val);

			if (!json_object_is_type(val, json_type_string) ||
			    strlen(m) >= sizeof(r->mask))
				return fail(c, "mask: must be a profile name");
			strcpy(r->mask, m);
		} else if (strcmp(key, "record") == 0) {
			if (compile_record(c, r, val) < 0)
				return -1;
		} else if (strcmp(key, "max_ttl") == 0) {
			if (!json_object_is_type(val, json_type_string) ||
			    policy_parse_duration(json_object_get_string(val),
						  &r->max_ttl_ms) < 0 ||
			    r->max_ttl_ms == 0)
				return fail(c, "max_ttl: must be a duration "
					       "such as \"30m\"");
		} else if (strcmp(key, "max_sessions") == 0) {
			r->max_sessions = json_object_get_int64(val);
			if (!json_object_is_type(val, json_type_int) ||
			    r->max_sessions < 1)
				return fail(c, "max_sessions: must be a "
					       "positive number");
		} else {
			return fail(c, "%s: unknown key", key);
		}
	}
	if (!r->name)
		return fail(c, "name: required");
	if (r->effect < 0)
		return fail(c, "effect: required (allow, deny or review)");
	if (r->effect == JG_EFFECT_REVIEW && r->approval.n == 0)
		return fail(c, "approval: required when effect is review, "
			       "e.g. {\"groups\": {\"dba\": 1}}");
	if (r->effect != JG_EFFECT_REVIEW && r->approval.n)
		return fail(c, "approval: only meaningful with effect review");
	r->all_values = r->effect == JG_EFFECT_ALLOW;
	if (r->description)
		snprintf(r->reason, sizeof(r->reason), "%s", r->description);
	else
		snprintf(r->reason, sizeof(r->reason),
			 "rule #%zu \"%s\" matched: %s", r->index + 1,
			 r->name, policy_effect_name(r->effect));
	return 0;
}

static void rule_free(struct policy_rule *r)
{
	free(r->name);
	free(r->description);
	globset_free(&r->subject);
	globset_free(&r->groups);
	globset_free(&r->conn);
	for (size_t i = 0; i < r->nclaims; i++) {
		free(r->claims[i].key);
		globset_free(&r->claims[i].gs);
	}
	free(r->claims);
	for (size_t i = 0; i < r->nattrs; i++) {
		free(r->attrs[i].key);
		globset_free(&r->attrs[i].gs);
	}
	free(r->attrs);
	for (size_t i = 0; i < r->ntypes; i++)
		free(r->types[i]);
	free(r->types);
	for (size_t i = 0; i < r->approval.n; i++)
		free(r->approval.need[i].group);
	free(r->approval.need);
}

struct policy *policy_compile(const struct json_object *obj, char *err,
			      size_t errlen)
{
	struct compile c = {.err = err, .errlen = errlen};
	struct json_object *o = (struct json_object *)obj, *rules = NULL;
	struct policy *p = calloc(1, sizeof(*p));
	size_t n = 0;

	if (!p) {
		snprintf(err, errlen, "policy: out of memory");
		return NULL;
	}
	if (o && !json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "policy: must be an object {\"rules\": []}");
		goto fail;
	}
	if (o) {
		json_object_object_foreach(o, key, val)
		{
			(void)val;
			if (strcmp(key, "rules") != 0) {
				snprintf(err, errlen,
					 "policy.%s: unknown key (rules)", key);
				goto fail;
			}
		}
		json_object_object_get_ex(o, "rules", &rules);
	}
	if (rules && !json_object_is_type(rules, json_type_array)) {
		snprintf(err, errlen, "policy.rules: must be a list of rules");
		goto fail;
	}
	n = rules ? json_object_array_length(rules) : 0;
	if (n > MAX_RULES) {
		snprintf(err, errlen, "policy.rules: more than %d rules",
			 MAX_RULES);
		goto fail;
	}
	p->rules = calloc(n + 1, sizeof(*p->rules));
	if (!p->rules)
		goto oom;
	for (c.i = 0; c.i < n; c.i++) {
		struct policy_rule *r = &p->rules[c.i];
		uint32_t prev;

		p->nrules = c.i + 1;
		r->index = c.i;
		if (compile_rule(&c, r, json_object_array_get_idx(rules, c.i)) <
		    0)
			goto fail;
		if (strmap_get(&p->names, r->name, &prev)) {
			fail(&c, "name: \"%s\" is already the name of rule %u",
			     r->name, prev);
			goto fail;
		}
		if (strmap_put(&p->names, r->name, (uint32_t)c.i) < 0)
			goto oom;
	}
	if (index_build(p) < 0)
		goto oom;
	return p;
oom:
	snprintf(err, errlen, "policy: out of memory");
fail:
	policy_free(p);
	return NULL;
}

void policy_free(struct policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nrules; i++)
		rule_free(&p->rules[i]);
	free(p->rules);
	index_free(&p->ix);
	strmap_free(&p->names);
	free(p);
}

size_t policy_rule_count(const struct policy *p)
{
	return p ? p->nrules : 0;
}

const struct policy_rule *policy_rule_find(const struct policy *p,
					   const char *name)
{
	uint32_t i;

	if (!p || !name || !strmap_get(&p->names, name, &i))
		return NULL;
	return &p->rules[i];
}

const char *policy_rule_name(const struct policy_rule *r)
{
	return r->name;
}

const struct policy_approval *
policy_rule_approval(const struct policy_rule *r)
{
	return r && r->approval.n ? &r->approval : NULL;
}
