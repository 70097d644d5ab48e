/*
 * Every way the server may read a statement text.
 *
 * libpg_query reads text as a server with the default settings does.  A
 * session can make its server read the same bytes differently, and a
 * guardrail that decided on one reading while the server runs another
 * lets through what policy denies:
 *
 *  - standard_conforming_strings off (SET, set_config(), a role's
 *    default): a backslash escapes a quote in every string, so
 *    SELECT '\', ' ; DROP TABLE t; --' is one SELECT to the parser's
 *    default reading and a SELECT and a DROP TABLE to that server;
 *  - a client_encoding whose characters may end in the byte of a
 *    backslash (SJIS, BIG5, GBK, GB18030, JOHAB): the server
 *    converts the text first, and E'<0x95>\' ; DROP TABLE t; -- '
 *    becomes one character and a closed string, then the DROP.
 *
 * Both differences are about backslashes only (a quote, a dollar sign,
 * a comment's characters or a newline is never part of a multibyte
 * character in those encodings), and the session's setting cannot be
 * known when a statement is decided: a pipelined statement may change
 * it for the next one before the server reports it.  So a text with a
 * backslash is read every way it can be: with standard_conforming_strings
 * on and off, and with each backslash that follows a byte >= 0x80 taken
 * as a backslash or as the second byte of a character.  The caller
 * decides on all of them (the worst wins); a reading that does not parse
 * is one the server would refuse, so it runs nothing.
 */
#ifndef PG_READINGS_H
#define PG_READINGS_H

#include <pg_query.h>

/* At most this many ambiguous backslashes (2^n x 2 readings). */
#define PG_READINGS_MAX_AMBIGUOUS 4

/* libpg_query's parse as a server with standard_conforming_strings on
 * (scs != 0) or off would make it. */
PgQueryParseResult pg_parse_reading(const char *text, int scs);

/* Whether r failed with a syntax error (the grammar's or the scanner's),
 * which a server reading the text so raises too: it runs nothing.  Any
 * other failure (an encoding check made as if the server were UTF8, say)
 * tells nothing of what the server would do. */
int pg_parse_refused(const PgQueryParseResult *r);

/* pg_readings() flags: the session's client encoding is known to be the
 * server's (the caller refuses non-ASCII text otherwise), so a text with
 * more ambiguous backslashes than can be read every way is read as if
 * they were backslashes instead of refused. */
#define PG_READINGS_ENCODING_KNOWN 1u

/*
 * Call fn(text, scs, ud) for every reading of sql: the text itself with
 * scs 1 when sql has no backslash, otherwise every variant (the same
 * length as sql, so offsets into it are offsets into sql) with scs 1
 * and 0.  Returns 0, fn's first negative return, or -1 with *why set
 * when sql has more ambiguous backslashes than PG_READINGS_MAX_AMBIGUOUS
 * (without PG_READINGS_ENCODING_KNOWN), when this libpg_query cannot
 * read a text with standard_conforming_strings off (checked once), or
 * when memory ran out.
 */
int pg_readings(const char *sql, unsigned flags,
		int (*fn)(const char *text, int scs, void *ud), void *ud,
		const char **why);

#endif /* PG_READINGS_H */
