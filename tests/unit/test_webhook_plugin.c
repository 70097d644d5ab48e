/*
 * The webhook plugin through its descriptor, against a fake host whose
 * loop never runs: option checks with the key and reason a user reads,
 * the events filter, the bounded queue dropping its oldest delivery (log
 * line and metric), and fini with deliveries still queued.  Log lines
 * are captured to check that the secret and the URL's path never appear.
 * Real transfers are covered by tests/integration/webhook.test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jitgate/notify.h>

extern const struct jg_plugin jg_plugin;

#define SECRET "sixteen-bytes-or-more-secret"

/* ---- the fake host ---- */

struct jg_config {
	const char *url, *format, *secret;
	int64_t max_retries, queue_size;
	const char *events[8];
};

struct jg_timer {
	int armed;
};

static char logbuf[8192];
static int timers, dropped;

static void f_log(const char *plugin, const struct jg_session *s, int level,
                  const char *msgid, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void f_log(const char *plugin, const struct jg_session *s, int level,
                  const char *msgid, const char *fmt, ...)
{
	size_t o = strlen(logbuf);
	va_list ap;

	(void)s;
	(void)level;
	snprintf(logbuf + o, sizeof(logbuf) - o, "%s %s ", plugin, msgid);
	o = strlen(logbuf);
	va_start(ap, fmt);
	vsnprintf(logbuf + o, sizeof(logbuf) - o, fmt, ap);
	va_end(ap);
	o = strlen(logbuf);
	snprintf(logbuf + o, sizeof(logbuf) - o, "\n");
}

static const char *f_cfg_string(const struct jg_config *c, const char *key)
{
	if (!strcmp(key, "url"))
		return c->url;
	if (!strcmp(key, "format"))
		return c->format ? c->format : "json";
	return NULL; /* ca_file */
}

static int64_t f_cfg_int(const struct jg_config *c, const char *key)
{
	if (!strcmp(key, "max_retries"))
		return c->max_retries;
	if (!strcmp(key, "queue_size"))
		return c->queue_size ? c->queue_size : 100;
	if (!strcmp(key, "backoff_max"))
		return 300000;
	return 1000; /* timeout, backoff */
}

static size_t f_cfg_list_len(const struct jg_config *c, const char *key)
{
	size_t n = 0;

	assert_string_equal(key, "events");
	while (c->events[n])
		n++;
	return n;
}

static const char *f_cfg_list_item(const struct jg_config *c, const char *key,
                                   size_t i)
{
	(void)key;
	return c->events[i];
}

static const char *f_cfg_secret(const struct jg_config *c, const char *key,
                                size_t *len)
{
	(void)key;
	*len = c->secret ? strlen(c->secret) : 0;
	return c->secret;
}

static const char *f_cfg_where(const struct jg_config *c, const char *key)
{
	(void)c;
	(void)key;
	return "test.json:7";
}

static struct jg_loop *f_main_loop(void)
{
	static char loop;

	return (struct jg_loop *)&loop;
}

static struct jg_timer *f_timer_add(struct jg_loop *l, uint64_t ms,
                                    uint64_t repeat, jg_task_cb cb, void *ud)
{
	struct jg_timer *t = calloc(1, sizeof(*t));

	(void)l, (void)ms, (void)repeat, (void)cb, (void)ud;
	timers++;
	return t;
}

static void f_timer_del(struct jg_timer *t)
{
	timers--;
	free(t);
}

static void f_metric_add(const char *plugin, const char *name, int64_t d)
{
	assert_string_equal(plugin, "webhook");
	if (!strcmp(name, "webhook_dropped_total"))
		dropped += (int)d;
}

static const struct jg_host host = {
    .log = f_log,
    .cfg_string = f_cfg_string,
    .cfg_int = f_cfg_int,
    .cfg_list_len = f_cfg_list_len,
    .cfg_list_item = f_cfg_list_item,
    .cfg_secret = f_cfg_secret,
    .cfg_where = f_cfg_where,
    .main_loop = f_main_loop,
    .timer_add = f_timer_add,
    .timer_del = f_timer_del,
    .metric_add = f_metric_add,
};

static const char *REVIEW =
    "{\"id\":\"r-0123456789abcdef\",\"requester\":\"alice\","
    "\"connection\":\"db\",\"summary\":\"DELETE FROM secrets_table\"}";

static int reset(void **state)
{
	(void)state;
	logbuf[0] = '\0';
	timers = dropped = 0;
	return 0;
}

static void refused(struct jg_config *c, const char *why)
{
	char err[256] = "";
	void *inst = (void *)1;

	assert_int_equal(jg_plugin.init(&host, c, &inst, err, sizeof(err)),
	                 JG_ERROR);
	assert_null(inst);
	if (!strstr(err, why))
		fail_msg("\"%s\" does not say \"%s\"", err, why);
}

static void test_descriptor(void **state)
{
	const struct jg_notify_ops *ops = jg_plugin.ops;

	(void)state;
	assert_int_equal(jg_plugin.kind, JG_KIND_NOTIFY);
	assert_string_equal(jg_plugin.name, "webhook");
	assert_true(ops->size >= sizeof(*ops) && ops->notify);
	for (const struct jg_option *o = jg_plugin.options; o->key; o++)
		assert_int_equal(o->secret, !strcmp(o->key, "secret"));
}

static void test_option_checks(void **state)
{
	(void)state;
	refused(&(struct jg_config){.url = "ftp://h/x"},
	        "test.json:7: url: must be an http or https URL");
	refused(&(struct jg_config){.url = "not a url"}, "url: must be");
	refused(&(struct jg_config){.url = "http://h/", .format = "xml"},
	        "format: must be json or slack");
	refused(&(struct jg_config){.url = "http://h/", .secret = "short"},
	        "secret: must be 16 bytes or more");
	refused(&(struct jg_config){.url = "http://h/", .max_retries = 21},
	        "max_retries must be 0 to 20");
	refused(&(struct jg_config){.url = "http://h/", .queue_size = -1},
	        "queue_size 1 to 100000");
	refused(
	    &(struct jg_config){.url = "http://h/",
	                        .events = {"review.created", "review.typo"}},
	    "events[1]: unknown event \"review.typo\"");
	assert_int_equal(timers, 0);
	assert_null(strstr(logbuf, "short"));
}

static void test_filter_queue_and_fini(void **state)
{
	struct jg_config c = {
	    .url = "https://hooks.example/services/T0/B0/tokenpath",
	    .secret = SECRET,
	    .queue_size = 2,
	    .events = {"review.created", "review.denied"},
	};
	const struct jg_notify_ops *ops = jg_plugin.ops;
	char err[256] = "";
	void *inst = NULL;

	(void)state;
	assert_int_equal(jg_plugin.init(&host, &c, &inst, err, sizeof(err)),
	                 JG_OK);
	/* Filtered out: nothing queued. */
	ops->notify(inst, "review.approved", REVIEW);
	ops->notify(inst, "review.unheard_of", REVIEW);
	assert_int_equal(timers, 0);
	/* Not JSON: refused with the event named, nothing queued. */
	ops->notify(inst, "review.created", "{oops");
	assert_non_null(strstr(logbuf, "WH0006 review.created ?: cannot "
	                               "build the body"));
	assert_int_equal(timers, 0);
	/* Queued; each waits on the loop for its first attempt. */
	ops->notify(inst, "review.created", REVIEW);
	ops->notify(inst, "review.denied", REVIEW);
	assert_int_equal(timers, 2);
	assert_int_equal(dropped, 0);
	/* Full: the oldest (created) goes. */
	ops->notify(inst, "review.created", REVIEW);
	assert_int_equal(timers, 2);
	assert_int_equal(dropped, 1);
	assert_non_null(strstr(logbuf,
	                       "WH0004 queue for https://hooks.example:443 "
	                       "full (2): dropped review.created "
	                       "r-0123456789abcdef after 0 attempts"));
	jg_plugin.fini(inst);
	assert_int_equal(timers, 0);
	assert_non_null(strstr(logbuf, "WH0007 stopping with 2 undelivered "
	                               "events for https://hooks.example:443"));
	assert_null(strstr(logbuf, "tokenpath"));
	assert_null(strstr(logbuf, SECRET));
	assert_null(strstr(logbuf, "secrets_table"));
}

static void test_unsigned_json_warns(void **state)
{
	struct jg_config c = {.url = "http://127.0.0.1:9/x"};
	char err[256] = "";
	void *inst = NULL;

	(void)state;
	assert_int_equal(jg_plugin.init(&host, &c, &inst, err, sizeof(err)),
	                 JG_OK);
	assert_non_null(strstr(logbuf, "WH0008 json webhook "
	                               "http://127.0.0.1:9 has no secret"));
	jg_plugin.fini(inst);
	assert_null(strstr(logbuf, "WH0007"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_descriptor, reset),
	    cmocka_unit_test_setup(test_option_checks, reset),
	    cmocka_unit_test_setup(test_filter_queue_and_fini, reset),
	    cmocka_unit_test_setup(test_unsigned_json_warns, reset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
