/*
 * libFuzzer harness for reading a session record back from disk, what
 * `jitgate audit verify` and `jitgate replay` do with files an attacker
 * who reached the disk may have changed: the store_file framing
 * (plugins/store/file/sf_frame.c: length, CRC, torn tails, damage) and
 * the hash chain verifier (core/record_chain.c: JSON, canonical form,
 * hashes, HMACs, seal).
 *
 * Input: a record file as store_file writes it ("LLLLLLLL CCCCCCCC
 * {json}\n" lines), or, when the first byte is odd ('{' is), its events
 * one per line without frame headers: the CRC would otherwise stop most
 * mutations before the verifier.  Seeds are real records made with the
 * integration tests' key, so mutations reach the MAC and seal checks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record_chain.h"
#include "sf_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char key[] = "integration-test-key-0123456789";

struct events {
	char **v;
	size_t n, cap;
};

static int collect(void *ud, const char *payload, size_t len, size_t index)
{
	struct events *e = ud;
	char *s;

	(void)index;
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 16;
		char **v = realloc(e->v, cap * sizeof(*v));
		if (!v)
			abort();
		e->v = v;
		e->cap = cap;
	}
	s = malloc(len + 1);
	if (!s)
		abort();
	memcpy(s, payload, len);
	s[len] = '\0';
	e->v[e->n++] = s;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct events e = {0};
	struct sf_scan scan;
	struct rec_verify with_key, chain_only;
	char *buf = malloc(size + 1);

	if (!buf)
		abort();
	/* sf_read_file hands the scanner a NUL-terminated buffer. */
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (size > 0 && (data[0] & 1)) {
		for (char *line = buf, *nl; line < buf + size; line = nl + 1) {
			nl = memchr(line, '\n', (size_t)(buf + size - line));
			if (!nl)
				nl = buf + size;
			collect(&e, line, (size_t)(nl - line), e.n);
		}
	} else {
		memset(&scan, 0, sizeof(scan));
		sf_scan(buf, size, collect, &e, &scan);
		if (scan.good_end > size || scan.frames != e.n ||
		    (scan.torn && scan.corrupt))
			abort();
	}
	if (e.n) {
		rec_verify((const char *const *)e.v, e.n, key, strlen(key),
			   &with_key);
		rec_verify((const char *const *)e.v, e.n, NULL, 0, &chain_only);
		if (with_key.verdict < REC_SEALED ||
		    with_key.verdict > REC_BROKEN ||
		    memchr(with_key.why, '\0', sizeof(with_key.why)) == NULL)
			abort();
		/* What passes with the key passes without it. */
		if (with_key.verdict != REC_BROKEN &&
		    chain_only.verdict != with_key.verdict)
			abort();
	}
	for (size_t i = 0; i < e.n; i++)
		free(e.v[i]);
	free(e.v);
	free(buf);
	return 0;
}
