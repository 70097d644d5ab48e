/*
 * A runtime generation: one loaded configuration turned into what the
 * daemon serves: listeners with their protocol plugin instance and TLS
 * credentials, named connections, admin settings.  Sessions hold the
 * generation they started with; SIGHUP builds a new one and only new
 * sessions see it.
 */
#ifndef JG_RUNTIME_H
#define JG_RUNTIME_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jitgate/jitgate.h>

struct jg_conf;
struct jg_config;
struct conf_settings;
struct tls_server;
struct maskcore;

struct rt_listener {
	const char *name;
	const char *protocol;
	const char *listen;          /* "host:port" as written */
	char host[256], port[16];
	const struct jg_config *cfg; /* the plugin's listener options */
	const struct jg_plugin *plugin;
	void *instance;
	int has_instance;
	struct tls_server *tls;      /* NULL: plain */
	int tls_immediate;           /* core handshakes before session_open */
	struct rt *rt;
};

struct rt_connection {
	const char *name;
	const char *protocol;
	const struct jg_config *cfg; /* validated against the plugin schema */
};

struct rt {
	atomic_int refs;
	struct jg_conf *conf;
	const struct conf_settings *set;
	struct rt_listener *listeners;
	size_t nlisteners;
	struct rt_connection *conns;
	size_t nconns;
	int admin_on;
	char admin_host[256], admin_port[16];
	struct tls_server *admin_tls;
	void *plugins;               /* the loader's set, if it keeps one */
	struct record_setup *record; /* store and recording, for rt_activate */
	struct maskcore *mask;       /* compiled masking profiles */
};

/* Load, validate, load plugins and create instances.  NULL with
 * "FILE:LINE: KEY: what" in err. */
struct rt *rt_load(const char *path, char *err, size_t errlen);
/*
 * The same for --check-config: everything start prepares (the store is
 * opened, identity, masking and notify instances made) and the checks
 * rt_activate() makes, without activating anything.  Needs the main loop
 * (main_loop_init()), which plugins may add timers to; it is not run.
 */
struct rt *rt_check(const char *path, char *err, size_t errlen);
/*
 * rt becomes the running generation (main thread, at start and after a
 * reload was accepted): its store and recording settings take over, and
 * grants and reviews are read from the store and watched.  -1 with err.
 */
int rt_activate(struct rt *rt, char *err, size_t errlen);
void rt_ref(struct rt *rt);
void rt_unref(struct rt *rt);
/* rt_unref() with the signature of a cleanup hook. */
void rt_release(void *rt);
const struct rt_connection *rt_connection(const struct rt *rt,
					  const char *name,
					  const char *protocol);

#endif /* JG_RUNTIME_H */
