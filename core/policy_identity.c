/*
 * Identities: what an idp plugin (through the host's identity_* services)
 * or a grant says about a caller, in the shape policy matches on.  Pure,
 * so the CLI builds the same thing from --identity JSON.
 */
#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

static bool valid_string(const char *s)
{
	return s && strnlen(s, IDENTITY_MAX_STRING + 1) <= IDENTITY_MAX_STRING;
}

struct jg_identity *identity_new(void)
{
	struct jg_identity *id = calloc(1, sizeof(*id));

	if (id)
		id->magic = IDENTITY_MAGIC;
	return id;
}

static void identity_clear(struct jg_identity *id)
{
	free(id->subject);
	for (size_t i = 0; i < id->ngroups; i++)
		free(id->groups[i]);
	free(id->groups);
	for (size_t i = 0; i < id->nclaims; i++) {
		free((char *)id->claims[i].key);
		free((char *)id->claims[i].value);
	}
	free(id->claims);
	free(id->source);
	free(id->grant_id);
}

void identity_free(struct jg_identity *id)
{
	if (!id)
		return;
	if (id->magic != IDENTITY_MAGIC)
		abort(); /* not an identity, or freed twice */
	identity_clear(id);
	id->magic = 0;
	free(id);
}

int identity_set_subject(struct jg_identity_builder *b, const char *subject)
{
	char *s;

	if (!b || !valid_string(subject) || !*subject)
		return JG_ERROR;
	s = strdup(subject);
	if (!s)
		return JG_ERROR;
	free(b->id.subject);
	b->id.subject = s;
	return JG_OK;
}

int identity_add_group(struct jg_identity_builder *b, const char *group)
{
	char **g;

	if (!b || !valid_string(group) || b->id.ngroups >= IDENTITY_MAX_GROUPS)
		return JG_ERROR;
	if (identity_has_group(&b->id, group))
		return JG_OK;
	g = realloc(b->id.groups, (b->id.ngroups + 1) * sizeof(*g));
	if (!g)
		return JG_ERROR;
	b->id.groups = g;
	g[b->id.ngroups] = strdup(group);
	if (!g[b->id.ngroups])
		return JG_ERROR;
	b->id.ngroups++;
	return JG_OK;
}

int identity_set_claim(struct jg_identity_builder *b, const char *key,
		       const char *value)
{
	struct jg_attr *c;
	char *k, *v;

	if (!b || !valid_string(key) || !*key || !valid_string(value) ||
	    b->id.nclaims >= IDENTITY_MAX_CLAIMS)
		return JG_ERROR;
	c = realloc(b->id.claims, (b->id.nclaims + 1) * sizeof(*c));
	if (!c)
		return JG_ERROR;
	b->id.claims = c;
	k = strdup(key);
	v = strdup(value);
	if (!k || !v) {
		free(k);
		free(v);
		return JG_ERROR;
	}
	c[b->id.nclaims].key = k;
	c[b->id.nclaims].value = v;
	b->id.nclaims++;
	return JG_OK;
}

void identity_set_expiry(struct jg_identity_builder *b, int64_t exp)
{
	if (b)
		b->id.expiry = exp;
}

static int set_string(char **dst, const char *src)
{
	char *s = src ? strdup(src) : NULL;

	if (src && !s)
		return JG_ERROR;
	free(*dst);
	*dst = s;
	return JG_OK;
}

int identity_set_source(struct jg_identity *id, const char *source)
{
	return set_string(&id->source, source);
}

int identity_has_group(const struct jg_identity *id, const char *group)
{
	for (size_t i = 0; id && i < id->ngroups; i++)
		if (strcmp(id->groups[i], group) == 0)
			return 1;
	return 0;
}

struct jg_identity *identity_dup(const struct jg_identity *src)
{
	struct jg_identity *id = identity_new();
	struct jg_identity_builder *b = (struct jg_identity_builder *)id;

	if (!id)
		return NULL;
	id->expiry = src->expiry;
	if ((src->subject && identity_set_subject(b, src->subject)) ||
	    set_string(&id->source, src->source) ||
	    set_string(&id->grant_id, src->grant_id))
		goto fail;
	for (size_t i = 0; i < src->ngroups; i++)
		if (identity_add_group(b, src->groups[i]))
			goto fail;
	for (size_t i = 0; i < src->nclaims; i++)
		if (identity_set_claim(b, src->claims[i].key,
				       src->claims[i].value))
			goto fail;
	return id;
fail:
	identity_free(id);
	return NULL;
}

static int claim_from_json(struct jg_identity_builder *b, const char *key,
			   struct json_object *v)
{
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			if (claim_from_json(b, key,
					    json_object_array_get_idx(v, i)))
				return JG_ERROR;
		return JG_OK;
	}
	if (json_object_is_type(v, json_type_object) ||
	    json_object_is_type(v, json_type_null))
		return JG_OK; /* nested claims are not matchable */
	return identity_set_claim(b, key, json_object_get_string(v));
}

struct jg_identity *identity_from_json(const struct json_object *obj,
				       char *err, size_t errlen)
{
	struct json_object *o = (struct json_object *)obj, *v;
	struct jg_identity *id;
	struct jg_identity_builder *b;

	if (!json_object_is_type(o, json_type_object)) {
		snprintf(err, errlen, "identity: must be a JSON object");
		return NULL;
	}
	id = identity_new();
	if (!id) {
		snprintf(err, errlen, "identity: out of memory");
		return NULL;
	}
	b = (struct jg_identity_builder *)id;
	if (!json_object_object_get_ex(o, "sub", &v) &&
	    !json_object_object_get_ex(o, "subject", &v)) {
		snprintf(err, errlen, "identity: \"sub\" is required");
		goto fail;
	}
	if (!json_object_is_type(v, json_type_string) ||
	    identity_set_subject(b, json_object_get_string(v))) {
		snprintf(err, errlen, "identity.sub: must be a string");
		goto fail;
	}
	if (json_object_object_get_ex(o, "groups", &v)) {
		if (!json_object_is_type(v, json_type_array)) {
			snprintf(err, errlen, "identity.groups: must be a list");
			goto fail;
		}
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			struct json_object *g = json_object_array_get_idx(v, i);

			if (!json_object_is_type(g, json_type_string) ||
			    identity_add_group(b, json_object_get_string(g))) {
				snprintf(err, errlen,
					 "identity.groups[%zu]: bad group", i);
				goto fail;
			}
		}
	}
	if (json_object_object_get_ex(o, "claims", &v)) {
		if (!json_object_is_type(v, json_type_object)) {
			snprintf(err, errlen,
				 "identity.claims: must be an object");
			goto fail;
		}
		json_object_object_foreach(v, key, cv)
		{
			if (claim_from_json(b, key, cv)) {
				snprintf(err, errlen,
					 "identity.claims.%s: bad claim", key);
				goto fail;
			}
		}
	}
	if (json_object_object_get_ex(o, "exp", &v))
		id->expiry = json_object_get_int64(v);
	if (json_object_object_get_ex(o, "source", &v) &&
	    identity_set_source(id, json_object_get_string(v)))
		goto fail;
	return id;
fail:
	identity_free(id);
	return NULL;
}

struct json_object *identity_to_json(const struct jg_identity *id)
{
	struct json_object *o = json_object_new_object();
	struct json_object *g = json_object_new_array();
	struct json_object *c = json_object_new_object();

	json_object_object_add(o, "sub",
			       json_object_new_string(id->subject ? id->subject
								  : ""));
	for (size_t i = 0; i < id->ngroups; i++)
		json_object_array_add(g, json_object_new_string(id->groups[i]));
	json_object_object_add(o, "groups", g);
	/* Repeated claim keys become lists, as in a token. */
	for (size_t i = 0; i < id->nclaims; i++) {
		struct json_object *prev, *val;

		val = json_object_new_string(id->claims[i].value);
		if (!json_object_object_get_ex(c, id->claims[i].key, &prev)) {
			json_object_object_add(c, id->claims[i].key, val);
		} else if (json_object_is_type(prev, json_type_array)) {
			json_object_array_add(prev, val);
		} else {
			struct json_object *l = json_object_new_array();

			json_object_array_add(l, json_object_get(prev));
			json_object_array_add(l, val);
			json_object_object_add(c, id->claims[i].key, l);
		}
	}
	json_object_object_add(o, "claims", c);
	if (id->expiry)
		json_object_object_add(o, "exp",
				       json_object_new_int64(id->expiry));
	if (id->source)
		json_object_object_add(o, "source",
				       json_object_new_string(id->source));
	return o;
}
