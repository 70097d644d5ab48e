/*
 * Masking rebuilds: DataRow values changed by the masker are re-framed
 * with correct lengths, NULL stays NULL, untouched rows are not rebuilt,
 * and malformed rows are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pg_rows.h"

static int mask_ssn(void *ud, const char *column, const char *in, size_t len,
		    const char **out, size_t *outlen, int *changed)
{
	*out = in;
	*outlen = len;
	*changed = 0;
	if (column && strcmp(column, "ssn") == 0) {
		*out = "[masked]";
		*outlen = 8;
		*changed = 1;
	} else if (len == 4 && memcmp(in, "4111", 4) == 0) {
		*out = "****";
		*changed = 1;
	}
	return 0;
}

static void rowdesc(struct pg_buf *b, const char *const *names, int n)
{
	int i;

	pg_buf_i16(b, (int16_t)n);
	for (i = 0; i < n; i++) {
		pg_buf_str(b, names[i]);
		pg_buf_i32(b, 16384); /* table oid */
		pg_buf_i16(b, (int16_t)(i + 1));
		pg_buf_i32(b, 25); /* text */
		pg_buf_i16(b, -1);
		pg_buf_i32(b, -1);
		pg_buf_i16(b, 0);
	}
}

static void test_rowdesc_and_mask(void **state)
{
	static const char *const names[] = {"id", "ssn", "note"};
	struct pg_rowdesc rd;
	struct pg_buf b, row, out;
	struct pg_frame f;
	const char *why = NULL;
	int changed = 0;

	pg_buf_init(&b);
	pg_buf_init(&row);
	pg_buf_init(&out);
	rowdesc(&b, names, 3);
	assert_int_equal(pg_rowdesc_parse(&rd, b.data, b.len, &why), 0);
	assert_int_equal(rd.n, 3);
	assert_string_equal(rd.cols[1].name, "ssn");
	/* id=7, ssn='123-45-6789', note=NULL */
	pg_buf_i16(&row, 3);
	pg_buf_i32(&row, 1);
	pg_buf_add(&row, "7", 1);
	pg_buf_i32(&row, 11);
	pg_buf_add(&row, "123-45-6789", 11);
	pg_buf_i32(&row, -1);
	assert_int_equal(pg_datarow_mask(&rd, row.data, row.len, mask_ssn,
					 NULL, &out, &changed, &why),
			 0);
	assert_true(changed);
	assert_int_equal(pg_frame_typed(out.data, out.len, 1024, &f, &why),
			 PG_FRAME_OK);
	assert_int_equal(f.type, 'D');
	assert_int_equal(f.total, out.len);
	/* 2 + (4+1) + (4+8) + 4 */
	assert_int_equal(f.body_len, 23);
	assert_memory_equal(f.body + 11, "[masked]", 8);
	assert_memory_equal(f.body + 19, "\xff\xff\xff\xff", 4);
	/* without a matching RowDescription: detectors only */
	assert_int_equal(pg_datarow_mask(NULL, row.data, row.len, mask_ssn,
					 NULL, &out, &changed, &why),
			 0);
	assert_false(changed);
	pg_rowdesc_free(&rd);
	pg_buf_free(&b);
	pg_buf_free(&row);
	pg_buf_free(&out);
}

static void test_malformed_rows(void **state)
{
	struct pg_buf row, out;
	const char *why = NULL;
	int changed;
	static const uint8_t lies[] = {0, 1, 0x7f, 0xff, 0xff, 0xff, 'a'};
	static const uint8_t neg[] = {0, 1, 0xff, 0xff, 0xff, 0xfe};
	static const uint8_t extra[] = {0, 0, 'x'};
	static const uint8_t negcount[] = {0xff, 0xff};
	struct pg_rowdesc rd;
	static const uint8_t rdlie[] = {0x7f, 0xff, 'a', 0};

	pg_buf_init(&row);
	pg_buf_init(&out);
	assert_int_equal(pg_datarow_mask(NULL, lies, sizeof(lies), mask_ssn,
					 NULL, &out, &changed, &why),
			 -1);
	assert_int_equal(pg_datarow_mask(NULL, neg, sizeof(neg), mask_ssn,
					 NULL, &out, &changed, &why),
			 -1);
	assert_int_equal(pg_datarow_mask(NULL, extra, sizeof(extra), mask_ssn,
					 NULL, &out, &changed, &why),
			 -1);
	assert_int_equal(pg_datarow_mask(NULL, negcount, 2, mask_ssn, NULL,
					 &out, &changed, &why),
			 -1);
	assert_int_equal(pg_datarow_mask(NULL, negcount, 1, mask_ssn, NULL,
					 &out, &changed, &why),
			 -1);
	assert_int_equal(pg_rowdesc_parse(&rd, rdlie, sizeof(rdlie), &why),
			 -1);
	pg_buf_free(&row);
	pg_buf_free(&out);
}

static void test_text_messages(void **state)
{
	struct pg_buf in, out;
	struct pg_frame f;
	const char *why = NULL;
	int changed;

	pg_buf_init(&in);
	pg_buf_init(&out);
	/* NotificationResponse: pid, channel, payload */
	pg_buf_i32(&in, 42);
	pg_buf_str(&in, "ch");
	pg_buf_str(&in, "4111");
	assert_int_equal(pg_text_msg_mask('A', in.data, in.len, mask_ssn, NULL,
					  &out, &changed, &why),
			 0);
	assert_true(changed);
	assert_int_equal(pg_frame_typed(out.data, out.len, 1024, &f, &why),
			 PG_FRAME_OK);
	assert_memory_equal(f.body + 7, "****", 5);
	/* NoticeResponse: the SQLSTATE is kept, the message masked */
	pg_buf_reset(&in);
	pg_build_error(&in, 'N', "NOTICE", "4111", "4111", NULL, NULL);
	assert_int_equal(pg_text_msg_mask('N', in.data + 5, in.len - 5,
					  mask_ssn, NULL, &out, &changed, &why),
			 0);
	assert_true(changed);
	assert_int_equal(pg_frame_typed(out.data, out.len, 1024, &f, &why),
			 PG_FRAME_OK);
	assert_string_equal(pg_error_field(f.body, f.body_len, 'C'), "4111");
	assert_string_equal(pg_error_field(f.body, f.body_len, 'M'), "****");
	/* truncated */
	assert_int_equal(pg_text_msg_mask('S', (const uint8_t *)"a", 1,
					  mask_ssn, NULL, &out, &changed, &why),
			 -1);
	pg_buf_free(&in);
	pg_buf_free(&out);
}

/* One DataRow of the catalog query: oid, attnum, schema, table, column. */
static void catalog_row(struct pg_buf *b, const char *const v[5])
{
	pg_buf_reset(b);
	pg_buf_i16(b, 5);
	for (int i = 0; i < 5; i++) {
		pg_buf_i32(b, (int32_t)strlen(v[i]));
		pg_buf_add(b, v[i], strlen(v[i]));
	}
}

/* Leave freed blocks of every small size full of 'Z'. */
static void dirty_heap(void)
{
	void *p[64];

	for (size_t sz = 1; sz < 64; sz++) {
		p[sz] = malloc(sz);
		assert_non_null(p[sz]);
		memset(p[sz], 'Z', sz);
	}
	for (size_t sz = 63; sz >= 1; sz--)
		free(p[sz]);
}

/*
 * The catalog's names are exactly "schema.table.column", whatever the
 * memory they are built in held before.  The heap is dirtied first (a
 * block of every size the name could take, filled and freed) so a name
 * missing its terminator shows here every time, not in some sessions.
 */
static void test_catalog_names(void **state)
{
	static const char *const tier[5] = {"1234567890", "4", "public",
					    "people", "tier"};
	static const char *const ssn[5] = {"16384", "2", "public", "people",
					   "ssn"};
	static const char *const bad[5] = {"16384x", "2", "public", "people",
					   "ssn"};
	struct pg_catalog c;
	struct pg_buf b;

	memset(&c, 0, sizeof(c));
	pg_buf_init(&b);
	catalog_row(&b, tier);
	dirty_heap();
	assert_int_equal(pg_catalog_row(&c, b.data, b.len), 0);
	catalog_row(&b, ssn);
	dirty_heap();
	assert_int_equal(pg_catalog_row(&c, b.data, b.len), 0);
	catalog_row(&b, bad);
	assert_int_equal(pg_catalog_row(&c, b.data, b.len), -1);
	pg_catalog_done(&c);
	assert_string_equal(pg_catalog_find(&c, 1234567890U, 4),
			    "public.people.tier");
	assert_string_equal(pg_catalog_find(&c, 16384, 2),
			    "public.people.ssn");
	assert_null(pg_catalog_find(&c, 16384, 3));
	pg_catalog_free(&c);
	pg_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rowdesc_and_mask),
		cmocka_unit_test(test_malformed_rows),
		cmocka_unit_test(test_text_messages),
		cmocka_unit_test(test_catalog_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
