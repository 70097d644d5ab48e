/*
 * Prepared statement names (pg_prepared.h) and how the guard decides an
 * SQL EXECUTE: as every body prepared under its name, in the order the
 * statements of a Query run, with the prepared text shown; the table's
 * bounds make a name unknown (dynamic), never a partial list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pg_fakehost.h"
#include "pg_msg.h"
#include "pg_prepared.h"
#include "pg_session.h"

/* ---- the table ---- */

static struct pg_stmt body(const char *text)
{
	struct pg_stmt st;

	memset(&st, 0, sizeof(st));
	st.command = (char *)"SelectStmt";
	st.text = (char *)text;
	return st;
}

static void test_candidates_accumulate(void **state)
{
	struct pg_prepared *p = NULL;
	struct pg_stmt a = body("PREPARE x AS SELECT 1"),
		       b = body("PREPARE x AS DELETE FROM t");
	const struct pg_prep_name *e;

	(void)state;
	assert_null(pg_prepared_find(p, "x"));
	assert_int_equal(pg_prepared_add(&p, "x", &a), 0);
	assert_non_null(p);
	assert_int_equal(pg_prepared_add(&p, "x", &b), 0);
	/* the same text again (a PREPARE the server refused) adds nothing */
	assert_int_equal(pg_prepared_add(&p, "x", &a), 0);
	e = pg_prepared_find(p, "x");
	assert_non_null(e);
	assert_int_equal(e->n, 2);
	assert_string_equal(e->bodies[0]->st.text, "PREPARE x AS SELECT 1");
	assert_string_equal(e->bodies[1]->st.text, "PREPARE x AS DELETE FROM t");
	assert_null(pg_prepared_find(p, "y"));
	assert_null(pg_prepared_find(p, "X")); /* names are exact */
	/* DEALLOCATE x: unknown, then a fresh list */
	pg_prepared_forget(p, "x");
	assert_null(pg_prepared_find(p, "x"));
	assert_int_equal(pg_prepared_add(&p, "x", &a), 0);
	assert_int_equal(pg_prepared_find(p, "x")->n, 1);
	pg_prepared_forget(p, "nothing"); /* harmless */
	/* DEALLOCATE ALL */
	assert_int_equal(pg_prepared_add(&p, "y", &b), 0);
	pg_prepared_forget_all(p);
	assert_null(pg_prepared_find(p, "x"));
	assert_null(pg_prepared_find(p, "y"));
	assert_int_equal(p->bytes, 0);
	pg_prepared_free(p);
}

static void test_bound_per_name(void **state)
{
	struct pg_prepared *p = NULL;
	char texts[PG_PREP_MAX_BODIES + 2][32];
	struct pg_stmt st;
	int i;

	(void)state;
	for (i = 0; i < PG_PREP_MAX_BODIES + 2; i++)
		snprintf(texts[i], sizeof(texts[i]), "PREPARE x AS SELECT %d", i);
	for (i = 0; i < PG_PREP_MAX_BODIES; i++) {
		st = body(texts[i]);
		assert_int_equal(pg_prepared_add(&p, "x", &st), 0);
	}
	assert_int_equal(pg_prepared_find(p, "x")->n, PG_PREP_MAX_BODIES);
	/* one more: the list would no longer be everything: unknown */
	st = body(texts[PG_PREP_MAX_BODIES]);
	assert_int_equal(pg_prepared_add(&p, "x", &st), -1);
	assert_null(pg_prepared_find(p, "x"));
	/* and stays unknown: a later body must not start a list that
	 * misses what the server may hold */
	st = body(texts[0]);
	assert_int_equal(pg_prepared_add(&p, "x", &st), -1);
	assert_null(pg_prepared_find(p, "x"));
	/* until it is deallocated */
	pg_prepared_forget(p, "x");
	assert_int_equal(p->bytes, 0);
	assert_int_equal(pg_prepared_add(&p, "x", &st), 0);
	assert_int_equal(pg_prepared_find(p, "x")->n, 1);
	pg_prepared_free(p);
}

static void test_bound_names(void **state)
{
	struct pg_prepared *p = NULL;
	struct pg_stmt st = body("SELECT 1");
	char name[32];
	int i;

	(void)state;
	for (i = 0; i < PG_PREP_MAX_NAMES; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		assert_int_equal(pg_prepared_add(&p, name, &st), 0);
	}
	assert_int_equal(pg_prepared_add(&p, "one_more", &st), -1);
	assert_null(pg_prepared_find(p, "one_more"));
	/* names already known still work */
	assert_non_null(pg_prepared_find(p, "n7"));
	assert_int_equal(pg_prepared_add(&p, "n7", &(struct pg_stmt){
		.command = (char *)"DeleteStmt", .text = (char *)"DELETE"}), 0);
	assert_int_equal(pg_prepared_find(p, "n7")->n, 2);
	/* a freed slot does not make an untracked name trackable: it may
	 * already hold a body nobody saw */
	pg_prepared_forget(p, "n0");
	assert_int_equal(pg_prepared_add(&p, "one_more", &st), -1);
	assert_null(pg_prepared_find(p, "one_more"));
	/* DEALLOCATE ALL / DISCARD ALL start over */
	pg_prepared_forget_all(p);
	assert_int_equal(pg_prepared_add(&p, "one_more", &st), 0);
	assert_non_null(pg_prepared_find(p, "one_more"));
	pg_prepared_free(p);
}

static void test_byte_budget(void **state)
{
	struct pg_prepared *p = NULL;
	size_t len = PG_PREP_MAX_BYTES / 4; /* three fit, with the rest */
	char *big = malloc(len + 1);
	struct pg_stmt st;
	int i, rc = 0;

	(void)state;
	assert_non_null(big);
	memset(big, 'a', len);
	big[len] = 0;
	for (i = 0; i < 4 && rc == 0; i++) {
		big[0] = (char)('a' + i); /* distinct texts */
		st = body(big);
		rc = pg_prepared_add(&p, "big", &st);
	}
	/* the fourth cannot fit: the name becomes unknown */
	assert_int_equal(rc, -1);
	assert_int_equal(i, 3 + 1);
	assert_null(pg_prepared_find(p, "big"));
	pg_prepared_forget(p, "big");
	assert_int_equal(p->bytes, 0);
	free(big);
	pg_prepared_free(p);
}

/* While a Query is decided, what it forgets is set aside: readable
 * (decisions point into it), and put back if the Query does not run. */
static void test_deferred_forget(void **state)
{
	struct pg_prepared *p = NULL;
	struct pg_stmt a = body("PREPARE x AS SELECT 1"),
		       b = body("PREPARE x AS DELETE FROM t");
	const char *text;
	char name[16];

	(void)state;
	assert_int_equal(pg_prepared_add(&p, "x", &a), 0);
	assert_int_equal(pg_prepared_add(&p, "y", &a), 0);
	text = pg_prepared_find(p, "x")->bodies[0]->st.text;
	/* "DEALLOCATE ALL; PREPARE x AS DELETE ..." denied */
	p->defer = 1;
	pg_prepared_forget_all(p);
	assert_null(pg_prepared_find(p, "x"));
	assert_string_equal(text, "PREPARE x AS SELECT 1");
	assert_int_equal(pg_prepared_add(&p, "x", &b), 0);
	assert_int_equal(pg_prepared_find(p, "x")->n, 1);
	pg_prepared_end(p, 0);
	/* both bodies of x, and y, are back */
	assert_int_equal(pg_prepared_find(p, "x")->n, 2);
	assert_int_equal(pg_prepared_find(p, "y")->n, 1);
	assert_null(p->gone);
	/* the same, run: forgotten for good */
	p->defer = 1;
	pg_prepared_forget(p, "x");
	pg_prepared_end(p, 1);
	assert_null(pg_prepared_find(p, "x"));
	assert_non_null(pg_prepared_find(p, "y"));
	/* an untracked table stays so when DEALLOCATE ALL did not run */
	for (int i = 0; i <= PG_PREP_MAX_NAMES; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		pg_prepared_add(&p, name, &a);
	}
	assert_true(p->untracked);
	p->defer = 1;
	pg_prepared_forget_all(p);
	pg_prepared_end(p, 0);
	assert_true(p->untracked);
	assert_int_equal(pg_prepared_add(&p, "new", &a), -1);
	assert_non_null(pg_prepared_find(p, "n3"));
	pg_prepared_free(p);
}

/* ---- the guard ---- */

static uint8_t cbuf[65536], ubuf[65536], m[4096];
static char dlog[16384]; /* "text | attrs\n" per decision */

static int setup(void **state)
{
	(void)state;
	fh_setup();
	dlog[0] = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fh_teardown();
	return 0;
}

static int attr_is(const struct jg_action *a, const char *k, const char *v)
{
	for (size_t i = 0; i < a->nattrs; i++)
		if (strcmp(a->attrs[i].key, k) == 0 &&
		    strcmp(a->attrs[i].value, v) == 0)
			return 1;
	return 0;
}

/* Deletes of public.t2 are denied, deletes of public.t3 allowed but not
 * by EXECUTE, other deletes need review; everything else is allowed,
 * dynamic too. */
static void policy(const struct jg_action *a, struct jg_decision *d)
{
	size_t off = strlen(dlog);

	snprintf(dlog + off, sizeof(dlog) - off, "%s | %s\n",
		 a->text ? a->text : "", fh.last_attrs);
	if (!attr_is(a, "class", "delete"))
		return;
	if (attr_is(a, "table", "public.t2") ||
	    (attr_is(a, "table", "public.t3") && attr_is(a, "flag", "execute"))) {
		d->effect = JG_EFFECT_DENY;
		snprintf(d->rule, sizeof(d->rule), "no-delete");
	} else if (!attr_is(a, "table", "public.t3")) {
		d->effect = JG_EFFECT_REVIEW;
		snprintf(d->rule, sizeof(d->rule), "delete-review");
	}
}

static void login(void)
{
	fh.policy = policy;
	fh_login();
	fh_client_take(NULL, 0);
}

/* Decisions whose line contains both a and b. */
static int decided(const char *a, const char *b)
{
	int n = 0;

	for (const char *l = dlog; *l;) {
		const char *e = strchr(l, '\n');
		char line[2048];
		size_t len = e ? (size_t)(e - l) : strlen(l);

		snprintf(line, sizeof(line), "%.*s", (int)len, l);
		if (strstr(line, a) && (!b || strstr(line, b)))
			n++;
		l += len + (e ? 1 : 0);
	}
	return n;
}

/* The server answers a forwarded statement. */
static void up_done(void)
{
	struct pg_buf b;
	size_t off;

	pg_buf_init(&b);
	off = pg_msg_begin(&b, 'C');
	pg_buf_str(&b, "OK");
	pg_msg_end(&b, off);
	pg_build_ready(&b, 'I');
	fh_up_send(b.data, b.len);
	pg_buf_free(&b);
}

/* Send a Query; returns the bytes that went upstream (in ubuf). */
static size_t query(const char *sql)
{
	fh_client_send(m, fh_query(m, sql));
	return fh_up_take(ubuf, sizeof(ubuf));
}

/* The Query went upstream as sent; the server answers it. */
static void forwarded(const char *sql)
{
	size_t n = query(sql);

	assert_non_null(memmem(ubuf, n, sql, strlen(sql)));
	up_done();
	fh_client_take(NULL, 0);
}

/* The Query was refused by policy: 42501 naming rule. */
static void denied(const char *sql, const char *rule)
{
	size_t n = query(sql);

	assert_null(memmem(ubuf, n, sql, strlen(sql)));
	fh_up_rejects_stand_in();
	n = fh_client_take(cbuf, sizeof(cbuf));
	assert_string_equal(fh_error_field(cbuf, n, 'C'), "42501");
	assert_non_null(strstr(fh_error_field(cbuf, n, 'M'), rule));
}

static void test_execute_held_as_prepared_delete(void **state)
{
	size_t n;

	(void)state;
	login();
	n = query("PREPARE d AS DELETE FROM t WHERE id = $1");
	assert_int_equal(n, 0); /* held */
	fh.review_cb(fh.review_ud, JG_REVIEW_APPROVED, "r-1", NULL);
	fh_up_take(NULL, 0);
	up_done();
	fh_client_take(NULL, 0);
	/* the EXECUTE is held again, as the delete it runs */
	n = query("EXECUTE d(1)");
	assert_int_equal(n, 0);
	assert_string_equal(fh.held_text, "EXECUTE d(1)");
	assert_non_null(strstr(fh.held_attrs,
			       "prepared=PREPARE d AS DELETE FROM t WHERE id = $1|"));
	assert_non_null(strstr(fh.held_attrs, "class=delete|"));
	assert_non_null(strstr(fh.held_attrs, "table=public.t|"));
	assert_non_null(strstr(fh.held_attrs, "flag=execute|"));
	assert_null(strstr(fh.held_attrs, "flag=prepare|"));
	assert_null(strstr(fh.held_attrs, "dynamic"));
	fh.review_cb(fh.review_ud, JG_REVIEW_APPROVED, "r-1", NULL);
	n = fh_up_take(ubuf, sizeof(ubuf));
	assert_non_null(memmem(ubuf, n, "EXECUTE d(1)", 12));
	up_done();
	fh_client_take(NULL, 0);
	/* one run per approval: the next EXECUTE is held again */
	assert_int_equal(query("EXECUTE d(2)"), 0);
	assert_string_equal(fh.held_text, "EXECUTE d(2)");
}

static void test_execute_decided_as_every_body(void **state)
{
	(void)state;
	login();
	forwarded("PREPARE x AS SELECT 1");
	denied("PREPARE x AS DELETE FROM t2 WHERE id = 1", "no-delete");
	/* the server holds the SELECT; the gateway cannot know: both */
	denied("EXECUTE x", "no-delete");
	assert_int_equal(decided("EXECUTE x |", "prepared=PREPARE x AS SELECT 1 "), 1);
	assert_int_equal(decided("EXECUTE x |", "prepared=PREPARE x AS DELETE FROM t2"), 1);
	/* DEALLOCATE forgets; the new body alone decides */
	forwarded("DEALLOCATE x");
	forwarded("PREPARE x AS SELECT 2");
	dlog[0] = 0;
	forwarded("EXECUTE x");
	assert_int_equal(decided("EXECUTE x |", NULL), 1);
	assert_int_equal(decided("EXECUTE x |", "prepared=PREPARE x AS SELECT 2 "), 1);
	assert_int_equal(decided("EXECUTE x |", "class=select category=read"), 1);
	/* DEALLOCATE ALL and DISCARD ALL forget every name: unknown names
	 * are dynamic, as before */
	forwarded("DEALLOCATE ALL");
	dlog[0] = 0;
	forwarded("EXECUTE x");
	assert_int_equal(decided("EXECUTE x |", "category=dynamic"), 1);
	assert_int_equal(decided("EXECUTE x |", "flag=execute"), 1);
	forwarded("PREPARE q AS DELETE FROM t3 WHERE id = 1");
	denied("EXECUTE q", "no-delete");
	forwarded("DISCARD ALL");
	forwarded("EXECUTE q");
	/* EXPLAIN ANALYZE runs it too */
	forwarded("PREPARE q AS DELETE FROM t3 WHERE id = 1");
	denied("EXPLAIN ANALYZE EXECUTE q", "no-delete");
	assert_int_equal(decided("EXPLAIN ANALYZE EXECUTE q |",
				 "flag=explain_analyze"), 1);
}

/* How many bodies the session has for name (0: unknown). */
static size_t names_of(const char *name)
{
	const struct pg_session *ps = fh.state;
	const struct pg_prep_name *e = pg_prepared_find(ps->prepared, name);

	return e ? e->n : 0;
}

/* Statements of one Query are decided in the order they run. */
static void test_query_order(void **state)
{
	(void)state;
	login();
	forwarded("PREPARE y AS SELECT 1");
	dlog[0] = 0;
	denied("DEALLOCATE y; PREPARE y AS DELETE FROM t3 WHERE id = 1; "
	       "EXECUTE y",
	       "no-delete");
	assert_int_equal(decided("EXECUTE y |", NULL), 1);
	assert_int_equal(decided("EXECUTE y |", "prepared=PREPARE y AS DELETE"), 1);
	/* that Query was denied: its DEALLOCATE did not run, so y keeps
	 * its old body (and the DELETE: a candidate too many is only
	 * stricter) */
	assert_int_equal(names_of("y"), 2);
	/* a DEALLOCATE held for review with a DELETE, then refused: the
	 * name stays */
	assert_int_equal(query("DEALLOCATE y; DELETE FROM t WHERE id = 1"), 0);
	fh.review_cb(fh.review_ud, JG_REVIEW_DENIED, "r-1", NULL);
	fh_up_rejects_stand_in();
	fh_client_take(NULL, 0);
	assert_int_equal(names_of("y"), 2);
	/* run, it forgets */
	forwarded("DEALLOCATE y");
	dlog[0] = 0;
	forwarded("EXECUTE y");
	assert_int_equal(decided("EXECUTE y |", "category=dynamic"), 1);
	/* and the other way round: an EXECUTE before the PREPARE is
	 * decided without it */
	dlog[0] = 0;
	forwarded("EXECUTE w; PREPARE w AS DELETE FROM t3 WHERE id = 1");
	assert_int_equal(decided("EXECUTE w |", "category=dynamic"), 1);
	denied("EXECUTE w", "no-delete");
}

/* A Parse "p1" (extended protocol) shares the namespace of SQL EXECUTE. */
static void test_parse_name_and_close(void **state)
{
	static const char sql[] = "DELETE FROM t3 WHERE id = $1";
	uint8_t body[128];
	size_t n, k = 0, b;

	(void)state;
	login();
	memcpy(body, "p1", 3);
	k = 3;
	memcpy(body + k, sql, sizeof(sql));
	k += sizeof(sql);
	body[k++] = 0;
	body[k++] = 0;
	b = fh_msg(m, 'P', body, k);
	b += fh_msg(m + b, 'S', "", 0);
	fh_client_send(m, b);
	n = fh_up_take(ubuf, sizeof(ubuf));
	assert_non_null(memmem(ubuf, n, sql, sizeof(sql) - 1)); /* allowed */
	up_done();
	fh_client_take(NULL, 0);
	denied("EXECUTE p1(2)", "no-delete");
	assert_int_equal(decided("EXECUTE p1(2) |",
				 "prepared=DELETE FROM t3 WHERE id = $1"), 1);
	/* an EXECUTE in a Parse stays dynamic: it could run later, after
	 * p1 was prepared again */
	dlog[0] = 0;
	b = fh_msg(m, 'P', "\0EXECUTE p1(2)\0\0", 17);
	b += fh_msg(m + b, 'S', "", 0);
	fh_client_send(m, b);
	n = fh_up_take(ubuf, sizeof(ubuf));
	assert_non_null(memmem(ubuf, n, "EXECUTE p1(2)", 13));
	assert_int_equal(decided("EXECUTE p1(2) |", "category=dynamic"), 1);
	up_done();
	fh_client_take(NULL, 0);
	/* Close of the statement forgets it */
	b = fh_msg(m, 'C', "Sp1", 4);
	b += fh_msg(m + b, 'S', "", 0);
	fh_client_send(m, b);
	fh_up_take(NULL, 0);
	up_done();
	fh_client_take(NULL, 0);
	dlog[0] = 0;
	forwarded("EXECUTE p1(2)");
	assert_int_equal(decided("EXECUTE p1(2) |", "category=dynamic"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_candidates_accumulate),
		cmocka_unit_test(test_bound_per_name),
		cmocka_unit_test(test_bound_names),
		cmocka_unit_test(test_byte_budget),
		cmocka_unit_test(test_deferred_forget),
		cmocka_unit_test_setup_teardown(
			test_execute_held_as_prepared_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_execute_decided_as_every_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_parse_name_and_close,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
