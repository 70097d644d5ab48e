/*
 * The pre-filter (plugins/mask/pii/prefilter.c) only skips handler calls
 * that cannot match: masking with its rules and with every trigger byte
 * sent to its handler (pf->exhaustive) must give the same bytes, for true
 * positives in every context and at every offset across the 48-byte
 * window steps, for realistic rows, and for random text made of the bytes
 * the rules look at; streamed too.  The scalar, SSE2 and AVX2 classifiers
 * must agree bit for bit.
 */
#include "pii_fake_host.h"

#include "pii.h"

static void *pf, *pf_all;

static const char json[] =
	"{\"detectors\": {\"card\": \"partial\", \"email\": true,"
	" \"iban\": true, \"ssn\": true, \"phone\": true, \"ipv4\": true,"
	" \"ipv6\": true, \"jwt\": true, \"aws_key_id\": true,"
	" \"aws_secret_key\": true, \"pem_private_key\": true},"
	" \"max_pem\": 512, \"max_jwt\": 512}";

static int setup(void **state)
{
	(void)state;
	inst = test_instance();
	pf = compile_or_die(inst, json);
	pf_all = compile_or_die(inst, json);
	((struct pii_profile *)pf_all)->exhaustive = 1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ops()->profile_free(pf);
	ops()->profile_free(pf_all);
	jg_plugin.fini(inst);
	return 0;
}

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

/* Mostly the bytes the rules test, so random text hits their edges. */
static const char alphabet[] = "0123456789012345678901234567890123456789"
			       "   ---...::+()ABJKSIeyx@_/\n\"\\,#GBDE";

static void random_text(unsigned *s, char *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = alphabet[rnd(s) % (sizeof(alphabet) - 1)];
	out[n] = 0;
}

static char *stream_text(const void *p, int carrier, const char *in,
			 size_t chunk)
{
	size_t len = strlen(in);
	void *st = malloc(ops()->stream_state_size(p));
	struct sink s = {0};

	assert_non_null(st);
	assert_int_equal(ops()->stream_init(p, st, carrier), JG_OK);
	for (size_t at = 0; at < len; at += chunk) {
		size_t n = len - at < chunk ? len - at : chunk;
		assert_int_equal(ops()->mask_stream(p, st, in + at, n,
						    sink_emit, &s, NULL),
				 JG_OK);
	}
	assert_int_equal(ops()->mask_stream(p, st, NULL, 0, sink_emit, &s,
					    NULL),
			 JG_OK);
	free(st);
	return s.b ? s.b : strdup("");
}

/* Same output with and without the rules, whole and streamed. */
static void check_same(const char *in, int streams)
{
	for (int carrier = JG_MASK_TEXT; carrier <= JG_MASK_JSON_STRING;
	     carrier++) {
		char *want = mask_field(pf_all, NULL, NULL, carrier, in, NULL);
		char *got = mask_field(pf, NULL, NULL, carrier, in, NULL);
		if (strcmp(got, want))
			fail_msg("rules changed \"%s\"\n  got  \"%s\"\n  want "
				 "\"%s\"",
				 in, got, want);
		free(got);
		for (size_t chunk = 5; streams && chunk < 80; chunk += 37) {
			got = stream_text(pf, carrier, in, chunk);
			if (strcmp(got, want))
				fail_msg("stream by %zu of \"%s\"\n  got  "
					 "\"%s\"\n  want \"%s\"",
					 chunk, in, got, want);
			free(got);
		}
		free(want);
	}
}

/* Mostly the alphabet's bytes, some of any value. */
static unsigned char random_byte(unsigned *s)
{
	return rnd(s) % 4 ? (unsigned char)alphabet[rnd(s) %
						     (sizeof(alphabet) - 1)]
			  : (unsigned char)rnd(s);
}

static void test_classifiers_agree(void **state)
{
	unsigned s = 7;
	unsigned char w[64];
	(void)state;

	for (int i = 0; i < 20000; i++) {
		for (size_t k = 0; k < sizeof(w); k++)
			w[k] = random_byte(&s);
		int prev = pii_class_of((int)(rnd(&s) & 0xff));
		uint32_t on = rnd(&s) % 2 ? ~0U : rnd(&s);
		int ex = rnd(&s) % 8 == 0;
		uint64_t want = pii_window_scalar(w, prev, on, ex);
#if defined(__x86_64__) || defined(__i386__)
		assert_true(pii_window_sse2(w, prev, on, ex) == want);
		if (__builtin_cpu_supports("avx2"))
			assert_true(pii_window_avx2(w, prev, on, ex) == want);
#endif
	}
}

/* A buffer's last bytes are classified where they are (no padded copy),
 * fully or quick masks first: the same bits as the full window over a
 * zero-padded copy, for every length, reading nothing past the buffer
 * (an exact heap block, so ASan and valgrind see any overread). */
static void test_tails_agree(void **state)
{
	unsigned s = 11;
	unsigned char pad[64];
	(void)state;

	for (int i = 0; i < 3000; i++) {
		size_t n = (size_t)i % 65;
		unsigned char *w = malloc(n ? n : 1);
		assert_non_null(w);
		memset(pad, 0, sizeof(pad));
		for (size_t k = 0; k < n; k++)
			pad[k] = w[k] = random_byte(&s);
		int prev = pii_class_of((int)(rnd(&s) & 0xff));
		uint32_t on = rnd(&s) % 2 ? ~0U : rnd(&s);
		int ex = rnd(&s) % 8 == 0;
		uint64_t want = pii_window_scalar(pad, prev, on, ex);
		assert_true(pii_tail_scalar(w, n, prev, on, ex) == want);
		assert_true(ex || pii_quick_scalar(w, n, prev, on) == want);
#if defined(__x86_64__) || defined(__i386__)
		assert_true(pii_tail_sse2(w, n, prev, on, ex) == want);
		assert_true(ex || pii_quick_sse2(w, n, prev, on) == want);
		if (__builtin_cpu_supports("avx2")) {
			assert_true(pii_tail_avx2(w, n, prev, on, ex) == want);
			assert_true(ex ||
				    pii_quick_avx2(w, n, prev, on) == want);
		}
#endif
		free(w);
	}
}

/* Every sample, after 0 to 99 bytes of each filler, then each tail. */
static void test_true_positives_everywhere(void **state)
{
	static const char *const hits[] = {
		"4111 1111 1111 1111", "4111-1111-1111-1111",
		"4012888888881881", "378282246310005", "6011 0009 9013 9424",
		"5555 5555 5555 4444 999", "GB82 WEST 1234 5698 7654 32",
		"DE89370400440532013000", "123-45-6789", "+1 (415) 555-2671",
		"(415) 555-2671", "415-555-2671", "415.555.2671",
		"1-415-555-2671", "020 7946 0958", "+44 20 7946 0958",
		"+33 1 23 45 67 89", "192.168.100.200", "8.8.8.8",
		"2001:db8::8a2e:370:7334", "fe80::1", "1:2:3:4:5:6:7:8",
		"::ffff:192.0.2.128", "1:2:3:4:5:6:1.2.3.4",
		"AKIAIOSFODNN7EXAMPLE", "a.b@example.com",
		"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----",
	};
	static const char *const fill[] = {" ", "a", "1", "-", ":"};
	static const char *const tails[] = {"", " ", ".", ",x", "-", "1"};
	char in[256];
	(void)state;

	for (size_t h = 0; h < sizeof(hits) / sizeof(hits[0]); h++)
		for (size_t f = 0; f < sizeof(fill) / sizeof(fill[0]); f++)
			for (int n = 0; n < 100; n++)
				for (size_t t = 0; t < 6; t++) {
					int k = 0;
					for (int i = 0; i < n; i++)
						in[k++] = fill[f][0];
					snprintf(in + k, sizeof(in) - (size_t)k,
						 "%s%s%s", n ? " " : "",
						 hits[h], tails[t]);
					check_same(in, n % 16 == 0);
				}
}

/* Values shorter than PII_MIN_PLAIN are looked at only for '@' and ':':
 * every string of up to 5 bytes from the bytes matches start with is
 * masked as with every handler called, and the shortest matches are. */
static void test_short_values(void **state)
{
	static const char bytes[] = "1.:@a-+AJ";
	const size_t nb = sizeof(bytes) - 1;
	char in[8];
	(void)state;

	for (size_t len = 1; len <= 5; len++) {
		size_t total = 1;
		for (size_t k = 0; k < len; k++)
			total *= nb;
		for (size_t v = 0; v < total; v++) {
			size_t x = v;
			for (size_t k = 0; k < len; k++, x /= nb)
				in[k] = bytes[x % nb];
			in[len] = 0;
			check_same(in, 0);
		}
	}
	assert_masks(pf, "8.8.8.8", "[REDACTED]");
	assert_masks(pf, "::1", "[REDACTED]");
	assert_masks(pf, "a@b.co", "[REDACTED]");
	assert_masks(pf, "1.2.3.", "1.2.3.");
}

static void test_rows(void **state)
{
	static const char *const rows[] = {
		"48213|Alice Johnson|412 Main Street, Springfield|2024-03-05 "
		"12:34:56|129.99 USD|order 481516|Refund approved after review"
		" - see ticket A-1742.",
		"{\"status\": \"ok\", \"items\": [12, 7, 3], \"gift\": false}",
		"GET /api/v2/orders?page=4&size=50 200 12ms",
		"2024-03-05T12:34:56.789Z INFO req=9f86d081-884c-4d63 "
		"user=1042 took 35 ms, v1.2.3, tel 555-0100 x12",
		"Order #415-555-2671 and invoice 020 7946 0958, ref 123-45-6789",
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_same(rows[i], 1);
}

/* A colon that is not an IPv6 address used to hide the token after it. */
static void test_colon_hides_nothing(void **state)
{
	(void)state;
	assert_masks(pf, "{\"card\":4111111111111111}",
		     "{\"card\":************1111}");
	assert_masks(pf_all, "{\"card\":4111111111111111}",
		     "{\"card\":************1111}");
	assert_masks(pf_all, "x :AKIAIOSFODNN7EXAMPLE", "x :[REDACTED]");
	check_same("G8:AKIAIOSFODNN7EXAMPLE aws_secret_access_key = wJalrXU:"
		   "0tnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", 1);
}

/* A stream never cuts inside a JSON escape a hit would take in. */
static void test_stream_keeps_escape(void **state)
{
	static const char in[] = " \\4111 1111 1111 1111";
	(void)state;
	char *want = mask_field(pf, NULL, NULL, JG_MASK_JSON_STRING, in, NULL);
	char *got = stream_text(pf, JG_MASK_JSON_STRING, in, 1);
	assert_string_equal(got, want);
	free(got);
	free(want);
}

static void test_random_text(void **state)
{
	unsigned s = 1;
	char in[300];
	(void)state;

	for (int i = 0; i < 6000; i++) {
		random_text(&s, in, 1 + rnd(&s) % 250);
		check_same(in, i % 8 == 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_classifiers_agree),
		cmocka_unit_test(test_tails_agree),
		cmocka_unit_test(test_true_positives_everywhere),
		cmocka_unit_test(test_short_values),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_colon_hides_nothing),
		cmocka_unit_test(test_stream_keeps_escape),
		cmocka_unit_test(test_random_text),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
