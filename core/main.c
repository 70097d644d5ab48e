/*
 * jitgated: the gateway daemon.  Runs in the foreground, systemd style.
 *
 * The main thread owns the configuration generations, the signals, the
 * admin API and the shutdown sequence; workers own the sessions.
 */
#include "config.h" /* autoconf */
#include "admin.h"
#include "api_int.h"
#include "auth.h"
#include "conf.h"
#include "host.h"
#include "listener.h"
#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "optdoc.h"
#include "record.h"
#include "runtime.h"
#include "session.h"
#include "tls.h"
#include "worker.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jitgate/jitgate.h>

/* After the grace period, sessions are ended; this long is given for
 * their teardown before the process exits anyway. */
#define TEARDOWN_WAIT 5.0
/* How long start waits for grants and reviews from the store. */
#define STATE_WAIT 10.0

static const char *config_path;
static struct rt *current;
static ev_signal sig_term, sig_int, sig_hup;
static ev_timer drain_timer;
static ev_tstamp drain_deadline;
static int draining, sessions_ended;
static ev_tstamp settle_deadline;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: jitgated -c FILE [--check-config [--dump] | "
		"--dump-config |\n"
		"                         --list-plugins | --dump-options]\n"
		"       jitgated --version\n"
		"\n"
		"  -c, --config FILE   configuration file (JSON)\n"
		"  -t, --check-config  prepare everything start would (plugins, "
		"instances,\n"
		"                      store), serve nothing, exit 0 or 1\n"
		"      --dump          with --check-config: print the merged "
		"configuration\n"
		"                      (JSON, secrets as \"<secret>\") on "
		"stdout\n"
		"      --dump-config   the same as --check-config --dump\n"
		"  -l, --list-plugins  list the plugins the config loads\n"
		"  -D, --dump-options  print the options of the plugins the "
		"config loads (markdown)\n"
		"  -V, --version       print version and ABI, then exit\n"
		"  -h, --help          this text\n");
}

static void apply_log_settings(const struct rt *rt)
{
	log_setup(log_parse_format(rt->set->log_format) == LOG_JSON
			  ? LOG_JSON
			  : LOG_LOGFMT,
		  rt->set->log_level_num);
}

static void log_warnings(const struct rt *rt)
{
	for (size_t i = 0; i < conf_warning_count(rt->conf); i++)
		log_msg(JG_LOG_WARN, "JG0006", NULL, NULL, "%s",
			conf_warning(rt->conf, i));
}

static void end_sessions(void *ud)
{
	sessions_end_all(ud, "shutdown grace period over");
}

static void drain_check(struct ev_loop *ev, ev_timer *t, int revents)
{
	int64_t open = metrics_get(M_CONNECTIONS_ACTIVE);

	if (open <= 0) {
		/* Sessions counted against grants reach the store in steps
		 * run on this loop: let the last ones land before stopping
		 * (bounded, in case the store is gone). */
		if (api_grants_settling()) {
			if (settle_deadline == 0)
				settle_deadline = ev_now(ev) + TEARDOWN_WAIT;
			if (ev_now(ev) < settle_deadline)
				return;
		}
		log_msg(JG_LOG_INFO, "JG0008", NULL, NULL,
			"all sessions closed");
		ev_break(ev, EVBREAK_ALL);
		return;
	}
	if (!sessions_ended && ev_now(ev) >= drain_deadline) {
		log_msg(JG_LOG_WARN, "JG0009", NULL, NULL,
			"grace period over: closing %lld open sessions",
			(long long)open);
		for (int i = 0; i < workers_count(); i++)
			loop_post(&worker_at(i)->loop, end_sessions,
				  worker_at(i));
		sessions_ended = 1;
		drain_deadline = ev_now(ev) + TEARDOWN_WAIT;
	} else if (sessions_ended && ev_now(ev) >= drain_deadline) {
		ev_break(ev, EVBREAK_ALL);
	}
}

static void on_term(struct ev_loop *ev, ev_signal *w, int revents)
{
	if (draining)
		return;
	draining = 1;
	log_msg(JG_LOG_INFO, "JG0007", NULL, NULL,
		"signal %d: draining, no new connections; %lld sessions open, "
		"grace %lld ms",
		w->signum, (long long)metrics_get(M_CONNECTIONS_ACTIVE),
		(long long)current->set->shutdown_grace);
	listeners_drain();
	drain_deadline =
		ev_now(ev) + (double)current->set->shutdown_grace / 1000.0;
	ev_timer_init(&drain_timer, drain_check, 0., 0.05);
	ev_timer_start(ev, &drain_timer);
}

static void on_hup(struct ev_loop *ev, ev_signal *w, int revents)
{
	char err[1024] = "";
	struct rt *rt, *old;

	if (draining)
		return;
	rt = rt_load(config_path, err, sizeof(err));
	if (rt == NULL) {
		metrics_inc(M_RELOAD_FAILURES, 1);
		log_fields(JG_LOG_ERROR, "JG0005", NULL, NULL,
			   "configuration rejected, keeping the running one",
			   &(struct log_field){"error", err, 0}, 1);
		return;
	}
	if (listeners_apply(rt, err, sizeof(err)) < 0) {
		metrics_inc(M_RELOAD_FAILURES, 1);
		log_fields(JG_LOG_ERROR, "JG0005", NULL, NULL,
			   "configuration rejected, keeping the running one",
			   &(struct log_field){"error", err, 0}, 1);
		rt_unref(rt);
		return;
	}
	if (rt_activate(rt, err, sizeof(err)) < 0) {
		/* Listeners already point at rt: keep it, say why. */
		metrics_inc(M_RELOAD_FAILURES, 1);
		log_fields(JG_LOG_ERROR, "JG0005", NULL, NULL,
			   "store or recording settings not applied",
			   &(struct log_field){"error", err, 0}, 1);
	}
	if (admin_apply(rt, err, sizeof(err)) < 0)
		log_msg(JG_LOG_ERROR, "JG0011", NULL, NULL,
			"admin API unchanged: %s", err);
	if (rt->set->workers != current->set->workers)
		log_msg(JG_LOG_WARN, "JG0012", NULL, NULL,
			"\"workers\" changes need a restart");
	apply_log_settings(rt);
	log_warnings(rt);
	old = current;
	current = rt;
	rt_unref(old);
	metrics_inc(M_RELOADS, 1);
	log_msg(JG_LOG_INFO, "JG0004", NULL, NULL,
		"configuration reloaded from %s; new sessions use it",
		config_path);
}

static void state_wait_cb(struct ev_loop *ev, ev_timer *t, int revents)
{
	(void)ev;
	(void)t;
	(void)revents;
}

/* Run the main loop until the stored state is loaded, at most
 * STATE_WAIT seconds (then serve anyway: grants load on the next try). */
static void wait_state(struct ev_loop *ev)
{
	ev_tstamp until = ev_now(ev) + STATE_WAIT;
	ev_timer t;

	ev_timer_init(&t, state_wait_cb, 0.05, 0.05);
	ev_timer_start(ev, &t);
	while (!auth_state_loaded() && ev_now(ev) < until)
		ev_run(ev, EVRUN_ONCE);
	ev_timer_stop(ev, &t);
	if (!auth_state_loaded())
		log_msg(JG_LOG_WARN, "JG0015", NULL, NULL,
			"stored grants and reviews not loaded yet; serving "
			"anyway, still trying");
}

/*
 * --check-config: start-up without serving.  The main loop exists, as
 * at start, because plugin init() adds timers and fetches to it (oidc
 * schedules its key set fetch); it is never run, so nothing scheduled
 * runs (oidc asks its issuer nothing), nothing is bound or accepted, and
 * the instances are finalised before the loop goes.
 * With dump, the merged configuration goes to stdout (secrets hidden:
 * every secret option was validated by then) and "configuration ok" to
 * stderr, so stdout stays JSON.
 */
static int check_config(int dump)
{
	char err[1024] = "";
	struct rt *rt;
	int rc = 1;

	if (main_loop_init() < 0) {
		fprintf(stderr,
			"jitgated: cannot create the main event loop\n");
		return 1;
	}
	host_set_checking(1);
	rt = rt_check(config_path, err, sizeof(err));
	if (rt == NULL) {
		fprintf(stderr, "jitgated: %s\n", err);
	} else {
		for (size_t i = 0; i < conf_warning_count(rt->conf); i++)
			fprintf(stderr, "jitgated: warning: %s\n",
				conf_warning(rt->conf, i));
		if (dump)
			conf_dump(rt->conf, stdout);
		rc = 0;
	}
	rt_unref(rt);
	loop_fini(main_loop());
	if (rc == 0)
		fprintf(dump ? stderr : stdout, "configuration ok\n");
	return rc;
}

/* --list-plugins, or with dump --dump-options (core/optdoc.c). */
static int list_plugins(int dump)
{
	char err[1024] = "";
	struct jg_conf *c = conf_load(config_path, err, sizeof(err));
	struct jg_registry *r;

	if (c == NULL) {
		fprintf(stderr, "jitgated: %s\n", err);
		return 1;
	}
	r = loader_load(c, err, sizeof(err));
	if (r == NULL) {
		fprintf(stderr, "jitgated: %s\n", err);
		conf_unref(c);
		return 1;
	}
	if (dump)
		optdoc_print(r, stdout);
	else
		loader_print_list(r, stdout);
	conf_unref(c);
	return 0;
}

static int run(void)
{
	char err[1024] = "";
	struct ev_loop *ev;
	int rc = 1;

	/* Before the config: plugin init() may add timers to main_loop(). */
	if (main_loop_init() < 0) {
		log_msg(JG_LOG_ERROR, "JG0013", NULL, NULL,
			"cannot create the main event loop");
		return 1;
	}
	current = rt_load(config_path, err, sizeof(err));
	if (current == NULL) {
		log_fields(JG_LOG_ERROR, "JG0002", NULL, NULL,
			   "cannot load configuration",
			   &(struct log_field){"error", err, 0}, 1);
		return 1;
	}
	apply_log_settings(current);
	log_warnings(current);
	signal(SIGPIPE, SIG_IGN);
	ev = main_loop()->ev;
	if (rt_activate(current, err, sizeof(err)) < 0) {
		log_fields(JG_LOG_ERROR, "JG0002", NULL, NULL, "cannot start",
			   &(struct log_field){"error", err, 0}, 1);
		goto out_loop;
	}
	if (workers_start(current->set->workers, current) < 0)
		goto out_workers;
	/* Grants and reviews from the store before anyone can connect. */
	wait_state(ev);
	if (listeners_apply(current, err, sizeof(err)) < 0 ||
	    admin_apply(current, err, sizeof(err)) < 0) {
		log_fields(JG_LOG_ERROR, "JG0002", NULL, NULL,
			   "cannot start", &(struct log_field){"error", err, 0},
			   1);
		goto out_workers;
	}
	ev_signal_init(&sig_term, on_term, SIGTERM);
	ev_signal_init(&sig_int, on_term, SIGINT);
	ev_signal_init(&sig_hup, on_hup, SIGHUP);
	ev_signal_start(ev, &sig_term);
	ev_signal_start(ev, &sig_int);
	ev_signal_start(ev, &sig_hup);
	log_msg(JG_LOG_INFO, "JG0001", NULL, NULL,
		"jitgated %s started: pid %d, %d workers, plugin ABI %d.%d",
		PACKAGE_VERSION, (int)getpid(), workers_count(), JG_ABI_MAJOR,
		JG_ABI_MINOR);
	ev_run(ev, 0);
	rc = 0;
	ev_timer_stop(ev, &drain_timer);
	ev_signal_stop(ev, &sig_term);
	ev_signal_stop(ev, &sig_int);
	ev_signal_stop(ev, &sig_hup);
out_workers:
	workers_stop();
	admin_stop();
out_loop:
	auth_shutdown();
	loop_close(main_loop());
	record_shutdown();
	rt_unref(current);
	/* Plugin instances, and the threads of theirs that post to loops,
	 * are gone with the last configuration: now the loops can go. */
	workers_free();
	record_free_orphans();
	loop_fini(main_loop());
	log_msg(JG_LOG_INFO, "JG0003", NULL, NULL, "jitgated stopped");
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'},
		{"check-config", no_argument, NULL, 't'},
		{"list-plugins", no_argument, NULL, 'l'},
		{"dump-options", no_argument, NULL, 'D'},
		{"dump", no_argument, NULL, 'd'},
		{"dump-config", no_argument, NULL, 'C'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch, check = 0, list = 0, dump = 0, dump_conf = 0, rc;

	while ((ch = getopt_long(argc, argv, "c:tlDVh", opts, NULL)) != -1) {
		switch (ch) {
		case 'V':
			printf("jitgated %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
			       JG_ABI_MAJOR, JG_ABI_MINOR);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case 'c':
			config_path = optarg;
			break;
		case 't':
			check = 1;
			break;
		case 'l':
			list = 1;
			break;
		case 'D':
			dump = 1;
			break;
		case 'd':
			dump_conf = 1;
			break;
		case 'C':
			check = dump_conf = 1;
			break;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (config_path == NULL || optind != argc || (dump_conf && !check)) {
		usage(stderr);
		return 2;
	}
	if (tls_global_init() < 0) {
		fprintf(stderr, "jitgated: cannot initialise GnuTLS\n");
		return 1;
	}
	if (list || dump)
		rc = list_plugins(dump);
	else if (check)
		rc = check_config(dump_conf);
	else
		rc = run();
	tls_global_fini();
	metrics_fini();
	return rc;
}
