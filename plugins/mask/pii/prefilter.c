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

static inline void classify_scalar(const unsigned char *w,
				   struct pii_classes *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < 64; i++) {
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

#ifdef PII_X86
/*
 * x + (0x80 - lo) moves the range [lo, lo + n) to the bottom of the
 * signed bytes, so one add and one signed compare test a range.
 */
#define RANGE_BIAS(lo) ((char)(0x80 - (lo)))
#define RANGE_LIM(n) ((char)(-128 + (n)))

/* Classify 16 bytes into bits [sh, sh + 16) of each mask. */
static inline void lane_sse2(__m128i x, struct pii_classes *c, int sh)
{
#define EQ(ch) _mm_cmpeq_epi8(x, _mm_set1_epi8(ch))
#define MASK(v) ((uint64_t)(unsigned)_mm_movemask_epi8(v) << sh)
	__m128i d = _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8(RANGE_BIAS('0'))),
				   _mm_set1_epi8(RANGE_LIM(10)));
	__m128i up = _mm_cmplt_epi8(_mm_add_epi8(x, _mm_set1_epi8(RANGE_BIAS('A'))),
				    _mm_set1_epi8(RANGE_LIM(26)));

	c->digit |= MASK(d);
	c->space |= MASK(EQ(' '));
	c->dash |= MASK(EQ('-'));
	c->dot |= MASK(EQ('.'));
	c->before |= MASK(_mm_or_si128(up, _mm_or_si128(EQ('+'), EQ('('))));
	c->zero |= MASK(EQ('0'));
	c->colon |= MASK(EQ(':'));
	c->other |= MASK(_mm_or_si128(_mm_or_si128(EQ('@'), EQ('J')),
				      _mm_or_si128(EQ('A'), EQ('_'))));
#undef EQ
#undef MASK
}

static inline void classify_sse2(const unsigned char *w,
				 struct pii_classes *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < 64; i += 16)
		lane_sse2(_mm_loadu_si128((const __m128i *)(w + i)), c, i);
}

/* The same on 32 bytes; built for AVX2 whatever the compiler's default,
 * and only called when the CPU has it. */
__attribute__((target("avx2"))) static inline void
lane_avx2(__m256i x, struct pii_classes *c, int sh)
{
#define EQ(ch) _mm256_cmpeq_epi8(x, _mm256_set1_epi8(ch))
#define MASK(v) ((uint64_t)(unsigned)_mm256_movemask_epi8(v) << sh)
	__m256i d = _mm256_cmpgt_epi8(
		_mm256_set1_epi8(RANGE_LIM(10)),
		_mm256_add_epi8(x, _mm256_set1_epi8(RANGE_BIAS('0'))));
	__m256i up = _mm256_cmpgt_epi8(
		_mm256_set1_epi8(RANGE_LIM(26)),
		_mm256_add_epi8(x, _mm256_set1_epi8(RANGE_BIAS('A'))));

	c->digit |= MASK(d);
	c->space |= MASK(EQ(' '));
	c->dash |= MASK(EQ('-'));
	c->dot |= MASK(EQ('.'));
	c->before |= MASK(_mm256_or_si256(up, _mm256_or_si256(EQ('+'),
							       EQ('('))));
	c->zero |= MASK(EQ('0'));
	c->colon |= MASK(EQ(':'));
	c->other |= MASK(_mm256_or_si256(_mm256_or_si256(EQ('@'), EQ('J')),
					 _mm256_or_si256(EQ('A'), EQ('_'))));
#undef EQ
#undef MASK
}

__attribute__((target("avx2"))) static inline void
classify_avx2(const unsigned char *w, struct pii_classes *c)
{
	memset(c, 0, sizeof(*c));
	lane_avx2(_mm256_loadu_si256((const __m256i *)w), c, 0);
	lane_avx2(_mm256_loadu_si256((const __m256i *)(w + 32)), c, 32);
}
#endif /* PII_X86 */

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
	uint64_t t7 = t4 & AT(t4, 3), t11 = t7 & AT(t4, 7);
	uint64_t t13 = t11 & AT(t2, 11);
	uint64_t d2 = d & AT(d, 1), d3 = d2 & AT(d, 2), d4 = d2 & AT(d2, 2);
	uint64_t d13 = d4 & AT(d4, 4) & AT(d4, 8) & AT(d, 12);
	uint64_t num = 0;

	/* IBAN (two capitals before the check digits), "+1 ...", "(212) ..." */
	if (on & (BIT(DET_IBAN) | BIT(DET_PHONE)))
		num |= before;
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

int pii_class_of(int byte)
{
	return class_tab[(unsigned char)byte];
}

/* One function per classifier: classify, then the rules, inlined. */
#define WINDOW_FN(name, classify, attr)                                       \
	attr uint64_t name(const unsigned char *w, int prev, uint32_t on,     \
			   int exhaustive)                                    \
	{                                                                     \
		struct pii_classes c;                                         \
		classify(w, &c);                                              \
		return candidates(&c, prev, on, exhaustive);                  \
	}

WINDOW_FN(pii_window_scalar, classify_scalar, )
#ifdef PII_X86
WINDOW_FN(pii_window_sse2, classify_sse2, )
WINDOW_FN(pii_window_avx2, classify_avx2, __attribute__((target("avx2"))))
#endif

pii_window_fn pii_window_pick(void)
{
#ifdef PII_X86
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		return pii_window_avx2;
	return pii_window_sse2;
#else
	return pii_window_scalar;
#endif
}

