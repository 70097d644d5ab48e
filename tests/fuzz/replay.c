/*
 * Replays a fuzz harness's committed corpus (tests/fuzz/corpus/NAME/)
 * through its LLVMFuzzerTestOneInput, as a unit test: every build, the
 * sanitizer build and valgrind exercise the harness without libFuzzer.
 * Linked once per harness; FUZZ_NAME names the corpus.
 *
 * Each file is fed whole, then truncated at a few points (truncation is
 * where parsers usually go wrong), each time as an exact-size copy so
 * ASan and valgrind see a read one byte past the end.
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

#ifndef FUZZ_NAME
#error "FUZZ_NAME must name the corpus"
#endif

/* Enough for every committed input; bigger files are refused. */
#define REPLAY_MAX_INPUT (1u << 20)
/* Prefixes tried per file, besides the whole file. */
#define PREFIXES 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run(const uint8_t *data, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);

	assert_non_null(copy);
	memcpy(copy, data, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
}

static void test_replay_corpus(void **state)
{
	const char *src = getenv("JG_SRCDIR");
	char dir[1024];
	int n = 0;
	DIR *d;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tests/fuzz/corpus/%s",
		 src ? src : FUZZ_SRCDIR, FUZZ_NAME);
	d = opendir(dir);
	if (d == NULL)
		fail_msg("no corpus at %s", dir);
	for (struct dirent *e; (e = readdir(d));) {
		char path[2048];
		uint8_t *buf;
		size_t len, step;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		f = fopen(path, "rb");
		if (f == NULL)
			fail_msg("cannot open %s", path);
		buf = malloc(REPLAY_MAX_INPUT + 1);
		assert_non_null(buf);
		len = fread(buf, 1, REPLAY_MAX_INPUT + 1, f);
		fclose(f);
		if (len > REPLAY_MAX_INPUT)
			fail_msg("%s is larger than %u bytes", path, REPLAY_MAX_INPUT);
		run(buf, len);
		step = len / PREFIXES ? len / PREFIXES : 1;
		for (size_t i = 0; i < len; i += step)
			run(buf, i);
		free(buf);
		n++;
	}
	closedir(d);
	print_message("# %s: replayed %d corpus files\n", FUZZ_NAME, n);
	if (n == 0)
		fail_msg("the corpus %s is empty", dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay_corpus),
	};
	return cmocka_run_group_tests_name("replay_" FUZZ_NAME, tests, NULL,
					   NULL);
}
