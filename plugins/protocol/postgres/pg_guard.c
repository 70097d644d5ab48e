/*
 * Guardrails: every statement of a Query, each Parse and each
 * FunctionCall is classified and decided by policy before it goes
 * upstream; review holds it on the open connection; everything decided
 * is recorded.
 */
#include "pg_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pg_classify.h"
#include "pg_guard.h"
#include "pg_readings.h"

int pg_record(struct pg_session *ps, const char *event,
	      const struct jg_attr *a, size_t n)
{
	if (ps->h->record(ps->s, event, a, n) == JG_OK)
		return 0;
	ps->h->log(PG_PLUGIN, ps->s, JG_LOG_WARN, "PG0401",
		   "could not record %s", event);
	return -1;
}

/* The attributes policy matches for one statement. */
static size_t stmt_attrs(const struct pg_stmt *st, int multi,
			 struct jg_attr *a)
{
	size_t n = 0, i;

	/* docs/policy.md: class is the statement kind; category is the
	 * coarse read/write/ddl/... grouping */
	a[n].key = "class";
	a[n++].value = pg_kind_name(st->kind);
	a[n].key = "category";
	a[n++].value = pg_class_name(st->cls);
	a[n].key = "command";
	a[n++].value = st->command;
	if (multi) {
		a[n].key = "flag";
		a[n++].value = "multi_statement";
	}
	for (i = 0; i < st->ntables; i++) {
		a[n].key = "table";
		a[n++].value = st->tables[i];
	}
	for (i = 0; i < st->nfunctions; i++) {
		a[n].key = "function";
		a[n++].value = st->functions[i];
	}
	for (i = 0; i < PG_NFLAGS; i++) {
		if (st->flags & (1u << i)) {
			a[n].key = "flag";
			a[n++].value = pg_flag_name(i);
		}
	}
	return n;
}

static int decide(struct pg_session *ps, const char *text,
		  const struct jg_attr *a, size_t n, struct jg_decision *d)
{
	struct jg_action act = {
		.type = "sql", .attrs = a, .nattrs = n, .text = text};

	memset(d, 0, sizeof(*d));
	if (ps->h->decide(ps->s, &act, d) != JG_OK)
		d->effect = JG_EFFECT_DENY; /* fail closed */
	if (!d->rule[0])
		snprintf(d->rule, sizeof(d->rule), "default");
	/* a statement held for review runs masked too once approved */
	if (d->effect != JG_EFFECT_DENY && d->mask_profile[0])
		ps->masking = 1;
	return d->effect;
}

static void denial_text(char *buf, size_t len, const char *what,
			const struct jg_decision *d)
{
	snprintf(buf, len, "%s denied by jitgate policy rule \"%s\"", what,
		 d->rule);
}

/* ---- encodings ---- */

void pg_guard_parameter(struct pg_session *ps, const struct pg_frame *f)
{
	const char *name = (const char *)f->body;
	const uint8_t *nul = f->body_len ? memchr(f->body, 0, f->body_len) : NULL;
	char *to;

	if (!nul || f->body[f->body_len - 1] != 0 ||
	    (size_t)(nul - f->body) + 1 >= f->body_len)
		return; /* the relay refuses what is malformed */
	if (strcmp(name, "client_encoding") == 0)
		to = ps->client_enc;
	else if (strcmp(name, "server_encoding") == 0)
		to = ps->server_enc;
	else
		return;
	/* a name too long for the buffer is no encoding: kept empty, so
	 * non-ASCII text is refused */
	if (strlen((const char *)nul + 1) < sizeof(ps->client_enc))
		strcpy(to, (const char *)nul + 1);
	else
		to[0] = 0;
	/* the first report is the startup value; "-" if it was too long */
	if (to == ps->client_enc && !ps->client_enc0[0])
		strcpy(ps->client_enc0, to[0] ? to : "-");
}

static int enc_same(const struct pg_session *ps, const char *enc)
{
	return enc[0] && ps->server_enc[0] &&
	       (strcasecmp(enc, ps->server_enc) == 0 ||
		strcasecmp(enc, "SQL_ASCII") == 0);
}

/* Whether the bytes of any statement are the text the server parses,
 * now and after any way back to the startup value (RESET, DEFAULT,
 * ROLLBACK of a SET, DISCARD ALL), which a pipeline may take before
 * the server reports it.  A SET to anything but UTF8 is refused. */
static int encoding_known(const struct pg_session *ps)
{
	return enc_same(ps, ps->client_enc) && enc_same(ps, ps->client_enc0);
}

/*
 * Whether the bytes the gateway classifies are the text the server
 * parses: the server converts a statement from client_encoding to its
 * own first, so a non-ASCII name (a table "café" in LATIN1) is other
 * bytes to the policy than to the server.  ASCII is the same in every
 * encoding PostgreSQL allows for clients but the ones pg_readings.h
 * reads every way.  SQL_ASCII clients are not converted.
 */
static int same_bytes(const struct pg_session *ps, const char *sql)
{
	const unsigned char *p;

	for (p = (const unsigned char *)sql; *p && *p < 0x80; p++)
		;
	return !*p || encoding_known(ps);
}

/* ---- values computed from masked columns ---- */

/* System catalogs are not in the session's catalog (pg_rows.h); their
 * columns are the server's metadata, taken as covered only where a rule
 * names one ("c:" references are still asked about by name). */
static int system_table(const char *t)
{
	return !strncmp(t, "pg_catalog.", 11) ||
	       !strncmp(t, "information_schema.", 19);
}

/* Whether table t has column c: 1, 0, or 1 for a system table (its
 * columns are not listed, and such a name is taken for a column). */
static int has_column(const struct pg_session *ps, const char *t,
		      const char *c)
{
	size_t tl = strlen(t), i;

	if (system_table(t))
		return 1;
	for (i = 0; i < ps->cat.n; i++) {
		const char *nm = ps->cat.v[i].name;

		if (!strncmp(nm, t, tl) && nm[tl] == '.' &&
		    !strcmp(nm + tl + 1, c))
			return 1;
	}
	return 0;
}

/* Whether a column rule covers any column of table t: 1, 0, or -1 when
 * the gateway cannot tell (no catalog, or t not in it). */
static int table_covered(struct pg_session *ps, const char *t)
{
	size_t tl = strlen(t), i;
	int found = 0, r;

	if (system_table(t))
		return 0;
	if (ps->cat.failed || ps->cat.truncated)
		return -1;
	for (i = 0; i < ps->cat.n; i++) {
		const char *nm = ps->cat.v[i].name;

		if (strncmp(nm, t, tl) != 0 || nm[tl] != '.')
			continue;
		found = 1;
		if ((r = ps->h->mask_column_rule(ps->s, nm)) != 0)
			return r == 1 ? 1 : -1;
	}
	return found ? 0 : -1;
}

#define CANNOT_CHECK "?"

/* Whether t is public.pg_x reported beside pg_catalog.pg_x for a bare
 * pg_x (pg_names.c): the system table is the one the server reads
 * unless public has one, which the catalog then lists. */
static int shadow_of_system(const struct pg_session *ps,
			    const struct pg_stmt *st, const char *t)
{
	char sys[300];
	size_t i, tl = strlen(t);

	if (strncmp(t, "public.pg_", 10) != 0)
		return 0;
	for (i = 0; i < ps->cat.n; i++)
		if (!strncmp(ps->cat.v[i].name, t, tl) &&
		    ps->cat.v[i].name[tl] == '.')
			return 0; /* public has one */
	snprintf(sys, sizeof(sys), "pg_catalog.%s", t + 7);
	for (i = 0; i < st->ntables; i++)
		if (!strcmp(st->tables[i], sys))
			return 1;
	return 0;
}

/* Whether some table of st has column c. */
static int any_has_column(const struct pg_session *ps,
			  const struct pg_stmt *st, const char *c)
{
	size_t j;

	for (j = 0; j < st->ntables; j++)
		if (!strchr(st->tables[j], '*') &&
		    has_column(ps, st->tables[j], c))
			return 1;
	return 0;
}

/*
 * A value computed from a column (replace(ssn, ...), row_to_json(p), a
 * UNION's column, a cast whose error quotes it) reaches the client
 * without the column's name, so no column rule can mask it.  The first
 * covered column st computes a result from, written into q; NULL when
 * none.  References (pg_classify.h): "c:" a column in an expression,
 * asked about in every table (in any column of every table when FROM
 * has a subquery, function or CTE, whose columns may be others
 * renamed); "p:" a plain target, fine when a table has such a column,
 * else a whole row; "r:" a whole row.
 */
static const char *computed_masked(struct pg_session *ps,
				   const struct pg_stmt *st, char *q,
				   size_t qlen)
{
	size_t i, j;
	const char *ref, *t, *c;
	int r, row;

	for (i = 0; i < st->nrefs + (st->refs_more ? 1 : 0); i++) {
		ref = i < st->nrefs ? st->refs[i] : "r:*";
		c = ref + 2;
		row = ref[0] == 'r' ||
		      (ref[0] == 'p' && !any_has_column(ps, st, c));
		if (ref[0] == 'p' && !row)
			continue;
		if (!JG_HOST_HAS(ps->h, mask_column_rule))
			return CANNOT_CHECK; /* a core older than ABI 1.4 */
		for (j = 0; j < st->ntables; j++) {
			t = st->tables[j];
			if (strchr(t, '*') || shadow_of_system(ps, st, t))
				continue;
			snprintf(q, qlen, "%s.%s", t, c);
			if (row || st->refs_derived) {
				r = table_covered(ps, t);
				if (row)
					snprintf(q, qlen, "%s (a whole row)", t);
				else if (r == 1)
					snprintf(q, qlen, "%s (%s may be one of "
						 "its columns renamed)", t, c);
			} else {
				r = ps->h->mask_column_rule(ps->s, q);
			}
			if (r == 1)
				return q;
			if (r != 0) {
				snprintf(q, qlen, "%s", t);
				return CANNOT_CHECK;
			}
		}
	}
	return NULL;
}

/* ---- statements ---- */

/*
 * Decide every statement of text.  The worst effect wins (deny, then
 * review).  For review, the attributes of all statements needing review
 * are merged so the approver's view and the binding cover the whole text.
 */
static int guard_text(struct pg_session *ps, const uint8_t *msg, size_t n,
		      const char *sql, int single)
{
	struct pg_classified c;
	struct jg_attr a[PG_MAX_ATTRS], ra[PG_MAX_ATTRS];
	struct jg_decision d, worst;
	size_t na, nra = 0, i, j;
	char buf[400];
	int rc;

	ps->statements++;
	if (!same_bytes(ps, sql)) {
		snprintf(buf, sizeof(buf),
			 "non-ASCII text is refused by jitgate while "
			 "client_encoding (%s) is not the server's (%s)",
			 ps->client_enc[0] ? ps->client_enc : "unknown",
			 ps->server_enc[0] ? ps->server_enc : "unknown");
		return pg_refuse(ps, msg[0], "client_encoding", buf,
				 "The server converts the text before it "
				 "parses it, so policy would decide on other "
				 "names than the server reads.  Set "
				 "client_encoding to the server's (UTF8).");
	}
	if (!ps->ccache)
		ps->ccache = calloc(1, sizeof(*ps->ccache));
	if (ps->ccache)
		ps->ccache->read_flags =
			encoding_known(ps) ? PG_READINGS_ENCODING_KNOWN : 0;
	if ((ps->ccache ? pg_classify_cached(ps->ccache, sql, &c)
			: pg_classify(sql, &c)) < 0) {
		snprintf(buf, sizeof(buf),
			 "jitgate could not parse the statement, so it was "
			 "refused: %s",
			 c.error);
		{
			struct jg_attr e[2] = {{"decision", "deny"},
					       {"error", c.error}};
			pg_record(ps, "statement", e, 2);
		}
		pg_classified_free(&c);
		pg_deny(ps, msg[0], "42601", buf, NULL);
		return 1;
	}
	if (single && c.n > 1) {
		pg_classified_free(&c);
		pg_deny(ps, msg[0], "42601",
			"cannot insert multiple commands into a prepared "
			"statement",
			NULL);
		return 1;
	}
	for (i = 0; i < c.n; i++) {
		if (c.stmts[i].flags & PG_FLAG_CLIENT_ENCODING) {
			pg_classified_free(&c);
			return pg_refuse(
				ps, msg[0], "change of client_encoding",
				"changing client_encoding to anything but UTF8 "
				"is refused by jitgate",
				"The gateway decides on the bytes the client "
				"sends, which must be the text the server "
				"parses.");
		}
		if (!(c.stmts[i].flags & PG_FLAG_SEARCH_PATH))
			continue;
		pg_classified_free(&c);
		return pg_refuse(ps, msg[0], "change of search_path",
			      "changing search_path is refused by jitgate",
			      "Policy decides on tables by schema, and "
			      "unqualified names are those of the search_path "
			      "the gateway set at startup (public unless the "
			      "listener allows the startup parameter).  Name "
			      "the schema in the statement instead.");
	}
	memset(&worst, 0, sizeof(worst));
	worst.effect = JG_EFFECT_ALLOW;
	for (i = 0; i < c.n; i++) {
		/* whether or not it runs: see pg_guard_named_use() */
		if (c.stmts[i].flags & (PG_FLAG_PREPARE | PG_FLAG_DYNAMIC))
			ps->sql_prepared = 1;
	}
	for (i = 0; i < c.n; i++) {
		na = stmt_attrs(&c.stmts[i], c.n > 1, a);
		/* the core records the decision with these attributes and
		 * the text before it takes effect, and denies what it cannot
		 * record; the session itself only runs with recording up */
		rc = decide(ps, c.stmts[i].text, a, na, &d);
		if (rc == JG_EFFECT_DENY) {
			denial_text(buf, sizeof(buf),
				    pg_kind_name(c.stmts[i].kind), &d);
			pg_classified_free(&c);
			pg_deny(ps, msg[0], "42501", buf,
				d.reason[0] ? d.reason : NULL);
			return 1;
		}
		if (rc == JG_EFFECT_REVIEW &&
		    (c.stmts[i].flags & PG_FLAG_PREPARE)) {
			/* an approval covers one run; EXECUTE would run the
			 * prepared statement again, any number of times */
			pg_classified_free(&c);
			return pg_refuse(ps, msg[0],
				      "PREPARE of a statement that needs review",
				      "PREPARE of a statement that needs review "
				      "is refused",
				      "An approval covers one run of a "
				      "statement; a prepared one could be "
				      "executed again without review.  Send "
				      "the statement itself.");
		}
		if (rc == JG_EFFECT_REVIEW) {
			if (worst.effect != JG_EFFECT_REVIEW)
				worst = d;
			for (j = 0; j < na && nra < PG_MAX_ATTRS; j++)
				ra[nra++] = a[j];
		}
	}
	/* decided and allowed (or held): under column rules, nothing may
	 * compute a result from a covered column */
	if (ps->masking && (!JG_HOST_HAS(ps->h, mask_values) ||
			    ps->h->mask_values(ps->s, NULL, 0) != JG_OK)) {
		char q[300] = "";
		const char *col;

		for (i = 0; i < c.n; i++) {
			if (!(col = computed_masked(ps, &c.stmts[i], q,
						    sizeof(q))))
				continue;
			if (strcmp(col, CANNOT_CHECK) == 0)
				snprintf(buf, sizeof(buf),
					 "a result computed from columns of %s, "
					 "which the gateway cannot check for "
					 "masking rules, is refused by jitgate",
					 q[0] ? q : "a table");
			else
				snprintf(buf, sizeof(buf),
					 "a result computed from masked column "
					 "%s is refused by jitgate",
					 col);
			pg_classified_free(&c);
			return pg_refuse(
				ps, msg[0], "computed from a masked column", buf,
				"A column rule masks a column's own values; a "
				"value computed from them reaches the client "
				"without the column's name.  Select the column "
				"itself (it arrives masked) or leave it out.");
		}
	}
	if (worst.effect == JG_EFFECT_REVIEW) {
		/* ra points into c: the core copies what it keeps */
		rc = single ? pg_hold_parse(ps, msg, n, sql, ra, nra, &worst)
			    : pg_hold(ps, msg, n, 0, sql, ra, nra, &worst);
		pg_classified_free(&c);
		return rc;
	}
	pg_classified_free(&c);
	pg_send_upstream_frame(ps, msg, n);
	return 1;
}

int pg_guard_query(struct pg_session *ps, const uint8_t *msg, size_t n,
		   const char *sql)
{
	return guard_text(ps, msg, n, sql, 0);
}

int pg_guard_parse(struct pg_session *ps, const uint8_t *msg, size_t n,
		   const char *sql)
{
	return guard_text(ps, msg, n, sql, 1);
}

int pg_guard_function_call(struct pg_session *ps, const uint8_t *msg,
			   size_t n, uint32_t oid)
{
	char oidtext[16], buf[300];
	struct jg_attr a[3] = {{"class", "call"},
			       {"category", "function_call"},
			       {"function", oidtext}};
	struct jg_decision d;

	/* A FunctionCall names its function by OID only: a rule denying
	 * pg_read_file or set_config by name never matches it, and
	 * set_config would move unqualified names past the search_path
	 * the gateway set.  Refused unless the listener lets policy decide
	 * them; set_config (OID 2078) always. */
	if (!ps->in->allow_function_call || oid == 2078)
		return pg_refuse(ps, 'F', "function call",
				 "FunctionCall is refused by jitgate",
				 oid == 2078 ? "set_config() would change "
					       "settings the gateway relies on."
					     : "This listener does not let "
					       "policy decide FunctionCall "
					       "messages "
					       "(allow_function_call).");
	snprintf(oidtext, sizeof(oidtext), "%u", oid);
	if (decide(ps, NULL, a, 3, &d) != JG_EFFECT_ALLOW) {
		denial_text(buf, sizeof(buf), "function call", &d);
		pg_deny(ps, 'F', "42501", buf, NULL);
		return 1;
	}
	pg_send_upstream_frame(ps, msg, n);
	return 1;
}
