/*
 * Globs for policy rules, compiled once so a decision costs a length
 * check and a memcmp for the common shapes.
 */
#include "policy.h"
#include "policy_int.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

static bool has_meta(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '*' || s[i] == '?' || s[i] == '[' || s[i] == '\\')
			return true;
	return false;
}

int glob_compile(struct glob *g, const char *pattern)
{
	size_t n = strlen(pattern);
	const char *lit = pattern;
	size_t litlen = n;

	memset(g, 0, sizeof(*g));
	if (n > IDENTITY_MAX_STRING)
		return -1;
	if (n == 1 && pattern[0] == '*') {
		g->kind = GLOB_ANY;
	} else if (!has_meta(pattern, n)) {
		g->kind = GLOB_EXACT;
	} else if (n >= 2 && pattern[0] == '*' && pattern[n - 1] == '*' &&
		   !has_meta(pattern + 1, n - 2)) {
		g->kind = GLOB_CONTAINS;
		lit = pattern + 1;
		litlen = n - 2;
	} else if (pattern[n - 1] == '*' && !has_meta(pattern, n - 1)) {
		g->kind = GLOB_PREFIX;
		litlen = n - 1;
	} else if (pattern[0] == '*' && !has_meta(pattern + 1, n - 1)) {
		g->kind = GLOB_SUFFIX;
		lit = pattern + 1;
		litlen = n - 1;
	} else {
		g->kind = GLOB_FNMATCH;
	}
	g->pat = strdup(pattern);
	g->lit = strndup(lit, litlen);
	g->len = (uint32_t)litlen;
	if (!g->pat || !g->lit) {
		glob_free(g);
		return -1;
	}
	return 0;
}

void glob_free(struct glob *g)
{
	free(g->pat);
	free(g->lit);
	g->pat = g->lit = NULL;
}

bool glob_match(const struct glob *g, const char *text, size_t len)
{
	switch (g->kind) {
	case GLOB_ANY:
		return true;
	case GLOB_EXACT:
		return len == g->len && memcmp(text, g->lit, len) == 0;
	case GLOB_PREFIX:
		return len >= g->len && memcmp(text, g->lit, g->len) == 0;
	case GLOB_SUFFIX:
		return len >= g->len &&
		       memcmp(text + len - g->len, g->lit, g->len) == 0;
	case GLOB_CONTAINS:
		return memmem(text, len, g->lit, g->len) != NULL;
	case GLOB_FNMATCH:
		/* Text with an embedded NUL can never match a rule. */
		return strlen(text) == len && fnmatch(g->pat, text, 0) == 0;
	}
	return false;
}

int policy_glob_match(const char *pattern, const char *text)
{
	struct glob g;
	bool m;

	if (glob_compile(&g, pattern) < 0)
		return 0;
	m = glob_match(&g, text, strlen(text));
	glob_free(&g);
	return m;
}

int globset_compile(struct globset *gs, const struct json_object *v,
		    char *err, size_t errlen)
{
	struct json_object *o = (struct json_object *)v;
	size_t n;

	memset(gs, 0, sizeof(*gs));
	if (json_object_is_type(o, json_type_string)) {
		n = 1;
	} else if (json_object_is_type(o, json_type_array)) {
		n = json_object_array_length(o);
		if (n == 0) {
			snprintf(err, errlen, "empty list matches nothing");
			return -1;
		}
	} else {
		snprintf(err, errlen, "must be a string or a list of strings");
		return -1;
	}
	gs->g = calloc(n, sizeof(*gs->g));
	if (!gs->g) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	gs->literal = true;
	for (size_t i = 0; i < n; i++) {
		struct json_object *s =
			json_object_is_type(o, json_type_string)
				? o
				: json_object_array_get_idx(o, i);
		if (!json_object_is_type(s, json_type_string)) {
			snprintf(err, errlen, "[%zu]: must be a string", i);
			globset_free(gs);
			return -1;
		}
		if (glob_compile(&gs->g[i], json_object_get_string(s)) < 0) {
			snprintf(err, errlen, "[%zu]: pattern too long", i);
			globset_free(gs);
			return -1;
		}
		gs->n = i + 1;
		if (gs->g[i].kind == GLOB_ANY)
			gs->any = true;
		if (gs->g[i].kind != GLOB_EXACT)
			gs->literal = false;
	}
	return 0;
}

void globset_free(struct globset *gs)
{
	for (size_t i = 0; i < gs->n; i++)
		glob_free(&gs->g[i]);
	free(gs->g);
	memset(gs, 0, sizeof(*gs));
}

bool globset_match(const struct globset *gs, const char *text, size_t len)
{
	if (gs->any)
		return true;
	for (size_t i = 0; i < gs->n; i++)
		if (glob_match(&gs->g[i], text, len))
			return true;
	return false;
}

void globset_format(const struct globset *gs, char *buf, size_t len)
{
	size_t off = 0;

	if (len == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < gs->n && off < len; i++) {
		int w = snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
				 gs->g[i].pat);
		if (w < 0)
			break;
		off += (size_t)w;
	}
}

/* FNV-1a: short keys, no adversary controls the map's keys (the policy
 * author does), so a simple hash is enough. */
static uint64_t strhash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

int strmap_put(struct strmap *m, const char *key, uint32_t val)
{
	if ((m->n + 1) * 2 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 8;
		const char **keys = calloc(cap, sizeof(*keys));
		uint32_t *vals = calloc(cap, sizeof(*vals));

		if (!keys || !vals) {
			free(keys);
			free(vals);
			return -1;
		}
		for (size_t i = 0; i < m->cap; i++) {
			size_t j;

			if (!m->keys[i])
				continue;
			j = strhash(m->keys[i]) & (cap - 1);
			while (keys[j])
				j = (j + 1) & (cap - 1);
			keys[j] = m->keys[i];
			vals[j] = m->vals[i];
		}
		free(m->keys);
		free(m->vals);
		m->keys = keys;
		m->vals = vals;
		m->cap = cap;
	}
	size_t j = strhash(key) & (m->cap - 1);

	while (m->keys[j]) {
		if (strcmp(m->keys[j], key) == 0) {
			m->vals[j] = val;
			return 0;
		}
		j = (j + 1) & (m->cap - 1);
	}
	m->keys[j] = key;
	m->vals[j] = val;
	m->n++;
	return 0;
}

bool strmap_get(const struct strmap *m, const char *key, uint32_t *val)
{
	size_t j;

	if (m->cap == 0)
		return false;
	j = strhash(key) & (m->cap - 1);
	while (m->keys[j]) {
		if (strcmp(m->keys[j], key) == 0) {
			*val = m->vals[j];
			return true;
		}
		j = (j + 1) & (m->cap - 1);
	}
	return false;
}

void strmap_free(struct strmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}
