/*
 * Result masking: RowDescription parsing and rebuilding DataRow,
 * NoticeResponse/ErrorResponse, NotificationResponse and ParameterStatus
 * messages whose values masking changes.  A message nothing changes is
 * sent on as it came.
 */
#ifndef PG_ROWS_H
#define PG_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "pg_msg.h"

/* One column of a RowDescription. */
struct pg_column {
	char *name;
	uint32_t table_oid;
	int16_t attnum;
	uint32_t type_oid;
	int16_t format; /* 0 text, 1 binary */
};

struct pg_rowdesc {
	uint16_t n;
	struct pg_column *cols;
};

int pg_rowdesc_parse(struct pg_rowdesc *rd, const uint8_t *body, size_t len,
		     const char **why);
void pg_rowdesc_free(struct pg_rowdesc *rd);

/* Mask one value: the host's mask_value with the session bound in ud. */
typedef int (*pg_mask_fn)(void *ud, const char *column, const char *in,
			  size_t len, const char **out, size_t *outlen,
			  int *changed);

/*
 * Mask the values of a DataRow body.  rd may be NULL or not match (then
 * values are masked with no column name: detectors only).  On a change,
 * out holds the whole rebuilt 'D' message and *changed is 1.  -1: the
 * row is malformed or masking failed; it must not be sent.
 */
int pg_datarow_mask(const struct pg_rowdesc *rd, const uint8_t *body,
		    size_t len, pg_mask_fn fn, void *ud, struct pg_buf *out,
		    int *changed, const char **why);

/*
 * Same for the free-text messages: 'N'/'E' (every field), 'A' (the
 * payload) and 'S' (the value).
 */
int pg_text_msg_mask(uint8_t type, const uint8_t *body, size_t len,
		     pg_mask_fn fn, void *ud, struct pg_buf *out, int *changed,
		     const char **why);

#endif /* PG_ROWS_H */
