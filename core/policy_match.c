/*
 * Deciding: test the candidate rules the index lets through in file
 * order, first match wins.  The same matcher explains itself when given
 * a buffer, so `jitgate policy test` and the daemon can never disagree.
 */
#include "policy.h"
#include "policy_int.h"

#include <stdio.h>
#include <stdlib.h>
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

/* Words of rule bits a decision works on at once: 4,096 rules, so the
 * bitsets stay small on the stack whatever the policy's size.  Windows
 * are taken in order, so the first match is still the first in file
 * order. */
#define WINDOW 64

static size_t window_len(const struct policy *p, size_t w0)
{
	return p->ix.nwords - w0 < WINDOW ? p->ix.nwords - w0 : WINDOW;
}

/*
 * The first rule of cand, window w0, that matches; identity_done when
 * the connection and identity conditions of every candidate are known
 * to hold (prepared), so only the action is left to test.
 */
static const struct policy_rule *first_match(const struct policy *p,
					     const struct match_ctx *m,
					     const uint64_t *cand, size_t w0,
					     size_t nw, bool identity_done)
{
	for (size_t k = 0; k < nw; k++)
		for (uint64_t w = cand[k]; w; w &= w - 1) {
			const struct policy_rule *r =
				&p->rules[(w0 + k) * 64 +
					  (size_t)__builtin_ctzll(w)];

			if (identity_done ? match_action(r, m, NULL, 0)
					  : rule_match(r, m, NULL, 0))
				return r;
		}
	return NULL;
}

static int decide_done(const struct policy_rule *r, struct policy_result *out)
{
	if (r)
		set_rule(out, r);
	else
		set_default(out);
	return out->d.effect;
}

#define PREPARED_MAGIC 0x4a475050U /* "JGPP" */
struct policy_prepared {
	uint32_t magic;
	const struct policy *p;
	const struct jg_identity *id;
	char *conn;
	uint64_t bits[]; /* p->ix.nwords: connection and identity hold */
};

/* With pp, its rules replace the connection and identity lookups. */
static int decide(const struct policy *p, const struct policy_prepared *pp,
		  const struct match_ctx *m, struct policy_result *out)
{
	uint64_t cand[WINDOW], tmp[WINDOW];

	for (size_t w0 = 0; p && w0 < p->ix.nwords; w0 += WINDOW) {
		size_t nw = window_len(p, w0);
		const struct policy_rule *r;

		if (pp)
			memcpy(cand, pp->bits + w0, nw * sizeof(*cand));
		else
			index_window_all(p, cand, w0, nw);
		/* Cheapest and most telling first; stop when none is left. */
		if (!index_filter_type(&p->ix, m->type, cand, tmp, w0, nw) ||
		    (!pp && !index_filter_conn(&p->ix, m->conn, m->connlen,
					       cand, tmp, w0, nw)) ||
		    !index_filter_attrs(&p->ix, m->a, cand, tmp, w0, nw) ||
		    (!pp &&
		     !index_filter_identity(&p->ix, m->id, cand, tmp, w0, nw)))
			continue;
		r = first_match(p, m, cand, w0, nw, pp != NULL);
		if (r)
			return decide_done(r, out);
	}
	return decide_done(NULL, out);
}

int policy_decide(const struct policy *p, const struct jg_identity *id,
		  const char *conn, const struct jg_action *a,
		  struct policy_result *out)
{
	struct match_ctx m;

	ctx_init(&m, id, conn, a);
	return decide(p, NULL, &m, out);
}

struct policy_prepared *policy_prepare(const struct policy *p,
				       const struct jg_identity *id,
				       const char *conn)
{
	struct policy_prepared *pp;
	struct match_ctx m;
	uint64_t tmp[WINDOW];

	if (!p)
		return NULL;
	pp = calloc(1, sizeof(*pp) + (p->ix.nwords + 1) * sizeof(uint64_t));
	if (!pp)
		return NULL;
	ctx_init(&m, id, conn, NULL);
	pp->conn = strdup(m.conn);
	if (!pp->conn) {
		free(pp);
		return NULL;
	}
	pp->magic = PREPARED_MAGIC;
	pp->p = p;
	pp->id = id;
	for (size_t w0 = 0; w0 < p->ix.nwords; w0 += WINDOW) {
		size_t nw = window_len(p, w0);
		uint64_t *cand = pp->bits + w0;

		index_window_all(p, cand, w0, nw);
		if (index_filter_conn(&p->ix, m.conn, m.connlen, cand, tmp, w0,
				      nw))
			index_filter_identity(&p->ix, id, cand, tmp, w0, nw);
		/* Where the index only approximated, ask the matcher, so the
		 * set is exact and decisions need not look again. */
		for (size_t k = 0; k < nw; k++)
			for (uint64_t w = cand[k] & p->ix.ident_loose[w0 + k];
			     w; w &= w - 1) {
				int b = __builtin_ctzll(w);
				const struct policy_rule *r =
					&p->rules[(w0 + k) * 64 + (size_t)b];

				if ((r->conn.n &&
				     !globset_match(&r->conn, m.conn,
						    m.connlen)) ||
				    !match_identity(r, &m, NULL, 0))
					cand[k] &= ~(1ULL << b);
			}
	}
	return pp;
}

void policy_prepared_free(struct policy_prepared *pp)
{
	if (!pp)
		return;
	if (pp->magic != PREPARED_MAGIC)
		abort(); /* not prepared here, or freed twice */
	pp->magic = 0;
	free(pp->conn);
	free(pp);
}

int policy_decide_prepared(const struct policy_prepared *pp,
			   const struct policy *p,
			   const struct jg_identity *id, const char *conn,
			   const struct jg_action *a,
			   struct policy_result *out)
{
	struct match_ctx m;

	if (!pp || pp->magic != PREPARED_MAGIC || pp->p != p || pp->id != id ||
	    strcmp(pp->conn, conn ? conn : "") != 0)
		return policy_decide(p, id, conn, a, out);
	ctx_init(&m, id, conn, a);
	return decide(p, pp, &m, out);
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
