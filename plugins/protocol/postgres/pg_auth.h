/*
 * The gateway as a PostgreSQL client: answers the upstream server's
 * authentication requests (SCRAM-SHA-256, md5, cleartext) with the
 * connection's configured credentials, which never reach the caller.
 */
#ifndef PG_AUTH_H
#define PG_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "pg_msg.h"

/* Authentication request codes (the int32 of an 'R' message). */
#define PG_AUTH_REQ_OK 0
#define PG_AUTH_REQ_CLEARTEXT 3
#define PG_AUTH_REQ_MD5 5
#define PG_AUTH_REQ_SASL 10
#define PG_AUTH_REQ_SASL_CONTINUE 11
#define PG_AUTH_REQ_SASL_FINAL 12

/* pg_auth_step() results. */
enum pg_auth_result {
	PG_AUTH_DONE = 0,     /* AuthenticationOk received */
	PG_AUTH_CONTINUE = 1, /* send reply (if non-empty), wait for more */
	PG_AUTH_FAIL = -1     /* why says what went wrong */
};

struct pg_scram {
	char nonce[64];               /* client nonce, base64 */
	char *client_first_bare;      /* "n=,r=NONCE" */
	uint8_t server_signature[32]; /* expected in server-final */
	int stage;                    /* 0 none, 1 first sent, 2 final sent */
};

struct pg_upauth {
	const char *user;   /* upstream user name */
	const char *pass;   /* upstream password (secret) */
	size_t passlen;
	struct pg_scram scram;
	const char *method; /* "scram-sha-256", "md5", "password" once known */
};

/*
 * Handle one 'R' message body from the server; put the answer (a whole
 * 'p' message) into reply.  Never leaves a password in reply after the
 * caller's write; the caller wipes reply.
 */
int pg_auth_step(struct pg_upauth *a, const uint8_t *body, size_t len,
		 struct pg_buf *reply, const char **why);
void pg_auth_free(struct pg_upauth *a);

/* "md5" + hex(md5(hex(md5(password + user)) + salt)), 35 chars + NUL. */
int pg_auth_md5(const char *user, const char *pass, size_t passlen,
		const uint8_t salt[4], char out[36]);

/* SCRAM-SHA-256 pieces, exposed for tests (RFC 7677 vectors).  nonce may
 * be NULL for a random one; user is "" for PostgreSQL. */
int pg_scram_first(struct pg_scram *sc, const char *user, const char *nonce,
		   char **client_first);
int pg_scram_final(struct pg_scram *sc, const char *pass, size_t passlen,
		   const char *server_first, size_t len, char **client_final,
		   const char **why);
int pg_scram_verify(struct pg_scram *sc, const char *server_final,
		    size_t len, const char **why);
void pg_scram_free(struct pg_scram *sc);

#endif /* PG_AUTH_H */
