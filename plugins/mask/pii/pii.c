/*
 * pii: the default masking plugin (JG_KIND_MASK).  Detects and masks card
 * numbers, personal identifiers, secrets and named columns in process,
 * with no external service.
 */
#include "pii.h"

#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct jg_option pii_options[] = {
	{"hash_key", JG_OPT_SECRET, NULL, 0, 1,
	 "key of the hash strategy's HMAC, 16 to 64 bytes (env:NAME or "
	 "file:PATH)"},
	{"replacement", JG_OPT_STRING, "[REDACTED]", 0, 0,
	 "what redact writes when a profile does not say"},
	{NULL, 0, NULL, 0, 0, NULL},
};

static int pii_init(const struct jg_host *host, const struct jg_config *cfg,
		    void **instance, char *err, size_t errlen)
{
	struct pii_instance *inst = calloc(1, sizeof(*inst));
	const char *key = NULL, *rep = NULL;
	size_t keylen = 0;

	if (!inst) {
		snprintf(err, errlen, "out of memory");
		return JG_ERROR;
	}
	if (host && cfg) {
		key = host->cfg_secret(cfg, "hash_key", &keylen);
		rep = host->cfg_string(cfg, "replacement");
	}
	if (key && (keylen < 16 || keylen > sizeof(inst->key))) {
		snprintf(err, errlen, "hash_key: must be 16 to %zu bytes",
			 sizeof(inst->key));
		free(inst);
		return JG_ERROR;
	}
	if (key) {
		memcpy(inst->key, key, keylen);
		inst->keylen = keylen;
	}
	if (!rep)
		rep = "[REDACTED]";
	if (strlen(rep) >= sizeof(inst->default_replacement)) {
		snprintf(err, errlen, "replacement: at most %zu bytes",
			 sizeof(inst->default_replacement) - 1);
		gnutls_memset(inst, 0, sizeof(*inst));
		free(inst);
		return JG_ERROR;
	}
	strcpy(inst->default_replacement, rep);
	*instance = inst;
	return JG_OK;
}

static void pii_fini(void *instance)
{
	if (!instance)
		return;
	gnutls_memset(instance, 0, sizeof(struct pii_instance));
	free(instance);
}

static int op_profile_compile(void *instance, const char *name,
			      const char *json, void **profile, char *err,
			      size_t errlen)
{
	struct pii_profile *pf;

	if (!instance || !profile) {
		snprintf(err, errlen, "no instance");
		return JG_ERROR;
	}
	if (pii_profile_compile(instance, name, json, &pf, err, errlen))
		return JG_ERROR;
	*profile = pf;
	return JG_OK;
}

static void op_profile_free(void *profile)
{
	pii_profile_free(profile);
}

/* ---- whole values ---- */

enum { TYPE_TEXT, TYPE_SCALAR, TYPE_JSON };

/* Types whose text form cannot hold a replacement string. */
static int type_kind(const char *type)
{
	static const char *const scalar[] = {
		"bool", "boolean", "int2", "int4", "int8", "smallint",
		"integer", "bigint", "numeric", "decimal", "float4", "float8",
		"real", "double precision", "oid", "date", "time", "timetz",
		"timestamp", "timestamptz", "interval", "uuid", "inet", "cidr",
		"macaddr", "macaddr8", "money", NULL,
	};

	if (!type || !strcasecmp(type, "text") ||
	    !strcasecmp(type, "varchar") || !strcasecmp(type, "bpchar"))
		return TYPE_TEXT;
	if (!strcasecmp(type, "json") || !strcasecmp(type, "jsonb"))
		return TYPE_JSON;
	for (int i = 0; scalar[i]; i++)
		if (!strcasecmp(type, scalar[i]))
			return TYPE_SCALAR;
	return TYPE_TEXT;
}

struct value_emit {
	const struct pii_profile *pf;
	const unsigned char *buf;
	size_t emitted;
	const struct pii_out *o;
	struct jg_mask_report *rep;
	int probe;  /* only look: count hits, note a null strategy */
	int hits;
	int null;
};

static int value_hit(void *ud, const struct pii_hit *h)
{
	struct value_emit *ve = ud;
	const struct pii_strategy *st = pii_det_strategy(ve->pf, h->det);

	ve->hits++;
	if (ve->probe) {
		ve->null |= st->kind == STRAT_NULL;
		pii_report_add(ve->rep, pii_det_name(ve->pf, h->det));
		return 0;
	}
	return pii_emit_hit(ve->pf, ve->buf, &ve->emitted, h, st, ve->o,
			    ve->rep);
}

static int scan_value(struct value_emit *ve, size_t len, int json,
		      pcre2_match_data *md)
{
	struct pii_scan sc = {
		.pf = ve->pf, .buf = ve->buf, .lo = 0, .floor = 0, .end = len,
		.final = 1, .json = json, .md = md,
	};

	if (pii_scan_run(&sc, value_hit, ve) == (size_t)-1)
		return JG_ERROR;
	if (!ve->probe && ve->hits && len > ve->emitted &&
	    ve->o->emit(ve->o->ud, (const char *)ve->buf + ve->emitted,
			len - ve->emitted))
		return JG_ERROR;
	return JG_OK;
}

/* (not inlined: op_mask_value stays small for the values that need
 * neither this nor mask_scan) */
__attribute__((noinline)) static int
mask_rule(const struct pii_profile *pf, const struct pii_rule *r,
		     int tk, const char *in, size_t len, const struct pii_out *o,
		     struct jg_mask_report *rep)
{
	const struct pii_strategy *st = &r->strat;

	if (st->kind == STRAT_KEEP)
		return JG_DECLINED;
	pii_report_add(rep, r->name);
	if (st->kind == STRAT_NULL || tk == TYPE_SCALAR) {
		if (rep)
			rep->flags |= JG_MASK_REPORT_NULL;
		return JG_MASK_NULL;
	}
	if (tk == TYPE_JSON) {
		/* A json value stays JSON: a string in place of the
		 * document.  Partial would keep the document's quotes. */
		if (st->kind == STRAT_PARTIAL)
			st = &pf->fallback;
		if (o->emit(o->ud, "\"", 1) ||
		    pii_apply(pf, st, UINT32_MAX, (const unsigned char *)in,
			      len, o) ||
		    o->emit(o->ud, "\"", 1))
			return JG_ERROR;
		return JG_OK;
	}
	if (pii_apply(pf, st, UINT32_MAX, (const unsigned char *)in, len, o))
		return JG_ERROR;
	return JG_OK;
}

/*
 * A result's columns come back with every row: remember, per thread,
 * which rule the last few column names matched, so glob and regex rules
 * are not run again for each value.  Keyed by the profile's id, which is
 * never reused, so an entry never points into a freed profile's rules.
 * Rows name their columns in the same order every time, so the search
 * starts after the entry the last lookup found.
 */
#define RULE_MEMO 16
#define RULE_MEMO_NAME 96
struct rule_memo {
	uint64_t id;
	const struct pii_rule *r;
	char col[RULE_MEMO_NAME];
};
/* One thread-local object: in a plugin each one costs a call to find. */
struct rule_memos {
	struct rule_memo m[RULE_MEMO];
	unsigned used, next, at;
};
static __thread struct rule_memos rule_memos;

/* A column the memo does not have: find its rule and remember it. */
__attribute__((noinline)) static int
rule_remember(struct rule_memos *rm, const struct pii_profile *pf,
	      const char *col, const struct pii_rule **out)
{
	pcre2_match_data *md = NULL;
	struct rule_memo *m;
	size_t n;

	if (pf->regex_rules && !(md = pcre2_match_data_create(1, NULL)))
		return -1;
	*out = pii_rule_find(pf, col, md);
	pcre2_match_data_free(md);
	n = strlen(col);
	if (n < RULE_MEMO_NAME) {
		m = &rm->m[rm->next++ % RULE_MEMO];
		if (rm->used < RULE_MEMO)
			rm->used++;
		m->id = pf->id;
		m->r = *out;
		memcpy(m->col, col, n + 1);
	}
	return 0;
}

static int rule_lookup(const struct pii_profile *pf, const char *col,
		       const struct pii_rule **out)
{
	struct rule_memos *rm = &rule_memos;
	struct rule_memo *m;

	/* Keep the address: the compiler would rather find it again (a
	 * call in a plugin) than keep it in a register across strcmp. */
	__asm__("" : "+r"(rm));
	unsigned used = rm->used, at = rm->at;

	for (unsigned k = 0; k < used; k++, at = at + 1 < used ? at + 1 : 0) {
		m = &rm->m[at];
		if (m->id == pf->id && !strcmp(m->col, col)) {
			rm->at = at + 1 < used ? at + 1 : 0;
			*out = m->r;
			return 0;
		}
	}
	return rule_remember(rm, pf, col, out);
}

/* Scan the value, with a probe first when a hit would make it NULL. */
__attribute__((noinline)) static int mask_scan(const struct pii_profile *pf, int tk, const char *in,
		     size_t len, const struct pii_out *o,
		     struct jg_mask_report *rep)
{
	pcre2_match_data *md = NULL;
	int rc = JG_DECLINED;

	if (pf->ncustom && !(md = pcre2_match_data_create(1, NULL)))
		return JG_ERROR;
	struct value_emit ve = {
		.pf = pf, .buf = (const unsigned char *)in, .o = o,
		.rep = rep,
	};
	if (tk == TYPE_SCALAR || pf->has_null) {
		/* NULL replaces the whole value: decide before emitting. */
		struct value_emit probe = ve;
		probe.probe = 1;
		if (scan_value(&probe, len, o->json, md)) {
			rc = JG_ERROR;
			goto out;
		}
		if (!probe.hits)
			goto out;
		if (tk == TYPE_SCALAR || probe.null) {
			if (rep)
				rep->flags |= JG_MASK_REPORT_NULL;
			rc = JG_MASK_NULL;
			goto out;
		}
		ve.rep = NULL; /* already counted */
	}
	if (scan_value(&ve, len, o->json, md)) {
		rc = JG_ERROR;
		goto out;
	}
	rc = ve.hits ? JG_OK : JG_DECLINED;
out:
	pcre2_match_data_free(md);
	return rc;
}

/* Values up to this long are checked for anything to mask before the
 * scan is set up.  A longer one pays for the setup with its bytes, and a
 * hit in it would be searched for twice. */
#define QUICK_MAX 256

/* A value that may have a rule or something to mask (op_mask_value). */
__attribute__((noinline)) static int
mask_value_slow(const struct pii_profile *pf, const struct jg_mask_field *f,
		const char *in, size_t len, jg_mask_emit emit, void *ud,
		struct jg_mask_report *rep)
{
	int carrier = f ? f->carrier : JG_MASK_TEXT;
	const struct pii_rule *r = NULL;

	if (f && f->column && pf->nrules &&
	    rule_lookup(pf, f->column, &r) < 0)
		return JG_ERROR;
	if (!r && !pf->enabled && !pf->ncustom)
		return JG_DECLINED;
	if (!r && len <= QUICK_MAX &&
	    pii_value_clean(pf, (const unsigned char *)in, len))
		return JG_DECLINED;

	int tk = type_kind(f ? f->type : NULL);
	struct pii_out o = {
		.emit = emit, .ud = ud,
		.json = carrier == JG_MASK_JSON_STRING || tk == TYPE_JSON,
	};
	if (r)
		return mask_rule(pf, r, tk, in, len, &o, rep);
	return mask_scan(pf, tk, in, len, &o, rep);
}

static int op_mask_value(const void *profile, const struct jg_mask_field *f,
			 const char *in, size_t len, jg_mask_emit emit,
			 void *ud, struct jg_mask_report *rep)
{
	const struct pii_profile *pf = profile;
	int carrier = f ? f->carrier : JG_MASK_TEXT;

	if (!pf || pf->magic != PII_PROFILE_MAGIC || !emit || (!in && len) ||
	    (carrier != JG_MASK_TEXT && carrier != JG_MASK_JSON_STRING))
		return JG_ERROR;
	if (!in)
		in = "";
	/* Most values have no rule and nothing to mask: say so before any
	 * setup (the core asks with no column when no rule names it). */
	if ((!f || !f->column || !pf->nrules) && len <= QUICK_MAX &&
	    pf->enabled && pii_value_clean(pf, (const unsigned char *)in, len))
		return JG_DECLINED;
	return mask_value_slow(pf, f, in, len, emit, ud, rep);
}

/* Counts what one value's masking emits (op_mask_values). */
struct count_emit {
	jg_mask_emit emit;
	void *ud;
	size_t n;
};

static int count_emit(void *ud, const char *d, size_t n)
{
	struct count_emit *c = ud;

	c->n += n;
	return c->emit(c->ud, d, n);
}

/* A row in one call: the checks once, and the clean-value test inline
 * for each value no rule names. */
static int op_mask_values(const void *profile, struct jg_mask_item *v,
			  size_t n, const uint8_t *named, jg_mask_emit emit,
			  void *ud, struct jg_mask_report *rep)
{
	const struct pii_profile *pf = profile;
	struct count_emit ce = {emit, ud, 0};
	struct jg_mask_field f = {NULL, NULL, JG_MASK_TEXT};
	int quick;

	if (!pf || pf->magic != PII_PROFILE_MAGIC || !emit || (!v && n))
		return JG_ERROR;
	quick = pf->enabled && !pf->ncustom;
	for (size_t i = 0; i < n; i++) {
		const char *in = v[i].in ? v[i].in : "";
		size_t len = v[i].len;
		int rc;

		if (!v[i].in && len)
			return JG_ERROR;
		v[i].status = JG_OK;
		v[i].changed = 0;
		f.column = !named || named[i] ? v[i].column : NULL;
		if (!f.column || !pf->nrules) {
			if (!pf->enabled && !pf->ncustom)
				continue; /* no rule, no detector */
			if (quick && len <= QUICK_MAX &&
			    pii_value_clean(pf, (const unsigned char *)in,
					    len))
				continue;
		}
		f.type = v[i].type;
		ce.n = 0;
		rc = mask_value_slow(pf, &f, in, len, count_emit, &ce, rep);
		switch (rc) {
		case JG_DECLINED:
			break;
		case JG_MASK_NULL:
			v[i].status = JG_MASK_NULL;
			v[i].changed = 1;
			break;
		case JG_OK:
			v[i].changed = 1;
			v[i].outlen = ce.n;
			break;
		default:
			return JG_ERROR;
		}
	}
	return JG_OK;
}

/* ---- streams ---- */

static size_t op_stream_state_size(const void *profile)
{
	const struct pii_profile *pf = profile;

	return pf && pf->magic == PII_PROFILE_MAGIC ? pii_stream_size(pf) : 0;
}

static int op_stream_init(const void *profile, void *state, int carrier)
{
	const struct pii_profile *pf = profile;

	if (!pf || pf->magic != PII_PROFILE_MAGIC || !state ||
	    (carrier != JG_MASK_TEXT && carrier != JG_MASK_JSON_STRING))
		return JG_ERROR;
	return pii_stream_init(pf, state, carrier);
}

static int op_mask_stream(const void *profile, void *state, const char *in,
			  size_t len, jg_mask_emit emit, void *ud,
			  struct jg_mask_report *rep)
{
	const struct pii_profile *pf = profile;
	struct pii_out o = {.emit = emit, .ud = ud};

	if (!pf || pf->magic != PII_PROFILE_MAGIC || !emit)
		return JG_ERROR;
	return pii_stream_chunk(pf, state, (const unsigned char *)in, len, &o,
				rep);
}

/* Resolved once per result column by the core (mask_values): the values
 * of a column no rule names then skip the rule memo. */
static int op_column_rule(const void *profile, const char *column)
{
	const struct pii_profile *pf = profile;
	const struct pii_rule *r = NULL;

	if (!pf || pf->magic != PII_PROFILE_MAGIC)
		return JG_ERROR;
	if (!column)
		return pf->nrules != 0;
	if (pf->nrules && rule_lookup(pf, column, &r) < 0)
		return JG_ERROR;
	return r != NULL;
}

static const struct jg_mask_ops pii_ops = {
	.size = sizeof(struct jg_mask_ops),
	.profile_compile = op_profile_compile,
	.profile_free = op_profile_free,
	.mask_value = op_mask_value,
	.stream_state_size = op_stream_state_size,
	.stream_init = op_stream_init,
	.mask_stream = op_mask_stream,
	.column_rule = op_column_rule,
	.mask_values = op_mask_values,
};

JG_EXPORT const struct jg_plugin jg_plugin = {
	JG_PLUGIN_PREFIX,
	.kind = JG_KIND_MASK,
	.name = "pii",
	.version = "0.1.0",
	.description = "detects and masks card numbers, personal data, "
		       "secrets and named columns",
	.options = pii_options,
	.init = pii_init,
	.fini = pii_fini,
	.ops = &pii_ops,
};
