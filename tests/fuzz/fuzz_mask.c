/*
 * libFuzzer harness for the pii masker: the scanner (every detector, both
 * carriers, whole values and streams cut where the input says) and the
 * profile compiler.
 *
 * Input: byte 0 picks the mode.  Mode 0: the rest is a profile to
 * compile.  Otherwise byte 1 is a chunk size, and the rest is masked whole
 * and as a stream; the two outputs must be equal (a difference aborts).
 * It is also masked whole with the pre-filter's rules off (every trigger
 * byte goes to its handler): the rules must not change the output.
 */
#include "pii.h"

#include <stdlib.h>
#include <string.h>

extern const struct jg_plugin jg_plugin;
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct buf {
	char *b;
	size_t n, cap;
};

static int put(void *ud, const char *d, size_t n)
{
	struct buf *o = ud;
	if (!n)
		return 0;
	if (o->n + n > o->cap) {
		o->cap = (o->n + n) * 2 + 64;
		o->b = realloc(o->b, o->cap);
		if (!o->b)
			abort();
	}
	memcpy(o->b + o->n, d, n);
	o->n += n;
	return 0;
}

static const struct jg_mask_ops *ops;
static void *inst, *pf, *pf_all;

static void setup(void)
{
	char err[256];

	ops = jg_plugin.ops;
	static const char json[] =
		"{\"detectors\": {\"card\": \"partial\", \"email\": true,"
		" \"iban\": true, \"ssn\": true, \"phone\": true, \"ipv4\":"
		" true, \"ipv6\": true, \"jwt\": true, \"aws_key_id\": true,"
		" \"aws_secret_key\": true, \"pem_private_key\": true},"
		" \"max_pem\": 512, \"max_jwt\": 512, \"custom\": [{\"name\":"
		" \"emp\", \"regex\": \"\\\\bEMP-\\\\d{6}\\\\b\"}]}";

	if (jg_plugin.init(NULL, NULL, &inst, err, sizeof(err)) ||
	    ops->profile_compile(inst, "fuzz", json, &pf, err, sizeof(err)) ||
	    ops->profile_compile(inst, "all", json, &pf_all, err, sizeof(err)))
		abort();
	((struct pii_profile *)pf_all)->exhaustive = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ops)
		setup();
	if (size < 2)
		return 0;
	if (data[0] == 0) {
		char *json = malloc(size);
		void *p = NULL;
		char err[256];
		memcpy(json, data + 1, size - 1);
		json[size - 1] = 0;
		if (ops->profile_compile(inst, "f", json, &p, err,
					 sizeof(err)) == JG_OK)
			ops->profile_free(p);
		free(json);
		return 0;
	}
	int carrier = data[0] & 1 ? JG_MASK_JSON_STRING : JG_MASK_TEXT;
	size_t chunk = data[1] ? data[1] : 1;
	const char *in = (const char *)data + 2;
	size_t len = size - 2;
	struct jg_mask_field f = {NULL, NULL, carrier};
	struct buf whole = {0}, streamed = {0};

	int rc = ops->mask_value(pf, &f, in, len, put, &whole, NULL);
	if (rc == JG_DECLINED)
		put(&whole, in, len);
	else if (rc != JG_OK)
		abort();

	struct buf all = {0};
	rc = ops->mask_value(pf_all, &f, in, len, put, &all, NULL);
	if (rc == JG_DECLINED)
		put(&all, in, len);
	if (whole.n != all.n || (whole.n && memcmp(whole.b, all.b, whole.n)))
		abort(); /* the pre-filter's rules lost or added a match */
	free(all.b);

	void *st = malloc(ops->stream_state_size(pf));
	if (!st || ops->stream_init(pf, st, carrier))
		abort();
	for (size_t at = 0; at < len; at += chunk) {
		size_t n = len - at < chunk ? len - at : chunk;
		if (ops->mask_stream(pf, st, in + at, n, put, &streamed, NULL))
			abort();
	}
	if (ops->mask_stream(pf, st, NULL, 0, put, &streamed, NULL))
		abort();
	if (whole.n != streamed.n ||
	    (whole.n && memcmp(whole.b, streamed.b, whole.n)))
		abort(); /* a stream must not depend on its chunking */
	free(st);
	free(whole.b);
	free(streamed.b);
	return 0;
}
