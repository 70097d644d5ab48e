/*
 * The webhook notifier plugin: each review event the instance is told
 * about becomes one delivery, a POST to the configured URL, retried with
 * exponential backoff on network errors, 408, 429 and 5xx answers.
 *
 * Everything runs on the main loop: notify() is called there, and the
 * transfers (curl_loop.c) and retry timers live there.  notify() only
 * builds a body and queues it, so a slow or dead receiver never holds up
 * a decision.  The queue is bounded: when it is full the oldest delivery
 * is dropped, with a log line and a metric.
 *
 * The URL is never logged whole (a Slack webhook URL carries its token in
 * the path), nor is the secret, nor a body (it holds statement text):
 * log lines name the event, the review id and scheme://host:port.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <jitgate/jitgate.h>
#include <jitgate/notify.h>

#include "../../common/curl_loop.h"
#include "webhook.h"

#define PLUGIN     "webhook"
#define MIN_SECRET 16
#define MAX_URL    2048

static const char *const event_names[] = {
    "review.created", "review.approved", "review.denied",
    "review.expired", "review.approval", "review.used",
};
#define NEVENTS (sizeof(event_names) / sizeof(event_names[0]))

static const struct jg_option webhook_options[] = {
    {"url", JG_OPT_STRING, NULL, 1, 0,
     "where to POST (http or https); may hold a token, never logged"},
    {"format", JG_OPT_STRING, "json", 0, 0,
     "json (signed event body) or slack ({\"text\": ...} message)"},
    {"secret", JG_OPT_SECRET, NULL, 0, 1,
     "HMAC-SHA256 key (16 bytes or more) for X-Jitgate-Signature"},
    {"timeout", JG_OPT_DURATION, "10s", 0, 0, "time limit of one attempt"},
    {"max_retries", JG_OPT_INT, "5", 0, 0,
     "attempts after the first one failed (0 to 20)"},
    {"backoff", JG_OPT_DURATION, "1s", 0, 0,
     "delay before the first retry; doubled for each one after"},
    {"backoff_max", JG_OPT_DURATION, "5m", 0, 0,
     "longest delay between two attempts"},
    {"queue_size", JG_OPT_INT, "100", 0, 0,
     "deliveries kept (sending or waiting); the oldest is dropped"},
    {"events", JG_OPT_LIST,
     "[\"review.created\", \"review.approved\", \"review.denied\", "
     "\"review.expired\"]",
     0, 0, "events to send (also review.approval, review.used)"},
    {"ca_file", JG_OPT_STRING, NULL, 0, 0,
     "PEM CA bundle for https (default: system store)"},
    {NULL, 0, NULL, 0, 0, NULL},
};

struct delivery {
	struct webhook *w;
	char event[32];
	char review[32]; /* review id, for log lines */
	char id[20];     /* X-Jitgate-Delivery, the same on every attempt */
	char *body;
	size_t len;
	unsigned attempts;
	CURL *easy;                   /* while an attempt is in flight */
	struct curl_slist *headers;   /* its headers */
	struct jg_timer *timer;       /* while waiting to retry */
	struct delivery *prev, *next; /* oldest first */
};

struct webhook {
	const struct jg_host *h;
	char *url;
	char target[300]; /* scheme://host:port, safe to log */
	char *ca_file;
	int slack;
	unsigned char *key;
	size_t keylen;
	unsigned events; /* bit i: event_names[i] */
	int64_t timeout_ms;
	unsigned max_retries;
	uint64_t backoff_ms, backoff_max_ms;
	size_t queue_max, queued;
	struct delivery *oldest, *newest;
	struct curl_loop *cl;
};

/* ---- deliveries ---- */

static void delivery_end(struct delivery *d)
{
	struct webhook *w = d->w;

	if (d->easy) {
		curl_loop_remove(w->cl, d->easy);
		curl_easy_cleanup(d->easy);
	}
	curl_slist_free_all(d->headers);
	if (d->timer)
		w->h->timer_del(d->timer);
	*(d->prev ? &d->prev->next : &w->oldest) = d->next;
	*(d->next ? &d->next->prev : &w->newest) = d->prev;
	w->queued--;
	free(d->body);
	free(d);
}

static int add_header(struct curl_slist **l, const char *name,
                      const char *value)
{
	char line[160];
	struct curl_slist *n;

	/* "Name:" with nothing after it tells curl to send no such header. */
	if (*value)
		snprintf(line, sizeof(line), "%s: %s", name, value);
	else
		snprintf(line, sizeof(line), "%s:", name);
	n = curl_slist_append(*l, line);
	if (!n)
		return -1;
	*l = n;
	return 0;
}

static size_t discard(char *data, size_t size, size_t n, void *ud)
{
	(void)data;
	(void)ud;
	return size * n;
}

/* One attempt.  0, or -1 if it could not even start. */
static int attempt(struct delivery *d)
{
	struct webhook *w = d->w;
	char ts[24], sig[WH_SIG_LEN];
	CURL *e;

	d->attempts++;
	/* Signed anew each time: a receiver checks the timestamp's age. */
	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	if (add_header(&d->headers, "Content-Type", "application/json") < 0 ||
	    add_header(&d->headers, "X-Jitgate-Event", d->event) < 0 ||
	    add_header(&d->headers, "X-Jitgate-Delivery", d->id) < 0 ||
	    add_header(&d->headers, "X-Jitgate-Timestamp", ts) < 0 ||
	    add_header(&d->headers, "Expect", "") < 0)
		return -1;
	if (w->key) {
		if (wh_sign(w->key, w->keylen, ts, d->body, d->len, sig) < 0 ||
		    add_header(&d->headers, "X-Jitgate-Signature", sig) < 0)
			return -1;
	}
	if (!(e = d->easy = curl_easy_init()))
		return -1;
	curl_easy_setopt(e, CURLOPT_URL, w->url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, d->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)d->len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, d->headers);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)w->timeout_ms);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT,
	                 "jitgate-webhook/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	if (w->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, w->ca_file);
	if (curl_loop_add(w->cl, e, d) < 0) {
		curl_easy_cleanup(e);
		d->easy = NULL;
		return -1;
	}
	return 0;
}

static void send_now(void *ud)
{
	struct delivery *d = ud;

	d->w->h->timer_del(d->timer);
	d->timer = NULL;
	if (attempt(d) < 0) {
		d->w->h->log(PLUGIN, NULL, JG_LOG_ERROR, "WH0005",
		             "%s %s to %s: cannot start a request; dropped",
		             d->event, d->review, d->w->target);
		d->w->h->metric_add(PLUGIN, "webhook_failures_total", 1);
		delivery_end(d);
	}
}

static int worth_retrying(CURLcode res, long code)
{
	if (res != CURLE_OK)
		return res != CURLE_UNSUPPORTED_PROTOCOL &&
		       res != CURLE_URL_MALFORMAT;
	return code == 408 || code == 429 || code >= 500;
}

static void on_done(void *ud, CURL *e, CURLcode res)
{
	struct delivery *d = ud;
	struct webhook *w = d->w;
	long code = 0;
	char why[96];

	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(e);
	d->easy = NULL;
	curl_slist_free_all(d->headers);
	d->headers = NULL;
	if (res == CURLE_OK && code >= 200 && code < 300) {
		w->h->log(PLUGIN, NULL, JG_LOG_INFO, "WH0001",
		          "%s %s sent to %s (HTTP %ld, attempt %u)", d->event,
		          d->review, w->target, code, d->attempts);
		w->h->metric_add(PLUGIN, "webhook_deliveries_total", 1);
		delivery_end(d);
		return;
	}
	/* curl's short words, not its error buffer: those can quote URLs. */
	if (res != CURLE_OK)
		snprintf(why, sizeof(why), "%s", curl_easy_strerror(res));
	else
		snprintf(why, sizeof(why), "HTTP %ld", code);
	if (worth_retrying(res, code) && d->attempts <= w->max_retries) {
		uint64_t ms = wh_backoff_ms(d->attempts, w->backoff_ms,
		                            w->backoff_max_ms);

		d->timer = w->h->timer_add(w->h->main_loop(), ms, 3600000,
		                           send_now, d);
		if (d->timer) {
			w->h->log(PLUGIN, NULL, JG_LOG_WARN, "WH0002",
			          "%s %s to %s failed (%s); retry %u of %u "
			          "in %llu ms",
			          d->event, d->review, w->target, why,
			          d->attempts, w->max_retries,
			          (unsigned long long)ms);
			w->h->metric_add(PLUGIN, "webhook_retries_total", 1);
			return;
		}
	}
	w->h->log(PLUGIN, NULL, JG_LOG_ERROR, "WH0003",
	          "%s %s to %s failed (%s) after %u attempt%s; given up",
	          d->event, d->review, w->target, why, d->attempts,
	          d->attempts == 1 ? "" : "s");
	w->h->metric_add(PLUGIN, "webhook_failures_total", 1);
	delivery_end(d);
}

static void webhook_notify(void *inst, const char *event, const char *json)
{
	struct webhook *w = inst;
	struct delivery *d;
	unsigned char rnd[8];
	size_t i;

	if (!event || !json)
		return;
	for (i = 0; i < NEVENTS && strcmp(event, event_names[i]); i++)
		;
	if (i == NEVENTS || !(w->events & (1u << i)))
		return;
	if (!(d = calloc(1, sizeof(*d))))
		return;
	d->w = w;
	snprintf(d->event, sizeof(d->event), "%s", event_names[i]);
	d->body = wh_body(w->slack, d->event, json, &d->len, d->review,
	                  sizeof(d->review));
	if (!d->body || gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) < 0) {
		w->h->log(PLUGIN, NULL, JG_LOG_ERROR, "WH0006",
		          "%s %s: cannot build the body; not sent", d->event,
		          d->review);
		free(d->body);
		free(d);
		return;
	}
	strcpy(d->id, "d-");
	for (i = 0; i < sizeof(rnd); i++)
		sprintf(d->id + 2 + 2 * i, "%02x", rnd[i]);
	if (w->queued >= w->queue_max) {
		struct delivery *old = w->oldest;

		w->h->log(PLUGIN, NULL, JG_LOG_WARN, "WH0004",
		          "queue for %s full (%zu): dropped %s %s after %u "
		          "attempt%s",
		          w->target, w->queue_max, old->event, old->review,
		          old->attempts, old->attempts == 1 ? "" : "s");
		w->h->metric_add(PLUGIN, "webhook_dropped_total", 1);
		delivery_end(old);
	}
	d->prev = w->newest;
	*(w->newest ? &w->newest->next : &w->oldest) = d;
	w->newest = d;
	w->queued++;
	/* From a timer, not from here: notify() stays cheap for the core. */
	d->timer = w->h->timer_add(w->h->main_loop(), 0, 3600000, send_now, d);
	if (!d->timer)
		send_now(d);
}

/* ---- instance ---- */

static void webhook_fini(void *inst)
{
	struct webhook *w = inst;

	if (!w)
		return;
	if (w->queued)
		w->h->log(PLUGIN, NULL, JG_LOG_WARN, "WH0007",
		          "stopping with %zu undelivered event%s for %s",
		          w->queued, w->queued == 1 ? "" : "s", w->target);
	while (w->oldest)
		delivery_end(w->oldest);
	curl_loop_free(w->cl);
	if (w->key) {
		gnutls_memset(w->key, 0, w->keylen);
		free(w->key);
	}
	free(w->url);
	free(w->ca_file);
	free(w);
}

/* scheme://host[:port] of url into w->target, or -1 if it is no URL. */
static int parse_target(struct webhook *w, const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	int rc = -1;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
	        CURLUE_OK &&
	    (!strcmp(scheme, "http") || !strcmp(scheme, "https"))) {
		snprintf(w->target, sizeof(w->target), "%s://%s:%s", scheme,
		         host, port);
		rc = 0;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

static int options(struct webhook *w, const struct jg_config *c, char *err,
                   size_t errlen)
{
	const struct jg_host *h = w->h;
	const char *url = h->cfg_string(c, "url"),
	           *fmt = h->cfg_string(c, "format"),
	           *ca = h->cfg_string(c, "ca_file"), *key;
	int64_t retries = h->cfg_int(c, "max_retries"),
	        qs = h->cfg_int(c, "queue_size");
	size_t n = h->cfg_list_len(c, "events"), keylen = 0;

	if (!url || strlen(url) > MAX_URL || parse_target(w, url) < 0) {
		snprintf(err, errlen, "%s: url: must be an http or https URL",
		         h->cfg_where(c, "url"));
		return -1;
	}
	if (!strcmp(fmt, "slack"))
		w->slack = 1;
	else if (strcmp(fmt, "json")) {
		snprintf(err, errlen, "%s: format: must be json or slack",
		         h->cfg_where(c, "format"));
		return -1;
	}
	if (retries < 0 || retries > 20 || qs < 1 || qs > 100000) {
		snprintf(err, errlen,
		         "%s: max_retries must be 0 to 20 and queue_size 1 "
		         "to 100000",
		         h->cfg_where(c, retries < 0 || retries > 20
		                             ? "max_retries"
		                             : "queue_size"));
		return -1;
	}
	w->max_retries = (unsigned)retries;
	w->queue_max = (size_t)qs;
	w->timeout_ms = h->cfg_int(c, "timeout");
	w->backoff_ms = (uint64_t)h->cfg_int(c, "backoff");
	w->backoff_max_ms = (uint64_t)h->cfg_int(c, "backoff_max");
	if (w->timeout_ms <= 0 || w->backoff_max_ms < w->backoff_ms) {
		snprintf(err, errlen,
		         "%s: timeout must be positive and backoff_max at "
		         "least backoff",
		         h->cfg_where(c, w->timeout_ms <= 0 ? "timeout"
		                                            : "backoff_max"));
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const char *ev = h->cfg_list_item(c, "events", i);
		size_t k;

		for (k = 0; k < NEVENTS && strcmp(ev, event_names[k]); k++)
			;
		if (k == NEVENTS) {
			snprintf(err, errlen,
			         "%s: events[%zu]: unknown event \"%.40s\" "
			         "(review.created, review.approved, "
			         "review.denied, review.expired, "
			         "review.approval, review.used)",
			         h->cfg_where(c, "events"), i, ev);
			return -1;
		}
		w->events |= 1u << k;
	}
	key = h->cfg_secret(c, "secret", &keylen);
	if (key && keylen < MIN_SECRET) {
		snprintf(err, errlen, "%s: secret: must be %d bytes or more",
		         h->cfg_where(c, "secret"), MIN_SECRET);
		return -1;
	}
	if ((key && !(w->key = malloc(keylen))) || !(w->url = strdup(url)) ||
	    (ca && !(w->ca_file = strdup(ca)))) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (key) {
		memcpy(w->key, key, keylen);
		w->keylen = keylen;
	}
	return 0;
}

static int webhook_init(const struct jg_host *h, const struct jg_config *c,
                        void **inst, char *err, size_t errlen)
{
	struct webhook *w = calloc(1, sizeof(*w));

	*inst = NULL;
	if (!w) {
		snprintf(err, errlen, "out of memory");
		return JG_ERROR;
	}
	w->h = h;
	if (options(w, c, err, errlen) < 0) {
		webhook_fini(w);
		return JG_ERROR;
	}
	if (!(w->cl = curl_loop_new(h, h->main_loop(), on_done))) {
		snprintf(err, errlen, "cannot start libcurl");
		webhook_fini(w);
		return JG_ERROR;
	}
	if (!w->key && !w->slack)
		h->log(PLUGIN, NULL, JG_LOG_WARN, "WH0008",
		       "json webhook %s has no secret: bodies are unsigned",
		       w->target);
	*inst = w;
	return JG_OK;
}

static const struct jg_notify_ops webhook_ops = {
    .size = sizeof(struct jg_notify_ops),
    .notify = webhook_notify,
};

JG_EXPORT const struct jg_plugin jg_plugin = {
    JG_PLUGIN_PREFIX,
    .kind = JG_KIND_NOTIFY,
    .name = PLUGIN,
    .version = PACKAGE_VERSION,
    .description = "posts review events to webhooks (JSON signed with "
                   "HMAC-SHA256, or Slack messages)",
    .options = webhook_options,
    .init = webhook_init,
    .fini = webhook_fini,
    .ops = &webhook_ops,
};
