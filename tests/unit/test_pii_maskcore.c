/*
 * core/maskcore.c with the real pii plugin: profiles compiled from a
 * "masking" section at load, errors naming the profile, and values masked
 * under a named profile as a protocol plugin would get them.
 */
#include "pii_fake_host.h"

#include <json-c/json.h>

#include "maskcore.h"


static struct maskcore *load(const char *section, char *err, size_t errlen)
{
	json_object *m = json_tokener_parse(section);
	struct maskcore *mc = NULL;
	assert_non_null(m);
	int rc = maskcore_load(&mc, ops(), inst, m, err, errlen);
	json_object_put(m);
	assert_true(rc == JG_OK || !mc);
	return mc;
}

static void test_load_and_mask(void **state)
{
	char err[256] = "";
	const char *out;
	size_t outlen;
	int changed;
	struct jg_mask_field f = {"public.users.email", "text", JG_MASK_TEXT};
	(void)state;
	struct maskcore *mc = load(
		"{\"plugin\": \"pii\", \"options\": {}, \"profiles\": {"
		"\"default\": {\"detectors\": [\"card\"]},"
		"\"strict\": {\"columns\": [{\"glob\": \"*.email\", "
		"\"strategy\": \"null\"}]}}}",
		err, sizeof(err));
	assert_non_null(mc);
	assert_true(maskcore_has_profile(mc, "strict"));
	assert_false(maskcore_has_profile(mc, "lax"));

	const char *in = "paid with 4111111111111111";
	assert_int_equal(maskcore_value(mc, "default", &f, in, strlen(in),
					NULL, NULL, &out, &outlen, &changed,
					NULL),
			 JG_OK);
	assert_true(changed);
	assert_int_equal(outlen, strlen("paid with [REDACTED]"));
	assert_memory_equal(out, "paid with [REDACTED]", outlen);
	free((char *)out);

	in = "nothing here";
	assert_int_equal(maskcore_value(mc, "default", &f, in, strlen(in),
					NULL, NULL, &out, &outlen, &changed,
					NULL),
			 JG_OK);
	assert_false(changed);
	assert_ptr_equal(out, in);

	assert_int_equal(maskcore_value(mc, "strict", &f, "a@b.com", 7, NULL,
					NULL, &out, &outlen, &changed, NULL),
			 JG_MASK_NULL);
	assert_null(out);
	/* an unknown profile fails closed */
	assert_int_equal(maskcore_value(mc, "lax", &f, "x", 1, NULL, NULL,
					&out, &outlen, &changed, NULL),
			 JG_ERROR);
	maskcore_free(mc);
}

static void test_load_errors(void **state)
{
	char err[256] = "";
	(void)state;
	assert_null(load("{\"profiles\": {\"p\": {\"detectors\": [\"x\"]}}}",
			 err, sizeof(err)));
	assert_non_null(strstr(err, "masking.profiles.p: detectors[0]"));
	assert_null(load("{\"profile\": {}}", err, sizeof(err)));
	assert_non_null(strstr(err, "masking: unknown key \"profile\""));
	assert_null(load("{\"profiles\": {\"p\": 3}}", err, sizeof(err)));
	assert_non_null(strstr(err, "masking.profiles.p"));
	/* no section: nothing to compile, lookups fail closed */
	struct maskcore *mc = NULL;
	assert_int_equal(maskcore_load(&mc, ops(), inst, NULL, err,
				       sizeof(err)),
			 JG_OK);
	assert_false(maskcore_has_profile(mc, "default"));
	assert_null(maskcore_default(mc));
	maskcore_free(mc);
}

/* masking.default_profile names the profile of what a rule allows
 * without naming one; it must be a profile of the section. */
static void test_default_profile(void **state)
{
	char err[256] = "";
	struct maskcore *mc;
	(void)state;

	mc = load("{\"plugin\": \"pii\", \"default_profile\": \"p\", "
		  "\"profiles\": {\"p\": {}}}",
		  err, sizeof(err));
	assert_non_null(mc);
	assert_string_equal(maskcore_default(mc), "p");
	maskcore_free(mc);
	mc = load("{\"plugin\": \"pii\", \"profiles\": {\"p\": {}}}", err,
		  sizeof(err));
	assert_non_null(mc);
	assert_null(maskcore_default(mc));
	maskcore_free(mc);
	assert_null(load("{\"plugin\": \"pii\", \"default_profile\": \"q\", "
			 "\"profiles\": {\"p\": {}}}",
			 err, sizeof(err)));
	assert_non_null(strstr(err, "masking.default_profile: no masking "
				    "profile \"q\""));
	assert_null(load("{\"default_profile\": 3}", err, sizeof(err)));
	assert_non_null(strstr(err, "masking.default_profile"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_and_mask),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_default_profile),
	};
	return cmocka_run_group_tests(tests, inst_setup, inst_teardown);
}
