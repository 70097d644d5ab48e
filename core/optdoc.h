/*
 * `jitgated --dump-options`: the configuration reference, generated.
 *
 * docs/config-reference.md is this output with every plugin loaded, so
 * the reference cannot drift from the schemas the loader validates
 * against (tests/integration/docs.test compares them).
 */
#ifndef JG_OPTDOC_H
#define JG_OPTDOC_H

#include <stdio.h>

struct jg_registry;

/* Markdown for every plugin in r (sorted by kind, then name) and for the
 * core's "recording" section. */
void optdoc_print(const struct jg_registry *r, FILE *f);

#endif /* JG_OPTDOC_H */
