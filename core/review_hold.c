/*
 * core_review_hold: a session's action waits for approvers.  The review
 * lives in the shared table (review.c); this file keeps who is waiting
 * and brings the outcome back to the session's own loop.
 *
 * A waiter is on the list until its outcome is posted or its session
 * ends.  Both the delivery and the session's cleanup run on the session's
 * thread, so they never race; the list itself is shared (mutex).
 */
#include "config.h" /* autoconf */
#include "auth.h"
#include "log.h"
#include "policy.h"
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
	struct hold *next;
	struct jg_session *s;
	struct jg_loop *loop;
	jg_review_cb cb;
	void *ud;
	char id[REVIEW_ID_LEN];
	char subject[256];
	unsigned char bind[32];
	int outcome;
	int posted; /* delivery queued on the session's loop */
	int dead;   /* the session ended first */
	char detail[256];
};

static pthread_mutex_t holds_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hold *holds;

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

/* Is the session gone?  Then h is ours to free. */
static int gone(struct hold *h)
{
	int dead;

	pthread_mutex_lock(&holds_lock);
	dead = h->dead;
	pthread_mutex_unlock(&holds_lock);
	if (dead)
		free(h);
	return dead;
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

/* Session's thread, at session end. */
static void hold_cleanup(void *ud)
{
	struct hold *h = ud;
	int freeit = 0;

	pthread_mutex_lock(&holds_lock);
	if (h->posted) {
		if (h->dead)
			freeit = 1; /* delivered already */
		else
			h->dead = 1; /* deliver() will free */
	} else {
		unlink_hold(h);
		freeit = 1;
	}
	pthread_mutex_unlock(&holds_lock);
	if (freeit)
		free(h);
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
	char *id = ud;

	(void)status;
	(void)code;
	if (rc != JG_OK)
		create_failed(id, err ? err : "the review could not be stored");
	free(id);
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

static struct json_object *action_json(const struct jg_action *a)
{
	struct json_object *o = json_object_new_object(),
			   *at = json_object_new_array();

	json_object_object_add(o, "type",
			       json_object_new_string(a->type ? a->type : ""));
	if (a->text)
		json_object_object_add(o, "text",
				       json_object_new_string(a->text));
	for (size_t i = 0; i < a->nattrs; i++) {
		struct json_object *kv = json_object_new_array();

		json_object_array_add(kv, json_object_new_string(
						  a->attrs[i].key ? a->attrs[i].key
								  : ""));
		json_object_array_add(kv, json_object_new_string(
						  a->attrs[i].value
							  ? a->attrs[i].value
							  : ""));
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
	char id[REVIEW_ID_LEN], *copy, *pending;
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
	rq.summary = a->text ? a->text : a->type;
	rq.bind = bind;
	rq.approval = ap;
	rq.session_id = s->id;
	rq.detail = action_json(a);
	h = calloc(1, sizeof(*h));
	copy = session_alloc(s, REVIEW_ID_LEN);
	if (!h || !copy || session_cleanup(s, hold_cleanup, h) != 0) {
		json_object_put(rq.detail);
		free(h);
		return JG_ERROR;
	}
	h->s = s;
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
	pthread_mutex_unlock(&holds_lock);
	/* The id is known at once; the store (if any) confirms later and
	 * hold_created fails the hold if it cannot. */
	pending = calloc(1, REVIEW_ID_LEN);
	rc = pending ? review_create_async(s->loop, &rq, id, hold_created,
					   pending)
		     : JG_ERROR;
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
	pthread_mutex_unlock(&holds_lock);
	if (rc == JG_AGAIN) /* JG_OK: hold_created ran and freed it */
		memcpy(pending, id, REVIEW_ID_LEN);
	memcpy(copy, id, REVIEW_ID_LEN);
	*review_id = copy;
	{
		struct jg_attr at[2] = {{"review", id}, {"rule", d->rule}};

		core_record(s, "review.held", at, 2);
	}
	return JG_AGAIN;
}
