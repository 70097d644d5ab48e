/*
 * The rule index: which rules could apply, as bitsets over rule
 * positions, so a decision with a thousand rules tests one or two of them
 * instead of walking them all.  See policy_int.h for the shape; the rule
 * that keeps it honest: a rule is only ever left out when one of its own
 * conditions has certainly failed.
 *
 * Globs are indexed by their literal ends.  "abc" by its text, "abc*"
 * as a prefix, "*abc" as a suffix: for these the index answers exactly.
 * Other shapes are indexed by a text any matching value must carry: the
 * literal text before their first metacharacter ("a?c*") or after their
 * last ("x[0-9]"), else "mid" for "*mid*", else their longest plain run
 * ("*x?y*" by "x"), else not at all; the matcher decides those.
 */
#include "policy.h"
#include "policy_int.h"

#include <stdlib.h>
#include <string.h>

#define FNV_BASIS 1469598103934665603ULL
#define FNV_PRIME 1099511628211ULL

static inline uint64_t fnv_step(uint64_t h, unsigned char c)
{
	return (h ^ c) * FNV_PRIME;
}

/* Forward over s[0..len), or backward from s[len - 1] (suffixes). */
static uint64_t fnv(const char *s, size_t len, bool backward)
{
	uint64_t h = FNV_BASIS;

	for (size_t i = 0; i < len; i++)
		h = fnv_step(h, (unsigned char)s[backward ? len - 1 - i : i]);
	return h;
}

static const struct lit_entry *litmap_find(const struct litmap *m,
					   uint64_t h, const char *s,
					   size_t len)
{
	if (!m->cap)
		return NULL;
	for (size_t j = h & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
		const struct lit_entry *e = &m->e[j];

		if (!e->lit)
			return NULL;
		if (e->hash == h && e->len == len &&
		    memcmp(e->lit, s, len) == 0)
			return e;
	}
}

static int litmap_grow(struct litmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 8;
	struct lit_entry *e = calloc(cap, sizeof(*e));

	if (!e)
		return -1;
	for (size_t i = 0; i < m->cap; i++) {
		size_t j;

		if (!m->e[i].lit)
			continue;
		for (j = m->e[i].hash & (cap - 1); e[j].lit;
		     j = (j + 1) & (cap - 1))
			;
		e[j] = m->e[i];
	}
	free(m->e);
	m->e = e;
	m->cap = cap;
	return 0;
}

/* Keep the distinct lengths sorted: a lookup tries each that fits. */
static int litmap_add_len(struct litmap *m, uint32_t len)
{
	size_t k = 0;
	uint32_t *l;

	while (k < m->nlens && m->lens[k] < len)
		k++;
	if (k < m->nlens && m->lens[k] == len)
		return 0;
	l = realloc(m->lens, (m->nlens + 1) * sizeof(*l));
	if (!l)
		return -1;
	memmove(l + k + 1, l + k, (m->nlens - k) * sizeof(*l));
	l[k] = len;
	m->lens = l;
	m->nlens++;
	return 0;
}

static void litmap_free(struct litmap *m)
{
	free(m->e);
	free(m->lens);
	memset(m, 0, sizeof(*m));
}

static int set_push(struct rule_set *s, uint32_t rule)
{
	if (s->n && s->ids[s->n - 1] == rule)
		return 0; /* ["a", "a"]: once is enough */
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 4;
		uint32_t *ids = realloc(s->ids, cap * sizeof(*ids));

		if (!ids)
			return -1;
		s->ids = ids;
		s->cap = cap;
	}
	s->ids[s->n++] = rule;
	return 0;
}

/* Rules carrying literal lit[0..len) in map m of dimension d. */
static int dim_add_lit(struct dim *d, struct litmap *m, const char *lit,
		       size_t len, bool backward, bool by_len, uint32_t rule)
{
	uint64_t h = fnv(lit, len, backward);
	const struct lit_entry *e = litmap_find(m, h, lit, len);
	uint32_t set;

	if (e) {
		set = e->set;
	} else {
		struct rule_set *sets;
		size_t j;

		if (len > UINT32_MAX || ((m->n + 1) * 2 > m->cap &&
					 litmap_grow(m) < 0))
			return -1;
		sets = realloc(d->sets, (d->nsets + 1) * sizeof(*sets));
		if (!sets)
			return -1;
		d->sets = sets;
		memset(&sets[d->nsets], 0, sizeof(*sets));
		set = (uint32_t)d->nsets++;
		j = h & (m->cap - 1);
		while (m->e[j].lit)
			j = (j + 1) & (m->cap - 1);
		m->e[j] = (struct lit_entry){h, lit, (uint32_t)len, set};
		m->n++;
		if (by_len && litmap_add_len(m, (uint32_t)len) < 0)
			return -1;
	}
	return set_push(&d->sets[set], rule);
}

#define CONTAINS_KEY 4

static int contains_add(struct dim *d, const char *mid, size_t len,
			uint32_t rule)
{
	const unsigned char *u = (const unsigned char *)mid;

	if (len > CONTAINS_KEY)
		len = CONTAINS_KEY;
	if (len == 1) {
		d->single[u[0] >> 6] |= 1ULL << (u[0] & 63);
	} else {
		unsigned pair = (unsigned)u[0] << 8 | u[1];

		if (!d->pairs && !(d->pairs = calloc(1024, sizeof(uint64_t))))
			return -1;
		d->pairs[pair >> 6] |= 1ULL << (pair & 63);
	}
	return dim_add_lit(d, &d->contains, mid, len, false, true, rule);
}

/*
 * The longest run of plain characters in pat, which any match contains
 * as it is; 0 when there is none.  Brackets are skipped as POSIX reads
 * them ("[!]x]" is one class); past anything harder to be sure of (an
 * unclosed "[", "[[:alpha:]]", a backslash inside brackets) no run is
 * taken, which only ever leaves a rule in.
 */
static size_t literal_run(const char *pat, const char **at)
{
	size_t best = 0, run = 0;

	for (const char *s = pat; *s; s++) {
		if (*s == '[') {
			const char *e = s + 1;

			if (*e == '!' || *e == '^')
				e++;
			if (*e == ']')
				e++;
			while (*e && !strchr("][\\", *e))
				e++;
			if (*e != ']')
				break;
			s = e;
			run = 0;
		} else if (*s == '\\') {
			if (!*++s)
				break;
			run = 0; /* the escaped byte is text, but keep it simple */
		} else if (strchr("*?]", *s)) {
			run = 0;
		} else if (++run > best) {
			best = run;
			*at = s + 1 - run;
		}
	}
	return best;
}

static size_t meta_prefix(const char *pat)
{
	return strcspn(pat, "*?[\\");
}

/* Literal bytes after the last metacharacter; ']' counts, since what
 * follows "[" up to it is a class, not text. */
static size_t meta_suffix(const char *pat)
{
	size_t n = strlen(pat), k = 0;

	while (k < n && !strchr("*?[]\\", pat[n - 1 - k]))
		k++;
	return k;
}

/*
 * Add rule's condition gs on dimension d.  Returns 1 when the index now
 * answers that condition exactly, 0 when the matcher must still test it,
 * -1 when out of memory.
 */
static int dim_add(struct dim *d, const struct globset *gs, uint32_t rule)
{
	uint64_t bit = RULE_BIT(rule);
	size_t w = RULE_WORD(rule);
	int exact = 1;

	if (gs->n == 0)
		return 1;
	if (d->named[w] & bit) {
		d->pass[w] |= bit; /* named twice: leave it to the matcher */
		return 0;
	}
	d->named[w] |= bit;
	d->nnamed++;
	if (gs->any) {
		d->pass[w] |= bit;
		return 1;
	}
	for (size_t i = 0; i < gs->n; i++) {
		const struct glob *g = &gs->g[i];
		const char *mid = NULL;
		size_t pre, suf, run;
		int rc = 0;

		switch (g->kind) {
		case GLOB_EXACT:
			rc = dim_add_lit(d, &d->exact, g->lit, g->len, false,
					 false, rule);
			break;
		case GLOB_PREFIX:
			rc = dim_add_lit(d, &d->prefix, g->lit, g->len, false,
					 true, rule);
			break;
		case GLOB_SUFFIX:
			rc = dim_add_lit(d, &d->suffix, g->lit, g->len, true,
					 true, rule);
			break;
		case GLOB_CONTAINS:
			exact = 0;
			if (g->len)
				rc = contains_add(d, g->lit, g->len, rule);
			else
				d->pass[w] |= bit; /* "**" */
			break;
		default: /* GLOB_ANY is gs->any; FNMATCH */
			exact = 0;
			pre = meta_prefix(g->pat);
			suf = meta_suffix(g->pat);
			if (pre)
				rc = dim_add_lit(d, &d->prefix, g->pat, pre,
						 false, true, rule);
			else if (suf)
				rc = dim_add_lit(d, &d->suffix,
						 g->pat + strlen(g->pat) - suf,
						 suf, true, true, rule);
			else if ((run = literal_run(g->pat, &mid)))
				rc = contains_add(d, mid, run, rule);
			else
				d->pass[w] |= bit;
			break;
		}
		if (rc < 0)
			return -1;
	}
	return exact;
}

static int dim_init(struct dim *d, size_t nwords, const char *key)
{
	memset(d, 0, sizeof(*d));
	d->key = key;
	d->named = calloc(nwords + 1, sizeof(uint64_t));
	d->pass = calloc(nwords + 1, sizeof(uint64_t));
	return d->named && d->pass ? 0 : -1;
}

/* After the last rule: dense sets where that is cheaper, and pass
 * completed with every rule that does not name the dimension. */
static int dim_finish(struct dim *d, size_t nrules, size_t nwords)
{
	for (size_t s = 0; s < d->nsets; s++) {
		struct rule_set *rs = &d->sets[s];

		if (rs->n <= 2 * nwords)
			continue;
		rs->bits = calloc(nwords, sizeof(uint64_t));
		if (!rs->bits)
			return -1;
		for (uint32_t i = 0; i < rs->n; i++)
			rs->bits[RULE_WORD(rs->ids[i])] |= RULE_BIT(rs->ids[i]);
		free(rs->ids);
		rs->ids = NULL;
	}
	for (size_t w = 0; w < nwords; w++) {
		uint64_t valid = w + 1 < nwords || nrules % 64 == 0
					 ? ~0ULL
					 : RULE_BIT(nrules) - 1;

		d->pass[w] = (d->pass[w] | ~d->named[w]) & valid;
	}
	return 0;
}

static void dim_free(struct dim *d)
{
	for (size_t s = 0; s < d->nsets; s++) {
		free(d->sets[s].ids);
		free(d->sets[s].bits);
	}
	free(d->sets);
	free(d->named);
	free(d->pass);
	litmap_free(&d->exact);
	litmap_free(&d->prefix);
	litmap_free(&d->suffix);
	litmap_free(&d->contains);
	free(d->pairs);
	memset(d, 0, sizeof(*d));
}

struct key_count {
	const char *key;
	size_t rules, first;
};

static int by_count(const void *a, const void *b)
{
	const struct key_count *x = a, *y = b;

	if (x->rules != y->rules)
		return x->rules > y->rules ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

static const struct attr_match *rule_keys(const struct policy_rule *r,
					  bool claims, size_t *n)
{
	*n = claims ? r->nclaims : r->nattrs;
	return claims ? r->claims : r->attrs;
}

/* Dimensions for the claim (or attribute) keys most rules name. */
static int keyed_init(const struct policy *p, struct keyed_dims *kd,
		      bool claims)
{
	struct strmap seen = {0};
	struct key_count *kc = NULL;
	size_t nk = 0;
	int rc = -1;

	for (size_t i = 0; i < p->nrules; i++) {
		size_t n;
		const struct attr_match *am =
			rule_keys(&p->rules[i], claims, &n);

		for (size_t k = 0; k < n; k++) {
			uint32_t v;
			struct key_count *grown;

			if (strmap_get(&seen, am[k].key, &v)) {
				kc[v].rules++;
				continue;
			}
			grown = realloc(kc, (nk + 1) * sizeof(*kc));
			if (!grown)
				goto out;
			kc = grown;
			kc[nk] = (struct key_count){am[k].key, 1, nk};
			if (strmap_put(&seen, am[k].key, (uint32_t)nk++) < 0)
				goto out;
		}
	}
	if (nk)
		qsort(kc, nk, sizeof(*kc), by_count);
	kd->n = nk < INDEX_MAX_KEYS ? nk : INDEX_MAX_KEYS;
	kd->d = calloc(kd->n + 1, sizeof(*kd->d));
	if (!kd->d)
		goto out;
	for (size_t k = 0; k < kd->n; k++)
		if (dim_init(&kd->d[k], p->ix.nwords, kc[k].key) < 0 ||
		    strmap_put(&kd->keys, kc[k].key, (uint32_t)k) < 0)
			goto out;
	rc = 0;
out:
	strmap_free(&seen);
	free(kc);
	return rc;
}

static void keyed_free(struct keyed_dims *kd)
{
	for (size_t k = 0; kd->d && k < kd->n; k++)
		dim_free(&kd->d[k]);
	free(kd->d);
	strmap_free(&kd->keys);
	memset(kd, 0, sizeof(*kd));
}

/* Conditions on keys; returns as dim_add, 0 when a key is not indexed. */
static int keyed_add(struct keyed_dims *kd, const struct attr_match *am,
		     size_t n, uint32_t rule)
{
	int exact = 1;

	for (size_t k = 0; k < n; k++) {
		uint32_t di;
		int rc = 0;

		if (strmap_get(&kd->keys, am[k].key, &di))
			rc = dim_add(&kd->d[di], &am[k].gs, rule);
		if (rc < 0)
			return -1;
		exact &= rc;
	}
	return exact;
}

static int type_add(struct dim *d, const struct policy_rule *r, uint32_t rule)
{
	if (r->ntypes == 0)
		return 0;
	d->named[RULE_WORD(rule)] |= RULE_BIT(rule);
	d->nnamed++;
	for (size_t k = 0; k < r->ntypes; k++) {
		if (strcmp(r->types[k], "*") == 0)
			d->pass[RULE_WORD(rule)] |= RULE_BIT(rule);
		else if (dim_add_lit(d, &d->exact, r->types[k],
				     strlen(r->types[k]), false, false,
				     rule) < 0)
			return -1;
	}
	return 0;
}

int index_build(struct policy *p)
{
	struct policy_index *x = &p->ix;
	struct dim *fixed[] = {&x->type, &x->conn, &x->subject, &x->groups};

	x->nwords = (p->nrules + 63) / 64;
	for (size_t k = 0; k < 4; k++)
		if (dim_init(fixed[k], x->nwords, NULL) < 0)
			return -1;
	x->ident_loose = calloc(x->nwords + 1, sizeof(uint64_t));
	if (!x->ident_loose || keyed_init(p, &x->claims, true) < 0 ||
	    keyed_init(p, &x->attrs, false) < 0)
		return -1;
	for (size_t i = 0; i < p->nrules; i++) {
		const struct policy_rule *r = &p->rules[i];
		uint32_t id = (uint32_t)i;
		int c = 0, s = 0, g = 0, cl = 0;

		if (type_add(&x->type, r, id) < 0 ||
		    (c = dim_add(&x->conn, &r->conn, id)) < 0 ||
		    (s = dim_add(&x->subject, &r->subject, id)) < 0 ||
		    (g = dim_add(&x->groups, &r->groups, id)) < 0 ||
		    (cl = keyed_add(&x->claims, r->claims, r->nclaims, id)) <
			    0 ||
		    keyed_add(&x->attrs, r->attrs, r->nattrs, id) < 0)
			return -1;
		if (!(c && s && g && cl))
			x->ident_loose[RULE_WORD(id)] |= RULE_BIT(id);
	}
	for (size_t k = 0; k < 4; k++)
		if (dim_finish(fixed[k], p->nrules, x->nwords) < 0)
			return -1;
	for (size_t k = 0; k < x->claims.n; k++)
		if (dim_finish(&x->claims.d[k], p->nrules, x->nwords) < 0)
			return -1;
	for (size_t k = 0; k < x->attrs.n; k++)
		if (dim_finish(&x->attrs.d[k], p->nrules, x->nwords) < 0)
			return -1;
	return 0;
}

void index_free(struct policy_index *x)
{
	dim_free(&x->type);
	dim_free(&x->conn);
	dim_free(&x->subject);
	dim_free(&x->groups);
	keyed_free(&x->claims);
	keyed_free(&x->attrs);
	free(x->ident_loose);
	memset(x, 0, sizeof(*x));
}

void index_window_all(const struct policy *p, uint64_t *cand, size_t w0,
		      size_t nw)
{
	for (size_t k = 0; k < nw; k++)
		cand[k] = w0 + k + 1 < p->ix.nwords || p->nrules % 64 == 0
				  ? ~0ULL
				  : RULE_BIT(p->nrules) - 1;
}

/* tmp |= the rules of rs in the window [w0, w0 + nw). */
static void set_or(const struct rule_set *rs, uint64_t *tmp, size_t w0,
		   size_t nw)
{
	uint32_t lo = 0, hi = rs->n;
	size_t end = (w0 + nw) * 64;

	if (rs->bits) {
		for (size_t k = 0; k < nw; k++)
			tmp[k] |= rs->bits[w0 + k];
		return;
	}
	while (lo < hi) { /* first position in the window */
		uint32_t mid = lo + (hi - lo) / 2;

		if (rs->ids[mid] < w0 * 64)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (uint32_t i = lo; i < rs->n && rs->ids[i] < end; i++)
		tmp[RULE_WORD(rs->ids[i]) - w0] |= RULE_BIT(rs->ids[i]);
}

static void lit_or(const struct dim *d, const struct litmap *m, uint64_t h,
		   const char *s, size_t len, uint64_t *tmp, size_t w0,
		   size_t nw)
{
	const struct lit_entry *e = litmap_find(m, h, s, len);

	if (e)
		set_or(&d->sets[e->set], tmp, w0, nw);
}

/* tmp |= the "*mid*" rules whose mid may occur in v: those whose first
 * (up to 4) bytes do, somewhere. */
static void contains_value(const struct dim *d, const unsigned char *v,
			   size_t len, uint64_t *tmp, size_t w0, size_t nw)
{
	const struct litmap *m = &d->contains;

	for (size_t i = 0; i < len; i++) {
		unsigned pair = i + 1 < len ? (unsigned)v[i] << 8 | v[i + 1] : 0;
		uint64_t h;
		size_t at = 0;

		if (d->single[v[i] >> 6] >> (v[i] & 63) & 1)
			lit_or(d, m, fnv((const char *)v + i, 1, false),
			       (const char *)v + i, 1, tmp, w0, nw);
		if (i + 1 >= len || !d->pairs ||
		    !(d->pairs[pair >> 6] >> (pair & 63) & 1))
			continue;
		h = FNV_BASIS;
		for (size_t k = 0; k < m->nlens && i + m->lens[k] <= len; k++) {
			if (m->lens[k] < 2)
				continue;
			for (; at < m->lens[k]; at++)
				h = fnv_step(h, v[i + at]);
			lit_or(d, m, h, (const char *)v + i, at, tmp, w0, nw);
		}
	}
}

/* tmp |= the rules whose literals value v carries.  One hash pass
 * forward serves every prefix length and the whole value; one backward
 * pass every suffix length. */
static void dim_value(const struct dim *d, const char *v, size_t len,
		      uint64_t *tmp, size_t w0, size_t nw)
{
	uint64_t h = FNV_BASIS;
	size_t pos = 0;

	for (size_t k = 0; k < d->prefix.nlens && d->prefix.lens[k] <= len;
	     k++) {
		for (; pos < d->prefix.lens[k]; pos++)
			h = fnv_step(h, (unsigned char)v[pos]);
		lit_or(d, &d->prefix, h, v, pos, tmp, w0, nw);
	}
	if (d->exact.n) {
		for (; pos < len; pos++)
			h = fnv_step(h, (unsigned char)v[pos]);
		lit_or(d, &d->exact, h, v, len, tmp, w0, nw);
	}
	h = FNV_BASIS;
	pos = 0;
	for (size_t k = 0; k < d->suffix.nlens && d->suffix.lens[k] <= len;
	     k++) {
		for (; pos < d->suffix.lens[k]; pos++)
			h = fnv_step(h, (unsigned char)v[len - 1 - pos]);
		lit_or(d, &d->suffix, h, v + len - pos, pos, tmp, w0, nw);
	}
	if (d->contains.n)
		contains_value(d, (const unsigned char *)v, len, tmp, w0, nw);
}

/* cand &= ~d->named, or &= tmp; either way: is any rule left? */
static bool and_not_named(const struct dim *d, uint64_t *cand, size_t w0,
			  size_t nw)
{
	uint64_t left = 0;

	for (size_t k = 0; k < nw; k++)
		left |= cand[k] &= ~d->named[w0 + k];
	return left != 0;
}

static bool and_tmp(uint64_t *cand, const uint64_t *tmp, size_t nw)
{
	uint64_t left = 0;

	for (size_t k = 0; k < nw; k++)
		left |= cand[k] &= tmp[k];
	return left != 0;
}

/* cand &= the rules value v (NULL: absent) lets through on d; false
 * when none is left. */
static bool dim_one(const struct dim *d, const char *v, size_t len,
		    uint64_t *cand, uint64_t *tmp, size_t w0, size_t nw)
{
	if (!d->nnamed)
		return true;
	if (!v)
		return and_not_named(d, cand, w0, nw);
	memcpy(tmp, d->pass + w0, nw * sizeof(*tmp));
	dim_value(d, v, len, tmp, w0, nw);
	return and_tmp(cand, tmp, nw);
}

/*
 * Keys that may repeat (claims, action attributes): per indexed key, the
 * rules any of its values lets through; a rule naming a key the caller
 * lacks is out.
 */
static bool keyed_filter(const struct keyed_dims *kd, const struct jg_attr *at,
			 size_t n, uint64_t *cand, uint64_t *tmp, size_t w0,
			 size_t nw)
{
	uint64_t done = 0; /* INDEX_MAX_KEYS bits */

	for (size_t i = 0; kd->n && i < n; i++) {
		const char *key = at[i].key;
		const struct dim *d;
		uint32_t di;

		if (!key || !strmap_get(&kd->keys, key, &di) ||
		    (done >> di & 1))
			continue;
		done |= 1ULL << di;
		d = &kd->d[di];
		memcpy(tmp, d->pass + w0, nw * sizeof(*tmp));
		for (size_t j = i; j < n; j++) {
			const char *v = at[j].value ? at[j].value : "";

			if (j == i ||
			    (at[j].key && strcmp(at[j].key, key) == 0))
				dim_value(d, v, strlen(v), tmp, w0, nw);
		}
		if (!and_tmp(cand, tmp, nw))
			return false;
	}
	for (size_t di = 0; di < kd->n; di++)
		if (!(done >> di & 1) &&
		    !and_not_named(&kd->d[di], cand, w0, nw))
			return false;
	return true;
}

bool index_filter_type(const struct policy_index *x, const char *type,
		       uint64_t *cand, uint64_t *tmp, size_t w0, size_t nw)
{
	return dim_one(&x->type, type, strlen(type), cand, tmp, w0, nw);
}

bool index_filter_conn(const struct policy_index *x, const char *conn,
		       size_t connlen, uint64_t *cand, uint64_t *tmp, size_t w0,
		       size_t nw)
{
	return dim_one(&x->conn, conn, connlen, cand, tmp, w0, nw);
}

bool index_filter_attrs(const struct policy_index *x, const struct jg_action *a,
			uint64_t *cand, uint64_t *tmp, size_t w0, size_t nw)
{
	return keyed_filter(&x->attrs, a ? a->attrs : NULL, a ? a->nattrs : 0,
			    cand, tmp, w0, nw);
}

bool index_filter_identity(const struct policy_index *x,
			   const struct jg_identity *id, uint64_t *cand,
			   uint64_t *tmp, size_t w0, size_t nw)
{
	const char *sub = id ? id->subject : NULL;

	if (!dim_one(&x->subject, sub, sub ? strlen(sub) : 0, cand, tmp, w0,
		     nw))
		return false;
	if (x->groups.nnamed && (!id || !id->ngroups)) {
		if (!and_not_named(&x->groups, cand, w0, nw))
			return false;
	} else if (x->groups.nnamed) {
		memcpy(tmp, x->groups.pass + w0, nw * sizeof(*tmp));
		for (size_t i = 0; i < id->ngroups; i++)
			dim_value(&x->groups, id->groups[i],
				  strlen(id->groups[i]), tmp, w0, nw);
		if (!and_tmp(cand, tmp, nw))
			return false;
	}
	return keyed_filter(&x->claims, id ? id->claims : NULL,
			    id ? id->nclaims : 0, cand, tmp, w0, nw);
}
