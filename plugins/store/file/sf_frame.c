/*
 * Line frames with length and CRC-32C (see sf_frame.h).
 */
#include "sf_frame.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t crc_table[256];
static int crc_ready;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0x82f63b78u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
	__atomic_store_n(&crc_ready, 1, __ATOMIC_RELEASE);
}

static uint32_t crc_sw(uint32_t c, const unsigned char *p, size_t len)
{
	/* Idempotent, so a race between two first callers is harmless. */
	if (!__atomic_load_n(&crc_ready, __ATOMIC_ACQUIRE))
		crc_init();
	for (size_t i = 0; i < len; i++)
		c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* SSE4.2's crc32 instruction computes exactly CRC-32C, 8 bytes a step:
 * every recorded event is framed with it, and the table loop showed in
 * profiles of a busy gateway. */
__attribute__((target("sse4.2"))) static uint32_t
crc_hw(uint32_t c, const unsigned char *p, size_t len)
{
	uint64_t c64 = c;

	for (; len >= 8; p += 8, len -= 8) {
		uint64_t v;
		memcpy(&v, p, 8);
		c64 = __builtin_ia32_crc32di(c64, v);
	}
	c = (uint32_t)c64;
	for (; len; p++, len--)
		c = __builtin_ia32_crc32qi(c, *p);
	return c;
}

static int have_hw(void)
{
	static int v = -1; /* idempotent: a race only repeats the test */
	if (v < 0)
		v = __builtin_cpu_supports("sse4.2") ? 1 : 0;
	return v;
}
#else
static uint32_t crc_hw(uint32_t c, const unsigned char *p, size_t len)
{
	return crc_sw(c, p, len);
}

static int have_hw(void)
{
	return 0;
}
#endif

uint32_t sf_crc32c(const void *data, size_t len)
{
	uint32_t c = 0xffffffffu;

	c = have_hw() ? crc_hw(c, data, len) : crc_sw(c, data, len);
	return c ^ 0xffffffffu;
}

uint32_t sf_crc32c_table(const void *data, size_t len)
{
	return crc_sw(0xffffffffu, data, len) ^ 0xffffffffu;
}

static void hex8_put(char *out, uint32_t v)
{
	static const char digits[] = "0123456789abcdef";
	for (int i = 7; i >= 0; i--, v >>= 4)
		out[i] = digits[v & 15];
}

/* By hand rather than snprintf("%08zx %08x "), with the same bytes for
 * every length below 4 GiB: every recorded event is framed here, and
 * the format call showed in profiles.  (Readers refuse frames over
 * SF_MAX_PAYLOAD anyway.) */
void sf_frame_header(char *hdr, const char *payload, size_t len)
{
	hex8_put(hdr, (uint32_t)len);
	hdr[8] = ' ';
	hex8_put(hdr + 9, sf_crc32c(payload, len));
	hdr[17] = ' ';
	hdr[18] = '\0';
}

static int hex8(const char *s, uint32_t *v)
{
	uint32_t x = 0;

	for (int i = 0; i < 8; i++) {
		char c = s[i];
		int d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return -1;
		x = (x << 4) | (uint32_t)d;
	}
	*v = x;
	return 0;
}

/* Length of the good frame at buf[0..len), 0 if none is there. */
static size_t frame_at(const char *buf, size_t len, const char **payload,
		       size_t *plen)
{
	uint32_t n, crc;

	if (len < SF_HDR_LEN + 1 || hex8(buf, &n) < 0 || buf[8] != ' ' ||
	    hex8(buf + 9, &crc) < 0 || buf[17] != ' ' || n > SF_MAX_PAYLOAD)
		return 0;
	if ((size_t)n > len - SF_HDR_LEN - 1 || buf[SF_HDR_LEN + n] != '\n')
		return 0;
	if (sf_crc32c(buf + SF_HDR_LEN, n) != crc)
		return 0;
	*payload = buf + SF_HDR_LEN;
	*plen = n;
	return SF_HDR_LEN + (size_t)n + 1;
}

void sf_scan(const char *buf, size_t len, sf_frame_cb cb, void *ud,
	     struct sf_scan *out)
{
	size_t off = 0;
	const char *p;
	size_t plen;

	memset(out, 0, sizeof(*out));
	out->size = len;
	while (off < len) {
		size_t n = frame_at(buf + off, len - off, &p, &plen);
		if (!n)
			break;
		if (cb && cb(ud, p, plen, out->frames)) {
			out->frames++;
			out->good_end = off + n;
			return;
		}
		out->frames++;
		off += n;
		out->good_end = off;
	}
	if (off >= len)
		return;
	out->bad_offset = off;
	/* Is there a good frame after the bad one?  Try each line start. */
	for (size_t i = off; i < len; i++) {
		if (buf[i] != '\n' || i + 1 >= len)
			continue;
		if (frame_at(buf + i + 1, len - i - 1, &p, &plen)) {
			out->corrupt = 1;
			return;
		}
	}
	out->torn = 1;
}

int sf_read_file(const char *path, char **buf, size_t *len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *b;
	size_t got = 0;

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !(b = malloc((size_t)st.st_size + 1))) {
		int e = errno;
		close(fd);
		errno = e ? e : ENOMEM;
		return -1;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, b + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	b[got] = '\0';
	*buf = b;
	*len = got;
	return 0;
}
