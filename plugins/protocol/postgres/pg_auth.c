/*
 * Upstream authentication.  SCRAM-SHA-256 (RFC 5802, RFC 7677) with
 * GnuTLS primitives: gnutls_pbkdf2 for the salted password, HMAC and
 * SHA-256 for the keys, gnutls_memcmp for the server signature.
 * Passwords are used as given (no SASLprep): PostgreSQL itself falls
 * back to the raw bytes when a password is not valid UTF-8 or prep fails,
 * and gateway-generated upstream passwords are ASCII.
 */
#include "pg_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#define SCRAM_KEY 32
#define SCRAM_MIN_ITER 1024
#define SCRAM_MAX_ITER 10000000

static void wipe(void *p, size_t n)
{
	volatile uint8_t *v = p;

	while (n--)
		*v++ = 0;
}

static int hexdigest_md5(const void *in, size_t n, char out[33])
{
	uint8_t d[16];
	int i;

	if (gnutls_hash_fast(GNUTLS_DIG_MD5, in, n, d) < 0)
		return -1;
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	return 0;
}

int pg_auth_md5(const char *user, const char *pass, size_t passlen,
		const uint8_t salt[4], char out[36])
{
	size_t ulen = strlen(user);
	char inner[33 + 4];
	uint8_t *buf;
	int rc;

	if (passlen > 65536 || ulen > 65536)
		return -1;
	buf = malloc(passlen + ulen + 1);
	if (!buf)
		return -1;
	memcpy(buf, pass, passlen);
	memcpy(buf + passlen, user, ulen);
	rc = hexdigest_md5(buf, passlen + ulen, inner);
	wipe(buf, passlen + ulen);
	free(buf);
	if (rc < 0)
		return -1;
	memcpy(inner + 32, salt, 4);
	memcpy(out, "md5", 3);
	rc = hexdigest_md5(inner, 36, out + 3);
	wipe(inner, sizeof(inner));
	return rc;
}

/* Base64 through GnuTLS; returns a malloc'd NUL-terminated string. */
static char *b64_encode(const uint8_t *p, size_t n)
{
	gnutls_datum_t in = {(unsigned char *)p, (unsigned)n}, out;
	char *s;

	if (gnutls_base64_encode2(&in, &out) < 0)
		return NULL;
	s = strndup((const char *)out.data, out.size);
	gnutls_free(out.data);
	return s;
}

static int b64_decode(const char *s, size_t n, uint8_t *out, size_t cap,
		      size_t *outlen)
{
	gnutls_datum_t in = {(unsigned char *)s, (unsigned)n}, dec;

	if (n == 0 || gnutls_base64_decode2(&in, &dec) < 0)
		return -1;
	if (dec.size > cap) {
		gnutls_free(dec.data);
		return -1;
	}
	memcpy(out, dec.data, dec.size);
	*outlen = dec.size;
	gnutls_free(dec.data);
	return 0;
}

void pg_scram_free(struct pg_scram *sc)
{
	free(sc->client_first_bare);
	wipe(sc, sizeof(*sc));
}

int pg_scram_first(struct pg_scram *sc, const char *user, const char *nonce,
		   char **client_first)
{
	uint8_t rnd[18];
	char *r = NULL;

	if (nonce) {
		snprintf(sc->nonce, sizeof(sc->nonce), "%s", nonce);
	} else {
		if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) < 0)
			return -1;
		r = b64_encode(rnd, sizeof(rnd));
		if (!r)
			return -1;
		snprintf(sc->nonce, sizeof(sc->nonce), "%s", r);
		free(r);
	}
	free(sc->client_first_bare);
	sc->client_first_bare = NULL;
	/* The user name in SCRAM is ignored by PostgreSQL (it uses the
	 * startup packet's); the test vectors need it. */
	if (asprintf(&sc->client_first_bare, "n=%s,r=%s", user, sc->nonce) < 0) {
		sc->client_first_bare = NULL;
		return -1;
	}
	if (asprintf(client_first, "n,,%s", sc->client_first_bare) < 0)
		return -1;
	sc->stage = 1;
	return 0;
}

/* Find "k=value" among comma-separated attributes; *vlen gets length. */
static const char *scram_attr(const char *s, size_t len, char k, size_t *vlen)
{
	size_t i = 0, j;

	while (i + 1 < len) {
		j = i;
		while (j < len && s[j] != ',')
			j++;
		if (s[i] == k && s[i + 1] == '=') {
			*vlen = j - i - 2;
			return s + i + 2;
		}
		i = j + 1;
	}
	return NULL;
}

static int hmac(const uint8_t *key, size_t klen, const void *msg, size_t n,
		uint8_t out[SCRAM_KEY])
{
	return gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, klen, msg, n, out) < 0
		       ? -1
		       : 0;
}

int pg_scram_final(struct pg_scram *sc, const char *pass, size_t passlen,
		   const char *server_first, size_t len, char **client_final,
		   const char **why)
{
	const char *r, *s, *i;
	size_t rlen, slen, ilen, saltlen, k;
	uint8_t salt[128], salted[SCRAM_KEY], ckey[SCRAM_KEY];
	uint8_t skey[SCRAM_KEY], stored[SCRAM_KEY], csig[SCRAM_KEY];
	char itbuf[16], *end, *authmsg = NULL, *without = NULL, *proof = NULL;
	long iter;
	gnutls_datum_t pw = {(unsigned char *)pass, (unsigned)passlen};
	gnutls_datum_t sd;
	int rc = -1;

	*why = "malformed SCRAM server-first message";
	if (sc->stage != 1 || memchr(server_first, 0, len))
		return -1;
	r = scram_attr(server_first, len, 'r', &rlen);
	s = scram_attr(server_first, len, 's', &slen);
	i = scram_attr(server_first, len, 'i', &ilen);
	if (!r || !s || !i || ilen == 0 || ilen >= sizeof(itbuf))
		return -1;
	if (rlen <= strlen(sc->nonce) ||
	    memcmp(r, sc->nonce, strlen(sc->nonce)) != 0) {
		*why = "SCRAM server nonce does not extend ours";
		return -1;
	}
	memcpy(itbuf, i, ilen);
	itbuf[ilen] = 0;
	iter = strtol(itbuf, &end, 10);
	if (*end || iter < SCRAM_MIN_ITER || iter > SCRAM_MAX_ITER) {
		*why = "SCRAM iteration count out of range";
		return -1;
	}
	if (b64_decode(s, slen, salt, sizeof(salt), &saltlen) < 0 ||
	    saltlen == 0)
		return -1;
	sd.data = salt;
	sd.size = (unsigned)saltlen;
	*why = "SCRAM computation failed";
	if (gnutls_pbkdf2(GNUTLS_MAC_SHA256, &pw, &sd, (unsigned)iter, salted,
			  SCRAM_KEY) < 0)
		goto out;
	if (asprintf(&without, "c=biws,r=%.*s", (int)rlen, r) < 0) {
		without = NULL;
		goto out;
	}
	if (asprintf(&authmsg, "%s,%.*s,%s", sc->client_first_bare, (int)len,
		     server_first, without) < 0) {
		authmsg = NULL;
		goto out;
	}
	if (hmac(salted, SCRAM_KEY, "Client Key", 10, ckey) < 0 ||
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, ckey, SCRAM_KEY, stored) < 0 ||
	    hmac(stored, SCRAM_KEY, authmsg, strlen(authmsg), csig) < 0 ||
	    hmac(salted, SCRAM_KEY, "Server Key", 10, skey) < 0 ||
	    hmac(skey, SCRAM_KEY, authmsg, strlen(authmsg),
		 sc->server_signature) < 0)
		goto out;
	for (k = 0; k < SCRAM_KEY; k++)
		ckey[k] ^= csig[k];
	proof = b64_encode(ckey, SCRAM_KEY);
	if (!proof || asprintf(client_final, "%s,p=%s", without, proof) < 0)
		goto out;
	sc->stage = 2;
	rc = 0;
out:
	wipe(salted, sizeof(salted));
	wipe(ckey, sizeof(ckey));
	wipe(skey, sizeof(skey));
	wipe(stored, sizeof(stored));
	free(proof);
	free(without);
	free(authmsg);
	return rc;
}

int pg_scram_verify(struct pg_scram *sc, const char *server_final,
		    size_t len, const char **why)
{
	const char *v;
	size_t vlen, n;
	uint8_t sig[64];

	*why = "SCRAM server signature missing";
	if (sc->stage != 2)
		return -1;
	if (scram_attr(server_final, len, 'e', &vlen)) {
		*why = "SCRAM server reported an error";
		return -1;
	}
	v = scram_attr(server_final, len, 'v', &vlen);
	if (!v || b64_decode(v, vlen, sig, sizeof(sig), &n) < 0 ||
	    n != SCRAM_KEY)
		return -1;
	if (gnutls_memcmp(sig, sc->server_signature, SCRAM_KEY) != 0) {
		*why = "SCRAM server signature does not match: not the "
		       "configured server, or the wrong password";
		return -1;
	}
	sc->stage = 3;
	return 0;
}

/* PasswordMessage 'p' with a NUL-terminated payload. */
static void password_msg(struct pg_buf *reply, const char *p, size_t n)
{
	size_t off = pg_msg_begin(reply, 'p');

	pg_buf_add(reply, p, n);
	pg_buf_u8(reply, 0);
	pg_msg_end(reply, off);
}

static int sasl_start(struct pg_upauth *a, struct pg_reader *r,
		      struct pg_buf *reply, const char **why)
{
	const char *mech;
	int found = 0;
	char *first = NULL;
	size_t off;

	while ((mech = pg_get_str(r, NULL)) && *mech)
		if (strcmp(mech, "SCRAM-SHA-256") == 0)
			found = 1;
	if (!found) {
		*why = "server offers no SASL mechanism we support";
		return PG_AUTH_FAIL;
	}
	if (pg_scram_first(&a->scram, "", NULL, &first) < 0) {
		*why = "SCRAM setup failed";
		return PG_AUTH_FAIL;
	}
	a->method = "scram-sha-256";
	off = pg_msg_begin(reply, 'p');
	pg_buf_str(reply, "SCRAM-SHA-256");
	pg_buf_i32(reply, (int32_t)strlen(first));
	pg_buf_add(reply, first, strlen(first));
	pg_msg_end(reply, off);
	free(first);
	return PG_AUTH_CONTINUE;
}

int pg_auth_step(struct pg_upauth *a, const uint8_t *body, size_t len,
		 struct pg_buf *reply, const char **why)
{
	struct pg_reader r;
	int32_t code;
	const uint8_t *salt;
	char md5[36], *final = NULL;
	size_t off, rest;

	pg_reader_init(&r, body, len);
	code = pg_get_i32(&r);
	if (r.bad) {
		*why = "short authentication request";
		return PG_AUTH_FAIL;
	}
	switch (code) {
	case PG_AUTH_REQ_OK:
		/* A server that skips SCRAM's final step could be anyone. */
		if (a->scram.stage == 1 || a->scram.stage == 2) {
			*why = "server skipped SCRAM verification";
			return PG_AUTH_FAIL;
		}
		return PG_AUTH_DONE;
	case PG_AUTH_REQ_CLEARTEXT:
		a->method = "password";
		password_msg(reply, a->pass, a->passlen);
		return PG_AUTH_CONTINUE;
	case PG_AUTH_REQ_MD5:
		salt = pg_get_bytes(&r, 4);
		if (!salt || pg_auth_md5(a->user, a->pass, a->passlen, salt,
					 md5) < 0) {
			*why = "bad md5 request";
			return PG_AUTH_FAIL;
		}
		a->method = "md5";
		password_msg(reply, md5, 35);
		wipe(md5, sizeof(md5));
		return PG_AUTH_CONTINUE;
	case PG_AUTH_REQ_SASL:
		if (a->scram.stage != 0) {
			*why = "second SASL start";
			return PG_AUTH_FAIL;
		}
		return sasl_start(a, &r, reply, why);
	case PG_AUTH_REQ_SASL_CONTINUE:
		rest = pg_remaining(&r);
		if (pg_scram_final(&a->scram, a->pass, a->passlen,
				   (const char *)pg_get_bytes(&r, rest), rest,
				   &final, why) < 0)
			return PG_AUTH_FAIL;
		off = pg_msg_begin(reply, 'p');
		pg_buf_add(reply, final, strlen(final));
		pg_msg_end(reply, off);
		free(final);
		return PG_AUTH_CONTINUE;
	case PG_AUTH_REQ_SASL_FINAL:
		rest = pg_remaining(&r);
		if (pg_scram_verify(&a->scram,
				    (const char *)pg_get_bytes(&r, rest), rest,
				    why) < 0)
			return PG_AUTH_FAIL;
		return PG_AUTH_CONTINUE;
	default:
		*why = "server asks for an authentication method we do not "
		       "support (Kerberos, GSSAPI, SSPI or certificate only)";
		return PG_AUTH_FAIL;
	}
}

void pg_auth_free(struct pg_upauth *a)
{
	pg_scram_free(&a->scram);
}
