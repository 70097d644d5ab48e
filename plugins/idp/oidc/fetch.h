/*
 * HTTP(S) GETs with libcurl's multi interface, driven by the host's event
 * loop (io_add/timer_add), so fetching a key set never blocks a loop.
 * A fetcher and its callbacks live on one loop (the main loop).
 */
#ifndef OIDC_FETCH_H
#define OIDC_FETCH_H

#include <stddef.h>

#include <jitgate/host.h>

struct fetcher;

/*
 * Completion: status JG_OK with the HTTP code and body (not
 * NUL-terminated; valid during the call), or JG_ERROR with err in words.
 */
typedef void (*fetch_done_cb)(void *ud, int status, long http_code,
			      const char *body, size_t len, const char *err);

/* ca_file may be NULL (system trust store). */
struct fetcher *fetcher_new(const struct jg_host *host, struct jg_loop *loop,
			    const char *ca_file, long timeout_ms);

/*
 * Start a GET.  protocols is curl's list, e.g. "https,http".  Bodies over
 * max_bytes fail the fetch.  cb runs later on the loop, never from inside
 * this call.
 */
int fetcher_get(struct fetcher *f, const char *url, const char *protocols,
		size_t max_bytes, fetch_done_cb cb, void *ud);

/* Cancel everything in flight (no callbacks) and free. */
void fetcher_free(struct fetcher *f);

#endif /* OIDC_FETCH_H */
