/*
 * JWT verifications per second with cached keys (RS256 and ES256),
 * against GnuTLS's raw gnutls_pubkey_verify_data2() on the same key and
 * the same signed bytes, in the same run.  The full path adds base64url
 * decoding, the payload's JSON parse (the header's is cached per thread),
 * the key lookup, the DER re-encoding of an ECDSA signature and the claim
 * checks; the target is to stay within 10% of the raw verify.
 *
 * A third column times jwt_verify_signature() alone, the signature step
 * jwt_verify() runs (for RS256 it hashes and checks the PKCS#1 block
 * itself, without gnutls_pubkey_verify_data2()'s per-call ASN.1
 * encoding): jwt_verify against it is what the JWT layer itself costs.
 *
 *   bench/jwt/bench_jwt [cpu-seconds-per-algorithm]     (default 2)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <jitgate/jitgate.h>

#include "../../tests/unit/jwt_test_keys.h"

/* Thread CPU time: other processes on a busy machine do not count. */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct job {
	const char *name;
	int alg;
	const struct jwk_key *key;
	const char *tok;
	const struct jwk_set *keys;
	const struct jwt_rules *rules;
	gnutls_datum_t data, sig; /* for the raw verify */
	gnutls_sign_algorithm_t sa;
	uint8_t jsig[1024];       /* the JWS signature (r || s for EC) */
	size_t jsig_len;
};

#define BATCH 8

static void full_batch(const struct job *j)
{
	char err[256];
	int64_t now = (int64_t)time(NULL);
	size_t len = strlen(j->tok);

	for (int i = 0; i < BATCH; i++) {
		struct jwt t;
		struct jwt_result res;
		if (jwt_verify(j->rules, j->keys, j->tok, len, now, &t, &res,
			       err, sizeof(err)) != JG_OK) {
			fprintf(stderr, "%s: %s\n", j->name, err);
			exit(1);
		}
		jwt_clear(&t);
	}
}

static void raw_batch(const struct job *j)
{
	for (int i = 0; i < BATCH; i++)
		if (gnutls_pubkey_verify_data2(j->key->pub, j->sa, 0, &j->data,
					       &j->sig) < 0) {
			fprintf(stderr, "%s: raw verify failed\n", j->name);
			exit(1);
		}
}

static void sig_batch(const struct job *j)
{
	char err[256];

	for (int i = 0; i < BATCH; i++)
		if (jwt_verify_signature(j->alg, j->key, j->data.data,
					 j->data.size, j->jsig, j->jsig_len,
					 err, sizeof(err)) != JG_OK) {
			fprintf(stderr, "%s: %s\n", j->name, err);
			exit(1);
		}
}

/*
 * Raw and full batches alternate, each timed in thread CPU time, so both
 * see the same caches, clock speed and neighbours.
 */
static void bench(struct job *j, double secs)
{
	double raw = 0, full = 0, sig = 0;
	long n = 0;

	while (raw + full + sig < secs) {
		double a = cpu_s();
		raw_batch(j);
		double b = cpu_s();
		full_batch(j);
		double c = cpu_s();
		sig_batch(j);
		double d = cpu_s();
		raw += b - a;
		full += c - b;
		sig += d - c;
		n += BATCH;
	}
	printf("%-6s raw gnutls_pubkey_verify_data2 %8.0f/s %6.1f us   "
	       "jwt_verify %8.0f/s %6.1f us   jwt/raw speed %.1f%%\n",
	       j->name, n / raw, raw / n * 1e6, n / full, full / n * 1e6,
	       100.0 * raw / full);
	printf("%-6s its signature step alone     %8.0f/s %6.1f us   "
	       "jwt_verify / signature step   %.1f%%\n",
	       j->name, n / sig, sig / n * 1e6, 100.0 * sig / full);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	struct test_key rsa, ec;
	char jwks[16384], payload[512], err[256];
	struct jwk_set *keys;
	static const char *const aud[] = {"jitgate"};

	if (tk_generate(&rsa, JWK_KTY_RSA, 2048, 0, "rsa") ||
	    tk_generate(&ec, JWK_KTY_EC, 0, GNUTLS_ECC_CURVE_SECP256R1, "ec"))
		return 1;
	snprintf(jwks, sizeof(jwks), "{\"keys\":[%s,%s]}", rsa.jwk, ec.jwk);
	if (jwk_set_parse(jwks, strlen(jwks), &keys, err, sizeof(err)))
		return 1;
	/* A realistic CI token payload (GitHub-Actions-like claims). */
	snprintf(payload, sizeof(payload),
		 "{\"iss\":\"https://token.ci.example\",\"aud\":\"jitgate\","
		 "\"sub\":\"repo:acme/app:ref:refs/heads/main\","
		 "\"repository\":\"acme/app\",\"ref\":\"refs/heads/main\","
		 "\"environment\":\"prod\",\"groups\":[\"ci\",\"deployers\"],"
		 "\"iat\":%ld,\"nbf\":%ld,\"exp\":%ld}",
		 (long)time(NULL), (long)time(NULL), (long)time(NULL) + 3600);
	struct jwt_rules rules = {
		.issuer = "https://token.ci.example",
		.audiences = aud,
		.naudiences = 1,
		.algs = JWT_ALGS_ASYMMETRIC,
		.skew_s = 60,
		.max_lifetime_s = 86400,
	};
	struct job jobs[2] = {
		{.name = "RS256", .alg = JWT_ALG_RS256,
		 .key = jwk_set_find(keys, "rsa"),
		 .tok = tk_mint(&rsa, JWT_ALG_RS256, payload), .keys = keys,
		 .rules = &rules},
		{.name = "ES256", .alg = JWT_ALG_ES256,
		 .key = jwk_set_find(keys, "ec"),
		 .tok = tk_mint(&ec, JWT_ALG_ES256, payload), .keys = keys,
		 .rules = &rules},
	};
	printf("JWT verification with cached keys, %.1f s CPU each\n", secs);
	for (int i = 0; i < 2; i++) {
		struct job *j = &jobs[i];
		struct jwt t;
		if (jwt_parse(j->tok, strlen(j->tok), &t, err, sizeof(err)))
			return 1;
		/* The raw side gets the signed bytes and a ready DER
		 * signature: exactly what GnuTLS needs, nothing more. */
		j->data.data = (unsigned char *)j->tok;
		j->data.size = (unsigned)t.signed_len;
		if (t.sig_len > sizeof(j->jsig))
			return 1;
		memcpy(j->jsig, t.sig, t.sig_len);
		j->jsig_len = t.sig_len;
		if (j->alg == JWT_ALG_ES256) {
			gnutls_datum_t r = {t.sig, 32}, s = {t.sig + 32, 32};
			gnutls_encode_rs_value(&j->sig, &r, &s);
			j->sa = GNUTLS_SIGN_ECDSA_SECP256R1_SHA256;
		} else {
			j->sig.data = gnutls_malloc(t.sig_len);
			memcpy(j->sig.data, t.sig, t.sig_len);
			j->sig.size = (unsigned)t.sig_len;
			j->sa = GNUTLS_SIGN_RSA_SHA256;
		}
		jwt_clear(&t);
		bench(j, secs);
		gnutls_free(j->sig.data);
		free((char *)j->tok);
	}
	jwk_set_unref(keys);
	tk_free(&rsa);
	tk_free(&ec);
	return 0;
}
