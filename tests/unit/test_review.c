/*
 * Reviews as approvers meet them: who may approve, how many are needed,
 * and that an approval opens exactly one door once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "policy.h"
#include "review.h"
#include "review_people.h"

static int64_t fake_ms = 1700000000000LL;

static int64_t clock_fake(void)
{
	return fake_ms;
}

static struct policy_approval_need two_groups[] = {{"dba", 1},
						   {"security", 1}};
static struct policy_approval need_dba_security = {two_groups, 2, 0};
static struct policy_approval_need two_dbas[] = {{"dba", 2}};
static struct policy_approval need_two_dbas = {two_dbas, 1, 60000};

static struct jg_identity *alice, *dora, *dave, *sam, *both, *eve;
static unsigned char bind[32];

static int setup(void **state)
{
	(void)state;
	reviews_set_clock(clock_fake);
	alice = person("alice", "engineering", NULL);
	dora = person("dora", "dba", NULL);
	dave = person("dave", "dba", NULL);
	sam = person("sam", "security", NULL);
	both = person("bo", "dba", "security");
	eve = person("eve", "marketing", NULL);
	review_hash_grant("prod-eu", "fix invoice 42", 900000, 0, bind);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	reviews_reset();
	review_set_hook(NULL, NULL);
	identity_free(alice);
	identity_free(dora);
	identity_free(dave);
	identity_free(sam);
	identity_free(both);
	identity_free(eve);
	return 0;
}

static void create(const struct policy_approval *need, char *id)
{
	struct review_request rq = {.kind = REVIEW_GRANT,
				    .requester = alice,
				    .connection = "prod-eu",
				    .rule = "engineer-grant-prod",
				    .summary = "fix invoice 42",
				    .bind = bind,
				    .approval = need};
	char err[128];

	assert_int_equal(review_create(&rq, id, err, sizeof(err)), JG_OK);
}

static int decide(const char *id, struct jg_identity *who, int approve,
		  const char **code)
{
	char err[200];
	int status;

	*code = "";
	return review_decide(id, who, 1, approve,
			     approve ? NULL : "not during the freeze", &status,
			     code, err, sizeof(err));
}

static void test_self_approval_refused(void **state)
{
	char id[REVIEW_ID_LEN];
	const char *code;
	struct jg_identity *alice_dba = person("alice", "dba", "security");

	(void)state;
	create(&need_dba_security, id);
	/* Even in the right groups, the requester cannot approve. */
	assert_int_equal(decide(id, alice_dba, 1, &code), JG_ERROR);
	assert_string_equal(code, REVIEW_E_SELF);
	assert_int_equal(decide(id, alice_dba, 0, &code), JG_ERROR);
	assert_int_equal(review_status(id), REVIEW_PENDING);
	identity_free(alice_dba);
}

static void test_non_approver_refused(void **state)
{
	char id[REVIEW_ID_LEN], err[128];
	const char *code;
	int status;

	(void)state;
	create(&need_dba_security, id);
	/* Not in the configured approver groups at all. */
	assert_int_equal(review_decide(id, dora, 0, 1, NULL, &status, &code,
				       err, sizeof(err)),
			 JG_ERROR);
	assert_string_equal(code, REVIEW_E_NOT_APPROVER);
	/* An approver, but in no group this rule needs. */
	assert_int_equal(decide(id, eve, 1, &code), JG_ERROR);
	assert_string_equal(code, REVIEW_E_NOT_APPROVER);
	assert_int_equal(review_status(id), REVIEW_PENDING);
}

static void test_two_groups_both_required(void **state)
{
	char id[REVIEW_ID_LEN], prog[64];
	const char *code;

	(void)state;
	create(&need_dba_security, id);
	assert_int_equal(decide(id, dora, 1, &code), JG_OK);
	assert_int_equal(review_status(id), REVIEW_PENDING);
	review_progress(id, prog, sizeof(prog));
	assert_string_equal(prog, "dba 1/1, security 0/1");
	/* A second DBA fills nothing. */
	assert_int_equal(decide(id, dave, 1, &code), JG_ERROR);
	assert_string_equal(code, REVIEW_E_NOT_APPROVER);
	/* The same person twice neither. */
	assert_int_equal(decide(id, dora, 1, &code), JG_ERROR);
	assert_string_equal(code, REVIEW_E_TWICE);
	assert_int_equal(decide(id, sam, 1, &code), JG_OK);
	assert_int_equal(review_status(id), REVIEW_APPROVED);
	review_progress(id, prog, sizeof(prog));
	assert_string_equal(prog, "dba 1/1, security 1/1");
}

static void test_one_person_counts_once(void **state)
{
	char id[REVIEW_ID_LEN];
	const char *code;

	(void)state;
	create(&need_dba_security, id);
	/* In both groups: one approval, not two. */
	assert_int_equal(decide(id, both, 1, &code), JG_OK);
	assert_int_equal(review_status(id), REVIEW_PENDING);
	/* And a DBA-only approver after them still completes it: "bo" moves
	 * to the security slot. */
	assert_int_equal(decide(id, dora, 1, &code), JG_OK);
	assert_int_equal(review_status(id), REVIEW_APPROVED);
}

static void test_n_of_m(void **state)
{
	char id[REVIEW_ID_LEN];
	const char *code;

	(void)state;
	create(&need_two_dbas, id);
	assert_int_equal(decide(id, dora, 1, &code), JG_OK);
	assert_int_equal(review_status(id), REVIEW_PENDING);
	assert_int_equal(decide(id, sam, 1, &code), JG_ERROR);
	assert_int_equal(decide(id, dave, 1, &code), JG_OK);
	assert_int_equal(review_status(id), REVIEW_APPROVED);
	/* Decided: nothing more. */
	assert_int_equal(decide(id, both, 0, &code), JG_ERROR);
	assert_string_equal(code, REVIEW_E_DECIDED);
}

static void test_bound_to_action_and_used_once(void **state)
{
	char id[REVIEW_ID_LEN], err[128];
	const char *code;
	unsigned char other[32], act1[32], act2[32];
	struct jg_attr attrs[] = {{"class", "ddl"}, {"table", "public.users"}};
	struct jg_action a = {.type = "sql",
			      .text = "DROP TABLE users",
			      .attrs = attrs,
			      .nattrs = 2};

	(void)state;
	create(&need_dba_security, id);
	/* Not approved yet: nothing to use. */
	assert_int_equal(review_consume(id, "alice", bind, &code, err,
					sizeof(err)),
			 JG_ERROR);
	assert_string_equal(code, REVIEW_E_DECIDED);
	decide(id, dora, 1, &code);
	decide(id, sam, 1, &code);
	/* A different request (longer ttl) does not ride on it. */
	review_hash_grant("prod-eu", "fix invoice 42", 3600000, 0, other);
	assert_int_equal(review_consume(id, "alice", other, &code, err,
					sizeof(err)),
			 JG_ERROR);
	assert_string_equal(code, REVIEW_E_MISMATCH);
	/* Someone else cannot use alice's approval. */
	assert_int_equal(review_consume(id, "mallory", bind, &code, err,
					sizeof(err)),
			 JG_ERROR);
	assert_string_equal(code, REVIEW_E_NOT_REQUESTER);
	assert_int_equal(review_consume(id, "alice", bind, &code, err,
					sizeof(err)),
			 JG_OK);
	assert_int_equal(review_status(id), REVIEW_USED);
	/* Once. */
	assert_int_equal(review_consume(id, "alice", bind, &code, err,
					sizeof(err)),
			 JG_ERROR);

	/* Action hashes see the text and every attribute. */
	review_hash_action(&a, "prod-eu", act1);
	attrs[1].value = "public.orders";
	review_hash_action(&a, "prod-eu", act2);
	assert_memory_not_equal(act1, act2, 32);
	attrs[1].value = "public.users";
	a.text = "DROP TABLE users CASCADE";
	review_hash_action(&a, "prod-eu", act2);
	assert_memory_not_equal(act1, act2, 32);
	a.text = "DROP TABLE users";
	review_hash_action(&a, "prod-us", act2);
	assert_memory_not_equal(act1, act2, 32);
	review_hash_action(&a, "prod-eu", act2);
	assert_memory_equal(act1, act2, 32);
}

static void test_expiry(void **state)
{
	char id[REVIEW_ID_LEN];
	const char *code;
	struct json_object *l;

	(void)state;
	create(&need_two_dbas, id); /* 60 s timeout */
	fake_ms += 59999;
	assert_int_equal(review_expire(), 0);
	assert_int_equal(decide(id, dora, 1, &code), JG_OK);
	fake_ms += 1;
	assert_int_equal(review_status(id), REVIEW_EXPIRED);
	assert_int_equal(decide(id, dave, 1, &code), JG_ERROR);
	assert_string_equal(code, REVIEW_E_DECIDED);
	l = reviews_list_json(0, NULL);
	assert_int_equal(json_object_array_length(l), 0);
	json_object_put(l);
	l = reviews_list_json(1, NULL);
	assert_int_equal(json_object_array_length(l), 1);
	json_object_put(l);
}

static void test_denial_needs_reason(void **state)
{
	char id[REVIEW_ID_LEN], err[128];
	const char *code;
	int status;
	struct json_object *j;

	(void)state;
	create(&need_dba_security, id);
	assert_int_equal(review_decide(id, dora, 1, 0, "", &status, &code, err,
				       sizeof(err)),
			 JG_ERROR);
	assert_int_equal(decide(id, dora, 0, &code), JG_OK);
	assert_int_equal(review_status(id), REVIEW_DENIED);
	j = review_json(id);
	assert_string_equal(json_object_get_string(
				    json_object_object_get(j, "reason")),
			    "not during the freeze");
	assert_string_equal(json_object_get_string(
				    json_object_object_get(j, "decided_by")),
			    "dora");
	json_object_put(j);
	assert_int_equal(decide(id, sam, 1, &code), JG_ERROR);
}

static char events[512];

static void on_event(void *ud, const char *id, const char *event,
		     struct json_object *json, int status)
{
	(void)ud;
	(void)id;
	assert_non_null(json);
	strcat(events, event);
	strcat(events, " ");
	(void)status;
}

static void test_every_step_reported(void **state)
{
	char id[REVIEW_ID_LEN], err[128];
	const char *code;

	(void)state;
	events[0] = '\0';
	review_set_hook(on_event, NULL);
	create(&need_dba_security, id);
	decide(id, eve, 1, &code); /* refused: no event */
	decide(id, dora, 1, &code);
	decide(id, sam, 1, &code);
	review_consume(id, "alice", bind, &code, err, sizeof(err));
	create(&need_two_dbas, id);
	fake_ms += 60000;
	review_expire();
	assert_string_equal(events, "review.created review.approval "
				    "review.approved review.used "
				    "review.created review.expired ");
}

/* A held action's review, as core_review_hold makes it for session
 * s-1. */
static void create_held(char *id)
{
	struct review_request rq = {.kind = REVIEW_ACTION,
				    .requester = alice,
				    .connection = "prod-eu",
				    .rule = "ddl-review",
				    .summary = "DROP TABLE users",
				    .bind = bind,
				    .approval = &need_dba_security,
				    .session_id = "s-1"};
	char err[128];

	assert_int_equal(review_create(&rq, id, err, sizeof(err)), JG_OK);
}

static void test_withdrawn_cannot_be_decided(void **state)
{
	char id[REVIEW_ID_LEN], err[256];
	const char *code = "";
	int status;
	struct json_object *l, *j;

	(void)state;
	events[0] = '\0';
	review_set_hook(on_event, NULL);
	create_held(id);
	decide(id, dora, 1, &code); /* one of two approvals */
	/* only the session that holds it may withdraw it */
	assert_int_equal(review_withdraw(id, "s-2", "canceled", &status,
					 &code, err, sizeof(err)),
			 JG_ERROR);
	assert_string_equal(code, REVIEW_E_NOT_REQUESTER);
	assert_int_equal(review_withdraw(id, "s-1", "canceled by the client",
					 &status, &code, err, sizeof(err)),
			 JG_OK);
	assert_int_equal(status, REVIEW_WITHDRAWN);
	assert_int_equal(review_status(id), REVIEW_WITHDRAWN);
	/* no longer pending: approvers do not see it in the list */
	l = reviews_list_json(0, NULL);
	assert_int_equal(json_object_array_length(l), 0);
	json_object_put(l);
	j = review_json(id);
	assert_string_equal(json_object_get_string(
				    json_object_object_get(j, "status")),
			    "withdrawn");
	assert_string_equal(json_object_get_string(
				    json_object_object_get(j, "reason")),
			    "canceled by the client");
	json_object_put(j);
	/* approving or denying it now fails with its own code */
	assert_int_equal(review_decide(id, sam, 1, 1, NULL, &status, &code,
				       err, sizeof(err)),
			 JG_ERROR);
	assert_string_equal(code, REVIEW_E_WITHDRAWN);
	assert_non_null(strstr(err, "withdrawn by its requester"));
	assert_int_equal(decide(id, sam, 0, &code), JG_ERROR);
	assert_string_equal(code, REVIEW_E_WITHDRAWN);
	assert_int_equal(review_consume(id, "alice", bind, &code, err,
					sizeof(err)),
			 JG_ERROR);
	/* once */
	assert_int_equal(review_withdraw(id, "s-1", "again", &status, &code,
					 err, sizeof(err)),
			 JG_ERROR);
	assert_string_equal(code, REVIEW_E_DECIDED);
	/* it never expires afterwards */
	fake_ms += 7200 * 1000;
	assert_int_equal(review_expire(), 0);
	assert_string_equal(events, "review.created review.approval "
				    "review.withdrawn ");
}

static void test_withdraw_approved_unused(void **state)
{
	char id[REVIEW_ID_LEN], err[256];
	const char *code = "";
	int status;

	(void)state;
	create_held(id);
	decide(id, dora, 1, &code);
	decide(id, sam, 1, &code);
	assert_int_equal(review_status(id), REVIEW_APPROVED);
	/* approved, but the client left before it ran: nobody uses it */
	assert_int_equal(review_withdraw(id, "s-1", "the client disconnected",
					 &status, &code, err, sizeof(err)),
			 JG_OK);
	assert_int_equal(review_consume(id, "alice", bind, &code, err,
					sizeof(err)),
			 JG_ERROR);
	assert_string_equal(code, REVIEW_E_DECIDED);
	/* a used one stays used; a grant review has no session */
	create_held(id);
	decide(id, dora, 1, &code);
	decide(id, sam, 1, &code);
	review_consume(id, "alice", bind, &code, err, sizeof(err));
	assert_int_equal(review_withdraw(id, "s-1", "late", &status, &code,
					 err, sizeof(err)),
			 JG_ERROR);
	assert_int_equal(review_status(id), REVIEW_USED);
	create(&need_dba_security, id);
	assert_int_equal(review_withdraw(id, "s-1", "x", &status, &code, err,
					 sizeof(err)),
			 JG_ERROR);
	assert_int_equal(review_status(id), REVIEW_PENDING);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_self_approval_refused),
		T(test_non_approver_refused),
		T(test_two_groups_both_required),
		T(test_one_person_counts_once),
		T(test_n_of_m),
		T(test_bound_to_action_and_used_once),
		T(test_expiry),
		T(test_denial_needs_reason),
		T(test_every_step_reported),
		T(test_withdrawn_cannot_be_decided),
		T(test_withdraw_approved_unused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
