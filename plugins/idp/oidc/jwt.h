/*
 * JSON Web Tokens (RFC 7519) signed with JWS compact serialisation
 * (RFC 7515): parsing, signature checks with GnuTLS, and claim checks.
 */
#ifndef OIDC_JWT_H
#define OIDC_JWT_H

#include <stddef.h>
#include <stdint.h>

#include "jwk.h"

struct json_object;

enum jwt_alg {
	JWT_ALG_UNKNOWN = 0,
	JWT_ALG_NONE,
	JWT_ALG_HS256,
	JWT_ALG_HS384,
	JWT_ALG_HS512,
	JWT_ALG_RS256,
	JWT_ALG_RS384,
	JWT_ALG_RS512,
	JWT_ALG_PS256,
	JWT_ALG_PS384,
	JWT_ALG_PS512,
	JWT_ALG_ES256,
	JWT_ALG_ES384,
	JWT_ALG_ES512,
	JWT_ALG_EDDSA,
	JWT_ALG_COUNT
};

#define JWT_ALG_BIT(a) (1u << (a))
/* What an instance accepts when its configuration does not say. */
#define JWT_ALGS_ASYMMETRIC                                                   \
	(JWT_ALG_BIT(JWT_ALG_RS256) | JWT_ALG_BIT(JWT_ALG_RS384) |            \
	 JWT_ALG_BIT(JWT_ALG_RS512) | JWT_ALG_BIT(JWT_ALG_PS256) |            \
	 JWT_ALG_BIT(JWT_ALG_PS384) | JWT_ALG_BIT(JWT_ALG_PS512) |            \
	 JWT_ALG_BIT(JWT_ALG_ES256) | JWT_ALG_BIT(JWT_ALG_ES384) |            \
	 JWT_ALG_BIT(JWT_ALG_ES512) | JWT_ALG_BIT(JWT_ALG_EDDSA))

/* Largest token we look at; real ones are a few hundred bytes. */
#define JWT_MAX_TOKEN 16384
/* Deepest JSON nesting accepted in a header or payload. */
#define JWT_MAX_DEPTH 16
/* Largest signature: RSA with an 8192-bit modulus. */
#define JWT_MAX_SIG 1024

int jwt_alg_from_name(const char *name);
const char *jwt_alg_name(int alg);
int jwt_alg_is_hmac(int alg);
/* The JWK key type (enum jwk_kty) an asymmetric alg needs, else 0. */
int jwt_alg_kty(int alg);

/* A parsed, not yet trusted, token.  Clear it on the thread that filled
 * it (the header may be shared with that thread's parse cache). */
struct jwt {
	struct json_object *header;
	struct json_object *payload;
	int alg;                 /* enum jwt_alg */
	const char *kid;         /* in header, or NULL */
	const char *signed_part; /* header.payload, inside the token */
	size_t signed_len;
	size_t sig_len;
	uint8_t sig[JWT_MAX_SIG]; /* decoded signature */
};

/*
 * Split and decode a compact JWS.  JG_DECLINED when the credential has no
 * '.' at all (so it is not a JWT; maybe a grant credential), JG_ERROR for
 * a malformed token, JG_OK with *t filled (free with jwt_clear).  Reasons
 * never quote the token.
 */
int jwt_parse(const char *tok, size_t len, struct jwt *t, char *err,
	      size_t errlen);
void jwt_clear(struct jwt *t);

/*
 * The signature-check step alone: does sig verify over data with key under
 * alg?  Checks that the key fits the algorithm and the signature has the
 * exact length the algorithm gives.  JG_OK or JG_ERROR with a reason.
 */
int jwt_verify_signature(int alg, const struct jwk_key *key,
			 const uint8_t *data, size_t len, const uint8_t *sig,
			 size_t sig_len, char *err, size_t errlen);
/* The same for HS256 with a configured secret, in constant time. */
int jwt_verify_hmac(int alg, const uint8_t *secret, size_t secret_len,
		    const uint8_t *data, size_t len, const uint8_t *sig,
		    size_t sig_len, char *err, size_t errlen);

/* What a verifier requires of a token. */
struct jwt_rules {
	const char *issuer;              /* exact "iss" */
	const char *const *audiences;    /* "aud" must hold one of them */
	size_t naudiences;
	uint32_t algs;                   /* JWT_ALG_BIT set */
	const uint8_t *hmac_secret;      /* enables HS256 when not NULL */
	size_t hmac_len;
	int64_t skew_s;                  /* clock skew allowed, seconds */
	int64_t max_lifetime_s;          /* refuse exp further than this */
};

/* Outcome details for the caller. */
struct jwt_result {
	int unknown_kid;  /* set when the kid is not in the key set */
	int64_t exp;      /* the token's exp, when accepted */
};

/*
 * Verify a token completely: shape, header, issuer, algorithm, key,
 * signature, audience and times against now (unix seconds).
 *   JG_OK        t holds the trusted token (jwt_clear it)
 *   JG_DECLINED  not a JWT, or not this issuer's: let another try
 *   JG_ERROR     this issuer's token but refused; err says why
 * keys may be NULL (none loaded yet).
 */
int jwt_verify(const struct jwt_rules *r, const struct jwk_set *keys,
	       const char *tok, size_t len, int64_t now, struct jwt *t,
	       struct jwt_result *res, char *err, size_t errlen);

/* Parse len bytes as one JSON value with at most depth levels; strict
 * (no trailing bytes, valid UTF-8).  NULL on failure. */
struct json_object *jwt_json_parse(const char *buf, size_t len, int depth);

/* Find a claim by dotted path ("realm_access.roles"), or NULL. */
struct json_object *jwt_claim_path(struct json_object *payload,
				   const char *path);

#endif /* OIDC_JWT_H */
