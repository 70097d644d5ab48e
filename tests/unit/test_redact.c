/*
 * Secret redaction: what a user would grep a record for must be gone,
 * and ordinary statements must come out unchanged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "redact.h"

static void check(const char *in, const char *want)
{
	char *out = redact_text(in, strlen(in), NULL);
	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

/* The secret must be gone and the marker present. */
static void gone(const char *in, const char *secret)
{
	size_t n = 0;
	char *out = redact_text(in, strlen(in), &n);
	assert_non_null(out);
	if (strstr(out, secret))
		fail_msg("secret %s still in: %s", secret, out);
	assert_non_null(strstr(out, REDACT_MARK));
	assert_true(n >= 1);
	free(out);
}

static void test_sql_password(void **state)
{
	(void)state;
	check("ALTER ROLE app PASSWORD 's3cret'",
	      "ALTER ROLE app PASSWORD '[REDACTED]'");
	check("create user bob with encrypted password 'x''y' valid until "
	      "'2030-01-01'",
	      "create user bob with encrypted password '[REDACTED]' valid "
	      "until '2030-01-01'");
	check("ALTER USER a PASSWORD E'it\\'s' LOGIN",
	      "ALTER USER a PASSWORD '[REDACTED]' LOGIN");
	check("ALTER ROLE a PASSWORD $pw$dollar'quoted$pw$;",
	      "ALTER ROLE a PASSWORD '[REDACTED]';");
	check("CREATE ROLE a PASSWORD\n\t'multi\nline'",
	      "CREATE ROLE a PASSWORD\n\t'[REDACTED]'");
	/* psql's \password sends the SCRAM verifier */
	gone("ALTER USER app PASSWORD 'SCRAM-SHA-256$4096:abc$def:ghi'",
	     "SCRAM-SHA-256$4096");
	/* unterminated: the rest is treated as the secret */
	gone("ALTER ROLE a PASSWORD 'never-closed", "never-closed");
	check("ALTER ROLE a PASSWORD NULL", "ALTER ROLE a PASSWORD NULL");
}

static void test_conninfo(void **state)
{
	(void)state;
	check("host=db user=app password=hunter2 dbname=x",
	      "host=db user=app password=[REDACTED] dbname=x");
	check("host=db password='with space' port=5432",
	      "host=db password='[REDACTED]' port=5432");
	check("SELECT dblink_connect('host=h password=pw1 dbname=d')",
	      "SELECT dblink_connect('host=h password=[REDACTED] dbname=d')");
	check("postgres://app:hunter2@db:5432/x",
	      "postgres://app:[REDACTED]@db:5432/x");
	check("postgresql://db:5432/x", "postgresql://db:5432/x");
	gone("{\"user\":\"a\",\"password\": \"p4ss\"}", "p4ss");
	gone("https://h/cb?code=1&access_token=abcdefgh&x=1", "abcdefgh");
	check("SELECT password_hash FROM t", "SELECT password_hash FROM t");
}

static void test_tokens(void **state)
{
	(void)state;
	check("Authorization: Bearer abcdefghijklmnop",
	      "Authorization: Bearer [REDACTED]");
	check("Authorization: Basic dXNlcjpwYXNz",
	      "Authorization: Basic [REDACTED]");
	check("PGPASSWORD jg_0123456789abcdefXYZ_-q used",
	      "PGPASSWORD [REDACTED] used");
	check("jg_short", "jg_short");
	gone("token eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2lnbmF0dXJl ok",
	     "eyJzdWIiOiJjaSJ9");
}

static void test_plain_text_unchanged(void **state)
{
	(void)state;
	const char *s[] = {
		"SELECT * FROM users WHERE id = 1",
		"UPDATE accounts SET balance = balance - 10",
		"INSERT INTO t VALUES ('password', 'bearer')",
		"",
		"café ünïcödé",
	};
	for (size_t i = 0; i < sizeof(s) / sizeof(*s); i++)
		check(s[i], s[i]);
}

static void test_secret_keys(void **state)
{
	(void)state;
	assert_true(redact_key_is_secret("password"));
	assert_true(redact_key_is_secret("credential"));
	assert_true(redact_key_is_secret("Authorization"));
	assert_true(redact_key_is_secret("client_secret"));
	assert_false(redact_key_is_secret("table"));
	assert_false(redact_key_is_secret("text"));
	/* every word, anywhere in the key, any case; and near misses */
	static const char *const yes[] = {
		"PASSWORD", "db_passwd", "x-credentials", "id_token",
		"MY_SECRET", "proxy-authorization", "Cookie", "api_key",
		"ApiKey", "ssh.private_key", "tokens", "ppassword", NULL};
	static const char *const no[] = {
		"pass", "passage", "tok", "secre", "api", "apikee",
		"privatekey", "author", "", NULL};
	for (const char *const *k = yes; *k; k++)
		assert_true(redact_key_is_secret(*k));
	for (const char *const *k = no; *k; k++)
		assert_false(redact_key_is_secret(*k));
	/* longer than the lower-case buffer: the same answers */
	char longkey[300];
	memset(longkey, 'x', sizeof(longkey));
	memcpy(longkey + 250, "Token", 5);
	longkey[299] = '\0';
	assert_true(redact_key_is_secret(longkey));
	longkey[250] = 'x';
	assert_false(redact_key_is_secret(longkey));
	/* nothing to find: the text may be used as it is */
	assert_false(redact_may_hold_secret("select abalance from t", 22));
	assert_true(redact_may_hold_secret("ALTER ROLE x PASSWORD 'y'", 25));
}

static void test_binary_input(void **state)
{
	(void)state;
	char in[256];
	for (int i = 0; i < 256; i++)
		in[i] = (char)i;
	char *out = redact_text(in, sizeof(in), NULL);
	assert_non_null(out);
	free(out);
}

/* Each pattern's trigger, in any case the full scan accepts, still
 * leads to the full scan (the quick pre-check only skips texts with no
 * trigger at all), and a text without one comes back as it was. */
static void test_precheck_triggers(void **state)
{
	(void)state;
	gone("alter user x PaSsWoRd 'hunter2hunter2'", "hunter2");
	gone("host=db PWD=hunter2hunter2", "hunter2");
	gone("Client_Secret: hunter2hunter2", "hunter2");
	gone("REFRESH_TOKEN=hunter2hunter2", "hunter2");
	gone("ApiKey=hunter2hunter2", "hunter2");
	gone("postgres://u:hunter2hunter2@db/x", "hunter2");
	gone("Authorization: BEARER hunter2hunter2", "hunter2");
	gone("BASIC aHVudGVyMmh1bnRlcjI=", "aHVudGVyMmh1bnRlcjI");
	gone("grant jg_0123456789abcdefXYZ", "0123456789abcdef");
	gone("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "c2ln");
	check("SELECT abalance FROM pgbench_accounts WHERE aid = 48213;",
	      "SELECT abalance FROM pgbench_accounts WHERE aid = 48213;");
	check("", "");
	check("p pa pas pw sec tok ap :/ bea bas jg ey",
	      "p pa pas pw sec tok ap :/ bea bas jg ey");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sql_password),
		cmocka_unit_test(test_conninfo),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_plain_text_unchanged),
		cmocka_unit_test(test_secret_keys),
		cmocka_unit_test(test_binary_input),
		cmocka_unit_test(test_precheck_triggers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
