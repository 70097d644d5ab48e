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
	rd->cols = NULL;
	rd->n = 0;
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
	if (!rd->cols) {
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
		rd->n = i + 1;
		if (!c->name) {
			pg_rowdesc_free(rd);
			*why = "out of memory";
			return -1;
		}
	}
	return 0;
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

int pg_datarow_mask(const struct pg_rowdesc *rd, const uint8_t *body,
		    size_t len, pg_mask_fn fn, void *ud, struct pg_buf *out,
		    int *changed, const char **why)
{
	struct pg_reader r;
	int16_t n;
	int32_t vlen;
	uint16_t i;
	const uint8_t *v;
	const char *col, *mo;
	size_t moff = 0, mlen;
	int ch, any = 0, named;

	*changed = 0;
	pg_reader_init(&r, body, len);
	n = pg_get_i16(&r);
	if (r.bad || n < 0) {
		*why = "bad DataRow column count";
		return -1;
	}
	named = rd && rd->n == (uint16_t)n;
	pg_buf_reset(out);
	moff = pg_msg_begin(out, 'D');
	pg_buf_i16(out, n);
	for (i = 0; i < (uint16_t)n; i++) {
		vlen = pg_get_i32(&r);
		if (r.bad || vlen < -1) {
			*why = "bad DataRow value length";
			return -1;
		}
		if (vlen == -1) { /* NULL stays NULL */
			pg_buf_i32(out, -1);
			continue;
		}
		v = pg_get_bytes(&r, (size_t)vlen);
		if (!v) {
			*why = "truncated DataRow";
			return -1;
		}
		col = named ? rd->cols[i].name : NULL;
		if (named && rd->cols[i].format == 1 &&
		    !binary_is_text(rd->cols[i].type_oid)) {
			/* numbers, dates and other binary values carry no
			 * free text to detect in */
			mo = (const char *)v;
			mlen = (size_t)vlen;
			ch = 0;
		} else if (fn(ud, col, (const char *)v, (size_t)vlen, &mo,
			      &mlen, &ch) != 0) {
			*why = "masking failed";
			return -1;
		}
		if (mlen > 0x7fffffffU) {
			*why = "masked value too long";
			return -1;
		}
		any |= ch;
		pg_buf_i32(out, (int32_t)mlen);
		pg_buf_add(out, mo, mlen);
	}
	if (pg_remaining(&r) != 0) {
		*why = "bytes after the last DataRow value";
		return -1;
	}
	pg_msg_end(out, moff);
	if (out->oom) {
		*why = "out of memory";
		return -1;
	}
	*changed = any;
	return 0;
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
