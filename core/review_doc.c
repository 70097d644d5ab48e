/*
 * A review as the store keeps it: everything another gateway needs to
 * make the next step (the requester's and approvers' identities with
 * their groups, the binding hash, the approval rule), times in ms.
 */
#include "review_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

static void add_str(struct json_object *o, const char *k, const char *v)
{
	if (v)
		json_object_object_add(o, k, json_object_new_string(v));
}

static void add_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

struct json_object *review_to_doc(const struct review *r)
{
	struct json_object *o = json_object_new_object(), *need, *ap;
	char hex[65];

	add_str(o, "id", r->id);
	add_str(o, "kind", r->kind == REVIEW_GRANT ? "grant" : "action");
	add_str(o, "status", review_status_name(r->status));
	json_object_object_add(o, "requester", identity_to_json(r->requester));
	add_str(o, "connection", r->connection);
	add_str(o, "rule", r->rule);
	add_str(o, "summary", r->summary);
	add_str(o, "session", r->session_id);
	for (size_t i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", r->bind[i]);
	add_str(o, "bind", hex);
	need = json_object_new_array();
	for (size_t g = 0; g < r->need.n; g++) {
		struct json_object *e = json_object_new_object();

		add_str(e, "group", r->need.need[g].group);
		add_int(e, "count", r->need.need[g].count);
		json_object_array_add(need, e);
	}
	json_object_object_add(o, "need", need);
	ap = json_object_new_array();
	for (size_t i = 0; i < r->napprovals; i++) {
		struct json_object *e = json_object_new_object();

		json_object_object_add(e, "who",
				       identity_to_json(r->approvals[i].who));
		add_int(e, "at", r->approvals[i].at);
		json_object_array_add(ap, e);
	}
	json_object_object_add(o, "approvals", ap);
	add_str(o, "decided_by", r->decided_by);
	add_str(o, "reason", r->reason);
	add_int(o, "created_at_ms", r->created_at);
	add_int(o, "expires_at_ms", r->expires_at);
	add_int(o, "decided_at_ms", r->decided_at);
	if (r->detail)
		json_object_object_add(o, "detail", json_object_get(r->detail));
	return o;
}

static const char *str(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) &&
			       json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

static int64_t num(struct json_object *o, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(o, k, &v) ? json_object_get_int64(v)
						   : 0;
}

static char *dup_opt(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int unhex32(const char *s, unsigned char *out)
{
	if (!s || strlen(s) != 64)
		return -1;
	for (size_t i = 0; i < 32; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

static int status_of(const char *name)
{
	for (int st = REVIEW_PENDING; st <= REVIEW_WITHDRAWN; st++)
		if (name && strcmp(name, review_status_name(st)) == 0)
			return st;
	return -1;
}

struct review *review_from_doc(struct json_object *d, char *err,
			       size_t errlen)
{
	struct review *r = calloc(1, sizeof(*r));
	struct json_object *req, *need, *ap, *det;
	const char *id = str(d, "id"), *kind = str(d, "kind");
	size_t n;

	if (!r)
		goto oom;
	if (!id || strlen(id) != REVIEW_ID_LEN - 1 || !kind ||
	    (r->status = status_of(str(d, "status"))) < 0 ||
	    unhex32(str(d, "bind"), r->bind) < 0 ||
	    !json_object_object_get_ex(d, "requester", &req) ||
	    !json_object_object_get_ex(d, "need", &need) ||
	    !json_object_is_type(need, json_type_array) ||
	    !json_object_object_get_ex(d, "approvals", &ap) ||
	    !json_object_is_type(ap, json_type_array) ||
	    json_object_array_length(ap) > REVIEW_MAX_APPROVERS) {
		snprintf(err, errlen, "review document %s is incomplete",
			 id ? id : "(no id)");
		review_free(r);
		return NULL;
	}
	memcpy(r->id, id, REVIEW_ID_LEN);
	r->kind = strcmp(kind, "grant") == 0 ? REVIEW_GRANT : REVIEW_ACTION;
	r->requester = identity_from_json(req, err, errlen);
	r->connection = strdup(str(d, "connection") ? str(d, "connection") : "");
	r->rule = strdup(str(d, "rule") ? str(d, "rule") : "");
	r->summary = strdup(str(d, "summary") ? str(d, "summary") : "");
	r->session_id = dup_opt(str(d, "session"));
	r->decided_by = dup_opt(str(d, "decided_by"));
	r->reason = dup_opt(str(d, "reason"));
	r->created_at = num(d, "created_at_ms");
	r->expires_at = num(d, "expires_at_ms");
	r->decided_at = num(d, "decided_at_ms");
	if (json_object_object_get_ex(d, "detail", &det))
		r->detail = json_object_get(det);
	if (!r->requester || !r->connection || !r->rule || !r->summary)
		goto oom;
	n = json_object_array_length(need);
	r->need.need = calloc(n ? n : 1, sizeof(*r->need.need));
	if (!r->need.need)
		goto oom;
	for (size_t g = 0; g < n; g++) {
		struct json_object *e = json_object_array_get_idx(need, g);
		const char *grp = str(e, "group");
		int64_t c = num(e, "count");

		if (!grp || c < 1 || c > REVIEW_MAX_APPROVERS) {
			snprintf(err, errlen, "review %s: bad approval rule",
				 id);
			review_free(r);
			return NULL;
		}
		r->need.need[g].group = strdup(grp);
		r->need.need[g].count = (unsigned)c;
		r->need.n = g + 1;
		if (!r->need.need[g].group)
			goto oom;
	}
	for (size_t i = 0; i < json_object_array_length(ap); i++) {
		struct json_object *e = json_object_array_get_idx(ap, i), *w;

		if (!json_object_object_get_ex(e, "who", &w) ||
		    !(r->approvals[i].who =
			      identity_from_json(w, err, errlen))) {
			review_free(r);
			return NULL;
		}
		r->approvals[i].at = num(e, "at");
		r->napprovals = i + 1;
	}
	return r;
oom:
	review_free(r);
	snprintf(err, errlen, "out of memory");
	return NULL;
}
