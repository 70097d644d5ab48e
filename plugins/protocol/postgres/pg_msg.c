/*
 * PostgreSQL v3 message framing and building.  Lengths come from the
 * network: each one is checked against both the bytes at hand and a
 * configured maximum before anything trusts it.
 */
#include "pg_msg.h"

#include <stdlib.h>
#include <string.h>

static uint32_t read_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int pg_frame_typed(const uint8_t *buf, size_t len, size_t max,
		   struct pg_frame *f, const char **why)
{
	uint32_t n;

	if (len < 5)
		return PG_FRAME_MORE;
	n = read_be32(buf + 1);
	/* The length counts itself, so 4 is the smallest; as signed int32 on
	 * the wire anything with the top bit set is negative. */
	if (n < 4 || n > 0x7fffffffU) {
		*why = "message length below 4 or negative";
		return PG_FRAME_BAD;
	}
	if ((size_t)n > max) {
		*why = "message longer than the configured maximum";
		return PG_FRAME_BAD;
	}
	if (len - 1 < (size_t)n)
		return PG_FRAME_MORE;
	f->type = buf[0];
	f->body = buf + 5;
	f->body_len = (size_t)n - 4;
	f->total = (size_t)n + 1;
	return PG_FRAME_OK;
}

int pg_frame_startup(const uint8_t *buf, size_t len, struct pg_frame *f,
		     const char **why)
{
	uint32_t n;

	if (len < 4)
		return PG_FRAME_MORE;
	n = read_be32(buf);
	/* length word plus the protocol code at least */
	if (n < 8) {
		*why = "startup packet shorter than 8 bytes";
		return PG_FRAME_BAD;
	}
	if (n > PG_MAX_STARTUP) {
		*why = "startup packet too long";
		return PG_FRAME_BAD;
	}
	if (len < (size_t)n)
		return PG_FRAME_MORE;
	f->type = 0;
	f->body = buf + 4;
	f->body_len = (size_t)n - 4;
	f->total = n;
	return PG_FRAME_OK;
}

void pg_reader_init(struct pg_reader *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
	r->bad = 0;
}

size_t pg_remaining(const struct pg_reader *r)
{
	return r->len - r->off;
}

const uint8_t *pg_get_bytes(struct pg_reader *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || pg_remaining(r) < n) {
		r->bad = 1;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

uint8_t pg_get_u8(struct pg_reader *r)
{
	const uint8_t *p = pg_get_bytes(r, 1);

	return p ? p[0] : 0;
}

int16_t pg_get_i16(struct pg_reader *r)
{
	const uint8_t *p = pg_get_bytes(r, 2);

	return p ? (int16_t)((uint16_t)p[0] << 8 | p[1]) : 0;
}

int32_t pg_get_i32(struct pg_reader *r)
{
	const uint8_t *p = pg_get_bytes(r, 4);

	return p ? (int32_t)read_be32(p) : 0;
}

const char *pg_get_str(struct pg_reader *r, size_t *slen)
{
	const uint8_t *start, *nul;

	if (r->bad)
		return NULL;
	start = r->p + r->off;
	nul = memchr(start, 0, pg_remaining(r));
	if (!nul) {
		r->bad = 1;
		return NULL;
	}
	if (slen)
		*slen = (size_t)(nul - start);
	r->off += (size_t)(nul - start) + 1;
	return (const char *)start;
}

void pg_buf_init(struct pg_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void pg_buf_free(struct pg_buf *b)
{
	free(b->data);
	pg_buf_init(b);
}

void pg_buf_reset(struct pg_buf *b)
{
	b->len = 0;
	b->oom = 0;
}

static int buf_reserve(struct pg_buf *b, size_t n)
{
	size_t want, cap;
	uint8_t *p;

	if (b->oom)
		return -1;
	if (n > SIZE_MAX / 2 - b->len) {
		b->oom = 1;
		return -1;
	}
	want = b->len + n;
	if (want <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p) {
		b->oom = 1;
		return -1;
	}
	b->data = p;
	b->cap = cap;
	return 0;
}

void pg_buf_add(struct pg_buf *b, const void *p, size_t n)
{
	if (n == 0 || buf_reserve(b, n) < 0)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void pg_buf_u8(struct pg_buf *b, uint8_t v)
{
	pg_buf_add(b, &v, 1);
}

void pg_buf_i16(struct pg_buf *b, int16_t v)
{
	uint8_t p[2] = {(uint8_t)((uint16_t)v >> 8), (uint8_t)v};

	pg_buf_add(b, p, 2);
}

void pg_buf_i32(struct pg_buf *b, int32_t v)
{
	uint32_t u = (uint32_t)v;
	uint8_t p[4] = {(uint8_t)(u >> 24), (uint8_t)(u >> 16),
			(uint8_t)(u >> 8), (uint8_t)u};

	pg_buf_add(b, p, 4);
}

void pg_buf_str(struct pg_buf *b, const char *s)
{
	pg_buf_add(b, s, strlen(s) + 1);
}

size_t pg_msg_begin(struct pg_buf *b, uint8_t type)
{
	size_t off;

	if (type)
		pg_buf_u8(b, type);
	off = b->len;
	pg_buf_i32(b, 0);
	return off;
}

void pg_msg_end(struct pg_buf *b, size_t off)
{
	size_t n;

	if (b->oom || off + 4 > b->len)
		return;
	n = b->len - off;
	b->data[off] = (uint8_t)(n >> 24);
	b->data[off + 1] = (uint8_t)(n >> 16);
	b->data[off + 2] = (uint8_t)(n >> 8);
	b->data[off + 3] = (uint8_t)n;
}

static void error_field(struct pg_buf *b, uint8_t code, const char *v)
{
	if (!v)
		return;
	pg_buf_u8(b, code);
	pg_buf_str(b, v);
}

void pg_build_error(struct pg_buf *b, uint8_t type, const char *severity,
		    const char *sqlstate, const char *message,
		    const char *detail, const char *hint)
{
	size_t off = pg_msg_begin(b, type);

	error_field(b, 'S', severity);
	error_field(b, 'V', severity);
	error_field(b, 'C', sqlstate);
	error_field(b, 'M', message);
	error_field(b, 'D', detail);
	error_field(b, 'H', hint);
	pg_buf_u8(b, 0);
	pg_msg_end(b, off);
}

void pg_build_ready(struct pg_buf *b, uint8_t txstatus)
{
	size_t off = pg_msg_begin(b, 'Z');

	pg_buf_u8(b, txstatus);
	pg_msg_end(b, off);
}

void pg_build_auth(struct pg_buf *b, int32_t code, const void *extra,
		   size_t n)
{
	size_t off = pg_msg_begin(b, 'R');

	pg_buf_i32(b, code);
	pg_buf_add(b, extra, n);
	pg_msg_end(b, off);
}

const char *pg_error_field(const uint8_t *body, size_t len, uint8_t code)
{
	struct pg_reader r;
	const char *v;
	uint8_t c;

	pg_reader_init(&r, body, len);
	for (;;) {
		c = pg_get_u8(&r);
		if (r.bad || c == 0)
			return NULL;
		v = pg_get_str(&r, NULL);
		if (!v)
			return NULL;
		if (c == code)
			return v;
	}
}

int pg_frontend_type_known(uint8_t type)
{
	switch (type) {
	case 'Q': /* Query */
	case 'P': /* Parse */
	case 'B': /* Bind */
	case 'D': /* Describe */
	case 'E': /* Execute */
	case 'C': /* Close */
	case 'S': /* Sync */
	case 'H': /* Flush */
	case 'F': /* FunctionCall */
	case 'X': /* Terminate */
	case 'd': /* CopyData */
	case 'c': /* CopyDone */
	case 'f': /* CopyFail */
		return 1;
	default:
		return 0;
	}
}
