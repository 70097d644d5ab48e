/*
 * Framing of store-file segments: one frame per line,
 *
 *   "LLLLLLLL CCCCCCCC <payload>\n"
 *
 * L is the payload length and C its CRC-32C, both 8 lowercase hex
 * digits.  The payload is JSON without raw newlines.  Lines keep the files
 * readable with grep and less; length and checksum tell a frame cut short
 * by a crash (torn tail) from a complete one.
 *
 * Also linked by the jitgate CLI to read records without a gateway.
 */
#ifndef SF_FRAME_H
#define SF_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define SF_HDR_LEN 18             /* "LLLLLLLL CCCCCCCC " */
#define SF_MAX_PAYLOAD (16u << 20) /* longer frames are refused */

uint32_t sf_crc32c(const void *data, size_t len);
/* The same by table, whatever the CPU has (tests compare the two). */
uint32_t sf_crc32c_table(const void *data, size_t len);

/* Write the header for a payload of len bytes into hdr (SF_HDR_LEN+1). */
void sf_frame_header(char *hdr, const char *payload, size_t len);

/* Called for each good frame: payload (not NUL-terminated) and length;
 * return non-zero to stop. */
typedef int (*sf_frame_cb)(void *ud, const char *payload, size_t len,
			   size_t index);

struct sf_scan {
	size_t frames;    /* good frames before the first bad one */
	size_t good_end;  /* byte offset just after the last good frame */
	size_t size;      /* bytes scanned */
	int torn;         /* bytes after good_end that are not a frame and
			     no good frame follows them: a torn tail */
	int corrupt;      /* a bad frame with good frames after it */
	size_t bad_offset; /* where the first bad frame starts */
};

/*
 * Scan buf: call cb for each good frame (cb may be NULL) until the first
 * bad one, then look on for good frames to tell a torn tail from damage.
 */
void sf_scan(const char *buf, size_t len, sf_frame_cb cb, void *ud,
	     struct sf_scan *out);

/* Read a whole file into a malloc'd buffer (NUL-terminated).  -1 with
 * errno set on failure. */
int sf_read_file(const char *path, char **buf, size_t *len);

#endif /* SF_FRAME_H */
