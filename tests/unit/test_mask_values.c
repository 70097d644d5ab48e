/*
 * The host's mask_values (core/maskcore.c core_mask_values) with the real
 * pii plugin (its own mask_values, and without it), on a session as a protocol plugin has it: a row's values in
 * one call, each as mask_value would have masked it, every changed value
 * valid at once, column rules resolved through the hint and resolved
 * again when the session's profile changes, and the fail-closed cases.
 */
#include "pii_fake_host.h"

#include <json-c/json.h>

#include "maskcore.h"
#include "services.h"
#include "session.h"

static struct maskcore *mc;
static struct jg_mask_ops old_ops; /* a plugin without column_rule */

static const struct maskcore *lookup(const struct jg_session *s)
{
	(void)s;
	return mc;
}

static void load(const struct jg_mask_ops *o)
{
	char err[256] = "";
	json_object *m = json_tokener_parse(
		"{\"plugin\": \"pii\", \"profiles\": {"
		"\"rows\": {\"detectors\": [\"card\", \"email\"],"
		" \"columns\": [{\"glob\": \"*.ssn\"},"
		"  {\"column\": \"public.t.keep\", \"strategy\": \"keep\"}]},"
		"\"detect\": {\"detectors\": [\"card\"]}}}");

	assert_non_null(m);
	maskcore_free(mc);
	mc = NULL;
	assert_int_equal(maskcore_load(&mc, o, inst, m, err, sizeof(err)),
			 JG_OK);
	json_object_put(m);
	maskcore_set_lookup(lookup);
}

/* session.c's cleanup list, run as session teardown would. */
struct cleanup {
	struct cleanup *next;
	jg_task_cb fn;
	void *ud;
};

static void session_done(struct jg_session *s)
{
	while (s->cleanups) {
		struct cleanup *c = s->cleanups;
		s->cleanups = c->next;
		c->fn(c->ud);
		free(c);
	}
}

static void use_profile(struct jg_session *s, const char *name)
{
	snprintf(s->mask_profile, sizeof(s->mask_profile), "%s", name);
	s->mask_serial++;
}

static void item(struct jg_mask_item *v, const char *column,
		 const char *type, const char *in)
{
	uint32_t hint = v->hint;

	memset(v, 0, sizeof(*v));
	v->column = column;
	v->type = type;
	v->in = in;
	v->len = in ? strlen(in) : 0;
	v->hint = hint;
}

static void assert_out(const struct jg_mask_item *v, const char *want)
{
	assert_int_equal(v->status, JG_OK);
	assert_int_equal(v->outlen, strlen(want));
	assert_memory_equal(v->out, want, v->outlen);
}

static void row(struct jg_mask_item *v)
{
	item(&v[0], "public.t.id", "int4", "7");
	item(&v[1], "public.t.ssn", "text", "123-45-6789");
	item(&v[2], "public.t.note", "text",
	     "card 4111 1111 1111 1111 mail a.b@example.com");
	item(&v[3], "public.t.keep", "text", "4111111111111111");
	item(&v[4], "public.t.num", "int8", "4111111111111111");
	item(&v[5], NULL, NULL, NULL);
}

static void check_row(const struct jg_mask_item *v)
{
	assert_false(v[0].changed);
	assert_ptr_equal(v[0].out, v[0].in);
	assert_true(v[1].changed);
	assert_out(&v[1], "[REDACTED]");
	assert_true(v[2].changed);
	assert_out(&v[2], "card [REDACTED] mail [REDACTED]");
	/* a keep rule: no detectors either */
	assert_false(v[3].changed);
	assert_out(&v[3], "4111111111111111");
	/* a number cannot carry "[REDACTED]": NULL */
	assert_true(v[4].changed);
	assert_int_equal(v[4].status, JG_MASK_NULL);
	assert_false(v[5].changed);
	assert_int_equal(v[5].outlen, 0);
}

static void test_row_in_one_call(void **state)
{
	struct jg_session s;
	struct jg_mask_item v[6];

	(void)state;
	load(ops());
	memset(&s, 0, sizeof(s));
	memset(v, 0, sizeof(v));
	/* no profile: everything as it came */
	row(v);
	assert_int_equal(core_mask_values(&s, v, 6), JG_OK);
	for (int i = 0; i < 6; i++)
		assert_false(v[i].changed);
	assert_int_equal(core_mask_values(&s, NULL, 0), JG_OK);

	use_profile(&s, "rows");
	assert_int_equal(core_mask_values(&s, NULL, 0), 1);
	row(v);
	assert_int_equal(core_mask_values(&s, v, 6), JG_OK);
	check_row(v);
	/* the hints are kept: the same row again, the same answers */
	assert_int_not_equal(v[1].hint, 0);
	row(v);
	assert_int_equal(core_mask_values(&s, v, 6), JG_OK);
	check_row(v);

	/* another profile: hints of the old one do not apply */
	use_profile(&s, "detect");
	assert_int_equal(core_mask_values(&s, NULL, 0), JG_OK);
	row(v);
	assert_int_equal(core_mask_values(&s, v, 6), JG_OK);
	assert_false(v[1].changed);
	assert_true(v[2].changed);
	assert_out(&v[2], "card [REDACTED] mail a.b@example.com");
	assert_true(v[3].changed);
	assert_out(&v[3], "[REDACTED]");
	session_done(&s);
}

static void test_plugin_without_column_rule(void **state)
{
	struct jg_session s;
	struct jg_mask_item v[6];

	(void)state;
	memcpy(&old_ops, ops(), sizeof(old_ops));
	old_ops.size = offsetof(struct jg_mask_ops, column_rule);
	load(&old_ops);
	memset(&s, 0, sizeof(s));
	memset(v, 0, sizeof(v));
	use_profile(&s, "rows");
	/* it cannot say whether rules exist: assume they do */
	assert_int_equal(core_mask_values(&s, NULL, 0), 1);
	row(v);
	assert_int_equal(core_mask_values(&s, v, 6), JG_OK);
	check_row(v);
	session_done(&s);
}

/* A plugin with column_rule but without its own mask_values: the core
 * calls mask_value per value, with the same answers. */
static void test_plugin_without_batch(void **state)
{
	struct jg_session s;
	struct jg_mask_item v[6];

	(void)state;
	memcpy(&old_ops, ops(), sizeof(old_ops));
	old_ops.size = offsetof(struct jg_mask_ops, mask_values);
	load(&old_ops);
	memset(&s, 0, sizeof(s));
	memset(v, 0, sizeof(v));
	use_profile(&s, "rows");
	assert_int_equal(core_mask_values(&s, NULL, 0), 1);
	for (int round = 0; round < 2; round++) {
		row(v);
		assert_int_equal(core_mask_values(&s, v, 6), JG_OK);
		check_row(v);
	}
	session_done(&s);
}

static void test_fail_closed(void **state)
{
	struct jg_session s;
	struct jg_mask_item v[2];

	(void)state;
	load(ops());
	memset(&s, 0, sizeof(s));
	memset(v, 0, sizeof(v));
	use_profile(&s, "rows");
	item(&v[0], NULL, NULL, "x");
	v[1].in = NULL;
	v[1].len = 3;
	assert_int_equal(core_mask_values(&s, v, 2), JG_ERROR);
	assert_int_equal(core_mask_values(NULL, v, 1), JG_ERROR);
	assert_int_equal(core_mask_values(&s, NULL, 1), JG_ERROR);
	/* a profile that is not there */
	use_profile(&s, "gone");
	item(&v[0], NULL, NULL, "x");
	assert_int_equal(core_mask_values(&s, v, 1), JG_ERROR);
	assert_int_equal(core_mask_values(&s, NULL, 0), JG_ERROR);
	session_done(&s);
	maskcore_free(mc);
	mc = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_row_in_one_call),
		cmocka_unit_test(test_plugin_without_column_rule),
		cmocka_unit_test(test_plugin_without_batch),
		cmocka_unit_test(test_fail_closed),
	};
	return cmocka_run_group_tests(tests, inst_setup, inst_teardown);
}
