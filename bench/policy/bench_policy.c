/*
 * Policy decisions per second with 1,000 rules.
 *
 *   bench/policy/bench_policy [ITERATIONS [SCENARIO]]
 *
 * Without ITERATIONS each measurement runs 2,000,000 decisions or about
 * 0.3 s, whichever is less (so the slow cases stay short).
 *
 * Policies of 1,000 rules each, compiled by the daemon's own engine:
 *   spread   rules over 100 connections and 5 action types, identity,
 *            claim and attribute conditions, as a large real policy looks;
 *   worst    every rule applies to every connection and type (no type, no
 *            connection named), names a subject glob, two groups and a
 *            table glob, and only the last rule matches: a plain walk
 *            tries all 1,000;
 *   action   the same with action conditions only: "table" prefix and
 *            suffix globs ("schemaN.*", "*.tN") on 1,000 rules;
 *   identity the same with identity conditions only: subject prefix and
 *            claim globs ("teamN-*", "refs/tags/vN*");
 *   contains the same with "*xN*" globs on "table";
 *   fnmatch  the same with "*xN?*" globs (no literal end: the index
 *            reads the text "xN" out of the middle);
 *   opaque   the same with "[[:alpha:]]xN*" globs, a shape the index
 *            reads nothing out of: each rule is tried in turn, the floor
 *            of what remains linear.
 * Each is measured two ways: "decide" (policy_decide, everything looked
 * up per call) and "session" (policy_prepare once, then
 * policy_decide_prepared, as core_decide does for a session).
 * Prints nanoseconds per decision and decisions per second.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "policy.h"

#define NRULES 1000

static const char *const types[] = {"sql", "http", "k8s", "ssh", "connect"};

static void rule_text(const char *scenario, int i, char *buf, size_t len)
{
	int last = i == NRULES - 1;

	if (strcmp(scenario, "spread") == 0)
		snprintf(buf, len,
			 "{\"name\": \"r%d\", \"connection\": \"conn-%d\","
			 " \"identity\": {\"groups\": [\"team-%d\", "
			 "\"sre\"], \"claims\": {\"ref\": "
			 "\"refs/heads/*\"}},"
			 " \"action\": {\"type\": \"%s\", \"%s\": "
			 "[\"v%d\", \"w%d*\"]},"
			 " \"effect\": \"%s\"}",
			 i, i % 100, i % 37, types[i % 5],
			 i % 5 == 0 ? "class" : "verb", i % 7, i % 11,
			 i % 3 ? "allow" : "deny");
	else if (last)
		snprintf(buf, len,
			 "{\"name\": \"last\", \"effect\": \"deny\"}");
	else if (strcmp(scenario, "worst") == 0)
		snprintf(buf, len,
			 "{\"name\": \"r%d\", \"identity\": {\"subject\": "
			 "\"team-%d-*\", \"groups\": [\"g%d\", \"h%d\"]},"
			 " \"action\": {\"table\": \"schema%d.*\"},"
			 " \"effect\": \"allow\"}",
			 i, i, i, i, i);
	else if (strcmp(scenario, "action") == 0)
		snprintf(buf, len,
			 "{\"name\": \"r%d\", \"action\": {\"table\": "
			 "[\"schema%d.*\", \"*.t%d\"]}, \"effect\": \"deny\"}",
			 i, i, i);
	else if (strcmp(scenario, "identity") == 0)
		snprintf(buf, len,
			 "{\"name\": \"r%d\", \"identity\": {\"subject\": "
			 "\"team%d-*\", \"claims\": {\"ref\": "
			 "\"refs/tags/v%d*\"}}, \"effect\": \"allow\"}",
			 i, i, i);
	else
		snprintf(buf, len,
			 "{\"name\": \"r%d\", \"action\": {\"table\": "
			 "\"%sx%d%s*\"}, \"effect\": \"deny\"}",
			 i, strcmp(scenario, "opaque") ? "*" : "[[:alpha:]]", i,
			 strcmp(scenario, "fnmatch") == 0 ? "?" : "");
}

static struct policy *build(const char *scenario)
{
	struct json_object *rules = json_object_new_array(), *pol;
	struct policy *p;
	char err[256], buf[1024];

	for (int i = 0; i < NRULES; i++) {
		rule_text(scenario, i, buf, sizeof(buf));
		json_object_array_add(rules, json_tokener_parse(buf));
	}
	pol = json_object_new_object();
	json_object_object_add(pol, "rules", rules);
	p = policy_compile(pol, err, sizeof(err));
	json_object_put(pol);
	if (!p) {
		fprintf(stderr, "compile: %s\n", err);
		exit(1);
	}
	return p;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void run(const char *name, const struct policy *p, long iters,
		int session, int warmup)
{
	struct jg_identity *id = identity_new();
	struct jg_identity_builder *b = (struct jg_identity_builder *)id;
	struct jg_attr attrs[3] = {{"class", "v3"}, {"verb", "w5x"},
				   {"table", "public.users"}};
	struct policy_prepared *prep[100] = {0};
	char conns[100][16];
	long hits[3] = {0};
	double t0, t1;

	identity_set_subject(b, "repo:acme/app:ref:refs/heads/main");
	identity_add_group(b, "team-5");
	identity_add_group(b, "ci");
	identity_set_claim(b, "ref", "refs/heads/main");
	identity_set_claim(b, "repository", "acme/app");
	for (int i = 0; i < 100; i++) {
		snprintf(conns[i], sizeof(conns[i]), "conn-%d", i);
		/* One session per connection, prepared once, outside the
		 * timing, as a session is when it authenticates. */
		if (session)
			prep[i] = policy_prepare(p, id, conns[i]);
	}
	if (warmup) {
		/* A first short run sizes the real one to about 0.3 s. */
		t0 = now_ns();
		for (long i = 0; i < 2000; i++) {
			struct jg_action a = {.type = types[i % 5],
					      .attrs = attrs,
					      .nattrs = 3};
			struct policy_result r;

			policy_decide(p, id, conns[i % 100], &a, &r);
		}
		t1 = (now_ns() - t0) / 2000;
		if (t1 > 0 && iters > 3e8 / t1)
			iters = (long)(3e8 / t1) + 1;
	}
	t0 = now_ns();
	for (long i = 0; i < iters; i++) {
		struct jg_action a = {.type = types[i % 5],
				      .attrs = attrs,
				      .nattrs = 3};
		struct policy_result r;
		int c = (int)((i * 7) % 100);

		if (session)
			policy_decide_prepared(prep[c], p, id, conns[c], &a,
					       &r);
		else
			policy_decide(p, id, conns[c], &a, &r);
		hits[r.d.effect]++;
	}
	t1 = now_ns();
	printf("%-8s %-7s %d rules: %8.1f ns/decision  %10.0f decisions/s  "
	       "(allow %ld, deny %ld)\n",
	       name, session ? "session" : "decide", NRULES, (t1 - t0) / iters,
	       iters / ((t1 - t0) / 1e9), hits[1], hits[0]);
	for (int i = 0; i < 100; i++)
		policy_prepared_free(prep[i]);
	identity_free(id);
}

int main(int argc, char **argv)
{
	static const char *const scenarios[] = {"spread",   "worst",
						"action",   "identity",
						"contains", "fnmatch",
						"opaque"};
	long iters = argc > 1 ? atol(argv[1]) : 2000000;
	const char *only = argc > 2 ? argv[2] : NULL;
	/* ITERATIONS given: run exactly that many (reproducible counts). */
	int fixed = argc > 1;

	if (iters < 1)
		iters = 1;
	for (size_t s = 0; s < sizeof(scenarios) / sizeof(*scenarios); s++) {
		struct policy *p;

		if (only && strcmp(only, scenarios[s]) != 0)
			continue;
		p = build(scenarios[s]);
		run(scenarios[s], p, iters, 0, !fixed);
		run(scenarios[s], p, iters, 1, !fixed);
		policy_free(p);
	}
	return 0;
}
