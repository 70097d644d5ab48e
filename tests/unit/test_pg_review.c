/*
 * Statements held for review in a live PostgreSQL session, against the
 * fake host: a cancel withdraws the review and the client gets 57014
 * and ReadyForQuery; a client that leaves withdraws it too; a Parse is
 * held with its Bind, Execute and Sync, the approver sees the Bind's
 * parameters, and the approved run sends exactly those bytes once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pg_cancel.h"
#include "pg_fakehost.h"
#include "pg_msg.h"
#include "pg_session.h"

static uint8_t cbuf[65536], ubuf[65536], m[4096];

static int setup(void **state)
{
	(void)state;
	fh_setup();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fh_teardown();
	return 0;
}

static void review_writes(const struct jg_action *a, struct jg_decision *d)
{
	if (a->text && (strstr(a->text, "DROP") || strstr(a->text, "DELETE"))) {
		d->effect = JG_EFFECT_REVIEW;
		snprintf(d->rule, sizeof(d->rule), "writes-need-review");
	}
}

static int recorded(const char *what)
{
	for (size_t i = 0; i < fh.nrecords; i++)
		if (strstr(fh.records[i], what))
			return 1;
	return 0;
}

/* A logged-in session under review_writes, its greeting taken. */
static void login(void)
{
	fh.policy = review_writes;
	fh_login();
	fh_client_take(NULL, 0);
}

/* The server rejects the gateway's stand-in; the client gets an error
 * with sqlstate and one ReadyForQuery.  The client's bytes are in cbuf;
 * returns their length. */
static size_t client_gets_error(const char *sqlstate)
{
	size_t n;

	fh_up_rejects_stand_in();
	n = fh_client_take(cbuf, sizeof(cbuf));
	assert_string_equal(fh_error_field(cbuf, n, 'C'), sqlstate);
	assert_int_equal(fh_count_msgs(cbuf, n, 'Z'), 1);
	return n;
}

/* Log in and send a DROP TABLE, which review_writes holds. */
static void hold_drop(void)
{
	size_t q;

	login();
	q = fh_query(m, "DROP TABLE accounts");
	fh_client_send(m, q);
	assert_non_null(fh.review_cb);
}

/* The CancelRequest's part on the owning session's loop. */
static void cancel(void)
{
	pg_enter(fh.state);
	pg_guard_cancel_hold(fh.state);
	pg_leave(fh.state);
}

/* ---- building extended-protocol messages ---- */

/* Copy b's message to out and free b; its length. */
static size_t emit(struct pg_buf *b, size_t off, uint8_t *out)
{
	size_t n;

	pg_msg_end(b, off);
	assert_false(b->oom);
	memcpy(out, b->data, b->len);
	n = b->len;
	pg_buf_free(b);
	return n;
}

static size_t parse_msg(uint8_t *out, const char *stmt, const char *sql)
{
	struct pg_buf b;
	size_t off;

	pg_buf_init(&b);
	off = pg_msg_begin(&b, 'P');
	pg_buf_str(&b, stmt);
	pg_buf_str(&b, sql);
	pg_buf_i16(&b, 0);
	return emit(&b, off, out);
}

/* Bind the unnamed portal to stmt with one parameter in format fmt
 * (len -1: NULL). */
static size_t bind_msg(uint8_t *out, const char *stmt, int16_t fmt,
		       const void *v, int32_t len)
{
	struct pg_buf b;
	size_t off;

	pg_buf_init(&b);
	off = pg_msg_begin(&b, 'B');
	pg_buf_str(&b, "");
	pg_buf_str(&b, stmt);
	pg_buf_i16(&b, 1);
	pg_buf_i16(&b, fmt);
	pg_buf_i16(&b, 1);
	pg_buf_i32(&b, len);
	if (len > 0)
		pg_buf_add(&b, v, (size_t)len);
	pg_buf_i16(&b, 0);
	return emit(&b, off, out);
}

/* Describe portal, Execute, Sync: what libpq's PQexecParams sends after
 * Parse and Bind. */
static size_t tail_msgs(uint8_t *out)
{
	size_t n = 0;

	n += fh_msg(out + n, 'D', "P", 2);
	n += fh_msg(out + n, 'E', "\0\0\0\0", 5);
	n += fh_msg(out + n, 'S', "", 0);
	return n;
}

static size_t pipeline(uint8_t *out, const char *sql, int16_t fmt,
		       const void *v, int32_t len)
{
	size_t n = parse_msg(out, "", sql);

	n += bind_msg(out + n, "", fmt, v, len);
	return n + tail_msgs(out + n);
}

/* ---- cancel and disconnect ---- */

static void test_cancel_withdraws_and_session_goes_on(void **state)
{
	size_t n, q;

	struct pg_session *ps;
	struct pg_cancel_target t;

	(void)state;
	hold_drop();
	ps = fh.state;
	assert_int_equal(fh_up_take(ubuf, sizeof(ubuf)), 0);
	/* a held session keeps reading, so a client that leaves is seen */
	assert_true(fh.sess.client.read_on);
	/* a cancel for it is not for the server (pg_start_cancel_forward) */
	assert_int_equal(pg_cancel_lookup(ps->gw_pid, ps->gw_key, &t), 0);
	assert_true(t.held);
	fh_client_take(NULL, 0);
	cancel();
	assert_int_equal(pg_cancel_lookup(ps->gw_pid, ps->gw_key, &t), 0);
	assert_false(t.held);
	assert_int_equal(fh.nwithdrawn, 1);
	assert_string_equal(fh.withdrawn_reason, "canceled by the client");
	assert_true(recorded("review review=r-1 outcome=withdrawn "
			     "reason=canceled by the client"));
	n = fh_up_take(ubuf, sizeof(ubuf));
	assert_null(memmem(ubuf, n, "DROP", 4));
	n = client_gets_error("57014");
	assert_string_equal(fh_error_field(cbuf, n, 'M'),
			    "canceling statement due to user request");
	/* a second cancel finds nothing held */
	cancel();
	assert_int_equal(fh.nwithdrawn, 1);
	assert_int_equal(fh_up_take(ubuf, sizeof(ubuf)), 0);
	/* the same session runs the next statement */
	q = fh_query(m, "SELECT 1");
	fh_client_send(m, q);
	n = fh_up_take(ubuf, sizeof(ubuf));
	assert_int_equal(n, q);
	assert_memory_equal(ubuf, m, q);
	assert_false(fh.sess.ended);
}

static void test_client_leaving_withdraws(void **state)
{
	struct jg_stream *c = &fh.sess.client;

	(void)state;
	hold_drop();
	c->ev->on_closed(c, JG_OK, "eof", c->ud);
	assert_true(fh.sess.ended);
	assert_int_equal(fh.nwithdrawn, 1);
	assert_string_equal(fh.withdrawn_reason, "the client disconnected");
	assert_true(recorded("outcome=withdrawn reason=the client "
			     "disconnected"));
	assert_int_equal(fh_up_take(ubuf, sizeof(ubuf)), 0);
}

static void test_session_end_withdraws(void **state)
{
	(void)state;
	hold_drop();
	/* the core ends the session (idle timeout, revoked grant...) */
	fh_teardown();
	assert_int_equal(fh.nwithdrawn, 1);
	assert_string_equal(fh.withdrawn_reason, "the session ended");
	fh_setup();
}

static void test_outcome_after_withdrawal_ignored(void **state)
{
	(void)state;
	hold_drop();
	cancel();
	fh_up_take(NULL, 0);
	fh.review_cb(fh.review_ud, JG_REVIEW_APPROVED, "r-1", NULL);
	assert_int_equal(fh_up_take(ubuf, sizeof(ubuf)), 0);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A CancelRequest for pid and key, as the client's first packet. */
static void send_cancel(int32_t pid, int32_t key)
{
	uint8_t pkt[16];

	put32(pkt, 16);
	put32(pkt + 4, PG_CANCEL_CODE);
	put32(pkt + 8, (uint32_t)pid);
	put32(pkt + 12, (uint32_t)key);
	fh_client_send(pkt, sizeof(pkt));
}

/* psql's Ctrl-C waits in PQcancel until the cancel connection closes:
 * the gateway closes it as soon as the cancel is forwarded. */
static void test_cancel_connection_closes_at_once(void **state)
{
	struct pg_cancel_target t = {.host = "127.0.0.1",
				     .port = "5432",
				     .up_pid = 42,
				     .up_key = 0x01020304};
	int32_t pid, key;
	uint8_t pkt[16];
	size_t n;

	(void)state;
	assert_int_equal(pg_cancel_register(&t, &pid, &key), 0);
	send_cancel(pid, key);
	assert_non_null(fh.sess.up);
	assert_false(fh.sess.ended);
	fh_up_connected(JG_OK);
	n = fh_up_take(ubuf, sizeof(ubuf));
	/* the upstream backend's own key, then the session is over */
	assert_int_equal(n, 16);
	put32(pkt, 16);
	put32(pkt + 4, PG_CANCEL_CODE);
	put32(pkt + 8, 42);
	put32(pkt + 12, 0x01020304);
	assert_memory_equal(ubuf, pkt, 16);
	assert_true(fh.sess.ended);
	assert_string_equal(fh.sess.end_reason, "cancel forwarded");
	pg_cancel_unregister(pid, key);
}

/* A cancel for a session that holds a statement never reaches the
 * server: it could cancel the client's next statement instead. */
static void test_cancel_of_held_not_forwarded(void **state)
{
	struct pg_cancel_target t = {.host = "127.0.0.1", .port = "5432"};
	int32_t pid, key;

	(void)state;
	assert_int_equal(pg_cancel_register(&t, &pid, &key), 0);
	pg_cancel_set_held(pid, key ^ 1, 1); /* a wrong key changes nothing */
	assert_int_equal(pg_cancel_lookup(pid, key, &t), 0);
	assert_false(t.held);
	pg_cancel_set_held(pid, key, 1);
	send_cancel(pid, key);
	assert_null(fh.sess.up);
	assert_true(fh.sess.ended);
	assert_string_equal(fh.sess.end_reason,
			    "cancel withdrew a held statement");
	pg_cancel_unregister(pid, key);
}

/* ---- the extended protocol: text and parameters ---- */

static void test_parse_held_with_bind_params(void **state)
{
	size_t n, p, q;

	(void)state;
	login();
	p = pipeline(m, "DELETE FROM accounts WHERE id = $1", 0, "2", 1);
	q = fh_query(m + p, "SELECT 3");
	fh_client_send(m, p + q);
	/* held: nothing of the pipeline upstream, nor what follows */
	assert_int_equal(fh_up_take(ubuf, sizeof(ubuf)), 0);
	assert_non_null(fh.review_cb);
	assert_string_equal(fh.held_text, "DELETE FROM accounts WHERE id = $1");
	/* the approver sees the parameter the run will use */
	assert_non_null(strstr(fh.held_attrs, "param=$1 = '2'|"));
	assert_non_null(strstr(fh.held_attrs, "class=delete|"));
	n = fh_client_take(cbuf, sizeof(cbuf));
	assert_non_null(fh_find_msg(cbuf, n, 'N', &(size_t){0}));
	fh.review_cb(fh.review_ud, JG_REVIEW_APPROVED, "r-1", NULL);
	n = fh_up_take(ubuf, sizeof(ubuf));
	/* the held pipeline once (Parse, Bind, Describe, Execute, Sync):
	 * the client's bytes, already on the unnamed statement and portal;
	 * then the statement the client sent after it */
	assert_int_equal(n, p + q);
	assert_memory_equal(ubuf, m, p);
	assert_int_equal(fh_count_msgs(ubuf, n, 'P'), 1);
	assert_int_equal(fh_count_msgs(ubuf, n, 'B'), 1);
	assert_int_equal(fh_count_msgs(ubuf, n, 'E'), 1);
	assert_int_equal(fh_count_msgs(ubuf, n, 'S'), 1);
	assert_memory_equal(ubuf + n - q, m + p, q);
	fh.review_cb(fh.review_ud, JG_REVIEW_APPROVED, "r-1", NULL);
	assert_int_equal(fh_up_take(ubuf, sizeof(ubuf)), 0);
}

/* The approved statement runs on the unnamed statement and portal
 * (nothing SQL EXECUTE could name, nothing left under the client's
 * names), with the client's text and parameter bytes; Describe and
 * Close of them follow. */
static void test_parse_held_unnamed(void **state)
{
	size_t n, p, bl;
	const uint8_t *b;

	(void)state;
	login();
	p = parse_msg(m, "s1", "DELETE FROM accounts WHERE id = $1");
	n = bind_msg(m + p, "s1", 0, "7", 1);
	/* portal "p1": bind_msg binds ""; put the name in */
	{
		struct pg_buf bb;
		size_t off;

		pg_buf_init(&bb);
		off = pg_msg_begin(&bb, 'B');
		pg_buf_str(&bb, "p1");
		pg_buf_add(&bb, m + p + 6, n - 6);
		p += emit(&bb, off, m + p);
	}
	p += fh_msg(m + p, 'D', "Ss1", 4);
	p += fh_msg(m + p, 'D', "Pp1", 4);
	p += fh_msg(m + p, 'E', "p1\0\0\0\0", 7);
	p += fh_msg(m + p, 'C', "Ss1", 4);
	p += fh_msg(m + p, 'C', "Pp1", 4);
	p += fh_msg(m + p, 'S', "", 0);
	fh_client_send(m, p);
	assert_non_null(strstr(fh.held_attrs, "param=$1 = '7'|"));
	fh.review_cb(fh.review_ud, JG_REVIEW_APPROVED, "r-1", NULL);
	n = fh_up_take(ubuf, sizeof(ubuf));
	b = fh_find_msg(ubuf, n, 'P', &bl);
	assert_non_null(b);
	assert_int_equal(b[0], 0);
	assert_string_equal((const char *)b + 1,
			    "DELETE FROM accounts WHERE id = $1");
	/* Bind: portal "", statement "", then the bytes */
	b = fh_find_msg(ubuf, n, 'B', &bl);
	assert_memory_equal(b, "\0\0\0\1\0\0\0\1\0\0\0\1" "7", 13);
	b = fh_find_msg(ubuf, n, 'E', &bl);
	assert_int_equal(bl, 5);
	assert_int_equal(b[0], 0);
	assert_int_equal(fh_count_msgs(ubuf, n, 'D'), 2);
	assert_int_equal(fh_count_msgs(ubuf, n, 'C'), 2);
	/* the client's names never reach the server */
	assert_null(memmem(ubuf, n, "s1", 2));
	assert_null(memmem(ubuf, n, "p1", 2));
	assert_null(memmem(ubuf, n, "jitgate_reviewed", 16));
}

/* An Execute of another portal than the one bound is not one run. */
static void test_parse_held_other_portal_refused(void **state)
{
	size_t p;

	(void)state;
	login();
	p = parse_msg(m, "", "DELETE FROM accounts WHERE id = $1");
	p += bind_msg(m + p, "", 0, "7", 1);
	p += fh_msg(m + p, 'E', "\0\0\0\0\0", 5);
	p += fh_msg(m + p, 'E', "p9\0\0\0\0", 7);
	p += fh_msg(m + p, 'S', "", 0);
	fh_client_send(m, p);
	assert_null(fh.review_cb);
	client_gets_error("42501");
}

/* The server's answer to an approved run: ParseComplete, BindComplete,
 * NoData, then error (an ErrorResponse, the rest skipped) or the
 * command tag; ReadyForQuery. */
static void up_answers_run(const char *error)
{
	struct pg_buf b;
	size_t off;

	pg_buf_init(&b);
	off = pg_msg_begin(&b, '1');
	pg_msg_end(&b, off);
	off = pg_msg_begin(&b, '2');
	pg_msg_end(&b, off);
	off = pg_msg_begin(&b, 'n');
	pg_msg_end(&b, off);
	if (error) {
		pg_build_error(&b, 'E', "ERROR", "22012", error, NULL, NULL);
	} else {
		off = pg_msg_begin(&b, 'C');
		pg_buf_str(&b, "DELETE 1");
		pg_msg_end(&b, off);
	}
	pg_build_ready(&b, 'I');
	fh_up_send(b.data, b.len);
	pg_buf_free(&b);
}

/* Log in, hold a PQexecParams DELETE with $1 = 2 and approve it; the
 * server answers (error: the run fails part-way with it). */
static void approved_run(const char *error)
{
	size_t p;

	login();
	p = pipeline(m, "DELETE FROM accounts WHERE id = $1", 0, "2", 1);
	fh_client_send(m, p);
	assert_non_null(fh.review_cb);
	fh.review_cb(fh.review_ud, JG_REVIEW_APPROVED, "r-1", NULL);
	assert_int_equal(fh_up_take(ubuf, sizeof(ubuf)), p);
	up_answers_run(error);
	fh_client_take(NULL, 0);
}

/* A Bind of the unnamed statement, Describe portal, Execute, Sync:
 * PQexecPrepared(conn, "", ...) with $1 = v. */
static size_t rebind(uint8_t *out, const char *v)
{
	size_t n = bind_msg(out, "", 0, v, (int32_t)strlen(v));

	return n + tail_msgs(out + n);
}

/* The client's message went upstream as it was: no stand-in. */
static void passes(const uint8_t *msg, size_t len)
{
	size_t n = fh_up_take(ubuf, sizeof(ubuf));

	assert_int_equal(n, len);
	assert_memory_equal(ubuf, msg, len);
}

/* The client tries the approved statement again with other parameters
 * (its Bind names the unnamed statement the run used): refused before
 * it reaches the server, whether the run succeeded or failed. */
static void test_rebind_after_approval_refused(void **state)
{
	const char *errors[2] = {NULL, "division by zero"};
	size_t n, p;

	(void)state;
	for (int i = 0; i < 2; i++) {
		approved_run(errors[i]);
		p = rebind(m, "3");
		fh_client_send(m, p);
		n = fh_up_take(ubuf, sizeof(ubuf));
		/* a stand-in in place of the Bind; the rest is skipped by
		 * the server up to the client's Sync */
		assert_int_equal(fh_count_msgs(ubuf, n, 'B'), 0);
		assert_null(memmem(ubuf, n, "3", 1));
		assert_int_equal(fh_count_msgs(ubuf, n, 'P'), 1);
		assert_int_equal(fh_count_msgs(ubuf, n, 'S'), 1);
		n = client_gets_error("42501");
		assert_non_null(strstr(fh_error_field(cbuf, n, 'M'),
				       "reviewed statement"));
		assert_true(recorded("reuse of a reviewed statement"));
		assert_false(fh.sess.ended);
		fh_teardown();
		fh_setup();
	}
}

/* Describe of the unnamed statement is refused too; a Bind of a named
 * statement (parsed, so decided, by the client) is not. */
static void test_describe_after_approval_refused(void **state)
{
	size_t n, p;

	(void)state;
	approved_run(NULL);
	p = fh_msg(m, 'D', "S", 2);
	p += fh_msg(m + p, 'S', "", 0);
	fh_client_send(m, p);
	n = fh_up_take(ubuf, sizeof(ubuf));
	assert_int_equal(fh_count_msgs(ubuf, n, 'D'), 0);
	client_gets_error("42501");
	/* the stand-in, a Parse of the unnamed statement at the start of a
	 * pipeline, replaced it on the server: it no longer exists */
	p = rebind(m, "4");
	fh_client_send(m, p);
	passes(m, p);
}

/* The client runs a Query (query) or PQexecParams of a SELECT: it goes
 * upstream as it was. */
static void select_passes(int query)
{
	size_t p = query ? fh_query(m, "SELECT 1")
			 : pipeline(m, "SELECT $1::int", 0, "5", 1);

	fh_client_send(m, p);
	passes(m, p);
}

/* A Parse of the unnamed statement at the start of a pipeline replaces
 * the approved one (its Binds run, in that pipeline and later), and so
 * does a simple Query. */
static void test_parse_or_query_replaces_unnamed(void **state)
{
	size_t p;

	(void)state;
	for (int i = 0; i < 2; i++) {
		approved_run(NULL);
		select_passes(i);
		p = rebind(m, "6");
		fh_client_send(m, p);
		passes(m, p);
		fh_teardown();
		fh_setup();
	}
}

/*
 * A Parse after another extended message in the same pipeline may be
 * skipped by the server (an error before it skips to Sync), leaving the
 * approved statement: Binds after it in that pipeline run (they would
 * be skipped with it), a Bind in the next pipeline is refused.
 */
static void test_parse_mid_pipeline_keeps_guard(void **state)
{
	size_t n, p, k;

	(void)state;
	for (int i = 0; i < 2; i++) {
		/* an Execute of a portal that does not exist: an error */
		approved_run(NULL);
		k = fh_msg(m, 'E', "nosuch\0\0\0\0", 11);
		fh_client_send(m, k);
		passes(m, k);
		/* then a Parse and Bind of the unnamed statement, or a
		 * Query, which does not count after an extended message
		 * either */
		select_passes(i);
		p = rebind(m, "3");
		fh_client_send(m, p);
		n = fh_up_take(ubuf, sizeof(ubuf));
		assert_int_equal(fh_count_msgs(ubuf, n, 'B'), 0);
		fh_teardown();
		fh_setup();
	}
}

/* A simple Query approved leaves no statement: nothing is guarded. */
static void test_approved_query_leaves_nothing(void **state)
{
	size_t p;

	(void)state;
	hold_drop();
	fh.review_cb(fh.review_ud, JG_REVIEW_APPROVED, "r-1", NULL);
	fh_up_take(NULL, 0);
	p = rebind(m, "6");
	fh_client_send(m, p);
	passes(m, p);
}

static void test_parse_held_binary_param(void **state)
{
	static const uint8_t v[4] = {0, 0, 0, 42};
	uint8_t big[100];
	size_t p;

	(void)state;
	login();
	p = pipeline(m, "DELETE FROM accounts WHERE id = $1", 1, v, 4);
	fh_client_send(m, p);
	assert_non_null(strstr(fh.held_attrs,
			       "param=$1 = \\x0000002a (binary)|"));
	fh_teardown();
	fh_setup();
	login();
	memset(big, 7, sizeof(big));
	p = pipeline(m, "DELETE FROM accounts WHERE b = $1", 1, big,
		     sizeof(big));
	fh_client_send(m, p);
	assert_non_null(strstr(fh.held_attrs,
			       "param=$1 = <binary 100 bytes>|"));
}

static void test_parse_held_denied_and_canceled(void **state)
{
	size_t n, p;

	(void)state;
	login();
	p = pipeline(m, "DELETE FROM accounts WHERE id = $1", 0, "1", 1);
	fh_client_send(m, p);
	fh.review_cb(fh.review_ud, JG_REVIEW_DENIED, "r-1", "not today");
	n = fh_up_take(ubuf, sizeof(ubuf));
	/* the stand-in, and the pipeline's own Sync for ReadyForQuery */
	assert_null(memmem(ubuf, n, "DELETE", 6));
	assert_int_equal(fh_count_msgs(ubuf, n, 'S'), 1);
	client_gets_error("42501");

	fh.review_cb = NULL;
	fh_client_send(m, p);
	assert_non_null(fh.review_cb);
	cancel();
	n = fh_up_take(ubuf, sizeof(ubuf));
	assert_null(memmem(ubuf, n, "DELETE", 6));
	assert_int_equal(fh_count_msgs(ubuf, n, 'S'), 1);
	client_gets_error("57014");
	assert_int_equal(fh.nwithdrawn, 1);
}

static void test_parse_without_bind_refused(void **state)
{
	size_t n, p;

	(void)state;
	login();
	/* PQprepare: Parse and Sync; an execution would come later with
	 * parameters nobody reviewed */
	p = parse_msg(m, "s1", "DELETE FROM accounts WHERE id = $1");
	p += fh_msg(m + p, 'S', "", 0);
	fh_client_send(m, p);
	assert_null(fh.review_cb);
	n = fh_up_take(ubuf, sizeof(ubuf));
	assert_null(memmem(ubuf, n, "DELETE", 6));
	n = client_gets_error("42501");
	assert_non_null(strstr(fh_error_field(cbuf, n, 'M'),
			       "Bind, Execute and Sync in one pipeline"));
	/* a Bind to another statement does not count either */
	fh_client_take(NULL, 0);
	p = parse_msg(m, "s2", "DELETE FROM accounts WHERE id = $1");
	p += bind_msg(m + p, "s1", 0, "1", 1);
	p += tail_msgs(m + p);
	fh_client_send(m, p);
	assert_null(fh.review_cb);
}

static void test_render_param(void **state)
{
	char out[256];
	static const uint8_t bad_utf8[] = {'a', 0xff, 'b'};
	char longv[400];

	(void)state;
	pg_render_param(out, sizeof(out), 1, 7, (const uint8_t *)"O'Brien",
			0);
	assert_string_equal(out, "$1 = 'O''Brien'");
	pg_render_param(out, sizeof(out), 2, -1, NULL, 0);
	assert_string_equal(out, "$2 = NULL");
	pg_render_param(out, sizeof(out), 3, 0, (const uint8_t *)"", 0);
	assert_string_equal(out, "$3 = ''");
	pg_render_param(out, sizeof(out), 4, 3, bad_utf8, 0);
	assert_string_equal(out, "$4 = \\x61ff62 (not text)");
	pg_render_param(out, sizeof(out), 5, 6,
			(const uint8_t *)"gr\xc3\xbc\xc3\x9f", 0);
	assert_string_equal(out, "$5 = 'gr\xc3\xbc\xc3\x9f'");
	memset(longv, 'x', sizeof(longv));
	pg_render_param(out, sizeof(out), 6, sizeof(longv),
			(const uint8_t *)longv, 0);
	assert_non_null(strstr(out, "...' (400 bytes)"));
	assert_true(strlen(out) < sizeof(out));
	/* a tiny buffer is never overrun */
	pg_render_param(out, 12, 7, sizeof(longv), (const uint8_t *)longv, 0);
	assert_true(strlen(out) < 12);
	pg_render_param(out, 12, 8, 4, (const uint8_t *)"\0\0\0\1", 1);
	assert_true(strlen(out) < 12);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_cancel_withdraws_and_session_goes_on),
		T(test_client_leaving_withdraws),
		T(test_session_end_withdraws),
		T(test_outcome_after_withdrawal_ignored),
		T(test_cancel_connection_closes_at_once),
		T(test_cancel_of_held_not_forwarded),
		T(test_parse_held_with_bind_params),
		T(test_parse_held_unnamed),
		T(test_parse_held_other_portal_refused),
		T(test_rebind_after_approval_refused),
		T(test_describe_after_approval_refused),
		T(test_parse_or_query_replaces_unnamed),
		T(test_parse_mid_pipeline_keeps_guard),
		T(test_approved_query_leaves_nothing),
		T(test_parse_held_binary_param),
		T(test_parse_held_denied_and_canceled),
		T(test_parse_without_bind_refused),
		T(test_render_param),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
