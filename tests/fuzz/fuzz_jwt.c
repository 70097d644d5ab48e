/*
 * libFuzzer harness for everything a token or a key set publisher can
 * make the oidc plugin parse: the compact JWS (jwt_verify, with a fixed
 * key set so kid lookup and the signature step run too) and, for inputs
 * that look like JSON, a JWKS (jwk_set_parse).  The corpus in
 * tests/fuzz/corpus/jwt/ is replayed by tests/unit/test_jwt_corpus.
 *
 *   ./configure --enable-fuzz CC=clang && make tests/fuzz/fuzz_jwt
 *   tests/fuzz/fuzz_jwt tests/fuzz/corpus/jwt
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jitgate/jitgate.h>

#include "jwk.h"
#include "jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Public keys only, generated once for the corpus's issuer. */
static const char fuzz_jwks[] =
	"{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"rsa-1\",\"n\":\"s-MlET7xHp_IwV7WvtSdgaW"
	"L2gGmZktX9KDMxyumQY2clIPE2EY5DuMQgBauqfU0Z1boStsTYBWo6FPO7WTfjok"
	"4apMEPY0AxCrRZu6EODjNZwgyuezXOZIchEMo5HZjPDUqwQQu0qkfQ9pBcjsJ9dU"
	"vaiH-W-3F-cKNyBIzCKCXbinVcodNz5lwIk99mWGK-W1IkTge1kY7NA83eKKUclT"
	"wj2qhq9sXIovjB3goREiBZdQ-14dWrn0pIPA9Mq4rljSxEcpxr2QKz1ikRuiMcUx"
	"jb7mxGOqWxlWoKeYdFUPpPVMUu-g0Ibi5fMbPQipisW7L4YqKcRz3MUf1CbO7kQ\""
	",\"e\":\"AQAB\"},{\"kty\":\"EC\",\"kid\":\"p256-1\",\"crv\":\"P-256\",\"x\":\"BffKu"
	"9pKjbyYz8ds85idCpvYOeeltdDLM90Xe9M4Ln0\",\"y\":\"9JPDWLcLTMjIr_DJfBY"
	"WgNSu-FetcWFMmg7Rr5SNWAU\"},{\"kty\":\"OKP\",\"kid\":\"ed-1\",\"crv\":\"Ed25"
	"519\",\"x\":\"bwo-EREZMRNR3wqHNw3gzcNkoXbfSCk990McwJfqoN8\"}]}"
;

static struct jwk_set *keys;
static const char *const audiences[] = {"jitgate"};
static const struct jwt_rules rules = {
	.issuer = "http://127.0.0.1:45123",
	.audiences = audiences,
	.naudiences = 1,
	.algs = JWT_ALGS_ASYMMETRIC,
	.hmac_secret = (const uint8_t *)"0123456789abcdef0123456789abcdef",
	.hmac_len = 32,
	.skew_s = 60,
	.max_lifetime_s = 86400,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct jwt t;
	struct jwt_result res;

	if (!keys && jwk_set_parse(fuzz_jwks, strlen(fuzz_jwks), &keys, err,
				   sizeof(err)) != JG_OK)
		__builtin_trap();
	if (size && data[0] == '{') {
		struct jwk_set *s = NULL;
		if (jwk_set_parse((const char *)data, size, &s, err,
				  sizeof(err)) == JG_OK)
			jwk_set_unref(s);
		return 0;
	}
	/* Time fixed so runs are reproducible. */
	if (jwt_verify(&rules, keys, (const char *)data, size, 1700000000, &t,
		       &res, err, sizeof(err)) == JG_OK)
		jwt_clear(&t);
	return 0;
}
