/*
 * Digit-triggered detectors: payment cards, IBANs, US social security
 * numbers, phone numbers, IPv4 addresses.  Each one validates what it
 * found (Luhn and issuer, mod-97 and country length, SSA ranges, number
 * plans, octet ranges) so lookalikes stay readable.
 */
#include "pii.h"

#include <string.h>

#define BIT(d) (1U << (d))

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_upper(int c)
{
	return c >= 'A' && c <= 'Z';
}

static int is_alpha(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

int pii_is_word(int c)
{
	return is_digit(c) || is_alpha(c) || c == '_';
}

int pii_json_escape_ends_at(const unsigned char *b, size_t lo, size_t p)
{
	size_t q;

	if (p >= lo + 2 && b[p - 2] == '\\' && strchr("\"\\/bfnrt", b[p - 1]))
		q = p - 2;
	else if (p >= lo + 6 && b[p - 6] == '\\' && b[p - 5] == 'u')
		q = p - 6;
	else
		return 0;
	/* The backslash at q starts an escape only after an even run. */
	size_t run = 0;
	while (q > lo && b[q - 1] == '\\') {
		q--;
		run++;
	}
	return run % 2 == 0;
}

size_t pii_json_escape_len(const unsigned char *b, size_t q, size_t end)
{
	if (q + 1 >= end)
		return 1;
	if (b[q + 1] == 'u')
		return end - q < 6 ? end - q : 6;
	return 2;
}

/* Non-zero if the byte before p belongs to the same word (no boundary). */
int pii_word_before(struct pii_scan *sc, size_t p)
{
	if (p <= sc->lo || !pii_is_word(sc->buf[p - 1]))
		return 0;
	if (sc->json && pii_json_escape_ends_at(sc->buf, sc->lo, p))
		return 0;
	return 1;
}

/* ---- payment cards ---- */

struct iin {
	uint32_t lo, hi;
	uint8_t digits; /* prefix length lo/hi are written in */
	uint32_t lens;  /* bit n: n digits allowed */
};

#define L(n) (1U << (n))
#define L16_19 (L(16) | L(17) | L(18) | L(19))

static const struct iin iins[] = {
	{4, 4, 1, L(13) | L(16) | L(19)},       /* Visa */
	{51, 55, 2, L(16)},                     /* Mastercard */
	{2221, 2720, 4, L(16)},                 /* Mastercard 2-series */
	{34, 34, 2, L(15)},                     /* American Express */
	{37, 37, 2, L(15)},
	{6011, 6011, 4, L16_19},                /* Discover */
	{644, 649, 3, L16_19},
	{65, 65, 2, L16_19},
	{300, 305, 3, L(14) | L16_19},          /* Diners Club */
	{36, 36, 2, L(14) | L16_19},
	{38, 39, 2, L(14) | L16_19},
	{3528, 3589, 4, L16_19},                /* JCB */
	{62, 62, 2, L16_19},                    /* UnionPay */
	{2200, 2204, 4, L16_19},                /* Mir */
	{50, 50, 2, L(13) | L(15) | L16_19},    /* Maestro */
	{56, 58, 2, L(13) | L(15) | L16_19},
	{6304, 6304, 4, L(13) | L(15) | L16_19},
	{6759, 6763, 4, L(13) | L(15) | L16_19},
};

static int known_issuer(const unsigned char *d, size_t n)
{
	for (size_t i = 0; i < sizeof(iins) / sizeof(iins[0]); i++) {
		uint32_t v = 0;
		for (size_t k = 0; k < iins[i].digits; k++)
			v = v * 10 + d[k];
		if (v >= iins[i].lo && v <= iins[i].hi && (iins[i].lens & L(n)))
			return 1;
	}
	return 0;
}

static int card(struct pii_scan *sc, size_t p, struct pii_hit *h)
{
	unsigned char d[19];
	size_t nd = 0, q = p, glen = 0;
	int sep = 0, ngroups = 0, c;

	for (;;) {
		c = pii_ch(sc, q);
		if (is_digit(c)) {
			if (nd == sizeof(d))
				return 0;
			d[nd++] = (unsigned char)(c - '0');
			glen++;
			q++;
			continue;
		}
		if ((c == ' ' || c == '-') && is_digit(pii_ch(sc, q + 1))) {
			if (sep && c != sep)
				return 0;
			/* Printed cards group 4-4-4-4, 4-6-5, 4-4-4-4-3. */
			if ((ngroups == 0 && glen != 4) || glen < 3 || glen > 6)
				return 0;
			sep = c;
			ngroups++;
			glen = 0;
			q++;
			continue;
		}
		break;
	}
	if (nd < 13 || pii_is_word(c))
		return 0;
	if (sep && (glen < 3 || glen > 6))
		return 0;
	if ((c == '.' || c == ',') && is_digit(pii_ch(sc, q + 1)))
		return 0; /* part of a longer number */
	if (!known_issuer(d, nd) || !pii_luhn(d, nd))
		return 0;
	h->s = p;
	h->e = q;
	h->det = DET_CARD;
	return 1;
}

/* ---- IBAN ---- */

static const char iban_lengths[] =
	"AD24AE23AL28AT20AZ28BA20BE16BG22BH22BR29BY28CH21CR22CY28CZ24DE22"
	"DK18DO28EE20EG29ES24FI18FO18FR27GB22GE22GI23GL18GR27GT28HR21HU28"
	"IE22IL23IQ23IS26IT27JO30KW30KZ20LB28LC32LI21LT20LU20LV21LY25MC27"
	"MD24ME22MK19MR27MT31MU30NL18NO15PK24PL28PS29PT25QA29RO24RS22SA24"
	"SC31SD18SE24SI19SK24SM27ST25SV28TL23TN24TR26UA29VA22VG24XK20";

static size_t iban_length(int a, int b)
{
	for (const char *t = iban_lengths; *t; t += 4)
		if (t[0] == a && t[1] == b)
			return (size_t)((t[2] - '0') * 10 + (t[3] - '0'));
	return 0;
}

static int iban(struct pii_scan *sc, size_t s, struct pii_hit *h)
{
	unsigned char out[34];
	size_t len = iban_length(sc->buf[s], sc->buf[s + 1]);
	size_t n = 0, q = s;
	int grouped, c;

	if (!len || !is_digit(pii_ch(sc, s + 3)))
		return 0;
	grouped = pii_ch(sc, s + 4) == ' ';
	while (n < len) {
		c = pii_ch(sc, q);
		if (is_digit(c) || is_upper(c)) {
			out[n++] = (unsigned char)c;
			q++;
		} else if (c == ' ' && grouped && n % 4 == 0 &&
			   pii_is_word(pii_ch(sc, q + 1))) {
			q++;
		} else {
			return 0;
		}
	}
	c = pii_ch(sc, q);
	if (pii_is_word(c))
		return 0;
	if (!pii_mod97(out, n))
		return 0;
	h->s = s;
	h->e = q;
	h->det = DET_IBAN;
	return 1;
}

/* ---- US social security numbers ---- */

static int digits_at(struct pii_scan *sc, size_t q, size_t n, unsigned *v)
{
	*v = 0;
	for (size_t i = 0; i < n; i++) {
		int c = pii_ch(sc, q + i);
		if (!is_digit(c))
			return 0;
		*v = *v * 10 + (unsigned)(c - '0');
	}
	return 1;
}

static int ssn(struct pii_scan *sc, size_t p, struct pii_hit *h)
{
	unsigned area, group, serial;
	int c;

	if (!digits_at(sc, p, 3, &area) || pii_ch(sc, p + 3) != '-' ||
	    !digits_at(sc, p + 4, 2, &group) || pii_ch(sc, p + 6) != '-' ||
	    !digits_at(sc, p + 7, 4, &serial))
		return 0;
	c = pii_ch(sc, p + 11);
	if (pii_is_word(c) || ((c == '-' || c == '.') &&
			       is_digit(pii_ch(sc, p + 12))))
		return 0;
	/* Never issued: area 000, 666, 900-999; group 00; serial 0000;
	 * and the two numbers printed on sample cards. */
	if (area == 0 || area == 666 || area >= 900 || group == 0 ||
	    serial == 0)
		return 0;
	if ((area == 78 && group == 5 && serial == 1120) ||
	    (area == 219 && group == 9 && serial == 9999))
		return 0;
	h->s = p;
	h->e = p + 11;
	h->det = DET_SSN;
	return 1;
}

/* ---- phone numbers ---- */

/* Words that make the number after them an identifier, not a phone. */
static int order_context(struct pii_scan *sc, size_t s)
{
	static const char *const words[] = {
		"order", "invoice", "inv", "ref", "reference", "no", "nr",
		"number", "id", "ticket", "tracking", "account", "acct", "sku",
		"po", "case", "serial", "item", "transaction", "txn", NULL,
	};
	char w[16];
	size_t q = s, n = 0;
	int hash = 0;

	for (int i = 0; i < 4 && q > sc->lo; i++) {
		int c = sc->buf[q - 1];
		if (c == '#')
			hash = 1;
		else if (c != ' ' && c != ':' && c != '.')
			break;
		q--;
	}
	if (hash)
		return 1;
	while (q > sc->lo && is_alpha(sc->buf[q - 1]) && n < sizeof(w) - 1) {
		q--;
		n++;
	}
	if (n == 0 || n == sizeof(w) - 1 || (q > sc->lo &&
					      pii_is_word(sc->buf[q - 1])))
		return 0;
	for (size_t i = 0; i < n; i++)
		w[i] = (char)(sc->buf[q + i] | 0x20);
	w[n] = 0;
	for (int i = 0; words[i]; i++)
		if (!strcmp(w, words[i]))
			return 1;
	return 0;
}

static int phone(struct pii_scan *sc, size_t p, int plus, int paren,
		 struct pii_hit *h)
{
	unsigned char d[16], g[8];
	size_t s = (plus || paren) ? p - 1 : p;
	size_t q = p, nd = 0;
	int ng = 0, open = paren, c, seps = 0, sep0 = 0, mixed = 0;
	int parens = paren;

	if (s < sc->floor)
		return 0;
	for (;;) {
		size_t gl = 0;
		while (is_digit(c = pii_ch(sc, q))) {
			if (nd == 15)
				return 0;
			d[nd++] = (unsigned char)(c - '0');
			gl++;
			q++;
		}
		if (!gl || ng == (int)sizeof(g))
			return 0;
		g[ng++] = (unsigned char)gl;
		if (open) {
			if (c != ')')
				return 0;
			open = 0;
			q++;
			c = pii_ch(sc, q);
			if (c == ' ' || c == '-')
				q++;
			if (!is_digit(pii_ch(sc, q)))
				return 0;
			continue;
		}
		if (c == ' ' || c == '-' || c == '.') {
			int c2 = pii_ch(sc, q + 1);
			if (c2 == '(' && plus && !parens &&
			    is_digit(pii_ch(sc, q + 2))) {
				q += 2;
				open = parens = 1;
				continue;
			}
			if (!is_digit(c2))
				break;
			if (seps && c != sep0)
				mixed = 1;
			if (!seps)
				sep0 = c;
			seps++;
			q++;
			continue;
		}
		break;
	}
	c = pii_ch(sc, q);
	if (pii_is_word(c) || c == '+' || c == '@')
		return 0;
	if (plus) {
		if (nd < 8 || d[0] == 0)
			return 0;
	} else if (paren) {
		/* (NXX) NXX-XXXX */
		if (ng != 3 || g[0] != 3 || g[1] != 3 || g[2] != 4 ||
		    d[0] < 2 || d[3] < 2)
			return 0;
	} else if (ng == 3 && g[0] == 3 && g[1] == 3 && g[2] == 4 && !mixed) {
		if (d[0] < 2 || d[3] < 2) /* NANP area and exchange */
			return 0;
	} else if (ng == 4 && g[0] == 1 && d[0] == 1 && g[1] == 3 &&
		   g[2] == 3 && g[3] == 4 && !mixed) {
		if (d[1] < 2 || d[4] < 2)
			return 0;
	} else if (d[0] == 0 && ng >= 2 && nd >= 10 && nd <= 11 && !mixed) {
		/* national format with trunk prefix: 020 7946 0958 */
		for (int i = 0; i < ng; i++)
			if (g[i] < 2)
				return 0;
	} else {
		return 0; /* a bare run of digits is an id, not a phone */
	}
	if (!plus && order_context(sc, s))
		return 0;
	h->s = s;
	h->e = q;
	h->det = DET_PHONE;
	return 1;
}

/* ---- IPv4 ---- */

static int ipv4(struct pii_scan *sc, size_t p, struct pii_hit *h)
{
	size_t q = p;
	int c;

	for (int i = 0; i < 4; i++) {
		unsigned v = 0, n = 0;
		while (is_digit(c = pii_ch(sc, q)) && n < 4) {
			v = v * 10 + (unsigned)(c - '0');
			n++;
			q++;
		}
		if (n == 0 || n > 3 || v > 255 ||
		    (n > 1 && sc->buf[q - n] == '0'))
			return 0;
		if (i < 3) {
			if (c != '.')
				return 0;
			q++;
		}
	}
	c = pii_ch(sc, q);
	if (pii_is_word(c) || ((c == '.' || c == '-') &&
			       is_digit(pii_ch(sc, q + 1))))
		return 0;
	h->s = p;
	h->e = q;
	h->det = DET_IPV4;
	return 1;
}

int pii_on_digit(struct pii_scan *sc, size_t p, struct pii_hit *h, int *n,
		 size_t *resume)
{
	const struct pii_profile *pf = sc->pf;
	const unsigned char *b = sc->buf;
	size_t q = p;
	int prev;

	/* Nothing starts inside a run of digits. */
	while (q < sc->end && is_digit(b[q]))
		q++;
	*resume = q;
	*n = 1;

	/* Most digit runs in text are dates, times, amounts and ids: the
	 * run's length and the bytes around it rule out every detector
	 * before anything is parsed. */
	size_t run = q - p;
	int after = q < sc->end ? b[q] : -1;
	int before = p > sc->lo ? b[p - 1] : -1;
	int sep = after == ' ' || after == '-' || after == '.';
	if (q < sc->end && run < 13 && !sep && after != ')' &&
	    before != '+' && !(before >= 'A' && before <= 'Z'))
		return PII_NONE;

	if ((pf->enabled & BIT(DET_IBAN)) && p >= sc->floor + 2 &&
	    is_upper(b[p - 1]) && is_upper(b[p - 2]) &&
	    !pii_word_before(sc, p - 2)) {
		int r = iban(sc, p - 2, h);
		if (sc->touched && !sc->final) {
			*resume = p - 2;
			return PII_MORE;
		}
		if (r)
			return PII_MATCH;
	}
	if (pii_word_before(sc, p))
		return PII_NONE;
	prev = p > sc->lo ? b[p - 1] : -1;
	if ((prev == '.' || prev == ',') && p >= sc->lo + 2 &&
	    is_digit(b[p - 2]))
		return PII_NONE; /* decimals, thousands */
	int plus = prev == '+' && !pii_word_before(sc, p - 1);
	int paren = prev == '(';
	if (prev == '+' && !plus)
		return PII_NONE;

	after = pii_ch(sc, q);
	if (!plus && (pf->enabled & BIT(DET_CARD)) &&
	    (run >= 13 || (run == 4 && (after == ' ' || after == '-'))) &&
	    card(sc, p, h))
		return PII_MATCH;
	if (!plus && (pf->enabled & BIT(DET_SSN)) && run == 3 &&
	    after == '-' && ssn(sc, p, h))
		return PII_MATCH;
	if ((pf->enabled & BIT(DET_PHONE)) &&
	    (plus || (paren && run == 3 && after == ')') ||
	     (sep && (run == 3 || (run == 1 && b[p] == '1') ||
		      (run >= 2 && b[p] == '0')))) &&
	    phone(sc, p, plus, paren, h))
		return PII_MATCH;
	if ((plus || paren) && sc->touched && !sc->final) {
		*resume = p - 1;
		return PII_MORE;
	}
	if (!plus && (pf->enabled & BIT(DET_IPV4)) && run <= 3 &&
	    after == '.' && ipv4(sc, p, h))
		return PII_MATCH;
	return PII_NONE;
}
