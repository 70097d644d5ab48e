/*
 * Drives the store_postgres plugin against a real PostgreSQL for
 * tests/integration/store_postgres.test.  Prints TAP lines.
 *
 *   store_pg_driver CONNINFO basic     documents, versions, records
 *   store_pg_driver CONNINFO two       two instances (two gateways): a
 *                                      review change through one wakes a
 *                                      watch on the other
 *   store_pg_driver CONNINFO restart   like two, then prints "waiting",
 *                                      reads a line from stdin (the test
 *                                      restarts PostgreSQL meanwhile) and
 *                                      checks both instances come back
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jitgate/store.h>

#include "record_fake_host.h"

static const struct jg_plugin *P;
static const struct jg_store_ops *O;
static int n, failed;

static void ok(int cond, const char *what)
{
	printf("%sok %d - %s\n", cond ? "" : "not ", ++n, what);
	fflush(stdout);
	if (!cond)
		failed = 1;
}

struct res {
	int done, status;
	char doc[4096];
	uint64_t version;
	char err[256];
};

static void on_done(void *ud, int status, const char *doc, uint64_t version,
		    const char *err)
{
	struct res *r = ud;
	r->status = status;
	snprintf(r->doc, sizeof(r->doc), "%s", doc ? doc : "");
	r->version = version;
	snprintf(r->err, sizeof(r->err), "%s", err ? err : "");
	r->done = 1;
}

static int wait_res(struct res *r, int rc)
{
	if (rc != JG_AGAIN)
		return JG_ERROR;
	if (!fake_run_until(&r->done, 30000))
		return -99;
	if (r->status == JG_ERROR)
		fprintf(stderr, "# error: %s\n", r->err);
	return r->status;
}

static void *open_inst(const char *conninfo)
{
	const char *kv[] = {"conninfo", conninfo, "pool_size", "2",
			    "schema",   "jgtest", "timeout", "20000", NULL};
	char err[256];
	void *inst = NULL;
	struct jg_config *c = fake_config(kv);
	if (P->init(fake_host(), c, &inst, err, sizeof(err)) != JG_OK) {
		fprintf(stderr, "# init: %s\n", err);
		inst = NULL;
	}
	fake_config_free(c);
	return inst;
}

static int put(void *inst, const char *coll, const char *id, const char *doc,
	       uint64_t expect, uint64_t *version)
{
	struct res r = {0};
	int rc = wait_res(&r, O->put(inst, fake_loop(), coll, id, doc, expect,
				     on_done, &r));
	if (version)
		*version = r.version;
	return rc;
}

static void basic(const char *conninfo)
{
	void *a = open_inst(conninfo);
	struct res r = {0};
	uint64_t v = 0;
	ok(a != NULL, "instance starts");
	if (!a)
		return;
	ok(put(a, "grants", "g1", "{\"sub\":\"ci\"}", 0, &v) == JG_OK && v == 1,
	   "create a grant: version 1");
	ok(put(a, "grants", "g1", "{}", 0, &v) == JG_DECLINED && v == 1,
	   "create again is declined with the stored version");
	ok(put(a, "grants", "g1", "{\"sub\":\"ci2\"}", 1, &v) == JG_OK && v == 2,
	   "update with the right version");
	ok(put(a, "grants", "g1", "{}", 1, &v) == JG_DECLINED && v == 2,
	   "stale update is declined");
	ok(wait_res(&r, O->get(a, fake_loop(), "grants", "g1", on_done, &r)) ==
			   JG_OK &&
		   strstr(r.doc, "ci2") && r.version == 2,
	   "get returns the last document");
	memset(&r, 0, sizeof(r));
	ok(wait_res(&r, O->list(a, fake_loop(), "grants", on_done, &r)) ==
			   JG_OK &&
		   strstr(r.doc, "\"id\":\"g1\",\"version\":2"),
	   "list shows it");
	memset(&r, 0, sizeof(r));
	ok(wait_res(&r, O->remove(a, fake_loop(), "grants", "g1", 2, on_done,
				  &r)) == JG_OK,
	   "remove with the right version");
	memset(&r, 0, sizeof(r));
	ok(wait_res(&r, O->get(a, fake_loop(), "grants", "g1", on_done, &r)) ==
		   JG_DECLINED,
	   "removed document is gone");
	int good = 1;
	for (int i = 0; i < 50; i++) {
		char ev[64];
		snprintf(ev, sizeof(ev), "{\"seq\":%d,\"x\":\"y\"}", i);
		memset(&r, 0, sizeof(r));
		good &= wait_res(&r, O->append(a, fake_loop(), "s-pg1", ev, 1,
					       on_done, &r)) == JG_OK;
	}
	ok(good, "50 appends");
	memset(&r, 0, sizeof(r));
	ok(wait_res(&r, O->read_record(a, fake_loop(), "s-pg1", on_done,
				       &r)) == JG_OK &&
		   strncmp(r.doc, "[{\"seq\":0,", 10) == 0 &&
		   strstr(r.doc, "{\"seq\":49,\"x\":\"y\"}]"),
	   "read the record back in order");
	memset(&r, 0, sizeof(r));
	ok(wait_res(&r, O->list_records(a, fake_loop(), on_done, &r)) ==
			   JG_OK &&
		   strstr(r.doc, "\"id\":\"s-pg1\"") &&
		   strstr(r.doc, "\"events\":50"),
	   "list records");
	P->fini(a);
}

struct seen {
	int n, resync;
	char id[64];
	uint64_t version;
};

static void on_watch(void *ud, const char *coll, const char *id,
		     uint64_t version)
{
	struct seen *s = ud;
	if (strcmp(coll, "reviews") != 0)
		return;
	if (!id) {
		s->resync++;
		return;
	}
	s->n++;
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->version = version;
}

static void two(const char *conninfo, int restart)
{
	void *a = open_inst(conninfo), *b = open_inst(conninfo);
	struct seen s = {0};
	uint64_t v = 0;
	char line[64];
	ok(a && b, "two instances (two gateways) on one database");
	if (!a || !b)
		return;
	void *w = O->watch(b, fake_loop(), on_watch, &s);
	/* let b's LISTEN connection come up before the change */
	struct res r = {0};
	wait_res(&r, O->get(b, fake_loop(), "reviews", "none", on_done, &r));
	fake_run(300);
	const char *rid = restart ? "r-restart" : "r-two";
	ok(put(a, "reviews", rid, "{\"state\":\"open\"}", 0, &v) == JG_OK,
	   "gateway A opens a review");
	ok(put(a, "reviews", rid, "{\"state\":\"approved\"}", v, &v) ==
		   JG_OK,
	   "gateway A approves it");
	for (int i = 0; i < 100 && s.version < 2; i++)
		fake_run(50);
	ok(s.version == 2 && strcmp(s.id, rid) == 0,
	   "gateway B's watch hears the approval");
	if (restart) {
		printf("waiting\n");
		fflush(stdout);
		if (!fgets(line, sizeof(line), stdin))
			line[0] = '\0';
		int resync0 = s.resync, n0 = s.n, good = 0;
		/* The first request after the restart finds the old
		 * connection dead and reconnects (with backoff). */
		for (int i = 0; i < 20 && !good; i++) {
			memset(&r, 0, sizeof(r));
			good = wait_res(&r, O->append(a, fake_loop(), "s-pg2",
						      "{\"seq\":0}", 1,
						      on_done, &r)) == JG_OK;
			if (!good)
				fake_run(500);
		}
		ok(good, "A records again after PostgreSQL restarted");
		good = 0;
		for (int i = 0; i < 20 && !good; i++) {
			good = put(a, "reviews", "r2", "{\"state\":\"open\"}", 0,
				   &v) == JG_OK;
			if (!good)
				fake_run(500);
		}
		ok(good, "A changes a review after the restart");
		for (int i = 0; i < 200 && s.n == n0 && s.resync == resync0;
		     i++)
			fake_run(50);
		ok(s.n > n0 || s.resync > resync0,
		   "B's watch is back (a change or a resync after reconnect)");
		memset(&r, 0, sizeof(r));
		ok(wait_res(&r, O->get(b, fake_loop(), "reviews", "r2", on_done,
				       &r)) == JG_OK,
		   "B reads the review A wrote");
	}
	O->unwatch(b, w);
	P->fini(a);
	P->fini(b);
}

int main(int argc, char **argv)
{
	void *dl;

	if (argc < 3) {
		fprintf(stderr, "usage: %s CONNINFO basic|two|restart\n",
			argv[0]);
		return 2;
	}
	dl = dlopen(STORE_PG_SO, RTLD_NOW | RTLD_LOCAL);
	if (!dl || !(P = dlsym(dl, "jg_plugin"))) {
		fprintf(stderr, "# %s\n", dlerror());
		return 1;
	}
	O = P->ops;
	if (strcmp(argv[2], "basic") == 0)
		basic(argv[1]);
	else if (strcmp(argv[2], "two") == 0)
		two(argv[1], 0);
	else if (strcmp(argv[2], "restart") == 0)
		two(argv[1], 1);
	fake_run(50);
	dlclose(dl);
	return failed;
}
