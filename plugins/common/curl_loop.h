/*
 * libcurl's multi interface on a host event loop (io_add/timer_add), so
 * a transfer never blocks the loop.  Generic: the caller makes and owns
 * its easy handles; this file only drives them.  Everything happens on
 * the one loop given to curl_loop_new() (the main loop).
 */
#ifndef JG_PLUGIN_CURL_LOOP_H
#define JG_PLUGIN_CURL_LOOP_H

#include <curl/curl.h>
#include <jitgate/host.h>

struct curl_loop;

/* A transfer ended: res is curl's result.  easy is no longer driven and
 * is the caller's again (clean it up or add it anew). */
typedef void (*curl_loop_done_cb)(void *ud, CURL *easy, CURLcode res);

/* NULL if libcurl cannot start. */
struct curl_loop *curl_loop_new(const struct jg_host *host,
                                struct jg_loop *loop, curl_loop_done_cb done);

/* Drive easy; done(ud, ...) is called later, never from inside this
 * call.  0, or -1 (nothing will be called). */
int curl_loop_add(struct curl_loop *cl, CURL *easy, void *ud);

/* Stop driving easy without calling done. */
void curl_loop_remove(struct curl_loop *cl, CURL *easy);

/* Free; the caller has removed or finished all its transfers. */
void curl_loop_free(struct curl_loop *cl);

#endif /* JG_PLUGIN_CURL_LOOP_H */
