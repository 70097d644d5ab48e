/*
 * Strict base64url (RFC 4648 section 5, no padding) as JWS uses it.
 */
#ifndef OIDC_B64URL_H
#define OIDC_B64URL_H

#include <stddef.h>
#include <stdint.h>

/* Bytes needed to decode n characters (an upper bound). */
#define B64URL_DECODED_MAX(n) (((n) / 4) * 3 + 2)
/* Characters needed to encode n bytes, plus a NUL. */
#define B64URL_ENCODED_LEN(n) (((n) / 3) * 4 + ((n) % 3 ? (n) % 3 + 1 : 0))

/*
 * Decode len characters of in into out (room for outmax bytes).  Refuses,
 * with -1, anything that is not canonical unpadded base64url: a byte
 * outside the alphabet, '=' padding, a length of 1 modulo 4, or non-zero
 * bits left over in the last character (so each value has exactly one
 * encoding).  Returns the number of bytes written.
 */
long b64url_decode(const char *in, size_t len, uint8_t *out, size_t outmax);

/* Encode n bytes of in as unpadded base64url into out (room for
 * B64URL_ENCODED_LEN(n) + 1); returns the length, NUL-terminated. */
size_t b64url_encode(const uint8_t *in, size_t n, char *out);

/* 0..63 for each alphabet byte, 0xff for any other byte. */
extern const uint8_t b64url_value[256];

/* Non-zero if c is in the base64url alphabet. */
static inline int b64url_is_alpha(unsigned char c)
{
	return b64url_value[c] != 0xff;
}

#endif /* OIDC_B64URL_H */
