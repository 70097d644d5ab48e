/*
 * Just-in-time grants: short-lived credentials bound to one identity,
 * one connection, a purpose, an expiry and optionally a session count.
 *
 * The credential ("jg_" + 256 random bits in base64url) is returned once
 * by grants_create() and never kept: the table holds its SHA-256 only.
 * grants_check() finds a grant by that hash and compares in constant
 * time.  The table is shared by all threads (one mutex: taken once per
 * session at authentication and by the admin API, never per statement).
 *
 * Persistence: grant_doc() is the JSON the store keeps (hash, never the
 * credential) and grants_load_doc() puts one back after a restart.
 */
#ifndef JG_GRANTS_H
#define JG_GRANTS_H

#include <stddef.h>
#include <stdint.h>

struct jg_identity;
struct json_object;

#define GRANT_PREFIX "jg_"
#define GRANT_RANDOM_BYTES 32 /* 256 bits */
/* "jg_" + base64url(32 bytes) (43) + NUL */
#define GRANT_CRED_LEN 48
#define GRANT_ID_LEN 19 /* "g-" + 16 hex + NUL */

/* Error codes, stable: the admin API and the client show them. */
#define GRANT_E_UNKNOWN "grant_unknown"
#define GRANT_E_EXPIRED "grant_expired"
#define GRANT_E_REVOKED "grant_revoked"
#define GRANT_E_CONNECTION "grant_wrong_connection"
#define GRANT_E_SESSIONS "grant_sessions_used"

struct grant_request {
	const struct jg_identity *owner;
	const char *connection;
	const char *purpose;
	int64_t ttl_ms;       /* already bounded by policy */
	int64_t max_sessions; /* 0: unlimited */
	const char *rule;     /* the policy rule that allowed it */
	const char *review_id; /* the review that approved it, or NULL */
};

/* Clock in unix seconds; tests replace it. */
void grants_set_clock(int64_t (*now)(void));
int64_t grants_now(void);

/*
 * Make a grant.  cred gets the credential (GRANT_CRED_LEN bytes), id the
 * grant id.  *doc (may be NULL) gets grant_doc() for the store.
 */
int grants_create(const struct grant_request *rq, char *cred, char *id,
		  struct json_object **doc, char *err, size_t errlen);

/*
 * Is credential (len bytes) a grant for connection conn, now?  On JG_OK
 * *owner gets a copy of the identity (source "grant", grant_id set) and
 * one session is counted.  JG_DECLINED: not a grant credential at all
 * (no "jg_" prefix).  JG_ERROR: a grant credential refused; code gets
 * one of GRANT_E_* and err the words.
 */
int grants_check(const char *credential, size_t len, const char *conn,
		 struct jg_identity **owner, char *grant_id, const char **code,
		 char *err, size_t errlen);

/* Revoke.  JG_OK, JG_DECLINED (no such grant), JG_ERROR (already). */
int grants_revoke(const char *id, const char *by);

/* Why the sessions of grant id end, for the log and the record: "grant
 * ID was revoked by WHO" or "grant ID expired". */
void grant_end_reason(const char *id, char *buf, size_t len);

/* JSON for the admin API (no hash, no credential); NULL if absent. */
struct json_object *grant_json(const char *id);
/* All grants, or those of subject when not NULL, newest last. */
struct json_object *grants_list_json(const char *subject);
/* The owner's subject of grant id into buf; 0 or -1 if absent. */
int grant_owner(const char *id, char *buf, size_t len);

/* The document the store keeps for id (with the hash); NULL if absent. */
struct json_object *grant_doc(const char *id);
/* Put a stored document back (restart).  JG_OK or JG_ERROR. */
int grants_load_doc(struct json_object *doc, char *err, size_t errlen);
/* The same for a grant that may be here already (another gateway
 * revoked it or counted a session): revocation and the session count
 * are taken over, the count never going down. */
int grants_update_doc(struct json_object *doc, char *err, size_t errlen);

/*
 * Grants whose sessions must end now: revoked, or expired for longer
 * than grace_ms.  fn is called once per grant (never again for it).
 * Grants expired for a day are dropped from memory.
 */
void grants_sweep(int64_t grace_ms, void (*fn)(void *ud, const char *id),
		  void *ud);

/* Forget every grant (tests, shutdown). */
void grants_reset(void);

/* base64url without padding: out needs 4*ceil(n/3)+1 bytes. */
size_t b64url_encode(const unsigned char *in, size_t n, char *out);

#endif /* JG_GRANTS_H */
