/*
 * A session's prepared statement names and what each may run.
 *
 * SQL PREPARE and the extended protocol's named Parse share one
 * namespace on the server, and SQL EXECUTE runs either.  The gateway
 * cannot see whether a PREPARE succeeded (a second PREPARE of a name
 * fails there and the first body stays), so every body prepared under
 * a name since it was last deallocated is a candidate, and an EXECUTE
 * is decided as each of them.  Bounded: a name with too many candidates
 * (or past the byte budget) becomes "lost", and names past the table's
 * size are not tracked; an EXECUTE of either is "unknown" (classified
 * dynamic, as before this table existed), never one of a partial list.
 *
 * The statements of a Query are decided in order, each seeing what the
 * earlier ones prepared and deallocated; while that goes on (defer) a
 * forgotten name is set aside, not freed: the decisions point into it,
 * and if the Query does not run (denied, or held for review) the server
 * still has the name, so pg_prepared_end puts it back.
 * One session's, no locks.
 */
#ifndef PG_PREPARED_H
#define PG_PREPARED_H

#include <stddef.h>

#include "pg_classify.h"

#define PG_PREP_MAX_BODIES 8    /* candidates per name */
#define PG_PREP_MAX_NAMES 256   /* names per session */
#define PG_PREP_MAX_BYTES (1u << 20) /* candidates' memory per session */

/* A candidate: the classification of a statement prepared under the
 * name (st.text is what the approver is shown). */
struct pg_prep_body {
	struct pg_stmt st;
	size_t bytes; /* counted in pg_prepared.bytes */
};

struct pg_prep_name {
	char *name;
	int lost;     /* a candidate could not be kept: unknown until
	                 deallocated (the bodies stay until then) */
	size_t n;
	struct pg_prep_body *bodies[PG_PREP_MAX_BODIES];
};

/* A name forgotten while deferred. */
struct pg_prep_gone {
	struct pg_prep_gone *next;
	struct pg_prep_name e;
};

struct pg_prepared {
	size_t n, cap;
	struct pg_prep_name *names;
	size_t bytes;         /* held by candidates (PG_PREP_MAX_BYTES) */
	int untracked;        /* a name did not fit: names not in the table
	                         are unknown until DEALLOCATE ALL */
	int defer;            /* forgotten names wait for pg_prepared_end */
	int untracked_before; /* untracked, before a deferred forget_all */
	struct pg_prep_gone *gone;
};

/* Remember body (copied) as a candidate of name; *pp is allocated on
 * first use.  A body with the text of an existing candidate adds
 * nothing.  Returns 0, or -1 when the name became or was unknown. */
int pg_prepared_add(struct pg_prepared **pp, const char *name,
		    const struct pg_stmt *body);
/* DEALLOCATE name, Close of a statement name.  While deferred, a name
 * that cannot be set aside (out of memory) stays: fail closed. */
void pg_prepared_forget(struct pg_prepared *p, const char *name);
/* DEALLOCATE ALL, DISCARD ALL. */
void pg_prepared_forget_all(struct pg_prepared *p);
/* name's candidates, or NULL when it is unknown (p may be NULL). */
const struct pg_prep_name *pg_prepared_find(const struct pg_prepared *p,
					    const char *name);
/* End of deferring (p may be NULL): ran says whether the statements
 * that forgot went to the server; if not, what they forgot is put back
 * (merged with what was prepared under the name since).  Frees the
 * rest. */
void pg_prepared_end(struct pg_prepared *p, int ran);
void pg_prepared_free(struct pg_prepared *p);

#endif /* PG_PREPARED_H */
