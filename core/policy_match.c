/*
 * Deciding: walk the indexed candidate rules in file order, first match
 * wins.  The same matcher explains itself when given a buffer, so
 * `jitgate policy test` and the daemon can never disagree.
 */
#include "policy.h"
#include "policy_int.h"

#include <stdio.h>
#include <string.h>

struct match_ctx {
	const struct jg_identity *id;
	const char *conn;
	size_t connlen;
	const struct jg_action *a;
	const char *type;
};

/* Only the explaining path formats; the deciding path passes why NULL. */
#define WHY(...)                                                              \
	do {                                                                  \
		if (why)                                                      \
			snprintf(why, whylen, __VA_ARGS__);                   \
		return false;                                                 \
	} while (0)

static bool match_identity(const struct policy_rule *r,
			   const struct match_ctx *m, char *why,
			   size_t whylen)
{
	const struct jg_identity *id = m->id;
	char pats[160];

	if (!r->subject.n && !r->groups.n && !r->nclaims)
		return true;
	if (!id)
		WHY("rule needs an identity and there is none");
	if (r->subject.n &&
	    (!id->subject ||
	     !globset_match(&r->subject, id->subject, strlen(id->subject)))) {
		if (why)
			globset_format(&r->subject, pats, sizeof(pats));
		WHY("subject \"%s\" is not one of [%s]",
		    id->subject ? id->subject : "", pats);
	}
	if (r->groups.n) {
		bool hit = false;

		for (size_t i = 0; i < id->ngroups && !hit; i++)
			hit = globset_match(&r->groups, id->groups[i],
					    strlen(id->groups[i]));
		if (!hit && why)
			globset_format(&r->groups, pats, sizeof(pats));
		if (!hit)
			WHY("no group of the identity is one of [%s]", pats);
	}
	for (size_t k = 0; k < r->nclaims; k++) {
		const struct attr_match *c = &r->claims[k];
		bool seen = false, hit = false;

		for (size_t i = 0; i < id->nclaims && !hit; i++) {
			if (strcmp(id->claims[i].key, c->key) != 0)
				continue;
			seen = true;
			hit = globset_match(&c->gs, id->claims[i].value,
					    strlen(id->claims[i].value));
		}
		if (why)
			globset_format(&c->gs, pats, sizeof(pats));
		if (!seen)
			WHY("identity has no claim \"%s\"", c->key);
		if (!hit)
			WHY("claim \"%s\" is not one of [%s]", c->key, pats);
	}
	return true;
}

static bool match_action(const struct policy_rule *r,
			 const struct match_ctx *m, char *why, size_t whylen)
{
	const struct jg_action *a = m->a;
	char pats[160];

	for (size_t k = 0; k < r->nattrs; k++) {
		const struct attr_match *am = &r->attrs[k];
		size_t seen = 0, hit = 0;

		for (size_t i = 0; a && i < a->nattrs; i++) {
			const char *v;
			size_t vlen;

			if (!a->attrs[i].key || strcmp(a->attrs[i].key, am->key))
				continue;
			v = a->attrs[i].value ? a->attrs[i].value : "";
			vlen = strlen(v);
			seen++;
			if (globset_match(&am->gs, v, vlen)) {
				hit++;
				if (!r->all_values)
					break;
			} else if (r->all_values) {
				if (why)
					globset_format(&am->gs, pats,
						       sizeof(pats));
				WHY("%s \"%s\" is not one of [%s] (allow "
				    "needs every %s to match)",
				    am->key, v, pats, am->key);
			}
		}
		if (!seen)
			WHY("action has no %s", am->key);
		if (!hit) {
			if (why)
				globset_format(&am->gs, pats, sizeof(pats));
			WHY("no %s of the action is one of [%s]", am->key,
			    pats);
		}
	}
	return true;
}

static bool rule_match(const struct policy_rule *r, const struct match_ctx *m,
		       char *why, size_t whylen)
{
	char pats[160];

	if (why && r->ntypes) {
		bool hit = false;

		for (size_t i = 0; i < r->ntypes && !hit; i++)
			hit = strcmp(r->types[i], "*") == 0 ||
			      strcmp(r->types[i], m->type) == 0;
		if (!hit)
			WHY("action type \"%s\" is not %s%s", m->type,
			    r->types[0], r->ntypes > 1 ? " (or others)" : "");
	}
	if (r->conn.n && !globset_match(&r->conn, m->conn, m->connlen)) {
		if (why)
			globset_format(&r->conn, pats, sizeof(pats));
		WHY("connection \"%s\" is not one of [%s]", m->conn, pats);
	}
	return match_action(r, m, why, whylen) &&
	       match_identity(r, m, why, whylen);
}

static const struct rule_list *candidates(const struct policy *p,
					  const struct match_ctx *m)
{
	const struct type_bucket *b = &p->untyped;
	uint32_t i;

	if (strmap_get(&p->types, m->type, &i))
		b = &p->buckets[i];
	if (strmap_get(&b->conns, m->conn, &i))
		return &b->lists[i];
	return &b->other;
}

static void set_default(struct policy_result *out)
{
	memset(out, 0, sizeof(*out));
	out->d.effect = JG_EFFECT_DENY;
	strcpy(out->d.rule, "default");
	strcpy(out->d.reason, "no rule matched (default deny)");
	out->d.record_level = 2;
}

static void set_rule(struct policy_result *out, const struct policy_rule *r)
{
	memset(out, 0, sizeof(*out));
	out->d.effect = r->effect;
	/* Both sizes are checked at compile time. */
	memcpy(out->d.rule, r->name, strlen(r->name) + 1);
	memcpy(out->d.reason, r->reason, sizeof(out->d.reason));
	memcpy(out->d.mask_profile, r->mask, sizeof(out->d.mask_profile));
	out->d.record_level = r->record;
	out->rule = r;
	out->index = r->index;
	out->max_ttl_ms = r->max_ttl_ms;
	out->max_sessions = r->max_sessions;
	out->approval = r->approval.n ? &r->approval : NULL;
}

static void ctx_init(struct match_ctx *m, const struct jg_identity *id,
		     const char *conn, const struct jg_action *a)
{
	m->id = id;
	m->conn = conn ? conn : "";
	m->connlen = strlen(m->conn);
	m->a = a;
	m->type = a && a->type ? a->type : "";
}

int policy_decide(const struct policy *p, const struct jg_identity *id,
		  const char *conn, const struct jg_action *a,
		  struct policy_result *out)
{
	struct match_ctx m;
	const struct rule_list *l;

	ctx_init(&m, id, conn, a);
	if (p) {
		l = candidates(p, &m);
		for (size_t i = 0; i < l->n; i++) {
			const struct policy_rule *r = &p->rules[l->idx[i]];

			if (rule_match(r, &m, NULL, 0)) {
				set_rule(out, r);
				return out->d.effect;
			}
		}
	}
	set_default(out);
	return out->d.effect;
}

void policy_trace(const struct policy *p, const struct jg_identity *id,
		  const char *conn, const struct jg_action *a,
		  policy_trace_fn fn, void *ud)
{
	struct match_ctx m;
	char why[512];

	ctx_init(&m, id, conn, a);
	for (size_t i = 0; p && i < p->nrules; i++) {
		const struct policy_rule *r = &p->rules[i];

		why[0] = '\0';
		if (rule_match(r, &m, why, sizeof(why))) {
			fn(ud, i, r->name, 1, r->reason);
			return;
		}
		fn(ud, i, r->name, 0, why);
	}
	fn(ud, p ? p->nrules : 0, "default", 1,
	   "no rule matched (default deny)");
}
