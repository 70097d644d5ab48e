/*
 * Configuration: what an operator sees.  Files are written to a temporary
 * directory, loaded with conf_load(), and the values or the exact error
 * text ("FILE:LINE: key.path: what") are checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "conf.h"

static char dir[256];
static char err[2048];

#define assert_contains(hay, needle)                                          \
	do {                                                                  \
		if (!strstr((hay), (needle)))                                 \
			fail_msg("\"%s\"\n  does not contain \"%s\"", (hay),  \
				 (needle));                                   \
	} while (0)

static const char *wfile(const char *name, const char *text)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static struct jg_conf *load(const char *text)
{
	err[0] = '\0';
	return conf_load(wfile("main.json", text), err, sizeof(err));
}

/* want with every "@" replaced by the main file's path. */
static const char *expand(char *exp, size_t len, const char *want)
{
	size_t n = 0;

	for (; *want && n + 1 < len; want++) {
		if (*want == '@')
			n += (size_t)snprintf(exp + n, len - n, "%s/main.json",
					      dir);
		else
			exp[n++] = *want;
	}
	exp[n < len ? n : len - 1] = '\0';
	return exp;
}

/* Load text expecting failure; the message must contain want (with
 * "@" replaced by the main file's path). */
static void load_fails(const char *text, const char *want)
{
	char exp[1024];
	struct jg_conf *c = load(text);

	if (c) {
		conf_unref(c);
		fail_msg("loaded, wanted error %s", want);
	}
	assert_contains(err, expand(exp, sizeof(exp), want));
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/jg-conf-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- loading, comments, defaults ---------------------------------------- */

static void test_comments_and_values(void **state)
{
	(void)state;
	struct jg_conf *c = load("// jitgate\n"
				 "{\n"
				 "  /* block\n     comment */ \"workers\": 3,\n"
				 "  \"log\": {\"format\": \"json\", // trailing\n"
				 "          \"level\": \"debug\"},\n"
				 "  \"limits\": {\"idle_timeout\": \"2h\", "
				 "\"max_buffer\": \"64k\"}\n"
				 "}\n// end\n");
	const struct conf_settings *s;

	assert_non_null(c);
	s = conf_settings(c);
	assert_int_equal(s->workers, 3);
	assert_string_equal(s->log_format, "json");
	assert_string_equal(s->log_level, "debug");
	assert_int_equal(s->idle_timeout, 2 * 3600 * 1000);
	assert_int_equal(s->max_buffer, 65536);
	/* defaults fill what was not said */
	assert_int_equal(s->max_connections, 10000);
	assert_int_equal(s->handshake_timeout, 10000);
	assert_int_equal(s->shutdown_grace, 30000);
	assert_int_equal(s->nplugins, 0);
	assert_string_equal(conf_dir(c), dir);
	conf_unref(c);
}

static void test_defaults_empty(void **state)
{
	(void)state;
	struct jg_conf *c = load("{}");
	const struct conf_settings *s;

	assert_non_null(c);
	s = conf_settings(c);
	assert_int_equal(s->workers, 0);
	assert_string_equal(s->log_format, "logfmt");
	assert_string_equal(s->log_level, "info");
	assert_int_equal(s->idle_timeout, 15 * 60 * 1000);
	assert_int_equal(s->max_buffer, 1 << 20);
	assert_string_equal(s->plugin_dir, JG_PLUGINDIR);
	conf_unref(c);
}

static void test_plugins_and_dir(void **state)
{
	(void)state;
	struct jg_conf *c = load("{\"plugin_dir\": \"plug\",\n"
				 " \"plugins\": [\"tcp\", \"/x/y.so\"]}");
	char want[512];

	assert_non_null(c);
	snprintf(want, sizeof(want), "%s/plug", dir);
	assert_string_equal(conf_settings(c)->plugin_dir, want);
	assert_int_equal(conf_settings(c)->nplugins, 2);
	assert_string_equal(conf_settings(c)->plugins[1], "/x/y.so");
	conf_unref(c);
}

/* ---- errors with file, line and key path -------------------------------- */

static void test_unknown_top_level(void **state)
{
	(void)state;
	load_fails("{\n  \"workers\": 1,\n  \"listners\": []\n}",
		   "@:3: listners: unknown key (did you mean \"listeners\"?)");
	load_fails("{\n\n  \"frobnicate\": 1}", "@:3: frobnicate: unknown key");
}

static void test_section_types(void **state)
{
	(void)state;
	load_fails("{\"listeners\": {}}",
		   "@:1: listeners: wanted an array, found an object");
	load_fails("{\n\"admin\": [1]}",
		   "@:2: admin: wanted an object, found an array");
	load_fails("{\"workers\": \"4\"}",
		   "@:1: workers: \"4\" is not an integer");
	load_fails("{\"workers\": 5000}",
		   "@:1: workers: 5000 is out of range");
	load_fails("{\"log\": {\n \"level\": \"loud\"}}",
		   "@:2: log.level: \"loud\" is not a log level");
	load_fails("{\"log\": {\"format\": \"xml\"}}",
		   "@:1: log.format: \"xml\" is not a log format");
	load_fails("{\"limits\": {\n\"idle_timeout\": \"15x\"}}",
		   "@:2: limits.idle_timeout: \"15x\" is not a duration");
	load_fails("{\"limits\": {\"max_buffer\": \"1k\"}}",
		   "limits.max_buffer: must be at least 4k");
	load_fails("{\"limits\": {\"idle_timout\": \"1s\"}}",
		   "limits.idle_timout: unknown key (did you mean "
		   "\"idle_timeout\"?)");
	load_fails("{\"plugins\": [\"tcp\", 7]}",
		   "@:1: plugins[1]: 7 is not a string");
}

static void test_malformed_json(void **state)
{
	(void)state;
	load_fails("{\n  \"workers\": 1,\n  \"log\": {\n", "@:4: invalid JSON: "
		   "unexpected end of file");
	load_fails("{\n  \"workers\": 1\n  \"log\": {}\n}",
		   "@:3: invalid JSON:");
	load_fails("{\"workers\": 1}\n\n{}", "@:3: invalid JSON: unexpected "
		   "text after the end");
	load_fails("[1, 2]", "@:1: a configuration must be a JSON object, "
		   "found an array");
	load_fails("", "@:1: invalid JSON: unexpected end of file");
	load_fails("{\"workers\": 1,\n \"workers\": 2}",
		   "@:2: workers: given twice (first at @:1)");
}

static void test_missing_and_oversized(void **state)
{
	(void)state;
	char path[512];
	FILE *f;
	struct jg_conf *c;

	snprintf(path, sizeof(path), "%s/nope.json", dir);
	assert_null(conf_load(path, err, sizeof(err)));
	assert_contains(err, "nope.json: file not found");

	snprintf(path, sizeof(path), "%s/big.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"policy\": {\"x\": \"", f);
	for (unsigned i = 0; i < CONF_MAX_FILE / 64 + 1; i++)
		fputs("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		      f);
	fputs("\"}}", f);
	fclose(f);
	c = conf_load(path, err, sizeof(err));
	assert_null(c);
	assert_contains(err, "big.json: ");
	assert_contains(err, "bytes, more than the 4194304 a configuration "
			     "file may have");
}

static void test_deep_nesting(void **state)
{
	(void)state;
	char text[1024] = "{\"policy\": ";
	size_t n = strlen(text);

	for (int i = 0; i < CONF_MAX_DEPTH + 5; i++)
		text[n++] = '[';
	for (int i = 0; i < CONF_MAX_DEPTH + 5; i++)
		text[n++] = ']';
	text[n++] = '}';
	text[n] = '\0';
	load_fails(text, "@:1: invalid JSON: nesting too deep");
}

/* ---- includes and merging ----------------------------------------------- */

static void test_include_glob_merge(void **state)
{
	(void)state;
	char sub[300], want[600];
	struct jg_conf *c;
	struct json_object *l;

	snprintf(sub, sizeof(sub), "%s/conf.d", dir);
	mkdir(sub, 0755);
	wfile("conf.d/b.json", "{\n  \"listeners\": [\n"
			       "    {\"name\": \"b\"}\n  ],\n"
			       "  \"limits\": {\"idle_timeout\": \"1m\"}\n}\n");
	wfile("conf.d/a.json", "{\"listeners\": [{\"name\": \"a1\"},\n"
			       "                {\"name\": \"a2\"}],\n"
			       " \"policy\": {\"rules\": [1]}}");
	wfile("conf.d/notes.txt", "not json, not matched");
	c = load("{\n  \"include\": [\"conf.d/*.json\"],\n"
		 "  \"listeners\": [{\"name\": \"main\"}],\n"
		 "  \"limits\": {\"max_connections\": 5},\n"
		 "  \"policy\": {\"rules\": [0]}\n}\n");
	assert_non_null(c);
	/* arrays append, in file order: main, then a.json, then b.json */
	l = conf_get(c, "listeners");
	assert_int_equal(json_object_array_length(l), 4);
	assert_string_equal(json_object_get_string(json_object_object_get(
				    json_object_array_get_idx(l, 3), "name")),
			    "b");
	assert_int_equal(json_object_array_length(json_object_object_get(
				 conf_get(c, "policy"), "rules")),
			 2);
	/* objects merge key by key */
	assert_int_equal(conf_settings(c)->max_connections, 5);
	assert_int_equal(conf_settings(c)->idle_timeout, 60000);
	/* and every value still knows where it was written */
	snprintf(want, sizeof(want), "%s/conf.d/b.json:3", dir);
	assert_string_equal(conf_where(c, "listeners[3].name"), want);
	assert_string_equal(conf_where(c, "listeners[3]"), want);
	snprintf(want, sizeof(want), "%s/conf.d/a.json:2", dir);
	assert_string_equal(conf_where(c, "listeners[2]"), want);
	snprintf(want, sizeof(want), "%s/main.json:3", dir);
	assert_string_equal(conf_where(c, "listeners[0].name"), want);
	/* a key never written: where its parent is */
	assert_string_equal(conf_where(c, "listeners[0].tls.cert"), want);
	snprintf(want, sizeof(want), "%s/main.json", dir);
	assert_string_equal(conf_where(c, "nothing.here"), want);
	conf_unref(c);
}

static void test_include_errors(void **state)
{
	(void)state;
	char sub[300];

	snprintf(sub, sizeof(sub), "%s/inc", dir);
	mkdir(sub, 0755);
	/* a scalar set twice: an include never silently overrides */
	wfile("inc/w.json", "{\n\"workers\": 2}");
	load_fails("{\"include\": [\"inc/w.json\"],\n \"workers\": 1}",
		   "inc/w.json:2: workers: already set at @:2");
	/* no include from an include */
	wfile("inc/w.json", "{\"listeners\": [],\n \"include\": [\"x\"]}");
	load_fails("{\"include\": [\"inc/*.json\"]}",
		   "inc/w.json:2: include: an included file may not include");
	/* a named file must exist; an empty glob is fine */
	load_fails("{\n\"include\": [\"inc/missing.json\"]}",
		   "@:2: include[0]: ");
	assert_contains(err, "inc/missing.json: file not found");
	unlink(wfile("inc/w.json", ""));
	{
		struct jg_conf *c = load("{\"include\": [\"inc/*.json\"]}");
		assert_non_null(c);
		conf_unref(c);
	}
	/* an error inside an included file names that file */
	wfile("inc/bad.json", "{\"limits\": {\n\"idle_timeout\": true}}");
	load_fails("{\"include\": [\"inc/bad.json\"]}",
		   "inc/bad.json:2: limits.idle_timeout: true is not a "
		   "duration");
	wfile("inc/bad.json", "{\"limits\": \n\n{");
	load_fails("{\"include\": [\"inc/bad.json\"]}",
		   "inc/bad.json:3: invalid JSON: unexpected end of file");
	load_fails("{\"include\": \"inc/bad.json\"}",
		   "@:1: include: wanted a list of file patterns, found a "
		   "string");
}

/* ---- schema types ------------------------------------------------------- */

static const struct jg_option schema[] = {
	{"name", JG_OPT_STRING, NULL, 1, 0, "what to call it"},
	{"count", JG_OPT_INT, "7", 0, 0, NULL},
	{"on", JG_OPT_BOOL, "true", 0, 0, NULL},
	{"wait", JG_OPT_DURATION, "250ms", 0, 0, NULL},
	{"buf", JG_OPT_SIZE, "16M", 0, 0, NULL},
	{"password", JG_OPT_SECRET, NULL, 0, 0, NULL},
	{"token", JG_OPT_STRING, NULL, 0, 1, NULL},
	{"tags", JG_OPT_LIST, "[\"x\"]", 0, 0, NULL},
	{"extra", JG_OPT_JSON, NULL, 0, 0, NULL},
	{"upstream", JG_OPT_ADDRESS, "127.0.0.1:5432", 0, 0, NULL},
	{NULL, 0, NULL, 0, 0, NULL},
};

/* Validate the "policy" object of text against schema. */
static struct jg_config *section(struct jg_conf **c, const char *text)
{
	*c = load(text);
	if (!*c)
		fail_msg("%s", err);
	err[0] = '\0';
	return conf_section(*c, conf_get(*c, "policy"), "policy", schema, NULL,
			    err, sizeof(err));
}

static void section_fails(const char *text, const char *want)
{
	struct jg_conf *c;
	struct jg_config *s = section(&c, text);
	char exp[1024];

	assert_null(s);
	assert_contains(err, expand(exp, sizeof(exp), want));
	conf_unref(c);
}

static void test_types_good(void **state)
{
	(void)state;
	struct jg_conf *c;
	struct jg_config *s;

	setenv("JG_TEST_PW", "s3cret", 1);
	s = section(&c, "{\"policy\": {\"name\": \"n\", \"count\": -3,\n"
			"\"on\": false, \"wait\": \"1d\", \"buf\": 512,\n"
			"\"password\": \"env:JG_TEST_PW\",\n"
			"\"tags\": [\"a\", \"b\"], \"extra\": {\"k\": [1]},\n"
			"\"upstream\": \"[::1]:6432\"}}");
	assert_non_null(s);
	assert_string_equal(cfg_string(s, "name"), "n");
	assert_int_equal(cfg_int(s, "count"), -3);
	assert_int_equal(cfg_int(s, "on"), 0);
	assert_int_equal(cfg_int(s, "wait"), 86400000);
	assert_int_equal(cfg_int(s, "buf"), 512);
	assert_int_equal(cfg_list_len(s, "tags"), 2);
	assert_string_equal(cfg_list_item(s, "tags", 1), "b");
	assert_null(cfg_list_item(s, "tags", 2));
	assert_string_equal(cfg_json(s, "extra"), "{\"k\":[1]}");
	assert_string_equal(cfg_string(s, "upstream"), "[::1]:6432");
	{
		size_t len;
		const char *pw = cfg_secret(s, "password", &len);
		assert_int_equal(len, 6);
		assert_memory_equal(pw, "s3cret", 6);
		/* a secret is not a string: it can't slip into a log line */
		assert_null(cfg_string(s, "password"));
	}
	assert_null(cfg_string(s, "no_such_key"));
	assert_null(cfg_string(s, "token"));
	conf_unref(c);

	/* defaults */
	s = section(&c, "{\"policy\": {\"name\": \"n\"}}");
	assert_non_null(s);
	assert_int_equal(cfg_int(s, "count"), 7);
	assert_int_equal(cfg_int(s, "on"), 1);
	assert_int_equal(cfg_int(s, "wait"), 250);
	assert_int_equal(cfg_int(s, "buf"), 16 << 20);
	assert_string_equal(cfg_list_item(s, "tags", 0), "x");
	assert_null(cfg_json(s, "extra"));
	assert_null(cfg_secret(s, "password", NULL));
	assert_string_equal(cfg_string(s, "upstream"), "127.0.0.1:5432");
	conf_unref(c);
}

static void test_types_bad(void **state)
{
	(void)state;
	section_fails("{\"policy\": {}}",
		      "@:1: policy.name: required string option missing (what "
		      "to call it)");
	section_fails("{\"policy\": {\n\"name\": 1}}",
		      "@:2: policy.name: 1 is not a string");
	section_fails("{\"policy\": {\"name\": \"n\",\n\"count\": 1.5}}",
		      "@:2: policy.count: 1.5 is not an integer");
	section_fails("{\"policy\": {\"name\": \"n\", \"count\": "
		      "9223372036854775808}}",
		      "policy.count: 9223372036854775808 is not an integer "
		      "in range");
	section_fails("{\"policy\": {\"name\": \"n\", \"on\": \"yes\"}}",
		      "policy.on: \"yes\" is not true or false");
	section_fails("{\"policy\": {\"name\": \"n\", \"wait\": \"-1s\"}}",
		      "policy.wait: \"-1s\" is not a duration");
	section_fails("{\"policy\": {\"name\": \"n\", \"wait\": \"1.5s\"}}",
		      "policy.wait: \"1.5s\" is not a duration");
	section_fails("{\"policy\": {\"name\": \"n\", \"wait\": -5}}",
		      "policy.wait: -5 is not a duration");
	section_fails("{\"policy\": {\"name\": \"n\", \"buf\": \"2T\"}}",
		      "policy.buf: \"2T\" is not a size");
	section_fails("{\"policy\": {\"name\": \"n\", \"tags\": \"a\"}}",
		      "policy.tags: \"a\" is not a list of strings");
	section_fails("{\"policy\": {\"name\": \"n\", \"tags\": [\"a\",\n"
		      "{}]}}",
		      "@:2: policy.tags[1]: {} is not a string");
	section_fails("{\"policy\": {\"name\": \"n\", \"upstream\": \"db\"}}",
		      "policy.upstream: \"db\" is not an address");
	section_fails("{\"policy\": {\"name\": \"n\", \"upstream\": "
		      "\"db:99999\"}}",
		      "is not an address");
	section_fails("{\"policy\": {\"name\": \"n\", \"upstream\": "
		      "\"::1:80\"}}",
		      "is not an address");
	section_fails("{\"policy\": {\"name\": \"n\",\n \"nmae\": 1}}",
		      "@:2: policy.nmae: unknown key (did you mean \"name\"?)");
	section_fails("{\"policy\": {\"name\": \"a\\u0000b\"}}",
		      "is not a string");
}

static void test_extra_ok_and_null(void **state)
{
	(void)state;
	static const char *const extra[] = {"rules", NULL};
	struct jg_conf *c = load("{\"policy\": {\"name\": \"n\", \"rules\": [],"
				 " \"count\": null}}");
	struct jg_config *s;

	assert_non_null(c);
	s = conf_section(c, conf_get(c, "policy"), "policy", schema, extra,
			 err, sizeof(err));
	assert_non_null(s);
	assert_int_equal(cfg_int(s, "count"), 7); /* null: the default */
	/* a section must be an object */
	assert_null(conf_section(c, json_object_object_get(conf_get(c, "policy"),
							   "rules"),
				 "policy.rules", schema, NULL, err,
				 sizeof(err)));
	assert_contains(err, ": policy.rules: wanted an object, found an "
			     "array");
	conf_unref(c);
}

static void test_parsers(void **state)
{
	(void)state;
	int64_t v;
	char h[64], p[8];

	assert_int_equal(conf_parse_duration("250ms", &v), 0);
	assert_int_equal(v, 250);
	assert_int_equal(conf_parse_duration("30s", &v), 0);
	assert_int_equal(v, 30000);
	assert_int_equal(conf_parse_duration("15m", &v), 0);
	assert_int_equal(v, 900000);
	assert_int_equal(conf_parse_duration("2h", &v), 0);
	assert_int_equal(v, 7200000);
	assert_int_equal(conf_parse_duration("1d", &v), 0);
	assert_int_equal(v, 86400000);
	assert_int_equal(conf_parse_duration("42", &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(conf_parse_duration("", &v), -1);
	assert_int_equal(conf_parse_duration("s", &v), -1);
	assert_int_equal(conf_parse_duration("1 s", &v), -1);
	assert_int_equal(conf_parse_duration("1w", &v), -1);
	assert_int_equal(conf_parse_duration("99999999999999999d", &v), -1);
	assert_int_equal(conf_parse_size("64k", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(conf_parse_size("16M", &v), 0);
	assert_int_equal(v, 16 << 20);
	assert_int_equal(conf_parse_size("1G", &v), 0);
	assert_int_equal(v, 1 << 30);
	assert_int_equal(conf_parse_size("512", &v), 0);
	assert_int_equal(v, 512);
	assert_int_equal(conf_parse_size("1kb", &v), -1);
	assert_int_equal(conf_parse_size("9999999999999999G", &v), -1);
	assert_int_equal(conf_split_address("[::1]:80", h, sizeof(h), p,
					    sizeof(p)),
			 0);
	assert_string_equal(h, "::1");
	assert_string_equal(p, "80");
	assert_int_equal(conf_split_address("db.local:5432", h, sizeof(h), p,
					    sizeof(p)),
			 0);
	assert_string_equal(h, "db.local");
	assert_int_equal(conf_split_address(":80", h, sizeof(h), p, sizeof(p)),
			 -1);
	assert_int_equal(conf_split_address("a:", h, sizeof(h), p, sizeof(p)),
			 -1);
	assert_int_equal(conf_split_address("[]:1", h, sizeof(h), p,
					    sizeof(p)),
			 -1);
}

static void test_paths(void **state)
{
	(void)state;
	char b[64];

	assert_int_equal(conf_path_key(b, sizeof(b), "", "listeners"), 0);
	assert_string_equal(b, "listeners");
	assert_int_equal(conf_path_index(b, sizeof(b), b, 0), 0);
	assert_int_equal(conf_path_key(b, sizeof(b), b, "tls"), 0);
	assert_string_equal(b, "listeners[0].tls");
	assert_int_equal(conf_path_key(b, sizeof(b), "connections", "a.b\""),
			 0);
	assert_string_equal(b, "connections[\"a.b\\\"\"]");
	assert_int_equal(conf_path_key(b, 8, "listeners", "x"), -1);
}

static void test_odd_keys_located(void **state)
{
	(void)state;
	static const struct jg_option one[] = {
		{"n", JG_OPT_INT, NULL, 1, 0, NULL}, {NULL, 0, NULL, 0, 0, NULL}};
	struct jg_conf *c = load("{\"connections\": {\n"
				 " \"db.prod\": {\n  \"n\": \"x\"}}}");
	struct json_object *o = json_object_object_get(
		conf_get(c, "connections"), "db.prod");
	char want[600];

	assert_non_null(c);
	assert_null(conf_section(c, o, "connections[\"db.prod\"]", one, NULL,
				 err, sizeof(err)));
	snprintf(want, sizeof(want),
		 "%s/main.json:3: connections[\"db.prod\"].n: \"x\" is not an "
		 "integer",
		 dir);
	assert_string_equal(err, want);
	conf_unref(c);
}

/* Every value json-c sees must be located by the scanner, however the
 * text is written: escapes, odd keys, comments full of brackets, strings
 * that look like structure, json-c's lenient extras. */
static void walk_located(struct jg_conf *c, struct json_object *o,
			 const char *path, int *count)
{
	char p[CONF_MAX_KEYPATH];

	if (*path) {
		const char *w = conf_where(c, path);
		if (strcmp(w, conf_file(c)) == 0)
			fail_msg("%s: not located", path);
		(*count)++;
	}
	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v)
		{
			assert_int_equal(conf_path_key(p, sizeof(p), path, k), 0);
			walk_located(c, v, p, count);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			assert_int_equal(conf_path_index(p, sizeof(p), path, i),
					 0);
			walk_located(c, json_object_array_get_idx(o, i), p,
				     count);
		}
	}
}

static void test_scanner_locates_everything(void **state)
{
	(void)state;
	struct jg_conf *c = load(
		"{\"policy\": {\n"
		"  \"a\\\"b\": [1, \"]}{\", /* ] } [ { \" */ {\"x\": null}],\n"
		"  // \"fake\": [\n"
		"  \"s\": \"// not a comment /* nor this\",\n"
		"  \"caf\\u00e9\": {\"\\ud83d\\ude00\": [[], {}, [true, "
		"false,],],},\n"
		"  'single': 'quoted',\n"
		"  \"n\": -1.5e3, \"nan\": NaN,\n"
		"  \"deep\": [[[[{\"k\": [\"v\"]}]]]]\n"
		"}}");
	int count = 0;
	char want[600];

	if (!c)
		fail_msg("%s", err);
	walk_located(c, conf_root(c), "", &count);
	assert_int_equal(count, 24);
	snprintf(want, sizeof(want), "%s/main.json:5", dir);
	assert_string_equal(conf_where(c, "policy[\"caf\xc3\xa9\"]"),
			    want);
	snprintf(want, sizeof(want), "%s/main.json:8", dir);
	assert_string_equal(conf_where(c, "policy.deep[0][0][0][0].k[0]"),
			    want);
	conf_unref(c);
}

/* ---- secrets ------------------------------------------------------------ */

static void test_secret_file(void **state)
{
	(void)state;
	struct jg_conf *c;
	struct jg_config *s;
	size_t len;
	const char *v;

	chmod(wfile("pw.txt", "from-file\n"), 0600);
	s = section(&c, "{\"policy\": {\"name\": \"n\",\n"
			"\"password\": \"file:pw.txt\"}}");
	assert_non_null(s);
	v = cfg_secret(s, "password", &len);
	assert_int_equal(len, 9); /* one trailing newline trimmed */
	assert_memory_equal(v, "from-file", 9);
	assert_int_equal(conf_warning_count(c), 0);
	conf_unref(c);

	/* only one newline goes; a readable-by-others file warns */
	chmod(wfile("pw.txt", "two\n\n"), 0644);
	s = section(&c, "{\"policy\": {\"name\": \"n\",\n"
			"\"password\": \"file:pw.txt\"}}");
	assert_non_null(s);
	v = cfg_secret(s, "password", &len);
	assert_int_equal(len, 4);
	assert_memory_equal(v, "two\n", 4);
	assert_int_equal(conf_warning_count(c), 1);
	assert_contains(conf_warning(c, 0), "policy.password: secret file ");
	assert_contains(conf_warning(c, 0), "readable by group or others "
					    "(mode 0644)");
	assert_null(strstr(conf_warning(c, 0), "two"));
	conf_unref(c);

	/* a secret string option may also be a reference */
	s = section(&c, "{\"policy\": {\"name\": \"n\",\n"
			"\"token\": \"file:pw.txt\"}}");
	assert_non_null(s);
	assert_string_equal(cfg_string(s, "token"), "two\n");
	conf_unref(c);
}

static void test_secret_errors(void **state)
{
	(void)state;
	char *out;
	size_t len;

	unsetenv("JG_TEST_NOPE");
	section_fails("{\"policy\": {\"name\": \"n\",\n"
		      "\"password\": \"env:JG_TEST_NOPE\"}}",
		      "@:2: policy.password: environment variable "
		      "JG_TEST_NOPE is not set");
	setenv("JG_TEST_EMPTY", "", 1);
	section_fails("{\"policy\": {\"name\": \"n\", "
		      "\"password\": \"env:JG_TEST_EMPTY\"}}",
		      "environment variable JG_TEST_EMPTY is empty");
	section_fails("{\"policy\": {\"name\": \"n\", "
		      "\"password\": \"file:missing.pw\"}}",
		      "policy.password: secret file ");
	assert_contains(err, "missing.pw: file not found");
	wfile("empty.pw", "\n");
	section_fails("{\"policy\": {\"name\": \"n\", "
		      "\"password\": \"file:empty.pw\"}}",
		      "empty.pw is empty");
	section_fails("{\"policy\": {\"name\": \"n\", "
		      "\"password\": \"env:1BAD\"}}",
		      "not a valid environment variable name");

	assert_int_equal(conf_resolve_secret("nope", &out, &len, err,
					     sizeof(err)),
			 -1);
	setenv("JG_TEST_PW", "xyz", 1);
	assert_int_equal(conf_resolve_secret("env:JG_TEST_PW", &out, &len, err,
					     sizeof(err)),
			 0);
	assert_int_equal(len, 3);
	assert_string_equal(out, "xyz");
	explicit_bzero(out, len);
	free(out);
}

/* A secret must never be echoed, not even when it is wrong. */
static void test_secret_never_in_errors(void **state)
{
	(void)state;
	section_fails("{\"policy\": {\"name\": \"n\",\n"
		      "\"password\": \"hunter2-literal\"}}",
		      "@:2: policy.password: a secret must be a reference");
	assert_null(strstr(err, "hunter2"));
	section_fails("{\"policy\": {\"name\": \"n\", "
		      "\"password\": 424242}}",
		      "policy.password: <secret> is not a secret reference");
	assert_null(strstr(err, "424242"));
	section_fails("{\"policy\": {\"name\": \"n\", "
		      "\"token\": [\"hunter2\"]}}",
		      "policy.token: <secret> is not a string");
	assert_null(strstr(err, "hunter2"));
}

static void test_dump_hides_secrets(void **state)
{
	(void)state;
	struct jg_conf *c;
	struct jg_config *s;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	setenv("JG_TEST_PW", "s3cret-value", 1);
	s = section(&c, "{\"policy\": {\"name\": \"visible\", "
			"\"password\": \"env:JG_TEST_PW\", "
			"\"token\": \"literal-token\"}}");
	assert_non_null(s);
	f = open_memstream(&buf, &len);
	conf_dump(c, f);
	fclose(f);
	assert_contains(buf, "\"visible\"");
	assert_contains(buf, "\"password\": \"<secret>\"");
	assert_contains(buf, "\"token\": \"<secret>\"");
	assert_null(strstr(buf, "s3cret"));
	assert_null(strstr(buf, "JG_TEST_PW"));
	assert_null(strstr(buf, "literal-token"));
	free(buf);
	conf_unref(c);
}

/* ---- generations -------------------------------------------------------- */

static int freed;

static void on_free(void *ud)
{
	freed += *(int *)ud;
}

static void *ref_unref(void *c)
{
	for (int i = 0; i < 10000; i++) {
		conf_ref(c);
		conf_unref(c);
	}
	return NULL;
}

static void test_refcount_threads(void **state)
{
	(void)state;
	struct jg_conf *c = load("{}");
	pthread_t t[4];
	int one = 1, ten = 10;

	assert_non_null(c);
	assert_int_equal(conf_on_free(c, on_free, &one), 0);
	assert_int_equal(conf_on_free(c, on_free, &ten), 0);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, ref_unref, c);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(freed, 0);
	conf_ref(c);
	conf_unref(c);
	assert_int_equal(freed, 0);
	conf_unref(c);
	assert_int_equal(freed, 11);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_comments_and_values),
		cmocka_unit_test(test_defaults_empty),
		cmocka_unit_test(test_plugins_and_dir),
		cmocka_unit_test(test_unknown_top_level),
		cmocka_unit_test(test_section_types),
		cmocka_unit_test(test_malformed_json),
		cmocka_unit_test(test_missing_and_oversized),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_include_glob_merge),
		cmocka_unit_test(test_include_errors),
		cmocka_unit_test(test_types_good),
		cmocka_unit_test(test_types_bad),
		cmocka_unit_test(test_extra_ok_and_null),
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_odd_keys_located),
		cmocka_unit_test(test_scanner_locates_everything),
		cmocka_unit_test(test_secret_file),
		cmocka_unit_test(test_secret_errors),
		cmocka_unit_test(test_secret_never_in_errors),
		cmocka_unit_test(test_dump_hides_secrets),
		cmocka_unit_test(test_refcount_threads),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
