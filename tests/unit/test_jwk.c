/*
 * JWK and JWKS parsing: what is accepted, what is skipped (usable by
 * nobody here, but not an error), and what fails the whole key set.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <jitgate/jitgate.h>

#include "jwt_test_keys.h"

static struct test_key rsa, ec, ed;
static char err[256];

static int setup(void **state)
{
	assert_int_equal(tk_generate(&rsa, JWK_KTY_RSA, 2048, 0, "r"), 0);
	assert_int_equal(tk_generate(&ec, JWK_KTY_EC, 0,
				     GNUTLS_ECC_CURVE_SECP256R1, "e"), 0);
	assert_int_equal(tk_generate(&ed, JWK_KTY_OKP, 0,
				     GNUTLS_ECC_CURVE_ED25519, "d"), 0);
	(void)state;
	return 0;
}

static int teardown(void **state)
{
	tk_free(&rsa);
	tk_free(&ec);
	tk_free(&ed);
	(void)state;
	return 0;
}

/* Parse one JWK given as JSON text; returns the status. */
static int key(const char *json)
{
	struct json_object *o = json_tokener_parse(json);
	struct jwk_key k;

	err[0] = 0;
	int rc = jwk_key_parse(o, &k, err, sizeof(err));
	if (rc == JG_OK)
		jwk_key_clear(&k);
	json_object_put(o);
	return rc;
}

/* Replace the value of member name in a JWK's JSON text. */
static const char *with(const char *jwk, const char *name, const char *val)
{
	static char buf[4096];
	char pat[32];

	snprintf(pat, sizeof(pat), "\"%s\":\"", name);
	const char *p = strstr(jwk, pat);
	assert_non_null(p);
	const char *end = strchr(p + strlen(pat), '"');
	snprintf(buf, sizeof(buf), "%.*s\"%s\":%s%s", (int)(p - jwk), jwk,
		 name, val, end + 1);
	return buf;
}

static int set(const char *json, size_t *n)
{
	struct jwk_set *s = NULL;
	int rc = jwk_set_parse(json, strlen(json), &s, err, sizeof(err));

	if (n)
		*n = s ? s->n : 0;
	jwk_set_unref(s);
	return rc;
}

static void test_good_keys(void **state)
{
	struct json_object *o = json_tokener_parse(rsa.jwk);
	struct jwk_key k;

	assert_int_equal(jwk_key_parse(o, &k, err, sizeof(err)), JG_OK);
	assert_int_equal(k.kty, JWK_KTY_RSA);
	assert_int_equal(k.bits, 2048);
	assert_string_equal(k.kid, "r");
	jwk_key_clear(&k);
	json_object_put(o);
	assert_int_equal(key(ec.jwk), JG_OK);
	assert_int_equal(key(ed.jwk), JG_OK);
	/* Private members are ignored, "use": "sig" and a fitting alg ok. */
	assert_int_equal(key(with(ec.jwk, "kid", "\"e\",\"use\":\"sig\","
						  "\"alg\":\"ES256\","
						  "\"d\":\"AAAA\"")),
			 JG_OK);
	(void)state;
}

static void test_skipped_keys(void **state)
{
	assert_int_equal(key("{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"}"),
			 JG_DECLINED);
	assert_int_equal(key(with(rsa.jwk, "kid", "\"r\",\"use\":\"enc\"")),
			 JG_DECLINED);
	assert_int_equal(key(with(ec.jwk, "crv", "\"secp256k1\"")),
			 JG_DECLINED);
	assert_int_equal(key(with(ed.jwk, "crv", "\"Ed448\"")), JG_DECLINED);
	assert_int_equal(key(with(ed.jwk, "crv", "\"X25519\"")), JG_DECLINED);
	assert_int_equal(key(with(rsa.jwk, "kid", "\"r\",\"alg\":\"RSA-OAEP\"")),
			 JG_DECLINED);
	(void)state;
}

static void test_malformed_keys(void **state)
{
	assert_int_equal(key("[]"), JG_ERROR);
	assert_int_equal(key("{}"), JG_ERROR);
	assert_int_equal(key("{\"kty\":5}"), JG_ERROR);
	assert_int_equal(key("{\"kty\":\"RSA\"}"), JG_ERROR);
	/* Missing or broken members. */
	assert_int_equal(key(with(rsa.jwk, "e", "\"\"")), JG_ERROR);
	assert_int_equal(key(with(rsa.jwk, "e", "65537")), JG_ERROR);
	assert_int_equal(key(with(rsa.jwk, "e", "\"AQA=\"")), JG_ERROR);
	assert_int_equal(key(with(rsa.jwk, "e", "\"AAEAAQ\"")), JG_ERROR);
	assert_non_null(strstr(err, "leading zero"));
	assert_int_equal(key(with(rsa.jwk, "e", "\"AQAA\"")), JG_ERROR);
	assert_non_null(strstr(err, "exponent"));
	assert_int_equal(key(with(rsa.jwk, "e", "\"AQ\"")), JG_ERROR);
	assert_int_equal(key(with(rsa.jwk, "n", "\"wEnm+N0r\"")), JG_ERROR);
	/* A 1024-bit modulus is refused. */
	char n1024[200];
	memset(n1024, 'w', 171);
	n1024[171] = 0;
	char val[220];
	snprintf(val, sizeof(val), "\"%s\"", n1024);
	assert_int_equal(key(with(rsa.jwk, "n", val)), JG_ERROR);
	assert_non_null(strstr(err, "bits"));
	/* Coordinates of the wrong size, missing y. */
	assert_int_equal(key(with(ec.jwk, "x", "\"AAAA\"")), JG_ERROR);
	assert_int_equal(key(with(ec.jwk, "y", "5")), JG_ERROR);
	assert_int_equal(key(with(ed.jwk, "x", "\"AAAA\"")), JG_ERROR);
	/* A P-384-sized x on P-256. */
	assert_int_equal(key(with(ec.jwk, "crv", "\"P-384\"")), JG_ERROR);
	/* alg that does not fit the key type. */
	assert_int_equal(key(with(ec.jwk, "kid", "\"e\",\"alg\":\"RS256\"")),
			 JG_ERROR);
	assert_int_equal(key(with(rsa.jwk, "kid", "\"r\",\"alg\":\"EdDSA\"")),
			 JG_ERROR);
	/* kid: not a string, empty, too long. */
	assert_int_equal(key(with(ec.jwk, "kid", "7")), JG_ERROR);
	assert_int_equal(key(with(ec.jwk, "kid", "\"\"")), JG_ERROR);
	char longkid[400] = "\"";
	memset(longkid + 1, 'k', 300);
	strcpy(longkid + 301, "\"");
	assert_int_equal(key(with(ec.jwk, "kid", longkid)), JG_ERROR);
	(void)state;
}

static void test_key_sets(void **state)
{
	char buf[16000];
	size_t n;

	snprintf(buf, sizeof(buf), "{\"keys\":[%s,%s,%s]}", rsa.jwk, ec.jwk,
		 ed.jwk);
	assert_int_equal(set(buf, &n), JG_OK);
	assert_int_equal(n, 3);
	/* Trailing whitespace is fine (HTTP bodies end with newlines). */
	strcat(buf, "\r\n");
	assert_int_equal(set(buf, &n), JG_OK);
	/* Unusable keys are skipped, not fatal. */
	snprintf(buf, sizeof(buf),
		 "{\"keys\":[{\"kty\":\"oct\",\"k\":\"AAAA\"},%s]}", ec.jwk);
	assert_int_equal(set(buf, &n), JG_OK);
	assert_int_equal(n, 1);
	assert_int_equal(set("{\"keys\":[]}", &n), JG_OK);
	assert_int_equal(n, 0);
	/* A malformed key fails the set: keep the old one instead. */
	snprintf(buf, sizeof(buf), "{\"keys\":[%s,{\"kty\":\"EC\"}]}", ec.jwk);
	assert_int_equal(set(buf, NULL), JG_ERROR);
	/* Duplicate kid. */
	snprintf(buf, sizeof(buf), "{\"keys\":[%s,%s]}", ec.jwk, ec.jwk);
	assert_int_equal(set(buf, NULL), JG_ERROR);
	assert_non_null(strstr(err, "duplicate"));
	/* Not a key set. */
	assert_int_equal(set("", NULL), JG_ERROR);
	assert_int_equal(set("[]", NULL), JG_ERROR);
	assert_int_equal(set("{}", NULL), JG_ERROR);
	assert_int_equal(set("{\"keys\":{}}", NULL), JG_ERROR);
	assert_int_equal(set("{\"keys\":[]} x", NULL), JG_ERROR);
	assert_int_equal(set("<html>", NULL), JG_ERROR);
	/* Too many keys, too deep. */
	size_t o = (size_t)snprintf(buf, sizeof(buf), "{\"keys\":[");
	for (int i = 0; i <= JWK_SET_MAX_KEYS; i++)
		o += (size_t)snprintf(buf + o, sizeof(buf) - o, "%s{}",
				      i ? "," : "");
	snprintf(buf + o, sizeof(buf) - o, "]}");
	assert_int_equal(set(buf, NULL), JG_ERROR);
	assert_non_null(strstr(err, "keys (limit"));
	assert_int_equal(set("{\"keys\":[],\"x\":[[[[[[[[[[[[]]]]]]]]]]]]}",
			     NULL),
			 JG_ERROR);
	(void)state;
}

static void test_lookup_and_refs(void **state)
{
	char buf[16000];
	struct jwk_set *s;

	snprintf(buf, sizeof(buf), "{\"keys\":[%s,%s]}", rsa.jwk, ec.jwk);
	assert_int_equal(jwk_set_parse(buf, strlen(buf), &s, err, sizeof(err)),
			 JG_OK);
	assert_non_null(jwk_set_find(s, "r"));
	assert_int_equal(jwk_set_find(s, "e")->kty, JWK_KTY_EC);
	assert_null(jwk_set_find(s, "x"));
	assert_null(jwk_set_find(NULL, "r"));
	/* A reader's reference keeps the set alive after the swap drops it. */
	struct jwk_set *held = jwk_set_ref(s);
	jwk_set_unref(s);
	assert_non_null(jwk_set_find(held, "r"));
	jwk_set_unref(held);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_keys),
		cmocka_unit_test(test_skipped_keys),
		cmocka_unit_test(test_malformed_keys),
		cmocka_unit_test(test_key_sets),
		cmocka_unit_test(test_lookup_and_refs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
