/*
 * A fake host for recording and store tests: a real libev loop on the
 * test thread (io, timers, loop_post from other threads), configs from
 * key/value lists, fake sessions with cleanup hooks, metrics by name.
 */
#ifndef RECORD_FAKE_HOST_H
#define RECORD_FAKE_HOST_H

#include <stdint.h>

#include <jitgate/host.h>

const struct jg_host *fake_host(void);
struct jg_loop *fake_loop(void);

/* Run the loop until *flag != 0 or ms pass.  Returns *flag. */
int fake_run_until(const int *flag, int ms);
/* Run the loop for ms. */
void fake_run(int ms);

/* {"key", "value", ..., NULL}; values as config text ("true", "100"). */
struct jg_config *fake_config(const char *const *kv);
void fake_config_free(struct jg_config *c);

struct jg_session *fake_session(const char *sid);
/* Run the session's cleanups and free it. */
void fake_session_close(struct jg_session *s);
/* The reason given to session_end(), or NULL. */
const char *fake_session_ended(const struct jg_session *s);

int64_t fake_metric(const char *name);
/* Number of log lines at level or more severe. */
int fake_logs(int level);

#endif
