/*
 * store_file: the embedded default store.  Records and state live in
 * files under one private directory; all disk I/O happens on one I/O
 * thread per directory, and completions go back to the caller's loop
 * through host->loop_post().
 *
 *   DIR/lock              flock: one gateway process per directory
 *   DIR/records/SID.rec   one session record, line frames (sf_frame.h)
 *   DIR/state/NAME.log    grants, reviews, sessions (sf_state.h)
 *
 * Durability: an operation that must be durable (put, remove, a durable
 * append, close_record) completes only after fsync.  Other appends are
 * written within GROUP_MS (no user-space buffering) and fsynced within
 * 100 ms.
 *
 * Wake-ups: nobody waits for an append or a close (the recorder only
 * counts them and learns of failures), so those are gathered for up to
 * GROUP_MS and written, synced and completed as one batch: a busy
 * gateway then pays two thread wake-ups per batch instead of two per
 * recorded event, which was most of what recording a statement cost.
 * An operation a caller waits for (put, get, list, remove, read) ends
 * the wait at once.  A batch's completions go back as one loop_post()
 * per loop, which runs that loop's callbacks in batch order.
 *
 * CPU per append: an operation is one allocation (ids and data inline),
 * its id is checked and hashed in one pass on the caller's thread, and
 * the I/O thread sorts a batch's appends into per-record writes in one
 * pass by that hash (bench/store/append.sh measures it).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jitgate/store.h>

#include "sf_frame.h"
#include "sf_records.h"
#include "sf_state.h"

#define PLUGIN "store_file"
#define SF_MAGIC 0x53465354u /* "SFST" */
#define FLUSH_MS 100
#define GROUP_MS 2 /* how long appends wait to share a batch */
#define RETAIN_MS 60000

enum op_kind {
	OP_APPEND,
	OP_READ,
	OP_PUT,
	OP_GET,
	OP_LIST,
	OP_REMOVE,
	OP_CLOSE,
	OP_LIST_RECORDS
};

static const char *const coll_names[] = {"grants", "reviews", "sessions"};
#define NCOLL 3

/*
 * One operation, in one allocation: sid and data are copied into buf
 * behind it (an append is what a busy gateway makes most of: two per
 * statement).  Only result is allocated apart, by the I/O thread.
 */
struct sf_op {
	enum op_kind kind;
	int coll; /* index into coll_names */
	int durable;
	int done; /* run already, as part of a group of appends */
	int status;
	struct jg_loop *loop;
	jg_store_cb cb;
	void *ud;
	const char *sid;  /* record or document id (in buf), or NULL */
	const char *data; /* event or document JSON (in buf), or NULL */
	size_t data_len;
	uint64_t hash; /* of sid: compared before the sid itself */
	uint64_t version;
	struct sf_rec *rec;
	char *result;
	struct sf_op *next; /* queue, then batch order */
	/* I/O thread: the appends written with this one (group_appends) */
	struct sf_op *group_next, *group_tail;
	size_t group_len;   /* in the first of a group: its appends */
	int group_open;     /* more appends may still join it */
	uint64_t group_gen; /* listing generation it was opened in */
	struct sf_op *next_done; /* completions posted to the same loop */
	char err[256]; /* not zeroed: err[0] = 0 until something fails */
	char buf[];    /* sid NUL data NUL */
};

struct sf_watch {
	struct sf_store *st;
	struct jg_loop *loop;
	jg_store_watch_cb cb;
	void *ud;
	int cancelled; /* only touched on loop */
	int refs;      /* atomic */
	struct sf_watch *next;
};

struct watch_note {
	struct sf_watch *w;
	int coll;
	char *id;
	uint64_t version;
};

struct sf_store {
	uint32_t magic;
	const struct jg_host *host;
	char dir[PATH_MAX];
	int lockfd;
	int refs; /* instances sharing this directory (registry lock) */
	int checking; /* made by --check-config: no lock, files, thread */
	int do_fsync;
	int64_t retention_age, retention_size;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct sf_op *head, *tail; /* queued for the I/O thread */
	size_t queued;             /* ops between head and tail */
	int urgent;                /* a queued op has a caller waiting */
	struct sf_watch *watches;  /* under lock */
	int stop;
	char broken[256]; /* set when fsync failed: everything fails now */
	/* I/O thread only: */
	struct sf_records recs;
	struct sf_coll colls[NCOLL];
	uint64_t batch;
	struct sf_op **groups; /* open-addressing table by sid hash */
	size_t groups_cap;
	struct sf_store *next; /* registry */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sf_store *registry;

static int64_t now_ms(int clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void op_free(struct sf_op *op)
{
	free(op->result);
	free(op);
}

/* On the caller's loop. */
static void op_complete(void *arg)
{
	struct sf_op *op = arg;
	if (op->cb)
		op->cb(op->ud, op->status, op->result, op->version,
		       op->status == JG_ERROR || op->status == JG_DECLINED
			       ? op->err
			       : NULL);
	op_free(op);
}

/* On a caller's loop: the completions of one batch for that loop, in
 * batch order (one loop_post per loop and batch, not one per op). */
static void ops_complete(void *arg)
{
	for (struct sf_op *op = arg, *next; op; op = next) {
		next = op->next_done;
		op_complete(op);
	}
}

static void watch_unref(struct sf_watch *w)
{
	if (__atomic_sub_fetch(&w->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(w);
}

static void watch_fire(void *arg)
{
	struct watch_note *n = arg;
	if (!n->w->cancelled)
		n->w->cb(n->w->ud, coll_names[n->coll], n->id, n->version);
	watch_unref(n->w);
	free(n->id);
	free(n);
}

/* Tell every watcher about a change (I/O thread, after it is durable). */
static void notify(struct sf_store *st, int coll, const char *id,
		   uint64_t version)
{
	pthread_mutex_lock(&st->lock);
	for (struct sf_watch *w = st->watches; w; w = w->next) {
		struct watch_note *n = calloc(1, sizeof(*n));
		if (!n || !(n->id = strdup(id))) {
			free(n);
			continue;
		}
		n->w = w;
		n->coll = coll;
		n->version = version;
		__atomic_add_fetch(&w->refs, 1, __ATOMIC_ACQ_REL);
		if (st->host->loop_post(w->loop, watch_fire, n) != JG_OK) {
			watch_unref(w);
			free(n->id);
			free(n);
		}
	}
	pthread_mutex_unlock(&st->lock);
}

static void fail(struct sf_op *op, const char *what, const char *detail)
{
	op->status = JG_ERROR;
	snprintf(op->err, sizeof(op->err), "%s%.200s", what, detail);
}

/* Carry out one operation; durability is settled for the whole batch. */
static void run_op(struct sf_store *st, struct sf_op *op)
{
	struct sf_coll *c = op->kind == OP_PUT || op->kind == OP_GET ||
					    op->kind == OP_LIST ||
					    op->kind == OP_REMOVE
				    ? &st->colls[op->coll]
				    : NULL;
	int absent;

	op->status = JG_OK;
	if (st->broken[0]) {
		fail(op, "store failed earlier: ", st->broken);
		return;
	}
	switch (op->kind) {
	case OP_APPEND:
		op->rec = sf_records_append(&st->recs, op->sid, op->data,
					    st->batch, op->err,
					    sizeof(op->err));
		if (!op->rec)
			op->status = JG_ERROR;
		else if (op->durable)
			op->rec->need_sync = 1;
		break;
	case OP_READ:
		op->result = sf_records_read(&st->recs, op->sid, &absent,
					     op->err, sizeof(op->err));
		if (!op->result)
			op->status = absent ? JG_DECLINED : JG_ERROR;
		break;
	case OP_CLOSE:
		if (sf_records_close(&st->recs, op->sid, st->do_fsync) < 0)
			fail(op, "cannot sync record: ", strerror(errno));
		break;
	case OP_LIST_RECORDS:
		op->result = sf_records_list(&st->recs);
		if (!op->result)
			fail(op, "out of memory", "");
		break;
	case OP_PUT:
		op->status = sf_coll_put(c, op->sid, op->data, op->version,
					 &op->version, op->err,
					 sizeof(op->err));
		break;
	case OP_REMOVE:
		op->status = sf_coll_remove(c, op->sid, op->version,
					    &op->version, op->err,
					    sizeof(op->err));
		break;
	case OP_GET: {
		const struct sf_doc *d = sf_coll_get(c, op->sid);
		if (!d) {
			op->status = JG_DECLINED;
			snprintf(op->err, sizeof(op->err), "no such document");
		} else if (!(op->result = strdup(d->doc))) {
			fail(op, "out of memory", "");
		} else {
			op->version = d->version;
		}
		break;
	}
	case OP_LIST:
		op->result = sf_coll_list(c);
		if (!op->result)
			fail(op, "out of memory", "");
		break;
	}
}

/* Same id: hashes first, the text only when they agree. */
static int same_sid(const struct sf_op *a, const struct sf_op *b)
{
	return a->hash == b->hash && strcmp(a->sid, b->sid) == 0;
}

/* The slot of tab holding an append of op's sid, or the empty slot
 * where one goes (the table has twice the batch's ops: never full). */
static struct sf_op **group_slot(struct sf_op **tab, size_t mask,
				 const struct sf_op *op)
{
	size_t i = op->hash & mask;

	while (tab[i] && !same_sid(tab[i], op))
		i = (i + 1) & mask;
	return &tab[i];
}

/*
 * Sort a batch's appends into groups, in one pass: each append joins the
 * open group of its record, and an append with none opens one.  A group
 * takes the appends to its record that follow its first, up to the next
 * other operation on that record or the next listing of records (which
 * sees what was appended before it), SF_MAX_GROUP at most.  The first of
 * a group writes them all with one system call (a busy session's events
 * of a batch cost one write, not one each); order within a record is
 * kept, only appends of other records are overtaken, which nothing
 * orders against.  Without memory for the table every append is its own
 * group, which is slower but the same on disk.
 */
static void group_appends(struct sf_store *st, struct sf_op *batch, size_t n)
{
	uint64_t gen = 0;
	size_t cap = 64;

	while (cap < 2 * n)
		cap <<= 1;
	if (cap > st->groups_cap) {
		free(st->groups);
		st->groups = malloc(cap * sizeof(*st->groups));
		st->groups_cap = st->groups ? cap : 0;
	}
	if (st->groups)
		memset(st->groups, 0, cap * sizeof(*st->groups));
	for (struct sf_op *op = batch; op; op = op->next) {
		struct sf_op **slot, *g;
		if (op->kind == OP_LIST_RECORDS) {
			gen++; /* closes every open group */
			continue;
		}
		if (!op->sid)
			continue; /* lists have no sid */
		if (!st->groups) {
			g = NULL;
			slot = &g;
		} else {
			slot = group_slot(st->groups, cap - 1, op);
		}
		g = *slot;
		if (op->kind != OP_APPEND) {
			if (g)
				g->group_open = 0;
			continue;
		}
		op->group_next = NULL;
		if (g && g->group_open && g->group_gen == gen &&
		    g->group_len < SF_MAX_GROUP) {
			g->group_tail->group_next = op;
			g->group_tail = op;
			g->group_len++;
			continue;
		}
		op->group_tail = op;
		op->group_len = 1;
		op->group_open = 1;
		op->group_gen = gen;
		*slot = op;
	}
}

/* Write op's group (group_appends) with one write. */
static void run_appends(struct sf_store *st, struct sf_op *op)
{
	struct sf_op *g[SF_MAX_GROUP];
	const char *ev[SF_MAX_GROUP];
	size_t len[SF_MAX_GROUP], n = 0;
	struct sf_rec *rec;
	char err[256];

	for (struct sf_op *o = op; o && n < SF_MAX_GROUP; o = o->group_next) {
		g[n] = o;
		ev[n] = o->data;
		len[n++] = o->data_len;
	}
	rec = sf_records_append_group(&st->recs, op->sid, ev, len, n,
				      st->batch, err, sizeof(err));
	for (size_t i = 0; i < n; i++) {
		g[i]->done = 1;
		g[i]->status = rec ? JG_OK : JG_ERROR;
		g[i]->rec = rec;
		if (!rec)
			snprintf(g[i]->err, sizeof(g[i]->err), "%s", err);
		else if (g[i]->durable)
			rec->need_sync = 1;
	}
}

/*
 * A record closed in the batch that appended to it: the close synced
 * and freed it, so the appends before it must not look at it in
 * settle(); when that sync failed, their durable events failed too.
 */
static void closed_in_batch(struct sf_op *batch, struct sf_op *close)
{
	for (struct sf_op *op = batch; op != close; op = op->next) {
		if (op->kind != OP_APPEND || !op->rec || !same_sid(op, close))
			continue;
		op->rec = NULL;
		if (close->status != JG_OK && op->status == JG_OK &&
		    op->durable)
			fail(op, "", close->err);
	}
}

/* fsync what the batch needs; a failed fsync fails its operations and,
 * for state, the whole store (the page cache may have lost the data). */
static void settle(struct sf_store *st, struct sf_op *batch)
{
	if (!st->do_fsync)
		return;
	sf_records_sync(&st->recs, 1);
	for (struct sf_op *op = batch; op; op = op->next)
		if (op->kind == OP_APPEND && op->status == JG_OK &&
		    op->durable && op->rec && op->rec->failed)
			fail(op, "cannot sync record: ", op->rec->failed);
	for (int i = 0; i < NCOLL; i++) {
		if (sf_coll_sync(&st->colls[i]) == 0)
			continue;
		snprintf(st->broken, sizeof(st->broken), "fsync %s: %s",
			 st->colls[i].path, strerror(errno));
		st->host->log(PLUGIN, NULL, JG_LOG_ERROR, "SF0004",
			      "state is not durable, failing from now on: %s",
			      st->broken);
		for (struct sf_op *op = batch; op; op = op->next)
			if ((op->kind == OP_PUT || op->kind == OP_REMOVE) &&
			    op->coll == i && op->status == JG_OK)
				fail(op, "", st->broken);
	}
}

/* Completions of one loop, gathered over a batch. */
struct done_chain {
	struct jg_loop *loop;
	struct sf_op *head, *tail;
};
#define MAX_CHAINS 16 /* loops with completions in one post round */

/* Post each chain as one task to its loop; where the loop refuses it
 * (closed, or out of memory), its ops go without a callback. */
static void post_chains(struct sf_store *st, struct done_chain *ch,
			size_t *n)
{
	for (size_t i = 0; i < *n; i++) {
		if (st->host->loop_post(ch[i].loop, ops_complete,
					ch[i].head) == JG_OK)
			continue;
		for (struct sf_op *op = ch[i].head, *next; op; op = next) {
			next = op->next_done;
			op_free(op);
		}
	}
	*n = 0;
}

/*
 * Hand the batch's results back: one task per loop, running that loop's
 * callbacks in batch order (what a post per op gave, for fewer
 * allocations, locks and wake-ups).  A change watchers hear of first
 * posts what was gathered, so on each loop notes and completions keep
 * the order they had with a post per op.
 */
static void complete(struct sf_store *st, struct sf_op *batch)
{
	struct done_chain ch[MAX_CHAINS];
	size_t nch = 0, i;

	while (batch) {
		struct sf_op *op = batch;
		batch = op->next;
		op->next = NULL;
		if (op->status == JG_OK &&
		    (op->kind == OP_PUT || op->kind == OP_REMOVE)) {
			post_chains(st, ch, &nch);
			notify(st, op->coll, op->sid, op->version);
		}
		if (!op->cb || !op->loop) {
			op_free(op);
			continue;
		}
		op->next_done = NULL;
		for (i = 0; i < nch && ch[i].loop != op->loop; i++)
			;
		if (i < nch) {
			ch[i].tail->next_done = op;
			ch[i].tail = op;
			continue;
		}
		if (nch == MAX_CHAINS)
			post_chains(st, ch, &nch); /* later ones post later */
		ch[nch++] = (struct done_chain){op->loop, op, op};
	}
	post_chains(st, ch, &nch);
}

static void recover_warn(void *ud, const char *path, size_t off, int torn)
{
	struct sf_store *st = ud;
	if (torn)
		st->host->log(PLUGIN, NULL, JG_LOG_WARN, "SF0001",
			      "%s: cut a torn tail after byte %zu (crash "
			      "during a write); earlier events kept",
			      path, off);
	else
		st->host->log(PLUGIN, NULL, JG_LOG_ERROR, "SF0002",
			      "%s: damaged frame at byte %zu with good frames "
			      "after it; left as is for audit",
			      path, off);
}

/* CLOCK_REALTIME (the condition variable's clock) ms from now. */
static struct timespec deadline(long ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += ms * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	return ts;
}

/* Under st->lock. */
static int wait_ms(struct sf_store *st, long ms)
{
	struct timespec until = deadline(ms);
	return pthread_cond_timedwait(&st->cond, &st->lock, &until);
}

static void *io_thread(void *arg)
{
	struct sf_store *st = arg;
	int64_t last_flush = now_ms(CLOCK_MONOTONIC), last_retain = 0;

	sf_records_recover(&st->recs, recover_warn, st);
	for (;;) {
		struct sf_op *batch;
		pthread_mutex_lock(&st->lock);
		while (!st->head && !st->stop)
			if (wait_ms(st, FLUSH_MS) == ETIMEDOUT)
				break;
		if (st->head && !st->urgent && !st->stop) {
			/* only appends and closes: let more join them */
			struct timespec until = deadline(GROUP_MS);
			while (!st->urgent && !st->stop)
				if (pthread_cond_timedwait(&st->cond, &st->lock,
							   &until) == ETIMEDOUT)
					break;
		}
		batch = st->head;
		size_t queued = st->queued;
		st->head = st->tail = NULL;
		st->queued = 0;
		st->urgent = 0;
		int stop = st->stop && !batch;
		pthread_mutex_unlock(&st->lock);

		st->batch++;
		if (batch)
			group_appends(st, batch, queued);
		for (struct sf_op *op = batch; op; op = op->next) {
			if (op->done)
				continue;
			if (op->kind == OP_APPEND && !st->broken[0]) {
				run_appends(st, op);
				continue;
			}
			run_op(st, op);
			if (op->kind == OP_CLOSE)
				closed_in_batch(batch, op);
		}
		settle(st, batch);
		complete(st, batch);

		int64_t now = now_ms(CLOCK_MONOTONIC);
		if (now - last_flush >= FLUSH_MS || stop) {
			if (st->do_fsync)
				sf_records_sync(&st->recs, 0);
			sf_records_trim(&st->recs, st->batch, st->do_fsync);
			for (int i = 0; i < NCOLL; i++) {
				char err[256];
				if (sf_coll_maybe_compact(&st->colls[i], err,
							  sizeof(err)) != JG_OK)
					st->host->log(PLUGIN, NULL, JG_LOG_WARN,
						      "SF0005", "compaction: %s",
						      err);
			}
			last_flush = now;
		}
		if (!last_retain || now - last_retain >= RETAIN_MS) {
			size_t n = sf_records_retain(
				&st->recs, st->retention_age,
				st->retention_size, now_ms(CLOCK_REALTIME));
			if (n)
				st->host->log(PLUGIN, NULL, JG_LOG_INFO,
					      "SF0003",
					      "retention removed %zu records", n);
			last_retain = now;
		}
		if (stop)
			break;
	}
	return NULL;
}

/*
 * Queue op for the I/O thread.  It sleeps on an empty queue, and on a
 * queue of appends and closes for up to GROUP_MS (it checks before it
 * waits, under the lock), so only the op that makes the queue non-empty
 * and the first op with a waiting caller need to wake it.  The signal
 * goes after the unlock: signalled under the lock, the woken thread at
 * once blocks on the lock its waker still holds.
 */
static int submit(struct sf_store *st, struct sf_op *op)
{
	int lazy = op->kind == OP_APPEND || op->kind == OP_CLOSE, wake;

	pthread_mutex_lock(&st->lock);
	wake = st->head == NULL || (!lazy && !st->urgent);
	if (!lazy)
		st->urgent = 1;
	if (st->tail)
		st->tail->next = op;
	else
		st->head = op;
	st->tail = op;
	st->queued++;
	pthread_mutex_unlock(&st->lock);
	if (wake)
		pthread_cond_signal(&st->cond);
	return JG_AGAIN;
}

/* NULL if id is given and not a valid id (see store.h), or without
 * memory. */
static struct sf_op *op_new(enum op_kind kind, struct jg_loop *l,
			    const char *id, const char *data, jg_store_cb cb,
			    void *ud)
{
	size_t id_len = 0, data_len = data ? strlen(data) : 0;
	uint64_t hash = 0;
	struct sf_op *op;
	char *p;

	if (id && !(id_len = sf_id_scan(id, &hash)))
		return NULL;
	if (data_len > SIZE_MAX - sizeof(*op) - id_len - 2)
		return NULL;
	op = malloc(sizeof(*op) + id_len + 1 + data_len + 1);
	if (!op)
		return NULL;
	/* everything before err; err itself only needs to read empty */
	memset(op, 0, offsetof(struct sf_op, err));
	op->err[0] = '\0';
	op->kind = kind;
	op->loop = l;
	op->cb = cb;
	op->ud = ud;
	op->hash = hash;
	p = op->buf;
	if (id) {
		memcpy(p, id, id_len + 1);
		op->sid = p;
		p += id_len + 1;
	}
	if (data) {
		memcpy(p, data, data_len + 1);
		op->data = p;
		op->data_len = data_len;
	}
	return op;
}

static int coll_index(const char *name)
{
	for (int i = 0; i < NCOLL; i++)
		if (name && strcmp(name, coll_names[i]) == 0)
			return i;
	return -1;
}

static struct sf_store *store_of(void *instance)
{
	struct sf_store *st = instance;
	if (!st || st->magic != SF_MAGIC)
		abort(); /* a broken invariant stops loudly */
	return st;
}

static int sf_append(void *instance, struct jg_loop *l, const char *sid,
		     const char *event_json, int durable, jg_store_cb cb,
		     void *ud)
{
	struct sf_store *st = store_of(instance);
	struct sf_op *op;

	if (!sid || !event_json ||
	    !(op = op_new(OP_APPEND, l, sid, event_json, cb, ud)))
		return JG_ERROR;
	/* a frame readers refuse would read back as damage: refuse it
	 * here, so the recorder fails closed instead */
	if (op->data_len > SF_MAX_PAYLOAD) {
		op_free(op);
		return JG_ERROR;
	}
	op->durable = durable;
	return submit(st, op);
}

static int sf_read_record(void *instance, struct jg_loop *l, const char *sid,
			  jg_store_cb cb, void *ud)
{
	struct sf_op *op;

	if (!sid || !(op = op_new(OP_READ, l, sid, NULL, cb, ud)))
		return JG_ERROR;
	return submit(store_of(instance), op);
}

static int doc_op(void *instance, enum op_kind kind, struct jg_loop *l,
		  const char *collection, const char *id, const char *doc,
		  uint64_t version, jg_store_cb cb, void *ud)
{
	int c = coll_index(collection);
	struct sf_op *op;

	if (c < 0 || !(op = op_new(kind, l, id, doc, cb, ud)))
		return JG_ERROR;
	op->coll = c;
	op->version = version;
	return submit(store_of(instance), op);
}

static int sf_put(void *instance, struct jg_loop *l, const char *collection,
		  const char *id, const char *doc_json, uint64_t expect_version,
		  jg_store_cb cb, void *ud)
{
	if (!id || !doc_json)
		return JG_ERROR;
	return doc_op(instance, OP_PUT, l, collection, id, doc_json,
		      expect_version, cb, ud);
}

static int sf_get(void *instance, struct jg_loop *l, const char *collection,
		  const char *id, jg_store_cb cb, void *ud)
{
	if (!id)
		return JG_ERROR;
	return doc_op(instance, OP_GET, l, collection, id, NULL, 0, cb, ud);
}

static int sf_list(void *instance, struct jg_loop *l, const char *collection,
		   jg_store_cb cb, void *ud)
{
	return doc_op(instance, OP_LIST, l, collection, NULL, NULL, 0, cb, ud);
}

static int sf_remove(void *instance, struct jg_loop *l, const char *collection,
		     const char *id, uint64_t expect_version, jg_store_cb cb,
		     void *ud)
{
	if (!id)
		return JG_ERROR;
	return doc_op(instance, OP_REMOVE, l, collection, id, NULL,
		      expect_version, cb, ud);
}

static int sf_close_record(void *instance, struct jg_loop *l, const char *sid,
			   jg_store_cb cb, void *ud)
{
	struct sf_op *op;

	if (!sid || !(op = op_new(OP_CLOSE, l, sid, NULL, cb, ud)))
		return JG_ERROR;
	return submit(store_of(instance), op);
}

static int sf_list_records(void *instance, struct jg_loop *l, jg_store_cb cb,
			   void *ud)
{
	struct sf_op *op = op_new(OP_LIST_RECORDS, l, NULL, NULL, cb, ud);
	if (!op)
		return JG_ERROR;
	return submit(store_of(instance), op);
}

static void *sf_watch(void *instance, struct jg_loop *l,
		      jg_store_watch_cb cb, void *ud)
{
	struct sf_store *st = store_of(instance);
	struct sf_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->st = st;
	w->loop = l;
	w->cb = cb;
	w->ud = ud;
	w->refs = 1;
	pthread_mutex_lock(&st->lock);
	w->next = st->watches;
	st->watches = w;
	pthread_mutex_unlock(&st->lock);
	return w;
}

static void sf_unwatch(void *instance, void *handle)
{
	struct sf_store *st = store_of(instance);
	struct sf_watch *w = handle, **p;

	if (!w)
		return;
	w->cancelled = 1; /* notes already posted to w->loop see this */
	pthread_mutex_lock(&st->lock);
	for (p = &st->watches; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			break;
		}
	}
	pthread_mutex_unlock(&st->lock);
	watch_unref(w);
}

/* Create dir with mode 0700, or check an existing one is private. */
static int private_dir(const char *path, uid_t uid, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "%s is not a directory", path);
		return -1;
	}
	if (st.st_uid != uid || (st.st_mode & 077)) {
		snprintf(err, errlen,
			 "%s must be private to the gateway's user (owner "
			 "uid %u, mode %03o; want uid %u, mode 700)",
			 path, (unsigned)st.st_uid,
			 (unsigned)(st.st_mode & 0777), (unsigned)uid);
		return -1;
	}
	return 0;
}

static void store_free(struct sf_store *st)
{
	for (int i = 0; i < NCOLL; i++)
		sf_coll_close(&st->colls[i]);
	sf_records_fini(&st->recs);
	free(st->groups);
	if (st->lockfd >= 0)
		close(st->lockfd);
	pthread_mutex_destroy(&st->lock);
	pthread_cond_destroy(&st->cond);
	st->magic = 0;
	free(st);
}

static struct sf_store *store_open(const struct jg_host *host,
				   const char *dir, char *err, size_t errlen)
{
	struct sf_store *st = calloc(1, sizeof(*st));
	char path[PATH_MAX + 16];
	uid_t uid = geteuid();

	if (!st) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	st->magic = SF_MAGIC;
	st->host = host;
	st->lockfd = -1;
	for (int i = 0; i < NCOLL; i++)
		st->colls[i].fd = -1;
	pthread_mutex_init(&st->lock, NULL);
	pthread_cond_init(&st->cond, NULL);
	snprintf(st->dir, sizeof(st->dir), "%s", dir);
	if (private_dir(dir, uid, err, errlen) < 0)
		goto fail;
	/* --check-config: the directory is what start would refuse; its
	 * lock and files belong to a gateway that may be running on it, so
	 * a check neither takes the lock nor reads or repairs the files. */
	st->checking = JG_HOST_HAS(host, checking) && host->checking();
	if (st->checking)
		return st;
	snprintf(path, sizeof(path), "%s/lock", dir);
	st->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lockfd < 0 || flock(st->lockfd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, errlen,
			 "%s is in use by another process (%s); give each "
			 "gateway its own directory or use store_postgres",
			 dir, strerror(errno));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/records", dir);
	if (private_dir(path, uid, err, errlen) < 0 ||
	    sf_records_init(&st->recs, path, 256) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/state", dir);
	if (private_dir(path, uid, err, errlen) < 0)
		goto fail;
	for (int i = 0; i < NCOLL; i++)
		st->colls[i].fd = -1;
	for (int i = 0; i < NCOLL; i++)
		if (sf_coll_open(&st->colls[i], path, coll_names[i], err,
				 errlen) != JG_OK)
			goto fail;
	if (pthread_create(&st->thread, NULL, io_thread, st) != 0) {
		snprintf(err, errlen, "cannot start the I/O thread");
		goto fail;
	}
	return st;
fail:
	store_free(st);
	return NULL;
}

static int sf_init(const struct jg_host *host, const struct jg_config *cfg,
		   void **instance, char *err, size_t errlen)
{
	const char *dir = host->cfg_string(cfg, "dir");
	char real[PATH_MAX];
	struct sf_store *st;

	if (!dir || !*dir) {
		snprintf(err, errlen, "dir: required");
		return JG_ERROR;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", dir,
			 strerror(errno));
		return JG_ERROR;
	}
	if (!realpath(dir, real)) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return JG_ERROR;
	}
	/* A reload configures a new instance while the old one still runs:
	 * both share one open store, so the lock and the I/O thread stay. */
	pthread_mutex_lock(&registry_lock);
	for (st = registry; st; st = st->next)
		if (strcmp(st->dir, real) == 0)
			break;
	if (!st) {
		st = store_open(host, real, err, errlen);
		if (st) {
			st->next = registry;
			registry = st;
		}
	}
	if (st) {
		st->refs++;
		st->do_fsync = (int)host->cfg_int(cfg, "fsync");
		st->retention_age = host->cfg_int(cfg, "retention_age");
		st->retention_size = host->cfg_int(cfg, "retention_size");
	}
	pthread_mutex_unlock(&registry_lock);
	if (!st)
		return JG_ERROR;
	*instance = st;
	return JG_OK;
}

static void sf_fini(void *instance)
{
	struct sf_store *st = store_of(instance), **p;

	pthread_mutex_lock(&registry_lock);
	if (--st->refs > 0) {
		pthread_mutex_unlock(&registry_lock);
		return;
	}
	for (p = &registry; *p; p = &(*p)->next) {
		if (*p == st) {
			*p = st->next;
			break;
		}
	}
	pthread_mutex_unlock(&registry_lock);
	if (st->checking) {
		store_free(st);
		return;
	}
	pthread_mutex_lock(&st->lock);
	st->stop = 1;
	pthread_cond_signal(&st->cond);
	pthread_mutex_unlock(&st->lock);
	pthread_join(st->thread, NULL);
	while (st->watches) {
		struct sf_watch *w = st->watches;
		st->watches = w->next;
		watch_unref(w);
	}
	store_free(st);
}

static const struct jg_option sf_options[] = {
	{"dir", JG_OPT_STRING, NULL, 1, 0,
	 "data directory (created with mode 0700)"},
	{"retention_age", JG_OPT_DURATION, "0", 0, 0,
	 "delete finished records older than this (0: keep)"},
	{"retention_size", JG_OPT_SIZE, "0", 0, 0,
	 "delete the oldest finished records past this total (0: no cap)"},
	{"fsync", JG_OPT_BOOL, "true", 0, 0,
	 "fsync before reporting durable writes (turn off only for tests)"},
	{NULL, 0, NULL, 0, 0, NULL},
};

static const struct jg_store_ops sf_ops = {
	.size = sizeof(struct jg_store_ops),
	.append = sf_append,
	.read_record = sf_read_record,
	.put = sf_put,
	.get = sf_get,
	.list = sf_list,
	.watch = sf_watch,
	.unwatch = sf_unwatch,
	.remove = sf_remove,
	.close_record = sf_close_record,
	.list_records = sf_list_records,
};

JG_EXPORT const struct jg_plugin jg_plugin = {
	JG_PLUGIN_PREFIX,
	.kind = JG_KIND_STORE,
	.name = "store_file",
	.version = "0.1.0",
	.description = "embedded file store: records and state under a "
		       "private directory",
	.options = sf_options,
	.init = sf_init,
	.fini = sf_fini,
	.ops = &sf_ops,
};
