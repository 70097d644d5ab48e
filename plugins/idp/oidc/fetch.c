/*
 * libcurl multi on the host loop.  curl tells us which sockets to watch
 * (socket callback) and when to wake it (timer callback); we translate to
 * io_add/io_set/io_del and timer_add/timer_del and hand readiness back
 * with curl_multi_socket_action().
 *
 * Timers are always created repeating and deleted by us, even one-shot
 * ones: that way their memory is ours to free whatever the host does with
 * expired one-shot timers.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "fetch.h"

#define TIMER_REPEAT_MS 3600000

struct fetch_req {
	struct fetcher *f;
	CURL *easy;
	char *buf;
	size_t len, max;
	int too_big;
	fetch_done_cb cb;
	void *ud;
	char errbuf[CURL_ERROR_SIZE];
	struct fetch_req *next;
};

struct fetch_sock {
	struct fetcher *f;
	curl_socket_t fd;
	struct jg_io *io;
	struct fetch_sock *next, **pprev;
};

struct fetcher {
	const struct jg_host *host;
	struct jg_loop *loop;
	CURLM *multi;
	struct jg_timer *timer;
	char *ca_file;
	long timeout_ms;
	int closing;
	struct fetch_req *reqs;
	struct fetch_sock *socks;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init_once(void)
{
	curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void sock_free(struct fetch_sock *fs)
{
	if (fs->io)
		fs->f->host->io_del(fs->io);
	*fs->pprev = fs->next;
	if (fs->next)
		fs->next->pprev = fs->pprev;
	free(fs);
}

static void req_free(struct fetch_req *r)
{
	struct fetcher *f = r->f;

	for (struct fetch_req **p = &f->reqs; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	curl_multi_remove_handle(f->multi, r->easy);
	curl_easy_cleanup(r->easy);
	free(r->buf);
	free(r);
}

/* Hand finished transfers to their callbacks. */
static void collect_done(struct fetcher *f)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(f->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct fetch_req *r = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &r);
		CURLcode res = m->data.result;
		long code = 0;
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
		if (r->too_big)
			r->cb(r->ud, JG_ERROR, code, NULL, 0,
			      "response body is too large");
		else if (res != CURLE_OK)
			r->cb(r->ud, JG_ERROR, code, NULL, 0,
			      r->errbuf[0] ? r->errbuf
					   : curl_easy_strerror(res));
		else
			r->cb(r->ud, JG_OK, code, r->buf ? r->buf : "", r->len,
			      NULL);
		req_free(r);
	}
}

static void on_io(void *ud, int fd, int events)
{
	struct fetch_sock *fs = ud;
	struct fetcher *f = fs->f;
	int flags = 0, running;

	if (events & JG_IO_READ)
		flags |= CURL_CSELECT_IN;
	if (events & JG_IO_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(f->multi, fd, flags, &running);
	collect_done(f);
}

static void on_timeout(void *ud)
{
	struct fetcher *f = ud;
	int running;

	f->host->timer_del(f->timer);
	f->timer = NULL;
	curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	collect_done(f);
}

static int socket_cb(CURL *e, curl_socket_t s, int what, void *userp,
		     void *socketp)
{
	struct fetcher *f = userp;
	struct fetch_sock *fs = socketp;

	if (what == CURL_POLL_REMOVE) {
		if (fs) {
			curl_multi_assign(f->multi, s, NULL);
			sock_free(fs);
		}
		return 0;
	}
	int events = ((what & CURL_POLL_IN) ? JG_IO_READ : 0) |
		     ((what & CURL_POLL_OUT) ? JG_IO_WRITE : 0);
	if (fs) {
		f->host->io_set(fs->io, events);
		return 0;
	}
	if (f->closing)
		return 0;
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -1;
	fs->f = f;
	fs->fd = s;
	fs->io = f->host->io_add(f->loop, s, events, on_io, fs);
	if (!fs->io) {
		free(fs);
		return -1;
	}
	fs->next = f->socks;
	if (fs->next)
		fs->next->pprev = &fs->next;
	fs->pprev = &f->socks;
	f->socks = fs;
	curl_multi_assign(f->multi, s, fs);
	return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct fetcher *f = userp;

	if (f->timer) {
		f->host->timer_del(f->timer);
		f->timer = NULL;
	}
	if (timeout_ms < 0 || f->closing)
		return 0;
	f->timer = f->host->timer_add(f->loop, (uint64_t)timeout_ms,
				      TIMER_REPEAT_MS, on_timeout, f);
	return f->timer ? 0 : -1;
}

static size_t write_cb(char *data, size_t size, size_t n, void *ud)
{
	struct fetch_req *r = ud;
	size_t add = size * n;

	if (add > r->max - r->len) {
		r->too_big = 1;
		return 0; /* makes curl fail the transfer */
	}
	char *nb = realloc(r->buf, r->len + add + 1);
	if (!nb)
		return 0;
	memcpy(nb + r->len, data, add);
	r->buf = nb;
	r->len += add;
	return add;
}

struct fetcher *fetcher_new(const struct jg_host *host, struct jg_loop *loop,
			    const char *ca_file, long timeout_ms)
{
	pthread_once(&curl_once, curl_init_once);
	if (curl_init_rc != CURLE_OK || !loop)
		return NULL;
	struct fetcher *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->host = host;
	f->loop = loop;
	f->timeout_ms = timeout_ms;
	f->multi = curl_multi_init();
	if (!f->multi || (ca_file && !(f->ca_file = strdup(ca_file)))) {
		fetcher_free(f);
		return NULL;
	}
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
	return f;
}

int fetcher_get(struct fetcher *f, const char *url, const char *protocols,
		size_t max_bytes, fetch_done_cb cb, void *ud)
{
	struct fetch_req *r = calloc(1, sizeof(*r));

	if (!r)
		return JG_ERROR;
	r->f = f;
	r->max = max_bytes;
	r->cb = cb;
	r->ud = ud;
	r->easy = curl_easy_init();
	if (!r->easy) {
		free(r);
		return JG_ERROR;
	}
	CURL *e = r->easy;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protocols);
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, f->timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	/* Refreshes are minutes apart: keeping connections buys nothing. */
	curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "jitgate-oidc/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, r);
	if (f->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, f->ca_file);
	r->next = f->reqs;
	f->reqs = r;
	if (curl_multi_add_handle(f->multi, e) != CURLM_OK) {
		req_free(r);
		return JG_ERROR;
	}
	return JG_OK;
}

void fetcher_free(struct fetcher *f)
{
	if (!f)
		return;
	f->closing = 1;
	while (f->reqs)
		req_free(f->reqs);
	if (f->multi)
		curl_multi_cleanup(f->multi);
	while (f->socks)
		sock_free(f->socks);
	if (f->timer)
		f->host->timer_del(f->timer);
	free(f->ca_file);
	free(f);
}
