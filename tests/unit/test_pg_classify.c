/*
 * Statement classification: what a statement does, wherever it hides
 * (multi-statement strings, CTEs, EXPLAIN ANALYZE, PREPARE, DO).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "pg_ccache.h"
#include "pg_classify.h"
#include "pg_readings.h"

static int has(char *const *arr, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(arr[i], s) == 0)
			return 1;
	return 0;
}

static struct pg_classified c;

static void one(const char *sql, int cls)
{
	assert_int_equal(pg_classify(sql, &c), 0);
	assert_int_equal(c.n, 1);
	if (c.stmts[0].cls != cls)
		fail_msg("%s: class %s, want %s", sql,
			 pg_class_name(c.stmts[0].cls), pg_class_name(cls));
}

static void done(void)
{
	pg_classified_free(&c);
}

static void test_classes(void **state)
{
	static const struct {
		const char *sql;
		int cls;
	} cases[] = {
		{"SELECT * FROM accounts WHERE id = 1", PG_CLASS_READ},
		{"SHOW search_path", PG_CLASS_READ},
		{"INSERT INTO t VALUES (1)", PG_CLASS_WRITE},
		{"UPDATE t SET a = 1 WHERE id = 2", PG_CLASS_WRITE},
		{"DELETE FROM t WHERE id = 2", PG_CLASS_WRITE},
		{"TRUNCATE t", PG_CLASS_WRITE},
		{"CALL do_it(1)", PG_CLASS_WRITE},
		{"CREATE TABLE x (a int)", PG_CLASS_DDL},
		{"DROP TABLE accounts", PG_CLASS_DDL},
		{"ALTER TABLE t ADD COLUMN b int", PG_CLASS_DDL},
		{"CREATE TABLE z AS SELECT 1", PG_CLASS_DDL},
		{"GRANT SELECT ON t TO bob", PG_CLASS_DCL},
		{"CREATE ROLE eve SUPERUSER", PG_CLASS_DCL},
		{"ALTER ROLE bob PASSWORD 'x'", PG_CLASS_DCL},
		{"BEGIN", PG_CLASS_TCL},
		{"COMMIT", PG_CLASS_TCL},
		{"SAVEPOINT a", PG_CLASS_TCL},
		{"SET statement_timeout = 0", PG_CLASS_UTILITY},
		{"VACUUM t", PG_CLASS_UTILITY},
		{"LISTEN ch", PG_CLASS_UTILITY},
		{"COPY t TO STDOUT", PG_CLASS_COPY},
		{"COPY t FROM STDIN", PG_CLASS_COPY},
		{"COPY t TO '/tmp/x'", PG_CLASS_COPY_SERVER},
		{"COPY t FROM PROGRAM 'id'", PG_CLASS_COPY_SERVER},
		{"DO $$ BEGIN DELETE FROM t; END $$", PG_CLASS_DYNAMIC},
		{"CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql",
		 PG_CLASS_DYNAMIC},
		{"CREATE PROCEDURE p() LANGUAGE sql AS 'delete from t'",
		 PG_CLASS_DYNAMIC},
		{"EXECUTE q(1)", PG_CLASS_DYNAMIC},
		{"EXPLAIN ANALYZE EXECUTE q(1)", PG_CLASS_DYNAMIC},
		{"CREATE TABLE z AS EXECUTE q(1)", PG_CLASS_DYNAMIC},
		{"CREATE TEMP TABLE z AS EXECUTE q", PG_CLASS_DYNAMIC},
		{"EXPLAIN SELECT 1", PG_CLASS_READ},
		{"EXPLAIN ANALYZE DELETE FROM t", PG_CLASS_WRITE},
		{"EXPLAIN (ANALYZE false) DELETE FROM t", PG_CLASS_READ},
		{"PREPARE q AS DELETE FROM t WHERE id = $1", PG_CLASS_WRITE},
		{"WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
		 PG_CLASS_WRITE},
		{"SELECT 1 INTO newtable", PG_CLASS_DDL},
		{"LOAD 'evil'", PG_CLASS_DDL},
		{"ALTER SYSTEM SET fsync = off", PG_CLASS_DDL},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		one(cases[i].sql, cases[i].cls);
		done();
	}
}

static void test_tables_and_functions(void **state)
{
	struct pg_stmt *st;

	one("WITH x AS (SELECT * FROM a.t1) SELECT f(y), pg_catalog.now() "
	    "FROM x JOIN t2 ON true WHERE y IN (SELECT z FROM t3)",
	    PG_CLASS_READ);
	st = &c.stmts[0];
	assert_true(has(st->tables, st->ntables, "a.t1"));
	assert_true(has(st->tables, st->ntables, "public.t2"));
	assert_true(has(st->tables, st->ntables, "public.t3"));
	assert_false(has(st->tables, st->ntables, "public.x")); /* a CTE */
	assert_true(has(st->functions, st->nfunctions, "f"));
	assert_true(has(st->functions, st->nfunctions, "pg_catalog.now"));
	done();
	one("DROP TABLE accounts, audit.log", PG_CLASS_DDL);
	st = &c.stmts[0];
	assert_true(has(st->tables, st->ntables, "public.accounts"));
	assert_true(has(st->tables, st->ntables, "audit.log"));
	assert_string_equal(st->command, "DropStmt");
	done();
	one("CREATE FUNCTION evil() RETURNS int AS 'x' LANGUAGE sql",
	    PG_CLASS_DYNAMIC);
	assert_true(has(c.stmts[0].functions, c.stmts[0].nfunctions, "evil"));
	done();
	one("SELECT pg_sleep(30)", PG_CLASS_READ);
	assert_true(has(c.stmts[0].functions, c.stmts[0].nfunctions,
			"pg_sleep"));
	done();
}

static void test_flags(void **state)
{
	one("DELETE FROM t", PG_CLASS_WRITE);
	assert_true(c.stmts[0].flags & PG_FLAG_DELETE_NO_WHERE);
	done();
	one("UPDATE t SET a = 1", PG_CLASS_WRITE);
	assert_true(c.stmts[0].flags & PG_FLAG_UPDATE_NO_WHERE);
	done();
	one("UPDATE t SET a = 1 WHERE b", PG_CLASS_WRITE);
	assert_false(c.stmts[0].flags & PG_FLAG_UPDATE_NO_WHERE);
	done();
	/* hidden in a CTE */
	one("WITH d AS (DELETE FROM t RETURNING *) SELECT count(*) FROM d",
	    PG_CLASS_WRITE);
	assert_true(c.stmts[0].flags & PG_FLAG_MODIFYING_CTE);
	assert_true(c.stmts[0].flags & PG_FLAG_DELETE_NO_WHERE);
	assert_true(has(c.stmts[0].tables, c.stmts[0].ntables, "public.t"));
	done();
	one("EXPLAIN ANALYZE UPDATE t SET a = 2", PG_CLASS_WRITE);
	assert_true(c.stmts[0].flags & PG_FLAG_EXPLAIN_ANALYZE);
	assert_true(c.stmts[0].flags & PG_FLAG_UPDATE_NO_WHERE);
	done();
	one("COPY t TO PROGRAM 'cat'", PG_CLASS_COPY_SERVER);
	assert_true(c.stmts[0].flags & PG_FLAG_PROGRAM);
	assert_true(c.stmts[0].flags & PG_FLAG_COPY_OUT);
	done();
	one("COPY t TO STDOUT (FORMAT binary)", PG_CLASS_COPY);
	assert_true(c.stmts[0].flags & PG_FLAG_BINARY);
	done();
	one("SET ROLE postgres", PG_CLASS_UTILITY);
	assert_true(c.stmts[0].flags & PG_FLAG_SET_ROLE);
	done();
	one("SELECT * FROM t FOR UPDATE", PG_CLASS_READ);
	assert_true(c.stmts[0].flags & PG_FLAG_LOCKING);
	done();
	one("TRUNCATE t", PG_CLASS_WRITE);
	assert_int_equal(c.stmts[0].kind, PG_KIND_DELETE);
	assert_true(c.stmts[0].flags & PG_FLAG_WRITES);
	done();
	assert_string_equal(pg_flag_name(0), "delete_without_where");
	assert_string_equal(pg_flag_name(2), "modifying_cte");
	assert_string_equal(pg_flag_name(17), "search_path");
}

/* What moves unqualified names away from where policy is told they are
 * (the gateway refuses it), and what does not. */
static void test_search_path(void **state)
{
	static const struct {
		const char *sql;
		int moves;
	} cases[] = {
		{"SET search_path = hr", 1},
		{"SET LOCAL search_path TO hr, public", 1},
		{"SET SESSION \"Search_Path\" = hr", 1},
		{"SELECT set_config('search_path', 'hr', false)", 1},
		{"SELECT pg_catalog.set_config('SEARCH_PATH', 'hr', true)", 1},
		{"SELECT set_config(lower('SEARCH_PATH'), 'hr', false)", 1},
		{"SELECT 1 FROM t WHERE set_config('search_path', 'x', 0 = 1) "
		 "IS NULL", 1},
		/* pg_dump's form: the row's name is the WHERE's */
		{"SELECT set_config(name, 'hr', false) FROM pg_settings "
		 "WHERE name = 'search_path'", 1},
		{"SELECT set_config(name, 'view, foreign-table', false) FROM "
		 "pg_settings WHERE name = 'restrict_nonsystem_relation_kind'", 0},
		{"SELECT set_config(name, 'x', false) FROM pg_settings "
		 "WHERE name = 'work_mem' OR true", 1},
		{"SELECT set_config(name, 'x', false), (SELECT 1) FROM pg_settings "
		 "WHERE name = 'work_mem'", 1},
		{"SET search_path TO public, hr", 1},
		{"SET search_path TO \"$user\", public", 1},
		{"SELECT set_config('search_path', 'public,hr', false)", 1},
		{"SET search_path = ''", 0},
		{"SET search_path TO public", 0},
		{"SET search_path TO pg_catalog, public", 0},
		{"SELECT pg_catalog.set_config('search_path', '', false)", 0},
		{"SELECT set_config('search_path', 'pg_catalog, \"public\"', "
		 "false)", 0},
		{"RESET search_path", 0},
		{"RESET ALL", 0},
		{"SET search_path TO DEFAULT", 0},
		{"SET work_mem = '4MB'", 0},
		{"SELECT set_config('work_mem', '4MB', false)", 0},
		{"SELECT current_setting('search_path')", 0},
	};
	static const struct {
		const char *sql;
		int changes;
	} enc[] = {
		{"SET client_encoding TO 'LATIN1'", 1},
		{"SET NAMES 'SJIS'", 1},
		{"SELECT set_config('client_encoding', 'GBK', false)", 1},
		{"SELECT set_config('client_encoding', lower('X'), false)", 1},
		{"SELECT set_config(lower('A'), 'b', false)", 1},
		{"SET client_encoding TO 'UTF8'", 0},
		{"SET NAMES 'utf-8'", 0},
		{"SET client_encoding = unicode", 0},
		{"SELECT set_config('client_encoding', 'UTF8', false)", 0},
		{"RESET client_encoding", 0},
		{"SET search_path = hr", 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(pg_classify(cases[i].sql, &c), 0);
		assert_int_equal(c.n, 1);
		if (!(c.stmts[0].flags & PG_FLAG_SEARCH_PATH) != !cases[i].moves)
			fail_msg("%s: search_path flag %s", cases[i].sql,
				 cases[i].moves ? "missing" : "set");
		done();
	}
	for (i = 0; i < sizeof(enc) / sizeof(enc[0]); i++) {
		assert_int_equal(pg_classify(enc[i].sql, &c), 0);
		if (!(c.stmts[0].flags & PG_FLAG_CLIENT_ENCODING) !=
		    !enc[i].changes)
			fail_msg("%s: client_encoding flag %s", enc[i].sql,
				 enc[i].changes ? "missing" : "set");
		done();
	}
}

/* Every name reaches policy: pg_ names may be pg_catalog's, and a
 * statement naming more than policy is shown is refused, since a deny
 * rule could name the one left out. */
static void test_names_complete(void **state)
{
	char sql[512];
	size_t i, n;

	one("SELECT * FROM pg_authid", PG_CLASS_READ);
	assert_true(has(c.stmts[0].tables, c.stmts[0].ntables,
			"pg_catalog.pg_authid"));
	assert_true(has(c.stmts[0].tables, c.stmts[0].ntables,
			"public.pg_authid"));
	done();
	one("SELECT * FROM public.pg_notes", PG_CLASS_READ);
	assert_int_equal(c.stmts[0].ntables, 1);
	done();
	for (n = (size_t)sprintf(sql, "SELECT * FROM t0"), i = 1; i <= 32; i++)
		n += (size_t)sprintf(sql + n, ", t%zu", i);
	assert_int_equal(pg_classify(sql, &c), -1);
	assert_non_null(strstr(c.error, "more than 32"));
	done();
	sql[strlen(sql) - 5] = 0; /* t0 .. t31: exactly 32 */
	one(sql, PG_CLASS_READ);
	assert_int_equal(c.stmts[0].ntables, 32);
	done();
}

/* The docs/policy.md "class" vocabulary. */
static void test_kinds(void **state)
{
	static const struct {
		const char *sql;
		const char *kind;
	} cases[] = {
		{"SELECT 1", "select"},
		{"INSERT INTO t VALUES (1)", "insert"},
		{"UPDATE t SET a = 1", "update"},
		{"DELETE FROM t", "delete"},
		{"CREATE TABLE x (a int)", "ddl"},
		{"GRANT SELECT ON t TO bob", "dcl"},
		{"COPY t TO STDOUT", "copy"},
		{"SHOW work_mem", "show"},
		{"EXPLAIN SELECT 1", "explain"},
		{"EXPLAIN ANALYZE DELETE FROM t", "delete"},
		{"PREPARE q AS UPDATE t SET a = 1", "update"},
		{"SET work_mem = '1MB'", "set"},
		{"BEGIN", "transaction"},
		{"CALL p()", "call"},
		{"SELECT 1 INTO z", "ddl"},
		{"DO $$ BEGIN END $$", "other"},
		{"VACUUM", "other"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		assert_int_equal(pg_classify(cases[i].sql, &c), 0);
		if (strcmp(pg_kind_name(c.stmts[0].kind), cases[i].kind))
			fail_msg("%s: %s, want %s", cases[i].sql,
				 pg_kind_name(c.stmts[0].kind), cases[i].kind);
		done();
	}
}

static void test_multi_statement(void **state)
{
	assert_int_equal(
		pg_classify("SELECT 1; DROP TABLE accounts;\n  COMMIT", &c), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.stmts[0].cls, PG_CLASS_READ);
	assert_int_equal(c.stmts[1].cls, PG_CLASS_DDL);
	assert_string_equal(c.stmts[1].text, "DROP TABLE accounts");
	assert_int_equal(c.stmts[2].cls, PG_CLASS_TCL);
	assert_string_equal(c.stmts[2].text, "COMMIT");
	done();
	/* a semicolon inside a string does not split */
	assert_int_equal(pg_classify("SELECT ';DROP TABLE x'", &c), 0);
	assert_int_equal(c.n, 1);
	done();
}

static void test_unparsable(void **state)
{
	char deep[20000];
	size_t i, n = 0;

	assert_int_equal(pg_classify("SELEKT 1", &c), -1);
	assert_true(strlen(c.error) > 0);
	done();
	assert_int_equal(pg_classify("SELECT 'unterminated", &c), -1);
	done();
	/* empty and comment-only queries are not statements */
	assert_int_equal(pg_classify("", &c), 0);
	assert_int_equal(c.n, 0);
	done();
	assert_int_equal(pg_classify("-- nothing\n;", &c), 0);
	assert_int_equal(c.n, 0);
	done();
	/* deep nesting is refused, not walked off the stack */
	n += (size_t)sprintf(deep, "SELECT ");
	for (i = 0; i < 2000; i++) {
		memcpy(deep + n, "1+(", 3);
		n += 3;
	}
	deep[n++] = '1';
	for (i = 0; i < 2000; i++)
		deep[n++] = ')';
	deep[n] = 0;
	assert_int_equal(pg_classify(deep, &c), -1);
	done();
}

/* Whether the classification holds a statement of class cls whose text
 * has needle in it. */
static int holds(int cls, const char *needle)
{
	size_t i;

	for (i = 0; i < c.n; i++)
		if (c.stmts[i].cls == cls && strstr(c.stmts[i].text, needle))
			return 1;
	return 0;
}

/*
 * A text the server may read differently from the parser's default:
 * with standard_conforming_strings off, or in a client_encoding whose
 * characters can end in a backslash byte.  Every reading is classified,
 * so a statement only one of them sees is still decided.
 */
static void test_readings(void **state)
{
	char many[128];

	/* standard_conforming_strings off: \' escapes the quote, so the
	 * DROP is outside any string */
	assert_int_equal(
		pg_classify("SELECT '\\', ' ; DROP TABLE victim; --'", &c), 0);
	assert_true(holds(PG_CLASS_READ, "SELECT"));
	assert_true(holds(PG_CLASS_DDL, "DROP TABLE victim"));
	done();
	/* SJIS: 0x95 0x5C is one character, the string ends after it */
	assert_int_equal(
		pg_classify("SELECT E'\x95\\' ; DROP TABLE victim; -- '", &c),
		0);
	assert_true(holds(PG_CLASS_DDL, "DROP TABLE victim"));
	done();
	/* both: a backslash after UTF-8 text that only the SJIS reading
	 * takes as part of a character */
	assert_int_equal(pg_classify("SELECT E'caf\xc3\xa9\\n'", &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.stmts[0].cls, PG_CLASS_READ);
	done();
	/* readings that agree give one statement */
	assert_int_equal(pg_classify("SELECT 'C:\\temp' AS p", &c), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.stmts[0].text, "SELECT 'C:\\temp' AS p");
	done();
	/* parses only with standard_conforming_strings off: that server
	 * runs it, any other refuses it */
	assert_int_equal(pg_classify("SELECT 'it\\'s'", &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.stmts[0].cls, PG_CLASS_READ);
	done();
	/* A reading that fails other than by a syntax error says nothing
	 * of what the server does with it: the whole text is refused.
	 * Too many names in the off reading: */
	{
		char big[1024];
		size_t n = (size_t)snprintf(big, sizeof(big),
					    "SELECT '\\', ' ; DROP TABLE x0");
		int i;

		for (i = 1; i <= 32; i++)
			n += (size_t)snprintf(big + n, sizeof(big) - n,
					      ", x%d", i);
		snprintf(big + n, sizeof(big) - n, ", victim; --'");
		assert_int_equal(pg_classify(big, &c), -1);
		assert_non_null(strstr(c.error, "more than 32"));
		done();
	}
	/* nested too deeply in the off reading only */
	{
		char deep[4096];
		size_t n = (size_t)snprintf(deep, sizeof(deep),
					    "SELECT '\\', ' ; DELETE FROM v "
					    "WHERE ");
		int i;

		for (i = 0; i < 340; i++)
			n += (size_t)snprintf(deep + n, sizeof(deep) - n,
					      "NOT ");
		snprintf(deep + n, sizeof(deep) - n, "true; --'");
		assert_int_equal(pg_classify(deep, &c), -1);
		done();
	}
	/* an escape the parser checks as UTF8, in the off reading only
	 * (a LATIN1 server takes it) */
	assert_int_equal(
		pg_classify("SELECT '\\351\\', ' ; DROP TABLE victim; --'", &c),
		-1);
	done();
	/* no reading parses */
	assert_int_equal(pg_classify("SELECT '\\", &c), -1);
	assert_true(strlen(c.error) > 0);
	done();
	/* too many ambiguous backslashes to read every way: refused */
	snprintf(many, sizeof(many),
		 "SELECT E'\x95\\ \x95\\ \x95\\ \x95\\ \x95\\ '");
	assert_int_equal(pg_classify(many, &c), -1);
	assert_non_null(strstr(c.error, "backslash"));
	done();
	/* ... unless the caller knows the session's encoding is the
	 * server's: then they are backslashes */
	snprintf(many, sizeof(many),
		 "SELECT E'\x95\\ \x95\\ \x95\\ \x95\\ \x95\\ '");
	assert_int_equal(pg_classify_flags(many, PG_READINGS_ENCODING_KNOWN,
					   &c),
			 0);
	assert_int_equal(c.n, 1);
	done();
	/* four are read every way */
	snprintf(many, sizeof(many),
		 "SELECT E'\x95\\ \x95\\ \x95\\ \x95\\'; DROP TABLE v; --'");
	assert_int_equal(pg_classify(many, &c), 0);
	assert_true(holds(PG_CLASS_DDL, "DROP TABLE v"));
	done();
}

/* Statements that reach more than they seem to (each of these ran past
 * a deny rule before it was classified so). */
static void test_hidden_effects(void **state)
{
	static const struct {
		const char *sql, *table;
	} named[] = {
		/* a CTE's name does not hide the DML target */
		{"WITH accounts AS (SELECT 1) DELETE FROM accounts WHERE true",
		 "public.accounts"},
		/* nor a table read inside the CTE's own body */
		{"WITH people AS (SELECT * FROM people) SELECT * FROM people",
		 "public.people"},
		/* nor one outside the subquery that defines the CTE */
		{"SELECT (WITH people AS (SELECT 1) SELECT 1) AS x, * FROM people",
		 "public.people"},
		{"WITH accounts AS (SELECT 1) UPDATE accounts SET a = 1 WHERE true",
		 "public.accounts"},
		{"WITH accounts AS (SELECT 1) INSERT INTO accounts SELECT 1",
		 "public.accounts"},
		/* a later CTE's body is not in an earlier one's scope */
		{"WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a",
		 "public.b"},
		/* catalog.schema.name: the catalog is the current database */
		{"DROP TABLE postgres.public.accounts", "public.accounts"},
		{"COMMENT ON TABLE accounts IS 'x'", "public.accounts"},
		{"COMMENT ON COLUMN hr.accounts.id IS 'x'", "hr.accounts"},
		{"SECURITY LABEL ON TABLE accounts IS 'x'", "public.accounts"},
		{"DROP TRIGGER t ON accounts", "public.accounts"},
		{"DROP POLICY p ON hr.accounts", "hr.accounts"},
		{"ALTER EXTENSION e ADD TABLE accounts", "public.accounts"},
		{"DROP SCHEMA hr CASCADE", "hr.*"},
		{"ALTER SCHEMA hr RENAME TO x", "hr.*"},
		{"GRANT SELECT ON ALL TABLES IN SCHEMA hr TO x", "hr.*"},
		{"DROP OWNED BY current_user", "*"},
		{"REASSIGN OWNED BY a TO b", "*"},
	};
	size_t i;

	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		assert_int_equal(pg_classify(named[i].sql, &c), 0);
		if (!has(c.stmts[0].tables, c.stmts[0].ntables, named[i].table))
			fail_msg("%s: no table %s", named[i].sql,
				 named[i].table);
		done();
	}
	/* CTEs in scope are not tables: an allow-list of tables still
	 * fits a query that names its parts */
	one("WITH recent AS (SELECT * FROM orders), top AS (SELECT * FROM "
	    "recent) SELECT * FROM top JOIN (SELECT * FROM recent) r ON true",
	    PG_CLASS_READ);
	assert_int_equal(c.stmts[0].ntables, 1);
	assert_string_equal(c.stmts[0].tables[0], "public.orders");
	done();
	one("WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t "
	    "WHERE n < 3) SELECT * FROM t",
	    PG_CLASS_READ);
	assert_int_equal(c.stmts[0].ntables, 0);
	done();
	one("SELECT postgres.pg_catalog.pg_ls_dir('.')", PG_CLASS_READ);
	assert_true(has(c.stmts[0].functions, c.stmts[0].nfunctions,
			"pg_catalog.pg_ls_dir"));
	done();
	/* PostgreSQL takes the last of repeated EXPLAIN options */
	one("EXPLAIN (ANALYZE off, ANALYZE) DELETE FROM accounts WHERE id > 0",
	    PG_CLASS_WRITE);
	assert_true(c.stmts[0].flags & PG_FLAG_EXPLAIN_ANALYZE);
	done();
	one("EXPLAIN (ANALYZE, ANALYZE false) CREATE TABLE t AS SELECT 1",
	    PG_CLASS_DDL);
	done();
	one("EXPLAIN (ANALYZE off) DELETE FROM accounts", PG_CLASS_READ);
	done();
	/* COPY of a DELETE ... RETURNING deletes */
	one("COPY (DELETE FROM scratch WHERE id > 0 RETURNING id) TO STDOUT",
	    PG_CLASS_WRITE);
	assert_int_equal(c.stmts[0].kind, PG_KIND_DELETE);
	assert_true(c.stmts[0].flags & PG_FLAG_WRITES);
	assert_true(c.stmts[0].flags & PG_FLAG_COPY_OUT);
	done();
	/* ... to a server file: still copy_server */
	one("COPY (DELETE FROM t WHERE false RETURNING 1) TO '/tmp/x'",
	    PG_CLASS_COPY_SERVER);
	assert_true(c.stmts[0].flags & PG_FLAG_SERVER_FILE);
	assert_true(c.stmts[0].flags & PG_FLAG_WRITES);
	done();
	/* a CTE that deletes inside COPY */
	one("COPY (WITH d AS (DELETE FROM v RETURNING *) SELECT * FROM d) "
	    "TO STDOUT",
	    PG_CLASS_WRITE);
	done();
	/* functions that run SQL text: dynamic */
	one("SELECT query_to_xml('select * from hr.salaries', true, false, '')",
	    PG_CLASS_DYNAMIC);
	assert_true(c.stmts[0].flags & PG_FLAG_DYNAMIC);
	done();
	one("SELECT * FROM ts_stat('select v from hr.docs')", PG_CLASS_DYNAMIC);
	done();
	/* pg_settings' update rule calls set_config() */
	one("UPDATE pg_settings SET setting = 'hr' WHERE name = 'search_path'",
	    PG_CLASS_WRITE);
	assert_true(c.stmts[0].flags & PG_FLAG_SEARCH_PATH);
	done();
	one("SELECT * FROM pg_settings", PG_CLASS_READ);
	assert_false(c.stmts[0].flags & PG_FLAG_SEARCH_PATH);
	done();
}

/* What results are computed from: the gateway refuses those computed
 * from a masked column, which reach the client without its name. */
static void test_output_refs(void **state)
{
	static const struct {
		const char *sql, *ref; /* ref NULL: no "c:" or "r:" */
	} cases[] = {
		{"SELECT ssn, p.name FROM people p", NULL},
		{"SELECT p.* FROM people p", NULL},
		{"SELECT count(*) FROM people WHERE ssn = 'x'", NULL},
		{"SELECT x FROM (SELECT ssn AS x FROM people) s", NULL},
		{"SELECT ssn FROM people LEFT JOIN people p2 USING (ssn)", NULL},
		{"SELECT replace(ssn, '-', '') FROM people", "c:ssn"},
		{"SELECT ssn || '' AS ssn FROM people", "c:ssn"},
		{"SELECT row_to_json(p) FROM people p", "r:p"},
		{"SELECT p FROM people p", "r:p"},
		{"SELECT (p.*)::text FROM people p", "r:p"},
		{"SELECT array_agg(tier) FROM people", "c:tier"},
		{"SELECT ssn FROM people UNION SELECT 'x'", "c:ssn"},
		{"SELECT (SELECT ssn FROM people LIMIT 1)", "c:ssn"},
		{"UPDATE people SET name = name RETURNING upper(ssn)", "c:ssn"},
		{"UPDATE people SET note = ssn RETURNING note", "c:ssn"},
		{"INSERT INTO t SELECT ssn FROM people", "c:ssn"},
		{"SELECT x FROM people, LATERAL (VALUES (ssn)) v(x)", "c:ssn"},
		{"SELECT u FROM people, unnest(array[ssn]) u", "c:ssn"},
		{"SELECT ssn FROM people FULL JOIN people p2 USING (ssn)", "c:ssn"},
		{"SELECT 1 FROM people WHERE ssn::int = 0", "c:ssn"},
	};
	size_t i, j;
	int some;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(pg_classify(cases[i].sql, &c), 0);
		for (some = 0, j = 0; j < c.stmts[0].nrefs; j++)
			some |= c.stmts[0].refs[j][0] != 'p';
		if (!cases[i].ref ? some
				  : !has(c.stmts[0].refs, c.stmts[0].nrefs,
					 cases[i].ref))
			fail_msg("%s: refs %zu, want %s", cases[i].sql,
				 c.stmts[0].nrefs,
				 cases[i].ref ? cases[i].ref : "none");
		done();
	}
	/* a subquery's column may be another renamed */
	one("SELECT upper(name) FROM (SELECT ssn AS name FROM people) s",
	    PG_CLASS_READ);
	assert_true(c.stmts[0].refs_derived);
	done();
	one("SELECT upper(name) FROM people", PG_CLASS_READ);
	assert_false(c.stmts[0].refs_derived);
	done();
}

static void shape_is(const char *sql, const char *want)
{
	char out[256];
	size_t n = pg_sql_shape(sql, strlen(sql), out, sizeof(out));

	if (!want) {
		if (n)
			fail_msg("%s: shape \"%.*s\", want none", sql, (int)n,
				 out);
		return;
	}
	if (n != strlen(want) || memcmp(out, want, n))
		fail_msg("%s: shape \"%.*s\", want \"%s\"", sql, (int)n, out,
			 want);
}

/* Only integer constants that are whole tokens become 0; everything
 * whose lexing could differ is kept as it is, or has no shape. */
static void test_shapes(void **state)
{
	shape_is("SELECT abalance FROM pgbench_accounts WHERE aid = 48213;",
		 "SELECT abalance FROM pgbench_accounts WHERE aid = 0;");
	shape_is("select t1, x2y from t3 where a=1 and b<(22)",
		 "select t1, x2y from t3 where a=0 and b<(0)");
	shape_is("select 1.5, 1e5, 0x1F, 1_000, 1234567890, 7.",
		 "select 1.5, 1e5, 0x1F, 1_000, 1234567890, 7.");
	shape_is("select '123', \"a 1\", 'it''s 4', \"q\"\"5\" from t",
		 "select '123', \"a 1\", 'it''s 4', \"q\"\"5\" from t");
	shape_is("-- row 12\nselect 3 /* 4 /* 5 */ 6 */ + 7",
		 "-- row 12\nselect 0 /* 4 /* 5 */ 6 */ + 0");
	shape_is("select x.5, a::int+8, \xc3\xa9" "1",
		 "select x.5, a::int+0, \xc3\xa9" "1");
	shape_is("select $1", NULL);
	shape_is("select E'\\n1'", NULL);
	shape_is("do $$ begin perform 1; end $$", NULL);
	shape_is("select 'open 1", NULL);
	shape_is("select 1 /* open", NULL);
}

static void same_classification(const struct pg_classified *a,
				const struct pg_classified *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		const struct pg_stmt *x = &a->stmts[i], *y = &b->stmts[i];

		assert_int_equal(x->cls, y->cls);
		assert_int_equal(x->kind, y->kind);
		assert_int_equal(x->flags, y->flags);
		assert_string_equal(x->command, y->command);
		assert_string_equal(x->text, y->text);
		assert_int_equal(x->ntables, y->ntables);
		for (size_t j = 0; j < x->ntables; j++)
			assert_string_equal(x->tables[j], y->tables[j]);
		assert_int_equal(x->nfunctions, y->nfunctions);
		for (size_t j = 0; j < x->nfunctions; j++)
			assert_string_equal(x->functions[j], y->functions[j]);
	}
}

/* The cache answers what pg_classify answers, text included, for texts
 * of one shape; errors and multi-statement shapes are not shared. */
static void test_cache(void **state)
{
	static const char *const texts[] = {
		"SELECT abalance FROM pgbench_accounts WHERE aid = 7;",
		"SELECT abalance FROM pgbench_accounts WHERE aid = 123456789;",
		"  SELECT abalance FROM pgbench_accounts WHERE aid = 5  ;  -- x",
		"  SELECT abalance FROM pgbench_accounts WHERE aid = 51  ;  -- x",
		"UPDATE t SET a = 1 WHERE id = 2",
		"UPDATE t SET a = 99 WHERE id = 100000",
		"DELETE FROM t",
		"SELECT 1; DROP TABLE accounts",
		"SELECT 22; DROP TABLE accounts",
		"SELECT 1; DROP TABLE accounts",
		"select $1",
		"select $1",
		"EXPLAIN ANALYZE DELETE FROM t WHERE id = 4",
		"EXPLAIN ANALYZE DELETE FROM t WHERE id = 44",
		"",
	};
	struct pg_ccache cc;
	struct pg_classified want, got;

	memset(&cc, 0, sizeof(cc));
	for (int round = 0; round < 2; round++) {
		for (size_t i = 0; i < sizeof(texts) / sizeof(*texts); i++) {
			assert_int_equal(pg_classify(texts[i], &want), 0);
			assert_int_equal(pg_classify_cached(&cc, texts[i], &got),
					 0);
			same_classification(&want, &got);
			pg_classified_free(&want);
			pg_classified_free(&got);
		}
	}
	/* the second text of each pair hits (5), then every single
	 * statement (11) and the empty text (kept by its exact text);
	 * multi-statement shapes never */
	assert_int_equal(cc.hits, 17);
	/* a hit lends the cache's copy; releasing it leaves the entry */
	assert_int_equal(pg_classify_cached(&cc, texts[1], &got), 0);
	assert_true(got.borrowed);
	pg_classified_free(&got);
	assert_int_equal(pg_classify_cached(&cc, texts[0], &got), 0);
	assert_true(got.borrowed);
	assert_string_equal(got.stmts[0].text,
			    "SELECT abalance FROM pgbench_accounts WHERE aid = 7");
	pg_classified_free(&got);
	cc.hits = 17;
	/* a text that does not parse is parsed (and refused) every time */
	cc.hits = 0;
	assert_int_equal(pg_classify_cached(&cc, "SELEKT 1", &got), -1);
	pg_classified_free(&got);
	assert_int_equal(pg_classify_cached(&cc, "SELEKT 2", &got), -1);
	assert_true(strlen(got.error) > 0);
	pg_classified_free(&got);
	assert_int_equal(cc.hits, 0);
	/* bounded: many shapes later, answers are still right */
	for (int i = 0; i < 3 * PG_CCACHE_ENTRIES; i++) {
		char sql[64];

		snprintf(sql, sizeof(sql), "SELECT c%d FROM t%d WHERE x = %d", i,
			 i % 5, i);
		assert_int_equal(pg_classify(sql, &want), 0);
		assert_int_equal(pg_classify_cached(&cc, sql, &got), 0);
		same_classification(&want, &got);
		pg_classified_free(&want);
		pg_classified_free(&got);
	}
	pg_ccache_free(&cc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classes),
		cmocka_unit_test(test_tables_and_functions),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_search_path),
		cmocka_unit_test(test_names_complete),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_multi_statement),
		cmocka_unit_test(test_unparsable),
		cmocka_unit_test(test_readings),
		cmocka_unit_test(test_hidden_effects),
		cmocka_unit_test(test_output_refs),
		cmocka_unit_test(test_shapes),
		cmocka_unit_test(test_cache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
