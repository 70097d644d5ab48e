/*
 * The pre-filter: which bytes of a 64-byte window are worth a handler.
 *
 * Realistic rows are full of digits (dates, times, amounts, ids) and
 * dashes, and calling a handler for each run cost about 50 cycles.  So a
 * window is first classified with SIMD into one 64-bit mask per byte
 * class (digit, space, '-', '.', ...), and then a few dozen bit
 * operations on those masks keep only the digit runs whose shape some
 * numeric detector could accept: a card needs 13 digits in a run of
 * digits and single separators, a phone 11, an IPv4 address 7 with a dot
 * after its first 1 to 3 digits, an SSN is ddd-dd-dddd, an IBAN or a
 * phone with '+' or '(' has the byte before it.  Each rule is a
 * necessary condition of what the handler itself accepts (detect_num.c),
 * so nothing a handler would find is skipped; the fuzzer compares the
 * output with and without the rules (pf->exhaustive).
 *
 * Rules look at most 14 bytes ahead, so a window decides only its first
 * PII_STEP bytes; the next window starts there.
 *
 * Most windows, and most short values, have none of the shapes: the
 * quick classifiers first build only the four masks that show it (digits,
 * separators, the bytes before a number, the bytes with handlers of their
 * own), and classify fully only when a run of 7 number-like bytes or a
 * run of 5 separators calls for the other rules.
 */
#include "pii.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PII_X86 1
#endif

/* One 64-bit mask per byte class over a 64-byte window: bit i is set when
 * window byte i is in the class. */
struct pii_classes {
	uint64_t digit, space, dash, dot;
	uint64_t before; /* 'A'-'Z', '+', '(' */
	uint64_t zero;
	uint64_t colon;
	uint64_t other; /* '@', 'J', 'A', '_' */
};

/* The quick classifiers' masks. */
struct pii_quick {
	uint64_t digit;
	uint64_t sep;    /* ' ', '-', '.' */
	uint64_t before; /* as above */
	uint64_t own;    /* other, and ':' when IPv6 is on */
};

/* Class bits of one byte, for the scalar classifier and for the byte
 * before a window. */
enum {
	CB_DIGIT = 1 << 0,
	CB_SPACE = 1 << 1,
	CB_DASH = 1 << 2,
	CB_DOT = 1 << 3,
	CB_BEFORE = 1 << 4, /* 'A'-'Z', '+', '(': may precede a number */
	CB_ZERO = 1 << 5,
	CB_COLON = 1 << 6,
	CB_OTHER = 1 << 7, /* '@', 'J', 'A', '_': handlers of their own */
};

static const uint8_t class_tab[256] = {
	['0'] = CB_DIGIT | CB_ZERO,
	['1' ... '9'] = CB_DIGIT,
	[' '] = CB_SPACE,
	['-'] = CB_DASH,
	['.'] = CB_DOT,
	['A'] = CB_BEFORE | CB_OTHER,
	['B' ... 'I'] = CB_BEFORE,
	['J'] = CB_BEFORE | CB_OTHER,
	['K' ... 'Z'] = CB_BEFORE,
	['+'] = CB_BEFORE,
	['('] = CB_BEFORE,
	[':'] = CB_COLON,
	['@'] = CB_OTHER,
	['_'] = CB_OTHER,
};

/* The first n (<= 64) bytes, the rest of the window class-less. */
static inline void classify_scalar_n(const unsigned char *w, size_t n,
				     struct pii_classes *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < n; i++) {
		unsigned k = class_tab[w[i]];
		uint64_t bit = 1ULL << i;
		if (!k)
			continue;
		c->digit |= k & CB_DIGIT ? bit : 0;
		c->space |= k & CB_SPACE ? bit : 0;
		c->dash |= k & CB_DASH ? bit : 0;
		c->dot |= k & CB_DOT ? bit : 0;
		c->before |= k & CB_BEFORE ? bit : 0;
		c->zero |= k & CB_ZERO ? bit : 0;
		c->colon |= k & CB_COLON ? bit : 0;
		c->other |= k & CB_OTHER ? bit : 0;
	}
}

#define AT(x, k) ((x) >> (k)) /* bit i: class at i + k */
#define BIT(d) (1U << (d))

/*
 * The digit runs some numeric detector could accept.  Each rule is a
 * necessary condition of its handler in detect_num.c; only starts of runs
 * are kept.
 */
static inline __attribute__((always_inline)) uint64_t
number_starts(const struct pii_classes *c, int prev, uint32_t on)
{
	uint64_t d = c->digit;
	/* Nothing starts inside a run of digits (pii_on_digit). */
	uint64_t start = d & ~((d << 1) | !!(prev & CB_DIGIT));
	uint64_t before = (c->before << 1) | !!(prev & CB_BEFORE);
	/* Number-like spans: digits, and one separator followed by a
	 * digit.  tN bit i: N such bytes from i on; dN: N digits. */
	uint64_t sep = c->space | c->dash | c->dot;
	uint64_t t = d | (sep & AT(d, 1));
	uint64_t t2 = t & AT(t, 1), t4 = t2 & AT(t2, 2);
	uint64_t t7 = t4 & AT(t4, 3);
	uint64_t num = 0;

	/* IBAN (two capitals before the check digits), "+1 ...", "(212) ..." */
	if (on & (BIT(DET_IBAN) | BIT(DET_PHONE)))
		num |= before;
	/* Every rule below asks for 7 number-like bytes or more (an SSN is
	 * 11), and most values have no such run: ids, dates, amounts. */
	if (!(t7 & start))
		return num & start;
	uint64_t t11 = t7 & AT(t4, 7), t13 = t11 & AT(t2, 11);
	uint64_t d2 = d & AT(d, 1), d3 = d2 & AT(d, 2), d4 = d2 & AT(d2, 2);
	uint64_t d13 = d4 & AT(d4, 4) & AT(d4, 8) & AT(d, 12);
	/* 13 to 19 digits, or 4 then a space or '-' then 3 or more */
	if (on & BIT(DET_CARD))
		num |= t13 & d4 &
		       (d13 | (AT(c->space | c->dash, 4) & AT(d3, 5)));
	/* ddd-dd-dddd */
	if (on & BIT(DET_SSN))
		num |= d3 & AT(c->dash, 3) & AT(d2, 4) & AT(c->dash, 6) &
		       AT(d4, 7);
	/* 3-3-4, 1-3-3-4, or a 0 then 10 or 11 digits in groups: 11 bytes
	 * or more, starting with 1 digit, exactly 3, or a 0 */
	if (on & BIT(DET_PHONE))
		num |= t11 & (~AT(d, 1) | (d3 & ~AT(d, 3)) | c->zero);
	/* 1 to 3 digits, then a dot, 7 bytes or more */
	if (on & BIT(DET_IPV4))
		num |= t7 & ~d4 &
		       (AT(c->dot, 1) | AT(c->dot, 2) | AT(c->dot, 3));
	return num & start;
}

/* Inlined into each classifier's window function below, so the masks
 * stay in registers. */
static inline __attribute__((always_inline)) uint64_t
candidates(const struct pii_classes *c, int prev, uint32_t on, int exhaustive)
{
	uint64_t d = c->digit;
	uint64_t cand = c->other;

	if (exhaustive)
		return cand | c->dash | c->colon |
		       (d & ~((d << 1) | !!(prev & CB_DIGIT)));
	if (d)
		cand |= number_starts(c, prev, on);
	if (on & BIT(DET_PEM)) {
		uint64_t pem = c->dash & AT(c->dash, 1);
		cand |= pem & AT(pem, 2) & AT(c->dash, 4); /* "-----" */
	}
	/* refined by the scan loop (colon chains) */
	if (on & BIT(DET_IPV6))
		cand |= c->colon;
	return cand;
}

/*
 * The same rules from the quick masks, when they can decide: unless a
 * digit run starts 11 number-like bytes (a card, an SSN, a phone) or 7
 * with a separator among its first 4 bytes (an IPv4 address), or there
 * are 5 separators in a row ("-----" of a PEM block), only the byte
 * before a number is left of the numeric rules.  Dates and times call
 * for the full rules; ids, amounts and hex do not.  Returns 0 with *full
 * set when the full rules must run.
 */
static inline __attribute__((always_inline)) uint64_t
quick_candidates(const struct pii_quick *q, int prev, uint32_t on, int *full)
{
	uint64_t d = q->digit, s = q->sep;
	uint64_t s2 = s & AT(s, 1);
	uint64_t cand = q->own;

	*full = (on & BIT(DET_PEM)) && (s2 & AT(s2, 2) & AT(s, 4));
	if (!d)
		return cand; /* text without digits: no numeric rule */
	uint64_t start = d & ~((d << 1) | !!(prev & CB_DIGIT));
	uint64_t t = d | (s & AT(d, 1));
	uint64_t t2 = t & AT(t, 1), t4 = t2 & AT(t2, 2);
	uint64_t t7 = t4 & AT(t4, 3) & start;
	uint64_t d4 = d & AT(d, 1) & AT(d, 2) & AT(d, 3);

	*full |= !!(t7 & (AT(t4, 7) | (~d4 & (AT(s, 1) | AT(s, 2) |
					      AT(s, 3)))));
	if (on & (BIT(DET_IBAN) | BIT(DET_PHONE)))
		cand |= ((q->before << 1) | !!(prev & CB_BEFORE)) & start;
	return cand;
}

int pii_class_of(int byte)
{
	return class_tab[(unsigned char)byte];
}

#ifdef PII_X86
/*
 * x + (0x80 - lo) moves the range [lo, lo + n) to the bottom of the
 * signed bytes, so one add and one signed compare test a range.
 */
#define RANGE_BIAS(lo) ((char)(0x80 - (lo)))
#define RANGE_LIM(n) ((char)(-128 + (n)))

/*
 * The bytes the lanes compare with, 32 of each, read from memory: built
 * in registers they cost three instructions each per call, more than the
 * compares, and a short value is one call.
 */
enum {
	K_BIAS_D, K_LIM_D, K_BIAS_U, K_LIM_U, K_SPACE, K_DASH, K_DOT, K_PLUS,
	K_LPAREN, K_ZERO, K_COLON, K_AT, K_J, K_A, K_UNDER, K_N
};
#define K32(c) {[0 ... 31] = (char)(c)}
static const char lane_k[K_N][32] __attribute__((aligned(32))) = {
	[K_BIAS_D] = K32(RANGE_BIAS('0')), [K_LIM_D] = K32(RANGE_LIM(10)),
	[K_BIAS_U] = K32(RANGE_BIAS('A')), [K_LIM_U] = K32(RANGE_LIM(26)),
	[K_SPACE] = K32(' '), [K_DASH] = K32('-'), [K_DOT] = K32('.'),
	[K_PLUS] = K32('+'), [K_LPAREN] = K32('('), [K_ZERO] = K32('0'),
	[K_COLON] = K32(':'), [K_AT] = K32('@'), [K_J] = K32('J'),
	[K_A] = K32('A'), [K_UNDER] = K32('_'),
};
#undef K32

/* The table's address, hidden from the optimizer so it loads the bytes
 * instead of building each constant in a register again. */
static inline __attribute__((always_inline)) const char (*lane_consts(void))[32]
{
	const char(*k)[32] = lane_k;
	__asm__("" : "+r"(k));
	return k;
}

static inline uint64_t load64(const unsigned char *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t load32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

/*
 * The first n (< 16) bytes in a register, zeros after them, read without
 * going past them and without a padded copy (a vector load of bytes just
 * stored piecewise stalls on store forwarding, which cost more than
 * classifying a short value): two overlapping reads, the second shifted
 * into place; a byte read twice is the same byte.
 */
static inline __attribute__((always_inline)) __m128i
load_short(const unsigned char *w, size_t n)
{
	uint64_t lo, hi = 0;

	if (n >= 8) {
		uint64_t b = load64(w + n - 8);
		unsigned s = 8 * ((unsigned)n - 8);
		lo = load64(w) | b << s;
		hi = s ? b >> (64 - s) : 0;
	} else if (n >= 4) {
		lo = load32(w) | (uint64_t)load32(w + n - 4) << 8 * (n - 4);
	} else if (n) {
		lo = w[0] | (uint64_t)w[n / 2] << 8 * (n / 2) |
		     (uint64_t)w[n - 1] << 8 * (n - 1);
	} else {
		lo = 0;
	}
	return _mm_set_epi64x((long long)hi, (long long)lo);
}

/*
 * The bytes w[0, n), n <= 64, as vectors and the bit each one's masks
 * start at: zeros past n; reads that would go past n end at n instead
 * and overlap the one before (a byte read twice lands on the same bit).
 */
struct bytes128 {
	__m128i v[4];
	int sh[4];
	int nv;
};

static inline __attribute__((always_inline)) void
load_sse2_n(const unsigned char *w, size_t n, struct bytes128 *b)
{
	size_t i;

	b->nv = 0;
	if (n < 16) {
		b->v[0] = load_short(w, n);
		b->sh[0] = 0;
		b->nv = 1;
		return;
	}
	for (i = 0; i + 16 <= n; i += 16, b->nv++) {
		b->v[b->nv] = _mm_loadu_si128((const __m128i *)(w + i));
		b->sh[b->nv] = (int)i;
	}
	if (i < n) {
		b->v[b->nv] = _mm_loadu_si128((const __m128i *)(w + n - 16));
		b->sh[b->nv++] = (int)(n - 16);
	}
}

/* Classify 16 bytes into bits [sh, sh + 16) of each mask. */
static inline __attribute__((always_inline)) void
lane_sse2(__m128i x, struct pii_classes *c, int sh)
{
	const char(*k)[32] = lane_consts();
#define K(i) _mm_load_si128((const __m128i *)k[i])
#define EQ(i) _mm_cmpeq_epi8(x, K(i))
#define MASK(v) ((uint64_t)(unsigned)_mm_movemask_epi8(v) << sh)
	__m128i d = _mm_cmplt_epi8(_mm_add_epi8(x, K(K_BIAS_D)), K(K_LIM_D));
	__m128i up = _mm_cmplt_epi8(_mm_add_epi8(x, K(K_BIAS_U)), K(K_LIM_U));

	c->digit |= MASK(d);
	c->space |= MASK(EQ(K_SPACE));
	c->dash |= MASK(EQ(K_DASH));
	c->dot |= MASK(EQ(K_DOT));
	c->before |= MASK(_mm_or_si128(up, _mm_or_si128(EQ(K_PLUS),
						       EQ(K_LPAREN))));
	c->zero |= MASK(EQ(K_ZERO));
	c->colon |= MASK(EQ(K_COLON));
	c->other |= MASK(_mm_or_si128(_mm_or_si128(EQ(K_AT), EQ(K_J)),
				      _mm_or_si128(EQ(K_A), EQ(K_UNDER))));
}

/* The quick masks of 16 bytes; colon is all ones when IPv6 is on. */
static inline __attribute__((always_inline)) void
qlane_sse2(__m128i x, struct pii_quick *q, int sh, __m128i colon)
{
	const char(*k)[32] = lane_consts();
	__m128i d = _mm_cmplt_epi8(_mm_add_epi8(x, K(K_BIAS_D)), K(K_LIM_D));
	__m128i up = _mm_cmplt_epi8(_mm_add_epi8(x, K(K_BIAS_U)), K(K_LIM_U));

	q->digit |= MASK(d);
	q->sep |= MASK(_mm_or_si128(_mm_or_si128(EQ(K_SPACE), EQ(K_DASH)),
				    EQ(K_DOT)));
	q->before |= MASK(_mm_or_si128(up, _mm_or_si128(EQ(K_PLUS),
						       EQ(K_LPAREN))));
	q->own |= MASK(_mm_or_si128(
		_mm_or_si128(_mm_or_si128(EQ(K_AT), EQ(K_J)),
			     _mm_or_si128(EQ(K_A), EQ(K_UNDER))),
		_mm_and_si128(EQ(K_COLON), colon)));
#undef K
#undef EQ
#undef MASK
}

static inline __attribute__((always_inline)) void
classify_sse2_n(const unsigned char *w, size_t n, struct pii_classes *c)
{
	struct bytes128 b;

	load_sse2_n(w, n, &b);
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < b.nv; i++)
		lane_sse2(b.v[i], c, b.sh[i]);
}

static inline __attribute__((always_inline)) void
quick_sse2_n(const unsigned char *w, size_t n, struct pii_quick *q,
	     uint32_t on)
{
	__m128i colon = _mm_set1_epi8(on & BIT(DET_IPV6) ? -1 : 0);
	struct bytes128 b;

	load_sse2_n(w, n, &b);
	memset(q, 0, sizeof(*q));
	for (int i = 0; i < b.nv; i++)
		qlane_sse2(b.v[i], q, b.sh[i], colon);
}

/* The same with 32-byte vectors; built for AVX2 whatever the compiler's
 * default, and only called when the CPU has it. */
#define AVX2 __attribute__((target("avx2")))

struct bytes256 {
	__m256i v[2];
	int sh[2];
	int nv;
};

/* Byte i: i below 16, else 0x80 (pshufb writes a zero). */
static const unsigned char shift_tab[32] = {
	0,    1,    2,    3,    4,    5,    6,    7,
	8,    9,    10,   11,   12,   13,   14,   15,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
	0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
};

AVX2 static inline __attribute__((always_inline)) void
load_avx2_n(const unsigned char *w, size_t n, struct bytes256 *b)
{
	b->sh[0] = 0;
	b->nv = 1;
	if (n < 16) {
		b->v[0] = _mm256_zextsi128_si256(load_short(w, n));
	} else if (n < 32) {
		/* bytes [16, n) are the last n - 16 of the read ending at
		 * n: shift them down, zeros after them */
		__m128i hi = _mm_loadu_si128((const __m128i *)(w + n - 16));
		__m128i k = _mm_loadu_si128(
			(const __m128i *)(shift_tab + 32 - n));
		b->v[0] = _mm256_set_m128i(_mm_shuffle_epi8(hi, k),
					   _mm_loadu_si128((const __m128i *)w));
	} else {
		b->v[0] = _mm256_loadu_si256((const __m256i *)w);
		b->v[1] = _mm256_loadu_si256((const __m256i *)(w + n - 32));
		b->sh[1] = (int)(n - 32);
		b->nv = 2;
	}
}

AVX2 static inline __attribute__((always_inline)) void
lane_avx2(__m256i x, struct pii_classes *c, int sh)
{
	const char(*k)[32] = lane_consts();
#define K(i) _mm256_load_si256((const __m256i *)k[i])
#define EQ(i) _mm256_cmpeq_epi8(x, K(i))
#define MASK(v) ((uint64_t)(unsigned)_mm256_movemask_epi8(v) << sh)
	__m256i d = _mm256_cmpgt_epi8(K(K_LIM_D),
				      _mm256_add_epi8(x, K(K_BIAS_D)));
	__m256i up = _mm256_cmpgt_epi8(K(K_LIM_U),
				       _mm256_add_epi8(x, K(K_BIAS_U)));

	c->digit |= MASK(d);
	c->space |= MASK(EQ(K_SPACE));
	c->dash |= MASK(EQ(K_DASH));
	c->dot |= MASK(EQ(K_DOT));
	c->before |= MASK(_mm256_or_si256(up, _mm256_or_si256(EQ(K_PLUS),
							       EQ(K_LPAREN))));
	c->zero |= MASK(EQ(K_ZERO));
	c->colon |= MASK(EQ(K_COLON));
	c->other |= MASK(_mm256_or_si256(_mm256_or_si256(EQ(K_AT), EQ(K_J)),
					 _mm256_or_si256(EQ(K_A), EQ(K_UNDER))));
#undef K
#undef EQ
#undef MASK
}

/*
 * The quick masks of 32 bytes from two 16-entry tables: a byte's bits
 * are those of its low nibble's entry and of its high nibble's, so every
 * class is a product of nibble sets.  Bits: 7 digit, 3 ' ' '-' '.',
 * 4..6 'A'-'O', 'P'-'Z', '(' '+', 0..2 '@' 'A' 'J', '_', ':'.
 */
enum {
	NB_OWN4 = 1 << 0, NB_OWN5 = 1 << 1, NB_COLON = 1 << 2,
	NB_SEP = 1 << 3, NB_BEF4 = 1 << 4, NB_BEF5 = 1 << 5,
	NB_BEF2 = 1 << 6, NB_DIGIT = 1 << 7,
};
#define NB_LO_2_7 (NB_BEF4 | NB_BEF5 | NB_DIGIT)
static const char nib_lo[32] __attribute__((aligned(32))) = {
#define LO16                                                                  \
	NB_OWN4 | NB_SEP | NB_BEF5 | NB_DIGIT,            /* @ ' ' P 0 */    \
	NB_OWN4 | NB_BEF4 | NB_BEF5 | NB_DIGIT,           /* A Q 1 */        \
	NB_LO_2_7, NB_LO_2_7, NB_LO_2_7, NB_LO_2_7, NB_LO_2_7, NB_LO_2_7,    \
	NB_BEF4 | NB_BEF5 | NB_BEF2 | NB_DIGIT,           /* H X ( 8 */      \
	NB_BEF4 | NB_BEF5 | NB_DIGIT,                     /* I Y 9 */        \
	NB_OWN4 | NB_COLON | NB_BEF4 | NB_BEF5,           /* J : Z */        \
	NB_BEF4 | NB_BEF2,                                /* K + */          \
	NB_BEF4,                                          /* L */            \
	NB_SEP | NB_BEF4,                                 /* - M */          \
	NB_SEP | NB_BEF4,                                 /* . N */          \
	NB_OWN5 | NB_BEF4                                 /* _ O */
	LO16, LO16
#undef LO16
};
static const char nib_hi[32] __attribute__((aligned(32))) = {
#define HI16                                                                  \
	0, 0, NB_SEP | NB_BEF2, NB_COLON | NB_DIGIT, NB_OWN4 | NB_BEF4,      \
	NB_OWN5 | NB_BEF5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
	HI16, HI16
#undef HI16
};
#undef NB_LO_2_7

/* own is NB_OWN4 | NB_OWN5, with NB_COLON when IPv6 is on. */
AVX2 static inline __attribute__((always_inline)) void
qlane_avx2(__m256i x, struct pii_quick *q, int sh, __m256i own)
{
	const __m256i *lo_t = (const __m256i *)nib_lo;
	const __m256i *hi_t = (const __m256i *)nib_hi;
	__m256i low = _mm256_set1_epi8(0x0f);
	__asm__("" : "+r"(lo_t), "+r"(hi_t));
	__m256i c = _mm256_and_si256(
		_mm256_shuffle_epi8(_mm256_load_si256(lo_t),
				    _mm256_and_si256(x, low)),
		_mm256_shuffle_epi8(
			_mm256_load_si256(hi_t),
			_mm256_and_si256(_mm256_srli_epi16(x, 4), low)));
	/* a non-zero byte of c & m gets its top bit from a saturating add
	 * of 0x7f */
	__m256i top = _mm256_set1_epi8(0x7f);
#define MASK(v) ((uint64_t)(unsigned)_mm256_movemask_epi8(v) << sh)
#define ANY(m) _mm256_adds_epu8(_mm256_and_si256(c, m), top)
	q->digit |= MASK(c);
	q->sep |= MASK(_mm256_slli_epi16(c, 4));
	q->before |= MASK(ANY(_mm256_set1_epi8(NB_BEF4 | NB_BEF5 | NB_BEF2)));
	q->own |= MASK(ANY(own));
#undef ANY
#undef MASK
}

AVX2 static inline __attribute__((always_inline)) void
classify_avx2_n(const unsigned char *w, size_t n, struct pii_classes *c)
{
	struct bytes256 b;

	load_avx2_n(w, n, &b);
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < b.nv; i++)
		lane_avx2(b.v[i], c, b.sh[i]);
}

/* Written out rather than looping over load_avx2_n's vectors: short
 * values are one call each, and the loop kept its vectors on the stack. */
AVX2 static inline __attribute__((always_inline)) void
quick_avx2_n(const unsigned char *w, size_t n, struct pii_quick *q,
	     uint32_t on)
{
	__m256i own = _mm256_set1_epi8(
		(char)(NB_OWN4 | NB_OWN5 | (on & BIT(DET_IPV6) ? NB_COLON : 0)));
	__m256i x;

	memset(q, 0, sizeof(*q));
	if (n < 16) {
		x = _mm256_zextsi128_si256(load_short(w, n));
	} else if (n < 32) {
		__m128i hi = _mm_loadu_si128((const __m128i *)(w + n - 16));
		__m128i k = _mm_loadu_si128(
			(const __m128i *)(shift_tab + 32 - n));
		x = _mm256_set_m128i(_mm_shuffle_epi8(hi, k),
				     _mm_loadu_si128((const __m128i *)w));
	} else {
		x = _mm256_loadu_si256((const __m256i *)w);
		if (n > 32)
			qlane_avx2(_mm256_loadu_si256(
					   (const __m256i *)(w + n - 32)),
				   q, (int)(n - 32), own);
	}
	qlane_avx2(x, q, 0, own);
}
#endif /* PII_X86 */

/* One function per classifier: classify, then the rules, inlined. */
#define TAIL_FN(name, classify, attr)                                         \
	attr __attribute__((noinline)) uint64_t name(const unsigned char *w, size_t n, int prev,        \
			   uint32_t on, int exhaustive)                       \
	{                                                                     \
		struct pii_classes c;                                         \
		classify(w, n, &c);                                           \
		return candidates(&c, prev, on, exhaustive);                  \
	}

#define WINDOW_FN(name, tail, attr)                                           \
	attr uint64_t name(const unsigned char *w, int prev, uint32_t on,     \
			   int exhaustive)                                    \
	{                                                                     \
		return tail(w, 64, prev, on, exhaustive);                     \
	}

/* The quick masks first; the full classes only when they cannot say. */
#define QUICK_FN(name, quick, tail, attr)                                     \
	attr uint64_t name(const unsigned char *w, size_t n, int prev,        \
			   uint32_t on)                                       \
	{                                                                     \
		struct pii_quick q;                                           \
		int full;                                                     \
		quick(w, n, &q, on);                                          \
		uint64_t cand = quick_candidates(&q, prev, on, &full);        \
		return full ? tail(w, n, prev, on, 0) : cand;                 \
	}

TAIL_FN(pii_tail_scalar, classify_scalar_n, )
WINDOW_FN(pii_window_scalar, pii_tail_scalar, )
#ifdef PII_X86
TAIL_FN(pii_tail_sse2, classify_sse2_n, )
WINDOW_FN(pii_window_sse2, pii_tail_sse2, )
QUICK_FN(pii_quick_sse2, quick_sse2_n, pii_tail_sse2, )
TAIL_FN(pii_tail_avx2, classify_avx2_n, AVX2)
WINDOW_FN(pii_window_avx2, pii_tail_avx2, AVX2)
QUICK_FN(pii_quick_avx2, quick_avx2_n, pii_tail_avx2, AVX2)
#endif

uint64_t pii_quick_scalar(const unsigned char *w, size_t n, int prev,
			  uint32_t on)
{
	return pii_tail_scalar(w, n, prev, on, 0);
}

void pii_window_pick(pii_tail_fn *tail, pii_quick_fn *quick)
{
#ifdef PII_X86
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2")) {
		*tail = pii_tail_avx2;
		*quick = pii_quick_avx2;
		return;
	}
	*tail = pii_tail_sse2;
	*quick = pii_quick_sse2;
#else
	*tail = pii_tail_scalar;
	*quick = pii_quick_scalar;
#endif
}
