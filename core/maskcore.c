/*
 * Masking profiles from the "masking" section, compiled at config load
 * (so a bad profile stops the load, not a query), and core_mask_value:
 * the host service a protocol plugin calls for every value it returns.
 * Everything fails closed: no profile, no plugin, an error from it, and
 * the value is not sent.
 */
#include "config.h"
#include "maskcore.h"
#include "services.h"
#include "session.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mc_profile {
	char *name;
	void *compiled;
};

struct maskcore {
	const struct jg_mask_ops *ops;
	struct mc_profile *profiles;
	size_t n;
	char *default_profile; /* for allowed actions whose rule names none */
};

void maskcore_free(struct maskcore *mc)
{
	if (!mc)
		return;
	free(mc->default_profile);
	for (size_t i = 0; i < mc->n; i++) {
		if (mc->profiles[i].compiled)
			mc->ops->profile_free(mc->profiles[i].compiled);
		free(mc->profiles[i].name);
	}
	free(mc->profiles);
	free(mc);
}

static const struct mc_profile *find(const struct maskcore *mc,
				     const char *name);

static int check_section(const struct json_object *m, char *err,
			 size_t errlen)
{
	json_object *x;

	if (!json_object_is_type(m, json_type_object)) {
		snprintf(err, errlen, "masking: must be an object");
		return -1;
	}
	json_object_object_foreach((json_object *)m, k, v)
	{
		if (strcmp(k, "plugin") && strcmp(k, "options") &&
		    strcmp(k, "profiles") && strcmp(k, "default_profile")) {
			snprintf(err, errlen, "masking: unknown key \"%s\"", k);
			return -1;
		}
		(void)v;
	}
	if (json_object_object_get_ex(m, "profiles", &x) &&
	    !json_object_is_type(x, json_type_object)) {
		snprintf(err, errlen,
			 "masking.profiles: must be an object of profiles");
		return -1;
	}
	return 0;
}

int maskcore_load(struct maskcore **out, const struct jg_mask_ops *ops,
		  void *instance, const struct json_object *masking, char *err,
		  size_t errlen)
{
	struct maskcore *mc = calloc(1, sizeof(*mc));
	json_object *profiles = NULL;

	*out = NULL;
	if (!mc) {
		snprintf(err, errlen, "masking: out of memory");
		return JG_ERROR;
	}
	mc->ops = ops;
	if (masking && check_section(masking, err, errlen))
		goto fail;
	if (masking)
		json_object_object_get_ex(masking, "profiles", &profiles);
	if (profiles && json_object_object_length(profiles) && !ops) {
		snprintf(err, errlen,
			 "masking.plugin: profiles need a masking plugin");
		goto fail;
	}
	if (profiles) {
		size_t n = (size_t)json_object_object_length(profiles);
		mc->profiles = calloc(n ? n : 1, sizeof(*mc->profiles));
		if (!mc->profiles) {
			snprintf(err, errlen, "masking: out of memory");
			goto fail;
		}
		json_object_object_foreach(profiles, name, def)
		{
			struct mc_profile *p = &mc->profiles[mc->n];
			char perr[256] = "";
			if (!json_object_is_type(def, json_type_object)) {
				snprintf(err, errlen,
					 "masking.profiles.%s: must be an "
					 "object",
					 name);
				goto fail;
			}
			if (!(p->name = strdup(name))) {
				snprintf(err, errlen, "masking: out of memory");
				goto fail;
			}
			mc->n++;
			if (ops->profile_compile(
				    instance, name,
				    json_object_to_json_string_ext(
					    def, JSON_C_TO_STRING_PLAIN),
				    &p->compiled, perr,
				    sizeof(perr)) != JG_OK) {
				p->compiled = NULL;
				snprintf(err, errlen, "masking.profiles.%s: %s",
					 name, perr);
				goto fail;
			}
		}
	}
	if (masking &&
	    json_object_object_get_ex(masking, "default_profile", &profiles)) {
		const char *d = json_object_get_string(profiles);

		if (!json_object_is_type(profiles, json_type_string) ||
		    !find(mc, d) || strlen(d) >= 64) {
			snprintf(err, errlen,
				 "masking.default_profile: no masking profile "
				 "\"%.100s\" (define it under "
				 "masking.profiles)",
				 d ? d : "");
			goto fail;
		}
		if (!(mc->default_profile = strdup(d))) {
			snprintf(err, errlen, "masking: out of memory");
			goto fail;
		}
	}
	*out = mc;
	return JG_OK;
fail:
	maskcore_free(mc);
	return JG_ERROR;
}

static const struct mc_profile *find(const struct maskcore *mc,
				     const char *name)
{
	for (size_t i = 0; mc && name && i < mc->n; i++)
		if (!strcmp(mc->profiles[i].name, name))
			return &mc->profiles[i];
	return NULL;
}

const char *maskcore_default(const struct maskcore *mc)
{
	return mc ? mc->default_profile : NULL;
}

int maskcore_has_profile(const struct maskcore *mc, const char *name)
{
	return find(mc, name) != NULL;
}

struct collect {
	char *b;
	size_t n, cap;
};

static int collect(void *ud, const char *d, size_t n)
{
	struct collect *c = ud;

	if (n > SIZE_MAX / 2 - c->n)
		return -1;
	if (c->n + n > c->cap) {
		size_t cap = (c->n + n) * 2 + 64;
		char *b = realloc(c->b, cap);
		if (!b)
			return -1;
		c->b = b;
		c->cap = cap;
	}
	memcpy(c->b + c->n, d, n);
	c->n += n;
	return 0;
}

int maskcore_value(const struct maskcore *mc, const char *profile,
		   const struct jg_mask_field *field, const char *in,
		   size_t len, maskcore_alloc alloc, void *alloc_ud,
		   const char **out, size_t *outlen, int *changed,
		   struct jg_mask_report *rep)
{
	const struct mc_profile *p = find(mc, profile);
	struct collect c = {NULL, 0, 0};
	int rc;

	*out = NULL;
	*outlen = 0;
	*changed = 0;
	if (!p || !p->compiled)
		return JG_ERROR;
	rc = mc->ops->mask_value(p->compiled, field, in, len, collect, &c,
				 rep);
	switch (rc) {
	case JG_DECLINED:
		free(c.b);
		*out = in;
		*outlen = len;
		return JG_OK;
	case JG_MASK_NULL:
		free(c.b);
		*changed = 1;
		return JG_MASK_NULL;
	case JG_OK:
		break;
	default:
		free(c.b);
		return JG_ERROR;
	}
	if (alloc) {
		char *m = alloc(alloc_ud, c.n ? c.n : 1);
		if (!m) {
			free(c.b);
			return JG_ERROR;
		}
		if (c.n)
			memcpy(m, c.b, c.n);
		free(c.b);
		c.b = m;
	} else if (!c.b && !(c.b = malloc(1))) {
		return JG_ERROR;
	}
	*out = c.b;
	*outlen = c.n;
	*changed = 1;
	return JG_OK;
}

static maskcore_lookup lookup_fn;

void maskcore_set_lookup(maskcore_lookup fn)
{
	lookup_fn = fn;
}

const char *maskcore_session_default(const struct jg_session *s)
{
	return lookup_fn ? maskcore_default(lookup_fn(s)) : NULL;
}

/*
 * Per session: the profile found for the session's name (looked up again
 * only when the name changes) and one output buffer reused by every call,
 * so a session streaming millions of masked values neither searches the
 * profile list nor grows its memory per value.
 */
struct mask_session {
	const struct maskcore *mc;
	const struct mc_profile *p;
	unsigned serial; /* s->mask_serial p was found for, plus one */
	struct collect out;
	/* p's compiled profile and the plugin's mask_value (NULL without
	 * one): a value costs one load here, not a chain of them */
	void *compiled;
	int (*mask_value)(const void *profile,
			  const struct jg_mask_field *field, const char *in,
			  size_t len, jg_mask_emit emit, void *ud,
			  struct jg_mask_report *rep);
	/* the plugin's column_rule and mask_values, NULL when it has none
	 * (ABI < 1.3) */
	int (*column_rule)(const void *profile, const char *column);
	int (*mask_values)(const void *profile, struct jg_mask_item *v,
			   size_t n, const uint8_t *named, jg_mask_emit emit,
			   void *ud, struct jg_mask_report *rep);
	uint8_t *named; /* per item of a mask_values call: rules apply */
	size_t named_cap;
};

static void mask_session_free(void *ud)
{
	struct mask_session *ms = ud;

	free(ms->out.b);
	free(ms->named);
	free(ms);
}

static struct mask_session *mask_session(struct jg_session *s)
{
	struct mask_session *ms = s->mask;

	if (ms)
		return ms;
	ms = calloc(1, sizeof(*ms));
	if (!ms || session_cleanup(s, mask_session_free, ms) != JG_OK) {
		free(ms);
		return NULL;
	}
	s->mask = ms;
	return ms;
}

/* The session's masking state with its profile current; NULL: fail
 * closed (out of memory). */
static struct mask_session *mask_session_find(struct jg_session *s);

static inline struct mask_session *mask_session_current(struct jg_session *s)
{
	struct mask_session *ms = s->mask;

	/* the common case inline: this runs once per masked row */
	if (ms && ms->serial == s->mask_serial + 1)
		return ms;
	return mask_session_find(s);
}

static struct mask_session *mask_session_find(struct jg_session *s)
{
	struct mask_session *ms = mask_session(s);
	const struct maskcore *mc;

	if (!ms)
		return NULL;
	if (ms->serial != s->mask_serial + 1) {
		mc = lookup_fn ? lookup_fn(s) : NULL;
		ms->mc = mc;
		ms->p = find(mc, s->mask_profile);
		ms->serial = s->mask_serial + 1;
		ms->compiled = ms->p ? ms->p->compiled : NULL;
		ms->mask_value = ms->compiled ? mc->ops->mask_value : NULL;
		ms->column_rule = ms->compiled && JG_MASK_OPS_HAS(mc->ops,
								   column_rule)
					  ? mc->ops->column_rule
					  : NULL;
		ms->mask_values = ms->compiled && JG_MASK_OPS_HAS(mc->ops,
								   mask_values)
					  ? mc->ops->mask_values
					  : NULL;
	}
	return ms;
}

/*
 * The host service.  No profile named by the session's decisions: nothing
 * to mask.  A profile that cannot be applied: fail closed.  A value that
 * must become NULL comes back as JG_MASK_NULL with *changed set; a plugin
 * that does not know that code treats it as an error and sends nothing.
 * A masked value stays valid until the session's next mask call.
 */
int core_mask_value(struct jg_session *s, const char *column, const char *in,
		    size_t len, const char **out, size_t *outlen,
		    int *changed)
{
	struct jg_mask_field f = {column, NULL, JG_MASK_TEXT};
	struct mask_session *ms;
	int rc;

	if (!s || !out || !outlen || !changed || (!in && len))
		return JG_ERROR;
	*out = NULL;
	*outlen = 0;
	*changed = 0;
	if (!s->mask_profile[0]) {
		*out = in;
		*outlen = len;
		return JG_OK;
	}
	if (!(ms = mask_session_current(s)))
		return JG_ERROR;
	if (!ms->compiled)
		return JG_ERROR;
	ms->out.n = 0;
	rc = ms->mask_value(ms->compiled, &f, in ? in : "", len, collect,
			    &ms->out, NULL);
	switch (rc) {
	case JG_DECLINED:
		*out = in ? in : "";
		*outlen = len;
		return JG_OK;
	case JG_MASK_NULL:
		*changed = 1;
		return JG_MASK_NULL;
	case JG_OK:
		/* an empty replacement still needs a non-NULL pointer */
		*out = ms->out.b ? ms->out.b : "";
		*outlen = ms->out.n;
		*changed = 1;
		return JG_OK;
	default:
		return JG_ERROR;
	}
}

/*
 * A column's hint (struct jg_mask_item): the profile serial it was
 * resolved under, shifted, and whether a rule applies in the low bit.
 * 0 never matches a serial (serials are never 0 here), so a fresh hint
 * is resolved.
 */
static uint32_t hint_key(const struct mask_session *ms)
{
	uint32_t k = (uint32_t)ms->serial & 0x7fffffffU;

	return k ? k : 1;
}

/* Whether column's rule applies to item v: 1, 0, or -1 (fail closed). */
static int item_ruled(const struct mask_session *ms, struct jg_mask_item *v)
{
	uint32_t key = hint_key(ms);
	int r;

	if (!v->column)
		return 0;
	if (!ms->column_rule)
		return 1; /* an older plugin: it looks the name up itself */
	if (v->hint >> 1 != key) {
		r = ms->column_rule(ms->compiled, v->column);
		if (r < 0)
			return -1;
		v->hint = key << 1 | (r > 0);
	}
	return (int)(v->hint & 1);
}

/* mask_values with no values: could a column rule apply?  1, JG_OK or
 * JG_ERROR.  A plugin without column_rule cannot say: assume it could. */
static int profile_has_rules(struct jg_session *s)
{
	struct mask_session *ms;

	if (!s->mask_profile[0])
		return JG_OK;
	if (!(ms = mask_session_current(s)) || !ms->compiled)
		return JG_ERROR;
	if (!ms->column_rule)
		return 1;
	return ms->column_rule(ms->compiled, NULL) > 0 ? 1 : JG_OK;
}

/*
 * A row through the plugin's own mask_values: which items are masked
 * under their name is decided here (the hints), the plugin emits the
 * changed values one after the other into the session buffer and says
 * how long each is, and their pointers follow from that.
 */
static int mask_values_batch(struct mask_session *ms, struct jg_mask_item *v,
			     size_t n, uint32_t norule)
{
	const char *base;
	size_t i, off = 0;
	int ruled;

	if (n > ms->named_cap) {
		uint8_t *nn = realloc(ms->named, n);
		if (!nn)
			return JG_ERROR;
		ms->named = nn;
		ms->named_cap = n;
	}
	for (i = 0; i < n; i++) {
		if (!v[i].in && v[i].len)
			return JG_ERROR;
		if (!v[i].column || (v[i].hint == norule && ms->column_rule))
			ruled = 0;
		else if ((ruled = item_ruled(ms, &v[i])) < 0)
			return JG_ERROR;
		ms->named[i] = (uint8_t)ruled;
	}
	if (ms->mask_values(ms->compiled, v, n, ms->named, collect, &ms->out,
			    NULL) != JG_OK)
		return JG_ERROR;
	base = ms->out.b ? ms->out.b : "";
	for (i = 0; i < n; i++) {
		if (!v[i].changed) {
			v[i].status = JG_OK;
			v[i].out = v[i].in ? v[i].in : "";
			v[i].outlen = v[i].len;
		} else if (v[i].status == JG_MASK_NULL) {
			v[i].out = NULL;
			v[i].outlen = 0;
		} else if (v[i].status == JG_OK &&
			   v[i].outlen <= ms->out.n - off) {
			v[i].out = base + off;
			off += v[i].outlen;
		} else {
			return JG_ERROR; /* more than it emitted */
		}
	}
	return off == ms->out.n ? JG_OK : JG_ERROR;
}

/*
 * The host's mask_values: n mask_value calls in one, each column's rule
 * resolved once while the caller keeps its hint.  Every masked value
 * goes to the one session buffer, so their places are known only when
 * the last is in: while masking, a changed item's outlen holds where its
 * output starts, and the pass at the end (backwards: each output ends
 * where the next one starts) turns that into pointers and lengths.
 */
int core_mask_column_rule(struct jg_session *s, const char *column)
{
	struct mask_session *ms;
	int r;

	if (!s->mask_profile[0])
		return 0;
	if (!column || !(ms = mask_session_current(s)) || !ms->compiled ||
	    !ms->column_rule)
		return JG_ERROR; /* a plugin without column_rule cannot say */
	r = ms->column_rule(ms->compiled, column);
	return r < 0 ? JG_ERROR : r > 0;
}

int core_mask_values(struct jg_session *s, struct jg_mask_item *v, size_t n)
{
	struct jg_mask_field f = {NULL, NULL, JG_MASK_TEXT};
	struct mask_session *ms;
	size_t i, start, end;
	uint32_t norule = 0;
	int rc, ruled;

	if (!s || (!v && n) || n > 65535)
		return JG_ERROR;
	if (!n)
		return profile_has_rules(s);
	ms = NULL;
	if (s->mask_profile[0] && n) {
		if (!(ms = mask_session_current(s)) || !ms->compiled)
			return JG_ERROR;
		ms->out.n = 0;
		/* the hint of a column resolved to have no rule */
		norule = hint_key(ms) << 1;
		if (ms->mask_values)
			return mask_values_batch(ms, v, n, norule);
	}
	for (i = 0; i < n; i++) {
		if (!v[i].in && v[i].len)
			return JG_ERROR;
		v[i].status = JG_OK;
		v[i].changed = 0;
		v[i].out = v[i].in ? v[i].in : "";
		v[i].outlen = v[i].len;
		if (!ms)
			continue; /* no profile: nothing to mask */
		/* a column known to have no rule, the common case, inline */
		if (!v[i].column || (v[i].hint == norule && ms->column_rule))
			ruled = 0;
		else if ((ruled = item_ruled(ms, &v[i])) < 0)
			return JG_ERROR;
		f.column = ruled ? v[i].column : NULL;
		f.type = v[i].type;
		start = ms->out.n;
		rc = ms->mask_value(ms->compiled, &f, v[i].out, v[i].len,
				    collect, &ms->out, NULL);
		switch (rc) {
		case JG_DECLINED:
			break;
		case JG_MASK_NULL:
			v[i].status = JG_MASK_NULL;
			v[i].changed = 1;
			v[i].out = NULL;
			v[i].outlen = 0;
			break;
		case JG_OK:
			v[i].changed = 1;
			v[i].outlen = start; /* made a length below */
			break;
		default:
			return JG_ERROR;
		}
	}
	if (!ms)
		return JG_OK;
	end = ms->out.n;
	for (i = n; i-- > 0;) {
		if (!v[i].changed || v[i].status != JG_OK)
			continue;
		start = v[i].outlen;
		v[i].out = ms->out.b ? ms->out.b + start : "";
		v[i].outlen = end - start;
		end = start;
	}
	return JG_OK;
}
