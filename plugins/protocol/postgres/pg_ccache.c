/*
 * The classification cache (pg_ccache.h).
 *
 * Why a shape is safe to share: two texts of one shape differ only in
 * the values of integer constants that PostgreSQL's lexer reads as the
 * same token kind, so the grammar builds the same tree with other
 * numbers in its constant nodes, and the classifier never looks at those
 * values.  The one thing values can change is a grammar check on a
 * value (FLOAT(0), a precision out of range): the server parses the
 * statement again and raises that error itself, and what policy decided
 * on (the statement's kind, tables, functions, flags) is the same.
 */
#include "pg_ccache.h"

#include <stdlib.h>
#include <string.h>

/* Bytes that end an identifier or keyword before a number starts. */
static int number_may_follow(unsigned char c)
{
	return strchr(" \t\r\n\f\v(,=<>+-*/%[:;^|!~", c) != NULL && c;
}

static int ident_char(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

/* End of the quoted run opening at s[i] (quote q, doubled inside), or 0
 * when it is not closed. */
static size_t quoted_end(const char *s, size_t len, size_t i, char q)
{
	for (size_t j = i + 1; j < len; j++) {
		if (s[j] != q)
			continue;
		if (j + 1 < len && s[j + 1] == q) {
			j++;
			continue;
		}
		return j + 1;
	}
	return 0;
}

/* End of the comment opening at s[i] ("--" to the line's end, or a
 * nested C comment), 0 when not a comment or not closed. */
static size_t comment_end(const char *s, size_t len, size_t i)
{
	size_t j, depth = 0;

	if (i + 1 >= len)
		return 0;
	if (s[i] == '-' && s[i + 1] == '-') {
		for (j = i + 2; j < len && s[j] != '\n' && s[j] != '\r'; j++)
			;
		return j;
	}
	if (s[i] != '/' || s[i + 1] != '*')
		return 0;
	for (j = i; j + 1 < len; j++) {
		if (s[j] == '/' && s[j + 1] == '*') {
			depth++;
			j++;
		} else if (s[j] == '*' && s[j + 1] == '/') {
			j++;
			if (--depth == 0)
				return j + 1;
		}
	}
	return 0;
}

size_t pg_sql_shape(const char *s, size_t len, char *out, size_t cap)
{
	size_t i = 0, o = 0, end, j;

	if (len >= cap || memchr(s, '\\', len) || memchr(s, '$', len))
		return 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\'' || c == '"') {
			if (!(end = quoted_end(s, len, i, (char)c)))
				return 0;
		} else if ((c == '-' || c == '/') &&
			   (end = comment_end(s, len, i))) {
			;
		} else if ((c == '-' && i + 1 < len && s[i + 1] == '-') ||
			   (c == '/' && i + 1 < len && s[i + 1] == '*')) {
			return 0; /* an unclosed comment */
		} else if (c >= '0' && c <= '9' &&
			   (i == 0 || number_may_follow((unsigned char)s[i - 1]))) {
			for (j = i; j < len && ident_char((unsigned char)s[j]);
			     j++)
				if (s[j] < '0' || s[j] > '9')
					break;
			/* only a run of at most 9 digits that ends the token
			 * (not 1.5, 1e5, 0x1F, 1_000, 12abc) */
			if (j - i <= 9 &&
			    (j == len || (!ident_char((unsigned char)s[j]) &&
					  s[j] != '.'))) {
				out[o++] = '0';
				i = j;
				continue;
			}
			/* copy the whole token as it is */
			for (end = i; end < len &&
				      (ident_char((unsigned char)s[end]) ||
				       s[end] == '.');
			     end++)
				;
		} else if (ident_char(c)) {
			for (end = i; end < len && ident_char((unsigned char)s[end]);
			     end++)
				;
		} else {
			end = i + 1;
		}
		memcpy(out + o, s + i, end - i);
		o += end - i;
		i = end;
	}
	return o;
}

static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void entry_clear(struct pg_ccache_entry *e)
{
	free(e->key);
	pg_classified_free(&e->c);
	memset(e, 0, sizeof(*e));
}

void pg_ccache_free(struct pg_ccache *cc)
{
	for (size_t i = 0; i < PG_CCACHE_ENTRIES; i++)
		entry_clear(&cc->e[i]);
}

/* A deep copy of src into dst. */
static int copy_classified(const struct pg_classified *src,
			   struct pg_classified *dst)
{
	size_t i, j;

	memset(dst, 0, sizeof(*dst));
	dst->stmts = calloc(src->n ? src->n : 1, sizeof(*dst->stmts));
	if (!dst->stmts)
		return -1;
	for (i = 0; i < src->n; i++) {
		const struct pg_stmt *a = &src->stmts[i];
		struct pg_stmt *b = &dst->stmts[i];

		dst->n = i + 1;
		*b = *a;
		b->ntables = b->nfunctions = b->nrefs = 0;
		b->command = strdup(a->command);
		b->text = strdup(a->text);
		if (!b->command || !b->text)
			return -1;
		for (j = 0; j < a->ntables; j++) {
			if (!(b->tables[j] = strdup(a->tables[j])))
				return -1;
			b->ntables = j + 1;
		}
		for (j = 0; j < a->nfunctions; j++) {
			if (!(b->functions[j] = strdup(a->functions[j])))
				return -1;
			b->nfunctions = j + 1;
		}
		for (j = 0; j < a->nrefs; j++) {
			if (!(b->refs[j] = strdup(a->refs[j])))
				return -1;
			b->nrefs = j + 1;
		}
	}
	return 0;
}

/* A hit: out borrows e's statements; a shape's only statement gets this
 * text's own words (the same length of text around it: see tail). */
static void lend(struct pg_ccache *cc, const struct pg_ccache_entry *e,
		 const char *sql, size_t len, struct pg_classified *out)
{
	const struct pg_stmt *st = &e->c.stmts[0];
	size_t n;

	out->error[0] = '\0';
	out->borrowed = 1;
	out->n = e->c.n;
	out->stmts = e->c.stmts;
	if (e->exact || e->c.n != 1)
		return;
	/* same shape: blanks, semicolons and comments around the one
	 * statement are the same, so its text starts at the same offset
	 * and the same number of bytes follow it */
	n = st->text_off + e->tail <= len ? len - st->text_off - e->tail : 0;
	memcpy(cc->text, sql + st->text_off, n); /* n < len < sizeof */
	cc->text[n] = '\0';
	cc->lent = *st;
	cc->lent.text = cc->text;
	out->stmts = &cc->lent;
}

int pg_classify_cached(struct pg_ccache *cc, const char *sql,
		       struct pg_classified *out)
{
	char shape[PG_CCACHE_MAX_TEXT];
	size_t len = strlen(sql), klen, i;
	struct pg_ccache_entry *e, *victim = NULL;
	const char *key = shape;
	uint64_t h;
	int exact = 0;

	if (len >= PG_CCACHE_MAX_TEXT)
		return pg_classify_flags(sql, cc->read_flags, out);
	klen = pg_sql_shape(sql, len, shape, sizeof(shape));
	if (!klen) { /* no shape: the text itself is the key */
		key = sql;
		klen = len;
		exact = 1;
	}
	h = fnv1a(key, klen) ^ (uint64_t)exact;
	for (i = 0; i < PG_CCACHE_ENTRIES; i++) {
		e = &cc->e[i];
		if (e->key && e->hash == h && e->keylen == klen &&
		    e->exact == exact && memcmp(e->key, key, klen) == 0) {
			e->used = ++cc->clock;
			cc->hits++;
			lend(cc, e, sql, len, out);
			return 0;
		}
		if (!victim || !e->key || (victim->key && e->used < victim->used))
			victim = e;
	}
	cc->misses++;
	if (pg_classify_flags(sql, cc->read_flags, out) < 0)
		return -1;
	/* a shape stands for texts whose statement boundaries move with
	 * their numbers: only a single statement's text can be cut from
	 * another text of the shape (what precedes and follows it is
	 * blanks, semicolons and comments, the same in every such text) */
	if (!exact && out->n != 1)
		return 0;
	entry_clear(victim);
	victim->key = malloc(klen + 1);
	if (!victim->key)
		return 0;
	memcpy(victim->key, key, klen);
	victim->key[klen] = 0;
	victim->keylen = klen;
	victim->hash = h;
	victim->exact = exact;
	victim->used = ++cc->clock;
	if (!exact)
		victim->tail = len - out->stmts[0].text_off -
			       strlen(out->stmts[0].text);
	if (copy_classified(out, &victim->c) < 0)
		entry_clear(victim);
	return 0;
}
