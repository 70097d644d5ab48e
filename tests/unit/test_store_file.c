/*
 * store_file, loaded from the built plugin: documents with versions,
 * watches, records, restart, torn-tail recovery, damage left for audit,
 * retention and private permissions; completions of one batch, to
 * several loops.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include <jitgate/store.h>

#include "record_fake_host.h"
#include "sf_frame.h"

static const struct jg_plugin *P;
static const struct jg_store_ops *O;
static void *dl;
static char root[256], dir[300];

struct res {
	int done, status;
	char *doc;
	uint64_t version;
	char err[256];
};

static void on_done(void *ud, int status, const char *doc, uint64_t version,
		    const char *err)
{
	struct res *r = ud;
	r->status = status;
	r->doc = doc ? strdup(doc) : NULL;
	r->version = version;
	snprintf(r->err, sizeof(r->err), "%s", err ? err : "");
	r->done = 1;
}

static void wait_res(struct res *r, int rc)
{
	assert_int_equal(rc, JG_AGAIN);
	assert_true(fake_run_until(&r->done, 10000));
}

static void res_clear(struct res *r)
{
	free(r->doc);
	memset(r, 0, sizeof(*r));
}

static void *open_store_on(const struct jg_host *host,
			   const char *const *kv)
{
	char err[256] = "";
	void *inst = NULL;
	struct jg_config *c = fake_config(kv);
	int rc = P->init(host, c, &inst, err, sizeof(err));
	fake_config_free(c);
	if (rc != JG_OK) {
		print_message("# init: %s\n", err);
		return NULL;
	}
	return inst;
}

static void *open_store(const char *const *kv)
{
	return open_store_on(fake_host(), kv);
}

static const char *default_kv[] = {"dir", dir, "fsync", "true", NULL};

static void *open_default(void)
{
	return open_store(default_kv);
}

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/jg-sf-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(dir, sizeof(dir), "%s/data", root);
	return 0;
}

static int teardown(void **state)
{
	char cmd[400];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static int group_setup(void **state)
{
	(void)state;
	dl = dlopen(STORE_FILE_SO, RTLD_NOW | RTLD_LOCAL);
	if (!dl) {
		print_message("# %s\n", dlerror());
		return -1;
	}
	P = dlsym(dl, "jg_plugin");
	if (!P || P->kind != JG_KIND_STORE)
		return -1;
	O = P->ops;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	dlclose(dl);
	return 0;
}

static void append(void *inst, const char *sid, const char *ev, int durable)
{
	struct res r = {0};
	wait_res(&r, O->append(inst, fake_loop(), sid, ev, durable, on_done,
			       &r));
	assert_int_equal(r.status, JG_OK);
	res_clear(&r);
}

/* read_record: number of events, or -1 on error. */
static int read_count(void *inst, const char *sid, char *err, size_t n)
{
	struct res r = {0};
	int count = -1;
	wait_res(&r, O->read_record(inst, fake_loop(), sid, on_done, &r));
	if (r.status == JG_OK) {
		struct json_object *a = json_tokener_parse(r.doc);
		assert_non_null(a);
		count = (int)json_object_array_length(a);
		json_object_put(a);
	} else if (err) {
		snprintf(err, n, "%s", r.err);
	}
	res_clear(&r);
	return count;
}

static void record_path(const char *sid, char *out, size_t n)
{
	snprintf(out, n, "%s/records/%s.rec", dir, sid);
}

static void test_private_dir(void **state)
{
	struct stat st;
	char p[400];
	(void)state;
	void *inst = open_default();
	assert_non_null(inst);
	append(inst, "s-perm", "{\"seq\":0}", 1);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(p, sizeof(p), "%s/records", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	record_path("s-perm", p, sizeof(p));
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(p, sizeof(p), "%s/state/grants.log", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* a second process-level instance on the same dir shares it */
	void *again = open_default();
	assert_ptr_equal(again, inst);
	P->fini(again);
	P->fini(inst);

	/* a directory others can read is refused, with the reason */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_null(open_default());
}

static void test_documents(void **state)
{
	struct res r = {0};
	struct jg_loop *l = fake_loop();
	(void)state;
	void *inst = open_default();
	assert_non_null(inst);

	wait_res(&r, O->put(inst, l, "grants", "g1", "{\"a\":1}", 0, on_done,
			    &r));
	assert_int_equal(r.status, JG_OK);
	assert_int_equal(r.version, 1);
	res_clear(&r);
	/* create again: exists */
	wait_res(&r, O->put(inst, l, "grants", "g1", "{\"a\":2}", 0, on_done,
			    &r));
	assert_int_equal(r.status, JG_DECLINED);
	assert_int_equal(r.version, 1);
	res_clear(&r);
	wait_res(&r, O->put(inst, l, "grants", "g1", "{\"a\":2}", 1, on_done,
			    &r));
	assert_int_equal(r.status, JG_OK);
	assert_int_equal(r.version, 2);
	res_clear(&r);
	/* stale version */
	wait_res(&r, O->put(inst, l, "grants", "g1", "{\"a\":3}", 1, on_done,
			    &r));
	assert_int_equal(r.status, JG_DECLINED);
	assert_int_equal(r.version, 2);
	res_clear(&r);
	wait_res(&r, O->get(inst, l, "grants", "g1", on_done, &r));
	assert_int_equal(r.status, JG_OK);
	assert_string_equal(r.doc, "{\"a\":2}");
	assert_int_equal(r.version, 2);
	res_clear(&r);
	/* not JSON: refused */
	wait_res(&r, O->put(inst, l, "grants", "g2", "{nope", 0, on_done, &r));
	assert_int_equal(r.status, JG_ERROR);
	res_clear(&r);
	/* bad ids and collections are refused at once */
	assert_int_equal(O->put(inst, l, "grants", "../x", "{}", 0, on_done,
				&r),
			 JG_ERROR);
	assert_int_equal(O->put(inst, l, "nope", "x", "{}", 0, on_done, &r),
			 JG_ERROR);
	wait_res(&r, O->put(inst, l, "reviews", "r1", "{\"state\":\"open\"}",
			    0, on_done, &r));
	res_clear(&r);
	wait_res(&r, O->list(inst, l, "grants", on_done, &r));
	assert_int_equal(r.status, JG_OK);
	assert_non_null(strstr(r.doc, "\"id\":\"g1\",\"version\":2"));
	assert_null(strstr(r.doc, "r1"));
	res_clear(&r);
	wait_res(&r, O->remove(inst, l, "grants", "g1", 1, on_done, &r));
	assert_int_equal(r.status, JG_DECLINED);
	res_clear(&r);
	wait_res(&r, O->remove(inst, l, "grants", "g1", 2, on_done, &r));
	assert_int_equal(r.status, JG_OK);
	res_clear(&r);
	wait_res(&r, O->get(inst, l, "grants", "g1", on_done, &r));
	assert_int_equal(r.status, JG_DECLINED);
	res_clear(&r);
	P->fini(inst);

	/* after a restart the state is what it was */
	inst = open_default();
	wait_res(&r, O->get(inst, l, "reviews", "r1", on_done, &r));
	assert_int_equal(r.status, JG_OK);
	assert_string_equal(r.doc, "{\"state\":\"open\"}");
	res_clear(&r);
	wait_res(&r, O->get(inst, l, "grants", "g1", on_done, &r));
	assert_int_equal(r.status, JG_DECLINED);
	res_clear(&r);
	P->fini(inst);
}

struct seen {
	int n;
	char coll[32], id[64];
	uint64_t version;
};

static void on_watch(void *ud, const char *collection, const char *id,
		     uint64_t version)
{
	struct seen *s = ud;
	s->n++;
	snprintf(s->coll, sizeof(s->coll), "%s", collection);
	snprintf(s->id, sizeof(s->id), "%s", id ? id : "");
	s->version = version;
}

static void test_watch(void **state)
{
	struct res r = {0};
	struct seen s = {0};
	struct jg_loop *l = fake_loop();
	(void)state;
	void *inst = open_default();
	void *w = O->watch(inst, l, on_watch, &s);
	assert_non_null(w);
	wait_res(&r, O->put(inst, l, "reviews", "r9", "{\"approved\":true}",
			    0, on_done, &r));
	res_clear(&r);
	assert_true(fake_run_until(&s.n, 10000));
	assert_string_equal(s.coll, "reviews");
	assert_string_equal(s.id, "r9");
	assert_int_equal(s.version, 1);
	O->unwatch(inst, w);
	wait_res(&r, O->put(inst, l, "reviews", "r9", "{}", 1, on_done, &r));
	res_clear(&r);
	fake_run(50);
	assert_int_equal(s.n, 1);
	P->fini(inst);
}

/* The CPU's CRC-32C and the table agree, on the standard check value
 * and on every length and alignment around the 8-byte steps. */
static void test_crc32c(void **state)
{
	unsigned char buf[80];
	(void)state;
	assert_int_equal(sf_crc32c("123456789", 9), 0xe3069283u);
	assert_int_equal(sf_crc32c_table("123456789", 9), 0xe3069283u);
	assert_int_equal(sf_crc32c("", 0), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 37 + 11);
	for (size_t off = 0; off < 8; off++)
		for (size_t len = 0; off + len <= sizeof(buf); len++)
			assert_int_equal(sf_crc32c(buf + off, len),
					 sf_crc32c_table(buf + off, len));
	/* the header a frame starts with: length and CRC in hex */
	char hdr[SF_HDR_LEN + 1];
	sf_frame_header(hdr, "123456789", 9);
	assert_string_equal(hdr, "00000009 e3069283 ");
	sf_frame_header(hdr, "", 0);
	assert_string_equal(hdr, "00000000 00000000 ");
	memset(buf, 'x', sizeof(buf));
	sf_frame_header(hdr, (const char *)buf, 0x4f);
	assert_memory_equal(hdr, "0000004f ", 9);
}

static void test_records(void **state)
{
	struct res r = {0};
	(void)state;
	void *inst = open_default();
	append(inst, "s-a", "{\"seq\":0}", 1);
	append(inst, "s-a", "{\"seq\":1}", 0);
	append(inst, "s-b", "{\"seq\":0}", 0);
	append(inst, "s-a", "{\"seq\":2}", 1);
	wait_res(&r, O->read_record(inst, fake_loop(), "s-a", on_done, &r));
	assert_int_equal(r.status, JG_OK);
	assert_string_equal(r.doc, "[{\"seq\":0},{\"seq\":1},{\"seq\":2}]");
	res_clear(&r);
	wait_res(&r, O->read_record(inst, fake_loop(), "s-none", on_done, &r));
	assert_int_equal(r.status, JG_DECLINED);
	res_clear(&r);
	wait_res(&r, O->close_record(inst, fake_loop(), "s-a", on_done, &r));
	assert_int_equal(r.status, JG_OK);
	res_clear(&r);
	wait_res(&r, O->list_records(inst, fake_loop(), on_done, &r));
	assert_non_null(strstr(r.doc, "\"id\":\"s-a\""));
	assert_non_null(strstr(r.doc, "\"id\":\"s-b\""));
	res_clear(&r);
	P->fini(inst);
	inst = open_default();
	assert_int_equal(read_count(inst, "s-a", NULL, 0), 3);
	P->fini(inst);
}

/* An event longer than a reader accepts (SF_MAX_PAYLOAD) is refused at
 * once, and the record keeps what came before it. */
static void test_oversized_event(void **state)
{
	size_t n = SF_MAX_PAYLOAD + 16;
	char *big = malloc(n + 1);
	(void)state;
	void *inst = open_default();

	assert_non_null(big);
	memset(big, 'x', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	append(inst, "s-big", "{\"seq\":0}", 1);
	assert_int_equal(O->append(inst, fake_loop(), "s-big", big, 0, NULL,
				   NULL),
			 JG_ERROR);
	free(big);
	assert_int_equal(read_count(inst, "s-big", NULL, 0), 1);
	P->fini(inst);
}

static void add_bytes(const char *path, const char *bytes)
{
	int fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, strlen(bytes)), (ssize_t)strlen(bytes));
	close(fd);
}

static off_t size_of(const char *path)
{
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void test_torn_tail(void **state)
{
	char p[400];
	(void)state;
	void *inst = open_default();
	append(inst, "s-torn", "{\"seq\":0}", 1);
	append(inst, "s-torn", "{\"seq\":1}", 1);
	append(inst, "s-torn", "{\"seq\":2}", 1);
	P->fini(inst);
	record_path("s-torn", p, sizeof(p));
	off_t good = size_of(p);

	/* half a frame: a crash in the middle of a write */
	add_bytes(p, "00000040 1234abcd {\"seq\":3,\"ts\":");
	inst = open_default();
	assert_int_equal(read_count(inst, "s-torn", NULL, 0), 3);
	assert_int_equal(size_of(p), good);
	/* appending after recovery continues the record cleanly */
	append(inst, "s-torn", "{\"seq\":3}", 1);
	assert_int_equal(read_count(inst, "s-torn", NULL, 0), 4);
	P->fini(inst);
	good = size_of(p);

	/* a whole line of garbage, and zeros from a file extended by a
	 * crash, at the end */
	add_bytes(p, "garbage line\n\n");
	inst = open_default();
	assert_int_equal(read_count(inst, "s-torn", NULL, 0), 4);
	assert_int_equal(size_of(p), good);
	P->fini(inst);

	/* a frame with a wrong checksum as the last frame */
	add_bytes(p, "00000009 00000000 {\"seq\":4}\n");
	inst = open_default();
	assert_int_equal(read_count(inst, "s-torn", NULL, 0), 4);
	assert_int_equal(size_of(p), good);
	P->fini(inst);
}

static void test_damage_kept(void **state)
{
	char p[400], err[256] = "", *buf;
	(void)state;
	void *inst = open_default();
	append(inst, "s-dmg", "{\"seq\":0}", 1);
	append(inst, "s-dmg", "{\"seq\":1}", 1);
	append(inst, "s-dmg", "{\"seq\":2}", 1);
	P->fini(inst);
	record_path("s-dmg", p, sizeof(p));
	off_t size = size_of(p);
	/* change one byte of the middle event */
	FILE *f = fopen(p, "r+");
	assert_non_null(f);
	buf = calloc(1, (size_t)size + 1);
	assert_int_equal(fread(buf, 1, (size_t)size, f), (size_t)size);
	char *second = strchr(buf, '\n') + 1;
	char *digit = strstr(second, "1}");
	*digit = '7';
	rewind(f);
	fwrite(buf, 1, (size_t)size, f);
	fclose(f);
	free(buf);

	inst = open_default();
	assert_int_equal(read_count(inst, "s-dmg", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "damaged after event 1"));
	/* evidence is not cut away */
	assert_int_equal(size_of(p), size);
	P->fini(inst);
}

static void test_state_torn_tail(void **state)
{
	struct res r = {0};
	char p[400];
	(void)state;
	void *inst = open_default();
	wait_res(&r, O->put(inst, fake_loop(), "sessions", "s1", "{}", 0,
			    on_done, &r));
	res_clear(&r);
	P->fini(inst);
	snprintf(p, sizeof(p), "%s/state/sessions.log", dir);
	add_bytes(p, "0000002");
	inst = open_default();
	assert_non_null(inst);
	wait_res(&r, O->get(inst, fake_loop(), "sessions", "s1", on_done, &r));
	assert_int_equal(r.status, JG_OK);
	res_clear(&r);
	P->fini(inst);
}

static void touch_age(const char *sid, int64_t age_s)
{
	char p[400];
	struct timespec t[2];
	record_path(sid, p, sizeof(p));
	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= age_s;
	t[1] = t[0];
	assert_int_equal(utimensat(AT_FDCWD, p, t, 0), 0);
}

static int exists(const char *sid)
{
	char p[400];
	record_path(sid, p, sizeof(p));
	return access(p, F_OK) == 0;
}

static void test_retention(void **state)
{
	struct res r = {0};
	char big[2048];
	(void)state;
	void *inst = open_default();
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	char ev[2100];
	snprintf(ev, sizeof(ev), "{\"pad\":\"%s\"}", big);
	const char *sids[] = {"s-r1", "s-r2", "s-r3", "s-r4", "s-r5"};
	for (int i = 0; i < 5; i++)
		append(inst, sids[i], ev, 0);
	P->fini(inst);
	/* ages: 10, 8, 6, 4, 2 days */
	for (int i = 0; i < 5; i++)
		touch_age(sids[i], (int64_t)(10 - 2 * i) * 86400);

	/* older than 7 days goes; then keep at most ~2 records' bytes */
	char age[32], cap[32];
	snprintf(age, sizeof(age), "%lld", 7LL * 86400 * 1000);
	snprintf(cap, sizeof(cap), "%d", 2 * 2200);
	const char *kv[] = {"dir", dir, "fsync", "false", "retention_age", age,
			    "retention_size", cap, NULL};
	inst = open_store(kv);
	assert_non_null(inst);
	/* the first batch completes before retention runs; the second after */
	wait_res(&r, O->list_records(inst, fake_loop(), on_done, &r));
	res_clear(&r);
	wait_res(&r, O->list_records(inst, fake_loop(), on_done, &r));
	res_clear(&r);
	assert_false(exists("s-r1"));
	assert_false(exists("s-r2"));
	assert_false(exists("s-r3"));
	assert_true(exists("s-r4"));
	assert_true(exists("s-r5"));
	P->fini(inst);
}

static void test_many_appends_ordered(void **state)
{
	struct res r = {0};
	char ev[64];
	int done = 0;
	(void)state;
	void *inst = open_default();
	/* fire many without waiting: completions in order, file in order */
	static struct res rs[200];
	for (int i = 0; i < 200; i++) {
		snprintf(ev, sizeof(ev), "{\"seq\":%d}", i);
		memset(&rs[i], 0, sizeof(rs[i]));
		assert_int_equal(O->append(inst, fake_loop(), "s-many", ev,
					   i % 10 == 0, on_done, &rs[i]),
				 JG_AGAIN);
	}
	assert_true(fake_run_until(&rs[199].done, 10000));
	for (int i = 0; i < 200; i++) {
		done += rs[i].done && rs[i].status == JG_OK;
		res_clear(&rs[i]);
	}
	assert_int_equal(done, 200);
	wait_res(&r, O->read_record(inst, fake_loop(), "s-many", on_done, &r));
	struct json_object *a = json_tokener_parse(r.doc);
	assert_int_equal(json_object_array_length(a), 200);
	for (int i = 0; i < 200; i++) {
		struct json_object *seq;
		json_object_object_get_ex(json_object_array_get_idx(a, i),
					  "seq", &seq);
		assert_int_equal(json_object_get_int(seq), i);
	}
	json_object_put(a);
	res_clear(&r);
	P->fini(inst);
}

/* One batch mixing appends to two records with a list, a listing of the
 * records and a close (a list has no sid: this crashed the grouping of
 * appends): every operation completes, each record keeps its order and
 * the listing counts what was appended before it. */
static void test_mixed_batch(void **state)
{
	static struct res rs[8];
	struct res l = {0}, lr = {0}, c = {0}, r = {0};
	(void)state;
	void *inst = open_default();
	const char *sid[] = {"s-x", "s-y"};

	for (int i = 0; i < 4; i++) {
		char ev[64];
		snprintf(ev, sizeof(ev), "{\"n\":%d}", i);
		memset(&rs[i], 0, sizeof(rs[i]));
		assert_int_equal(O->append(inst, fake_loop(), sid[i % 2], ev, 0,
					   on_done, &rs[i]),
				 JG_AGAIN);
		if (i == 1)
			assert_int_equal(O->list(inst, fake_loop(), "grants",
						 on_done, &l),
					 JG_AGAIN);
		if (i == 2)
			assert_int_equal(O->list_records(inst, fake_loop(),
							 on_done, &lr),
					 JG_AGAIN);
	}
	assert_int_equal(O->close_record(inst, fake_loop(), "s-x", on_done, &c),
			 JG_AGAIN);
	assert_true(fake_run_until(&c.done, 10000));
	assert_true(fake_run_until(&lr.done, 10000));
	assert_true(fake_run_until(&l.done, 10000));
	for (int i = 0; i < 4; i++) {
		assert_true(fake_run_until(&rs[i].done, 10000));
		assert_int_equal(rs[i].status, JG_OK);
		res_clear(&rs[i]);
	}
	assert_int_equal(l.status, JG_OK);
	assert_int_equal(lr.status, JG_OK);
	assert_non_null(strstr(lr.doc, "\"s-x\""));
	assert_int_equal(c.status, JG_OK);
	wait_res(&r, O->read_record(inst, fake_loop(), "s-y", on_done, &r));
	assert_non_null(strstr(r.doc, "\"n\":1"));
	assert_true(strstr(r.doc, "\"n\":1") < strstr(r.doc, "\"n\":3"));
	res_clear(&r);
	res_clear(&l);
	res_clear(&lr);
	res_clear(&c);
	P->fini(inst);
}

/*
 * Several loops for one store: a host whose loop_post() knows NLOOPS
 * stand-in loops.  Each post runs on the test's real loop through a
 * trampoline that says which stand-in it was posted to; loop REFUSING
 * refuses every post (a loop shut down), and a post to loop GATE waits
 * while the gate is shut, which holds the store's I/O thread so that
 * what the test submits meanwhile makes one batch.
 */
enum { LOOP_A, LOOP_B, REFUSING, GATE, NLOOPS };
static char loop_mem[NLOOPS];
#define LOOP(i) ((struct jg_loop *)&loop_mem[i])
static struct jg_host multi_host;
static int (*real_post)(struct jg_loop *, jg_task_cb, void *);
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_shut, gate_held, posts[NLOOPS], running = -1;

struct tramp {
	int loop;
	jg_task_cb cb;
	void *ud;
};

static void tramp_run(void *arg)
{
	struct tramp *t = arg;
	running = t->loop;
	t->cb(t->ud);
	running = -1;
	free(t);
}

static int multi_post(struct jg_loop *l, jg_task_cb cb, void *ud)
{
	int i = (int)((char *)l - loop_mem);
	struct tramp *t;

	if (i < 0 || i >= NLOOPS)
		return real_post(l, cb, ud);
	pthread_mutex_lock(&gate_lock);
	posts[i]++;
	if (i == GATE) {
		gate_held = 1;
		pthread_cond_broadcast(&gate_cond);
		while (gate_shut)
			pthread_cond_wait(&gate_cond, &gate_lock);
	}
	pthread_mutex_unlock(&gate_lock);
	if (i == REFUSING || !(t = malloc(sizeof(*t))))
		return JG_ERROR;
	*t = (struct tramp){i, cb, ud};
	return real_post(fake_loop(), tramp_run, t);
}

static void *open_multi(void)
{
	multi_host = *fake_host();
	real_post = multi_host.loop_post;
	multi_host.loop_post = multi_post;
	memset(posts, 0, sizeof(posts));
	return open_store_on(&multi_host, default_kv);
}

/* Hold the I/O thread in the completion of an append (the gate loop's
 * post) until gate_open(). */
static void gate_close(void *inst, struct res *r)
{
	pthread_mutex_lock(&gate_lock);
	gate_shut = 1;
	gate_held = 0;
	pthread_mutex_unlock(&gate_lock);
	assert_int_equal(O->append(inst, LOOP(GATE), "s-gate", "{}", 0,
				   on_done, r),
			 JG_AGAIN);
	pthread_mutex_lock(&gate_lock);
	while (!gate_held)
		pthread_cond_wait(&gate_cond, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
}

static void gate_open(struct res *r)
{
	pthread_mutex_lock(&gate_lock);
	gate_shut = 0;
	pthread_cond_broadcast(&gate_cond);
	pthread_mutex_unlock(&gate_lock);
	assert_true(fake_run_until(&r->done, 10000));
	assert_int_equal(r->status, JG_OK);
}

#define NSEEN 240

struct callback {
	int calls, loop, status, order;
};
static struct callback seen[NSEEN];
static int seen_count[NLOOPS];

static void on_seen(void *ud, int status, const char *doc, uint64_t version,
		    const char *err)
{
	struct callback *x = ud;
	(void)doc;
	(void)version;
	(void)err;
	x->calls++;
	x->loop = running;
	x->status = status;
	if (running >= 0)
		x->order = seen_count[running]++;
}

/* One batch of appends to four records, their callbacks on two loops
 * and a loop that refuses posts: on each loop every callback runs once,
 * on that loop, in the order the appends were made, and as one task per
 * loop; the refused ones never run (and are freed: valgrind, ASan). */
static void test_batch_completions(void **state)
{
	static const char *sid[] = {"s-c0", "s-c1", "s-c2", "s-c3"};
	struct res g = {0};
	int loop_of[NSEEN], last[NLOOPS] = {-1, -1, -1, -1}, ran = 0;
	(void)state;
	void *inst = open_multi();
	assert_non_null(inst);

	memset(seen, 0, sizeof(seen));
	memset(seen_count, 0, sizeof(seen_count));
	gate_close(inst, &g);
	for (int i = 0; i < NSEEN; i++) {
		char ev[64];
		/* the last one on LOOP_A: when it ran, the batch is done */
		loop_of[i] = i == NSEEN - 1 ? LOOP_A : (i * 7 / 3) % 3;
		seen[i].loop = -1;
		snprintf(ev, sizeof(ev), "{\"n\":%d}", i);
		assert_int_equal(O->append(inst, LOOP(loop_of[i]), sid[i % 4],
					   ev, i % 5 == 0, on_seen, &seen[i]),
				 JG_AGAIN);
	}
	gate_open(&g);
	/* each loop's task comes when the I/O thread posts it: wait for
	 * every callback that is to run, not only the last on LOOP_A */
	for (int i = 0; i < NSEEN; i++)
		if (loop_of[i] != REFUSING)
			assert_true(fake_run_until(&seen[i].calls, 10000));
	for (int i = 0; i < NSEEN; i++) {
		if (loop_of[i] == REFUSING) {
			assert_int_equal(seen[i].calls, 0);
			continue;
		}
		ran++;
		assert_int_equal(seen[i].calls, 1);
		assert_int_equal(seen[i].status, JG_OK);
		assert_int_equal(seen[i].loop, loop_of[i]);
		/* per loop, in the order the appends were made */
		assert_true(seen[i].order > last[loop_of[i]]);
		last[loop_of[i]] = seen[i].order;
	}
	assert_int_equal(ran, seen_count[LOOP_A] + seen_count[LOOP_B]);
	/* the appends were one batch: one task for each loop */
	assert_int_equal(posts[LOOP_A], 1);
	assert_int_equal(posts[LOOP_B], 1);
	assert_int_equal(posts[REFUSING], 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(read_count(inst, sid[i], NULL, 0), NSEEN / 4);
	res_clear(&g);
	P->fini(inst);
}

/* The "n" of each event of sid's record, in file order; returns how
 * many. */
static int read_seq(void *inst, const char *sid, int *out, int max)
{
	struct res r = {0};
	int n = 0;
	wait_res(&r, O->read_record(inst, fake_loop(), sid, on_done, &r));
	assert_int_equal(r.status, JG_OK);
	struct json_object *a = json_tokener_parse(r.doc), *v;
	assert_non_null(a);
	for (size_t i = 0; i < json_object_array_length(a) && n < max; i++)
		if (json_object_object_get_ex(json_object_array_get_idx(a, i),
					      "n", &v))
			out[n++] = json_object_get_int(v);
	json_object_put(a);
	res_clear(&r);
	return n;
}

/* One batch of appends to three records, interleaved, with a close of
 * one of them, a listing of records and a document write in the middle,
 * more appends to every record after them, and more appends than one
 * write takes (SF_MAX_GROUP): every operation succeeds and each record
 * holds its events in the order they were appended. */
static void test_batch_close_in_middle(void **state)
{
	static const char *sid[] = {"s-m0", "s-m1", "s-m2"};
	static struct res rs[400];
	static int got[400];
	struct res g = {0}, c = {0}, lr = {0}, put = {0};
	int nev[3] = {0};
	(void)state;
	void *inst = open_multi();
	assert_non_null(inst);

	gate_close(inst, &g);
	for (int i = 0; i < 400; i++) {
		char ev[64];
		int k = i < 300 ? i % 3 : 0; /* then a long run of s-m0 */
		snprintf(ev, sizeof(ev), "{\"n\":%d}", nev[k]++);
		memset(&rs[i], 0, sizeof(rs[i]));
		assert_int_equal(O->append(inst, fake_loop(), sid[k], ev,
					   i % 7 == 0, on_done, &rs[i]),
				 JG_AGAIN);
		if (i == 100)
			assert_int_equal(O->close_record(inst, fake_loop(),
							 "s-m1", on_done, &c),
					 JG_AGAIN);
		if (i == 150)
			assert_int_equal(O->list_records(inst, fake_loop(),
							 on_done, &lr),
					 JG_AGAIN);
		if (i == 200)
			assert_int_equal(O->put(inst, fake_loop(), "grants",
						"s-m2", "{\"x\":1}", 0, on_done,
						&put),
					 JG_AGAIN);
	}
	gate_open(&g);
	assert_true(fake_run_until(&rs[399].done, 10000));
	for (int i = 0; i < 400; i++) {
		assert_int_equal(rs[i].done, 1);
		assert_int_equal(rs[i].status, JG_OK);
		res_clear(&rs[i]);
	}
	assert_int_equal(c.status, JG_OK);
	assert_int_equal(lr.status, JG_OK);
	assert_non_null(strstr(lr.doc, "\"s-m0\""));
	assert_int_equal(put.status, JG_OK);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(read_seq(inst, sid[k], got, 400), nev[k]);
		for (int i = 0; i < nev[k]; i++)
			assert_int_equal(got[i], i);
	}
	res_clear(&g);
	res_clear(&c);
	res_clear(&lr);
	res_clear(&put);
	P->fini(inst);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_private_dir, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_documents, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watch, setup, teardown),
		cmocka_unit_test(test_crc32c),
		cmocka_unit_test_setup_teardown(test_mixed_batch, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oversized_event, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_torn_tail, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_damage_kept, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_state_torn_tail, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_many_appends_ordered,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch_completions, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_batch_close_in_middle,
						setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
