/*
 * Strict base64url.  A token's bytes are attacker-controlled, so the
 * decoder accepts exactly one spelling of each value: that keeps a
 * "tampered" token from verifying under a second encoding of the same
 * signature, and makes the fuzzer's life boring.
 */
#include "b64url.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 0..63, or 0xff for a byte outside the alphabet. */
const uint8_t b64url_value[256] = {
#define X 0xff
	X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
	X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
	X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  62, X,  X,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X,  X,  X,  X,  X,  X,
	X,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X,  X,  X,  X,  63,
	X,  26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X,  X,  X,  X,  X,
	X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
	X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
	X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
	X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
	X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
	X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
	X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
	X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
#undef X
};

long b64url_decode(const char *in, size_t len, uint8_t *out, size_t outmax)
{
	size_t full = len / 4, rest = len % 4, o = 0;

	if (rest == 1)
		return -1; /* 6 bits cannot make a byte */
	if (full * 3 + (rest ? rest - 1 : 0) > outmax)
		return -1;
	for (size_t i = 0; i < full * 4; i += 4) {
		uint8_t a = b64url_value[(unsigned char)in[i]];
		uint8_t b = b64url_value[(unsigned char)in[i + 1]];
		uint8_t c = b64url_value[(unsigned char)in[i + 2]];
		uint8_t d = b64url_value[(unsigned char)in[i + 3]];
		if ((a | b | c | d) & 0xc0)
			return -1;
		uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 |
			     (uint32_t)c << 6 | d;
		out[o++] = v >> 16;
		out[o++] = v >> 8;
		out[o++] = v;
	}
	if (rest) {
		const char *p = in + full * 4;
		uint8_t a = b64url_value[(unsigned char)p[0]];
		uint8_t b = b64url_value[(unsigned char)p[1]];
		uint8_t c = rest == 3 ? b64url_value[(unsigned char)p[2]] : 0;
		if ((a | b | c) & 0xc0)
			return -1;
		/* Leftover bits must be zero: one spelling per value. */
		if (rest == 2 && (b & 0x0f))
			return -1;
		if (rest == 3 && (c & 0x03))
			return -1;
		out[o++] = (uint8_t)(a << 2 | b >> 4);
		if (rest == 3)
			out[o++] = (uint8_t)(b << 4 | c >> 2);
	}
	return (long)o;
}

size_t b64url_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0, i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
			     in[i + 2];
		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (n - i == 1) {
		out[o++] = alphabet[in[i] >> 2];
		out[o++] = alphabet[(in[i] & 3) << 4];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];
		out[o++] = alphabet[v >> 10];
		out[o++] = alphabet[(v >> 4) & 63];
		out[o++] = alphabet[(v & 15) << 2];
	}
	out[o] = '\0';
	return o;
}
