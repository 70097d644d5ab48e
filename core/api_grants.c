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

static int loaded;

static void on_list(void *ud, int status, const char *doc, uint64_t version,
		    const char *err)
{
	struct json_object *a = doc ? json_tokener_parse(doc) : NULL;
	size_t n = 0;
	char e[200];

	(void)ud;
	(void)version;
	if (status != JG_OK || !json_object_is_type(a, json_type_array)) {
		log_msg(JG_LOG_ERROR, "JG4401", NULL, NULL,
			"cannot read stored grants: %s", err ? err : "bad list");
		loaded = 0; /* try again at the next tick */
		json_object_put(a);
		return;
	}
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *it = json_object_array_get_idx(a, i), *d;

		if (json_object_object_get_ex(it, "doc", &d) &&
		    grants_load_doc(d, e, sizeof(e)) == JG_OK)
			n++;
	}
	log_msg(JG_LOG_INFO, "JG4402", NULL, NULL,
		"loaded %zu stored grants", n);
	json_object_put(a);
}

void api_grants_load(void)
{
	if (loaded || !store_configured())
		return;
	loaded = 1;
	if (store_list(main_loop(), "grants", on_list, NULL) != JG_AGAIN)
		loaded = 0;
}

/* A grant's document changed: write it (best effort after creation). */
static void on_saved(void *ud, int status, const char *doc, uint64_t version,
		     const char *err)
{
	char *id = ud;

	(void)doc;
	(void)version;
	if (status != JG_OK)
		log_msg(JG_LOG_ERROR, "JG4403", NULL, NULL,
			"grant %s: store refused the update: %s", id,
			err ? err : "?");
	free(id);
}

/* Update after the stored version is known (optimistic update). */
static void on_got(void *ud, int status, const char *doc, uint64_t version,
		   const char *err)
{
	char *id = ud;
	struct json_object *d = grant_doc(id);

	(void)doc;
	if (status != JG_OK || !d ||
	    store_put(main_loop(), "grants", id,
		      json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN),
		      version, on_saved, id) != JG_AGAIN)
		on_saved(id, JG_ERROR, NULL, 0, err ? err : "not stored");
	json_object_put(d);
}

static void save(const char *id)
{
	char *copy = strdup(id);

	if (!copy || !store_configured() ||
	    store_get(main_loop(), "grants", id, on_got, copy) != JG_AGAIN)
		free(copy);
}

/* ---- create ------------------------------------------------------------ */

struct created {
	struct admin_request *req;
	char id[GRANT_ID_LEN];
	char cred[GRANT_CRED_LEN];
	char protocol[64];
};

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
	/* The only copy of the credential: gone now. */
	gnutls_memset(c->cred, 0, sizeof(c->cred));
	json_object_put(o);
	free(c);
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
		gnutls_memset(c->cred, 0, sizeof(c->cred));
		api_error(c->req, 503, "store_unavailable",
			  "the grant could not be stored: %s", err ? err : "?");
		free(c);
		return;
	}
	answer_created(c);
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
	struct grant_request gr = {0};
	struct created *c;
	unsigned char bind[32];
	char err[256];
	const char *code = "";

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
		char rid[REVIEW_ID_LEN];

		rq.detail = grant_detail(conn, purpose, ttl, max_sessions);
		if (review_create(&rq, rid, err, sizeof(err)) != JG_OK) {
			json_object_put(rq.detail);
			api_error(req, 500, "internal", "%s", err);
			goto out;
		}
		api_reply(req, 202, "review", review_json(rid));
		goto out;
	}
	if (r.d.effect == JG_EFFECT_REVIEW &&
	    review_consume(review, me->subject, bind, &code, err,
			   sizeof(err)) != JG_OK) {
		api_error(req, 403, code, "%s", err);
		goto out;
	}
	gr.owner = me;
	gr.connection = conn;
	gr.purpose = purpose;
	gr.ttl_ms = ttl;
	gr.max_sessions = max_sessions;
	gr.rule = r.d.rule;
	gr.review_id = r.d.effect == JG_EFFECT_REVIEW ? review : NULL;
	c = calloc(1, sizeof(*c));
	if (!c || grants_create(&gr, c->cred, c->id, NULL, err, sizeof(err)) !=
			  JG_OK) {
		free(c);
		api_error(req, 500, "internal", "%s", c ? err : "out of memory");
		goto out;
	}
	c->req = req;
	snprintf(c->protocol, sizeof(c->protocol), "%s", proto);
	log_msg(JG_LOG_INFO, "JG4405", NULL, NULL,
		"grant %s: subject=%s connection=%s ttl=%llds rule=%s", c->id,
		me->subject, conn, (long long)(ttl / 1000), r.d.rule);
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
			save(id);
			/* Answers once its sessions are told to end. */
			api_sessions_end_grant(id, req);
		}
	} else {
		api_error(req, 405, "method_not_allowed",
			  "%s %s is not an operation", req->method, req->path);
	}
	identity_free(me);
}
