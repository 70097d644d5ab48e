/*
 * jitgate grant create|list|show|revoke
 *
 * The credential is printed once, on stdout alone (or as --export lines
 * or inside --json), so `PGPASSWORD=$(jitgate grant create ...)` works;
 * everything said about it goes to stderr.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

static void grant_usage(FILE *f)
{
	fprintf(f,
		"usage: jitgate grant create --connection NAME --purpose TEXT "
		"[--ttl 15m]\n"
		"                            [--max-sessions N] [--wait] "
		"[--json | --export]\n"
		"       jitgate grant list [--json]\n"
		"       jitgate grant show ID [--json]\n"
		"       jitgate grant revoke ID [--json]\n\n"
		"  -C, --connection NAME  the connection to get access to\n"
		"  -p, --purpose TEXT     why (required; recorded, shown to "
		"approvers)\n"
		"  -t, --ttl DURATION     how long: 90s, 15m, 1h (policy may "
		"shorten it)\n"
		"  -n, --max-sessions N   sessions the credential may open\n"
		"  -w, --wait             if a review is needed, wait for its "
		"outcome\n"
		"  -e, --export           print shell lines: export "
		"PGPASSWORD=...\n" CLI_COMMON_HELP
		"\nexit status: 0 granted, 5 refused by policy, 7 review "
		"pending (no --wait),\n"
		"  8 review denied or expired, 4 bad token, 3 gateway "
		"unreachable.\n");
}

static void print_grant_line(struct json_object *g)
{
	char exp[32];

	printf("%-20s %-16s %-20s %-8s %s\n", cli_str(g, "id"),
	       cli_str(g, "connection"), cli_time(cli_int(g, "expires_at"), exp,
						  sizeof(exp)),
	       cli_str(g, "status"), cli_str(g, "purpose"));
}

/* Shell-quote for --export: single quotes, ' as '\''. */
static void print_quoted(const char *s)
{
	putchar('\'');
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*s);
	}
	putchar('\'');
}

static int print_credential(struct cli *cli, struct json_object *resp,
			    bool export)
{
	struct json_object *g = NULL;
	const char *cred = cli_str(resp, "credential");
	char exp[32];

	json_object_object_get_ex(resp, "grant", &g);
	if (!*cred)
		return cli_error(CLI_FAIL, "the gateway sent no credential");
	if (cli->json) {
		cli_print_json(resp);
	} else if (export) {
		const char *proto = cli_str(g, "protocol");

		printf("export JITGATE_CREDENTIAL=");
		print_quoted(cred);
		printf("\nexport JITGATE_GRANT_ID=");
		print_quoted(cli_str(g, "id"));
		putchar('\n');
		if (strcmp(proto, "postgres") == 0 || !*proto) {
			printf("export PGPASSWORD=");
			print_quoted(cred);
			putchar('\n');
		}
	} else {
		puts(cred);
	}
	fflush(stdout);
	fprintf(stderr, "granted %s: %s until %s (%s)\n", cli_str(g, "id"),
		cli_str(g, "connection"),
		cli_time(cli_int(g, "expires_at"), exp, sizeof(exp)),
		cli_int(g, "max_sessions")
			? "limited sessions"
			: "unlimited sessions");
	return CLI_OK;
}

static long poll_interval_ms(void)
{
	const char *e = getenv("JITGATE_POLL_INTERVAL_MS");
	long v = e ? atol(e) : 2000;

	return v >= 10 && v <= 60000 ? v : 2000;
}

/* Wait for review id; returns its final JSON (caller puts) or NULL. */
static int wait_review(struct cli *cli, const char *id, int *outcome)
{
	char path[256];
	bool tty = isatty(2);
	time_t start = time(NULL);

	snprintf(path, sizeof(path), "/v1/reviews/%s", id);
	for (;;) {
		struct json_object *resp, *r = NULL;
		const char *status;
		int st = cli_request(cli, "GET", path, NULL, &resp);

		if (st < 0)
			return -st;
		if (st != 200) {
			int rc = cli_http_error(st, resp);

			json_object_put(resp);
			return rc;
		}
		json_object_object_get_ex(resp, "review", &r);
		status = cli_str(r, "status");
		if (strcmp(status, "pending") != 0) {
			if (tty)
				fputc('\n', stderr);
			fprintf(stderr, "review %s %s%s%s\n", id, status,
				*cli_str(r, "reason") ? ": " : "",
				cli_str(r, "reason"));
			*outcome = strcmp(status, "approved") == 0;
			json_object_put(resp);
			return CLI_OK;
		}
		fprintf(stderr, "%swaiting for review %s: %s (%lds)%s",
			tty ? "\r" : "", id, cli_str(r, "progress"),
			(long)(time(NULL) - start), tty ? "  " : "\n");
		json_object_put(resp);
		usleep((useconds_t)poll_interval_ms() * 1000);
	}
}

static int grant_create(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"connection", required_argument, NULL, 'C'},
		{"purpose", required_argument, NULL, 'p'},
		{"ttl", required_argument, NULL, 't'},
		{"max-sessions", required_argument, NULL, 'n'},
		{"wait", no_argument, NULL, 'w'},
		{"export", no_argument, NULL, 'e'},
		CLI_COMMON_OPTIONS,
		{NULL, 0, NULL, 0},
	};
	const char *conn = NULL, *purpose = NULL, *ttl = NULL;
	long long max_sessions = 0;
	bool wait = false, export = false;
	struct json_object *body, *resp = NULL, *rv = NULL;
	int ch, st, rc;

	while ((ch = cli_getopt(cli, argc, argv, "C:p:t:n:wejh", opts)) != -1) {
		switch (ch) {
		case 'C':
			conn = optarg;
			break;
		case 'p':
			purpose = optarg;
			break;
		case 't':
			ttl = optarg;
			break;
		case 'n':
			max_sessions = atoll(optarg);
			if (max_sessions < 1)
				return cli_error(CLI_USAGE,
						 "--max-sessions: a positive "
						 "number");
			break;
		case 'w':
			wait = true;
			break;
		case 'e':
			export = true;
			break;
		case 'h':
			grant_usage(stdout);
			return CLI_OK;
		default:
			grant_usage(stderr);
			return CLI_USAGE;
		}
	}
	if (!conn || !purpose || !*purpose)
		return cli_error(CLI_USAGE, "grant create needs --connection and "
					    "--purpose (try --help)");
	body = json_object_new_object();
	json_object_object_add(body, "connection", json_object_new_string(conn));
	json_object_object_add(body, "purpose", json_object_new_string(purpose));
	if (ttl)
		json_object_object_add(body, "ttl", json_object_new_string(ttl));
	if (max_sessions)
		json_object_object_add(body, "max_sessions",
				       json_object_new_int64(max_sessions));
	st = cli_request(cli, "POST", "/v1/grants", body, &resp);
	if (st < 0) {
		rc = -st;
		goto out;
	}
	if (st == 202) {
		char id[160];
		int approved = 0;

		json_object_object_get_ex(resp, "review", &rv);
		snprintf(id, sizeof(id), "%s", cli_str(rv, "id"));
		fprintf(stderr, "review %s pending: %s\n", id,
			cli_str(rv, "progress"));
		if (!wait) {
			if (cli->json)
				cli_print_json(resp);
			else
				fprintf(stderr, "approve with: jitgate review "
						"approve %s; then run this "
						"again with --wait\n",
					id);
			rc = CLI_PENDING;
			goto out;
		}
		json_object_put(resp);
		resp = NULL;
		rc = wait_review(cli, id, &approved);
		if (rc != CLI_OK)
			goto out;
		if (!approved) {
			rc = CLI_REFUSED;
			goto out;
		}
		/* Redeem the approval: bound to this exact request, once. */
		json_object_object_add(body, "review", json_object_new_string(id));
		st = cli_request(cli, "POST", "/v1/grants", body, &resp);
		if (st < 0) {
			rc = -st;
			goto out;
		}
	}
	if (st == 201 || st == 200)
		rc = print_credential(cli, resp, export);
	else
		rc = cli_http_error(st, resp);
out:
	json_object_put(body);
	json_object_put(resp);
	return rc;
}

static int grant_list_show(struct cli *cli, int argc, char **argv,
			   const char *method)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{NULL, 0, NULL, 0},
	};
	char path[256];
	const char *id;
	int ch;

	while ((ch = cli_getopt(cli, argc, argv, "jh", opts)) != -1) {
		grant_usage(ch == 'h' ? stdout : stderr);
		return ch == 'h' ? CLI_OK : CLI_USAGE;
	}
	if (strcmp(argv[0], "list") == 0) {
		if (optind != argc)
			return cli_error(CLI_USAGE, "grant list takes no "
						    "arguments");
		return cli_simple(cli, "GET", "/v1/grants", "grants",
				  print_grant_line);
	}
	id = cli_one_id(argc, argv, "grant");
	if (!id)
		return CLI_USAGE;
	snprintf(path, sizeof(path), "/v1/grants/%s", id);
	return cli_simple(cli, method, path, "grant",
			  strcmp(method, "GET") == 0 ? NULL : print_grant_line);
}

int cmd_grant(struct cli *cli, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : "";

	if (strcmp(sub, "create") == 0)
		return grant_create(cli, argc - 1, argv + 1);
	if (strcmp(sub, "list") == 0 || strcmp(sub, "show") == 0)
		return grant_list_show(cli, argc - 1, argv + 1, "GET");
	if (strcmp(sub, "revoke") == 0)
		return grant_list_show(cli, argc - 1, argv + 1, "DELETE");
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		grant_usage(stdout);
		return CLI_OK;
	}
	grant_usage(stderr);
	return *sub ? cli_error(CLI_USAGE, "grant: unknown subcommand \"%s\"",
				sub)
		    : CLI_USAGE;
}
