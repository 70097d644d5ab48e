/*
 * Webhook notifier: the pure parts (message bodies, signatures, the retry
 * schedule), kept apart from the plugin so unit tests check exactly what
 * the plugin sends.  See docs/notify.md for the wire format.
 */
#ifndef WEBHOOK_H
#define WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

/* Event bodies from the core larger than this are refused (and logged). */
#define WH_MAX_EVENT_JSON (1024 * 1024)
/* Bytes of action text (statement, purpose) kept in a Slack message. */
#define WH_SUMMARY_MAX 160
/* "sha256=" + 64 hex digits + NUL. */
#define WH_SIG_LEN 72

/*
 * The body to POST for event and the core's review JSON: format "json"
 * ({"event": ..., "review": {...}}) when slack is 0, else a Slack message
 * ({"text": ...}).  Returns a malloc'd NUL-terminated body with *len its
 * length, or NULL when review_json is not a JSON object.  id (idlen
 * bytes) gets the review id, safe to log, or "?".
 */
char *wh_body(int slack, const char *event, const char *review_json,
              size_t *len, char *id, size_t idlen);

/*
 * Shorten text for one line of a chat message: runs of white space and
 * control characters become one space, '&', '<', '>' become Slack's
 * entities, '`' becomes '\'' (it would end a code span), and the result
 * is cut at a UTF-8 boundary after max input bytes, ending in "…".
 * Appends to out (outlen bytes, always NUL-terminated).
 */
void wh_slack_text(char *out, size_t outlen, const char *text, size_t max);

/*
 * The signature header value "sha256=HEX": HMAC-SHA256 under key over
 * timestamp, ".", and the body bytes.  0, or -1 if GnuTLS failed.
 */
int wh_sign(const void *key, size_t keylen, const char *timestamp,
            const void *body, size_t len, char out[WH_SIG_LEN]);

/*
 * Delay before retry number n (1 for the first retry): first, doubled
 * for each retry after that, never above max.
 */
static inline uint64_t wh_backoff_ms(unsigned n, uint64_t first, uint64_t max)
{
	uint64_t d = first;

	for (unsigned i = 1; i < n && d < max; i++)
		d = d > UINT64_MAX / 2 ? UINT64_MAX : d * 2;
	return d < max ? d : max;
}

#endif /* WEBHOOK_H */
