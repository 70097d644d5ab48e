/*
 * jitgate plugin SDK: masking plugins.
 *
 * A masking profile is compiled once from config and then used from every
 * worker at once, so masking functions must be thread-safe on a compiled
 * profile and keep per-call state in the caller's memory.
 */
#ifndef JITGATE_MASK_H
#define JITGATE_MASK_H

#include <jitgate/host.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Sink for masked output: called with consecutive pieces. */
typedef int (*jg_mask_emit)(void *ud, const char *data, size_t n);

/** What a mask call did, for the record (never the values). */
struct jg_mask_report {
	uint32_t total;            /**< values or spans masked */
	uint32_t ndetectors;       /**< entries used in names/counts */
	const char *names[16];     /**< detector or rule names */
	uint32_t counts[16];       /**< how many each */
};

/** Operations of a JG_KIND_MASK plugin (descriptor ops). */
struct jg_mask_ops {
	uint32_t size; /**< sizeof(struct jg_mask_ops) at build time */

	/**
	 * Compile a named profile from its JSON description (detectors,
	 * column rules, strategies).  Errors go to err.
	 */
	int (*profile_compile)(void *instance, const char *name,
			       const char *json, void **profile, char *err,
			       size_t errlen);

	/** Free a compiled profile. */
	void (*profile_free)(void *profile);

	/**
	 * Mask one whole value.  column is "schema.table.column", a key name
	 * or NULL; carrier says how the output must stay well formed
	 * ("text", "json-string").  Output goes to emit; JG_DECLINED means
	 * nothing was masked and nothing was emitted (send the original).
	 */
	int (*mask_value)(const void *profile, const char *column,
			  const char *carrier, const char *in, size_t len,
			  jg_mask_emit emit, void *ud,
			  struct jg_mask_report *rep);

	/** Size of the per-stream state mask_stream needs (caller-owned). */
	size_t (*stream_state_size)(const void *profile);

	/**
	 * Mask a stream in chunks whose boundaries may fall inside a value.
	 * state is stream_state_size() bytes, zeroed before the first chunk.
	 * Call with in == NULL at the end to flush held-back bytes.
	 */
	int (*mask_stream)(const void *profile, void *state, const char *in,
			   size_t len, jg_mask_emit emit, void *ud,
			   struct jg_mask_report *rep);
};

#ifdef __cplusplus
}
#endif

#endif /* JITGATE_MASK_H */
