/*
 * Listening sockets (see listener.h).
 */
#include "config.h"
#include "listener.h"
#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "runtime.h"
#include "session.h"
#include "worker.h"

#include <errno.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ACCEPT_BATCH 32

/* A worker's socket for one listener address. */
struct lsock {
	struct lsock *next;
	ev_io io;
	struct worker *w;
	char key[300];
	const struct rt_listener *spec;
};

/* Main thread's view: which addresses are open, with one fd per worker. */
struct laddr {
	struct laddr *next;
	char key[300];
	int *fds;
};
static struct laddr *laddrs;
static atomic_int draining;

int listen_socket(const char *host, const char *port, int reuseport,
		  char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res, *a;
	int fd = -1, rc, one = 1;

	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "cannot resolve %s:%s: %s", host, port,
			 gai_strerror(rc));
		return -1;
	}
	for (a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family,
			    a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			    a->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (reuseport)
			setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
				   sizeof(one));
		if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 &&
		    listen(fd, 1024) == 0)
			break;
		snprintf(err, errlen, "cannot listen on %s:%s: %s", host, port,
			 strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0 && a == NULL && err[0] == '\0')
		snprintf(err, errlen, "cannot listen on %s:%s", host, port);
	return fd;
}

static void accept_cb(struct ev_loop *ev, ev_io *io, int revents)
{
	struct lsock *ls = io->data;
	struct worker *w = ls->w;

	for (int i = 0; i < ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		int fd = accept4(io->fd, (struct sockaddr *)&ss, &sl,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				log_msg(JG_LOG_ERROR, "JG0107", NULL, NULL,
					"accept: %s", strerror(errno));
			return;
		}
		int64_t max = w->rt->set->max_connections;
		if (w->draining || ls->spec == NULL ||
		    (max > 0 && metrics_get(M_CONNECTIONS_ACTIVE) >= max)) {
			metrics_inc(M_CONNECTIONS_REFUSED, 1);
			log_msg(JG_LOG_WARN, "JG0106",
				ls->spec ? ls->spec->plugin->name : NULL, NULL,
				"connection refused on %s: %s", ls->key,
				w->draining ? "shutting down"
					    : "max_connections reached");
			close(fd);
			continue;
		}
		session_start(w, ls->spec, fd, (struct sockaddr *)&ss, sl);
	}
}

static void lsock_close(struct lsock *ls)
{
	ev_io_stop(ls->w->loop.ev, &ls->io);
	close(ls->io.fd);
	free(ls);
}

static const struct rt_listener *find_spec(const struct rt *rt,
					   const char *key)
{
	for (size_t i = 0; i < rt->nlisteners; i++)
		if (strcmp(rt->listeners[i].listen, key) == 0)
			return &rt->listeners[i];
	return NULL;
}

/* What a worker gets on start and reload. */
struct swap {
	struct worker *w;
	struct rt *rt;   /* referenced for the worker */
	size_t n;
	struct {
		char key[300];
		int fd;
	} add[];
};

static void worker_swap(void *ud)
{
	struct swap *sw = ud;
	struct worker *w = sw->w;
	struct lsock **pp = &w->socks;

	/* Keep sockets whose address is still listed, close the others. */
	while (*pp) {
		struct lsock *ls = *pp;
		ls->spec = find_spec(sw->rt, ls->key);
		if (ls->spec) {
			pp = &ls->next;
		} else {
			*pp = ls->next;
			lsock_close(ls);
		}
	}
	for (size_t i = 0; i < sw->n; i++) {
		struct lsock *ls = calloc(1, sizeof(*ls));
		if (ls == NULL) {
			close(sw->add[i].fd);
			continue;
		}
		ls->w = w;
		memcpy(ls->key, sw->add[i].key, sizeof(ls->key));
		ls->spec = find_spec(sw->rt, ls->key);
		ev_io_init(&ls->io, accept_cb, sw->add[i].fd, EV_READ);
		ls->io.data = ls;
		ev_io_start(w->loop.ev, &ls->io);
		ls->next = w->socks;
		w->socks = ls;
	}
	if (w->rt)
		rt_unref(w->rt);
	w->rt = sw->rt;
	free(sw);
}

static struct laddr *laddr_find(const char *key)
{
	for (struct laddr *a = laddrs; a; a = a->next)
		if (strcmp(a->key, key) == 0)
			return a;
	return NULL;
}

static void laddr_free(struct laddr *a, int close_fds)
{
	if (close_fds)
		for (int i = 0; i < workers_count(); i++)
			if (a->fds[i] >= 0)
				close(a->fds[i]);
	free(a->fds);
	free(a);
}

int listeners_apply(struct rt *rt, char *err, size_t errlen)
{
	int nw = workers_count();
	struct laddr *fresh = NULL;
	size_t nfresh = 0;

	if (atomic_load(&draining))
		return 0;
	/* Bind the new addresses first: a failure changes nothing. */
	for (size_t i = 0; i < rt->nlisteners; i++) {
		const struct rt_listener *l = &rt->listeners[i];
		struct laddr *a;

		if (laddr_find(l->listen))
			continue;
		for (a = fresh; a; a = a->next)
			if (strcmp(a->key, l->listen) == 0)
				break;
		if (a)
			continue;
		a = calloc(1, sizeof(*a));
		if (a == NULL || (a->fds = malloc(sizeof(int) * nw)) == NULL) {
			free(a);
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		snprintf(a->key, sizeof(a->key), "%s", l->listen);
		for (int k = 0; k < nw; k++)
			a->fds[k] = -1;
		a->next = fresh;
		fresh = a;
		nfresh++;
		for (int k = 0; k < nw; k++) {
			err[0] = '\0';
			a->fds[k] = listen_socket(l->host, l->port, 1, err,
						  errlen);
			if (a->fds[k] < 0) {
				char why[256];
				snprintf(why, sizeof(why), "%s", err);
				snprintf(err, errlen, "listeners: %s: %s",
					 l->name, why);
				goto fail;
			}
		}
	}
	/* Forget addresses no longer listed: their workers close them. */
	for (struct laddr **pp = &laddrs; *pp;) {
		struct laddr *a = *pp;
		if (find_spec(rt, a->key) == NULL) {
			*pp = a->next;
			laddr_free(a, 0);
		} else {
			pp = &a->next;
		}
	}
	for (int k = 0; k < nw; k++) {
		struct swap *sw = calloc(1, sizeof(*sw) +
						    nfresh * sizeof(sw->add[0]));
		if (sw == NULL)
			abort(); /* cannot leave workers half-switched */
		sw->w = worker_at(k);
		sw->rt = rt;
		rt_ref(rt);
		for (struct laddr *a = fresh; a; a = a->next) {
			memcpy(sw->add[sw->n].key, a->key, sizeof(a->key));
			sw->add[sw->n++].fd = a->fds[k];
		}
		loop_post(&sw->w->loop, worker_swap, sw);
	}
	while (fresh) {
		struct laddr *a = fresh;
		fresh = a->next;
		a->next = laddrs;
		laddrs = a;
	}
	for (size_t i = 0; i < rt->nlisteners; i++)
		log_msg(JG_LOG_INFO, "JG0020", rt->listeners[i].plugin->name,
			NULL, "listening on %s (listener %s%s)",
			rt->listeners[i].listen, rt->listeners[i].name,
			rt->listeners[i].tls ? ", TLS" : "");
	return 0;
fail:
	while (fresh) {
		struct laddr *a = fresh;
		fresh = a->next;
		laddr_free(a, 1);
	}
	return -1;
}

static void worker_drain(void *ud)
{
	struct worker *w = ud;

	w->draining = 1;
	while (w->socks) {
		struct lsock *ls = w->socks;
		w->socks = ls->next;
		lsock_close(ls);
	}
}

void listeners_drain(void)
{
	atomic_store(&draining, 1);
	for (int k = 0; k < workers_count(); k++)
		loop_post(&worker_at(k)->loop, worker_drain, worker_at(k));
	while (laddrs) {
		struct laddr *a = laddrs;
		laddrs = a->next;
		laddr_free(a, 0);
	}
}

int listeners_ready(void)
{
	return laddrs != NULL && !atomic_load(&draining);
}
