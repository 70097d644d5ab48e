/*
 * Secret redaction: one pass over the text, copying it to a new buffer
 * and replacing what looks like a secret.  See redact.h for the list.
 */
#include "redact.h"
#include "record_buf.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int is_word(unsigned char c)
{
	return isalnum(c) || c == '_';
}

static int is_token(unsigned char c)
{
	return isalnum(c) || c == '_' || c == '-';
}

/* Case-insensitive match of word w at t[i..], with non-alnum before. */
static int word_at(const char *t, size_t len, size_t i, const char *w)
{
	size_t n = strlen(w);

	if (i + n > len || strncasecmp(t + i, w, n) != 0)
		return 0;
	if (i > 0 && isalnum((unsigned char)t[i - 1]))
		return 0;
	return 1;
}

/* End of an SQL string literal starting at t[i] ('...', E'...',
 * $tag$...$tag$), or 0 if none starts there.  Unterminated: len. */
static size_t sql_literal_end(const char *t, size_t len, size_t i)
{
	int backslash = 0;

	if (i < len && (t[i] == 'E' || t[i] == 'e') && i + 1 < len &&
	    t[i + 1] == '\'') {
		backslash = 1;
		i++;
	}
	if (i < len && t[i] == '\'') {
		for (size_t j = i + 1; j < len; j++) {
			if (backslash && t[j] == '\\') {
				j++;
				continue;
			}
			if (t[j] == '\'') {
				if (j + 1 < len && t[j + 1] == '\'') {
					j++;
					continue;
				}
				return j + 1;
			}
		}
		return len;
	}
	if (i < len && t[i] == '$') {
		size_t j = i + 1;
		while (j < len && is_word((unsigned char)t[j]) &&
		       !(j == i + 1 && isdigit((unsigned char)t[j])))
			j++;
		if (j >= len || t[j] != '$')
			return 0;
		size_t tag = j + 1 - i; /* "$tag$" */
		for (size_t k = j + 1; k + tag <= len; k++)
			if (t[k] == '$' && memcmp(t + k, t + i, tag) == 0)
				return k + tag;
		return len;
	}
	return 0;
}

static size_t skip_space(const char *t, size_t len, size_t i)
{
	while (i < len && isspace((unsigned char)t[i]))
		i++;
	return i;
}

/* Keywords whose "= value" or ": value" is a secret. */
static const char *const assign_words[] = {
	"sslpassword", "password", "passwd", "pass", "pwd", "client_secret",
	"secret", "access_token", "refresh_token", "token", "api_key",
	"apikey", NULL,
};

/*
 * At t[i], a keyword followed by optional closing quote, '=' or ':' and a
 * value.  Copies up to the value and returns the index after the value,
 * or 0 when the pattern does not match.
 */
static size_t try_assign(struct rbuf *o, const char *t, size_t len, size_t i)
{
	for (const char *const *w = assign_words; *w; w++) {
		size_t n = strlen(*w);
		if (!word_at(t, len, i, *w) ||
		    (i + n < len && is_word((unsigned char)t[i + n])))
			continue;
		size_t j = i + n;
		if (j < len && (t[j] == '"' || t[j] == '\''))
			j++; /* "password": ... */
		j = skip_space(t, len, j);
		if (j >= len || (t[j] != '=' && t[j] != ':'))
			return 0;
		j = skip_space(t, len, j + 1);
		if (j >= len)
			return 0;
		size_t end;
		if (t[j] == '\'' || t[j] == '"') {
			char q = t[j];
			end = j + 1;
			while (end < len && t[end] != q) {
				if (t[end] == '\\' && end + 1 < len)
					end++;
				end++;
			}
			if (end < len)
				end++;
		} else {
			end = j;
			while (end < len && !isspace((unsigned char)t[end]) &&
			       !strchr("&;'\",)}", t[end]))
				end++;
		}
		if (end == j)
			return 0;
		rbuf_put(o, t + i, j - i);
		if (t[j] == '\'' || t[j] == '"') {
			rbuf_put(o, &t[j], 1);
			rbuf_put(o, REDACT_MARK, strlen(REDACT_MARK));
			if (end > j + 1 && t[end - 1] == t[j])
				rbuf_put(o, &t[j], 1);
		} else {
			rbuf_put(o, REDACT_MARK, strlen(REDACT_MARK));
		}
		return end;
	}
	return 0;
}

/* SQL: PASSWORD followed by a string literal. */
static size_t try_sql_password(struct rbuf *o, const char *t, size_t len,
			       size_t i)
{
	if (!word_at(t, len, i, "password") ||
	    (i + 8 < len && is_word((unsigned char)t[i + 8])))
		return 0;
	size_t j = skip_space(t, len, i + 8);
	/* PASSWORD 'x' is a clause; "password', '" inside a list is not. */
	if (j == i + 8)
		return 0;
	size_t end = sql_literal_end(t, len, j);
	if (end == 0)
		return 0;
	rbuf_put(o, t + i, j - i);
	rbuf_put(o, "'" REDACT_MARK "'", strlen(REDACT_MARK) + 2);
	return end;
}

/* scheme://user:password@host */
static size_t try_url(struct rbuf *o, const char *t, size_t len, size_t i)
{
	if (i + 3 > len || memcmp(t + i, "://", 3) != 0)
		return 0;
	size_t j = i + 3, colon = 0;
	for (; j < len; j++) {
		unsigned char c = t[j];
		if (c == '@')
			break;
		if (isspace(c) || strchr("/?#'\"", c))
			return 0;
		if (c == ':' && !colon)
			colon = j;
	}
	if (j >= len || !colon)
		return 0;
	rbuf_put(o, t + i, colon + 1 - i);
	rbuf_put(o, REDACT_MARK, strlen(REDACT_MARK));
	return j; /* the '@' is copied by the caller */
}

/* Authorization schemes: "Bearer <token>", "Basic <b64>". */
static size_t try_auth_scheme(struct rbuf *o, const char *t, size_t len,
			      size_t i)
{
	static const char *const schemes[] = {"bearer", "basic", NULL};
	for (const char *const *w = schemes; *w; w++) {
		size_t n = strlen(*w);
		if (!word_at(t, len, i, *w) || i + n >= len ||
		    !isspace((unsigned char)t[i + n]))
			continue;
		size_t j = skip_space(t, len, i + n), end = j;
		while (end < len && (isalnum((unsigned char)t[end]) ||
				     strchr("-._~+/=", t[end])))
			end++;
		if (end - j < 8)
			return 0;
		rbuf_put(o, t + i, j - i);
		rbuf_put(o, REDACT_MARK, strlen(REDACT_MARK));
		return end;
	}
	return 0;
}

/* Grant credentials jg_XXXX... and JWTs eyJ....eyJ....sig */
static size_t try_token(struct rbuf *o, const char *t, size_t len, size_t i)
{
	if (i > 0 && is_token((unsigned char)t[i - 1]))
		return 0;
	if (i + 3 <= len && memcmp(t + i, "jg_", 3) == 0) {
		size_t end = i + 3;
		while (end < len && is_token((unsigned char)t[end]))
			end++;
		if (end - i - 3 < 16)
			return 0;
		rbuf_put(o, REDACT_MARK, strlen(REDACT_MARK));
		return end;
	}
	if (i + 3 <= len && memcmp(t + i, "eyJ", 3) == 0) {
		size_t end = i, dots = 0;
		while (end < len && (is_token((unsigned char)t[end]) ||
				     (t[end] == '.' && dots < 2))) {
			if (t[end] == '.')
				dots++;
			end++;
		}
		if (dots < 2)
			return 0;
		rbuf_put(o, REDACT_MARK, strlen(REDACT_MARK));
		return end;
	}
	return 0;
}

/*
 * Could anything above match in t?  Every pattern needs one of these
 * (case aside): "pass" (password, passwd, pass, sslpassword), "pwd",
 * "secret", "token", "api" (api_key, apikey), "://", "bearer",
 * "basic", "jg_", "eyj".  Most statements and attribute values have
 * none, and one pass that finds none spares the per-position pattern
 * tries; a text with any of them goes through the full scan.
 */
/* Does p (left bytes) start with the lower-case word w (n bytes), ASCII
 * letters compared without case?  Inline: strncasecmp() calls for every
 * 'p', 's', 't', 'a'... of every recorded value showed in profiles. */
static inline int starts_nocase(const char *p, size_t left, const char *w,
				size_t n)
{
	if (left < n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 'A' && c <= 'Z')
			c |= 0x20;
		if (c != (unsigned char)w[i])
			return 0;
	}
	return 1;
}

static int may_hold_secret(const char *t, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		const char *p = t + i;
		size_t left = len - i;

		switch (t[i] | 0x20) {
		case 'p':
			if (starts_nocase(p, left, "pass", 4) ||
			    starts_nocase(p, left, "pwd", 3))
				return 1;
			break;
		case 's':
			if (starts_nocase(p, left, "secret", 6))
				return 1;
			break;
		case 't':
			if (starts_nocase(p, left, "token", 5))
				return 1;
			break;
		case 'a':
			if (starts_nocase(p, left, "api", 3))
				return 1;
			break;
		case 'b':
			if (starts_nocase(p, left, "bearer", 6) ||
			    starts_nocase(p, left, "basic", 5))
				return 1;
			break;
		case 'j':
			if (starts_nocase(p, left, "jg_", 3))
				return 1;
			break;
		case 'e':
			if (starts_nocase(p, left, "eyj", 3))
				return 1;
			break;
		case ':': /* 0x3a: | 0x20 leaves it as it is */
			if (left >= 3 && memcmp(p, "://", 3) == 0)
				return 1;
			break;
		default:
			break;
		}
	}
	return 0;
}

char *redact_text(const char *text, size_t len, size_t *changed)
{
	struct rbuf o = {0};
	size_t n = 0;

	if (!may_hold_secret(text, len)) {
		char *copy = malloc(len + 1);

		if (copy) {
			memcpy(copy, text, len);
			copy[len] = '\0';
		}
		if (changed)
			*changed = 0;
		return copy;
	}

	rbuf_put(&o, "", 0);
	for (size_t i = 0; i < len;) {
		size_t next = try_sql_password(&o, text, len, i);
		if (!next)
			next = try_assign(&o, text, len, i);
		if (!next)
			next = try_url(&o, text, len, i);
		if (!next)
			next = try_auth_scheme(&o, text, len, i);
		if (!next)
			next = try_token(&o, text, len, i);
		if (next) {
			n++;
			i = next;
			continue;
		}
		rbuf_put(&o, &text[i], 1);
		i++;
	}
	if (changed)
		*changed = n;
	return rbuf_take(&o);
}

/* Does the NUL-terminated, lower-case s start with word? */
static int starts(const char *s, const char *word)
{
	return strncmp(s, word, strlen(word)) == 0;
}

/*
 * One pass over the key, lower-cased once, trying only the words that
 * start with the letter at hand: it runs for every attribute of every
 * recorded event, and ten strcasestr() calls per key showed in profiles.
 */
int redact_key_is_secret(const char *key)
{
	static const char *const words[] = {
		"password", "passwd", "credential", "token", "secret",
		"authorization", "cookie", "api_key", "apikey", "private_key",
		NULL,
	};
	char low[128];
	size_t n;

	for (n = 0; key[n] && n < sizeof(low) - 1; n++)
		low[n] = (char)tolower((unsigned char)key[n]);
	low[n] = '\0';
	if (key[n]) { /* a long key: the plain way */
		for (const char *const *w = words; *w; w++)
			if (strcasestr(key, *w))
				return 1;
		return 0;
	}
	for (const char *p = low; *p; p++) {
		switch (*p) {
		case 'p':
			if (starts(p, "passw") || starts(p, "private_key"))
				return 1;
			break;
		case 'c':
			if (starts(p, "credential") || starts(p, "cookie"))
				return 1;
			break;
		case 't':
			if (starts(p, "token"))
				return 1;
			break;
		case 's':
			if (starts(p, "secret"))
				return 1;
			break;
		case 'a':
			if (starts(p, "authorization") || starts(p, "api_key") ||
			    starts(p, "apikey"))
				return 1;
			break;
		default:
			break;
		}
	}
	return 0;
}

int redact_may_hold_secret(const char *text, size_t len)
{
	return may_hold_secret(text, len);
}
