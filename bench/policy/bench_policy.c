/*
 * Policy decisions per second with 1,000 rules.
 *
 *   bench/policy/bench_policy [ITERATIONS]
 *
 * Two policies, each of 1,000 rules, compiled by the daemon's own engine:
 *   spread  rules over 100 connections and 5 action types, identity,
 *           claim and attribute conditions, as a large real policy looks;
 *   worst   every rule applies to every connection and type and only the
 *           last one matches, so each decision walks all 1,000 rules.
 * Prints nanoseconds per decision and decisions per second for each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "policy.h"

#define NRULES 1000

static const char *const types[] = {"sql", "http", "k8s", "ssh", "connect"};

static struct policy *build(int worst)
{
	struct json_object *rules = json_object_new_array(), *pol;
	struct policy *p;
	char err[256], buf[1024];

	for (int i = 0; i < NRULES; i++) {
		if (worst && i < NRULES - 1)
			snprintf(buf, sizeof(buf),
				 "{\"name\": \"r%d\", \"identity\": {\"subject\": "
				 "\"team-%d-*\", \"groups\": [\"g%d\", \"h%d\"]},"
				 " \"action\": {\"table\": \"schema%d.*\"},"
				 " \"effect\": \"allow\"}",
				 i, i, i, i, i);
		else if (worst)
			snprintf(buf, sizeof(buf),
				 "{\"name\": \"last\", \"effect\": \"deny\"}");
		else
			snprintf(buf, sizeof(buf),
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

static void run(const char *name, struct policy *p, long iters)
{
	struct jg_identity *id = identity_new();
	struct jg_identity_builder *b = (struct jg_identity_builder *)id;
	struct jg_attr attrs[3] = {{"class", "v3"}, {"verb", "w5x"},
				   {"table", "public.users"}};
	char conns[100][16];
	long hits[3] = {0};
	double t0, t1;

	identity_set_subject(b, "repo:acme/app:ref:refs/heads/main");
	identity_add_group(b, "team-5");
	identity_add_group(b, "ci");
	identity_set_claim(b, "ref", "refs/heads/main");
	identity_set_claim(b, "repository", "acme/app");
	for (int i = 0; i < 100; i++)
		snprintf(conns[i], sizeof(conns[i]), "conn-%d", i);
	t0 = now_ns();
	for (long i = 0; i < iters; i++) {
		struct jg_action a = {.type = types[i % 5],
				      .attrs = attrs,
				      .nattrs = 3};
		struct policy_result r;

		policy_decide(p, id, conns[(i * 7) % 100], &a, &r);
		hits[r.d.effect]++;
	}
	t1 = now_ns();
	printf("%-7s %d rules: %8.1f ns/decision  %10.0f decisions/s  "
	       "(allow %ld, deny %ld)\n",
	       name, NRULES, (t1 - t0) / iters, iters / ((t1 - t0) / 1e9),
	       hits[1], hits[0]);
	identity_free(id);
}

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 2000000;
	struct policy *spread = build(0), *worst = build(1);

	run("spread", spread, iters);
	run("worst", worst, iters / 20 > 0 ? iters / 20 : 1);
	policy_free(spread);
	policy_free(worst);
	return 0;
}
