/*
 * Private to the policy engine (core/policy*.c): compiled globs, the
 * string map and the rule index.
 */
#ifndef JG_POLICY_INT_H
#define JG_POLICY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "policy.h"

/*
 * A glob compiled to the cheapest test that answers it: most patterns in
 * real policies are literals, "prefix*" or "*"; only the rest go through
 * fnmatch(3).
 */
enum glob_kind {
	GLOB_ANY,      /* "*" */
	GLOB_EXACT,    /* no metacharacter */
	GLOB_PREFIX,   /* "abc*" */
	GLOB_SUFFIX,   /* "*abc" */
	GLOB_CONTAINS, /* "*abc*" */
	GLOB_FNMATCH   /* anything else: fnmatch(pattern, text, 0) */
};

struct glob {
	enum glob_kind kind;
	uint32_t len; /* of lit */
	char *lit;    /* the literal part */
	char *pat;    /* the whole pattern, as written */
};

struct globset {
	struct glob *g;
	size_t n;
	bool any;     /* one of them is "*" */
	bool literal; /* every one is GLOB_EXACT */
};

int glob_compile(struct glob *g, const char *pattern);
void glob_free(struct glob *g);
bool glob_match(const struct glob *g, const char *text, size_t len);

/* Compile a JSON string or array of strings; err names what is wrong. */
struct json_object;
int globset_compile(struct globset *gs, const struct json_object *v,
		    char *err, size_t errlen);
void globset_free(struct globset *gs);
bool globset_match(const struct globset *gs, const char *text, size_t len);
/* "a, b*, c" for explanations. */
void globset_format(const struct globset *gs, char *buf, size_t len);

/* Open-addressing map from string to index; keys are borrowed. */
struct strmap {
	const char **keys;
	uint32_t *vals;
	size_t cap; /* power of two, 0 when empty */
	size_t n;
};

int strmap_put(struct strmap *m, const char *key, uint32_t val);
/* Returns true and sets *val when key is present. */
bool strmap_get(const struct strmap *m, const char *key, uint32_t *val);
void strmap_free(struct strmap *m);

/* Compiled rules and their index. */
struct attr_match {
	char *key;
	struct globset gs;
};

struct policy_rule {
	char *name;
	char *description;
	char reason[256]; /* precomputed explanation */
	size_t index;
	int effect;
	int record;
	char mask[64];
	int64_t max_ttl_ms;
	int64_t max_sessions;
	struct policy_approval approval;
	struct globset subject, groups, conn; /* n == 0: unconstrained */
	struct attr_match *claims;
	size_t nclaims;
	char **types; /* ntypes == 0: any type */
	size_t ntypes;
	struct attr_match *attrs;
	size_t nattrs;
	/* allow: every value of a listed attribute must match (nothing
	 * unlisted slips in); deny and review: any value is enough. */
	bool all_values;
};

/*
 * The rule index (core/policy_index.c).  Every attribute a rule can name
 * is a dimension: the action type, the connection, the subject, the
 * groups, each claim and each action attribute.  A dimension maps the
 * literal parts of its globs to the rules that carry them; a decision
 * keeps, per dimension, the rules the caller's values let through, as
 * bitsets over rule positions, and tries the survivors lowest position
 * first.  The index only narrows to a superset of the matching rules
 * (shapes it cannot answer, such as "*mid*", leave their rule in), so the
 * full matcher always has the last word and first match in file order is
 * kept exactly.
 */

/* Bits of rule positions, 64 per word: bit i of word w is rule w*64+i. */
#define RULE_WORD(i) ((i) >> 6)
#define RULE_BIT(i) (1ULL << ((i)&63))

/* Rules carrying one literal: positions while few, a bitset when many
 * (so OR-ing it in costs at most about a bitset's words either way). */
struct rule_set {
	uint32_t *ids;  /* ascending positions, or NULL when dense */
	uint64_t *bits; /* the dense form, nwords words */
	uint32_t n, cap;
};

/* Literal (bytes, length) -> rule set, open addressing. */
struct lit_entry {
	uint64_t hash;
	const char *lit; /* borrowed from the rule's glob; NULL: empty slot */
	uint32_t len;
	uint32_t set; /* index into dim.sets */
};

struct litmap {
	struct lit_entry *e;
	size_t cap, n;
	uint32_t *lens; /* distinct literal lengths, ascending */
	size_t nlens;
};

struct dim {
	const char *key;  /* claim or attribute name (borrowed); NULL else */
	size_t nnamed;    /* rules naming it: 0 means nothing to narrow */
	uint64_t *named;  /* rules with a condition on this dimension */
	uint64_t *pass;   /* rules a present value cannot rule out: not
			     named, "*", or a glob with no literal end */
	struct litmap exact, prefix, suffix; /* suffix hashes run backward */
	/* "*mid*": by the first (up to) 4 bytes of mid, with which byte
	 * pairs (and single bytes) start one, so a value is scanned with a
	 * bit test per position and a lookup only where one may start. */
	struct litmap contains;
	uint64_t *pairs;     /* 65,536 bits, allocated with the first */
	uint64_t single[4];  /* 256 bits: one-byte mids */
	struct rule_set *sets;
	size_t nsets;
};

/* Claims and action attributes: one dimension per key, the keys most
 * rules name first, at most 64 (the rest are left to the matcher). */
#define INDEX_MAX_KEYS 64
struct keyed_dims {
	struct dim *d;
	size_t n;
	struct strmap keys; /* key -> index into d */
};

struct policy_index {
	size_t nwords; /* of every bitset: (nrules + 63) / 64 */
	struct dim type, conn, subject, groups;
	struct keyed_dims claims, attrs;
	/* Rules whose connection or identity conditions the index only
	 * approximates; policy_prepare tests these one by one. */
	uint64_t *ident_loose;
};

int index_build(struct policy *p);
void index_free(struct policy_index *x);

/*
 * Narrow cand, the rules [w0 * 64, (w0 + nw) * 64), to those the action
 * type, the connection, the action's attributes or the identity (subject,
 * groups, claims) may let through.  tmp is scratch of nw words.  False
 * when no rule is left (cand is then all zero, and the other lookups can
 * be skipped).
 */
void index_window_all(const struct policy *p, uint64_t *cand, size_t w0,
		      size_t nw);
bool index_filter_type(const struct policy_index *x, const char *type,
		       uint64_t *cand, uint64_t *tmp, size_t w0, size_t nw);
bool index_filter_conn(const struct policy_index *x, const char *conn,
		       size_t connlen, uint64_t *cand, uint64_t *tmp, size_t w0,
		       size_t nw);
bool index_filter_attrs(const struct policy_index *x, const struct jg_action *a,
			uint64_t *cand, uint64_t *tmp, size_t w0, size_t nw);
bool index_filter_identity(const struct policy_index *x,
			   const struct jg_identity *id, uint64_t *cand,
			   uint64_t *tmp, size_t w0, size_t nw);

struct policy {
	struct policy_rule *rules;
	size_t nrules;
	struct strmap names; /* rule name -> index */
	struct policy_index ix;
};

#endif /* JG_POLICY_INT_H */
