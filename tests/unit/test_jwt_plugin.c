/*
 * The oidc plugin through its descriptor and ops, against a fake host (a
 * poll() loop, a config table, an identity builder) and the local issuer
 * fixture tests/fixtures/oidc_issuer.py: discovery, JWKS over HTTP with
 * libcurl on the loop, every bad token the issue lists, key rotation with
 * an unknown kid, an unreachable issuer, ageing keys, concurrent
 * verification during a key swap, and fini with a refresh still queued.
 * Skipped when /usr/bin/python3 with python3-cryptography is missing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jitgate/idp.h>

#include "oidc.h"
#include "jwt_test_keys.h"

extern const struct jg_plugin jg_plugin;

/* ---- the fake host: config ---- */

struct jg_config {
	const char *kv[32][2]; /* key, value; a key repeats for lists */
};

static const char *schema_default(const char *key)
{
	for (const struct jg_option *o = jg_plugin.options; o->key; o++)
		if (!strcmp(o->key, key))
			return o->def;
	fail_msg("option %s is not in the schema", key);
	return NULL;
}

static const char *cfg_nth(const struct jg_config *c, const char *key,
			   size_t i)
{
	for (size_t j = 0; j < 32 && c->kv[j][0]; j++)
		if (!strcmp(c->kv[j][0], key) && i-- == 0)
			return c->kv[j][1];
	return NULL;
}

static const char *f_cfg_string(const struct jg_config *c, const char *key)
{
	const char *v = cfg_nth(c, key, 0);
	return v ? v : schema_default(key);
}

static int64_t f_cfg_int(const struct jg_config *c, const char *key)
{
	const char *v = f_cfg_string(c, key);
	char *end;
	double n = strtod(v ? v : "0", &end);
	if (!strcmp(end, "ms") || !*end)
		return (int64_t)n;
	if (!strcmp(end, "s"))
		return (int64_t)(n * 1000);
	if (!strcmp(end, "m"))
		return (int64_t)(n * 60000);
	if (!strcmp(end, "h"))
		return (int64_t)(n * 3600000);
	if (!strcmp(end, "k"))
		return (int64_t)(n * 1024);
	fail_msg("bad duration %s", v);
	return 0;
}

static size_t f_cfg_list_len(const struct jg_config *c, const char *key)
{
	size_t n = 0;
	while (cfg_nth(c, key, n))
		n++;
	return n;
}

static const char *f_cfg_list_item(const struct jg_config *c,
				   const char *key, size_t i)
{
	return cfg_nth(c, key, i);
}

static const char *f_cfg_secret(const struct jg_config *c, const char *key,
				size_t *len)
{
	const char *v = cfg_nth(c, key, 0);
	*len = v ? strlen(v) : 0;
	return v;
}

static const char *f_cfg_where(const struct jg_config *c, const char *key)
{
	return "test.json:1";
}

/* ---- the fake host: a poll() loop ---- */

struct jg_io {
	int used, fd, events;
	jg_io_cb cb;
	void *ud;
};
struct jg_timer {
	int used;
	int64_t due, repeat;
	jg_task_cb cb;
	void *ud;
};
static struct jg_io ios[64];
static struct jg_timer timers[64];
static struct {
	jg_task_cb cb;
	void *ud;
} posted[256];
static int nposted;
static pthread_mutex_t post_lock = PTHREAD_MUTEX_INITIALIZER;
static struct jg_loop *main_loop_ptr = (struct jg_loop *)&main_loop_ptr;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct jg_loop *f_main_loop(void)
{
	return main_loop_ptr;
}

static struct jg_io *f_io_add(struct jg_loop *l, int fd, int events,
			      jg_io_cb cb, void *ud)
{
	for (int i = 0; i < 64; i++)
		if (!ios[i].used) {
			ios[i] = (struct jg_io){1, fd, events, cb, ud};
			return &ios[i];
		}
	return NULL;
}

static void f_io_set(struct jg_io *io, int events)
{
	io->events = events;
}

static void f_io_del(struct jg_io *io)
{
	assert_true(io->used);
	io->used = 0;
}

static struct jg_timer *f_timer_add(struct jg_loop *l, uint64_t ms,
				    uint64_t repeat, jg_task_cb cb, void *ud)
{
	for (int i = 0; i < 64; i++)
		if (!timers[i].used) {
			timers[i] = (struct jg_timer){1, now_ms() + (int64_t)ms,
						      (int64_t)repeat, cb, ud};
			return &timers[i];
		}
	return NULL;
}

static void f_timer_del(struct jg_timer *t)
{
	assert_true(t->used);
	t->used = 0;
}

static int f_loop_post(struct jg_loop *l, jg_task_cb cb, void *ud)
{
	pthread_mutex_lock(&post_lock);
	int ok = nposted < 256;
	if (ok) {
		posted[nposted].cb = cb;
		posted[nposted++].ud = ud;
	}
	pthread_mutex_unlock(&post_lock);
	return ok ? JG_OK : JG_ERROR;
}

static void run_posted(void)
{
	pthread_mutex_lock(&post_lock);
	int n = nposted;
	typeof(posted[0]) copy[256];
	memcpy(copy, posted, sizeof(copy[0]) * (size_t)n);
	nposted = 0;
	pthread_mutex_unlock(&post_lock);
	for (int i = 0; i < n; i++)
		copy[i].cb(copy[i].ud);
}

/* One turn of the loop, waiting at most max_ms. */
static void loop_once(int max_ms)
{
	struct pollfd p[64];
	int idx[64], n = 0;
	int64_t now = now_ms(), wait = max_ms;

	for (int i = 0; i < 64; i++)
		if (timers[i].used && timers[i].due - now < wait)
			wait = timers[i].due - now > 0 ? timers[i].due - now : 0;
	if (nposted)
		wait = 0;
	for (int i = 0; i < 64; i++)
		if (ios[i].used && ios[i].events) {
			p[n].fd = ios[i].fd;
			p[n].events = (short)(((ios[i].events & JG_IO_READ) ? POLLIN : 0) |
				      ((ios[i].events & JG_IO_WRITE) ? POLLOUT : 0));
			idx[n++] = i;
		}
	int r = poll(p, (nfds_t)n, (int)wait);
	for (int k = 0; r > 0 && k < n; k++) {
		struct jg_io *io = &ios[idx[k]];
		if (!p[k].revents || !io->used || io->fd != p[k].fd)
			continue;
		int ev = ((p[k].revents & (POLLIN | POLLHUP | POLLERR)) ? JG_IO_READ : 0) |
			 ((p[k].revents & (POLLOUT | POLLERR)) ? JG_IO_WRITE : 0);
		io->cb(io->ud, io->fd, ev);
	}
	now = now_ms();
	for (int i = 0; i < 64; i++) {
		struct jg_timer *t = &timers[i];
		if (!t->used || t->due > now)
			continue;
		t->due = now + (t->repeat ? t->repeat : 1 << 30);
		t->cb(t->ud);
	}
	run_posted();
}

/* Run the loop until done() or a generous limit (a hang guard only). */
static int loop_until(int (*done)(void *), void *arg)
{
	int64_t limit = now_ms() + 20000;
	while (!done(arg) && now_ms() < limit)
		loop_once(50);
	return done(arg);
}

/* ---- the fake host: identity, metrics, log ---- */

struct jg_identity_builder {
	char subject[256];
	char groups[16][128];
	int ngroups;
	char claims[64][2][256];
	int nclaims;
	int64_t exp;
};

static int f_set_subject(struct jg_identity_builder *b, const char *s)
{
	snprintf(b->subject, sizeof(b->subject), "%s", s);
	return JG_OK;
}

static int f_add_group(struct jg_identity_builder *b, const char *g)
{
	if (b->ngroups < 16)
		snprintf(b->groups[b->ngroups++], 128, "%s", g);
	return JG_OK;
}

static int f_set_claim(struct jg_identity_builder *b, const char *k,
		       const char *v)
{
	if (b->nclaims < 64) {
		snprintf(b->claims[b->nclaims][0], 256, "%s", k);
		snprintf(b->claims[b->nclaims++][1], 256, "%s", v);
	}
	return JG_OK;
}

static void f_set_expiry(struct jg_identity_builder *b, int64_t exp)
{
	b->exp = exp;
}

static const char *claim(const struct jg_identity_builder *b, const char *k,
			 int nth)
{
	for (int i = 0; i < b->nclaims; i++)
		if (!strcmp(b->claims[i][0], k) && nth-- == 0)
			return b->claims[i][1];
	return NULL;
}

static int refreshes, refresh_failures;

static void f_metric_add(const char *plugin, const char *name, int64_t d)
{
	if (!strcmp(name, "oidc_key_refreshes"))
		refreshes += (int)d;
	if (!strcmp(name, "oidc_key_refresh_failures"))
		refresh_failures += (int)d;
}

static void f_log(const char *plugin, const struct jg_session *s, int level,
		  const char *msgid, const char *fmt, ...)
{
	if (!getenv("TEST_VERBOSE"))
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "log %s %s: ", plugin, msgid);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static const struct jg_host host = {
	.magic = JG_PLUGIN_MAGIC,
	.abi_major = JG_ABI_MAJOR,
	.abi_minor = JG_ABI_MINOR,
	.size = sizeof(struct jg_host),
	.log = f_log,
	.cfg_string = f_cfg_string,
	.cfg_int = f_cfg_int,
	.cfg_list_len = f_cfg_list_len,
	.cfg_list_item = f_cfg_list_item,
	.cfg_secret = f_cfg_secret,
	.cfg_where = f_cfg_where,
	.main_loop = f_main_loop,
	.io_add = f_io_add,
	.io_set = f_io_set,
	.io_del = f_io_del,
	.timer_add = f_timer_add,
	.timer_del = f_timer_del,
	.loop_post = f_loop_post,
	.metric_add = f_metric_add,
	.identity_set_subject = f_set_subject,
	.identity_add_group = f_add_group,
	.identity_set_claim = f_set_claim,
	.identity_set_expiry = f_set_expiry,
};

/* ---- the issuer fixture ---- */

static pid_t issuer_pid;
static char issuer[64];
static char tmpdir[64];

static int start_issuer(void **state)
{
	const char *src = getenv("JG_SRCDIR");
	char script[1024], portfile[128];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/jg-oidc-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(script, sizeof(script), "%s/tests/fixtures/oidc_issuer.py",
		 src ? src : "../..");
	snprintf(portfile, sizeof(portfile), "%s/port", tmpdir);
	if (access("/usr/bin/python3", X_OK) ||
	    system("/usr/bin/python3 -c 'import cryptography' 2>/dev/null")) {
		*state = "no python3-cryptography";
		return 0;
	}
	issuer_pid = fork();
	if (issuer_pid == 0) {
		/* Its banner would mix with our TAP output. */
		if (!freopen("/dev/null", "w", stdout))
			_exit(127);
		execl("/usr/bin/python3", "python3", script, "--port-file",
		      portfile, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		FILE *f = fopen(portfile, "r");
		int port;
		if (f && fscanf(f, "%d", &port) == 1) {
			fclose(f);
			snprintf(issuer, sizeof(issuer), "http://127.0.0.1:%d",
				 port);
			return 0;
		}
		if (f)
			fclose(f);
		usleep(50000);
	}
	return -1;
}

static void stop_issuer(void)
{
	if (issuer_pid > 0) {
		kill(issuer_pid, SIGTERM);
		waitpid(issuer_pid, NULL, 0);
		issuer_pid = 0;
	}
}

static int teardown_all(void **state)
{
	char cmd[128];

	stop_issuer();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	if (tmpdir[0] && system(cmd)) {
	}
	curl_global_cleanup();
	return 0;
}

static size_t collect(char *d, size_t s, size_t n, void *ud)
{
	char *buf = ud;
	size_t have = strlen(buf), add = s * n;
	if (have + add >= 65536)
		return 0;
	memcpy(buf + have, d, add);
	buf[have + add] = 0;
	return add;
}

/* GET a fixture path; the body without its trailing newline (static). */
static const char *get(const char *fmt, ...)
{
	static char body[65536];
	char path[512], url[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	snprintf(url, sizeof(url), "%s%s", issuer, path);
	body[0] = 0;
	CURL *c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_cleanup(c);
	size_t n = strlen(body);
	if (n && body[n - 1] == '\n')
		body[n - 1] = 0;
	return body;
}

#define SKIP_WITHOUT_ISSUER()                                                 \
	do {                                                                  \
		if (!issuer[0])                                               \
			skip();                                               \
	} while (0)

/* ---- helpers ---- */

static void *instance(struct jg_config *c, char *err, size_t errlen)
{
	void *inst = NULL;
	err[0] = 0;
	if (jg_plugin.init(&host, c, &inst, err, errlen) != JG_OK)
		return NULL;
	return inst;
}

static int keys_loaded(void *arg)
{
	struct oidc *o = arg;
	return o->keys != NULL;
}

static int auth(void *inst, const char *tok, struct jg_identity_builder *b,
		char *err, size_t errlen)
{
	const struct jg_idp_ops *ops = jg_plugin.ops;
	memset(b, 0, sizeof(*b));
	err[0] = 0;
	int rc = ops->authenticate(inst, tok, strlen(tok), b, err, errlen);
	/* Reasons reach clients and logs: never any part of the token. */
	if (rc != JG_OK && strlen(tok) > 16) {
		char head[17];
		memcpy(head, tok, 16);
		head[16] = 0;
		assert_null(strstr(err, head));
		assert_null(strstr(err, tok + strlen(tok) - 16));
	}
	return rc;
}

/* An instance of c whose keys have loaded. */
static void *loaded_instance(struct jg_config *c)
{
	char err[256];
	void *inst = instance(c, err, sizeof(err));
	if (!inst)
		fail_msg("init: %s", err);
	assert_true(loop_until(keys_loaded, inst));
	return inst;
}

static struct jg_config base_config(void)
{
	struct jg_config c = {{{"issuer", issuer},
			       {"audience", "jitgate"},
			       {"audience", "second"},
			       {"groups_claim", "groups"},
			       {"groups_claim", "project.path"},
			       {"refresh_min_interval", "0s"}}};
	return c;
}

static void add_kv(struct jg_config *c, const char *k, const char *v)
{
	int i = 0;
	while (c->kv[i][0])
		i++;
	c->kv[i][0] = k;
	c->kv[i][1] = v;
}

/* ---- tests ---- */

static void test_config_errors(void **state)
{
	char err[256];
	struct jg_config c = {{{"issuer", "https://x.test"}}};

	assert_null(instance(&c, err, sizeof(err)));
	assert_non_null(strstr(err, "audience"));
	struct jg_config d = {{{"issuer", "ftp://x.test"}, {"audience", "a"}}};
	assert_null(instance(&d, err, sizeof(err)));
	assert_non_null(strstr(err, "issuer must be"));
	struct jg_config e = {{{"issuer", "https://x.test"}, {"audience", "a"},
			       {"algorithms", "RS256"}, {"algorithms", "HS256"}}};
	assert_null(instance(&e, err, sizeof(err)));
	assert_non_null(strstr(err, "HS256"));
	struct jg_config f = {{{"issuer", "https://x.test"}, {"audience", "a"},
			       {"algorithms", "none"}}};
	assert_null(instance(&f, err, sizeof(err)));
	struct jg_config g = {{{"issuer", "https://x.test"}, {"audience", "a"},
			       {"hs256_secret", "too short"}}};
	assert_null(instance(&g, err, sizeof(err)));
	assert_non_null(strstr(err, "32 bytes"));
	assert_null(strstr(err, "too short"));
	struct jg_config h = {{{"issuer", "https://x.test"}, {"audience", "a"},
			       {"jwks_uri", "gopher://x"}}};
	assert_null(instance(&h, err, sizeof(err)));
	assert_non_null(strstr(err, "jwks_uri"));
	(void)state;
}

static void test_discovery_and_every_alg(void **state)
{
	SKIP_WITHOUT_ISSUER();
	struct jg_config c = base_config();
	char err[256];
	struct jg_identity_builder b;
	void *inst = instance(&c, err, sizeof(err));
	assert_non_null(inst);
	/* Nothing loaded yet: refused, not blocked. */
	const char *tok = get("/token?alg=RS256");
	char *t0 = strdup(tok);
	assert_int_equal(auth(inst, t0, &b, err, sizeof(err)), JG_ERROR);
	assert_non_null(strstr(err, "not loaded"));
	assert_true(loop_until(keys_loaded, inst));
	assert_int_equal(auth(inst, t0, &b, err, sizeof(err)), JG_OK);
	free(t0);

	const char *algs[] = {"RS256", "RS384", "RS512", "PS256",
			      "ES256", "ES384", "EdDSA"};
	for (size_t i = 0; i < sizeof(algs) / sizeof(*algs); i++) {
		char *t = strdup(get("/token?alg=%s&sub=repo:acme/app&"
				     "groups=ci,deployers&aud=second&"
				     "claims=%%7B%%22ref%%22:%%22main%%22,"
				     "%%22project%%22:%%7B%%22path%%22:"
				     "%%22acme/app%%22%%7D%%7D",
				     algs[i]));
		int rc = auth(inst, t, &b, err, sizeof(err));
		if (rc != JG_OK)
			fail_msg("%s refused: %s", algs[i], err);
		assert_string_equal(b.subject, "repo:acme/app");
		assert_int_equal(b.ngroups, 3);
		assert_string_equal(b.groups[0], "ci");
		assert_string_equal(b.groups[1], "deployers");
		assert_string_equal(b.groups[2], "acme/app");
		assert_string_equal(claim(&b, "ref", 0), "main");
		assert_string_equal(claim(&b, "iss", 0), issuer);
		assert_string_equal(claim(&b, "groups", 1), "deployers");
		assert_non_null(claim(&b, "exp", 0));
		assert_null(claim(&b, "project", 0));
		assert_true(b.exp > (int64_t)time(NULL));
		free(t);
	}
	jg_plugin.fini(inst);
	(void)state;
}

static void test_bad_tokens(void **state)
{
	SKIP_WITHOUT_ISSUER();
	static const struct {
		const char *bad;
		int rc;
		const char *reason;
	} cases[] = {
		{"unknown_key", JG_ERROR, "unknown key"},
		{"alg_none", JG_ERROR, "alg none"},
		{"hs256_pubkey", JG_ERROR, "no shared secret"},
		{"expired", JG_ERROR, "expired"},
		{"not_yet_valid", JG_ERROR, "not valid yet"},
		{"issued_in_future", JG_ERROR, "issued in the future"},
		{"wrong_aud", JG_ERROR, "aud"},
		{"wrong_iss", JG_DECLINED, "not this issuer"},
		{"no_iss", JG_DECLINED, "no iss"},
		{"no_exp", JG_ERROR, "no exp"},
		{"absurd_exp", JG_ERROR, "lifetime"},
		{"tampered", JG_ERROR, "does not verify"},
		{"kty_mismatch", JG_ERROR, "does not match"},
		{"crit", JG_ERROR, "crit"},
		{"malformed_header", JG_ERROR, "header"},
		{"malformed_payload", JG_ERROR, "payload"},
		{"malformed_signature", JG_ERROR, "base64url"},
		{"bad_base64", JG_ERROR, "base64url"},
		{"padded", JG_ERROR, "base64url"},
		{"two_parts", JG_ERROR, "three parts"},
		{"four_parts", JG_ERROR, "three parts"},
		{"truncated", JG_ERROR, NULL},
		{"empty_signature", JG_ERROR, "no signature"},
		{"oversized", JG_ERROR, "larger than"},
	};
	struct jg_config c = base_config();
	char err[256];
	struct jg_identity_builder b;
	void *inst = loaded_instance(&c);
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *t = strdup(get("/token?alg=ES256&bad=%s", cases[i].bad));
		int rc = auth(inst, t, &b, err, sizeof(err));
		if (rc != cases[i].rc ||
		    (cases[i].reason && !strstr(err, cases[i].reason)))
			fail_msg("%s: rc %d reason \"%s\"", cases[i].bad, rc,
				 err);
		assert_string_equal(b.subject, "");
		free(t);
	}
	assert_int_equal(auth(inst, "jg_grant_credential", &b, err,
			      sizeof(err)),
			 JG_DECLINED);
	jg_plugin.fini(inst);
	(void)state;
}

struct rotation {
	struct oidc *o;
	const char *kid;
};

static int kid_present(void *arg)
{
	struct rotation *r = arg;
	return r->o->keys && jwk_set_find(r->o->keys, r->kid) != NULL;
}

static int refresh_failed(void *arg)
{
	return refresh_failures > *(int *)arg;
}

struct aged {
	struct oidc *o;
	const char *token;
	char *err;
	size_t errlen;
};

static int keys_aged_out(void *arg)
{
	struct aged *a = arg;
	struct jg_identity_builder b;
	return auth(a->o, a->token, &b, a->err, a->errlen) == JG_ERROR;
}

static void test_rotation_and_outage(void **state)
{
	SKIP_WITHOUT_ISSUER();
	struct jg_config c = base_config();
	/* Long enough that a slow (sanitizer, loaded) run does not age the
	 * keys out between two steps; the end of the test waits for it. */
	add_kv(&c, "key_max_age", "5s");
	char err[256];
	struct jg_identity_builder b;
	struct oidc *o = loaded_instance(&c);
	char *old = strdup(get("/token?alg=ES256"));
	assert_int_equal(auth(o, old, &b, err, sizeof(err)), JG_OK);

	/* The issuer rotates: a new kid triggers a refresh, then works. */
	get("/rotate");
	char *fresh = strdup(get("/token?alg=ES256"));
	assert_int_equal(auth(o, fresh, &b, err, sizeof(err)), JG_ERROR);
	assert_non_null(strstr(err, "unknown key"));
	struct rotation r = {o, "p256-2"};
	assert_true(loop_until(kid_present, &r));
	assert_int_equal(auth(o, fresh, &b, err, sizeof(err)), JG_OK);
	assert_int_equal(auth(o, old, &b, err, sizeof(err)), JG_ERROR);
	assert_non_null(strstr(err, "unknown key"));

	/* The issuer fails: refreshes fail, the cached keys keep working. */
	get("/fail?on=1");
	int before = refresh_failures;
	assert_int_equal(auth(o, old, &b, err, sizeof(err)), JG_ERROR);
	assert_true(loop_until(refresh_failed, &before));
	assert_int_equal(auth(o, fresh, &b, err, sizeof(err)), JG_OK);
	/* ... until they age out (key_max_age 5 s): poll, no timing bet. */
	struct aged a = {o, fresh, err, sizeof(err)};
	assert_true(loop_until(keys_aged_out, &a));
	assert_non_null(strstr(err, "out of date"));
	get("/fail?on=0");
	free(old);
	free(fresh);
	jg_plugin.fini(o);
	(void)state;
}

static void test_discovery_issuer_mismatch(void **state)
{
	SKIP_WITHOUT_ISSUER();
	char iss[80], err[256];
	struct jg_identity_builder b;
	/* Discovery names the issuer without the slash: not the same. */
	snprintf(iss, sizeof(iss), "%s/", issuer);
	struct jg_config c = {{{"issuer", iss}, {"audience", "jitgate"}}};
	int before = refresh_failures;
	void *inst = instance(&c, err, sizeof(err));
	assert_non_null(inst);
	assert_true(loop_until(refresh_failed, &before));
	char *t = strdup(get("/token"));
	assert_int_equal(auth(inst, t, &b, err, sizeof(err)), JG_DECLINED);
	free(t);
	jg_plugin.fini(inst);
	(void)state;
}

static void test_static_jwks_file_and_hs256(void **state)
{
	struct test_key k;
	char path[128], uri[160], err[256], payload[256];
	struct jg_identity_builder b;
	const char *secret = "a shared secret of at least 32 bytes!";

	assert_int_equal(tk_generate(&k, JWK_KTY_OKP, 0,
				     GNUTLS_ECC_CURVE_ED25519, "file-key"), 0);
	snprintf(path, sizeof(path), "%s/jwks.json", tmpdir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "{\"keys\":[%s]}\n", k.jwk);
	fclose(f);
	snprintf(uri, sizeof(uri), "file://%s", path);
	struct jg_config c = {{{"issuer", "https://static.test"},
			       {"audience", "jitgate"},
			       {"jwks_uri", uri},
			       {"hs256_secret", secret},
			       {"subject_claim", "actor.name"}}};
	void *inst = loaded_instance(&c);
	snprintf(payload, sizeof(payload),
		 "{\"iss\":\"https://static.test\",\"aud\":\"jitgate\","
		 "\"exp\":%ld,\"actor\":{\"name\":\"robot\"},\"n\":7,"
		 "\"ok\":true}",
		 (long)time(NULL) + 60);
	char *t = tk_mint(&k, JWT_ALG_EDDSA, payload);
	assert_int_equal(auth(inst, t, &b, err, sizeof(err)), JG_OK);
	assert_string_equal(b.subject, "robot");
	assert_string_equal(claim(&b, "n", 0), "7");
	assert_string_equal(claim(&b, "ok", 0), "true");
	free(t);
	t = tk_mint_hs256(secret, strlen(secret), payload);
	assert_int_equal(auth(inst, t, &b, err, sizeof(err)), JG_OK);
	free(t);
	/* No subject claim: refused with the claim's name. */
	snprintf(payload, sizeof(payload),
		 "{\"iss\":\"https://static.test\",\"aud\":\"jitgate\","
		 "\"exp\":%ld,\"sub\":\"x\"}", (long)time(NULL) + 60);
	t = tk_mint(&k, JWT_ALG_EDDSA, payload);
	assert_int_equal(auth(inst, t, &b, err, sizeof(err)), JG_ERROR);
	assert_non_null(strstr(err, "actor.name"));
	free(t);
	tk_free(&k);
	jg_plugin.fini(inst);
	(void)state;
}

struct worker {
	void *inst;
	const char *tok;
	int ok, refused;
};

static void *verify_many(void *arg)
{
	struct worker *w = arg;
	const struct jg_idp_ops *ops = jg_plugin.ops;
	struct jg_identity_builder *b = malloc(sizeof(*b));
	char err[256];

	for (int i = 0; i < 150; i++) {
		memset(b, 0, sizeof(*b));
		if (ops->authenticate(w->inst, w->tok, strlen(w->tok), b, err,
				      sizeof(err)) == JG_OK)
			w->ok++;
		else
			w->refused++;
	}
	free(b);
	return NULL;
}

static void test_concurrent_verify_during_swaps(void **state)
{
	SKIP_WITHOUT_ISSUER();
	struct jg_config c = base_config();
	char err[256];
	struct oidc *o = loaded_instance(&c);
	char *tok = strdup(get("/token?alg=EdDSA"));
	struct worker w[3];
	pthread_t th[3];
	for (int i = 0; i < 3; i++) {
		w[i] = (struct worker){o, tok, 0, 0};
		pthread_create(&th[i], NULL, verify_many, &w[i]);
	}
	/* Meanwhile the main loop swaps key sets a few times, each time
	 * asked by a token with an unknown kid. */
	char *unknown = strdup(get("/token?bad=unknown_key"));
	struct jg_identity_builder b;
	for (int i = 0; i < 4; i++) {
		int before = refreshes;
		assert_int_equal(auth(o, unknown, &b, err, sizeof(err)),
				 JG_ERROR);
		while (refreshes == before)
			loop_once(20);
	}
	free(unknown);
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].ok + w[i].refused, 150);
		assert_int_equal(w[i].refused, 0);
	}
	free(tok);
	jg_plugin.fini(o);
	(void)state;
}

static void test_fini_with_refresh_queued(void **state)
{
	SKIP_WITHOUT_ISSUER();
	struct jg_config c = base_config();
	char err[256];
	struct jg_identity_builder b;
	void *inst = loaded_instance(&c);
	char *t = strdup(get("/token?bad=unknown_key"));
	assert_int_equal(auth(inst, t, &b, err, sizeof(err)), JG_ERROR);
	assert_int_equal(nposted, 1);
	/* fini first, then the queued refresh runs: it must do nothing. */
	jg_plugin.fini(inst);
	run_posted();
	for (int i = 0; i < 64; i++) {
		assert_false(ios[i].used);
		assert_false(timers[i].used);
	}
	free(t);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_discovery_and_every_alg),
		cmocka_unit_test(test_bad_tokens),
		cmocka_unit_test(test_rotation_and_outage),
		cmocka_unit_test(test_discovery_issuer_mismatch),
		cmocka_unit_test(test_static_jwks_file_and_hs256),
		cmocka_unit_test(test_concurrent_verify_during_swaps),
		cmocka_unit_test(test_fini_with_refresh_queued),
	};
	return cmocka_run_group_tests(tests, start_issuer, teardown_all);
}
