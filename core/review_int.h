/*
 * Private to core/review*.c: the review struct, the table and the pure
 * operations, so the store path (review_store.c) can apply the very same
 * steps to a copy read from the store and install it only once the
 * store took it (version check), while review.c keeps the plain
 * in-memory path the unit tests drive.
 */
#ifndef JG_REVIEW_INT_H
#define JG_REVIEW_INT_H

#include "policy.h"
#include "review.h"

struct approval {
	struct jg_identity *who;
	int64_t at;
};

struct review {
	char id[REVIEW_ID_LEN];
	enum review_kind kind;
	int status;
	struct jg_identity *requester;
	char *connection, *rule, *summary, *session_id;
	unsigned char bind[32];
	struct policy_approval need; /* deep copy */
	struct approval approvals[REVIEW_MAX_APPROVERS];
	size_t napprovals;
	char *decided_by, *reason;
	int64_t created_at, expires_at, decided_at; /* ms */
	struct json_object *detail;
	uint64_t version;  /* in the store; 0: not stored */
	int stored_status; /* status as the store has it */
};

int64_t review_now(void);

/* A review made from rq, not in the table (NULL: err says why). */
struct review *review_build(const struct review_request *rq, char *err,
			    size_t errlen);
void review_free(struct review *r);

/* The steps, on any review (table lock held if it is in the table).
 * decide and consume return JG_OK (*event set) or JG_ERROR (code, err).
 * expire returns 1 when r just expired. */
int review_decide_on(struct review *r, const struct jg_identity *approver,
		     int is_approver, int approve, const char *reason,
		     const char **event, const char **code, char *err,
		     size_t errlen);
int review_consume_on(struct review *r, const char *subject,
		      const unsigned char bind[32], const char **code,
		      char *err, size_t errlen);
int review_expire_on(struct review *r, int64_t now);
int review_withdraw_on(struct review *r, const char *session_id,
		       const char *reason, const char **code, char *err,
		       size_t errlen);

/* The table. */
void review_lock(void);
void review_unlock(void);
struct review *review_find(const char *id);
/*
 * Put r in the table (taking it), replacing an older copy of the same
 * id; a copy with the same or a newer store version wins and r is
 * freed.  Returns 1 if r went in; *old_status gets the status it
 * replaced (-1: new), *old_approvals how many approvals it had.
 */
int review_install(struct review *r, int *old_status, size_t *old_approvals);
/* Forget reviews the store has decided for a day (memory only). */
void review_forget_old(void);
/* Ids of reviews the store still has pending past their expiry. */
size_t review_due(char (**ids)[REVIEW_ID_LEN]);

/* Tell the hook (remote: the step was made by another gateway). */
void review_fire(const char *id, const char *event, int status, int remote);

/* core/review_doc.c: the store's document (everything, with the
 * approvers' identities and the binding hash) and back. */
struct json_object *review_to_doc(const struct review *r);
struct review *review_from_doc(struct json_object *doc, char *err,
			       size_t errlen);

#endif /* JG_REVIEW_INT_H */
