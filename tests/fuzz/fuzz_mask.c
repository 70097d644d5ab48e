/*
 * libFuzzer harness for the pii masker: the scanner (every detector, both
 * carriers, whole values and streams cut where the input says) and the
 * profile compiler.
 *
 * Input: byte 0 picks the mode.  Mode 0: the rest is a profile to
 * compile.  Otherwise byte 1 is a chunk size, and the rest is masked whole
 * and as a stream; the two outputs must be equal (a difference aborts).
 * It is also masked whole with the pre-filter's rules off (every trigger
 * byte goes to its handler): the rules must not change the output.  The
 * same again with the built-in detectors alone, which is the profile
 * where mask_value's fast path (pii_value_clean) decides most values, and
 * streamed with it.
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
static void *inst, *pf, *pf_all, *pf_bi, *pf_bi_all;

static void setup(void)
{
	char err[256];

	ops = jg_plugin.ops;
#define DETECTORS                                                             \
	"\"detectors\": {\"card\": \"partial\", \"email\": true,"               \
	" \"iban\": true, \"ssn\": true, \"phone\": true, \"ipv4\":"              \
	" true, \"ipv6\": true, \"jwt\": true, \"aws_key_id\": true,"              \
	" \"aws_secret_key\": true, \"pem_private_key\": true},"                 \
	" \"max_pem\": 512, \"max_jwt\": 512"
	static const char json[] =
		"{" DETECTORS ", \"custom\": [{\"name\":"
		" \"emp\", \"regex\": \"\\\\bEMP-\\\\d{6}\\\\b\"}]}";
	static const char builtin[] = "{" DETECTORS "}";
#undef DETECTORS

	if (jg_plugin.init(NULL, NULL, &inst, err, sizeof(err)) ||
	    ops->profile_compile(inst, "fuzz", json, &pf, err, sizeof(err)) ||
	    ops->profile_compile(inst, "all", json, &pf_all, err, sizeof(err)) ||
	    ops->profile_compile(inst, "bi", builtin, &pf_bi, err,
				 sizeof(err)) ||
	    ops->profile_compile(inst, "bi_all", builtin, &pf_bi_all, err,
				 sizeof(err)))
		abort();
	((struct pii_profile *)pf_all)->exhaustive = 1;
	((struct pii_profile *)pf_bi_all)->exhaustive = 1;
}

/* in masked whole under p, or in itself when nothing was masked */
static void whole_value(const void *p, const struct jg_mask_field *f,
			const char *in, size_t len, struct buf *out)
{
	int rc = ops->mask_value(p, f, in, len, put, out, NULL);
	if (rc == JG_DECLINED)
		put(out, in, len);
	else if (rc != JG_OK)
		abort();
}

static void streamed_value(const void *p, int carrier, const char *in,
			   size_t len, size_t chunk, struct buf *out)
{
	void *st = malloc(ops->stream_state_size(p));
	if (!st || ops->stream_init(p, st, carrier))
		abort();
	for (size_t at = 0; at < len; at += chunk) {
		size_t n = len - at < chunk ? len - at : chunk;
		if (ops->mask_stream(p, st, in + at, n, put, out, NULL))
			abort();
	}
	if (ops->mask_stream(p, st, NULL, 0, put, out, NULL))
		abort();
	free(st);
}

static int same(const struct buf *a, const struct buf *b)
{
	return a->n == b->n && (!a->n || !memcmp(a->b, b->b, a->n));
}

/* pf_rules and pf_every (rules off) mask in alike, whole and streamed */
static void check(const void *pf_rules, const void *pf_every, int carrier,
		  const char *in, size_t len, size_t chunk)
{
	struct jg_mask_field f = {NULL, NULL, carrier};
	struct buf whole = {0}, all = {0}, streamed = {0};

	whole_value(pf_rules, &f, in, len, &whole);
	whole_value(pf_every, &f, in, len, &all);
	if (!same(&whole, &all))
		abort(); /* the pre-filter's rules lost or added a match */
	streamed_value(pf_rules, carrier, in, len, chunk, &streamed);
	if (!same(&whole, &streamed))
		abort(); /* a stream must not depend on its chunking */
	free(whole.b);
	free(all.b);
	free(streamed.b);
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

	check(pf, pf_all, carrier, in, len, chunk);
	check(pf_bi, pf_bi_all, carrier, in, len, chunk);
	return 0;
}
