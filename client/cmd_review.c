/*
 * jitgate review list|show|approve|deny
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

static void review_usage(FILE *f)
{
	fprintf(f, "usage: jitgate review list [--all] [--json]\n"
		   "       jitgate review show ID [--json]\n"
		   "       jitgate review approve ID [--json]\n"
		   "       jitgate review deny ID --reason TEXT [--json]\n\n"
		   "  -a, --all              include decided and expired "
		   "reviews (default: pending)\n"
		   "  -r, --reason TEXT      why it is denied (required for "
		   "deny)\n" CLI_COMMON_HELP
		   "\nexit status: 0 done, 5 not allowed (your own review, "
		   "not an approver),\n"
		   "  6 no such review, 1 already decided, expired or "
		   "withdrawn (its\n"
		   "  requester canceled the held statement).\n");
}

static void print_review_line(struct json_object *r)
{
	char exp[32];

	printf("%-20s %-9s %-20s %-16s %-20s %s\n", cli_str(r, "id"),
	       cli_str(r, "status"), cli_str(r, "requester"),
	       cli_str(r, "connection"),
	       cli_time(cli_int(r, "expires_at"), exp, sizeof(exp)),
	       cli_str(r, "summary"));
}

static int review_decide(struct cli *cli, const char *id, const char *verb,
			 const char *reason)
{
	struct json_object *body = json_object_new_object(), *resp, *r = NULL;
	char path[256];
	int st, rc;

	if (reason)
		json_object_object_add(body, "reason",
				       json_object_new_string(reason));
	snprintf(path, sizeof(path), "/v1/reviews/%s/%s", id, verb);
	st = cli_request(cli, "POST", path, body, &resp);
	json_object_put(body);
	if (st < 0)
		return -st;
	if (st != 200) {
		rc = cli_http_error(st, resp);
	} else if (cli->json) {
		cli_print_json(resp);
		rc = CLI_OK;
	} else {
		json_object_object_get_ex(resp, "review", &r);
		printf("review %s: %s%s%s\n", id, cli_str(r, "status"),
		       strcmp(cli_str(r, "status"), "pending") == 0 ? ", "
								    : "",
		       strcmp(cli_str(r, "status"), "pending") == 0
			       ? cli_str(r, "progress")
			       : "");
		rc = CLI_OK;
	}
	json_object_put(resp);
	return rc;
}

int cmd_review(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"all", no_argument, NULL, 'a'},
		{"reason", required_argument, NULL, 'r'},
		CLI_COMMON_OPTIONS,
		{NULL, 0, NULL, 0},
	};
	const char *sub = argc > 1 ? argv[1] : "", *reason = NULL, *id;
	bool all = false;
	char path[256];
	int ch;

	if (!*sub || *sub == '-') {
		review_usage(*sub == '-' ? stdout : stderr);
		return *sub == '-' ? CLI_OK : CLI_USAGE;
	}
	argc--;
	argv++;
	while ((ch = cli_getopt(cli, argc, argv, "ar:jh", opts)) != -1) {
		if (ch == 'a') {
			all = true;
		} else if (ch == 'r') {
			reason = optarg;
		} else {
			review_usage(ch == 'h' ? stdout : stderr);
			return ch == 'h' ? CLI_OK : CLI_USAGE;
		}
	}
	if (strcmp(sub, "list") == 0)
		return cli_simple(cli, "GET",
				  all ? "/v1/reviews?status=all"
				      : "/v1/reviews",
				  "reviews", print_review_line);
	if (strcmp(sub, "show") && strcmp(sub, "approve") &&
	    strcmp(sub, "deny")) {
		review_usage(stderr);
		return cli_error(CLI_USAGE, "review: unknown subcommand \"%s\"",
				 sub);
	}
	id = cli_one_id(argc, argv, "review");
	if (!id)
		return CLI_USAGE;
	if (strcmp(sub, "show") == 0) {
		snprintf(path, sizeof(path), "/v1/reviews/%s", id);
		return cli_simple(cli, "GET", path, "review", NULL);
	}
	if (strcmp(sub, "deny") == 0 && (!reason || !*reason))
		return cli_error(CLI_USAGE, "review deny needs --reason TEXT");
	return review_decide(cli, id, sub, reason);
}
