/*
 * JWK parsing.  Every member is checked for type and exact length before
 * GnuTLS sees it: coordinates must be the curve's size, an RSA modulus
 * between 2048 and 8192 bits, and nothing is read from "d" or "k".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <jitgate/jitgate.h>

#include "b64url.h"
#include "jwk.h"
#include "jwt.h"

#define MAX_B64_FIELD 2048 /* 8192-bit modulus is 1366 characters */

static const char *str_member(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Decode a base64url member into buf; -1 if absent or malformed. */
static long b64_member(struct json_object *o, const char *key, uint8_t *buf,
		       size_t max)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return -1;
	size_t n = (size_t)json_object_get_string_len(v);
	if (n == 0 || n > MAX_B64_FIELD)
		return -1;
	return b64url_decode(json_object_get_string(v), n, buf, max);
}

static int parse_rsa(struct json_object *o, struct jwk_key *k, char *err,
		     size_t errlen)
{
	uint8_t n[1100], e[16];
	long nlen = b64_member(o, "n", n, sizeof(n));
	long elen = b64_member(o, "e", e, sizeof(e));

	if (nlen <= 0 || elen <= 0) {
		snprintf(err, errlen, "RSA key needs base64url n and e");
		return JG_ERROR;
	}
	if (n[0] == 0 || e[0] == 0) {
		/* RFC 7518 6.3.1: minimal octets, no leading zero. */
		snprintf(err, errlen, "RSA key n or e has a leading zero");
		return JG_ERROR;
	}
	unsigned bits = (unsigned)nlen * 8;
	for (uint8_t top = n[0]; !(top & 0x80); top <<= 1)
		bits--;
	if (bits < JWK_RSA_MIN_BITS || bits > JWK_RSA_MAX_BITS) {
		snprintf(err, errlen, "RSA key of %u bits (need %d to %d)",
			 bits, JWK_RSA_MIN_BITS, JWK_RSA_MAX_BITS);
		return JG_ERROR;
	}
	/* An even or tiny exponent is no RSA key anyone should publish. */
	if (elen > 8 || !(e[elen - 1] & 1) || (elen == 1 && e[0] < 3)) {
		snprintf(err, errlen, "RSA key has an unusable exponent");
		return JG_ERROR;
	}
	gnutls_datum_t dn = {n, (unsigned)nlen}, de = {e, (unsigned)elen};
	if (gnutls_pubkey_init(&k->pub) < 0)
		return JG_ERROR;
	if (gnutls_pubkey_import_rsa_raw(k->pub, &dn, &de) < 0) {
		snprintf(err, errlen, "RSA key rejected by GnuTLS");
		return JG_ERROR;
	}
	k->kty = JWK_KTY_RSA;
	k->bits = bits;
	return JG_OK;
}

static int curve_from_name(const char *crv, int kty, size_t *coord)
{
	if (!crv)
		return 0;
	if (kty == JWK_KTY_EC) {
		if (!strcmp(crv, "P-256"))
			return *coord = 32, GNUTLS_ECC_CURVE_SECP256R1;
		if (!strcmp(crv, "P-384"))
			return *coord = 48, GNUTLS_ECC_CURVE_SECP384R1;
		if (!strcmp(crv, "P-521"))
			return *coord = 66, GNUTLS_ECC_CURVE_SECP521R1;
	} else if (!strcmp(crv, "Ed25519")) {
		return *coord = 32, GNUTLS_ECC_CURVE_ED25519;
	}
	return 0;
}

static int parse_curve_key(struct json_object *o, int kty, struct jwk_key *k,
			   char *err, size_t errlen)
{
	size_t coord = 0;
	const char *crv = str_member(o, "crv");
	int curve = curve_from_name(crv, kty, &coord);
	uint8_t x[66], y[66];

	if (!crv) {
		snprintf(err, errlen, "curve key has no crv");
		return JG_ERROR;
	}
	if (!curve) {
		snprintf(err, errlen, "%s key on an unsupported curve",
			 kty == JWK_KTY_EC ? "EC" : "OKP");
		return JG_DECLINED;
	}
	long xlen = b64_member(o, "x", x, sizeof(x));
	long ylen = kty == JWK_KTY_EC ? b64_member(o, "y", y, sizeof(y)) : 0;
	/* RFC 7518 6.2.1.2: coordinates are exactly the curve's size. */
	if (xlen != (long)coord || (kty == JWK_KTY_EC && ylen != (long)coord)) {
		snprintf(err, errlen, "%s key coordinates have the wrong size",
			 kty == JWK_KTY_EC ? "EC" : "OKP");
		return JG_ERROR;
	}
	gnutls_datum_t dx = {x, (unsigned)xlen}, dy = {y, (unsigned)ylen};
	if (gnutls_pubkey_init(&k->pub) < 0)
		return JG_ERROR;
	if (gnutls_pubkey_import_ecc_raw(k->pub, curve, &dx,
					 kty == JWK_KTY_EC ? &dy : NULL) < 0) {
		snprintf(err, errlen, "curve key rejected by GnuTLS");
		return JG_ERROR;
	}
	k->kty = kty;
	k->curve = curve;
	return JG_OK;
}

int jwk_key_parse(struct json_object *o, struct jwk_key *k, char *err,
		  size_t errlen)
{
	memset(k, 0, sizeof(*k));
	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "key is not a JSON object");
		return JG_ERROR;
	}
	const char *kty = str_member(o, "kty");
	if (!kty) {
		snprintf(err, errlen, "key has no kty");
		return JG_ERROR;
	}
	const char *use = str_member(o, "use");
	if (use && strcmp(use, "sig")) {
		snprintf(err, errlen, "key is not for signatures");
		return JG_DECLINED;
	}
	struct json_object *v;
	if (json_object_object_get_ex(o, "kid", &v)) {
		size_t n = (size_t)json_object_get_string_len(v);
		if (!json_object_is_type(v, json_type_string) || n == 0 ||
		    n > JWK_KID_MAX ||
		    memchr(json_object_get_string(v), 0, n)) {
			snprintf(err, errlen, "key has a malformed kid");
			return JG_ERROR;
		}
	}
	if (json_object_object_get_ex(o, "alg", &v)) {
		const char *a = json_object_get_string(v);
		if (!json_object_is_type(v, json_type_string)) {
			snprintf(err, errlen, "key has a malformed alg");
			return JG_ERROR;
		}
		k->alg = jwt_alg_from_name(a);
		if (k->alg == JWT_ALG_UNKNOWN || jwt_alg_kty(k->alg) == 0) {
			snprintf(err, errlen, "key is for an unsupported alg");
			return JG_DECLINED;
		}
	}

	int rc;
	if (!strcmp(kty, "RSA"))
		rc = parse_rsa(o, k, err, errlen);
	else if (!strcmp(kty, "EC"))
		rc = parse_curve_key(o, JWK_KTY_EC, k, err, errlen);
	else if (!strcmp(kty, "OKP"))
		rc = parse_curve_key(o, JWK_KTY_OKP, k, err, errlen);
	else {
		snprintf(err, errlen, "key type is not used for verification");
		rc = JG_DECLINED;
	}
	if (rc == JG_OK && k->alg && jwt_alg_kty(k->alg) != k->kty) {
		snprintf(err, errlen, "key alg does not fit its kty");
		rc = JG_ERROR;
	}
	if (rc == JG_OK && json_object_object_get_ex(o, "kid", &v)) {
		k->kid = strdup(json_object_get_string(v));
		if (!k->kid)
			rc = JG_ERROR;
	}
	if (rc != JG_OK)
		jwk_key_clear(k);
	return rc;
}

void jwk_key_clear(struct jwk_key *k)
{
	if (k->pub)
		gnutls_pubkey_deinit(k->pub);
	free(k->kid);
	memset(k, 0, sizeof(*k));
}

static void set_free(struct jwk_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		jwk_key_clear(&s->keys[i]);
	free(s);
}

int jwk_set_parse(const char *json, size_t len, struct jwk_set **out,
		  char *err, size_t errlen)
{
	*out = NULL;
	if (len == 0 || len > JWK_SET_MAX_BYTES) {
		snprintf(err, errlen, "key set of %zu bytes (limit %d)", len,
			 JWK_SET_MAX_BYTES);
		return JG_ERROR;
	}
	struct json_object *root = jwt_json_parse(json, len, 8), *keys;
	if (!root || !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "keys", &keys) ||
	    !json_object_is_type(keys, json_type_array)) {
		snprintf(err, errlen, "key set is not a JSON {\"keys\": [...]}");
		json_object_put(root);
		return JG_ERROR;
	}
	size_t n = json_object_array_length(keys);
	if (n > JWK_SET_MAX_KEYS) {
		snprintf(err, errlen, "key set has %zu keys (limit %d)", n,
			 JWK_SET_MAX_KEYS);
		json_object_put(root);
		return JG_ERROR;
	}
	struct jwk_set *s = calloc(1, sizeof(*s) + n * sizeof(s->keys[0]));
	if (!s) {
		json_object_put(root);
		return JG_ERROR;
	}
	atomic_init(&s->refs, 1);
	char why[160];
	for (size_t i = 0; i < n; i++) {
		int rc = jwk_key_parse(json_object_array_get_idx(keys, i),
				       &s->keys[s->n], why, sizeof(why));
		if (rc == JG_DECLINED)
			continue;
		if (rc != JG_OK) {
			snprintf(err, errlen, "key %zu: %s", i, why);
			set_free(s);
			json_object_put(root);
			return JG_ERROR;
		}
		/* Two keys with one kid would make the lookup ambiguous. */
		const char *kid = s->keys[s->n].kid;
		if (kid && jwk_set_find(s, kid)) {
			snprintf(err, errlen, "key %zu: duplicate kid", i);
			s->n++;
			set_free(s);
			json_object_put(root);
			return JG_ERROR;
		}
		s->n++;
	}
	json_object_put(root);
	*out = s;
	return JG_OK;
}

struct jwk_set *jwk_set_ref(struct jwk_set *s)
{
	if (s)
		atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
	return s;
}

void jwk_set_unref(struct jwk_set *s)
{
	if (s && atomic_fetch_sub_explicit(&s->refs, 1,
					   memory_order_acq_rel) == 1)
		set_free(s);
}

const struct jwk_key *jwk_set_find(const struct jwk_set *s, const char *kid)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (s->keys[i].kid && !strcmp(s->keys[i].kid, kid))
			return &s->keys[i];
	return NULL;
}
