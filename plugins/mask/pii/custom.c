/*
 * Validators (Luhn, mod-97) and custom detectors: a regular expression
 * from config, compiled with PCRE2 and its JIT, and an optional validator
 * run on what it matched.
 *
 * Why PCRE2 and not Vectorscan: custom detectors are few and optional, and
 * the built-in detectors do not use regular expressions at all (see
 * scan.c).  A custom regex runs once per value from the current position
 * and jumps straight to its next match, with JIT and partial matching for
 * streams; bench/mask measures the plain PCRE2 loop next to the scanner.
 */
#include "pii.h"

#include <stdio.h>
#include <string.h>

int pii_luhn(const unsigned char *d, size_t n)
{
	unsigned sum = 0;
	int dbl = 0;

	for (size_t i = n; i-- > 0;) {
		unsigned v = d[i];
		if (dbl) {
			v *= 2;
			if (v > 9)
				v -= 9;
		}
		sum += v;
		dbl = !dbl;
	}
	return n > 1 && sum % 10 == 0;
}

/* ISO 13616: move the first four characters to the end, letters become
 * 10..35, the number mod 97 must be 1. */
int pii_mod97(const unsigned char *s, size_t n)
{
	unsigned r = 0;

	if (n < 5)
		return 0;
	for (size_t k = 0; k < n; k++) {
		int c = s[(k + 4) % n];
		if (c >= '0' && c <= '9')
			r = (r * 10 + (unsigned)(c - '0')) % 97;
		else if (c >= 'A' && c <= 'Z')
			r = (r * 100 + (unsigned)(c - 'A' + 10)) % 97;
		else
			return 0;
	}
	return r == 1;
}

int pii_validate(int validator, const unsigned char *s, size_t n)
{
	unsigned char tmp[64];
	size_t k = 0;

	if (validator == VAL_NONE)
		return 1;
	for (size_t i = 0; i < n; i++) {
		int c = s[i];
		if (validator == VAL_LUHN && c >= '0' && c <= '9') {
			if (k == sizeof(tmp))
				return 0;
			tmp[k++] = (unsigned char)(c - '0');
		} else if (validator == VAL_MOD97 &&
			   ((c >= '0' && c <= '9') ||
			    ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))) {
			if (k == sizeof(tmp))
				return 0;
			tmp[k++] = (unsigned char)(c >= 'a' ? c - 0x20 : c);
		}
	}
	return validator == VAL_LUHN ? pii_luhn(tmp, k) : pii_mod97(tmp, k);
}

int pii_custom_compile(struct pii_custom *c, const char *regex, int caseless,
		       char *err, size_t errlen)
{
	int ec;
	PCRE2_SIZE off;
	uint32_t lookbehind = 0;

	c->re = pcre2_compile((PCRE2_SPTR)regex, PCRE2_ZERO_TERMINATED,
			      (caseless ? PCRE2_CASELESS : 0) |
				      PCRE2_NEVER_BACKSLASH_C,
			      &ec, &off, NULL);
	if (!c->re) {
		PCRE2_UCHAR msg[120];
		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(err, errlen, "regex: %s at offset %zu", (char *)msg,
			 (size_t)off);
		return -1;
	}
	pcre2_pattern_info(c->re, PCRE2_INFO_MAXLOOKBEHIND, &lookbehind);
	if (lookbehind >= PII_CTX) {
		snprintf(err, errlen, "regex: look-behind longer than %d",
			 PII_CTX - 1);
		return -1;
	}
	/* No JIT (an unusual platform) only costs speed. */
	(void)pcre2_jit_compile(c->re,
				PCRE2_JIT_COMPLETE);
	return 0;
}

int pii_custom_next(struct pii_scan *sc, size_t i, struct pii_hit *h,
		    size_t *more)
{
	const struct pii_custom *c = &sc->pf->custom[i];
	const unsigned char *subj = sc->buf + sc->lo;
	size_t len = sc->end - sc->lo;
	size_t from = sc->floor;
	/* Partial matching (a stream's non-final part) runs interpreted:
	 * the JIT's partial path branches on uninitialised words of its own
	 * (valgrind, PCRE2 10.42), and a suite that is not valgrind-clean
	 * hides real bugs.  Whole values and a stream's end use the JIT. */
	uint32_t opts = PCRE2_NOTEMPTY |
			(sc->final ? 0 : PCRE2_PARTIAL_HARD | PCRE2_NO_JIT);

	while (from <= sc->end) {
		int rc = pcre2_match(c->re, subj, len, from - sc->lo, opts,
				     sc->md, NULL);
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(sc->md);
		if (rc == PCRE2_ERROR_PARTIAL) {
			size_t ps = ov[0] + sc->lo;
			if (sc->end - ps >= c->max_len) {
				from = ps + 1; /* too long whatever follows */
				continue;
			}
			*more = ps;
			return PII_MORE;
		}
		if (rc < 0)
			return PII_NONE;
		size_t s = ov[0] + sc->lo, e = ov[1] + sc->lo;
		if (e <= s || e - s > c->max_len ||
		    !pii_validate(c->validator, sc->buf + s, e - s)) {
			from = s + 1;
			continue;
		}
		h->s = s;
		h->e = e;
		h->det = DET_BUILTIN_MAX + (uint32_t)i;
		h->anchor = s;
		return PII_MATCH;
	}
	return PII_NONE;
}
