/*
 * COPY ... TO STDOUT under masking (pg_copy.c, pg_copy_rows.c): what a
 * statement says about its columns and format, text escapes and CSV
 * quotes split as PostgreSQL splits them, masked fields written back in
 * the same format while the others keep their bytes, rows held back
 * across CopyData messages cut at every byte, and the refusals.  Also
 * DataRow values that masking turns into NULL (pg_datarow_mask_values).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pg_copy.h"

/* ---- a masker: a rule for *ssn columns, a "detector" for 4111 ---- */

static char outs[64][256];
static int calls;

static int fake_mask(void *ud, struct jg_mask_item *v, size_t n)
{
	(void)ud;
	calls++;
	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++) {
		const char *in = v[i].in ? v[i].in : "";
		size_t len = v[i].len, cl;
		const char *hit;
		char *o = outs[i];

		v[i].status = JG_OK;
		v[i].changed = 0;
		v[i].out = in;
		v[i].outlen = len;
		cl = v[i].column ? strlen(v[i].column) : 0;
		if (cl >= 3 && !strcmp(v[i].column + cl - 3, "ssn")) {
			v[i].out = "[M]";
			v[i].outlen = 3;
			v[i].changed = 1;
			continue;
		}
		if (len == 6 && !memcmp(in, "NULLME", 6)) {
			v[i].status = JG_MASK_NULL;
			v[i].changed = 1;
			v[i].out = NULL;
			v[i].outlen = 0;
			continue;
		}
		assert_true(len < sizeof(outs[i]));
		memcpy(o, in, len);
		o[len] = 0;
		hit = memmem(o, len, "4111", 4);
		if (!hit)
			continue;
		/* a replacement with every byte the writers must escape */
		memcpy(o + (hit - o), "\t\"\\,", 4);
		v[i].out = o;
		v[i].changed = 1;
	}
	return 0;
}

static int failing_mask(void *ud, struct jg_mask_item *v, size_t n)
{
	(void)ud;
	(void)v;
	(void)n;
	return -1;
}

static struct pg_copy_spec *spec_of(const char *sql)
{
	struct pg_copy_spec *s = NULL;

	assert_int_equal(pg_copy_specs(sql, &s), 0);
	assert_non_null(s);
	return s;
}

/* The catalog the row tests name their columns from: public.t. */
static struct pg_colname t_cols[] = {
	{16400, 1, "public.t.id"}, {16400, 2, "public.t.ssn"},
	{16400, 3, "public.t.note"}, {16400, 4, "public.t.a"},
	{16400, 5, "public.t.b"},
};
static const struct pg_catalog t_cat = {t_cols, 5, 5, 0, 0};

/* A spec with names for its columns "public.t.<col>". */
static struct pg_copy_spec *named_spec(const char *sql)
{
	struct pg_copy_spec *s = spec_of(sql);

	assert_int_equal(pg_copy_name(s, &t_cat), 0);
	return s;
}

/* Feed stream in pieces cut at the given points; return the output. */
static char *feed(struct pg_copy_spec *spec, uint16_t ncols,
		  const char *stream, size_t len, const size_t *cuts,
		  size_t ncuts, int *rc)
{
	struct pg_copy_out co;
	const char *why = NULL;
	size_t at = 0, total = 0;
	char *all = calloc(1, len * 4 + 64);
	int same;

	assert_non_null(all);
	assert_int_equal(pg_copy_out_begin(&co, spec, ncols), 0);
	*rc = 0;
	for (size_t k = 0; k <= ncuts && !*rc; k++) {
		size_t end = k < ncuts ? cuts[k] : len;
		*rc = pg_copy_out_data(&co, (const uint8_t *)stream + at,
				       end - at, fake_mask, NULL, &same, &why);
		if (*rc)
			break;
		if (same) {
			assert_int_equal(co.out.len, end - at);
		}
		memcpy(all + total, co.out.data ? (char *)co.out.data : "",
		       co.out.len);
		total += co.out.len;
		at = end;
	}
	if (!*rc) {
		*rc = pg_copy_out_done(&co, fake_mask, NULL, &why);
		if (!*rc) {
			memcpy(all + total,
			       co.out.data ? (char *)co.out.data : "",
			       co.out.len);
			total += co.out.len;
		}
	}
	all[total] = 0;
	pg_copy_out_free(&co);
	return all;
}

/* The output of stream in one piece, and cut in two at every byte, and
 * one byte at a time: all the same. */
static void check_stream(const char *sql, uint16_t ncols, const char *stream,
			 const char *want)
{
	struct pg_copy_spec *spec = named_spec(sql);
	size_t len = strlen(stream);
	size_t *cuts = calloc(len + 1, sizeof(*cuts));
	char *got;
	int rc;

	got = feed(spec, ncols, stream, len, NULL, 0, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(got, want);
	free(got);
	for (size_t c = 0; c <= len; c++) {
		got = feed(spec, ncols, stream, len, &c, 1, &rc);
		assert_int_equal(rc, 0);
		assert_string_equal(got, want);
		free(got);
	}
	for (size_t c = 0; c < len; c++)
		cuts[c] = c + 1;
	got = feed(spec, ncols, stream, len, cuts, len ? len - 1 : 0, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(got, want);
	free(got);
	free(cuts);
	pg_copy_spec_free(spec);
}

/* ---- statements ---- */

static void test_statements(void **state)
{
	struct pg_copy_spec *s = NULL, *t;

	(void)state;
	s = spec_of("COPY people TO STDOUT");
	assert_string_equal(s->table, "people"); /* schema: the catalog's */
	assert_false(s->qualified);
	assert_false(s->fmt.csv);
	assert_int_equal(s->fmt.delim, '\t');
	assert_string_equal(s->fmt.null, "\\N");
	assert_int_equal(s->ncols, 0);
	pg_copy_spec_free(s);

	s = spec_of("select 1; copy hr.staff (Name, \"SSN\") to stdout with "
		    "csv header delimiter ';' null 'none' quote '''' "
		    "escape '\\'; copy t from stdin; copy t to '/tmp/x'; "
		    "COPY (select 1) TO STDOUT (FORMAT binary)");
	assert_true(s->fmt.csv);
	assert_true(s->fmt.header);
	assert_int_equal(s->fmt.delim, ';');
	assert_int_equal(s->fmt.quote, '\'');
	assert_int_equal(s->fmt.escape, '\\');
	assert_string_equal(s->fmt.null, "none");
	assert_string_equal(s->table, "hr.staff");
	assert_true(s->qualified);
	assert_int_equal(s->ncols, 2);
	assert_string_equal(s->cols[0], "name");
	assert_string_equal(s->cols[1], "SSN");
	/* no catalog: nothing is named, not even a column list */
	assert_int_equal(pg_copy_name(s, NULL), -1);
	assert_non_null(s->why);
	t = s->next; /* FROM STDIN and TO a file are not rows for the client */
	assert_non_null(t);
	assert_true(t->query);
	assert_true(t->binary);
	assert_null(t->next);
	assert_int_equal(pg_copy_name(t, NULL), -1);
	pg_copy_spec_free(s);

	s = spec_of("copy t to stdout (format csv, header false, "
		    "encoding 'latin1')");
	assert_true(s->fmt.csv);
	assert_false(s->fmt.header);
	assert_true(s->encoding);
	assert_string_equal(s->fmt.null, "");
	assert_int_equal(s->fmt.escape, '"');
	pg_copy_spec_free(s);

	/* no COPY, or no parse */
	assert_int_equal(pg_copy_specs("select 'copy'", &s), 0);
	assert_null(s);
	assert_int_equal(pg_copy_specs("copy to stdout (", &s), -1);
	assert_null(s);
	/* options PostgreSQL itself would refuse: not followed */
	assert_int_equal(pg_copy_specs("copy t to stdout delimiter ';;'", &s),
			 -1);
	assert_true(pg_copy_maybe("x COPY y"));
	assert_false(pg_copy_maybe("select 1"));

	/* read with standard_conforming_strings off, the format is
	 * binary; with it on, text: nothing about the rows is trusted */
	assert_int_equal(
		pg_copy_specs("copy (select '\\', ') to stdout (format "
			      "binary) --') to stdout (format text)",
			      &s),
		-2);
	assert_null(s);
	/* a backslash every reading agrees on */
	assert_int_equal(
		pg_copy_specs("copy t to stdout with (delimiter E'\\t')", &s),
		0);
	assert_non_null(s);
	assert_int_equal(s->fmt.delim, '\t');
	assert_null(s->next);
	pg_copy_spec_free(s);
}

static void test_names_from_catalog(void **state)
{
	struct pg_colname v[] = {
		{16384, 1, "public.people.name"},
		{16384, 2, "public.people.ssn"},
		{16390, 1, "public.peoplex.a"},
		{16400, 1, "public.t.a"},
		{16401, 1, "public.t.a.b"}, /* table "t.a": ambiguous */
	};
	struct pg_catalog cat = {v, 5, 5, 0, 0};
	struct pg_copy_spec *s;

	(void)state;
	s = spec_of("copy people to stdout");
	assert_int_equal(pg_copy_name(s, &cat), 0);
	assert_int_equal(s->nnames, 2);
	assert_string_equal(s->names[0], "public.people.name");
	assert_string_equal(s->names[1], "public.people.ssn");
	pg_copy_spec_free(s);
	s = spec_of("copy t to stdout");
	assert_int_equal(pg_copy_name(s, &cat), -1);
	pg_copy_spec_free(s);
	s = spec_of("copy nothere to stdout");
	assert_int_equal(pg_copy_name(s, &cat), -1);
	pg_copy_spec_free(s);
	/* an incomplete catalog names nothing */
	cat.truncated = 1;
	s = spec_of("copy people to stdout");
	assert_int_equal(pg_copy_name(s, &cat), -1);
	pg_copy_spec_free(s);
}

/* The schema of a bare table name and the listed columns come from the
 * catalog, not from "public": a rule on hr.employees.ssn must see
 * hr.employees.ssn whatever the session's search_path. */
static void test_names_schema_and_columns(void **state)
{
	struct pg_colname v[] = {
		{16384, 1, "hr.employees.id"},
		{16384, 2, "hr.employees.ssn"},
		{16390, 1, "public.notes.body"},
		{16400, 1, "public.dup.a"},
		{16410, 1, "hr.dup.a"},
		{16420, 1, "public.pg_class.relname"},
		{16430, 1, "s.w.c"},
		{16440, 1, "x.y.w.c"}, /* schema "x.y" or table "y.w" */
	};
	struct pg_catalog cat = {v, 8, 8, 0, 0};
	struct pg_copy_spec *s;

	(void)state;
	s = spec_of("copy employees (ssn) to stdout");
	assert_int_equal(pg_copy_name(s, &cat), 0);
	assert_string_equal(s->table, "hr.employees");
	assert_int_equal(s->nnames, 1);
	assert_string_equal(s->names[0], "hr.employees.ssn");
	pg_copy_spec_free(s);
	s = spec_of("copy employees to stdout");
	assert_int_equal(pg_copy_name(s, &cat), 0);
	assert_int_equal(s->nnames, 2);
	assert_string_equal(s->names[1], "hr.employees.ssn");
	pg_copy_spec_free(s);
	/* not public.employees: that table is not in the catalog */
	s = spec_of("copy public.employees (ssn) to stdout");
	assert_int_equal(pg_copy_name(s, &cat), -1);
	assert_non_null(strstr(s->why, "not in the session's catalog"));
	pg_copy_spec_free(s);
	/* a name in two schemas: which one COPY reads is search_path's */
	s = spec_of("copy dup (a) to stdout");
	assert_int_equal(pg_copy_name(s, &cat), -1);
	assert_non_null(strstr(s->why, "schema-qualify"));
	pg_copy_spec_free(s);
	s = spec_of("copy hr.dup (a) to stdout");
	assert_int_equal(pg_copy_name(s, &cat), 0);
	assert_string_equal(s->names[0], "hr.dup.a");
	pg_copy_spec_free(s);
	/* every listed column must be the table's */
	s = spec_of("copy hr.employees (nope) to stdout");
	assert_int_equal(pg_copy_name(s, &cat), -1);
	assert_non_null(strstr(s->why, "column"));
	pg_copy_spec_free(s);
	s = spec_of("copy employees (ssn, \"SSN\") to stdout");
	assert_int_equal(pg_copy_name(s, &cat), -1);
	pg_copy_spec_free(s);
	/* pg_catalog comes first in any search_path */
	s = spec_of("copy pg_class (relname) to stdout");
	assert_int_equal(pg_copy_name(s, &cat), -1);
	pg_copy_spec_free(s);
	s = spec_of("copy public.pg_class (relname) to stdout");
	assert_int_equal(pg_copy_name(s, &cat), 0);
	pg_copy_spec_free(s);
	/* a dot in an identifier: the split is not certain */
	s = spec_of("copy w (c) to stdout");
	assert_int_equal(pg_copy_name(s, &cat), -1);
	pg_copy_spec_free(s);
	s = spec_of("copy s.w (c) to stdout");
	assert_int_equal(pg_copy_name(s, &cat), 0);
	pg_copy_spec_free(s);
	/* no catalog or a failed one */
	cat.failed = 1;
	s = spec_of("copy hr.employees (ssn) to stdout");
	assert_int_equal(pg_copy_name(s, &cat), -1);
	pg_copy_spec_free(s);
}

static void test_other_statements(void **state)
{
	struct pg_copy_spec *s = NULL;
	size_t others = 9;

	(void)state;
	assert_int_equal(pg_copy_specs_n("copy a (x) to stdout; copy b (y) "
					 "to stdout",
					 &s, &others),
			 0);
	assert_int_equal(others, 0);
	assert_non_null(s->next);
	pg_copy_spec_free(s);
	assert_int_equal(pg_copy_specs_n("set client_encoding to 'SJIS'; "
					 "copy a (x) to stdout",
					 &s, &others),
			 0);
	assert_int_equal(others, 1);
	pg_copy_spec_free(s);
	assert_int_equal(pg_copy_specs_n("copy a from stdin; copy a (x) to "
					 "stdout",
					 &s, &others),
			 0);
	assert_int_equal(others, 1);
	pg_copy_spec_free(s);
}

/* The client-only encodings, whose second bytes may be '\\' or the
 * delimiter unescaped; what is not known counts as one of them. */
static void test_encodings(void **state)
{
	static const char *const bad[] = {"SJIS", "sjis", "BIG5", "GBK",
					  "GB18030", "UHC", "JOHAB",
					  "SHIFT_JIS_2004", "", NULL};
	static const char *const good[] = {"UTF8", "SQL_ASCII", "LATIN1",
					   "EUC_JP", "EUC_KR", "WIN1252",
					   "KOI8R"};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_true(pg_copy_encoding_unsafe(bad[i]));
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_false(pg_copy_encoding_unsafe(good[i]));
}

static void test_session_changes(void **state)
{
	(void)state;
	assert_true(pg_copy_ddl_tag("CREATE TABLE"));
	assert_true(pg_copy_ddl_tag("ALTER TABLE"));
	assert_true(pg_copy_ddl_tag("DROP TABLE"));
	assert_true(pg_copy_ddl_tag("DO"));
	assert_false(pg_copy_ddl_tag("SELECT 3"));
	assert_false(pg_copy_ddl_tag("INSERT 0 1"));
	assert_false(pg_copy_ddl_tag("COPY 2"));
	assert_false(pg_copy_ddl_tag("SET"));
	assert_true(pg_copy_sets_search_path("SET search_path = hr"));
	assert_true(pg_copy_sets_search_path(
		"select set_config('SEARCH_PATH', 'hr', false)"));
	assert_true(pg_copy_sets_search_path("set schema 'hr'"));
	assert_true(pg_copy_sets_search_path("SET\n  SCHEMA 'hr'"));
	assert_false(pg_copy_sets_search_path("create schema hr"));
	assert_false(pg_copy_sets_search_path(
		"select * from information_schema.tables"));
	assert_false(pg_copy_sets_search_path("select 1"));
}

/* ---- rows ---- */

static void test_text_rows(void **state)
{
	(void)state;
	/* escapes decoded before masking, written back after; NULL stays;
	 * the untouched fields keep their bytes (\x41 is not rewritten) */
	check_stream("copy t (id, ssn, note) to stdout", 3,
		     "1\t123-45-6789\tcard 4111 x\\ty\\\\z\\x41\n"
		     "2\t\\N\t\\N\n"
		     "3\tabc\tplain \\101\\x4 \\\t\n"
		     "4\t\\N\tNULLME\n",
		     "1\t[M]\tcard \\t\"\\\\, x\\ty\\\\zA\n"
		     "2\t\\N\t\\N\n"
		     "3\t[M]\tplain \\101\\x4 \\\t\n"
		     "4\t\\N\t\\N\n");
	/* a 4111 hidden behind escapes is still found (octal, hex) */
	check_stream("copy t (a) to stdout", 1, "\\064111\n\\x34111\n",
		     "\\t\"\\\\,\n\\t\"\\\\,\n");
	/* \x takes hex digits only: a control byte after it is itself
	 * (a 0x11 read as the digit 1 would eat the 4 of 4111) */
	check_stream("copy t (a) to stdout", 1, "\\x\0214111\n",
		     "x\021\\t\"\\\\,\n");
	/* another delimiter: escaped when a masked value holds it */
	check_stream("copy t (a, b) to stdout delimiter ','", 2,
		     "4111,x\n", "\\t\"\\\\\\,,x\n");
}

static void test_csv_rows(void **state)
{
	(void)state;
	check_stream("copy t (id, ssn, note) to stdout csv header", 3,
		     "id,ssn,note\n"
		     "1,123,\"card 4111, \"\"q\"\"\"\n"
		     "2,,\"\"\n"
		     "3,\"x\ny\",\"multi\nline 4111\"\n"
		     "4,\"\",NULLME\n",
		     "id,ssn,note\n"
		     "1,\"[M]\",\"card \t\"\"\\,, \"\"q\"\"\"\n"
		     "2,,\"\"\n"
		     "3,\"[M]\",\"multi\nline \t\"\"\\,\"\n"
		     "4,\"[M]\",\n");
	/* an escape that is not the quote */
	check_stream("copy t (a, b) to stdout (format csv, escape '\\')", 2,
		     "\"a\\\"4111\",b\n", "\"a\\\"\t\\\"\\\\,\",b\n");
}

static void test_whole_rows_without_statement(void **state)
{
	struct pg_copy_out co;
	const char *why = NULL;
	int same;

	(void)state;
	assert_int_equal(pg_copy_out_begin(&co, NULL, 2), 0);
	assert_int_equal(pg_copy_out_data(&co, (const uint8_t *)"a\tb\n", 4,
					  fake_mask, NULL, &same, &why),
			 0);
	assert_true(same);
	assert_int_equal(pg_copy_out_data(&co, (const uint8_t *)"x 41", 4,
					  fake_mask, NULL, &same, &why),
			 0);
	assert_false(same);
	assert_int_equal(co.out.len, 0); /* held back */
	assert_int_equal(pg_copy_out_data(&co, (const uint8_t *)"11 y\n", 5,
					  fake_mask, NULL, &same, &why),
			 0);
	assert_false(same);
	/* a newline the detectors would put in the row is refused; here
	 * the replacement has none */
	assert_int_equal(co.out.len, strlen("x \t\"\\, y\n"));
	assert_memory_equal(co.out.data, "x \t\"\\, y\n", co.out.len);
	pg_copy_out_free(&co);
}

static void test_refusals(void **state)
{
	struct pg_copy_spec *spec;
	int rc;
	char *got;
	struct pg_copy_out co;
	const char *why = NULL;
	int same;

	(void)state;
	spec = named_spec("copy t (a, b) to stdout");
	/* too many fields, too few, a dangling backslash */
	got = feed(spec, 2, "1\t2\t3\n", 6, NULL, 0, &rc);
	assert_int_equal(rc, -1);
	free(got);
	got = feed(spec, 2, "1\n", 2, NULL, 0, &rc);
	assert_int_equal(rc, -1);
	free(got);
	got = feed(spec, 2, "1\t2\\", 4, NULL, 0, &rc);
	assert_int_equal(rc, -1);
	free(got);
	pg_copy_spec_free(spec);
	/* CSV ending inside quotes */
	spec = named_spec("copy t (a, b) to stdout csv");
	got = feed(spec, 2, "1,\"2\n", 5, NULL, 0, &rc);
	assert_int_equal(rc, -1);
	free(got);
	pg_copy_spec_free(spec);
	/* a masker that fails: nothing sent */
	spec = named_spec("copy t (a) to stdout");
	assert_int_equal(pg_copy_out_begin(&co, spec, 1), 0);
	assert_int_equal(pg_copy_out_data(&co, (const uint8_t *)"x\n", 2,
					  failing_mask, NULL, &same, &why),
			 -1);
	assert_non_null(why);
	pg_copy_out_free(&co);
	pg_copy_spec_free(spec);
}

/* ---- DataRow values made NULL ---- */

static void rowdesc(struct pg_buf *b, int16_t format2, uint32_t type2)
{
	pg_buf_i16(b, 2);
	pg_buf_str(b, "note");
	pg_buf_i32(b, 0);
	pg_buf_i16(b, 0);
	pg_buf_i32(b, 25);
	pg_buf_i16(b, -1);
	pg_buf_i32(b, -1);
	pg_buf_i16(b, 0);
	pg_buf_str(b, "ssn");
	pg_buf_i32(b, 0);
	pg_buf_i16(b, 0);
	pg_buf_i32(b, type2);
	pg_buf_i16(b, 8);
	pg_buf_i32(b, -1);
	pg_buf_i16(b, format2);
}

static void test_datarow_nulls(void **state)
{
	struct pg_rowdesc rd;
	struct pg_buf b, row, out;
	struct pg_frame f;
	const char *why = NULL;
	int changed;

	(void)state;
	pg_buf_init(&b);
	pg_buf_init(&row);
	pg_buf_init(&out);
	/* note = 'NULLME' (masked to NULL), ssn int8 in binary (a rule
	 * changes it: binary cannot carry text, so NULL) */
	rowdesc(&b, 1, 20);
	assert_int_equal(pg_rowdesc_parse(&rd, b.data, b.len, &why), 0);
	assert_string_equal(rd.items[1].type, "int8");
	pg_buf_i16(&row, 2);
	pg_buf_i32(&row, 6);
	pg_buf_add(&row, "NULLME", 6);
	pg_buf_i32(&row, 8);
	pg_buf_add(&row, "\0\0\0\0\0\0\0\7", 8);
	assert_int_equal(pg_datarow_mask_values(&rd, row.data, row.len,
						fake_mask, NULL, &out,
						&changed, &why),
			 0);
	assert_true(changed);
	assert_int_equal(pg_frame_typed(out.data, out.len, 1024, &f, &why),
			 PG_FRAME_OK);
	assert_int_equal(f.body_len, 2 + 4 + 4);
	assert_memory_equal(f.body, "\0\2\xff\xff\xff\xff\xff\xff\xff\xff",
			    10);
	pg_rowdesc_free(&rd);

	/* a binary number no rule names goes out as it came */
	pg_buf_reset(&b);
	rowdesc(&b, 1, 20);
	assert_int_equal(pg_rowdesc_parse(&rd, b.data, b.len, &why), 0);
	free(rd.cols[1].name);
	rd.cols[1].name = strdup("num");
	rd.items[1].column = rd.cols[1].name;
	pg_buf_reset(&row);
	pg_buf_i16(&row, 2);
	pg_buf_i32(&row, 1);
	pg_buf_add(&row, "x", 1);
	pg_buf_i32(&row, 8);
	pg_buf_add(&row, "4111\0\0\0\7", 8);
	assert_int_equal(pg_datarow_mask_values(&rd, row.data, row.len,
						fake_mask, NULL, &out,
						&changed, &why),
			 0);
	assert_false(changed);
	pg_rowdesc_free(&rd);
	pg_buf_free(&b);
	pg_buf_free(&row);
	pg_buf_free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statements),
		cmocka_unit_test(test_names_from_catalog),
		cmocka_unit_test(test_names_schema_and_columns),
		cmocka_unit_test(test_other_statements),
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_session_changes),
		cmocka_unit_test(test_text_rows),
		cmocka_unit_test(test_csv_rows),
		cmocka_unit_test(test_whole_rows_without_statement),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_datarow_nulls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
