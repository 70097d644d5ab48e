/*
 * Every way the server may read a statement text (see pg_readings.h).
 */
#include "config.h" /* autoconf */

#include "pg_readings.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#ifdef HAVE_PG_QUERY_SCS
/* The parser's own setting, thread-local in libpg_query (its copy of
 * PostgreSQL's scanner reads it); not in pg_query.h, but exported. */
extern __thread bool standard_conforming_strings;
#endif

PgQueryParseResult pg_parse_reading(const char *text, int scs)
{
	PgQueryParseResult r;
#ifdef HAVE_PG_QUERY_SCS
	bool was = standard_conforming_strings;

	standard_conforming_strings = scs != 0;
	r = pg_query_parse(text);
	standard_conforming_strings = was;
#else
	(void)scs;
	r = pg_query_parse(text);
#endif
	return r;
}

int pg_parse_refused(const PgQueryParseResult *r)
{
	const char *f = r->error ? r->error->funcname : NULL;

	return f && (strcmp(f, "base_yyerror") == 0 ||
		     strcmp(f, "scanner_yyerror") == 0);
}

/* Whether setting the parser's standard_conforming_strings changes how
 * it reads: a libpg_query that sets it itself in every parse (newer
 * ones take it from parser options) would make the off reading a second
 * on reading, silently.  'a\'' is a string with it off, and an
 * unterminated one with it on. */
static int scs_works;
static pthread_once_t scs_once = PTHREAD_ONCE_INIT;

static void scs_check(void)
{
	PgQueryParseResult off = pg_parse_reading("SELECT 'a\\''", 0);
	PgQueryParseResult on = pg_parse_reading("SELECT 'a\\''", 1);

	scs_works = !off.error && on.error;
	pg_query_free_parse_result(off);
	pg_query_free_parse_result(on);
}

int pg_readings(const char *sql, unsigned flags,
		int (*fn)(const char *text, int scs, void *ud), void *ud,
		const char **why)
{
	size_t at[PG_READINGS_MAX_AMBIGUOUS], k = 0, i;
	unsigned mask;
	const char *p;
	char *v;
	int rc = 0, scs;

	if (!strchr(sql, '\\'))
		return fn(sql, 1, ud);
	pthread_once(&scs_once, scs_check);
	if (!scs_works) {
		*why = "a statement with a backslash is refused: this "
		       "libpg_query cannot read it as a server with "
		       "standard_conforming_strings off would";
		return -1;
	}
	for (p = strchr(sql + 1, '\\'); p; p = strchr(p + 1, '\\')) {
		if ((unsigned char)p[-1] < 0x80)
			continue;
		if (k == PG_READINGS_MAX_AMBIGUOUS &&
		    (flags & PG_READINGS_ENCODING_KNOWN)) {
			k = 0; /* all of them backslashes: see the flag */
			break;
		}
		if (k == PG_READINGS_MAX_AMBIGUOUS) {
			*why = "a statement with more than 4 backslashes right "
			       "after a non-ASCII byte is refused: a "
			       "client_encoding such as SJIS could make them "
			       "parts of characters, and it cannot be read "
			       "every way";
			return -1;
		}
		at[k++] = (size_t)(p - sql);
	}
	if (!(v = strdup(sql))) {
		*why = "out of memory";
		return -1;
	}
	/* mask bit i set: the i-th ambiguous backslash is a character's
	 * second byte, which the parser sees as any other byte >= 0x80 */
	for (mask = 0; rc >= 0 && mask < (1u << k); mask++) {
		for (i = 0; i < k; i++)
			v[at[i]] = (mask >> i) & 1 ? (char)0x80 : '\\';
		for (scs = 1; rc >= 0 && scs >= 0; scs--)
			rc = fn(v, scs, ud);
	}
	free(v);
	return rc < 0 ? rc : 0;
}
