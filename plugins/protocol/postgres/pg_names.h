/*
 * Inside the statement classifier (pg_classify.c): the walk over one
 * statement's parse tree, and pg_names.c, which turns what it finds into
 * the names policy sees (tables, functions, objects of utility
 * statements) and knows which calls and settings matter to the gateway.
 */
#ifndef PG_NAMES_H
#define PG_NAMES_H

#include <stddef.h>

#include <json-c/json.h>

#include "pg_classify.h"

/* CTE names a walk keeps in scope at once; more count as tables. */
#define PG_MAX_SCOPE 64

struct walk {
	struct pg_stmt *st;
	const char *scope[PG_MAX_SCOPE]; /* CTE names in scope (borrowed) */
	size_t nscope;
	int oom;
	int too_many; /* more than PG_MAX_NAMES tables or functions */
	int runs_sql; /* calls a function that runs SQL text it is given */
	const char *row_name; /* pg_settings_row_name() of the statement */
	int in_setop;         /* inside a UNION, INTERSECT or EXCEPT */
	int copying;          /* inside what a write copies into a table */
	int refs_more;        /* more output refs than kept */
	int derived;          /* a FROM item is a subquery, function or CTE */
	const char *aliases[PG_MAX_SCOPE]; /* tables' names and aliases */
	size_t naliases;
	int aliases_more;
};

/* pg_classify.c */
int pg_in_list(const char *const *list, const char *s);
/* {"Type": {...}} -> "Type", {...}; -1 when w is not one */
int pg_node_unwrap(json_object *w, const char **type, json_object **node);

/* pg_names.c */
/* Keep name (malloc'd, taken) in arr unless there already; NULL or past
 * PG_MAX_NAMES marks the walk, which then refuses the statement. */
void pg_add_name(struct walk *w, char **arr, size_t *n, char *name);
/* "schema.name" of a RangeVar, or "\1name" when unqualified. */
char *pg_rangevar_name(json_object *rv);
/* A name list joined with dots, without a catalog part. */
char *pg_join_names(json_object *list);
/* Unqualified names get "public." (and pg_ ones "pg_catalog." too). */
void pg_qualify_tables(struct walk *w);
/* Tables a utility statement of type reaches without a RangeVar. */
void pg_object_names(struct walk *w, const char *type, json_object *node);
int pg_has_name(char *const *arr, size_t n, const char *name);
/* PG_FLAG_SEARCH_PATH / PG_FLAG_CLIENT_ENCODING for a set_config()
 * FuncCall o. */
unsigned pg_set_config_flags(json_object *o, const char *row_name);
/* The setting pg_dump's set_config(name, ...) FROM pg_settings WHERE
 * name = '...' changes (the only statement shape for which row_name is
 * given), or NULL. */
const char *pg_settings_row_name(json_object *select);
/* PG_FLAG_SEARCH_PATH / PG_FLAG_CLIENT_ENCODING for SET name (kind
 * VAR_SET_VALUE, ...) TO args. */
unsigned pg_set_stmt_flags(const char *name, const char *kind,
			   json_object *args);
/* Note in the statement what the targets of list (a targetList or a
 * returningList) compute results from (pg_stmt.refs). */
void pg_output_refs(struct walk *w, json_object *list);
/* Every column reference inside expression o, as computed from. */
void pg_expr_refs(struct walk *w, json_object *o);
/* Each String of list (USING columns) as computed from. */
void pg_names_refs(struct walk *w, json_object *list);
/* A name a row may be referred to by (a table's, an alias). */
void pg_note_alias(struct walk *w, const char *name);
/* After the walk: which "r:" refs are whole rows (pg_stmt.refs). */
void pg_refs_done(struct walk *w);
/* Whether FuncCall o runs SQL text (query_to_xml, ts_stat, ...). */
int pg_runs_sql(json_object *o);

#endif /* PG_NAMES_H */
