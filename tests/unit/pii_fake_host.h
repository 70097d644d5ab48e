/*
 * Shared by the pii unit tests: a fake host (collectd's mock core idea)
 * so the plugin's init reads options as it would from the core, an emit
 * sink that collects output, and helpers to mask a value in one call.
 */
#ifndef PII_FAKE_HOST_H
#define PII_FAKE_HOST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <jitgate/host.h>
#include <jitgate/mask.h>

extern const struct jg_plugin jg_plugin;

/* ---- fake host: options come from a small key/value table ---- */

struct fake_opt {
	const char *key;
	const char *value;
};

struct jg_config {
	const struct fake_opt *opts;
};

static inline const char *fake_lookup(const struct jg_config *c,
				      const char *key)
{
	for (const struct fake_opt *o = c->opts; o && o->key; o++)
		if (!strcmp(o->key, key))
			return o->value;
	return NULL;
}

static inline const char *fake_cfg_string(const struct jg_config *c,
					  const char *key)
{
	return fake_lookup(c, key);
}

static inline const char *fake_cfg_secret(const struct jg_config *c,
					  const char *key, size_t *len)
{
	const char *v = fake_lookup(c, key);
	*len = v ? strlen(v) : 0;
	return v;
}

static inline struct jg_host fake_host(void)
{
	struct jg_host h;
	memset(&h, 0, sizeof(h));
	h.magic = JG_PLUGIN_MAGIC;
	h.abi_major = JG_ABI_MAJOR;
	h.abi_minor = JG_ABI_MINOR;
	h.size = sizeof(h);
	h.cfg_string = fake_cfg_string;
	h.cfg_secret = fake_cfg_secret;
	return h;
}

static inline const struct jg_mask_ops *ops(void)
{
	return jg_plugin.ops;
}

/* An instance with a hash key, as the core would make it. */
static inline void *test_instance(void)
{
	static const struct fake_opt opts[] = {
		{"hash_key", "0123456789abcdef0123456789abcdef"},
		{"replacement", "[REDACTED]"},
		{NULL, NULL},
	};
	struct jg_config cfg = {opts};
	struct jg_host h = fake_host();
	void *inst = NULL;
	char err[256];

	assert_int_equal(jg_plugin.init(&h, &cfg, &inst, err, sizeof(err)),
			 JG_OK);
	return inst;
}

/* The tests' plugin instance, and cmocka group fixtures for it. */
static void *inst;

static inline int inst_setup(void **state)
{
	(void)state;
	inst = test_instance();
	return 0;
}

static inline int inst_teardown(void **state)
{
	(void)state;
	jg_plugin.fini(inst);
	return 0;
}

static inline void *compile_or_die(void *inst, const char *json)
{
	void *pf = NULL;
	char err[256] = "";
	int rc = ops()->profile_compile(inst, "t", json, &pf, err,
					sizeof(err));
	if (rc != JG_OK)
		fail_msg("profile did not compile: %s (%s)", err, json);
	return pf;
}

/* ---- output sink ---- */

struct sink {
	char *b;
	size_t n, cap;
	int fail_after; /* >0: fail on that call; 0: never */
	int calls;
};

static inline int sink_emit(void *ud, const char *d, size_t n)
{
	struct sink *s = ud;
	if (s->fail_after && ++s->calls >= s->fail_after)
		return -1;
	if (s->n + n + 1 > s->cap) {
		s->cap = (s->n + n + 1) * 2;
		s->b = realloc(s->b, s->cap);
		assert_non_null(s->b);
	}
	memcpy(s->b + s->n, d, n);
	s->n += n;
	s->b[s->n] = 0;
	return 0;
}

/*
 * Mask a NUL-terminated value as text with no column; return a malloc'd
 * copy of what the client would get ("NULL" for JG_MASK_NULL).
 */
static inline char *mask_field(const void *pf, const char *column,
			       const char *type, int carrier, const char *in,
			       struct jg_mask_report *rep)
{
	struct jg_mask_field f = {column, type, carrier};
	struct sink s = {0};
	int rc = ops()->mask_value(pf, &f, in, strlen(in), sink_emit, &s,
				   rep);
	if (rc == JG_DECLINED) {
		assert_int_equal(s.n, 0);
		free(s.b);
		return strdup(in);
	}
	if (rc == JG_MASK_NULL) {
		assert_int_equal(s.n, 0);
		free(s.b);
		return strdup("NULL");
	}
	assert_int_equal(rc, JG_OK);
	if (!s.b)
		return strdup("");
	return s.b;
}

static inline char *mask_text(const void *pf, const char *in)
{
	return mask_field(pf, NULL, NULL, JG_MASK_TEXT, in, NULL);
}

#define assert_masks(pf, in, want)                                            \
	do {                                                                  \
		char *got_ = mask_text((pf), (in));                           \
		if (strcmp(got_, (want)))                                     \
			fail_msg("mask(\"%s\")\n  got  \"%s\"\n  want \"%s\"",  \
				 (in), got_, (want));                         \
		free(got_);                                                   \
	} while (0)

#endif /* PII_FAKE_HOST_H */
