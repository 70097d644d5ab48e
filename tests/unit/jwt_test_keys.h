/*
 * Test helper shared by the JWT unit tests, the fuzzer and the benchmark:
 * generate signing keys with GnuTLS, publish them as JWKs, and mint
 * tokens (good and bad ones) without any outside tool.
 */
#ifndef TEST_JWT_KEYS_H
#define TEST_JWT_KEYS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "b64url.h"
#include "jwt.h"

#define TK_UNUSED __attribute__((unused))

struct test_key {
	gnutls_privkey_t priv;
	int kty;           /* enum jwk_kty */
	int curve;         /* gnutls_ecc_curve_t */
	char kid[64];
	char jwk[4096];    /* public JWK, JSON */
};

static TK_UNUSED void tk_b64(const gnutls_datum_t *d, char *out)
{
	b64url_encode(d->data, d->size, out);
}

/* JWK coordinates are exactly the curve's size: left-pad with zeros. */
static TK_UNUSED void tk_pad(gnutls_datum_t *d, int curve)
{
	unsigned size = curve == GNUTLS_ECC_CURVE_SECP384R1   ? 48
			: curve == GNUTLS_ECC_CURVE_SECP521R1 ? 66
							      : 32;
	if (!d->data || d->size >= size)
		return;
	unsigned char *p = gnutls_malloc(size);
	memset(p, 0, size - d->size);
	memcpy(p + size - d->size, d->data, d->size);
	gnutls_free(d->data);
	d->data = p;
	d->size = size;
}

/* kty JWK_KTY_RSA (bits), JWK_KTY_EC (curve) or JWK_KTY_OKP (Ed25519). */
static TK_UNUSED int tk_generate(struct test_key *k, int kty, unsigned bits,
				 int curve, const char *kid)
{
	char a[1400], b[1400];
	gnutls_datum_t x = {0}, y = {0};
	int rc;

	memset(k, 0, sizeof(*k));
	k->kty = kty;
	k->curve = curve;
	snprintf(k->kid, sizeof(k->kid), "%s", kid ? kid : "");
	if (gnutls_privkey_init(&k->priv) < 0)
		return -1;
	if (kty == JWK_KTY_RSA) {
		rc = gnutls_privkey_generate(k->priv, GNUTLS_PK_RSA, bits, 0);
		if (rc >= 0)
			rc = gnutls_privkey_export_rsa_raw2(
				k->priv, &x, &y, NULL, NULL, NULL, NULL, NULL,
				NULL, GNUTLS_EXPORT_FLAG_NO_LZ);
		if (rc < 0)
			return -1;
		tk_b64(&x, a);
		tk_b64(&y, b);
		snprintf(k->jwk, sizeof(k->jwk),
			 "{\"kty\":\"RSA\",%s%s%s\"n\":\"%s\",\"e\":\"%s\"}",
			 kid ? "\"kid\":\"" : "", kid ? kid : "",
			 kid ? "\"," : "", a, b);
	} else {
		gnutls_pk_algorithm_t pk = kty == JWK_KTY_EC ? GNUTLS_PK_ECDSA
							     : GNUTLS_PK_EDDSA_ED25519;
		rc = gnutls_privkey_generate(
			k->priv, pk, GNUTLS_CURVE_TO_BITS(curve), 0);
		if (rc >= 0)
			rc = gnutls_privkey_export_ecc_raw2(
				k->priv, NULL, &x,
				kty == JWK_KTY_EC ? &y : NULL, NULL,
				GNUTLS_EXPORT_FLAG_NO_LZ);
		if (rc < 0)
			return -1;
		tk_pad(&x, curve);
		tk_pad(&y, curve);
		tk_b64(&x, a);
		const char *crv = curve == GNUTLS_ECC_CURVE_SECP256R1 ? "P-256"
				  : curve == GNUTLS_ECC_CURVE_SECP384R1 ? "P-384"
				  : curve == GNUTLS_ECC_CURVE_SECP521R1 ? "P-521"
									: "Ed25519";
		if (kty == JWK_KTY_EC) {
			tk_b64(&y, b);
			snprintf(k->jwk, sizeof(k->jwk),
				 "{\"kty\":\"EC\",\"crv\":\"%s\",%s%s%s"
				 "\"x\":\"%s\",\"y\":\"%s\"}",
				 crv, kid ? "\"kid\":\"" : "", kid ? kid : "",
				 kid ? "\"," : "", a, b);
		} else {
			snprintf(k->jwk, sizeof(k->jwk),
				 "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",%s%s%s"
				 "\"x\":\"%s\"}",
				 kid ? "\"kid\":\"" : "", kid ? kid : "",
				 kid ? "\"," : "", a);
		}
	}
	gnutls_free(x.data);
	gnutls_free(y.data);
	return 0;
}

static TK_UNUSED void tk_free(struct test_key *k)
{
	if (k->priv)
		gnutls_privkey_deinit(k->priv);
	k->priv = NULL;
}

static TK_UNUSED gnutls_sign_algorithm_t tk_sign_algo(int alg)
{
	switch (alg) {
	case JWT_ALG_RS256: return GNUTLS_SIGN_RSA_SHA256;
	case JWT_ALG_RS384: return GNUTLS_SIGN_RSA_SHA384;
	case JWT_ALG_RS512: return GNUTLS_SIGN_RSA_SHA512;
	case JWT_ALG_PS256: return GNUTLS_SIGN_RSA_PSS_RSAE_SHA256;
	case JWT_ALG_PS384: return GNUTLS_SIGN_RSA_PSS_RSAE_SHA384;
	case JWT_ALG_PS512: return GNUTLS_SIGN_RSA_PSS_RSAE_SHA512;
	case JWT_ALG_ES256: return GNUTLS_SIGN_ECDSA_SECP256R1_SHA256;
	case JWT_ALG_ES384: return GNUTLS_SIGN_ECDSA_SECP384R1_SHA384;
	case JWT_ALG_ES512: return GNUTLS_SIGN_ECDSA_SECP521R1_SHA512;
	case JWT_ALG_EDDSA: return GNUTLS_SIGN_EDDSA_ED25519;
	default: return GNUTLS_SIGN_UNKNOWN;
	}
}

/* Sign data as JWS alg wants it (ECDSA as r || s).  Returns the length. */
static TK_UNUSED size_t tk_sign(const struct test_key *k, int alg,
				const void *data, size_t len, uint8_t *sig)
{
	gnutls_datum_t d = {(unsigned char *)data, (unsigned)len}, s = {0};
	unsigned flags = alg >= JWT_ALG_PS256 && alg <= JWT_ALG_PS512
				 ? GNUTLS_PRIVKEY_FLAG_RSA_PSS_FIXED_SALT_LENGTH
				 : 0;

	if (gnutls_privkey_sign_data2(k->priv, tk_sign_algo(alg), flags, &d,
				      &s) < 0)
		return 0;
	size_t n = s.size;
	if (k->kty == JWK_KTY_EC) {
		gnutls_datum_t r, ss;
		size_t half = alg == JWT_ALG_ES256 ? 32
			      : alg == JWT_ALG_ES384 ? 48 : 66;
		gnutls_decode_rs_value(&s, &r, &ss);
		memset(sig, 0, 2 * half);
		/* DER integers may carry a leading zero or be short. */
		unsigned char *rp = r.data, *sp = ss.data;
		size_t rl = r.size, sl = ss.size;
		while (rl > half) rp++, rl--;
		while (sl > half) sp++, sl--;
		memcpy(sig + half - rl, rp, rl);
		memcpy(sig + 2 * half - sl, sp, sl);
		n = 2 * half;
		gnutls_free(r.data);
		gnutls_free(ss.data);
	} else {
		memcpy(sig, s.data, s.size);
	}
	gnutls_free(s.data);
	return n;
}

/*
 * Make header.payload.signature.  The header and payload are JSON text,
 * taken as is.  With k NULL the signature is sig_b64 (may be "").
 */
static TK_UNUSED char *tk_mint_raw(const struct test_key *k, int alg,
				   const char *header, const char *payload,
				   const char *sig_b64)
{
	size_t hl = strlen(header), pl = strlen(payload);
	char *out = malloc(B64URL_ENCODED_LEN(hl) + B64URL_ENCODED_LEN(pl) +
			   B64URL_ENCODED_LEN(1024) + 8);
	uint8_t sig[1024];

	size_t o = b64url_encode((const uint8_t *)header, hl, out);
	out[o++] = '.';
	o += b64url_encode((const uint8_t *)payload, pl, out + o);
	if (k) {
		size_t n = tk_sign(k, alg, out, o, sig);
		out[o++] = '.';
		b64url_encode(sig, n, out + o);
	} else {
		snprintf(out + o, B64URL_ENCODED_LEN(1024) + 2, ".%s",
			 sig_b64 ? sig_b64 : "");
	}
	return out;
}

/* A signed token with the usual header for k. */
static TK_UNUSED char *tk_mint(const struct test_key *k, int alg,
			       const char *payload)
{
	char header[160];

	if (k->kid[0])
		snprintf(header, sizeof(header),
			 "{\"alg\":\"%s\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
			 jwt_alg_name(alg), k->kid);
	else
		snprintf(header, sizeof(header),
			 "{\"alg\":\"%s\",\"typ\":\"JWT\"}", jwt_alg_name(alg));
	return tk_mint_raw(k, alg, header, payload, NULL);
}

/* HS256 over header.payload with secret. */
static TK_UNUSED char *tk_mint_hs256(const void *secret, size_t slen,
				     const char *payload)
{
	char *t = tk_mint_raw(NULL, 0, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
			      payload, "");
	uint8_t mac[32];
	char b64[64];
	size_t n = strlen(t) - 1; /* without the '.' before the signature */

	gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, slen, t, n, mac);
	b64url_encode(mac, sizeof(mac), b64);
	char *out = malloc(n + 1 + sizeof(b64));
	snprintf(out, n + 1 + sizeof(b64), "%.*s.%s", (int)n, t, b64);
	free(t);
	return out;
}

#endif /* TEST_JWT_KEYS_H */
