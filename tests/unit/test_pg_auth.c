/*
 * Upstream authentication: SCRAM-SHA-256 against the RFC 7677 example,
 * md5 against PostgreSQL's formula, and the 'R' message state machine.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pg_auth.h"

#define RFC_SERVER_FIRST                                                      \
	"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"               \
	"s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"

static void test_scram_rfc7677(void **state)
{
	struct pg_scram sc;
	char *first = NULL, *final = NULL;
	const char *why = NULL;
	const char *sfinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

	memset(&sc, 0, sizeof(sc));
	assert_int_equal(pg_scram_first(&sc, "user", "rOprNGfwEbeRWgbNEkqO",
					&first),
			 0);
	assert_string_equal(first, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
	assert_int_equal(pg_scram_final(&sc, "pencil", 6, RFC_SERVER_FIRST,
					strlen(RFC_SERVER_FIRST), &final, &why),
			 0);
	assert_string_equal(
		final, "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)"
		       "hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
	assert_int_equal(pg_scram_verify(&sc, sfinal, strlen(sfinal), &why), 0);
	free(first);
	free(final);
	pg_scram_free(&sc);
}

static void test_scram_rejects(void **state)
{
	struct pg_scram sc;
	char *first = NULL, *final = NULL;
	const char *why = NULL;
	const char *badsig = "v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
	const char *other_nonce = "r=XXXX,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
	const char *low_iter = "r=rOprNGfwEbeRWgbNEkqOabc,s=W22ZaJ0SNY7so"
			       "EsUEjb6gQ==,i=1";

	memset(&sc, 0, sizeof(sc));
	assert_int_equal(pg_scram_first(&sc, "user", "rOprNGfwEbeRWgbNEkqO",
					&first),
			 0);
	free(first);
	/* a server that does not extend our nonce */
	assert_int_equal(pg_scram_final(&sc, "pencil", 6, other_nonce,
					strlen(other_nonce), &final, &why),
			 -1);
	/* too few iterations */
	assert_int_equal(pg_scram_final(&sc, "pencil", 6, low_iter,
					strlen(low_iter), &final, &why),
			 -1);
	/* truncated */
	assert_int_equal(pg_scram_final(&sc, "pencil", 6, "r=", 2, &final,
					&why),
			 -1);
	assert_int_equal(pg_scram_final(&sc, "pencil", 6, RFC_SERVER_FIRST,
					strlen(RFC_SERVER_FIRST), &final, &why),
			 0);
	free(final);
	/* a forged server signature */
	assert_int_equal(pg_scram_verify(&sc, badsig, strlen(badsig), &why),
			 -1);
	assert_int_equal(pg_scram_verify(&sc, "e=other-error", 13, &why), -1);
	pg_scram_free(&sc);
}

static void test_md5(void **state)
{
	static const uint8_t salt[4] = {1, 2, 3, 4};
	char out[36];

	assert_int_equal(pg_auth_md5("postgres", "postgres", 8, salt, out), 0);
	assert_string_equal(out, "md568be9ed08db75f318087ab337aaea044");
}

static size_t req(uint8_t *b, int32_t code, const void *extra, size_t n)
{
	b[0] = (uint8_t)((uint32_t)code >> 24);
	b[1] = (uint8_t)((uint32_t)code >> 16);
	b[2] = (uint8_t)((uint32_t)code >> 8);
	b[3] = (uint8_t)code;
	if (n)
		memcpy(b + 4, extra, n);
	return n + 4;
}

static void test_step_machine(void **state)
{
	struct pg_upauth a;
	struct pg_buf reply;
	uint8_t b[256];
	const char *why = NULL;
	size_t n;

	memset(&a, 0, sizeof(a));
	a.user = "postgres";
	a.pass = "postgres";
	a.passlen = 8;
	pg_buf_init(&reply);
	/* cleartext */
	n = req(b, PG_AUTH_REQ_CLEARTEXT, NULL, 0);
	assert_int_equal(pg_auth_step(&a, b, n, &reply, &why),
			 PG_AUTH_CONTINUE);
	assert_int_equal(reply.data[0], 'p');
	assert_memory_equal(reply.data + 5, "postgres", 9);
	pg_buf_reset(&reply);
	/* md5 */
	n = req(b, PG_AUTH_REQ_MD5, "\x01\x02\x03\x04", 4);
	assert_int_equal(pg_auth_step(&a, b, n, &reply, &why),
			 PG_AUTH_CONTINUE);
	assert_memory_equal(reply.data + 5,
			    "md568be9ed08db75f318087ab337aaea044", 36);
	pg_buf_reset(&reply);
	/* md5 without a salt */
	n = req(b, PG_AUTH_REQ_MD5, "\x01", 1);
	assert_int_equal(pg_auth_step(&a, b, n, &reply, &why), PG_AUTH_FAIL);
	/* SASL without SCRAM-SHA-256 */
	n = req(b, PG_AUTH_REQ_SASL, "OTHER\0\0", 7);
	assert_int_equal(pg_auth_step(&a, b, n, &reply, &why), PG_AUTH_FAIL);
	/* SASL: the initial response names the mechanism */
	n = req(b, PG_AUTH_REQ_SASL, "SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0",
		34);
	assert_int_equal(pg_auth_step(&a, b, n, &reply, &why),
			 PG_AUTH_CONTINUE);
	assert_memory_equal(reply.data + 5, "SCRAM-SHA-256", 14);
	pg_buf_reset(&reply);
	/* AuthenticationOk before the SCRAM exchange finished: refused */
	n = req(b, PG_AUTH_REQ_OK, NULL, 0);
	assert_int_equal(pg_auth_step(&a, b, n, &reply, &why), PG_AUTH_FAIL);
	/* Kerberos and friends */
	n = req(b, 7, NULL, 0);
	assert_int_equal(pg_auth_step(&a, b, n, &reply, &why), PG_AUTH_FAIL);
	/* short */
	assert_int_equal(pg_auth_step(&a, b, 2, &reply, &why), PG_AUTH_FAIL);
	pg_auth_free(&a);
	pg_buf_free(&reply);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scram_rfc7677),
		cmocka_unit_test(test_scram_rejects),
		cmocka_unit_test(test_md5),
		cmocka_unit_test(test_step_machine),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
