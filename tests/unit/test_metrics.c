/*
 * Plugin counters: each thread remembers counters by the names'
 * addresses, so a name buffer reused for another name, and counting
 * again after metrics_fini(), must still land on the right counter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

/* The value rendered as jitgate_<name>{plugin="<plugin>"}, -1 if absent. */
static long long rendered(const char *plugin, const char *name)
{
	char want[256], *text, *p;
	size_t len;
	long long v = -1;

	snprintf(want, sizeof(want), "jitgate_%s{plugin=\"%s\"} ", name,
		 plugin);
	text = metrics_render(&len);
	assert_non_null(text);
	for (p = text; (p = strstr(p, want)); p++)
		if (p == text || p[-1] == '\n')
			v = strtoll(p + strlen(want), NULL, 10);
	free(text);
	return v;
}

static void test_reused_name_buffer(void **state)
{
	char name[32];
	(void)state;

	snprintf(name, sizeof(name), "first_total");
	metrics_add("tp", name, 2);
	metrics_add("tp", name, 3);
	snprintf(name, sizeof(name), "second_total");
	metrics_add("tp", name, 7);
	assert_int_equal(rendered("tp", "first_total"), 5);
	assert_int_equal(rendered("tp", "second_total"), 7);
	metrics_add("tp2", "first_total", 1); /* same name, other plugin */
	assert_int_equal(rendered("tp", "first_total"), 5);
	assert_int_equal(rendered("tp2", "first_total"), 1);
}

static void test_after_fini(void **state)
{
	(void)state;

	metrics_add("tp", "kept_total", 4);
	assert_int_equal(rendered("tp", "kept_total"), 4);
	metrics_fini(); /* frees the counters this thread remembers */
	metrics_add("tp", "kept_total", 1);
	assert_int_equal(rendered("tp", "kept_total"), 1);
	metrics_fini();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reused_name_buffer),
		cmocka_unit_test(test_after_fini),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
