/*
 * Load a store plugin and open an instance on the fake host, for the
 * store benchmarks.  kv: {"key", "value", ..., NULL}.  Exits on failure.
 */
#ifndef BENCH_LOAD_STORE_H
#define BENCH_LOAD_STORE_H

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <jitgate/store.h>

#include "record_fake_host.h"

static void *load_store(const char *so, const char *const *kv,
			const struct jg_plugin **plugin)
{
	char err[256];
	void *inst, *dl = dlopen(so, RTLD_NOW | RTLD_LOCAL);

	if (!dl || !(*plugin = dlsym(dl, "jg_plugin"))) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		exit(1);
	}
	struct jg_config *c = fake_config(kv);
	if ((*plugin)->init(fake_host(), c, &inst, err, sizeof(err)) !=
	    JG_OK) {
		fprintf(stderr, "store: %s\n", err);
		exit(1);
	}
	fake_config_free(c);
	return inst;
}

#endif
