/*
 * Masking throughput, one core: the pii plugin's scanner against a plain
 * PCRE2 (JIT) loop over the same detectors, on the same rows, in the same
 * run.  Two realistic data sets; a given share of the values carries an
 * email address or a card number:
 *
 *   rows  database rows: names, addresses, timestamps, amounts, order
 *         numbers, notes with log and JSON fragments (the set)
 *   logs  application log lines: ISO timestamps, request UUIDs, paths
 *         with ids, durations, versions, commit hashes, JSON bodies
 *
 *   bench_mask [MB] [seconds]     (defaults: 8 MB of rows, 1 s per run)
 *
 * Prints GB/s for each engine at a 0% and a 1% hit rate and the ratio.
 */
#include "pii.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

extern const struct jg_plugin jg_plugin;

static const char *const first[] = {"Alice", "Bob", "Carol", "Dmitri",
				    "Eve", "Fatima", "Grace", "Hiro"};
static const char *const last[] = {"Johnson", "Smith", "Nguyen", "Garcia",
				   "O'Brien", "Kowalski", "Tanaka", "Muller"};
static const char *const notes[] = {
	"Customer asked to change the delivery window to the afternoon.",
	"Shipped 3 items; one back-ordered until next week.",
	"Refund approved after review - see ticket A-1742.",
	"Left at the front desk, signed by reception.",
	"Requested invoice copy for accounting, Q3 close.",
	"Address updated, apartment number was missing.",
	"{\"status\": \"ok\", \"items\": [12, 7, 3], \"gift\": false}",
	"GET /api/v2/orders?page=4&size=50 200 12ms",
};

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

struct rows {
	char *buf;
	size_t len;
	size_t *off; /* row i is buf[off[i], off[i+1]) */
	size_t n;
};

static int db_row(char *row, size_t cap, unsigned *s)
{
	return snprintf(row, cap,
			"%u|%s %s|%u Main Street, Springfield|2024-%02u-%02u "
			"%02u:%02u:%02u|%u.%02u USD|order %u|%s",
			rnd(s) % 100000, first[rnd(s) % 8], last[rnd(s) % 8],
			rnd(s) % 900 + 1, rnd(s) % 12 + 1, rnd(s) % 28 + 1,
			rnd(s) % 24, rnd(s) % 60, rnd(s) % 60, rnd(s) % 1000,
			rnd(s) % 100, rnd(s) % 1000000, notes[rnd(s) % 8]);
}

/* Paths with an id: "/v1/orders/" 48213 "/items" */
static const char *const paths[][2] = {
	{"/v1/orders/", "/items"}, {"/v1/users/", "/sessions"},
	{"/healthz?probe=", ""}, {"/v2/invoices/", ".pdf"},
};

static int log_line(char *row, size_t cap, unsigned *s)
{
	char path[64];
	const char *lvl = rnd(s) % 10 ? "INFO" : "WARN";
	unsigned k = rnd(s) % 4;

	snprintf(path, sizeof(path), "%s%u%s", paths[k][0], rnd(s) % 100000,
		 paths[k][1]);
	return snprintf(
		row, cap,
		"2024-%02u-%02uT%02u:%02u:%02u.%03uZ %s api req=%08x-%04x-4%03x-"
		"a%03x-%04x%08x method=%s path=%s status=%u dur=%u.%ums "
		"bytes=%u build=v1.%u.%u sha=%07x body={\"page\": %u, "
		"\"size\": 50, \"retry\": false}",
		rnd(s) % 12 + 1, rnd(s) % 28 + 1, rnd(s) % 24, rnd(s) % 60,
		rnd(s) % 60, rnd(s) % 1000, lvl,
		rnd(s) << 16 | rnd(s), rnd(s) & 0xffff, rnd(s) & 0xfff,
		rnd(s) & 0xfff, rnd(s) & 0xffff, rnd(s) << 16 | rnd(s),
		rnd(s) % 4 ? "GET" : "POST", path, rnd(s) % 5 ? 200 : 404,
		rnd(s) % 300, rnd(s) % 10, rnd(s) % 60000, rnd(s) % 30,
		rnd(s) % 10, rnd(s) & 0xfffffff, rnd(s) % 40);
}

typedef int (*row_gen)(char *row, size_t cap, unsigned *s);

static void make_rows(struct rows *r, size_t bytes, unsigned permille,
		      row_gen gen)
{
	unsigned s = 42;
	size_t cap = bytes + 4096, nrows = 0, rcap = bytes / 64 + 16;

	r->buf = malloc(cap);
	r->off = malloc(rcap * sizeof(*r->off));
	r->len = 0;
	while (r->len < bytes && nrows + 1 < rcap) {
		char row[512];
		int n = gen(row, sizeof(row), &s);
		if (rnd(&s) % 1000 < permille) {
			static const char *const hits[] = {
				" contact: alice.j@example.com",
				" card 4111 1111 1111 1111",
			};
			n += snprintf(row + n, sizeof(row) - (size_t)n, "%s",
				      hits[rnd(&s) % 2]);
		}
		r->off[nrows++] = r->len;
		memcpy(r->buf + r->len, row, (size_t)n);
		r->len += (size_t)n;
	}
	r->off[nrows] = r->len;
	r->n = nrows;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the scanner ---- */

struct outbuf {
	char b[4096];
	size_t n;
};

static int out_emit(void *ud, const char *d, size_t n)
{
	struct outbuf *o = ud;
	if (o->n + n > sizeof(o->b))
		o->n = 0;
	if (n > sizeof(o->b))
		return 0;
	memcpy(o->b + o->n, d, n);
	o->n += n;
	return 0;
}

static size_t run_scanner(const struct jg_mask_ops *ops, const void *pf,
			  const struct rows *r)
{
	struct outbuf o = {.n = 0};
	struct jg_mask_field f = {"public.orders.note", "text", JG_MASK_TEXT};
	size_t hits = 0;

	for (size_t i = 0; i < r->n; i++) {
		o.n = 0;
		int rc = ops->mask_value(pf, &f, r->buf + r->off[i],
					 r->off[i + 1] - r->off[i], out_emit,
					 &o, NULL);
		hits += rc == JG_OK;
	}
	return hits;
}

/* ---- the plain PCRE2 loop ---- */

static const char *const patterns[] = {
	"\\b(?:\\d[ -]?){12,18}\\d\\b",                          /* card */
	"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*"
	"\\.[A-Za-z]{2,}",                                     /* email */
	"\\b[A-Z]{2}\\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\\b",
	"\\b\\d{3}-\\d{2}-\\d{4}\\b",                          /* ssn */
	"(?:\\+\\d{1,3}[ .-]?)?\\(?\\b\\d{3}\\)?[ .-]?\\d{3}[ .-]\\d{4}\\b",
	"\\b(?:(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)\\.){3}"
	"(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)\\b",                  /* ipv4 */
	"(?:[0-9A-Fa-f]{1,4}:){2,7}[0-9A-Fa-f]{1,4}",          /* ipv6 */
	"\\beyJ[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]*", /* jwt */
	"\\b(?:AKIA|ASIA)[A-Z0-9]{16}\\b",                     /* aws id */
	"(?i:aws_secret\\w*)\\W{1,5}[A-Za-z0-9/+]{40}",        /* secret */
	"-----BEGIN [A-Z ]*PRIVATE KEY-----",                  /* pem */
};
#define NPAT (sizeof(patterns) / sizeof(patterns[0]))

static size_t run_pcre2(pcre2_code **re, pcre2_match_data *md,
			const struct rows *r)
{
	size_t hits = 0;

	for (size_t i = 0; i < r->n; i++) {
		PCRE2_SPTR s = (PCRE2_SPTR)(r->buf + r->off[i]);
		size_t len = r->off[i + 1] - r->off[i];
		for (size_t k = 0; k < NPAT; k++) {
			size_t at = 0;
			while (at < len && pcre2_jit_match(re[k], s, len, at, 0,
							   md, NULL) > 0) {
				PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
				/* the same validation the scanner does */
				if (k == 0)
					hits += pii_validate(VAL_LUHN,
							     s + ov[0],
							     ov[1] - ov[0]);
				else if (k == 2)
					hits += pii_validate(VAL_MOD97,
							     s + ov[0],
							     ov[1] - ov[0]);
				else
					hits++;
				at = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
			}
		}
	}
	return hits;
}

typedef size_t (*runner)(void *a, void *b, const struct rows *r);

static size_t scan_runner(void *a, void *b, const struct rows *r)
{
	return run_scanner(a, b, r);
}

static size_t pcre_runner(void *a, void *b, const struct rows *r)
{
	return run_pcre2(a, b, r);
}

static double gbps(runner fn, void *a, void *b, const struct rows *r,
		   double secs, size_t *hits)
{
	double t0 = now(), t;
	size_t bytes = 0;

	do {
		*hits = fn(a, b, r);
		bytes += r->len;
	} while ((t = now() - t0) < secs);
	return (double)bytes / t / 1e9;
}

int main(int argc, char **argv)
{
	size_t mb = argc > 1 ? (size_t)atoi(argv[1]) : 8;
	double secs = argc > 2 ? atof(argv[2]) : 1.0;
	const struct jg_mask_ops *ops = jg_plugin.ops;
	void *inst, *pf;
	char err[256];
	pcre2_code *re[NPAT];
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);

	if (jg_plugin.init(NULL, NULL, &inst, err, sizeof(err)) ||
	    ops->profile_compile(inst, "bench", "{}", &pf, err, sizeof(err))) {
		fprintf(stderr, "bench_mask: %s\n", err);
		return 1;
	}
	for (size_t k = 0; k < NPAT; k++) {
		int ec;
		PCRE2_SIZE off;
		re[k] = pcre2_compile((PCRE2_SPTR)patterns[k],
				      PCRE2_ZERO_TERMINATED, 0, &ec, &off,
				      NULL);
		if (!re[k] || pcre2_jit_compile(re[k], PCRE2_JIT_COMPLETE)) {
			fprintf(stderr, "bench_mask: pattern %zu\n", k);
			return 1;
		}
	}
	printf("rows: %zu MB, one core, all built-in detectors, "
	       "%.1f s per measure\n",
	       mb, secs);
	static const unsigned rates[] = {0, 10};
	static const struct {
		const char *name;
		row_gen gen;
	} sets[] = {{"rows", db_row}, {"logs", log_line}};
	for (size_t k = 0; k < 2; k++) {
		for (size_t i = 0; i < 2; i++) {
			struct rows r;
			size_t h1, h2;
			make_rows(&r, mb << 20, rates[i], sets[k].gen);
			double a = gbps(scan_runner, (void *)ops, pf, &r, secs,
					&h1);
			double b = gbps(pcre_runner, re, md, &r, secs, &h2);
			printf("%s hit %u%%: %zu values of %zu bytes avg: "
			       "scanner %.2f GB/s (%zu masked), pcre2 loop "
			       "%.2f GB/s (%zu matches), ratio %.1fx\n",
			       sets[k].name, rates[i] / 10, r.n, r.len / r.n,
			       a, h1, b, h2, a / b);
			free(r.buf);
			free(r.off);
		}
	}
	for (size_t k = 0; k < NPAT; k++)
		pcre2_code_free(re[k]);
	pcre2_match_data_free(md);
	ops->profile_free(pf);
	jg_plugin.fini(inst);
	return 0;
}
