/*
 * JWT verification: every refusal the issue lists, the accepted
 * algorithms, and malformed, truncated and oversized tokens.  Keys are
 * generated for the run with GnuTLS (jwt_test_keys.h); time is the real
 * clock with margins far wider than any test takes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <jitgate/jitgate.h>

#include "jwt_test_keys.h"

#define ISS "https://issuer.test"
#define SECRET "0123456789abcdef0123456789abcdef-hs256"

static struct test_key rsa, rsa_other, ec256, ec384, ed, ec_nokid;
static struct jwk_set *keys;
static const char *const auds[] = {"jitgate", "other"};
static struct jwt_rules rules;
static char err[256];
static struct jwt_result res;

static int setup(void **state)
{
	char jwks[20000];

	assert_int_equal(tk_generate(&rsa, JWK_KTY_RSA, 2048, 0, "rsa1"), 0);
	assert_int_equal(tk_generate(&rsa_other, JWK_KTY_RSA, 2048, 0, "rsa1"),
			 0);
	assert_int_equal(tk_generate(&ec256, JWK_KTY_EC, 0,
				     GNUTLS_ECC_CURVE_SECP256R1, "ec1"), 0);
	assert_int_equal(tk_generate(&ec384, JWK_KTY_EC, 0,
				     GNUTLS_ECC_CURVE_SECP384R1, "ec384"), 0);
	assert_int_equal(tk_generate(&ed, JWK_KTY_OKP, 0,
				     GNUTLS_ECC_CURVE_ED25519, "ed1"), 0);
	/* Not in the key set: signs "unknown key" tokens. */
	assert_int_equal(tk_generate(&ec_nokid, JWK_KTY_EC, 0,
				     GNUTLS_ECC_CURVE_SECP256R1, NULL), 0);
	snprintf(jwks, sizeof(jwks), "{\"keys\":[%s,%s,%s,%s]}", rsa.jwk,
		 ec256.jwk, ec384.jwk, ed.jwk);
	assert_int_equal(jwk_set_parse(jwks, strlen(jwks), &keys, err,
				       sizeof(err)), JG_OK);
	assert_int_equal(keys->n, 4);
	rules = (struct jwt_rules){
		.issuer = ISS,
		.audiences = auds,
		.naudiences = 2,
		.algs = JWT_ALGS_ASYMMETRIC,
		.skew_s = 60,
		.max_lifetime_s = 86400,
	};
	(void)state;
	return 0;
}

static int teardown(void **state)
{
	jwk_set_unref(keys);
	tk_free(&rsa);
	tk_free(&rsa_other);
	tk_free(&ec256);
	tk_free(&ec384);
	tk_free(&ed);
	tk_free(&ec_nokid);
	(void)state;
	return 0;
}

/* A payload: exp/nbf/iat relative to now (0 leaves it out), plus extra. */
static const char *claims(long exp, long nbf, long iat, const char *extra)
{
	static char buf[1024];
	long now = (long)time(NULL);
	int n = snprintf(buf, sizeof(buf),
			 "{\"iss\":\"" ISS "\",\"sub\":\"ci:job\","
			 "\"aud\":\"jitgate\"");
	if (exp)
		n += snprintf(buf + n, sizeof(buf) - n, ",\"exp\":%ld",
			      now + exp);
	if (nbf)
		n += snprintf(buf + n, sizeof(buf) - n, ",\"nbf\":%ld",
			      now + nbf);
	if (iat)
		n += snprintf(buf + n, sizeof(buf) - n, ",\"iat\":%ld",
			      now + iat);
	snprintf(buf + n, sizeof(buf) - n, "%s%s}", extra ? "," : "",
		 extra ? extra : "");
	return buf;
}

static const char *good(void)
{
	return claims(300, -10, -10, NULL);
}

/* Verify tok; check rc, that err holds want, and never the token. */
static void expect(const char *tok, size_t len, int rc, const char *want)
{
	struct jwt t;

	err[0] = 0;
	int got = jwt_verify(&rules, keys, tok, len, (int64_t)time(NULL), &t,
			     &res, err, sizeof(err));
	if (got == JG_OK)
		jwt_clear(&t);
	if (got != rc || (want && !strstr(err, want)))
		fail_msg("rc %d (want %d), reason \"%s\" (want \"%s\")", got,
			 rc, err, want ? want : "");
	/* Reasons are shown to clients and logged: never the token. */
	const char *dot = memchr(tok, '.', len);
	if (rc != JG_OK && dot && dot - tok >= 8) {
		char head[9];
		memcpy(head, tok, 8);
		head[8] = 0;
		assert_null(strstr(err, head));
	}
}

static void expect_str(char *tok, int rc, const char *want)
{
	expect(tok, strlen(tok), rc, want);
	free(tok);
}

static void test_accepts_every_algorithm(void **state)
{
	expect_str(tk_mint(&rsa, JWT_ALG_RS256, good()), JG_OK, NULL);
	expect_str(tk_mint(&rsa, JWT_ALG_RS384, good()), JG_OK, NULL);
	expect_str(tk_mint(&rsa, JWT_ALG_RS512, good()), JG_OK, NULL);
	expect_str(tk_mint(&rsa, JWT_ALG_PS256, good()), JG_OK, NULL);
	expect_str(tk_mint(&rsa, JWT_ALG_PS384, good()), JG_OK, NULL);
	expect_str(tk_mint(&ec256, JWT_ALG_ES256, good()), JG_OK, NULL);
	expect_str(tk_mint(&ec384, JWT_ALG_ES384, good()), JG_OK, NULL);
	expect_str(tk_mint(&ed, JWT_ALG_EDDSA, good()), JG_OK, NULL);
	(void)state;
}

static void test_accepts_and_exposes(void **state)
{
	char *tok = tk_mint(&ec256, JWT_ALG_ES256,
			    claims(300, 0, 0, "\"aud\":[\"x\",\"other\"],"
					      "\"groups\":[\"a\",\"b\"]"));
	struct jwt t;

	assert_int_equal(jwt_verify(&rules, keys, tok, strlen(tok),
				    (int64_t)time(NULL), &t, &res, err,
				    sizeof(err)),
			 JG_OK);
	assert_int_equal(t.alg, JWT_ALG_ES256);
	assert_string_equal(t.kid, "ec1");
	assert_true(res.exp > (int64_t)time(NULL));
	struct json_object *g = jwt_claim_path(t.payload, "groups");
	assert_non_null(g);
	assert_int_equal(json_object_array_length(g), 2);
	assert_null(jwt_claim_path(t.payload, "groups.x"));
	jwt_clear(&t);
	free(tok);
	(void)state;
}

static void test_no_kid_tries_matching_keys(void **state)
{
	struct test_key k = rsa;
	k.kid[0] = 0;
	expect_str(tk_mint(&k, JWT_ALG_RS256, good()), JG_OK, NULL);
	k = ed;
	k.kid[0] = 0;
	expect_str(tk_mint(&k, JWT_ALG_EDDSA, good()), JG_OK, NULL);
	/* Unknown key without a kid: nothing verifies. */
	expect_str(tk_mint(&ec_nokid, JWT_ALG_ES256, good()), JG_ERROR,
		   "does not verify");
	(void)state;
}

static void test_refuses_alg_none(void **state)
{
	expect_str(tk_mint_raw(NULL, 0, "{\"alg\":\"none\"}", good(), ""),
		   JG_ERROR, "alg none");
	expect_str(tk_mint_raw(NULL, 0, "{\"alg\":\"none\",\"kid\":\"rsa1\"}",
			       good(), "AAAA"),
		   JG_ERROR, "alg none");
	expect_str(tk_mint_raw(NULL, 0, "{\"alg\":\"None\"}", good(), ""),
		   JG_ERROR, "not supported");
	expect_str(tk_mint_raw(NULL, 0, "{\"alg\":\"\"}", good(), "AAAA"),
		   JG_ERROR, "not supported");
	expect_str(tk_mint_raw(NULL, 0, "{\"alg\":7}", good(), "AAAA"),
		   JG_ERROR, "no alg");
	expect_str(tk_mint_raw(NULL, 0, "{\"typ\":\"JWT\"}", good(), "AAAA"),
		   JG_ERROR, "no alg");
	(void)state;
}

static void test_refuses_hmac_without_secret(void **state)
{
	/* The classic confusion: HS256 keyed with the RSA public key. */
	gnutls_pubkey_t pub;
	gnutls_datum_t pem;
	assert_int_equal(gnutls_pubkey_init(&pub), 0);
	assert_int_equal(gnutls_pubkey_import_privkey(pub, rsa.priv, 0, 0), 0);
	assert_int_equal(gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_PEM, &pem),
			 0);
	expect_str(tk_mint_hs256(pem.data, pem.size, good()), JG_ERROR,
		   "no shared secret");
	expect_str(tk_mint_hs256(rsa.jwk, strlen(rsa.jwk), good()), JG_ERROR,
		   "no shared secret");
	expect_str(tk_mint_raw(NULL, 0, "{\"alg\":\"HS512\"}", good(), "AAAA"),
		   JG_ERROR, "no shared secret");
	gnutls_free(pem.data);
	gnutls_pubkey_deinit(pub);
	(void)state;
}

static void test_hs256_with_secret(void **state)
{
	struct jwt_rules saved = rules;

	rules.hmac_secret = (const uint8_t *)SECRET;
	rules.hmac_len = strlen(SECRET);
	expect_str(tk_mint_hs256(SECRET, strlen(SECRET), good()), JG_OK, NULL);
	expect_str(tk_mint_hs256("another secret, 32 bytes or more",
				 32, good()),
		   JG_ERROR, "does not verify");
	expect_str(tk_mint_raw(NULL, 0, "{\"alg\":\"HS384\"}", good(),
			       "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
		   JG_ERROR, "only HS256");
	/* Truncated MAC: exact length or nothing. */
	char *t = tk_mint_hs256(SECRET, strlen(SECRET), good());
	t[strlen(t) - 3] = 0;
	expect_str(t, JG_ERROR, "HS256 needs 32");
	rules = saved;
	(void)state;
}

static void test_refuses_unknown_key(void **state)
{
	struct test_key k = ec_nokid;
	snprintf(k.kid, sizeof(k.kid), "rotated-away");
	expect_str(tk_mint(&k, JWT_ALG_ES256, good()), JG_ERROR, "unknown key");
	assert_true(res.unknown_kid);
	/* Same kid as a published key but another key pair. */
	expect_str(tk_mint(&rsa_other, JWT_ALG_RS256, good()), JG_ERROR,
		   "does not verify");
	assert_false(res.unknown_kid);
	/* No key set loaded at all. */
	char *tok = tk_mint(&rsa, JWT_ALG_RS256, good());
	struct jwt t;
	assert_int_equal(jwt_verify(&rules, NULL, tok, strlen(tok),
				    (int64_t)time(NULL), &t, &res, err,
				    sizeof(err)),
			 JG_ERROR);
	assert_non_null(strstr(err, "not loaded"));
	free(tok);
	(void)state;
}

static void test_refuses_key_type_mismatch(void **state)
{
	/* An EC signature claiming the RSA key, and the reverse. */
	expect_str(tk_mint_raw(&ec256, JWT_ALG_ES256,
			       "{\"alg\":\"ES256\",\"kid\":\"rsa1\"}", good(),
			       NULL),
		   JG_ERROR, "does not match");
	expect_str(tk_mint_raw(&rsa, JWT_ALG_RS256,
			       "{\"alg\":\"RS256\",\"kid\":\"ec1\"}", good(),
			       NULL),
		   JG_ERROR, "does not match");
	/* ES384 made with the P-384 key but naming the P-256 one. */
	expect_str(tk_mint_raw(&ec384, JWT_ALG_ES384,
			       "{\"alg\":\"ES384\",\"kid\":\"ec1\"}", good(),
			       NULL),
		   JG_ERROR, "does not match");
	expect_str(tk_mint_raw(&ed, JWT_ALG_EDDSA,
			       "{\"alg\":\"EdDSA\",\"kid\":\"ec1\"}", good(),
			       NULL),
		   JG_ERROR, "does not match");
	(void)state;
}

static void test_refuses_disallowed_alg(void **state)
{
	struct jwt_rules saved = rules;

	rules.algs = JWT_ALG_BIT(JWT_ALG_RS256);
	expect_str(tk_mint(&ec256, JWT_ALG_ES256, good()), JG_ERROR,
		   "not allowed");
	expect_str(tk_mint(&rsa, JWT_ALG_PS256, good()), JG_ERROR,
		   "not allowed");
	expect_str(tk_mint(&rsa, JWT_ALG_RS256, good()), JG_OK, NULL);
	rules = saved;
	(void)state;
}

static void test_issuer(void **state)
{
	char p[256];
	long exp = (long)time(NULL) + 300;

	snprintf(p, sizeof(p), "{\"iss\":\"https://evil.test\",\"sub\":\"x\","
			       "\"aud\":\"jitgate\",\"exp\":%ld}", exp);
	expect_str(tk_mint(&rsa, JWT_ALG_RS256, p), JG_DECLINED,
		   "not this issuer");
	snprintf(p, sizeof(p), "{\"iss\":\"" ISS "/\",\"sub\":\"x\","
			       "\"aud\":\"jitgate\",\"exp\":%ld}", exp);
	expect_str(tk_mint(&rsa, JWT_ALG_RS256, p), JG_DECLINED,
		   "not this issuer");
	snprintf(p, sizeof(p), "{\"sub\":\"x\",\"aud\":\"jitgate\","
			       "\"exp\":%ld}", exp);
	expect_str(tk_mint(&rsa, JWT_ALG_RS256, p), JG_DECLINED, "no iss");
	snprintf(p, sizeof(p), "{\"iss\":[\"" ISS "\"],\"aud\":\"jitgate\","
			       "\"exp\":%ld}", exp);
	expect_str(tk_mint(&rsa, JWT_ALG_RS256, p), JG_DECLINED, "no iss");
	(void)state;
}

static void test_audience(void **state)
{
	char p[256];
	long exp = (long)time(NULL) + 300;

	snprintf(p, sizeof(p), "{\"iss\":\"" ISS "\",\"aud\":\"nope\","
			       "\"exp\":%ld}", exp);
	expect_str(tk_mint(&rsa, JWT_ALG_RS256, p), JG_ERROR, "aud");
	snprintf(p, sizeof(p), "{\"iss\":\"" ISS "\",\"aud\":[\"a\",\"b\"],"
			       "\"exp\":%ld}", exp);
	expect_str(tk_mint(&rsa, JWT_ALG_RS256, p), JG_ERROR, "aud");
	snprintf(p, sizeof(p), "{\"iss\":\"" ISS "\",\"aud\":[],"
			       "\"exp\":%ld}", exp);
	expect_str(tk_mint(&rsa, JWT_ALG_RS256, p), JG_ERROR, "aud");
	snprintf(p, sizeof(p), "{\"iss\":\"" ISS "\",\"exp\":%ld}", exp);
	expect_str(tk_mint(&rsa, JWT_ALG_RS256, p), JG_ERROR, "no aud");
	snprintf(p, sizeof(p), "{\"iss\":\"" ISS "\",\"aud\":[1,\"other\"],"
			       "\"exp\":%ld}", exp);
	expect_str(tk_mint(&rsa, JWT_ALG_RS256, p), JG_OK, NULL);
	(void)state;
}

static void test_times(void **state)
{
	/* Expired, beyond and within the 60 s skew. */
	expect_str(tk_mint(&rsa, JWT_ALG_RS256, claims(-3600, 0, -7200, NULL)),
		   JG_ERROR, "expired");
	expect_str(tk_mint(&rsa, JWT_ALG_RS256, claims(-20, 0, 0, NULL)),
		   JG_OK, NULL);
	/* Not valid yet. */
	expect_str(tk_mint(&rsa, JWT_ALG_RS256, claims(7200, 3600, 0, NULL)),
		   JG_ERROR, "not valid yet");
	expect_str(tk_mint(&rsa, JWT_ALG_RS256, claims(7200, 20, 0, NULL)),
		   JG_OK, NULL);
	/* Issued in the future. */
	expect_str(tk_mint(&rsa, JWT_ALG_RS256, claims(7200, 0, 3600, NULL)),
		   JG_ERROR, "issued in the future");
	/* Absurd lifetimes: exp far ahead, or far after iat. */
	expect_str(tk_mint(&rsa, JWT_ALG_RS256,
			   claims(10L * 365 * 86400, 0, 0, NULL)),
		   JG_ERROR, "lifetime");
	expect_str(tk_mint(&rsa, JWT_ALG_RS256,
			   claims(3600, 0, -2 * 86400, NULL)),
		   JG_ERROR, "lifetime");
	/* exp missing or not a number. */
	expect_str(tk_mint(&rsa, JWT_ALG_RS256, claims(0, 0, 0, NULL)),
		   JG_ERROR, "no exp");
	expect_str(tk_mint(&rsa, JWT_ALG_RS256,
			   claims(0, 0, 0, "\"exp\":\"tomorrow\"")),
		   JG_ERROR, "malformed exp");
	expect_str(tk_mint(&rsa, JWT_ALG_RS256,
			   claims(0, 0, 0, "\"exp\":1e300")),
		   JG_ERROR, "malformed exp");
	expect_str(tk_mint(&rsa, JWT_ALG_RS256,
			   claims(0, 0, 0, "\"exp\":99999999999999999999")),
		   JG_ERROR, "malformed exp");
	(void)state;
}

static void test_tampered(void **state)
{
	char *tok = tk_mint(&rsa, JWT_ALG_RS256, good());
	char *evil = tk_mint_raw(NULL, 0, "{\"alg\":\"RS256\",\"kid\":\"rsa1\"}",
				 claims(300, 0, 0, "\"sub\":\"admin\""), "");
	char *sig = strrchr(tok, '.') + 1;
	char *mixed = malloc(strlen(evil) + strlen(sig) + 1);

	/* Another payload under the genuine signature. */
	sprintf(mixed, "%s%s", evil, sig);
	expect_str(mixed, JG_ERROR, "does not verify");
	/* One flipped character in the payload, the signature, the header. */
	char *p = strchr(tok, '.') + 44; /* inside "sub" */
	char orig = *p;
	*p = orig == 'A' ? 'B' : 'A';
	expect(tok, strlen(tok), JG_ERROR, NULL);
	*p = orig;
	expect(tok, strlen(tok), JG_OK, NULL);
	sig[10] = sig[10] == 'A' ? 'B' : 'A';
	expect(tok, strlen(tok), JG_ERROR, "does not verify");
	free(tok);
	free(evil);
	(void)state;
}

static void test_malformed(void **state)
{
	char *tok = tk_mint(&ec256, JWT_ALG_ES256, good());
	size_t len = strlen(tok);
	char buf[20000];

	expect("", 0, JG_DECLINED, "not a JWT");
	expect("jg_0123456789abcdef", 19, JG_DECLINED, "not a JWT");
	expect(".", 1, JG_ERROR, "three parts");
	expect("..", 2, JG_ERROR, "header");
	expect("a.b", 3, JG_ERROR, "three parts");
	expect("a.b.c.d", 7, JG_ERROR, "three parts");
	/* Four parts: a JWE-like or doubled token. */
	snprintf(buf, sizeof(buf), "%s.%s", tok, "AAAA");
	expect(buf, strlen(buf), JG_ERROR, "three parts");
	/* Every truncation is refused, never accepted. */
	for (size_t n = 1; n < len; n++) {
		struct jwt t;
		int rc = jwt_verify(&rules, keys, tok, n, (int64_t)time(NULL),
				    &t, &res, err, sizeof(err));
		assert_int_not_equal(rc, JG_OK);
	}
	/* Bytes outside base64url, padding, whitespace. */
	const char *bad[] = {"=", "+", "/", " ", "\n", "\x80", "%"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		snprintf(buf, sizeof(buf), "%s%s", tok, bad[i]);
		expect(buf, strlen(buf), JG_ERROR, "not base64url");
		snprintf(buf, sizeof(buf), "%s%s", bad[i], tok);
		expect(buf, strlen(buf), JG_ERROR, "not base64url");
	}
	/* An embedded NUL ends nothing: the length says where. */
	memcpy(buf, tok, len);
	buf[20] = 0;
	expect(buf, len, JG_ERROR, "not base64url");
	/* Non-canonical base64url: leftover bits set in the signature
	 * (64 bytes -> 86 characters, the last carries 2 spare bits). */
	memcpy(buf, tok, len + 1);
	char *last = buf + len - 1;
	*last = *last == 'A' ? 'B' : (*last == 'Q' ? 'R' : 'B');
	expect(buf, len, JG_ERROR, NULL);
	/* Header or payload that is not a JSON object. */
	expect_str(tk_mint_raw(NULL, 0, "[\"alg\",\"ES256\"]", good(), "AA"),
		   JG_ERROR, "header");
	expect_str(tk_mint_raw(NULL, 0, "{\"alg\":\"ES256\"", good(), "AA"),
		   JG_ERROR, "header");
	expect_str(tk_mint_raw(NULL, 0, "{\"alg\":\"ES256\"} x", good(), "AA"),
		   JG_ERROR, "header");
	expect_str(tk_mint_raw(NULL, 0, "{'alg':'ES256'}", good(), "AA"),
		   JG_ERROR, "header");
	expect_str(tk_mint_raw(NULL, 0, "{\"alg\":\"ES256\",\"x\":\"\xff\"}",
			       good(), "AA"),
		   JG_ERROR, "header");
	/* The payload's UTF-8 is checked as well; real UTF-8 passes. */
	expect_str(tk_mint(&ec256, JWT_ALG_ES256,
			   claims(300, -10, -10, "\"name\":\"J\xc3\xbcrgen\"")),
		   JG_OK, NULL);
	expect_str(tk_mint(&ec256, JWT_ALG_ES256,
			   claims(300, -10, -10, "\"name\":\"J\xfcrgen\"")),
		   JG_ERROR, "payload");
	expect_str(tk_mint(&ec256, JWT_ALG_ES256,
			   claims(300, -10, -10, "\"name\":\"\xc3\"")),
		   JG_ERROR, "payload");
	expect_str(tk_mint_raw(&ec256, JWT_ALG_ES256,
			       "{\"alg\":\"ES256\",\"kid\":\"ec1\"}", "\"str\"",
			       NULL),
		   JG_ERROR, "payload");
	expect_str(tk_mint_raw(&ec256, JWT_ALG_ES256,
			       "{\"alg\":\"ES256\",\"kid\":\"ec1\"}",
			       "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]"
			       "]]]]]]]]]]]]]]]]", NULL),
		   JG_ERROR, "payload");
	/* crit extensions, malformed kid. */
	expect_str(tk_mint_raw(&ec256, JWT_ALG_ES256,
			       "{\"alg\":\"ES256\",\"kid\":\"ec1\","
			       "\"crit\":[\"b64\"],\"b64\":false}",
			       good(), NULL),
		   JG_ERROR, "crit");
	expect_str(tk_mint_raw(&ec256, JWT_ALG_ES256,
			       "{\"alg\":\"ES256\",\"kid\":5}", good(), NULL),
		   JG_ERROR, "kid");
	/* Again: a refused header is never reused as a checked one. */
	expect_str(tk_mint_raw(&ec256, JWT_ALG_ES256,
			       "{\"alg\":\"ES256\",\"kid\":5}", good(), NULL),
		   JG_ERROR, "kid");
	/* Signature of the wrong size for the algorithm. */
	expect_str(tk_mint_raw(NULL, 0, "{\"alg\":\"ES256\",\"kid\":\"ec1\"}",
			       good(), "AAAA"),
		   JG_ERROR, "ES256 needs 64");
	memcpy(buf, tok, len + 1);
	buf[len - 3] = 0; /* 63 bytes left */
	expect(buf, strlen(buf), JG_ERROR, NULL);
	expect_str(tk_mint_raw(NULL, 0, "{\"alg\":\"ES256\",\"kid\":\"ec1\"}",
			       good(), ""),
		   JG_ERROR, "no signature");
	/* Oversized. */
	memset(buf, 'A', sizeof(buf));
	buf[100] = '.';
	buf[200] = '.';
	expect(buf, JWT_MAX_TOKEN + 1, JG_ERROR, "larger than");
	free(tok);
	(void)state;
}

static void test_b64url(void **state)
{
	uint8_t out[16];
	char enc[32];

	assert_int_equal(b64url_decode("", 0, out, sizeof(out)), 0);
	assert_int_equal(b64url_decode("QQ", 2, out, sizeof(out)), 1);
	assert_int_equal(out[0], 'A');
	assert_int_equal(b64url_decode("QR", 2, out, sizeof(out)), -1);
	assert_int_equal(b64url_decode("QQ==", 4, out, sizeof(out)), -1);
	assert_int_equal(b64url_decode("Q", 1, out, sizeof(out)), -1);
	assert_int_equal(b64url_decode("QUI", 3, out, sizeof(out)), 2);
	assert_int_equal(b64url_decode("QUJ", 3, out, sizeof(out)), -1);
	assert_int_equal(b64url_decode("-_-_", 4, out, sizeof(out)), 3);
	assert_int_equal(b64url_decode("+/+/", 4, out, sizeof(out)), -1);
	assert_int_equal(b64url_decode("QUJDRA", 6, out, 3), -1);
	for (unsigned n = 0; n < 12; n++) {
		uint8_t in[12];
		for (unsigned i = 0; i < n; i++)
			in[i] = (uint8_t)(i * 37 + n);
		size_t m = b64url_encode(in, n, enc);
		assert_int_equal(m, B64URL_ENCODED_LEN(n));
		assert_int_equal(b64url_decode(enc, m, out, sizeof(out)), n);
		assert_memory_equal(in, out, n);
	}
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_accepts_every_algorithm),
		cmocka_unit_test(test_accepts_and_exposes),
		cmocka_unit_test(test_no_kid_tries_matching_keys),
		cmocka_unit_test(test_refuses_alg_none),
		cmocka_unit_test(test_refuses_hmac_without_secret),
		cmocka_unit_test(test_hs256_with_secret),
		cmocka_unit_test(test_refuses_unknown_key),
		cmocka_unit_test(test_refuses_key_type_mismatch),
		cmocka_unit_test(test_refuses_disallowed_alg),
		cmocka_unit_test(test_issuer),
		cmocka_unit_test(test_audience),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
