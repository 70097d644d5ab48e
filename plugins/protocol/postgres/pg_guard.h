/*
 * Between the two halves of the guardrails: pg_guard.c decides every
 * statement, pg_hold.c holds what policy sends to review.
 */
#ifndef PG_GUARD_H
#define PG_GUARD_H

#include <stddef.h>
#include <stdint.h>

#include "pg_classify.h"
#include "pg_session.h"

/* Attributes of one statement: class, category, command, flags, names. */
#define PG_MAX_ATTRS (5 + 2 * PG_MAX_NAMES + PG_NFLAGS)

/* Hold msg (n bytes: a Query, or with ext an extended pipeline ending
 * in Sync) for review of sql with attributes a and decision d.
 * Returns as the pg_guard_* functions do. */
int pg_hold(struct pg_session *ps, const uint8_t *msg, size_t n, int ext,
	    const char *sql, const struct jg_attr *a, size_t na,
	    const struct jg_decision *d);
/* Hold a Parse that needs review with the Bind, Execute and Sync after
 * it in the client's buffer (refused when they are not all there). */
int pg_hold_parse(struct pg_session *ps, const uint8_t *msg, size_t n,
		  const char *sql, const struct jg_attr *ra, size_t nra,
		  const struct jg_decision *d);
/* Refuse what the client sent (42501), recorded with reason. */
int pg_refuse(struct pg_session *ps, uint8_t type, const char *reason,
	      const char *message, const char *detail);

#endif /* PG_GUARD_H */
