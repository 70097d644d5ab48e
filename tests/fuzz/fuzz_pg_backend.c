/*
 * libFuzzer harness for what the PostgreSQL plugin parses from the
 * upstream server before a client sees it (plugins/protocol/postgres/
 * pg_rows.c): RowDescription, DataRow rebuilt by masking, the free-text
 * messages (NoticeResponse, ErrorResponse, NotificationResponse,
 * ParameterStatus), and the catalog rows that name columns.
 *
 * Input: a sequence of messages, each a type byte, a 2-byte big-endian
 * length and that many body bytes (cut short at the end of the input).
 * 'T' replaces the current RowDescription, 'D' is masked against it,
 * 'N' 'E' 'A' 'S' go through the text masker, 'K' is a catalog row; at
 * the end the catalog is sorted and used to qualify the columns.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pg_rows.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Mask values that start with a digit (a longer replacement, so rows are
 * rebuilt), fail on '!' (a masking error must stop the row), and leave
 * the rest. */
static int mask(void *ud, const char *column, const char *in, size_t len,
		const char **out, size_t *outlen, int *changed)
{
	(void)ud;
	if (column)
		(void)strlen(column);
	*out = in;
	*outlen = len;
	*changed = 0;
	if (len > 0 && in[0] == '!')
		return -1;
	if (len > 0 && in[0] >= '0' && in[0] <= '9') {
		*out = "[masked value]";
		*outlen = 14;
		*changed = 1;
	}
	return 0;
}

static void check_out(const struct pg_buf *out, int changed)
{
	volatile uint8_t sink = 0;

	if (!changed)
		return;
	/* A rebuilt message: type, length that covers the rest. */
	if (out->len < 5)
		abort();
	for (size_t i = 0; i < out->len; i++)
		sink ^= out->data[i];
	(void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_rowdesc rd;
	struct pg_catalog cat;
	struct pg_buf out;
	int have_rd = 0;
	size_t off = 0;

	memset(&rd, 0, sizeof(rd));
	memset(&cat, 0, sizeof(cat));
	pg_buf_init(&out);
	while (off + 3 <= size) {
		uint8_t type = data[off];
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		const char *why = NULL;
		int changed = 0;
		uint8_t *body;

		off += 3;
		if (len > size - off)
			len = size - off;
		/* An exact-size copy: a read past the body is caught. */
		body = malloc(len ? len : 1);
		if (!body)
			abort();
		memcpy(body, data + off, len);
		off += len;
		pg_buf_reset(&out);
		switch (type) {
		case 'T':
			pg_rowdesc_free(&rd);
			have_rd = pg_rowdesc_parse(&rd, body, len, &why) == 0;
			if (!have_rd)
				pg_rowdesc_free(&rd);
			break;
		case 'D':
			if (pg_datarow_mask(have_rd ? &rd : NULL, body, len, mask,
					    NULL, &out, &changed, &why) == 0)
				check_out(&out, changed);
			break;
		case 'N':
		case 'E':
		case 'A':
		case 'S':
			if (pg_text_msg_mask(type, body, len, mask, NULL, &out,
					     &changed, &why) == 0)
				check_out(&out, changed);
			break;
		case 'K':
			(void)pg_catalog_row(&cat, body, len);
			break;
		}
		free(body);
	}
	pg_catalog_done(&cat);
	if (have_rd) {
		pg_rowdesc_qualify(&rd, &cat);
		for (uint16_t i = 0; i < rd.n; i++)
			if (rd.cols[i].qname)
				(void)strlen(rd.cols[i].qname);
	}
	(void)pg_catalog_find(&cat, 1, 1);
	pg_rowdesc_free(&rd);
	pg_catalog_free(&cat);
	pg_buf_free(&out);
	return 0;
}
