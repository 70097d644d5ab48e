/*
 * From a verified token to an identity.  The subject comes from one claim
 * (default "sub"), groups from one or more claim paths, and every
 * top-level claim that is a string, integer, boolean or an array of those
 * is handed to policy as it is, so rules can match a CI system's
 * "repository", "ref" or "environment" without configuration.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "oidc.h"

#define MAX_VALUE 4096   /* longest claim value handed on */
#define MAX_CLAIMS 256   /* claim values per identity */
#define MAX_GROUPS 256

/* Text of a scalar claim value in buf, or NULL for other types. */
static const char *scalar_text(struct json_object *v, char *buf, size_t n)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
		if ((size_t)json_object_get_string_len(v) > MAX_VALUE)
			return NULL;
		return json_object_get_string(v);
	case json_type_boolean:
		return json_object_get_boolean(v) ? "true" : "false";
	case json_type_int:
		snprintf(buf, n, "%" PRId64, json_object_get_int64(v));
		return buf;
	default:
		return NULL;
	}
}

/* Call set_claim for a scalar or each scalar of an array; counts calls. */
static int expose(const struct oidc *o, struct jg_identity_builder *b,
		  const char *key, struct json_object *v, int *count)
{
	char num[32];
	const char *s;

	if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);
		for (size_t i = 0; i < n; i++)
			if (expose(o, b, key, json_object_array_get_idx(v, i),
				   count) != JG_OK)
				return JG_ERROR;
		return JG_OK;
	}
	if (!(s = scalar_text(v, num, sizeof(num))))
		return JG_OK; /* objects, doubles, null: not for matching */
	if (++*count > MAX_CLAIMS)
		return JG_OK;
	return o->host->identity_set_claim(b, key, s) == JG_OK ? JG_OK
							       : JG_ERROR;
}

static int add_groups(const struct oidc *o, struct jg_identity_builder *b,
		      struct json_object *v, int *count)
{
	if (json_object_is_type(v, json_type_string)) {
		if (++*count > MAX_GROUPS ||
		    (size_t)json_object_get_string_len(v) > MAX_VALUE)
			return JG_OK;
		return o->host->identity_add_group(b,
						   json_object_get_string(v));
	}
	if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);
		for (size_t i = 0; i < n; i++) {
			struct json_object *g = json_object_array_get_idx(v, i);
			if (json_object_is_type(g, json_type_string) &&
			    add_groups(o, b, g, count) != JG_OK)
				return JG_ERROR;
		}
	}
	return JG_OK;
}

int oidc_build_identity(const struct oidc *o, const struct jwt *t,
			int64_t exp, struct jg_identity_builder *b, char *err,
			size_t errlen)
{
	const struct jg_host *h = o->host;
	struct json_object *sub = jwt_claim_path(t->payload, o->subject_claim);
	int count = 0;

	if (!sub || !json_object_is_type(sub, json_type_string) ||
	    json_object_get_string_len(sub) == 0 ||
	    json_object_get_string_len(sub) > 1024) {
		snprintf(err, errlen, "token has no usable subject claim (%s)",
			 o->subject_claim);
		return JG_ERROR;
	}
	if (h->identity_set_subject(b, json_object_get_string(sub)) != JG_OK)
		goto fail;
	for (size_t i = 0; i < o->ngroup_paths; i++) {
		struct json_object *g =
			jwt_claim_path(t->payload, o->group_paths[i]);
		if (g && add_groups(o, b, g, &count) != JG_OK)
			goto fail;
	}
	count = 0;
	json_object_object_foreach(t->payload, key, val)
	{
		if (expose(o, b, key, val, &count) != JG_OK)
			goto fail;
	}
	for (size_t i = 0; i < o->nclaim_paths; i++) {
		struct json_object *v =
			jwt_claim_path(t->payload, o->claim_paths[i]);
		if (v && expose(o, b, o->claim_paths[i], v, &count) != JG_OK)
			goto fail;
	}
	h->identity_set_expiry(b, exp);
	return JG_OK;
fail:
	snprintf(err, errlen, "the identity could not be recorded");
	return JG_ERROR;
}
