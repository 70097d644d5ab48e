/*
 * The reviews table and the approval arithmetic.
 */
#include "review_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <json-c/json.h>

#define MAX_REVIEWS 100000
#define DEFAULT_TIMEOUT_MS (3600 * 1000)
#define DROP_AFTER_MS (24 * 3600 * 1000LL)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct review **reviews;
static size_t nreviews;
static review_hook hook, remote_hook;
static void *hook_ud, *remote_hook_ud;

static int64_t clock_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t (*now_ms)(void) = clock_real;

void reviews_set_clock(int64_t (*fn)(void))
{
	now_ms = fn ? fn : clock_real;
}

void review_set_hook(review_hook fn, void *ud)
{
	hook = fn;
	hook_ud = ud;
}

void review_set_remote_hook(review_hook fn, void *ud)
{
	remote_hook = fn;
	remote_hook_ud = ud;
}

int64_t review_now(void)
{
	return now_ms();
}

void review_lock(void)
{
	pthread_mutex_lock(&lock);
}

void review_unlock(void)
{
	pthread_mutex_unlock(&lock);
}

const char *review_status_name(int status)
{
	static const char *const names[] = {"pending", "approved", "denied",
					    "expired", "used",	  "withdrawn"};

	return status >= 0 && status <= REVIEW_WITHDRAWN ? names[status]
							 : "unknown";
}

/* Length-prefixed fields so ("ab","c") and ("a","bc") hash apart. */
static void hash_field(gnutls_hash_hd_t h, const char *s)
{
	uint32_t n = s ? (uint32_t)strlen(s) : 0xffffffffu;
	unsigned char len[4] = {n >> 24, n >> 16, n >> 8, n};

	gnutls_hash(h, len, 4);
	if (s)
		gnutls_hash(h, s, strlen(s));
}

void review_hash_action(const struct jg_action *a, const char *conn,
			unsigned char out[32])
{
	gnutls_hash_hd_t h;

	gnutls_hash_init(&h, GNUTLS_DIG_SHA256);
	hash_field(h, "action");
	hash_field(h, conn);
	hash_field(h, a->type);
	hash_field(h, a->text);
	for (size_t i = 0; i < a->nattrs; i++) {
		hash_field(h, a->attrs[i].key);
		hash_field(h, a->attrs[i].value);
	}
	gnutls_hash_deinit(h, out);
}

void review_hash_grant(const char *conn, const char *purpose, int64_t ttl_ms,
		       int64_t max_sessions, unsigned char out[32])
{
	gnutls_hash_hd_t h;
	char num[64];

	gnutls_hash_init(&h, GNUTLS_DIG_SHA256);
	hash_field(h, "grant");
	hash_field(h, conn);
	hash_field(h, purpose);
	snprintf(num, sizeof(num), "%lld/%lld", (long long)ttl_ms,
		 (long long)max_sessions);
	hash_field(h, num);
	gnutls_hash_deinit(h, out);
}

void review_free(struct review *r)
{
	identity_free(r->requester);
	free(r->connection);
	free(r->rule);
	free(r->summary);
	free(r->session_id);
	for (size_t i = 0; i < r->need.n; i++)
		free(r->need.need[i].group);
	free(r->need.need);
	for (size_t i = 0; i < r->napprovals; i++)
		identity_free(r->approvals[i].who);
	free(r->decided_by);
	free(r->reason);
	json_object_put(r->detail);
	free(r);
}

struct review *review_find(const char *id)
{
	for (size_t i = 0; i < nreviews; i++)
		if (strcmp(reviews[i]->id, id) == 0)
			return reviews[i];
	return NULL;
}

static char *sdup(const char *s)
{
	return strdup(s ? s : "");
}

struct review *review_build(const struct review_request *rq, char *err,
			    size_t errlen)
{
	struct review *r = calloc(1, sizeof(*r));
	unsigned char rnd[8];
	int64_t timeout;

	if (!r || !rq->requester || !rq->approval || rq->approval->n == 0)
		goto bad;
	r->kind = rq->kind;
	r->requester = identity_dup(rq->requester);
	r->connection = sdup(rq->connection);
	r->rule = sdup(rq->rule);
	r->summary = sdup(rq->summary);
	r->session_id = rq->session_id ? strdup(rq->session_id) : NULL;
	memcpy(r->bind, rq->bind, 32);
	r->need.need = calloc(rq->approval->n, sizeof(*r->need.need));
	if (!r->requester || !r->connection || !r->rule || !r->summary ||
	    !r->need.need)
		goto bad;
	for (size_t i = 0; i < rq->approval->n; i++) {
		r->need.need[i].group = strdup(rq->approval->need[i].group);
		r->need.need[i].count = rq->approval->need[i].count;
		r->need.n = i + 1;
		if (!r->need.need[i].group)
			goto bad;
	}
	timeout = rq->timeout_ms       ? rq->timeout_ms
		  : rq->approval->timeout_ms ? rq->approval->timeout_ms
					     : DEFAULT_TIMEOUT_MS;
	r->created_at = now_ms();
	r->expires_at = r->created_at + timeout;
	if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) < 0)
		goto bad;
	strcpy(r->id, "r-");
	for (size_t i = 0; i < sizeof(rnd); i++)
		sprintf(r->id + 2 + 2 * i, "%02x", rnd[i]);
	/* Taken last: on failure the caller still owns rq->detail. */
	r->detail = rq->detail;
	return r;
bad:
	if (r)
		review_free(r);
	snprintf(err, errlen, "cannot create the review");
	return NULL;
}

/* Caller holds lock. */
static int insert_locked(struct review *r)
{
	struct review **p;

	if (nreviews >= MAX_REVIEWS)
		return -1;
	p = realloc(reviews, (nreviews + 1) * sizeof(*p));
	if (!p)
		return -1;
	reviews = p;
	reviews[nreviews++] = r;
	return 0;
}

int review_create(const struct review_request *rq, char *id, char *err,
		  size_t errlen)
{
	struct review *r = review_build(rq, err, errlen);

	if (!r)
		return JG_ERROR;
	pthread_mutex_lock(&lock);
	if (insert_locked(r) < 0) {
		pthread_mutex_unlock(&lock);
		r->detail = NULL;
		review_free(r);
		snprintf(err, errlen, "cannot create the review");
		return JG_ERROR;
	}
	memcpy(id, r->id, REVIEW_ID_LEN);
	pthread_mutex_unlock(&lock);
	review_fire(id, "review.created", REVIEW_PENDING, 0);
	return JG_OK;
}

int review_install(struct review *r, int *old_status, size_t *old_approvals)
{
	struct review *cur;

	*old_status = -1;
	*old_approvals = 0;
	r->stored_status = r->status;
	pthread_mutex_lock(&lock);
	cur = review_find(r->id);
	if (cur && cur->version >= r->version) {
		pthread_mutex_unlock(&lock);
		review_free(r);
		return 0;
	}
	if (cur) {
		*old_status = cur->stored_status;
		*old_approvals = cur->napprovals;
		for (size_t i = 0; i < nreviews; i++)
			if (reviews[i] == cur)
				reviews[i] = r;
		review_free(cur);
	} else if (insert_locked(r) < 0) {
		pthread_mutex_unlock(&lock);
		review_free(r);
		return 0;
	}
	pthread_mutex_unlock(&lock);
	return 1;
}

void review_forget_old(void)
{
	int64_t now = now_ms();
	size_t k = 0;

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nreviews; i++) {
		struct review *r = reviews[i];

		if (r->stored_status != REVIEW_PENDING &&
		    now >= r->decided_at + DROP_AFTER_MS) {
			review_free(r);
			continue;
		}
		reviews[k++] = r;
	}
	nreviews = k;
	pthread_mutex_unlock(&lock);
}

size_t review_due(char (**out)[REVIEW_ID_LEN])
{
	char (*ids)[REVIEW_ID_LEN];
	size_t n = 0;
	int64_t now = now_ms();

	pthread_mutex_lock(&lock);
	ids = calloc(nreviews + 1, sizeof(*ids));
	for (size_t i = 0; ids && i < nreviews; i++)
		if (reviews[i]->stored_status == REVIEW_PENDING &&
		    now >= reviews[i]->expires_at)
			memcpy(ids[n++], reviews[i]->id, REVIEW_ID_LEN);
	pthread_mutex_unlock(&lock);
	*out = ids;
	return n;
}

/*
 * Can the approvals so far fill every group's slots, each person in one
 * slot of a group they belong to?  Bipartite matching (Kuhn): a greedy
 * fill could put someone in both dba and security into dba and then
 * refuse a second, dba-only approver whose approval should count.
 */
struct slots {
	const struct review *r;
	size_t nslots;
	size_t group_of[REVIEW_MAX_APPROVERS * 2];
	int owner[REVIEW_MAX_APPROVERS * 2]; /* slot -> approval, -1 free */
	int seen[REVIEW_MAX_APPROVERS * 2];
};

static int try_assign(struct slots *s, size_t a)
{
	const struct jg_identity *who = s->r->approvals[a].who;

	for (size_t k = 0; k < s->nslots; k++) {
		if (s->seen[k] ||
		    !identity_has_group(who,
					s->r->need.need[s->group_of[k]].group))
			continue;
		s->seen[k] = 1;
		if (s->owner[k] < 0 || try_assign(s, (size_t)s->owner[k])) {
			s->owner[k] = (int)a;
			return 1;
		}
	}
	return 0;
}

/* Returns the number of filled slots; *total gets how many there are;
 * filled[g] (if not NULL) the filled slots per group. */
static size_t match(const struct review *r, size_t *total, unsigned *filled)
{
	struct slots s = {.r = r};
	size_t got = 0;

	for (size_t g = 0; g < r->need.n; g++)
		for (unsigned c = 0; c < r->need.need[g].count; c++)
			if (s.nslots < REVIEW_MAX_APPROVERS * 2)
				s.group_of[s.nslots++] = g;
	for (size_t k = 0; k < s.nslots; k++)
		s.owner[k] = -1;
	for (size_t a = 0; a < r->napprovals; a++) {
		memset(s.seen, 0, sizeof(s.seen));
		got += (size_t)try_assign(&s, a);
	}
	if (filled) {
		memset(filled, 0, r->need.n * sizeof(*filled));
		for (size_t k = 0; k < s.nslots; k++)
			if (s.owner[k] >= 0)
				filled[s.group_of[k]]++;
	}
	*total = s.nslots;
	return got;
}

/* Would approver's approval fill a slot nobody else could?  It counts
 * if it raises the matching size. */
static int would_count(struct review *r, const struct jg_identity *who)
{
	size_t total, before = match(r, &total, NULL), after;

	r->approvals[r->napprovals].who = (struct jg_identity *)who;
	r->napprovals++;
	after = match(r, &total, NULL);
	r->napprovals--;
	r->approvals[r->napprovals].who = NULL;
	return after > before;
}

static void expire_locked(struct review *r, int64_t now)
{
	if (r->status == REVIEW_PENDING && now >= r->expires_at) {
		r->status = REVIEW_EXPIRED;
		r->decided_at = r->expires_at;
	}
}

void review_fire(const char *id, const char *event, int status, int remote)
{
	review_hook fn = remote ? remote_hook : hook;
	struct json_object *j;

	if (!fn)
		return;
	j = review_json(id);
	fn(remote ? remote_hook_ud : hook_ud, id, event, j, status);
	json_object_put(j);
}

static void notify(const char *id, const char *event, int status)
{
	review_fire(id, event, status, 0);
}

/* Caller holds lock.  NULL with code and err when there is no such id. */
static struct review *find_or_say(const char *id, const char **code,
				  char *err, size_t errlen)
{
	struct review *r = review_find(id);

	if (!r) {
		*code = REVIEW_E_NOTFOUND;
		snprintf(err, errlen, "no review %s", id);
	}
	return r;
}

int review_decide_on(struct review *r, const struct jg_identity *approver,
		     int is_approver, int approve, const char *reason,
		     const char **event, const char **code, char *err,
		     size_t errlen)
{
	const char *id = r->id;

	*event = NULL;
	if (r->status == REVIEW_WITHDRAWN) {
		/* its own code: nobody waits for the action any more, which
		 * is not the same as someone having decided it */
		*code = REVIEW_E_WITHDRAWN;
		snprintf(err, errlen,
			 "review %s was withdrawn by its requester (%s): "
			 "the action will not run, there is nothing left to "
			 "decide",
			 id, r->reason && *r->reason ? r->reason : "withdrawn");
		return JG_ERROR;
	}
	if (r->status != REVIEW_PENDING) {
		*code = REVIEW_E_DECIDED;
		snprintf(err, errlen, "review %s is %s", id,
			 review_status_name(r->status));
		return JG_ERROR;
	}
	if (!approver || !approver->subject ||
	    strcmp(approver->subject, r->requester->subject) == 0) {
		*code = REVIEW_E_SELF;
		snprintf(err, errlen, "you requested review %s; someone else "
				      "must decide it",
			 id);
		return JG_ERROR;
	}
	if (!is_approver) {
		*code = REVIEW_E_NOT_APPROVER;
		snprintf(err, errlen, "%s is not in an approver group",
			 approver->subject);
		return JG_ERROR;
	}
	for (size_t i = 0; i < r->napprovals; i++)
		if (strcmp(r->approvals[i].who->subject, approver->subject) ==
		    0) {
			*code = REVIEW_E_TWICE;
			snprintf(err, errlen, "%s already approved %s",
				 approver->subject, id);
			return JG_ERROR;
		}
	if (approve) {
		size_t total;

		if (r->napprovals >= REVIEW_MAX_APPROVERS ||
		    !would_count(r, approver)) {
			*code = REVIEW_E_NOT_APPROVER;
			snprintf(err, errlen,
				 "%s is in none of the groups this review "
				 "still needs",
				 approver->subject);
			return JG_ERROR;
		}
		r->approvals[r->napprovals].who = identity_dup(approver);
		r->approvals[r->napprovals].at = now_ms();
		if (!r->approvals[r->napprovals].who) {
			*code = "internal";
			snprintf(err, errlen, "out of memory");
			return JG_ERROR;
		}
		r->napprovals++;
		if (match(r, &total, NULL) == total) {
			r->status = REVIEW_APPROVED;
			r->decided_at = now_ms();
			r->decided_by = strdup(approver->subject);
			*event = "review.approved";
		} else {
			*event = "review.approval";
		}
	} else {
		if (!reason || !*reason) {
			*code = "reason_required";
			snprintf(err, errlen, "a denial needs a reason");
			return JG_ERROR;
		}
		r->status = REVIEW_DENIED;
		r->decided_at = now_ms();
		r->decided_by = strdup(approver->subject);
		r->reason = strdup(reason);
		*event = "review.denied";
	}
	return JG_OK;
}

int review_decide(const char *id, const struct jg_identity *approver,
		  int is_approver, int approve, const char *reason,
		  int *status, const char **code, char *err, size_t errlen)
{
	struct review *r;
	const char *event = NULL;
	int rc = JG_ERROR, expired = 0;

	pthread_mutex_lock(&lock);
	r = find_or_say(id, code, err, errlen);
	*status = -1;
	if (!r)
		goto out;
	expire_locked(r, now_ms());
	expired = r->status == REVIEW_EXPIRED && !r->decided_by;
	rc = review_decide_on(r, approver, is_approver, approve, reason,
			      &event, code, err, errlen);
	*status = r->status;
out:
	pthread_mutex_unlock(&lock);
	if (expired)
		notify(id, "review.expired", REVIEW_EXPIRED);
	if (event)
		notify(id, event, *status);
	return rc;
}

int review_consume_on(struct review *r, const char *subject,
		      const unsigned char bind[32], const char **code,
		      char *err, size_t errlen)
{
	const char *id = r->id;

	if (!subject || strcmp(subject, r->requester->subject) != 0) {
		*code = REVIEW_E_NOT_REQUESTER;
		snprintf(err, errlen, "review %s was requested by someone else",
			 id);
	} else if (r->status != REVIEW_APPROVED) {
		*code = REVIEW_E_DECIDED;
		snprintf(err, errlen, "review %s is %s, not approved", id,
			 review_status_name(r->status));
	} else if (gnutls_memcmp(r->bind, bind, 32) != 0) {
		*code = REVIEW_E_MISMATCH;
		snprintf(err, errlen, "review %s approved a different request",
			 id);
	} else {
		r->status = REVIEW_USED;
		return JG_OK;
	}
	return JG_ERROR;
}

int review_consume(const char *id, const char *subject,
		   const unsigned char bind[32], const char **code, char *err,
		   size_t errlen)
{
	struct review *r;
	int rc = JG_ERROR;

	pthread_mutex_lock(&lock);
	r = find_or_say(id, code, err, errlen);
	if (r)
		rc = review_consume_on(r, subject, bind, code, err, errlen);
	pthread_mutex_unlock(&lock);
	if (rc == JG_OK)
		notify(id, "review.used", REVIEW_USED);
	return rc;
}

int review_withdraw_on(struct review *r, const char *session_id,
		       const char *reason, const char **code, char *err,
		       size_t errlen)
{
	char *why;

	if (r->kind != REVIEW_ACTION || !r->session_id || !session_id ||
	    strcmp(r->session_id, session_id) != 0) {
		*code = REVIEW_E_NOT_REQUESTER;
		snprintf(err, errlen, "review %s is not held by session %s",
			 r->id, session_id ? session_id : "(none)");
		return JG_ERROR;
	}
	/* An approval not yet used is withdrawn too: nobody will use it. */
	if (r->status != REVIEW_PENDING && r->status != REVIEW_APPROVED) {
		*code = REVIEW_E_DECIDED;
		snprintf(err, errlen, "review %s is %s", r->id,
			 review_status_name(r->status));
		return JG_ERROR;
	}
	why = strdup(reason && *reason ? reason : "withdrawn by the requester");
	if (!why) {
		*code = "internal";
		snprintf(err, errlen, "out of memory");
		return JG_ERROR;
	}
	free(r->reason);
	r->reason = why;
	if (!r->decided_by)
		r->decided_by = strdup(r->requester->subject);
	r->status = REVIEW_WITHDRAWN;
	r->decided_at = now_ms();
	return JG_OK;
}

int review_withdraw(const char *id, const char *session_id,
		    const char *reason, int *status, const char **code,
		    char *err, size_t errlen)
{
	struct review *r;
	int rc = JG_ERROR;

	*status = -1;
	pthread_mutex_lock(&lock);
	r = find_or_say(id, code, err, errlen);
	if (r) {
		expire_locked(r, now_ms());
		rc = review_withdraw_on(r, session_id, reason, code, err,
					errlen);
		*status = r->status;
	}
	pthread_mutex_unlock(&lock);
	if (rc == JG_OK)
		notify(id, "review.withdrawn", REVIEW_WITHDRAWN);
	return rc;
}

int review_expire_on(struct review *r, int64_t now)
{
	int was = r->status;

	expire_locked(r, now);
	return was == REVIEW_PENDING && r->status == REVIEW_EXPIRED;
}

size_t review_expire(void)
{
	char (*ids)[REVIEW_ID_LEN];
	size_t n = 0, k = 0;
	int64_t now = now_ms();

	pthread_mutex_lock(&lock);
	ids = calloc(nreviews + 1, sizeof(*ids));
	for (size_t i = 0; i < nreviews; i++) {
		struct review *r = reviews[i];

		if (r->status == REVIEW_PENDING && now >= r->expires_at) {
			expire_locked(r, now);
			if (ids)
				memcpy(ids[n++], r->id, REVIEW_ID_LEN);
		}
		if (r->status != REVIEW_PENDING &&
		    now >= r->decided_at + DROP_AFTER_MS) {
			review_free(r);
			continue;
		}
		reviews[k++] = r;
	}
	nreviews = k;
	pthread_mutex_unlock(&lock);
	for (size_t i = 0; i < n; i++)
		notify(ids[i], "review.expired", REVIEW_EXPIRED);
	free(ids);
	return n;
}

static void progress_locked(const struct review *r, char *buf, size_t len)
{
	unsigned filled[64] = {0};
	size_t total, off = 0;

	match(r, &total, filled);
	buf[0] = '\0';
	for (size_t g = 0; g < r->need.n && off < len; g++) {
		int w = snprintf(buf + off, len - off, "%s%s %u/%u",
				 g ? ", " : "", r->need.need[g].group,
				 filled[g], r->need.need[g].count);
		if (w < 0)
			break;
		off += (size_t)w;
	}
}

static struct json_object *to_json(const struct review *r)
{
	struct json_object *o = json_object_new_object(), *need, *ap;
	char prog[256];

	json_object_object_add(o, "id", json_object_new_string(r->id));
	json_object_object_add(o, "kind",
			       json_object_new_string(r->kind == REVIEW_GRANT
							      ? "grant"
							      : "action"));
	json_object_object_add(o, "status", json_object_new_string(
						    review_status_name(r->status)));
	json_object_object_add(o, "requester",
			       json_object_new_string(r->requester->subject));
	json_object_object_add(o, "connection",
			       json_object_new_string(r->connection));
	json_object_object_add(o, "rule", json_object_new_string(r->rule));
	json_object_object_add(o, "summary", json_object_new_string(r->summary));
	if (r->session_id)
		json_object_object_add(o, "session",
				       json_object_new_string(r->session_id));
	need = json_object_new_object();
	for (size_t g = 0; g < r->need.n; g++)
		json_object_object_add(need, r->need.need[g].group,
				       json_object_new_int(
					       (int)r->need.need[g].count));
	json_object_object_add(o, "approval", need);
	ap = json_object_new_array();
	for (size_t i = 0; i < r->napprovals; i++)
		json_object_array_add(ap, json_object_new_string(
						  r->approvals[i].who->subject));
	json_object_object_add(o, "approved_by", ap);
	progress_locked(r, prog, sizeof(prog));
	json_object_object_add(o, "progress", json_object_new_string(prog));
	json_object_object_add(o, "created_at",
			       json_object_new_int64(r->created_at / 1000));
	json_object_object_add(o, "expires_at",
			       json_object_new_int64(r->expires_at / 1000));
	if (r->decided_by)
		json_object_object_add(o, "decided_by",
				       json_object_new_string(r->decided_by));
	if (r->reason)
		json_object_object_add(o, "reason",
				       json_object_new_string(r->reason));
	if (r->detail)
		json_object_object_add(o, "detail", json_object_get(r->detail));
	return o;
}

struct json_object *review_json(const char *id)
{
	struct json_object *o = NULL;
	struct review *r;

	pthread_mutex_lock(&lock);
	r = review_find(id);
	if (r) {
		expire_locked(r, now_ms());
		o = to_json(r);
	}
	pthread_mutex_unlock(&lock);
	return o;
}

struct json_object *reviews_list_json(int all, const char *subject)
{
	struct json_object *a = json_object_new_array();
	int64_t now = now_ms();

	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nreviews; i++) {
		struct review *r = reviews[i];

		expire_locked(r, now);
		if ((all || r->status == REVIEW_PENDING) &&
		    (!subject || strcmp(subject, r->requester->subject) == 0))
			json_object_array_add(a, to_json(r));
	}
	pthread_mutex_unlock(&lock);
	return a;
}

int review_status(const char *id)
{
	struct review *r;
	int st = -1;

	pthread_mutex_lock(&lock);
	r = review_find(id);
	if (r) {
		expire_locked(r, now_ms());
		st = r->status;
	}
	pthread_mutex_unlock(&lock);
	return st;
}

void review_progress(const char *id, char *buf, size_t len)
{
	struct review *r;

	pthread_mutex_lock(&lock);
	r = review_find(id);
	if (r)
		progress_locked(r, buf, len);
	else
		snprintf(buf, len, "unknown review");
	pthread_mutex_unlock(&lock);
}

void reviews_reset(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nreviews; i++)
		review_free(reviews[i]);
	free(reviews);
	reviews = NULL;
	nreviews = 0;
	pthread_mutex_unlock(&lock);
}
