/*
 * The relay's side of COPY ... TO STDOUT under masking (pg_copy.h): the
 * COPY statements noted as their Query goes upstream (and refused there
 * when they cannot be masked), and the CopyOutResponse, CopyData and
 * CopyDone of the rows coming back.
 */
#include "pg_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int pg_mask_values_host(void *ud, struct jg_mask_item *v, size_t n)
{
	struct pg_session *ps = ud;

	return ps->h->mask_values(ps->s, v, n) == JG_OK ? 0 : -1;
}

/* Whether column rules could apply to values the gateway cannot name:
 * 1 or 0 (when the core cannot tell: as if they could). */
static int column_rules(struct pg_session *ps)
{
	int rc;

	if (!ps->masking)
		return 0;
	if (!JG_HOST_HAS(ps->h, mask_values))
		return 1;
	rc = ps->h->mask_values(ps->s, NULL, 0);
	return rc == JG_OK ? 0 : 1;
}

static struct pg_copy_state *copy_state(struct pg_session *ps)
{
	if (!ps->copy)
		ps->copy = calloc(1, sizeof(*ps->copy));
	return ps->copy;
}

/* Specs of Queries whose ReadyForQuery came are of no use any more. */
static void copy_prune(struct pg_session *ps)
{
	struct pg_copy_spec *s;

	while (ps->copy && (s = ps->copy->specs) && s->epoch <= ps->rfq_seen) {
		ps->copy->specs = s->next;
		s->next = NULL;
		pg_copy_spec_free(s);
	}
}

/* Whether the session's client_encoding is one COPY rows cannot be split
 * in, or not known. */
static int encoding_unsafe(const struct pg_session *ps)
{
	return !ps->copy || !ps->copy->enc_known || ps->copy->enc_unsafe;
}

/* Whether the names of s lean on the catalog being current: its schema
 * or its columns come from it, not from the statement. */
static int needs_current_catalog(const struct pg_copy_spec *s)
{
	return !s->qualified || !s->ncols;
}

/* Why a COPY to the client cannot run under the session's masking, or
 * NULL if it can (buf holds the text then).  Names its columns on the
 * way. */
static const char *copy_refusal(struct pg_session *ps, struct pg_copy_spec *s,
				int *rules, char *buf, size_t len)
{
	int named = pg_copy_name(s, &ps->cat) == 0;

	if (!ps->masking)
		return NULL;
	if (s->binary)
		return "binary COPY is refused while masking applies";
	if (s->encoding)
		return "COPY with an ENCODING option is refused while masking "
		       "applies";
	if (!copy_state(ps))
		return "out of memory";
	if (encoding_unsafe(ps))
		return "COPY TO STDOUT is refused while masking applies and "
		       "the client_encoding is one whose characters COPY "
		       "does not escape (SJIS, BIG5, GBK, GB18030, UHC, "
		       "JOHAB, SHIFT_JIS_2004)";
	if (*rules < 0)
		*rules = column_rules(ps);
	if (!*rules)
		return NULL;
	if (s->query)
		return "COPY (query) TO STDOUT is refused while column "
		       "masking rules apply: its columns cannot be named";
	if (!named) {
		snprintf(buf, len,
			 "COPY TO STDOUT is refused while column masking rules "
			 "apply: the gateway cannot name its columns (%s)",
			 s->why ? s->why : "unknown");
		return buf;
	}
	if (!s->qualified && ps->copy->search_path)
		return "COPY TO STDOUT of a table without its schema is "
		       "refused while column masking rules apply and the "
		       "session may have changed search_path: "
		       "schema-qualify it";
	if (ps->copy->stale && needs_current_catalog(s))
		return "COPY TO STDOUT naming its columns from the catalog is "
		       "refused while column masking rules apply: a DDL "
		       "statement ran in this session since the gateway read "
		       "the catalog";
	return NULL;
}

/* Parse, Bind, Execute, Describe, Close, Sync: whether an extended
 * pipeline is open.  Until its Sync, the ReadyForQuery count cannot
 * tell which CopyOutResponse a later Query's COPY gives. */
static void extended(struct pg_session *ps, uint8_t type)
{
	if (type == 'S') {
		if (ps->copy)
			ps->copy->ext_open = 0;
	} else if (copy_state(ps)) {
		ps->copy->ext_open = 1;
	}
}

/*
 * A frontend message going upstream: note each COPY ... TO STDOUT of a
 * Query (its rows come in the order of its statements, before its
 * ReadyForQuery), and refuse the message in its place when one cannot
 * be masked.  -1: refused.
 */
int pg_copy_sent(struct pg_session *ps, const uint8_t *p, size_t n)
{
	struct pg_copy_spec *specs = NULL, *s, **tail;
	const char *sql = (const char *)p + 5, *why = NULL;
	const uint8_t *nul;
	char buf[320];
	size_t others = 0;
	int rules = -1, rc;

	switch (n >= 5 ? p[0] : 0) {
	case 'P':
		extended(ps, p[0]);
		break;
	case 'Q':
		break;
	case 'B':
	case 'E':
	case 'D':
	case 'C':
	case 'S':
		extended(ps, p[0]);
		return 0;
	default:
		return 0;
	}
	if (n < 6 || p[n - 1] != 0)
		return 0;
	if (p[0] == 'P') { /* name, then the text */
		nul = memchr(p + 5, 0, n - 5);
		if (!nul || (size_t)(nul - p) + 1 >= n)
			return 0;
		sql = (const char *)nul + 1;
		if (!memchr(sql, 0, n - (size_t)(nul + 1 - p)))
			return 0;
	}
	if (copy_state(ps) && pg_copy_sets_search_path(sql))
		ps->copy->search_path = 1;
	if (!pg_copy_maybe(sql))
		return 0;
	rc = pg_copy_specs_n(sql, &specs, &others);
	if (rc == -2 && ps->masking)
		why = "COPY TO STDOUT whose text the server may read in more "
		      "than one way (a backslash: standard_conforming_strings, "
		      "client_encoding) is refused while masking applies";
	else if (rc < 0 || !specs)
		return 0; /* what does not parse does not run; rows of a
			     COPY read more than one way get no names */
	for (s = specs; s && !why; s = s->next)
		why = copy_refusal(ps, s, &rules, buf, sizeof(buf));
	/* another statement of the same Query could change what the COPY
	 * reads or how its rows are written (SET client_encoding, DDL)
	 * before the relay hears of it */
	if (!why && ps->masking && others)
		why = "COPY TO STDOUT is refused while masking applies in a "
		      "Query with other statements: send it on its own";
	if (!why && p[0] == 'Q' && ps->masking && ps->copy->ext_open &&
	    (rules < 0 ? (rules = column_rules(ps)) : rules))
		why = "COPY TO STDOUT in a Query sent while an extended-"
		      "protocol pipeline waits for its Sync is refused while "
		      "column masking rules apply";
	if (why) {
		pg_copy_spec_free(specs);
		ps->h->log(PG_PLUGIN, ps->s, JG_LOG_INFO, "PG0303", "%s", why);
		pg_deny(ps, p[0], "42501", why,
			"COPY schema.table (columns) TO STDOUT as a simple "
			"Query of its own, with a table that existed when the "
			"session began, or SELECT the rows.");
		return -1;
	}
	/* the extended protocol runs a Parse's COPY later, maybe more than
	 * once, and a Query behind an open pipeline cannot be placed: their
	 * rows get no names (column rules make them fail closed) */
	if (p[0] == 'P' || !copy_state(ps) || ps->copy->ext_open) {
		pg_copy_spec_free(specs);
		return 0;
	}
	copy_prune(ps);
	for (s = specs; s; s = s->next)
		s->epoch = ps->rfq_sent + 1; /* this Query's ReadyForQuery */
	for (tail = &ps->copy->specs; *tail; tail = &(*tail)->next)
		;
	*tail = specs;
	return 0;
}

void pg_copy_backend(struct pg_session *ps, const struct pg_frame *f)
{
	const char *name = (const char *)f->body, *value;
	const uint8_t *nul;

	if (!f->body_len || f->body[f->body_len - 1] != 0)
		return; /* the relay refuses what is malformed */
	if (f->type == 'C') {
		if (pg_copy_ddl_tag(name) && copy_state(ps))
			ps->copy->stale = 1;
		return;
	}
	if (f->type != 'S' || strcmp(name, "client_encoding") != 0)
		return;
	nul = memchr(f->body, 0, f->body_len);
	if ((size_t)(nul - f->body) + 1 >= f->body_len || !copy_state(ps))
		return;
	value = (const char *)nul + 1;
	ps->copy->enc_known = 1;
	ps->copy->enc_unsafe = pg_copy_encoding_unsafe(value);
}

void pg_copy_end(struct pg_session *ps)
{
	if (ps->copy && ps->copy->active) {
		pg_copy_out_free(&ps->copy->out);
		ps->copy->active = 0;
	}
}

/* CopyOutResponse while masking: set up the masking of its rows.  0, or
 * -1 when the session ended. */
int pg_copy_out_start(struct pg_session *ps, const struct pg_frame *f)
{
	struct pg_copy_spec *spec = NULL;
	uint16_t n;
	int rc;

	n = f->body_len >= 3 ? (uint16_t)(f->body[1] << 8 | f->body[2]) : 0;
	if (f->body_len < 3 || f->body_len != 3 + 2 * (size_t)n) {
		pg_fatal(ps, "08P01", "malformed CopyOutResponse", NULL);
		return -1;
	}
	if (!copy_state(ps)) {
		pg_fatal(ps, "53200", "out of memory", NULL);
		return -1;
	}
	pg_copy_end(ps);
	copy_prune(ps);
	/* the next spec of the Query now running */
	if (ps->copy->specs && ps->copy->specs->epoch == ps->rfq_seen + 1) {
		spec = ps->copy->specs;
		ps->copy->specs = spec->next;
		spec->next = NULL;
	}
	/* what the relay heard since the Query went up: a client_encoding
	 * the rows cannot be split in, a DDL statement behind the catalog */
	if (encoding_unsafe(ps)) {
		pg_copy_spec_free(spec);
		pg_fatal(ps, "42501",
			 "masking applies to this session and its "
			 "client_encoding is one COPY rows cannot be split in, "
			 "so the rows of this COPY are not sent",
			 "SET client_encoding TO 'UTF8', or SELECT the rows.");
		return -1;
	}
	if (spec && ps->copy->stale && needs_current_catalog(spec)) {
		pg_copy_spec_free(spec);
		spec = NULL;
	}
	if ((!spec || spec->nnames != n) && column_rules(ps)) {
		pg_copy_spec_free(spec);
		ps->h->metric_add(PG_PLUGIN, "rows_unnamed", 1);
		pg_fatal(ps, "42501",
			 "masking applies to this session and the gateway "
			 "cannot name the columns of this COPY, so its rows "
			 "are not sent",
			 "Send COPY table (columns) TO STDOUT as a simple "
			 "query, or SELECT the rows.");
		return -1;
	}
	rc = pg_copy_out_begin(&ps->copy->out, spec, n);
	pg_copy_spec_free(spec);
	if (rc < 0) {
		pg_fatal(ps, "53200", "out of memory", NULL);
		return -1;
	}
	ps->copy->active = 1;
	return 0;
}

int pg_copy_out_message(struct pg_session *ps, const struct pg_frame *f,
			const uint8_t *msg, int done, const uint8_t **out,
			size_t *outlen, const char **why)
{
	struct pg_copy_out *co;
	size_t off;
	int same = 0;

	/* masking turned on after the COPY began: its rows are whole
	 * values for the detectors, or not sent at all */
	if ((!ps->copy || !ps->copy->active) &&
	    (column_rules(ps) || !copy_state(ps) ||
	     pg_copy_out_begin(&ps->copy->out, NULL, 0) < 0)) {
		*why = "the columns of this COPY cannot be named";
		return -1;
	}
	ps->copy->active = 1;
	co = &ps->copy->out;
	if (done ? pg_copy_out_done(co, pg_mask_values_host, ps, why)
		 : pg_copy_out_data(co, f->body, f->body_len,
				    pg_mask_values_host, ps, &same, why))
		return -1;
	if (same)
		return 0;
	pg_buf_reset(&ps->out);
	if (co->out.len) {
		off = pg_msg_begin(&ps->out, 'd');
		pg_buf_add(&ps->out, co->out.data, co->out.len);
		pg_msg_end(&ps->out, off);
	}
	if (done)
		pg_buf_add(&ps->out, msg, f->total);
	if (ps->out.oom) {
		*why = "out of memory";
		return -1;
	}
	*out = ps->out.data;
	*outlen = ps->out.len;
	return 0;
}
