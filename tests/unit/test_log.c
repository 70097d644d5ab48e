/*
 * Log lines: every line has ts, level, id, plugin, session and msg; values
 * are quoted and escaped so a line stays one line; secret fields never
 * appear.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* 2024-01-02T03:04:05.678Z */
#define TS 1704164645678LL

static void test_logfmt_line(void **state)
{
	char buf[1024];
	struct log_field f[] = {{"peer", "127.0.0.1:5000", 0},
				{"user", "alice smith", 0}};

	log_format_line(buf, sizeof(buf), LOG_LOGFMT, TS, JG_LOG_INFO,
			"JG0101", "tcp", "s-0011223344556677", "session opened",
			f, 2);
	assert_string_equal(buf,
			    "ts=2024-01-02T03:04:05.678Z level=info id=JG0101 "
			    "plugin=tcp session=s-0011223344556677 "
			    "msg=\"session opened\" peer=127.0.0.1:5000 "
			    "user=\"alice smith\"\n");
}

static void test_logfmt_escapes_stay_one_line(void **state)
{
	char buf[1024];
	struct log_field f[] = {{"q", "a\"b\\c\nd=e", 0}, {"empty", "", 0}};

	log_format_line(buf, sizeof(buf), LOG_LOGFMT, TS, JG_LOG_WARN, "X1",
			NULL, NULL, "m", f, 2);
	assert_non_null(strstr(buf, "q=\"a\\\"b\\\\c\\nd=e\""));
	assert_non_null(strstr(buf, "empty=\"\""));
	assert_non_null(strstr(buf, "plugin=core session=-"));
	assert_ptr_equal(strchr(buf, '\n'), buf + strlen(buf) - 1);
}

static void test_json_line(void **state)
{
	char buf[1024];
	struct log_field f[] = {{"path", "/v1/\"x\"\t", 0}};

	log_format_line(buf, sizeof(buf), LOG_JSON, TS, JG_LOG_ERROR, "JG0005",
			"core", "s-1", "bad\x01thing", f, 1);
	assert_string_equal(
		buf, "{\"ts\":\"2024-01-02T03:04:05.678Z\",\"level\":\"error\","
		     "\"id\":\"JG0005\",\"plugin\":\"core\",\"session\":\"s-1\","
		     "\"msg\":\"bad\\u0001thing\",\"path\":\"/v1/\\\"x\\\"\\t\"}\n");
}

static void test_secret_fields_never_written(void **state)
{
	char buf[1024];
	struct log_field f[] = {{"user", "bob", 0},
				{"password", "hunter2-very-secret", 1},
				{"token", "eyJhbGciOi.secret.sig", 1}};

	for (int fmt = LOG_LOGFMT; fmt <= LOG_JSON; fmt++) {
		log_format_line(buf, sizeof(buf), fmt, TS, JG_LOG_INFO, "T1",
				"p", "s", "login", f, 3);
		assert_null(strstr(buf, "hunter2"));
		assert_null(strstr(buf, "eyJhbGciOi"));
		assert_non_null(strstr(buf, "[redacted]"));
		assert_non_null(strstr(buf, "bob"));
	}
}

static void test_truncation_keeps_line_shape(void **state)
{
	char buf[128];
	char big[1000];
	size_t n;

	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	n = log_format_line(buf, sizeof(buf), LOG_LOGFMT, TS, JG_LOG_INFO,
			    "T2", NULL, NULL, big, NULL, 0);
	assert_true(n < sizeof(buf));
	assert_int_equal(strlen(buf), n);
	assert_int_equal(buf[n - 1], '\n');
	assert_memory_equal(buf + n - 4, "...\n", 4);
}

static void test_levels_filter_and_write(void **state)
{
	int fds[2];
	char out[4096];
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	log_set_fd(fds[1]);
	log_setup(LOG_LOGFMT, JG_LOG_WARN);
	log_msg(JG_LOG_INFO, "T3", NULL, NULL, "hidden");
	log_msg(JG_LOG_ERROR, "T4", "x", "s-2", "shown %d", 42);
	close(fds[1]);
	n = read(fds[0], out, sizeof(out) - 1);
	close(fds[0]);
	log_set_fd(2);
	assert_true(n > 0);
	out[n] = '\0';
	assert_null(strstr(out, "hidden"));
	assert_non_null(strstr(out, "id=T4 plugin=x session=s-2 "
				    "msg=\"shown 42\""));
	assert_int_equal(log_parse_level("debug"), JG_LOG_DEBUG);
	assert_int_equal(log_parse_level("loud"), -1);
	assert_int_equal(log_parse_format("json"), LOG_JSON);
	assert_int_equal(log_parse_format("xml"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_logfmt_line),
		cmocka_unit_test(test_logfmt_escapes_stay_one_line),
		cmocka_unit_test(test_json_line),
		cmocka_unit_test(test_secret_fields_never_written),
		cmocka_unit_test(test_truncation_keeps_line_shape),
		cmocka_unit_test(test_levels_filter_and_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
