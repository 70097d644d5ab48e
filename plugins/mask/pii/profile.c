/*
 * Compile a masking profile from its JSON description, once, at config
 * load.  Everything the scan needs at run time is decided here: which
 * detectors run, the pre-filter bytes, each strategy, the rules, the hash
 * key, how much a stream may hold back.  See docs/masking.md.
 */
#include "pii.h"

#include <fnmatch.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const det_keys[DET_BUILTIN_MAX] = {
	"card", "email", "iban", "ssn", "phone", "ipv4", "ipv6", "jwt",
	"aws_key_id", "aws_secret_key", "pem_private_key",
};

static const char *const strategy_keys[] = {
	"strategy", "replacement", "keep", "char", "length", "prefix", NULL,
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int in_list(const char *k, const char *const *list)
{
	for (; list && *list; list++)
		if (!strcmp(k, *list))
			return 1;
	return 0;
}

/* Printable UTF-8 with no quote or backslash: safe in every carrier. */
static int carrier_safe(const char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = (unsigned char)s[i];
		size_t l = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\' ||
		    (c >= 0x80 && c < 0xc2) || c > 0xf4 || i + l > n)
			return 0;
		for (size_t k = 1; k < l; k++)
			if (((unsigned char)s[i + k] & 0xc0) != 0x80)
				return 0;
		i += l;
	}
	return 1;
}

static int get_int(json_object *o, const char *key, const char *path,
		   int64_t lo, int64_t hi, int64_t *v, char *err, size_t errlen)
{
	json_object *x;

	if (!json_object_object_get_ex(o, key, &x))
		return 0;
	if (!json_object_is_type(x, json_type_int) ||
	    json_object_get_int64(x) < lo || json_object_get_int64(x) > hi)
		return fail(err, errlen, "%s.%s: must be an integer %lld..%lld",
			    path, key, (long long)lo, (long long)hi);
	*v = json_object_get_int64(x);
	return 0;
}

static int get_str(json_object *o, const char *key, const char *path,
		   const char **v, char *err, size_t errlen)
{
	json_object *x;

	if (!json_object_object_get_ex(o, key, &x))
		return 0;
	if (!json_object_is_type(x, json_type_string))
		return fail(err, errlen, "%s.%s: must be a string", path, key);
	*v = json_object_get_string(x);
	return 0;
}

static int strategy_kind(const char *s)
{
	static const char *const names[] = {"redact", "partial", "hash",
					    "null", "keep"};
	for (int i = 0; i < 5; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

/*
 * A strategy: a name ("partial"), or an object with "strategy" and its
 * parameters, possibly among other keys the caller handles (extra).
 */
static int parse_strategy(const struct pii_instance *inst, json_object *o,
			  const char *path, const struct pii_strategy *def,
			  const char *const *extra, int allow_keep,
			  struct pii_strategy *st, char *err, size_t errlen)
{
	const char *name = NULL, *rep = NULL, *mc = NULL, *prefix = NULL;
	int64_t keep = def ? def->keep : 4, len = def ? def->hash_len : 16;

	memset(st, 0, sizeof(*st));
	if (json_object_is_type(o, json_type_string)) {
		name = json_object_get_string(o);
	} else if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, v)
		{
			(void)v;
			if (!in_list(k, strategy_keys) && !in_list(k, extra))
				return fail(err, errlen, "%s: unknown key \"%s\"",
					    path, k);
		}
		if (get_str(o, "strategy", path, &name, err, errlen) ||
		    get_str(o, "replacement", path, &rep, err, errlen) ||
		    get_str(o, "char", path, &mc, err, errlen) ||
		    get_str(o, "prefix", path, &prefix, err, errlen) ||
		    get_int(o, "keep", path, 0, 64, &keep, err, errlen) ||
		    get_int(o, "length", path, 8, 64, &len, err, errlen))
			return -1;
	} else {
		return fail(err, errlen,
			    "%s: must be a strategy name or an object", path);
	}
	st->kind = name ? strategy_kind(name) : def ? def->kind : STRAT_REDACT;
	if (st->kind < 0 || (st->kind == STRAT_KEEP && !allow_keep))
		return fail(err, errlen,
			    "%s.strategy: must be redact, partial, hash or "
			    "null%s",
			    path, allow_keep ? " or keep" : "");
	if (!rep)
		rep = def && def->replacement ? def->replacement
					      : inst->default_replacement;
	st->replen = strlen(rep);
	if (st->replen > 256 || !carrier_safe(rep, st->replen))
		return fail(err, errlen,
			    "%s.replacement: at most 256 printable UTF-8 bytes "
			    "without quotes or backslashes",
			    path);
	if (mc && (strlen(mc) != 1 || !carrier_safe(mc, 1) ||
		   (mc[0] >= '0' && mc[0] <= '9')))
		return fail(err, errlen,
			    "%s.char: one printable ASCII character, not a "
			    "digit",
			    path);
	if (!prefix)
		prefix = def && def->prefix ? def->prefix : "";
	st->prefix_len = strlen(prefix);
	if (st->prefix_len > 32 || !carrier_safe(prefix, st->prefix_len))
		return fail(err, errlen, "%s.prefix: at most 32 printable bytes",
			    path);
	st->mask_char = mc ? mc[0] : def ? def->mask_char : '*';
	st->keep = (uint32_t)keep;
	st->hash_len = (uint32_t)len;
	st->replacement = strdup(rep);
	st->prefix = strdup(prefix);
	if (!st->replacement || !st->prefix)
		return fail(err, errlen, "%s: out of memory", path);
	return 0;
}

static int det_index(const char *name)
{
	for (int i = 0; i < DET_BUILTIN_MAX; i++)
		if (!strcmp(name, det_keys[i]))
			return i;
	return -1;
}

static int parse_detectors(const struct pii_instance *inst, json_object *o,
			   struct pii_profile *pf, char *err, size_t errlen)
{
	char path[96];

	if (!o) {
		pf->enabled = (1U << DET_BUILTIN_MAX) - 1;
		return 0;
	}
	if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			json_object *x = json_object_array_get_idx(o, i);
			int d = json_object_is_type(x, json_type_string)
					? det_index(json_object_get_string(x))
					: -1;
			if (d < 0)
				return fail(err, errlen,
					    "detectors[%zu]: unknown detector",
					    i);
			pf->enabled |= 1U << d;
		}
		return 0;
	}
	if (!json_object_is_type(o, json_type_object))
		return fail(err, errlen,
			    "detectors: must be a list of names or an object");
	json_object_object_foreach(o, k, v)
	{
		int d = det_index(k);
		if (d < 0)
			return fail(err, errlen,
				    "detectors.%s: unknown detector", k);
		if (json_object_is_type(v, json_type_boolean)) {
			if (json_object_get_boolean(v))
				pf->enabled |= 1U << d;
			continue;
		}
		snprintf(path, sizeof(path), "detectors.%s", k);
		pii_strategy_free(&pf->det[d]);
		if (parse_strategy(inst, v, path, &pf->fallback, NULL, 0,
				   &pf->det[d], err, errlen))
			return -1;
		pf->enabled |= 1U << d;
	}
	return 0;
}

static int parse_custom(const struct pii_instance *inst, json_object *o,
			struct pii_profile *pf, char *err, size_t errlen)
{
	static const char *const extra[] = {"name", "regex", "validator",
					    "caseless", "max_length", NULL};
	char path[64], sub[160];
	size_t n;

	if (!o)
		return 0;
	if (!json_object_is_type(o, json_type_array) ||
	    (n = json_object_array_length(o)) > 32)
		return fail(err, errlen, "custom: must be a list of at most 32");
	pf->custom = calloc(n ? n : 1, sizeof(*pf->custom));
	if (!pf->custom)
		return fail(err, errlen, "custom: out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *x = json_object_array_get_idx(o, i), *b;
		struct pii_custom *c = &pf->custom[i];
		const char *name = NULL, *re = NULL, *val = "none";
		int64_t maxlen = 256;

		snprintf(path, sizeof(path), "custom[%zu]", i);
		if (!json_object_is_type(x, json_type_object))
			return fail(err, errlen, "%s: must be an object", path);
		if (get_str(x, "name", path, &name, err, errlen) ||
		    get_str(x, "regex", path, &re, err, errlen) ||
		    get_str(x, "validator", path, &val, err, errlen) ||
		    get_int(x, "max_length", path, 1, 4096, &maxlen, err,
			    errlen))
			return -1;
		if (!name || !*name || strlen(name) > 48 ||
		    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
			    strlen(name) ||
		    det_index(name) >= 0)
			return fail(err, errlen,
				    "%s.name: required, [a-z0-9_-], not a "
				    "built-in detector's",
				    path);
		for (size_t k = 0; k < i; k++)
			if (!strcmp(pf->custom[k].name, name))
				return fail(err, errlen,
					    "%s.name: \"%s\" used twice", path,
					    name);
		if (!re)
			return fail(err, errlen, "%s.regex: required", path);
		c->validator = !strcmp(val, "luhn")    ? VAL_LUHN
			       : !strcmp(val, "mod97") ? VAL_MOD97
			       : !strcmp(val, "none")  ? VAL_NONE
						       : -1;
		if (c->validator < 0)
			return fail(err, errlen,
				    "%s.validator: luhn, mod97 or none", path);
		c->max_len = (size_t)maxlen;
		c->name = strdup(name);
		pf->ncustom = i + 1;
		if (!c->name)
			return fail(err, errlen, "%s: out of memory", path);
		int caseless = json_object_object_get_ex(x, "caseless", &b) &&
			       json_object_get_boolean(b);
		if (pii_custom_compile(c, re, caseless, sub, sizeof(sub)))
			return fail(err, errlen, "%s.%s", path, sub);
		if (parse_strategy(inst, x, path, &pf->fallback, extra, 0,
				   &c->strat, err, errlen))
			return -1;
	}
	return 0;
}

static int parse_rules(const struct pii_instance *inst, json_object *o,
		       struct pii_profile *pf, char *err, size_t errlen)
{
	static const char *const extra[] = {"column", "glob", "regex", "name",
					    NULL};
	char path[64];
	size_t n;

	if (!o)
		return 0;
	if (!json_object_is_type(o, json_type_array) ||
	    (n = json_object_array_length(o)) > 1024)
		return fail(err, errlen, "columns: must be a list");
	pf->rules = calloc(n ? n : 1, sizeof(*pf->rules));
	if (!pf->rules)
		return fail(err, errlen, "columns: out of memory");
	for (size_t i = 0; i < n; i++) {
		json_object *x = json_object_array_get_idx(o, i);
		struct pii_rule *r = &pf->rules[i];
		const char *col = NULL, *glob = NULL, *re = NULL, *name = NULL;

		snprintf(path, sizeof(path), "columns[%zu]", i);
		pf->nrules = i + 1;
		if (!json_object_is_type(x, json_type_object))
			return fail(err, errlen, "%s: must be an object", path);
		if (get_str(x, "column", path, &col, err, errlen) ||
		    get_str(x, "glob", path, &glob, err, errlen) ||
		    get_str(x, "regex", path, &re, err, errlen) ||
		    get_str(x, "name", path, &name, err, errlen))
			return -1;
		if (!!col + !!glob + !!re != 1)
			return fail(err, errlen,
				    "%s: exactly one of column, glob, regex",
				    path);
		r->kind = col ? RULE_EXACT : glob ? RULE_GLOB : RULE_REGEX;
		pf->regex_rules += r->kind == RULE_REGEX;
		r->pattern = strdup(col ? col : glob ? glob : re);
		r->name = strdup(name ? name : "column");
		if (!r->pattern || !r->name)
			return fail(err, errlen, "%s: out of memory", path);
		if (re) {
			int ec;
			PCRE2_SIZE off;
			r->re = pcre2_compile((PCRE2_SPTR)re,
					      PCRE2_ZERO_TERMINATED,
					      PCRE2_CASELESS, &ec, &off, NULL);
			if (!r->re)
				return fail(err, errlen,
					    "%s.regex: invalid at offset %zu",
					    path, (size_t)off);
			(void)pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
		}
		if (parse_strategy(inst, x, path, &pf->fallback, extra, 1,
				   &r->strat, err, errlen))
			return -1;
	}
	return 0;
}

const struct pii_rule *pii_rule_find(const struct pii_profile *pf,
				     const char *column,
				     pcre2_match_data *md)
{
	for (size_t i = 0; column && i < pf->nrules; i++) {
		const struct pii_rule *r = &pf->rules[i];
		switch (r->kind) {
		case RULE_EXACT:
			if (!strcasecmp(column, r->pattern))
				return r;
			break;
		case RULE_GLOB:
			if (!fnmatch(r->pattern, column, FNM_CASEFOLD))
				return r;
			break;
		case RULE_REGEX:
			if (md && pcre2_match(r->re, (PCRE2_SPTR)column,
					      strlen(column), 0, 0, md,
					      NULL) >= 0)
				return r;
			break;
		}
	}
	return NULL;
}

static size_t max_hold(const struct pii_profile *pf)
{
	size_t longest = 512; /* emails, IBANs, IPv6, keys and context */

	if ((pf->enabled & (1U << DET_PEM)) && pf->max_pem > longest)
		longest = pf->max_pem;
	if ((pf->enabled & (1U << DET_JWT)) && pf->max_jwt > longest)
		longest = pf->max_jwt;
	for (size_t i = 0; i < pf->ncustom; i++)
		if (pf->custom[i].max_len > longest)
			longest = pf->custom[i].max_len;
	return PII_TOKEN_MAX + PII_CTX + 64 + longest;
}

int pii_profile_compile(const struct pii_instance *inst, const char *name,
			const char *json, struct pii_profile **out, char *err,
			size_t errlen)
{
	static const char *const top[] = {"detectors", "default", "custom",
					  "columns", "hash_context", "max_pem",
					  "max_jwt", NULL};
	struct pii_profile *pf;
	json_object *root, *x;
	const char *ctx = "";
	int64_t v;
	int rc = -1;

	*out = NULL;
	root = json_tokener_parse(json ? json : "{}");
	if (!root || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return fail(err, errlen, "must be a JSON object");
	}
	pf = calloc(1, sizeof(*pf));
	if (!pf || !(pf->name = strdup(name ? name : ""))) {
		fail(err, errlen, "out of memory");
		goto out;
	}
	pf->magic = PII_PROFILE_MAGIC;
	{
		/* never reused, so a memo keyed by it cannot outlive it */
		static _Atomic uint64_t next_id;
		pf->id = atomic_fetch_add(&next_id, 1) + 1;
	}
	json_object_object_foreach(root, k, val)
	{
		(void)val;
		if (!in_list(k, top)) {
			fail(err, errlen, "unknown key \"%s\"", k);
			goto out;
		}
	}
	/* The default strategy first: everything else inherits from it. */
	{
		json_object *d = NULL;
		json_object *empty = json_object_new_object();
		json_object_object_get_ex(root, "default", &d);
		int r = parse_strategy(inst, d ? d : empty, "default", NULL,
				       NULL, 0, &pf->fallback, err, errlen);
		json_object_put(empty);
		if (r)
			goto out;
	}
	for (int i = 0; i < DET_BUILTIN_MAX; i++) {
		pf->det[i] = pf->fallback;
		pf->det[i].replacement = strdup(pf->fallback.replacement);
		pf->det[i].prefix = strdup(pf->fallback.prefix);
		if (!pf->det[i].replacement || !pf->det[i].prefix) {
			fail(err, errlen, "out of memory");
			goto out;
		}
	}
	v = 8192;
	if (get_int(root, "max_pem", "max_pem", 256, 65536, &v, err, errlen))
		goto out;
	pf->max_pem = (size_t)v;
	v = 8192;
	if (get_int(root, "max_jwt", "max_jwt", 64, 65536, &v, err, errlen))
		goto out;
	pf->max_jwt = (size_t)v;
	if (!json_object_object_get_ex(root, "detectors", &x))
		x = NULL;
	if (parse_detectors(inst, x, pf, err, errlen))
		goto out;
	if (!json_object_object_get_ex(root, "custom", &x))
		x = NULL;
	if (parse_custom(inst, x, pf, err, errlen))
		goto out;
	if (!json_object_object_get_ex(root, "columns", &x))
		x = NULL;
	if (parse_rules(inst, x, pf, err, errlen))
		goto out;
	if (get_str(root, "hash_context", "hash_context", &ctx, err, errlen))
		goto out;

	int uses_hash = 0;
	for (int i = 0; i < DET_BUILTIN_MAX; i++) {
		if (!(pf->enabled & (1U << i)))
			continue;
		uses_hash |= pf->det[i].kind == STRAT_HASH;
		pf->has_null |= pf->det[i].kind == STRAT_NULL;
	}
	for (size_t i = 0; i < pf->ncustom; i++) {
		uses_hash |= pf->custom[i].strat.kind == STRAT_HASH;
		pf->has_null |= pf->custom[i].strat.kind == STRAT_NULL;
	}
	for (size_t i = 0; i < pf->nrules; i++)
		uses_hash |= pf->rules[i].strat.kind == STRAT_HASH;
	if (inst->keylen) {
		/* One key per profile and context: a hash from one profile
		 * cannot be joined with another's unless they share both. */
		char label[160];
		int n = snprintf(label, sizeof(label), "jitgate-mask-v1:%s",
				 ctx);
		if (n < 0 || (size_t)n >= sizeof(label)) {
			fail(err, errlen, "hash_context: too long");
			goto out;
		}
		if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, inst->key, inst->keylen,
				     label, (size_t)n, pf->hash_key) < 0) {
			fail(err, errlen, "hash key derivation failed");
			goto out;
		}
		pf->have_key = 1;
	} else if (uses_hash) {
		fail(err, errlen,
		     "the hash strategy needs the plugin's hash_key option");
		goto out;
	}
	/* The fallback is also what a null detector does in a stream. */
	pf->fallback.kind = STRAT_REDACT;
	pii_window_pick(&pf->tail, &pf->quick);
	pf->hold_max = max_hold(pf);
	*out = pf;
	pf = NULL;
	rc = 0;
out:
	json_object_put(root);
	pii_profile_free(pf);
	return rc;
}

void pii_profile_free(struct pii_profile *pf)
{
	if (!pf)
		return;
	for (int i = 0; i < DET_BUILTIN_MAX; i++)
		pii_strategy_free(&pf->det[i]);
	pii_strategy_free(&pf->fallback);
	for (size_t i = 0; i < pf->ncustom; i++) {
		free(pf->custom[i].name);
		pcre2_code_free(pf->custom[i].re);
		pii_strategy_free(&pf->custom[i].strat);
	}
	free(pf->custom);
	for (size_t i = 0; i < pf->nrules; i++) {
		free(pf->rules[i].name);
		free(pf->rules[i].pattern);
		pcre2_code_free(pf->rules[i].re);
		pii_strategy_free(&pf->rules[i].strat);
	}
	free(pf->rules);
	gnutls_memset(pf->hash_key, 0, sizeof(pf->hash_key));
	free(pf->name);
	free(pf);
}
