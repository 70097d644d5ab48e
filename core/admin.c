/*
 * The admin HTTP listener (see admin.h).
 */
#include "config.h"
#include "admin.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "runtime.h"
#include "stream.h"
#include "worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_ROUTES 32
#define MAX_CONNS 64
#define REQUEST_TIMEOUT 10.0

struct route {
	char *method, *prefix;
	admin_handler h;
	void *ud;
};
static struct route routes[MAX_ROUTES];
static size_t nroutes;

struct admin_conn {
	struct jg_stream *st;
	struct admin_parser *p;
	struct admin_request *req; /* handed to a handler, not replied */
	char peer[64];
	ev_timer timer;
	struct admin_conn *prev, *next;
};

static struct {
	int fd;
	ev_io io;
	struct rt *rt; /* for the TLS credentials */
	char host[256], port[16];
	int tls;
	struct admin_conn *conns;
	size_t nconns;
	int routes_done;
} adm = {.fd = -1};

int admin_route(const char *method, const char *prefix, admin_handler h,
		void *ud)
{
	if (nroutes == MAX_ROUTES || prefix == NULL || h == NULL)
		return -1;
	routes[nroutes].method = method ? strdup(method) : NULL;
	routes[nroutes].prefix = strdup(prefix);
	routes[nroutes].h = h;
	routes[nroutes].ud = ud;
	nroutes++;
	return 0;
}

static const struct route *route_find(const char *method, const char *path,
				      int *method_mismatch)
{
	const struct route *best = NULL;
	size_t best_len = 0;

	*method_mismatch = 0;
	for (size_t i = 0; i < nroutes; i++) {
		size_t n = strlen(routes[i].prefix);
		if (strncmp(path, routes[i].prefix, n) != 0 || n < best_len)
			continue;
		if (routes[i].method && strcmp(routes[i].method, method)) {
			*method_mismatch = 1;
			continue;
		}
		best = &routes[i];
		best_len = n;
	}
	return best;
}

static const char *status_text(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 414: return "URI Too Long";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 503: return "Service Unavailable";
	default: return status >= 500 ? "Internal Server Error" : "Error";
	}
}

static void conn_free(struct admin_conn *c)
{
	ev_timer_stop(main_loop()->ev, &c->timer);
	if (c->req)
		c->req->conn = NULL; /* the handler still owns it */
	admin_parser_free(c->p);
	if (c->prev)
		c->prev->next = c->next;
	else
		adm.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	adm.nconns--;
	free(c);
}

static void conn_send(struct admin_conn *c, int status, const char *ctype,
		      const char *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n"
			 "Cache-Control: no-store\r\n\r\n",
			 status, status_text(status),
			 ctype ? ctype : "text/plain; charset=utf-8", len);

	stream_write(c->st, head, (size_t)n);
	if (len)
		stream_write(c->st, body, len);
	/* Write it all, then close; the stream frees itself. */
	stream_linger(c->st, 10000);
	c->st = NULL;
	conn_free(c);
}

void admin_reply(struct admin_request *req, int status, const char *ctype,
		 const char *body, size_t len)
{
	struct admin_conn *c = req->conn;

	if (c) {
		c->req = NULL;
		conn_send(c, status, ctype, body, len);
	}
	free(req);
}

static void reply_text(struct admin_conn *c, int status, const char *text)
{
	conn_send(c, status, NULL, text, strlen(text));
}

static void dispatch(struct admin_conn *c)
{
	struct admin_parser *p = c->p;
	const char *method = admin_parser_method(p);
	const char *path = admin_parser_path(p);
	int mismatch;
	const struct route *r = route_find(method, path, &mismatch);
	struct admin_request *req;

	if (r == NULL) {
		reply_text(c, mismatch ? 405 : 404,
			   mismatch ? "method not allowed\n" : "not found\n");
		return;
	}
	req = calloc(1, sizeof(*req));
	if (req == NULL) {
		reply_text(c, 500, "out of memory\n");
		return;
	}
	req->method = method;
	req->path = path;
	req->query = admin_parser_query(p);
	req->authorization = admin_parser_authorization(p);
	req->body = admin_parser_body(p, &req->body_len);
	req->peer = c->peer;
	req->conn = c;
	c->req = req;
	stream_read_enable(c->st, 0);
	ev_timer_stop(main_loop()->ev, &c->timer);
	r->h(req, r->ud);
}

static void conn_readable(struct jg_stream *st, void *ud)
{
	struct admin_conn *c = ud;
	const uint8_t *data;
	size_t n = stream_peek(st, &data);
	int rc;

	if (c->req)
		return; /* already answering; ignore what follows */
	rc = admin_parser_feed(c->p, (const char *)data, n);
	stream_consume(st, n);
	if (rc < 0) {
		int status = admin_parser_status(c->p);
		reply_text(c, status, status == 413   ? "body too large\n"
				  : status == 414 ? "url too long\n"
				  : status == 431 ? "headers too large\n"
						  : "bad request\n");
	} else if (rc > 0) {
		dispatch(c);
	}
}

static void conn_closed(struct jg_stream *st, int status, const char *reason,
			void *ud)
{
	struct admin_conn *c = ud;

	if (c->req && status == JG_OK)
		return; /* half close after the request: still answer */
	stream_close(st);
	c->st = NULL;
	conn_free(c);
}

static void conn_tls(struct jg_stream *st, int status, const char *err,
		     void *ud)
{
	struct admin_conn *c = ud;

	if (status != JG_OK) {
		log_msg(JG_LOG_WARN, "JG0202", NULL, NULL,
			"admin TLS handshake from %s failed: %s", c->peer,
			err ? err : "?");
		stream_close(st);
		c->st = NULL;
		conn_free(c);
	}
}

static const struct jg_stream_events conn_events = {
	.on_readable = conn_readable,
	.on_closed = conn_closed,
	.on_connected = conn_tls,
};

static void conn_timeout(struct ev_loop *ev, ev_timer *t, int revents)
{
	struct admin_conn *c = t->data;

	reply_text(c, 408, "request timeout\n");
}

static void admin_accept(struct ev_loop *ev, ev_io *io, int revents)
{
	for (int i = 0; i < 16; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		char ip[INET6_ADDRSTRLEN] = "?";
		int fd = accept4(io->fd, (struct sockaddr *)&ss, &sl,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct admin_conn *c;

		if (fd < 0)
			return;
		if (adm.nconns >= MAX_CONNS ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			close(fd);
			continue;
		}
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET,
				  &((struct sockaddr_in *)&ss)->sin_addr, ip,
				  sizeof(ip));
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6,
				  &((struct sockaddr_in6 *)&ss)->sin6_addr, ip,
				  sizeof(ip));
		snprintf(c->peer, sizeof(c->peer), "%s", ip);
		c->p = admin_parser_new();
		c->st = stream_new_fd(main_loop(), fd, NULL, 64 * 1024);
		if (c->p == NULL || c->st == NULL) {
			if (c->st)
				stream_close(c->st);
			else
				close(fd);
			admin_parser_free(c->p);
			free(c);
			continue;
		}
		c->next = adm.conns;
		if (adm.conns)
			adm.conns->prev = c;
		adm.conns = c;
		adm.nconns++;
		stream_set_events(c->st, &conn_events, c);
		if (adm.rt && adm.rt->admin_tls) {
			rt_ref(adm.rt);
			c->st->on_free = rt_release;
			c->st->on_free_ud = adm.rt;
			stream_tls_accept(c->st, adm.rt->admin_tls);
		}
		ev_timer_init(&c->timer, conn_timeout, REQUEST_TIMEOUT, 0.);
		c->timer.data = c;
		ev_timer_start(main_loop()->ev, &c->timer);
	}
}

/* ---- built-in routes ---- */

static void healthz(struct admin_request *req, void *ud)
{
	admin_reply(req, 200, NULL, "ok\n", 3);
}

static void readyz(struct admin_request *req, void *ud)
{
	if (listeners_ready())
		admin_reply(req, 200, NULL, "ready\n", 6);
	else
		admin_reply(req, 503, NULL, "not ready\n", 10);
}

static void metrics(struct admin_request *req, void *ud)
{
	size_t len = 0;
	char *text = metrics_render(&len);

	if (text == NULL) {
		admin_reply(req, 500, NULL, "out of memory\n", 14);
		return;
	}
	admin_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8",
		    text, len);
	free(text);
}

int admin_apply(struct rt *rt, char *err, size_t errlen)
{
	if (!adm.routes_done) {
		admin_route("GET", "/healthz", healthz, NULL);
		admin_route("GET", "/readyz", readyz, NULL);
		admin_route("GET", "/metrics", metrics, NULL);
		adm.routes_done = 1;
	}
	if (!rt->admin_on) {
		admin_stop();
		return 0;
	}
	if (adm.fd < 0 || strcmp(adm.host, rt->admin_host) != 0 ||
	    strcmp(adm.port, rt->admin_port) != 0) {
		int fd;
		err[0] = '\0';
		fd = listen_socket(rt->admin_host, rt->admin_port, 0, err,
				   errlen);
		if (fd < 0)
			return -1;
		admin_stop();
		adm.fd = fd;
		snprintf(adm.host, sizeof(adm.host), "%s", rt->admin_host);
		snprintf(adm.port, sizeof(adm.port), "%s", rt->admin_port);
		ev_io_init(&adm.io, admin_accept, fd, EV_READ);
		ev_io_start(main_loop()->ev, &adm.io);
		log_msg(JG_LOG_INFO, "JG0201", NULL, NULL,
			"admin API on %s:%s%s", adm.host, adm.port,
			rt->admin_tls ? " (TLS)" : "");
	}
	rt_ref(rt);
	if (adm.rt)
		rt_unref(adm.rt);
	adm.rt = rt;
	return 0;
}

void admin_stop(void)
{
	if (adm.fd >= 0) {
		ev_io_stop(main_loop()->ev, &adm.io);
		close(adm.fd);
		adm.fd = -1;
	}
	while (adm.conns) {
		struct admin_conn *c = adm.conns;
		if (c->st)
			stream_close(c->st);
		c->st = NULL;
		conn_free(c);
	}
	if (adm.rt)
		rt_unref(adm.rt);
	adm.rt = NULL;
}
