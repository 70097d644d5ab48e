/*
 * The record chain: a sealed record verifies; deleting, changing,
 * reordering or forging an event, or cutting the tail, is detected and
 * the event named.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "record_chain.h"

#define KEY "0123456789abcdef0123456789abcdef"
#define N 6

static char *ev[N];

/* connect, decision, statement x2, disconnect, seal */
static void build(void)
{
	struct rec_chain c;
	const char *types[N] = {"connect",   "decision",   "statement",
				"statement", "disconnect", "seal"};
	rec_chain_init(&c, KEY, strlen(KEY));
	for (int i = 0; i < N; i++) {
		struct json_object *f = json_object_new_object();
		if (i == 5)
			json_object_object_add(f, "count",
					       json_object_new_int(5));
		else
			json_object_object_add(
				f, "text",
				json_object_new_string(i == 2 ? "SELECT \"1\"\n\t/é"
							      : "x"));
		ev[i] = rec_chain_event(&c, "s-0001", types[i],
					1700000000000LL + i, f);
		json_object_put(f);
		assert_non_null(ev[i]);
	}
}

static int setup(void **state)
{
	(void)state;
	build();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < N; i++)
		free(ev[i]);
	return 0;
}

static int verify(const char **v, size_t n, const char *key,
		  struct rec_verify *out)
{
	return rec_verify(v, n, key, key ? strlen(key) : 0, out);
}

static void test_sealed_verifies(void **state)
{
	struct rec_verify r;
	(void)state;
	assert_int_equal(verify((const char **)ev, N, KEY, &r), REC_SEALED);
	assert_int_equal(r.count, N);
	assert_true(r.authenticated);
	/* the event text is the documented shape */
	assert_non_null(strstr(ev[0], "{\"seq\":0,\"ts\":\"2023-11-14T22:13:20.000Z\""));
	assert_non_null(strstr(ev[1], "\"prev\":\""));
	assert_null(strchr(ev[2], '\n'));
}

static void test_delete_detected(void **state)
{
	const char *v[N - 1];
	struct rec_verify r;
	(void)state;
	for (int i = 0, j = 0; i < N; i++)
		if (i != 2)
			v[j++] = ev[i];
	assert_int_equal(verify(v, N - 1, KEY, &r), REC_BROKEN);
	assert_int_equal(r.index, 2);
	assert_non_null(strstr(r.why, "event 2"));
}

static void test_reorder_detected(void **state)
{
	const char *v[N];
	struct rec_verify r;
	(void)state;
	memcpy(v, ev, sizeof(v));
	v[2] = ev[3];
	v[3] = ev[2];
	assert_int_equal(verify(v, N, KEY, &r), REC_BROKEN);
	assert_int_equal(r.index, 2);
}

static void test_change_detected(void **state)
{
	const char *v[N];
	struct rec_verify r;
	char *bad = strdup(ev[3]);
	(void)state;
	char *x = strstr(bad, "\"text\":\"x\"");
	assert_non_null(x);
	x[8] = 'y';
	memcpy(v, ev, sizeof(v));
	v[3] = bad;
	assert_int_equal(verify(v, N, KEY, &r), REC_BROKEN);
	assert_int_equal(r.index, 3);
	assert_non_null(strstr(r.why, "hash"));
	free(bad);
}

/* Rewriting an event and recomputing its hash and every later link is
 * caught by the HMAC, which needs the key. */
static void test_forgery_detected(void **state)
{
	struct rec_chain c;
	char *forged[N];
	struct rec_verify r;
	(void)state;
	rec_chain_init(&c, "wrong key wrong key wrong key!!", 31);
	for (int i = 0; i < N; i++) {
		struct json_object *f = json_object_new_object();
		if (i == N - 1)
			json_object_object_add(f, "count",
					       json_object_new_int(i));
		forged[i] = rec_chain_event(&c, "s-0001",
					    i == N - 1 ? "seal" : "statement",
					    1, f);
		json_object_put(f);
	}
	assert_int_equal(verify((const char **)forged, N, NULL, &r),
			 REC_SEALED); /* chain alone is consistent */
	assert_int_equal(verify((const char **)forged, N, KEY, &r),
			 REC_BROKEN);
	assert_int_equal(r.index, 0);
	assert_non_null(strstr(r.why, "HMAC"));
	for (int i = 0; i < N; i++)
		free(forged[i]);
}

static void test_truncate_detected(void **state)
{
	struct rec_verify r;
	(void)state;
	/* seal cut off: unsealed, ends at event 4 */
	assert_int_equal(verify((const char **)ev, N - 1, KEY, &r),
			 REC_UNSEALED);
	assert_int_equal(r.index, N - 2);
	/* half an event */
	const char *v[N];
	char half[64];
	memcpy(v, ev, sizeof(v));
	snprintf(half, sizeof(half), "%.40s", ev[4]);
	v[4] = half;
	assert_int_equal(verify(v, 5, KEY, &r), REC_BROKEN);
	assert_int_equal(r.index, 4);
}

static void test_after_seal_and_foreign(void **state)
{
	const char *v[N + 1];
	struct rec_verify r;
	(void)state;
	memcpy(v, ev, sizeof(ev));
	v[N] = ev[1];
	assert_int_equal(verify(v, N + 1, KEY, &r), REC_BROKEN);
	assert_int_equal(r.index, N);

	/* an event from another session spliced in */
	struct rec_chain c;
	rec_chain_init(&c, KEY, strlen(KEY));
	char *a = rec_chain_event(&c, "s-0001", "connect", 1, NULL);
	char *b = rec_chain_event(&c, "s-0002", "statement", 2, NULL);
	const char *w[2] = {a, b};
	assert_int_equal(verify(w, 2, KEY, &r), REC_BROKEN);
	assert_int_equal(r.index, 1);
	free(a);
	free(b);
}

static void test_canonical_stable(void **state)
{
	(void)state;
	/* Re-serialising a parsed event gives the same bytes, even after a
	 * store re-encodes it with other escapes. */
	for (int i = 0; i < N; i++) {
		struct json_object *o = json_tokener_parse(ev[i]);
		char *c = rec_canonical(o, 0);
		assert_string_equal(c, ev[i]);
		free(c);
		json_object_put(o);
	}
	struct json_object *o = json_tokener_parse("{\"a\":\"\\u0041\\/\\u00e9\"}");
	char *c = rec_canonical(o, 0);
	assert_string_equal(c, "{\"a\":\"A/\xc3\xa9\"}");
	free(c);
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sealed_verifies),
		cmocka_unit_test(test_delete_detected),
		cmocka_unit_test(test_reorder_detected),
		cmocka_unit_test(test_change_detected),
		cmocka_unit_test(test_forgery_detected),
		cmocka_unit_test(test_truncate_detected),
		cmocka_unit_test(test_after_seal_and_foreign),
		cmocka_unit_test(test_canonical_stable),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
