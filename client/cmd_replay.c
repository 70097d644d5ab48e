/*
 * jitgate replay ID: a session record as a readable timeline, as JSON, or
 * as an asciicast v2 file of its terminal output.  Reads the store
 * directly (no gateway needed): --data-dir for store_file, --conninfo for
 * store_postgres.
 */
#include "cli.h"
#include "audit_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

static void replay_usage(FILE *f)
{
	fprintf(f,
		"usage: jitgate replay ID [--format text|json|asciicast] "
		"[-o FILE]\n"
		"                    (--data-dir DIR | --conninfo REF)\n\n"
		"  -f, --format FMT       text (default): a timeline; json: "
		"the events;\n"
		"                         asciicast: asciicast v2 of the "
		"terminal output\n"
		"  -o, --output FILE      write there instead of stdout\n"
		AUDIT_SOURCE_HELP
		"  -h, --help             this text\n\n"
		"exit status: 0 shown, 1 failed or no terminal output, 6 no "
		"such record.\n");
}

/* "2024-05-01T12:00:00.123Z" to unix ms; 0 if it does not parse. */
static long long ts_ms(const char *ts)
{
	struct tm tm = {0};
	int ms = 0;
	if (!ts || sscanf(ts, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
			  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
			  &ms) < 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm) * 1000 + ms;
}

static const char *str(struct json_object *o, const char *k)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, k, &v))
		return NULL;
	return json_object_get_string(v);
}

static int internal_key(const char *k)
{
	static const char *const keys[] = {"seq", "ts", "session", "type",
					   "prev", "hash", "mac", "text",
					   "data", NULL};
	for (const char *const *p = keys; *p; p++)
		if (strcmp(k, *p) == 0)
			return 1;
	return 0;
}

/* Print the event's own fields as key=value. */
static void fields(FILE *f, struct json_object *ev, const char *skip)
{
	json_object_object_foreach(ev, k, v)
	{
		if (internal_key(k) || (skip && strcmp(k, skip) == 0))
			continue;
		const char *s = json_object_get_string(v);
		fprintf(f, " %s=%s%s%s", k, strchr(s, ' ') ? "\"" : "", s,
			strchr(s, ' ') ? "\"" : "");
	}
}

static void indent_text(FILE *f, const char *text)
{
	fputs("        | ", f);
	for (const char *p = text; *p; p++) {
		fputc(*p, f);
		if (*p == '\n' && p[1])
			fputs("        | ", f);
	}
	fputc('\n', f);
}

static void timeline(FILE *f, const char *id, struct audit_rec *r)
{
	long long t0 = 0;
	const char *who = NULL, *conn = NULL;
	struct json_object **evs = calloc(r->n + 1, sizeof(*evs));

	for (size_t i = 0; i < r->n; i++) {
		evs[i] = json_tokener_parse(r->ev[i]);
		if (!evs[i])
			continue;
		if (!t0)
			t0 = ts_ms(str(evs[i], "ts"));
		if (!who)
			who = str(evs[i], "subject");
		if (!conn)
			conn = str(evs[i], "connection");
	}
	fprintf(f, "session %s\n", id);
	fprintf(f, "  who:        %s\n", who ? who : "(not authenticated)");
	fprintf(f, "  connection: %s\n", conn ? conn : "(none)");
	if (r->n && evs[0])
		fprintf(f, "  started:    %s\n", str(evs[0], "ts"));
	fprintf(f, "  events:     %zu\n\n", r->n);
	for (size_t i = 0; i < r->n; i++) {
		struct json_object *ev = evs[i];
		if (!ev) {
			fprintf(f, "  [%zu] (not JSON)\n", i);
			continue;
		}
		const char *type = str(ev, "type");
		long long t = ts_ms(str(ev, "ts"));
		fprintf(f, "%+9.3fs %-10s", (double)(t - t0) / 1000.0,
			type ? type : "?");
		if (type && strcmp(type, "decision") == 0) {
			const char *eff = str(ev, "effect");
			fprintf(f, " %s by rule %s", eff ? eff : "?",
				str(ev, "rule") ? str(ev, "rule") : "?");
			if (str(ev, "reason") && *str(ev, "reason"))
				fprintf(f, " (%s)", str(ev, "reason"));
			fprintf(f, ";");
			json_object_object_foreach(ev, k, v)
			{
				if (internal_key(k) || !strcmp(k, "effect") ||
				    !strcmp(k, "rule") || !strcmp(k, "reason"))
					continue;
				fprintf(f, " %s=%s", k,
					json_object_get_string(v));
			}
		} else {
			fields(f, ev, NULL);
		}
		fputc('\n', f);
		if (str(ev, "text"))
			indent_text(f, str(ev, "text"));
		if (str(ev, "data"))
			indent_text(f, str(ev, "data"));
	}
	if (r->damaged)
		fprintf(f, "!! record damaged after event %zu (byte %zu): "
			   "run jitgate audit verify\n",
			r->n ? r->n - 1 : 0, r->bad_offset);
	for (size_t i = 0; i < r->n; i++)
		json_object_put(evs[i]);
	free(evs);
}

static int asciicast(FILE *f, const char *id, struct audit_rec *r)
{
	long long t0 = 0;
	int frames = 0;

	for (size_t i = 0; i < r->n; i++) {
		struct json_object *ev = json_tokener_parse(r->ev[i]);
		const char *type = ev ? str(ev, "type") : NULL;
		long long t = ev ? ts_ms(str(ev, "ts")) : 0;
		if (ev && !t0) {
			struct json_object *h = json_object_new_object();
			t0 = t;
			json_object_object_add(h, "version",
					       json_object_new_int(2));
			json_object_object_add(h, "width",
					       json_object_new_int(80));
			json_object_object_add(h, "height",
					       json_object_new_int(24));
			json_object_object_add(h, "timestamp",
					       json_object_new_int64(t0 / 1000));
			char title[200];
			snprintf(title, sizeof(title), "jitgate session %s", id);
			json_object_object_add(h, "title",
					       json_object_new_string(title));
			fprintf(f, "%s\n",
				json_object_to_json_string_ext(
					h, JSON_C_TO_STRING_PLAIN));
			json_object_put(h);
		}
		if (type && (strcmp(type, "output") == 0 ||
			     strcmp(type, "input") == 0) &&
		    str(ev, "data")) {
			struct json_object *a = json_object_new_array();
			json_object_array_add(
				a, json_object_new_double((double)(t - t0) /
							  1000.0));
			json_object_array_add(
				a, json_object_new_string(type[0] == 'o' ? "o"
									 : "i"));
			json_object_array_add(
				a, json_object_new_string(str(ev, "data")));
			fprintf(f, "%s\n",
				json_object_to_json_string_ext(
					a, JSON_C_TO_STRING_PLAIN));
			json_object_put(a);
			frames++;
		}
		json_object_put(ev);
	}
	return frames;
}

int cmd_replay(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_OPTIONS,
		AUDIT_SOURCE_OPTIONS,
		{"format", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	struct audit_src src = {0};
	struct audit_rec r;
	const char *format = "text", *outpath = NULL, *id;
	FILE *f = stdout;
	int ch, rc = CLI_OK;

	while ((ch = cli_getopt(cli, argc, argv, "f:o:jh", opts)) != -1) {
		int t = audit_source_option(&src, ch, optarg);
		if (t == 1)
			continue;
		if (t < 0)
			return CLI_USAGE;
		if (ch == 'f')
			format = optarg;
		else if (ch == 'o')
			outpath = optarg;
		else {
			replay_usage(ch == 'h' ? stdout : stderr);
			return ch == 'h' ? CLI_OK : CLI_USAGE;
		}
	}
	if (cli->json)
		format = "json";
	if (strcmp(format, "text") && strcmp(format, "json") &&
	    strcmp(format, "asciicast"))
		return cli_error(CLI_USAGE, "replay: unknown format %s", format);
	if (!(id = cli_one_id(argc, argv, "record")) ||
	    audit_src_init(&src) < 0)
		return CLI_USAGE;
	switch (audit_read(&src, id, &r)) {
	case 1:
		return cli_error(CLI_NOTFOUND, "no record %s", id);
	case -1:
		return CLI_FAIL;
	}
	if (outpath && !(f = fopen(outpath, "w"))) {
		audit_rec_free(&r);
		return cli_error(CLI_FAIL, "cannot write %s", outpath);
	}
	if (strcmp(format, "json") == 0) {
		fputs("[", f);
		for (size_t i = 0; i < r.n; i++)
			fprintf(f, "%s\n%s", i ? "," : "", r.ev[i]);
		fputs("]\n", f);
	} else if (strcmp(format, "asciicast") == 0) {
		if (asciicast(f, id, &r) == 0)
			rc = cli_error(CLI_FAIL,
				       "record %s has no terminal output", id);
	} else {
		timeline(f, id, &r);
	}
	if (f != stdout && fclose(f) != 0)
		rc = cli_error(CLI_FAIL, "cannot write %s", outpath);
	audit_rec_free(&r);
	return rc;
}
