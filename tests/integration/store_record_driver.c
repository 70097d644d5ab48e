/*
 * Writes session records through the real recorder (core/record.c) into
 * the real store_file plugin, for tests/integration/store_file_cli.test.
 * The host is the unit tests' fake (a libev loop on this thread).
 *
 *   store_record_driver DIR sessions   three finished sessions: alice
 *                                      (allow, ALTER ROLE ... PASSWORD,
 *                                      terminal output), bob (deny), and
 *                                      one left open
 *   store_record_driver DIR crash      a session with a few events, then
 *                                      SIGKILL of this process
 *   store_record_driver DIR fill       sessions with large statements
 *                                      until the disk is full; prints
 *                                      what the recorder said
 * The key comes from $JITGATE_RECORD_KEY.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jitgate/store.h>

#include "record.h"
#include "record_fake_host.h"
#include "store.h"

static const struct jg_plugin *P;
static void *inst;

static void setup(const char *dir)
{
	const char *kv[] = {"dir", dir, "fsync", "true", NULL};
	const char *rk[] = {"key", getenv("JITGATE_RECORD_KEY"), "mode",
			    "required", "grace", "100", NULL};
	char err[256];
	void *dl = dlopen(STORE_FILE_SO, RTLD_NOW | RTLD_LOCAL);
	struct jg_config *c;

	if (!dl || !(P = dlsym(dl, "jg_plugin"))) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		exit(1);
	}
	c = fake_config(kv);
	if (P->init(fake_host(), c, &inst, err, sizeof(err)) != JG_OK) {
		fprintf(stderr, "store: %s\n", err);
		exit(1);
	}
	fake_config_free(c);
	c = fake_config(rk);
	if (record_configure(fake_host(), c, err, sizeof(err)) != JG_OK ||
	    store_set(P->ops, inst, err, sizeof(err)) != JG_OK) {
		fprintf(stderr, "record: %s\n", err);
		exit(1);
	}
	fake_config_free(c);
}

static struct jg_session *begin(const char *sid, const char *subject,
				const char *conn)
{
	struct jg_session *s = fake_session(sid);
	struct jg_attr a[] = {{"listener", "pg"}, {"connection", conn}};
	struct jg_attr auth[] = {{"subject", subject},
				 {"credential", "jg_0123456789abcdefghij"},
				 {"method", "grant"}};
	char err[256];
	if (record_session_begin(s, a, 2, err, sizeof(err)) != JG_OK) {
		printf("refused: %s\n", err);
		fake_session_close(s);
		return NULL;
	}
	core_record(s, "auth", auth, 3);
	return s;
}

static void decide(struct jg_session *s, int effect, const char *rule,
		   const char *text)
{
	struct jg_attr aa[] = {{"class", "ddl"}};
	struct jg_action a = {"sql", aa, 1, text};
	struct jg_decision d = {.effect = effect, .record_level = 2};
	snprintf(d.rule, sizeof(d.rule), "%s", rule);
	snprintf(d.reason, sizeof(d.reason), "rule %s matched", rule);
	record_decision(s, &a, &d);
}

static void sessions(void)
{
	struct jg_session *s = begin("s-alice000000001", "alice", "analytics");
	decide(s, JG_EFFECT_ALLOW, "dba-maintenance",
	       "ALTER ROLE app PASSWORD 'Sup3rS3cret!'");
	struct jg_attr st[] = {{"class", "ddl"},
			       {"text", "ALTER ROLE app PASSWORD 'Sup3rS3cret!'"}};
	core_record(s, "statement", st, 2);
	struct jg_attr res[] = {{"tag", "ALTER ROLE"}, {"rows", "0"}};
	core_record(s, "result", res, 2);
	struct jg_attr out[] = {{"data", "postgres=# \\du\r\n"}};
	core_record(s, "output", out, 1);
	struct jg_attr out2[] = {{"data", " app | Login\r\n"}};
	core_record(s, "output", out2, 1);
	record_session_end(s, "client closed");
	fake_session_close(s);

	s = begin("s-bob00000000002", "bob", "billing");
	decide(s, JG_EFFECT_DENY, "default", "DROP TABLE invoices");
	record_session_end(s, "client closed");
	fake_session_close(s);

	/* left open: the gateway is still running it */
	s = begin("s-carol000000003", "carol", "analytics");
	decide(s, JG_EFFECT_ALLOW, "readers", "SELECT 1");
	fake_run(300);
	(void)s; /* not closed on purpose */
}

static void crash(void)
{
	struct jg_session *s = begin("s-crash000000001", "dave", "analytics");
	decide(s, JG_EFFECT_ALLOW, "readers", "SELECT now()");
	struct jg_attr st[] = {{"class", "read"}, {"text", "SELECT now()"}};
	core_record(s, "statement", st, 2);
	decide(s, JG_EFFECT_ALLOW, "readers", "SELECT 2");
	/* decisions are durable appends: give the I/O thread its turn */
	fake_run(300);
	printf("killing\n");
	fflush(stdout);
	kill(getpid(), SIGKILL);
}

static void fill(void)
{
	static char big[64 * 1024];
	int refused = 0, failed = 0;

	memset(big, 'x', sizeof(big) - 1);
	for (int i = 0; i < 200 && !refused; i++) {
		char sid[32];
		snprintf(sid, sizeof(sid), "s-fill%010d", i);
		struct jg_session *s = begin(sid, "erin", "analytics");
		if (!s) {
			refused = 1;
			break;
		}
		struct jg_attr st[] = {{"text", big}};
		for (int k = 0; k < 4; k++)
			if (core_record(s, "statement", st, 1) != JG_OK)
				failed = 1;
		fake_run(20);
		record_session_end(s, "done");
		fake_session_close(s);
		fake_run(20);
	}
	printf("failed=%d refused=%d failures=%lld\n", failed, refused,
	       (long long)fake_metric("record_failures_total"));
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s DIR sessions|crash|fill\n", argv[0]);
		return 2;
	}
	setup(argv[1]);
	if (strcmp(argv[2], "sessions") == 0)
		sessions();
	else if (strcmp(argv[2], "crash") == 0)
		crash();
	else if (strcmp(argv[2], "fill") == 0)
		fill();
	fake_run(200);
	fflush(stdout);
	_exit(0); /* leave the open session open */
}
