/*
 * Streams: the output must not depend on where the chunks were cut.  Every
 * sample is split at every position (and fed byte by byte) and compared
 * with masking it whole.  Long bodies check that memory stays bounded and
 * that hits near the in-place part of a big chunk are found.  The fuzz
 * corpus is replayed here too.
 */
#include "pii_fake_host.h"

#include <dirent.h>

static void *pf;

static const char *const samples[] = {
	"card 4111 1111 1111 1111 and 4012888888881881.",
	"mail john.doe+tag@example.co.uk, or x@y.io",
	"IBAN GB82 WEST 1234 5698 7654 32 / DE89370400440532013000 ok",
	"ssn 123-45-6789; phone +1 (415) 555-2671 or (415) 555-2671",
	"Order #415-555-2671 and 020 7946 0958",
	"ip 192.168.100.200 and [2001:db8::8a2e:370:7334]:443 fe80::1",
	"Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkw"
	"In0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c end",
	"AKIAIOSFODNN7EXAMPLE aws_secret_access_key = "
	"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
	"{\"AccessKeyId\": \"ASIAY34FZKBOKMUTVV7A\", \"SecretAccessKey\": "
	"\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"}",
	"x\n-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLI"
	"nFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n-----END RSA PRIVATE KEY-----\ny",
	"no hits here: 2024-03-15 10:23:45, 129.99 USD, a-b_c: d",
	"EMP-123456 acct 123456789015 tail",
	"\xc3\xa9t\xc3\xa9 4111111111111111\xe2\x82\xac caf\xc3\xa9@example.com",
	"",
};

static int setup(void **state)
{
	(void)state;
	inst = test_instance();
	pf = compile_or_die(
		inst, "{\"default\": {\"replacement\": \"<X>\"},"
		      " \"detectors\": {\"card\": \"partial\", \"email\": "
		      "\"hash\", \"iban\": true, \"ssn\": true, \"phone\": true,"
		      " \"ipv4\": true, \"ipv6\": true, \"jwt\": true,"
		      " \"aws_key_id\": true, \"aws_secret_key\": true,"
		      " \"pem_private_key\": true},"
		      " \"custom\": [{\"name\": \"emp\", \"regex\": "
		      "\"\\\\bEMP-\\\\d{6}\\\\b\"}, {\"name\": \"acct\", "
		      "\"regex\": \"\\\\b\\\\d{12}\\\\b\", \"validator\": "
		      "\"luhn\"}]}");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ops()->profile_free(pf);
	jg_plugin.fini(inst);
	return 0;
}

/* Feed in[] cut at the given positions; return the output. */
static char *stream(const void *p, int carrier, const char *in, size_t len,
		    const size_t *cuts, size_t ncuts, struct jg_mask_report *rep)
{
	size_t sz = ops()->stream_state_size(p);
	void *st = malloc(sz);
	struct sink s = {0};
	size_t at = 0;

	assert_non_null(st);
	assert_int_equal(ops()->stream_init(p, st, carrier), JG_OK);
	for (size_t i = 0; i <= ncuts; i++) {
		size_t to = i < ncuts ? cuts[i] : len;
		assert_int_equal(ops()->mask_stream(p, st, in + at, to - at,
						    sink_emit, &s, rep),
				 JG_OK);
		at = to;
	}
	assert_int_equal(ops()->mask_stream(p, st, NULL, 0, sink_emit, &s,
					    rep),
			 JG_OK);
	free(st);
	if (!s.b)
		return strdup("");
	return s.b;
}

static void check_all_cuts(const void *p, int carrier, const char *in)
{
	size_t len = strlen(in);
	char *whole = mask_field(p, NULL, NULL, carrier, in, NULL);

	for (size_t i = 0; i <= len; i++) {
		char *got = stream(p, carrier, in, len, &i, 1, NULL);
		if (strcmp(got, whole))
			fail_msg("cut at %zu of \"%s\"\n  got  \"%s\"\n  want "
				 "\"%s\"",
				 i, in, got, whole);
		free(got);
	}
	/* two cuts, a few bytes apart, everywhere */
	for (size_t i = 0; i + 3 <= len; i++) {
		size_t cuts[2] = {i, i + 3};
		char *got = stream(p, carrier, in, len, cuts, 2, NULL);
		if (strcmp(got, whole))
			fail_msg("cuts at %zu,%zu of \"%s\"\n  got  \"%s\"", i,
				 i + 3, in, got);
		free(got);
	}
	/* byte by byte */
	size_t *cuts = malloc((len + 1) * sizeof(*cuts));
	for (size_t i = 0; i < len; i++)
		cuts[i] = i + 1;
	char *got = stream(p, carrier, in, len, cuts, len ? len - 1 : 0, NULL);
	assert_string_equal(got, whole);
	free(got);
	free(cuts);
	free(whole);
}

static void test_every_cut(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++)
		check_all_cuts(pf, JG_MASK_TEXT, samples[i]);
}

static void test_every_cut_json(void **state)
{
	(void)state;
	check_all_cuts(pf, JG_MASK_JSON_STRING,
		       "line\\n4111 1111 1111 1111\\tmail\\u0020a@b.com\\\"x");
	check_all_cuts(pf, JG_MASK_JSON_STRING,
		       "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg\\n-----END "
		       "PRIVATE KEY-----\\n");
	check_all_cuts(pf, JG_MASK_JSON_STRING, "\\\\4111111111111111\\u00e9");
}

/* A long body: hits everywhere, cut in many sizes, including chunks
 * much longer than what a stream holds back. */
static void test_long_body(void **state)
{
	static const char *const parts[] = {
		"plain words and numbers 12 345 6789, ",
		"card 4111-1111-1111-1111 ",
		"mail someone@example.org ",
		"key AKIAIOSFODNN7EXAMPLE ",
		"x-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
		"a_long_identifier_with_underscores_and_digits_0123456789 ",
	};
	size_t cap = 300000, len = 0;
	char *in = calloc(1, cap + 1); /* PCRE2 JIT reads words past the end */
	unsigned seed = 7;
	(void)state;

	while (len < cap - 200) {
		seed = seed * 1103515245 + 12345;
		const char *p = parts[(seed >> 16) % 6];
		memcpy(in + len, p, strlen(p));
		len += strlen(p);
	}
	in[len] = 0;
	char *whole = mask_field(pf, NULL, NULL, JG_MASK_TEXT, in, NULL);
	static const size_t sizes[] = {3, 5, 64, 1000, 4096, 20000, 70000,
				       299999};
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = len / sizes[k] + 1, m = 0;
		size_t *cuts = malloc((n + 1) * sizeof(*cuts));
		for (size_t at = sizes[k]; at < len && m < n; at += sizes[k])
			cuts[m++] = at;
		char *got = stream(pf, JG_MASK_TEXT, in, len, cuts, m, NULL);
		if (strcmp(got, whole))
			fail_msg("chunks of %zu differ", sizes[k]);
		free(got);
		free(cuts);
	}
	free(whole);
	free(in);
}

/* Replay the fuzz corpus: no crash, and stream equals whole. */
static void test_fuzz_corpus(void **state)
{
	DIR *d = opendir(FUZZ_CORPUS);
	struct dirent *e;
	(void)state;
	if (!d)
		return;
	while ((e = readdir(d))) {
		char path[1024], buf[65536];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", FUZZ_CORPUS, e->d_name);
		FILE *f = fopen(path, "rb");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		/* PCRE2's JIT reads whole words past the subject's end */
		memset(buf + n, 0, sizeof(buf) - n);
		if (strlen(buf) == n)
			check_all_cuts(pf, JG_MASK_TEXT, buf);
	}
	closedir(d);
}

static void test_bad_state(void **state)
{
	char st[64] = {0};
	struct sink s = {0};
	(void)state;
	assert_int_equal(ops()->mask_stream(pf, st, "x", 1, sink_emit, &s,
					    NULL),
			 JG_ERROR);
	assert_int_equal(ops()->stream_init(pf, st, 7), JG_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_cut),
		cmocka_unit_test(test_every_cut_json),
		cmocka_unit_test(test_long_body),
		cmocka_unit_test(test_fuzz_corpus),
		cmocka_unit_test(test_bad_state),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
