/*
 * libFuzzer harness for COPY ... TO STDOUT under masking (plugins/
 * protocol/postgres/pg_copy.c, pg_copy_rows.c): the statement a client
 * sends (its COPY options and columns) and the rows the server sends
 * back, split into fields and rebuilt.
 *
 * Input: a first byte of flags, then bytes.
 *   flags & 0x80: the bytes are a query string: every COPY TO STDOUT in
 *     it is parsed and named (a column list, or the table's columns from
 *     a small catalog).
 *   else: the bytes are a COPY stream of (flags & 7) + 1 columns, CSV
 *     when flags & 8, with a header line when flags & 16, ';' as the
 *     delimiter when flags & 32 and '\\' as the CSV escape when flags &
 *     64.  It is masked in one piece, and again cut into pieces of
 *     (flags % 5) + 1 bytes: the rows out must be the same, and a stream
 *     nothing changes must come out as it came.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pg_copy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char outbuf[8][64];
static int identity;

/* Values starting with a digit get a replacement holding every byte the
 * writers escape; "!" fails; "~" becomes NULL.  identity: change
 * nothing. */
static int mask(void *ud, struct jg_mask_item *v, size_t n)
{
	(void)ud;
	for (size_t i = 0; i < n; i++) {
		v[i].status = JG_OK;
		v[i].changed = 0;
		v[i].out = v[i].in ? v[i].in : "";
		v[i].outlen = v[i].len;
		if (identity || !v[i].len)
			continue;
		if (v[i].in[0] == '!')
			return -1;
		if (v[i].in[0] == '~') {
			v[i].status = JG_MASK_NULL;
			v[i].changed = 1;
			v[i].out = NULL;
			v[i].outlen = 0;
		} else if (v[i].in[0] >= '0' && v[i].in[0] <= '9') {
			char *o = outbuf[i % 8];
			memcpy(o, "[m\t\n\r\\\";,]", 11);
			v[i].out = o;
			v[i].outlen = 11;
			v[i].changed = 1;
		}
	}
	return 0;
}

struct run {
	int rc;
	uint8_t *out;
	size_t n;
};

static void stream(const struct pg_copy_spec *spec, uint16_t ncols,
		   const uint8_t *p, size_t len, size_t step, struct run *r)
{
	struct pg_copy_spec copy = *spec;
	struct pg_copy_out co;
	const char *why = NULL;
	int same;

	r->rc = 0;
	r->n = 0;
	r->out = malloc(len * 16 + 16);
	if (!r->out || pg_copy_out_begin(&co, &copy, ncols) < 0)
		abort();
	for (size_t at = 0; at < len && !r->rc; at += step) {
		size_t k = len - at < step ? len - at : step;
		r->rc = pg_copy_out_data(&co, p + at, k, mask, NULL, &same,
					 &why);
		if (r->rc)
			break;
		if (same && (co.out.len != k || memcmp(co.out.data, p + at, k)))
			abort();
		if (co.out.len)
			memcpy(r->out + r->n, co.out.data, co.out.len);
		r->n += co.out.len;
	}
	if (!r->rc) {
		r->rc = pg_copy_out_done(&co, mask, NULL, &why);
		if (!r->rc && co.out.len) {
			memcpy(r->out + r->n, co.out.data, co.out.len);
			r->n += co.out.len;
		}
	}
	if (r->rc && !why)
		abort(); /* a refusal always says why */
	pg_copy_out_free(&co);
}

static void rows(uint8_t flags, const uint8_t *p, size_t len)
{
	struct pg_copy_spec spec;
	struct run a, b;
	uint16_t ncols = (uint16_t)((flags & 7) + 1);
	char null[3] = "\\N";

	memset(&spec, 0, sizeof(spec));
	spec.fmt.csv = !!(flags & 8);
	spec.fmt.header = !!(flags & 16);
	spec.fmt.delim = flags & 32 ? ';' : spec.fmt.csv ? ',' : '\t';
	spec.fmt.quote = '"';
	spec.fmt.escape = spec.fmt.csv && (flags & 64) ? '\\' : '"';
	if (spec.fmt.csv)
		null[0] = 0;
	spec.fmt.null = null;
	spec.fmt.null_len = strlen(null);
	if (len > 1 << 16)
		len = 1 << 16;
	identity = 0;
	stream(&spec, ncols, p, len, len ? len : 1, &a);
	stream(&spec, ncols, p, len, (size_t)(flags % 5) + 1, &b);
	if (a.rc != b.rc || (!a.rc && (a.n != b.n ||
				       memcmp(a.out, b.out, a.n))))
		abort();
	free(a.out);
	free(b.out);
	/* nothing masked: every complete row comes back byte for byte */
	identity = 1;
	stream(&spec, ncols, p, len, (size_t)(flags % 3) + 1, &a);
	if (!a.rc && (a.n != len || memcmp(a.out, p, len)))
		abort();
	free(a.out);
}

static void statements(const uint8_t *p, size_t len)
{
	struct pg_colname v[] = {
		{16384, 1, "public.t.a"},
		{16384, 2, "public.t.b"},
		{16390, 1, "s.u.x"},
	};
	struct pg_catalog cat = {v, 3, 3, 0, 0};
	struct pg_copy_spec *specs = NULL, *s;
	char *sql = malloc(len + 1);

	if (!sql)
		abort();
	memcpy(sql, p, len);
	sql[len] = 0;
	if (pg_copy_specs(sql, &specs) == 0) {
		for (s = specs; s; s = s->next) {
			if (pg_copy_name(s, &cat) == 0 &&
			    (s->query || !s->nnames))
				abort();
			for (size_t i = 0; i < s->nnames; i++)
				if (!s->names[i] ||
				    strncmp(s->names[i], s->table,
					    strlen(s->table)))
					abort();
		}
	}
	pg_copy_spec_free(specs);
	free(sql);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 0x80)
		statements(data + 1, size - 1);
	else
		rows(data[0], data + 1, size - 1);
	return 0;
}
