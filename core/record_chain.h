/*
 * The hash chain of a session record: building events and verifying a
 * record.  Pure (json-c and GnuTLS only), so the jitgate CLI links it for
 * `jitgate audit verify` without a running gateway.
 *
 * An event is one JSON object with its keys in this order:
 *
 *   {"seq":N, "ts":"...Z", "session":"s-...", "type":"...", fields...,
 *    "prev":"<hex>", "hash":"<hex>", "mac":"<hex>"}
 *
 *   seq   0, 1, 2, ... without gaps
 *   prev  hash of the previous event; 64 zeros for seq 0
 *   hash  hex SHA-256 of the event's canonical bytes without hash and mac
 *   mac   hex HMAC-SHA256(key, the 32 hash bytes)
 *
 * Canonical bytes: the object serialised with keys in stored order, no
 * white space, strings with only '"', '\\' and control characters
 * escaped (\u00XX, or \n \r \t \b \f), integers in decimal.  Verification
 * re-serialises each parsed event, so a store may keep events in any
 * encoding that preserves key order.
 *
 * The last event of a finished session is {"type":"seal","count":N}
 * where N is the number of events before it.  Its mac closes the chain.
 * See docs/recording.md for what each check detects.
 */
#ifndef JG_RECORD_CHAIN_H
#define JG_RECORD_CHAIN_H

#include <stddef.h>
#include <stdint.h>

struct json_object;

#define REC_HASH_HEX 64

/* The running state of one record's chain. */
struct rec_chain {
	uint64_t seq;                 /* seq of the next event */
	char prev[REC_HASH_HEX + 1];  /* hash of the last event */
	const unsigned char *key;     /* HMAC key, borrowed */
	size_t keylen;
	void *mac;                    /* keyed HMAC state, or NULL */
};

void rec_chain_init(struct rec_chain *c, const void *key, size_t keylen);

/*
 * Keep the HMAC keyed for the chain's life instead of keying it for
 * every event (a recorder writing many events); rec_chain_fini() then
 * frees it.  Without it a chain holds nothing to free.
 */
void rec_chain_keep_key(struct rec_chain *c);
void rec_chain_fini(struct rec_chain *c);

/*
 * Make the next event of the chain: fields is a JSON object (its members
 * are copied in order after "type"; may be NULL).  Returns the event's
 * JSON text (malloc'd) and advances the chain, or NULL when out of memory
 * (the chain is unchanged).  ts_ms is unix time in milliseconds.
 */
char *rec_chain_event(struct rec_chain *c, const char *sid, const char *type,
		      int64_t ts_ms, struct json_object *fields);

/*
 * The same event written piece by piece, without a json-c tree:
 * rec_event_open() puts seq, ts, session and type into b; the caller
 * appends each field as ',' + quoted key + ':' + value (canonical, keys
 * unique and not a member the chain uses); rec_event_close() adds prev,
 * hash and mac, advances the chain and returns the event (b is consumed;
 * NULL when out of memory, the chain then unchanged).
 */
struct rbuf;
void rec_event_open(struct rbuf *b, const struct rec_chain *c,
		    const char *sid, const char *type, int64_t ts_ms);
char *rec_event_close(struct rbuf *b, struct rec_chain *c);
/* rec_event_close() leaving the event in b (b->p, b->len) for a caller
 * that reuses its buffer: 0, or -1 when out of memory (the chain is then
 * unchanged and b holds nothing useful). */
int rec_event_finish(struct rbuf *b, struct rec_chain *c);
/* Append s[0..n) as a canonical JSON string, with its quotes. */
void rec_quote(struct rbuf *b, const char *s, size_t n);

/* Canonical serialisation (see above) of a JSON value; skip_auth leaves
 * out the top-level "hash" and "mac" members.  malloc'd, NULL on OOM. */
char *rec_canonical(struct json_object *o, int skip_auth);

/* Append s as a canonical JSON string (with quotes) to a malloc'd
 * buffer; used by stores that write events by hand.  -1 on OOM. */
int rec_json_quote(char **buf, size_t *len, size_t *cap, const char *s);

enum rec_verdict {
	REC_SEALED = 0,   /* every check passed and the record is sealed */
	REC_UNSEALED = 1, /* every event checks, but no seal: the session
			     is open, its gateway stopped, or the tail was
			     cut off */
	REC_BROKEN = 2    /* an event fails a check: see index and why */
};

struct rec_verify {
	int verdict;     /* enum rec_verdict */
	size_t count;    /* events in the record */
	size_t index;    /* REC_BROKEN: the first bad event (0-based);
			    REC_UNSEALED: the last good one */
	char why[256];   /* what failed, in words */
	int authenticated; /* macs were checked (a key was given) */
};

/*
 * Verify a record given as its n events' JSON texts in stored order.  key
 * NULL: check only the hash chain.  Returns out->verdict.
 */
int rec_verify(const char *const *events, size_t n, const void *key,
	       size_t keylen, struct rec_verify *out);

#endif /* JG_RECORD_CHAIN_H */
