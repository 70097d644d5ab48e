/*
 * Statement classification: libpg_query turns the text into PostgreSQL's
 * own parse tree (as JSON, read with json-c, which the core already links),
 * and we read the class off the top node and the tables, functions and
 * flags off a walk of the whole tree.  Anything that does not parse is
 * refused by the caller; a node type we do not know counts as DDL, the
 * class policies guard most.
 */
#include "pg_classify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <pg_query.h>

#include "pg_names.h"
#include "pg_readings.h"

static const char *const class_names[] = {
	[PG_CLASS_READ] = "read",       [PG_CLASS_WRITE] = "write",
	[PG_CLASS_DDL] = "ddl",         [PG_CLASS_DCL] = "dcl",
	[PG_CLASS_TCL] = "tcl",         [PG_CLASS_UTILITY] = "utility",
	[PG_CLASS_COPY] = "copy",       [PG_CLASS_COPY_SERVER] = "copy_server",
	[PG_CLASS_DYNAMIC] = "dynamic",
};

static const char *const flag_names[PG_NFLAGS] = {
	"delete_without_where", "update_without_where", "modifying_cte",
	"explain_analyze", "explain", "select_into", "locking", "copy_in",
	"copy_out", "program", "truncate", "set_role", "prepare", "binary",
	"writes", "dynamic", "server_file", "search_path", "client_encoding",
};

static const char *const kind_names[] = {
	[PG_KIND_SELECT] = "select", [PG_KIND_INSERT] = "insert",
	[PG_KIND_UPDATE] = "update", [PG_KIND_DELETE] = "delete",
	[PG_KIND_DDL] = "ddl",       [PG_KIND_DCL] = "dcl",
	[PG_KIND_COPY] = "copy",     [PG_KIND_SHOW] = "show",
	[PG_KIND_EXPLAIN] = "explain", [PG_KIND_SET] = "set",
	[PG_KIND_TRANSACTION] = "transaction", [PG_KIND_CALL] = "call",
	[PG_KIND_OTHER] = "other",
};

const char *pg_kind_name(int kind)
{
	if (kind < 0 || (size_t)kind >= sizeof(kind_names) / sizeof(*kind_names))
		return "other";
	return kind_names[kind];
}

const char *pg_class_name(int cls)
{
	if (cls < 0 || (size_t)cls >= sizeof(class_names) / sizeof(*class_names))
		return "ddl";
	return class_names[cls];
}

const char *pg_flag_name(unsigned i)
{
	return i < PG_NFLAGS ? flag_names[i] : "unknown";
}

/* Node types by class; anything not listed is DDL. */
static const char *const read_nodes[] = {"SelectStmt", "VariableShowStmt",
					 NULL};
static const char *const write_nodes[] = {
	"InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt",
	"TruncateStmt", "CallStmt", NULL};
static const char *const tcl_nodes[] = {"TransactionStmt", NULL};
static const char *const dcl_nodes[] = {
	"GrantStmt", "GrantRoleStmt", "CreateRoleStmt", "AlterRoleStmt",
	"AlterRoleSetStmt", "DropRoleStmt", "AlterDefaultPrivilegesStmt",
	"ReassignOwnedStmt", "DropOwnedStmt", "AlterOwnerStmt",
	"CreateUserMappingStmt", "AlterUserMappingStmt",
	"DropUserMappingStmt", NULL};
static const char *const utility_nodes[] = {
	"VariableSetStmt", "DiscardStmt", "ListenStmt", "UnlistenStmt",
	"NotifyStmt", "CheckPointStmt", "VacuumStmt", "ClusterStmt",
	"ReindexStmt", "LockStmt", "FetchStmt", "ClosePortalStmt",
	"DeallocateStmt", "ConstraintsSetStmt", NULL};
static const char *const dynamic_nodes[] = {"DoStmt", "CreateFunctionStmt",
					    "ExecuteStmt", NULL};

int pg_in_list(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

/* The single key of a node wrapper {"SelectStmt": {...}}. */
int pg_node_unwrap(json_object *w, const char **type, json_object **node)
{
	struct json_object_iterator it, end;

	if (!w || !json_object_is_type(w, json_type_object) ||
	    json_object_object_length(w) != 1)
		return -1;
	it = json_object_iter_begin(w);
	end = json_object_iter_end(w);
	if (json_object_iter_equal(&it, &end))
		return -1;
	*type = json_object_iter_peek_name(&it);
	*node = json_object_iter_peek_value(&it);
	return json_object_is_type(*node, json_type_object) ? 0 : -1;
}

json_object *pg_json_get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object))
		return NULL;
	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

const char *pg_json_get_str(json_object *o, const char *key)
{
	json_object *v = pg_json_get(o, key);

	return v && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}


static int is_modifying(const char *type)
{
	return strcmp(type, "InsertStmt") == 0 ||
	       strcmp(type, "UpdateStmt") == 0 ||
	       strcmp(type, "DeleteStmt") == 0 ||
	       strcmp(type, "MergeStmt") == 0;
}

static void walk_node(struct walk *w, const char *key, json_object *o);

static int in_scope(const struct walk *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->nscope; i++)
		if (strcmp(w->scope[i], name) == 0)
			return 1;
	return 0;
}

static void push_scope(struct walk *w, json_object *cte)
{
	const char *name = pg_json_get_str(
		pg_json_get(cte, "CommonTableExpr"), "ctename");

	/* past the stack a CTE's references count as tables: over-reported */
	if (name && w->nscope < PG_MAX_SCOPE)
		w->scope[w->nscope++] = name;
}

/* A WITH clause: each CTE's body sees the CTEs before it (all of them
 * when RECURSIVE), not its own name otherwise. */
static void walk_with(struct walk *w, json_object *with)
{
	json_object *ctes = pg_json_get(with, "ctes");
	size_t i, n = ctes && json_object_is_type(ctes, json_type_array)
			      ? json_object_array_length(ctes)
			      : 0;
	int recursive = pg_json_get(with, "recursive") != NULL;

	for (i = 0; recursive && i < n; i++)
		push_scope(w, json_object_array_get_idx(ctes, i));
	for (i = 0; i < n; i++) {
		walk_node(w, NULL, json_object_array_get_idx(ctes, i));
		if (!recursive)
			push_scope(w, json_object_array_get_idx(ctes, i));
	}
}

static void walk_object(struct walk *w, const char *key, json_object *o)
{
	const char *type;
	json_object *node, *with;
	size_t base = w->nscope;
	char *name;
	int setop, copying;

	/* A RangeVar, wrapped or in a typed field such as "relation".  A
	 * bare name is a CTE's where one is in scope, except as the target
	 * of a write ("relation"), which is always a table. */
	if (pg_json_get_str(o, "relname")) {
		pg_note_alias(w, pg_json_get_str(o, "relname"));
		pg_note_alias(w, pg_json_get_str(pg_json_get(o, "alias"),
						 "aliasname"));
		name = pg_rangevar_name(o);
		if (name && name[0] == '\1' && in_scope(w, name + 1) &&
		    !(key && (strcmp(key, "relation") == 0 ||
			      strcmp(key, "rel") == 0))) {
			free(name);
			w->derived = 1; /* a CTE's columns may be renamed */
		}
		else
			pg_add_name(w, w->st->tables, &w->st->ntables, name);
	}
	/* A function call (FuncCall has funcformat; CREATE FUNCTION has
	 * funcname too but is recorded by the caller). */
	if (pg_json_get(o, "funcname") && pg_json_get(o, "funcformat")) {
		pg_add_name(w, w->st->functions, &w->st->nfunctions,
			 pg_join_names(pg_json_get(o, "funcname")));
		w->st->flags |= pg_set_config_flags(o, w->row_name);
		if (pg_runs_sql(o))
			w->runs_sql = 1;
	}
	if (pg_node_unwrap(pg_json_get(o, "ctequery"), &type, &node) == 0 &&
	    is_modifying(type))
		w->st->flags |= PG_FLAG_MODIFYING_CTE;

	/* what the query's results are computed from (pg_classify.h) */
	setop = pg_json_get_str(o, "op") &&
		strcmp(pg_json_get_str(o, "op"), "SETOP_NONE") != 0;
	copying = key && (strcmp(key, "InsertStmt") == 0 ||
			  strcmp(key, "UpdateStmt") == 0);
	if (key && strcmp(key, "UpdateStmt") == 0) {
		w->copying++; /* SET col = ssn copies the value */
		pg_output_refs(w, pg_json_get(o, "targetList"));
		w->copying--;
	} else {
		pg_output_refs(w, pg_json_get(o, "targetList"));
	}
	pg_output_refs(w, pg_json_get(o, "returningList"));
	/* values not from a target list: VALUES, a function in FROM
	 * (unnest(array[ssn])), a FULL JOIN's merged USING columns, a
	 * cast (its error quotes the value) */
	pg_expr_refs(w, pg_json_get(o, "valuesLists"));
	if (key && (strcmp(key, "RangeFunction") == 0 ||
		    strcmp(key, "RangeSubselect") == 0 ||
		    strcmp(key, "RangeTableFunc") == 0)) {
		w->derived = 1;
		pg_note_alias(w, pg_json_get_str(pg_json_get(o, "alias"),
						 "aliasname"));
		pg_expr_refs(w, pg_json_get(o, "functions"));
	}
	if (key && strcmp(key, "JoinExpr") == 0 &&
	    !strcmp(pg_json_get_str(o, "jointype") ?: "", "JOIN_FULL")) {
		pg_names_refs(w, pg_json_get(o, "usingClause"));
		if (pg_json_get(o, "isNatural"))
			w->refs_more = 1;
	}
	if (key && strcmp(key, "TypeCast") == 0)
		pg_expr_refs(w, pg_json_get(o, "arg"));
	w->in_setop += setop;
	w->copying += copying;

	/* a query's CTEs are in scope for the rest of it */
	with = pg_json_get(o, "withClause");
	if (with)
		walk_with(w, with);
	json_object_object_foreach(o, k, v)
	{
		if (!with || strcmp(k, "withClause") != 0)
			walk_node(w, k, v);
	}
	w->nscope = base;
	w->in_setop -= setop;
	w->copying -= copying;
}

static void walk_node(struct walk *w, const char *key, json_object *o)
{
	size_t i, n;

	if (!o)
		return;
	if (json_object_is_type(o, json_type_array)) {
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			walk_node(w, NULL, json_object_array_get_idx(o, i));
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	/* Row-changing statements anywhere (top level, CTE, EXPLAIN,
	 * PREPARE) are checked for a missing WHERE. */
	if (key && strcmp(key, "DeleteStmt") == 0 && !pg_json_get(o, "whereClause"))
		w->st->flags |= PG_FLAG_DELETE_NO_WHERE;
	if (key && strcmp(key, "UpdateStmt") == 0 && !pg_json_get(o, "whereClause"))
		w->st->flags |= PG_FLAG_UPDATE_NO_WHERE;
	walk_object(w, key, o);
}

/* Whether DefElem el is option name: 1 with *arg its value (NULL when
 * it has none), else 0. */
static int defelem_match(json_object *el, const char *name, const char **arg)
{
	const char *type;
	json_object *node, *a, *an;

	if (pg_node_unwrap(el, &type, &node) < 0 || strcmp(type, "DefElem") != 0 ||
	    !pg_json_get_str(node, "defname") ||
	    strcmp(pg_json_get_str(node, "defname"), name) != 0)
		return 0;
	*arg = NULL;
	a = pg_json_get(node, "arg");
	if (a && pg_node_unwrap(a, &type, &an) == 0) {
		if (strcmp(type, "String") == 0)
			*arg = pg_json_get_str(an, "sval");
		else if (strcmp(type, "Boolean") == 0)
			*arg = pg_json_get(an, "boolval") ? "true" : "false";
	}
	return 1;
}

static size_t n_opts(json_object *opts)
{
	return opts && json_object_is_type(opts, json_type_array)
		       ? json_object_array_length(opts)
		       : 0;
}

/* Option name of opts: the last one given, as PostgreSQL takes it. */
static int defelem_is(json_object *opts, const char *name, const char **arg)
{
	size_t i, n = n_opts(opts);
	const char *a;
	int found = 0;

	for (i = 0; i < n; i++)
		if (defelem_match(json_object_array_get_idx(opts, i), name, &a)) {
			*arg = a;
			found = 1;
		}
	return found;
}

static int falsy(const char *s);

/* Whether any option name of opts is not clearly false: a repeated
 * option (EXPLAIN (ANALYZE off, ANALYZE)) counts as on, fail closed. */
static int defelem_any_true(json_object *opts, const char *name)
{
	size_t i, n = n_opts(opts);
	const char *a;

	for (i = 0; i < n; i++)
		if (defelem_match(json_object_array_get_idx(opts, i), name,
				  &a) &&
		    !falsy(a))
			return 1;
	return 0;
}

static int falsy(const char *s)
{
	return s && (strcmp(s, "false") == 0 || strcmp(s, "off") == 0 ||
		     strcmp(s, "0") == 0 || strcmp(s, "no") == 0);
}

static int class_of(struct pg_stmt *st, const char *type, json_object *node);

/* Statements that wrap another: classified by what they run. */
static int class_of_inner(struct pg_stmt *st, json_object *inner, int dflt)
{
	const char *type;
	json_object *node;

	if (pg_node_unwrap(inner, &type, &node) < 0)
		return dflt;
	return class_of(st, type, node);
}

static int kind_of(const char *type, int cls);

static int class_of_copy(struct pg_stmt *st, json_object *node)
{
	const char *arg = NULL, *type;
	json_object *inner;

	st->flags |= pg_json_get(node, "is_from") ? PG_FLAG_COPY_IN : PG_FLAG_COPY_OUT;
	if (pg_json_get(node, "is_program"))
		st->flags |= PG_FLAG_PROGRAM;
	if (defelem_is(pg_json_get(node, "options"), "format", &arg) && arg &&
	    strcmp(arg, "binary") == 0)
		st->flags |= PG_FLAG_BINARY;
	/* COPY (DELETE ... RETURNING) TO STDOUT deletes: it is what its
	 * query does, with the COPY's flags */
	if (pg_node_unwrap(pg_json_get(node, "query"), &type, &inner) == 0 &&
	    is_modifying(type)) {
		st->kind = kind_of(type, PG_CLASS_WRITE);
		st->kind_set = 1;
		st->flags |= PG_FLAG_WRITES;
		/* ... to a server file or program stays copy_server */
		if (pg_json_get(node, "filename") ||
		    pg_json_get(node, "is_program"))
			return PG_CLASS_COPY_SERVER;
		return PG_CLASS_WRITE;
	}
	if (pg_json_get(node, "filename") || pg_json_get(node, "is_program"))
		return PG_CLASS_COPY_SERVER;
	return PG_CLASS_COPY;
}

/* The policy.md statement kind of a concrete (unwrapped) node. */
static int kind_of(const char *type, int cls)
{
	static const struct {
		const char *type;
		int kind;
	} map[] = {
		{"SelectStmt", PG_KIND_SELECT},  {"InsertStmt", PG_KIND_INSERT},
		{"UpdateStmt", PG_KIND_UPDATE},  {"MergeStmt", PG_KIND_UPDATE},
		{"DeleteStmt", PG_KIND_DELETE},  {"TruncateStmt", PG_KIND_DELETE},
		{"CopyStmt", PG_KIND_COPY},      {"VariableShowStmt", PG_KIND_SHOW},
		{"ExplainStmt", PG_KIND_EXPLAIN}, {"VariableSetStmt", PG_KIND_SET},
		{"TransactionStmt", PG_KIND_TRANSACTION},
		{"CallStmt", PG_KIND_CALL},      {"CreateFunctionStmt", PG_KIND_DDL},
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(*map); i++)
		if (strcmp(map[i].type, type) == 0)
			return map[i].kind;
	if (cls == PG_CLASS_DDL)
		return PG_KIND_DDL;
	if (cls == PG_CLASS_DCL)
		return PG_KIND_DCL;
	return PG_KIND_OTHER;
}

static int class_of_node(struct pg_stmt *st, const char *type,
			 json_object *node);

static int class_of(struct pg_stmt *st, const char *type, json_object *node)
{
	int cls = class_of_node(st, type, node);

	/* wrappers (EXPLAIN ANALYZE, PREPARE, DECLARE) set the kind of what
	 * they wrap first; a kind already set by the inner node stays */
	if (!st->kind_set) {
		st->kind = (st->flags & PG_FLAG_SELECT_INTO) ? PG_KIND_DDL
							       : kind_of(type, cls);
		st->kind_set = 1;
	}
	if (cls == PG_CLASS_WRITE || (st->flags & PG_FLAG_SELECT_INTO))
		st->flags |= PG_FLAG_WRITES;
	if (cls == PG_CLASS_DYNAMIC)
		st->flags |= PG_FLAG_DYNAMIC;
	if (cls == PG_CLASS_COPY || cls == PG_CLASS_COPY_SERVER) {
		if (st->flags & PG_FLAG_COPY_IN)
			st->flags |= PG_FLAG_WRITES;
		if (cls == PG_CLASS_COPY_SERVER)
			st->flags |= PG_FLAG_SERVER_FILE;
	}
	return cls;
}

static int class_of_node(struct pg_stmt *st, const char *type,
			 json_object *node)
{
	const char *name, *kind;

	if (strcmp(type, "ExplainStmt") == 0) {
		if (defelem_any_true(pg_json_get(node, "options"), "analyze")) {
			st->flags |= PG_FLAG_EXPLAIN_ANALYZE;
			return class_of_inner(st, pg_json_get(node, "query"),
					      PG_CLASS_DDL);
		}
		st->flags |= PG_FLAG_EXPLAIN;
		return PG_CLASS_READ;
	}
	if (strcmp(type, "PrepareStmt") == 0) {
		st->flags |= PG_FLAG_PREPARE;
		return class_of_inner(st, pg_json_get(node, "query"), PG_CLASS_DDL);
	}
	if (strcmp(type, "DeclareCursorStmt") == 0)
		return class_of_inner(st, pg_json_get(node, "query"), PG_CLASS_DDL);
	if (strcmp(type, "CreateTableAsStmt") == 0) {
		const char *inner_type;
		json_object *inner;
		/* CREATE TABLE ... AS EXECUTE q runs a prepared statement
		 * the gateway cannot see, like EXECUTE itself */
		if (pg_node_unwrap(pg_json_get(node, "query"), &inner_type,
				&inner) == 0 &&
		    strcmp(inner_type, "ExecuteStmt") == 0)
			return PG_CLASS_DYNAMIC;
	}
	if (strcmp(type, "CopyStmt") == 0)
		return class_of_copy(st, node);
	if (strcmp(type, "SelectStmt") == 0) {
		if (pg_json_get(node, "intoClause")) {
			st->flags |= PG_FLAG_SELECT_INTO;
			return PG_CLASS_DDL;
		}
		if (pg_json_get(node, "lockingClause"))
			st->flags |= PG_FLAG_LOCKING;
		return PG_CLASS_READ;
	}
	if (strcmp(type, "TruncateStmt") == 0)
		st->flags |= PG_FLAG_TRUNCATE;
	if (strcmp(type, "VariableSetStmt") == 0) {
		name = pg_json_get_str(node, "name");
		if (name && (strcmp(name, "role") == 0 ||
			     strcmp(name, "session_authorization") == 0))
			st->flags |= PG_FLAG_SET_ROLE;
		/* RESET and DEFAULT go back to the startup value, which the
		 * gateway set or saw; any other value of search_path moves
		 * unqualified names, of client_encoding changes the bytes */
		kind = pg_json_get_str(node, "kind");
		if (name && kind && strcmp(kind, "VAR_RESET") != 0 &&
		    strcmp(kind, "VAR_SET_DEFAULT") != 0)
			st->flags |= pg_set_stmt_flags(name, kind,
						       pg_json_get(node, "args"));
	}
	if (pg_in_list(read_nodes, type))
		return PG_CLASS_READ;
	if (pg_in_list(write_nodes, type))
		return PG_CLASS_WRITE;
	if (pg_in_list(tcl_nodes, type))
		return PG_CLASS_TCL;
	if (pg_in_list(dcl_nodes, type))
		return PG_CLASS_DCL;
	if (pg_in_list(utility_nodes, type))
		return PG_CLASS_UTILITY;
	if (pg_in_list(dynamic_nodes, type))
		return PG_CLASS_DYNAMIC;
	return PG_CLASS_DDL;
}

static char *slice_text(const char *sql, size_t sqllen, json_object *s,
			size_t *at)
{
	json_object *loc = pg_json_get(s, "stmt_location"), *len = pg_json_get(s, "stmt_len");
	int64_t off = loc ? json_object_get_int64(loc) : 0;
	int64_t n = len ? json_object_get_int64(len) : 0;

	if (off < 0 || (size_t)off > sqllen)
		off = (int64_t)sqllen;
	if (n <= 0 || (size_t)n > sqllen - (size_t)off)
		n = (int64_t)(sqllen - (size_t)off);
	while (n > 0 && strchr(" \t\r\n", sql[off])) {
		off++;
		n--;
	}
	*at = (size_t)off;
	return strndup(sql + off, (size_t)n);
}

static int classify_one(const char *sql, json_object *s, struct pg_stmt *st)
{
	struct walk w;
	const char *type;
	json_object *node, *wrap = pg_json_get(s, "stmt");

	memset(&w, 0, sizeof(w));
	w.st = st;
	if (pg_node_unwrap(wrap, &type, &node) < 0)
		return -1;
	st->command = strdup(type);
	st->text = slice_text(sql, strlen(sql), s, &st->text_off);
	if (!st->command || !st->text)
		return -1;
	st->cls = class_of(st, type, node);
	if (strcmp(type, "CreateFunctionStmt") == 0)
		pg_add_name(&w, st->functions, &st->nfunctions,
			 pg_join_names(pg_json_get(node, "funcname")));
	pg_object_names(&w, type, node);
	if (strcmp(type, "SelectStmt") == 0)
		w.row_name = pg_settings_row_name(node);
	walk_node(&w, NULL, wrap);
	pg_qualify_tables(&w);
	pg_refs_done(&w);
	st->refs_more = w.refs_more;
	if (w.oom)
		return -1;
	if (w.too_many)
		return -2;
	/* what the text it runs does is not in the tree: dynamic, like DO */
	if (w.runs_sql) {
		st->cls = PG_CLASS_DYNAMIC;
		st->flags |= PG_FLAG_DYNAMIC;
	}
	/* pg_settings' rule calls set_config(): UPDATE pg_settings SET
	 * setting = 'hr' WHERE name = 'search_path' moves names too */
	if ((st->cls == PG_CLASS_WRITE || (st->flags & PG_FLAG_WRITES)) &&
	    pg_has_name(st->tables, st->ntables, "pg_catalog.pg_settings"))
		st->flags |= PG_FLAG_SEARCH_PATH;
	/* A CTE that changes rows makes the whole statement a write. */
	if (st->flags & PG_FLAG_MODIFYING_CTE) {
		st->flags |= PG_FLAG_WRITES;
		if (st->cls == PG_CLASS_READ || st->cls == PG_CLASS_COPY)
			st->cls = PG_CLASS_WRITE;
	}
	return 0;
}

/* json-c's default depth (32) is far below what ordinary queries nest
 * to; past PG_MAX_DEPTH the statement is refused rather than walked. */
#define PG_MAX_DEPTH 1000

static json_object *parse_tree_json(const char *text)
{
	struct json_tokener *tok = json_tokener_new_ex(PG_MAX_DEPTH);
	json_object *o;

	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, text, (int)strlen(text));
	if (json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* Classify one reading (pg_readings.h) of sql: text is sql or a
 * variant of the same length, so statement texts are cut from sql. */
static int classify_reading(const char *sql, const char *text, int scs,
			    struct pg_classified *out)
{
	PgQueryParseResult r;
	json_object *root = NULL, *stmts;
	size_t i, n;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	r = pg_parse_reading(text, scs);
	if (r.error) {
		snprintf(out->error, sizeof(out->error), "%s",
			 r.error->message ? r.error->message : "parse error");
		if (pg_parse_refused(&r))
			rc = -3;
		goto done;
	}
	root = parse_tree_json(r.parse_tree);
	if (!root) {
		snprintf(out->error, sizeof(out->error),
			 "statement nested too deeply");
		goto done;
	}
	stmts = pg_json_get(root, "stmts");
	if (!stmts) { /* empty query: only comments or semicolons */
		rc = 0;
		goto done;
	}
	n = json_object_array_length(stmts);
	out->stmts = calloc(n ? n : 1, sizeof(*out->stmts));
	if (!out->stmts) {
		snprintf(out->error, sizeof(out->error), "out of memory");
		goto done;
	}
	for (i = 0; i < n; i++) {
		out->n = i + 1;
		rc = classify_one(sql, json_object_array_get_idx(stmts, i),
				  &out->stmts[i]);
		if (rc < 0) {
			snprintf(out->error, sizeof(out->error),
				 rc == -2 ? "statement %zu names more than 32 "
					    "tables or functions, more than "
					    "policy is shown"
					  : "statement %zu could not be "
					    "classified",
				 i + 1);
			rc = -1;
			goto done;
		}
	}
	rc = 0;
done:
	json_object_put(root);
	pg_query_free_parse_result(r);
	return rc;
}

static int same_names(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return 0;
	for (i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return 1;
}

static int same_stmt(const struct pg_stmt *a, const struct pg_stmt *b)
{
	return a->cls == b->cls && a->kind == b->kind &&
	       a->flags == b->flags && a->text_off == b->text_off &&
	       !strcmp(a->command, b->command) && !strcmp(a->text, b->text) &&
	       same_names(a->tables, a->ntables, b->tables, b->ntables) &&
	       same_names(a->functions, a->nfunctions, b->functions,
			  b->nfunctions) &&
	       same_names(a->refs, a->nrefs, b->refs, b->nrefs) &&
	       a->refs_more == b->refs_more;
}

struct readings {
	const char *sql;
	struct pg_classified *out;
	size_t parsed;   /* readings that parsed */
	char error[256]; /* the first reading's error */
};

/* Add one reading's statements that no earlier reading had. */
static int add_reading(const char *text, int scs, void *ud)
{
	struct readings *rd = ud;
	struct pg_classified c, *out = rd->out;
	struct pg_stmt *grown;
	size_t i, j;
	int rc;

	rc = classify_reading(rd->sql, text, scs, &c);
	if (rc < 0) {
		/* A syntax error is the server's too, in a session that
		 * reads the text so: it runs nothing.  Any other failure
		 * (too deep, too many names, an encoding the parser checks
		 * as UTF8, memory) says nothing of what the server would
		 * do with it: the whole text is refused. */
		if (rc != -3 || !rd->error[0])
			memcpy(rd->error, c.error, sizeof(rd->error));
		pg_classified_free(&c);
		return rc == -3 ? 0 : -1;
	}
	rd->parsed++;
	grown = realloc(out->stmts, (out->n + c.n + 1) * sizeof(*grown));
	if (!grown) {
		pg_classified_free(&c);
		return -1;
	}
	out->stmts = grown;
	for (i = 0; i < c.n; i++) {
		for (j = 0; j < out->n && !same_stmt(&out->stmts[j], &c.stmts[i]);
		     j++)
			;
		if (j == out->n) {
			out->stmts[out->n++] = c.stmts[i];
			memset(&c.stmts[i], 0, sizeof(c.stmts[i]));
		}
	}
	pg_classified_free(&c);
	return 0;
}

int pg_classify(const char *sql, struct pg_classified *out)
{
	return pg_classify_flags(sql, 0, out);
}

int pg_classify_flags(const char *sql, unsigned flags,
		      struct pg_classified *out)
{
	struct readings rd = {.sql = sql, .out = out};
	const char *why = "out of memory";

	if (!strchr(sql, '\\'))
		return classify_reading(sql, sql, 1, out) < 0 ? -1 : 0;
	memset(out, 0, sizeof(*out));
	if (pg_readings(sql, flags, add_reading, &rd, &why) < 0) {
		snprintf(out->error, sizeof(out->error), "%s",
			 rd.error[0] ? rd.error : why);
		return -1;
	}
	if (rd.parsed == 0) {
		memcpy(out->error, rd.error, sizeof(out->error));
		return -1;
	}
	return 0;
}

void pg_classified_free(struct pg_classified *c)
{
	size_t i, j;
	struct pg_stmt *st;

	if (c->borrowed) {
		c->stmts = NULL;
		c->n = 0;
		c->borrowed = 0;
		return;
	}
	for (i = 0; i < c->n; i++) {
		st = &c->stmts[i];
		free(st->command);
		free(st->text);
		for (j = 0; j < st->ntables; j++)
			free(st->tables[j]);
		for (j = 0; j < st->nfunctions; j++)
			free(st->functions[j]);
		for (j = 0; j < st->nrefs; j++)
			free(st->refs[j]);
	}
	free(c->stmts);
	c->stmts = NULL;
	c->n = 0;
}
