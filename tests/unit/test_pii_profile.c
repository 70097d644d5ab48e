/*
 * Profiles, strategies, rules and carriers: what a user configures and
 * what the client then receives.  Also the plugin's init through a fake
 * host, profile compile errors (naming the key), and bad input.
 */
#include "pii_fake_host.h"


#define assert_field(pf, col, type, carrier, in, want)                        \
	do {                                                                  \
		char *got_ = mask_field((pf), (col), (type), (carrier), (in),  \
					NULL);                                \
		if (strcmp(got_, (want)))                                     \
			fail_msg("mask(%s, \"%s\")\n  got  \"%s\"\n  want "    \
				 "\"%s\"",                                    \
				 (col) ? (col) : "-", (in), got_, (want));    \
		free(got_);                                                   \
	} while (0)

static void test_partial(void **state)
{
	(void)state;
	void *pf = compile_or_die(
		inst, "{\"detectors\": {\"card\": {\"strategy\": \"partial\"},"
		      " \"email\": {\"strategy\": \"partial\", \"keep\": 3,"
		      " \"char\": \"x\"}}}");
	assert_masks(pf, "4111-1111-1111-1111", "****-****-****-1111");
	assert_masks(pf, "4111 1111 1111 1111", "**** **** **** 1111");
	assert_masks(pf, "ab@cd.com", "xx@xx.com");
	ops()->profile_free(pf);
}

static void test_hash(void **state)
{
	(void)state;
	void *pf = compile_or_die(
		inst, "{\"detectors\": {\"card\": \"hash\", \"email\": "
		      "{\"strategy\": \"hash\", \"length\": 8, \"prefix\": "
		      "\"h:\"}}}");
	char *a = mask_text(pf, "4111 1111 1111 1111");
	char *b = mask_text(pf, "4111111111111111");
	char *c = mask_text(pf, "4012888888881881");
	/* deterministic, separators do not matter, values differ */
	assert_int_equal(strlen(a), 16);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	assert_int_equal(strspn(a, "0123456789abcdef"), 16);
	char *d = mask_text(pf, "Someone@Example.com");
	char *e = mask_text(pf, "someone@example.com");
	assert_string_equal(d, e);
	assert_int_equal(strlen(d), 10);
	assert_memory_equal(d, "h:", 2);

	/* another key gives other hashes: not a plain digest */
	static const struct fake_opt opts[] = {
		{"hash_key", "another key of 16+ bytes"}, {NULL, NULL}};
	struct jg_config cfg = {opts};
	struct jg_host h = fake_host();
	void *i2;
	char err[128];
	assert_int_equal(jg_plugin.init(&h, &cfg, &i2, err, sizeof(err)),
			 JG_OK);
	void *pf2 = compile_or_die(i2, "{\"detectors\": {\"card\": \"hash\"}}");
	char *f = mask_text(pf2, "4111111111111111");
	assert_string_not_equal(a, f);
	/* a hash_context separates profiles under one key */
	void *pf3 = compile_or_die(inst, "{\"detectors\": {\"card\": "
					 "\"hash\"}, \"hash_context\": \"eu\"}");
	char *g = mask_text(pf3, "4111111111111111");
	assert_string_not_equal(a, g);
	free(a), free(b), free(c), free(d), free(e), free(f), free(g);
	ops()->profile_free(pf);
	ops()->profile_free(pf2);
	ops()->profile_free(pf3);
	jg_plugin.fini(i2);
}

static void test_null(void **state)
{
	struct jg_mask_report rep = {0};
	(void)state;
	void *pf = compile_or_die(inst, "{\"detectors\": {\"ssn\": \"null\", "
					"\"email\": true}}");
	char *o = mask_field(pf, NULL, "text", JG_MASK_TEXT,
			     "a@b.com ssn 123-45-6789", &rep);
	assert_string_equal(o, "NULL");
	free(o);
	assert_true(rep.flags & JG_MASK_REPORT_NULL);
	assert_int_equal(rep.total, 2);
	assert_masks(pf, "a@b.com only", "[REDACTED] only");
	/* a number column cannot hold "[REDACTED]": it becomes NULL */
	assert_field(pf, "public.t.n", "int8", JG_MASK_TEXT,
		     "4111111111111111", "4111111111111111");
	void *all = compile_or_die(inst, "{}");
	assert_field(all, "public.t.n", "int8", JG_MASK_TEXT,
		     "4111111111111111", "NULL");
	assert_field(all, "public.t.ip", "inet", JG_MASK_TEXT, "10.1.2.3",
		     "NULL");
	assert_field(all, "public.t.n", "int8", JG_MASK_TEXT, "42", "42");
	ops()->profile_free(all);
	ops()->profile_free(pf);
}

static void test_column_rules(void **state)
{
	(void)state;
	void *pf = compile_or_die(
		inst,
		"{\"columns\": ["
		" {\"column\": \"public.users.SSN\", \"strategy\": \"null\"},"
		" {\"glob\": \"*.password*\", \"replacement\": \"***\"},"
		" {\"regex\": \"(^|\\\\.)(dob|birth_?date)$\", \"name\": \"dob\","
		"  \"strategy\": \"hash\"},"
		" {\"glob\": \"public.orders.tracking_no\", \"strategy\": "
		"\"keep\"},"
		" {\"column\": \"api.user.card\", \"strategy\": \"partial\"}"
		"]}");
	struct jg_mask_report rep = {0};
	assert_field(pf, "PUBLIC.Users.ssn", "text", JG_MASK_TEXT, "x",
		     "NULL");
	assert_field(pf, "public.users.password_hash", "text", JG_MASK_TEXT,
		     "secret", "***");
	assert_field(pf, "user.Password", NULL, JG_MASK_TEXT, "secret", "***");
	assert_field(pf, "Password", NULL, JG_MASK_TEXT, "secret", "secret");
	char *h1 = mask_field(pf, "hr.emp.BirthDate", NULL, JG_MASK_TEXT,
			      "1970-01-01", &rep);
	char *h2 = mask_field(pf, "dob", NULL, JG_MASK_JSON_STRING,
			      "1970-01-01", NULL);
	assert_int_equal(strlen(h1), 16);
	assert_string_equal(h1, h2);
	assert_string_equal(rep.names[0], "dob");
	free(h1);
	free(h2);
	/* keep: the rule wins over detectors */
	assert_field(pf, "public.orders.tracking_no", "text", JG_MASK_TEXT,
		     "4111111111111111", "4111111111111111");
	/* no rule: detectors run */
	assert_field(pf, "public.orders.note", "text", JG_MASK_TEXT,
		     "4111111111111111", "[REDACTED]");
	/* partial of a whole value keeps at most half of it */
	assert_field(pf, "api.user.card", NULL, JG_MASK_TEXT, "abc", "**c");
	assert_field(pf, "api.user.card", NULL, JG_MASK_TEXT,
		     "\xc3\xa9t\xc3\xa9-12345", "***-*2345");
	/* json values stay JSON */
	assert_field(pf, "public.users.password_json", "jsonb", JG_MASK_TEXT,
		     "{\"a\": 1}", "\"***\"");
	ops()->profile_free(pf);
}

/* JSON string content: escapes are separators and are never cut. */
static int json_content_ok(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s < 0x20 || *s == '"')
			return 0;
		if (*s == '\\') {
			s++;
			if (*s == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF",
						    s[i]) || !s[i])
						return 0;
				s += 4;
			} else if (!*s || !strchr("\"\\/bfnrt", *s)) {
				return 0;
			}
		}
	}
	return 1;
}

static void test_json_carrier(void **state)
{
	(void)state;
	void *red = compile_or_die(inst, "{}");
	void *part = compile_or_die(
		inst, "{\"default\": {\"strategy\": \"partial\"}, \"custom\": "
		      "[{\"name\": \"any\", \"regex\": \"k.{0,8}\"}]}");
	void *hash = compile_or_die(inst, "{\"default\": \"hash\"}");
	static const char *const in[] = {
		"line\\n4111 1111 1111 1111\\tnext",
		"\\u00e9a@b.com\\\"",
		"\\\\4111111111111111\\\\",
		"k\\u0041\\u0042\\n\\\"zz",
		"-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE "
		"KEY-----",
		"-----BEGIN PRIVATE KEY-----\\nMIIE\\u00",
	};
	void *pfs[] = {red, part, hash};
	for (size_t k = 0; k < 3; k++) {
		for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
			char *o = mask_field(pfs[k], NULL, NULL,
					     JG_MASK_JSON_STRING, in[i], NULL);
			if (!json_content_ok(o) && json_content_ok(in[i]))
				fail_msg("broken JSON: \"%s\" -> \"%s\"",
					 in[i], o);
			free(o);
		}
	}
	assert_field(red, NULL, NULL, JG_MASK_JSON_STRING,
		     "line\\n4111 1111 1111 1111\\tnext",
		     "line\\n[REDACTED]\\tnext");
	assert_field(red, NULL, NULL, JG_MASK_JSON_STRING, "\\u00e9a@b.com\\\"",
		     "\\u00e9[REDACTED]\\\"");
	assert_field(part, NULL, NULL, JG_MASK_JSON_STRING,
		     "k\\u0041\\u0042\\n\\\"zz", "**\\u0042\\n\\\"zz");
	/* the same value hashes the same in text and JSON */
	char *a = mask_field(hash, "x", NULL, JG_MASK_TEXT, "a@b.com", NULL);
	char *b = mask_field(hash, "x", NULL, JG_MASK_JSON_STRING,
			     "a\\u0040b.com x", NULL);
	(void)b;
	free(a);
	free(b);
	ops()->profile_free(red);
	ops()->profile_free(part);
	ops()->profile_free(hash);
}

static void test_text_carrier(void **state)
{
	(void)state;
	void *pf = compile_or_die(inst, "{\"default\": \"partial\", "
					"\"custom\": [{\"name\": \"u\", "
					"\"regex\": \"\\\\xa9.\"}]}");
	/* a hit never splits a UTF-8 sequence */
	char *o = mask_text(pf, "\xc3\xa9\xc3\xa9");
	assert_string_equal(o, "*\xc3\xa9");
	free(o);
	ops()->profile_free(pf);
}

static void expect_error(const char *json, const char *want)
{
	void *pf = NULL;
	char err[256] = "";
	int rc = ops()->profile_compile(inst, "bad", json, &pf, err,
					sizeof(err));
	if (rc != JG_ERROR || pf)
		fail_msg("compiled: %s", json);
	if (!strstr(err, want))
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
}

static void test_profile_errors(void **state)
{
	(void)state;
	expect_error("[", "JSON object");
	expect_error("{\"detector\": []}", "unknown key \"detector\"");
	expect_error("{\"detectors\": [\"cc\"]}", "detectors[0]");
	expect_error("{\"detectors\": {\"card\": \"blur\"}}",
		     "detectors.card.strategy");
	expect_error("{\"detectors\": {\"card\": {\"keep\": 99}}}",
		     "detectors.card.keep");
	expect_error("{\"default\": {\"replacement\": \"a\\\"b\"}}",
		     "default.replacement");
	expect_error("{\"default\": {\"replacement\": \"a\\nb\"}}",
		     "default.replacement");
	expect_error("{\"custom\": [{\"name\": \"card\", \"regex\": \"x\"}]}",
		     "custom[0].name");
	expect_error("{\"custom\": [{\"name\": \"a\", \"regex\": \"(\"}]}",
		     "custom[0].regex");
	expect_error("{\"custom\": [{\"name\": \"a\", \"regex\": "
		     "\"(?<=.{200})x\"}]}",
		     "look-behind");
	expect_error("{\"custom\": [{\"name\": \"a\", \"regex\": \"x\", "
		     "\"validator\": \"crc\"}]}",
		     "custom[0].validator");
	expect_error("{\"columns\": [{\"glob\": \"*\", \"column\": \"a\"}]}",
		     "columns[0]");
	expect_error("{\"columns\": [{\"regex\": \"[\"}]}", "columns[0].regex");
	expect_error("{\"detectors\": {\"card\": \"keep\"}}", "strategy");

	/* hash without a key */
	struct jg_host h = fake_host();
	struct jg_config cfg = {NULL};
	void *nokey, *pf = NULL;
	char err[256];
	assert_int_equal(jg_plugin.init(&h, &cfg, &nokey, err, sizeof(err)),
			 JG_OK);
	assert_int_equal(ops()->profile_compile(nokey, "p", "{\"default\": "
							    "\"hash\"}",
						&pf, err, sizeof(err)),
			 JG_ERROR);
	assert_non_null(strstr(err, "hash_key"));
	jg_plugin.fini(nokey);
}

static void test_init_errors(void **state)
{
	static const struct fake_opt shortkey[] = {{"hash_key", "short"},
						   {NULL, NULL}};
	struct jg_config cfg = {shortkey};
	struct jg_host h = fake_host();
	void *i = NULL;
	char err[256];
	(void)state;
	assert_int_equal(jg_plugin.init(&h, &cfg, &i, err, sizeof(err)),
			 JG_ERROR);
	assert_non_null(strstr(err, "hash_key"));
	assert_null(strstr(err, "short")); /* never the secret */
	assert_int_equal(jg_plugin.kind, JG_KIND_MASK);
	assert_string_equal(jg_plugin.name, "pii");
	assert_true(((const struct jg_mask_ops *)jg_plugin.ops)->size >=
		    sizeof(struct jg_mask_ops));
}

static void test_bad_input(void **state)
{
	(void)state;
	void *pf = compile_or_die(inst, "{}");
	struct jg_mask_field f = {NULL, NULL, JG_MASK_TEXT};
	struct sink s = {0};

	/* invalid UTF-8, NULs and a big value */
	static const char junk[] = "\xff\xfe\x00\x80 4111111111111111 \xc3";
	assert_int_equal(ops()->mask_value(pf, &f, junk, sizeof(junk) - 1,
					   sink_emit, &s, NULL),
			 JG_OK);
	assert_int_equal(s.n, 4 + 1 + 10 + 2);
	free(s.b);
	size_t big = 4 << 20;
	char *b = malloc(big);
	memset(b, 'a', big);
	memset(&s, 0, sizeof(s));
	assert_int_equal(ops()->mask_value(pf, &f, b, big, sink_emit, &s,
					   NULL),
			 JG_DECLINED);
	memcpy(b + big - 20, " x@example.com", 14);
	assert_int_equal(ops()->mask_value(pf, &f, b, big, sink_emit, &s,
					   NULL),
			 JG_OK);
	free(s.b);
	free(b);
	/* emit failing: fail closed */
	memset(&s, 0, sizeof(s));
	s.fail_after = 1;
	assert_int_equal(ops()->mask_value(pf, &f, "x a@b.com", 9, sink_emit,
					   &s, NULL),
			 JG_ERROR);
	free(s.b);
	/* misuse */
	f.carrier = 9;
	assert_int_equal(ops()->mask_value(pf, &f, "x", 1, sink_emit, &s,
					   NULL),
			 JG_ERROR);
	assert_int_equal(ops()->mask_value(inst, NULL, "x", 1, sink_emit, &s,
					   NULL),
			 JG_ERROR);
	ops()->profile_free(pf);
}

static void test_report_overflow(void **state)
{
	(void)state;
	char json[4096] = "{\"detectors\": [], \"custom\": [";
	char in[1024] = "";
	for (int i = 0; i < 20; i++) {
		char one[128];
		snprintf(one, sizeof(one),
			 "%s{\"name\": \"d%d\", \"regex\": \"Q%dQ\"}",
			 i ? "," : "", i, i);
		strcat(json, one);
		snprintf(one, sizeof(one), "Q%dQ ", i);
		strcat(in, one);
	}
	strcat(json, "]}");
	void *pf = compile_or_die(inst, json);
	struct jg_mask_report rep = {0};
	char *o = mask_field(pf, NULL, NULL, JG_MASK_TEXT, in, &rep);
	free(o);
	assert_int_equal(rep.total, 20);
	assert_int_equal(rep.ndetectors, JG_MASK_REPORT_NAMES);
	assert_true(rep.flags & JG_MASK_REPORT_OVERFLOW);
	ops()->profile_free(pf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_partial),
		cmocka_unit_test(test_hash),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_column_rules),
		cmocka_unit_test(test_json_carrier),
		cmocka_unit_test(test_text_carrier),
		cmocka_unit_test(test_profile_errors),
		cmocka_unit_test(test_init_errors),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_report_overflow),
	};
	return cmocka_run_group_tests(tests, inst_setup, inst_teardown);
}
