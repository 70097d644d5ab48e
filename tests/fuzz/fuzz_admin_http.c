/*
 * libFuzzer harness for the admin API's request parser (core/admin_http.c):
 * the bytes an unauthenticated client can send to the admin port.
 *
 * Input: byte 0 is a chunk size (0 means byte by byte), the rest is the
 * request.  It is parsed whole by one parser and fed in chunks to a
 * second; both must agree on the outcome and on every part of the request
 * (a request split across reads must not parse differently).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void same_str(const char *a, const char *b)
{
	if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0)) {
		fprintf(stderr, "whole and split parses differ: \"%s\" / \"%s\"\n",
			a ? a : "(null)", b ? b : "(null)");
		abort();
	}
}

/* Read every part, so the sanitizers see any bad pointer or length. */
static void check_same(const struct admin_parser *w,
		       const struct admin_parser *s)
{
	size_t wl, sl;
	const char *wb = admin_parser_body(w, &wl);
	const char *sb = admin_parser_body(s, &sl);

	same_str(admin_parser_method(w), admin_parser_method(s));
	same_str(admin_parser_path(w), admin_parser_path(s));
	same_str(admin_parser_query(w), admin_parser_query(s));
	same_str(admin_parser_authorization(w),
		 admin_parser_authorization(s));
	if ((wb == NULL) != (sb == NULL) || wl != sl ||
	    (wb && memcmp(wb, sb, wl) != 0) || (wb && wb[wl] != '\0')) {
		fprintf(stderr, "bodies differ (%zu / %zu bytes)\n", wl, sl);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct admin_parser *w, *s;
	const char *req = (const char *)data + 1;
	size_t len, chunk, off = 0;
	int wrc, src = 0;

	if (size < 1)
		return 0;
	chunk = data[0] ? data[0] : 1;
	len = size - 1;
	w = admin_parser_new();
	s = admin_parser_new();
	if (w == NULL || s == NULL)
		abort();

	wrc = admin_parser_feed(w, req, len);
	while (off < len && src == 0) {
		size_t n = len - off < chunk ? len - off : chunk;

		src = admin_parser_feed(s, req + off, n);
		off += n;
	}
	if (len == 0)
		src = admin_parser_feed(s, req, 0);

	if (wrc != src || admin_parser_status(w) != admin_parser_status(s)) {
		fprintf(stderr, "whole: %d (status %d), split by %zu: %d "
				"(status %d)\n",
			wrc, admin_parser_status(w), chunk, src,
			admin_parser_status(s));
		abort();
	}
	check_same(w, s);
	/* A finished or refused parser stays so. */
	if (wrc != 0 && admin_parser_feed(w, "x", 1) != wrc)
		abort();
	admin_parser_free(w);
	admin_parser_free(s);
	return 0;
}
