/*
 * The signature receivers check: HMAC-SHA256 over "TIMESTAMP.BODY".  The
 * timestamp (unix seconds, sent as X-Jitgate-Timestamp) is inside the MAC
 * so a receiver that refuses old timestamps refuses replays; the "."
 * keeps the two parts from sliding into each other.
 */
#include "config.h"

#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "webhook.h"

int wh_sign(const void *key, size_t keylen, const char *timestamp,
            const void *body, size_t len, char out[WH_SIG_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char mac[32];
	gnutls_hmac_hd_t h;

	out[0] = '\0';
	if (gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, key, keylen) < 0)
		return -1;
	if (gnutls_hmac(h, timestamp, strlen(timestamp)) < 0 ||
	    gnutls_hmac(h, ".", 1) < 0 || gnutls_hmac(h, body, len) < 0) {
		gnutls_hmac_deinit(h, NULL);
		return -1;
	}
	gnutls_hmac_deinit(h, mac);
	memcpy(out, "sha256=", 7);
	for (size_t i = 0; i < sizeof(mac); i++) {
		out[7 + 2 * i] = hex[mac[i] >> 4];
		out[8 + 2 * i] = hex[mac[i] & 15];
	}
	out[WH_SIG_LEN - 1] = '\0';
	gnutls_memset(mac, 0, sizeof(mac));
	return 0;
}
