/*
 * /v1/sessions: list, show, kill; and ending the sessions of a revoked
 * or expired grant.  Sessions belong to worker threads, so each worker
 * walks its own list on its own loop and the last one to finish posts
 * the answer back to the main loop.
 */
#include "config.h" /* autoconf */
#include "admin.h"
#include "auth.h"
#include "grants.h"
#include "log.h"
#include "policy.h"
#include "runtime.h"
#include "session.h"
#include "worker.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api_int.h"

enum job_kind { JOB_LIST, JOB_SHOW, JOB_KILL, JOB_END_GRANT };

struct job {
	enum job_kind kind;
	struct admin_request *req; /* NULL: nobody waits */
	char target[64];           /* session or grant id */
	char subject[256];         /* "" = every session (admin) */
	char reason[256];          /* JOB_END_GRANT: revoked or expired */
	pthread_mutex_t lock;
	struct json_object *found; /* array of session JSON */
	atomic_int pending;
};

static struct json_object *session_json(const struct jg_session *s)
{
	const struct auth_state *st = s->identity;
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(s->id));
	json_object_object_add(o, "peer", json_object_new_string(s->peer));
	json_object_object_add(o, "listener",
			       json_object_new_string(s->listener &&
							      s->listener->name
						      ? s->listener->name
						      : ""));
	json_object_object_add(o, "connection",
			       json_object_new_string(s->conn_name ? s->conn_name
								   : ""));
	json_object_object_add(o, "subject",
			       json_object_new_string(s->subject ? s->subject
								 : ""));
	if (st) {
		json_object_object_add(o, "method",
				       json_object_new_string(
					       st->id->source ? st->id->source
							      : ""));
		if (st->id->grant_id)
			json_object_object_add(
				o, "grant",
				json_object_new_string(st->id->grant_id));
		json_object_object_add(
			o, "started_at",
			json_object_new_int64(st->authenticated_at));
	}
	json_object_object_add(o, "ending", json_object_new_boolean(s->ending));
	return o;
}

static void job_finish(void *ud)
{
	struct job *j = ud;
	size_t n = json_object_array_length(j->found);

	if (j->req) {
		if (j->kind == JOB_LIST)
			api_reply(j->req, 200, "sessions",
				  json_object_get(j->found));
		else if (j->kind == JOB_END_GRANT)
			api_reply(j->req, 200, "grant",
				  grant_json(j->target));
		else if (n == 0)
			api_error(j->req, 404, "session_not_found",
				  "no session %s", j->target);
		else
			api_reply(j->req, 200, "session",
				  json_object_get(
					  json_object_array_get_idx(j->found,
								    0)));
	}
	if (j->kind == JOB_END_GRANT && n)
		log_msg(JG_LOG_INFO, "JG4301", NULL, NULL,
			"grant %s: ended %zu sessions", j->target, n);
	json_object_put(j->found);
	pthread_mutex_destroy(&j->lock);
	free(j);
}

static bool mine(const struct job *j, const struct jg_session *s)
{
	return !j->subject[0] ||
	       (s->subject && strcmp(s->subject, j->subject) == 0);
}

/* On a worker's loop. */
static void job_walk(void *ud)
{
	struct job *j = ud;
	struct worker *w = loop_current() ? loop_current()->worker : NULL;

	for (struct jg_session *s = w ? w->sessions : NULL, *next; s;
	     s = next) {
		const struct auth_state *st = s->identity;
		bool hit;

		next = s->next;
		switch (j->kind) {
		case JOB_LIST:
			hit = mine(j, s);
			break;
		case JOB_SHOW:
		case JOB_KILL:
			hit = strcmp(s->id, j->target) == 0 && mine(j, s);
			break;
		default:
			hit = st && st->id->grant_id &&
			      strcmp(st->id->grant_id, j->target) == 0;
		}
		if (!hit)
			continue;
		pthread_mutex_lock(&j->lock);
		json_object_array_add(j->found, session_json(s));
		pthread_mutex_unlock(&j->lock);
		if (j->kind == JOB_KILL)
			session_end(s, "killed by the admin API");
		else if (j->kind == JOB_END_GRANT && !s->ending)
			session_end(s, j->reason);
	}
	if (atomic_fetch_sub(&j->pending, 1) == 1)
		loop_post(main_loop(), job_finish, j);
}

static void job_run(enum job_kind kind, struct admin_request *req,
		    const char *target, const char *subject)
{
	struct job *j = calloc(1, sizeof(*j));
	int n = workers_count();

	if (!j) {
		if (req)
			api_error(req, 500, "internal", "out of memory");
		return;
	}
	j->kind = kind;
	j->req = req;
	snprintf(j->target, sizeof(j->target), "%s", target ? target : "");
	snprintf(j->subject, sizeof(j->subject), "%s", subject ? subject : "");
	if (kind == JOB_END_GRANT)
		grant_end_reason(j->target, j->reason, sizeof(j->reason));
	pthread_mutex_init(&j->lock, NULL);
	j->found = json_object_new_array();
	if (n <= 0) {
		job_finish(j);
		return;
	}
	atomic_init(&j->pending, n);
	for (int i = 0; i < n; i++)
		if (loop_post(&worker_at(i)->loop, job_walk, j) != 0 &&
		    atomic_fetch_sub(&j->pending, 1) == 1)
			job_finish(j);
}

void api_sessions_end_grant(const char *grant_id, struct admin_request *req)
{
	job_run(JOB_END_GRANT, req, grant_id, NULL);
}

void api_sessions_route(struct admin_request *req, void *ud)
{
	struct jg_identity *me = api_caller(req);
	char id[64], verb[16];
	const char *who;

	(void)ud;
	if (!me)
		return;
	/* Admins see every session; anyone else only their own. */
	who = api_is_admin(me) ? NULL : me->subject;
	if (api_split(req->path, "/v1/sessions", id, sizeof(id), verb,
		      sizeof(verb)) < 0 ||
	    verb[0])
		api_error(req, 404, "not_found", "no such path");
	else if (!id[0] && strcmp(req->method, "GET") == 0)
		job_run(JOB_LIST, req, NULL, who);
	else if (id[0] && strcmp(req->method, "GET") == 0)
		job_run(JOB_SHOW, req, id, who);
	else if (id[0] && strcmp(req->method, "DELETE") == 0)
		job_run(JOB_KILL, req, id, who);
	else
		api_error(req, 405, "method_not_allowed",
			  "%s %s is not an operation", req->method, req->path);
	identity_free(me);
}
