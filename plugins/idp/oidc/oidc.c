/*
 * The oidc identity provider plugin.
 *
 * Workers call authenticate() concurrently; it verifies against the
 * current key set, which it pins with a reference taken under a short
 * mutex.  The main loop owns everything else: discovery, JWKS fetches
 * (fetch.c, non-blocking), the refresh schedule, and swapping in a new
 * key set.  A worker that meets an unknown kid asks the main loop for a
 * refresh through loop_post(), at most once per refresh_min_interval.
 * When the issuer cannot be reached the last good key set keeps working
 * until it is key_max_age old.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gnutls/gnutls.h>
#include <json-c/json.h>
#include <jitgate/idp.h>
#include <jitgate/jitgate.h>

#include "fetch.h"
#include "oidc.h"

#define PLUGIN "oidc"
#define DISCOVERY_PATH "/.well-known/openid-configuration"
#define MAX_DISCOVERY_BYTES (256 * 1024)
#define MAX_BACKOFF_MS (5 * 60 * 1000)
#define FIRST_BACKOFF_MS 1000

static const struct jg_option oidc_options[] = {
	{"issuer", JG_OPT_STRING, NULL, 1, 0,
	 "issuer URL; tokens' iss must equal it exactly"},
	{"audience", JG_OPT_LIST, NULL, 1, 0,
	 "accepted audiences; a token's aud must hold one"},
	{"algorithms", JG_OPT_LIST, NULL, 0, 0,
	 "accepted algorithms (default: RS256..512, PS256..512, ES256..512, "
	 "EdDSA)"},
	{"jwks_uri", JG_OPT_STRING, NULL, 0, 0,
	 "key set URL (https, http or file); default: from discovery"},
	{"hs256_secret", JG_OPT_SECRET, NULL, 0, 1,
	 "shared secret (32 bytes or more) that enables HS256"},
	{"clock_skew", JG_OPT_DURATION, "60s", 0, 0,
	 "tolerance for exp, nbf and iat"},
	{"max_token_lifetime", JG_OPT_DURATION, "24h", 0, 0,
	 "refuse tokens whose exp is further ahead than this"},
	{"subject_claim", JG_OPT_STRING, "sub", 0, 0,
	 "claim (dotted path) holding the subject"},
	{"groups_claim", JG_OPT_LIST, NULL, 0, 0,
	 "claim paths whose strings or arrays are groups (default: groups)"},
	{"claims", JG_OPT_LIST, NULL, 0, 0,
	 "nested claim paths to expose besides the top-level claims"},
	{"refresh_interval", JG_OPT_DURATION, "15m", 0, 0,
	 "how often the key set is fetched again"},
	{"refresh_min_interval", JG_OPT_DURATION, "30s", 0, 0,
	 "least time between refreshes caused by an unknown kid"},
	{"key_max_age", JG_OPT_DURATION, "24h", 0, 0,
	 "stop trusting a key set not refreshed for this long"},
	{"fetch_timeout", JG_OPT_DURATION, "10s", 0, 0,
	 "time limit of one discovery or key set fetch"},
	{"ca_file", JG_OPT_STRING, NULL, 0, 0,
	 "PEM CA bundle for https fetches (default: system store)"},
	{NULL, 0, NULL, 0, 0, NULL},
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- instance lifetime ---- */

static void free_strv(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static void oidc_free(struct oidc *o)
{
	jwk_set_unref(o->keys);
	pthread_mutex_destroy(&o->keys_lock);
	free(o->issuer);
	free_strv(o->audiences, o->naudiences);
	free_strv(o->group_paths, o->ngroup_paths);
	free_strv(o->claim_paths, o->nclaim_paths);
	if (o->secret) {
		gnutls_memset(o->secret, 0, o->secret_len);
		free(o->secret);
	}
	free(o->jwks_uri_cfg);
	free(o->jwks_uri);
	free(o->subject_claim);
	free(o);
}

static void oidc_unref(struct oidc *o)
{
	if (atomic_fetch_sub(&o->refs, 1) == 1)
		oidc_free(o);
}

/* ---- the key set ---- */

static struct jwk_set *keys_get(struct oidc *o)
{
	pthread_mutex_lock(&o->keys_lock);
	struct jwk_set *s = jwk_set_ref(o->keys);
	pthread_mutex_unlock(&o->keys_lock);
	return s;
}

static void keys_swap(struct oidc *o, struct jwk_set *s)
{
	pthread_mutex_lock(&o->keys_lock);
	struct jwk_set *old = o->keys;
	o->keys = s;
	pthread_mutex_unlock(&o->keys_lock);
	jwk_set_unref(old); /* freed when the last worker lets go */
}

/* ---- refresh, on the main loop ---- */

static void refresh_start(struct oidc *o);

static void on_retry(void *ud)
{
	struct oidc *o = ud;

	o->host->timer_del(o->retry_timer);
	o->retry_timer = NULL;
	refresh_start(o);
}

static void refresh_failed(struct oidc *o, const char *what, const char *why)
{
	o->busy = 0;
	o->host->metric_add(PLUGIN, "oidc_key_refresh_failures", 1);
	o->host->log(PLUGIN, NULL, JG_LOG_WARN, "OIDC0002",
		     "issuer %s: %s failed: %s; keeping the cached keys, "
		     "retry in %lld ms",
		     o->issuer, what, why, (long long)o->backoff_ms);
	if (!o->retry_timer)
		o->retry_timer = o->host->timer_add(o->host->main_loop(),
						    (uint64_t)o->backoff_ms,
						    (uint64_t)o->backoff_ms,
						    on_retry, o);
	o->backoff_ms *= 2;
	if (o->backoff_ms > MAX_BACKOFF_MS)
		o->backoff_ms = MAX_BACKOFF_MS;
	if (o->backoff_ms > o->refresh_ms)
		o->backoff_ms = o->refresh_ms;
}

static void on_jwks(void *ud, int status, long code, const char *body,
		    size_t len, const char *err)
{
	struct oidc *o = ud;
	struct jwk_set *s;
	char why[256];

	if (status != JG_OK) {
		refresh_failed(o, "key set fetch", err);
		return;
	}
	/* file: URLs report code 0. */
	if (code != 200 && code != 0) {
		snprintf(why, sizeof(why), "HTTP status %ld", code);
		refresh_failed(o, "key set fetch", why);
		return;
	}
	if (jwk_set_parse(body, len, &s, why, sizeof(why)) != JG_OK) {
		refresh_failed(o, "key set", why);
		return;
	}
	s->loaded_ms = mono_ms();
	size_t n = s->n;
	keys_swap(o, s);
	o->busy = 0;
	o->backoff_ms = FIRST_BACKOFF_MS;
	o->host->metric_add(PLUGIN, "oidc_key_refreshes", 1);
	o->host->log(PLUGIN, NULL, n ? JG_LOG_INFO : JG_LOG_WARN, "OIDC0001",
		     "issuer %s: loaded %zu signing keys", o->issuer, n);
}

static int url_scheme_ok(const char *url, int allow_file)
{
	return !strncmp(url, "https://", 8) || !strncmp(url, "http://", 7) ||
	       (allow_file && !strncmp(url, "file://", 7));
}

static void fetch_jwks(struct oidc *o)
{
	const char *protocols =
		o->jwks_uri_cfg && !strncmp(o->jwks_uri, "file://", 7)
			? "file"
			: "https,http";

	if (fetcher_get(o->fetch, o->jwks_uri, protocols, JWK_SET_MAX_BYTES,
			on_jwks, o) != JG_OK)
		refresh_failed(o, "key set fetch", "could not start");
}

int oidc_discovery_parse(const char *body, size_t len, const char *issuer,
			 char **jwks_uri, char *why, size_t whylen)
{
	struct json_object *doc = jwt_json_parse(body, len, 16), *v;
	const char *iss = NULL, *uri = NULL, *bad = NULL;

	*jwks_uri = NULL;
	if (doc && json_object_object_get_ex(doc, "issuer", &v) &&
	    json_object_is_type(v, json_type_string))
		iss = json_object_get_string(v);
	if (doc && json_object_object_get_ex(doc, "jwks_uri", &v) &&
	    json_object_is_type(v, json_type_string))
		uri = json_object_get_string(v);
	if (!iss || !uri)
		bad = "document lacks issuer or jwks_uri";
	else if (strcmp(iss, issuer))
		/* OpenID Connect Discovery 4.3: must be identical. */
		bad = "document names another issuer";
	else if (!url_scheme_ok(uri, 0) || strlen(uri) > 2048)
		bad = "jwks_uri is not an http(s) URL";
	else if (!(*jwks_uri = strdup(uri)))
		bad = "out of memory";
	if (bad)
		snprintf(why, whylen, "%s", bad);
	json_object_put(doc);
	return bad ? -1 : 0;
}

static void on_discovery(void *ud, int status, long code, const char *body,
			 size_t len, const char *err)
{
	struct oidc *o = ud;
	char why[128], *uri;

	if (status != JG_OK) {
		refresh_failed(o, "discovery", err);
		return;
	}
	if (code != 200) {
		snprintf(why, sizeof(why), "HTTP status %ld", code);
		refresh_failed(o, "discovery", why);
		return;
	}
	if (oidc_discovery_parse(body, len, o->issuer, &uri, why,
				 sizeof(why)) < 0) {
		refresh_failed(o, "discovery", why);
		return;
	}
	free(o->jwks_uri);
	o->jwks_uri = uri;
	fetch_jwks(o);
}

static void refresh_start(struct oidc *o)
{
	if (o->busy || atomic_load(&o->dead))
		return;
	o->busy = 1;
	if (o->jwks_uri_cfg) {
		fetch_jwks(o);
		return;
	}
	char url[2200];
	size_t n = strlen(o->issuer);
	if (n && o->issuer[n - 1] == '/')
		n--; /* Discovery 4: drop one trailing slash first */
	snprintf(url, sizeof(url), "%.*s%s", (int)n, o->issuer,
		 DISCOVERY_PATH);
	if (fetcher_get(o->fetch, url, "https,http", MAX_DISCOVERY_BYTES,
			on_discovery, o) != JG_OK)
		refresh_failed(o, "discovery", "could not start");
}

static void on_refresh_timer(void *ud)
{
	refresh_start(ud);
}

static void on_demand(void *ud)
{
	struct oidc *o = ud;

	if (!atomic_load(&o->dead))
		refresh_start(o);
	oidc_unref(o);
}

/* From any worker: an unknown kid may mean the issuer rotated keys. */
static void refresh_on_demand(struct oidc *o)
{
	int64_t now = mono_ms();
	int64_t last = atomic_load(&o->last_demand_ms);

	if (now - last < o->min_refresh_ms ||
	    !atomic_compare_exchange_strong(&o->last_demand_ms, &last, now))
		return;
	atomic_fetch_add(&o->refs, 1);
	if (o->host->loop_post(o->host->main_loop(), on_demand, o) != JG_OK)
		oidc_unref(o);
}

/* ---- the plugin interface ---- */

static int oidc_authenticate(void *instance, const char *credential,
			     size_t len, struct jg_identity_builder *b,
			     char *err, size_t errlen)
{
	struct oidc *o = instance;
	struct jwk_set *keys = keys_get(o);
	int stale = 0;
	struct jwt t;
	struct jwt_result res;

	if (keys && mono_ms() - keys->loaded_ms > o->max_age_ms) {
		jwk_set_unref(keys);
		keys = NULL;
		stale = 1;
	}
	int rc = jwt_verify(&o->rules, keys, credential, len,
			    (int64_t)time(NULL), &t, &res, err, errlen);
	jwk_set_unref(keys);
	if (res.unknown_kid) {
		refresh_on_demand(o);
		if (stale)
			snprintf(err, errlen,
				 "the issuer's signing keys are out of date "
				 "(issuer unreachable)");
	}
	if (rc == JG_OK) {
		rc = oidc_build_identity(o, &t, res.exp, b, err, errlen);
		jwt_clear(&t);
	}
	if (rc != JG_DECLINED)
		o->host->metric_add(PLUGIN,
				    rc == JG_OK ? "oidc_tokens_accepted"
						: "oidc_tokens_refused",
				    1);
	return rc;
}

static int copy_list(const struct jg_host *h, const struct jg_config *cfg,
		     const char *key, const char *def, char ***out, size_t *n)
{
	size_t len = h->cfg_list_len(cfg, key);

	*n = len ? len : (def ? 1 : 0);
	*out = calloc(*n + 1, sizeof(char *));
	if (!*out)
		return -1;
	for (size_t i = 0; i < *n; i++) {
		const char *v = len ? h->cfg_list_item(cfg, key, i) : def;
		if (!v || !((*out)[i] = strdup(v)))
			return -1;
	}
	return 0;
}

static int parse_algorithms(struct oidc *o, const struct jg_config *cfg,
			    char *err, size_t errlen)
{
	const struct jg_host *h = o->host;
	size_t n = h->cfg_list_len(cfg, "algorithms");

	o->rules.algs = n ? 0 : JWT_ALGS_ASYMMETRIC;
	for (size_t i = 0; i < n; i++) {
		const char *name = h->cfg_list_item(cfg, "algorithms", i);
		int alg = jwt_alg_from_name(name);
		if (!jwt_alg_kty(alg)) {
			snprintf(err, errlen,
				 "%s: algorithms: \"%s\" is not an accepted "
				 "algorithm (HS256 is enabled by hs256_secret)",
				 h->cfg_where(cfg, "algorithms"),
				 name ? name : "");
			return -1;
		}
		o->rules.algs |= JWT_ALG_BIT(alg);
	}
	return 0;
}

static int oidc_configure(struct oidc *o, const struct jg_config *cfg,
			  char *err, size_t errlen)
{
	const struct jg_host *h = o->host;
	const char *s;

	s = h->cfg_string(cfg, "issuer");
	if (!s || !url_scheme_ok(s, 0) || strlen(s) > 2048) {
		snprintf(err, errlen, "%s: issuer must be an http(s) URL",
			 h->cfg_where(cfg, "issuer"));
		return -1;
	}
	if (!(o->issuer = strdup(s)))
		return -1;
	if (copy_list(h, cfg, "audience", NULL, &o->audiences,
		      &o->naudiences) < 0 ||
	    o->naudiences == 0) {
		snprintf(err, errlen, "%s: audience must list at least one "
				      "audience", h->cfg_where(cfg, "audience"));
		return -1;
	}
	if (parse_algorithms(o, cfg, err, errlen) < 0)
		return -1;
	if ((s = h->cfg_string(cfg, "jwks_uri"))) {
		if (!url_scheme_ok(s, 1) || strlen(s) > 2048) {
			snprintf(err, errlen, "%s: jwks_uri must be an https, "
					      "http or file URL",
				 h->cfg_where(cfg, "jwks_uri"));
			return -1;
		}
		if (!(o->jwks_uri_cfg = strdup(s)) || !(o->jwks_uri = strdup(s)))
			return -1;
	}
	size_t slen = 0;
	const char *secret = h->cfg_secret(cfg, "hs256_secret", &slen);
	if (secret) {
		/* RFC 7518 3.2: a key at least as long as the hash. */
		if (slen < 32) {
			snprintf(err, errlen, "%s: hs256_secret must be at "
					      "least 32 bytes",
				 h->cfg_where(cfg, "hs256_secret"));
			return -1;
		}
		if (!(o->secret = malloc(slen)))
			return -1;
		memcpy(o->secret, secret, slen);
		o->secret_len = slen;
	}
	int64_t skew = h->cfg_int(cfg, "clock_skew");
	int64_t life = h->cfg_int(cfg, "max_token_lifetime");
	o->refresh_ms = h->cfg_int(cfg, "refresh_interval");
	o->min_refresh_ms = h->cfg_int(cfg, "refresh_min_interval");
	o->max_age_ms = h->cfg_int(cfg, "key_max_age");
	int64_t timeout = h->cfg_int(cfg, "fetch_timeout");
	if (skew < 0 || skew > 3600000 || life < 1000 || o->refresh_ms < 1000 ||
	    o->min_refresh_ms < 0 || o->max_age_ms < 1000 || timeout < 100) {
		snprintf(err, errlen, "oidc: a duration is out of range "
				      "(clock_skew up to 1h; "
				      "max_token_lifetime, refresh_interval, "
				      "key_max_age at least 1s; "
				      "fetch_timeout at least 100ms)");
		return -1;
	}
	s = h->cfg_string(cfg, "subject_claim");
	if (!(o->subject_claim = strdup(s ? s : "sub")) ||
	    copy_list(h, cfg, "groups_claim", "groups", &o->group_paths,
		      &o->ngroup_paths) < 0 ||
	    copy_list(h, cfg, "claims", NULL, &o->claim_paths,
		      &o->nclaim_paths) < 0)
		return -1;

	o->rules.issuer = o->issuer;
	o->rules.audiences = (const char *const *)o->audiences;
	o->rules.naudiences = o->naudiences;
	o->rules.hmac_secret = o->secret;
	o->rules.hmac_len = o->secret_len;
	o->rules.skew_s = skew / 1000;
	o->rules.max_lifetime_s = life / 1000;
	o->backoff_ms = FIRST_BACKOFF_MS;
	return 0;
}

static void oidc_fini(void *instance)
{
	struct oidc *o = instance;

	if (!o)
		return;
	atomic_store(&o->dead, 1);
	fetcher_free(o->fetch);
	o->fetch = NULL;
	if (o->refresh_timer)
		o->host->timer_del(o->refresh_timer);
	if (o->retry_timer)
		o->host->timer_del(o->retry_timer);
	oidc_unref(o);
}

static int oidc_init(const struct jg_host *host, const struct jg_config *cfg,
		     void **instance, char *err, size_t errlen)
{
	*instance = NULL;
	if (host->size < offsetof(struct jg_host, identity_set_expiry) +
				 sizeof(host->identity_set_expiry)) {
		snprintf(err, errlen, "oidc: the core lacks identity services");
		return JG_ERROR;
	}
	struct oidc *o = calloc(1, sizeof(*o));
	if (!o)
		return JG_ERROR;
	o->host = host;
	atomic_init(&o->refs, 1);
	pthread_mutex_init(&o->keys_lock, NULL);
	if (oidc_configure(o, cfg, err, errlen) < 0) {
		if (!err[0])
			snprintf(err, errlen, "oidc: out of memory");
		oidc_free(o);
		return JG_ERROR;
	}
	atomic_init(&o->last_demand_ms, mono_ms() - o->min_refresh_ms - 1);
	struct jg_loop *loop = host->main_loop();
	o->fetch = fetcher_new(host, loop, host->cfg_string(cfg, "ca_file"),
			       (long)host->cfg_int(cfg, "fetch_timeout"));
	o->refresh_timer = o->fetch ? host->timer_add(loop,
						      (uint64_t)o->refresh_ms,
						      (uint64_t)o->refresh_ms,
						      on_refresh_timer, o)
				    : NULL;
	if (!o->refresh_timer) {
		snprintf(err, errlen, "oidc: could not set up key fetching");
		oidc_fini(o);
		return JG_ERROR;
	}
	/* Keys arrive in the background; until then tokens are refused. */
	refresh_start(o);
	*instance = o;
	return JG_OK;
}

static const struct jg_idp_ops oidc_ops = {
	.size = sizeof(struct jg_idp_ops),
	.authenticate = oidc_authenticate,
};

JG_EXPORT const struct jg_plugin jg_plugin = {
	JG_PLUGIN_PREFIX,
	.kind = JG_KIND_IDP,
	.name = "oidc",
	.version = PACKAGE_VERSION,
	.description = "OpenID Connect / JWT identity provider",
	.options = oidc_options,
	.init = oidc_init,
	.fini = oidc_fini,
	.ops = &oidc_ops,
};
