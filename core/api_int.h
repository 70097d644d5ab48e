/*
 * Private to core/api*.c: the /v1 admin API's shared helpers.
 */
#ifndef JG_API_INT_H
#define JG_API_INT_H

#include <stddef.h>

struct admin_request;
struct jg_identity;
struct json_object;

/* Reply {"error": {"code", "message"}} with status. */
void api_error(struct admin_request *req, int status, const char *code,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Reply {key: v} (takes v). */
void api_reply(struct admin_request *req, int status, const char *key,
	       struct json_object *v);
/* Verify the bearer token; NULL after replying 401.  Caller frees. */
struct jg_identity *api_caller(struct admin_request *req);
int api_is_admin(const struct jg_identity *id);
int api_is_approver(const struct jg_identity *id);
/* Split path after prefix into "ID" and "VERB"; -1 if malformed. */
int api_split(const char *path, const char *prefix, char *id, size_t idlen,
	      char *verb, size_t verblen);
/* The body as a JSON object, {} when empty, NULL when not an object. */
struct json_object *api_body(struct admin_request *req);

/* core/api.c: register the routes (auth_apply, once); start the expiry
 * sweep on the main loop (any thread, idempotent). */
void api_start(void);
void api_ensure_ticking(void);

/* core/api_grants.c */
void api_grants_route(struct admin_request *req, void *ud);
/* Load stored grants until it worked once (each tick). */
void api_grants_load(void);
/* A session was opened with grant_id: count it in the store too (any
 * thread). */
void api_grants_count_session(const char *grant_id);
/* Non-zero while sessions counted against grants are not all in the
 * store yet (main loop only): shutdown waits for them, bounded. */
int api_grants_settling(void);

/* core/api_sessions.c */
void api_sessions_route(struct admin_request *req, void *ud);
/* End every session opened with grant id; reply to req (may be NULL)
 * with the grant when done. */
void api_sessions_end_grant(const char *grant_id, struct admin_request *req);

#endif /* JG_API_INT_H */
