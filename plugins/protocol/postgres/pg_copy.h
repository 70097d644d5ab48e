/*
 * COPY ... TO STDOUT under masking.
 *
 * The columns of a COPY come from its statement: COPY table (a, b) names
 * them, COPY table takes the table's columns in order from the catalog
 * (pg_rows.h), and COPY (query) cannot name them reliably, so while
 * column rules apply the relay refuses it (pg_relay.c).  The statement
 * also gives the format: text or CSV, delimiter, quote, escape, the NULL
 * string, a header line.
 *
 * The rows arrive in CopyData messages cut anywhere (PostgreSQL sends a
 * row per message, the protocol does not promise it): a row not complete
 * at the end of a message is held back until the rest comes.  Each
 * complete row is split into its fields (text escapes, CSV quotes), the
 * fields masked in one call as a DataRow's values are, and a changed
 * field written back in the same format; unchanged fields keep their
 * bytes.
 */
#ifndef PG_COPY_H
#define PG_COPY_H

#include <stddef.h>
#include <stdint.h>

#include "pg_msg.h"
#include "pg_rows.h"

/* How the rows of a COPY are written. */
struct pg_copy_format {
	int csv;
	char delim;    /* '\t' in text, ',' in CSV */
	char quote;    /* CSV only: '"' */
	char escape;   /* CSV only: the quote unless given */
	char *null;    /* "\\N" in text, "" in CSV (malloc'd) */
	size_t null_len;
	int header;    /* a first line of column names */
};

/* One COPY ... TO STDOUT statement. */
struct pg_copy_spec {
	struct pg_copy_spec *next;
	struct pg_copy_format fmt;
	int binary;    /* FORMAT binary */
	int query;     /* COPY (query) TO: no column names */
	int encoding;  /* an ENCODING option: bytes the splitter cannot read */
	char *table;   /* "schema.table", or the bare name until
			  pg_copy_name() finds its schema */
	int qualified; /* the statement gave the schema */
	size_t ncols;  /* the statement's column list, 0 if none */
	char **cols;
	/* filled in by the relay */
	uint64_t epoch; /* the ReadyForQuery that ends its Query */
	size_t nnames;  /* "schema.table.column" per column, or 0: unknown */
	char **names;
	const char *why; /* why pg_copy_name() failed (static text) */
};

/*
 * The COPY ... TO STDOUT statements of sql, in order, as a list (*out,
 * NULL if none).  0, or -1 when sql does not parse or memory ran out (the
 * server will not run what does not parse; the caller decides), or -2
 * when the server could read the text in ways (pg_readings.h) that give
 * different COPY statements: nothing about its rows can be trusted.
 */
int pg_copy_specs(const char *sql, struct pg_copy_spec **out);
/* The same, with *others set to the number of the other statements. */
int pg_copy_specs_n(const char *sql, struct pg_copy_spec **out,
		    size_t *others);
void pg_copy_spec_free(struct pg_copy_spec *s); /* the whole list */
/* Non-zero if sql may hold a COPY (a cheap look before parsing). */
int pg_copy_maybe(const char *sql);

/*
 * Name the columns of s from the catalog c: the table must be there (a
 * bare name in exactly one schema; s->table becomes "schema.table"), and
 * the columns are its list, each of which must be the table's, else the
 * table's columns in order.  0 with s->names set, or -1 with s->why: they
 * cannot be named (a query, a table or column the catalog does not have,
 * an ambiguous name, no complete catalog, out of memory).
 */
int pg_copy_name(struct pg_copy_spec *s, const struct pg_catalog *c);

/* Whether COPY rows in this client_encoding (the server's name for it)
 * cannot be split: the client-only encodings, or none known (NULL). */
int pg_copy_encoding_unsafe(const char *name);
/* Whether a CommandComplete tag is of a statement that may have changed
 * tables or columns since the catalog was read. */
int pg_copy_ddl_tag(const char *tag);
/* Whether sql may change the session's search_path (a loose look). */
int pg_copy_sets_search_path(const char *sql);

/* The rows of one COPY to the client being masked. */
struct pg_copy_out {
	struct pg_copy_format fmt;
	int by_field;        /* fields known: split and mask each; else
				each whole row is one value (detectors) */
	uint16_t n;          /* columns (CopyOutResponse) */
	struct jg_mask_item *items; /* n (by_field) or 1, hints kept */
	char **names;        /* n column names or NULL (owned) */
	struct pg_buf pend;  /* a row not complete yet */
	int quoted;          /* CSV: pend ends inside quotes */
	int last_esc;        /* CSV: pend ends in an escape inside quotes */
	int header;          /* the next row is the header line */
	struct pg_buf dec;   /* decoded field values of the current row */
	size_t *fs, *fe;     /* each field's raw bytes [fs, fe) */
	size_t *vs, *ve;     /* its value in dec, or in the row ((size_t)-1
				in vs[i]: the field is NULL) */
	uint8_t *inrow;      /* the value is the row's bytes, not dec's */
	struct pg_buf out;   /* the payload to send */
};

/* A longest row held back: longer, the COPY fails closed. */
#define PG_COPY_ROW_MAX (64U << 20)

/*
 * Start masking the rows of a COPY of n columns.  spec may be NULL (the
 * statement is not known: whole rows go to the detectors); otherwise its
 * format applies and its names (if any, and n of them) name the fields.
 * -1: out of memory.
 */
int pg_copy_out_begin(struct pg_copy_out *co, struct pg_copy_spec *spec,
		      uint16_t n);
void pg_copy_out_free(struct pg_copy_out *co);

/*
 * The next CopyData payload p[0, len).  Complete rows are masked and
 * appended to co->out; the rest is held back.  *same is set when co->out
 * is exactly p (nothing held, nothing changed: send the message as it
 * came).  -1 with *why: a row is malformed or masking failed (send
 * nothing).
 */
int pg_copy_out_data(struct pg_copy_out *co, const uint8_t *p, size_t len,
		     pg_mask_values_fn fn, void *ud, int *same,
		     const char **why);
/* CopyDone: a last row without its newline is masked into co->out. */
int pg_copy_out_done(struct pg_copy_out *co, pg_mask_values_fn fn, void *ud,
		     const char **why);

/*
 * A session's COPY bookkeeping (pg_relay.c): the COPY ... TO STDOUT
 * statements sent upstream whose rows have not come yet, oldest first,
 * and the COPY being masked.
 */
struct pg_copy_state {
	struct pg_copy_spec *specs;
	struct pg_copy_out out;
	int active;
	int ext_open;     /* Parse/Bind/Execute sent, its Sync not yet: the
			     ReadyForQuery count cannot place a Query */
	int search_path;  /* the client may have changed search_path */
	int stale;        /* a DDL statement completed since the catalog
			     was read */
	int enc_known;    /* the server reported client_encoding... */
	int enc_unsafe;   /* ...and it is one COPY rows cannot be split in */
};
void pg_copy_state_free(struct pg_copy_state *cs);

/* ---- pg_copy_relay.c, for pg_relay.c ---- */
struct pg_session;

/* The host's mask_values with the session in ud (DataRow, COPY). */
int pg_mask_values_host(void *ud, struct jg_mask_item *v, size_t n);
/* A frontend message going upstream: a Query's COPY TO STDOUT
 * statements are noted (and a Parse's looked at); -1 when one cannot be
 * masked and the message was refused instead. */
int pg_copy_sent(struct pg_session *ps, const uint8_t *p, size_t n);
/* A backend message the COPY masking follows: ParameterStatus
 * (client_encoding) and CommandComplete (DDL), at startup too. */
void pg_copy_backend(struct pg_session *ps, const struct pg_frame *f);
/* CopyOutResponse while masking: 0, or -1 (the session ended). */
int pg_copy_out_start(struct pg_session *ps, const struct pg_frame *f);
/* CopyData (or, with done, CopyDone) while masking: *out and *outlen get
 * what to send (left alone: the message as it came).  -1 with *why:
 * nothing may be sent. */
int pg_copy_out_message(struct pg_session *ps, const struct pg_frame *f,
			const uint8_t *msg, int done, const uint8_t **out,
			size_t *outlen, const char **why);
/* The COPY being masked is over (or aborted): drop what it held. */
void pg_copy_end(struct pg_session *ps);

#endif /* PG_COPY_H */
