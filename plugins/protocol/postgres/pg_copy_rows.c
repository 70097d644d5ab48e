/*
 * The rows of a COPY to the client: held back until complete, split into
 * fields as PostgreSQL's own COPY reader splits them (copyfromparse.c:
 * text escapes, CSV quotes), masked, and written back.  See pg_copy.h.
 */
#include "pg_copy.h"

#include <stdlib.h>
#include <string.h>

#define IS_NULL ((size_t)-1)

void pg_copy_out_free(struct pg_copy_out *co)
{
	if (co->names)
		for (uint16_t i = 0; i < co->n; i++)
			free(co->names[i]);
	free(co->names);
	free(co->fmt.null);
	free(co->items);
	free(co->fs);
	free(co->fe);
	free(co->vs);
	free(co->ve);
	free(co->inrow);
	pg_buf_free(&co->pend);
	pg_buf_free(&co->dec);
	pg_buf_free(&co->out);
	memset(co, 0, sizeof(*co));
}

int pg_copy_out_begin(struct pg_copy_out *co, struct pg_copy_spec *spec,
		      uint16_t n)
{
	size_t k;

	memset(co, 0, sizeof(*co));
	pg_buf_init(&co->pend);
	pg_buf_init(&co->dec);
	pg_buf_init(&co->out);
	co->n = n;
	co->by_field = spec != NULL && !spec->binary;
	if (co->by_field) {
		co->fmt = spec->fmt;
		co->fmt.null = NULL;
		if (!(co->fmt.null = malloc(spec->fmt.null_len + 1)))
			goto fail;
		memcpy(co->fmt.null, spec->fmt.null, spec->fmt.null_len + 1);
		co->header = spec->fmt.header;
	}
	k = co->by_field ? (n ? n : 1) : 1;
	co->items = calloc(k, sizeof(*co->items));
	co->fs = calloc(k, sizeof(*co->fs));
	co->fe = calloc(k, sizeof(*co->fe));
	co->vs = calloc(k, sizeof(*co->vs));
	co->ve = calloc(k, sizeof(*co->ve));
	co->inrow = calloc(k, 1);
	if (!co->items || !co->fs || !co->fe || !co->vs || !co->ve ||
	    !co->inrow)
		goto fail;
	/* the statement's names name the fields when they are as many */
	if (co->by_field && spec->nnames == n && spec->names) {
		if (!(co->names = calloc(n ? n : 1, sizeof(*co->names))))
			goto fail;
		for (uint16_t i = 0; i < n; i++) {
			if (!(co->names[i] = strdup(spec->names[i])))
				goto fail;
			co->items[i].column = co->names[i];
		}
	}
	return 0;
fail:
	pg_copy_out_free(co);
	return -1;
}

/* ---- one row ---- */

/* A hex digit's value, or -1 (exactly PostgreSQL's: 0-9, a-f, A-F). */
static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The value of a text escape sequence at r[i] ('\\' at r[i - 1]); *used
 * gets how many bytes after the backslash it took. */
static uint8_t text_escape(const uint8_t *r, size_t i, size_t end,
			   size_t *used)
{
	uint8_t c = r[i], v;
	int h;

	*used = 1;
	switch (c) {
	case 'b':
		return '\b';
	case 'f':
		return '\f';
	case 'n':
		return '\n';
	case 'r':
		return '\r';
	case 't':
		return '\t';
	case 'v':
		return '\v';
	case 'x':
		if (i + 1 < end && (h = hexval(r[i + 1])) >= 0) {
			v = (uint8_t)h;
			*used = 2;
			if (i + 2 < end && (h = hexval(r[i + 2])) >= 0) {
				v = (uint8_t)(v * 16 + h);
				*used = 3;
			}
			return v;
		}
		return 'x';
	default:
		if (c >= '0' && c <= '7') {
			v = c - '0';
			while (*used < 3 && i + *used < end &&
			       r[i + *used] >= '0' && r[i + *used] <= '7')
				v = (uint8_t)(v * 8 + (r[i + (*used)++] - '0'));
			return v;
		}
		return c; /* "\\", the delimiter, anything: itself */
	}
}

/* Text format: fields at the delimiter, backslash escapes decoded into
 * dec.  Returns the field count, or -1 (too many, a dangling '\\'). */
static int split_text(struct pg_copy_out *co, const uint8_t *r, size_t n)
{
	const struct pg_copy_format *f = &co->fmt;
	size_t i = 0, k = 0, used;
	uint16_t max = co->n;

	for (;;) {
		size_t s = i;
		int esc = 0;

		if (k >= max)
			return -1;
		while (i < n && r[i] != (uint8_t)f->delim) {
			if (r[i] == '\\') {
				if (i + 1 >= n)
					return -1;
				esc = 1;
				i += 2;
				continue;
			}
			i++;
		}
		co->fs[k] = s;
		co->fe[k] = i;
		if (i - s == f->null_len && !memcmp(r + s, f->null, i - s)) {
			co->vs[k] = IS_NULL;
		} else if (!esc) {
			co->inrow[k] = 1;
			co->vs[k] = s;
			co->ve[k] = i;
		} else {
			co->inrow[k] = 0;
			co->vs[k] = co->dec.len;
			for (size_t j = s; j < i;) {
				uint8_t c = r[j];
				if (c == '\\') {
					c = text_escape(r, j + 1, i, &used);
					j += 1 + used;
				} else {
					j++;
				}
				pg_buf_u8(&co->dec, c);
			}
			co->ve[k] = co->dec.len;
		}
		k++;
		if (i >= n)
			return (int)k;
		i++; /* the delimiter */
	}
}

/* CSV: as CopyReadAttributesCSV.  Field count or -1. */
static int split_csv(struct pg_copy_out *co, const uint8_t *r, size_t n)
{
	const struct pg_copy_format *f = &co->fmt;
	uint8_t dc = (uint8_t)f->delim, qc = (uint8_t)f->quote,
		ec = (uint8_t)f->escape;
	size_t i = 0, k = 0;

	for (;;) {
		size_t s = i;
		int saw_quote = 0, done = 0;

		if (k >= co->n)
			return -1;
		co->inrow[k] = 0;
		co->vs[k] = co->dec.len;
		while (!done) {
			/* not in quotes */
			for (;;) {
				if (i >= n) {
					done = 1;
					break;
				}
				uint8_t c = r[i++];
				if (c == dc) {
					done = 2;
					break;
				}
				if (c == qc) {
					saw_quote = 1;
					break;
				}
				pg_buf_u8(&co->dec, c);
			}
			if (done)
				break;
			/* in quotes */
			for (;;) {
				if (i >= n)
					return -1; /* unterminated */
				uint8_t c = r[i++];
				if (c == ec && i < n && (r[i] == ec || r[i] == qc)) {
					pg_buf_u8(&co->dec, r[i++]);
					continue;
				}
				if (c == qc)
					break;
				pg_buf_u8(&co->dec, c);
			}
		}
		co->fs[k] = s;
		co->fe[k] = done == 2 ? i - 1 : i;
		co->ve[k] = co->dec.len;
		if (!saw_quote && co->fe[k] - s == f->null_len &&
		    !memcmp(r + s, f->null, f->null_len))
			co->vs[k] = IS_NULL;
		k++;
		if (done == 1)
			return (int)k;
	}
}

/* A masked value in text format: what PostgreSQL escapes, escaped. */
static void put_text(struct pg_buf *b, const struct pg_copy_format *f,
		     const char *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)v[i];
		const char *e = NULL;

		switch (c) {
		case '\b': e = "\\b"; break;
		case '\f': e = "\\f"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		case '\v': e = "\\v"; break;
		case '\\': e = "\\\\"; break;
		default: break;
		}
		if (e) {
			pg_buf_add(b, e, 2);
			continue;
		}
		if (c == (uint8_t)f->delim)
			pg_buf_u8(b, '\\');
		pg_buf_u8(b, c);
	}
}

/* A masked value in CSV: always quoted, quotes and escapes escaped. */
static void put_csv(struct pg_buf *b, const struct pg_copy_format *f,
		    const char *v, size_t n)
{
	pg_buf_u8(b, (uint8_t)f->quote);
	for (size_t i = 0; i < n; i++) {
		if (v[i] == f->quote || v[i] == f->escape)
			pg_buf_u8(b, (uint8_t)f->escape);
		pg_buf_u8(b, (uint8_t)v[i]);
	}
	pg_buf_u8(b, (uint8_t)f->quote);
}

/* A whole row when the fields are not known: the detectors see it all. */
static int row_whole(struct pg_copy_out *co, const uint8_t *r, size_t n,
		     pg_mask_values_fn fn, void *ud, const char **why)
{
	struct jg_mask_item *it = &co->items[0];

	it->column = NULL;
	it->in = (const char *)r;
	it->len = n;
	if (fn(ud, it, 1) != 0 || it->status != JG_OK) {
		*why = "masking failed";
		return -1;
	}
	if (memchr(it->out, '\n', it->outlen)) {
		*why = "a masked COPY row holds a newline";
		return -1;
	}
	pg_buf_add(&co->out, it->out, it->outlen);
	return 0;
}

/* One complete row r[0, n), without its newline, into co->out. */
static int row_mask(struct pg_copy_out *co, const uint8_t *r, size_t n,
		    pg_mask_values_fn fn, void *ud, const char **why)
{
	const struct pg_copy_format *f = &co->fmt;
	int k, any = 0;

	if (co->header) { /* column names, not data */
		co->header = 0;
		pg_buf_add(&co->out, r, n);
		return 0;
	}
	if (!co->by_field)
		return row_whole(co, r, n, fn, ud, why);
	pg_buf_reset(&co->dec);
	k = f->csv ? split_csv(co, r, n) : split_text(co, r, n);
	if (k != co->n || co->dec.oom) {
		*why = "a COPY row does not split into its columns";
		return -1;
	}
	for (int i = 0; i < k; i++) {
		struct jg_mask_item *it = &co->items[i];
		const uint8_t *base = co->inrow[i] ? r : co->dec.data;

		if (co->vs[i] == IS_NULL) {
			it->in = NULL;
			it->len = 0;
			continue;
		}
		it->in = (const char *)(base ? base + co->vs[i] : r);
		it->len = co->ve[i] - co->vs[i];
	}
	if (fn(ud, co->items, (size_t)k) != 0) {
		*why = "masking failed";
		return -1;
	}
	for (int i = 0; i < k && !any; i++)
		any = co->vs[i] != IS_NULL && co->items[i].changed;
	if (!any) {
		pg_buf_add(&co->out, r, n);
		return 0;
	}
	for (int i = 0; i < k; i++) {
		const struct jg_mask_item *it = &co->items[i];

		if (i)
			pg_buf_u8(&co->out, (uint8_t)f->delim);
		if (co->vs[i] == IS_NULL || !it->changed)
			pg_buf_add(&co->out, r + co->fs[i],
				   co->fe[i] - co->fs[i]);
		else if (it->status == JG_MASK_NULL)
			pg_buf_add(&co->out, f->null, f->null_len);
		else if (f->csv)
			put_csv(&co->out, f, it->out, it->outlen);
		else
			put_text(&co->out, f, it->out, it->outlen);
	}
	return 0;
}

/* ---- rows across CopyData messages ---- */

/*
 * Where the row that continues with p ends: the index of its newline, or
 * len when it does not end in p.  CSV keeps its quote state across
 * calls, as CopyReadLineText does: a newline inside quotes is data.
 */
static size_t row_end(struct pg_copy_out *co, const uint8_t *p, size_t len)
{
	const struct pg_copy_format *f = &co->fmt;
	const uint8_t *nl;

	if (!co->by_field || !f->csv) {
		nl = memchr(p, '\n', len);
		return nl ? (size_t)(nl - p) : len;
	}
	uint8_t qc = (uint8_t)f->quote, ec = (uint8_t)f->escape;

	/* the quote rules of split_csv: an escape other than the quote
	 * takes a quote or an escape after it literally */
	for (size_t i = 0; i < len; i++) {
		uint8_t c = p[i];

		if (!co->quoted) {
			if (c == qc)
				co->quoted = 1;
			else if (c == '\n')
				return i;
		} else if (ec != qc) {
			if (co->last_esc) {
				co->last_esc = 0;
				if (c == qc || c == ec)
					continue;
			}
			if (c == ec)
				co->last_esc = 1;
			else if (c == qc)
				co->quoted = 0;
		} else if (c == qc) {
			co->quoted = 0; /* or the first of a doubled quote */
		}
	}
	return len;
}

int pg_copy_out_data(struct pg_copy_out *co, const uint8_t *p, size_t len,
		     pg_mask_values_fn fn, void *ud, int *same,
		     const char **why)
{
	size_t off = 0, e;

	*same = 0;
	pg_buf_reset(&co->out);
	while (off < len) {
		e = off + row_end(co, p + off, len - off);
		if (e == len) { /* the row goes on in the next message */
			if (co->pend.len + (len - off) > PG_COPY_ROW_MAX) {
				*why = "a COPY row longer than the gateway "
				       "holds back";
				return -1;
			}
			pg_buf_add(&co->pend, p + off, len - off);
			break;
		}
		if (co->pend.len) {
			pg_buf_add(&co->pend, p + off, e - off);
			if (co->pend.oom) {
				*why = "out of memory";
				return -1;
			}
			if (row_mask(co, co->pend.data, co->pend.len, fn, ud,
				     why) < 0)
				return -1;
			pg_buf_reset(&co->pend);
		} else if (row_mask(co, p + off, e - off, fn, ud, why) < 0) {
			return -1;
		}
		pg_buf_u8(&co->out, '\n');
		off = e + 1;
	}
	if (co->out.oom || co->pend.oom) {
		*why = "out of memory";
		return -1;
	}
	*same = !co->pend.len && co->out.len == len &&
		(!len || !memcmp(co->out.data, p, len));
	return 0;
}

int pg_copy_out_done(struct pg_copy_out *co, pg_mask_values_fn fn, void *ud,
		     const char **why)
{
	pg_buf_reset(&co->out);
	if (!co->pend.len)
		return 0;
	if (co->by_field && co->fmt.csv && co->quoted) {
		*why = "COPY ended inside a quoted CSV field";
		return -1;
	}
	if (row_mask(co, co->pend.data, co->pend.len, fn, ud, why) < 0)
		return -1;
	pg_buf_reset(&co->pend);
	if (co->out.oom) {
		*why = "out of memory";
		return -1;
	}
	return 0;
}
