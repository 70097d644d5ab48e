/*
 * The recorder (core/record.c) against a fake host and an in-memory
 * store: a session becomes a sealed record that verifies, secrets are
 * redacted, record levels apply, and failure is closed (or best effort
 * when configured), counted and logged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "record.h"
#include "record_chain.h"
#include "store.h"
#include "record_fake_host.h"

#define KEY "test-key-0123456789abcdef"

/* ---- in-memory store ---- */

static char *events[64];
static int nevents, fail_appends, closed;

struct done {
	jg_store_cb cb;
	void *ud;
	int status;
};

static void complete(void *arg)
{
	struct done *d = arg;
	d->cb(d->ud, d->status, NULL, 0, d->status ? "disk full" : NULL);
	free(d);
}

static int later(struct jg_loop *l, jg_store_cb cb, void *ud, int status)
{
	struct done *d = calloc(1, sizeof(*d));
	d->cb = cb;
	d->ud = ud;
	d->status = status;
	fake_host()->loop_post(l, complete, d);
	return JG_AGAIN;
}

static int m_append(void *inst, struct jg_loop *l, const char *sid,
		    const char *ev, int durable, jg_store_cb cb, void *ud)
{
	(void)inst;
	(void)sid;
	(void)durable;
	if (fail_appends)
		return later(l, cb, ud, JG_ERROR);
	if (nevents < 64)
		events[nevents++] = strdup(ev);
	return later(l, cb, ud, JG_OK);
}

static int m_close(void *inst, struct jg_loop *l, const char *sid,
		   jg_store_cb cb, void *ud)
{
	(void)inst;
	(void)sid;
	closed++;
	return later(l, cb, ud, JG_OK);
}

static int m_unused(void)
{
	return JG_ERROR;
}

static void *m_watch(void *i, struct jg_loop *l, jg_store_watch_cb cb, void *u)
{
	(void)i;
	(void)l;
	(void)cb;
	(void)u;
	return NULL;
}

static void m_unwatch(void *i, void *h)
{
	(void)i;
	(void)h;
}

static struct jg_store_ops mem_ops = {
	.size = sizeof(struct jg_store_ops),
	.append = m_append,
	.read_record = (void *)m_unused,
	.put = (void *)m_unused,
	.get = (void *)m_unused,
	.list = (void *)m_unused,
	.watch = m_watch,
	.unwatch = m_unwatch,
	.close_record = m_close,
};

static void reset(void)
{
	for (int i = 0; i < nevents; i++)
		free(events[i]);
	nevents = 0;
	fail_appends = 0;
	closed = 0;
}

static void configure(const char *mode)
{
	const char *kv[] = {"key", KEY, "mode", mode, "grace", "20", NULL};
	char err[256];
	struct jg_config *c = fake_config(kv);
	assert_int_equal(record_configure(fake_host(), c, err, sizeof(err)),
			 JG_OK);
	fake_config_free(c);
	assert_int_equal(store_set(&mem_ops, NULL, err, sizeof(err)), JG_OK);
}

static int setup(void **state)
{
	(void)state;
	reset();
	configure("required");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fake_run(30); /* let the refusal window of a failure pass */
	reset();
	record_shutdown();
	return 0;
}

static int verdict(void)
{
	struct rec_verify v;
	return rec_verify((const char *const *)events, (size_t)nevents, KEY,
			  strlen(KEY), &v);
}

static int all_in(void)
{
	return closed > 0;
}

static void run_until_closed(void)
{
	for (int i = 0; i < 200 && !all_in(); i++)
		fake_run(10);
	assert_true(all_in());
}

static const char *type_of(int i)
{
	static char t[32];
	struct json_object *o = json_tokener_parse(events[i]), *v;
	json_object_object_get_ex(o, "type", &v);
	snprintf(t, sizeof(t), "%s", json_object_get_string(v));
	json_object_put(o);
	return t;
}

static void test_session_sealed(void **state)
{
	char err[128];
	(void)state;
	struct jg_session *s = fake_session("s-0000000000000001");
	struct jg_attr conn[] = {{"listener", "pg"}};
	assert_int_equal(record_session_begin(s, conn, 1, err, sizeof(err)),
			 JG_OK);
	struct jg_attr sa[] = {{"class", "ddl"}, {"table", "a"},
			       {"table", "b"},   {"seq", "fake"},
			       {"password", "pw-attr"},
			       {"text", "ALTER ROLE app PASSWORD 'pw-sql'"}};
	struct jg_action a = {"sql", sa, 2, "ALTER ROLE app PASSWORD 'pw-sql'"};
	struct jg_decision d = {.effect = JG_EFFECT_ALLOW,
				.rule = "admins",
				.reason = "admins may",
				.record_level = RECORD_FULL};
	assert_int_equal(record_decision(s, &a, &d), JG_OK);
	assert_int_equal(core_record(s, "statement", sa, 6), JG_OK);
	record_session_end(s, "client quit");
	fake_session_close(s);
	run_until_closed();

	assert_int_equal(nevents, 5);
	assert_string_equal(type_of(0), "connect");
	assert_string_equal(type_of(1), "decision");
	assert_string_equal(type_of(2), "statement");
	assert_string_equal(type_of(3), "disconnect");
	assert_string_equal(type_of(4), "seal");
	assert_int_equal(verdict(), REC_SEALED);
	for (int i = 0; i < nevents; i++) {
		assert_null(strstr(events[i], "pw-sql"));
		assert_null(strstr(events[i], "pw-attr"));
	}
	assert_non_null(strstr(events[1], "\"rule\":\"admins\""));
	assert_non_null(strstr(events[2], "\"table\":[\"a\",\"b\"]"));
	assert_non_null(strstr(events[2], "\"attr_seq\":\"fake\""));
	assert_non_null(strstr(events[2], "PASSWORD '[REDACTED]'"));
	assert_non_null(strstr(events[3], "client quit"));
	assert_true(fake_metric("record_events_total") >= 5);
}

/* Every event recorded is in canonical form (what a verifier rebuilds). */
static void assert_all_canonical(void)
{
	for (int i = 0; i < nevents; i++) {
		struct json_object *o = json_tokener_parse(events[i]);
		char *c = rec_canonical(o, 0);
		assert_string_equal(c, events[i]);
		free(c);
		json_object_put(o);
	}
}

/* Events written straight from attributes are the canonical bytes a
 * verifier recomputes, and the same as the json-c path makes (taken for
 * more than 64 attributes): mixed repeats, reserved and odd keys,
 * control characters, invalid UTF-8, secrets. */
static void test_direct_matches_canonical(void **state)
{
	char err[128], name[72][8];
	struct jg_attr big[72];
	(void)state;
	struct jg_session *s = fake_session("s-0000000000000009");
	assert_int_equal(record_session_begin(s, NULL, 0, err, sizeof(err)),
			 JG_OK);
	struct jg_attr sa[] = {{"Table", "a"},       {"class", "read"},
			       {"table", "b\tc\"d\\"}, {"type", "x"},
			       {"token", "jg_secret"}, {"odd key!", "\x01\xff\xc3("},
			       {"TABLE", "\xe2\x82\xac"}, {"Type", "y"},
			       {"HASH", "h"}, {NULL, "skipped"}};
	size_t n = sizeof(sa) / sizeof(sa[0]);
	assert_int_equal(core_record(s, "statement", sa, n), JG_OK);
	/* the same attributes padded past 64: the json-c path */
	for (size_t i = 0; i < 72; i++) {
		if (i < n) {
			big[i] = sa[i];
		} else {
			snprintf(name[i], sizeof(name[i]), "p%zu", i);
			big[i] = (struct jg_attr){name[i], NULL};
		}
	}
	assert_int_equal(core_record(s, "statement", big, 72), JG_OK);
	record_session_end(s, "done");
	fake_session_close(s);
	run_until_closed();

	assert_int_equal(verdict(), REC_SEALED);
	assert_all_canonical();
	/* apart from seq, ts, prev, hash and mac the two are the same */
	const char *f1 = strstr(events[1], "\"type\":");
	const char *f2 = strstr(events[2], "\"type\":");
	const char *e1 = strstr(events[1], ",\"prev\":");
	const char *e2 = strstr(events[2], ",\"prev\":");
	assert_non_null(f1);
	assert_non_null(e1);
	assert_int_equal(e1 - f1, e2 - f2);
	assert_memory_equal(f1, f2, (size_t)(e1 - f1));
	assert_non_null(strstr(events[1], "\"table\":[\"a\",\"b\\tc\\\"d\\\\\",\"\xe2\x82\xac\"]"));
	assert_non_null(strstr(events[1], "\"attr_type\":[\"x\",\"y\"]"));
	assert_non_null(strstr(events[1], "\"attr_hash\":\"h\""));
	assert_null(strstr(events[1], "jg_secret"));
}

/* The recorder remembers keys by address: a key buffer reused for
 * another name (here "class", then "token") must be read again, so the
 * secret is redacted; long keys and more distinct keys than the memo
 * keeps in one event still make canonical events with every key. */
static void test_key_memo(void **state)
{
	char err[128], key[64], longk[12][64];
	struct jg_attr many[12];
	(void)state;
	struct jg_session *s = fake_session("s-000000000000000a");
	assert_int_equal(record_session_begin(s, NULL, 0, err, sizeof(err)),
			 JG_OK);
	snprintf(key, sizeof(key), "class");
	struct jg_attr a[] = {{key, "jg_AAAA-visible-once"}};
	assert_int_equal(core_record(s, "statement", a, 1), JG_OK);
	snprintf(key, sizeof(key), "token");
	a[0].value = "plain-value-but-secret-key";
	assert_int_equal(core_record(s, "statement", a, 1), JG_OK);
	for (size_t i = 0; i < 12; i++) {
		snprintf(longk[i], sizeof(longk[i]),
			 "a_rather_long_attribute_key_name_of_more_than_48_%zu",
			 i);
		many[i] = (struct jg_attr){longk[i], "v"};
	}
	assert_int_equal(core_record(s, "statement", many, 12), JG_OK);
	record_session_end(s, "done");
	fake_session_close(s);
	run_until_closed();

	assert_int_equal(verdict(), REC_SEALED);
	assert_non_null(strstr(events[1], "\"class\":"));
	assert_null(strstr(events[2], "plain-value-but-secret-key"));
	assert_non_null(strstr(events[2], "\"token\":\"[REDACTED]\""));
	for (size_t i = 0; i < 12; i++) {
		char want[sizeof(longk[0]) + 8];
		snprintf(want, sizeof(want), "\"%.63s\":\"v\"", longk[i]);
		assert_non_null(strstr(events[3], want));
	}
	assert_all_canonical();
}

static void test_cleanup_seals(void **state)
{
	(void)state;
	struct jg_session *s = fake_session("s-0000000000000002");
	struct jg_attr sa[] = {{"text", "SELECT 1"}};
	assert_int_equal(core_record(s, "statement", sa, 1), JG_OK);
	fake_session_close(s); /* no explicit end */
	run_until_closed();
	assert_int_equal(nevents, 3);
	assert_int_equal(verdict(), REC_SEALED);
}

static void test_levels(void **state)
{
	(void)state;
	struct jg_session *s = fake_session("s-0000000000000003");
	struct jg_attr sa[] = {{"class", "read"}, {"text", "SELECT secret"}};
	record_set_level(s, RECORD_METADATA);
	assert_int_equal(core_record(s, "statement", sa, 2), JG_OK);
	record_set_level(s, RECORD_NONE);
	assert_int_equal(core_record(s, "statement", sa, 2), JG_OK);
	fake_session_close(s);
	run_until_closed();
	/* statement (metadata), disconnect, seal */
	assert_int_equal(nevents, 3);
	assert_null(strstr(events[0], "SELECT secret"));
	assert_non_null(strstr(events[0], "\"class\":\"read\""));
	assert_int_equal(verdict(), REC_SEALED);
}

static void test_fail_closed(void **state)
{
	char err[128];
	(void)state;
	int64_t failures = fake_metric("record_failures_total");
	struct jg_session *s = fake_session("s-0000000000000004");
	struct jg_attr sa[] = {{"text", "SELECT 1"}};
	assert_int_equal(core_record(s, "statement", sa, 1), JG_OK);
	fail_appends = 1;
	assert_int_equal(core_record(s, "statement", sa, 1), JG_OK);
	fake_run(5);
	/* the store failed: this session may not go on ... */
	assert_int_equal(core_record(s, "statement", sa, 1), JG_ERROR);
	assert_true(fake_metric("record_failures_total") > failures);
	assert_true(fake_metric("record_refused_total") > 0);
	/* ... is ended after the grace ... */
	for (int i = 0; i < 100 && !fake_session_ended(s); i++)
		fake_run(10);
	assert_non_null(fake_session_ended(s));
	assert_non_null(strstr(fake_session_ended(s), "recording failed"));
	/* ... and new sessions are refused with a clear error */
	struct jg_session *s2 = fake_session("s-0000000000000005");
	assert_true(record_refusing());
	assert_int_equal(record_session_begin(s2, NULL, 0, err, sizeof(err)),
			 JG_ERROR);
	assert_non_null(strstr(err, "recording unavailable"));
	fake_session_close(s2);
	fake_session_close(s);
	fake_run(20);
	/* what was recorded before the failure is a clean prefix */
	assert_int_equal(nevents, 1);
	assert_int_equal(verdict(), REC_UNSEALED);
}

static void test_best_effort(void **state)
{
	(void)state;
	configure("best_effort");
	struct jg_session *s = fake_session("s-0000000000000006");
	struct jg_attr sa[] = {{"text", "SELECT 1"}};
	int64_t dropped = fake_metric("record_dropped_total");
	fail_appends = 1;
	assert_int_equal(core_record(s, "statement", sa, 1), JG_OK);
	fake_run(5);
	assert_int_equal(core_record(s, "statement", sa, 1), JG_OK);
	assert_true(fake_metric("record_dropped_total") > dropped);
	fake_run(40);
	assert_null(fake_session_ended(s));
	fake_session_close(s);
	fake_run(5);
}

static void test_not_configured(void **state)
{
	char err[128];
	(void)state;
	record_shutdown();
	struct jg_session *s = fake_session("s-0000000000000007");
	assert_int_equal(core_record(s, "statement", NULL, 0), JG_ERROR);
	assert_int_equal(record_session_begin(s, NULL, 0, err, sizeof(err)),
			 JG_ERROR);
	assert_non_null(strstr(err, "not configured"));
	fake_session_close(s);
	/* a key too short is a configuration error */
	const char *kv[] = {"key", "short", NULL};
	struct jg_config *c = fake_config(kv);
	assert_int_equal(record_configure(fake_host(), c, err, sizeof(err)),
			 JG_ERROR);
	fake_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_session_sealed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_direct_matches_canonical,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_memo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cleanup_seals, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fail_closed, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_best_effort, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_not_configured, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
