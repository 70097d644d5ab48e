/*
 * Replays the JWT fuzzer's corpus (tests/fuzz/corpus/jwt) through the
 * same entry point the fuzzer uses, so every build exercises it, under
 * the sanitizers too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void test_replay_corpus(void **state)
{
	const char *src = getenv("JG_SRCDIR");
	char dir[1024];
	int n = 0;

	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/jwt",
		 src ? src : "../..");
	DIR *d = opendir(dir);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d));) {
		char path[2048];
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		static uint8_t buf[1 << 16];
		size_t len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		/* Exact-size copy so ASan sees any read past the end. */
		uint8_t *copy = malloc(len ? len : 1);
		memcpy(copy, buf, len);
		LLVMFuzzerTestOneInput(copy, len);
		/* Every prefix too: truncations are the classic bug. */
		for (size_t i = 0; i < len; i += 7)
			LLVMFuzzerTestOneInput(copy, i);
		free(copy);
		n++;
	}
	closedir(d);
	print_message("# replayed %d corpus files\n", n);
	assert_true(n > 0);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_corpus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
