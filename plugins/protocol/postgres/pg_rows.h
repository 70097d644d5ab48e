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

#include <jitgate/mask.h>

#include "pg_msg.h"

/* One column of a RowDescription. */
struct pg_column {
	char *name;        /* the result column name (an alias if any) */
	const char *qname; /* "schema.table.column" from the catalog, or NULL */
	uint32_t table_oid;
	int16_t attnum;
	uint32_t type_oid;
	int16_t format; /* 0 text, 1 binary */
	uint8_t kind;   /* this row's value: enum pg_value_kind (scratch) */
	int32_t vlen;   /* this row's value length (scratch) */
};

/*
 * A description and what masking its rows needs: one mask item per
 * column, kept for the whole result so each column's rule hint
 * (struct jg_mask_item) is resolved once, not once per row.
 */
struct pg_rowdesc {
	uint16_t n;
	struct pg_column *cols;
	struct jg_mask_item *items; /* n of them */
};

/*
 * Column names for column rules.  A result column that comes straight
 * from a table carries its table OID and column number in RowDescription;
 * the catalog, read once at session start with PG_CATALOG_QUERY on the
 * upstream connection before the client sees ReadyForQuery, turns them
 * into "schema.table.column", so an alias does not escape a rule.
 * Computed columns (table OID 0) and tables the catalog did not list
 * (created later, or past PG_CATALOG_MAX) keep their result name.
 */
struct pg_colname {
	uint32_t oid;
	int16_t attnum;
	char *name; /* "schema.table.column" */
};

struct pg_catalog {
	struct pg_colname *v;
	size_t n, cap;
	int truncated; /* more than PG_CATALOG_MAX columns */
	int failed;    /* the query failed: result names only */
};

#define PG_CATALOG_MAX 200000
#define PG_CATALOG_QUERY                                                     \
	"SELECT c.oid, a.attnum, n.nspname, c.relname, a.attname "          \
	"FROM pg_catalog.pg_attribute a "                                    \
	"JOIN pg_catalog.pg_class c ON c.oid = a.attrelid "                  \
	"JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "          \
	"WHERE a.attnum > 0 AND NOT a.attisdropped "                         \
	"AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "                        \
	"AND n.nspname <> 'pg_catalog' AND n.nspname <> 'information_schema' " \
	"LIMIT 200001"

/* One DataRow of PG_CATALOG_QUERY.  -1: malformed or out of memory. */
int pg_catalog_row(struct pg_catalog *c, const uint8_t *body, size_t len);
/* All rows are in: sort for look-ups. */
void pg_catalog_done(struct pg_catalog *c);
const char *pg_catalog_find(const struct pg_catalog *c, uint32_t oid,
			    int16_t attnum);
void pg_catalog_free(struct pg_catalog *c);
/* Fill rd's qname from c (may be NULL).  Returns how many columns come
 * from a table (OID and column number set) that c could not name. */
size_t pg_rowdesc_qualify(struct pg_rowdesc *rd, const struct pg_catalog *c);

int pg_rowdesc_parse(struct pg_rowdesc *rd, const uint8_t *body, size_t len,
		     const char **why);
void pg_rowdesc_free(struct pg_rowdesc *rd);

/* Mask one value: the host's mask_value with the session bound in ud. */
typedef int (*pg_mask_fn)(void *ud, const char *column, const char *in,
			  size_t len, const char **out, size_t *outlen,
			  int *changed);
/* Mask n values at once: the host's mask_values.  0 or -1 (send none). */
typedef int (*pg_mask_values_fn)(void *ud, struct jg_mask_item *v,
				 size_t n);

/*
 * pg_mask_values_fn over a pg_mask_fn, for a host without mask_values
 * (and tests): each changed value is copied into buf, since the one-value
 * masker's output lasts only until its next call.
 */
struct pg_mask_each {
	pg_mask_fn fn;
	void *ud;
	struct pg_buf buf;
};
int pg_mask_values_each(void *ud, struct jg_mask_item *v, size_t n);

/*
 * Mask the values of a DataRow body in one fn call, each under its
 * column's qname, else its result name, and its type.  rd may be NULL or
 * not match (then values are masked with no column name: detectors
 * only).  A value masking makes NULL is sent as NULL; a binary value that
 * is not text is not given to the detectors, but a column rule that
 * would change it makes it NULL.  On a change, out holds the whole
 * rebuilt 'D' message and *changed is 1.  -1: the row is malformed or
 * masking failed; it must not be sent.
 */
int pg_datarow_mask_values(struct pg_rowdesc *rd, const uint8_t *body,
			   size_t len, pg_mask_values_fn fn, void *ud,
			   struct pg_buf *out, int *changed, const char **why);
/* The same, one fn call per value (through pg_mask_values_each). */
int pg_datarow_mask(struct pg_rowdesc *rd, const uint8_t *body, size_t len,
		    pg_mask_fn fn, void *ud, struct pg_buf *out, int *changed,
		    const char **why);

/*
 * Same for the free-text messages: 'N'/'E' (every field), 'A' (the
 * payload) and 'S' (the value).
 */
int pg_text_msg_mask(uint8_t type, const uint8_t *body, size_t len,
		     pg_mask_fn fn, void *ud, struct pg_buf *out, int *changed,
		     const char **why);

#endif /* PG_ROWS_H */
