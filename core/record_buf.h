/*
 * A growable, always NUL-terminated byte buffer for building event and
 * record text.  Header-only so the store plugins (which link nothing of
 * the core) use the same one.  After an allocation failure every later
 * put is ignored and rbuf_take() returns NULL.
 */
#ifndef JG_RECORD_BUF_H
#define JG_RECORD_BUF_H

#include <stdlib.h>
#include <string.h>

struct rbuf {
	char *p;
	size_t len, cap;
	int oom;
};

static inline void rbuf_put(struct rbuf *b, const void *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void rbuf_str(struct rbuf *b, const char *s)
{
	rbuf_put(b, s, strlen(s));
}

/* The text (caller frees), or NULL after an allocation failure. */
static inline char *rbuf_take(struct rbuf *b)
{
	char *p = b->p;
	if (b->oom) {
		free(p);
		p = NULL;
	} else if (!p) {
		p = calloc(1, 1);
	}
	b->p = NULL;
	b->len = b->cap = 0;
	return p;
}

#endif /* JG_RECORD_BUF_H */
