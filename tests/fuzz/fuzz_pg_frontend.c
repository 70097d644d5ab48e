/*
 * libFuzzer harness for everything a PostgreSQL client can send: the
 * first input byte picks the phase (startup packet, or messages after a
 * login), the rest arrives split at the positions the next bytes choose.
 * Runs the real plugin against the fake host (tests/unit/pg_fakehost.c).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pg_fakehost.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 2, chunk;
	uint8_t mode, split;

	if (size < 2)
		return 0;
	mode = data[0];
	split = data[1] ? data[1] : 1;
	fh_setup();
	fh.sess.loopback = mode & 1;
	if (mode & 2)
		fh_login();
	while (off < size && !fh.sess.ended) {
		chunk = size - off < split ? size - off : split;
		fh_client_send(data + off, chunk);
		off += chunk;
		/* let the fake server answer anything sent so far */
		if ((mode & 4) && fh_up_take(NULL, 0) > 0) {
			static const uint8_t z[] = {'Z', 0, 0, 0, 5, 'I'};

			fh_up_send(z, sizeof(z));
		}
	}
	fh_client_take(NULL, 0);
	fh_teardown();
	return 0;
}
