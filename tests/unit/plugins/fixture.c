/*
 * Fixture plugins for tests/unit/test_loader.c: one source, built several
 * times with -D switches into descriptors that are wrong in exactly one
 * way each.  The default build is a good protocol plugin called "good".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jitgate/protocol.h>

#ifndef FX_NAME
#define FX_NAME "good"
#endif
#ifndef FX_MAGIC
#define FX_MAGIC JG_PLUGIN_MAGIC
#endif
#ifdef FX_NEXT_MAJOR
#define FX_MAJOR (JG_ABI_MAJOR + 1)
#else
#define FX_MAJOR JG_ABI_MAJOR
#endif
#ifndef FX_MINOR
#define FX_MINOR JG_ABI_MINOR
#endif
#ifndef FX_SIZE
#define FX_SIZE sizeof(struct jg_plugin)
#endif
#ifndef FX_KIND
#define FX_KIND JG_KIND_PROTOCOL
#endif
#ifndef FX_OPS_SIZE
#define FX_OPS_SIZE sizeof(struct jg_protocol_ops)
#endif
#ifndef FX_SYMBOL
#define FX_SYMBOL jg_plugin
#endif

static const struct jg_option options[] = {
	{"greeting", JG_OPT_STRING, "hi", 0, 0, "what to say"},
	{"port", JG_OPT_INT, NULL, 1, 0, "a required option"},
	{NULL, 0, NULL, 0, 0, NULL},
};

static int fx_init(const struct jg_host *host, const struct jg_config *cfg,
		   void **instance, char *err, size_t errlen)
{
	char *greeting;

	if (host->cfg_int(cfg, "port") == 666) {
		snprintf(err, errlen, "port 666 is not allowed");
		return JG_ERROR;
	}
	greeting = strdup(host->cfg_string(cfg, "greeting"));
	if (!greeting) {
		snprintf(err, errlen, "out of memory");
		return JG_ERROR;
	}
	*instance = greeting;
	return JG_OK;
}

static void fx_fini(void *instance)
{
	free(instance);
}

static int fx_open(void *instance, struct jg_session *s, void **state)
{
	return JG_ERROR;
}

static void fx_close(void *instance, struct jg_session *s, void *state)
{
}

static const struct jg_protocol_ops ops __attribute__((unused)) = {
	.size = FX_OPS_SIZE,
	.session_open = fx_open,
	.session_close = fx_close,
};

JG_EXPORT const struct jg_plugin FX_SYMBOL = {
	.magic = FX_MAGIC,
	.abi_major = FX_MAJOR,
	.abi_minor = FX_MINOR,
	.size = FX_SIZE,
	.kind = FX_KIND,
	.name = FX_NAME,
	.version = "1.2.3",
	.description = "loader test fixture",
	.options = options,
	.init = fx_init,
	.fini = fx_fini,
#ifdef FX_NO_OPS
	.ops = NULL,
#else
	.ops = &ops,
#endif
};
