/*
 * The core side of masking: the "masking" section's profiles, compiled
 * once per configuration generation with the mask plugin's ops, and the
 * service behind the host table's mask_value (core_mask_value).
 *
 * Hooking it up (runtime / session owners):
 *   - at config load, after the mask plugin's instance is made from
 *     masking.plugin and masking.options:
 *         maskcore_load(&mc, ops, instance, masking_json, err, errlen)
 *     keep mc with the generation; maskcore_free(mc) when it goes, before
 *     the instance's fini.  Policy can check decisions' profiles with
 *     maskcore_has_profile().
 *   - once at start: maskcore_set_lookup(fn), fn(s) returning the maskcore
 *     of the generation session s runs under.  Until then, and for a
 *     session whose decision named a profile that is not there,
 *     core_mask_value fails closed (JG_ERROR).
 */
#ifndef JG_MASKCORE_H
#define JG_MASKCORE_H

#include <stddef.h>

#include <jitgate/mask.h>

struct json_object;
struct maskcore;

/*
 * Compile every profile of the "masking" section ({"plugin", "options",
 * "profiles": {NAME: {...}}}) with ops/instance.  masking may be NULL (no
 * masking configured).  On failure return JG_ERROR with
 * "masking.profiles.NAME: what is wrong" in err.
 */
int maskcore_load(struct maskcore **out, const struct jg_mask_ops *ops,
		  void *instance, const struct json_object *masking, char *err,
		  size_t errlen);
void maskcore_free(struct maskcore *mc);

/* masking.default_profile: the profile of an allowed action whose rule
 * names none (so a statement that falls through to a broader allow rule
 * is still masked), or NULL. */
const char *maskcore_default(const struct maskcore *mc);

/* Non-zero if the section defines profile name. */
int maskcore_has_profile(const struct maskcore *mc, const char *name);

/* Where memory for a masked value comes from (session memory). */
typedef void *(*maskcore_alloc)(void *ud, size_t n);

/*
 * Mask one value under profile.  JG_OK: *out, *outlen is what to send:
 * in itself when *changed is 0, else memory from alloc (malloc when alloc
 * is NULL: the caller frees).  JG_MASK_NULL: send NULL (*out is NULL).
 * JG_ERROR: unknown profile or the plugin failed: send nothing.  rep may
 * be NULL; it is added to.
 */
int maskcore_value(const struct maskcore *mc, const char *profile,
		   const struct jg_mask_field *field, const char *in,
		   size_t len, maskcore_alloc alloc, void *alloc_ud,
		   const char **out, size_t *outlen, int *changed,
		   struct jg_mask_report *rep);

/* How core_mask_value finds a session's maskcore (see above). */
struct jg_session;
typedef const struct maskcore *(*maskcore_lookup)(const struct jg_session *s);
void maskcore_set_lookup(maskcore_lookup fn);
/* maskcore_default() of the maskcore session s runs under. */
const char *maskcore_session_default(const struct jg_session *s);

/*
 * core/maskload.c, for the runtime: make the "masking" section's plugin
 * instance and compile its profiles into rt->mask (maskcore_free it
 * before the conf goes), and check every policy rule's "mask" names one.
 * -1 with "FILE:LINE: KEY.PATH: what" in err.
 */
struct rt;
int maskcore_setup(struct rt *rt, char *err, size_t errlen);
/* Once at start: sessions mask with their generation's rt->mask. */
void maskcore_start(void);

#endif /* JG_MASKCORE_H */
