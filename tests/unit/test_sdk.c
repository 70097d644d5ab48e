/*
 * The installed headers are self-contained and their frozen prefixes sit
 * where every released core expects them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <jitgate/host.h>
#include <jitgate/idp.h>
#include <jitgate/jitgate.h>
#include <jitgate/mask.h>
#include <jitgate/notify.h>
#include <jitgate/protocol.h>
#include <jitgate/store.h>

static void test_frozen_prefix(void **state)
{
	(void)state;
	assert_int_equal(offsetof(struct jg_plugin, magic), 0);
	assert_int_equal(offsetof(struct jg_plugin, abi_major), 4);
	assert_int_equal(offsetof(struct jg_plugin, abi_minor), 6);
	assert_int_equal(offsetof(struct jg_plugin, size), 8);
	assert_int_equal(offsetof(struct jg_host, size), 8);
	assert_int_equal(JG_PLUGIN_MAGIC, 0x4a47504cU);
}

static void test_ops_start_with_size(void **state)
{
	(void)state;
	assert_int_equal(offsetof(struct jg_protocol_ops, size), 0);
	assert_int_equal(offsetof(struct jg_idp_ops, size), 0);
	assert_int_equal(offsetof(struct jg_mask_ops, size), 0);
	assert_int_equal(offsetof(struct jg_store_ops, size), 0);
	assert_int_equal(offsetof(struct jg_notify_ops, size), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frozen_prefix),
		cmocka_unit_test(test_ops_start_with_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
