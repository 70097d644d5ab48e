/*
 * JSON Web Keys (RFC 7517, 7518, 8037) turned into GnuTLS public keys.
 *
 * A jwk_set is immutable once built and reference counted, so the main
 * loop can swap in a fresh set while worker threads still verify with the
 * old one (see oidc.c).
 */
#ifndef OIDC_JWK_H
#define OIDC_JWK_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <gnutls/abstract.h>

struct json_object;

/* Key types we verify with.  "oct" (shared secret) keys are never taken
 * from a key set: an HMAC secret only ever comes from the configuration. */
enum jwk_kty { JWK_KTY_RSA = 1, JWK_KTY_EC = 2, JWK_KTY_OKP = 3 };

/* Limits on what an issuer may send us. */
#define JWK_SET_MAX_BYTES (1024 * 1024)
#define JWK_SET_MAX_KEYS 64
#define JWK_KID_MAX 256
#define JWK_RSA_MIN_BITS 2048
#define JWK_RSA_MAX_BITS 8192

struct jwk_key {
	char *kid;            /* may be NULL: the key has no "kid" */
	int kty;              /* enum jwk_kty */
	int curve;            /* gnutls_ecc_curve_t for EC and OKP, else 0 */
	int alg;              /* enum jwt_alg from "alg", 0 if absent */
	unsigned bits;        /* RSA modulus size */
	gnutls_pubkey_t pub;  /* the key itself */
};

struct jwk_set {
	atomic_uint refs;
	int64_t loaded_ms;    /* monotonic time it was built, for ageing */
	size_t n;
	struct jwk_key keys[]; /* n of them */
};

/*
 * Build one key from a JWK object.  JG_OK: *k is filled (free it with
 * jwk_key_clear).  JG_DECLINED: a well-formed key we do not use (another
 * type, "use": "enc"); err says why.  JG_ERROR: a malformed key.
 */
int jwk_key_parse(struct json_object *o, struct jwk_key *k, char *err,
		  size_t errlen);
void jwk_key_clear(struct jwk_key *k);

/*
 * Parse a JWKS document {"keys": [...]}.  Keys we cannot use are skipped;
 * a malformed document, or a malformed key, fails the whole set so a
 * half-broken publication never replaces a good cached one.
 */
int jwk_set_parse(const char *json, size_t len, struct jwk_set **out,
		  char *err, size_t errlen);
struct jwk_set *jwk_set_ref(struct jwk_set *s);
void jwk_set_unref(struct jwk_set *s);

/* The key with this kid, or NULL. */
const struct jwk_key *jwk_set_find(const struct jwk_set *s, const char *kid);

#endif /* OIDC_JWK_H */
