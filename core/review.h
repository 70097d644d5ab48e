/*
 * Reviews: a grant request or a held action waiting for approvers.
 *
 * An approval rule names groups and how many approvals each must give
 * (policy_approval).  One person counts once, for one group, even when
 * they belong to several: "dba: 1, security: 1" needs two people.  The
 * requester never approves their own review.  A review is bound to the
 * exact request (SHA-256 over type, text and attributes, or over the
 * grant request), and its approval is used once (review_consume).
 * Pending reviews expire.
 *
 * The table is shared by all threads under one mutex; outcomes of held
 * actions are delivered on the holding session's loop by the caller of
 * review_set_outcome_hook() (core/review_hold in review_hold.c).
 */
#ifndef JG_REVIEW_H
#define JG_REVIEW_H

#include <stddef.h>
#include <stdint.h>

#include <jitgate/host.h>

struct jg_identity;
struct json_object;
struct policy_approval;

#define REVIEW_ID_LEN 19 /* "r-" + 16 hex + NUL */
#define REVIEW_MAX_APPROVERS 32

enum review_kind { REVIEW_GRANT = 1, REVIEW_ACTION = 2 };
enum review_status {
	REVIEW_PENDING = 0,
	REVIEW_APPROVED = 1,
	REVIEW_DENIED = 2,
	REVIEW_EXPIRED = 3,
	REVIEW_USED = 4, /* approved, and the approval was used */
	REVIEW_WITHDRAWN = 5 /* the held action's requester gave it up */
};

/* Stable error codes for the admin API. */
#define REVIEW_E_NOTFOUND "review_not_found"
#define REVIEW_E_SELF "self_approval"
#define REVIEW_E_NOT_APPROVER "not_an_approver"
#define REVIEW_E_TWICE "already_approved"
#define REVIEW_E_DECIDED "review_not_pending"
#define REVIEW_E_MISMATCH "review_other_action"
#define REVIEW_E_NOT_REQUESTER "not_the_requester"
#define REVIEW_E_WITHDRAWN "review_withdrawn"

struct review_request {
	enum review_kind kind;
	const struct jg_identity *requester;
	const char *connection;
	const char *rule;       /* policy rule that asked for review */
	const char *summary;    /* purpose, or the action's text */
	const unsigned char *bind; /* 32-byte hash of the exact request */
	const struct policy_approval *approval;
	int64_t timeout_ms;     /* 0: approval->timeout_ms or 1h */
	const char *session_id; /* held action: the session, else NULL */
	struct json_object *detail; /* taken: action or grant request */
};

/* Hash of an action (type, text, attributes in order) for binding. */
void review_hash_action(const struct jg_action *a, const char *conn,
			unsigned char out[32]);
/* Hash of a grant request: connection, purpose, ttl, max_sessions. */
void review_hash_grant(const char *conn, const char *purpose, int64_t ttl_ms,
		       int64_t max_sessions, unsigned char out[32]);

/* Create a pending review; id gets its id.  JG_OK or JG_ERROR. */
int review_create(const struct review_request *rq, char *id, char *err,
		  size_t errlen);

/*
 * approver approves (approve != 0) or denies (reason required).
 * is_approver: the approver is in the configured approver or admin
 * groups.  JG_OK or JG_ERROR with *code (REVIEW_E_*) and err.
 * *status gets the review's status afterwards.
 */
int review_decide(const char *id, const struct jg_identity *approver,
		  int is_approver, int approve, const char *reason,
		  int *status, const char **code, char *err, size_t errlen);

/*
 * Use an approved review once: it must be approved, requested by
 * subject, and bound to the same hash.  JG_OK (now REVIEW_USED) or
 * JG_ERROR with code and err.
 */
int review_consume(const char *id, const char *subject,
		   const unsigned char bind[32], const char **code, char *err,
		   size_t errlen);

/*
 * The session that holds action review id gave it up (its client
 * canceled the statement or went away): a pending or approved, unused
 * review becomes REVIEW_WITHDRAWN, a terminal state that refuses later
 * approvals and denials with REVIEW_E_WITHDRAWN.  session_id must be the
 * review's session.  JG_OK, or JG_ERROR with code and err.
 */
int review_withdraw(const char *id, const char *session_id,
		    const char *reason, int *status, const char **code,
		    char *err, size_t errlen);

/* Expire pending reviews past their time; returns how many. */
size_t review_expire(void);

/* JSON for the admin API; NULL if absent.  The list holds pending
 * reviews only unless all; subject limits it to one requester. */
struct json_object *review_json(const char *id);
struct json_object *reviews_list_json(int all, const char *subject);
/* Status of id, or -1. */
int review_status(const char *id);
/* "dba 1/1, security 0/1" into buf. */
void review_progress(const char *id, char *buf, size_t len);

/*
 * Told about every step: event is "review.created", "review.approved",
 * "review.approval" (one more approval, not yet enough),
 * "review.denied", "review.expired", "review.used", "review.withdrawn";
 * json is the review
 * as review_json() shows it.  Called without the table lock held, on
 * whatever thread made the step.
 */
typedef void (*review_hook)(void *ud, const char *id, const char *event,
			    struct json_object *json, int status);
void review_set_hook(review_hook fn, void *ud);
/* The same for steps another gateway made (seen through the store):
 * held actions here must hear of them, notifiers were told there. */
void review_set_remote_hook(review_hook fn, void *ud);

/*
 * With a store (core/review_store.c): every step is made on the stored
 * document with a version check (another gateway may make a step at the
 * same time) and installed here only once the store took it.  Without a
 * store these run the in-memory steps above.  cb runs on loop l, later
 * (with a store) or before the call returns (without); status is the
 * review's status after the step, code and err say why on JG_ERROR.
 */
typedef void (*review_done_cb)(void *ud, int rc, int status,
			       const char *code, const char *err);
/* id gets the new review's id at once.  JG_AGAIN: cb runs when it is
 * stored; JG_OK: no store, cb already ran; JG_ERROR: no review, no cb.
 * rq->detail is taken in every case. */
int review_create_async(struct jg_loop *l, const struct review_request *rq,
			char *id, review_done_cb cb, void *ud);
void review_decide_async(struct jg_loop *l, const char *id,
			 const struct jg_identity *approver, int is_approver,
			 int approve, const char *reason, review_done_cb cb,
			 void *ud);
void review_consume_async(struct jg_loop *l, const char *id,
			  const char *subject, const unsigned char bind[32],
			  review_done_cb cb, void *ud);
void review_withdraw_async(struct jg_loop *l, const char *id,
			   const char *session_id, const char *reason,
			   review_done_cb cb, void *ud);
/* Expire due reviews (main loop, each tick): in the store if there is
 * one, else review_expire(). */
void review_expire_tick(void);
/*
 * Main loop: read every stored review and follow the store's changes
 * from now on (start, reload); review_sync_loaded() once read.
 * review_sync_stop() before the store goes away.
 */
void review_sync_start(void);
int review_sync_loaded(void);
void review_sync_stop(void);

void reviews_reset(void);

/* Clock (unix milliseconds); tests replace it. */
void reviews_set_clock(int64_t (*now_ms)(void));

const char *review_status_name(int status);

#endif /* JG_REVIEW_H */
