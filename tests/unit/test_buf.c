/*
 * Stream buffers: the input cap that makes backpressure, and the output
 * water marks that make JG_AGAIN / on_drained.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

static void test_ibuf_stops_at_max(void **state)
{
	struct ibuf b;
	uint8_t *p;
	size_t room, total = 0;

	ibuf_init(&b, 100000);
	/* A consumer that never consumes: the buffer fills to max, then
	 * offers no room at all (the stream stops reading). */
	while ((room = ibuf_space(&b, 4096, &p)) > 0) {
		memset(p, 'x', room);
		ibuf_commit(&b, room);
		total += room;
		assert_true(total <= 100000);
	}
	assert_int_equal(total, 100000);
	assert_true(ibuf_full(&b));
	/* Consuming makes room again, and keeps the bytes in order. */
	ibuf_consume(&b, 1000);
	assert_false(ibuf_full(&b));
	room = ibuf_space(&b, 4096, &p);
	assert_int_equal(room, 1000);
	ibuf_free(&b);
}

static void test_ibuf_keeps_order_across_compaction(void **state)
{
	struct ibuf b;
	uint8_t *p;
	const uint8_t *q;
	char expect[64];

	ibuf_init(&b, 64);
	for (int round = 0; round < 50; round++) {
		size_t room = ibuf_space(&b, 10, &p);
		assert_true(room >= 10);
		for (int i = 0; i < 10; i++)
			p[i] = (uint8_t)('a' + (round * 10 + i) % 26);
		ibuf_commit(&b, 10);
		ibuf_consume(&b, 7); /* leave 3 behind each round */
		if (ibuf_len(&b) > 40)
			ibuf_consume(&b, ibuf_len(&b) - 3);
	}
	size_t n = ibuf_peek(&b, &q);
	assert_true(n > 0 && n <= 64);
	/* The last byte written is the last byte held. */
	int last = (49 * 10 + 9) % 26;
	assert_int_equal(q[n - 1], 'a' + last);
	(void)expect;
	ibuf_free(&b);
}

static void test_ibuf_consume_more_than_held(void **state)
{
	struct ibuf b;
	uint8_t *p;

	ibuf_init(&b, 1024);
	ibuf_space(&b, 10, &p);
	memcpy(p, "0123456789", 10);
	ibuf_commit(&b, 10);
	ibuf_consume(&b, 1000);
	assert_int_equal(ibuf_len(&b), 0);
	ibuf_free(&b);
}

static void test_oq_water_marks(void **state)
{
	struct oqueue q;
	uint8_t chunk[1000];
	const uint8_t *p;
	int rc = 0, writes = 0;

	memset(chunk, 'y', sizeof(chunk));
	oq_init(&q, 10000, 2500);
	/* Below the high mark writes are fine; reaching it says wait. */
	while ((rc = oq_append(&q, chunk, sizeof(chunk))) == 0)
		writes++;
	assert_int_equal(rc, 1);
	assert_int_equal(writes, 9);
	assert_int_equal(q.pending, 10000);
	/* Draining to just above low: no on_drained yet. */
	oq_consume(&q, 7000);
	assert_false(oq_drained(&q));
	oq_consume(&q, 500);
	assert_true(oq_drained(&q));
	/* Only once. */
	assert_false(oq_drained(&q));
	size_t n = oq_peek(&q, &p);
	assert_true(n > 0);
	assert_int_equal(p[0], 'y');
	oq_free(&q);
}

static void test_oq_keeps_bytes_in_order(void **state)
{
	struct oqueue q;
	const uint8_t *p;
	char got[100000];
	size_t off = 0, n;

	oq_init(&q, 1 << 20, 1 << 18);
	for (int i = 0; i < 1000; i++) {
		char piece[100];
		for (int k = 0; k < 100; k++)
			piece[k] = (char)((i * 100 + k) % 251);
		assert_int_equal(oq_append(&q, piece, sizeof(piece)), 0);
	}
	while ((n = oq_peek(&q, &p)) > 0) {
		size_t k = n > 777 ? 777 : n;
		memcpy(got + off, p, k);
		off += k;
		oq_consume(&q, k);
	}
	assert_int_equal(off, 100000);
	for (size_t i = 0; i < off; i++)
		assert_int_equal((uint8_t)got[i], i % 251);
	assert_int_equal(q.pending, 0);
	oq_free(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ibuf_stops_at_max),
		cmocka_unit_test(test_ibuf_keeps_order_across_compaction),
		cmocka_unit_test(test_ibuf_consume_more_than_held),
		cmocka_unit_test(test_oq_water_marks),
		cmocka_unit_test(test_oq_keeps_bytes_in_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
