/*
 * HTTP(S) GETs for discovery and key sets.  The libcurl multi interface
 * is driven on the host loop by plugins/common/curl_loop.c (shared with
 * the webhook notifier); this file only makes the requests, bounds their
 * bodies and reports each result once.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "../../common/curl_loop.h"
#include "fetch.h"

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

struct fetcher {
	struct curl_loop *cl;
	char *ca_file;
	long timeout_ms;
	struct fetch_req *reqs;
};

static void req_free(struct fetch_req *r)
{
	struct fetcher *f = r->f;

	for (struct fetch_req **p = &f->reqs; *p; p = &(*p)->next)
		if (*p == r) {
			*p = r->next;
			break;
		}
	curl_loop_remove(f->cl, r->easy);
	curl_easy_cleanup(r->easy);
	free(r->buf);
	free(r);
}

/* curl_loop: a transfer ended; hand it to its callback, once. */
static void on_done(void *ud, CURL *easy, CURLcode res)
{
	struct fetch_req *r = ud;
	long code = 0;

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
	if (r->too_big)
		r->cb(r->ud, JG_ERROR, code, NULL, 0,
		      "response body is too large");
	else if (res != CURLE_OK)
		r->cb(r->ud, JG_ERROR, code, NULL, 0,
		      r->errbuf[0] ? r->errbuf : curl_easy_strerror(res));
	else
		r->cb(r->ud, JG_OK, code, r->buf ? r->buf : "", r->len, NULL);
	req_free(r);
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
	struct fetcher *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->timeout_ms = timeout_ms;
	f->cl = curl_loop_new(host, loop, on_done);
	if (!f->cl || (ca_file && !(f->ca_file = strdup(ca_file)))) {
		fetcher_free(f);
		return NULL;
	}
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
	if (f->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, f->ca_file);
	r->next = f->reqs;
	f->reqs = r;
	if (curl_loop_add(f->cl, e, r) != 0) {
		req_free(r);
		return JG_ERROR;
	}
	return JG_OK;
}

void fetcher_free(struct fetcher *f)
{
	if (!f)
		return;
	while (f->reqs)
		req_free(f->reqs);
	curl_loop_free(f->cl);
	free(f->ca_file);
	free(f);
}
