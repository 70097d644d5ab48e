/*
 * The names policy sees for a statement: tables (qualified the way the
 * server will resolve them, with the gateway's search_path), functions,
 * the objects utility statements reach; and the calls and settings the
 * gateway must know about.  See pg_names.h.
 */
#include "pg_names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Join items [from, to) of a list of {"String":{"sval":..}} with dots.
 * A three-part name is catalog.schema.name, and the server insists the
 * catalog is the current database: it is left out. */
static char *join_range(json_object *list, size_t from, size_t to)
{
	char buf[256];
	size_t i, off = 0;
	const char *type, *s;
	json_object *node;

	if (!list || !json_object_is_type(list, json_type_array))
		return NULL;
	if (to > json_object_array_length(list))
		to = json_object_array_length(list);
	if (to > from && to - from == 3)
		from++;
	buf[0] = 0;
	for (i = from; i < to; i++) {
		if (pg_node_unwrap(json_object_array_get_idx(list, i), &type,
				&node) < 0 ||
		    strcmp(type, "String") != 0)
			continue;
		s = pg_json_get_str(node, "sval");
		if (!s)
			continue;
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
					off ? "." : "", s);
		if (off >= sizeof(buf))
			return NULL;
	}
	return off ? strdup(buf) : NULL;
}

/* Join a whole name list with dots: "schema.func". */
char *pg_join_names(json_object *list)
{
	return join_range(list, 0, (size_t)-1);
}

void pg_add_name(struct walk *w, char **arr, size_t *n, char *name)
{
	size_t i;

	if (!name) { /* out of memory, or a name too long to keep */
		w->oom = 1;
		return;
	}
	for (i = 0; i < *n; i++) {
		if (strcmp(arr[i], name) == 0) {
			free(name);
			return;
		}
	}
	if (*n == PG_MAX_NAMES) {
		/* policy must see every name (a deny rule may name the
		 * last one): the statement is refused */
		free(name);
		w->too_many = 1;
		return;
	}
	arr[(*n)++] = name;
}

char *pg_rangevar_name(json_object *rv)
{
	const char *rel = pg_json_get_str(rv, "relname");
	const char *sch = pg_json_get_str(rv, "schemaname");
	char *s = NULL;

	if (!rel)
		return NULL;
	/* "\1name" marks an unqualified name until CTE names are known */
	if (asprintf(&s, "%s%s%s", sch ? sch : "\1", sch ? "." : "", rel) < 0)
		return NULL;
	return s;
}

/* The last part of FuncCall o's name, or NULL. */
static const char *func_last(json_object *o)
{
	json_object *fn = pg_json_get(o, "funcname");
	size_t n = fn && json_object_is_type(fn, json_type_array)
			   ? json_object_array_length(fn)
			   : 0;

	return n ? pg_json_get_str(pg_json_get(json_object_array_get_idx(
						       fn, n - 1),
					       "String"),
				   "sval")
		 : NULL;
}

/* Whether encoding name e is UTF8 as PostgreSQL reads names: case and
 * anything but letters and digits ignored, "unicode" an alias. */
static int is_utf8_name(const char *e)
{
	char b[16];
	size_t n = 0;

	for (; e && *e && n < sizeof(b) - 1; e++)
		if ((*e >= 'a' && *e <= 'z') || (*e >= '0' && *e <= '9'))
			b[n++] = *e;
		else if (*e >= 'A' && *e <= 'Z')
			b[n++] = (char)(*e - 'A' + 'a');
	b[n] = 0;
	return e && !*e && (!strcmp(b, "utf8") || !strcmp(b, "unicode"));
}

/* The string constant of argument i of a node's list args, or NULL. */
static const char *const_arg(json_object *args, size_t i)
{
	json_object *c = args && json_object_is_type(args, json_type_array) &&
					 json_object_array_length(args) > i
				 ? pg_json_get(json_object_array_get_idx(args, i),
					       "A_Const")
				 : NULL;

	return pg_json_get_str(pg_json_get(c, "sval"), "sval");
}

/* What setting name to value does to the settings the gateway keeps
 * (search_path, client_encoding): PG_FLAG_* bits.  value NULL: not a
 * constant. */
/* Whether a search_path value (a comma-separated list, as set_config()
 * takes it) holds only public and pg_catalog, or nothing: unqualified
 * names then resolve where the gateway reports them (an empty path,
 * which pg_dump sets, resolves only pg_catalog's, which it reports for
 * pg_ names and over-reports as public's otherwise). */
static int search_path_kept(const char *v)
{
	const char *p = v, *e;
	size_t n;

	if (!v)
		return 0;
	for (;;) {
		while (*p == ' ' || *p == '"')
			p++;
		e = p + strcspn(p, ",");
		n = (size_t)(e - p);
		while (n && (p[n - 1] == ' ' || p[n - 1] == '"'))
			n--;
		if (n && !(n == 6 && !strncasecmp(p, "public", 6)) &&
		    !(n == 10 && !strncasecmp(p, "pg_catalog", 10)))
			return 0;
		if (!*e)
			return 1;
		p = e + 1;
	}
}

static unsigned setting_flags(const char *name, const char *value)
{
	if (!name) /* computed: could be either */
		return PG_FLAG_SEARCH_PATH | PG_FLAG_CLIENT_ENCODING;
	if (strcasecmp(name, "search_path") == 0)
		return search_path_kept(value) ? 0 : PG_FLAG_SEARCH_PATH;
	if (strcasecmp(name, "client_encoding") == 0 && !is_utf8_name(value))
		return PG_FLAG_CLIENT_ENCODING;
	return 0;
}

unsigned pg_set_stmt_flags(const char *name, const char *kind,
			   json_object *args)
{
	size_t i, n = args && json_object_is_type(args, json_type_array)
			      ? json_object_array_length(args)
			      : 0;
	unsigned f = 0;

	if (strcmp(kind, "VAR_SET_VALUE") != 0) /* FROM CURRENT, ... */
		return setting_flags(name, NULL);
	/* SET search_path TO public, hr: every element counts */
	for (i = 0; i < n || i == 0; i++)
		f |= setting_flags(name, const_arg(args, i));
	return f;
}

/* FuncCall o: set_config(name, value, local) changing a kept setting. */
/* Whether o is a ColumnRef of the single field name. */
static int column_is(json_object *o, const char *name)
{
	json_object *f = pg_json_get(pg_json_get(o, "ColumnRef"), "fields");

	return f && json_object_is_type(f, json_type_array) &&
	       json_object_array_length(f) == 1 &&
	       !strcmp(pg_json_get_str(pg_json_get(json_object_array_get_idx(
						       f, 0),
					       "String"),
				   "sval") ?: "",
		       name);
}

static size_t arr_len(json_object *a)
{
	return a && json_object_is_type(a, json_type_array)
		       ? json_object_array_length(a)
		       : 0;
}

/*
 * pg_dump's "SELECT set_config(name, 'v', false) FROM pg_settings WHERE
 * name = 'setting'": the setting it changes, read off a SelectStmt of
 * exactly that shape and nothing else (no subquery could hide another
 * row's name); NULL for any other statement.
 */
const char *pg_settings_row_name(json_object *sel)
{
	json_object *t, *call, *from, *rv, *where, *op;
	const char *sch;

	json_object_object_foreach(sel, k, v)
	{
		(void)v;
		if (strcmp(k, "targetList") && strcmp(k, "fromClause") &&
		    strcmp(k, "whereClause") && strcmp(k, "limitOption") &&
		    strcmp(k, "op"))
			return NULL;
	}
	t = pg_json_get(sel, "targetList");
	from = pg_json_get(sel, "fromClause");
	if (arr_len(t) != 1 || arr_len(from) != 1)
		return NULL;
	call = pg_json_get(pg_json_get(pg_json_get(json_object_array_get_idx(
							   t, 0),
						   "ResTarget"),
				       "val"),
			   "FuncCall");
	if (!call || strcmp(func_last(call) ?: "", "set_config") ||
	    arr_len(pg_json_get(call, "args")) != 3 ||
	    !column_is(json_object_array_get_idx(pg_json_get(call, "args"), 0),
		       "name") ||
	    !const_arg(pg_json_get(call, "args"), 1))
		return NULL;
	rv = pg_json_get(json_object_array_get_idx(from, 0), "RangeVar");
	sch = pg_json_get_str(rv, "schemaname");
	if (!rv || strcmp(pg_json_get_str(rv, "relname") ?: "", "pg_settings") ||
	    (sch && strcmp(sch, "pg_catalog")))
		return NULL;
	where = pg_json_get(pg_json_get(sel, "whereClause"), "A_Expr");
	op = pg_json_get(where, "name");
	if (!where || arr_len(op) != 1 ||
	    strcmp(pg_json_get_str(pg_json_get(json_object_array_get_idx(op, 0),
					       "String"),
				   "sval") ?: "",
		   "=") ||
	    strcmp(pg_json_get_str(where, "kind") ?: "", "AEXPR_OP") ||
	    !column_is(pg_json_get(where, "lexpr"), "name"))
		return NULL;
	return pg_json_get_str(
		pg_json_get(pg_json_get(pg_json_get(where, "rexpr"), "A_Const"),
			    "sval"),
		"sval");
}

unsigned pg_set_config_flags(json_object *o, const char *row_name)
{
	const char *last = func_last(o), *name;
	json_object *args = pg_json_get(o, "args");

	if (!last || strcmp(last, "set_config") != 0)
		return 0;
	name = const_arg(args, 0);
	if (!name && row_name && column_is(json_object_array_get_idx(args, 0),
					   "name"))
		name = row_name;
	return setting_flags(name, const_arg(args, 1));
}

/* Built-in functions that run SQL text, or read a table or schema named
 * by a string: what they touch is not in the statement's tree. */
int pg_runs_sql(json_object *o)
{
	static const char *const fns[] = {
		"query_to_xml", "query_to_xmlschema",
		"query_to_xml_and_xmlschema", "table_to_xml",
		"table_to_xmlschema", "table_to_xml_and_xmlschema",
		"schema_to_xml", "schema_to_xmlschema",
		"schema_to_xml_and_xmlschema", "database_to_xml",
		"database_to_xmlschema", "database_to_xml_and_xmlschema",
		"cursor_to_xml", "cursor_to_xmlschema", "ts_stat", "ts_rewrite",
		NULL};
	const char *last = func_last(o);

	return last && pg_in_list(fns, last);
}

/* Unqualified names get "public." (see pg_classify.h); the walk has
 * already left out references to CTEs in scope. */
void pg_qualify_tables(struct walk *w)
{
	size_t j, k;
	char *q;

	for (j = 0; j < w->st->ntables;) {
		if (w->st->tables[j][0] != '\1') {
			j++;
			continue;
		}
		q = NULL;
		if (asprintf(&q, "public.%s", w->st->tables[j] + 1) < 0) {
			q = NULL;
			w->oom = 1; /* a name policy would miss: refused */
		}
		/* pg_catalog comes before public in every search_path, and
		 * its relations are all named pg_...: such a name is either */
		if (q && !strncmp(w->st->tables[j] + 1, "pg_", 3)) {
			char *sys = NULL;

			if (asprintf(&sys, "pg_catalog.%s",
				     w->st->tables[j] + 1) < 0)
				sys = NULL; /* marks the walk: refused */
			pg_add_name(w, w->st->tables, &w->st->ntables, sys);
		}
		free(w->st->tables[j]);
		if (q) {
			w->st->tables[j++] = q;
			continue;
		}
		for (k = j + 1; k < w->st->ntables; k++)
			w->st->tables[k - 1] = w->st->tables[k];
		w->st->ntables--;
	}
	/* a name seen both ways ("t" and "public.t") is kept once */
	for (j = 0; j < w->st->ntables; j++)
		for (k = j + 1; k < w->st->ntables;) {
			if (strcmp(w->st->tables[j], w->st->tables[k]) == 0) {
				free(w->st->tables[k]);
				w->st->tables[k] = w->st->tables[--w->st->ntables];
			} else {
				k++;
			}
		}
}

/* Add a table named by items [from, to) of a name list; a bare name is
 * marked to be qualified like a RangeVar's. */
static void add_object(struct walk *w, json_object *items, size_t from,
		       size_t to)
{
	char *name = join_range(items, from, to), *q = NULL;

	if (name && !strchr(name, '.')) {
		if (asprintf(&q, "\1%s", name) < 0)
			q = NULL;
		free(name);
		name = q;
	}
	pg_add_name(w, w->st->tables, &w->st->ntables, name);
}

/* A table value for a statement that reaches every table of schema
 * (sch.*, which rules naming sch.* match), or of the database ("*",
 * which only a rule naming "*" matches: guard those by class). */
static void add_all(struct walk *w, const char *sch)
{
	char *v = NULL;

	if (asprintf(&v, "%s%s*", sch ? sch : "", sch ? "." : "") < 0)
		v = NULL;
	pg_add_name(w, w->st->tables, &w->st->ntables, v);
}

static int is_type(const char *t, const char *const *list)
{
	return t && pg_in_list(list, t);
}

/* The table an object of type t (OBJECT_...) named by obj lives in: a
 * table, view, sequence or index itself; a trigger, policy, rule,
 * constraint or column on one (its name list ends in the object's). */
static void add_typed_object(struct walk *w, const char *t, json_object *obj)
{
	static const char *const rel[] = {
		"OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW",
		"OBJECT_FOREIGN_TABLE", "OBJECT_SEQUENCE", "OBJECT_INDEX",
		NULL};
	static const char *const on[] = {
		"OBJECT_TRIGGER", "OBJECT_POLICY", "OBJECT_RULE",
		"OBJECT_TABCONSTRAINT", "OBJECT_COLUMN", NULL};
	const char *type;
	json_object *inner, *items;
	size_t n;

	if (pg_node_unwrap(obj, &type, &inner) < 0)
		return;
	if (strcmp(type, "String") == 0) {
		if (t && strcmp(t, "OBJECT_SCHEMA") == 0)
			add_all(w, pg_json_get_str(inner, "sval"));
		return;
	}
	if (strcmp(type, "List") != 0)
		return;
	items = pg_json_get(inner, "items");
	n = items && json_object_is_type(items, json_type_array)
		    ? json_object_array_length(items)
		    : 0;
	if (is_type(t, rel))
		add_object(w, items, 0, n);
	else if (is_type(t, on) && n >= 2)
		add_object(w, items, 0, n - 1);
}

/*
 * Tables a utility statement reaches without a RangeVar: DROP TABLE a, b
 * and DROP TRIGGER t ON a (name lists), COMMENT ON and SECURITY LABEL ON
 * a table or its column, ALTER EXTENSION ... ADD TABLE; a schema's
 * every table (DROP SCHEMA, ALTER SCHEMA, GRANT ... ON ALL TABLES IN
 * SCHEMA); every table (DROP OWNED, REASSIGN OWNED, ALTER TABLE ALL IN
 * TABLESPACE).
 */
void pg_object_names(struct walk *w, const char *type, json_object *node)
{
	json_object *objs;
	size_t i, n;

	if (strcmp(type, "DropStmt") == 0) {
		objs = pg_json_get(node, "objects");
		n = objs && json_object_is_type(objs, json_type_array)
			    ? json_object_array_length(objs)
			    : 0;
		for (i = 0; i < n; i++)
			add_typed_object(w,
					 pg_json_get_str(node, "removeType"),
					 json_object_array_get_idx(objs, i));
	} else if (strcmp(type, "CommentStmt") == 0 ||
		   strcmp(type, "SecLabelStmt") == 0 ||
		   strcmp(type, "AlterExtensionContentsStmt") == 0) {
		add_typed_object(w, pg_json_get_str(node, "objtype"),
				 pg_json_get(node, "object"));
	} else if (strcmp(type, "AlterOwnerStmt") == 0) {
		add_typed_object(w, pg_json_get_str(node, "objectType"),
				 pg_json_get(node, "object"));
	} else if (strcmp(type, "RenameStmt") == 0 &&
		   !strcmp(pg_json_get_str(node, "renameType") ?: "",
			   "OBJECT_SCHEMA")) {
		add_all(w, pg_json_get_str(node, "subname"));
	} else if (strcmp(type, "GrantStmt") == 0 &&
		   !strcmp(pg_json_get_str(node, "targtype") ?: "",
			   "ACL_TARGET_ALL_IN_SCHEMA")) {
		objs = pg_json_get(node, "objects");
		n = objs && json_object_is_type(objs, json_type_array)
			    ? json_object_array_length(objs)
			    : 0;
		for (i = 0; i < n; i++)
			add_typed_object(w, "OBJECT_SCHEMA",
					 json_object_array_get_idx(objs, i));
	} else if (strcmp(type, "DropOwnedStmt") == 0 ||
		   strcmp(type, "ReassignOwnedStmt") == 0 ||
		   strcmp(type, "AlterTableMoveAllStmt") == 0) {
		add_all(w, NULL);
	}
}

int pg_has_name(char *const *arr, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(arr[i], name) == 0)
			return 1;
	return 0;
}

/* Add "c:name" or "r:name" to the statement's refs. */
static void add_ref(struct walk *w, const char *kind, const char *name)
{
	char *r = NULL;
	size_t i;

	if (asprintf(&r, "%s%s", kind, name) < 0) {
		w->oom = 1;
		return;
	}
	for (i = 0; i < w->st->nrefs; i++)
		if (strcmp(w->st->refs[i], r) == 0) {
			free(r);
			return;
		}
	if (w->st->nrefs == PG_MAX_NAMES) {
		free(r);
		w->refs_more = 1; /* checked as any column of any table */
		return;
	}
	w->st->refs[w->st->nrefs++] = r;
}

/* Every column reference inside an expression o. */
void pg_expr_refs(struct walk *w, json_object *o)
{
	json_object *f;
	const char *s;
	size_t i, n;

	if (!o)
		return;
	if (json_object_is_type(o, json_type_array)) {
		n = json_object_array_length(o);
		for (i = 0; i < n; i++)
			pg_expr_refs(w, json_object_array_get_idx(o, i));
		return;
	}
	if (!json_object_is_type(o, json_type_object))
		return;
	f = pg_json_get(pg_json_get(o, "ColumnRef"), "fields");
	if ((n = arr_len(f)) > 0) {
		json_object *last = json_object_array_get_idx(f, n - 1);

		if (pg_json_get(last, "A_Star")) {
			s = n >= 2 ? pg_json_get_str(pg_json_get(
							     json_object_array_get_idx(
								     f, n - 2),
							     "String"),
						     "sval")
				   : "*";
			add_ref(w, "r:", s ? s : "*");
		} else if ((s = pg_json_get_str(pg_json_get(last, "String"),
						"sval"))) {
			add_ref(w, "c:", s);
			if (n == 1) /* a bare name may be a whole row */
				add_ref(w, "r:", s);
		}
		return;
	}
	json_object_object_foreach(o, k, v)
	{
		(void)k;
		pg_expr_refs(w, v);
	}
}

/* A target whose value reaches the client with its column's name: a
 * bare column or a star, outside a set operation (whose columns carry
 * no table) and outside what a write copies into a table. */
static int names_itself(const struct walk *w, json_object *val)
{
	json_object *f = pg_json_get(pg_json_get(val, "ColumnRef"), "fields");
	size_t i, n = arr_len(f);

	if (w->in_setop || w->copying || n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(f, i);

		if (!pg_json_get(e, "String") &&
		    !(i == n - 1 && pg_json_get(e, "A_Star")))
			return 0;
	}
	return 1;
}

/* The last String of a plain ColumnRef's fields, with how many there
 * are; NULL for a star. */
static const char *plain_name(json_object *val, size_t *n)
{
	json_object *f = pg_json_get(pg_json_get(val, "ColumnRef"), "fields");

	*n = arr_len(f);
	return *n ? pg_json_get_str(pg_json_get(json_object_array_get_idx(
							f, *n - 1),
						"String"),
				    "sval")
		  : NULL;
}

void pg_output_refs(struct walk *w, json_object *list)
{
	size_t i, n = arr_len(list), parts;
	json_object *val;
	const char *name;

	for (i = 0; i < n; i++) {
		val = pg_json_get(pg_json_get(json_object_array_get_idx(list, i),
					      "ResTarget"),
				  "val");
		if (!val)
			continue;
		if (names_itself(w, val)) {
			/* a bare name may be a whole row (SELECT p FROM
			 * people p), a.b a function of a row (p.to_json):
			 * the guard checks they are columns */
			name = plain_name(val, &parts);
			if (name)
				add_ref(w, parts == 1 ? "r:" : "p:", name);
			continue;
		}
		pg_expr_refs(w, val);
	}
}

void pg_note_alias(struct walk *w, const char *name)
{
	if (!name)
		return;
	if (w->naliases == PG_MAX_SCOPE)
		w->aliases_more = 1;
	else
		w->aliases[w->naliases++] = name;
}

void pg_names_refs(struct walk *w, json_object *list)
{
	size_t i, n = arr_len(list);
	const char *s;

	for (i = 0; i < n; i++)
		if ((s = pg_json_get_str(pg_json_get(json_object_array_get_idx(
							     list, i),
						     "String"),
					 "sval")))
			add_ref(w, "c:", s);
}

/* "r:name" is a whole row only where name is a table's or an alias;
 * another bare name is a column ("p:", checked as one). */
void pg_refs_done(struct walk *w)
{
	struct pg_stmt *st = w->st;
	size_t i, j;
	int alias;

	for (i = 0; i < st->nrefs && !w->aliases_more; i++) {
		if (st->refs[i][0] != 'r' || strcmp(st->refs[i] + 2, "*") == 0)
			continue;
		for (alias = 0, j = 0; j < w->naliases && !alias; j++)
			alias = strcmp(w->aliases[j], st->refs[i] + 2) == 0;
		if (!alias)
			st->refs[i][0] = 'p';
	}
	st->refs_derived = w->derived;
}
