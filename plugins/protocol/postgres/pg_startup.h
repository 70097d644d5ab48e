/*
 * The client's first packet: SSLRequest, GSSENCRequest, CancelRequest or
 * a v3 StartupMessage, and the filter that decides which startup
 * parameters may reach the upstream server.
 */
#ifndef PG_STARTUP_H
#define PG_STARTUP_H

#include <stddef.h>
#include <stdint.h>

#include "pg_msg.h"

#define PG_MAX_PARAMS 64

/* What the gateway does with a startup parameter. */
enum pg_param_kind {
	PG_PARAM_DROP = 0,      /* unknown: not forwarded */
	PG_PARAM_GATEWAY = 1,   /* user, database: the gateway's own */
	PG_PARAM_PASS = 2,      /* harmless session setting: forwarded */
	PG_PARAM_POLICY = 3     /* can change server behaviour: policy */
};

struct pg_startup {
	uint32_t code;         /* PG_PROTO_V3, PG_SSL_CODE, ... */
	int32_t cancel_pid;    /* CancelRequest only */
	int32_t cancel_key;    /* CancelRequest only */
	size_t nparams;
	const char *keys[PG_MAX_PARAMS];
	const char *vals[PG_MAX_PARAMS];
	char *raw;             /* owned copy the keys and values point into */
};

/*
 * Parse a startup packet body (after the length word).  On error return
 * -1 with why set; a v3 message must end with an empty key and name a
 * user.  Free with pg_startup_free().
 */
int pg_startup_parse(const uint8_t *body, size_t len, struct pg_startup *st,
		     const char **why);
void pg_startup_free(struct pg_startup *st);

/* Value of a parameter (case-insensitive name), or NULL. */
const char *pg_startup_get(const struct pg_startup *st, const char *key);

/* How a parameter is treated. */
int pg_param_kind(const char *key);

#endif /* PG_STARTUP_H */
