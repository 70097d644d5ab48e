/*
 * jitgate policy test|check: decide offline with the gateway's own policy
 * engine (core/policy*.c linked in), no gateway needed.
 */
#include "cli.h"
#include "policy.h"

#include <glob.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

static void policy_usage(FILE *f)
{
	fprintf(f,
		"usage: jitgate policy test --config FILE --identity JSON "
		"--connection NAME\n"
		"                           --action JSON [--explain] [--json]\n"
		"       jitgate policy check --config FILE\n\n"
		"  -c, --config FILE      jitgated config or policy file "
		"({\"rules\": [...]})\n"
		"  -i, --identity JSON    {\"sub\": \"...\", \"groups\": [...], "
		"\"claims\": {...}}\n"
		"                         or @FILE\n"
		"  -C, --connection NAME  connection the action is on\n"
		"  -a, --action JSON      {\"type\": \"sql\", \"class\": \"ddl\", "
		"\"table\": [\"public.users\"]}\n"
		"                         or @FILE; \"text\" is the exact "
		"statement\n"
		"  -e, --explain          show every rule tried and why it did "
		"not match\n"
		"  -j, --json             print the decision as JSON\n"
		"  -h, --help             this text\n\n"
		"exit status of test: 0 allow, 5 deny, 7 review, 9 bad policy, "
		"2 usage.\n");
}

/* "@file" reads the JSON from a file; anything else is JSON text. */
static struct json_object *json_arg(const char *what, const char *arg)
{
	struct json_object *o;

	if (arg[0] == '@')
		o = json_object_from_file(arg + 1);
	else
		o = json_tokener_parse(arg);
	if (!o || !json_object_is_type(o, json_type_object)) {
		cli_error(CLI_USAGE, "--%s: not a JSON object: %s", what, arg);
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Append the rules of one file's "policy" (or a bare policy file). */
static int add_rules(struct json_object *all, struct json_object *doc,
		     const char *path)
{
	struct json_object *pol = NULL, *rules;

	if (!json_object_object_get_ex(doc, "policy", &pol) &&
	    json_object_object_get_ex(doc, "rules", NULL))
		pol = doc;
	if (!pol)
		return 0;
	if (!json_object_is_type(pol, json_type_object) ||
	    !json_object_object_get_ex(pol, "rules", &rules) ||
	    !json_object_is_type(rules, json_type_array))
		return cli_error(CLI_CONFIG,
				 "%s: policy must be {\"rules\": [...]}", path);
	json_object_object_foreach(pol, k, v)
	{
		(void)v;
		if (strcmp(k, "rules") != 0)
			return cli_error(CLI_CONFIG,
					 "%s: policy.%s: unknown key (rules)",
					 path, k);
	}
	for (size_t i = 0; i < json_object_array_length(rules); i++)
		json_object_array_add(
			all, json_object_get(json_object_array_get_idx(rules, i)));
	return 0;
}

/*
 * The policy as the gateway sees it: the main file's rules, then those of
 * its "include" files in glob order.
 */
static struct json_object *load_policy(const char *path)
{
	struct json_object *doc = json_object_from_file(path), *inc, *all, *pol;
	char *dup, *dir;
	int rc;

	if (!doc || !json_object_is_type(doc, json_type_object)) {
		cli_error(CLI_CONFIG, "%s: %s", path,
			  doc ? "not a JSON object" : json_util_get_last_err());
		json_object_put(doc);
		return NULL;
	}
	all = json_object_new_array();
	rc = add_rules(all, doc, path);
	dup = strdup(path);
	dir = dirname(dup);
	if (rc == 0 && json_object_object_get_ex(doc, "include", &inc) &&
	    json_object_is_type(inc, json_type_array)) {
		for (size_t i = 0; rc == 0 && i < json_object_array_length(inc);
		     i++) {
			const char *pat = json_object_get_string(
				json_object_array_get_idx(inc, i));
			char full[4096];
			glob_t g;

			snprintf(full, sizeof(full), "%s%s%s",
				 pat[0] == '/' ? "" : dir,
				 pat[0] == '/' ? "" : "/", pat);
			if (glob(full, 0, NULL, &g) != 0)
				continue;
			for (size_t k = 0; rc == 0 && k < g.gl_pathc; k++) {
				struct json_object *d =
					json_object_from_file(g.gl_pathv[k]);

				if (!d) {
					rc = cli_error(CLI_CONFIG, "%s: %s",
						       g.gl_pathv[k],
						       json_util_get_last_err());
					break;
				}
				rc = add_rules(all, d, g.gl_pathv[k]);
				json_object_put(d);
			}
			globfree(&g);
		}
	}
	free(dup);
	json_object_put(doc);
	if (rc) {
		json_object_put(all);
		return NULL;
	}
	pol = json_object_new_object();
	json_object_object_add(pol, "rules", all);
	return pol;
}

static struct policy *compile_file(const char *path)
{
	struct json_object *pol = load_policy(path);
	struct policy *p;
	char err[512];

	if (!pol)
		return NULL;
	p = policy_compile(pol, err, sizeof(err));
	json_object_put(pol);
	if (!p)
		cli_error(CLI_CONFIG, "%s: %s", path, err);
	return p;
}

/* Action JSON -> jg_action; list values become repeated attributes. */
struct action_buf {
	struct jg_action a;
	struct jg_attr attrs[256];
};

static int action_from_json(struct json_object *o, struct action_buf *ab)
{
	size_t n = 0;

	memset(ab, 0, sizeof(*ab));
	ab->a.attrs = ab->attrs;
	json_object_object_foreach(o, key, val)
	{
		size_t cnt = json_object_is_type(val, json_type_array)
				     ? json_object_array_length(val)
				     : 1;

		if (strcmp(key, "type") == 0) {
			ab->a.type = json_object_get_string(val);
			continue;
		}
		if (strcmp(key, "text") == 0) {
			ab->a.text = json_object_get_string(val);
			continue;
		}
		for (size_t i = 0; i < cnt; i++) {
			struct json_object *v =
				json_object_is_type(val, json_type_array)
					? json_object_array_get_idx(val, i)
					: val;

			if (n >= 256)
				return cli_error(CLI_USAGE,
						 "--action: too many attributes");
			ab->attrs[n].key = key;
			ab->attrs[n].value = json_object_get_string(v);
			n++;
		}
	}
	if (!ab->a.type)
		return cli_error(CLI_USAGE, "--action: \"type\" is required "
					    "(sql, http, k8s, ssh, connect, "
					    "grant, token)");
	ab->a.nattrs = n;
	return 0;
}

static void print_trace(void *ud, size_t index, const char *rule,
			int matched, const char *why)
{
	(void)ud;
	printf("  %s #%-3zu %-24s %s\n", matched ? "=>" : "  ", index + 1, rule,
	       why);
}

static struct json_object *result_json(const struct policy_result *r)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "decision", json_object_new_string(
						      policy_effect_name(r->d.effect)));
	json_object_object_add(o, "rule", json_object_new_string(r->d.rule));
	if (r->rule)
		json_object_object_add(o, "rule_index",
				       json_object_new_int64((int64_t)r->index + 1));
	json_object_object_add(o, "reason", json_object_new_string(r->d.reason));
	json_object_object_add(o, "mask",
			       json_object_new_string(r->d.mask_profile));
	json_object_object_add(o, "record", json_object_new_string(
						    policy_record_name(r->d.record_level)));
	if (r->approval) {
		struct json_object *g = json_object_new_object();

		for (size_t i = 0; i < r->approval->n; i++)
			json_object_object_add(
				g, r->approval->need[i].group,
				json_object_new_int(
					(int)r->approval->need[i].count));
		json_object_object_add(o, "approval", g);
	}
	if (r->max_ttl_ms)
		json_object_object_add(o, "max_ttl_seconds",
				       json_object_new_int64(r->max_ttl_ms / 1000));
	if (r->max_sessions)
		json_object_object_add(o, "max_sessions",
				       json_object_new_int64(r->max_sessions));
	return o;
}

static void print_result(const struct policy_result *r)
{
	printf("decision: %s\n", policy_effect_name(r->d.effect));
	if (r->rule)
		printf("rule:     %s (#%zu)\n", r->d.rule, r->index + 1);
	else
		printf("rule:     %s\n", r->d.rule);
	printf("reason:   %s\n", r->d.reason);
	if (r->approval) {
		printf("approval:");
		for (size_t i = 0; i < r->approval->n; i++)
			printf("%s %s x%u", i ? "," : "",
			       r->approval->need[i].group,
			       r->approval->need[i].count);
		printf(" (each group required)\n");
	}
	if (r->d.effect != JG_EFFECT_DENY) {
		printf("mask:     %s\n",
		       *r->d.mask_profile ? r->d.mask_profile : "(none)");
		printf("record:   %s\n", policy_record_name(r->d.record_level));
	}
	if (r->max_ttl_ms)
		printf("max_ttl:  %llds\n", (long long)(r->max_ttl_ms / 1000));
	if (r->max_sessions)
		printf("max_sessions: %lld\n", (long long)r->max_sessions);
}

static int policy_test(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"identity", required_argument, NULL, 'i'},
		{"connection", required_argument, NULL, 'C'},
		{"action", required_argument, NULL, 'a'},
		{"explain", no_argument, NULL, 'e'},
		CLI_COMMON_OPTIONS,
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL, *conn = NULL, *idarg = NULL, *actarg = NULL;
	struct json_object *ido = NULL, *acto = NULL;
	struct jg_identity *id = NULL;
	struct action_buf ab;
	struct policy *p = NULL;
	struct policy_result r;
	bool explain = false;
	char err[256];
	int ch, rc = CLI_USAGE;

	while ((ch = cli_getopt(cli, argc, argv, "c:i:C:a:ejh", opts)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			break;
		case 'i':
			idarg = optarg;
			break;
		case 'C':
			conn = optarg;
			break;
		case 'a':
			actarg = optarg;
			break;
		case 'e':
			explain = true;
			break;
		case 'h':
			policy_usage(stdout);
			return CLI_OK;
		default:
			policy_usage(stderr);
			return CLI_USAGE;
		}
	}
	if (!config || !conn || !actarg) {
		cli_error(CLI_USAGE, "policy test needs --config, --connection "
				     "and --action");
		policy_usage(stderr);
		return CLI_USAGE;
	}
	if (idarg) {
		ido = json_arg("identity", idarg);
		if (!ido)
			goto out;
		id = identity_from_json(ido, err, sizeof(err));
		if (!id) {
			cli_error(CLI_USAGE, "--%s", err);
			goto out;
		}
	}
	acto = json_arg("action", actarg);
	if (!acto || action_from_json(acto, &ab))
		goto out;
	p = compile_file(config);
	if (!p) {
		rc = CLI_CONFIG;
		goto out;
	}
	policy_decide(p, id, conn, &ab.a, &r);
	if (cli->json) {
		struct json_object *o = result_json(&r);

		cli_print_json(o);
		json_object_put(o);
	} else {
		print_result(&r);
		if (explain) {
			printf("rules tried (first match wins):\n");
			policy_trace(p, id, conn, &ab.a, print_trace, NULL);
		}
	}
	rc = r.d.effect == JG_EFFECT_ALLOW    ? CLI_OK
	     : r.d.effect == JG_EFFECT_REVIEW ? CLI_PENDING
					      : CLI_DENIED;
out:
	policy_free(p);
	identity_free(id);
	json_object_put(ido);
	json_object_put(acto);
	return rc;
}

static int policy_check(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		CLI_COMMON_OPTIONS,
		{NULL, 0, NULL, 0},
	};
	const char *config = NULL;
	struct policy *p;
	int ch;

	while ((ch = cli_getopt(cli, argc, argv, "c:jh", opts)) != -1) {
		if (ch == 'c') {
			config = optarg;
		} else if (ch == 'h') {
			policy_usage(stdout);
			return CLI_OK;
		} else {
			policy_usage(stderr);
			return CLI_USAGE;
		}
	}
	if (!config)
		return cli_error(CLI_USAGE, "policy check needs --config FILE");
	p = compile_file(config);
	if (!p)
		return CLI_CONFIG;
	printf("%s: policy OK, %zu rules\n", config, policy_rule_count(p));
	policy_free(p);
	return CLI_OK;
}

int cmd_policy(struct cli *cli, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		policy_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_USAGE : CLI_OK;
	}
	if (strcmp(argv[1], "test") == 0)
		return policy_test(cli, argc - 1, argv + 1);
	if (strcmp(argv[1], "check") == 0)
		return policy_check(cli, argc - 1, argv + 1);
	return cli_error(CLI_USAGE, "policy: unknown subcommand \"%s\" (test, "
				    "check)",
			 argv[1]);
}
