/*
 * The token segment JSON parser (plugins/idp/oidc/json.c) against
 * json-c's strict tokener: whatever it accepts, json-c accepts too and
 * builds the same tree; it refuses what json-c refuses, plus the few
 * things it is documented to be stricter about.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "json.h"
#include "jwt.h"

static int ours(const char *in, size_t len, int depth,
		struct json_object **out)
{
	char *buf = malloc(len + 1);

	assert_non_null(buf);
	memcpy(buf, in, len);
	buf[len] = '\0';
	int rc = oidc_json_parse_inplace(buf, len, depth, out);
	/* Our tree owns copies: scribbling on the buffer changes nothing. */
	memset(buf, 'x', len);
	free(buf);
	return rc;
}

static int mismatches;

/* Same verdict and, when accepted, the same tree as json-c.  (json-c
 * refuses a bare number at the very end of its input, waiting for more
 * digits, so number cases sit inside arrays.) */
static void same(const char *in)
{
	struct json_object *a, *b = jwt_json_parse(in, strlen(in), 16);
	int rc = ours(in, strlen(in), 16, &a);

	if (!b && strcmp(in, "null")) {
		if (rc == 0)
			print_error("accepted what json-c refuses: %s\n", in),
				mismatches++;
		return;
	}
	if (rc != 0) {
		print_error("refused what json-c accepts: %s\n", in);
		mismatches++;
	} else if (!json_object_equal(a, b)) {
		print_error("different tree for %s\n", in);
		mismatches++;
	}
	json_object_put(a);
	json_object_put(b);
}

static void refused(const char *in, size_t len)
{
	struct json_object *a;

	assert_int_equal(ours(in, len, 16, &a), -1);
	assert_null(a);
}

static void test_agrees_with_json_c(void **state)
{
	static const char *const cases[] = {
		"{}", "[]", " {\"a\":1} \n", "{\"a\":[1,2,{\"b\":null}]}",
		"{\"a\":true,\"b\":false,\"c\":null}", "\"s\"", "[0]", "[-0]",
		"[123]", "[-9223372036854775808]", "[9223372036854775807]",
		"[18446744073709551615]", "[18446744073709551616]",
		"[-9223372036854775809]", "[99999999999999999999999]", "[1.5]", "[-2.5e3]", "[1E+2]",
		"[1e-2]", "[1e300]", "[0 ]", "{\"exp\":1700000000,\"iat\":1.7e9}",
		"{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"}",
		"{\"u\":\"\\u00e9\\u20ac\\ud83d\\ude00\"}",
		"{\"u\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}",
		"{\"a\":1,\"a\":2}", "[1,[2,[3,[4]]]]",
		/* refused by both */
		"", " ", "{", "}", "[1,]", "{\"a\":1,}", "{a:1}",
		"[01]", "[.5]", "[+1]", "[1e]", "[-]", "[--1]",
		"[0x10]", "[1]x", "tru", "nul", "[1 2]", "{\"a\" 1}", "{\"a\":}",
		"\"abc", "\"\\x\"", "\"\\u12\"", "{} {}", "[1]]", "//c\n{}",
		"{\"a\":1}/* c */",
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++)
		same(cases[i]);
	assert_int_equal(mismatches, 0);
}

static void test_stricter(void **state)
{
	/* Invalid or overlong UTF-8, surrogates, NUL: refused outright. */
	refused("\"\xc0\xaf\"", 4);
	refused("\"\xe0\x80\xaf\"", 5);
	refused("\"\xed\xa0\x80\"", 5);
	refused("\"\xf4\x90\x80\x80\"", 6);
	refused("\"\xff\"", 3);
	refused("\"\\ud800\"", 8);
	refused("\"\\udc00\"", 8);
	refused("\"\\ud800\\u0041\"", 14);
	refused("\"\\u0000\"", 8);
	refused("\"a\0b\"", 5);
	refused("{}\0", 3);
	/* json-c's strict mode still takes these; RFC 8259 does not. */
	refused("{'a':1}", 7);
	refused("[1.]", 4);
	refused("[NaN]", 5);
	refused("[Infinity]", 10);
	refused("\"\t\"", 3);
}

static void test_values(void **state)
{
	struct json_object *o, *v;
	char in[] = "{\"k\\u0065y\":\"a\\nb\",\"big\":18446744073709551615,"
		    "\"neg\":-5,\"d\":2.5}";

	assert_int_equal(ours(in, strlen(in), 16, &o), 0);
	assert_true(json_object_object_get_ex(o, "key", &v));
	assert_string_equal(json_object_get_string(v), "a\nb");
	assert_true(json_object_object_get_ex(o, "big", &v));
	assert_true(json_object_get_uint64(v) == UINT64_MAX);
	assert_true(json_object_object_get_ex(o, "neg", &v));
	assert_int_equal(json_object_get_int64(v), -5);
	assert_true(json_object_object_get_ex(o, "d", &v));
	assert_true(json_object_get_double(v) == 2.5);
	json_object_put(o);
}

static void test_depth(void **state)
{
	char in[64];
	struct json_object *o;
	int n = 20;

	for (int i = 0; i < n; i++)
		in[i] = '[', in[2 * n - 1 - i] = ']';
	assert_int_equal(ours(in, 2 * n, 16, &o), -1);
	assert_int_equal(ours(in + 4, 2 * n - 8, 16, &o), 0);
	json_object_put(o);
	assert_int_equal(ours(in + 3, 2 * n - 6, 16, &o), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agrees_with_json_c),
		cmocka_unit_test(test_stricter),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_depth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
