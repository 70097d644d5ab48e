/*
 * Fail-closed defaults for the core services (services.h), one function
 * each.  Until the engineer who owns a service moves its function into
 * its own file (core/auth.c, core/policy.c, core/review.c,
 * core/maskcore.c, core/record.c) and deletes it here, the service
 * refuses: nothing happens that could not be authenticated, decided,
 * masked or recorded.
 */
#include "config.h"
#include "services.h"

#include <stdio.h>
#include <string.h>

/* core_authenticate, core_session_subject, core_decide: core/auth.c;
 * core_review_hold: core/review_hold.c */

/* core_mask_value: core/maskcore.c */

/* core_record: core/record.c (fails closed until recording is configured) */
