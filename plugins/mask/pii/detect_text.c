/*
 * Detectors anchored on a rarer byte: email ('@'), IPv6 (':'), JSON web
 * tokens ("eyJ"), AWS access key ids ("AKIA"/"ASIA") and secret keys
 * (near a key id or an aws_secret... name), PEM private key blocks
 * ("-----BEGIN").  Each reads a bounded number of bytes.
 */
#include "pii.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#define BIT(d) (1U << (d))

static int is_alnum(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
	       (c >= 'a' && c <= 'z');
}

static int is_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* ---- email ---- */

static int local_char(int c)
{
	return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' ||
	       c == '-';
}

int pii_on_at(struct pii_scan *sc, size_t p, struct pii_hit *h, int *n,
	      size_t *resume)
{
	const unsigned char *b = sc->buf;
	size_t s = p, q = p + 1, total = 0;
	int labels = 0, c, tld_alpha = 0;

	*resume = p + 1;
	*n = 1;
	if (!(sc->pf->enabled & BIT(DET_EMAIL)))
		return PII_NONE;
	/* Local part: at most 64 bytes, none of them before floor. */
	while (s > sc->floor && p - s < 65 && local_char(b[s - 1]) &&
	       !(sc->json && pii_json_escape_ends_at(b, sc->lo, s)))
		s--;
	if (s == p || p - s > 64 || b[s] == '.' || b[p - 1] == '.')
		return PII_NONE;
	if (s > sc->lo && local_char(b[s - 1]) &&
	    !(sc->json && pii_json_escape_ends_at(b, sc->lo, s)))
		return PII_NONE; /* longer than 64, or starts before floor */
	if (memmem(b + s, p - s, "..", 2))
		return PII_NONE;
	/* Domain: labels of [A-Za-z0-9-], 1..63, not starting or ending
	 * with '-', at least two, the last one alphabetic. */
	for (;;) {
		size_t l = 0;
		tld_alpha = 1;
		while (is_alnum(c = pii_ch(sc, q)) || c == '-') {
			if (++l > 63 || ++total > 253)
				goto done;
			if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z'))
				tld_alpha = 0;
			q++;
		}
		if (l == 0 || sc->buf[q - 1] == '-' || sc->buf[q - l] == '-')
			goto done;
		labels++;
		if (c == '.' && is_alnum(pii_ch(sc, q + 1))) {
			q++;
			total++;
			continue;
		}
		break;
	}
	if (labels < 2 || !tld_alpha || sc->buf[q - 1] == '-' ||
	    (c == '_') || (c == '@'))
		goto done;
	if (sc->touched && !sc->final) {
		*resume = s;
		return PII_MORE;
	}
	h->s = s;
	h->e = q;
	h->det = DET_EMAIL;
	return PII_MATCH;
done:
	if (sc->touched && !sc->final) {
		*resume = s;
		return PII_MORE;
	}
	return PII_NONE;
}

/* ---- IPv6 ---- */

int pii_on_colon(struct pii_scan *sc, size_t p, struct pii_hit *h, int *n,
		 size_t *resume)
{
	const unsigned char *b = sc->buf;
	size_t s = p, q = p + 1;
	int colons = 1, hex = 0, c, dots = 0;
	char tmp[64];

	*resume = p + 1;
	*n = 1;
	if (!(sc->pf->enabled & BIT(DET_IPV6)))
		return PII_NONE;
	while (s > sc->floor && p - s <= 40 && (is_hex(b[s - 1]) ||
						b[s - 1] == ':')) {
		s--;
		hex += b[s] != ':';
		colons += b[s] == ':';
	}
	if (p - s > 40 || (s > sc->lo && (pii_is_word(b[s - 1]) ||
					  b[s - 1] == ':' || b[s - 1] == '.')))
		return PII_NONE;
	while ((c = pii_ch(sc, q)) >= 0 && q - s <= 46 &&
	       (is_hex(c) || c == ':' || c == '.')) {
		hex += is_hex(c);
		colons += c == ':';
		dots += c == '.';
		q++;
	}
	/* A trailing dot ends a sentence. */
	if (q > p + 1 && b[q - 1] == '.' && dots == 1)
		q--, dots--;
	if (sc->touched && !sc->final) {
		*resume = s;
		return PII_MORE;
	}
	/* No skipping to q on a miss: the token's digits and letters may
	 * start something else, as in {"card":4111111111111111}. */
	if (q - s > 45 || colons < 2 || !hex || pii_is_word(c) ||
	    (dots && dots != 3))
		return PII_NONE;
	/* Without "::" an address has 8 groups (6 before an IPv4 tail):
	 * times such as 10:23:45 stop here. */
	if (colons < (dots ? 6 : 7) && !memmem(b + s, q - s, "::", 2))
		return PII_NONE;
	memcpy(tmp, b + s, q - s);
	tmp[q - s] = 0;
	struct in6_addr a;
	if (inet_pton(AF_INET6, tmp, &a) != 1)
		return PII_NONE;
	h->s = s;
	h->e = q;
	h->det = DET_IPV6;
	return PII_MATCH;
}

/* ---- JSON web tokens ---- */

static int b64url(int c)
{
	return is_alnum(c) || c == '-' || c == '_';
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-' || c == '+')
		return 62;
	if (c == '_' || c == '/')
		return 63;
	return -1;
}

/* The header must decode to a JSON object with an "alg" member. */
static int jwt_header_ok(const unsigned char *s, size_t n)
{
	char out[512];
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (n > 680)
		n = 680; /* the start is enough to find "alg" */
	for (size_t i = 0; i < n; i++) {
		int v = b64val(s[i]);
		if (v < 0)
			return 0;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[o] = 0;
	return o > 2 && out[0] == '{' && strstr(out, "\"alg\"") != NULL;
}

int pii_on_jwt(struct pii_scan *sc, size_t p, struct pii_hit *h, int *n,
	       size_t *resume)
{
	const unsigned char *b = sc->buf;
	size_t s, q, seg[3], limit;
	int c;

	*resume = p + 1;
	*n = 1;
	if (!(sc->pf->enabled & BIT(DET_JWT)) || p < sc->floor + 2 ||
	    b[p - 2] != 'e' || b[p - 1] != 'y')
		return PII_NONE;
	s = p - 2;
	if (s > sc->lo && (b64url(b[s - 1]) || b[s - 1] == '.') &&
	    !(sc->json && pii_json_escape_ends_at(b, sc->lo, s)))
		return PII_NONE;
	limit = s + sc->pf->max_jwt;
	q = s;
	for (int i = 0; i < 3; i++) {
		size_t st = q;
		while (q < limit && b64url(c = pii_ch(sc, q)))
			q++;
		seg[i] = q - st;
		c = pii_ch(sc, q);
		if (i < 2) {
			if (c != '.' || (i == 0 && seg[0] < 16) ||
			    (i == 1 && seg[1] < 2))
				goto no;
			q++;
		}
	}
	c = pii_ch(sc, q);
	if (q >= limit || b64url(c) || c == '=' ||
	    (c == '.' && b64url(pii_ch(sc, q + 1))))
		goto no;
	if (sc->touched && !sc->final) {
		*resume = s;
		return PII_MORE;
	}
	if (!jwt_header_ok(b + s, seg[0]))
		return PII_NONE;
	h->s = s;
	h->e = q;
	h->det = DET_JWT;
	return PII_MATCH;
no:
	if (sc->touched && !sc->final) {
		*resume = s;
		return PII_MORE;
	}
	return PII_NONE;
}

/* ---- AWS keys ---- */

static int b64std(int c)
{
	return is_alnum(c) || c == '/' || c == '+';
}

/*
 * A secret access key: exactly 40 of [A-Za-z0-9/+], mixed case, with a
 * digit or a slash or plus, within a short gap after q.  The gap may hold
 * only letters, '_' and punctuation such as ": = \"" so nothing another
 * detector would find is skipped over.
 */
static int aws_secret_after(struct pii_scan *sc, size_t q, struct pii_hit *h)
{
	size_t start = q;
	int c;

	for (; q - start <= 64; q++) {
		c = pii_ch(sc, q);
		if (c < 0)
			return 0;
		int prev = q > sc->lo ? sc->buf[q - 1] : ' ';
		if (!b64std(prev) && prev != '=' && b64std(c)) {
			int up = 0, low = 0, other = 0;
			size_t k = 0;
			for (; k < 41; k++) {
				int d = pii_ch(sc, q + k);
				if (!b64std(d))
					break;
				up += d >= 'A' && d <= 'Z';
				low += d >= 'a' && d <= 'z';
				other += !((d | 0x20) >= 'a' && (d | 0x20) <= 'z');
			}
			int after = pii_ch(sc, q + k);
			if (k == 40 && up && low && other && after != '=' &&
			    !b64std(after)) {
				h->s = q;
				h->e = q + 40;
				h->det = DET_AWS_SECRET;
				return 1;
			}
		}
		if (!(((c | 0x20) >= 'a' && (c | 0x20) <= 'z') || c == '_' ||
		      c == ' ' || c == '\t' || c == ':' || c == '=' ||
		      c == '"' || c == '\'' || c == ',' ||
		      (sc->json && c == '\\')))
			return 0;
	}
	return 0;
}

int pii_on_aws_id(struct pii_scan *sc, size_t p, struct pii_hit *h, int *n,
		  size_t *resume)
{
	size_t q = p + 4;
	int c;

	*resume = p + 1;
	*n = 0;
	if (!(sc->pf->enabled & (BIT(DET_AWS_KEY_ID) | BIT(DET_AWS_SECRET))))
		return PII_NONE;
	c = pii_ch(sc, p + 1);
	if ((c != 'K' && c != 'S') || pii_ch(sc, p + 2) != 'I' ||
	    pii_ch(sc, p + 3) != 'A' || pii_word_before(sc, p))
		goto no;
	for (; q < p + 20; q++) {
		c = pii_ch(sc, q);
		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			goto no;
	}
	if (is_alnum(pii_ch(sc, q)))
		goto no;
	if (sc->pf->enabled & BIT(DET_AWS_KEY_ID)) {
		h[*n].s = p;
		h[*n].e = q;
		h[*n].det = DET_AWS_KEY_ID;
		(*n)++;
	}
	if ((sc->pf->enabled & BIT(DET_AWS_SECRET)) &&
	    aws_secret_after(sc, q, &h[*n]))
		(*n)++;
	if (sc->touched && !sc->final)
		return PII_MORE;
	*resume = q;
	return *n ? PII_MATCH : PII_NONE;
no:
	return sc->touched && !sc->final ? PII_MORE : PII_NONE;
}

int pii_on_underscore(struct pii_scan *sc, size_t p, struct pii_hit *h,
		      int *n, size_t *resume)
{
	const unsigned char *b = sc->buf;
	char w[48];
	size_t s = p, q = p + 1;
	int c;

	*resume = p + 1;
	*n = 1;
	if (!(sc->pf->enabled & BIT(DET_AWS_SECRET)))
		return PII_NONE;
	while (s > sc->floor && p - s < 24 && pii_is_word(b[s - 1]))
		s--;
	while (pii_is_word(c = pii_ch(sc, q)) && q - s < sizeof(w) - 1)
		q++;
	if (pii_is_word(c) || (s > sc->lo && pii_is_word(b[s - 1]))) {
		*resume = q;
		return sc->touched && !sc->final ? PII_MORE : PII_NONE;
	}
	for (size_t i = s; i < q; i++)
		w[i - s] = (char)(b[i] >= 'A' && b[i] <= 'Z' ? b[i] | 0x20 : b[i]);
	w[q - s] = 0;
	if (!strstr(w, "aws_secret") && !strstr(w, "secret_access_key")) {
		*resume = q;
		if (sc->touched && !sc->final) {
			*resume = s;
			return PII_MORE;
		}
		return PII_NONE;
	}
	int found = aws_secret_after(sc, q, h);
	h->anchor = s; /* a stream holds the name back with the key */
	if (sc->touched && !sc->final) {
		*resume = s;
		return PII_MORE;
	}
	*resume = q;
	return found ? PII_MATCH : PII_NONE;
}

/* ---- PEM private keys ---- */

int pii_on_dash(struct pii_scan *sc, size_t p, struct pii_hit *h, int *n,
		size_t *resume)
{
	static const char begin[] = "-----BEGIN ";
	const unsigned char *b = sc->buf;
	char endmark[80];
	size_t q, label, llen, limit, e;
	int c;

	*resume = p + 1;
	*n = 1;
	if (!(sc->pf->enabled & BIT(DET_PEM)))
		return PII_NONE;
	for (size_t i = 0; i < sizeof(begin) - 1; i++)
		if (pii_ch(sc, p + i) != begin[i])
			goto no;
	label = q = p + sizeof(begin) - 1;
	while (((c = pii_ch(sc, q)) >= 'A' && c <= 'Z') || c == ' ' ||
	       (c >= '0' && c <= '9')) {
		if (q - label > 40)
			goto no;
		q++;
	}
	llen = q - label;
	if (llen < 11 || memcmp(b + q - 11, "PRIVATE KEY", 11))
		goto no;
	for (size_t i = 0; i < 5; i++)
		if (pii_ch(sc, q + i) != '-')
			goto no;
	q += 5;
	snprintf(endmark, sizeof(endmark), "-----END %.*s-----", (int)llen,
		 (const char *)b + label);
	limit = p + sc->pf->max_pem;
	e = limit < sc->end ? limit : sc->end;
	const unsigned char *m = memmem(b + q, e - q, endmark, strlen(endmark));
	if (m) {
		e = (size_t)(m - b) + strlen(endmark);
	} else if (limit > sc->end) {
		/* The end marker may come later.  Without one, a key cut
		 * short is still a key: mask to the end. */
		sc->touched = 1;
	}
	if (sc->touched && !sc->final) {
		*resume = p;
		return PII_MORE;
	}
	h->s = p;
	h->e = e;
	h->det = DET_PEM;
	return PII_MATCH;
no:
	if (sc->touched && !sc->final) {
		*resume = p;
		return PII_MORE;
	}
	return PII_NONE;
}
