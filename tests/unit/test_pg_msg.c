/*
 * PostgreSQL framing and startup packets: every length the network can
 * send, split reads, and the parameter filter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pg_msg.h"
#include "pg_startup.h"

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void test_typed_lengths(void **state)
{
	uint8_t b[16] = {'Q'};
	struct pg_frame f;
	const char *why = NULL;
	static const uint32_t bad[] = {0, 1, 3, 0x80000000U, 0xffffffffU,
				       0x7fffffffU, (1U << 20) + 1};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		put32(b + 1, bad[i]);
		assert_int_equal(pg_frame_typed(b, 5, 1U << 20, &f, &why),
				 PG_FRAME_BAD);
		assert_non_null(why);
	}
	/* exactly 4: an empty body (Sync) */
	b[0] = 'S';
	put32(b + 1, 4);
	assert_int_equal(pg_frame_typed(b, 5, 1U << 20, &f, &why), PG_FRAME_OK);
	assert_int_equal(f.type, 'S');
	assert_int_equal(f.body_len, 0);
	assert_int_equal(f.total, 5);
	/* at the maximum is fine, but needs the bytes */
	put32(b + 1, 1U << 20);
	assert_int_equal(pg_frame_typed(b, 16, 1U << 20, &f, &why),
			 PG_FRAME_MORE);
}

static void test_typed_split_reads(void **state)
{
	uint8_t b[64];
	struct pg_frame f;
	const char *why = NULL;
	size_t n, i;
	const char *sql = "SELECT 1";

	b[0] = 'Q';
	n = strlen(sql) + 1;
	put32(b + 1, (uint32_t)n + 4);
	memcpy(b + 5, sql, n);
	/* every prefix shorter than the message asks for more */
	for (i = 0; i < n + 5; i++)
		assert_int_equal(pg_frame_typed(b, i, 1024, &f, &why),
				 PG_FRAME_MORE);
	assert_int_equal(pg_frame_typed(b, n + 5, 1024, &f, &why),
			 PG_FRAME_OK);
	assert_string_equal((const char *)f.body, sql);
}

static void test_pipeline_of_hundreds(void **state)
{
	static uint8_t b[500 * 5];
	struct pg_frame f;
	const char *why = NULL;
	size_t off = 0, count = 0, i;

	for (i = 0; i < 500; i++) {
		b[i * 5] = (i % 2) ? 'S' : 'H';
		put32(b + i * 5 + 1, 4);
	}
	while (pg_frame_typed(b + off, sizeof(b) - off, 1024, &f, &why) ==
	       PG_FRAME_OK) {
		off += f.total;
		count++;
	}
	assert_int_equal(count, 500);
	assert_int_equal(off, sizeof(b));
}

static void test_startup_lengths(void **state)
{
	uint8_t b[16];
	struct pg_frame f;
	const char *why = NULL;

	put32(b, 7);
	assert_int_equal(pg_frame_startup(b, 4, &f, &why), PG_FRAME_BAD);
	put32(b, PG_MAX_STARTUP + 1);
	assert_int_equal(pg_frame_startup(b, 4, &f, &why), PG_FRAME_BAD);
	put32(b, 0x80000008U);
	assert_int_equal(pg_frame_startup(b, 4, &f, &why), PG_FRAME_BAD);
	put32(b, 8);
	put32(b + 4, PG_SSL_CODE);
	assert_int_equal(pg_frame_startup(b, 3, &f, &why), PG_FRAME_MORE);
	assert_int_equal(pg_frame_startup(b, 7, &f, &why), PG_FRAME_MORE);
	assert_int_equal(pg_frame_startup(b, 8, &f, &why), PG_FRAME_OK);
	assert_int_equal(f.body_len, 4);
}

static size_t startup_body(uint8_t *b, const char *const *kv, size_t n)
{
	size_t off = 4, i;

	put32(b, PG_PROTO_V3);
	for (i = 0; i < n; i++) {
		memcpy(b + off, kv[i], strlen(kv[i]) + 1);
		off += strlen(kv[i]) + 1;
	}
	b[off++] = 0;
	return off;
}

static void test_startup_parse(void **state)
{
	uint8_t b[512];
	struct pg_startup st;
	const char *why = NULL;
	const char *kv[] = {"user",    "ci",     "database", "app",
			    "options", "-c x=y", "DateStyle", "ISO"};
	size_t n = startup_body(b, kv, 8);

	assert_int_equal(pg_startup_parse(b, n, &st, &why), 0);
	assert_int_equal(st.code, PG_PROTO_V3);
	assert_int_equal(st.nparams, 4);
	assert_string_equal(pg_startup_get(&st, "user"), "ci");
	assert_string_equal(pg_startup_get(&st, "datestyle"), "ISO");
	assert_int_equal(pg_param_kind("options"), PG_PARAM_POLICY);
	assert_int_equal(pg_param_kind("search_path"), PG_PARAM_POLICY);
	assert_int_equal(pg_param_kind("replication"), PG_PARAM_POLICY);
	assert_int_equal(pg_param_kind("DateStyle"), PG_PARAM_PASS);
	assert_int_equal(pg_param_kind("application_name"), PG_PARAM_PASS);
	assert_int_equal(pg_param_kind("session_preload_libraries"),
			 PG_PARAM_DROP);
	assert_int_equal(pg_param_kind("user"), PG_PARAM_GATEWAY);
	pg_startup_free(&st);
}

static void test_startup_malformed(void **state)
{
	uint8_t b[512];
	struct pg_startup st;
	const char *why = NULL;
	const char *nouser[] = {"database", "app"};
	const char *dup[] = {"user", "a", "user", "b"};
	size_t n;

	/* no user */
	n = startup_body(b, nouser, 2);
	assert_int_equal(pg_startup_parse(b, n, &st, &why), -1);
	/* a key given twice */
	n = startup_body(b, dup, 4);
	assert_int_equal(pg_startup_parse(b, n, &st, &why), -1);
	/* unterminated: drop the final NUL and the value's */
	n = startup_body(b, dup, 2);
	assert_int_equal(pg_startup_parse(b, n - 2, &st, &why), -1);
	/* a key without a value */
	memcpy(b + 4, "user\0", 5);
	assert_int_equal(pg_startup_parse(b, 9, &st, &why), -1);
	/* unknown protocol 2.0 */
	put32(b, 0x00020000);
	assert_int_equal(pg_startup_parse(b, 4, &st, &why), -1);
	/* cancel request of the wrong size */
	put32(b, PG_CANCEL_CODE);
	assert_int_equal(pg_startup_parse(b, 8, &st, &why), -1);
	assert_int_equal(pg_startup_parse(b, 12, &st, &why), 0);
	/* SSLRequest with a body */
	put32(b, PG_SSL_CODE);
	assert_int_equal(pg_startup_parse(b, 8, &st, &why), -1);
	/* truncated code */
	assert_int_equal(pg_startup_parse(b, 3, &st, &why), -1);
}

static void test_error_builder(void **state)
{
	struct pg_buf b;
	struct pg_frame f;
	const char *why;

	pg_buf_init(&b);
	pg_build_error(&b, 'E', "ERROR", "42501", "denied by rule x", NULL,
		       "ask");
	assert_int_equal(pg_frame_typed(b.data, b.len, 1024, &f, &why),
			 PG_FRAME_OK);
	assert_int_equal(f.total, b.len);
	assert_string_equal(pg_error_field(f.body, f.body_len, 'C'), "42501");
	assert_string_equal(pg_error_field(f.body, f.body_len, 'M'),
			    "denied by rule x");
	assert_string_equal(pg_error_field(f.body, f.body_len, 'H'), "ask");
	assert_null(pg_error_field(f.body, f.body_len, 'D'));
	/* a field list cut short is not read past its end */
	assert_null(pg_error_field(f.body, 3, 'M'));
	pg_buf_free(&b);
}

static void test_reader_bounds(void **state)
{
	static const uint8_t b[] = {0, 1, 'a', 'b'};
	struct pg_reader r;

	pg_reader_init(&r, b, sizeof(b));
	assert_int_equal(pg_get_i16(&r), 1);
	assert_null(pg_get_str(&r, NULL)); /* no NUL */
	assert_true(r.bad);
	pg_reader_init(&r, b, sizeof(b));
	assert_null(pg_get_bytes(&r, 5));
	assert_int_equal(pg_get_i32(&r), 0);
	assert_true(r.bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_typed_lengths),
		cmocka_unit_test(test_typed_split_reads),
		cmocka_unit_test(test_pipeline_of_hundreds),
		cmocka_unit_test(test_startup_lengths),
		cmocka_unit_test(test_startup_parse),
		cmocka_unit_test(test_startup_malformed),
		cmocka_unit_test(test_error_builder),
		cmocka_unit_test(test_reader_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
