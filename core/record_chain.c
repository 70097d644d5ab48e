/*
 * Hash chain of session records: canonical JSON, SHA-256 links, per-event
 * HMAC and verification.  See record_chain.h for the format.
 */
#include "record_chain.h"
#include "record_buf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <json-c/json.h>

/* Length of a valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t need;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		need = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		need = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		need = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((need == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (need == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return need;
}

/* A JSON string: escapes only what JSON requires; invalid UTF-8 bytes
 * become U+FFFD written raw, so re-serialising a parsed value is stable. */
static void sb_quote(struct rbuf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t run = 0;

	rbuf_put(b, "\"", 1);
	for (size_t i = 0; i < n;) {
		unsigned char c = u[i];
		const char *esc = NULL;
		char hex[8];
		/* most bytes are printable ASCII: one test for them */
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		if (c == '"')
			esc = "\\\"";
		else if (c == '\\')
			esc = "\\\\";
		else if (c == '\n')
			esc = "\\n";
		else if (c == '\r')
			esc = "\\r";
		else if (c == '\t')
			esc = "\\t";
		else if (c == '\b')
			esc = "\\b";
		else if (c == '\f')
			esc = "\\f";
		else if (c < 0x20) {
			snprintf(hex, sizeof(hex), "\\u%04x", c);
			esc = hex;
		}
		if (esc) {
			rbuf_put(b, s + run, i - run);
			rbuf_str(b, esc);
			run = ++i;
			continue;
		}
		size_t l = utf8_len(u + i, n - i);
		if (l == 0) {
			rbuf_put(b, s + run, i - run);
			rbuf_str(b, "\xef\xbf\xbd");
			run = ++i;
			continue;
		}
		i += l;
	}
	rbuf_put(b, s + run, n - run);
	rbuf_put(b, "\"", 1);
}

static void canon(struct rbuf *b, struct json_object *o, int skip_auth)
{
	char num[32];

	switch (json_object_get_type(o)) {
	case json_type_null:
		rbuf_str(b, "null");
		break;
	case json_type_boolean:
		rbuf_str(b, json_object_get_boolean(o) ? "true" : "false");
		break;
	case json_type_int:
		snprintf(num, sizeof(num), "%" PRId64, json_object_get_int64(o));
		rbuf_str(b, num);
		break;
	case json_type_double:
		snprintf(num, sizeof(num), "%.17g", json_object_get_double(o));
		rbuf_str(b, num);
		break;
	case json_type_string:
		sb_quote(b, json_object_get_string(o),
			 (size_t)json_object_get_string_len(o));
		break;
	case json_type_array: {
		size_t n = json_object_array_length(o);
		rbuf_put(b, "[", 1);
		for (size_t i = 0; i < n; i++) {
			if (i)
				rbuf_put(b, ",", 1);
			canon(b, json_object_array_get_idx(o, i), 0);
		}
		rbuf_put(b, "]", 1);
		break;
	}
	case json_type_object: {
		int first = 1;
		rbuf_put(b, "{", 1);
		json_object_object_foreach(o, k, v)
		{
			if (skip_auth &&
			    (strcmp(k, "hash") == 0 || strcmp(k, "mac") == 0))
				continue;
			if (!first)
				rbuf_put(b, ",", 1);
			first = 0;
			sb_quote(b, k, strlen(k));
			rbuf_put(b, ":", 1);
			canon(b, v, 0);
		}
		rbuf_put(b, "}", 1);
		break;
	}
	}
}

char *rec_canonical(struct json_object *o, int skip_auth)
{
	struct rbuf b = {0};

	canon(&b, o, skip_auth);
	return rbuf_take(&b);
}

int rec_json_quote(char **buf, size_t *len, size_t *cap, const char *s)
{
	struct rbuf b = {*buf, *len, *cap, 0};

	sb_quote(&b, s, strlen(s));
	*buf = b.p;
	*len = b.len;
	*cap = b.cap;
	return b.oom ? -1 : 0;
}

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* hash (hex) of text and mac (hex) of the hash bytes. */
static int digest(const char *text, const unsigned char *key, size_t keylen,
		  char hash[REC_HASH_HEX + 1], char mac[REC_HASH_HEX + 1])
{
	unsigned char h[32], m[32];

	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, text, strlen(text), h) < 0)
		return -1;
	hex(h, sizeof(h), hash);
	if (mac) {
		if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, keylen, h,
				     sizeof(h), m) < 0)
			return -1;
		hex(m, sizeof(m), mac);
	}
	return 0;
}

void rec_chain_init(struct rec_chain *c, const void *key, size_t keylen)
{
	c->mac = NULL;
	c->seq = 0;
	memset(c->prev, '0', REC_HASH_HEX);
	c->prev[REC_HASH_HEX] = '\0';
	c->key = key;
	c->keylen = keylen;
}

void rec_chain_keep_key(struct rec_chain *c)
{
	gnutls_hmac_hd_t h;

	if (c->key && !c->mac &&
	    gnutls_hmac_init(&h, GNUTLS_MAC_SHA256, c->key, c->keylen) == 0)
		c->mac = h;
}

void rec_chain_fini(struct rec_chain *c)
{
	if (c->mac)
		gnutls_hmac_deinit(c->mac, NULL);
	c->mac = NULL;
}

/* hash and mac of a chain's event text: digest(), with the chain's
 * keyed HMAC when it keeps one (gnutls_hmac_output() leaves it keyed
 * for the next event). */
static int chain_digest(struct rec_chain *c, const char *text, size_t len,
			char hash[REC_HASH_HEX + 1], char mac[REC_HASH_HEX + 1])
{
	unsigned char h[32], m[32];

	if (!c->mac)
		return digest(text, c->key, c->keylen, hash,
			      c->key ? mac : NULL);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA256, text, len, h) < 0 ||
	    gnutls_hmac(c->mac, h, sizeof(h)) < 0)
		return -1;
	gnutls_hmac_output(c->mac, m);
	hex(h, sizeof(h), hash);
	hex(m, sizeof(m), mac);
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ"; the part up to the second is kept per
 * thread, since events come many per second and gmtime plus snprintf
 * cost more than the rest of the event's header. */
static void format_ts(int64_t ms, char out[32])
{
	static __thread int64_t last_sec = -1;
	static __thread char last[64];
	int64_t sec = ms / 1000;
	int m = (int)(ms % 1000);

	if (ms < 0) {
		sec = 0;
		m = 0;
	}
	if (sec != last_sec) {
		time_t t = (time_t)sec;
		struct tm tm;
		gmtime_r(&t, &tm);
		snprintf(last, sizeof(last), "%04d-%02d-%02dT%02d:%02d:%02d",
			 (tm.tm_year + 1900) % 10000, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
		last_sec = sec;
	}
	memcpy(out, last, 19);
	out[19] = '.';
	out[20] = (char)('0' + m / 100);
	out[21] = (char)('0' + m / 10 % 10);
	out[22] = (char)('0' + m % 10);
	out[23] = 'Z';
	out[24] = '\0';
}

void rec_quote(struct rbuf *b, const char *s, size_t n)
{
	sb_quote(b, s, n);
}

void rec_event_open(struct rbuf *b, const struct rec_chain *c,
		    const char *sid, const char *type, int64_t ts_ms)
{
	char num[24], *d = num + sizeof(num), ts[32];
	uint64_t v = c->seq;

	do { /* decimal, as canon() prints an integer */
		*--d = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	format_ts(ts_ms, ts);
	rbuf_put(b, "{\"seq\":", 7);
	rbuf_put(b, d, (size_t)(num + sizeof(num) - d));
	rbuf_put(b, ",\"ts\":\"", 7);
	rbuf_str(b, ts);
	rbuf_put(b, "\",\"session\":", 12);
	sb_quote(b, sid, strlen(sid));
	rbuf_put(b, ",\"type\":", 8);
	sb_quote(b, type, strlen(type));
}

/*
 * The canonical text without hash and mac is b plus "prev" and the
 * closing brace; the whole event is that text with hash and mac put
 * before the brace (they are its last members), so the event is
 * serialised once, not once for the hash and again for the output.
 */
int rec_event_finish(struct rbuf *b, struct rec_chain *c)
{
	char hash[REC_HASH_HEX + 1], mac[REC_HASH_HEX + 1];

	rbuf_put(b, ",\"prev\":\"", 9);
	rbuf_put(b, c->prev, REC_HASH_HEX);
	rbuf_put(b, "\"}", 2);
	if (b->oom || chain_digest(c, b->p, b->len, hash, mac) < 0)
		return -1;
	b->len--; /* the brace */
	rbuf_put(b, ",\"hash\":\"", 9);
	rbuf_put(b, hash, REC_HASH_HEX);
	if (c->key) {
		rbuf_put(b, "\",\"mac\":\"", 9);
		rbuf_put(b, mac, REC_HASH_HEX);
	}
	rbuf_put(b, "\"}", 2);
	if (b->oom)
		return -1;
	memcpy(c->prev, hash, sizeof(c->prev));
	c->seq++;
	return 0;
}

char *rec_event_close(struct rbuf *b, struct rec_chain *c)
{
	if (rec_event_finish(b, c) < 0) {
		free(rbuf_take(b));
		return NULL;
	}
	return rbuf_take(b);
}

char *rec_chain_event(struct rec_chain *c, const char *sid, const char *type,
		      int64_t ts_ms, struct json_object *fields)
{
	struct rbuf b = {0};

	rec_event_open(&b, c, sid, type, ts_ms);
	if (fields) {
		json_object_object_foreach(fields, k, v)
		{
			/* the chain's own members are not fields */
			if (!strcmp(k, "seq") || !strcmp(k, "ts") ||
			    !strcmp(k, "session") || !strcmp(k, "type") ||
			    !strcmp(k, "prev") || !strcmp(k, "hash") ||
			    !strcmp(k, "mac"))
				continue;
			rbuf_put(&b, ",", 1);
			sb_quote(&b, k, strlen(k));
			rbuf_put(&b, ":", 1);
			canon(&b, v, 0);
		}
	}
	return rec_event_close(&b, c);
}

static int broken(struct rec_verify *out, size_t i, const char *why)
{
	out->verdict = REC_BROKEN;
	out->index = i;
	snprintf(out->why, sizeof(out->why), "event %zu: %s", i, why);
	return REC_BROKEN;
}

static const char *get_str(struct json_object *ev, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(ev, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Check one parsed event i against the chain; sets *is_seal. */
static const char *check_event(struct json_object *ev, size_t i,
			       const char *prev, const char *sid,
			       const void *key, size_t keylen,
			       char hash[REC_HASH_HEX + 1], int *is_seal)
{
	struct json_object *v;
	char mac[REC_HASH_HEX + 1];
	const char *s;

	if (!json_object_is_type(ev, json_type_object))
		return "not a JSON object";
	if (!json_object_object_get_ex(ev, "seq", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) != (int64_t)i)
		return "sequence number out of place (event deleted, inserted "
		       "or reordered)";
	if (!(s = get_str(ev, "session")) || (sid && strcmp(s, sid) != 0))
		return "belongs to another session";
	if (!(s = get_str(ev, "prev")) || strcmp(s, prev) != 0)
		return "prev does not match the previous event's hash (event "
		       "before it deleted, changed or reordered)";
	char *text = rec_canonical(ev, 1);
	if (!text)
		return "out of memory";
	int rc = digest(text, key, keylen, hash, key ? mac : NULL);
	free(text);
	if (rc < 0)
		return "cannot compute digest";
	if (!(s = get_str(ev, "hash")) || strlen(s) != REC_HASH_HEX ||
	    gnutls_memcmp(s, hash, REC_HASH_HEX) != 0)
		return "content does not match its hash (event changed)";
	if (key && (!(s = get_str(ev, "mac")) || strlen(s) != REC_HASH_HEX ||
		    gnutls_memcmp(s, mac, REC_HASH_HEX) != 0))
		return "HMAC does not match (event forged, or wrong key)";
	s = get_str(ev, "type");
	*is_seal = s && strcmp(s, "seal") == 0;
	if (*is_seal) {
		if (!json_object_object_get_ex(ev, "count", &v) ||
		    json_object_get_int64(v) != (int64_t)i)
			return "seal counts a different number of events";
	}
	return NULL;
}

int rec_verify(const char *const *events, size_t n, const void *key,
	       size_t keylen, struct rec_verify *out)
{
	char prev[REC_HASH_HEX + 1], hash[REC_HASH_HEX + 1];
	char sid[256] = "";
	int sealed = 0;

	memset(out, 0, sizeof(*out));
	out->count = n;
	out->authenticated = key != NULL;
	memset(prev, '0', REC_HASH_HEX);
	prev[REC_HASH_HEX] = '\0';
	for (size_t i = 0; i < n; i++) {
		struct json_object *ev = json_tokener_parse(events[i]);
		int is_seal = 0;
		if (!ev)
			return broken(out, i, "not valid JSON");
		if (sealed) {
			json_object_put(ev);
			return broken(out, i, "event after the seal");
		}
		const char *why = check_event(ev, i, prev, i ? sid : NULL, key,
					      keylen, hash, &is_seal);
		if (!why && i == 0) {
			const char *s = get_str(ev, "session");
			snprintf(sid, sizeof(sid), "%s", s);
		}
		json_object_put(ev);
		if (why)
			return broken(out, i, why);
		memcpy(prev, hash, sizeof(prev));
		sealed = is_seal;
	}
	if (!sealed) {
		out->verdict = REC_UNSEALED;
		out->index = n ? n - 1 : 0;
		if (n)
			snprintf(out->why, sizeof(out->why),
				 "not sealed: ends at event %zu (session open, "
				 "gateway stopped, or tail cut off)",
				 n - 1);
		else
			snprintf(out->why, sizeof(out->why), "empty record");
		return REC_UNSEALED;
	}
	out->verdict = REC_SEALED;
	out->index = n - 1;
	snprintf(out->why, sizeof(out->why), "sealed, %zu events", n);
	return REC_SEALED;
}
