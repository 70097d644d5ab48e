/*
 * The admin HTTP listener: a separate port, off unless "admin" is
 * configured, TLS optional.  Serves /healthz, /readyz and /metrics, and
 * whatever other core files register with admin_route() (the identity
 * engineer's /v1/grants, /v1/reviews, /v1/sessions).
 *
 * Everything here runs on the main loop.  One request per connection
 * (the reply closes it).  Limits: URL 8 KiB, headers 16 KiB, body 1 MiB.
 */
#ifndef JG_ADMIN_H
#define JG_ADMIN_H

#include <stddef.h>

struct rt;
struct admin_conn;

/* What a handler gets.  Strings are NUL-terminated and live until
 * admin_reply() is called for the request. */
struct admin_request {
	const char *method;        /* "GET", "POST", ... */
	const char *path;          /* "/v1/grants/abc" (no query) */
	const char *query;         /* after '?', "" if none */
	const char *authorization; /* the Authorization header or NULL */
	const char *body;          /* NUL-terminated too; may hold NULs */
	size_t body_len;
	const char *peer;          /* "ip:port" */
	struct admin_conn *conn;   /* core-private: NULL once it closed */
};

/*
 * A handler must call admin_reply() exactly once, now or later (on the
 * main loop; from elsewhere, loop_post() to main_loop() first).
 */
typedef void (*admin_handler)(struct admin_request *req, void *ud);

/* Route requests whose path starts with prefix (longest prefix wins;
 * method NULL: any).  Main thread, before or after admin_start(). */
int admin_route(const char *method, const char *prefix, admin_handler h,
		void *ud);
/* Send the reply and free req.  Safe after the client went away. */
void admin_reply(struct admin_request *req, int status, const char *ctype,
		 const char *body, size_t len);

/* Start, or follow a reload (address or TLS changed); no-op when rt has
 * no "admin".  Returns -1 with err if the address cannot be bound. */
int admin_apply(struct rt *rt, char *err, size_t errlen);
void admin_stop(void);

/* ---- the request parser, exposed for the unit tests ---- */

struct admin_parser;
struct admin_parser *admin_parser_new(void);
void admin_parser_free(struct admin_parser *p);
/* Feed bytes: 0 wants more, 1 a whole request, -1 refused (status in
 * admin_parser_status: 400, 413, 414, 431). */
int admin_parser_feed(struct admin_parser *p, const char *data, size_t len);
int admin_parser_status(const struct admin_parser *p);
/* After 1: the request's parts (owned by the parser). */
const char *admin_parser_method(const struct admin_parser *p);
const char *admin_parser_path(const struct admin_parser *p);
const char *admin_parser_query(const struct admin_parser *p);
const char *admin_parser_authorization(const struct admin_parser *p);
const char *admin_parser_body(const struct admin_parser *p, size_t *len);

#endif /* JG_ADMIN_H */
