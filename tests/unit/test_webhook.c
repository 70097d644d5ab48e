/*
 * The webhook notifier's pure parts: the JSON and Slack bodies (escaping
 * of statement text with quotes, newlines and control characters, the
 * shortened action text, the approve command), the signature against a
 * known answer computed with Python's hmac module, and the retry
 * schedule.
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

#include "webhook.h"

/* A review as the core's review_json() shows it. */
static char *review(const char *summary, const char *extra)
{
	struct json_object *o = json_object_new_object();
	char *s;

	json_object_object_add(o, "id",
	                       json_object_new_string("r-00ff12ab34cd56ef"));
	json_object_object_add(o, "kind", json_object_new_string("action"));
	json_object_object_add(o, "status", json_object_new_string("pending"));
	json_object_object_add(o, "requester", json_object_new_string("alice"));
	json_object_object_add(o, "connection",
	                       json_object_new_string("analytics"));
	json_object_object_add(o, "rule",
	                       json_object_new_string("prod-writes"));
	json_object_object_add(o, "summary", json_object_new_string(summary));
	json_object_object_add(o, "progress",
	                       json_object_new_string("dba 0/1, security 0/1"));
	json_object_object_add(o, "decided_by", json_object_new_string("dora"));
	json_object_object_add(o, "reason",
	                       json_object_new_string(extra ? extra : "no"));
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

static const char *nasty = "UPDATE t SET note = 'say \"hi\"\\n' WHERE\n"
                           "\tid = 1;\x01\x1f -- <!channel> & `x`";

static void assert_no_raw_controls(const char *body, size_t len)
{
	assert_int_equal(strlen(body), len);
	for (size_t i = 0; i < len; i++)
		assert_true((unsigned char)body[i] >= 0x20);
}

static void test_json_body_escapes_statement(void **state)
{
	char *rv = review(nasty, NULL), id[32];
	size_t len = 0;
	char *b = wh_body(0, "review.created", rv, &len, id, sizeof(id));
	struct json_object *o, *r, *v;

	(void)state;
	assert_non_null(b);
	assert_string_equal(id, "r-00ff12ab34cd56ef");
	assert_no_raw_controls(b, len);
	/* The escapes a receiver's JSON parser expects, byte for byte. */
	assert_non_null(strstr(b, "say \\\"hi\\\"\\\\n' WHERE\\n\\tid = 1;"
	                          "\\u0001\\u001f -- <!channel> & `x`"));
	o = json_tokener_parse(b);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "event", &v));
	assert_string_equal(json_object_get_string(v), "review.created");
	assert_true(json_object_object_get_ex(o, "review", &r));
	assert_true(json_object_object_get_ex(r, "summary", &v));
	assert_string_equal(json_object_get_string(v), nasty);
	assert_true(json_object_object_get_ex(r, "connection", &v));
	assert_string_equal(json_object_get_string(v), "analytics");
	json_object_put(o);
	free(b);
	free(rv);
}

static char *slack_text(const char *event, const char *summary,
                        const char *reason)
{
	char *rv = review(summary, reason), id[32], *text;
	size_t len = 0;
	char *b = wh_body(1, event, rv, &len, id, sizeof(id));
	struct json_object *o, *t;

	assert_non_null(b);
	assert_no_raw_controls(b, len);
	o = json_tokener_parse(b);
	assert_non_null(o);
	assert_int_equal(json_object_object_length(o), 1);
	assert_true(json_object_object_get_ex(o, "text", &t));
	text = strdup(json_object_get_string(t));
	json_object_put(o);
	free(b);
	free(rv);
	return text;
}

static void test_slack_created(void **state)
{
	char *t = slack_text("review.created", nasty, NULL);

	(void)state;
	assert_string_equal(
	    t, "*Review r-00ff12ab34cd56ef*: alice holds an action on "
	       "`analytics`\n"
	       "> UPDATE t SET note = 'say \"hi\"\\n' WHERE id = 1; -- "
	       "&lt;!channel&gt; &amp; 'x'\n"
	       "Needs dba 0/1, security 0/1 (rule prod-writes).\n"
	       "Approve: `jitgate review approve r-00ff12ab34cd56ef`  "
	       "Deny: `jitgate review deny r-00ff12ab34cd56ef --reason "
	       "TEXT`");
	free(t);
}

static void test_slack_outcomes(void **state)
{
	char *t;

	(void)state;
	t = slack_text("review.approved", "SELECT 1", NULL);
	assert_string_equal(t, "*Review r-00ff12ab34cd56ef* approved by dora: "
	                       "alice on `analytics`\n> SELECT 1");
	free(t);
	t = slack_text("review.denied", "SELECT 1", "not\nduring <freeze>");
	assert_string_equal(t, "*Review r-00ff12ab34cd56ef* denied by dora "
	                       "(not during &lt;freeze&gt;): alice on "
	                       "`analytics`\n> SELECT 1");
	free(t);
	t = slack_text("review.expired", "SELECT 1", NULL);
	assert_string_equal(t, "*Review r-00ff12ab34cd56ef* expired without "
	                       "approval: alice on `analytics`\n> SELECT 1");
	free(t);
}

static void test_slack_shortens_long_text(void **state)
{
	char big[2000], *t, *q;

	(void)state;
	/* 'é' is two bytes: the cut must not split one. */
	memset(big, 'a', sizeof(big));
	for (size_t i = 1; i + 1 < sizeof(big); i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[sizeof(big) - 1] = '\0';
	t = slack_text("review.created", big, NULL);
	q = strstr(t, "\n> ");
	assert_non_null(q);
	q += 3;
	assert_true(strchr(q, '\n') - q <= WH_SUMMARY_MAX + 3);
	assert_memory_equal(strchr(q, '\n') - 3, "\xe2\x80\xa6", 3);
	assert_memory_equal(strchr(q, '\n') - 5, "\xc3\xa9", 2);
	free(t);
}

static void test_slack_text_rules(void **state)
{
	char out[64];

	(void)state;
	out[0] = '\0';
	wh_slack_text(out, sizeof(out), "  \r\n a \x7f\x01 b\t\t", 100);
	assert_string_equal(out, "a b");
	out[0] = '\0';
	wh_slack_text(out, sizeof(out), "\xc3\xa9\xc3\xa9\xc3\xa9", 3);
	assert_string_equal(out, "\xc3\xa9\xe2\x80\xa6");
	out[0] = '\0';
	wh_slack_text(out, sizeof(out), "abc", 3);
	assert_string_equal(out, "abc");
	/* Appends, and stops where the next piece would overflow. */
	strcpy(out, "x=");
	wh_slack_text(out, 7, "a<b", 100);
	assert_string_equal(out, "x=a");
}

static void test_bad_event_json(void **state)
{
	char id[32];
	size_t len = 0;
	char big[64];

	(void)state;
	assert_null(wh_body(0, "review.created", "", &len, id, sizeof(id)));
	assert_null(wh_body(0, "review.created", "[1]", &len, id, sizeof(id)));
	assert_null(wh_body(0, "review.created", "{\"id\":\"r-1\"} x", &len, id,
	                    sizeof(id)));
	assert_null(
	    wh_body(1, "review.created", "{\"id\":", &len, id, sizeof(id)));
	assert_string_equal(id, "?");
	/* An id that is not a plain token is not copied into log lines. */
	snprintf(big, sizeof(big), "{\"id\":\"r-1\\nfake log line\"}");
	char *b = wh_body(0, "review.created", big, &len, id, sizeof(id));
	assert_non_null(b);
	assert_string_equal(id, "?");
	free(b);
}

static void test_signature_known_answer(void **state)
{
	/* python3: hmac.new(key, b"1700000000." + body, "sha256") */
	const char *key = "0123456789abcdef-test-key";
	const char *body = "{\"event\":\"review.created\"}";
	char sig[WH_SIG_LEN];

	(void)state;
	assert_int_equal(
	    wh_sign(key, strlen(key), "1700000000", body, strlen(body), sig),
	    0);
	assert_string_equal(sig, "sha256=e7b6b369e9782408ab77ef5eb4d1fd8f5673e"
	                         "38e302b2de3c93f1c34a4b53d60");
	/* The timestamp is signed: another second, another signature. */
	assert_int_equal(
	    wh_sign(key, strlen(key), "1700000001", body, strlen(body), sig),
	    0);
	assert_string_equal(sig, "sha256=2dc196baf33934e85e5320ad6b74d89e73f33"
	                         "9a8db8eb1b4d7cbafa809cc3d62");
}

static void test_backoff_schedule(void **state)
{
	static const uint64_t want[] = {1000,   2000,   4000,  8000,
	                                16000,  32000,  64000, 128000,
	                                256000, 300000, 300000};

	(void)state;
	for (unsigned n = 1; n <= sizeof(want) / sizeof(want[0]); n++)
		assert_int_equal(wh_backoff_ms(n, 1000, 300000), want[n - 1]);
	assert_int_equal(wh_backoff_ms(1000, 1000, 300000), 300000);
	assert_int_equal(wh_backoff_ms(64, 1000, UINT64_MAX), UINT64_MAX);
	assert_int_equal(wh_backoff_ms(3, 250, 250), 250);
	assert_int_equal(wh_backoff_ms(0, 100, 5000), 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_body_escapes_statement),
	    cmocka_unit_test(test_slack_created),
	    cmocka_unit_test(test_slack_outcomes),
	    cmocka_unit_test(test_slack_shortens_long_text),
	    cmocka_unit_test(test_slack_text_rules),
	    cmocka_unit_test(test_bad_event_json),
	    cmocka_unit_test(test_signature_known_answer),
	    cmocka_unit_test(test_backoff_schedule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
