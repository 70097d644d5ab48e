/*
 * jitgate: the command-line client for the gateway's admin API, and the
 * offline policy tester.
 */
#include "config.h" /* autoconf */
#include "cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

/* One line per command; client/cli.h says how to add one. */
static const struct cli_command commands[] = {
	{"grant", "ask for, list and revoke just-in-time credentials",
	 cmd_grant},
	{"review", "list, approve and deny held requests", cmd_review},
	{"session", "list, show and end sessions", cmd_session},
	{"policy", "test decisions offline against a policy file",
	 cmd_policy},
	{"replay", "show a recorded session (timeline, json, asciicast)",
	 cmd_replay},
	{"audit", "search session records and verify their chains",
	 cmd_audit},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: jitgate [--url URL] [--token TOKEN] COMMAND "
		   "[ARGS...]\n"
		   "       jitgate COMMAND --help\n\n"
		   "commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name,
			commands[i].summary);
	fprintf(f, "\noptions (also accepted after the command):\n"
		CLI_COMMON_HELP
		"  -V, --version          print the version\n\n"
		"exit codes: 0 ok, 1 failed, 2 usage, 3 gateway unreachable, "
		"4 not authenticated,\n"
		"  5 denied, 6 not found, 7 review pending, 8 review denied "
		"or expired,\n"
		"  9 invalid policy or config.  See jitgate(1).\n");
}

int cli_error(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("jitgate: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static char *read_token_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(65536);
	n = buf ? fread(buf, 1, 65535, f) : 0;
	fclose(f);
	if (!buf)
		return NULL;
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' ||
		     buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return buf;
}

int cli_common_option(struct cli *cli, int ch, const char *arg)
{
	switch (ch) {
	case CLI_OPT_URL:
		cli->url = arg;
		return 1;
	case CLI_OPT_TOKEN:
		cli->token = arg;
		return 1;
	case CLI_OPT_TOKEN_FILE:
		free(cli->token_buf);
		cli->token_buf = read_token_file(arg);
		if (!cli->token_buf) {
			cli_error(CLI_USAGE, "cannot read token file %s", arg);
			return -1;
		}
		cli->token = cli->token_buf;
		return 1;
	case CLI_OPT_CACERT:
		cli->cacert = arg;
		return 1;
	case 'j':
		cli->json = true;
		return 1;
	default:
		return 0;
	}
}

int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
	       const struct option *opts)
{
	int ch;

	while ((ch = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		int took = cli_common_option(cli, ch, optarg);

		if (took < 0)
			return '?';
		if (!took)
			return ch;
	}
	return -1;
}

const char *cli_one_id(int argc, char **argv, const char *what)
{
	if (optind != argc - 1) {
		cli_error(CLI_USAGE, "give exactly one %s ID", what);
		return NULL;
	}
	if (strlen(argv[optind]) > 128 || strpbrk(argv[optind], "/?#%")) {
		cli_error(CLI_USAGE, "not a %s ID: %s", what, argv[optind]);
		return NULL;
	}
	return argv[optind];
}

static void cli_defaults(struct cli *cli)
{
	const char *f;

	cli->url = getenv("JITGATE_URL");
	cli->token = getenv("JITGATE_TOKEN");
	cli->cacert = getenv("JITGATE_CACERT");
	f = getenv("JITGATE_TOKEN_FILE");
	if (!cli->token && f && *f) {
		cli->token_buf = read_token_file(f);
		cli->token = cli->token_buf;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct cli cli = {0};
	int ch, rc = CLI_USAGE;

	cli_defaults(&cli);
	/* "+": stop at the command name; its options are its own. */
	while ((ch = getopt_long(argc, argv, "+jhV", opts, NULL)) != -1) {
		int took = cli_common_option(&cli, ch, optarg);

		if (took < 0)
			goto out;
		if (took)
			continue;
		if (ch == 'V') {
			printf("jitgate %s\n", PACKAGE_VERSION);
			rc = CLI_OK;
			goto out;
		}
		if (ch == 'h') {
			usage(stdout);
			rc = CLI_OK;
			goto out;
		}
		usage(stderr);
		goto out;
	}
	if (optind >= argc) {
		usage(stderr);
		goto out;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name) == 0) {
			char **sub = argv + optind;
			int subc = argc - optind;

			curl_global_init(CURL_GLOBAL_DEFAULT);
			optind = 0; /* full getopt reset for the command */
			rc = commands[i].run(&cli, subc, sub);
			curl_global_cleanup();
			goto out;
		}
	}
	rc = cli_error(CLI_USAGE, "unknown command \"%s\" (try jitgate --help)",
		       argv[optind]);
out:
	free(cli.token_buf);
	return rc;
}
