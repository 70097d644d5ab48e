/*
 * The policy engine as a policy author sees it: which rule decides, why,
 * and what happens when nothing matches.
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

static struct policy *compile_text(const char *text, char *err, size_t len)
{
	struct json_object *o = json_tokener_parse(text);
	struct policy *p;

	assert_non_null(o);
	p = policy_compile(o, err, len);
	json_object_put(o);
	return p;
}

static struct policy *compile_ok(const char *text)
{
	char err[256] = "";
	struct policy *p = compile_text(text, err, sizeof(err));

	if (!p)
		fail_msg("compile failed: %s", err);
	return p;
}

static void compile_fails(const char *text, const char *needle)
{
	char err[256] = "";
	struct policy *p = compile_text(text, err, sizeof(err));

	assert_null(p);
	if (!strstr(err, needle))
		fail_msg("error \"%s\" does not say \"%s\"", err, needle);
}

static struct jg_identity *ident(const char *json)
{
	struct json_object *o = json_tokener_parse(json);
	char err[128];
	struct jg_identity *id;

	assert_non_null(o);
	id = identity_from_json(o, err, sizeof(err));
	json_object_put(o);
	assert_non_null(id);
	return id;
}

/* Decide with an action given as type + "key=value" pairs. */
static int decide(const struct policy *p, const struct jg_identity *id,
		  const char *conn, const char *type, const char *kv[],
		  struct policy_result *r)
{
	struct jg_attr attrs[16];
	char buf[16][64];
	size_t n = 0;
	struct jg_action a = {.type = type, .attrs = attrs};

	for (; kv && kv[n]; n++) {
		const char *eq = strchr(kv[n], '=');

		assert_non_null(eq);
		snprintf(buf[n], sizeof(buf[n]), "%.*s", (int)(eq - kv[n]),
			 kv[n]);
		attrs[n].key = buf[n];
		attrs[n].value = eq + 1;
	}
	a.nattrs = n;
	return policy_decide(p, id, conn, &a, r);
}

static void test_globs(void **state)
{
	(void)state;
	assert_true(policy_glob_match("*", "anything"));
	assert_true(policy_glob_match("*", ""));
	assert_true(policy_glob_match("public.users", "public.users"));
	assert_false(policy_glob_match("public.users", "public.user"));
	assert_true(policy_glob_match("public.*", "public.users"));
	assert_false(policy_glob_match("public.*", "secret.users"));
	assert_true(policy_glob_match("*.users", "public.users"));
	assert_false(policy_glob_match("*.users", "public.usersx"));
	assert_true(policy_glob_match("*prod*", "eu-prod-1"));
	assert_false(policy_glob_match("*prod*", "eu-stage-1"));
	assert_true(policy_glob_match("repo:acme/*:ref:refs/heads/main",
				      "repo:acme/app:ref:refs/heads/main"));
	assert_false(policy_glob_match("repo:acme/*:ref:refs/heads/main",
				       "repo:acme/app:ref:refs/heads/dev"));
	assert_true(policy_glob_match("db-?", "db-1"));
	assert_false(policy_glob_match("db-?", "db-12"));
	assert_true(policy_glob_match("db-[0-9]", "db-7"));
	assert_true(policy_glob_match("a\\*b", "a*b"));
	assert_false(policy_glob_match("a\\*b", "axb"));
}

static void test_default_deny(void **state)
{
	struct policy_result r;
	struct policy *p = compile_ok("{\"rules\": []}");
	char err[64];

	(void)state;
	assert_int_equal(decide(p, NULL, "db", "sql", NULL, &r),
			 JG_EFFECT_DENY);
	assert_string_equal(r.d.rule, "default");
	assert_string_equal(r.d.reason, "no rule matched (default deny)");
	assert_null(r.rule);
	policy_free(p);

	/* No policy section at all: deny everything. */
	p = policy_compile(NULL, err, sizeof(err));
	assert_non_null(p);
	assert_int_equal(decide(p, NULL, "db", "connect", NULL, &r),
			 JG_EFFECT_DENY);
	policy_free(p);
	assert_int_equal(decide(NULL, NULL, "db", "connect", NULL, &r),
			 JG_EFFECT_DENY);
}

static void test_first_match_wins(void **state)
{
	struct policy_result r;
	struct policy *p = compile_ok(
		"{\"rules\": ["
		" {\"name\": \"no-ddl\", \"action\": {\"type\": \"sql\","
		"  \"class\": \"ddl\"}, \"effect\": \"deny\"},"
		" {\"name\": \"all-sql\", \"action\": {\"type\": \"sql\"},"
		"  \"effect\": \"allow\", \"mask\": \"pii\", \"record\": "
		"\"metadata\"},"
		" {\"name\": \"never-reached\", \"effect\": \"deny\"}]}");

	(void)state;
	assert_int_equal(decide(p, NULL, "db", "sql",
				(const char *[]){"class=ddl", NULL}, &r),
			 JG_EFFECT_DENY);
	assert_string_equal(r.d.rule, "no-ddl");
	assert_int_equal(decide(p, NULL, "db", "sql",
				(const char *[]){"class=select", NULL}, &r),
			 JG_EFFECT_ALLOW);
	assert_string_equal(r.d.rule, "all-sql");
	assert_string_equal(r.d.mask_profile, "pii");
	assert_int_equal(r.d.record_level, 1);
	assert_int_equal(r.index, 1);
	/* Another type falls through to the untyped rule. */
	assert_int_equal(decide(p, NULL, "db", "http", NULL, &r),
			 JG_EFFECT_DENY);
	assert_string_equal(r.d.rule, "never-reached");
	policy_free(p);
}

static void test_identity_matching(void **state)
{
	struct policy_result r;
	struct policy *p = compile_ok(
		"{\"rules\": ["
		" {\"name\": \"ci-main\", \"identity\": {"
		"   \"subject\": \"repo:acme/*\","
		"   \"claims\": {\"ref\": \"refs/heads/main\","
		"                \"environment\": [\"prod\", \"stage\"]}},"
		"  \"effect\": \"allow\"},"
		" {\"name\": \"dbas\", \"identity\": {\"groups\": [\"dba\", "
		"\"sre-*\"]},"
		"  \"effect\": \"allow\"}]}");
	struct jg_identity *ci = ident(
		"{\"sub\": \"repo:acme/app:ref:refs/heads/main\","
		" \"claims\": {\"ref\": \"refs/heads/main\","
		"  \"environment\": \"prod\"}}");
	struct jg_identity *ci_dev = ident(
		"{\"sub\": \"repo:acme/app:ref:refs/heads/dev\","
		" \"claims\": {\"ref\": \"refs/heads/dev\","
		"  \"environment\": \"prod\"}}");
	struct jg_identity *other = ident("{\"sub\": \"repo:evil/app\","
					  " \"claims\": {\"ref\": "
					  "\"refs/heads/main\", "
					  "\"environment\": \"prod\"}}");
	struct jg_identity *sre = ident("{\"sub\": \"alice\", \"groups\": "
					"[\"staff\", \"sre-eu\"]}");
	struct jg_identity *staff = ident("{\"sub\": \"bob\", \"groups\": "
					  "[\"staff\"]}");

	(void)state;
	assert_int_equal(decide(p, ci, "db", "connect", NULL, &r),
			 JG_EFFECT_ALLOW);
	assert_string_equal(r.d.rule, "ci-main");
	assert_int_equal(decide(p, ci_dev, "db", "connect", NULL, &r),
			 JG_EFFECT_DENY);
	assert_int_equal(decide(p, other, "db", "connect", NULL, &r),
			 JG_EFFECT_DENY);
	assert_int_equal(decide(p, sre, "db", "connect", NULL, &r),
			 JG_EFFECT_ALLOW);
	assert_string_equal(r.d.rule, "dbas");
	assert_int_equal(decide(p, staff, "db", "connect", NULL, &r),
			 JG_EFFECT_DENY);
	/* Without an identity, identity conditions never match. */
	assert_int_equal(decide(p, NULL, "db", "connect", NULL, &r),
			 JG_EFFECT_DENY);
	identity_free(ci);
	identity_free(ci_dev);
	identity_free(other);
	identity_free(sre);
	identity_free(staff);
	policy_free(p);
}

static void test_connection_globs(void **state)
{
	struct policy_result r;
	struct policy *p = compile_ok(
		"{\"rules\": ["
		" {\"name\": \"exact\", \"connection\": \"analytics\","
		"  \"effect\": \"allow\", \"record\": \"none\"},"
		" {\"name\": \"prod\", \"connection\": \"prod-*\","
		"  \"effect\": \"review\","
		"  \"approval\": {\"groups\": {\"dba\": 1}}},"
		" {\"name\": \"list\", \"connection\": [\"a\", \"b\"],"
		"  \"effect\": \"allow\"}]}");

	(void)state;
	decide(p, NULL, "analytics", "sql", NULL, &r);
	assert_string_equal(r.d.rule, "exact");
	assert_int_equal(r.d.record_level, 0);
	assert_int_equal(decide(p, NULL, "prod-eu", "sql", NULL, &r),
			 JG_EFFECT_REVIEW);
	assert_non_null(r.approval);
	assert_int_equal(r.approval->n, 1);
	assert_string_equal(r.approval->need[0].group, "dba");
	decide(p, NULL, "b", "sql", NULL, &r);
	assert_string_equal(r.d.rule, "list");
	decide(p, NULL, "analytics2", "sql", NULL, &r);
	assert_string_equal(r.d.rule, "default");
	policy_free(p);
}

static void test_multi_valued_attributes(void **state)
{
	struct policy_result r;
	struct policy *p = compile_ok(
		"{\"rules\": ["
		" {\"name\": \"no-secrets\", \"action\": {\"type\": \"sql\","
		"  \"table\": \"secret.*\"}, \"effect\": \"deny\"},"
		" {\"name\": \"public-read\", \"action\": {\"type\": \"sql\","
		"  \"class\": \"select\", \"table\": \"public.*\"},"
		"  \"effect\": \"allow\"},"
		" {\"name\": \"other-read\", \"action\": {\"type\": \"sql\","
		"  \"class\": \"select\"}, \"effect\": \"review\","
		"  \"approval\": {\"groups\": {\"dba\": 1}}}]}");

	(void)state;
	/* allow needs every table to match: one outside public falls
	 * through to the next rule. */
	decide(p, NULL, "db", "sql",
	       (const char *[]){"class=select", "table=public.a",
				"table=public.b", NULL},
	       &r);
	assert_string_equal(r.d.rule, "public-read");
	decide(p, NULL, "db", "sql",
	       (const char *[]){"class=select", "table=public.a",
				"table=hr.salaries", NULL},
	       &r);
	assert_string_equal(r.d.rule, "other-read");
	/* deny takes any one matching value. */
	assert_int_equal(decide(p, NULL, "db", "sql",
				(const char *[]){"class=select",
						 "table=public.a",
						 "table=secret.keys", NULL},
				&r),
			 JG_EFFECT_DENY);
	assert_string_equal(r.d.rule, "no-secrets");
	/* A rule naming an attribute needs the action to have it: a
	 * statement with no table is not "all tables public". */
	decide(p, NULL, "db", "sql", (const char *[]){"class=select", NULL},
	       &r);
	assert_string_equal(r.d.rule, "other-read");
	policy_free(p);
}

struct trace {
	char lines[8][600];
	size_t n;
};

static void collect(void *ud, size_t index, const char *rule, int matched,
		    const char *why)
{
	struct trace *t = ud;

	if (t->n < 8)
		snprintf(t->lines[t->n++], sizeof(t->lines[0]),
			 "%zu %s %s: %s", index, rule,
			 matched ? "MATCH" : "skip", why);
}

static void test_explanations(void **state)
{
	struct trace t = {0};
	struct policy_result r;
	struct policy *p = compile_ok(
		"{\"rules\": ["
		" {\"name\": \"k8s-ro\", \"description\": \"read-only for "
		"CI\", \"action\": {\"type\": \"k8s\", \"verb\": [\"get\", "
		"\"list\"]},"
		"  \"effect\": \"allow\"},"
		" {\"name\": \"dba\", \"identity\": {\"groups\": \"dba\"},"
		"  \"effect\": \"allow\"},"
		" {\"name\": \"main\", \"connection\": \"cluster\", "
		"\"identity\": {\"claims\": {\"ref\": \"refs/heads/main\"}},"
		"  \"effect\": \"allow\"}]}");
	struct jg_identity *id = ident("{\"sub\": \"ci\", \"groups\": "
				       "[\"dev\"], \"claims\": {\"ref\": "
				       "\"refs/heads/x\"}}");
	struct jg_attr attrs[] = {{"verb", "delete"}, {"resource", "pods"}};
	struct jg_action a = {.type = "k8s", .attrs = attrs, .nattrs = 2};

	(void)state;
	policy_decide(p, id, "cluster", &a, &r);
	assert_string_equal(r.d.rule, "default");
	policy_trace(p, id, "cluster", &a, collect, &t);
	assert_int_equal(t.n, 4);
	assert_string_equal(t.lines[0],
			    "0 k8s-ro skip: verb \"delete\" is not one of "
			    "[get, list] (allow needs every verb to match)");
	assert_string_equal(t.lines[1],
			    "1 dba skip: no group of the identity is one of "
			    "[dba]");
	assert_string_equal(t.lines[2], "2 main skip: claim \"ref\" is not "
					"one of [refs/heads/main]");
	assert_string_equal(t.lines[3], "3 default MATCH: no rule matched "
					"(default deny)");

	attrs[0].value = "list";
	policy_decide(p, id, "cluster", &a, &r);
	assert_string_equal(r.d.rule, "k8s-ro");
	assert_string_equal(r.d.reason, "read-only for CI");
	identity_free(id);
	policy_free(p);

	p = compile_ok("{\"rules\": [{\"name\": \"x\", \"effect\": "
		       "\"allow\"}]}");
	policy_decide(p, NULL, "c", &a, &r);
	assert_string_equal(r.d.reason, "rule #1 \"x\" matched: allow");
	policy_free(p);
}

static void test_review_rules(void **state)
{
	struct policy_result r;
	struct policy *p = compile_ok(
		"{\"rules\": [{\"name\": \"ddl\", \"action\": {\"type\": "
		"\"sql\", \"class\": \"ddl\"}, \"effect\": \"review\","
		" \"approval\": {\"groups\": {\"dba\": 2, \"security\": 1},"
		" \"timeout\": \"30m\"}}]}");
	const struct policy_approval *ap;

	(void)state;
	assert_int_equal(decide(p, NULL, "db", "sql",
				(const char *[]){"class=ddl", NULL}, &r),
			 JG_EFFECT_REVIEW);
	ap = r.approval;
	assert_non_null(ap);
	assert_int_equal(ap->n, 2);
	assert_string_equal(ap->need[0].group, "dba");
	assert_int_equal(ap->need[0].count, 2);
	assert_string_equal(ap->need[1].group, "security");
	assert_int_equal(ap->need[1].count, 1);
	assert_int_equal(ap->timeout_ms, 30 * 60 * 1000);
	assert_ptr_equal(policy_rule_approval(policy_rule_find(p, "ddl")), ap);
	assert_null(policy_rule_find(p, "nope"));
	policy_free(p);
}

static void test_grant_bounds(void **state)
{
	struct policy_result r;
	struct policy *p = compile_ok(
		"{\"rules\": [{\"name\": \"ci-grants\", \"action\": {\"type\": "
		"\"grant\"}, \"connection\": \"analytics\", \"effect\": "
		"\"allow\", \"max_ttl\": \"30m\", \"max_sessions\": 3}]}");

	(void)state;
	assert_int_equal(decide(p, NULL, "analytics", "grant", NULL, &r),
			 JG_EFFECT_ALLOW);
	assert_int_equal(r.max_ttl_ms, 30 * 60 * 1000);
	assert_int_equal(r.max_sessions, 3);
	policy_free(p);
}

static void test_compile_errors(void **state)
{
	(void)state;
	compile_fails("[]", "policy: must be an object");
	compile_fails("{\"rulez\": []}", "policy.rulez: unknown key");
	compile_fails("{\"rules\": [{\"effect\": \"allow\"}]}",
		      "policy.rules[0].name: required");
	compile_fails("{\"rules\": [{\"name\": \"a\"}]}",
		      "policy.rules[0].effect: required");
	compile_fails("{\"rules\": [{\"name\": \"a\", \"effect\": \"yes\"}]}",
		      "\"yes\" is not");
	compile_fails("{\"rules\": [{\"name\": \"a\", \"effect\": \"allow\"},"
		      " {\"name\": \"a\", \"effect\": \"deny\"}]}",
		      "policy.rules[1].name: \"a\" is already the name of "
		      "rule 0");
	compile_fails("{\"rules\": [{\"name\": \"a\", \"effect\": "
		      "\"review\"}]}",
		      "policy.rules[0].approval: required");
	compile_fails("{\"rules\": [{\"name\": \"a\", \"effect\": \"allow\","
		      " \"approval\": {\"groups\": {\"x\": 1}}}]}",
		      "only meaningful with effect review");
	compile_fails("{\"rules\": [{\"name\": \"a\", \"effect\": \"review\","
		      " \"approval\": {\"groups\": {\"x\": 0}}}]}",
		      "approval.groups.x: must be a number");
	compile_fails("{\"rules\": [{\"name\": \"a\", \"effect\": \"allow\","
		      " \"identity\": {\"subjct\": \"x\"}}]}",
		      "identity.subjct: unknown key");
	compile_fails("{\"rules\": [{\"name\": \"a\", \"effect\": \"allow\","
		      " \"action\": {\"type\": \"s*\"}}]}",
		      "not globs");
	compile_fails("{\"rules\": [{\"name\": \"a\", \"effect\": \"allow\","
		      " \"action\": {\"table\": 3}}]}",
		      "action.table: must be a string");
	compile_fails("{\"rules\": [{\"name\": \"a\", \"effect\": \"allow\","
		      " \"connection\": []}]}",
		      "connection: empty list");
	compile_fails("{\"rules\": [{\"name\": \"a\", \"effect\": \"allow\","
		      " \"max_ttl\": \"soon\"}]}",
		      "max_ttl: must be a duration");
	compile_fails("{\"rules\": [{\"name\": \"default\", \"effect\": "
		      "\"allow\"}]}",
		      "reserved");
	compile_fails("{\"rules\": [{\"name\": \"a\", \"effect\": \"allow\","
		      " \"record\": \"all\"}]}",
		      "record: must be");
}

static void test_durations(void **state)
{
	int64_t ms;

	(void)state;
	assert_int_equal(policy_parse_duration("250ms", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(policy_parse_duration("15m", &ms), 0);
	assert_int_equal(ms, 900000);
	assert_int_equal(policy_parse_duration("2h", &ms), 0);
	assert_int_equal(ms, 7200000);
	assert_int_equal(policy_parse_duration("1d", &ms), 0);
	assert_int_equal(policy_parse_duration("-1s", &ms), -1);
	assert_int_equal(policy_parse_duration("1w", &ms), -1);
	assert_int_equal(policy_parse_duration("99999999999999999d", &ms), -1);
}

/*
 * The index must never change an answer: compare the indexed decision
 * with the unindexed walk policy_trace does, over random policies.
 */
static void find_decider(void *ud, size_t index, const char *rule,
			 int matched, const char *why)
{
	if (matched)
		snprintf(ud, 128, "%s", rule);
}

static void test_index_agrees_with_linear_walk(void **state)
{
	static const char *const types[] = {"sql", "http", "k8s", "connect"};
	static const char *const conns[] = {"a", "b", "c-1", "c-2", "d"};
	static const char *const cpat[] = {"\"a\"", "\"b\"", "\"c-*\"",
					   "[\"a\", \"d\"]", "\"*\""};
	char *text = malloc(200000);
	size_t off;

	(void)state;
	srand(7);
	for (int round = 0; round < 20; round++) {
		struct policy *p;
		size_t nrules = 1 + (size_t)(rand() % 60);

		off = (size_t)sprintf(text, "{\"rules\": [");
		for (size_t i = 0; i < nrules; i++) {
			off += (size_t)sprintf(text + off,
					       "%s{\"name\": \"r%zu\", "
					       "\"effect\": \"%s\"",
					       i ? "," : "", i,
					       rand() % 2 ? "allow" : "deny");
			if (rand() % 3)
				off += (size_t)sprintf(
					text + off, ", \"connection\": %s",
					cpat[rand() % 5]);
			if (rand() % 3)
				off += (size_t)sprintf(
					text + off,
					", \"action\": {\"type\": \"%s\"}",
					types[rand() % 4]);
			if (rand() % 4 == 0)
				off += (size_t)sprintf(
					text + off,
					", \"action\": {\"type\": [\"%s\", "
					"\"%s\"]}",
					types[rand() % 4], types[rand() % 4]);
			text[off++] = '}';
		}
		strcpy(text + off, "]}");
		p = compile_ok(text);
		for (size_t t = 0; t < 5; t++)
			for (size_t c = 0; c < 5; c++) {
				struct policy_result r;
				char want[128];
				struct jg_action a = {
					.type = t < 4 ? types[t] : "other"};

				policy_decide(p, NULL, conns[c], &a, &r);
				policy_trace(p, NULL, conns[c], &a,
					     find_decider, want);
				assert_string_equal(r.d.rule, want);
			}
		policy_free(p);
	}
	free(text);
}

static void test_identity_json_roundtrip(void **state)
{
	struct jg_identity *id = ident(
		"{\"sub\": \"alice\", \"groups\": [\"dba\", \"dba\", \"ops\"],"
		" \"claims\": {\"aud\": [\"x\", \"y\"], \"ref\": \"main\","
		" \"n\": 5}}");
	struct json_object *o;
	struct jg_identity *back;
	char err[64];

	(void)state;
	assert_int_equal(id->ngroups, 2); /* duplicates collapse */
	assert_true(identity_has_group(id, "ops"));
	assert_false(identity_has_group(id, "op"));
	assert_int_equal(id->nclaims, 4);
	o = identity_to_json(id);
	back = identity_from_json(o, err, sizeof(err));
	assert_non_null(back);
	assert_string_equal(back->subject, "alice");
	assert_int_equal(back->nclaims, 4);
	assert_string_equal(json_object_to_json_string_ext(
				    o, JSON_C_TO_STRING_PLAIN),
			    "{\"sub\":\"alice\",\"groups\":[\"dba\",\"ops\"],"
			    "\"claims\":{\"aud\":[\"x\",\"y\"],\"ref\":"
			    "\"main\",\"n\":\"5\"}}");
	json_object_put(o);
	identity_free(back);
	identity_free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_globs),
		cmocka_unit_test(test_default_deny),
		cmocka_unit_test(test_first_match_wins),
		cmocka_unit_test(test_identity_matching),
		cmocka_unit_test(test_connection_globs),
		cmocka_unit_test(test_multi_valued_attributes),
		cmocka_unit_test(test_explanations),
		cmocka_unit_test(test_review_rules),
		cmocka_unit_test(test_grant_bounds),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_index_agrees_with_linear_walk),
		cmocka_unit_test(test_identity_json_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
