/*
 * Configure recording and the store from a loaded configuration: the
 * "store" section ({"plugin": NAME, "options": {...}}) becomes the store
 * plugin's instance (core/store.c), the "recording" section the
 * recorder's key, mode and grace (core/record.c).
 *
 * Two steps, so a configuration that is refused later in its loading
 * (or one that is only checked) never replaces the running store:
 * record_prepare() validates and makes the instance, record_apply()
 * installs it when the generation becomes the running one.
 */
#include "conf.h"
#include "loader.h"
#include "record.h"
#include "session.h"
#include "store.h"

#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

static const struct jg_option store_schema[] = {
	{"plugin", JG_OPT_STRING, NULL, 1, 0,
	 "store plugin name: store_file or store_postgres"},
	{NULL, 0, NULL, 0, 0, NULL},
};
static const char *const store_extra[] = {"options", NULL};

int record_prepare(struct jg_registry *plugins, struct jg_conf *c,
		   const struct jg_host *host, int check_only,
		   struct record_setup *out, char *err, size_t errlen)
{
	struct json_object *so = conf_get(c, "store");
	struct json_object *ro = conf_get(c, "recording"), *opts = NULL;
	const struct jg_config *sc;
	const struct jg_loaded *p;
	struct jg_instance *inst;

	memset(out, 0, sizeof(*out));
	out->host = host;
	if (!so) {
		if (ro) {
			snprintf(err, errlen, "recording: needs a \"store\"");
			return -1;
		}
		return 0; /* core_record fails closed: nothing recorded */
	}
	sc = conf_section(c, so, "store", store_schema, store_extra, err,
			  errlen);
	if (!sc)
		return -1;
	p = loader_find(plugins, cfg_string(sc, "plugin"));
	if (!p || p->plugin->kind != JG_KIND_STORE) {
		snprintf(err, errlen,
			 "%s: store.plugin: \"%s\" is not a loaded store "
			 "plugin (list it in \"plugins\")",
			 conf_where(c, "store.plugin"), cfg_string(sc, "plugin"));
		return -1;
	}
	if (!ro) {
		snprintf(err, errlen,
			 "%s: recording: a store needs \"recording\": "
			 "{\"key\": \"env:NAME\"} to seal records",
			 conf_where(c, "store"));
		return -1;
	}
	out->recording = conf_section(c, ro, "recording", record_options,
				      NULL, err, errlen);
	if (!out->recording ||
	    record_check(host, out->recording, err, errlen) != JG_OK)
		return -1;
	json_object_object_get_ex(so, "options", &opts);
	if (check_only) {
		/* Validate the options, but open no files or connections:
		 * a running gateway may hold the store. */
		return conf_section(c, opts, "store.options",
				    p->plugin->options, NULL, err,
				    errlen) != NULL
			       ? 0
			       : -1;
	}
	inst = loader_instance_new(plugins, c, p->name, opts, "store", host,
				   err, errlen);
	if (!inst)
		return -1;
	out->ops = loader_ops(p);
	out->instance = inst->state;
	return 0;
}

int record_apply(const struct record_setup *rs, char *err, size_t errlen)
{
	if (!rs->ops) {
		store_set(NULL, NULL, NULL, 0);
		record_shutdown();
		return 0;
	}
	record_set_end(session_end);
	if (record_configure(rs->host, rs->recording, err, errlen) != JG_OK)
		return -1;
	return store_set(rs->ops, rs->instance, err, errlen) == JG_OK ? 0
								       : -1;
}

int record_load(struct jg_registry *plugins, struct jg_conf *c,
		const struct jg_host *host, char *err, size_t errlen)
{
	struct record_setup rs;

	if (record_prepare(plugins, c, host, 0, &rs, err, errlen) < 0)
		return -1;
	return record_apply(&rs, err, errlen);
}
