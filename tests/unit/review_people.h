/*
 * Identities for the review unit tests (test_review.c, test_review_doc.c):
 * a subject in up to two groups.
 */
#ifndef JG_TEST_REVIEW_PEOPLE_H
#define JG_TEST_REVIEW_PEOPLE_H

#include "policy.h"

static inline struct jg_identity *person(const char *sub, const char *g1,
					 const char *g2)
{
	struct jg_identity *id = identity_new();
	struct jg_identity_builder *b = (struct jg_identity_builder *)id;

	identity_set_subject(b, sub);
	if (g1)
		identity_add_group(b, g1);
	if (g2)
		identity_add_group(b, g2);
	return id;
}

#endif
