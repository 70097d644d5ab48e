/*
 * Metrics (see metrics.h).  Core counters are relaxed atomics: one
 * lock-free add per event on the session path.  Plugin counters are few
 * and looked up under a mutex.
 */
#include "config.h"
#include "metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Atomic int64_t counters[M_COUNT];

struct pcounter {
	struct pcounter *next;
	char *plugin, *name;
	_Atomic int64_t value;
};
static struct pcounter *pcounters;
static pthread_mutex_t plock = PTHREAD_MUTEX_INITIALIZER;

void metrics_inc(enum metric m, int64_t delta)
{
	if ((unsigned)m < M_COUNT)
		atomic_fetch_add_explicit(&counters[m], delta,
					  memory_order_relaxed);
}

int64_t metrics_get(enum metric m)
{
	if ((unsigned)m >= M_COUNT)
		return 0;
	return atomic_load_explicit(&counters[m], memory_order_relaxed);
}

/* Prometheus names: [a-zA-Z_:][a-zA-Z0-9_:]*; anything else becomes _. */
static char *metric_name(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(n + 2);

	if (out == NULL)
		return NULL;
	size_t j = 0;
	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		out[j++] = '_';
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			 (c >= '0' && c <= '9') || c == '_' || c == ':';
		out[j++] = ok ? c : '_';
	}
	out[j] = '\0';
	return out;
}

/* The counter of (plugin, name), made on first use; NULL on bad names
 * or out of memory. */
static struct pcounter *pcounter_of(const char *plugin, const char *name)
{
	struct pcounter *c;

	if (plugin == NULL || name == NULL || strlen(name) > 128 ||
	    strlen(plugin) > 64)
		return NULL;
	pthread_mutex_lock(&plock);
	for (c = pcounters; c; c = c->next)
		if (strcmp(c->plugin, plugin) == 0 &&
		    strcmp(c->name + 0, name) == 0)
			break;
	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		if (c == NULL || (c->plugin = strdup(plugin)) == NULL ||
		    (c->name = strdup(name)) == NULL) {
			if (c)
				free(c->plugin);
			free(c);
			pthread_mutex_unlock(&plock);
			return NULL;
		}
		c->next = pcounters;
		pcounters = c;
	}
	pthread_mutex_unlock(&plock);
	return c;
}

/*
 * Plugins count per event (a recorded event, a masked value), and the
 * list walk under the mutex showed in profiles: each thread remembers
 * the counters it used by the names' addresses (string literals, as a
 * rule), checking the text in case an address was a reused buffer.
 * metrics_fini() frees the counters: it moves the generation on, which
 * makes every thread's memo stale.
 */
#define PC_SLOTS 32
static _Atomic unsigned pc_gen = 1;
static __thread struct {
	const char *plugin, *name;
	struct pcounter *c;
	unsigned gen;
} pc_memo[PC_SLOTS];

void metrics_add(const char *plugin, const char *name, int64_t delta)
{
	uintptr_t a = (uintptr_t)name;
	size_t slot = (a >> 3 ^ a >> 11) % PC_SLOTS;
	unsigned gen = atomic_load_explicit(&pc_gen, memory_order_acquire);
	struct pcounter *c = pc_memo[slot].c;

	if (!c || pc_memo[slot].gen != gen || pc_memo[slot].name != name ||
	    pc_memo[slot].plugin != plugin || strcmp(c->name, name) != 0 ||
	    strcmp(c->plugin, plugin) != 0) {
		if (!(c = pcounter_of(plugin, name)))
			return;
		pc_memo[slot].plugin = plugin;
		pc_memo[slot].name = name;
		pc_memo[slot].c = c;
		pc_memo[slot].gen = gen;
	}
	atomic_fetch_add_explicit(&c->value, delta, memory_order_relaxed);
}

struct text {
	char *buf;
	size_t len, cap;
	int oom;
};

static void tprintf(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void tprintf(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (t->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			t->oom = 1;
			return;
		}
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		size_t ncap = (t->cap + (size_t)n + 1) * 2;
		char *nb = realloc(t->buf, ncap);
		if (nb == NULL) {
			t->oom = 1;
			return;
		}
		t->buf = nb;
		t->cap = ncap;
	}
}

static void one(struct text *t, const char *name, const char *type,
		const char *help, enum metric m)
{
	tprintf(t, "# HELP jitgate_%s %s\n# TYPE jitgate_%s %s\n", name, help,
		name, type);
	tprintf(t, "jitgate_%s %lld\n", name, (long long)metrics_get(m));
}

static void labelled(struct text *t, const char *name, const char *help,
		     const char *label, const char *const *values,
		     const enum metric *ms, size_t n)
{
	tprintf(t, "# HELP jitgate_%s %s\n# TYPE jitgate_%s counter\n", name,
		help, name);
	for (size_t i = 0; i < n; i++)
		tprintf(t, "jitgate_%s{%s=\"%s\"} %lld\n", name, label,
			values[i], (long long)metrics_get(ms[i]));
}

char *metrics_render(size_t *len)
{
	struct text t = {NULL, 0, 0, 0};
	static const char *const dirs[] = {"client_in", "client_out",
					   "upstream_in", "upstream_out"};
	static const enum metric dirm[] = {
		M_BYTES_CLIENT_IN, M_BYTES_CLIENT_OUT, M_BYTES_UPSTREAM_IN,
		M_BYTES_UPSTREAM_OUT};
	static const char *const effects[] = {"allow", "deny", "review"};
	static const enum metric effm[] = {M_DECISIONS_ALLOW, M_DECISIONS_DENY,
					   M_DECISIONS_REVIEW};

	t.cap = 4096;
	t.buf = malloc(t.cap);
	if (t.buf == NULL)
		return NULL;
	t.buf[0] = '\0';
	one(&t, "connections_total", "counter", "Client connections accepted.",
	    M_CONNECTIONS_TOTAL);
	one(&t, "connections_active", "gauge", "Client connections open.",
	    M_CONNECTIONS_ACTIVE);
	one(&t, "connections_refused_total", "counter",
	    "Client connections refused (limits, draining).",
	    M_CONNECTIONS_REFUSED);
	one(&t, "sessions_total", "counter",
	    "Sessions a protocol plugin accepted.", M_SESSIONS_TOTAL);
	one(&t, "sessions_active", "gauge", "Sessions open.",
	    M_SESSIONS_ACTIVE);
	labelled(&t, "bytes_total", "Bytes relayed, by direction.",
		 "direction", dirs, dirm, 4);
	labelled(&t, "decisions_total", "Policy decisions, by effect.",
		 "effect", effects, effm, 3);
	one(&t, "errors_total", "counter",
	    "Failed sessions, streams and handshakes.", M_ERRORS);
	one(&t, "tls_handshake_failures_total", "counter",
	    "TLS handshakes that failed.", M_TLS_HANDSHAKE_FAILURES);
	one(&t, "timeouts_total", "counter",
	    "Handshake and idle timeouts.", M_TIMEOUTS);
	one(&t, "reloads_total", "counter", "Configurations applied by SIGHUP.",
	    M_RELOADS);
	one(&t, "reload_failures_total", "counter",
	    "Configurations rejected on SIGHUP.", M_RELOAD_FAILURES);

	pthread_mutex_lock(&plock);
	/* One TYPE line per name, then every plugin's value. */
	for (struct pcounter *c = pcounters; c; c = c->next) {
		int seen = 0;
		for (struct pcounter *d = pcounters; d != c; d = d->next)
			if (strcmp(d->name, c->name) == 0)
				seen = 1;
		if (seen)
			continue;
		char *name = metric_name(c->name);
		if (name == NULL)
			continue;
		tprintf(&t, "# TYPE jitgate_%s counter\n", name);
		for (struct pcounter *d = c; d; d = d->next) {
			if (strcmp(d->name, c->name) != 0)
				continue;
			char *pl = metric_name(d->plugin);
			tprintf(&t, "jitgate_%s{plugin=\"%s\"} %lld\n", name,
				pl ? pl : "_",
				(long long)atomic_load_explicit(
					&d->value, memory_order_relaxed));
			free(pl);
		}
		free(name);
	}
	pthread_mutex_unlock(&plock);
	if (t.oom) {
		free(t.buf);
		return NULL;
	}
	*len = t.len;
	return t.buf;
}

void metrics_fini(void)
{
	pthread_mutex_lock(&plock);
	atomic_fetch_add_explicit(&pc_gen, 1, memory_order_acq_rel);
	while (pcounters) {
		struct pcounter *c = pcounters;
		pcounters = c->next;
		free(c->plugin);
		free(c->name);
		free(c);
	}
	pthread_mutex_unlock(&plock);
}
