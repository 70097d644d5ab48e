/*
 * What a COPY ... TO STDOUT statement says about its rows: columns and
 * format, from PostgreSQL's own parser (libpg_query), and the columns
 * named from the catalog.  See pg_copy.h.
 */
#include "pg_copy.h"
#include "pg_classify.h"
#include "pg_readings.h"

#include <json-c/json.h>
#include <pg_query.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* json-c's default depth is too small for real statements (as in
 * pg_classify.c); deeper than this, the text is refused. */
#define COPY_MAX_DEPTH 1000

/* {"Type": {...}} -> "Type", {...} */
static json_object *unwrap(json_object *w, const char *want)
{
	struct json_object_iterator it, end;

	if (!w || !json_object_is_type(w, json_type_object) ||
	    json_object_object_length(w) != 1)
		return NULL;
	it = json_object_iter_begin(w);
	end = json_object_iter_end(w);
	if (json_object_iter_equal(&it, &end) ||
	    strcmp(json_object_iter_peek_name(&it), want) != 0)
		return NULL;
	return json_object_iter_peek_value(&it);
}

int pg_copy_maybe(const char *sql)
{
	return sql && strcasestr(sql, "copy") != NULL;
}

void pg_copy_spec_free(struct pg_copy_spec *s)
{
	while (s) {
		struct pg_copy_spec *next = s->next;
		size_t i;

		free(s->fmt.null);
		free(s->table);
		for (i = 0; i < s->ncols; i++)
			free(s->cols[i]);
		free(s->cols);
		for (i = 0; i < s->nnames; i++)
			free(s->names[i]);
		free(s->names);
		free(s);
		s = next;
	}
}

/* A one-byte option (DELIMITER, QUOTE, ESCAPE); PostgreSQL insists on
 * one byte too.  -1 otherwise. */
static int one_byte(const char *v, char *out)
{
	if (!v || strlen(v) != 1)
		return -1;
	*out = v[0];
	return 0;
}

/* An option's value: a string, a boolean as "true"/"false", a number as
 * text, or NULL when it has none (HEADER alone). */
static const char *opt_arg(json_object *de, char *num, size_t numlen)
{
	json_object *a = pg_json_get(de, "arg"), *n;

	if (!a)
		return NULL;
	if ((n = unwrap(a, "String")))
		return pg_json_get_str(n, "sval") ? pg_json_get_str(n, "sval") : "";
	if ((n = unwrap(a, "Boolean")))
		return pg_json_get(n, "boolval") ? "true" : "false";
	if ((n = unwrap(a, "Integer"))) {
		snprintf(num, numlen, "%d",
			 pg_json_get(n, "ival") ? json_object_get_int(pg_json_get(n, "ival"))
					: 0);
		return num;
	}
	return "";
}

static int falsy(const char *v)
{
	return v && (!strcasecmp(v, "false") || !strcasecmp(v, "off") ||
		     !strcmp(v, "0"));
}

/* The options list into s.  -1: one the splitter cannot follow. */
static int copy_options(struct pg_copy_spec *s, json_object *opts)
{
	const char *quote = NULL, *escape = NULL, *delim = NULL, *null = NULL;
	char num[16];
	size_t i, n;

	n = opts && json_object_is_type(opts, json_type_array)
		    ? json_object_array_length(opts)
		    : 0;
	for (i = 0; i < n; i++) {
		json_object *de = unwrap(json_object_array_get_idx(opts, i),
					 "DefElem");
		const char *name = pg_json_get_str(de, "defname");
		const char *v = opt_arg(de, num, sizeof(num));

		if (!name)
			continue;
		if (!strcmp(name, "format")) {
			s->binary = v && !strcasecmp(v, "binary");
			s->fmt.csv = v && !strcasecmp(v, "csv");
		} else if (!strcmp(name, "delimiter")) {
			delim = v;
		} else if (!strcmp(name, "quote")) {
			quote = v;
		} else if (!strcmp(name, "escape")) {
			escape = v;
		} else if (!strcmp(name, "null")) {
			null = v;
		} else if (!strcmp(name, "header")) {
			s->fmt.header = !falsy(v);
		} else if (!strcmp(name, "encoding")) {
			s->encoding = 1;
		}
		/* force_quote and the rest change only how PostgreSQL
		 * quotes, which the splitter reads either way */
	}
	s->fmt.delim = s->fmt.csv ? ',' : '\t';
	s->fmt.quote = '"';
	if ((delim && one_byte(delim, &s->fmt.delim) < 0) ||
	    (quote && one_byte(quote, &s->fmt.quote) < 0))
		return -1;
	s->fmt.escape = s->fmt.quote;
	if (escape && one_byte(escape, &s->fmt.escape) < 0)
		return -1;
	if (!null)
		null = s->fmt.csv ? "" : "\\N";
	s->fmt.null_len = strlen(null);
	return (s->fmt.null = strdup(null)) ? 0 : -1;
}

/* "schema.table", or the bare name when the statement gives no schema
 * (*qualified 0): which schema it is in, pg_copy_name() finds in the
 * catalog, since the session's search_path decides it, not "public". */
static char *qualified(json_object *rel, int *is_qualified)
{
	const char *schema = pg_json_get_str(rel, "schemaname");
	const char *name = pg_json_get_str(rel, "relname");
	char *out;
	size_t n;

	if (!name)
		return NULL;
	*is_qualified = schema != NULL;
	if (!schema)
		return strdup(name);
	n = strlen(schema) + 1 + strlen(name) + 1;
	if ((out = malloc(n)))
		snprintf(out, n, "%s.%s", schema, name);
	return out;
}

/* One CopyStmt node into a new spec (NULL: not TO STDOUT, or *bad). */
static struct pg_copy_spec *copy_spec(json_object *cs, int *bad)
{
	struct pg_copy_spec *s;
	json_object *att = pg_json_get(cs, "attlist");
	size_t i, n;

	if (pg_json_get(cs, "is_from") || pg_json_get(cs, "filename") || pg_json_get(cs, "is_program"))
		return NULL; /* in, or to a server file: not rows for us */
	if (!(s = calloc(1, sizeof(*s)))) {
		*bad = 1;
		return NULL;
	}
	s->query = pg_json_get(cs, "query") != NULL;
	if (copy_options(s, pg_json_get(cs, "options")) < 0)
		goto fail;
	if (!s->query &&
	    !(s->table = qualified(unwrap(pg_json_get(cs, "relation"), "RangeVar"),
				   &s->qualified) ?:
			 qualified(pg_json_get(cs, "relation"), &s->qualified)))
		goto fail;
	n = att && json_object_is_type(att, json_type_array)
		    ? json_object_array_length(att)
		    : 0;
	if (n && !(s->cols = calloc(n, sizeof(*s->cols))))
		goto fail;
	for (i = 0; i < n; i++) {
		const char *c = pg_json_get_str(
			unwrap(json_object_array_get_idx(att, i), "String"),
			"sval");
		if (!c || !(s->cols[i] = strdup(c)))
			goto fail;
		s->ncols = i + 1;
	}
	return s;
fail:
	pg_copy_spec_free(s);
	*bad = 1;
	return NULL;
}

int pg_copy_specs(const char *sql, struct pg_copy_spec **out)
{
	size_t others;

	return pg_copy_specs_n(sql, out, &others);
}

/* The COPY statements of one reading (pg_readings.h) of a text. */
static int specs_reading(const char *sql, int scs, struct pg_copy_spec **out,
			 size_t *others)
{
	PgQueryParseResult r;
	struct json_tokener *tok = NULL;
	json_object *root = NULL, *stmts;
	struct pg_copy_spec **tail = out;
	size_t i, n;
	int bad = 0;

	*out = NULL;
	*others = 0;
	r = pg_parse_reading(sql, scs);
	if (r.error || !(tok = json_tokener_new_ex(COPY_MAX_DEPTH))) {
		bad = pg_parse_refused(&r) ? 3 : 1;
		goto done;
	}
	root = json_tokener_parse_ex(tok, r.parse_tree,
				     (int)strlen(r.parse_tree));
	if (json_tokener_get_error(tok) != json_tokener_success) {
		bad = 1;
		goto done;
	}
	stmts = pg_json_get(root, "stmts");
	n = stmts && json_object_is_type(stmts, json_type_array)
		    ? json_object_array_length(stmts)
		    : 0;
	for (i = 0; i < n && !bad; i++) {
		json_object *cs = unwrap(
			pg_json_get(json_object_array_get_idx(stmts, i), "stmt"),
			"CopyStmt");
		if (cs && (*tail = copy_spec(cs, &bad)))
			tail = &(*tail)->next;
		else
			(*others)++;
	}
done:
	json_object_put(root);
	if (tok)
		json_tokener_free(tok);
	pg_query_free_parse_result(r);
	if (bad) {
		pg_copy_spec_free(*out);
		*out = NULL;
		return bad == 3 ? -3 : -1;
	}
	return 0;
}

static int same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static int same_spec(const struct pg_copy_spec *a, const struct pg_copy_spec *b)
{
	size_t i;

	if (a->fmt.csv != b->fmt.csv || a->fmt.delim != b->fmt.delim ||
	    a->fmt.quote != b->fmt.quote || a->fmt.escape != b->fmt.escape ||
	    a->fmt.null_len != b->fmt.null_len ||
	    (a->fmt.null_len && memcmp(a->fmt.null, b->fmt.null,
				       a->fmt.null_len) != 0) ||
	    a->fmt.header != b->fmt.header || a->binary != b->binary ||
	    a->query != b->query || a->encoding != b->encoding ||
	    a->qualified != b->qualified || !same_str(a->table, b->table) ||
	    a->ncols != b->ncols)
		return 0;
	for (i = 0; i < a->ncols; i++)
		if (!same_str(a->cols[i], b->cols[i]))
			return 0;
	return 1;
}

struct copy_readings {
	struct pg_copy_spec *specs;
	size_t others;
	int parsed, differ;
};

static int copy_reading(const char *text, int scs, void *ud)
{
	struct copy_readings *cr = ud;
	struct pg_copy_spec *specs, *a, *b;
	size_t others;

	switch (specs_reading(text, scs, &specs, &others)) {
	case 0:
		break;
	case -3:
		return 0; /* a syntax error: the server would refuse it */
	default:
		cr->differ = 1; /* what the server makes of it is unknown */
		return 0;
	}
	if (!cr->parsed++) {
		cr->specs = specs;
		cr->others = others;
		return 0;
	}
	for (a = cr->specs, b = specs; a && b && same_spec(a, b);
	     a = a->next, b = b->next)
		;
	if (a || b || others != cr->others)
		cr->differ = 1;
	pg_copy_spec_free(specs);
	return 0;
}

int pg_copy_specs_n(const char *sql, struct pg_copy_spec **out,
		    size_t *others)
{
	struct copy_readings cr = {0};
	const char *why;

	*out = NULL;
	*others = 0;
	if (!strchr(sql, '\\'))
		return specs_reading(sql, 1, out, others) < 0 ? -1 : 0;
	if (pg_readings(sql, 0, copy_reading, &cr, &why) < 0 || cr.differ ||
	    !cr.parsed) {
		pg_copy_spec_free(cr.specs);
		return cr.differ ? -2 : -1;
	}
	*out = cr.specs;
	*others = cr.others;
	return 0;
}

static char *join3(const char *a, const char *b)
{
	size_t n = strlen(a) + 1 + strlen(b) + 1;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s.%s", a, b);
	return s;
}

/* Whether nm ("schema.table.column") has ".t." in it anywhere. */
static int has_part(const char *nm, const char *t, size_t tl)
{
	const char *p;

	for (p = nm; (p = strstr(p, t)); p++)
		if (p > nm && p[-1] == '.' && p[tl] == '.')
			return 1;
	return 0;
}

/*
 * Whether catalog name nm is a column of the table s names; *tlen gets
 * the length of its "schema.table" part.  -1: it may be (a dot in an
 * identifier makes the split uncertain), so nothing is trusted.
 */
static int table_match(const struct pg_copy_spec *s, const char *nm,
		       size_t tl, size_t *tlen)
{
	const char *a, *b;

	if (s->qualified) {
		*tlen = tl;
		return !strncmp(nm, s->table, tl) && nm[tl] == '.';
	}
	/* bare name: "schema.table.column" with a dot-free schema and
	 * column, in any schema */
	a = strchr(nm, '.');
	b = strrchr(nm, '.');
	if (a && b > a && (size_t)(b - a - 1) == tl &&
	    !strncmp(a + 1, s->table, tl)) {
		*tlen = (size_t)(b - nm);
		return 1;
	}
	return has_part(nm, s->table, tl) ? -1 : 0;
}

/*
 * The catalog run [*first, *first + *n) of the table s names: the
 * catalog is sorted by (table OID, column number), so its columns are
 * the run of entries of its OID.  A schema-qualified table must be the
 * only one answering to "schema.table."; a bare name must be a table in
 * exactly one schema of the catalog, whichever the session's search_path
 * holds (the gateway does not follow it: a table of that name in a
 * second schema could be the one COPY reads).  s->table becomes
 * "schema.table".  -1 with s->why.
 */
static int find_table(struct pg_copy_spec *s, const struct pg_catalog *c,
		      size_t *first, size_t *n)
{
	size_t tl = strlen(s->table), i, tlen = 0, ftlen = 0;
	int found = 0, m;
	char *t;

	if (!s->qualified && !strncmp(s->table, "pg_", 3)) {
		s->why = "a table named pg_... without its schema could be "
			 "a system table: schema-qualify it";
		return -1;
	}
	for (i = 0; i < c->n; i++) {
		if (!(m = table_match(s, c->v[i].name, tl, &tlen)))
			continue;
		if (m < 0 || (found && c->v[i].oid != c->v[*first].oid)) {
			s->why = s->qualified
					 ? "more than one table answers to this "
					   "name in the catalog"
					 : "a table of this name is in more "
					   "than one schema: schema-qualify it";
			return -1;
		}
		if (!found) {
			*first = i;
			ftlen = tlen;
		}
		found = 1;
	}
	if (!found) {
		s->why = "the table is not in the session's catalog (created "
			 "after the session began?)";
		return -1;
	}
	for (*n = 0; *first + *n < c->n &&
		     c->v[*first + *n].oid == c->v[*first].oid;)
		(*n)++;
	if (!s->qualified) {
		if (!(t = strndup(c->v[*first].name, ftlen)))
			goto oom;
		free(s->table);
		s->table = t;
	}
	return 0;
oom:
	s->why = "out of memory";
	return -1;
}

static int add_name(struct pg_copy_spec *s, char *name)
{
	if (!name) {
		s->why = "out of memory";
		return -1;
	}
	s->names[s->nnames++] = name;
	return 0;
}

int pg_copy_name(struct pg_copy_spec *s, const struct pg_catalog *c)
{
	size_t first = 0, n = 0, tl, i, j;

	if (s->query || !s->table) {
		s->why = "COPY (query) has no column names";
		return -1;
	}
	if (!c || c->failed || c->truncated) {
		s->why = "the gateway could not read the server's catalog";
		return -1;
	}
	if (find_table(s, c, &first, &n) < 0)
		return -1;
	tl = strlen(s->table);
	if (!(s->names = calloc(s->ncols ? s->ncols : n, sizeof(*s->names)))) {
		s->why = "out of memory";
		return -1;
	}
	if (!s->ncols) { /* the table's columns in order */
		for (i = 0; i < n; i++)
			if (add_name(s, strdup(c->v[first + i].name)) < 0)
				return -1;
		return 0;
	}
	/* each listed column must be one of the table's: a name COPY reads
	 * that the catalog does not have cannot be trusted to be named */
	for (j = 0; j < s->ncols; j++) {
		for (i = 0; i < n; i++)
			if (!strcmp(c->v[first + i].name + tl + 1, s->cols[j]))
				break;
		if (i == n) {
			s->why = "a listed column is not in the session's "
				 "catalog";
			return -1;
		}
		if (add_name(s, join3(s->table, s->cols[j])) < 0)
			return -1;
	}
	return 0;
}

/* PostgreSQL's client-only encodings, by the names the server reports
 * (pg_encoding_to_char): a multibyte character's second byte may be
 * '\\' or the delimiter, which COPY does not escape in them, so the
 * splitter would misread the fields. */
int pg_copy_encoding_unsafe(const char *name)
{
	static const char *const bad[] = {"SJIS", "SHIFT_JIS_2004", "BIG5",
					  "GBK",  "GB18030",	    "UHC",
					  "JOHAB"};

	if (!name || !*name)
		return 1; /* not known: as if it were one */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!strcasecmp(name, bad[i]))
			return 1;
	return 0;
}

int pg_copy_ddl_tag(const char *tag)
{
	return !strncmp(tag, "CREATE ", 7) || !strncmp(tag, "ALTER ", 6) ||
	       !strncmp(tag, "DROP ", 5) || !strncmp(tag, "IMPORT ", 7) ||
	       !strcmp(tag, "DO") || !strcmp(tag, "CALL") ||
	       !strcmp(tag, "SELECT INTO"); /* never sent: SELECT n is */
}

/* Does s start with the lower-case word w, ASCII letters without case? */
static int word_at(const char *s, const char *w)
{
	for (; *w; s++, w++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 'A' && c <= 'Z')
			c |= 0x20;
		if (c != (unsigned char)*w)
			return 0;
	}
	return 1;
}

int pg_copy_sets_search_path(const char *sql)
{
	/* one pass looking at each 's' (this runs for every statement;
	 * two strcasestr() calls showed in profiles) */
	for (const char *p = sql; *p; p++) {
		if ((*p | 0x20) != 's')
			continue;
		if (word_at(p, "search_path"))
			return 1;
		/* SET SCHEMA 'x' is SET search_path; a looser look than
		 * the grammar's, which costs only refusals */
		if (word_at(p, "schema")) {
			const char *q = p;
			while (q > sql && strchr(" \t\r\n", q[-1]))
				q--;
			if (q - sql >= 3 && !strncasecmp(q - 3, "set", 3))
				return 1;
		}
	}
	return 0;
}

void pg_copy_state_free(struct pg_copy_state *cs)
{
	if (!cs)
		return;
	pg_copy_spec_free(cs->specs);
	if (cs->active)
		pg_copy_out_free(&cs->out);
	free(cs);
}
