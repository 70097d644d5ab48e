/*
 * The process-wide cancel key table: a chained hash on the gateway pid.
 * Cancels are rare and sessions register once, so one mutex is enough;
 * nothing on the per-message path takes it.
 */
#include "pg_cancel.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#define NBUCKETS 4096

struct entry {
	struct entry *next;
	int32_t pid;
	int32_t key;
	struct pg_cancel_target t;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *buckets[NBUCKETS];

static size_t bucket_of(int32_t pid)
{
	return (uint32_t)pid % NBUCKETS;
}

static struct entry *find_locked(int32_t pid)
{
	struct entry *e;

	for (e = buckets[bucket_of(pid)]; e; e = e->next)
		if (e->pid == pid)
			return e;
	return NULL;
}

/* Constant-time equality of two keys: no timing oracle for guessing. */
static int key_equal(int32_t a, int32_t b)
{
	uint32_t d = (uint32_t)a ^ (uint32_t)b;

	d |= d >> 16;
	d |= d >> 8;
	d |= d >> 4;
	d |= d >> 2;
	d |= d >> 1;
	return (int)(~d & 1);
}

int pg_cancel_register(const struct pg_cancel_target *t, int32_t *pid,
		       int32_t *key)
{
	struct entry *e = calloc(1, sizeof(*e));
	uint32_t rnd[2];
	int tries;

	if (!e)
		return -1;
	e->t = *t;
	pthread_mutex_lock(&lock);
	for (tries = 0; tries < 16; tries++) {
		if (gnutls_rnd(GNUTLS_RND_NONCE, rnd, sizeof(rnd)) < 0)
			break;
		/* a positive pid, like a real backend's */
		e->pid = (int32_t)(rnd[0] & 0x7fffffff);
		e->key = (int32_t)rnd[1];
		if (e->pid != 0 && !find_locked(e->pid)) {
			e->next = buckets[bucket_of(e->pid)];
			buckets[bucket_of(e->pid)] = e;
			*pid = e->pid;
			*key = e->key;
			pthread_mutex_unlock(&lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&lock);
	free(e);
	return -1;
}

void pg_cancel_set_held(int32_t pid, int32_t key, int held)
{
	struct entry *e;

	pthread_mutex_lock(&lock);
	e = find_locked(pid);
	if (e && key_equal(e->key, key))
		e->t.held = held;
	pthread_mutex_unlock(&lock);
}

void pg_cancel_unregister(int32_t pid, int32_t key)
{
	struct entry **pp, *e;

	pthread_mutex_lock(&lock);
	for (pp = &buckets[bucket_of(pid)]; (e = *pp); pp = &e->next) {
		if (e->pid == pid && key_equal(e->key, key)) {
			*pp = e->next;
			free(e);
			break;
		}
	}
	pthread_mutex_unlock(&lock);
}

int pg_cancel_lookup(int32_t pid, int32_t key, struct pg_cancel_target *out)
{
	struct entry *e;
	int rc = -1;

	pthread_mutex_lock(&lock);
	e = find_locked(pid);
	if (e && key_equal(e->key, key)) {
		*out = e->t;
		rc = 0;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

void *pg_cancel_owner(int32_t pid, int32_t key)
{
	struct pg_cancel_target t;

	return pg_cancel_lookup(pid, key, &t) == 0 ? t.owner : NULL;
}
