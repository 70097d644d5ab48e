/*
 * The oidc plugin's instance: configuration, the current key set and the
 * background refresh.  Split from oidc.c so claims.c can map a verified
 * token to an identity.
 */
#ifndef OIDC_OIDC_H
#define OIDC_OIDC_H

#include <pthread.h>
#include <stdatomic.h>

#include <jitgate/host.h>

#include "jwt.h"

struct fetcher;

struct oidc {
	const struct jg_host *host;
	atomic_uint refs;   /* fini's, plus one per task posted to main */
	atomic_int dead;    /* set by fini */

	/* configuration, read-only after init */
	char *issuer;
	char **audiences;
	size_t naudiences;
	uint8_t *secret;
	size_t secret_len;
	char *jwks_uri_cfg;     /* configured, or NULL: discover it */
	char **group_paths;
	size_t ngroup_paths;
	char *subject_claim;
	char **claim_paths;     /* nested claims to expose as "a.b" */
	size_t nclaim_paths;
	int64_t refresh_ms, min_refresh_ms, max_age_ms;
	struct jwt_rules rules;

	/* the key set: swapped by the main loop, read by workers */
	pthread_mutex_t keys_lock;
	struct jwk_set *keys;
	_Atomic int64_t last_demand_ms; /* last refresh asked by a kid miss */

	/* main loop only */
	struct fetcher *fetch;
	struct jg_timer *refresh_timer;
	struct jg_timer *retry_timer;
	char *jwks_uri;         /* in use: configured or discovered */
	int busy;               /* a refresh is in flight */
	int64_t backoff_ms;
};

/* Map a verified token to the identity: subject, groups, claims. */
int oidc_build_identity(const struct oidc *o, const struct jwt *t,
			int64_t exp, struct jg_identity_builder *b, char *err,
			size_t errlen);

/* Read an OpenID discovery document (oidc.c): 0 with *jwks_uri (caller
 * frees) when it names issuer exactly and an http(s) jwks_uri; -1 with
 * why otherwise.  Split from the fetch callback for tests/fuzz. */
int oidc_discovery_parse(const char *body, size_t len, const char *issuer,
			 char **jwks_uri, char *why, size_t whylen);

#endif /* OIDC_OIDC_H */
