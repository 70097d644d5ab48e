/*
 * CPU per append in store_file alone (no recorder): SESSIONS records
 * written at once, interleaved, each statement a durable decision event
 * then a result event (what the postgres plugin records per
 * simple-protocol statement); with PER_SESSION > 0 a close_record and
 * a new record every PER_SESSION statements (0, the default: the same
 * SESSIONS records all along, like pgbench's connections through the
 * gateway; a new record costs a file creation, which then dominates).
 * Events are ready-made JSON of a recorded event's size.
 *
 *   bench_append STORE_FILE.so SECONDS SESSIONS DIR [fsync=true|false]
 *                [PER_SESSION]
 *
 * Prints appends per second and CPU microseconds per append: all
 * threads (getrusage), the calling thread (append + completions on the
 * loop) and the rest (the store's I/O thread).  Built by
 * bench/store/append.sh against a build directory (the unit tests' fake
 * host gives the event loop).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <jitgate/store.h>

#include "load_store.h"
#include "record_fake_host.h"

#define MAX_SESSIONS 64

static long long issued, done, failed;

static void on_done(void *ud, int status, const char *doc, uint64_t version,
		    const char *err)
{
	(void)ud;
	(void)doc;
	(void)version;
	(void)err;
	done++;
	if (status != JG_OK)
		failed++;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu(int who)
{
	struct rusage ru;
	getrusage(who, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* A recorded event of the usual size (~350 bytes). */
static void event(char *out, size_t n, const char *type, long long seq)
{
	snprintf(out, n,
		 "{\"seq\":%lld,\"ts\":\"2024-05-01T12:00:00.123456Z\","
		 "\"type\":\"%s\",\"rule\":\"sql\",\"effect\":\"allow\","
		 "\"text\":\"SELECT abalance FROM pgbench_accounts WHERE aid "
		 "= %lld\",\"tag\":\"SELECT 1\",\"rows\":1,"
		 "\"prev\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c"
		 "d15d6c15b0f00a08\",\"mac\":\"60303ae22b998861bce3b28f33eec1"
		 "be758a213c86c93c076dbe9f558c11c752\"}",
		 seq, type, seq % 100000 + 1);
}

int main(int argc, char **argv)
{
	const struct jg_plugin *P;
	const struct jg_store_ops *O;
	void *inst;
	char dec[512], res[512], sid[MAX_SESSIONS][40];
	int n[MAX_SESSIONS] = {0}, nsess, serial = 0, per_session;
	double secs, t0, t1, c0, c1, m0, m1;

	if (argc < 5) {
		fprintf(stderr,
			"usage: %s STORE_FILE.so SECONDS SESSIONS DIR "
			"[fsync=true|false] [PER_SESSION]\n",
			argv[0]);
		return 2;
	}
	secs = atof(argv[2]);
	nsess = atoi(argv[3]);
	if (nsess < 1 || nsess > MAX_SESSIONS || secs <= 0) {
		fprintf(stderr, "SESSIONS 1..%d, SECONDS > 0\n", MAX_SESSIONS);
		return 2;
	}
	const char *fsync = argc > 5 && strcmp(argv[5], "fsync=false") == 0
				    ? "false"
				    : "true";
	per_session = argc > 6 ? atoi(argv[6]) : 0;
	const char *kv[] = {"dir", argv[4], "fsync", fsync, NULL};
	inst = load_store(argv[1], kv, &P);
	O = P->ops;
	/* made once: what is measured is the store, not snprintf */
	event(dec, sizeof(dec), "decision", 12345);
	event(res, sizeof(res), "result", 12346);

	for (int i = 0; i < nsess; i++)
		snprintf(sid[i], sizeof(sid[i]), "s-bench%04d%08d", i,
			 serial++);
	t0 = now();
	c0 = cpu(RUSAGE_SELF);
	m0 = cpu(RUSAGE_THREAD);
	while ((t1 = now()) - t0 < secs) {
		for (int i = 0; i < nsess; i++) {
			if (per_session > 0 && n[i] == per_session) {
				if (O->close_record(inst, fake_loop(), sid[i],
						    NULL, NULL) != JG_AGAIN)
					return 1;
				snprintf(sid[i], sizeof(sid[i]),
					 "s-bench%04d%08d", i, serial++);
				n[i] = 0;
			}
			if (O->append(inst, fake_loop(), sid[i], dec, 1,
				      on_done, NULL) != JG_AGAIN)
				return 1;
			if (O->append(inst, fake_loop(), sid[i], res, 0,
				      on_done, NULL) != JG_AGAIN)
				return 1;
			issued += 2;
			n[i]++;
		}
		/* bound the queue: what is measured is the drain rate */
		while (issued - done > 100LL * nsess)
			fake_run(1);
	}
	for (int i = 0; i < 2000 && done < issued; i++)
		fake_run(5);
	t1 = now();
	c1 = cpu(RUSAGE_SELF);
	m1 = cpu(RUSAGE_THREAD);
	if (failed || done < issued) {
		fprintf(stderr, "failed=%lld unacknowledged=%lld\n", failed,
			issued - done);
		return 1;
	}
	printf("sessions=%d fsync=%s appends=%lld seconds=%.2f "
	       "appends_per_s=%.0f cpu_us_per_append=%.3f "
	       "caller_us=%.3f io_us=%.3f\n",
	       nsess, fsync, done, t1 - t0, (double)done / (t1 - t0),
	       (c1 - c0) * 1e6 / (double)done, (m1 - m0) * 1e6 / (double)done,
	       ((c1 - c0) - (m1 - m0)) * 1e6 / (double)done);
	P->fini(inst);
	return 0;
}
