/*
 * Strategies: what a hit or a whole value becomes.
 *
 *   redact   a fixed replacement (checked at compile: no control bytes,
 *            quotes or backslashes, so it is safe in every carrier)
 *   partial  keep the last N significant characters and the separators,
 *            mask the rest: 4111-1111-1111-1111 -> ****-****-****-1111
 *   hash     HMAC-SHA256 under the profile key, hex: deterministic, so
 *            joins and group-bys still work, and not reversible
 *   null     the whole value becomes NULL (pii.c)
 *
 * A "character" is a UTF-8 sequence or, in a JSON string, one escape, so
 * output never splits either.
 */
#include "pii.h"

#include <gnutls/crypto.h>
#include <stdlib.h>
#include <string.h>

static const char *const builtin_names[DET_BUILTIN_MAX] = {
	[DET_CARD] = "card",
	[DET_EMAIL] = "email",
	[DET_IBAN] = "iban",
	[DET_SSN] = "ssn",
	[DET_PHONE] = "phone",
	[DET_IPV4] = "ipv4",
	[DET_IPV6] = "ipv6",
	[DET_JWT] = "jwt",
	[DET_AWS_KEY_ID] = "aws_key_id",
	[DET_AWS_SECRET] = "aws_secret_key",
	[DET_PEM] = "pem_private_key",
};

const char *pii_det_name(const struct pii_profile *pf, uint32_t det)
{
	if (det < DET_BUILTIN_MAX)
		return builtin_names[det];
	return pf->custom[det - DET_BUILTIN_MAX].name;
}

const struct pii_strategy *pii_det_strategy(const struct pii_profile *pf,
					    uint32_t det)
{
	if (det < DET_BUILTIN_MAX)
		return &pf->det[det];
	return &pf->custom[det - DET_BUILTIN_MAX].strat;
}

void pii_report_add(struct jg_mask_report *rep, const char *name)
{
	if (!rep)
		return;
	rep->total++;
	for (uint32_t i = 0; i < rep->ndetectors; i++) {
		if (rep->names[i] == name || !strcmp(rep->names[i], name)) {
			rep->counts[i]++;
			return;
		}
	}
	if (rep->ndetectors == JG_MASK_REPORT_NAMES) {
		rep->flags |= JG_MASK_REPORT_OVERFLOW;
		return;
	}
	rep->names[rep->ndetectors] = name;
	rep->counts[rep->ndetectors++] = 1;
}

void pii_strategy_free(struct pii_strategy *st)
{
	free(st->replacement);
	free(st->prefix);
	st->replacement = st->prefix = NULL;
}

/* Length of the character at in[i]: an escape, a UTF-8 sequence, a byte. */
static size_t unit_len(const unsigned char *in, size_t i, size_t n, int json)
{
	size_t l = 1;

	if (json && in[i] == '\\')
		return pii_json_escape_len(in, i, n);
	if (in[i] >= 0xc0)
		while (i + l < n && l < 4 && (in[i + l] & 0xc0) == 0x80)
			l++;
	return l;
}

static int significant(int c)
{
	return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' &&
					  (c | 0x20) <= 'z') ||
	       c >= 0x80 || c == '\\';
}

struct obuf {
	char b[256];
	size_t n;
	const struct pii_out *o;
};

static int put(struct obuf *ob, const void *d, size_t n)
{
	if (ob->n + n > sizeof(ob->b)) {
		if (ob->n && ob->o->emit(ob->o->ud, ob->b, ob->n))
			return -1;
		ob->n = 0;
		if (n > sizeof(ob->b))
			return ob->o->emit(ob->o->ud, d, n);
	}
	memcpy(ob->b + ob->n, d, n);
	ob->n += n;
	return 0;
}

static int flush(struct obuf *ob)
{
	return ob->n ? ob->o->emit(ob->o->ud, ob->b, ob->n) : 0;
}

static int partial(const struct pii_strategy *st, const unsigned char *in,
		   size_t n, const struct pii_out *o)
{
	struct obuf ob = {.n = 0, .o = o};
	size_t total = 0, seen = 0, keep = st->keep;

	for (size_t i = 0; i < n; i += unit_len(in, i, n, o->json))
		total += significant(in[i]);
	/* Never give away more than half of it. */
	if (keep * 2 > total)
		keep = total / 2;
	for (size_t i = 0; i < n;) {
		size_t l = unit_len(in, i, n, o->json);
		if (!significant(in[i])) {
			if (put(&ob, in + i, l))
				return -1;
		} else if (++seen > total - keep) {
			if (put(&ob, in + i, l))
				return -1;
		} else if (put(&ob, &st->mask_char, 1)) {
			return -1;
		}
		i += l;
	}
	return flush(&ob);
}

static size_t utf8_put(unsigned char *d, uint32_t cp)
{
	if (cp < 0x80) {
		d[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = (unsigned char)(0xc0 | cp >> 6);
		d[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = (unsigned char)(0xe0 | cp >> 12);
		d[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		d[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	d[0] = (unsigned char)(0xf0 | cp >> 18);
	d[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
	d[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
	d[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

static int hex4(const unsigned char *s, uint32_t *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		int c = s[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			d = (c | 0x20) - 'a' + 10;
		else
			return 0;
		*v = *v << 4 | (uint32_t)d;
	}
	return 1;
}

/* Decode JSON escapes so a value hashes the same in every carrier.  The
 * output is never longer than the input. */
static size_t json_decode(const unsigned char *in, size_t n, unsigned char *d)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	size_t o = 0;

	for (size_t i = 0; i < n;) {
		uint32_t cp, lo;
		const char *k;
		if (in[i] != '\\' || i + 1 >= n) {
			d[o++] = in[i++];
		} else if (in[i + 1] == 'u' && i + 6 <= n &&
			   hex4(in + i + 2, &cp)) {
			i += 6;
			if (cp >= 0xd800 && cp < 0xdc00 && i + 6 <= n &&
			    in[i] == '\\' && in[i + 1] == 'u' &&
			    hex4(in + i + 2, &lo) && lo >= 0xdc00 &&
			    lo < 0xe000) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
				i += 6;
			}
			o += utf8_put(d + o, cp);
		} else if ((k = strchr(from, in[i + 1])) && in[i + 1]) {
			d[o++] = (unsigned char)to[k - from];
			i += 2;
		} else {
			d[o++] = in[i++];
		}
	}
	return o;
}

/* The form of a hit that is hashed: separators do not change identity. */
static size_t normalize(uint32_t det, const unsigned char *in, size_t n,
			int json, unsigned char *d)
{
	size_t o = 0;

	switch (det) {
	case DET_CARD:
	case DET_SSN:
	case DET_PHONE:
		for (size_t i = 0; i < n; i++)
			if (in[i] >= '0' && in[i] <= '9')
				d[o++] = in[i];
		return o;
	case DET_IBAN:
		for (size_t i = 0; i < n; i++)
			if (in[i] != ' ')
				d[o++] = (unsigned char)((in[i] >= 'a' &&
							  in[i] <= 'z')
								 ? in[i] - 32
								 : in[i]);
		return o;
	case DET_EMAIL:
		for (size_t i = 0; i < n; i++)
			d[o++] = (unsigned char)((in[i] >= 'A' && in[i] <= 'Z')
							 ? in[i] + 32
							 : in[i]);
		return o;
	default:
		if (json)
			return json_decode(in, n, d);
		memcpy(d, in, n);
		return n;
	}
}

static int hash(const struct pii_profile *pf, const struct pii_strategy *st,
		uint32_t det, const unsigned char *in, size_t n,
		const struct pii_out *o)
{
	static const char hexd[] = "0123456789abcdef";
	unsigned char stackbuf[1024], *d = stackbuf, mac[32];
	char hexout[64];
	int rc;

	if (!pf->have_key)
		return -1;
	if (n > sizeof(stackbuf) && !(d = malloc(n)))
		return -1;
	size_t dn = normalize(det, in, n, o->json, d);
	rc = gnutls_hmac_fast(GNUTLS_MAC_SHA256, pf->hash_key,
			      sizeof(pf->hash_key), d, dn, mac);
	if (d != stackbuf)
		free(d);
	if (rc < 0)
		return -1;
	for (uint32_t i = 0; i < st->hash_len; i++)
		hexout[i] = hexd[(mac[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
	if (st->prefix_len && o->emit(o->ud, st->prefix, st->prefix_len))
		return -1;
	return o->emit(o->ud, hexout, st->hash_len);
}

int pii_apply(const struct pii_profile *pf, const struct pii_strategy *st,
	      uint32_t det, const unsigned char *in, size_t n,
	      const struct pii_out *o)
{
	switch (st->kind) {
	case STRAT_REDACT:
		return st->replen ? o->emit(o->ud, st->replacement, st->replen)
				  : 0;
	case STRAT_PARTIAL:
		return partial(st, in, n, o);
	case STRAT_HASH:
		return hash(pf, st, det, in, n, o);
	default:
		return -1;
	}
}

int pii_emit_hit(const struct pii_profile *pf, const unsigned char *buf,
		 size_t *emitted, const struct pii_hit *h,
		 const struct pii_strategy *st, const struct pii_out *o,
		 struct jg_mask_report *rep)
{
	if (h->s > *emitted &&
	    o->emit(o->ud, (const char *)buf + *emitted, h->s - *emitted))
		return -1;
	if (pii_apply(pf, st, h->det, buf + h->s, h->e - h->s, o))
		return -1;
	pii_report_add(rep, pii_det_name(pf, h->det));
	*emitted = h->e;
	return 0;
}
