/*
 * libFuzzer harness for configuration loading (core/conf*.c): the JSON
 * reader with comments, the key-path scanner that finds FILE:LINE, the
 * include merge, the core's own settings, and every option type of the
 * schema validator, on whatever sections the input has.
 *
 * The input is written as main.json into a private directory that also
 * holds conf.d/extra.json (for "include") and a secret file.  Inputs that
 * would reach outside that directory through "include" (absolute or ".."
 * patterns) are skipped: globbing the whole disk finds nothing in the
 * parser and makes the fuzzer crawl.
 *
 * Oracle besides the sanitizers: the secret's bytes never appear in an
 * error, a warning or the --check-config dump.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECRET "FZ-9c1e-SECRET-VALUE"

static char dir[64];
static char main_path[128];

static void put_file(const char *name, const char *text, mode_t mode)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
	chmod(path, mode);
}

static void cleanup(void)
{
	static const char *const files[] = {"main.json", "conf.d/extra.json",
					    "secret.txt", "lax.txt",
					    "conf.d", ""};
	char path[256];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		remove(path);
	}
}

static void setup(void)
{
	char sub[128];

	snprintf(dir, sizeof(dir), "%s", "/tmp/jg-fuzz-conf-XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(sub, sizeof(sub), "%s/conf.d", dir);
	if (mkdir(sub, 0700) != 0)
		abort();
	put_file("conf.d/extra.json",
		 "// merged in by an include\n"
		 "{\"connections\": {\"extra\": {\"protocol\": \"tcp\",\n"
		 "  \"options\": {\"s\": \"x\", \"n\": 3}}},\n"
		 " \"limits\": {\"idle_timeout\": \"1m\"}}\n",
		 0600);
	put_file("secret.txt", SECRET "\n", 0600);
	put_file("lax.txt", SECRET "\n", 0644);
	setenv("JG_FUZZ_SECRET", SECRET, 1);
	snprintf(main_path, sizeof(main_path), "%s/main.json", dir);
	atexit(cleanup);
}

/* Every option type, each with a default, so most sections validate. */
static const struct jg_option all_types[] = {
	{"s", JG_OPT_STRING, "dflt", 0, 0, "a string"},
	{"n", JG_OPT_INT, "7", 0, 0, "an integer"},
	{"b", JG_OPT_BOOL, "false", 0, 0, "a boolean"},
	{"d", JG_OPT_DURATION, "1500ms", 0, 0, "a duration"},
	{"z", JG_OPT_SIZE, "64k", 0, 0, "a size"},
	{"p", JG_OPT_SECRET, NULL, 0, 1, "a secret reference"},
	{"l", JG_OPT_LIST, "[\"a\", \"b\"]", 0, 0, "a list"},
	{"j", JG_OPT_JSON, "{}", 0, 0, "any JSON"},
	{"a", JG_OPT_ADDRESS, "127.0.0.1:1", 0, 0, "an address"},
	{"pw", JG_OPT_STRING, NULL, 0, 1, "a secret-flagged literal"},
	{NULL, 0, NULL, 0, 0, NULL},
};

/* The same keys, with the secret required: missing-key paths. */
static const struct jg_option required[] = {
	{"p", JG_OPT_SECRET, NULL, 1, 1, "a secret reference"},
	{"a", JG_OPT_ADDRESS, NULL, 1, 0, "an address"},
	{NULL, 0, NULL, 0, 0, NULL},
};

static const char *const extra_ok[] = {"protocol", "plugin", "name", NULL};

static int check_secrets;
static volatile size_t sink;

/* Read a returned string whole, so the sanitizers check its bounds. */
static void touch(const char *s)
{
	if (s)
		sink += strlen(s);
}

static void touch_n(const char *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		sink += (unsigned char)s[i];
}

static void no_secret(const char *text, const char *what)
{
	if (check_secrets && text && strstr(text, SECRET)) {
		fprintf(stderr, "the secret leaked into %s: %s\n", what, text);
		abort();
	}
}

static void use_section(struct jg_conf *c, struct json_object *obj,
			const char *path)
{
	char err[1024];
	struct jg_config *s;
	const char *sec;
	size_t len;

	err[0] = '\0';
	s = conf_section(c, obj, path, all_types, extra_ok, err, sizeof(err));
	no_secret(err, "a section error");
	if (s) {
		for (const struct jg_option *o = all_types; o->key; o++) {
			touch(cfg_where(s, o->key));
			touch(cfg_string(s, o->key));
			touch(cfg_json(s, o->key));
			(void)cfg_int(s, o->key);
		}
		sec = cfg_secret(s, "p", &len);
		touch_n(sec, len);
		for (size_t i = 0; i < cfg_list_len(s, "l"); i++)
			touch(cfg_list_item(s, "l", i));
	}
	err[0] = '\0';
	(void)conf_section(c, obj, path, required, extra_ok, err,
			   sizeof(err));
	no_secret(err, "a section error");
}

/* The "options" of every listener, connection and plugin instance. */
static void walk_sections(struct jg_conf *c)
{
	static const char *const arrays[] = {"listeners", "identity", "notify"};
	static const char *const objects[] = {"store", "masking", "admin"};
	struct json_object *sec, *opt;
	char path[CONF_MAX_KEYPATH], opath[CONF_MAX_KEYPATH];

	for (size_t k = 0; k < 3; k++) {
		sec = conf_get(c, arrays[k]);
		for (size_t i = 0; sec && i < json_object_array_length(sec);
		     i++) {
			struct json_object *it =
				json_object_array_get_idx(sec, i);
			if (conf_path_index(path, sizeof(path), arrays[k], i) ||
			    conf_path_key(opath, sizeof(opath), path,
					  "options"))
				continue;
			(void)conf_where(c, path);
			if (json_object_object_get_ex(it, "options", &opt))
				use_section(c, opt, opath);
		}
	}
	for (size_t k = 0; k < 3; k++) {
		sec = conf_get(c, objects[k]);
		if (sec && json_object_object_get_ex(sec, "options", &opt) &&
		    !conf_path_key(opath, sizeof(opath), objects[k],
				   "options"))
			use_section(c, opt, opath);
	}
	sec = conf_get(c, "connections");
	if (sec) {
		json_object_object_foreach(sec, name, conn)
		{
			if (conf_path_key(path, sizeof(path), "connections",
					  name) ||
			    conf_path_key(opath, sizeof(opath), path,
					  "options"))
				continue;
			(void)conf_where(c, path);
			if (json_object_object_get_ex(conn, "options", &opt))
				use_section(c, opt, opath);
		}
	}
}

/* 1 if "include" would glob outside the private directory. */
static int escapes(const uint8_t *data, size_t size)
{
	struct json_tokener *tok = json_tokener_new_ex(CONF_MAX_DEPTH);
	struct json_object *root, *inc;
	int out = 0;

	if (tok == NULL)
		abort();
	root = json_tokener_parse_ex(tok, (const char *)data, (int)size);
	json_tokener_free(tok);
	if (root && json_object_is_type(root, json_type_object) &&
	    json_object_object_get_ex(root, "include", &inc) &&
	    json_object_is_type(inc, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(inc); i++) {
			const char *p = json_object_get_string(
				json_object_array_get_idx(inc, i));
			if (p && (p[0] == '/' || strstr(p, "..")))
				out = 1;
		}
	}
	json_object_put(root);
	return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[2048];
	struct jg_conf *c;
	FILE *f;

	if (dir[0] == '\0')
		setup();
	if (size > CONF_MAX_FILE || escapes(data, size))
		return 0;
	/* The secret may be echoed only if the input spells it out. */
	check_secrets = !memmem(data, size, "SECRET", 6) &&
			!memmem(data, size, "\\u", 2);
	f = fopen(main_path, "w");
	if (f == NULL || (size && fwrite(data, 1, size, f) != size) ||
	    fclose(f) != 0)
		abort();

	err[0] = '\0';
	c = conf_load(main_path, err, sizeof(err));
	if (c == NULL) {
		if (err[0] == '\0')
			abort(); /* a refusal always says why */
		no_secret(err, "the load error");
		return 0;
	}
	walk_sections(c);
	for (size_t i = 0; i < conf_warning_count(c); i++)
		no_secret(conf_warning(c, i), "a warning");
	{
		char *dump = NULL;
		size_t dlen = 0;
		FILE *m = open_memstream(&dump, &dlen);

		if (m == NULL)
			abort();
		conf_dump(c, m);
		fclose(m);
		no_secret(dump, "the dump");
		free(dump);
	}
	(void)conf_settings(c)->plugin_dir;
	conf_unref(c);
	return 0;
}
