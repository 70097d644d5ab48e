/*
 * A session's cache of statement classifications.  Parsing with
 * libpg_query and walking its tree costs more than everything else a
 * simple-protocol statement does in the plugin, and clients send the
 * same statements over and over, often differing only in numbers
 * ("... WHERE aid = 48213").  The cache is keyed by the text's shape
 * (pg_sql_shape), so those share one entry; it is bounded (LRU) and
 * belongs to one session (no locks).
 */
#ifndef PG_CCACHE_H
#define PG_CCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "pg_classify.h"

#define PG_CCACHE_ENTRIES 32
#define PG_CCACHE_MAX_TEXT 8192 /* longer texts are classified each time */

struct pg_ccache_entry {
	char *key;  /* shape (or exact text), NULL when the slot is free */
	size_t keylen;
	uint64_t hash;
	uint64_t used; /* LRU clock */
	int exact;     /* key is the text itself, not a shape */
	size_t tail;   /* bytes after the only statement's text (shapes) */
	struct pg_classified c;
};

struct pg_ccache {
	struct pg_ccache_entry e[PG_CCACHE_ENTRIES];
	unsigned read_flags; /* pg_classify_flags() flags the owner sets */
	uint64_t clock;
	uint64_t hits, misses;
	/* what a hit on a shape lends out: the entry's statement with this
	 * text's own words */
	struct pg_stmt lent;
	char text[PG_CCACHE_MAX_TEXT];
};

/*
 * The shape of sql: the text with every unsigned integer constant of up
 * to 9 digits written as "0".  Such a constant is always an ICONST to
 * PostgreSQL's lexer, so texts of one shape make the same parse tree
 * apart from those values, and classify alike (class, tables, functions,
 * flags).  Only the lexer's contexts that matter are followed (quotes,
 * quoted identifiers, comments); a text with a backslash or a dollar
 * sign (escape strings, dollar quoting, parameters) has no shape, nor
 * has a longer one than cap.  Returns the shape's length, 0 for none.
 */
size_t pg_sql_shape(const char *sql, size_t len, char *out, size_t cap);

/*
 * pg_classify() through the cache: the same result in out (release it
 * with pg_classified_free).  A hit lends the cache's own copy (out->
 * borrowed), valid until the next call on cc or pg_ccache_free(): a
 * copy per statement (strings of the command, text and names) showed
 * in profiles.  Texts that do not parse are never cached: they are
 * parsed again each time, so the error is theirs.
 */
int pg_classify_cached(struct pg_ccache *cc, const char *sql,
		       struct pg_classified *out);
void pg_ccache_free(struct pg_ccache *cc);

#endif /* PG_CCACHE_H */
