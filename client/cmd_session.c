/*
 * jitgate session list|show|kill
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

static void session_usage(FILE *f)
{
	fprintf(f, "usage: jitgate session list [--json]\n"
		   "       jitgate session show ID [--json]\n"
		   "       jitgate session kill ID [--json]\n\n" CLI_COMMON_HELP
		   "\nexit status: 0 done, 5 not an admin, 6 no such "
		   "session.\n");
}

static void print_session_line(struct json_object *s)
{
	char t[32];

	printf("%-20s %-24s %-16s %-20s %s\n", cli_str(s, "id"),
	       cli_str(s, "subject"), cli_str(s, "connection"),
	       cli_time(cli_int(s, "started_at"), t, sizeof(t)),
	       cli_str(s, "peer"));
}

int cmd_session(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{NULL, 0, NULL, 0},
	};
	const char *sub = argc > 1 ? argv[1] : "", *id;
	char path[256];
	int ch;

	if (!*sub || *sub == '-') {
		session_usage(*sub == '-' ? stdout : stderr);
		return *sub == '-' ? CLI_OK : CLI_USAGE;
	}
	argc--;
	argv++;
	while ((ch = cli_getopt(cli, argc, argv, "jh", opts)) != -1) {
		session_usage(ch == 'h' ? stdout : stderr);
		return ch == 'h' ? CLI_OK : CLI_USAGE;
	}
	if (strcmp(sub, "list") == 0)
		return cli_simple(cli, "GET", "/v1/sessions", "sessions",
				  print_session_line);
	if (strcmp(sub, "show") && strcmp(sub, "kill")) {
		session_usage(stderr);
		return cli_error(CLI_USAGE,
				 "session: unknown subcommand \"%s\"", sub);
	}
	id = cli_one_id(argc, argv, "session");
	if (!id)
		return CLI_USAGE;
	snprintf(path, sizeof(path), "/v1/sessions/%s", id);
	if (strcmp(sub, "show") == 0)
		return cli_simple(cli, "GET", path, "session", NULL);
	return cli_simple(cli, "DELETE", path, "session", print_session_line);
}
