/*
 * The scan loop: a pre-filter (prefilter.c) finds the next byte that can
 * start (or anchor) a match, a handler decides, and clean text costs a
 * memory scan.
 *
 * Trigger bytes: a digit (card, IBAN check digits, SSN, phone, IPv4), '@'
 * (email), ':' (IPv6), 'J' of "eyJ" (JWT), 'A' of AKIA/ASIA (AWS key id),
 * '_' of aws_secret... (AWS secret key), '-' of "-----BEGIN" (PEM).  Each
 * handler reads a bounded number of bytes around its trigger, so a stream
 * never needs to hold back more than pf->hold_max bytes.
 *
 * Streams: the same loop runs on held-back bytes plus a new chunk with
 * final == 0.  A handler that asks for a byte past the end makes the scan
 * stop there (the cut), and so does a trailing run of word-like bytes that
 * might be the start of a match seen only later.  The bytes from the cut on
 * are scanned again with the next chunk, with PII_CTX bytes of context, so
 * the result does not depend on where the chunks were cut.
 */
#include "pii.h"

#include <stdlib.h>
#include <string.h>

/*
 * The candidates of the window at base, kept while the scan moves
 * through its first PII_STEP bytes (prefilter.c decides them).
 */
struct trig {
	const struct pii_scan *sc;
	size_t base;   /* cand covers [base, base + PII_STEP) */
	uint64_t cand; /* bit i: b[base + i] goes to its handler */
	size_t chain_end; /* last colon of a chain that is not IPv6 */
};

/* How close to the end of an unfinished stream the rules stop deciding:
 * they would read bytes that have not come yet.  More than they read. */
#define PII_NEAR_END 16

/* The candidates of the window at base (of at most 64 bytes). */
static uint64_t window_at(const struct pii_scan *sc, size_t base, int prev,
			  int exhaustive)
{
	const struct pii_profile *pf = sc->pf;
	size_t n = sc->end - base < 64 ? sc->end - base : 64;

	if (exhaustive)
		return pf->tail(sc->buf + base, n, prev, pf->enabled, 1);
	return pf->quick(sc->buf + base, n, prev, pf->enabled);
}

static void trig_window(struct trig *t, size_t base)
{
	const struct pii_scan *sc = t->sc;
	size_t avail = sc->end - base;
	int prev = base > sc->lo ? pii_class_of(sc->buf[base - 1]) : 0;

	t->cand = window_at(sc, base, prev, sc->pf->exhaustive);
	if (!sc->final && avail < PII_STEP + PII_NEAR_END) {
		/* Rules cannot rule out what depends on bytes not seen yet:
		 * near the end every trigger asks its handler, which holds
		 * the bytes back for the next chunk. */
		uint64_t near = avail > PII_NEAR_END
					? ~0ULL << (avail - PII_NEAR_END)
					: ~0ULL;
		t->cand |= near & window_at(sc, base, prev, 1);
	}
	/* (the tail classifiers leave bits from avail on clear) */
	t->cand &= (1ULL << PII_STEP) - 1;
	t->base = base;
}

/* First candidate at or after p, or end. */
static size_t next_trigger(struct trig *t, size_t p)
{
	while (p < t->sc->end) {
		if (p < t->base || p >= t->base + PII_STEP)
			trig_window(t, p);
		uint64_t m = t->cand & (~0ULL << (p - t->base));
		if (m)
			return t->base + (size_t)__builtin_ctzll(m);
		p = t->base + PII_STEP;
	}
	return t->sc->end;
}

/*
 * An IPv6 address has "::" or at least six colons, and a group has at
 * most four hex digits, so its colons form a chain with gaps of at most
 * five bytes.  Times (10:23:45) and "key: value" do not: walk the chain
 * through p and skip the handler when it has neither.  *last gets the
 * chain's last colon, so the chain's other colons are not walked again.
 */
static int colon_chain(const struct pii_scan *sc, size_t p, size_t *last)
{
	const unsigned char *b = sc->buf;
	size_t q = p, k;
	int n = 1;

	for (;;) {
		for (k = 1; k <= 5 && q + k < sc->end && b[q + k] != ':'; k++)
			;
		if (k <= 5 && q + k >= sc->end)
			return !sc->final; /* the chain may go on */
		if (k > 5)
			break;
		if (k == 1 || ++n >= 6)
			return 1;
		q += k;
	}
	size_t end = q;
	for (q = p;;) {
		for (k = 1; k <= 5 && q - sc->lo >= k && b[q - k] != ':'; k++)
			;
		if (k > 5 || q - sc->lo < k) {
			*last = end;
			return 0;
		}
		if (k == 1 || ++n >= 6)
			return 1;
		q -= k;
	}
}

/*
 * The bytes right around a trigger that its handler checks first: 0 if
 * the handler cannot match at p.
 */
static int worth_a_call(struct trig *t, size_t p)
{
	const struct pii_scan *sc = t->sc;
	const unsigned char *b = sc->buf;

	switch (b[p]) {
	case ':':
		if (t->chain_end != SIZE_MAX && p <= t->chain_end)
			return 0; /* in a chain already walked */
		return colon_chain(sc, p, &t->chain_end);
	case 'A': /* AKIA, ASIA */
		return p + 3 >= sc->end ||
		       ((b[p + 1] == 'K' || b[p + 1] == 'S') &&
			b[p + 2] == 'I' && b[p + 3] == 'A');
	case 'J': /* eyJ */
		return p >= sc->floor + 2 && b[p - 2] == 'e' && b[p - 1] == 'y';
	default:
		return 1;
	}
}

/* Bytes that end a trailing token: nothing is looked back across them. */
static int token_byte(int c)
{
	switch (c) {
	case ' ': case '\t': case '\r': case '\n': case '\f': case '\v':
	case '"': case '\'': case ',': case ';': case '<': case '>':
	case '[': case ']': case '{': case '}': case '|': case '`': case ')':
		return 0;
	default:
		return c > 0x1f && c != 0x7f;
	}
}

static size_t trailing_token(const struct pii_scan *sc)
{
	size_t t = sc->end;
	size_t stop = sc->end - sc->floor > PII_TOKEN_MAX
			      ? sc->end - PII_TOKEN_MAX
			      : sc->floor;

	while (t > stop && token_byte(sc->buf[t - 1]))
		t--;
	return t;
}

/* Non-zero if p is strictly inside a JSON escape; *start gets its start. */
static int inside_escape(const struct pii_scan *sc, size_t p, size_t *start)
{
	for (size_t k = 1; k <= 5 && k <= p - sc->lo; k++) {
		size_t q = p - k;
		if (sc->buf[q] != '\\')
			continue;
		/* q starts an escape only if an even number of backslashes
		 * precede it. */
		size_t r = q, run = 0;
		while (r > sc->lo && sc->buf[r - 1] == '\\') {
			r--;
			run++;
		}
		if (run % 2)
			continue;
		size_t n = pii_json_escape_len(sc->buf, q, sc->end);
		if (q + n > p) {
			*start = q;
			return 1;
		}
		return 0;
	}
	return 0;
}

/* Widen a hit so it never splits a UTF-8 sequence or a JSON escape. */
static void fix_span(struct pii_scan *sc, struct pii_hit *h)
{
	size_t q;

	while (h->s > sc->floor && (sc->buf[h->s] & 0xc0) == 0x80)
		h->s--;
	for (int i = 0; i < 3; i++) {
		int c = pii_ch(sc, h->e);
		if (c < 0 || (c & 0xc0) != 0x80)
			break;
		h->e++;
	}
	if (!sc->json)
		return;
	if (inside_escape(sc, h->s, &q) && q >= sc->floor)
		h->s = q;
	if (h->e > h->s && inside_escape(sc, h->e, &q)) {
		size_t n = pii_json_escape_len(sc->buf, q, sc->end);
		if (q + n >= sc->end)
			sc->touched = 1;
		h->e = q + n < sc->end ? q + n : sc->end;
	}
}

/*
 * Where an unfinished scan stops: at x, or at T, whichever is first, but
 * never inside a JSON escape.  A hit right after the escape's backslash
 * would take the backslash in (fix_span) when the value is masked whole,
 * so the stream must still hold it.
 */
static size_t stream_cut(const struct pii_scan *sc, size_t x, size_t T)
{
	size_t q;

	if (x > T)
		x = T;
	if (sc->json && x > sc->floor && inside_escape(sc, x, &q) &&
	    q >= sc->floor)
		x = q;
	return x;
}

typedef int (*handler_fn)(struct pii_scan *, size_t, struct pii_hit *, int *,
			  size_t *);

static handler_fn handler_for(int c)
{
	if (c >= '0' && c <= '9')
		return pii_on_digit;
	switch (c) {
	case '@': return pii_on_at;
	case ':': return pii_on_colon;
	case 'J': return pii_on_jwt;
	case 'A': return pii_on_aws_id;
	case '_': return pii_on_underscore;
	case '-': return pii_on_dash;
	default: return NULL;
	}
}

/* Non-zero if none of the candidates of the window at base is worth a
 * handler's call (the scan loop's test). */
static int none_worth_a_call(const struct pii_scan *sc, struct trig *t,
			     size_t base, uint64_t cand)
{
	for (; cand; cand &= cand - 1) {
		size_t p = base + (size_t)__builtin_ctzll(cand);
		if (handler_for(sc->buf[p]) && worth_a_call(t, p))
			return 0;
	}
	return 1;
}

/*
 * Non-zero if no byte of the whole value buf[0, len) goes to a handler,
 * so masking it would find nothing: the same windows and the same
 * refinements as pii_scan_run, without its setup.  Most values a
 * database returns are short and clean, and for them that setup was most
 * of the cost.  Custom detectors run PCRE2 on every byte: never clean.
 */
/*
 * The same windows and the same refinements as pii_scan_run, without its
 * setup: most values a database returns are short and clean, and for
 * them that setup was most of the cost.
 */
int pii_value_windows_clean(const struct pii_profile *pf,
			    const unsigned char *buf, size_t len, size_t from)
{
	struct pii_scan sc = {.pf = pf, .buf = buf, .end = len, .final = 1};
	struct trig t = {.sc = &sc, .chain_end = SIZE_MAX};

	if (pf->ncustom)
		return 0;
	for (size_t base = from;; base += PII_STEP) {
		int prev = base ? pii_class_of(buf[base - 1]) : 0;
		uint64_t cand = window_at(&sc, base, prev, pf->exhaustive);
		/* The last window decides all its bytes: its rules read
		 * class-less bytes past the end, as they would in a next
		 * window. */
		int last = len - base <= 64;
		if (!last)
			cand &= (1ULL << PII_STEP) - 1;
		if (cand && pf->exhaustive)
			return 0;
		if (!none_worth_a_call(&sc, &t, base, cand))
			return 0;
		if (last)
			return 1;
	}
}

#define MAX_CUSTOM 32

struct custom_state {
	int valid;     /* h / more are computed for the current floor */
	int have;      /* h holds the next hit */
	size_t more;   /* partial match start (streams), or SIZE_MAX */
	struct pii_hit h;
};

static void custom_refresh(struct pii_scan *sc, struct custom_state *cs,
			   size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct custom_state *c = &cs[i];
		if (c->valid && (!c->have || c->h.s >= sc->floor) &&
		    (c->more == SIZE_MAX || c->more >= sc->floor))
			continue;
		c->more = SIZE_MAX;
		c->have = pii_custom_next(sc, i, &c->h, &c->more) == PII_MATCH;
		c->valid = 1;
	}
}

size_t pii_scan_run(struct pii_scan *sc, pii_hit_cb cb, void *ud)
{
	const struct pii_profile *pf = sc->pf;
	size_t T = sc->final ? sc->end : trailing_token(sc);
	size_t ncust = pf->ncustom < MAX_CUSTOM ? pf->ncustom : MAX_CUSTOM;
	struct custom_state cs[MAX_CUSTOM];
	size_t p = sc->floor;
	struct pii_hit hits[2];
	struct trig tr = {.sc = sc, .base = SIZE_MAX, .chain_end = SIZE_MAX};

	memset(cs, 0, sizeof(cs[0]) * ncust);
	for (;;) {
		size_t t = next_trigger(&tr, p);
		size_t cmin = SIZE_MAX, cmore = SIZE_MAX;
		int ci = -1;
		int n = 0, r;
		size_t resume = t + 1, cand = t;

		if (ncust) {
			custom_refresh(sc, cs, ncust);
			for (size_t i = 0; i < ncust; i++) {
				if (cs[i].more < cmore)
					cmore = cs[i].more;
				if (cs[i].have && cs[i].h.s < cmin) {
					cmin = cs[i].h.s;
					ci = (int)i;
				}
			}
		}
		if (cmore != SIZE_MAX && cmore <= t && cmore <= cmin)
			return stream_cut(sc, cmore, T);
		if (ci >= 0 && cmin <= t) {
			hits[0] = cs[ci].h;
			cand = hits[0].s;
			n = 1;
			r = PII_MATCH;
			sc->touched = 0;
			fix_span(sc, &hits[0]);
			if (!sc->final && sc->touched)
				return stream_cut(sc, hits[0].s, T);
		} else {
			if (t >= sc->end)
				break;
			handler_fn fn = handler_for(sc->buf[t]);
			if (!fn || (!pf->exhaustive && !worth_a_call(&tr, t))) {
				p = t + 1;
				continue;
			}
			sc->touched = 0;
			hits[0].anchor = hits[1].anchor = SIZE_MAX;
			r = fn(sc, t, hits, &n, &resume);
			if (r == PII_MATCH) {
				for (int i = 0; i < n; i++) {
					fix_span(sc, &hits[i]);
					if (hits[i].s < cand)
						cand = hits[i].s;
					/* context a hit was found from */
					if (hits[i].anchor < cand)
						cand = hits[i].anchor;
				}
			} else if (r == PII_MORE) {
				cand = resume < cand ? resume : cand;
			}
			if (!sc->final && (r == PII_MORE || sc->touched))
				return stream_cut(sc, cand, T);
			if (r != PII_MATCH) {
				p = resume > t ? resume : t + 1;
				continue;
			}
		}
		/* A hit reaching into the trailing token may grow with the
		 * next chunk: hold it back whole. */
		if (!sc->final && hits[n - 1].e > T)
			return stream_cut(sc, cand, T);
		for (int i = 0; i < n; i++) {
			if (hits[i].s < sc->floor || hits[i].e <= hits[i].s)
				continue;
			if (cb(ud, &hits[i]))
				return (size_t)-1;
			sc->floor = hits[i].e;
		}
		if (sc->floor > p)
			p = sc->floor;
		else if (ci < 0)
			p = t + 1;
	}
	return sc->final ? sc->end : stream_cut(sc, T, T);
}

/* ---- streams ---- */

#define PII_STREAM_MAGIC 0x50494953U /* "PIIS" */

struct pii_stream {
	uint32_t magic;
	int json;
	const struct pii_profile *pf;
	size_t ctx;  /* context bytes at buf[0, ctx) */
	size_t hold; /* held bytes at buf[ctx, ctx + hold) */
	size_t cap;
	unsigned char buf[];
};

size_t pii_stream_size(const struct pii_profile *pf)
{
	return sizeof(struct pii_stream) + 2 * PII_CTX + 2 * pf->hold_max;
}

int pii_stream_init(const struct pii_profile *pf, void *state, int carrier)
{
	struct pii_stream *st = state;

	memset(st, 0, sizeof(*st));
	st->magic = PII_STREAM_MAGIC;
	st->pf = pf;
	st->json = carrier == JG_MASK_JSON_STRING;
	st->cap = 2 * PII_CTX + 2 * pf->hold_max;
	/* PCRE2's JIT reads whole words past a subject's end: keep those
	 * bytes defined (and valgrind quiet). */
	memset(st->buf, 0, st->cap);
	return JG_OK;
}

struct stream_emit {
	const struct pii_profile *pf;
	const unsigned char *buf;
	size_t emitted;
	const struct pii_out *o;
	struct jg_mask_report *rep;
};

static int stream_hit(void *ud, const struct pii_hit *h)
{
	struct stream_emit *se = ud;
	const struct pii_strategy *st = pii_det_strategy(se->pf, h->det);

	if (st->kind == STRAT_NULL || st->kind == STRAT_KEEP)
		st = &se->pf->fallback; /* no value to make NULL in a stream */
	return pii_emit_hit(se->pf, se->buf, &se->emitted, h, st, se->o,
			    se->rep);
}

/* Scan buf[from, end) with context from lo; emit up to the cut. */
static int stream_scan(struct pii_stream *st, const unsigned char *buf,
		       size_t lo, size_t from, size_t end, int final,
		       pcre2_match_data *md, const struct pii_out *o,
		       struct jg_mask_report *rep, size_t *cut)
{
	struct pii_scan sc = {
		.pf = st->pf, .buf = buf, .lo = lo, .floor = from,
		.end = end, .final = final, .json = st->json, .md = md,
	};
	struct stream_emit se = {
		.pf = st->pf, .buf = buf, .emitted = from, .o = o, .rep = rep,
	};
	size_t c = pii_scan_run(&sc, stream_hit, &se);

	if (c == (size_t)-1)
		return JG_ERROR;
	if (c < se.emitted)
		c = se.emitted;
	if (c > se.emitted &&
	    o->emit(o->ud, (const char *)buf + se.emitted, c - se.emitted))
		return JG_ERROR;
	*cut = c;
	return JG_OK;
}

/* Keep buf[cut, end) as the held tail, with context before it. */
static void stream_keep(struct pii_stream *st, const unsigned char *buf,
			size_t lo, size_t cut, size_t end)
{
	size_t ctx = cut - lo < PII_CTX ? cut - lo : PII_CTX;
	size_t hold = end - cut;

	/* buf may be st->buf itself: memmove. */
	memmove(st->buf, buf + cut - ctx, ctx + hold);
	st->ctx = ctx;
	st->hold = hold;
}

int pii_stream_chunk(const struct pii_profile *pf, void *state,
		     const unsigned char *in, size_t len,
		     const struct pii_out *o, struct jg_mask_report *rep)
{
	struct pii_stream *st = state;
	pcre2_match_data *md = NULL;
	size_t cut;
	int rc = JG_ERROR;

	if (!st || st->magic != PII_STREAM_MAGIC || st->pf != pf)
		return JG_ERROR;
	struct pii_out oj = *o;
	oj.json = st->json;
	o = &oj;
	if (pf->ncustom) {
		md = pcre2_match_data_create(1, NULL);
		if (!md)
			return JG_ERROR;
	}
	if (!in) {
		/* Flush: what is held is final now. */
		if (stream_scan(st, st->buf, 0, st->ctx, st->ctx + st->hold, 1,
				md, o, rep, &cut))
			goto out;
		st->ctx = st->hold = 0;
		rc = JG_OK;
		goto out;
	}

	/* Phase 1: held tail plus the chunk's start, in the state buffer.
	 * The copy is at least hold_max + PII_CTX bytes when the chunk is
	 * longer, so the cut falls at least PII_CTX bytes into the chunk
	 * and the rest can be scanned in place with its own context. */
	size_t base = st->ctx + st->hold;
	size_t room = st->cap - base;
	size_t m = len < room ? len : room;
	memcpy(st->buf + base, in, m);
	if (stream_scan(st, st->buf, 0, st->ctx, base + m, 0, md, o, rep,
			&cut))
		goto out;
	if (m == len || cut < base) {
		if (m < len) {
			/* Cannot happen with hold_max sized right; keep going
			 * safely by treating the copied part as the tail. */
			stream_keep(st, st->buf, 0, cut, base + m);
			rc = pii_stream_chunk(pf, state, in + m, len - m, o,
					      rep);
			goto out;
		}
		stream_keep(st, st->buf, 0, cut, base + m);
		rc = JG_OK;
		goto out;
	}
	/* Phase 2: the rest of the chunk, in place. */
	size_t k = cut - base;
	size_t lo = k > PII_CTX ? k - PII_CTX : 0;
	if (stream_scan(st, in, lo, k, len, 0, md, o, rep, &cut))
		goto out;
	lo = cut > PII_CTX ? cut - PII_CTX : 0;
	stream_keep(st, in, lo, cut, len);
	rc = JG_OK;
out:
	pcre2_match_data_free(md);
	return rc;
}
