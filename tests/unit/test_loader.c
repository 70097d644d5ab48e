/*
 * The loader's failure matrix: every way a plugin file can be wrong, each
 * with the message an operator would read.  Fixture plugins are built by
 * make check into tests/unit/plugins/.libs/ (fixture.c, one -D switch
 * each); files that are not plugins at all are written here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "conf.h"
#include "loader.h"

static char fixdir[512]; /* built fixtures */
static char tmp[256];    /* files written by the tests */
static char err[2048];

#define assert_contains(hay, needle)                                          \
	do {                                                                  \
		if (!strstr((hay), (needle)))                                 \
			fail_msg("\"%s\"\n  does not contain \"%s\"", (hay),  \
				 (needle));                                   \
	} while (0)

static const char *fixture(const char *name)
{
	static char path[1024];

	snprintf(path, sizeof(path), "%s/%s.so", fixdir, name);
	return path;
}

static const char *wfile(const char *name, const void *data, size_t n,
			 mode_t mode)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	f = fopen(path, "w");
	assert_non_null(f);
	if (n)
		assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
	chmod(path, mode);
	return path;
}

static const struct jg_host host = {
	.magic = JG_PLUGIN_MAGIC,
	.abi_major = JG_ABI_MAJOR,
	.abi_minor = JG_ABI_MINOR,
	.size = sizeof(struct jg_host),
	.cfg_string = cfg_string,
	.cfg_int = cfg_int,
	.cfg_list_len = cfg_list_len,
	.cfg_list_item = cfg_list_item,
	.cfg_json = cfg_json,
	.cfg_secret = cfg_secret,
	.cfg_where = cfg_where,
};

/* Open path in a fresh registry and expect the message want. */
static void refused(const char *path, const char *want)
{
	struct jg_registry *r = loader_new(fixdir, NULL);
	char exp[1200];

	assert_non_null(r);
	err[0] = '\0';
	if (loader_open(r, path, err, sizeof(err))) {
		loader_free(r);
		fail_msg("%s loaded, wanted: %s", path, want);
	}
	snprintf(exp, sizeof(exp), "%s: %s", path, want);
	assert_contains(err, exp);
	loader_free(r);
}

static int setup(void **state)
{
	const char *b = getenv("JG_BUILDDIR");

	(void)state;
	snprintf(fixdir, sizeof(fixdir), "%s/tests/unit/plugins/.libs",
		 b ? b : ".");
	snprintf(tmp, sizeof(tmp), "/tmp/jg-loader-XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	/* the unreadable-file case runs as nobody and must reach it */
	chmod(tmp, 0755);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

/* ---- the good plugin ---------------------------------------------------- */

static void test_good_loads(void **state)
{
	(void)state;
	struct jg_registry *r = loader_new(fixdir, NULL);
	const struct jg_loaded *p;
	char *buf = NULL, line[1300];
	size_t len = 0;
	FILE *f;

	p = loader_open(r, fixture("fx_good"), err, sizeof(err));
	if (!p)
		fail_msg("%s", err);
	assert_string_equal(p->name, "good");
	assert_string_equal(p->path, fixture("fx_good"));
	assert_int_equal(p->plugin->kind, JG_KIND_PROTOCOL);
	assert_ptr_equal(loader_find(r, "good"), p);
	assert_null(loader_find(r, "bad"));
	assert_int_equal(loader_count(r), 1);
	assert_ptr_equal(loader_at(r, 0), p);
	assert_ptr_equal(loader_next_kind(r, JG_KIND_PROTOCOL, NULL), p);
	assert_null(loader_next_kind(r, JG_KIND_PROTOCOL, p));
	assert_null(loader_next_kind(r, JG_KIND_IDP, NULL));
	assert_non_null(loader_ops(p));

	f = open_memstream(&buf, &len);
	loader_print_list(r, f);
	fclose(f);
	snprintf(line, sizeof(line), "good             protocol  1.2.3      %d.%-3d %s\n",
		 JG_ABI_MAJOR, JG_ABI_MINOR, fixture("fx_good"));
	assert_contains(buf, "NAME             KIND      VERSION    ABI   PATH\n");
	assert_contains(buf, line);
	free(buf);
	loader_free(r);
}

static void test_bare_name_in_plugin_dir(void **state)
{
	(void)state;
	struct jg_registry *r = loader_new(fixdir, NULL);

	assert_non_null(loader_open(r, "fx_good", err, sizeof(err)));
	assert_non_null(loader_find(r, "good"));
	loader_free(r);
	r = loader_new(fixdir, NULL);
	assert_null(loader_open(r, "Bad Name", err, sizeof(err)));
	assert_string_equal(err, "\"Bad Name\": neither a plugin name "
				 "([a-z0-9_-]) nor a path");
	loader_free(r);
}

/* ---- the file ----------------------------------------------------------- */

static void test_missing_file(void **state)
{
	(void)state;
	char path[600];

	snprintf(path, sizeof(path), "%s/nope.so", tmp);
	refused(path, "file not found (wanted a plugin shared object)");
	/* a bare name says where it looked */
	snprintf(path, sizeof(path), "%s/nope.so", fixdir);
	{
		struct jg_registry *r = loader_new(fixdir, NULL);
		char exp[700];

		assert_null(loader_open(r, "nope", err, sizeof(err)));
		snprintf(exp, sizeof(exp), "%s: file not found", path);
		assert_contains(err, exp);
		loader_free(r);
	}
}

static void test_empty_file(void **state)
{
	(void)state;
	refused(wfile("empty.so", "", 0, 0644),
		"empty file (0 bytes), wanted a shared object");
}

static void test_not_a_shared_object(void **state)
{
	(void)state;
	const char text[] = "#!/bin/sh\necho hello\n";

	refused(wfile("text.so", text, sizeof(text) - 1, 0755),
		"not a shared object: wanted ELF magic 7f 45 4c 46, found 23 "
		"21 2f 62");
	refused(wfile("short.so", "\x7f" "E", 2, 0644),
		"not a shared object: wanted ELF magic 7f 45 4c 46, found 7f "
		"45");
	refused(wfile("trunc.so", "\x7f" "ELF\2\1\1", 7, 0644),
		"not a shared object: truncated ELF header (7 bytes)");
}

static void test_wrong_elf(void **state)
{
	(void)state;
	unsigned char h[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1};

	h[16] = 1; /* ET_REL: an object file, not linked */
	refused(wfile("obj.so", h, sizeof(h), 0644),
		"not a shared object: ELF type 1 (relocatable object), wanted "
		"3 (shared object)");
	h[16] = 2;
	refused(wfile("exec.so", h, sizeof(h), 0644),
		"not a shared object: ELF type 2 (executable), wanted 3");
	h[4] = 1; /* ELFCLASS32 */
	h[16] = 3;
	refused(wfile("elf32.so", h, sizeof(h), 0644),
		"a 32-bit ELF file, wanted 64-bit like this core");
	/* right header, nonsense after it: dlopen's own words */
	h[4] = 2;
	refused(wfile("bogus.so", h, sizeof(h), 0644), "dlopen failed: ");
}

static void test_not_a_regular_file(void **state)
{
	(void)state;
	refused(tmp, "not a regular file (wanted a shared object)");
}

/*
 * Root reads any file whatever its mode, so as root the check runs in a
 * child that has become nobody (uid 65534).  The message is sent back
 * through a pipe and asserted here.
 */
static void test_unreadable_file(void **state)
{
	(void)state;
	char path[600];
	int fds[2];
	pid_t pid;
	ssize_t n;
	int st;

	snprintf(path, sizeof(path), "%s", wfile("locked.so", "x", 1, 0));
	if (geteuid() != 0) {
		refused(path, "cannot read: Permission denied (mode 0000");
		return;
	}
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct jg_registry *r;

		close(fds[0]);
		if (setgroups(0, NULL) < 0 || setgid(65534) < 0 ||
		    setuid(65534) < 0) {
			dprintf(fds[1], "SKIP cannot become nobody");
			_exit(0);
		}
		r = loader_new(fixdir, NULL);
		if (loader_open(r, path, err, sizeof(err)))
			snprintf(err, sizeof(err), "loaded");
		dprintf(fds[1], "%s", err);
		loader_free(r);
		_exit(0);
	}
	close(fds[1]);
	n = read(fds[0], err, sizeof(err) - 1);
	close(fds[0]);
	waitpid(pid, &st, 0);
	assert_true(n > 0);
	err[n] = '\0';
	if (strncmp(err, "SKIP", 4) == 0) {
		skip();
		return;
	}
	{
		char exp[800];
		snprintf(exp, sizeof(exp),
			 "%s: cannot read: Permission denied (mode 0000, owner "
			 "uid 0, running as uid 65534)",
			 path);
		assert_string_equal(err, exp);
	}
}

/* ---- the descriptor ----------------------------------------------------- */

static void test_missing_descriptor(void **state)
{
	(void)state;
	refused(fixture("fx_nosym"),
		"no plugin descriptor: wanted exported symbol \"jg_plugin\", "
		"not found");
}

static void test_wrong_magic(void **state)
{
	(void)state;
	refused(fixture("fx_magic"),
		"wrong magic: wanted 0x4a47504c, found 0xdeadbeef");
}

static void test_other_major(void **state)
{
	(void)state;
	char want[200];

	snprintf(want, sizeof(want),
		 "plugin built for ABI %d.%d, this core supports ABI %d.x (the "
		 "major must be equal)",
		 JG_ABI_MAJOR + 1, JG_ABI_MINOR, JG_ABI_MAJOR);
	refused(fixture("fx_major"), want);
}

static void test_newer_minor(void **state)
{
	(void)state;
	char want[200];

	/* core 1.0 and plugin 1.99 read "... for ABI 1.99, this core
	 * supports up to 1.0" */
	snprintf(want, sizeof(want),
		 "plugin built for ABI %d.99, this core supports up to %d.%d",
		 JG_ABI_MAJOR, JG_ABI_MAJOR, JG_ABI_MINOR);
	refused(fixture("fx_minor"), want);
}

static void test_short_struct(void **state)
{
	(void)state;
	char want[200];

	snprintf(want, sizeof(want),
		 "descriptor too short: wanted at least %zu bytes (ABI %d.0), "
		 "found 24",
		 loader_min_descriptor_size(), JG_ABI_MAJOR);
	refused(fixture("fx_short"), want);
}

static void test_unknown_kind(void **state)
{
	(void)state;
	refused(fixture("fx_kind"),
		"unknown kind 42: wanted 1..5 (protocol, idp, mask, store, "
		"notify)");
}

static void test_duplicate_name(void **state)
{
	(void)state;
	struct jg_registry *r = loader_new(fixdir, NULL);
	char want[2100];

	assert_non_null(loader_open(r, fixture("fx_good"), err, sizeof(err)));
	assert_null(loader_open(r, fixture("fx_dup"), err, sizeof(err)));
	snprintf(want, sizeof(want),
		 "%s: duplicate plugin name \"good\": already loaded from ",
		 fixture("fx_dup"));
	assert_contains(err, want);
	assert_contains(err, fixture("fx_good"));
	assert_int_equal(loader_count(r), 1);
	loader_free(r);
}

static void test_ops(void **state)
{
	(void)state;
	char want[200];

	refused(fixture("fx_noops"),
		"no operations table: wanted struct jg_protocol_ops");
	snprintf(want, sizeof(want),
		 "protocol operations table too short: wanted at least %zu "
		 "bytes, found 8",
		 loader_min_ops_size(JG_KIND_PROTOCOL));
	refused(fixture("fx_shortops"), want);
}

/* ---- from a configuration, and instances -------------------------------- */

static struct jg_conf *conf_with(const char *text)
{
	const char *path = wfile("jitgated.json", text, strlen(text), 0644);
	struct jg_conf *c = conf_load(path, err, sizeof(err));

	if (!c)
		fail_msg("%s", err);
	return c;
}

static void test_load_from_conf(void **state)
{
	(void)state;
	char text[3000], want[2200];
	struct jg_conf *c;

	/* plugin_dir holds bare names; a path is used as written */
	snprintf(text, sizeof(text),
		 "{\"plugin_dir\": \"%s\",\n \"plugins\": [\"fx_good\",\n"
		 "  \"%s\"]}",
		 fixdir, fixture("fx_kind"));
	c = conf_with(text);
	assert_null(loader_load(c, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s/jitgated.json:3: plugins[1]: %s: "
		 "unknown kind 42", tmp, fixture("fx_kind"));
	assert_contains(err, want);
	conf_unref(c);

	snprintf(text, sizeof(text), "{\"plugins\": [\"%s\"]}",
		 fixture("fx_good"));
	c = conf_with(text);
	assert_non_null(loader_load(c, err, sizeof(err)));
	conf_unref(c); /* frees the registry with it */
}

static void test_instances(void **state)
{
	(void)state;
	char text[3000], want[700];
	struct jg_registry *r;
	struct jg_instance *in;
	struct jg_conf *c;
	struct json_object *ls;

	snprintf(text, sizeof(text),
		 "{\"plugins\": [\"%s\"],\n"
		 " \"listeners\": [\n"
		 "  {\"protocol\": \"good\", \"options\": {\"port\": 1,\n"
		 "    \"greeting\": \"hello\"}},\n"
		 "  {\"protocol\": \"good\", \"options\": {}},\n"
		 "  {\"protocol\": \"good\", \"options\": {\"port\": 666}},\n"
		 "  {\"protocol\": \"nope\"}]}",
		 fixture("fx_good"));
	c = conf_with(text);
	r = loader_load(c, err, sizeof(err));
	assert_non_null(r);
	ls = conf_get(c, "listeners");
	in = loader_instance_new(r, c, "good",
				 json_object_object_get(
					 json_object_array_get_idx(ls, 0),
					 "options"),
				 "listeners[0]", &host, err, sizeof(err));
	if (!in)
		fail_msg("%s", err);
	assert_string_equal(in->state, "hello");
	assert_int_equal(cfg_int(in->cfg, "port"), 1);
	assert_string_equal(in->keypath, "listeners[0]");

	assert_null(loader_instance_new(
		r, c, "good",
		json_object_object_get(json_object_array_get_idx(ls, 1),
				       "options"),
		"listeners[1]", &host, err, sizeof(err)));
	snprintf(want, sizeof(want),
		 "%s/jitgated.json:5: listeners[1].options.port: required "
		 "integer option missing (a required option)",
		 tmp);
	assert_string_equal(err, want);

	assert_null(loader_instance_new(
		r, c, "good",
		json_object_object_get(json_object_array_get_idx(ls, 2),
				       "options"),
		"listeners[2]", &host, err, sizeof(err)));
	snprintf(want, sizeof(want),
		 "%s/jitgated.json:6: listeners[2]: plugin good: init failed: "
		 "port 666 is not allowed",
		 tmp);
	assert_string_equal(err, want);

	assert_null(loader_instance_new(r, c, "nope", NULL, "listeners[3]",
					&host, err, sizeof(err)));
	assert_contains(err, "jitgated.json:7: listeners[3]: no plugin "
			     "\"nope\" is loaded");
	conf_unref(c); /* fini runs: the instance's greeting is freed */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_loads),
		cmocka_unit_test(test_bare_name_in_plugin_dir),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_not_a_shared_object),
		cmocka_unit_test(test_wrong_elf),
		cmocka_unit_test(test_not_a_regular_file),
		cmocka_unit_test(test_unreadable_file),
		cmocka_unit_test(test_missing_descriptor),
		cmocka_unit_test(test_wrong_magic),
		cmocka_unit_test(test_other_major),
		cmocka_unit_test(test_newer_minor),
		cmocka_unit_test(test_short_struct),
		cmocka_unit_test(test_unknown_kind),
		cmocka_unit_test(test_duplicate_name),
		cmocka_unit_test(test_ops),
		cmocka_unit_test(test_load_from_conf),
		cmocka_unit_test(test_instances),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
