/*
 * Metrics: fixed core counters (relaxed atomics, cheap on the session
 * path) plus named per-plugin counters made on first use, rendered in the
 * Prometheus text format for /metrics.
 */
#ifndef JG_METRICS_H
#define JG_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum metric {
	M_CONNECTIONS_TOTAL,   /* accepted client connections */
	M_CONNECTIONS_ACTIVE,  /* open client connections (gauge) */
	M_CONNECTIONS_REFUSED, /* refused: max_connections, draining */
	M_SESSIONS_TOTAL,      /* sessions a protocol plugin accepted */
	M_SESSIONS_ACTIVE,     /* (gauge) */
	M_BYTES_CLIENT_IN,     /* read from clients */
	M_BYTES_CLIENT_OUT,    /* written to clients */
	M_BYTES_UPSTREAM_IN,   /* read from upstreams */
	M_BYTES_UPSTREAM_OUT,  /* written to upstreams */
	M_DECISIONS_ALLOW,
	M_DECISIONS_DENY,
	M_DECISIONS_REVIEW,
	M_ERRORS,              /* failed sessions, streams, handshakes */
	M_TLS_HANDSHAKE_FAILURES,
	M_TIMEOUTS,            /* handshake and idle timeouts */
	M_RELOADS,
	M_RELOAD_FAILURES,
	M_COUNT
};

void metrics_inc(enum metric m, int64_t delta);
int64_t metrics_get(enum metric m);
/* host->metric_add: counter jitgate_NAME{plugin="PLUGIN"}. */
void metrics_add(const char *plugin, const char *name, int64_t delta);
/* The Prometheus text exposition; the caller frees it. */
char *metrics_render(size_t *len);
void metrics_fini(void);

#endif /* JG_METRICS_H */
