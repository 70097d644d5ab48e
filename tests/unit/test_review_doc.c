/*
 * A review as another gateway reads it from the store: everything the
 * next step needs survives the document (approvers' groups, the binding,
 * the approval rule), a damaged document is refused, and an older copy
 * never replaces a newer one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "review_int.h"
#include "review_people.h"

static struct policy_approval_need two_groups[] = {{"dba", 1},
						   {"security", 1}};
static struct policy_approval need = {two_groups, 2, 0};
static struct jg_identity *alice, *both, *dave, *sam;
static unsigned char bind[32];

static int setup(void **state)
{
	(void)state;
	alice = person("alice", "engineering", NULL);
	both = person("bo", "dba", "security");
	dave = person("dave", "dba", NULL);
	sam = person("sam", "security", NULL);
	review_hash_grant("prod-eu", "fix invoice 42", 900000, 0, bind);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	reviews_reset();
	identity_free(alice);
	identity_free(both);
	identity_free(dave);
	identity_free(sam);
	return 0;
}

static struct review *fresh(void)
{
	struct review_request rq = {.kind = REVIEW_GRANT,
				    .requester = alice,
				    .connection = "prod-eu",
				    .rule = "engineer-grant",
				    .summary = "fix invoice 42",
				    .bind = bind,
				    .approval = &need,
				    .detail = json_object_new_object()};
	char err[128];
	struct review *r = review_build(&rq, err, sizeof(err));

	assert_non_null(r);
	return r;
}

/* Through a document and back, as the store would carry it. */
static struct review *roundtrip(const struct review *r)
{
	struct json_object *d = review_to_doc(r);
	const char *text = json_object_to_json_string(d);
	struct json_object *again = json_tokener_parse(text);
	char err[200];
	struct review *out = review_from_doc(again, err, sizeof(err));

	assert_non_null(out);
	json_object_put(d);
	json_object_put(again);
	return out;
}

static void test_next_step_after_the_store(void **state)
{
	struct review *r = fresh(), *c;
	const char *event = NULL, *code = NULL;
	char err[200];

	(void)state;
	/* bo (dba and security) approves on gateway A */
	assert_int_equal(review_decide_on(r, both, 1, 1, NULL, &event, &code,
					  err, sizeof(err)),
			 JG_OK);
	assert_string_equal(event, "review.approval");
	/* gateway B reads it: a dba-only approver still completes it,
	 * because bo's groups came along (the matching moves bo) */
	c = roundtrip(r);
	assert_string_equal(c->id, r->id);
	assert_int_equal(c->status, REVIEW_PENDING);
	assert_int_equal(c->napprovals, 1);
	assert_int_equal(review_decide_on(c, dave, 1, 1, NULL, &event, &code,
					  err, sizeof(err)),
			 JG_OK);
	assert_string_equal(event, "review.approved");
	/* and the approval opens only the request it was bound to */
	review_free(r);
	r = roundtrip(c);
	assert_int_equal(r->status, REVIEW_APPROVED);
	assert_string_equal(r->decided_by, "dave");
	assert_int_equal(review_consume_on(r, "alice", (unsigned char[32]){1},
					   &code, err, sizeof(err)),
			 JG_ERROR);
	assert_string_equal(code, REVIEW_E_MISMATCH);
	assert_int_equal(review_consume_on(r, "alice", bind, &code, err,
					   sizeof(err)),
			 JG_OK);
	review_free(c);
	c = roundtrip(r);
	assert_int_equal(c->status, REVIEW_USED);
	assert_int_equal(review_consume_on(c, "alice", bind, &code, err,
					   sizeof(err)),
			 JG_ERROR);
	assert_string_equal(code, REVIEW_E_DECIDED);
	review_free(r);
	review_free(c);
}

/* Withdrawn on gateway A (its client canceled): gateway B reads that
 * from the store and refuses an approval with the withdrawn code. */
static void test_withdrawn_survives_the_store(void **state)
{
	struct review_request rq = {.kind = REVIEW_ACTION,
				    .requester = alice,
				    .connection = "prod-eu",
				    .rule = "ddl-review",
				    .summary = "DROP TABLE users",
				    .bind = bind,
				    .approval = &need,
				    .session_id = "s-1"};
	struct review *r, *c;
	const char *event = NULL, *code = NULL;
	char err[256];

	(void)state;
	r = review_build(&rq, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(review_withdraw_on(r, "s-1", "canceled by the client",
					    &code, err, sizeof(err)),
			 JG_OK);
	c = roundtrip(r);
	assert_int_equal(c->status, REVIEW_WITHDRAWN);
	assert_string_equal(c->reason, "canceled by the client");
	assert_string_equal(c->session_id, "s-1");
	assert_int_equal(review_decide_on(c, dave, 1, 1, NULL, &event, &code,
					  err, sizeof(err)),
			 JG_ERROR);
	assert_string_equal(code, REVIEW_E_WITHDRAWN);
	assert_null(event);
	assert_int_equal(review_expire_on(c, INT64_MAX), 0);
	review_free(r);
	review_free(c);
}

static void test_requester_still_cannot_approve(void **state)
{
	struct review *r = fresh(), *c = roundtrip(r);
	const char *event = NULL, *code = NULL;
	char err[200];

	(void)state;
	assert_int_equal(review_decide_on(c, alice, 1, 1, NULL, &event, &code,
					  err, sizeof(err)),
			 JG_ERROR);
	assert_string_equal(code, REVIEW_E_SELF);
	review_free(r);
	review_free(c);
}

static void test_damaged_documents_refused(void **state)
{
	static const char *const drop[] = {"id", "bind", "requester", "need",
					   "approvals", "status"};
	struct review *r = fresh();
	char err[200];

	(void)state;
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
		struct json_object *d = review_to_doc(r);

		json_object_object_del(d, drop[i]);
		assert_null(review_from_doc(d, err, sizeof(err)));
		assert_non_null(strstr(err, "incomplete"));
		json_object_put(d);
	}
	{
		struct json_object *d = review_to_doc(r);

		json_object_object_add(d, "status",
				       json_object_new_string("maybe"));
		assert_null(review_from_doc(d, err, sizeof(err)));
		json_object_put(d);
	}
	review_free(r);
}

static void test_older_copy_never_wins(void **state)
{
	struct review *r = fresh(), *v1, *v2;
	const char *event, *code;
	char err[200], id[REVIEW_ID_LEN];
	int old_status;
	size_t old_n;

	(void)state;
	memcpy(id, r->id, sizeof(id));
	v1 = roundtrip(r);
	v1->version = 1;
	assert_int_equal(review_decide_on(r, sam, 1, 1, NULL, &event, &code,
					  err, sizeof(err)),
			 JG_OK);
	v2 = roundtrip(r);
	v2->version = 2;
	assert_int_equal(review_install(v2, &old_status, &old_n), 1);
	assert_int_equal(old_status, -1);
	/* the watch brings version 1 late: ignored */
	assert_int_equal(review_install(v1, &old_status, &old_n), 0);
	review_lock();
	assert_int_equal(review_find(id)->napprovals, 1);
	assert_int_equal(review_find(id)->version, 2);
	review_unlock();
	review_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_withdrawn_survives_the_store,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_next_step_after_the_store,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_requester_still_cannot_approve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_damaged_documents_refused,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_older_copy_never_wins,
						setup, teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
