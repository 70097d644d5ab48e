/*
 * JWT verification.  The token is attacker-controlled until its signature
 * checks out, so: every length is bounded before use, base64url is strict,
 * JSON is strict and shallow, the algorithm comes from an allow-list (never
 * "none", HMAC only with a configured secret), the key must fit the
 * algorithm, and no reason text ever quotes the token.
 */
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <json-c/json.h>
#include <jitgate/jitgate.h>

#include "b64url.h"
#include "jwt.h"

#define MAX_KEY_TRIES 8
#define MAX_CLAIM_PATH 256

static const struct {
	const char *name;
	int alg;
} alg_names[] = {
	{"none", JWT_ALG_NONE},   {"HS256", JWT_ALG_HS256},
	{"HS384", JWT_ALG_HS384}, {"HS512", JWT_ALG_HS512},
	{"RS256", JWT_ALG_RS256}, {"RS384", JWT_ALG_RS384},
	{"RS512", JWT_ALG_RS512}, {"PS256", JWT_ALG_PS256},
	{"PS384", JWT_ALG_PS384}, {"PS512", JWT_ALG_PS512},
	{"ES256", JWT_ALG_ES256}, {"ES384", JWT_ALG_ES384},
	{"ES512", JWT_ALG_ES512}, {"EdDSA", JWT_ALG_EDDSA},
};

int jwt_alg_from_name(const char *name)
{
	/* Case matters: "None" and "NONE" are unknown, hence refused. */
	for (size_t i = 0; name && i < sizeof(alg_names) / sizeof(*alg_names);
	     i++)
		if (!strcmp(name, alg_names[i].name))
			return alg_names[i].alg;
	return JWT_ALG_UNKNOWN;
}

const char *jwt_alg_name(int alg)
{
	for (size_t i = 0; i < sizeof(alg_names) / sizeof(*alg_names); i++)
		if (alg_names[i].alg == alg)
			return alg_names[i].name;
	return "unknown";
}

int jwt_alg_is_hmac(int alg)
{
	return alg == JWT_ALG_HS256 || alg == JWT_ALG_HS384 ||
	       alg == JWT_ALG_HS512;
}

int jwt_alg_kty(int alg)
{
	switch (alg) {
	case JWT_ALG_RS256: case JWT_ALG_RS384: case JWT_ALG_RS512:
	case JWT_ALG_PS256: case JWT_ALG_PS384: case JWT_ALG_PS512:
		return JWK_KTY_RSA;
	case JWT_ALG_ES256: case JWT_ALG_ES384: case JWT_ALG_ES512:
		return JWK_KTY_EC;
	case JWT_ALG_EDDSA:
		return JWK_KTY_OKP;
	default:
		return 0;
	}
}

/*
 * The C locale, to parse under.  json-c switches LC_NUMERIC to "C" around
 * every parse, starting from a copy of the thread's locale: from the
 * global one that is a malloc and the global locale lock per parse, from
 * this one glibc skips both.  Made once, never freed (glibc returns a
 * static object).
 */
static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

/* Non-zero if any of the n bytes at p has its top bit set. */
static int has_non_ascii(const char *p, size_t n)
{
	uint64_t acc = 0, w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, p + i, 8);
		acc |= w;
	}
	for (; i < n; i++)
		acc |= (unsigned char)p[i];
	return (acc & 0x8080808080808080ULL) != 0;
}

/*
 * Parse all of buf with tk: strict, valid UTF-8, only whitespace after.
 * json-c checks UTF-8 one byte at a time through a function call, which
 * was a sixth of a token payload's parse; ASCII is valid UTF-8, so that check
 * only runs when a byte above 0x7f is there to check (same verdicts).
 */
static struct json_object *parse_all(struct json_tokener *tk, const char *buf,
				     size_t len)
{
	if (len == 0 || len > JWK_SET_MAX_BYTES || memchr(buf, 0, len))
		return NULL;
	pthread_once(&c_locale_once, c_locale_init);
	json_tokener_reset(tk);
	json_tokener_set_flags(tk, JSON_TOKENER_STRICT |
					   (has_non_ascii(buf, len)
						    ? JSON_TOKENER_VALIDATE_UTF8
						    : 0));
	locale_t old = c_locale ? uselocale(c_locale) : (locale_t)0;
	struct json_object *o = json_tokener_parse_ex(tk, buf, (int)len);
	if (old)
		uselocale(old);
	size_t end = json_tokener_get_parse_end(tk);
	int ok = o && json_tokener_get_error(tk) == json_tokener_success;
	for (; ok && end < len; end++)
		if (!strchr(" \t\r\n", buf[end]))
			ok = 0;
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

struct json_object *jwt_json_parse(const char *buf, size_t len, int depth)
{
	struct json_tokener *tk = json_tokener_new_ex(depth);

	if (!tk)
		return NULL;
	struct json_object *o = parse_all(tk, buf, len);
	json_tokener_free(tk);
	return o;
}

/*
 * Per-thread parse state: a tokener to reuse, and the last header seen.
 * An issuer signs all its tokens with a handful of headers, so most
 * tokens skip decoding and parsing theirs.  Only this thread ever touches
 * the cached object (json-c reference counts are not atomic), which is why
 * a struct jwt must be cleared on the thread that filled it.
 */
#define HEADER_CACHE_MAX 256

struct parse_state {
	struct json_tokener *tk;
	struct json_object *header; /* only a header that passed its checks */
	int alg;                    /* and what they found in it */
	const char *kid;            /* inside header, or NULL */
	size_t hlen;
	char hseg[HEADER_CACHE_MAX];
};

static pthread_key_t state_key;
static pthread_once_t state_once = PTHREAD_ONCE_INIT;
static int state_key_ok;

static void state_free(void *p)
{
	struct parse_state *ps = p;

	json_tokener_free(ps->tk);
	json_object_put(ps->header);
	free(ps);
}

static void state_key_init(void)
{
	state_key_ok = pthread_key_create(&state_key, state_free) == 0;
}

static struct parse_state *state_get(void)
{
	pthread_once(&state_once, state_key_init);
	if (!state_key_ok)
		return NULL;
	struct parse_state *ps = pthread_getspecific(state_key);
	if (ps)
		return ps;
	ps = calloc(1, sizeof(*ps));
	if (ps && !(ps->tk = json_tokener_new_ex(JWT_MAX_DEPTH))) {
		free(ps);
		return NULL;
	}
	if (ps && pthread_setspecific(state_key, ps)) {
		state_free(ps);
		return NULL;
	}
	return ps;
}

struct json_object *jwt_claim_path(struct json_object *payload,
				   const char *path)
{
	char buf[MAX_CLAIM_PATH];
	struct json_object *cur = payload;
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return NULL;
	memcpy(buf, path, n + 1);
	for (char *save = NULL, *p = strtok_r(buf, ".", &save); p;
	     p = strtok_r(NULL, ".", &save))
		if (!json_object_is_type(cur, json_type_object) ||
		    !json_object_object_get_ex(cur, p, &cur))
			return NULL;
	return cur;
}

/*
 * Decode one segment and parse it as a JSON object with json-c (a
 * well-kept parser: a hand-made one was measured 1.4 us faster per token,
 * not worth a second JSON parser on the attack surface).
 */
static struct json_object *segment_object(struct parse_state *ps,
					  const char *seg, size_t n)
{
	uint8_t small[2048];
	uint8_t *buf = B64URL_DECODED_MAX(n) <= sizeof(small)
			       ? small
			       : malloc(B64URL_DECODED_MAX(n));
	struct json_object *o = NULL;

	if (!buf)
		return NULL;
	long m = b64url_decode(seg, n, buf, B64URL_DECODED_MAX(n));
	if (m > 0)
		o = ps ? parse_all(ps->tk, (const char *)buf, (size_t)m)
		       : jwt_json_parse((const char *)buf, (size_t)m,
					JWT_MAX_DEPTH);
	if (buf != small)
		free(buf);
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

/* Check a decoded header and read alg and kid; NULL or the reason. */
static const char *header_fields(struct json_object *h, int *alg,
				 const char **kid)
{
	struct json_object *v;

	if (!json_object_object_get_ex(h, "alg", &v) ||
	    !json_object_is_type(v, json_type_string))
		return "malformed token: the header has no alg";
	*alg = jwt_alg_from_name(json_object_get_string(v));
	*kid = NULL;
	if (json_object_object_get_ex(h, "kid", &v)) {
		size_t n = (size_t)json_object_get_string_len(v);
		if (!json_object_is_type(v, json_type_string) || n == 0 ||
		    n > JWK_KID_MAX)
			return "malformed token: the kid is not a short string";
		*kid = json_object_get_string(v);
	}
	/* RFC 7515 4.1.11: an extension we do not know must be refused. */
	if (json_object_object_get_ex(h, "crit", NULL))
		return "token has critical header extensions (crit), none of "
		       "which are supported";
	return NULL;
}

static void jwt_reset(struct jwt *t)
{
	t->header = t->payload = NULL;
	t->alg = JWT_ALG_UNKNOWN;
	t->kid = NULL;
	t->signed_part = NULL;
	t->signed_len = 0;
	t->sig_len = 0;
}

void jwt_clear(struct jwt *t)
{
	json_object_put(t->header);
	json_object_put(t->payload);
	jwt_reset(t);
}

/*
 * The shape check of the whole token, byte by byte: only run once
 * something failed, to say precisely why.  On the accepted path it is
 * redundant: the strict decoder checks every byte of the payload and the
 * signature, and the header either decodes or equals, byte for byte, one
 * that did.  Fills err and returns 1 if the token is misshapen.
 */
static int shape_error(const char *tok, size_t len, char *err, size_t errlen)
{
	int ndots = 0;

	for (size_t i = 0; i < len; i++) {
		if (tok[i] == '.') {
			if (++ndots == 3)
				break;
		} else if (!b64url_is_alpha((unsigned char)tok[i])) {
			snprintf(err, errlen,
				 "malformed token: byte %zu is not base64url",
				 i);
			return 1;
		}
	}
	if (ndots != 2) {
		snprintf(err, errlen,
			 "malformed token: it must have exactly three parts");
		return 1;
	}
	return 0;
}

int jwt_parse(const char *tok, size_t len, struct jwt *t, char *err,
	      size_t errlen)
{
	jwt_reset(t);
	if (len == 0 || !memchr(tok, '.', len < JWT_MAX_TOKEN ? len
							       : JWT_MAX_TOKEN)) {
		snprintf(err, errlen, "not a JWT");
		return JG_DECLINED;
	}
	if (len > JWT_MAX_TOKEN) {
		snprintf(err, errlen, "token is larger than %d bytes",
			 JWT_MAX_TOKEN);
		return JG_ERROR;
	}
	/* memchr finds the dots far faster than a byte loop; the alphabet
	 * is checked by the decoder (see shape_error). */
	const char *end = tok + len, *dot[2];
	dot[0] = memchr(tok, '.', len);
	dot[1] = memchr(dot[0] + 1, '.', (size_t)(end - dot[0] - 1));
	if (!dot[1] || memchr(dot[1] + 1, '.', (size_t)(end - dot[1] - 1))) {
		shape_error(tok, len, err, errlen);
		return JG_ERROR;
	}
	size_t hlen = (size_t)(dot[0] - tok);
	size_t plen = (size_t)(dot[1] - dot[0] - 1);
	size_t slen = len - (size_t)(dot[1] - tok) - 1;
	const char *why;

	/* The header, its checks and what they found, are the same for
	 * the same bytes: taken from this thread's cache when they match. */
	struct parse_state *ps = state_get();
	if (ps && ps->header && hlen == ps->hlen &&
	    !memcmp(ps->hseg, tok, hlen)) {
		t->header = json_object_get(ps->header);
		t->alg = ps->alg;
		t->kid = ps->kid;
	} else {
		if (!hlen || !(t->header = segment_object(ps, tok, hlen))) {
			why = "malformed token: the header is not a base64url "
			      "JSON object";
			goto misshapen;
		}
		if ((why = header_fields(t->header, &t->alg, &t->kid)))
			goto misshapen;
		if (ps && hlen <= sizeof(ps->hseg)) {
			json_object_put(ps->header);
			ps->header = json_object_get(t->header);
			ps->alg = t->alg;
			ps->kid = t->kid;
			memcpy(ps->hseg, tok, hlen);
			ps->hlen = hlen;
		}
	}
	if (plen == 0 || !(t->payload = segment_object(ps, dot[0] + 1, plen))) {
		why = "malformed token: the payload is not a base64url JSON "
		      "object";
		goto misshapen;
	}
	if (slen > B64URL_ENCODED_LEN(JWT_MAX_SIG)) {
		why = "malformed token: signature too long";
		goto misshapen;
	}
	long m = b64url_decode(dot[1] + 1, slen, t->sig, JWT_MAX_SIG);
	if (m < 0) {
		why = "malformed token: the signature is not base64url";
		goto misshapen;
	}
	t->sig_len = (size_t)m;
	t->signed_part = tok;
	t->signed_len = (size_t)(dot[1] - tok);
	return JG_OK;
misshapen:
	/* A byte outside the alphabet is the reason to give first, as
	 * the byte loop this replaces did. */
	if (!shape_error(tok, len, err, errlen))
		snprintf(err, errlen, "%s", why);
	jwt_clear(t);
	return JG_ERROR;
}

/* GnuTLS algorithm, flags and exact signature size for alg and key. */
static int sign_params(int alg, const struct jwk_key *key,
		       gnutls_sign_algorithm_t *sa, unsigned *flags,
		       size_t *size)
{
	*flags = 0;
	switch (alg) {
	case JWT_ALG_RS256: *sa = GNUTLS_SIGN_RSA_SHA256; break;
	case JWT_ALG_RS384: *sa = GNUTLS_SIGN_RSA_SHA384; break;
	case JWT_ALG_RS512: *sa = GNUTLS_SIGN_RSA_SHA512; break;
	case JWT_ALG_PS256: *sa = GNUTLS_SIGN_RSA_PSS_RSAE_SHA256; break;
	case JWT_ALG_PS384: *sa = GNUTLS_SIGN_RSA_PSS_RSAE_SHA384; break;
	case JWT_ALG_PS512: *sa = GNUTLS_SIGN_RSA_PSS_RSAE_SHA512; break;
	case JWT_ALG_ES256:
		*sa = GNUTLS_SIGN_ECDSA_SECP256R1_SHA256;
		*size = 64;
		return key->curve == GNUTLS_ECC_CURVE_SECP256R1 ? 0 : -1;
	case JWT_ALG_ES384:
		*sa = GNUTLS_SIGN_ECDSA_SECP384R1_SHA384;
		*size = 96;
		return key->curve == GNUTLS_ECC_CURVE_SECP384R1 ? 0 : -1;
	case JWT_ALG_ES512:
		*sa = GNUTLS_SIGN_ECDSA_SECP521R1_SHA512;
		*size = 132;
		return key->curve == GNUTLS_ECC_CURVE_SECP521R1 ? 0 : -1;
	case JWT_ALG_EDDSA:
		*sa = GNUTLS_SIGN_EDDSA_ED25519;
		*size = 64;
		return key->curve == GNUTLS_ECC_CURVE_ED25519 ? 0 : -1;
	default:
		return -1;
	}
	/* RSA: RFC 7518 3.5 fixes the PSS salt to the hash size, and a
	 * signature is exactly as long as the modulus (RFC 8017 8.2.2). */
	if (alg >= JWT_ALG_PS256 && alg <= JWT_ALG_PS512)
		*flags = GNUTLS_VERIFY_RSA_PSS_FIXED_SALT_LENGTH;
	*size = (key->bits + 7) / 8;
	return 0;
}

/*
 * ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } in DER, written
 * on the stack: what gnutls_encode_rs_value() gives, without libtasn1 and
 * a malloc per verification.  n is at most 66 (P-521), so each INTEGER is
 * at most 2 + 67 bytes and the SEQUENCE needs a two-byte length at most.
 */
#define DER_SIG_MAX (3 + 2 * (2 + 67))

static size_t der_int(uint8_t *o, const uint8_t *v, size_t n)
{
	while (n > 1 && v[0] == 0) { /* minimal: no leading zero bytes */
		v++;
		n--;
	}
	size_t pad = v[0] & 0x80 ? 1 : 0; /* keep the INTEGER positive */
	o[0] = 0x02;
	o[1] = (uint8_t)(n + pad);
	o[2] = 0;
	memcpy(o + 2 + pad, v, n);
	return 2 + pad + n;
}

static size_t der_rs(uint8_t *out, const uint8_t *rs, size_t n)
{
	uint8_t body[2 * (2 + 67)];
	size_t blen = der_int(body, rs, n);

	blen += der_int(body + blen, rs + n, n);
	size_t h = 0;
	out[h++] = 0x30;
	if (blen >= 0x80)
		out[h++] = 0x81;
	out[h++] = (uint8_t)blen;
	memcpy(out + h, body, blen);
	return h + blen;
}

/*
 * RSASSA-PKCS1-v1_5 (RS256/384/512) with GnuTLS: the digest hashed here,
 * the DigestInfo written from its fixed DER prefix (RFC 8017 9.2, note
 * 1), and the signature checked against exactly that block by
 * gnutls_pubkey_verify_hash2() with GNUTLS_VERIFY_USE_TLS1_RSA, which
 * does the PKCS#1 v1.5 type 1 unpadding and comparison and nothing else.
 * gnutls_pubkey_verify_data2() does the same check but encodes the
 * DigestInfo with libtasn1 on every call (~2.5 us, a tenth of an RSA-2048
 * verification); the key's size and type were checked when it was
 * imported (jwk.c) and the algorithm is fixed by alg, which is what the
 * flag's skipped policy checks would have looked at.
 */
static int verify_pkcs1(int alg, const struct jwk_key *key,
			const uint8_t *data, size_t len,
			const gnutls_datum_t *sig)
{
	static const uint8_t p256[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
				       0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
				       0x01, 0x05, 0x00, 0x04, 0x20};
	static const uint8_t p384[] = {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60,
				       0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
				       0x02, 0x05, 0x00, 0x04, 0x30};
	static const uint8_t p512[] = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60,
				       0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
				       0x03, 0x05, 0x00, 0x04, 0x40};
	uint8_t di[sizeof(p512) + 64];
	const uint8_t *prefix;
	gnutls_digest_algorithm_t dig;
	size_t hlen;

	switch (alg) {
	case JWT_ALG_RS256: dig = GNUTLS_DIG_SHA256; prefix = p256; hlen = 32; break;
	case JWT_ALG_RS384: dig = GNUTLS_DIG_SHA384; prefix = p384; hlen = 48; break;
	case JWT_ALG_RS512: dig = GNUTLS_DIG_SHA512; prefix = p512; hlen = 64; break;
	default: return -1;
	}
	memcpy(di, prefix, sizeof(p256)); /* all three prefixes are 19 bytes */
	if (gnutls_hash_fast(dig, data, len, di + sizeof(p256)) < 0)
		return -1;
	gnutls_datum_t d = {di, (unsigned)(sizeof(p256) + hlen)};
	return gnutls_pubkey_verify_hash2(key->pub, GNUTLS_SIGN_UNKNOWN,
					  GNUTLS_VERIFY_USE_TLS1_RSA, &d,
					  sig) < 0
		       ? -1
		       : 0;
}

int jwt_verify_signature(int alg, const struct jwk_key *key,
			 const uint8_t *data, size_t len, const uint8_t *sig,
			 size_t sig_len, char *err, size_t errlen)
{
	gnutls_sign_algorithm_t sa;
	unsigned flags;
	size_t size = 0;

	if (jwt_alg_kty(alg) == 0 || key->kty != jwt_alg_kty(alg) ||
	    (key->alg && key->alg != alg) ||
	    sign_params(alg, key, &sa, &flags, &size) < 0) {
		snprintf(err, errlen, "the key's type does not match alg %s",
			 jwt_alg_name(alg));
		return JG_ERROR;
	}
	if (sig_len != size) {
		snprintf(err, errlen,
			 "signature has %zu bytes, alg %s needs %zu", sig_len,
			 jwt_alg_name(alg), size);
		return JG_ERROR;
	}
	gnutls_datum_t d = {(unsigned char *)data, (unsigned)len};
	gnutls_datum_t s = {(unsigned char *)sig, (unsigned)sig_len};
	uint8_t der[DER_SIG_MAX];
	if (key->kty == JWK_KTY_EC) {
		/* JOSE sends r || s; GnuTLS wants DER.  Length checked above. */
		s.data = der;
		s.size = (unsigned)der_rs(der, sig, size / 2);
	}
	if (alg >= JWT_ALG_RS256 && alg <= JWT_ALG_RS512
		    ? verify_pkcs1(alg, key, data, len, &s) < 0
		    : gnutls_pubkey_verify_data2(key->pub, sa, flags, &d, &s) <
			      0) {
		snprintf(err, errlen, "signature does not verify");
		return JG_ERROR;
	}
	return JG_OK;
}

int jwt_verify_hmac(int alg, const uint8_t *secret, size_t secret_len,
		    const uint8_t *data, size_t len, const uint8_t *sig,
		    size_t sig_len, char *err, size_t errlen)
{
	uint8_t mac[32];

	if (alg != JWT_ALG_HS256 || !secret || secret_len == 0) {
		snprintf(err, errlen, "HMAC is only accepted as HS256 with a "
				      "configured secret");
		return JG_ERROR;
	}
	if (sig_len != sizeof(mac)) {
		snprintf(err, errlen, "signature has %zu bytes, HS256 needs 32",
			 sig_len);
		return JG_ERROR;
	}
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, secret, secret_len, data, len,
			     mac) < 0) {
		snprintf(err, errlen, "HMAC failed");
		return JG_ERROR;
	}
	int diff = gnutls_memcmp(mac, sig, sizeof(mac));
	gnutls_memset(mac, 0, sizeof(mac));
	if (diff) {
		snprintf(err, errlen, "signature does not verify");
		return JG_ERROR;
	}
	return JG_OK;
}

/* Read a NumericDate claim; 0 absent, 1 found, -1 not a sane number. */
static int numeric_claim(struct json_object *payload, const char *key,
			 int64_t *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(payload, key, &v))
		return 0;
	if (json_object_is_type(v, json_type_int)) {
		*out = json_object_get_int64(v);
	} else if (json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);
		if (!isfinite(d) || d < -1e15 || d > 1e15)
			return -1;
		*out = (int64_t)floor(d);
	} else {
		return -1;
	}
	/* Keep arithmetic below far from overflow: year 33658 is plenty. */
	if (*out < -1000000000000LL || *out > 1000000000000LL)
		return -1;
	return 1;
}

static int check_times(const struct jwt_rules *r, struct json_object *p,
		       int64_t now, int64_t *exp_out, char *err, size_t errlen)
{
	int64_t exp, nbf, iat;
	int has_exp = numeric_claim(p, "exp", &exp);
	int has_nbf = numeric_claim(p, "nbf", &nbf);
	int has_iat = numeric_claim(p, "iat", &iat);

	if (has_exp < 0 || has_nbf < 0 || has_iat < 0) {
		snprintf(err, errlen, "token has a malformed exp, nbf or iat");
		return JG_ERROR;
	}
	if (!has_exp) {
		snprintf(err, errlen, "token has no exp claim");
		return JG_ERROR;
	}
	if (now > exp + r->skew_s) {
		snprintf(err, errlen, "token expired %lld s ago",
			 (long long)(now - exp));
		return JG_ERROR;
	}
	if (has_nbf && nbf > now + r->skew_s) {
		snprintf(err, errlen, "token is not valid yet (nbf is %lld s "
				      "ahead)", (long long)(nbf - now));
		return JG_ERROR;
	}
	if (has_iat && iat > now + r->skew_s) {
		snprintf(err, errlen, "token was issued in the future (iat is "
				      "%lld s ahead)", (long long)(iat - now));
		return JG_ERROR;
	}
	if (exp - now > r->max_lifetime_s + r->skew_s ||
	    (has_iat && exp - iat > r->max_lifetime_s + r->skew_s)) {
		snprintf(err, errlen, "token lifetime is longer than the %lld s "
				      "allowed", (long long)r->max_lifetime_s);
		return JG_ERROR;
	}
	*exp_out = exp;
	return JG_OK;
}

static int audience_ok(const struct jwt_rules *r, struct json_object *aud)
{
	for (size_t i = 0; i < r->naudiences; i++) {
		if (json_object_is_type(aud, json_type_string) &&
		    !strcmp(json_object_get_string(aud), r->audiences[i]))
			return 1;
		if (!json_object_is_type(aud, json_type_array))
			continue;
		size_t n = json_object_array_length(aud);
		for (size_t j = 0; j < n; j++) {
			struct json_object *a = json_object_array_get_idx(aud, j);
			if (json_object_is_type(a, json_type_string) &&
			    !strcmp(json_object_get_string(a), r->audiences[i]))
				return 1;
		}
	}
	return 0;
}

/* Find the key and check the signature with it. */
static int check_signature(const struct jwt_rules *r,
			   const struct jwk_set *keys, const struct jwt *t,
			   struct jwt_result *res, char *err, size_t errlen)
{
	const uint8_t *data = (const uint8_t *)t->signed_part;

	if (jwt_alg_is_hmac(t->alg))
		return jwt_verify_hmac(t->alg, r->hmac_secret, r->hmac_len,
				       data, t->signed_len, t->sig,
				       t->sig_len, err, errlen);
	if (!keys) {
		snprintf(err, errlen,
			 "the issuer's signing keys are not loaded (yet)");
		res->unknown_kid = 1;
		return JG_ERROR;
	}
	if (t->kid) {
		const struct jwk_key *k = jwk_set_find(keys, t->kid);
		if (!k) {
			snprintf(err, errlen, "token is signed by an unknown "
					      "key (kid not in the issuer's "
					      "key set)");
			res->unknown_kid = 1;
			return JG_ERROR;
		}
		return jwt_verify_signature(t->alg, k, data, t->signed_len,
					    t->sig, t->sig_len, err, errlen);
	}
	/* No kid: try the few keys that could have made it. */
	int tries = 0;
	for (size_t i = 0; i < keys->n && tries < MAX_KEY_TRIES; i++) {
		const struct jwk_key *k = &keys->keys[i];
		if (k->kty != jwt_alg_kty(t->alg) || (k->alg && k->alg != t->alg))
			continue;
		tries++;
		if (jwt_verify_signature(t->alg, k, data, t->signed_len, t->sig,
					 t->sig_len, err, errlen) == JG_OK)
			return JG_OK;
	}
	if (!tries) {
		snprintf(err, errlen, "the issuer has no key for alg %s",
			 jwt_alg_name(t->alg));
		res->unknown_kid = 1;
	} else {
		snprintf(err, errlen, "signature does not verify");
	}
	return JG_ERROR;
}

int jwt_verify(const struct jwt_rules *r, const struct jwk_set *keys,
	       const char *tok, size_t len, int64_t now, struct jwt *t,
	       struct jwt_result *res, char *err, size_t errlen)
{
	memset(res, 0, sizeof(*res));
	int rc = jwt_parse(tok, len, t, err, errlen);
	if (rc != JG_OK)
		return rc;
	if (t->alg == JWT_ALG_NONE) {
		snprintf(err, errlen, "unsigned token (alg none) refused");
		goto refuse;
	}
	if (t->alg == JWT_ALG_UNKNOWN) {
		snprintf(err, errlen, "token alg is not supported");
		goto refuse;
	}
	/* The issuer is read before the signature only to tell whose token
	 * this is; nothing else trusts it until the signature checks out. */
	struct json_object *v;
	if (!json_object_object_get_ex(t->payload, "iss", &v) ||
	    !json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "token has no iss claim");
		jwt_clear(t);
		return JG_DECLINED;
	}
	if (strcmp(json_object_get_string(v), r->issuer)) {
		snprintf(err, errlen, "token iss is not this issuer");
		jwt_clear(t);
		return JG_DECLINED;
	}
	if (jwt_alg_is_hmac(t->alg)) {
		if (!r->hmac_secret) {
			snprintf(err, errlen,
				 "HMAC-signed token refused: no shared secret "
				 "is configured for this issuer");
			goto refuse;
		}
		if (t->alg != JWT_ALG_HS256) {
			snprintf(err, errlen, "only HS256 is accepted with a "
					      "shared secret");
			goto refuse;
		}
	} else if (!(r->algs & JWT_ALG_BIT(t->alg))) {
		snprintf(err, errlen, "alg %s is not allowed for this issuer",
			 jwt_alg_name(t->alg));
		goto refuse;
	}
	if (t->sig_len == 0) {
		snprintf(err, errlen, "token has no signature");
		goto refuse;
	}
	if (check_signature(r, keys, t, res, err, errlen) != JG_OK)
		goto refuse;
	if (check_times(r, t->payload, now, &res->exp, err, errlen) != JG_OK)
		goto refuse;
	if (!json_object_object_get_ex(t->payload, "aud", &v)) {
		snprintf(err, errlen, "token has no aud claim");
		goto refuse;
	}
	if (!audience_ok(r, v)) {
		snprintf(err, errlen, "token aud is not an accepted audience");
		goto refuse;
	}
	return JG_OK;
refuse:
	jwt_clear(t);
	return JG_ERROR;
}
