/*
 * The jitgate command-line client: shared state, exit codes, the command
 * table and the helpers every command uses.
 *
 * Adding a command: write client/cmd_NAME.c with
 *   int cmd_NAME(struct cli *cli, int argc, char **argv);
 * declare it below, add one line to the table in client/main.c and the
 * file to client/client.am.
 */
#ifndef JG_CLI_H
#define JG_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>

struct json_object;

/* Exit codes, documented in docs/man/jitgate.1. */
enum cli_exit {
	CLI_OK = 0,          /* done; policy test: allow */
	CLI_FAIL = 1,        /* the gateway or the command failed */
	CLI_USAGE = 2,       /* bad command line */
	CLI_UNREACHABLE = 3, /* could not reach the gateway */
	CLI_AUTH = 4,        /* 401: token missing, invalid or expired */
	CLI_DENIED = 5,      /* 403: refused by policy or not allowed;
				policy test: deny */
	CLI_NOTFOUND = 6,    /* 404: no such grant, review or session */
	CLI_PENDING = 7,     /* a review is pending; policy test: review */
	CLI_REFUSED = 8,     /* the review was denied or expired */
	CLI_CONFIG = 9       /* policy or config file invalid */
};

struct cli {
	const char *url;    /* gateway admin API, e.g. https://gw:9443 */
	const char *token;  /* bearer token (OIDC), never printed */
	char *token_buf;    /* token read from a file */
	const char *cacert; /* CA bundle for the admin API's TLS */
	bool json;          /* print raw JSON */
	bool verbose;
};

struct cli_command {
	const char *name;
	const char *summary;
	int (*run)(struct cli *cli, int argc, char **argv);
};

int cmd_grant(struct cli *cli, int argc, char **argv);
int cmd_review(struct cli *cli, int argc, char **argv);
int cmd_session(struct cli *cli, int argc, char **argv);
int cmd_policy(struct cli *cli, int argc, char **argv);
int cmd_replay(struct cli *cli, int argc, char **argv);
int cmd_audit(struct cli *cli, int argc, char **argv);

/*
 * Options every command accepts: --url, --token, --token-file, --cacert,
 * --json, --help.  cli_common_option() handles them in a getopt loop and
 * returns 1 when it took the option, 0 when it is not a common one, -1 on
 * error.
 */
#define CLI_OPT_URL 1000
#define CLI_OPT_TOKEN 1001
#define CLI_OPT_TOKEN_FILE 1002
#define CLI_OPT_CACERT 1003
#define CLI_COMMON_OPTIONS                                                    \
	{"url", required_argument, NULL, CLI_OPT_URL},                        \
	{"token", required_argument, NULL, CLI_OPT_TOKEN},                    \
	{"token-file", required_argument, NULL, CLI_OPT_TOKEN_FILE},          \
	{"cacert", required_argument, NULL, CLI_OPT_CACERT},                  \
	{"json", no_argument, NULL, 'j'},                                     \
	{"help", no_argument, NULL, 'h'}
int cli_common_option(struct cli *cli, int ch, const char *arg);
#define CLI_COMMON_HELP                                                       \
	"      --url URL          gateway admin API (default $JITGATE_URL)\n" \
	"      --token TOKEN      OIDC token (default $JITGATE_TOKEN)\n"      \
	"      --token-file FILE  read the token from FILE "                  \
	"($JITGATE_TOKEN_FILE)\n"                                             \
	"      --cacert FILE      CA bundle for the gateway's TLS "           \
	"($JITGATE_CACERT)\n"                                                 \
	"  -j, --json             print the gateway's JSON answer\n"          \
	"  -h, --help             this text\n"

/*
 * getopt_long with the common options taken care of.  Returns the next
 * command-specific option, 'h' for --help, -1 at the end, or '?' after a
 * bad option (getopt has printed why).
 */
int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
	       const struct option *opts);

/* Exactly one positional ID after the options, or an error. */
const char *cli_one_id(int argc, char **argv, const char *what);

/* Print "jitgate: msg" on stderr and return code. */
int cli_error(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * One admin API request.  body may be NULL.  On an HTTP answer, *resp
 * gets the parsed JSON (caller puts it) and the return is the HTTP
 * status; on a transport failure the error is printed and the return is
 * negative (-CLI_UNREACHABLE, -CLI_USAGE).
 */
int cli_request(struct cli *cli, const char *method, const char *path,
		struct json_object *body, struct json_object **resp);

/*
 * Map a non-2xx answer to an exit code and print its JSON error
 * ("jitgate: 403 policy_denied: ...").
 */
int cli_http_error(int status, struct json_object *resp);

/*
 * One request whose answer holds key: a list printed with line() per
 * item, or one object printed with line(), or field by field when line
 * is NULL.  --json prints the answer as it came.  Returns an exit code.
 */
int cli_simple(struct cli *cli, const char *method, const char *path,
	       const char *key, void (*line)(struct json_object *));

/* Print o as pretty JSON on stdout. */
void cli_print_json(struct json_object *o);

/* Small readers of JSON answers: "" or 0 when absent. */
const char *cli_str(struct json_object *o, const char *key);
long long cli_int(struct json_object *o, const char *key);

/* "2024-05-01 12:00:00Z" from unix seconds into buf. */
const char *cli_time(long long t, char *buf, size_t len);

#endif /* JG_CLI_H */
