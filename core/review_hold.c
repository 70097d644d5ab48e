/*
 * core_review_hold: a session's action waits for approvers.  The review
 * lives in the shared table (review.c); this file keeps who is waiting
 * and brings the outcome back to the session's own loop.
 *
 * A waiter is on the list until its outcome is posted or its session
 * ends.  Both the delivery and the session's cleanup run on the session's
 * thread, so they never race; the list itself is shared (mutex).
 *
 * A review nobody waits for must not stay pending (an approver would
 * approve a statement that will never run): the plugin withdraws it when
 * its client cancels or goes away (core_review_withdraw), and a session
 * that ends still holding one withdraws it in its cleanup.
 */
#include "config.h" /* autoconf */
#include "auth.h"
#include "log.h"
#include "policy.h"
#include "redact.h"
#include "review.h"
#include "services.h"
#include "session.h"
#include "worker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

struct hold {
	struct hold *next;     /* waiting for an outcome (holds) */
	struct hold *all_next; /* every hold of a live session (all_holds) */
	struct jg_session *s;
	char sid[24];          /* the session's id, for its cleanup */
	struct jg_loop *loop;
	jg_review_cb cb;
	void *ud;
	char id[REVIEW_ID_LEN];
	char subject[256];
	unsigned char bind[32];
	int outcome;
	int posted; /* delivery queued on the session's loop */
	int dead;   /* the session ended first */
	int withdrawn; /* given up: its outcome reaches nobody */
	char detail[256];
};

/* A review being stored: a withdrawal that comes first waits for it. */
struct creating {
	struct creating *next;
	char id[REVIEW_ID_LEN];
	struct jg_loop *loop;
	int withdraw;
	char sid[24];
	char reason[200];
};

static pthread_mutex_t holds_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hold *holds, *all_holds;
static struct creating *creatings;

static void unlink_hold(struct hold *h)
{
	for (struct hold **p = &holds; *p; p = &(*p)->next)
		if (*p == h) {
			*p = h->next;
			return;
		}
}

/* Session's thread: the outcome reaches the plugin, and the record. */
static void finish(struct hold *h, int outcome)
{
	{
		struct jg_attr at[3] = {
			{"review", h->id},
			{"outcome", outcome == JG_REVIEW_APPROVED  ? "approved"
				    : outcome == JG_REVIEW_DENIED  ? "denied"
				    : outcome == JG_REVIEW_EXPIRED ? "expired"
								   : "failed"},
			{"detail", h->detail},
		};

		core_record(h->s, "review.outcome", at, 3);
	}
	/* The session is still alive: its cleanup would have marked us. */
	pthread_mutex_lock(&holds_lock);
	h->dead = 1; /* cleanup after this finds nothing to do */
	pthread_mutex_unlock(&holds_lock);
	h->cb(h->ud, outcome, h->id, h->detail);
}

/* Is the session gone?  Then h is ours to free.  Withdrawn: the
 * outcome reaches nobody, and the session's cleanup frees h. */
static int gone(struct hold *h)
{
	int dead, withdrawn;

	pthread_mutex_lock(&holds_lock);
	dead = h->dead;
	withdrawn = h->withdrawn;
	if (!dead && withdrawn)
		h->dead = 1;
	pthread_mutex_unlock(&holds_lock);
	if (dead)
		free(h);
	return dead || withdrawn;
}

/* Session's thread: the approval was used (or not) in the store. */
static void consumed(void *ud, int rc, int status, const char *code,
		     const char *err)
{
	struct hold *h = ud;

	(void)status;
	(void)code;
	if (gone(h))
		return;
	if (rc != JG_OK) {
		snprintf(h->detail, sizeof(h->detail), "%s",
			 err ? err : "the approval could not be used");
		finish(h, JG_REVIEW_FAILED);
		return;
	}
	finish(h, JG_REVIEW_APPROVED);
}

/* Session's thread. */
static void deliver(void *ud)
{
	struct hold *h = ud;

	if (gone(h))
		return;
	/* The approval opens this action once; a second delivery or a
	 * different action finds it used.  With a store this is a step on
	 * the stored review, so only one gateway can use it. */
	if (h->outcome == JG_REVIEW_APPROVED) {
		review_consume_async(h->loop, h->id, h->subject, h->bind,
				     consumed, h);
		return;
	}
	finish(h, h->outcome);
}

static void withdraw_done(void *ud, int rc, int status, const char *code,
			  const char *err)
{
	char *id = ud;

	(void)status;
	if (rc != JG_OK)
		log_msg(JG_LOG_WARN, "JG4103", NULL, NULL,
			"review %s not withdrawn: %s (%s)", id,
			err ? err : "failed", code ? code : "error");
	free(id);
}

/* Make review id withdrawn, or have it made so once it is stored. */
static void withdraw_start(struct jg_loop *l, const char *id, const char *sid,
			   const char *reason)
{
	struct creating *c;
	char *copy;

	pthread_mutex_lock(&holds_lock);
	for (c = creatings; c; c = c->next)
		if (strcmp(c->id, id) == 0)
			break;
	if (c) {
		c->withdraw = 1;
		snprintf(c->reason, sizeof(c->reason), "%s", reason);
	}
	pthread_mutex_unlock(&holds_lock);
	if (c)
		return; /* hold_created withdraws it */
	copy = strdup(id);
	if (!copy)
		return;
	review_withdraw_async(l, id, sid, reason, withdraw_done, copy);
}

static void unlink_all(struct hold *h)
{
	for (struct hold **p = &all_holds; *p; p = &(*p)->all_next)
		if (*p == h) {
			*p = h->all_next;
			return;
		}
}

/* Session's thread, at session end. */
static void hold_cleanup(void *ud)
{
	struct hold *h = ud;
	int freeit = 0, waiting = 0;

	pthread_mutex_lock(&holds_lock);
	unlink_all(h);
	if (h->posted) {
		if (h->dead)
			freeit = 1; /* delivered already */
		else
			h->dead = 1; /* deliver() will free */
	} else {
		unlink_hold(h);
		waiting = h->id[0] != 0;
		freeit = 1;
	}
	pthread_mutex_unlock(&holds_lock);
	/* The plugin did not withdraw it (an older plugin, or it ended
	 * the session itself): nobody waits for this review any more.
	 * The session's record is sealed by now; the review's own record
	 * in the store says what happened. */
	if (waiting) {
		log_msg(JG_LOG_INFO, "JG4104", NULL, h->sid,
			"review %s withdrawn: the session ended while its "
			"action was held",
			h->id);
		withdraw_start(h->loop, h->id, h->sid,
			       "the session ended while the action was held");
	}
	if (freeit)
		free(h);
}

int core_review_withdraw(struct jg_session *s, const char *review_id,
			 const char *reason)
{
	struct hold *h;
	char id[REVIEW_ID_LEN];

	if (!s || !review_id)
		return JG_ERROR;
	if (!reason || !*reason)
		reason = "withdrawn by the requester";
	pthread_mutex_lock(&holds_lock);
	for (h = all_holds; h; h = h->all_next)
		if (h->s == s && !h->withdrawn && !(h->posted && h->dead) &&
		    h->id[0] && strcmp(h->id, review_id) == 0)
			break;
	if (h) {
		h->withdrawn = 1;
		if (!h->posted) {
			unlink_hold(h);
			h->posted = 1;
			h->dead = 1; /* the session's cleanup frees */
		}
		/* else deliver() or consumed() stays silent */
		memcpy(id, h->id, REVIEW_ID_LEN);
	}
	pthread_mutex_unlock(&holds_lock);
	if (!h)
		return JG_DECLINED;
	{
		struct jg_attr at[2] = {{"review", id}, {"reason", reason}};

		core_record(s, "review.withdrawn", at, 2);
	}
	log_msg(JG_LOG_INFO, "JG4105", NULL, s->id, "review %s withdrawn: %s",
		id, reason);
	withdraw_start(s->loop, id, s->id, reason);
	return JG_OK;
}

/* Hand outcome to every session waiting on review id (any thread). */
static void post_to_holds(const char *id, int outcome, const char *detail)
{
	pthread_mutex_lock(&holds_lock);
	for (struct hold **p = &holds; *p;) {
		struct hold *h = *p;

		if (strcmp(h->id, id) != 0) {
			p = &h->next;
			continue;
		}
		*p = h->next;
		h->outcome = outcome;
		h->posted = 1;
		snprintf(h->detail, sizeof(h->detail), "%s", detail);
		loop_post(h->loop, deliver, h);
	}
	pthread_mutex_unlock(&holds_lock);
}

/* Review hook: any thread.  Post outcomes to waiting sessions and tell
 * the notifiers (on the main loop). */
static void post_outcome(const char *id, int status, struct json_object *j)
{
	int outcome = status == REVIEW_APPROVED  ? JG_REVIEW_APPROVED
		      : status == REVIEW_DENIED  ? JG_REVIEW_DENIED
		      : status == REVIEW_EXPIRED ? JG_REVIEW_EXPIRED
						 : 0;
	struct json_object *why = NULL;

	if (!outcome)
		return;
	json_object_object_get_ex(j, "reason", &why);
	post_to_holds(id, outcome,
		      why ? json_object_get_string(why)
			  : review_status_name(status));
}

/* The review of a hold could not be stored: the hold fails. */
static void create_failed(const char *id, const char *why)
{
	post_to_holds(id, JG_REVIEW_FAILED, why);
}

static void hold_created(void *ud, int rc, int status, const char *code,
			 const char *err)
{
	struct creating *c = ud;

	(void)status;
	(void)code;
	pthread_mutex_lock(&holds_lock);
	for (struct creating **p = &creatings; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	pthread_mutex_unlock(&holds_lock);
	if (rc != JG_OK)
		create_failed(c->id,
			      err ? err : "the review could not be stored");
	else if (c->withdraw)
		withdraw_start(c->loop, c->id, c->sid, c->reason);
	free(c);
}

struct note {
	char event[32];
	char *json;
};

static void note_run(void *ud)
{
	struct note *n = ud;

	auth_notify(n->event, n->json);
	free(n->json);
	free(n);
}

/* A step made through another gateway: release what waits here; that
 * gateway told the notifiers. */
static void on_remote_review(void *ud, const char *id, const char *event,
			     struct json_object *j, int status)
{
	(void)ud;
	log_msg(JG_LOG_INFO, "JG4102", NULL, NULL, "%s %s (another gateway)",
		event, id);
	post_outcome(id, status, j);
}

static void on_review(void *ud, const char *id, const char *event,
		      struct json_object *j, int status)
{
	struct note *n;

	(void)ud;
	log_msg(JG_LOG_INFO, "JG4101", NULL, NULL, "%s %s", event, id);
	post_outcome(id, status, j);
	/* A withdrawal needs no approver any more; notifiers announce
	 * reviews that want someone, and their outcomes. */
	if (strcmp(event, "review.withdrawn") == 0)
		return;
	n = calloc(1, sizeof(*n));
	if (!n)
		return;
	snprintf(n->event, sizeof(n->event), "%s", event);
	n->json = strdup(json_object_to_json_string_ext(
		j, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (!n->json || loop_post(main_loop(), note_run, n) != 0) {
		free(n->json);
		free(n);
	}
}

void review_hold_start(void);
void review_hold_start(void)
{
	review_set_hook(on_review, NULL);
	review_set_remote_hook(on_remote_review, NULL);
}

/* A string for approvers to read: secrets redacted as in records (a
 * password in ALTER ROLE, a token passed as a parameter), a secret-named
 * attribute replaced whole.  The binding hash covers the exact action. */
static struct json_object *redacted(const char *key, const char *v)
{
	struct json_object *o;
	char *r;

	if (!v)
		v = "";
	if (key && redact_key_is_secret(key))
		return json_object_new_string(REDACT_MARK);
	r = redact_text(v, strlen(v), NULL);
	if (!r)
		return json_object_new_string(REDACT_MARK);
	o = json_object_new_string(r);
	free(r);
	return o;
}

static struct json_object *action_json(const struct jg_action *a)
{
	struct json_object *o = json_object_new_object(),
			   *at = json_object_new_array();

	json_object_object_add(o, "type",
			       json_object_new_string(a->type ? a->type : ""));
	if (a->text)
		json_object_object_add(o, "text", redacted(NULL, a->text));
	for (size_t i = 0; i < a->nattrs; i++) {
		struct json_object *kv = json_object_new_array();

		json_object_array_add(kv, json_object_new_string(
						  a->attrs[i].key ? a->attrs[i].key
								  : ""));
		json_object_array_add(kv, redacted(a->attrs[i].key,
						   a->attrs[i].value));
		json_object_array_add(at, kv);
	}
	json_object_object_add(o, "attrs", at);
	return o;
}

int core_review_hold(struct jg_session *s, const struct jg_action *a,
		     const struct jg_decision *d, jg_review_cb cb, void *ud,
		     const char **review_id)
{
	const struct auth_state *st = s->identity;
	const struct policy_approval *ap;
	struct review_request rq = {0};
	unsigned char bind[32];
	struct hold *h;
	struct creating *pending;
	char id[REVIEW_ID_LEN], *copy, *summary;
	int rc;

	if (!st || !st->acc || !a || !d || !cb)
		return JG_ERROR;
	ap = policy_rule_approval(policy_rule_find(st->acc->policy, d->rule));
	if (!ap)
		return JG_ERROR; /* not a review rule: fail closed */
	review_hash_action(a, s->conn_name, bind);
	rq.kind = REVIEW_ACTION;
	rq.requester = st->id;
	rq.connection = s->conn_name;
	rq.rule = d->rule;
	summary = a->text ? redact_text(a->text, strlen(a->text), NULL)
			  : NULL;
	rq.summary = summary ? summary : a->text ? REDACT_MARK : a->type;
	rq.bind = bind;
	rq.approval = ap;
	rq.session_id = s->id;
	rq.detail = action_json(a);
	h = calloc(1, sizeof(*h));
	copy = session_alloc(s, REVIEW_ID_LEN);
	if (!h || !copy || session_cleanup(s, hold_cleanup, h) != 0) {
		json_object_put(rq.detail);
		free(summary);
		free(h);
		return JG_ERROR;
	}
	h->s = s;
	snprintf(h->sid, sizeof(h->sid), "%s", s->id);
	h->loop = s->loop;
	h->cb = cb;
	h->ud = ud;
	snprintf(h->subject, sizeof(h->subject), "%s", st->id->subject);
	memcpy(h->bind, bind, 32);
	/* Wait on the list before the review exists, so no outcome can
	 * slip by; the id is filled in under the same lock. */
	pthread_mutex_lock(&holds_lock);
	h->next = holds;
	holds = h;
	h->all_next = all_holds;
	all_holds = h;
	pthread_mutex_unlock(&holds_lock);
	/* The id is known at once; the store (if any) confirms later and
	 * hold_created fails the hold if it cannot. */
	pending = calloc(1, sizeof(*pending));
	rc = pending ? review_create_async(s->loop, &rq, id, hold_created,
					   pending)
		     : JG_ERROR;
	free(summary); /* the review has its own copy */
	if (!pending)
		json_object_put(rq.detail);
	if (rc == JG_ERROR) {
		pthread_mutex_lock(&holds_lock);
		unlink_hold(h);
		h->posted = 1;
		h->dead = 1; /* cleanup frees */
		pthread_mutex_unlock(&holds_lock);
		free(pending);
		return JG_ERROR;
	}
	pthread_mutex_lock(&holds_lock);
	memcpy(h->id, id, REVIEW_ID_LEN);
	if (rc == JG_AGAIN) { /* JG_OK: hold_created ran and freed it */
		memcpy(pending->id, id, REVIEW_ID_LEN);
		pending->loop = s->loop;
		snprintf(pending->sid, sizeof(pending->sid), "%s", s->id);
		pending->next = creatings;
		creatings = pending;
	}
	pthread_mutex_unlock(&holds_lock);
	memcpy(copy, id, REVIEW_ID_LEN);
	*review_id = copy;
	{
		struct jg_attr at[2] = {{"review", id}, {"rule", d->rule}};

		core_record(s, "review.held", at, 2);
	}
	return JG_AGAIN;
}
