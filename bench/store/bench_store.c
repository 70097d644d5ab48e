/*
 * Events per second recorded through the real recorder (core/record.c:
 * redaction, hash chain, HMAC) into a real store plugin, with that
 * store's default durability: lifecycle events (connect, auth, decision,
 * disconnect, seal) wait for fsync (store_file) or a commit
 * (store_postgres); statement and result events do not.
 *
 *   bench_store PLUGIN.so SECONDS SESSIONS KEY=VALUE...
 *
 * SESSIONS sessions run at once, each a stream of statements: a
 * decision, the statement and its result (3 events) per statement, a new
 * session every 50 statements.  Only statements whose events are all
 * acknowledged by the store count.  Built by bench/store/run.sh against
 * a build directory (the unit tests' fake host gives the event loop).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jitgate/store.h>

#include "load_store.h"
#include "record.h"
#include "record_fake_host.h"
#include "store.h"

#define PER_SESSION 50
#define MAX_SESSIONS 64

static const struct jg_plugin *P;
static const struct jg_store_ops *real;
static struct jg_store_ops wrapped;
static void *inst;
static long long issued, done, failed;

struct wrap {
	jg_store_cb cb;
	void *ud;
};

static void wrap_cb(void *ud, int status, const char *doc, uint64_t version,
		    const char *err)
{
	struct wrap *w = ud;
	done++;
	if (status != JG_OK)
		failed++;
	if (w->cb)
		w->cb(w->ud, status, doc, version, err);
	free(w);
}

/* Count every append and its acknowledgement. */
static int wrap_append(void *instance, struct jg_loop *l, const char *sid,
		       const char *ev, int durable, jg_store_cb cb, void *ud)
{
	struct wrap *w = malloc(sizeof(*w));
	int rc;

	if (!w)
		return JG_ERROR;
	w->cb = cb;
	w->ud = ud;
	rc = real->append(instance, l, sid, ev, durable, wrap_cb, w);
	if (rc == JG_AGAIN)
		issued++;
	else
		free(w);
	return rc;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct sess {
	struct jg_session *s;
	int n;
	char sid[40];
};

static void sess_begin(struct sess *x, int id)
{
	static int serial;
	struct jg_attr a[] = {{"listener", "pg"}, {"connection", "app"}};
	struct jg_attr auth[] = {{"subject", "bench"}, {"method", "grant"}};
	char err[256];

	snprintf(x->sid, sizeof(x->sid), "s-bench%04d%08d", id, serial++);
	x->s = fake_session(x->sid);
	x->n = 0;
	if (record_session_begin(x->s, a, 2, err, sizeof(err)) != JG_OK) {
		fprintf(stderr, "refused: %s\n", err);
		exit(1);
	}
	core_record(x->s, "auth", auth, 2);
}

static void sess_end(struct sess *x)
{
	record_session_end(x->s, "client closed");
	fake_session_close(x->s);
	x->s = NULL;
}

static void statement(struct sess *x, long long i)
{
	char text[128];
	snprintf(text, sizeof(text),
		 "SELECT abalance FROM pgbench_accounts WHERE aid = %lld",
		 i % 100000 + 1);
	struct jg_attr aa[] = {{"class", "select"},
			       {"table", "public.pgbench_accounts"}};
	struct jg_action a = {"sql", aa, 2, text};
	struct jg_decision d = {.effect = JG_EFFECT_ALLOW, .record_level = 2};
	snprintf(d.rule, sizeof(d.rule), "sql");
	snprintf(d.reason, sizeof(d.reason), "rule sql matched");
	record_decision(x->s, &a, &d);
	struct jg_attr st[] = {{"class", "select"}, {"text", text}};
	core_record(x->s, "statement", st, 2);
	struct jg_attr res[] = {{"tag", "SELECT 1"}, {"rows", "1"},
				{"bytes", "11"}};
	core_record(x->s, "result", res, 3);
	x->n++;
}

int main(int argc, char **argv)
{
	const char *rk[] = {"key", "bench-store-key-0123456789abcdef", "mode",
			    "required", NULL};
	const char *kv[32];
	struct sess ss[MAX_SESSIONS];
	char err[256];
	int nk = 0, nsess;
	double secs, t0, t1;
	long long stmts = 0;

	if (argc < 4) {
		fprintf(stderr,
			"usage: %s PLUGIN.so SECONDS SESSIONS KEY=VALUE...\n",
			argv[0]);
		return 2;
	}
	secs = atof(argv[2]);
	nsess = atoi(argv[3]);
	if (nsess < 1 || nsess > MAX_SESSIONS || secs <= 0) {
		fprintf(stderr, "SESSIONS 1..%d, SECONDS > 0\n", MAX_SESSIONS);
		return 2;
	}
	for (int i = 4; i < argc && nk < 30; i++) {
		char *eq = strchr(argv[i], '=');
		if (!eq)
			continue;
		*eq = '\0';
		kv[nk++] = argv[i];
		kv[nk++] = eq + 1;
	}
	kv[nk] = NULL;

	inst = load_store(argv[1], kv, &P);
	real = P->ops;
	wrapped = *real;
	wrapped.append = wrap_append;
	struct jg_config *c = fake_config(rk);
	if (record_configure(fake_host(), c, err, sizeof(err)) != JG_OK ||
	    store_set(&wrapped, inst, err, sizeof(err)) != JG_OK) {
		fprintf(stderr, "record: %s\n", err);
		return 1;
	}
	fake_config_free(c);

	for (int i = 0; i < nsess; i++)
		sess_begin(&ss[i], i);
	fake_run(200); /* connections, schema, first appends */
	issued = done = 0;
	t0 = now();
	/* host->record() does not wait for the store (a gateway goes on
	 * with the statement), so appends queue; bound the queue so what
	 * is measured is the store's drain rate, not memory. */
	while ((t1 = now()) - t0 < secs) {
		for (int i = 0; i < nsess; i++) {
			if (ss[i].n == PER_SESSION) {
				sess_end(&ss[i]);
				sess_begin(&ss[i], i);
			}
			statement(&ss[i], stmts++);
		}
		while (issued - done > 100LL * nsess)
			fake_run(1);
	}
	for (int i = 0; i < 2000 && done < issued; i++)
		fake_run(5);
	t1 = now();
	if (failed || done < issued) {
		fprintf(stderr, "failed=%lld unacknowledged=%lld\n", failed,
			issued - done);
		return 1;
	}
	printf("%s sessions=%d events=%lld seconds=%.2f events_per_s=%.0f\n",
	       strrchr(argv[1], '/') ? strrchr(argv[1], '/') + 1 : argv[1],
	       nsess, done, t1 - t0, (double)done / (t1 - t0));
	for (int i = 0; i < nsess; i++)
		sess_end(&ss[i]);
	fake_run(200);
	return 0;
}
