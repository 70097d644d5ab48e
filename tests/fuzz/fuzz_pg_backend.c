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
 * the end the catalog is sorted and used to qualify the columns, and
 * every catalog row's "schema.table.column" must come back as written.
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

static volatile size_t sink;

/* The name a catalog row that pg_catalog_row() took should give:
 * "schema.table.column" from its values 2, 3 and 4, with its OID and
 * column number; NULL when a name holds a NUL. */
static char *expected_name(const uint8_t *b, size_t len, uint32_t *oid,
			   int16_t *att)
{
	const uint8_t *v[5];
	int32_t vl[5];
	size_t off = 2, n = 0;
	char num[16], *name;

	if (len < 2 || b[0] != 0 || b[1] != 5)
		abort();
	for (int i = 0; i < 5; i++) {
		if (len - off < 4)
			abort();
		vl[i] = (int32_t)((uint32_t)b[off] << 24 | b[off + 1] << 16 |
				  b[off + 2] << 8 | b[off + 3]);
		off += 4;
		if (vl[i] < 0 || (size_t)vl[i] > len - off)
			abort();
		v[i] = b + off;
		off += (size_t)vl[i];
	}
	if (vl[0] >= 15 || vl[1] >= 15)
		abort(); /* pg_catalog_row() took it: at most 10 digits */
	memcpy(num, v[0], (size_t)vl[0]);
	num[vl[0]] = '\0';
	*oid = (uint32_t)strtoul(num, NULL, 10);
	memcpy(num, v[1], (size_t)vl[1]);
	num[vl[1]] = '\0';
	*att = (int16_t)atoi(num);
	/* PostgreSQL names are C strings; a NUL cuts the name short. */
	for (int i = 2; i < 5; i++)
		if (memchr(v[i], '\0', (size_t)vl[i]))
			return NULL;
	name = malloc((size_t)vl[2] + vl[3] + vl[4] + 3);
	if (!name)
		abort();
	for (int i = 2; i < 5; i++) {
		memcpy(name + n, v[i], (size_t)vl[i]);
		n += (size_t)vl[i];
		name[n++] = i < 4 ? '.' : '\0';
	}
	return name;
}

static void check_out(const struct pg_buf *out, int changed)
{

	if (!changed)
		return;
	/* A rebuilt message: type, length that covers the rest. */
	if (out->len < 5)
		abort();
	for (size_t i = 0; i < out->len; i++)
		sink += out->data[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_rowdesc rd;
	struct pg_catalog cat;
	struct pg_buf out;
	int have_rd = 0;
	size_t off = 0, nk = 0;
	int many = 0;
	struct {
		uint32_t oid;
		int16_t att;
		char *name;
	} k[16];

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
			if (pg_catalog_row(&cat, body, len) != 0)
				break;
			if (nk == sizeof(k) / sizeof(k[0])) {
				many = 1;
				break;
			}
			k[nk].name = expected_name(body, len, &k[nk].oid,
						   &k[nk].att);
			nk++;
			break;
		}
		free(body);
	}
	pg_catalog_done(&cat);
	/* Each row's name comes back as written (when its oid and column
	 * number are not given twice, where either may win). */
	for (size_t i = 0; i < nk; i++) {
		const char *got = pg_catalog_find(&cat, k[i].oid, k[i].att);
		int dup = 0;

		for (size_t j = 0; j < nk; j++)
			dup |= j != i && k[j].oid == k[i].oid &&
			       k[j].att == k[i].att;
		if (!many && !dup && k[i].name &&
		    (!got || strcmp(got, k[i].name) != 0))
			abort();
		free(k[i].name);
	}
	if (have_rd) {
		pg_rowdesc_qualify(&rd, &cat);
		for (uint16_t i = 0; i < rd.n; i++)
			if (rd.cols[i].qname)
				sink += strlen(rd.cols[i].qname);
	}
	(void)pg_catalog_find(&cat, 1, 1);
	pg_rowdesc_free(&rd);
	pg_catalog_free(&cat);
	pg_buf_free(&out);
	return 0;
}
