/*
 * The admin API's request parser: whole, split anywhere, malformed and
 * oversized requests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "admin.h"

static const char post[] =
	"POST /v1/grants?connection=db&ttl=15m HTTP/1.1\r\n"
	"Host: gw\r\n"
	"Authorization: Bearer abc.def.ghi\r\n"
	"Content-Type: application/json\r\n"
	"Content-Length: 17\r\n"
	"\r\n"
	"{\"purpose\":\"fix\"}";

static void check_post(struct admin_parser *p)
{
	size_t len;
	const char *body = admin_parser_body(p, &len);

	assert_string_equal(admin_parser_method(p), "POST");
	assert_string_equal(admin_parser_path(p), "/v1/grants");
	assert_string_equal(admin_parser_query(p), "connection=db&ttl=15m");
	assert_string_equal(admin_parser_authorization(p),
			    "Bearer abc.def.ghi");
	assert_int_equal(len, 17);
	assert_memory_equal(body, "{\"purpose\":\"fix\"}", 17);
}

static void test_whole_request(void **state)
{
	struct admin_parser *p = admin_parser_new();

	assert_int_equal(admin_parser_feed(p, post, strlen(post)), 1);
	check_post(p);
	admin_parser_free(p);
}

static void test_split_at_every_byte(void **state)
{
	/* Every split point, and byte by byte. */
	for (size_t cut = 1; cut < strlen(post); cut++) {
		struct admin_parser *p = admin_parser_new();
		assert_int_equal(admin_parser_feed(p, post, cut), 0);
		assert_int_equal(
			admin_parser_feed(p, post + cut, strlen(post) - cut),
			1);
		check_post(p);
		admin_parser_free(p);
	}
	struct admin_parser *p = admin_parser_new();
	int rc = 0;
	for (size_t i = 0; i < strlen(post); i++)
		rc = admin_parser_feed(p, post + i, 1);
	assert_int_equal(rc, 1);
	check_post(p);
	admin_parser_free(p);
}

static void test_get_without_query(void **state)
{
	struct admin_parser *p = admin_parser_new();
	const char req[] = "GET /healthz HTTP/1.0\r\n\r\n";
	size_t len;

	assert_int_equal(admin_parser_feed(p, req, strlen(req)), 1);
	assert_string_equal(admin_parser_path(p), "/healthz");
	assert_string_equal(admin_parser_query(p), "");
	assert_null(admin_parser_authorization(p));
	admin_parser_body(p, &len);
	assert_int_equal(len, 0);
	admin_parser_free(p);
}

static void refused(const char *req, size_t len, int status)
{
	struct admin_parser *p = admin_parser_new();

	assert_int_equal(admin_parser_feed(p, req, len), -1);
	assert_int_equal(admin_parser_status(p), status);
	admin_parser_free(p);
}

static void test_malformed(void **state)
{
	const char *bad[] = {
		"GARBAGE\r\n\r\n",
		"GET /x HTTP/9.9.9\r\n\r\n",
		"GET http://evil/x HTTP/1.1\r\n\r\n",
		"GET /x HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
		"GET /x HTTP/1.1\r\nAuthorization: a\r\nAuthorization: b\r\n\r\n",
		"GET /x HTTP/1.1\r\nBad Header\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i], strlen(bad[i]), 400);
}

static void test_oversized(void **state)
{
	size_t n = 20000;
	char *req = malloc(n + 200);
	int k;

	/* URL over 8 KiB */
	k = sprintf(req, "GET /");
	memset(req + k, 'a', 9000);
	strcpy(req + k + 9000, " HTTP/1.1\r\n\r\n");
	refused(req, strlen(req), 414);
	/* Headers over 16 KiB */
	k = sprintf(req, "GET / HTTP/1.1\r\nX-Pad: ");
	memset(req + k, 'b', n);
	strcpy(req + k + n, "\r\n\r\n");
	refused(req, strlen(req), 431);
	/* Declared body over 1 MiB: refused before it is read */
	strcpy(req, "POST /v1/x HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n");
	refused(req, strlen(req), 413);
	free(req);
}

static void test_chunked_body_limit(void **state)
{
	struct admin_parser *p = admin_parser_new();
	const char head[] =
		"POST /v1/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
	char chunk[70000];
	int rc = 0;

	assert_int_equal(admin_parser_feed(p, head, strlen(head)), 0);
	/* 64 KiB chunks until the 1 MiB cap trips. */
	int k = sprintf(chunk, "10000\r\n");
	memset(chunk + k, 'c', 0x10000);
	memcpy(chunk + k + 0x10000, "\r\n", 2);
	for (int i = 0; i < 40 && rc == 0; i++)
		rc = admin_parser_feed(p, chunk, (size_t)k + 0x10000 + 2);
	assert_int_equal(rc, -1);
	assert_int_equal(admin_parser_status(p), 413);
	admin_parser_free(p);
}

static void test_pipelined_rest_ignored(void **state)
{
	struct admin_parser *p = admin_parser_new();
	const char two[] = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n";

	assert_int_equal(admin_parser_feed(p, two, strlen(two)), 1);
	assert_string_equal(admin_parser_path(p), "/a");
	admin_parser_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_request),
		cmocka_unit_test(test_split_at_every_byte),
		cmocka_unit_test(test_get_without_query),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_chunked_body_limit),
		cmocka_unit_test(test_pipelined_rest_ignored),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
