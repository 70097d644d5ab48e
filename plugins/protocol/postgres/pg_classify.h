/*
 * Statement classification with PostgreSQL's own parser (libpg_query).
 * A query string becomes one entry per statement: its class, the tables
 * and functions it touches and risk flags, which the relay hands to
 * policy as the attributes of an action of type "sql".
 */
#ifndef PG_CLASSIFY_H
#define PG_CLASSIFY_H

#include <stddef.h>

enum pg_class {
	PG_CLASS_READ = 0,    /* SELECT, SHOW, EXPLAIN without ANALYZE */
	PG_CLASS_WRITE,       /* INSERT, UPDATE, DELETE, MERGE, TRUNCATE, CALL */
	PG_CLASS_DDL,         /* CREATE, ALTER, DROP, ... (and the unknown) */
	PG_CLASS_DCL,         /* GRANT, REVOKE, roles */
	PG_CLASS_TCL,         /* BEGIN, COMMIT, ROLLBACK, SAVEPOINT */
	PG_CLASS_UTILITY,     /* SET, VACUUM, LISTEN, cursors, ... */
	PG_CLASS_COPY,        /* COPY to or from the client */
	PG_CLASS_COPY_SERVER, /* COPY to or from a server file or program */
	PG_CLASS_DYNAMIC      /* DO, CREATE FUNCTION/PROCEDURE, EXECUTE */
};

/* Flags: bits of pg_stmt.flags; names via pg_flag_name(). */
#define PG_FLAG_DELETE_NO_WHERE (1u << 0)
#define PG_FLAG_UPDATE_NO_WHERE (1u << 1)
#define PG_FLAG_MODIFYING_CTE (1u << 2)
#define PG_FLAG_EXPLAIN_ANALYZE (1u << 3)
#define PG_FLAG_EXPLAIN (1u << 4)
#define PG_FLAG_SELECT_INTO (1u << 5)
#define PG_FLAG_LOCKING (1u << 6)
#define PG_FLAG_COPY_IN (1u << 7)
#define PG_FLAG_COPY_OUT (1u << 8)
#define PG_FLAG_PROGRAM (1u << 9)
#define PG_FLAG_TRUNCATE (1u << 10)
#define PG_FLAG_SET_ROLE (1u << 11)
#define PG_FLAG_PREPARE (1u << 12)
#define PG_FLAG_BINARY (1u << 13)
#define PG_FLAG_WRITES (1u << 14)
#define PG_FLAG_DYNAMIC (1u << 15)
#define PG_FLAG_SERVER_FILE (1u << 16)
/* SET search_path, or a set_config() that may set it: unqualified names
 * would no longer resolve where the gateway reports them */
#define PG_FLAG_SEARCH_PATH (1u << 17)
/* SET client_encoding (or set_config) to anything but UTF8: the bytes
 * the gateway classifies would no longer be the text the server reads */
#define PG_FLAG_CLIENT_ENCODING (1u << 18)
#define PG_NFLAGS 19

/*
 * The statement kinds of docs/policy.md (attribute "class"); enum
 * pg_class above is the coarser grouping (attribute "category").
 */
enum pg_kind {
	PG_KIND_SELECT = 0, PG_KIND_INSERT, PG_KIND_UPDATE, PG_KIND_DELETE,
	PG_KIND_DDL, PG_KIND_DCL, PG_KIND_COPY, PG_KIND_SHOW, PG_KIND_EXPLAIN,
	PG_KIND_SET, PG_KIND_TRANSACTION, PG_KIND_CALL, PG_KIND_OTHER
};

/* Tables, and functions, policy is shown per statement; a statement
 * naming more does not classify (a deny rule could name the rest). */
#define PG_MAX_NAMES 32

struct pg_stmt {
	int cls;             /* enum pg_class ("category") */
	int kind;            /* enum pg_kind ("class") */
	int kind_set;
	unsigned flags;      /* PG_FLAG_* */
	char *command;       /* parse node name, e.g. "DropStmt" */
	char *text;          /* this statement's own text */
	size_t text_off;     /* where text starts in the classified string */
	size_t ntables;
	char *tables[PG_MAX_NAMES];    /* "schema.name"; unqualified names
	                                  get "public." (the gateway sets
	                                  search_path and refuses changes),
	                                  a pg_ one "pg_catalog." too */
	size_t nfunctions;
	char *functions[PG_MAX_NAMES]; /* "schema.name" or "name" */
	/* What results are computed from (masking cannot name such values):
	 * "c:name" for a column used in an output expression (a target or
	 * RETURNING that is not a bare column, any target of a UNION and
	 * the like), "r:name" for a name there that may be a whole row (a
	 * bare name, name.*), "r:*" for a bare * in an expression, "p:name"
	 * for a target that is a plain column (or a whole row when no
	 * table has such a column). */
	size_t nrefs;
	char *refs[PG_MAX_NAMES];
	int refs_more; /* more than PG_MAX_NAMES: any column may be */
	int refs_derived; /* FROM has a subquery, function or CTE: a name
			     there may be another column's */
};

struct pg_classified {
	size_t n;
	struct pg_stmt *stmts;
	int borrowed;    /* stmts belong to a cache (pg_ccache.h) */
	char error[256]; /* parser message when classification failed */
};

/*
 * Classify every statement of sql (NUL-terminated).  Returns 0, or -1
 * when the text does not parse or memory ran out (error says which):
 * the caller then denies the query.  An empty query yields n == 0.
 * Free with pg_classified_free() in both cases.
 */
int pg_classify(const char *sql, struct pg_classified *out);
/* The same with pg_readings() flags (PG_READINGS_ENCODING_KNOWN). */
int pg_classify_flags(const char *sql, unsigned flags,
		      struct pg_classified *out);
void pg_classified_free(struct pg_classified *c);

/* "read", "write", ... */
const char *pg_class_name(int cls);
/* "select", "insert", ... */
const char *pg_kind_name(int kind);
/* Name of flag bit i (0 .. PG_NFLAGS-1): "delete_without_where", ... */
const char *pg_flag_name(unsigned i);

/* Helpers for walking libpg_query's JSON tree (json-c), shared with
 * pg_copy.c: member key of object o (NULL when o is NULL, not an object
 * or has no such member), and the same when it is a string. */
struct json_object;
struct json_object *pg_json_get(struct json_object *o, const char *key);
const char *pg_json_get_str(struct json_object *o, const char *key);

#endif /* PG_CLASSIFY_H */
