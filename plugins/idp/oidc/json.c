/*
 * Strict JSON for token segments, building json-c objects directly.
 *
 * Why not json_tokener: on the cached-key path a JWT's payload parse was
 * most of what jwt_verify adds to the signature check (bench/jwt).  The
 * tokener runs a per-character state machine, copies every string and
 * key through a printbuf, strdup()s each key once more, and switches the
 * thread's locale on every call.  This parser walks the grammar directly,
 * unescapes strings in place in the decode buffer the caller owns anyway,
 * and yields the same json-c tree, so everything downstream (claims,
 * policy) is unchanged.  It accepts a subset of what json-c's strict mode
 * accepts (see json.h); tests/unit/test_jwt_json compares the two.
 */
#include <locale.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "json.h"

struct jp {
	char *p, *end;
	int depth; /* containers still allowed */
};

static int is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void skip_ws(struct jp *j)
{
	while (j->p < j->end && is_ws(*j->p))
		j->p++;
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing past U+10FFFF), or 0. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t n;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

static long hex4(const char *p)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/* \uXXXX (and its low surrogate) at j->p, just past the 'u'. */
static int unicode_escape(struct jp *j, char **w)
{
	long u;

	if (j->end - j->p < 4 || (u = hex4(j->p)) < 0)
		return -1;
	j->p += 4;
	if (u >= 0xd800 && u <= 0xdbff) {
		long lo;
		if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
		    (lo = hex4(j->p + 2)) < 0xdc00 || lo > 0xdfff)
			return -1;
		j->p += 6;
		u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
	} else if ((u >= 0xdc00 && u <= 0xdfff) || u == 0) {
		return -1; /* lone low surrogate; NUL would cut C strings */
	}
	/* Never longer than the escape it replaces (6 or 12 bytes). */
	unsigned char *o = (unsigned char *)*w;
	if (u < 0x80) {
		*o++ = (unsigned char)u;
	} else if (u < 0x800) {
		*o++ = (unsigned char)(0xc0 | u >> 6);
		*o++ = (unsigned char)(0x80 | (u & 0x3f));
	} else if (u < 0x10000) {
		*o++ = (unsigned char)(0xe0 | u >> 12);
		*o++ = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
		*o++ = (unsigned char)(0x80 | (u & 0x3f));
	} else {
		*o++ = (unsigned char)(0xf0 | u >> 18);
		*o++ = (unsigned char)(0x80 | ((u >> 12) & 0x3f));
		*o++ = (unsigned char)(0x80 | ((u >> 6) & 0x3f));
		*o++ = (unsigned char)(0x80 | (u & 0x3f));
	}
	*w = (char *)o;
	return 0;
}

/*
 * The string at j->p (on its opening quote), unescaped in place: the
 * output never outruns the input, so it overwrites only bytes already
 * read.  NUL-terminated over the closing quote; returns its length.
 */
static long parse_string(struct jp *j, char **out)
{
	char *w = ++j->p, *start = w;

	for (;;) {
		if (j->p >= j->end)
			return -1;
		unsigned char c = (unsigned char)*j->p;
		if (c == '"') {
			j->p++;
			*w = '\0';
			*out = start;
			return (long)(w - start);
		}
		if (c < 0x20)
			return -1; /* control characters must be escaped */
		if (c >= 0x80) {
			size_t n = utf8_len((const unsigned char *)j->p,
					    (const unsigned char *)j->end);
			if (!n)
				return -1;
			memmove(w, j->p, n);
			w += n;
			j->p += n;
			continue;
		}
		if (c != '\\') {
			*w++ = (char)c;
			j->p++;
			continue;
		}
		if (j->end - j->p < 2)
			return -1;
		char e = j->p[1];
		j->p += 2;
		switch (e) {
		case '"': *w++ = '"'; break;
		case '\\': *w++ = '\\'; break;
		case '/': *w++ = '/'; break;
		case 'b': *w++ = '\b'; break;
		case 'f': *w++ = '\f'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 't': *w++ = '\t'; break;
		case 'u':
			if (unicode_escape(j, &w) < 0)
				return -1;
			break;
		default:
			return -1;
		}
	}
}

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void)
{
	c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

static int is_digit(const struct jp *j)
{
	return j->p < j->end && *j->p >= '0' && *j->p <= '9';
}

/* One or more digits. */
static int digits(struct jp *j)
{
	if (!is_digit(j))
		return -1;
	while (is_digit(j))
		j->p++;
	return 0;
}

/* A number per the RFC 8259 grammar: an integer becomes an int64 (a
 * uint64 above INT64_MAX), like json-c; anything else a double. */
static int parse_number(struct jp *j, struct json_object **out)
{
	char *start = j->p;
	int neg = 0, integral = 1;

	if (*j->p == '-') {
		neg = 1;
		j->p++;
	}
	if (j->p < j->end && *j->p == '0')
		j->p++;
	else if (digits(j) < 0)
		return -1;
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (digits(j) < 0)
			return -1;
		integral = 0;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (digits(j) < 0)
			return -1;
		integral = 0;
	}
	if (integral) {
		uint64_t v = 0;
		int over = 0;
		for (const char *d = start + neg; d < j->p; d++) {
			unsigned dv = (unsigned)(*d - '0');
			if (v > (UINT64_MAX - dv) / 10)
				over = 1;
			v = v * 10 + dv;
		}
		/* Out of range, json-c clamps; so do we, for the same tree
		 * (and numeric_claim refuses such a date anyway). */
		if (neg && (over || v > (uint64_t)INT64_MAX))
			*out = json_object_new_int64(INT64_MIN);
		else if (neg)
			*out = json_object_new_int64(-(int64_t)v);
		else if (over || v > (uint64_t)INT64_MAX)
			*out = json_object_new_uint64(over ? UINT64_MAX : v);
		else
			*out = json_object_new_int64((int64_t)v);
		return *out ? 0 : -1;
	}
	pthread_once(&c_locale_once, c_locale_init);
	if (!c_locale)
		return -1;
	/* buf[len] is NUL, and the grammar above matched a prefix that
	 * strtod reads the same way; check it stops where we did. */
	char *e;
	double d = strtod_l(start, &e, c_locale);
	if (e != j->p)
		return -1;
	*out = json_object_new_double(d);
	return *out ? 0 : -1;
}

static int parse_value(struct jp *j, struct json_object **out);

/* An object or an array, on its opening bracket. */
static int parse_container(struct jp *j, struct json_object **out)
{
	int is_obj = *j->p == '{';
	char close = is_obj ? '}' : ']';
	struct json_object *c =
		is_obj ? json_object_new_object() : json_object_new_array();

	if (!c)
		return -1;
	j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		*out = c;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		struct json_object *v;
		if (is_obj) {
			if (j->p >= j->end || *j->p != '"' ||
			    parse_string(j, &key) < 0)
				goto fail;
			skip_ws(j);
			if (j->p >= j->end || *j->p != ':')
				goto fail;
			j->p++;
		}
		if (parse_value(j, &v) < 0)
			goto fail;
		/* A repeated key replaces the earlier value, as in json-c. */
		int rc = is_obj ? json_object_object_add(c, key, v)
				: json_object_array_add(c, v);
		if (rc < 0) {
			json_object_put(v);
			goto fail;
		}
		skip_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			skip_ws(j);
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			*out = c;
			return 0;
		}
		goto fail;
	}
fail:
	json_object_put(c);
	return -1;
}

static int literal(struct jp *j, const char *word, size_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, word, n))
		return -1;
	j->p += n;
	return 0;
}

static int parse_value(struct jp *j, struct json_object **out)
{
	int rc;

	*out = NULL;
	skip_ws(j);
	if (j->p >= j->end)
		return -1;
	switch (*j->p) {
	case '{':
	case '[':
		if (j->depth-- <= 0)
			return -1;
		rc = parse_container(j, out);
		j->depth++;
		return rc;
	case '"': {
		char *s;
		long n = parse_string(j, &s);
		if (n < 0)
			return -1;
		*out = json_object_new_string_len(s, (int)n);
		return *out ? 0 : -1;
	}
	case 't':
		if (literal(j, "true", 4) < 0)
			return -1;
		*out = json_object_new_boolean(1);
		return *out ? 0 : -1;
	case 'f':
		if (literal(j, "false", 5) < 0)
			return -1;
		*out = json_object_new_boolean(0);
		return *out ? 0 : -1;
	case 'n':
		return literal(j, "null", 4); /* json-c's null is NULL */
	default:
		if (*j->p == '-' || (*j->p >= '0' && *j->p <= '9'))
			return parse_number(j, out);
		return -1;
	}
}

int oidc_json_parse_inplace(char *buf, size_t len, int depth,
			    struct json_object **out)
{
	struct jp j = {buf, buf + len, depth};

	*out = NULL;
	if (len == 0 || len > INT32_MAX || buf[len] != '\0')
		return -1;
	if (parse_value(&j, out) < 0)
		return -1;
	skip_ws(&j);
	if (j.p != j.end) {
		json_object_put(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}
