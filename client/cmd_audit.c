/*
 * jitgate audit search|verify: find session records by identity,
 * connection, time and decision; check their hash chains and HMACs.
 * Reads the store directly (no gateway needed).
 */
#include "cli.h"
#include "audit_read.h"
#include "record_chain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

static void audit_usage(FILE *f)
{
	fprintf(f,
		"usage: jitgate audit search [--subject S] [--connection C]\n"
		"                    [--since TIME] [--until TIME] "
		"[--decision allow|deny|review]\n"
		"       jitgate audit verify ID...|--all [--key REF] "
		"[--strict]\n"
		"  (both with --data-dir DIR | --conninfo REF)\n\n"
		"  TIME is UTC ISO 8601, or a prefix of it: 2024-05-01, "
		"2024-05-01T12:30\n"
		"  --key REF      the recording key, env:NAME or file:PATH\n"
		"                 (default env:JITGATE_RECORD_KEY); without "
		"it only the\n"
		"                 hash chain is checked\n"
		"  --strict       an unsealed record (open, crashed or cut "
		"short) fails too\n" AUDIT_SOURCE_HELP
		"  -j, --json     one JSON object per record\n"
		"  -h, --help     this text\n\n"
		"exit status: 0 all good, 1 a record is broken (verify) or "
		"failed, 6 no such record.\n");
}

struct summary {
	const char *first_ts, *last_ts;
	char subject[256], connection[256];
	int allow, deny, review, sealed;
};

static void copy_field(struct json_object *ev, const char *k, char *out,
		       size_t n)
{
	struct json_object *v;
	if (!out[0] && json_object_object_get_ex(ev, k, &v))
		snprintf(out, n, "%s", json_object_get_string(v));
}

/* Who, which connection, when and what was decided in a record.  The ts
 * strings point into evs, which the caller keeps until done. */
static void summarise(struct audit_rec *r, struct json_object **evs,
		      struct summary *s)
{
	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < r->n; i++) {
		struct json_object *ev = evs[i], *v;
		if (!ev)
			continue;
		if (json_object_object_get_ex(ev, "ts", &v)) {
			if (!s->first_ts)
				s->first_ts = json_object_get_string(v);
			s->last_ts = json_object_get_string(v);
		}
		copy_field(ev, "subject", s->subject, sizeof(s->subject));
		copy_field(ev, "connection", s->connection,
			   sizeof(s->connection));
		const char *type = json_object_object_get_ex(ev, "type", &v)
					   ? json_object_get_string(v)
					   : "";
		if (strcmp(type, "seal") == 0)
			s->sealed = 1;
		if (strcmp(type, "decision") == 0 &&
		    json_object_object_get_ex(ev, "effect", &v)) {
			const char *e = json_object_get_string(v);
			s->allow += strcmp(e, "allow") == 0;
			s->deny += strcmp(e, "deny") == 0;
			s->review += strcmp(e, "review") == 0;
		}
	}
}

struct filter {
	const char *subject, *connection, *since, *until, *decision;
};

/* s as a JSON string (malloc'd; "\"\"" when out of memory). */
static char *quoted(const char *s)
{
	char *b = NULL;
	size_t len = 0, cap = 0;
	if (rec_json_quote(&b, &len, &cap, s) < 0 || !b) {
		free(b);
		return strdup("\"\"");
	}
	return b;
}

static int matches(const struct filter *f, const struct summary *s)
{
	if (f->subject && strcmp(f->subject, s->subject) != 0)
		return 0;
	if (f->connection && strcmp(f->connection, s->connection) != 0)
		return 0;
	/* ISO 8601 UTC compares as text, so a prefix works as a bound */
	if (f->since && (!s->last_ts || strcmp(s->last_ts, f->since) < 0))
		return 0;
	if (f->until && (!s->first_ts || strcmp(s->first_ts, f->until) >= 0))
		return 0;
	if (f->decision && !((!strcmp(f->decision, "allow") && s->allow) ||
			     (!strcmp(f->decision, "deny") && s->deny) ||
			     (!strcmp(f->decision, "review") && s->review)))
		return 0;
	return 1;
}

static int search(struct cli *cli, const struct audit_src *src,
		  const struct filter *f)
{
	char **ids;
	size_t n, found = 0;

	if (audit_list(src, &ids, &n) < 0)
		return CLI_FAIL;
	if (!cli->json)
		printf("%-22s %-24s %-24s %-14s %s\n", "SESSION", "STARTED",
		       "SUBJECT", "CONNECTION", "DECISIONS");
	for (size_t i = 0; i < n; i++) {
		struct audit_rec r;
		struct summary s;
		if (audit_read(src, ids[i], &r) != 0)
			continue;
		struct json_object **evs = calloc(r.n + 1, sizeof(*evs));
		for (size_t k = 0; k < r.n; k++)
			evs[k] = json_tokener_parse(r.ev[k]);
		summarise(&r, evs, &s);
		if (matches(f, &s)) {
			found++;
			if (cli->json) {
				char *qs = quoted(s.subject);
				char *qc = quoted(s.connection);
				printf("{\"id\":\"%s\",\"started\":\"%s\","
				       "\"ended\":\"%s\",\"subject\":%s,"
				       "\"connection\":%s,\"allow\":%d,"
				       "\"deny\":%d,\"review\":%d,"
				       "\"events\":%zu,\"sealed\":%s}\n",
				       ids[i], s.first_ts ? s.first_ts : "",
				       s.last_ts ? s.last_ts : "", qs, qc,
				       s.allow, s.deny, s.review, r.n,
				       s.sealed ? "true" : "false");
				free(qs);
				free(qc);
			} else
				printf("%-22s %-24s %-24s %-14s allow=%d "
				       "deny=%d review=%d%s\n",
				       ids[i], s.first_ts ? s.first_ts : "-",
				       s.subject[0] ? s.subject : "-",
				       s.connection[0] ? s.connection : "-",
				       s.allow, s.deny, s.review,
				       s.sealed ? "" : " (open)");
		}
		for (size_t k = 0; k < r.n; k++)
			json_object_put(evs[k]);
		free(evs);
		audit_rec_free(&r);
	}
	audit_list_free(ids, n);
	if (!cli->json)
		fprintf(stderr, "%zu of %zu records match\n", found, n);
	return CLI_OK;
}

/* Verify one record; prints one line.  0 good, 1 bad, 2 not found. */
static int verify_one(const struct audit_src *src, const char *id,
		      const char *key, size_t keylen, int strict, int json)
{
	struct audit_rec r;
	struct rec_verify v;
	int rc = audit_read(src, id, &r);
	char why[400];

	if (rc == 1) {
		fprintf(stderr, "jitgate: no record %s\n", id);
		return 2;
	}
	if (rc < 0)
		return 1;
	rec_verify((const char *const *)r.ev, r.n, key, keylen, &v);
	snprintf(why, sizeof(why), "%s", v.why);
	if (r.damaged && v.verdict != REC_BROKEN) {
		/* A frame that fails its checksum ends what could be read:
		 * the event after the last good one was changed. */
		v.verdict = REC_BROKEN;
		v.index = r.n;
		snprintf(why, sizeof(why),
			 "event %zu: stored frame damaged at byte %zu "
			 "(changed on disk)",
			 r.n, r.bad_offset);
	}
	int bad = v.verdict == REC_BROKEN ||
		  (strict && v.verdict == REC_UNSEALED);
	const char *word = v.verdict == REC_SEALED     ? "ok"
			   : v.verdict == REC_UNSEALED ? "unsealed"
						       : "BROKEN";
	if (json) {
		char *qw = quoted(why);
		printf("{\"id\":\"%s\",\"verdict\":\"%s\",\"events\":%zu,"
		       "\"index\":%zu,\"authenticated\":%s,\"why\":%s}\n",
		       id, word, r.n, v.index,
		       v.authenticated ? "true" : "false", qw);
		free(qw);
	} else
		printf("%s: %s: %s%s\n", id, word, why,
		       v.authenticated ? "" : " (no key: chain only)");
	audit_rec_free(&r);
	return bad;
}

static int verify(struct cli *cli, const struct audit_src *src, int all,
		  const char *keyref, int strict, int argc, char **argv)
{
	char *key = NULL, **ids = NULL;
	size_t keylen = 0, n = 0;
	int bad = 0, missing = 0;

	const char *env = getenv("JITGATE_RECORD_KEY");
	if (keyref || (env && *env)) {
		key = audit_secret(keyref ? keyref : "env:JITGATE_RECORD_KEY",
				   &keylen);
		if (!key)
			return CLI_USAGE;
	} else {
		fprintf(stderr, "jitgate: no --key and no "
				"$JITGATE_RECORD_KEY: checking the hash chain "
				"only, not the HMACs\n");
	}
	if (all) {
		if (audit_list(src, &ids, &n) < 0) {
			free(key);
			return CLI_FAIL;
		}
		for (size_t i = 0; i < n; i++)
			bad += verify_one(src, ids[i], key, keylen, strict,
					  cli->json) == 1;
		audit_list_free(ids, n);
	} else {
		if (optind >= argc) {
			free(key);
			return cli_error(CLI_USAGE, "audit verify: give record "
						    "ids or --all");
		}
		for (int i = optind; i < argc; i++) {
			int rc = verify_one(src, argv[i], key, keylen, strict,
					    cli->json);
			bad += rc == 1;
			missing += rc == 2;
		}
	}
	if (key) {
		memset(key, 0, keylen);
		free(key);
	}
	return bad ? CLI_FAIL : missing ? CLI_NOTFOUND : CLI_OK;
}

int cmd_audit(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		AUDIT_SOURCE_OPTIONS,
		{"subject", required_argument, NULL, 's'},
		{"connection", required_argument, NULL, 'c'},
		{"since", required_argument, NULL, 'S'},
		{"until", required_argument, NULL, 'U'},
		{"decision", required_argument, NULL, 'd'},
		{"key", required_argument, NULL, 'k'},
		{"all", no_argument, NULL, 'a'},
		{"strict", no_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	const char *sub = argc > 1 ? argv[1] : "", *keyref = NULL;
	struct audit_src src = {0};
	struct filter f = {0};
	int ch, all = 0, strict = 0;

	if (!*sub || *sub == '-') {
		audit_usage(*sub == '-' ? stdout : stderr);
		return *sub == '-' ? CLI_OK : CLI_USAGE;
	}
	argc--;
	argv++;
	while ((ch = cli_getopt(cli, argc, argv, "s:c:S:U:d:k:atjh", opts)) !=
	       -1) {
		int t = audit_source_option(&src, ch, optarg);
		if (t == 1)
			continue;
		if (t < 0)
			return CLI_USAGE;
		switch (ch) {
		case 's': f.subject = optarg; break;
		case 'c': f.connection = optarg; break;
		case 'S': f.since = optarg; break;
		case 'U': f.until = optarg; break;
		case 'd': f.decision = optarg; break;
		case 'k': keyref = optarg; break;
		case 'a': all = 1; break;
		case 't': strict = 1; break;
		default:
			audit_usage(ch == 'h' ? stdout : stderr);
			return ch == 'h' ? CLI_OK : CLI_USAGE;
		}
	}
	if (audit_src_init(&src) < 0)
		return CLI_USAGE;
	if (strcmp(sub, "search") == 0)
		return search(cli, &src, &f);
	if (strcmp(sub, "verify") == 0)
		return verify(cli, &src, all, keyref, strict, argc, argv);
	audit_usage(stderr);
	return cli_error(CLI_USAGE, "audit: unknown subcommand \"%s\"", sub);
}
