/*
 * Per-value cost of mask_value, one core: short values (8 to 64 bytes),
 * clean and with hits, one call each, as a protocol plugin makes them for
 * every field of every row.  Where bench_mask measures bytes per second
 * on long values, this measures the fixed cost every value pays: setup,
 * column rule lookup, window classification, report plumbing.
 *
 *   bench_value [seconds] [set]   (default 0.3 s per measure, all sets;
 *                                   set: only sets whose name has it)
 *
 * Profiles: "rules" is bench/pg/run.sh's (every built-in detector, a glob
 * and an exact column rule that match none of the columns), "plain" has
 * no column rules.  Values go to an emit that collects like the core's.
 * Prints ns per value for each set (best of 5 rounds), and how many of
 * the set's values were masked.
 */
#include "pii.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern const struct jg_plugin jg_plugin;

struct set {
	const char *name;
	const char *column; /* NULL: no name */
	const char *const *v;
};

/* Clean values by length: ids, hex, short notes, words and numbers. */
static const char *const v_id[] = {"7", "42", "1234", "98765", "100000",
				   NULL};
static const char *const v_8[] = {"ok", "12.50", "Springf.", "2024-05",
				  "GBP 3.20", "true", "N/A", "order 9", NULL};
static const char *const v_16[] = {"Alice Johnson", "412 Main Street",
				   "2024-05-01 10:2", "note for row 17",
				   "status=shipped", "1999.00 USD", NULL};
static const char *const v_32[] = {
	"note for row 12345, order 56789", "Refund approved after review",
	"2024-05-01 10:23:45.123+00", "GET /api/v2/orders 200 12ms",
	"Shipped 3 items; one back-ordered", "Address updated, apt 4B",
	NULL};
static const char *const v_64[] = {
	"8f14e45fceea167a5a36dedd4bea2543 c9f0f895fb98ab9159f51fd0297e236d",
	"Customer asked to change the delivery window to the afternoon.",
	"{\"status\": \"ok\", \"items\": [12, 7, 3], \"gift\": false}",
	"Left at the front desk, signed by reception, 2024-05-01 10:23",
	NULL};
/* Values with something to mask. */
static const char *const v_hit[] = {
	"contact ann100@example.com", "4111 1111 1111 1111",
	"paid with 4111 1111 1111 1111 on 2024-05-03", "ssn 123-45-6789",
	"call (212) 555-0123 after 5", "from 192.168.10.20", NULL};
/* One row of bench/pg/run.sh's masked fetch: id, a, b, masked(). */
static const char *const v_row[] = {
	"12345",
	"827ccb0eea8a706c4c34a16891f84e7b 9e3669d19b675bd57058fd4664205d2a",
	"note for row 12345, order 56765", "1", NULL};
static const char *const c_row[] = {"public.wide.id", "public.wide.a",
				    "public.wide.b", "masked"};

struct collect {
	char b[4096];
	size_t n;
};

static int collect(void *ud, const char *d, size_t n)
{
	struct collect *c = ud;

	if (n > sizeof(c->b) - c->n)
		return -1;
	memcpy(c->b + c->n, d, n);
	c->n += n;
	return 0;
}

#define ROUNDS 5

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ns per value over the set (rows: the columns of v_row named), the
 * best of a few rounds: on a shared machine the best round is the one
 * least disturbed. */
static double ns_per_value(const struct jg_mask_ops *ops, const void *pf,
			   const struct set *s, int rows, double secs,
			   size_t *masked, double *avglen)
{
	struct collect c;
	struct jg_mask_field f = {s->column, NULL, JG_MASK_TEXT};
	size_t nv = 0, calls, bytes = 0, lens[16];
	double t0, t, best = 0;

	while (s->v[nv])
		nv++;
	for (size_t i = 0; i < nv; i++) {
		lens[i] = strlen(s->v[i]);
		bytes += lens[i];
	}
	*avglen = (double)bytes / (double)nv;
	*masked = 0;
	for (int round = 0; round < ROUNDS; round++) {
		calls = 0;
		t0 = now();
		do {
			for (int k = 0; k < 1000; k++) {
				for (size_t i = 0; i < nv; i++) {
					if (rows)
						f.column = c_row[i];
					c.n = 0;
					int rc = ops->mask_value(
						pf, &f, s->v[i], lens[i],
						collect, &c, NULL);
					if (!round && !k && !calls)
						*masked += rc != JG_DECLINED;
				}
				calls += nv;
			}
		} while ((t = now() - t0) < secs / ROUNDS);
		t = t * 1e9 / (double)calls;
		if (!round || t < best)
			best = t;
	}
	return best;
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 0.3;
	const char *only = argc > 2 ? argv[2] : NULL;
	const struct jg_mask_ops *ops = jg_plugin.ops;
	static const char *const profiles[][2] = {
		{"rules", "{\"columns\": [{\"glob\": \"*.ssn\"}, "
			  "{\"column\": \"public.users.password\"}]}"},
		{"plain", "{}"},
	};
	const struct set sets[] = {
		{"ids 1-6", "public.wide.id", v_id},
		{"clean 2-8", "public.wide.b", v_8},
		{"clean 12-16", "public.wide.b", v_16},
		{"clean 23-33", "public.wide.b", v_32},
		{"clean 50-65", "public.wide.a", v_64},
		{"hits 15-43", "public.wide.b", v_hit},
		{"unnamed 23-33", NULL, v_32},
	};
	void *inst, *pf;
	char err[256];

	if (jg_plugin.init(NULL, NULL, &inst, err, sizeof(err))) {
		fprintf(stderr, "bench_value: %s\n", err);
		return 1;
	}
	printf("mask_value per value, one core, %.1f s per measure, best "
	       "of %d rounds\n",
	       secs, ROUNDS);
	printf("%-8s %-16s %8s %10s %7s\n", "profile", "values", "avg len",
	       "ns/value", "masked");
	for (size_t p = 0; p < 2; p++) {
		if (ops->profile_compile(inst, profiles[p][0], profiles[p][1],
					 &pf, err, sizeof(err))) {
			fprintf(stderr, "bench_value: %s\n", err);
			return 1;
		}
		for (size_t i = 0; i <= sizeof(sets) / sizeof(sets[0]); i++) {
			const struct set row = {"pg row (4 cols)", NULL, v_row};
			const struct set *s = i < sizeof(sets) / sizeof(sets[0])
						      ? &sets[i]
						      : &row;
			size_t masked;
			double len;
			if (only && !strstr(s->name, only))
				continue;
			double ns = ns_per_value(ops, pf, s, s == &row, secs,
						 &masked, &len);
			printf("%-8s %-16s %8.1f %10.1f %7zu\n", profiles[p][0],
			       s->name, len, ns, masked);
		}
		ops->profile_free(pf);
	}
	jg_plugin.fini(inst);
	return 0;
}
