/*
 * curl asks us to watch sockets (CURLMOPT_SOCKETFUNCTION) and to wake it
 * after a delay (CURLMOPT_TIMERFUNCTION); we map both onto the host's
 * io and timer watchers and report readiness back through
 * curl_multi_socket_action().  Finished transfers are collected after
 * each action, outside curl's callbacks, so done() may add or remove
 * handles freely.
 *
 * Shared source: the oidc plugin's fetches (plugins/idp/oidc/fetch.c)
 * and the webhook notifier both compile it in; plugins are separate
 * objects that export nothing but their descriptor, so each carries a
 * private copy of the code, not of the text.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>

#include "curl_loop.h"

/* Timers are armed repeating and always deleted by us: the memory of an
 * expired one-shot timer would otherwise be the host's question. */
#define REARM_MS 3600000

struct watch {
	struct curl_loop *cl;
	struct jg_io *io;
	struct watch *next;
};

struct curl_loop {
	const struct jg_host *h;
	struct jg_loop *loop;
	CURLM *multi;
	struct jg_timer *timer;
	curl_loop_done_cb done;
	struct watch *watches; /* every io we added, to free at the end */
	int closing;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static int global_ok;

static void global_init(void)
{
	global_ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
}

static void watch_free(struct watch *w)
{
	for (struct watch **p = &w->cl->watches; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	w->cl->h->io_del(w->io);
	free(w);
}

static void collect(struct curl_loop *cl)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(cl->multi, &left))) {
		CURL *e = m->easy_handle;
		CURLcode res = m->data.result;
		void *ud = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&ud);
		curl_multi_remove_handle(cl->multi, e);
		cl->done(ud, e, res);
	}
}

static void on_io(void *ud, int fd, int events)
{
	struct watch *w = ud;
	struct curl_loop *cl = w->cl;
	int running;

	curl_multi_socket_action(
	    cl->multi, fd,
	    ((events & JG_IO_READ) ? CURL_CSELECT_IN : 0) |
	        ((events & JG_IO_WRITE) ? CURL_CSELECT_OUT : 0),
	    &running);
	collect(cl);
}

static void on_timer(void *ud)
{
	struct curl_loop *cl = ud;
	int running;

	cl->h->timer_del(cl->timer);
	cl->timer = NULL;
	curl_multi_socket_action(cl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	collect(cl);
}

static int want_socket(CURL *e, curl_socket_t s, int what, void *clp, void *wp)
{
	struct curl_loop *cl = clp;
	struct watch *w = wp;
	int ev = ((what & CURL_POLL_IN) ? JG_IO_READ : 0) |
	         ((what & CURL_POLL_OUT) ? JG_IO_WRITE : 0);

	(void)e;
	if (what == CURL_POLL_REMOVE || cl->closing) {
		if (w) {
			curl_multi_assign(cl->multi, s, NULL);
			watch_free(w);
		}
		return 0;
	}
	if (w) {
		cl->h->io_set(w->io, ev);
		return 0;
	}
	if (!(w = calloc(1, sizeof(*w))))
		return -1;
	w->cl = cl;
	if (!(w->io = cl->h->io_add(cl->loop, s, ev, on_io, w))) {
		free(w);
		return -1;
	}
	w->next = cl->watches;
	cl->watches = w;
	curl_multi_assign(cl->multi, s, w);
	return 0;
}

static int want_timer(CURLM *multi, long ms, void *clp)
{
	struct curl_loop *cl = clp;

	(void)multi;
	if (cl->timer)
		cl->h->timer_del(cl->timer);
	cl->timer = NULL;
	if (ms < 0 || cl->closing)
		return 0;
	cl->timer =
	    cl->h->timer_add(cl->loop, (uint64_t)ms, REARM_MS, on_timer, cl);
	return cl->timer ? 0 : -1;
}

struct curl_loop *curl_loop_new(const struct jg_host *host,
                                struct jg_loop *loop, curl_loop_done_cb done)
{
	struct curl_loop *cl;

	pthread_once(&global_once, global_init);
	if (!global_ok || !loop || !(cl = calloc(1, sizeof(*cl))))
		return NULL;
	cl->h = host;
	cl->loop = loop;
	cl->done = done;
	if (!(cl->multi = curl_multi_init())) {
		free(cl);
		return NULL;
	}
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, want_socket);
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, want_timer);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
	return cl;
}

int curl_loop_add(struct curl_loop *cl, CURL *easy, void *ud)
{
	curl_easy_setopt(easy, CURLOPT_PRIVATE, ud);
	return curl_multi_add_handle(cl->multi, easy) == CURLM_OK ? 0 : -1;
}

void curl_loop_remove(struct curl_loop *cl, CURL *easy)
{
	curl_multi_remove_handle(cl->multi, easy);
}

void curl_loop_free(struct curl_loop *cl)
{
	if (!cl)
		return;
	cl->closing = 1;
	curl_multi_cleanup(cl->multi);
	while (cl->watches)
		watch_free(cl->watches);
	if (cl->timer)
		cl->h->timer_del(cl->timer);
	free(cl);
}
