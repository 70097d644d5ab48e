/*
 * PostgreSQL wire protocol v3: message framing, field readers and message
 * builders.  Nothing here touches a stream: callers hand in the bytes they
 * have and get back a frame or "need more", so every parser is testable
 * on byte arrays (split reads, truncation, oversize).
 */
#ifndef PG_MSG_H
#define PG_MSG_H

#include <stddef.h>
#include <stdint.h>

/* Startup-packet codes (the int32 after the length). */
#define PG_PROTO_V3 196608U          /* 3.0 */
#define PG_CANCEL_CODE 80877102U     /* 1234.5678 */
#define PG_SSL_CODE 80877103U        /* 1234.5679 */
#define PG_GSSENC_CODE 80877104U     /* 1234.5680 */

/* A startup packet is small: PostgreSQL itself caps it at 10000 bytes. */
#define PG_MAX_STARTUP 10000U

/* Result of a framing attempt. */
enum pg_frame_status {
	PG_FRAME_OK = 0,   /* a whole message is at the front of the buffer */
	PG_FRAME_MORE = 1, /* not enough bytes yet */
	PG_FRAME_BAD = -1  /* malformed: length out of range */
};

/* One framed message.  body points into the caller's buffer. */
struct pg_frame {
	uint8_t type;        /* message type byte; 0 for a startup packet */
	const uint8_t *body; /* bytes after the length word */
	size_t body_len;     /* length of body */
	size_t total;        /* bytes the whole message takes in the buffer */
};

/*
 * Frame a typed message (type byte, int32 length including itself, body)
 * at the front of buf.  max bounds the length word.  On PG_FRAME_BAD, why
 * says what was wrong (static text).
 */
int pg_frame_typed(const uint8_t *buf, size_t len, size_t max,
		   struct pg_frame *f, const char **why);

/* Frame a startup packet (int32 length, then body). */
int pg_frame_startup(const uint8_t *buf, size_t len, struct pg_frame *f,
		     const char **why);

/* ---- reading fields of one message body ---- */

struct pg_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	int bad; /* set on the first read past the end or a missing NUL */
};

void pg_reader_init(struct pg_reader *r, const uint8_t *p, size_t len);
uint8_t pg_get_u8(struct pg_reader *r);
int16_t pg_get_i16(struct pg_reader *r);
int32_t pg_get_i32(struct pg_reader *r);
/* A NUL-terminated string inside the body; NULL (and bad) if none. */
const char *pg_get_str(struct pg_reader *r, size_t *slen);
/* n raw bytes; NULL (and bad) if fewer remain. */
const uint8_t *pg_get_bytes(struct pg_reader *r, size_t n);
/* Bytes left unread. */
size_t pg_remaining(const struct pg_reader *r);

/* ---- building messages ---- */

struct pg_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	int oom; /* an append failed; the content is incomplete */
};

void pg_buf_init(struct pg_buf *b);
void pg_buf_free(struct pg_buf *b);
void pg_buf_reset(struct pg_buf *b);
void pg_buf_add(struct pg_buf *b, const void *p, size_t n);
void pg_buf_u8(struct pg_buf *b, uint8_t v);
void pg_buf_i16(struct pg_buf *b, int16_t v);
void pg_buf_i32(struct pg_buf *b, int32_t v);
/* A string with its terminating NUL. */
void pg_buf_str(struct pg_buf *b, const char *s);
/* Start a message of type (0: startup packet without a type byte);
 * returns the offset to hand to pg_msg_end(). */
size_t pg_msg_begin(struct pg_buf *b, uint8_t type);
/* Patch the length word of the message started at off. */
void pg_msg_end(struct pg_buf *b, size_t off);

/*
 * ErrorResponse ('E') or NoticeResponse ('N'): severity ("ERROR",
 * "FATAL", "NOTICE"), SQLSTATE, message, optional detail and hint.
 */
void pg_build_error(struct pg_buf *b, uint8_t type, const char *severity,
		    const char *sqlstate, const char *message,
		    const char *detail, const char *hint);
/* ReadyForQuery with transaction status 'I', 'T' or 'E'. */
void pg_build_ready(struct pg_buf *b, uint8_t txstatus);
/* Authentication request: code and optional payload. */
void pg_build_auth(struct pg_buf *b, int32_t code, const void *extra,
		   size_t n);

/*
 * Find one field of an ErrorResponse/NoticeResponse body (e.g. 'C' for
 * SQLSTATE, 'M' for the message).  NULL if absent or malformed.
 */
const char *pg_error_field(const uint8_t *body, size_t len, uint8_t code);

/* Is type a frontend message type valid once the session is running? */
int pg_frontend_type_known(uint8_t type);

#endif /* PG_MSG_H */
