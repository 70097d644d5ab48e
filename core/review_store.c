/*
 * Reviews through the store, so gateways sharing one store behave as
 * one: each step (created, approval, denial, expiry, use, withdrawal) is
 * made on the stored document with a version check (store_modify:
 * another gateway may step at the same moment) and only then installed
 * in this gateway's table and told to the hook.  The main loop watches the
 * "reviews" collection: a step made elsewhere is read back, installed,
 * and told to the remote hook, which releases an action held here when
 * its review was approved through another gateway.
 *
 * Every step a gateway makes is also recorded as a small sealed record
 * of its own, "<review id>.<version>", so `jitgate audit` shows who
 * created, approved, denied or used a review (grant reviews have no
 * session record to land in).
 */
#include "config.h" /* autoconf */
#include "record.h"
#include "review_int.h"
#include "store.h"
#include "worker.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

enum step_kind {
	STEP_CREATE,
	STEP_DECIDE,
	STEP_CONSUME,
	STEP_EXPIRE,
	STEP_WITHDRAW
};

struct step {
	enum step_kind kind;
	struct jg_loop *loop;
	char id[REVIEW_ID_LEN];
	struct review *created;       /* STEP_CREATE */
	struct jg_identity *approver; /* STEP_DECIDE */
	int is_approver, approve;
	char *reason;
	char subject[256];            /* STEP_CONSUME; STEP_WITHDRAW: session */
	unsigned char bind[32];
	const char *event;
	const char *code;
	char err[256];
	int status;
	review_done_cb cb;
	void *ud;
};

static void step_free(struct step *st)
{
	identity_free(st->approver);
	free(st->reason);
	free(st);
}

static void done(struct step *st, int rc, int status, const char *code,
		 const char *err)
{
	if (st->cb)
		st->cb(st->ud, rc, status, code, err);
	step_free(st);
}

/* ---- installing what the store has ------------------------------------ */

static struct review *parse(const char *doc, uint64_t version)
{
	struct json_object *o = doc ? json_tokener_parse(doc) : NULL;
	struct review *r;
	char err[200];

	if (!o)
		return NULL;
	r = review_from_doc(o, err, sizeof(err));
	json_object_put(o);
	if (!r) {
		log_msg(JG_LOG_ERROR, "JG4501", NULL, NULL,
			"stored review unreadable: %s", err);
		return NULL;
	}
	r->version = version;
	return r;
}

/* The event a change from old_status to r's status amounts to. */
static const char *derived_event(int old_status, size_t old_approvals,
				 const struct review *r)
{
	if (old_status == r->status)
		return r->status == REVIEW_PENDING &&
				       r->napprovals > old_approvals
			       ? "review.approval"
			       : NULL;
	switch (r->status) {
	case REVIEW_PENDING:
		return "review.created";
	case REVIEW_APPROVED:
		return "review.approved";
	case REVIEW_DENIED:
		return "review.denied";
	case REVIEW_EXPIRED:
		return "review.expired";
	case REVIEW_WITHDRAWN:
		return "review.withdrawn";
	default:
		return "review.used";
	}
}

/* A document another gateway (or an earlier step) wrote: install it and
 * tell the remote hook what changed. */
static void sync_doc(const char *doc, uint64_t version)
{
	struct review *r = parse(doc, version);
	char id[REVIEW_ID_LEN];
	const char *event;
	size_t old_approvals;
	int old_status, status;

	if (!r)
		return;
	memcpy(id, r->id, REVIEW_ID_LEN);
	status = r->status;
	event = NULL;
	/* derived before install: r is the table's afterwards */
	{
		int os = -1;
		size_t oa = 0;
		struct review *cur;

		review_lock();
		cur = review_find(id);
		if (cur) {
			os = cur->stored_status;
			oa = cur->napprovals;
		}
		review_unlock();
		event = derived_event(os, oa, r);
	}
	if (review_install(r, &old_status, &old_approvals) && event)
		review_fire(id, event, status, 1);
}

/* ---- recording a step -------------------------------------------------- */

static void record_step(struct step *st, const struct review *r,
			uint64_t version)
{
	char sid[REVIEW_ID_LEN + 24];
	const char *by = st->approver ? st->approver->subject : "";

	if (!record_configured())
		return;
	snprintf(sid, sizeof(sid), "%s.%llu", r->id,
		 (unsigned long long)version);
	{
		struct jg_attr a[] = {
			{"review", r->id},
			{"kind", r->kind == REVIEW_GRANT ? "grant" : "action"},
			{"step", st->event ? st->event : ""},
			{"status", review_status_name(r->status)},
			{"subject", r->requester->subject},
			{"connection", r->connection},
			{"rule", r->rule},
			{"by", st->kind == STEP_DECIDE	   ? by
			       : st->kind == STEP_CONSUME  ? st->subject
			       : st->kind == STEP_WITHDRAW ? r->requester->subject
							   : ""},
			{"reason", r->reason ? r->reason : ""},
			{"summary", r->summary},
			{"session", r->session_id ? r->session_id : ""},
		};

		record_standalone(st->loop, sid, "review", a,
				  sizeof(a) / sizeof(a[0]));
	}
}

/* Our step is stored: install it, record it, tell the local hook. */
static void install_ours(struct step *st, struct review *r)
{
	int old_status, status = r->status;
	size_t old_approvals;
	uint64_t version = r->version;

	record_step(st, r, version);
	review_install(r, &old_status, &old_approvals);
	/* Even when the watch installed this version first: the local
	 * hook notifies (the remote one does not); releasing a held
	 * action twice finds nobody the second time. */
	if (st->event)
		review_fire(st->id, st->event, status, 0);
}

/* ---- create ------------------------------------------------------------- */

static void created(void *ud, int status, const char *doc, uint64_t version,
		    const char *err)
{
	struct step *st = ud;
	struct review *r = st->created;

	(void)doc;
	st->created = NULL;
	if (status != JG_OK) {
		review_free(r);
		log_msg(JG_LOG_ERROR, "JG4502", NULL, NULL,
			"review %s not stored: %s", st->id,
			err ? err : "already exists");
		done(st, JG_ERROR, -1, "store_unavailable",
		     err ? err : "the review could not be stored");
		return;
	}
	r->version = version;
	install_ours(st, r);
	done(st, JG_OK, REVIEW_PENDING, NULL, NULL);
}

int review_create_async(struct jg_loop *l, const struct review_request *rq,
			char *id, review_done_cb cb, void *ud)
{
	struct step *st;
	struct json_object *doc;
	char err[200];
	int rc;

	if (!store_configured()) {
		rc = review_create(rq, id, err, sizeof(err));
		if (rc != JG_OK) {
			json_object_put(rq->detail);
			return JG_ERROR;
		}
		if (cb)
			cb(ud, JG_OK, REVIEW_PENDING, NULL, NULL);
		return JG_OK;
	}
	st = calloc(1, sizeof(*st));
	if (!st || !(st->created = review_build(rq, err, sizeof(err)))) {
		free(st);
		json_object_put(rq->detail);
		return JG_ERROR;
	}
	st->kind = STEP_CREATE;
	st->loop = l;
	st->cb = cb;
	st->ud = ud;
	st->event = "review.created";
	memcpy(st->id, st->created->id, REVIEW_ID_LEN);
	memcpy(id, st->id, REVIEW_ID_LEN);
	doc = review_to_doc(st->created);
	rc = store_put(l, "reviews", st->id,
		       json_object_to_json_string_ext(doc,
						      JSON_C_TO_STRING_PLAIN),
		       0, created, st);
	json_object_put(doc);
	if (rc != JG_AGAIN) {
		review_free(st->created);
		step_free(st);
		return JG_ERROR;
	}
	return JG_AGAIN;
}

/* ---- decide, consume, expire: on the stored document --------------------- */

static int apply(void *ud, const char *doc, uint64_t version, char **out)
{
	struct step *st = ud;
	struct review *r = parse(doc, version);
	struct json_object *o;
	int rc = JG_ERROR;

	st->event = NULL;
	st->code = NULL;
	st->err[0] = '\0';
	if (!r) {
		st->code = REVIEW_E_NOTFOUND;
		snprintf(st->err, sizeof(st->err), "no review %s", st->id);
		st->status = -1;
		return JG_ERROR;
	}
	switch (st->kind) {
	case STEP_DECIDE:
		if (review_expire_on(r, review_now())) {
			st->code = REVIEW_E_DECIDED;
			snprintf(st->err, sizeof(st->err), "review %s is expired",
				 st->id);
			break;
		}
		rc = review_decide_on(r, st->approver, st->is_approver,
				      st->approve, st->reason, &st->event,
				      &st->code, st->err, sizeof(st->err));
		break;
	case STEP_CONSUME:
		rc = review_consume_on(r, st->subject, st->bind, &st->code,
				       st->err, sizeof(st->err));
		if (rc == JG_OK)
			st->event = "review.used";
		break;
	case STEP_WITHDRAW:
		review_expire_on(r, review_now());
		rc = review_withdraw_on(r, st->subject, st->reason, &st->code,
					st->err, sizeof(st->err));
		if (rc == JG_OK)
			st->event = "review.withdrawn";
		break;
	default:
		if (review_expire_on(r, review_now())) {
			st->event = "review.expired";
			rc = JG_OK;
		} else {
			rc = JG_DECLINED; /* someone else expired or decided */
		}
	}
	st->status = r->status;
	if (rc == JG_OK) {
		o = review_to_doc(r);
		*out = strdup(json_object_to_json_string_ext(
			o, JSON_C_TO_STRING_PLAIN));
		json_object_put(o);
		if (!*out)
			rc = JG_ERROR;
	}
	review_free(r);
	return rc;
}

static void applied(void *ud, int status, const char *doc, uint64_t version,
		    const char *err)
{
	struct step *st = ud;
	struct review *r;

	if (status == JG_OK && (r = parse(doc, version))) {
		st->status = r->status;
		install_ours(st, r);
		done(st, JG_OK, st->status, NULL, NULL);
		return;
	}
	/* Refused or nothing to do: what was read is still the newest
	 * this gateway knows. */
	if (doc)
		sync_doc(doc, version);
	if (st->code)
		done(st, JG_ERROR, st->status, st->code, st->err);
	else if (status == JG_DECLINED)
		done(st, JG_DECLINED, st->status, NULL, NULL);
	else
		done(st, JG_ERROR, -1, "store_unavailable",
		     err ? err : "the store failed");
}

static void run_step(struct step *st)
{
	if (store_modify(st->loop, "reviews", st->id, apply, applied, st) !=
	    JG_AGAIN)
		done(st, JG_ERROR, -1, "store_unavailable",
		     "the store refused the request");
}

static struct step *new_step(enum step_kind kind, struct jg_loop *l,
			     const char *id, review_done_cb cb, void *ud)
{
	struct step *st = calloc(1, sizeof(*st));

	if (!st) {
		if (cb)
			cb(ud, JG_ERROR, -1, "internal", "out of memory");
		return NULL;
	}
	st->kind = kind;
	st->loop = l;
	st->cb = cb;
	st->ud = ud;
	snprintf(st->id, sizeof(st->id), "%s", id);
	return st;
}

void review_decide_async(struct jg_loop *l, const char *id,
			 const struct jg_identity *approver, int is_approver,
			 int approve, const char *reason, review_done_cb cb,
			 void *ud)
{
	struct step *st;

	if (!store_configured()) {
		const char *code = NULL;
		char err[256];
		int status, rc = review_decide(id, approver, is_approver,
					       approve, reason, &status,
					       &code, err, sizeof(err));

		cb(ud, rc, status, code, rc == JG_OK ? NULL : err);
		return;
	}
	if (strlen(id) != REVIEW_ID_LEN - 1) {
		char err[128];

		snprintf(err, sizeof(err), "no review %.64s", id);
		cb(ud, JG_ERROR, -1, REVIEW_E_NOTFOUND, err);
		return;
	}
	if (!(st = new_step(STEP_DECIDE, l, id, cb, ud)))
		return;
	st->approver = identity_dup(approver);
	st->is_approver = is_approver;
	st->approve = approve;
	st->reason = reason ? strdup(reason) : NULL;
	if (!st->approver || (reason && !st->reason)) {
		done(st, JG_ERROR, -1, "internal", "out of memory");
		return;
	}
	run_step(st);
}

void review_consume_async(struct jg_loop *l, const char *id,
			  const char *subject, const unsigned char bind[32],
			  review_done_cb cb, void *ud)
{
	struct step *st;

	if (!store_configured()) {
		const char *code = NULL;
		char err[256];
		int rc = review_consume(id, subject, bind, &code, err,
					sizeof(err));

		cb(ud, rc, review_status(id), code, rc == JG_OK ? NULL : err);
		return;
	}
	if (!id || strlen(id) != REVIEW_ID_LEN - 1) {
		cb(ud, JG_ERROR, -1, REVIEW_E_NOTFOUND, "no such review");
		return;
	}
	if (!(st = new_step(STEP_CONSUME, l, id, cb, ud)))
		return;
	snprintf(st->subject, sizeof(st->subject), "%s", subject ? subject : "");
	memcpy(st->bind, bind, 32);
	run_step(st);
}

void review_withdraw_async(struct jg_loop *l, const char *id,
			   const char *session_id, const char *reason,
			   review_done_cb cb, void *ud)
{
	struct step *st;

	if (!store_configured()) {
		const char *code = NULL;
		char err[256];
		int status, rc = review_withdraw(id, session_id, reason,
						 &status, &code, err,
						 sizeof(err));

		if (cb)
			cb(ud, rc, status, code, rc == JG_OK ? NULL : err);
		return;
	}
	if (!id || strlen(id) != REVIEW_ID_LEN - 1) {
		if (cb)
			cb(ud, JG_ERROR, -1, REVIEW_E_NOTFOUND,
			   "no such review");
		return;
	}
	if (!(st = new_step(STEP_WITHDRAW, l, id, cb, ud)))
		return;
	snprintf(st->subject, sizeof(st->subject), "%s",
		 session_id ? session_id : "");
	st->reason = reason ? strdup(reason) : NULL;
	if (reason && !st->reason) {
		done(st, JG_ERROR, -1, "internal", "out of memory");
		return;
	}
	run_step(st);
}

/* ---- following the store (main loop) ------------------------------------- */

/* Read a change only when it is newer than the copy here (our own
 * steps come back through the watch too). */
static int want(const char *id, uint64_t version)
{
	struct review *r;
	uint64_t have = 0;

	if (strlen(id) != REVIEW_ID_LEN - 1)
		return 0;
	review_lock();
	r = review_find(id);
	if (r)
		have = r->version;
	review_unlock();
	return have < version;
}

static void listed(size_t n, const char *err)
{
	if (err)
		log_msg(JG_LOG_ERROR, "JG4503", NULL, NULL,
			"cannot read stored reviews: %s", err);
	else
		log_msg(JG_LOG_INFO, "JG4504", NULL, NULL,
			"loaded %zu stored reviews", n);
}

static struct store_follow follow = {
	.collection = "reviews",
	.doc = sync_doc,
	.want = want,
	.listed = listed,
};

void review_sync_stop(void)
{
	store_follow_stop(&follow);
}

void review_sync_start(void)
{
	if (store_follow_start(&follow, main_loop()) < 0)
		log_msg(JG_LOG_ERROR, "JG4505", NULL, NULL,
			"cannot watch stored reviews: steps made by other "
			"gateways are seen only after a restart");
}

int review_sync_loaded(void)
{
	return follow.loaded;
}

void review_expire_tick(void)
{
	char (*ids)[REVIEW_ID_LEN];
	size_t n;

	if (!store_configured()) {
		review_expire();
		return;
	}
	store_follow_retry(&follow);
	review_forget_old();
	n = review_due(&ids);
	for (size_t i = 0; i < n; i++) {
		struct step *st = new_step(STEP_EXPIRE, main_loop(), ids[i],
					   NULL, NULL);
		if (st)
			run_step(st);
	}
	free(ids);
}
