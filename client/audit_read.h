/*
 * Reading session records straight from a store, without a gateway:
 * the file store's directory (--data-dir) or the PostgreSQL store
 * (--conninfo).  Used by `jitgate replay` and `jitgate audit`.
 */
#ifndef JG_AUDIT_READ_H
#define JG_AUDIT_READ_H

#include <stddef.h>

struct audit_src {
	const char *data_dir; /* store_file "dir" */
	const char *conninfo; /* store_postgres "conninfo" (the text) */
	const char *schema;   /* store_postgres "schema" */
};

/* One record as stored: its events' JSON texts in order. */
struct audit_rec {
	char **ev;
	size_t n;
	int damaged;        /* the file has a bad frame after event n-1 */
	size_t bad_offset;  /* where (bytes) */
	int torn;           /* a torn tail follows the events */
};

/*
 * Fill src from --data-dir/--conninfo values or the environment
 * (JITGATE_DATA_DIR, JITGATE_CONNINFO).  Returns -1 (and prints why)
 * when neither is given.
 */
int audit_src_init(struct audit_src *src);

/* Record ids, oldest first.  -1 on error (printed). */
int audit_list(const struct audit_src *src, char ***ids, size_t *n);
void audit_list_free(char **ids, size_t n);

/* Read one record.  0, 1 when there is no such record, -1 on error. */
int audit_read(const struct audit_src *src, const char *id,
	       struct audit_rec *out);
void audit_rec_free(struct audit_rec *r);

/* Resolve "env:NAME" or "file:PATH" (one trailing newline dropped, as
 * the gateway does).  malloc'd; NULL with the reason printed. */
char *audit_secret(const char *ref, size_t *len);

/* Common options of replay and audit. */
#define AUDIT_OPT_DATA_DIR 2000
#define AUDIT_OPT_CONNINFO 2001
#define AUDIT_OPT_SCHEMA 2002
#define AUDIT_SOURCE_OPTIONS                                                  \
	{"data-dir", required_argument, NULL, AUDIT_OPT_DATA_DIR},            \
	{"conninfo", required_argument, NULL, AUDIT_OPT_CONNINFO},            \
	{"schema", required_argument, NULL, AUDIT_OPT_SCHEMA}
#define AUDIT_SOURCE_HELP                                                     \
	"      --data-dir DIR     store_file directory "                      \
	"($JITGATE_DATA_DIR)\n"                                               \
	"      --conninfo REF     store_postgres connection, env:NAME or "    \
	"file:PATH\n"                                                         \
	"                         ($JITGATE_CONNINFO holds the string)\n"     \
	"      --schema NAME      store_postgres schema (jitgate)\n"
/* 1 if taken, 0 if not a source option, -1 on error. */
int audit_source_option(struct audit_src *src, int ch, const char *arg);

#endif
