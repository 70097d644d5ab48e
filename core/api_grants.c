/*
 * /v1/grants: create (policy decides: allow, review first, or refuse),
 * list, show, revoke.  Grants are written to the store when one is
 * configured, and read back from it after a restart.
 */
#include "config.h" /* autoconf */
#include "admin.h"
#include "auth.h"
#include "conf.h"
#include "grants.h"
#include "log.h"
#include "policy.h"
#include "review.h"
#include "store.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <json-c/json.h>

#include "api_int.h"

#define MAX_PURPOSE 1024

/* ---- persistence ----------------------------------------------------- */

/*
 * Grants live in the store as documents (hash, never the credential).
 * At start every stored grant is read before the listeners open
 * (main.c waits for auth_state_loaded()); after that the main loop
 * follows the "grants" collection, so a grant made, revoked or counted
 * through another gateway sharing the store is known here too.  A
 * revocation or a session counted here is a step on the stored document
 * with a version check (store_modify), so two gateways never undo each
 * other's change.
 */
static void take_doc(struct json_object *d)
{
	char e[200];

	if (grants_update_doc(d, e, sizeof(e)) != JG_OK)
		log_msg(JG_LOG_ERROR, "JG4407", NULL, NULL,
			"stored grant not loaded: %s", e);
}

static void take_text(const char *doc, uint64_t version)
{
	struct json_object *d = doc ? json_tokener_parse(doc) : NULL;

	(void)version;
	if (d)
		take_doc(d);
	json_object_put(d);
}

static void listed(size_t n, const char *err)
{
	if (err)
		log_msg(JG_LOG_ERROR, "JG4401", NULL, NULL,
			"cannot read stored grants: %s", err);
	else
		log_msg(JG_LOG_INFO, "JG4402", NULL, NULL,
			"loaded %zu stored grants", n);
}

static struct store_follow follow = {
	.collection = "grants",
	.doc = take_text,
	.listed = listed,
};

void api_grants_load(void)
{
	store_follow_retry(&follow);
}

/* A step on a stored grant. */
/* Sessions counted here not yet in the store, per grant: one step in
 * flight per grant adds all that came meanwhile (a burst of sessions
 * would otherwise race itself on the version check). */
struct counter {
	char id[GRANT_ID_LEN];
	int64_t pending;
	int inflight;
	struct counter *next;
};
static struct counter *counters; /* main loop only */

struct gstep {
	char id[GRANT_ID_LEN];
	char by[256];
	int revoke;              /* else: add delta sessions */
	int64_t delta;
	struct counter *counter;
};

static int gstep_apply(void *ud, const char *doc, uint64_t version,
		       char **out)
{
	struct gstep *g = ud;
	struct json_object *d = doc ? json_tokener_parse(doc) : grant_doc(g->id),
			   *v;

	(void)version;
	if (!d)
		return JG_ERROR;
	if (g->revoke) {
		if (json_object_object_get_ex(d, "revoked_at", &v)) {
			json_object_put(d);
			return JG_OK; /* revoked already: nothing to change */
		}
		json_object_object_add(d, "revoked_at",
				       json_object_new_int64(grants_now()));
		json_object_object_add(d, "revoked_by",
				       json_object_new_string(g->by));
	} else {
		int64_t n = json_object_object_get_ex(d, "sessions_used", &v)
				    ? json_object_get_int64(v)
				    : 0;
		/* The sessions counted here since the last step, added
		 * to what the store has (absent: the local document,
		 * which has them already). */
		json_object_object_add(
			d, "sessions_used",
			json_object_new_int64(n + (doc ? g->delta : 0)));
	}
	*out = strdup(json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN));
	json_object_put(d);
	return *out ? JG_OK : JG_ERROR;
}

static void count_next(struct counter *c);

static void gstep_done(void *ud, int status, const char *doc,
		       uint64_t version, const char *err)
{
	struct gstep *g = ud;

	if (status == JG_OK || (status == JG_DECLINED && doc))
		take_text(doc, version);
	else
		log_msg(JG_LOG_ERROR, "JG4403", NULL, NULL,
			"grant %s: store refused the update: %s", g->id,
			err ? err : "?");
	if (g->counter) {
		g->counter->inflight = 0;
		count_next(g->counter);
	}
	free(g);
}

static int gstep(const char *id, const char *by, int revoke,
		 struct counter *c)
{
	struct gstep *g;

	if (!store_configured() || !(g = calloc(1, sizeof(*g))))
		return -1;
	snprintf(g->id, sizeof(g->id), "%s", id);
	snprintf(g->by, sizeof(g->by), "%s", by ? by : "");
	g->revoke = revoke;
	g->counter = c;
	if (c) {
		g->delta = c->pending;
		c->pending = 0;
		c->inflight = 1;
	}
	if (store_modify(main_loop(), "grants", id, gstep_apply, gstep_done,
			 g) != JG_AGAIN) {
		if (c) {
			c->pending += g->delta;
			c->inflight = 0;
		}
		free(g);
		return -1;
	}
	return 0;
}

/* Start the next count step for c, or forget c when nothing waits. */
static void count_next(struct counter *c)
{
	if (c->pending && gstep(c->id, NULL, 0, c) == 0)
		return;
	if (c->pending)
		log_msg(JG_LOG_ERROR, "JG4403", NULL, NULL,
			"grant %s: %lld sessions not counted in the store",
			c->id, (long long)c->pending);
	for (struct counter **p = &counters; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	free(c);
}

static void count_session(void *ud)
{
	char *id = ud;
	struct counter *c;

	for (c = counters; c && strcmp(c->id, id) != 0; c = c->next)
		;
	if (!c && (c = calloc(1, sizeof(*c)))) {
		snprintf(c->id, sizeof(c->id), "%s", id);
		c->next = counters;
		counters = c;
	}
	if (c) {
		c->pending++;
		if (!c->inflight)
			count_next(c);
	}
	free(id);
}

int api_grants_settling(void)
{
	return counters != NULL;
}

void api_grants_count_session(const char *grant_id)
{
	char *id = store_configured() ? strdup(grant_id) : NULL;

	if (id && loop_post(main_loop(), count_session, id) != 0)
		free(id);
}

int auth_state_loaded(void)
{
	return follow.loaded && review_sync_loaded();
}

void auth_activate(void)
{
	api_ensure_ticking();
	review_sync_start();
	if (store_follow_start(&follow, main_loop()) < 0)
		log_msg(JG_LOG_ERROR, "JG4408", NULL, NULL,
			"cannot watch stored grants: grants made or revoked "
			"through other gateways are seen only after a restart");
}

void auth_shutdown(void)
{
	store_follow_stop(&follow);
	review_sync_stop();
}

/* ---- create ------------------------------------------------------------ */

struct created {
	struct admin_request *req;
	char id[GRANT_ID_LEN];
	char cred[GRANT_CRED_LEN];
	char protocol[64];
	/* the request, kept while a review approval is being used */
	struct jg_identity *owner;
	char conn[256];
	char *purpose;
	char rule[128];
	char review[64];
	int64_t ttl, max_sessions;
};

static void creation_free(struct created *c)
{
	/* The only copy of the credential: gone now. */
	gnutls_memset(c->cred, 0, sizeof(c->cred));
	identity_free(c->owner);
	free(c->purpose);
	free(c);
}

static void answer_created(struct created *c)
{
	struct json_object *o = json_object_new_object(), *g = grant_json(c->id);
	const char *t;

	json_object_object_add(g, "protocol",
			       json_object_new_string(c->protocol));
	json_object_object_add(o, "grant", g);
	json_object_object_add(o, "credential", json_object_new_string(c->cred));
	t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE);
	admin_reply(c->req, 201, "application/json", t, strlen(t));
	json_object_put(o);
	creation_free(c);
}

static void on_created(void *ud, int status, const char *doc,
		       uint64_t version, const char *err)
{
	struct created *c = ud;

	(void)doc;
	(void)version;
	if (status != JG_OK) {
		/* Not durable: it must not be usable either. */
		grants_revoke(c->id, "store");
		api_error(c->req, 503, "store_unavailable",
			  "the grant could not be stored: %s", err ? err : "?");
		creation_free(c);
		return;
	}
	answer_created(c);
}

/* Make the grant c describes, store it, answer. */
static void issue(struct created *c)
{
	struct grant_request gr = {0};
	char err[256];

	gr.owner = c->owner;
	gr.connection = c->conn;
	gr.purpose = c->purpose;
	gr.ttl_ms = c->ttl;
	gr.max_sessions = c->max_sessions;
	gr.rule = c->rule;
	gr.review_id = c->review[0] ? c->review : NULL;
	if (grants_create(&gr, c->cred, c->id, NULL, err, sizeof(err)) !=
	    JG_OK) {
		api_error(c->req, 500, "internal", "%s", err);
		creation_free(c);
		return;
	}
	log_msg(JG_LOG_INFO, "JG4405", NULL, NULL,
		"grant %s: subject=%s connection=%s ttl=%llds rule=%s%s%s",
		c->id, c->owner->subject, c->conn, (long long)(c->ttl / 1000),
		c->rule, c->review[0] ? " review=" : "", c->review);
	if (store_configured()) {
		struct json_object *d = grant_doc(c->id);

		if (store_put(main_loop(), "grants", c->id,
			      json_object_to_json_string_ext(
				      d, JSON_C_TO_STRING_PLAIN),
			      0, on_created, c) != JG_AGAIN)
			on_created(c, JG_ERROR, NULL, 0, "store refused");
		json_object_put(d);
	} else {
		answer_created(c);
	}
}

static void approval_used(void *ud, int rc, int status, const char *code,
			  const char *err)
{
	struct created *c = ud;

	(void)status;
	if (rc != JG_OK) {
		code = code ? code : "internal";
		api_error(c->req,
			  !strcmp(code, "store_unavailable") ? 503 : 403, code,
			  "%s", err ? err : code);
		creation_free(c);
		return;
	}
	issue(c);
}

/* A grant review was stored: 202 with it. */
struct asked {
	struct admin_request *req;
	char id[REVIEW_ID_LEN];
};

static void asked(void *ud, int rc, int status, const char *code,
		  const char *err)
{
	struct asked *q = ud;

	(void)status;
	if (rc != JG_OK)
		api_error(q->req, 503, code ? code : "internal", "%s",
			  err ? err : "the review could not be stored");
	else
		api_reply(q->req, 202, "review", review_json(q->id));
	free(q);
}

static const char *conn_protocol(const struct access *a, const char *name)
{
	struct json_object *cs = conf_get(a->conf, "connections"), *c, *p;

	if (!cs || !json_object_object_get_ex(cs, name, &c))
		return NULL;
	if (json_object_object_get_ex(c, "protocol", &p))
		return json_object_get_string(p);
	return "";
}

static int parse_ttl(struct json_object *v, int64_t *ms)
{
	if (json_object_is_type(v, json_type_int)) {
		*ms = json_object_get_int64(v) * 1000;
		return *ms > 0 ? 0 : -1;
	}
	return json_object_is_type(v, json_type_string) &&
			       policy_parse_duration(json_object_get_string(v),
						     ms) == 0 &&
			       *ms > 0
		       ? 0
		       : -1;
}

static struct json_object *grant_detail(const char *conn, const char *purpose,
					int64_t ttl, int64_t max_sessions)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "connection", json_object_new_string(conn));
	json_object_object_add(o, "purpose", json_object_new_string(purpose));
	json_object_object_add(o, "ttl_seconds",
			       json_object_new_int64(ttl / 1000));
	json_object_object_add(o, "max_sessions",
			       json_object_new_int64(max_sessions));
	return o;
}

static void create(struct admin_request *req, struct jg_identity *me)
{
	const struct access *acc = access_current();
	struct json_object *b = api_body(req), *v;
	const char *conn = NULL, *purpose = NULL, *review = NULL, *proto;
	int64_t ttl, max_sessions = 0, bound;
	struct jg_action act = {.type = "grant"};
	struct policy_result r;
	struct created *c;
	unsigned char bind[32];

	if (!b || !acc) {
		api_error(req, 400, "bad_request",
			  "the body must be a JSON object");
		goto out;
	}
	if (json_object_object_get_ex(b, "connection", &v) &&
	    json_object_is_type(v, json_type_string))
		conn = json_object_get_string(v);
	if (json_object_object_get_ex(b, "purpose", &v) &&
	    json_object_is_type(v, json_type_string))
		purpose = json_object_get_string(v);
	if (json_object_object_get_ex(b, "review", &v))
		review = json_object_get_string(v);
	ttl = acc->grant_default_ttl;
	if (!conn || !*conn) {
		api_error(req, 400, "connection_required",
			  "\"connection\" is required");
		goto out;
	}
	if (!purpose || !*purpose || strlen(purpose) > MAX_PURPOSE) {
		api_error(req, 400, "purpose_required",
			  "\"purpose\" is required: say why, in up to %d "
			  "bytes",
			  MAX_PURPOSE);
		goto out;
	}
	if (json_object_object_get_ex(b, "ttl", &v) && parse_ttl(v, &ttl) < 0) {
		api_error(req, 400, "bad_ttl",
			  "\"ttl\": a duration such as \"15m\" or seconds");
		goto out;
	}
	if (json_object_object_get_ex(b, "max_sessions", &v) &&
	    (!json_object_is_type(v, json_type_int) ||
	     (max_sessions = json_object_get_int64(v)) < 1)) {
		api_error(req, 400, "bad_max_sessions",
			  "\"max_sessions\": a positive number");
		goto out;
	}
	proto = conn_protocol(acc, conn);
	if (!proto) {
		api_error(req, 404, "unknown_connection", "no connection %s",
			  conn);
		goto out;
	}
	policy_decide(acc->policy, me, conn, &act, &r);
	if (r.d.effect == JG_EFFECT_DENY) {
		log_msg(JG_LOG_INFO, "JG4404", NULL, NULL,
			"grant refused: subject=%s connection=%s rule=%s",
			me->subject, conn, r.d.rule);
		api_error(req, 403, "policy_denied", "%s (rule %s)",
			  r.d.reason, r.d.rule);
		goto out;
	}
	/* Policy and the gateway both bound the duration. */
	bound = r.max_ttl_ms && r.max_ttl_ms < acc->grant_max_ttl
			? r.max_ttl_ms
			: acc->grant_max_ttl;
	if (ttl > bound)
		ttl = bound;
	if (r.max_sessions && (!max_sessions || max_sessions > r.max_sessions))
		max_sessions = r.max_sessions;
	review_hash_grant(conn, purpose, ttl, max_sessions, bind);
	if (r.d.effect == JG_EFFECT_REVIEW && !review) {
		struct review_request rq = {.kind = REVIEW_GRANT,
					    .requester = me,
					    .connection = conn,
					    .rule = r.d.rule,
					    .summary = purpose,
					    .bind = bind,
					    .approval = r.approval};
		struct asked *q = calloc(1, sizeof(*q));
		int rc;

		rq.detail = grant_detail(conn, purpose, ttl, max_sessions);
		if (!q) {
			json_object_put(rq.detail);
			api_error(req, 500, "internal", "out of memory");
			goto out;
		}
		q->req = req;
		/* Answered once the review is stored (any gateway sharing
		 * the store can then approve it). */
		rc = review_create_async(main_loop(), &rq, q->id, asked, q);
		if (rc == JG_ERROR) {
			free(q);
			api_error(req, 500, "internal",
				  "cannot create the review");
		}
		goto out;
	}
	c = calloc(1, sizeof(*c));
	if (!c || !(c->owner = identity_dup(me))) {
		free(c);
		api_error(req, 500, "internal", "out of memory");
		goto out;
	}
	c->req = req;
	c->ttl = ttl;
	c->max_sessions = max_sessions;
	snprintf(c->protocol, sizeof(c->protocol), "%s", proto);
	snprintf(c->conn, sizeof(c->conn), "%s", conn);
	snprintf(c->rule, sizeof(c->rule), "%s", r.d.rule);
	c->purpose = strdup(purpose);
	if (!c->purpose) {
		creation_free(c);
		api_error(req, 500, "internal", "out of memory");
		goto out;
	}
	if (r.d.effect == JG_EFFECT_REVIEW) {
		/* The approval is used once, on the stored review. */
		snprintf(c->review, sizeof(c->review), "%s", review);
		review_consume_async(main_loop(), review, me->subject, bind,
				     approval_used, c);
		goto out;
	}
	issue(c);
out:
	json_object_put(b);
}

/* ---- list, show, revoke ---------------------------------------------- */

void api_grants_route(struct admin_request *req, void *ud)
{
	struct jg_identity *me = api_caller(req);
	char id[64], verb[16], owner[256];

	(void)ud;
	if (!me)
		return;
	if (api_split(req->path, "/v1/grants", id, sizeof(id), verb,
		      sizeof(verb)) < 0 ||
	    verb[0]) {
		api_error(req, 404, "not_found", "no such path");
	} else if (!id[0] && strcmp(req->method, "POST") == 0) {
		create(req, me);
	} else if (!id[0] && strcmp(req->method, "GET") == 0) {
		api_reply(req, 200, "grants",
			  grants_list_json(api_is_admin(me) ? NULL
							    : me->subject));
	} else if (!id[0]) {
		api_error(req, 405, "method_not_allowed",
			  "%s %s is not an operation", req->method, req->path);
	} else if (grant_owner(id, owner, sizeof(owner)) < 0) {
		api_error(req, 404, GRANT_E_UNKNOWN, "no grant %s", id);
	} else if (strcmp(owner, me->subject) != 0 && !api_is_admin(me)) {
		api_error(req, 403, "forbidden",
			  "grant %s belongs to someone else", id);
	} else if (strcmp(req->method, "GET") == 0) {
		api_reply(req, 200, "grant", grant_json(id));
	} else if (strcmp(req->method, "DELETE") == 0) {
		if (grants_revoke(id, me->subject) == JG_ERROR) {
			api_error(req, 409, GRANT_E_REVOKED,
				  "grant %s is already revoked", id);
		} else {
			log_msg(JG_LOG_INFO, "JG4406", NULL, NULL,
				"grant %s revoked by %s", id, me->subject);
			gstep(id, me->subject, 1, NULL);
			/* Answers once its sessions are told to end. */
			api_sessions_end_grant(id, req);
		}
	} else {
		api_error(req, 405, "method_not_allowed",
			  "%s %s is not an operation", req->method, req->path);
	}
	identity_free(me);
}
