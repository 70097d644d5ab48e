/*
 * The rule index must never change a decision.  Thousands of random
 * policies, identities, connections and actions, decided three ways:
 * policy_decide (the index), policy_decide_prepared (the index with the
 * session's identity part worked out once) and policy_trace (the plain
 * walk over every rule in file order that `jitgate policy test --explain`
 * prints).  All three must name the same rule.
 *
 * Values come from a tiny alphabet so that globs of every shape (exact,
 * "prefix*", "*suffix", "*contains*", "?", "[ab]", "\*", "*") often hit
 * and often just miss.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "policy.h"

static uint64_t rng_state;

static unsigned rnd(unsigned n)
{
	/* xorshift64*: the same cases on every machine. */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (unsigned)((rng_state * 2685821657736338717ULL) >> 33) % n;
}

static void rnd_value(char *buf, size_t len)
{
	static const char alphabet[] = "abc.";
	size_t n = rnd(6);

	if (n >= len)
		n = len - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = alphabet[rnd(4)];
	buf[n] = '\0';
}

/* A glob of any shape the engine knows. */
static void rnd_glob(char *buf, size_t len)
{
	static const char *const tokens[] = {
		"a",   "b",   ".",     "ab",      "*",    "?",
		"[ab]", "[!a]", "\\*",  "\\a",     "[",    "c",
		"bc",  "a.",  "[a-c]", "[]a]", "[\\]a]", "[[:alpha:]]",
		"]",   "b?c", "*ab"};
	/* exact (most often), "prefix*", "*suffix", "*contains*" */
	static const char *const ends[][2] = {{"", ""},  {"", ""}, {"", ""},
					      {"", ""},  {"", "*"}, {"*", ""},
					      {"*", "*"}};
	unsigned shape = rnd(12);
	char v[8];
	size_t off = 0;

	buf[0] = '\0';
	rnd_value(v, sizeof(v));
	if (shape < 7)
		snprintf(buf, len, "%s%s%s", ends[shape][0], v, ends[shape][1]);
	else if (shape == 7)
		snprintf(buf, len, "*");
	else
		for (unsigned i = 0, n = 1 + rnd(4); i < n && off < len; i++)
			off += (size_t)snprintf(buf + off, len - off, "%s",
						tokens[rnd(21)]);
}

static struct json_object *rnd_globs(void)
{
	char g[64];

	if (rnd(3) == 0) {
		rnd_glob(g, sizeof(g));
		return json_object_new_string(g);
	}
	struct json_object *l = json_object_new_array();

	for (unsigned i = 0, n = 1 + rnd(2); i < n; i++) {
		rnd_glob(g, sizeof(g));
		json_object_array_add(l, json_object_new_string(g));
	}
	return l;
}

struct vocab {
	const char *const *types, *const *claims, *const *attrs;
	unsigned ntypes, nclaims, nattrs;
	char keys[100][8]; /* many-keys mode: k0 .. k99 */
};

static const char *const types[] = {"sql", "http", "k8s", "connect"};
static const char *const claims[] = {"ref", "repo", "env"};
static const char *const attrs[] = {"class", "table", "verb", "path"};

static const char *pick_key(const struct vocab *v, bool claim)
{
	return claim ? v->claims[rnd(v->nclaims)] : v->attrs[rnd(v->nattrs)];
}

static struct json_object *rnd_keyed(const struct vocab *v, bool claim)
{
	struct json_object *o = json_object_new_object();

	for (unsigned i = 0, n = 1 + rnd(2); i < n; i++)
		json_object_object_add(o, pick_key(v, claim), rnd_globs());
	return o;
}

static struct json_object *rnd_rule(const struct vocab *v, size_t i)
{
	static const char *const effects[] = {"allow", "deny", "review"};
	struct json_object *r = json_object_new_object(), *id, *act;
	const char *effect = effects[rnd(3)];
	char name[32];

	snprintf(name, sizeof(name), "r%zu", i);
	json_object_object_add(r, "name", json_object_new_string(name));
	json_object_object_add(r, "effect", json_object_new_string(effect));
	if (strcmp(effect, "review") == 0)
		json_object_object_add(
			r, "approval",
			json_tokener_parse("{\"groups\": {\"dba\": 1}}"));
	/* Most rules name a few things, so that matches are rare enough
	 * for the deciding rule to sit anywhere in the file; one in fifty
	 * names nothing and takes every decision that reaches it. */
	if (rnd(50) == 0)
		return r;
	id = json_object_new_object();
	act = json_object_new_object();
	do {
		if (rnd(3) == 0)
			json_object_object_add(id, "subject", rnd_globs());
		if (rnd(3) == 0)
			json_object_object_add(id, "groups", rnd_globs());
		if (rnd(4) == 0)
			json_object_object_add(id, "claims",
					       rnd_keyed(v, true));
		if (rnd(3) == 0)
			json_object_object_add(r, "connection", rnd_globs());
		if (rnd(2))
			json_object_object_add(act, v->attrs[rnd(v->nattrs)],
					       rnd_globs());
	} while (json_object_object_length(id) +
			 json_object_object_length(act) +
			 json_object_object_length(r) <
		 5); /* name and effect, then at least three */
	if (rnd(4) == 0) {
		struct json_object *l = json_object_new_array();

		json_object_array_add(
			l, json_object_new_string(v->types[rnd(v->ntypes)]));
		json_object_array_add(
			l, json_object_new_string(v->types[rnd(v->ntypes)]));
		json_object_object_add(act, "type", l);
	} else if (rnd(2)) {
		json_object_object_add(
			act, "type",
			json_object_new_string(v->types[rnd(v->ntypes)]));
	}
	json_object_object_add(r, "identity", id);
	json_object_object_add(r, "action", act);
	return r;
}

static struct policy *rnd_policy(const struct vocab *v, size_t nrules)
{
	struct json_object *o = json_object_new_object();
	struct json_object *rules = json_object_new_array();
	struct policy *p;
	char err[256] = "";

	for (size_t i = 0; i < nrules; i++)
		json_object_array_add(rules, rnd_rule(v, i));
	json_object_object_add(o, "rules", rules);
	p = policy_compile(o, err, sizeof(err));
	if (!p)
		fail_msg("compile: %s", err);
	json_object_put(o);
	return p;
}

static struct jg_identity *rnd_identity(const struct vocab *v)
{
	struct jg_identity *id;
	struct jg_identity_builder *b;
	char s[8];

	if (rnd(6) == 0)
		return NULL;
	id = identity_new();
	assert_non_null(id);
	b = (struct jg_identity_builder *)id;
	rnd_value(s, sizeof(s));
	if (rnd(5) && *s)
		assert_int_equal(identity_set_subject(b, s), JG_OK);
	for (unsigned i = 0, n = rnd(4); i < n; i++) {
		rnd_value(s, sizeof(s));
		assert_int_equal(identity_add_group(b, s), JG_OK);
	}
	for (unsigned i = 0, n = rnd(5); i < n; i++) {
		rnd_value(s, sizeof(s));
		assert_int_equal(identity_set_claim(b, pick_key(v, true), s),
				 JG_OK);
	}
	return id;
}

struct action {
	struct jg_action a;
	struct jg_attr attrs[6];
	char values[6][8];
	char type[8];
};

static void rnd_action(const struct vocab *v, struct action *x)
{
	memset(x, 0, sizeof(*x));
	switch (rnd(6)) {
	case 0:
		x->a.type = NULL;
		break;
	case 1:
		snprintf(x->type, sizeof(x->type), "other");
		x->a.type = x->type;
		break;
	default:
		x->a.type = v->types[rnd(v->ntypes)];
		break;
	}
	x->a.attrs = x->attrs;
	x->a.nattrs = rnd(7);
	for (size_t i = 0; i < x->a.nattrs; i++) {
		rnd_value(x->values[i], sizeof(x->values[i]));
		x->attrs[i].key = rnd(12) ? pick_key(v, false) : NULL;
		x->attrs[i].value = rnd(12) ? x->values[i] : NULL;
	}
}

static void find_decider(void *ud, size_t index, const char *rule,
			 int matched, const char *why)
{
	(void)index;
	(void)why;
	if (matched)
		snprintf(ud, 128, "%s", rule);
}

/* One identity and connection (a session), several actions. */
static size_t check_session(const struct policy *p, const struct vocab *v,
			    unsigned nactions)
{
	struct jg_identity *id = rnd_identity(v);
	char conn[8];
	const char *c = conn;
	struct policy_prepared *pp;

	rnd_value(conn, sizeof(conn));
	if (rnd(8) == 0)
		c = NULL;
	pp = policy_prepare(p, id, c);
	assert_non_null(pp);
	for (unsigned k = 0; k < nactions; k++) {
		struct action x;
		struct policy_result r, rp;
		char want[128] = "";

		rnd_action(v, &x);
		policy_trace(p, id, c, &x.a, find_decider, want);
		policy_decide(p, id, c, &x.a, &r);
		policy_decide_prepared(pp, p, id, c, &x.a, &rp);
		if (strcmp(r.d.rule, want) || strcmp(rp.d.rule, want))
			fail_msg("plain walk says %s, index %s, prepared %s",
				 want, r.d.rule, rp.d.rule);
		assert_int_equal(r.d.effect, rp.d.effect);
		assert_ptr_equal(r.rule, rp.rule);
	}
	policy_prepared_free(pp);
	identity_free(id);
	return nactions;
}

static void vocab_default(struct vocab *v)
{
	memset(v, 0, sizeof(*v));
	v->types = types;
	v->ntypes = 4;
	v->claims = claims;
	v->nclaims = 3;
	v->attrs = attrs;
	v->nattrs = 4;
}

static void test_small_policies(void **state)
{
	struct vocab v;
	size_t cases = 0;

	(void)state;
	vocab_default(&v);
	rng_state = 0x9e3779b97f4a7c15ULL;
	for (int round = 0; round < 400; round++) {
		struct policy *p = rnd_policy(&v, 1 + rnd(80));

		for (int s = 0; s < 4; s++)
			cases += check_session(p, &v, 8);
		policy_free(p);
	}
	assert_true(cases >= 10000);
}

/* More rules than one 4,096-rule window, and sets dense and sparse. */
static void test_large_policy(void **state)
{
	struct vocab v;
	struct policy *p;

	(void)state;
	vocab_default(&v);
	rng_state = 42;
	p = rnd_policy(&v, 4500);
	for (int s = 0; s < 10; s++)
		check_session(p, &v, 5);
	policy_free(p);
}

/* More claim and attribute keys than the index gives dimensions to. */
static void test_many_keys(void **state)
{
	struct vocab v;
	const char *keys[100];

	(void)state;
	vocab_default(&v);
	for (int i = 0; i < 100; i++) {
		snprintf(v.keys[i], sizeof(v.keys[i]), "k%d", i);
		keys[i] = v.keys[i];
	}
	v.claims = keys;
	v.nclaims = 100;
	v.attrs = keys;
	v.nattrs = 100;
	rng_state = 7;
	for (int round = 0; round < 20; round++) {
		struct policy *p = rnd_policy(&v, 200 + rnd(200));

		for (int s = 0; s < 10; s++)
			check_session(p, &v, 10);
		policy_free(p);
	}
}

/*
 * Every glob shape the index reads a literal out of, wrapped so that it
 * has no literal end, against every short text over the bytes that make
 * globs tricky: the index must let the rule through whenever the glob
 * matches.
 */
static void test_glob_shapes(void **state)
{
	static const char *const atoms[] = {
		"ab",	  "a?b",    "a\\*b", "a\\b",   "[a",    "b[a",
		"a]b",	  "]a",	    "[ab]a", "[!a]b",  "[^a]b", "[]a]b",
		"[!]a]b", "[\\]a]b", "[\\\\]b", "[[:alpha:]]b",
		"[[:alpha:]b]ab", "[a-]b", "a[]", "\\", "ab\\ab"};
	static const char *const wraps[][2] = {
		{"*", "*"}, {"?", "?"}, {"*", "?"}, {"[ab]", "*"}, {"", ""}};
	static const char bytes[] = "ab][\\:";
	size_t cases = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(atoms) / sizeof(*atoms); i++)
		for (size_t w = 0; w < sizeof(wraps) / sizeof(*wraps); w++) {
			char pat[64], text[8], json[256];
			struct json_object *o, *r;
			struct policy *p;
			char err[128];

			snprintf(pat, sizeof(pat), "%s%s%s", wraps[w][0],
				 atoms[i], wraps[w][1]);
			o = json_tokener_parse("{\"rules\": [{\"name\": \"t\", "
					       "\"effect\": \"allow\"}]}");
			r = json_object_new_object();
			json_object_object_add(r, "table",
					       json_object_new_string(pat));
			json_object_object_add(
				json_object_array_get_idx(
					json_object_object_get(o, "rules"), 0),
				"action", r);
			snprintf(json, sizeof(json), "%s",
				 json_object_to_json_string(o));
			p = policy_compile(o, err, sizeof(err));
			json_object_put(o);
			if (!p)
				fail_msg("%s: %s", json, err);
			/* every text of up to 4 of those bytes */
			for (unsigned n = 0; n <= 4; n++) {
				unsigned total = 1;

				for (unsigned k = 0; k < n; k++)
					total *= sizeof(bytes) - 1;
				for (unsigned t = 0; t < total; t++) {
					struct jg_attr at = {"table", text};
					struct jg_action a = {.type = "sql",
							      .attrs = &at,
							      .nattrs = 1};
					struct policy_result res;
					unsigned x = t;

					for (unsigned k = 0; k < n; k++) {
						text[k] = bytes[x % (sizeof(bytes) - 1)];
						x /= sizeof(bytes) - 1;
					}
					text[n] = '\0';
					policy_decide(p, NULL, "c", &a, &res);
					if ((res.d.effect == JG_EFFECT_ALLOW) !=
					    (policy_glob_match(pat, text) != 0))
						fail_msg("glob \"%s\", text \"%s\": "
							 "index says %s",
							 pat, text, res.d.rule);
					cases++;
				}
			}
			policy_free(p);
		}
	assert_true(cases > 10000);
}

/* A prepared session used with another identity or connection, or with
 * another policy, is ignored rather than trusted. */
static void test_prepared_mismatch(void **state)
{
	struct json_object *o = json_tokener_parse(
		"{\"rules\": [{\"name\": \"alice-a\", \"connection\": \"a\","
		" \"identity\": {\"subject\": \"alice\"}, \"effect\": "
		"\"allow\"}]}");
	char err[128];
	struct policy *p = policy_compile(o, err, sizeof(err)),
		      *q = policy_compile(o, err, sizeof(err));
	struct jg_identity *alice = identity_new(), *bob = identity_new();
	struct jg_action a = {.type = "sql"};
	struct policy_prepared *pp;
	struct policy_result r;

	(void)state;
	json_object_put(o);
	assert_non_null(p);
	assert_non_null(q);
	identity_set_subject((struct jg_identity_builder *)alice, "alice");
	identity_set_subject((struct jg_identity_builder *)bob, "bob");
	pp = policy_prepare(p, bob, "a");
	assert_int_equal(policy_decide_prepared(pp, p, bob, "a", &a, &r),
			 JG_EFFECT_DENY);
	assert_int_equal(policy_decide_prepared(pp, p, alice, "a", &a, &r),
			 JG_EFFECT_ALLOW);
	assert_string_equal(r.d.rule, "alice-a");
	policy_prepared_free(pp);
	pp = policy_prepare(p, alice, "a");
	assert_int_equal(policy_decide_prepared(pp, p, alice, "b", &a, &r),
			 JG_EFFECT_DENY);
	assert_int_equal(policy_decide_prepared(pp, q, alice, "a", &a, &r),
			 JG_EFFECT_ALLOW);
	assert_int_equal(policy_decide_prepared(NULL, p, alice, "a", &a, &r),
			 JG_EFFECT_ALLOW);
	assert_null(policy_prepare(NULL, alice, "a"));
	assert_int_equal(policy_decide_prepared(NULL, NULL, alice, "a", &a, &r),
			 JG_EFFECT_DENY);
	policy_prepared_free(pp);
	policy_prepared_free(NULL);
	identity_free(alice);
	identity_free(bob);
	policy_free(p);
	policy_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_small_policies),
		cmocka_unit_test(test_large_policy),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_glob_shapes),
		cmocka_unit_test(test_prepared_mismatch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
