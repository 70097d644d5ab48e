/*
 * libFuzzer harness for the two documents the oidc plugin fetches from
 * its issuer (plugins/idp/oidc): the OpenID discovery document
 * (oidc_discovery_parse, what the discovery fetch callback runs) and the
 * JWKS it points at (jwk_set_parse, what the key set fetch runs; a key
 * set that parses is also searched by kid, as a token would).
 * fuzz_jwt covers tokens; this one covers what the issuer's server, or
 * whoever sits in front of it, can send.
 *
 * Input: byte 0 even: the rest is a discovery document for the issuer
 * "https://issuer.example"; odd: the rest is a JWKS.
 *
 *   ./configure --enable-fuzz CC=clang && make tests/fuzz/fuzz_oidc_docs
 *   tests/fuzz/fuzz_oidc_docs tests/fuzz/corpus/oidc_docs
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jitgate/jitgate.h>

#include "jwk.h"
#include "oidc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *doc = (const char *)data + 1;
	char why[256], *uri = NULL;
	struct jwk_set *s = NULL;

	if (size == 0)
		return 0;
	if ((data[0] & 1) == 0) {
		if (oidc_discovery_parse(doc, size - 1, "https://issuer.example",
					 &uri, why, sizeof(why)) == 0) {
			/* Accepted: an http(s) URL of bounded length. */
			if (strncmp(uri, "http", 4) || strlen(uri) > 2048)
				__builtin_trap();
			free(uri);
		} else if (uri != NULL || !why[0]) {
			__builtin_trap();
		}
		return 0;
	}
	if (jwk_set_parse(doc, size - 1, &s, why, sizeof(why)) == JG_OK) {
		for (size_t i = 0; i < s->n; i++)
			if (s->keys[i].kid &&
			    jwk_set_find(s, s->keys[i].kid) == NULL)
				__builtin_trap();
		(void)jwk_set_find(s, "rsa-1");
		jwk_set_unref(s);
	}
	return 0;
}
