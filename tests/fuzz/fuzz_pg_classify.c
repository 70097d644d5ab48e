/*
 * libFuzzer harness for the statement classifier: any text, any nesting.
 * What the text prepares, executes or deallocates goes through a
 * session's name table (pg_prepared.h) as the guard would apply it, and
 * a second classification through the cache must agree on the names.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pg_ccache.h"
#include "pg_classify.h"
#include "pg_prepared.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void names(struct pg_prepared **p, const struct pg_classified *c)
{
	const struct pg_prep_name *e;
	size_t i, k;

	for (i = 0; i < c->n; i++) {
		const struct pg_stmt *st = &c->stmts[i];

		switch (st->prep_op) {
		case PG_PREP_PREPARE:
			pg_prepared_add(p, st->prep_name, st);
			break;
		case PG_PREP_EXECUTE:
			e = pg_prepared_find(*p, st->prep_name);
			for (k = 0; e && k < e->n; k++)
				if (!e->bodies[k]->st.text)
					abort();
			break;
		case PG_PREP_DEALLOCATE:
			pg_prepared_forget(*p, st->prep_name);
			break;
		case PG_PREP_FORGET_ALL:
			pg_prepared_forget_all(*p);
			break;
		default:
			break;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pg_ccache *cc = calloc(1, sizeof(*cc));
	struct pg_classified c, h;
	struct pg_prepared *p = NULL;
	char *sql = malloc(size + 1);
	size_t i;

	if (!sql || !cc) {
		free(sql);
		free(cc);
		return 0;
	}
	memcpy(sql, data, size);
	sql[size] = 0;
	if (pg_classify(sql, &c) == 0) {
		names(&p, &c);
		names(&p, &c); /* the same again: candidates already there */
		/* the second is a hit when the text can be cached */
		if (pg_classify_cached(cc, sql, &h) == 0) {
			pg_classified_free(&h);
			if (pg_classify_cached(cc, sql, &h) < 0 || h.n != c.n)
				abort();
			for (i = 0; i < c.n; i++)
				if (h.stmts[i].prep_op != c.stmts[i].prep_op ||
				    (!h.stmts[i].prep_name) !=
					    (!c.stmts[i].prep_name) ||
				    (c.stmts[i].prep_name &&
				     strcmp(h.stmts[i].prep_name,
					    c.stmts[i].prep_name) != 0))
					abort();
		}
		pg_classified_free(&h);
	}
	pg_prepared_free(p);
	pg_classified_free(&c);
	pg_ccache_free(cc);
	free(cc);
	free(sql);
	return 0;
}
