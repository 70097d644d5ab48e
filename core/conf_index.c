/*
 * Where was each value written?  json-c builds objects without positions,
 * so after json-c has accepted a file we scan its text once more with a
 * tokenizer that knows only strings, comments, nesting, keys and array
 * indexes, and record "FILE:LINE" under each value's key path.  It never
 * interprets values: json-c stays the only parser of what they mean.
 */
#include "conf_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- key paths ---------------------------------------------------------- */

static int plain_key(const char *key)
{
	if (!*key)
		return 0;
	for (const char *p = key; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
			return 0;
	return 1;
}

int conf_path_key(char *buf, size_t len, const char *parent, const char *key)
{
	size_t n = strlen(parent);
	int w;

	if (n >= len)
		return -1;
	if (buf != parent)
		memmove(buf, parent, n + 1);
	if (plain_key(key)) {
		w = snprintf(buf + n, len - n, "%s%s", n ? "." : "", key);
		return w < 0 || (size_t)w >= len - n ? -1 : 0;
	}
	/* a["odd.key"]: quote and escape so the path stays unambiguous */
	if (n + 3 >= len)
		return -1;
	buf[n++] = '[';
	buf[n++] = '"';
	for (const char *p = key; *p; p++) {
		if (*p == '"' || *p == '\\') {
			if (n + 1 >= len)
				return -1;
			buf[n++] = '\\';
		}
		if (n + 1 >= len)
			return -1;
		buf[n++] = *p;
	}
	if (n + 3 > len)
		return -1;
	buf[n++] = '"';
	buf[n++] = ']';
	buf[n] = '\0';
	return 0;
}

int conf_path_index(char *buf, size_t len, const char *parent, size_t i)
{
	size_t n = strlen(parent);
	int w;

	if (n >= len)
		return -1;
	if (buf != parent)
		memmove(buf, parent, n + 1);
	w = snprintf(buf + n, len - n, "[%zu]", i);
	return w < 0 || (size_t)w >= len - n ? -1 : 0;
}

/* ---- the index: open addressing, FNV-1a ------------------------------- */

struct cindex_entry {
	char *path;
	char *where;
};

struct conf_index {
	struct cindex_entry *slots;
	size_t cap; /* power of two */
	size_t used;
};

static size_t hash(const char *s)
{
	size_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

struct conf_index *cindex_new(void)
{
	struct conf_index *ix = calloc(1, sizeof(*ix));

	if (!ix)
		return NULL;
	ix->cap = 64;
	ix->slots = calloc(ix->cap, sizeof(*ix->slots));
	if (!ix->slots) {
		free(ix);
		return NULL;
	}
	return ix;
}

void cindex_free(struct conf_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->cap; i++) {
		free(ix->slots[i].path);
		free(ix->slots[i].where);
	}
	free(ix->slots);
	free(ix);
}

static struct cindex_entry *slot_for(struct cindex_entry *slots, size_t cap,
				     const char *path)
{
	size_t i = hash(path) & (cap - 1);

	while (slots[i].path && strcmp(slots[i].path, path) != 0)
		i = (i + 1) & (cap - 1);
	return &slots[i];
}

static int grow(struct conf_index *ix)
{
	size_t cap = ix->cap * 2;
	struct cindex_entry *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -1;
	for (size_t i = 0; i < ix->cap; i++)
		if (ix->slots[i].path)
			*slot_for(slots, cap, ix->slots[i].path) = ix->slots[i];
	free(ix->slots);
	ix->slots = slots;
	ix->cap = cap;
	return 0;
}

int cindex_put(struct conf_index *ix, const char *path, const char *where)
{
	struct cindex_entry *e;

	if ((ix->used + 1) * 2 > ix->cap && grow(ix) < 0)
		return -1;
	e = slot_for(ix->slots, ix->cap, path);
	if (e->path)
		return 1;
	e->path = strdup(path);
	e->where = strdup(where);
	if (!e->path || !e->where) {
		free(e->path);
		free(e->where);
		e->path = e->where = NULL;
		return -1;
	}
	ix->used++;
	return 0;
}

const char *cindex_get(const struct conf_index *ix, const char *path)
{
	const struct cindex_entry *e = slot_for(ix->slots, ix->cap, path);

	return e->path ? e->where : NULL;
}

/* ---- the scanner ------------------------------------------------------- */

struct frame {
	int is_object;
	size_t index;                 /* next array index */
	char path[CONF_MAX_KEYPATH];  /* path of this container */
};

struct scan {
	const char *t;
	size_t len, pos;
	unsigned line;
	const char *fname;
};

unsigned conf_line_at(const char *text, size_t off)
{
	unsigned line = 1;

	for (size_t i = 0; i < off; i++)
		if (text[i] == '\n')
			line++;
	return line;
}

/* Skip white space and comments, counting lines. */
static void skip_ws(struct scan *s)
{
	while (s->pos < s->len) {
		char c = s->t[s->pos];

		if (c == '\n') {
			s->line++;
			s->pos++;
		} else if (isspace((unsigned char)c)) {
			s->pos++;
		} else if (c == '/' && s->pos + 1 < s->len &&
			   s->t[s->pos + 1] == '/') {
			while (s->pos < s->len && s->t[s->pos] != '\n')
				s->pos++;
		} else if (c == '/' && s->pos + 1 < s->len &&
			   s->t[s->pos + 1] == '*') {
			s->pos += 2;
			while (s->pos + 1 < s->len &&
			       !(s->t[s->pos] == '*' && s->t[s->pos + 1] == '/')) {
				if (s->t[s->pos] == '\n')
					s->line++;
				s->pos++;
			}
			s->pos += 2;
		} else {
			return;
		}
	}
}

static void put_utf8(char *out, size_t *n, size_t cap, unsigned cp)
{
	char b[4];
	size_t k;

	if (cp < 0x80) {
		b[0] = (char)cp;
		k = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		k = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		k = 3;
	} else {
		b[0] = (char)(0xf0 | cp >> 18);
		b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		k = 4;
	}
	for (size_t i = 0; i < k && *n + 1 < cap; i++)
		out[(*n)++] = b[i];
}

static unsigned hex4(const char *p)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		int c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
	}
	return v;
}

/*
 * Skip a string starting at its quote ('"', or '\'' which json-c also
 * takes); decode it into out when out is not NULL (keys only).  Escapes
 * are decoded the way json-c does so paths match json-c's keys.
 */
static void scan_string(struct scan *s, char *out, size_t cap)
{
	char q = s->t[s->pos++];
	size_t n = 0;

	while (s->pos < s->len && s->t[s->pos] != q) {
		char c = s->t[s->pos++];

		if (c == '\n')
			s->line++;
		if (c == '\\' && s->pos < s->len) {
			char e = s->t[s->pos++];
			unsigned cp;

			switch (e) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u':
				if (s->pos + 4 > s->len)
					continue;
				cp = hex4(s->t + s->pos);
				s->pos += 4;
				if (cp >= 0xd800 && cp < 0xdc00 &&
				    s->pos + 6 <= s->len &&
				    s->t[s->pos] == '\\' &&
				    s->t[s->pos + 1] == 'u') {
					unsigned lo = hex4(s->t + s->pos + 2);
					if (lo >= 0xdc00 && lo < 0xe000) {
						cp = 0x10000 +
						     ((cp - 0xd800) << 10) +
						     (lo - 0xdc00);
						s->pos += 6;
					}
				}
				if (out)
					put_utf8(out, &n, cap, cp);
				continue;
			default: c = e; break;
			}
		}
		if (out && n + 1 < cap)
			out[n++] = c;
	}
	s->pos++; /* closing quote */
	if (out)
		out[n] = '\0';
}

static int is_delim(char c)
{
	return c == ',' || c == ']' || c == '}' || c == ':' || c == '/' ||
	       isspace((unsigned char)c);
}

int conf_scan(const char *text, size_t len, const char *fname,
	      struct conf_index *ix, char *err, size_t errlen)
{
	struct scan s = {.t = text, .len = len, .line = 1, .fname = fname};
	struct frame *st;
	size_t depth = 0;
	char key[CONF_MAX_KEYPATH];
	char path[CONF_MAX_KEYPATH];
	char where[CONF_MAX_KEYPATH + 32];
	int want_key = 0, rc = -1;

	st = calloc(CONF_MAX_DEPTH + 1, sizeof(*st));
	if (!st) {
		snprintf(err, errlen, "%s: out of memory", fname);
		return -1;
	}
	for (;;) {
		char c;

		skip_ws(&s);
		if (s.pos >= s.len)
			break;
		c = s.t[s.pos];
		if (c == ',' || c == ':') {
			s.pos++;
			continue;
		}
		if (c == '}' || c == ']') {
			s.pos++;
			if (depth == 0)
				break;
			depth--;
			want_key = depth > 0 && st[depth - 1].is_object;
			if (depth == 0)
				break;
			continue;
		}
		if (want_key) {
			if (c != '"' && c != '\'') {
				s.pos++; /* json-c accepted it; be lenient */
				continue;
			}
			scan_string(&s, key, sizeof(key));
			want_key = 0;
			continue;
		}
		/* a value starts here: where does it sit? */
		path[0] = '\0';
		if (depth > 0) {
			struct frame *f = &st[depth - 1];
			int bad = f->is_object
					  ? conf_path_key(path, sizeof(path),
							  f->path, key)
					  : conf_path_index(path, sizeof(path),
							    f->path,
							    f->index++);
			if (bad) {
				snprintf(err, errlen,
					 "%s:%u: key path longer than %d bytes",
					 fname, s.line, CONF_MAX_KEYPATH);
				goto out;
			}
			snprintf(where, sizeof(where), "%s:%u", fname, s.line);
			switch (cindex_put(ix, path, where)) {
			case 1:
				conf_err(err, errlen, where, path,
					 "given twice (first at %s)",
					 cindex_get(ix, path));
				goto out;
			case -1:
				snprintf(err, errlen, "%s: out of memory",
					 fname);
				goto out;
			}
			want_key = f->is_object;
		}
		if (c == '{' || c == '[') {
			if (depth >= CONF_MAX_DEPTH) {
				snprintf(err, errlen,
					 "%s:%u: nesting deeper than %d levels",
					 fname, s.line, CONF_MAX_DEPTH);
				goto out;
			}
			st[depth].is_object = c == '{';
			st[depth].index = 0;
			memcpy(st[depth].path, path, sizeof(path));
			depth++;
			want_key = c == '{';
			s.pos++;
		} else if (c == '"' || c == '\'') {
			scan_string(&s, NULL, 0);
		} else {
			while (s.pos < s.len && !is_delim(s.t[s.pos]))
				s.pos++;
		}
		if (depth == 0)
			break;
	}
	rc = 0;
out:
	free(st);
	return rc;
}

/* ---- messages ----------------------------------------------------------- */

void conf_err(char *err, size_t errlen, const char *where, const char *path,
	      const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || errlen == 0)
		return;
	n = snprintf(err, errlen, "%s: ", where);
	if (n >= 0 && (size_t)n < errlen && path && *path)
		n += snprintf(err + n, errlen - (size_t)n, "%s: ", path);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

const char *conf_json_type(const struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double: return "a number with a fraction";
	case json_type_int: return "an integer";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	}
	return "something else";
}

void conf_quote(char *buf, size_t len, const struct json_object *o,
		int secret)
{
	const char *t;
	size_t n;

	if (secret) {
		snprintf(buf, len, "<secret>");
		return;
	}
	t = json_object_to_json_string_ext((struct json_object *)o,
					   JSON_C_TO_STRING_PLAIN |
						   JSON_C_TO_STRING_NOSLASHESCAPE);
	n = strlen(t);
	if (n > 60)
		snprintf(buf, len, "%.56s...", t);
	else
		snprintf(buf, len, "%s", t);
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64];

	if (la >= 64 || lb >= 64)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cur = row[j];
			size_t best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb];
}

const char *conf_did_you_mean(const char *key, const char *const *cands,
			      size_t n)
{
	const char *best = NULL;
	size_t bestd = (size_t)-1;
	size_t limit = strlen(key) / 3 + 1;

	if (limit > 3)
		limit = 3;
	for (size_t i = 0; i < n; i++) {
		size_t d;

		if (!cands[i])
			continue;
		d = edit_distance(key, cands[i]);
		if (d <= limit && d < bestd) {
			best = cands[i];
			bestd = d;
		}
	}
	return best;
}
