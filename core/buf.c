/*
 * Stream buffers (see buf.h).
 */
#include "config.h"
#include "buf.h"

#include <stdlib.h>
#include <string.h>

/* First allocation; reads are at most this big unless the consumer is
 * holding bytes back (then the buffer grows towards max). */
#define IBUF_INITIAL (64 * 1024)
#define OCHUNK_MIN (16 * 1024)

void ibuf_init(struct ibuf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max ? max : IBUF_INITIAL;
}

void ibuf_free(struct ibuf *b)
{
	free(b->data);
	b->data = NULL;
	b->start = b->end = b->cap = 0;
}

size_t ibuf_space(struct ibuf *b, size_t want, uint8_t **p)
{
	size_t len = ibuf_len(b);

	if (len >= b->max) {
		*p = NULL;
		return 0;
	}
	if (want == 0)
		want = 1;
	if (len == 0)
		b->start = b->end = 0;
	if (b->cap - b->end < want && b->start > 0) {
		memmove(b->data, b->data + b->start, len);
		b->start = 0;
		b->end = len;
	}
	if (b->cap - b->end < want && b->cap < b->max) {
		size_t ncap = b->cap ? b->cap * 2 : IBUF_INITIAL;
		if (ncap < b->end + want)
			ncap = b->end + want;
		if (ncap > b->max)
			ncap = b->max;
		uint8_t *n = realloc(b->data, ncap);
		if (n == NULL) {
			*p = NULL;
			return 0;
		}
		b->data = n;
		b->cap = ncap;
	}
	/* Never hand out more than keeps the live bytes within max. */
	size_t room = b->cap - b->end;
	if (room > b->max - len)
		room = b->max - len;
	*p = b->data + b->end;
	return room;
}

void ibuf_commit(struct ibuf *b, size_t n)
{
	if (n > b->cap - b->end)
		abort(); /* broken invariant: more committed than offered */
	b->end += n;
}

size_t ibuf_peek(const struct ibuf *b, const uint8_t **p)
{
	*p = b->data ? b->data + b->start : NULL;
	return ibuf_len(b);
}

void ibuf_consume(struct ibuf *b, size_t n)
{
	if (n > ibuf_len(b))
		n = ibuf_len(b);
	b->start += n;
	if (b->start == b->end)
		b->start = b->end = 0;
}

struct ochunk {
	struct ochunk *next;
	size_t off, len, cap;
	uint8_t data[];
};

void oq_init(struct oqueue *q, size_t high, size_t low)
{
	memset(q, 0, sizeof(*q));
	q->high = high;
	q->low = low < high ? low : high / 2;
}

void oq_free(struct oqueue *q)
{
	struct ochunk *c = q->head;

	while (c) {
		struct ochunk *next = c->next;
		free(c);
		c = next;
	}
	q->head = q->tail = NULL;
	q->pending = 0;
}

int oq_append(struct oqueue *q, const void *data, size_t n)
{
	const uint8_t *src = data;
	struct ochunk *t = q->tail;

	if (t && t->cap - (t->off + t->len) > 0) {
		size_t room = t->cap - (t->off + t->len);
		size_t k = n < room ? n : room;
		memcpy(t->data + t->off + t->len, src, k);
		t->len += k;
		q->pending += k;
		src += k;
		n -= k;
	}
	if (n > 0) {
		size_t cap = n > OCHUNK_MIN ? n : OCHUNK_MIN;
		struct ochunk *c = malloc(sizeof(*c) + cap);
		if (c == NULL)
			return -1;
		c->next = NULL;
		c->off = 0;
		c->len = n;
		c->cap = cap;
		memcpy(c->data, src, n);
		if (q->tail)
			q->tail->next = c;
		else
			q->head = c;
		q->tail = c;
		q->pending += n;
	}
	if (q->pending >= q->high) {
		q->over = 1;
		return 1;
	}
	return 0;
}

size_t oq_peek(const struct oqueue *q, const uint8_t **p)
{
	if (q->head == NULL) {
		*p = NULL;
		return 0;
	}
	*p = q->head->data + q->head->off;
	return q->head->len;
}

void oq_consume(struct oqueue *q, size_t n)
{
	while (n > 0 && q->head) {
		struct ochunk *c = q->head;
		size_t k = n < c->len ? n : c->len;
		c->off += k;
		c->len -= k;
		q->pending -= k;
		n -= k;
		if (c->len == 0) {
			q->head = c->next;
			if (q->head == NULL)
				q->tail = NULL;
			free(c);
		}
	}
}

int oq_drained(struct oqueue *q)
{
	if (q->over && q->pending <= q->low) {
		q->over = 0;
		return 1;
	}
	return 0;
}
