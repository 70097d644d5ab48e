/*
 * Byte buffers behind streams: a linear input buffer with a hard cap and
 * an output queue of chunks with high/low water marks.  No I/O here, so
 * the backpressure rules can be unit-tested on their own.
 */
#ifndef JG_BUF_H
#define JG_BUF_H

#include <stddef.h>
#include <stdint.h>

/* Input: bytes read from the peer, waiting for the consumer. */
struct ibuf {
	uint8_t *data;
	size_t start, end; /* live bytes are data[start..end) */
	size_t cap;        /* allocated */
	size_t max;        /* never grows past this: backpressure */
};

void ibuf_init(struct ibuf *b, size_t max);
void ibuf_free(struct ibuf *b);
static inline size_t ibuf_len(const struct ibuf *b)
{
	return b->end - b->start;
}
/* Non-zero when the consumer must consume before more is read. */
static inline int ibuf_full(const struct ibuf *b)
{
	return ibuf_len(b) >= b->max;
}
/*
 * Room to read into: compacts or grows (up to max, at least want bytes
 * if possible).  Returns the writable length (0: full or no memory) and
 * sets *p.  ibuf_commit() then adds the bytes actually read.
 */
size_t ibuf_space(struct ibuf *b, size_t want, uint8_t **p);
void ibuf_commit(struct ibuf *b, size_t n);
size_t ibuf_peek(const struct ibuf *b, const uint8_t **p);
void ibuf_consume(struct ibuf *b, size_t n);

/* Output: bytes queued for the peer. */
struct ochunk;
struct oqueue {
	struct ochunk *head, *tail;
	size_t pending;   /* bytes queued */
	size_t high, low; /* water marks */
	int over;         /* went over high: on_drained owed at low */
};

void oq_init(struct oqueue *q, size_t high, size_t low);
void oq_free(struct oqueue *q);
/* Copy n bytes in.  Returns 0 below high water, 1 at or over it (the
 * producer should wait for drain), -1 out of memory. */
int oq_append(struct oqueue *q, const void *data, size_t n);
/* The first contiguous run of queued bytes. */
size_t oq_peek(const struct oqueue *q, const uint8_t **p);
void oq_consume(struct oqueue *q, size_t n);
/* After consuming: non-zero once when a producer that was told to wait
 * may go on (pending fell to the low-water mark). */
int oq_drained(struct oqueue *q);

#endif /* JG_BUF_H */
