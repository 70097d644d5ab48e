/*
 * pii: the default masking plugin.  Private to the plugin.
 *
 *   profile.c      compile a profile from JSON (detectors, rules, strategies)
 *   prefilter.c    SIMD byte classes, rules for where a handler may match
 *   scan.c         scan loop, whole values and streams
 *   detect_num.c   digit-triggered detectors: card, IBAN, SSN, phone, IPv4
 *   detect_text.c  email, IPv6, JWT, AWS keys, PEM private keys
 *   custom.c       custom regex detectors (PCRE2 JIT), validators
 *   strategy.c     redact, partial, hash, null; carrier-safe output
 *   pii.c          descriptor, instance, the jg_mask_ops
 */
#ifndef PII_H
#define PII_H

#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <jitgate/mask.h>

/* Built-in detectors.  The order is the report name order. */
enum pii_det {
	DET_CARD,
	DET_EMAIL,
	DET_IBAN,
	DET_SSN,
	DET_PHONE,
	DET_IPV4,
	DET_IPV6,
	DET_JWT,
	DET_AWS_KEY_ID,
	DET_AWS_SECRET,
	DET_PEM,
	DET_BUILTIN_MAX
};
/* Custom detector i has id DET_BUILTIN_MAX + i. */

enum pii_strategy_kind {
	STRAT_REDACT,
	STRAT_PARTIAL,
	STRAT_HASH,
	STRAT_NULL,
	STRAT_KEEP /* column rules only: leave the value alone, skip detectors */
};

struct pii_strategy {
	int kind;
	char *replacement; /* redact: no control chars, quotes or backslash */
	size_t replen;
	uint32_t keep;     /* partial: last N significant characters kept */
	char mask_char;    /* partial: printable ASCII */
	uint32_t hash_len; /* hash: hex digits, 8..64 */
	char *prefix;      /* hash: put before the digest, may be "" */
	size_t prefix_len;
};

enum pii_validator { VAL_NONE, VAL_LUHN, VAL_MOD97 };

struct pii_custom {
	char *name;
	pcre2_code *re;
	int validator;
	size_t max_len;
	struct pii_strategy strat;
};

enum pii_rule_kind { RULE_EXACT, RULE_GLOB, RULE_REGEX };

struct pii_rule {
	int kind;
	char *name;    /* for the report */
	char *pattern; /* exact or glob text */
	pcre2_code *re;
	struct pii_strategy strat;
};

/* ---- pre-filter (prefilter.c) ---- */

/* A window decides its first PII_STEP bytes; its rules read up to 14
 * bytes further. */
#define PII_STEP 48

/*
 * The positions in the 64 readable bytes at w where a handler may find
 * something (bit i: w[i]), given the class bits of the byte before the
 * window (pii_class_of(), 0 if none) and the enabled detectors.  With
 * exhaustive, every digit run start, '-', ':' and other trigger byte.
 * The scan loop refines ':', 'A' and 'J' with the bytes around them.
 */
typedef uint64_t (*pii_window_fn)(const unsigned char *w, int prev,
				  uint32_t on, int exhaustive);
uint64_t pii_window_scalar(const unsigned char *w, int prev, uint32_t on,
			   int exhaustive);
/*
 * The same for a window of which only the first n (<= 64) bytes may be
 * read (the end of a buffer): bytes from n on count as in no class, as
 * the -1 a handler reads past the end of a final buffer.
 */
typedef uint64_t (*pii_tail_fn)(const unsigned char *w, size_t n, int prev,
				uint32_t on, int exhaustive);
uint64_t pii_tail_scalar(const unsigned char *w, size_t n, int prev,
			 uint32_t on, int exhaustive);
/* pii_tail_fn without exhaustive, faster where nothing is found: the
 * same bits. */
typedef uint64_t (*pii_quick_fn)(const unsigned char *w, size_t n, int prev,
				 uint32_t on);
uint64_t pii_quick_scalar(const unsigned char *w, size_t n, int prev,
			  uint32_t on);
#if defined(__x86_64__) || defined(__i386__)
uint64_t pii_window_sse2(const unsigned char *w, int prev, uint32_t on,
			 int exhaustive);
uint64_t pii_window_avx2(const unsigned char *w, int prev, uint32_t on,
			 int exhaustive);
uint64_t pii_tail_sse2(const unsigned char *w, size_t n, int prev,
		       uint32_t on, int exhaustive);
uint64_t pii_tail_avx2(const unsigned char *w, size_t n, int prev,
		       uint32_t on, int exhaustive);
uint64_t pii_quick_sse2(const unsigned char *w, size_t n, int prev,
			uint32_t on);
uint64_t pii_quick_avx2(const unsigned char *w, size_t n, int prev,
			uint32_t on);
#endif
/* The classifiers this CPU runs best: AVX2 if it has it. */
void pii_window_pick(pii_tail_fn *tail, pii_quick_fn *quick);

/* Class bits of one byte (for the byte before a window). */
int pii_class_of(int byte);

#define PII_PROFILE_MAGIC 0x50494950U /* "PIIP" */

struct pii_profile {
	uint32_t magic;
	char *name;
	uint32_t enabled; /* bit per enum pii_det */
	struct pii_strategy det[DET_BUILTIN_MAX];
	struct pii_custom *custom;
	size_t ncustom;
	struct pii_rule *rules;
	size_t nrules;
	uint8_t hash_key[32];
	int have_key;
	size_t max_pem;  /* longest PEM block looked for */
	size_t max_jwt;  /* longest JWT looked for */
	size_t hold_max; /* longest tail a stream may hold back */
	int has_null;    /* some detector's strategy is null */
	struct pii_strategy fallback; /* redact, for null in a stream */
	/* Pre-filter (prefilter.c): the classifier this CPU runs best, and
	 * a test switch that sends every trigger byte to its handler, so
	 * the fuzzer can check the filter rules lose nothing. */
	pii_tail_fn tail;
	pii_quick_fn quick;
	int exhaustive;
	uint64_t id;     /* unique per compiled profile (per-thread memos) */
	int regex_rules; /* column rules that need pcre2 match data */
};

/* The plugin instance: options from the host. */
struct pii_instance {
	uint8_t key[64];
	size_t keylen;
	char default_replacement[64];
};

/* ---- scan ---- */

/* Bytes of already-emitted text kept before a stream's held tail, so
 * look-backs (word boundaries, an email's local part) see the same bytes
 * whichever way the stream was cut.  Longer than any look-back. */
#define PII_CTX 128
/* A trailing run of word-like bytes is held back up to this length: it
 * might be the start of an email, an IPv6 address, a JWT... */
#define PII_TOKEN_MAX 320

struct pii_hit {
	size_t s, e;  /* span [s, e) in the scan buffer */
	uint32_t det; /* enum pii_det or DET_BUILTIN_MAX + custom index */
	size_t anchor; /* where to restart when the hit must be held back */
};

enum { PII_NONE, PII_MATCH, PII_MORE };

struct pii_scan {
	const struct pii_profile *pf;
	const unsigned char *buf;
	size_t lo;    /* first byte that may be read (context) */
	size_t floor; /* first byte a match may start at */
	size_t end;   /* end of the available bytes */
	int final;    /* no more bytes will follow */
	int json;     /* JSON escapes are separators and never cut */
	int touched;  /* a detector asked for a byte at or past end */
	pcre2_match_data *md;
};

/* Read byte i, or -1 past the end (and remember that it was asked for). */
static inline int pii_ch(struct pii_scan *sc, size_t i)
{
	if (i >= sc->end) {
		sc->touched = 1;
		return -1;
	}
	return sc->buf[i];
}

/* Called for each hit, in order; non-zero stops the scan with an error. */
typedef int (*pii_hit_cb)(void *ud, const struct pii_hit *h);

/*
 * Scan buf[floor, end).  Hits go to cb.  Returns the cut: every byte before
 * it is final (hits delivered); bytes from it on must be scanned again with
 * more data.  When final, the cut is end.  (size_t)-1 when cb failed.
 */
size_t pii_scan_run(struct pii_scan *sc, pii_hit_cb cb, void *ud);

/* Non-zero if pii_scan_run would call no handler on the whole (final)
 * value buf[0, len) (no custom detectors): nothing in it to mask.  The
 * windows before from have no candidates. */
int pii_value_windows_clean(const struct pii_profile *pf,
			    const unsigned char *buf, size_t len, size_t from);

/*
 * The shortest built-in match without an '@' or a ':' (emails and IPv6
 * addresses have one) is an IPv4 address, 1.2.3.4: every other detector
 * needs 9 bytes or more.  Keep this true when adding a detector.
 */
#define PII_MIN_PLAIN 7

/*
 * Non-zero if the whole value buf[0, len) holds nothing to mask.  Inline:
 * it is most of what masking a short value costs.  Values shorter than
 * any match without '@' or ':' are looked at byte by byte, the rest
 * window by window with the quick classifier, and only a window with a
 * candidate goes the scan loop's way.  With pf->exhaustive (tests,
 * fuzzer) every value goes that way, so comparing the two checks this.
 */
static inline int pii_value_clean(const struct pii_profile *pf,
				  const unsigned char *buf, size_t len)
{
	size_t base = 0;
	int prev = 0;

	if (pf->ncustom)
		return 0;
	if (pf->exhaustive)
		goto windows;
	if (len < PII_MIN_PLAIN) {
		for (size_t i = 0; i < len; i++)
			if (buf[i] == '@' || buf[i] == ':')
				goto windows;
		return 1;
	}
	for (;; base += PII_STEP) {
		size_t n = len - base;
		uint64_t cand = pf->quick(buf + base, n < 64 ? n : 64, prev,
					  pf->enabled);
		if (n > 64)
			cand &= (1ULL << PII_STEP) - 1;
		for (uint64_t c = cand; c; c &= c - 1) {
			/* only these may turn out not worth a handler */
			int b = buf[base + (size_t)__builtin_ctzll(c)];
			if (b != ':' && b != 'A' && b != 'J')
				return 0;
		}
		if (cand)
			break;
		if (n <= 64)
			return 1;
		prev = pii_class_of(buf[base + PII_STEP - 1]);
	}
windows:
	return pii_value_windows_clean(pf, buf, len, base);
}

/* Handlers called by the scan loop for a trigger byte at p. */
int pii_on_digit(struct pii_scan *sc, size_t p, struct pii_hit *h, int *n,
		 size_t *resume);
int pii_on_at(struct pii_scan *sc, size_t p, struct pii_hit *h, int *n,
	      size_t *resume);
int pii_on_colon(struct pii_scan *sc, size_t p, struct pii_hit *h, int *n,
		 size_t *resume);
int pii_on_jwt(struct pii_scan *sc, size_t p, struct pii_hit *h, int *n,
	       size_t *resume);
int pii_on_aws_id(struct pii_scan *sc, size_t p, struct pii_hit *h, int *n,
		  size_t *resume);
int pii_on_underscore(struct pii_scan *sc, size_t p, struct pii_hit *h,
		      int *n, size_t *resume);
int pii_on_dash(struct pii_scan *sc, size_t p, struct pii_hit *h, int *n,
		size_t *resume);

/* Shared character helpers. */
int pii_is_word(int c);           /* [A-Za-z0-9_] */
int pii_word_before(struct pii_scan *sc, size_t p);
int pii_json_escape_ends_at(const unsigned char *b, size_t lo, size_t p);
size_t pii_json_escape_len(const unsigned char *b, size_t p, size_t end);

/* ---- validators (custom.c) ---- */
int pii_luhn(const unsigned char *d, size_t n); /* n digits 0..9 */
int pii_mod97(const unsigned char *s, size_t n); /* IBAN order, A-Z0-9 */
int pii_validate(int validator, const unsigned char *s, size_t n);

/* Search custom detector i from sc->floor; hit or PII_MORE at *more. */
int pii_custom_next(struct pii_scan *sc, size_t i, struct pii_hit *h,
		    size_t *more);
int pii_custom_compile(struct pii_custom *c, const char *regex, int caseless,
		       char *err, size_t errlen);

/* ---- strategies (strategy.c) ---- */

struct pii_out {
	jg_mask_emit emit;
	void *ud;
	int json;
};

const char *pii_det_name(const struct pii_profile *pf, uint32_t det);
const struct pii_strategy *pii_det_strategy(const struct pii_profile *pf,
					    uint32_t det);
/* Emit the masked form of in[0, n) (a hit or a whole value). */
int pii_apply(const struct pii_profile *pf, const struct pii_strategy *st,
	      uint32_t det, const unsigned char *in, size_t n,
	      const struct pii_out *o);
void pii_report_add(struct jg_mask_report *rep, const char *name);
/* Emit buf[*emitted, h->s) as is, then the hit masked by st. */
int pii_emit_hit(const struct pii_profile *pf, const unsigned char *buf,
		 size_t *emitted, const struct pii_hit *h,
		 const struct pii_strategy *st, const struct pii_out *o,
		 struct jg_mask_report *rep);
void pii_strategy_free(struct pii_strategy *st);

/* ---- profiles (profile.c) ---- */
int pii_profile_compile(const struct pii_instance *inst, const char *name,
			const char *json, struct pii_profile **out, char *err,
			size_t errlen);
void pii_profile_free(struct pii_profile *pf);
const struct pii_rule *pii_rule_find(const struct pii_profile *pf,
				     const char *column,
				     pcre2_match_data *md);

/* ---- streams (scan.c) ---- */
size_t pii_stream_size(const struct pii_profile *pf);
int pii_stream_init(const struct pii_profile *pf, void *state, int carrier);
int pii_stream_chunk(const struct pii_profile *pf, void *state,
		     const unsigned char *in, size_t len,
		     const struct pii_out *o, struct jg_mask_report *rep);

#endif /* PII_H */
