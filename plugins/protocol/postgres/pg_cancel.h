/*
 * Cancel keys.  The client gets the gateway's own BackendKeyData; a
 * CancelRequest carrying it arrives on a new connection, maybe on another
 * worker, so the mapping to the upstream backend lives in one
 * process-wide table behind a mutex.
 */
#ifndef PG_CANCEL_H
#define PG_CANCEL_H

#include <stdint.h>

struct jg_loop;

struct pg_cancel_target {
	char host[256];     /* upstream address */
	char port[16];
	int32_t up_pid;     /* the upstream backend's key */
	int32_t up_key;
	struct jg_loop *loop; /* the owning session's loop */
	void *owner;        /* the owning session's state; only to be used
	                       on loop, after pg_cancel_owner() */
	int held;           /* the session holds a statement for review:
	                       nothing runs upstream to cancel */
};

/*
 * Register a session's upstream key; pid and key get the gateway's key pair
 * to give the client.  -1 on failure (out of memory, no randomness).
 */
int pg_cancel_register(const struct pg_cancel_target *t, int32_t *pid,
		       int32_t *key);
/* The owning session holds a statement for review (held 1) or no
 * longer does (0), so a cancel withdraws it instead of reaching the
 * server, where it could hit the client's next statement. */
void pg_cancel_set_held(int32_t pid, int32_t key, int held);
/* Forget a key pair (session end). */
void pg_cancel_unregister(int32_t pid, int32_t key);
/* Find a key pair; the key is compared in constant time. */
int pg_cancel_lookup(int32_t pid, int32_t key, struct pg_cancel_target *out);
/* Still-registered owner of pid/key, or NULL; call on the owner's loop. */
void *pg_cancel_owner(int32_t pid, int32_t key);

#endif /* PG_CANCEL_H */
