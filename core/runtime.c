/*
 * Runtime generations (see runtime.h): the core's reading of the
 * "listeners", "connections" and "admin" sections, plugin loading and
 * protocol instances, on top of conf.c and loader.c.
 */
#include "config.h"
#include "runtime.h"
#include "auth.h"
#include "conf.h"
#include "host.h"
#include "loader.h"
#include "log.h"
#include "maskcore.h"
#include "record.h"
#include "tls.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jitgate/protocol.h>

static const struct jg_option listener_schema[] = {
	{"name", JG_OPT_STRING, NULL, 1, 0, "listener name, unique"},
	{"protocol", JG_OPT_STRING, NULL, 1, 0, "protocol plugin name"},
	{"listen", JG_OPT_ADDRESS, NULL, 1, 0, "host:port to accept on"},
	{NULL, 0, NULL, 0, 0, NULL},
};
static const char *const listener_extra[] = {"tls", "options", NULL};

static const struct jg_option tls_schema[] = {
	{"cert", JG_OPT_STRING, NULL, 1, 0, "certificate chain (PEM)"},
	{"key", JG_OPT_STRING, NULL, 1, 0, "private key (PEM)"},
	{"client_ca", JG_OPT_STRING, NULL, 0, 0,
	 "require client certificates signed by this CA (PEM)"},
	{"mode", JG_OPT_STRING, "immediate", 0, 0,
	 "immediate (core handshakes first) or starttls (plugin decides)"},
	{NULL, 0, NULL, 0, 0, NULL},
};

static const struct jg_option admin_schema[] = {
	{"listen", JG_OPT_ADDRESS, NULL, 1, 0, "host:port of the admin API"},
	{NULL, 0, NULL, 0, 0, NULL},
};
static const char *const admin_extra[] = {"tls", "approver_groups",
					   "admin_groups", NULL};

static const struct jg_option connection_schema[] = {
	{"protocol", JG_OPT_STRING, NULL, 1, 0, "protocol plugin name"},
	{NULL, 0, NULL, 0, 0, NULL},
};
static const char *const connection_extra[] = {"options", NULL};

void rt_ref(struct rt *rt)
{
	atomic_fetch_add_explicit(&rt->refs, 1, memory_order_relaxed);
}

static void rt_free(struct rt *rt)
{
	for (size_t i = 0; i < rt->nlisteners; i++)
		tls_server_free(rt->listeners[i].tls);
	tls_server_free(rt->admin_tls);
	free(rt->listeners);
	free(rt->conns);
	free(rt->record);
	/* Profiles first: they belong to the mask plugin's instance. */
	maskcore_free(rt->mask);
	/* Instances and plugins go with the conf (loader registry). */
	if (rt->conf)
		conf_unref(rt->conf);
	free(rt);
}

void rt_unref(struct rt *rt)
{
	if (rt && atomic_fetch_sub_explicit(&rt->refs, 1,
					    memory_order_acq_rel) == 1)
		rt_free(rt);
}

void rt_release(void *ud)
{
	rt_unref(ud);
}

const struct rt_connection *rt_connection(const struct rt *rt,
					  const char *name,
					  const char *protocol)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < rt->nconns; i++)
		if (strcmp(rt->conns[i].name, name) == 0 &&
		    (protocol == NULL ||
		     strcmp(rt->conns[i].protocol, protocol) == 0))
			return &rt->conns[i];
	return NULL;
}

static int err_at(struct rt *rt, char *err, size_t errlen,
		  const char *keypath, const char *what)
{
	snprintf(err, errlen, "%s: %s: %s", conf_where(rt->conf, keypath),
		 keypath, what);
	return -1;
}

static struct tls_server *load_tls(struct rt *rt, struct json_object *obj,
				   const char *keypath, int *immediate,
				   char *err, size_t errlen)
{
	char cert[4096], key[4096], ca[4096], why[512];
	const struct jg_config *t;
	const char *mode, *c;
	struct tls_server *srv;

	t = conf_section(rt->conf, obj, keypath, tls_schema, NULL, err,
			 errlen);
	if (t == NULL)
		return NULL;
	mode = cfg_string(t, "mode");
	if (strcmp(mode, "immediate") != 0 && strcmp(mode, "starttls") != 0) {
		char kp[CONF_MAX_KEYPATH];
		conf_path_key(kp, sizeof(kp), keypath, "mode");
		err_at(rt, err, errlen, kp,
		       "wanted \"immediate\" or \"starttls\"");
		return NULL;
	}
	if (immediate)
		*immediate = strcmp(mode, "immediate") == 0;
	if (conf_resolve_path(rt->conf, cfg_string(t, "cert"), cert,
			      sizeof(cert)) < 0 ||
	    conf_resolve_path(rt->conf, cfg_string(t, "key"), key,
			      sizeof(key)) < 0 ||
	    ((c = cfg_string(t, "client_ca")) &&
	     conf_resolve_path(rt->conf, c, ca, sizeof(ca)) < 0)) {
		err_at(rt, err, errlen, keypath, "path too long");
		return NULL;
	}
	why[0] = '\0';
	srv = tls_server_new(cert, key, c ? ca : NULL, why, sizeof(why));
	if (srv == NULL)
		err_at(rt, err, errlen, keypath, why);
	return srv;
}

static int split(struct rt *rt, const char *addr, char *host, size_t hl,
		 char *port, size_t pl, const char *keypath, char *err,
		 size_t errlen)
{
	if (conf_split_address(addr, host, hl, port, pl) < 0)
		return err_at(rt, err, errlen, keypath,
			      "wanted host:port or [v6]:port");
	return 0;
}

/* The loaded protocol plugin called name, or NULL with the reason. */
static const struct jg_loaded *find_protocol(struct rt *rt, const char *name,
					     const char *keypath, char *err,
					     size_t errlen)
{
	const struct jg_loaded *p = loader_find(rt->plugins, name);
	char kp[CONF_MAX_KEYPATH];

	conf_path_key(kp, sizeof(kp), keypath, "protocol");
	if (p == NULL)
		err_at(rt, err, errlen, kp,
		       "no such plugin loaded (list it in \"plugins\")");
	else if (p->plugin->kind != JG_KIND_PROTOCOL)
		err_at(rt, err, errlen, kp, "not a protocol plugin");
	else
		return p;
	return NULL;
}

static int load_listeners(struct rt *rt, const struct jg_host *host,
			  char *err, size_t errlen)
{
	struct json_object *arr = conf_get(rt->conf, "listeners");
	size_t n = arr ? json_object_array_length(arr) : 0;
	char kp[CONF_MAX_KEYPATH], sub[CONF_MAX_KEYPATH];

	rt->listeners = calloc(n ? n : 1, sizeof(*rt->listeners));
	if (rt->listeners == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		struct rt_listener *l = &rt->listeners[i];
		struct json_object *obj = json_object_array_get_idx(arr, i);
		struct json_object *o;
		const struct jg_config *lc;
		const struct jg_loaded *p;
		struct jg_instance *inst;

		conf_path_index(kp, sizeof(kp), "listeners", i);
		lc = conf_section(rt->conf, obj, kp, listener_schema,
				  listener_extra, err, errlen);
		if (lc == NULL)
			return -1;
		l->rt = rt;
		l->name = cfg_string(lc, "name");
		l->protocol = cfg_string(lc, "protocol");
		l->listen = cfg_string(lc, "listen");
		conf_path_key(sub, sizeof(sub), kp, "listen");
		if (split(rt, l->listen, l->host, sizeof(l->host), l->port,
			  sizeof(l->port), sub, err, errlen) < 0)
			return -1;
		for (size_t k = 0; k < i; k++) {
			if (strcmp(rt->listeners[k].name, l->name) == 0) {
				conf_path_key(sub, sizeof(sub), kp, "name");
				return err_at(rt, err, errlen, sub,
					      "duplicate listener name");
			}
			if (strcmp(rt->listeners[k].listen, l->listen) == 0) {
				conf_path_key(sub, sizeof(sub), kp, "listen");
				return err_at(rt, err, errlen, sub,
					      "address used by another "
					      "listener");
			}
		}
		p = find_protocol(rt, l->protocol, kp, err, errlen);
		if (p == NULL)
			return -1;
		l->plugin = p->plugin;
		if (json_object_object_get_ex(obj, "tls", &o)) {
			conf_path_key(sub, sizeof(sub), kp, "tls");
			l->tls = load_tls(rt, o, sub, &l->tls_immediate, err,
					  errlen);
			if (l->tls == NULL)
				return -1;
		}
		rt->nlisteners = i + 1;
		if (!json_object_object_get_ex(obj, "options", &o))
			o = NULL;
		inst = loader_instance_new(rt->plugins, rt->conf, l->protocol,
					   o, kp, host, err, errlen);
		if (inst == NULL)
			return -1;
		l->cfg = inst->cfg;
		l->instance = inst->state;
		l->has_instance = 1;
	}
	rt->nlisteners = n;
	return 0;
}

static int load_connections(struct rt *rt, char *err, size_t errlen)
{
	struct json_object *obj = conf_get(rt->conf, "connections");
	size_t n = obj ? (size_t)json_object_object_length(obj) : 0, i = 0;
	char kp[CONF_MAX_KEYPATH], sub[CONF_MAX_KEYPATH];

	rt->conns = calloc(n ? n : 1, sizeof(*rt->conns));
	if (rt->conns == NULL || obj == NULL)
		return rt->conns ? 0 : -1;
	json_object_object_foreach(obj, name, val)
	{
		struct rt_connection *c = &rt->conns[i];
		const struct jg_config *cc;
		const struct jg_loaded *p;
		const struct jg_protocol_ops *ops;
		struct json_object *o;

		conf_path_key(kp, sizeof(kp), "connections", name);
		cc = conf_section(rt->conf, val, kp, connection_schema,
				  connection_extra, err, errlen);
		if (cc == NULL)
			return -1;
		c->name = name;
		c->protocol = cfg_string(cc, "protocol");
		p = find_protocol(rt, c->protocol, kp, err, errlen);
		if (p == NULL)
			return -1;
		ops = loader_ops(p);
		if (!json_object_object_get_ex(val, "options", &o))
			o = NULL;
		conf_path_key(sub, sizeof(sub), kp, "options");
		c->cfg = conf_section(rt->conf, o, sub,
				      ops ? ops->connection_options : NULL,
				      NULL, err, errlen);
		if (c->cfg == NULL)
			return -1;
		rt->nconns = ++i;
	}
	return 0;
}

static int load_admin(struct rt *rt, char *err, size_t errlen)
{
	struct json_object *obj = conf_get(rt->conf, "admin"), *o;
	const struct jg_config *ac;

	if (obj == NULL)
		return 0;
	ac = conf_section(rt->conf, obj, "admin", admin_schema, admin_extra,
			  err, errlen);
	if (ac == NULL)
		return -1;
	if (split(rt, cfg_string(ac, "listen"), rt->admin_host,
		  sizeof(rt->admin_host), rt->admin_port,
		  sizeof(rt->admin_port), "admin.listen", err, errlen) < 0)
		return -1;
	if (json_object_object_get_ex(obj, "tls", &o)) {
		rt->admin_tls = load_tls(rt, o, "admin.tls", NULL, err, errlen);
		if (rt->admin_tls == NULL)
			return -1;
	}
	rt->admin_on = 1;
	return 0;
}

static struct rt *load(const char *path, char *err, size_t errlen)
{
	struct rt *rt = calloc(1, sizeof(*rt));

	if (rt == NULL || !(rt->record = calloc(1, sizeof(*rt->record)))) {
		free(rt);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&rt->refs, 1);
	rt->conf = conf_load(path, err, errlen);
	if (rt->conf == NULL)
		goto fail;
	rt->set = conf_settings(rt->conf);
	rt->plugins = loader_load(rt->conf, err, errlen);
	if (rt->plugins == NULL)
		goto fail;
	if (load_connections(rt, err, errlen) < 0 ||
	    load_listeners(rt, &core_host, err, errlen) < 0 ||
	    load_admin(rt, err, errlen) < 0 ||
	    record_prepare(rt->plugins, rt->conf, &core_host, 0, rt->record,
			   err, errlen) < 0 ||
	    auth_apply(rt, err, errlen) < 0 ||
	    maskcore_setup(rt, err, errlen) < 0)
		goto fail;
	return rt;
fail:
	if (err[0] == '\0')
		snprintf(err, errlen, "out of memory");
	rt_free(rt);
	return NULL;
}

struct rt *rt_load(const char *path, char *err, size_t errlen)
{
	return load(path, err, errlen);
}

/*
 * --check-config prepares what start prepares, the store instance
 * included (a store directory start would refuse is refused here, in the
 * same words), then makes rt_activate()'s checks and undoes them at once:
 * the process serves nothing and runs no loop.
 */
struct rt *rt_check(const char *path, char *err, size_t errlen)
{
	static const struct record_setup none;
	struct rt *rt = load(path, err, errlen);

	if (rt && record_apply(rt->record, err, errlen) < 0) {
		rt_unref(rt);
		rt = NULL;
	}
	record_apply(&none, NULL, 0);
	return rt;
}

int rt_activate(struct rt *rt, char *err, size_t errlen)
{
	if (record_apply(rt->record, err, errlen) < 0)
		return -1;
	if (!record_configured())
		log_msg(JG_LOG_WARN, "JG0014", NULL, NULL,
			"no \"store\" and \"recording\": sessions are not "
			"recorded (protocol plugins refuse what they cannot "
			"record unless told best_effort)");
	auth_activate();
	maskcore_start();
	return 0;
}
