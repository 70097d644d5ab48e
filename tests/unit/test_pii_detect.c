/*
 * Every built-in detector: true positives, and the near misses a user
 * would be annoyed to see masked (a 16-digit number failing Luhn, an IBAN
 * with a bad check, an order number that looks like a phone number).
 */
#include "pii_fake_host.h"

static void *pf; /* all built-ins, redact as "#" */

static int setup(void **state)
{
	(void)state;
	inst = test_instance();
	pf = compile_or_die(inst, "{\"default\": {\"replacement\": \"#\"}}");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ops()->profile_free(pf);
	jg_plugin.fini(inst);
	return 0;
}

static void test_cards(void **state)
{
	(void)state;
	assert_masks(pf, "card 4111111111111111 ok", "card # ok");
	assert_masks(pf, "4111 1111 1111 1111", "#");
	assert_masks(pf, "4111-1111-1111-1111.", "#.");
	assert_masks(pf, "amex 378282246310005", "amex #");
	assert_masks(pf, "mc 5555555555554444, visa13 4222222222222",
		     "mc #, visa13 #");
	assert_masks(pf, "discover 6011111111111117", "discover #");
	assert_masks(pf, "(4012888888881881)", "(#)");
	/* near misses */
	assert_masks(pf, "4111111111111112", "4111111111111112");  /* Luhn */
	assert_masks(pf, "9111111111111115", "9111111111111115");  /* issuer */
	assert_masks(pf, "41111111111111111111", "41111111111111111111");
	assert_masks(pf, "x4111111111111111", "x4111111111111111");
	assert_masks(pf, "4111111111111111x", "4111111111111111x");
	assert_masks(pf, "3.4111111111111111", "3.4111111111111111");
	assert_masks(pf, "4111 1111-1111 1111", "4111 1111-1111 1111");
	assert_masks(pf, "41 11 11 11 11 11 11 11", "41 11 11 11 11 11 11 11");
}

static void test_emails(void **state)
{
	(void)state;
	assert_masks(pf, "mail john.doe+tag@example.co.uk now",
		     "mail # now");
	assert_masks(pf, "<a@b.io>", "<#>");
	assert_masks(pf, "end: x@example.com.", "end: #.");
	assert_masks(pf, "a@b", "a@b");
	assert_masks(pf, "@example.com", "@example.com");
	assert_masks(pf, "user@localhost", "user@localhost");
	assert_masks(pf, "a..b@example.com", "a..b@example.com");
	assert_masks(pf, "x@-bad.com", "x@-bad.com");
	assert_masks(pf, "x@example.123", "x@example.123");
	assert_masks(pf, "two a@b.com,c@d.org", "two #,#");
}

static void test_iban(void **state)
{
	(void)state;
	assert_masks(pf, "IBAN DE89370400440532013000.", "IBAN #.");
	assert_masks(pf, "GB82 WEST 1234 5698 7654 32 end", "# end");
	assert_masks(pf, "FR1420041010050500013M02606", "#");
	assert_masks(pf, "DE89370400440532013001", "DE89370400440532013001");
	assert_masks(pf, "DE8937040044053201300", "DE8937040044053201300");
	assert_masks(pf, "XX89370400440532013000", "XX89370400440532013000");
	assert_masks(pf, "ADE89370400440532013000", "ADE89370400440532013000");
}

static void test_ssn(void **state)
{
	(void)state;
	assert_masks(pf, "ssn 123-45-6789.", "ssn #.");
	assert_masks(pf, "000-12-3456 666-12-3456 912-34-5678",
		     "000-12-3456 666-12-3456 912-34-5678");
	assert_masks(pf, "123-00-4567 123-45-0000", "123-00-4567 123-45-0000");
	assert_masks(pf, "078-05-1120", "078-05-1120");
	assert_masks(pf, "123-45-67890", "123-45-67890");
}

static void test_phones(void **state)
{
	(void)state;
	assert_masks(pf, "call +14155552671 now", "call # now");
	assert_masks(pf, "+44 20 7946 0958", "#");
	assert_masks(pf, "+1 (415) 555-2671", "#");
	assert_masks(pf, "(415) 555-2671", "#");
	assert_masks(pf, "tel 415-555-2671;", "tel #;");
	assert_masks(pf, "415.555.2671", "#");
	assert_masks(pf, "1-800-555-0199", "#");
	assert_masks(pf, "020 7946 0958", "#");
	assert_masks(pf, "01 23 45 67 89", "#");
	/* order numbers and other lookalikes */
	assert_masks(pf, "Order #415-555-2671", "Order #415-555-2671");
	assert_masks(pf, "order 415-555-2671", "order 415-555-2671");
	assert_masks(pf, "invoice no. 415 555 2671", "invoice no. 415 555 2671");
	assert_masks(pf, "order 4155552671", "order 4155552671");
	assert_masks(pf, "4155552671", "4155552671");
	assert_masks(pf, "2024-01-15 10:23:45", "2024-01-15 10:23:45");
	assert_masks(pf, "115-555-2671", "115-555-2671");
	assert_masks(pf, "415-555.2671", "415-555.2671");
	assert_masks(pf, "+0123456789", "+0123456789");
	assert_masks(pf, "+12345", "+12345");
}

static void test_ip(void **state)
{
	(void)state;
	assert_masks(pf, "from 192.168.1.20:5432", "from #:5432");
	assert_masks(pf, "10.0.0.1.", "#.");
	assert_masks(pf, "256.1.1.1 1.2.3 1.2.3.4.5 01.2.3.4",
		     "256.1.1.1 1.2.3 1.2.3.4.5 01.2.3.4");
	assert_masks(pf, "v6 2001:db8::8a2e:370:7334 ok", "v6 # ok");
	assert_masks(pf, "[fe80::1]:80", "[#]:80");
	assert_masks(pf, "::ffff:192.0.2.128", "#");
	assert_masks(pf, "at 12:30:45, a:b, std::vector",
		     "at 12:30:45, a:b, std::vector");
	assert_masks(pf, "mac 00:1a:2b:3c:4d:5e", "mac 00:1a:2b:3c:4d:5e");
	assert_masks(pf, "{\"k\":\"v\"}", "{\"k\":\"v\"}");
}

static const char jwt[] =
	"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
	"eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5"
	"MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";

static void test_jwt(void **state)
{
	char in[512], want[64];
	(void)state;
	snprintf(in, sizeof(in), "Authorization: Bearer %s", jwt);
	assert_masks(pf, in, "Authorization: Bearer #");
	snprintf(in, sizeof(in), "\"%s\"", jwt);
	assert_masks(pf, in, "\"#\"");
	/* header without alg, and two parts only */
	assert_masks(pf, "eyJ0eXAiOiJKV1QiLCJraWQiOiIxIn0.eyJzdWIiOiIxIn0.sig",
		     "eyJ0eXAiOiJKV1QiLCJraWQiOiIxIn0.eyJzdWIiOiIxIn0.sig");
	assert_masks(pf, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0",
		     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0");
	snprintf(want, sizeof(want), "heyJ");
	assert_masks(pf, want, "heyJ");
}

static void test_aws(void **state)
{
	(void)state;
	assert_masks(pf, "key AKIAIOSFODNN7EXAMPLE.", "key #.");
	assert_masks(pf, "ASIAY34FZKBOKMUTVV7A", "#");
	assert_masks(pf, "AKIAIOSFODNN7EXAMPL", "AKIAIOSFODNN7EXAMPL");
	assert_masks(pf, "XAKIAIOSFODNN7EXAMPLE", "XAKIAIOSFODNN7EXAMPLE");
	assert_masks(pf,
		     "aws_secret_access_key = "
		     "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
		     "aws_secret_access_key = #\n");
	assert_masks(pf,
		     "{\"AccessKeyId\": \"ASIAY34FZKBOKMUTVV7A\", "
		     "\"SecretAccessKey\": "
		     "\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"}",
		     "{\"AccessKeyId\": \"#\", \"SecretAccessKey\": \"#\"}");
	/* 40 base64 characters with no AWS context stay */
	assert_masks(pf, "token = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		     "token = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
	/* a 40-hex digest next to a key name is not a secret key */
	assert_masks(pf,
		     "aws_secret: da39a3ee5e6b4b0d3255bfef95601890afd80709",
		     "aws_secret: da39a3ee5e6b4b0d3255bfef95601890afd80709");
}

static void test_pem(void **state)
{
	(void)state;
	assert_masks(pf,
		     "k=-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAKj34\n"
		     "-----END RSA PRIVATE KEY-----\nrest",
		     "k=#\nrest");
	assert_masks(pf,
		     "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE "
		     "KEY-----",
		     "#");
	/* cut short: still a key, masked to the end */
	assert_masks(pf, "x -----BEGIN EC PRIVATE KEY-----\nMHcCAQEE", "x #");
	assert_masks(pf,
		     "-----BEGIN CERTIFICATE-----\nMIIB\n-----END "
		     "CERTIFICATE-----",
		     "-----BEGIN CERTIFICATE-----\nMIIB\n-----END "
		     "CERTIFICATE-----");
	assert_masks(pf, "a -- b --- c -----", "a -- b --- c -----");
}

static void test_clean_text_untouched(void **state)
{
	struct jg_mask_field f = {NULL, NULL, JG_MASK_TEXT};
	struct sink s = {0};
	const char *row = "42|Alice|shipped 3 items on 2024-03-15 10:23:45 "
			  "for 129.99 USD, ref A-17; \"k\": [1, 2]";
	(void)state;
	assert_int_equal(ops()->mask_value(pf, &f, row, strlen(row),
					   sink_emit, &s, NULL),
			 JG_DECLINED);
	assert_int_equal(s.n, 0);
	assert_int_equal(ops()->mask_value(pf, &f, "", 0, sink_emit, &s,
					   NULL),
			 JG_DECLINED);
}

static void test_report(void **state)
{
	struct jg_mask_report rep = {0};
	char *out;
	(void)state;
	out = mask_field(pf, NULL, NULL, JG_MASK_TEXT,
			 "a@b.com 4111111111111111 c@d.org", &rep);
	assert_string_equal(out, "# # #");
	free(out);
	assert_int_equal(rep.total, 3);
	assert_int_equal(rep.ndetectors, 2);
	assert_string_equal(rep.names[0], "email");
	assert_int_equal(rep.counts[0], 2);
	assert_string_equal(rep.names[1], "card");
	assert_int_equal(rep.counts[1], 1);
}

static void test_validators(void **state)
{
	(void)state;
	void *p = compile_or_die(
		inst, "{\"detectors\": [], \"custom\": ["
		      "{\"name\": \"emp\", \"regex\": \"\\\\bEMP-\\\\d{6}\\\\b\","
		      " \"strategy\": \"redact\", \"replacement\": \"EMP-?\"},"
		      "{\"name\": \"acct\", \"regex\": \"\\\\b\\\\d{12}\\\\b\","
		      " \"validator\": \"luhn\"},"
		      "{\"name\": \"ref\", \"regex\": \"\\\\bref:[a-z0-9]+\","
		      " \"caseless\": true}]}");
	assert_masks(p, "by EMP-123456 and EMP-12345", "by EMP-? and EMP-12345");
	assert_masks(p, "acct 123456789015 or 123456789012",
		     "acct [REDACTED] or 123456789012");
	assert_masks(p, "REF:ABC9 x", "[REDACTED] x");
	/* built-ins are off: a card stays */
	assert_masks(p, "4111111111111111", "4111111111111111");
	ops()->profile_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cards),
		cmocka_unit_test(test_emails),
		cmocka_unit_test(test_iban),
		cmocka_unit_test(test_ssn),
		cmocka_unit_test(test_phones),
		cmocka_unit_test(test_ip),
		cmocka_unit_test(test_jwt),
		cmocka_unit_test(test_aws),
		cmocka_unit_test(test_pem),
		cmocka_unit_test(test_clean_text_untouched),
		cmocka_unit_test(test_report),
		cmocka_unit_test(test_validators),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
