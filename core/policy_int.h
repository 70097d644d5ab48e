/*
 * Private to the policy engine (core/policy*.c): compiled globs and the
 * string map the rule index uses.
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

struct rule_list {
	uint32_t *idx;
	size_t n;
};

/* Rules that apply to one action type, indexed by connection name. */
struct type_bucket {
	struct strmap conns;     /* literal connection name -> lists[i] */
	struct rule_list *lists; /* rules for that connection, in order */
	size_t nlists;
	struct rule_list other;  /* rules for any other connection */
};

struct policy {
	struct policy_rule *rules;
	size_t nrules;
	struct strmap names;         /* rule name -> index */
	struct strmap types;         /* literal type -> buckets[i] */
	struct type_bucket *buckets; /* per literal type */
	size_t nbuckets;
	struct type_bucket untyped;  /* types no rule names */
};

#endif /* JG_POLICY_INT_H */
