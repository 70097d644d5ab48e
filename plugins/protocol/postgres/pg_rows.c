/*
 * Rebuilding result messages around masked values.  Lengths are rewritten
 * from the values actually sent, so a masked value may be longer or
 * shorter than the original.
 */
#include "pg_rows.h"

#include <stdlib.h>
#include <string.h>

void pg_rowdesc_free(struct pg_rowdesc *rd)
{
	uint16_t i;

	for (i = 0; i < rd->n && rd->cols; i++)
		free(rd->cols[i].name);
	free(rd->cols);
	free(rd->items);
	rd->cols = NULL;
	rd->items = NULL;
	rd->n = 0;
}

/* The names of the types masking treats apart (pii's type kinds): those
 * whose text cannot carry a replacement and json.  Others are text. */
static const char *type_name(uint32_t oid)
{
	switch (oid) {
	case 16: return "bool";
	case 20: return "int8";
	case 21: return "int2";
	case 23: return "int4";
	case 26: return "oid";
	case 114: return "json";
	case 3802: return "jsonb";
	case 700: return "float4";
	case 701: return "float8";
	case 790: return "money";
	case 829: return "macaddr";
	case 774: return "macaddr8";
	case 869: return "inet";
	case 650: return "cidr";
	case 1082: return "date";
	case 1083: return "time";
	case 1114: return "timestamp";
	case 1184: return "timestamptz";
	case 1186: return "interval";
	case 1266: return "timetz";
	case 1700: return "numeric";
	case 2950: return "uuid";
	default: return NULL;
	}
}

int pg_rowdesc_parse(struct pg_rowdesc *rd, const uint8_t *body, size_t len,
		     const char **why)
{
	struct pg_reader r;
	int16_t n;
	uint16_t i;
	const char *name;
	struct pg_column *c;

	memset(rd, 0, sizeof(*rd));
	pg_reader_init(&r, body, len);
	n = pg_get_i16(&r);
	if (r.bad || n < 0) {
		*why = "bad RowDescription column count";
		return -1;
	}
	/* each column takes at least 19 bytes: don't allocate for lies */
	if ((size_t)n * 19 > pg_remaining(&r)) {
		*why = "RowDescription shorter than its column count";
		return -1;
	}
	rd->cols = calloc(n ? (size_t)n : 1, sizeof(*rd->cols));
	rd->items = calloc(n ? (size_t)n : 1, sizeof(*rd->items));
	if (!rd->cols || !rd->items) {
		free(rd->cols);
		free(rd->items);
		rd->cols = NULL;
		rd->items = NULL;
		*why = "out of memory";
		return -1;
	}
	for (i = 0; i < (uint16_t)n; i++) {
		c = &rd->cols[i];
		name = pg_get_str(&r, NULL);
		c->table_oid = (uint32_t)pg_get_i32(&r);
		c->attnum = pg_get_i16(&r);
		c->type_oid = (uint32_t)pg_get_i32(&r);
		(void)pg_get_i16(&r); /* type size */
		(void)pg_get_i32(&r); /* type modifier */
		c->format = pg_get_i16(&r);
		if (r.bad || !name) {
			rd->n = i;
			pg_rowdesc_free(rd);
			*why = "truncated RowDescription";
			return -1;
		}
		c->name = strdup(name);
		rd->items[i].column = c->name;
		rd->items[i].type = type_name(c->type_oid);
		rd->n = i + 1;
		if (!c->name) {
			pg_rowdesc_free(rd);
			*why = "out of memory";
			return -1;
		}
	}
	return 0;
}

/* ---- catalog: (table OID, attnum) -> "schema.table.column" ---- */

/* A decimal text value into *v; -1 unless it is all digits and fits. */
static int text_u32(const uint8_t *p, int32_t n, uint32_t *v)
{
	uint64_t x = 0;

	if (n < 1 || n > 10)
		return -1;
	for (int32_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(p[i] - '0');
	}
	if (x > UINT32_MAX)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

int pg_catalog_row(struct pg_catalog *c, const uint8_t *body, size_t len)
{
	struct pg_reader r;
	const uint8_t *v[5];
	int32_t vl[5];
	uint32_t oid, att;
	size_t nlen;
	char *name;

	pg_reader_init(&r, body, len);
	if (pg_get_i16(&r) != 5 || r.bad)
		return -1;
	for (int i = 0; i < 5; i++) {
		vl[i] = pg_get_i32(&r);
		if (r.bad || vl[i] < 0 || !(v[i] = pg_get_bytes(&r, (size_t)vl[i])))
			return -1;
	}
	if (pg_remaining(&r) || text_u32(v[0], vl[0], &oid) ||
	    text_u32(v[1], vl[1], &att) || att > INT16_MAX)
		return -1;
	if (c->n >= PG_CATALOG_MAX) {
		c->truncated = 1;
		return 0;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct pg_colname *nv = realloc(c->v, cap * sizeof(*nv));
		if (!nv)
			return -1;
		c->v = nv;
		c->cap = cap;
	}
	/* "schema.table.column": the three name values only (the OID and
	 * the column number are not part of it), so the terminator goes
	 * right after the column.  Counting them too once left a few bytes
	 * of whatever the allocation held between the column and the NUL,
	 * and a column rule then missed the name in some sessions. */
	nlen = (size_t)vl[2] + 1 + (size_t)vl[3] + 1 + (size_t)vl[4];
	name = malloc(nlen + 1);
	if (!name)
		return -1;
	/* names never hold a NUL: PostgreSQL identifiers are C strings */
	memcpy(name, v[2], (size_t)vl[2]);
	name[vl[2]] = '.';
	memcpy(name + vl[2] + 1, v[3], (size_t)vl[3]);
	name[vl[2] + 1 + vl[3]] = '.';
	memcpy(name + vl[2] + vl[3] + 2, v[4], (size_t)vl[4]);
	name[nlen] = '\0';
	/* an identifier with a NUL cannot be a rule's name: refuse it
	 * rather than store a shorter name than the server meant */
	if (memchr(name, 0, nlen)) {
		free(name);
		return -1;
	}
	c->v[c->n++] = (struct pg_colname){oid, (int16_t)att, name};
	return 0;
}

static int colname_cmp(const void *a, const void *b)
{
	const struct pg_colname *x = a, *y = b;

	if (x->oid != y->oid)
		return x->oid < y->oid ? -1 : 1;
	return (x->attnum > y->attnum) - (x->attnum < y->attnum);
}

void pg_catalog_done(struct pg_catalog *c)
{
	if (c->n)
		qsort(c->v, c->n, sizeof(*c->v), colname_cmp);
}

const char *pg_catalog_find(const struct pg_catalog *c, uint32_t oid,
			    int16_t attnum)
{
	struct pg_colname key = {oid, attnum, NULL}, *hit;

	if (!c || !c->n)
		return NULL;
	hit = bsearch(&key, c->v, c->n, sizeof(*c->v), colname_cmp);
	return hit ? hit->name : NULL;
}

void pg_catalog_free(struct pg_catalog *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].name);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

size_t pg_rowdesc_qualify(struct pg_rowdesc *rd, const struct pg_catalog *c)
{
	size_t unnamed = 0;

	for (uint16_t i = 0; i < rd->n; i++) {
		struct pg_column *col = &rd->cols[i];

		col->qname = NULL;
		rd->items[i].column = col->name;
		rd->items[i].hint = 0; /* a new name: resolve its rule again */
		if (!col->table_oid || col->attnum <= 0)
			continue;
		col->qname = pg_catalog_find(c, col->table_oid, col->attnum);
		if (!col->qname)
			unnamed++;
		else
			rd->items[i].column = col->qname;
	}
	return unnamed;
}

/* Binary values we can mask as text: their wire form is the text. */
static int binary_is_text(uint32_t oid)
{
	switch (oid) {
	case 25:   /* text */
	case 1043: /* varchar */
	case 1042: /* bpchar */
	case 19:   /* name */
	case 114:  /* json */
	case 705:  /* unknown */
		return 1;
	default:
		return 0;
	}
}

/* What one value of the row being masked is (struct pg_column's kind). */
enum pg_value_kind {
	PG_V_NULL,   /* SQL NULL: stays NULL */
	PG_V_TEXT,   /* given to the masker as it is */
	PG_V_OPAQUE  /* binary, not text: only a column rule may touch it */
};

/* A blank description of n columns (a row nothing describes). */
static int rowdesc_blank(struct pg_rowdesc *rd, uint16_t n)
{
	rd->n = 0;
	rd->cols = calloc(n ? n : 1, sizeof(*rd->cols));
	rd->items = calloc(n ? n : 1, sizeof(*rd->items));
	if (!rd->cols || !rd->items) {
		pg_rowdesc_free(rd);
		return -1;
	}
	rd->n = n;
	return 0;
}

/*
 * Read the row's values (p[0, len), after the column count) into rd's
 * items, every length checked against what is left.  NULLs give the
 * masker nothing, and a binary value that is not text nothing but its
 * column (an empty text of its type: a rule still applies, the
 * detectors find nothing).  Read here rather than with pg_reader: this
 * runs for every row of a masked result.  -1: malformed.
 */
static int datarow_read(struct pg_rowdesc *rd, int named, const uint8_t *p,
			size_t len, const char **why)
{
	size_t off = 0;

	for (uint16_t i = 0; i < rd->n; i++) {
		struct jg_mask_item *it = &rd->items[i];
		struct pg_column *c = &rd->cols[i];
		int32_t vlen;

		if (len - off < 4) {
			*why = "truncated DataRow";
			return -1;
		}
		vlen = (int32_t)((uint32_t)p[off] << 24 |
				 (uint32_t)p[off + 1] << 16 |
				 (uint32_t)p[off + 2] << 8 | p[off + 3]);
		off += 4;
		c->vlen = vlen;
		if (vlen < 0) {
			if (vlen != -1) {
				*why = "bad DataRow value length";
				return -1;
			}
			c->kind = PG_V_NULL;
			it->in = NULL;
			it->len = 0;
			continue;
		}
		if ((size_t)vlen > len - off) {
			*why = "truncated DataRow";
			return -1;
		}
		it->in = (const char *)p + off;
		off += (size_t)vlen;
		if (named && c->format == 1 && !binary_is_text(c->type_oid)) {
			c->kind = PG_V_OPAQUE;
			it->len = 0;
		} else {
			c->kind = PG_V_TEXT;
			it->len = (size_t)vlen;
		}
	}
	if (off != len) {
		*why = "bytes after the last DataRow value";
		return -1;
	}
	return 0;
}

int pg_datarow_mask_values(struct pg_rowdesc *rd, const uint8_t *body,
			   size_t len, pg_mask_values_fn fn, void *ud,
			   struct pg_buf *out, int *changed, const char **why)
{
	struct pg_rowdesc blank = {0, NULL, NULL}, *d = rd;
	int16_t n;
	size_t moff;
	int rc = -1, any = 0;

	*changed = 0;
	n = len >= 2 ? (int16_t)((uint16_t)body[0] << 8 | body[1]) : -1;
	if (n < 0) {
		*why = "bad DataRow column count";
		return -1;
	}
	if (!rd || rd->n != (uint16_t)n || !rd->items) {
		if (rowdesc_blank(&blank, (uint16_t)n) < 0) {
			*why = "out of memory";
			return -1;
		}
		d = &blank;
	}
	if (datarow_read(d, d == rd, body + 2, len - 2, why) < 0)
		goto out;
	if (fn(ud, d->items, d->n) != 0) {
		*why = "masking failed";
		goto out;
	}
	for (uint16_t i = 0; i < d->n && !any; i++)
		any = d->cols[i].kind != PG_V_NULL && d->items[i].changed;
	if (!any) {
		rc = 0;
		goto out;
	}
	/* rebuilt only when a value changed: most rows go out as they came */
	pg_buf_reset(out);
	moff = pg_msg_begin(out, 'D');
	pg_buf_i16(out, n);
	for (uint16_t i = 0; i < d->n; i++) {
		const struct jg_mask_item *it = &d->items[i];
		int kind = d->cols[i].kind;

		if (kind == PG_V_NULL ||
		    (it->changed && (kind == PG_V_OPAQUE ||
				     it->status == JG_MASK_NULL))) {
			pg_buf_i32(out, -1);
			continue;
		}
		if (kind == PG_V_OPAQUE) {
			pg_buf_i32(out, d->cols[i].vlen);
			pg_buf_add(out, it->in, (size_t)d->cols[i].vlen);
			continue;
		}
		if (it->outlen > 0x7fffffffU) {
			*why = "masked value too long";
			goto out;
		}
		pg_buf_i32(out, (int32_t)it->outlen);
		pg_buf_add(out, it->out, it->outlen);
	}
	pg_msg_end(out, moff);
	if (out->oom) {
		*why = "out of memory";
		goto out;
	}
	*changed = 1;
	rc = 0;
out:
	if (d == &blank)
		pg_rowdesc_free(&blank);
	return rc;
}

int pg_mask_values_each(void *ud, struct jg_mask_item *v, size_t n)
{
	struct pg_mask_each *a = ud;
	const char *mo, *base;
	size_t i, mlen, start, end;
	int ch;

	pg_buf_reset(&a->buf);
	for (i = 0; i < n; i++) {
		v[i].status = JG_OK;
		v[i].changed = 0;
		v[i].out = v[i].in;
		v[i].outlen = v[i].len;
		if (a->fn(a->ud, v[i].column, v[i].in ? v[i].in : "", v[i].len,
			  &mo, &mlen, &ch) != 0)
			return -1;
		if (!ch)
			continue;
		/* where it starts in buf for now: made a pointer below */
		v[i].changed = 1;
		v[i].outlen = a->buf.len;
		pg_buf_add(&a->buf, mo, mlen);
	}
	if (a->buf.oom)
		return -1;
	/* each copy ends where the next one starts */
	base = a->buf.data ? (const char *)a->buf.data : "";
	end = a->buf.len;
	for (i = n; i-- > 0;) {
		if (!v[i].changed)
			continue;
		start = v[i].outlen;
		v[i].out = base + start;
		v[i].outlen = end - start;
		end = start;
	}
	return 0;
}

int pg_datarow_mask(struct pg_rowdesc *rd, const uint8_t *body, size_t len,
		    pg_mask_fn fn, void *ud, struct pg_buf *out, int *changed,
		    const char **why)
{
	struct pg_mask_each a = {fn, ud, {0}};
	int rc;

	pg_buf_init(&a.buf);
	rc = pg_datarow_mask_values(rd, body, len, pg_mask_values_each, &a,
				    out, changed, why);
	pg_buf_free(&a.buf);
	return rc;
}

/* Mask one NUL-terminated string into out (keeping it a C string). */
static int mask_str(const char *s, size_t slen, pg_mask_fn fn, void *ud,
		    struct pg_buf *out, int *any)
{
	const char *mo;
	size_t mlen;
	int ch;

	if (fn(ud, NULL, s, slen, &mo, &mlen, &ch) != 0)
		return -1;
	/* an embedded NUL would cut the string short on the client */
	if (memchr(mo, 0, mlen))
		return -1;
	*any |= ch;
	pg_buf_add(out, mo, mlen);
	pg_buf_u8(out, 0);
	return 0;
}

int pg_text_msg_mask(uint8_t type, const uint8_t *body, size_t len,
		     pg_mask_fn fn, void *ud, struct pg_buf *out, int *changed,
		     const char **why)
{
	struct pg_reader r;
	const char *s;
	size_t slen, off;
	int32_t pid;
	uint8_t code;
	int any = 0;

	*changed = 0;
	*why = "malformed message";
	pg_reader_init(&r, body, len);
	pg_buf_reset(out);
	off = pg_msg_begin(out, type);
	switch (type) {
	case 'N':
	case 'E':
		for (;;) {
			code = pg_get_u8(&r);
			if (r.bad)
				return -1;
			pg_buf_u8(out, code);
			if (code == 0)
				break;
			s = pg_get_str(&r, &slen);
			if (!s)
				return -1;
			/* severity, SQLSTATE, positions and source
			 * locations are not data */
			if (strchr("SVCPpFLR", code)) {
				pg_buf_add(out, s, slen + 1);
			} else if (mask_str(s, slen, fn, ud, out, &any) < 0) {
				*why = "masking failed";
				return -1;
			}
		}
		break;
	case 'A':
		pid = pg_get_i32(&r);
		s = pg_get_str(&r, &slen);
		if (!s)
			return -1;
		pg_buf_i32(out, pid);
		pg_buf_add(out, s, slen + 1);
		s = pg_get_str(&r, &slen);
		if (!s || mask_str(s, slen, fn, ud, out, &any) < 0)
			return -1;
		break;
	case 'S':
		s = pg_get_str(&r, &slen);
		if (!s)
			return -1;
		pg_buf_add(out, s, slen + 1);
		s = pg_get_str(&r, &slen);
		if (!s || mask_str(s, slen, fn, ud, out, &any) < 0)
			return -1;
		break;
	default:
		return -1;
	}
	if (pg_remaining(&r) != 0)
		return -1;
	pg_msg_end(out, off);
	if (out->oom)
		return -1;
	*changed = any;
	return 0;
}
