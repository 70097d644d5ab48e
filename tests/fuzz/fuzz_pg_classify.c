/*
 * libFuzzer harness for the statement classifier: any text, any nesting.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pg_classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_classified c;
	char *sql = malloc(size + 1);

	if (!sql)
		return 0;
	memcpy(sql, data, size);
	sql[size] = 0;
	pg_classify(sql, &c);
	pg_classified_free(&c);
	free(sql);
	return 0;
}
