/*
 * Grants as their holder and an auditor see them: a credential shown
 * once, only its hash kept, bound to one connection, limited in time and
 * sessions, revocable, and back after a restart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <json-c/json.h>

#include "grants.h"
#include "policy.h"

static int64_t fake_now = 1700000000;

static int64_t clock_fake(void)
{
	return fake_now;
}

static struct jg_identity *owner(void)
{
	struct jg_identity *id = identity_new();
	struct jg_identity_builder *b = (struct jg_identity_builder *)id;

	identity_set_subject(b, "repo:acme/app:ref:refs/heads/main");
	identity_add_group(b, "ci");
	identity_set_claim(b, "repository", "acme/app");
	return id;
}

static void make(char *cred, char *id, int64_t ttl_ms, int64_t max_sessions,
		 struct json_object **doc)
{
	struct jg_identity *o = owner();
	struct grant_request rq = {.owner = o,
				   .connection = "analytics",
				   .purpose = "nightly export",
				   .ttl_ms = ttl_ms,
				   .max_sessions = max_sessions,
				   .rule = "ci-grant"};
	char err[128];

	assert_int_equal(grants_create(&rq, cred, id, doc, err, sizeof(err)),
			 JG_OK);
	identity_free(o);
}

static int check(const char *cred, const char *conn, const char **code)
{
	struct jg_identity *who = NULL;
	char gid[GRANT_ID_LEN], err[160];
	int rc;

	*code = "";
	rc = grants_check(cred, strlen(cred), conn, &who, gid, code, err,
			  sizeof(err));
	if (rc == JG_OK) {
		assert_string_equal(who->source, "grant");
		assert_string_equal(who->grant_id, gid);
		assert_string_equal(who->subject,
				    "repo:acme/app:ref:refs/heads/main");
		assert_true(identity_has_group(who, "ci"));
	}
	identity_free(who);
	return rc;
}

static int setup(void **state)
{
	(void)state;
	grants_set_clock(clock_fake);
	fake_now = 1700000000;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	grants_reset();
	return 0;
}

static void test_credential_shape_and_hash_only(void **state)
{
	char cred[GRANT_CRED_LEN], id[GRANT_ID_LEN], hex[65];
	unsigned char h[32];
	struct json_object *doc, *pub;
	const char *text;

	(void)state;
	make(cred, id, 15 * 60 * 1000, 0, &doc);
	/* "jg_" + 43 base64url characters: 256 random bits. */
	assert_int_equal(strlen(cred), 46);
	assert_memory_equal(cred, "jg_", 3);
	assert_int_equal(strspn(cred + 3, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi"
					  "jklmnopqrstuvwxyz0123456789-_"),
			 43);
	assert_int_equal(strlen(id), 18);
	assert_memory_equal(id, "g-", 2);

	/* What the store keeps: the SHA-256, never the credential. */
	text = json_object_to_json_string(doc);
	assert_null(strstr(text, cred));
	assert_null(strstr(text, cred + 3));
	gnutls_hash_fast(GNUTLS_DIG_SHA256, cred, strlen(cred), h);
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", h[i]);
	assert_non_null(strstr(text, hex));
	/* What the API shows: no hash either. */
	pub = grant_json(id);
	assert_null(strstr(json_object_to_json_string(pub), hex));
	assert_null(strstr(json_object_to_json_string(pub), cred));
	assert_string_equal(json_object_get_string(
				    json_object_object_get(pub, "status")),
			    "active");
	assert_int_equal(json_object_get_int64(
				 json_object_object_get(pub, "expires_at")),
			 fake_now + 900);
	json_object_put(pub);
	json_object_put(doc);

	/* Two grants never share a credential. */
	{
		char cred2[GRANT_CRED_LEN], id2[GRANT_ID_LEN];

		make(cred2, id2, 1000, 0, NULL);
		assert_string_not_equal(cred, cred2);
		assert_string_not_equal(id, id2);
	}
}

static void test_bound_to_connection(void **state)
{
	char cred[GRANT_CRED_LEN], id[GRANT_ID_LEN];
	const char *code;

	(void)state;
	make(cred, id, 60000, 0, NULL);
	assert_int_equal(check(cred, "analytics", &code), JG_OK);
	assert_int_equal(check(cred, "billing", &code), JG_ERROR);
	assert_string_equal(code, GRANT_E_CONNECTION);
	/* Not a grant at all: the next authenticator may try it. */
	assert_int_equal(check("eyJhbGciOi.x.y", "analytics", &code),
			 JG_DECLINED);
}

static void test_near_miss_refused(void **state)
{
	char cred[GRANT_CRED_LEN], id[GRANT_ID_LEN];
	const char *code;

	(void)state;
	make(cred, id, 60000, 0, NULL);
	/* Same prefix, last character changed: a different hash, refused
	 * (every stored hash is compared with gnutls_memcmp, none stops
	 * early). */
	cred[45] = cred[45] == 'A' ? 'B' : 'A';
	assert_int_equal(check(cred, "analytics", &code), JG_ERROR);
	assert_string_equal(code, GRANT_E_UNKNOWN);
	cred[45] = '\0';
	assert_int_equal(check(cred, "analytics", &code), JG_ERROR);
	assert_int_equal(check("jg_", "analytics", &code), JG_ERROR);
}

static void test_expiry(void **state)
{
	char cred[GRANT_CRED_LEN], id[GRANT_ID_LEN];
	const char *code;
	struct json_object *pub;

	(void)state;
	make(cred, id, 60000, 0, NULL);
	fake_now += 59;
	assert_int_equal(check(cred, "analytics", &code), JG_OK);
	fake_now += 1;
	assert_int_equal(check(cred, "analytics", &code), JG_ERROR);
	assert_string_equal(code, GRANT_E_EXPIRED);
	pub = grant_json(id);
	assert_string_equal(json_object_get_string(
				    json_object_object_get(pub, "status")),
			    "expired");
	json_object_put(pub);
}

static void test_session_count(void **state)
{
	char cred[GRANT_CRED_LEN], id[GRANT_ID_LEN];
	const char *code;

	(void)state;
	make(cred, id, 60000, 2, NULL);
	assert_int_equal(check(cred, "analytics", &code), JG_OK);
	/* A refused attempt on another connection uses nothing. */
	assert_int_equal(check(cred, "billing", &code), JG_ERROR);
	assert_int_equal(check(cred, "analytics", &code), JG_OK);
	assert_int_equal(check(cred, "analytics", &code), JG_ERROR);
	assert_string_equal(code, GRANT_E_SESSIONS);
}

static void collect(void *ud, const char *id)
{
	char *buf = ud;

	strcat(buf, id);
	strcat(buf, ";");
}

static void test_revoke_and_sweep(void **state)
{
	char cred[GRANT_CRED_LEN], id[GRANT_ID_LEN];
	char cred2[GRANT_CRED_LEN], id2[GRANT_ID_LEN];
	char swept[256] = "", want[64];
	const char *code;

	(void)state;
	make(cred, id, 60000, 0, NULL);
	make(cred2, id2, 10000, 0, NULL);
	assert_int_equal(grants_revoke(id, "admin"), JG_OK);
	assert_int_equal(grants_revoke(id, "admin"), JG_ERROR);
	assert_int_equal(grants_revoke("g-nope", "admin"), JG_DECLINED);
	assert_int_equal(check(cred, "analytics", &code), JG_ERROR);
	assert_string_equal(code, GRANT_E_REVOKED);

	/* Revoked: its sessions end at the next sweep, once. */
	grants_sweep(5000, collect, swept);
	snprintf(want, sizeof(want), "%s;", id);
	assert_string_equal(swept, want);
	swept[0] = '\0';
	grants_sweep(5000, collect, swept);
	assert_string_equal(swept, "");
	/* Expired: only after the grace. */
	fake_now += 10;
	grants_sweep(5000, collect, swept);
	assert_string_equal(swept, "");
	fake_now += 5;
	grants_sweep(5000, collect, swept);
	snprintf(want, sizeof(want), "%s;", id2);
	assert_string_equal(swept, want);
}

static void test_survives_restart(void **state)
{
	char cred[GRANT_CRED_LEN], id[GRANT_ID_LEN], err[128];
	struct json_object *doc, *again;
	const char *code;

	(void)state;
	make(cred, id, 60000, 3, &doc);
	assert_int_equal(check(cred, "analytics", &code), JG_OK);
	json_object_put(doc);
	doc = grant_doc(id); /* as stored after the session was counted */
	/* Restart: memory gone, the store's document comes back. */
	grants_reset();
	assert_int_equal(check(cred, "analytics", &code), JG_ERROR);
	again = json_tokener_parse(json_object_to_json_string(doc));
	if (grants_load_doc(again, err, sizeof(err)) != JG_OK)
		fail_msg("load: %s", err);
	assert_int_equal(check(cred, "analytics", &code), JG_OK);
	assert_int_equal(check(cred, "analytics", &code), JG_OK);
	assert_int_equal(check(cred, "analytics", &code), JG_ERROR);
	assert_string_equal(code, GRANT_E_SESSIONS);
	/* A document without its hash is refused, not trusted. */
	json_object_object_del(again, "sha256");
	grants_reset();
	assert_int_equal(grants_load_doc(again, err, sizeof(err)), JG_ERROR);
	json_object_put(again);
	json_object_put(doc);
}

static void test_list_by_owner(void **state)
{
	char cred[GRANT_CRED_LEN], id[GRANT_ID_LEN], who[128];
	struct json_object *l;

	(void)state;
	make(cred, id, 60000, 0, NULL);
	l = grants_list_json("repo:acme/app:ref:refs/heads/main");
	assert_int_equal(json_object_array_length(l), 1);
	json_object_put(l);
	l = grants_list_json("someone-else");
	assert_int_equal(json_object_array_length(l), 0);
	json_object_put(l);
	assert_int_equal(grant_owner(id, who, sizeof(who)), 0);
	assert_string_equal(who, "repo:acme/app:ref:refs/heads/main");
}

static void test_b64url(void **state)
{
	char out[16];

	(void)state;
	b64url_encode((const unsigned char *)"\xfb\xff", 2, out);
	assert_string_equal(out, "-_8");
	b64url_encode((const unsigned char *)"foobar", 6, out);
	assert_string_equal(out, "Zm9vYmFy");
	b64url_encode((const unsigned char *)"f", 1, out);
	assert_string_equal(out, "Zg");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_credential_shape_and_hash_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound_to_connection,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_near_miss_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_session_count, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_revoke_and_sweep, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_survives_restart, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_list_by_owner, setup,
						teardown),
		cmocka_unit_test(test_b64url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
