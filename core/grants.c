/*
 * The grants table: credentials by SHA-256, compared in constant time.
 */
#include "grants.h"
#include "policy.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <json-c/json.h>

#define MAX_GRANTS 100000
#define DROP_AFTER (24 * 3600) /* seconds after expiry */

struct grant {
	char id[GRANT_ID_LEN];
	unsigned char hash[32];
	struct jg_identity *owner;
	char *connection;
	char *purpose;
	char *rule;
	char *review_id;
	char *revoked_by;
	int64_t created_at, expires_at, revoked_at; /* unix seconds */
	int64_t max_sessions, sessions_used;
	int swept; /* its sessions were told to end */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct grant **grants;
static size_t ngrants;

static int64_t clock_real(void)
{
	return (int64_t)time(NULL);
}

static int64_t (*clock_now)(void) = clock_real;

void grants_set_clock(int64_t (*now)(void))
{
	clock_now = now ? now : clock_real;
}

int64_t grants_now(void)
{
	return clock_now();
}

size_t b64url_encode(const unsigned char *in, size_t n, char *out)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
				  "qrstuvwxyz0123456789-_";
	size_t o = 0, i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 |
			     in[i + 2];

		out[o++] = tab[v >> 18];
		out[o++] = tab[(v >> 12) & 63];
		out[o++] = tab[(v >> 6) & 63];
		out[o++] = tab[v & 63];
	}
	if (n - i == 1) {
		out[o++] = tab[in[i] >> 2];
		out[o++] = tab[(in[i] & 3) << 4];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];

		out[o++] = tab[v >> 10];
		out[o++] = tab[(v >> 4) & 63];
		out[o++] = tab[(v & 15) << 2];
	}
	out[o] = '\0';
	return o;
}

static void hex(const unsigned char *in, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", in[i]);
}

static int unhex(const char *s, unsigned char *out, size_t n)
{
	if (!s || strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return 0;
}

static void grant_free(struct grant *g)
{
	if (!g)
		return;
	identity_free(g->owner);
	free(g->connection);
	free(g->purpose);
	free(g->rule);
	free(g->review_id);
	free(g->revoked_by);
	free(g);
}

/* Caller holds lock. */
static struct grant *find_id(const char *id)
{
	for (size_t i = 0; i < ngrants; i++)
		if (strcmp(grants[i]->id, id) == 0)
			return grants[i];
	return NULL;
}

/*
 * Caller holds lock.  Every grant's hash is compared, each in constant
 * time, and no comparison stops early: how long this takes says nothing
 * about how much of a guess was right.
 */
static struct grant *find_hash(const unsigned char *h)
{
	struct grant *hit = NULL;

	for (size_t i = 0; i < ngrants; i++)
		if (gnutls_memcmp(grants[i]->hash, h, 32) == 0)
			hit = grants[i];
	return hit;
}

static int add(struct grant *g)
{
	struct grant **p;

	if (ngrants >= MAX_GRANTS)
		return -1;
	p = realloc(grants, (ngrants + 1) * sizeof(*p));
	if (!p)
		return -1;
	grants = p;
	grants[ngrants++] = g;
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int grants_create(const struct grant_request *rq, char *cred, char *id,
		  struct json_object **doc, char *err, size_t errlen)
{
	unsigned char rnd[GRANT_RANDOM_BYTES], idr[8];
	struct grant *g = calloc(1, sizeof(*g));

	if (doc)
		*doc = NULL;
	if (!g || !rq->owner || !rq->connection || !rq->purpose ||
	    rq->ttl_ms <= 0) {
		free(g);
		snprintf(err, errlen, "grant: bad request");
		return JG_ERROR;
	}
	/* GNUTLS_RND_KEY: the strongest level; this is a secret key. */
	if (gnutls_rnd(GNUTLS_RND_KEY, rnd, sizeof(rnd)) < 0 ||
	    gnutls_rnd(GNUTLS_RND_NONCE, idr, sizeof(idr)) < 0) {
		free(g);
		snprintf(err, errlen, "grant: no random numbers");
		return JG_ERROR;
	}
	memcpy(cred, GRANT_PREFIX, 3);
	b64url_encode(rnd, sizeof(rnd), cred + 3);
	gnutls_memset(rnd, 0, sizeof(rnd));
	gnutls_hash_fast(GNUTLS_DIG_SHA256, cred, strlen(cred), g->hash);
	memcpy(g->id, "g-", 2);
	hex(idr, sizeof(idr), g->id + 2);
	g->owner = identity_dup(rq->owner);
	g->connection = strdup(rq->connection);
	g->purpose = strdup(rq->purpose);
	g->rule = dup_or_null(rq->rule);
	g->review_id = dup_or_null(rq->review_id);
	g->created_at = clock_now();
	g->expires_at = g->created_at + (rq->ttl_ms + 999) / 1000;
	g->max_sessions = rq->max_sessions;
	if (!g->owner || !g->connection || !g->purpose ||
	    (rq->rule && !g->rule) || (rq->review_id && !g->review_id)) {
		grant_free(g);
		gnutls_memset(cred, 0, GRANT_CRED_LEN);
		snprintf(err, errlen, "grant: out of memory");
		return JG_ERROR;
	}
	pthread_mutex_lock(&lock);
	if (add(g) < 0) {
		pthread_mutex_unlock(&lock);
		grant_free(g);
		gnutls_memset(cred, 0, GRANT_CRED_LEN);
		snprintf(err, errlen, "grant: too many grants");
		return JG_ERROR;
	}
	memcpy(id, g->id, GRANT_ID_LEN);
	pthread_mutex_unlock(&lock);
	if (doc)
		*doc = grant_doc(id);
	return JG_OK;
}

int grants_check(const char *credential, size_t len, const char *conn,
		 struct jg_identity **owner, char *grant_id, const char **code,
		 char *err, size_t errlen)
{
	unsigned char h[32];
	struct grant *g;
	int64_t now = clock_now();

	*owner = NULL;
	if (len < 3 || memcmp(credential, GRANT_PREFIX, 3) != 0)
		return JG_DECLINED;
	gnutls_hash_fast(GNUTLS_DIG_SHA256, credential, len, h);
	pthread_mutex_lock(&lock);
	g = find_hash(h);
	if (!g) {
		*code = GRANT_E_UNKNOWN;
		snprintf(err, errlen, "not a valid grant credential");
	} else if (g->revoked_at) {
		*code = GRANT_E_REVOKED;
		snprintf(err, errlen, "grant %s was revoked", g->id);
	} else if (now >= g->expires_at) {
		*code = GRANT_E_EXPIRED;
		snprintf(err, errlen, "grant %s has expired", g->id);
	} else if (!conn || strcmp(conn, g->connection) != 0) {
		*code = GRANT_E_CONNECTION;
		snprintf(err, errlen, "grant %s is for connection %s, not %s",
			 g->id, g->connection, conn ? conn : "(none)");
	} else if (g->max_sessions && g->sessions_used >= g->max_sessions) {
		*code = GRANT_E_SESSIONS;
		snprintf(err, errlen, "grant %s has opened all its %lld "
				      "sessions",
			 g->id, (long long)g->max_sessions);
	} else {
		*owner = identity_dup(g->owner);
		if (*owner) {
			(*owner)->expiry = g->expires_at;
			if (identity_set_source(*owner, "grant") ||
			    !((*owner)->grant_id = strdup(g->id))) {
				identity_free(*owner);
				*owner = NULL;
			}
		}
		if (*owner) {
			g->sessions_used++;
			memcpy(grant_id, g->id, GRANT_ID_LEN);
		} else {
			*code = "internal";
			snprintf(err, errlen, "out of memory");
		}
	}
	pthread_mutex_unlock(&lock);
	return *owner ? JG_OK : JG_ERROR;
}

int grants_revoke(const char *id, const char *by)
{
	struct grant *g;
	int rc = JG_DECLINED;

	pthread_mutex_lock(&lock);
	g = find_id(id);
	if (g && g->revoked_at) {
		rc = JG_ERROR;
	} else if (g) {
		g->revoked_at = clock_now();
		g->revoked_by = dup_or_null(by);
		rc = JG_OK;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

void grant_end_reason(const char *id, char *buf, size_t len)
{
	struct grant *g;

	pthread_mutex_lock(&lock);
	g = find_id(id);
	if (g && g->revoked_at)
		snprintf(buf, len, "grant %s was revoked%s%s", id,
			 g->revoked_by ? " by " : "",
			 g->revoked_by ? g->revoked_by : "");
	else if (g && clock_now() >= g->expires_at)
		snprintf(buf, len, "grant %s expired", id);
	else
		snprintf(buf, len, "grant %s ended", id);
	pthread_mutex_unlock(&lock);
}

static const char *status_of(const struct grant *g, int64_t now)
{
	if (g->revoked_at)
		return "revoked";
	if (now >= g->expires_at)
		return "expired";
	return "active";
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	if (v)
		json_object_object_add(o, k, json_object_new_string(v));
}

static void add_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

/* Caller holds lock. */
static struct json_object *to_json(const struct grant *g, int with_hash)
{
	struct json_object *o = json_object_new_object();
	char h[65];

	add_str(o, "id", g->id);
	add_str(o, "subject", g->owner->subject);
	add_str(o, "connection", g->connection);
	add_str(o, "purpose", g->purpose);
	add_str(o, "rule", g->rule);
	add_str(o, "review", g->review_id);
	add_int(o, "created_at", g->created_at);
	add_int(o, "expires_at", g->expires_at);
	add_int(o, "max_sessions", g->max_sessions);
	add_int(o, "sessions_used", g->sessions_used);
	if (g->revoked_at) {
		add_int(o, "revoked_at", g->revoked_at);
		add_str(o, "revoked_by", g->revoked_by);
	}
	if (with_hash) {
		hex(g->hash, sizeof(g->hash), h);
		add_str(o, "sha256", h);
		json_object_object_add(o, "owner", identity_to_json(g->owner));
	} else {
		add_str(o, "status", status_of(g, clock_now()));
	}
	return o;
}

struct json_object *grant_json(const char *id)
{
	struct json_object *o = NULL;
	struct grant *g;

	pthread_mutex_lock(&lock);
	g = find_id(id);
	if (g)
		o = to_json(g, 0);
	pthread_mutex_unlock(&lock);
	return o;
}

struct json_object *grant_doc(const char *id)
{
	struct json_object *o = NULL;
	struct grant *g;

	pthread_mutex_lock(&lock);
	g = find_id(id);
	if (g)
		o = to_json(g, 1);
	pthread_mutex_unlock(&lock);
	return o;
}

int grant_owner(const char *id, char *buf, size_t len)
{
	struct grant *g;
	int rc = -1;

	pthread_mutex_lock(&lock);
	g = find_id(id);
	if (g) {
		snprintf(buf, len, "%s", g->owner->subject);
		rc = 0;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

struct json_object *grants_list_json(const char *subject)
{
	struct json_object *a = json_object_new_array();

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < ngrants; i++)
		if (!subject || strcmp(grants[i]->owner->subject, subject) == 0)
			json_object_array_add(a, to_json(grants[i], 0));
	pthread_mutex_unlock(&lock);
	return a;
}

static const char *doc_str(struct json_object *d, const char *k)
{
	struct json_object *v;

	if (json_object_object_get_ex(d, k, &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

static int64_t doc_int(struct json_object *d, const char *k)
{
	struct json_object *v;

	return json_object_object_get_ex(d, k, &v) ? json_object_get_int64(v)
						   : 0;
}

int grants_load_doc(struct json_object *d, char *err, size_t errlen)
{
	struct json_object *own = NULL;
	struct grant *g = calloc(1, sizeof(*g));
	const char *id = doc_str(d, "id");

	if (!g)
		goto oom;
	if (!id || strlen(id) != GRANT_ID_LEN - 1 ||
	    unhex(doc_str(d, "sha256"), g->hash, sizeof(g->hash)) < 0 ||
	    !json_object_object_get_ex(d, "owner", &own) ||
	    !doc_str(d, "connection") || !doc_str(d, "purpose")) {
		snprintf(err, errlen, "grant document %s is incomplete",
			 id ? id : "(no id)");
		grant_free(g);
		return JG_ERROR;
	}
	memcpy(g->id, id, GRANT_ID_LEN);
	g->owner = identity_from_json(own, err, errlen);
	g->connection = strdup(doc_str(d, "connection"));
	g->purpose = strdup(doc_str(d, "purpose"));
	g->rule = dup_or_null(doc_str(d, "rule"));
	g->review_id = dup_or_null(doc_str(d, "review"));
	g->revoked_by = dup_or_null(doc_str(d, "revoked_by"));
	g->created_at = doc_int(d, "created_at");
	g->expires_at = doc_int(d, "expires_at");
	g->revoked_at = doc_int(d, "revoked_at");
	g->max_sessions = doc_int(d, "max_sessions");
	g->sessions_used = doc_int(d, "sessions_used");
	if (!g->owner || !g->connection || !g->purpose)
		goto oom;
	pthread_mutex_lock(&lock);
	if (find_id(g->id) || add(g) < 0) {
		pthread_mutex_unlock(&lock);
		grant_free(g);
		snprintf(err, errlen, "grant %s: already loaded or too many",
			 id);
		return JG_ERROR;
	}
	pthread_mutex_unlock(&lock);
	return JG_OK;
oom:
	grant_free(g);
	snprintf(err, errlen, "out of memory");
	return JG_ERROR;
}

int grants_update_doc(struct json_object *d, char *err, size_t errlen)
{
	const char *id = doc_str(d, "id");
	struct grant *g;
	int64_t used = doc_int(d, "sessions_used");
	int64_t revoked = doc_int(d, "revoked_at");

	if (!id || strlen(id) != GRANT_ID_LEN - 1) {
		snprintf(err, errlen, "grant document without an id");
		return JG_ERROR;
	}
	pthread_mutex_lock(&lock);
	g = find_id(id);
	if (g) {
		/* What can change after creation: revocation and the count
		 * (never down: sessions counted here may not be stored yet). */
		if (revoked && !g->revoked_at) {
			g->revoked_at = revoked;
			free(g->revoked_by);
			g->revoked_by = dup_or_null(doc_str(d, "revoked_by"));
		}
		if (used > g->sessions_used)
			g->sessions_used = used;
	}
	pthread_mutex_unlock(&lock);
	return g ? JG_OK : grants_load_doc(d, err, errlen);
}

void grants_sweep(int64_t grace_ms, void (*fn)(void *ud, const char *id),
		  void *ud)
{
	int64_t now = clock_now();
	char (*ids)[GRANT_ID_LEN] = NULL;
	size_t nids = 0, k = 0;

	pthread_mutex_lock(&lock);
	ids = calloc(ngrants + 1, sizeof(*ids));
	for (size_t i = 0; i < ngrants; i++) {
		struct grant *g = grants[i];
		int due = g->revoked_at ||
			  now * 1000 >= g->expires_at * 1000 + grace_ms;

		if (due && !g->swept && ids) {
			g->swept = 1;
			memcpy(ids[nids++], g->id, GRANT_ID_LEN);
		}
		if (now >= g->expires_at + DROP_AFTER &&
		    (g->swept || !ids)) {
			grant_free(g);
			continue;
		}
		grants[k++] = g;
	}
	ngrants = k;
	pthread_mutex_unlock(&lock);
	/* Outside the lock: fn may post to other threads. */
	for (size_t i = 0; i < nids; i++)
		fn(ud, ids[i]);
	free(ids);
}

void grants_reset(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < ngrants; i++)
		grant_free(grants[i]);
	free(grants);
	grants = NULL;
	ngrants = 0;
	pthread_mutex_unlock(&lock);
}
