/*
 * The /v1 admin API: grants, reviews and sessions, JSON in and out, on
 * h1's admin listener (core/admin.h; HTTP parsed by http-parser there).
 *
 * Every request carries "Authorization: Bearer <OIDC token>", verified by
 * the configured idp instances.  Approvers and admins are identities in
 * admin.approver_groups / admin.admin_groups.  Errors are
 * {"error": {"code": "...", "message": "..."}} with a stable code.
 *
 * Main loop only.  Session operations walk each worker's sessions on that
 * worker's own loop (loop_post) and answer when all have replied.
 */
#include "config.h" /* autoconf */
#include "admin.h"
#include "auth.h"
#include "conf.h"
#include "grants.h"
#include "log.h"
#include "policy.h"
#include "review.h"
#include "session.h"
#include "store.h"
#include "worker.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/gnutls.h>
#include <json-c/json.h>

#include "api_int.h"

void review_hold_start(void); /* core/review_hold.c */

static void reply_json(struct admin_request *req, int status,
		       struct json_object *o)
{
	const char *t = json_object_to_json_string_ext(
		o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	admin_reply(req, status, "application/json", t, strlen(t));
	json_object_put(o);
}

void api_error(struct admin_request *req, int status, const char *code,
	       const char *fmt, ...)
{
	struct json_object *o = json_object_new_object(),
			   *e = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(e, "code", json_object_new_string(code));
	json_object_object_add(e, "message", json_object_new_string(msg));
	json_object_object_add(o, "error", e);
	reply_json(req, status, o);
}

void api_reply(struct admin_request *req, int status, const char *key,
	       struct json_object *v)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, key, v);
	reply_json(req, status, o);
}

/* The caller, or NULL after a 401 reply. */
struct jg_identity *api_caller(struct admin_request *req)
{
	const struct access *acc = access_current();
	const char *h = req->authorization;
	struct jg_identity *id;
	char err[256];

	api_ensure_ticking();
	if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7]) {
		api_error(req, 401, "unauthenticated",
			  "send Authorization: Bearer <OIDC token>");
		return NULL;
	}
	if (auth_idp_verify(acc, h + 7, strlen(h + 7), &id, err,
			    sizeof(err)) != JG_OK) {
		/* The reason, never the token. */
		log_msg(JG_LOG_WARN, "JG4201", NULL, NULL,
			"admin api: token refused from %s: %s", req->peer, err);
		api_error(req, 401, "unauthenticated", "token refused: %s",
			  err);
		return NULL;
	}
	return id;
}

int api_is_admin(const struct jg_identity *id)
{
	const struct access *a = access_current();

	return a && auth_in_groups(id, a->admin_groups);
}

int api_is_approver(const struct jg_identity *id)
{
	const struct access *a = access_current();

	return a && (auth_in_groups(id, a->approver_groups) ||
		     auth_in_groups(id, a->admin_groups));
}

/* "/v1/reviews/ID/approve" -> parts after the prefix. */
int api_split(const char *path, const char *prefix, char *id, size_t idlen,
	      char *verb, size_t verblen)
{
	const char *p = path + strlen(prefix), *slash;

	id[0] = verb[0] = '\0';
	if (*p == '/')
		p++;
	if (!*p)
		return 0;
	slash = strchr(p, '/');
	if ((size_t)(slash ? slash - p : (ptrdiff_t)strlen(p)) >= idlen)
		return -1;
	snprintf(id, idlen, "%.*s", (int)(slash ? slash - p : (ptrdiff_t)strlen(p)),
		 p);
	if (slash) {
		if (strlen(slash + 1) >= verblen || strchr(slash + 1, '/'))
			return -1;
		snprintf(verb, verblen, "%s", slash + 1);
	}
	return 0;
}

struct json_object *api_body(struct admin_request *req)
{
	struct json_object *o;

	if (!req->body || req->body_len == 0)
		return json_object_new_object();
	if (strlen(req->body) != req->body_len)
		return NULL;
	o = json_tokener_parse(req->body);
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* ---- reviews ------------------------------------------------------- */

struct decided {
	struct admin_request *req;
	char id[64];
	char who[256];
	int approve;
};

static void decided(void *ud, int rc, int status, const char *code,
		    const char *err)
{
	struct decided *dc = ud;
	struct admin_request *req = dc->req;

	(void)status;
	if (rc != JG_OK) {
		code = code ? code : "internal";
		api_error(req,
			  !strcmp(code, REVIEW_E_NOTFOUND) ? 404
			  : !strcmp(code, REVIEW_E_DECIDED) ||
				  !strcmp(code, REVIEW_E_WITHDRAWN) ||
				  !strcmp(code, "reason_required")
				  ? 409
			  : !strcmp(code, "store_unavailable") ? 503
			  : !strcmp(code, "internal")          ? 500
							       : 403,
			  code, "%s", err ? err : code);
	} else {
		log_msg(JG_LOG_INFO, "JG4202", NULL, NULL,
			"review %s %s by %s", dc->id,
			dc->approve ? "approval" : "denial", dc->who);
		api_reply(req, 200, "review", review_json(dc->id));
	}
	free(dc);
}

static void reviews_route(struct admin_request *req, void *ud)
{
	struct jg_identity *me = api_caller(req);
	char id[64], verb[16];
	struct json_object *j;

	(void)ud;
	if (!me)
		return;
	if (api_split(req->path, "/v1/reviews", id, sizeof(id), verb,
		      sizeof(verb)) < 0) {
		api_error(req, 404, "not_found", "no such path");
	} else if (!id[0] && strcmp(req->method, "GET") == 0) {
		int all = strstr(req->query, "status=all") != NULL;

		api_reply(req, 200, "reviews",
			  reviews_list_json(all, api_is_approver(me)
							 ? NULL
							 : me->subject));
	} else if (id[0] && !verb[0] && strcmp(req->method, "GET") == 0) {
		struct json_object *rq;

		j = review_json(id);
		if (!j) {
			api_error(req, 404, REVIEW_E_NOTFOUND, "no review %s",
				  id);
		} else if (!api_is_approver(me) &&
			   (!json_object_object_get_ex(j, "requester", &rq) ||
			    strcmp(json_object_get_string(rq), me->subject))) {
			json_object_put(j);
			api_error(req, 403, "forbidden",
				  "only approvers and the requester see a "
				  "review");
		} else {
			api_reply(req, 200, "review", j);
		}
	} else if (id[0] && strcmp(req->method, "POST") == 0 &&
		   (!strcmp(verb, "approve") || !strcmp(verb, "deny"))) {
		struct json_object *b = api_body(req), *r = NULL;
		struct decided *dc = calloc(1, sizeof(*dc));
		int approve = strcmp(verb, "approve") == 0;

		if (b)
			json_object_object_get_ex(b, "reason", &r);
		if (!b || !dc) {
			free(dc);
			api_error(req, 400, "bad_request",
				  "the body must be a JSON object");
		} else {
			dc->req = req;
			dc->approve = approve;
			snprintf(dc->id, sizeof(dc->id), "%s", id);
			snprintf(dc->who, sizeof(dc->who), "%s", me->subject);
			/* With a store, the step is made on the stored review
			 * (any gateway may have it) and answered later. */
			review_decide_async(main_loop(), id, me,
					    api_is_approver(me), approve,
					    r ? json_object_get_string(r) : NULL,
					    decided, dc);
		}
		json_object_put(b);
	} else {
		api_error(req, 405, "method_not_allowed",
			  "%s %s is not an operation", req->method, req->path);
	}
	identity_free(me);
}

/* ---- background: expiry of reviews and grants, loading grants -------- */

static void end_grant_sessions(void *ud, const char *id)
{
	(void)ud;
	api_sessions_end_grant(id, NULL);
}

static void tick(void *ud)
{
	const struct access *a = access_current();

	(void)ud;
	api_grants_load();
	review_expire_tick();
	grants_sweep(a ? a->grant_grace : 30000, end_grant_sessions, NULL);
}

static atomic_int ticking;

static void start_ticking(void *ud)
{
	(void)ud;
	loop_timer_add(main_loop(), 1000, 1000, tick, NULL);
}

/*
 * The sweep timer lives on the main loop, which rt_load runs before; the
 * first request or authentication starts it (any thread: loop_post).
 */
void api_ensure_ticking(void)
{
	if (main_loop()->ev && atomic_exchange(&ticking, 1) == 0)
		loop_post(main_loop(), start_ticking, NULL);
}

void api_start(void)
{
	review_hold_start();
	admin_route(NULL, "/v1/grants", api_grants_route, NULL);
	admin_route(NULL, "/v1/reviews", reviews_route, NULL);
	admin_route(NULL, "/v1/sessions", api_sessions_route, NULL);
}
