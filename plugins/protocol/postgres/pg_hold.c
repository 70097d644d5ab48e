/*
 * Reviews on a live connection: a statement that policy sends to review
 * is held (not sent upstream) while the client waits; approved, the
 * exact same statement runs once.  Split from pg_guard.c, which decides.
 */
#include "pg_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_cancel.h"
#include "pg_classify.h"
#include "pg_guard.h"

/* Parameters shown to the approver (each an attribute "param"). */
#define PG_SHOW_PARAMS 32
#define PG_PARAM_TEXT 160 /* characters of one text value shown */
#define PG_PARAM_HEX 32   /* bytes of a binary value shown in hex */
/* An extended pipeline held for review: at most this many messages. */
#define PG_HOLD_MAX_MSGS 16
/* ps->unnamed_guard (see pg_guard_sent) */
#define UN_TAINTED 1u /* may be an approved statement */
#define UN_PIPE 2u    /* an extended message since the last Sync */
#define UN_FRESH 4u   /* a Parse of it since the last Sync */

static const uint8_t sync_msg[5] = {'S', 0, 0, 0, 4};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Length of the valid UTF-8 sequence at p (n bytes left), 0 if none;
 * NUL and control characters other than tab and newlines count as not
 * text, so a value shown as text reads as what it is. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
	size_t k, need;
	uint32_t c;

	if (p[0] < 0x80)
		return p[0] >= 0x20 || p[0] == '\t' || p[0] == '\n' ||
			       p[0] == '\r'
			       ? 1
			       : 0;
	if ((p[0] & 0xe0) == 0xc0) {
		need = 2;
		c = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		need = 3;
		c = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		need = 4;
		c = p[0] & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (k = 1; k < need; k++) {
		if ((p[k] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[k] & 0x3f);
	}
	/* overlong forms, surrogates, beyond Unicode */
	if ((need == 2 && c < 0x80) || (need == 3 && c < 0x800) ||
	    (need == 4 && (c < 0x10000 || c > 0x10ffff)) ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return need;
}

static int is_text(const uint8_t *p, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		k = utf8_len(p + i, n - i);
		if (!k)
			return 0;
		i += k;
	}
	return 1;
}

void pg_render_param(char *out, size_t outlen, int idx, int32_t len,
		     const uint8_t *p, int binary)
{
	size_t o, i, k, n = len > 0 ? (size_t)len : 0;
	int w;

	if (outlen == 0)
		return;
	if (len < 0) {
		snprintf(out, outlen, "$%d = NULL", idx);
		return;
	}
	if (binary || !is_text(p, n)) {
		if (n > PG_PARAM_HEX) {
			snprintf(out, outlen, "$%d = <binary %zu bytes>", idx,
				 n);
			return;
		}
		w = snprintf(out, outlen, "$%d = \\x", idx);
		o = w > 0 && (size_t)w < outlen ? (size_t)w : outlen - 1;
		for (i = 0; i < n && o + 3 < outlen; i++, o += 2)
			snprintf(out + o, outlen - o, "%02x", p[i]);
		snprintf(out + o, outlen - o, " (%s)",
			 binary ? "binary" : "not text");
		return;
	}
	/* a SQL literal: quotes doubled, cut at a character boundary */
	w = snprintf(out, outlen, "$%d = '", idx);
	o = w > 0 && (size_t)w < outlen ? (size_t)w : outlen - 1;
	for (i = 0; i < n && i < PG_PARAM_TEXT; i += k) {
		k = utf8_len(p + i, n - i);
		if (o + k + 2 + (p[i] == '\'') >= outlen)
			break;
		if (p[i] == '\'')
			out[o++] = '\'';
		memcpy(out + o, p + i, k);
		o += k;
	}
	out[o] = '\0';
	if (i < n)
		snprintf(out + o, outlen - o, "...' (%zu bytes)", n);
	else
		snprintf(out + o, outlen - o, "'");
}

/* Send the held messages upstream, one frame at a time (the relay
 * counts the ReadyForQuery each Query or Sync will bring). */
static void send_held(struct pg_session *ps)
{
	size_t off = 0, len;

	while (off + 5 <= ps->held_len) {
		len = (size_t)be32(ps->held_msg + off + 1) + 1;
		if (len < 5 || len > ps->held_len - off)
			break; /* cannot happen: framed when held */
		pg_send_upstream_frame(ps, ps->held_msg + off, len);
		off += len;
	}
}

/* Refuse what is held (or was about to be): the server raises the error
 * in order; a held pipeline's own Sync brings its ReadyForQuery. */
static void deny_held(struct pg_session *ps, uint8_t type, int ext,
		      const char *sqlstate, const char *message,
		      const char *detail)
{
	pg_deny(ps, type, sqlstate, message, detail);
	if (ext)
		pg_send_upstream_frame(ps, sync_msg, sizeof(sync_msg));
}

/* Tell the cancel table whether a statement is held (pg_cancel.h). */
static void mark_held(struct pg_session *ps, int held)
{
	if (ps->cancel_registered)
		pg_cancel_set_held(ps->gw_pid, ps->gw_key, held);
}

static void release_hold(struct pg_session *ps)
{
	if (ps->held)
		mark_held(ps, 0);
	free(ps->held_msg);
	ps->held_msg = NULL;
	ps->held_len = 0;
	ps->held = 0;
	ps->held_ext = 0;
	ps->review_id[0] = 0;
}

static const char *outcome_name(int outcome)
{
	return outcome == JG_REVIEW_APPROVED  ? "approved"
	       : outcome == JG_REVIEW_DENIED  ? "denied"
	       : outcome == JG_REVIEW_EXPIRED ? "expired"
					      : "failed";
}

static void review_done(void *ud, int outcome, const char *review_id,
			const char *detail)
{
	struct pg_session *ps = ud;
	struct jg_attr a[2];
	char msg[256];
	uint8_t type;

	if (!ps || ps->magic != PG_SESSION_MAGIC || !ps->held ||
	    !review_id || strcmp(review_id, ps->review_id) != 0 ||
	    ps->state != ST_RELAY)
		return; /* withdrawn by a cancel, or the session is ending */
	pg_enter(ps);
	a[0].key = "review";
	a[0].value = review_id;
	a[1].key = "outcome";
	a[1].value = outcome_name(outcome);
	pg_record(ps, "review", a, 2);
	type = ps->held_msg[0];
	if (outcome == JG_REVIEW_APPROVED) {
		/* exactly the bytes that were held: same text, same
		 * parameters, once; what it leaves prepared is guarded */
		send_held(ps);
		if (ps->held_ext)
			ps->unnamed_guard |= UN_TAINTED;
	} else {
		snprintf(msg, sizeof(msg), "statement review %s was %s",
			 review_id, a[1].value);
		deny_held(ps, type, ps->held_ext, "42501", msg, detail);
	}
	release_hold(ps);
	pg_relay_resume(ps);
	pg_leave(ps);
}

/* Tell the core nobody waits for the review any more (a core older than
 * ABI 1.3 withdraws it when the session ends), and record it. */
static void withdraw(struct pg_session *ps, const char *reason)
{
	struct jg_attr a[3] = {{"review", ps->review_id},
			       {"outcome", "withdrawn"},
			       {"reason", reason}};

	if (!ps->review_id[0])
		return;
	if (JG_HOST_HAS(ps->h, review_withdraw) &&
	    ps->h->review_withdraw(ps->s, ps->review_id, reason) == JG_ERROR)
		ps->h->log(PG_PLUGIN, ps->s, JG_LOG_WARN, "PG0403",
			   "review %s could not be withdrawn", ps->review_id);
	pg_record(ps, "review", a, 3);
	ps->h->metric_add(PG_PLUGIN, "reviews_withdrawn", 1);
}

void pg_guard_cancel_hold(struct pg_session *ps)
{
	uint8_t type;
	int ext;

	if (!ps->held || !ps->held_msg)
		return;
	type = ps->held_msg[0];
	ext = ps->held_ext;
	ps->h->log(PG_PLUGIN, ps->s, JG_LOG_INFO, "PG0402",
		   "held statement (review %s) withdrawn by cancel",
		   ps->review_id);
	withdraw(ps, "canceled by the client");
	deny_held(ps, type, ext, "57014",
		  "canceling statement due to user request",
		  "The statement was waiting for review and was not run; "
		  "the review is withdrawn.");
	release_hold(ps);
	pg_relay_resume(ps);
}

void pg_guard_drop_hold(struct pg_session *ps, const char *reason)
{
	if (!ps->held)
		return;
	ps->h->log(PG_PLUGIN, ps->s, JG_LOG_INFO, "PG0404",
		   "held statement (review %s) withdrawn: %s", ps->review_id,
		   reason);
	withdraw(ps, reason);
	release_hold(ps);
}

/*
 * Hold bytes (whole messages; ext: a pipeline ending in its own Sync)
 * for review.  0: held; 1: refused (the client gets the error).
 */
int pg_hold(struct pg_session *ps, const uint8_t *msg, size_t n, int ext,
	    const char *text, const struct jg_attr *a, size_t na,
	    const struct jg_decision *d)
{
	struct jg_action act = {
		.type = "sql", .attrs = a, .nattrs = na, .text = text};
	const char *id = NULL;
	char notice[400], hint[200];

	ps->held_msg = malloc(n);
	if (!ps->held_msg) {
		pg_fatal(ps, "53200", "out of memory", NULL);
		return -1;
	}
	memcpy(ps->held_msg, msg, n);
	ps->held_len = n;
	ps->held_ext = ext;
	ps->held = 1;
	if (ps->h->review_hold(ps->s, &act, d, review_done, ps, &id) !=
		    JG_AGAIN ||
	    !id) {
		release_hold(ps);
		deny_held(ps, msg[0], ext, "42501",
			  "the statement needs review, and the review could "
			  "not be created",
			  NULL);
		return 1;
	}
	snprintf(ps->review_id, sizeof(ps->review_id), "%s", id);
	mark_held(ps, 1);
	snprintf(notice, sizeof(notice),
		 "statement held for review %s (policy rule \"%s\")", id,
		 d->rule);
	snprintf(hint, sizeof(hint),
		 "An approver runs: jitgate review approve %s. Press Ctrl-C "
		 "to withdraw.",
		 id);
	pg_buf_reset(&ps->out);
	pg_build_error(&ps->out, 'N', "NOTICE", "01000", notice,
		       d->reason[0] ? d->reason : NULL, hint);
	pg_client_write(ps, ps->out.data, ps->out.len);
	pg_buf_reset(&ps->out);
	ps->h->metric_add(PG_PLUGIN, "statements_held", 1);
	/* The client's input stays buffered (the relay reads nothing while
	 * a statement is held) but reading goes on, so a client that
	 * leaves is noticed and its review withdrawn; a full buffer stops
	 * reading by itself. */
	return 0;
}

/* The parameters of a Bind body as "param" attributes, rendered into
 * store.  -1 if the Bind is malformed. */
static int bind_params(const uint8_t *b, size_t n, const char **stmt,
		       char (*store)[PG_PARAM_TEXT + 64], struct jg_attr *a,
		       size_t *na)
{
	struct pg_reader r;
	int16_t nf, np, i;
	int16_t fmt[PG_SHOW_PARAMS];
	int16_t fmt1 = 0;
	int32_t l;
	const uint8_t *v;

	pg_reader_init(&r, b, n);
	pg_get_str(&r, NULL);
	*stmt = pg_get_str(&r, NULL);
	nf = pg_get_i16(&r);
	if (nf < 0)
		return -1;
	for (i = 0; i < nf && !r.bad; i++) {
		int16_t f = pg_get_i16(&r);

		if (i == 0)
			fmt1 = f;
		if (i < PG_SHOW_PARAMS)
			fmt[i] = f;
	}
	np = pg_get_i16(&r);
	if (np < 0 || (nf > 1 && nf != np))
		return -1;
	*na = 0;
	for (i = 0; i < np && !r.bad; i++) {
		l = pg_get_i32(&r);
		if (l < -1)
			return -1;
		v = l > 0 ? pg_get_bytes(&r, (size_t)l) : NULL;
		if (r.bad)
			return -1;
		if (i < PG_SHOW_PARAMS) {
			int binary = nf == 0 ? 0 : nf == 1 ? fmt1 : fmt[i];

			pg_render_param(store[*na], sizeof(store[0]), i + 1, l,
					l > 0 ? v : (const uint8_t *)"",
					binary != 0);
			a[*na].key = "param";
			a[*na].value = store[*na];
			(*na)++;
		}
	}
	if (np > PG_SHOW_PARAMS) {
		snprintf(store[*na], sizeof(store[0]),
			 "... %d more parameters", np - PG_SHOW_PARAMS);
		a[*na].key = "param";
		a[*na].value = store[*na];
		(*na)++;
	}
	nf = pg_get_i16(&r);
	for (i = 0; i < nf && !r.bad; i++)
		pg_get_i16(&r);
	return r.bad || nf < 0 || pg_remaining(&r) != 0 || !*stmt ? -1 : 0;
}

static int valid_cstr(const uint8_t *p, size_t n)
{
	return n > 0 && memchr(p, 0, n) == p + n - 1;
}

/*
 * The approved run must be the only one: a statement left prepared
 * upstream could be bound again later with any parameters, by its
 * name or (the name read from pg_prepared_statements) by SQL EXECUTE.
 * So the held pipeline runs on the unnamed statement and the unnamed
 * portal, which SQL cannot name; the client's own names never exist
 * upstream, so a later Bind to them fails.  The unnamed statement
 * itself is guarded after the run (pg_guard_unnamed_use): libpq sends
 * no Close, and the run may stop at an error before any Close would
 * come.
 */

/* Message f with nnames C strings after skip bytes of its body sent
 * as "" (the strings were validated when gathered). */
static void add_unnamed(struct pg_buf *b, const struct pg_frame *f,
			size_t skip, int nnames)
{
	size_t off = pg_msg_begin(b, f->type), at = skip;

	pg_buf_add(b, f->body, skip);
	while (nnames-- > 0) {
		at += strlen((const char *)f->body + at) + 1;
		pg_buf_str(b, "");
	}
	pg_buf_add(b, f->body + at, f->body_len - at);
	pg_msg_end(b, off);
}

/* The whole messages in d[0..len) (validated by gather), statement
 * pstmt and portal portal unnamed, into buf. */
static int unname(const uint8_t *d, size_t len, const char *pstmt,
		  const char *portal, struct pg_buf *buf)
{
	size_t o;
	struct pg_frame f;
	const char *why, *name;

	pg_buf_reset(buf);
	for (o = 0; o < len; o += f.total) {
		if (pg_frame_typed(d + o, len - o, len, &f, &why) !=
		    PG_FRAME_OK)
			return -1;
		name = (const char *)f.body + 1;
		if (f.type == 'P' || f.type == 'E')
			add_unnamed(buf, &f, 0, 1);
		else if (f.type == 'B')
			add_unnamed(buf, &f, 0, 2);
		else if ((f.type == 'D' || f.type == 'C') &&
			 strcmp(name, f.body[0] == 'S' ? pstmt : portal) == 0)
			add_unnamed(buf, &f, 1, 1);
		else
			pg_buf_add(buf, d + o, f.total);
	}
	return buf->oom ? -1 : 0;
}

/*
 * What the server's unnamed statement may hold.  After an approved run
 * it may be the approved statement (TAINTED) until a Parse of the
 * unnamed statement or a simple Query replaces it: the server drops
 * the old one when it processes either, even one that then fails.  The
 * server skips everything after an error up to Sync, so a Parse or
 * Query only counts when no extended message went upstream since the
 * last Sync (PIPE).  Within a pipeline, after any Parse of the unnamed
 * statement (FRESH), a reference to it is to that Parse's statement, or
 * is skipped with it.
 */
void pg_guard_sent(struct pg_session *ps, const uint8_t *p, size_t n)
{
	switch (p[0]) {
	case 'P':
		if (n > 5 && p[5] == 0) {
			if (!(ps->unnamed_guard & UN_PIPE))
				ps->unnamed_guard &= ~UN_TAINTED;
			ps->unnamed_guard |= UN_FRESH;
		}
		ps->unnamed_guard |= UN_PIPE;
		break;
	case 'B':
	case 'C':
	case 'D':
	case 'E':
	case 'H':
		ps->unnamed_guard |= UN_PIPE;
		break;
	case 'S':
		ps->unnamed_guard &= ~(UN_PIPE | UN_FRESH);
		break;
	case 'Q':
		if (!(ps->unnamed_guard & UN_PIPE))
			ps->unnamed_guard &= ~UN_TAINTED;
		break;
	default:
		break;
	}
}

/* Refuse what the client sent (42501), recorded with reason: type 'P'
 * stands a Parse in for it, so the server skips the rest to Sync. */
int pg_refuse(struct pg_session *ps, uint8_t type, const char *reason,
	      const char *message, const char *detail)
{
	struct jg_attr a[2] = {{"decision", "deny"}, {"reason", reason}};

	pg_record(ps, "statement", a, 2);
	pg_deny(ps, type, "42501", message, detail);
	return 1;
}

int pg_guard_unnamed_use(struct pg_session *ps, const struct pg_frame *f)
{
	const uint8_t *stmt;
	const void *nul;

	if ((ps->unnamed_guard & (UN_TAINTED | UN_FRESH)) != UN_TAINTED)
		return 0;
	if (f->type == 'B') { /* portal, then statement (validated) */
		nul = memchr(f->body, 0, f->body_len);
		if (!nul)
			return 0;
		stmt = (const uint8_t *)nul + 1;
	} else if (f->type == 'D' && f->body_len >= 2 && f->body[0] == 'S') {
		stmt = f->body + 1;
	} else {
		return 0;
	}
	if (stmt >= f->body + f->body_len || *stmt != 0)
		return 0;
	return pg_refuse(ps, 'P', "reuse of a reviewed statement",
		      "the unnamed prepared statement ran a reviewed "
		      "statement and cannot be used again",
		      "An approval covers one run of the statement with its "
		      "parameters.  Parse a statement again (libpq's "
		      "PQexecParams does) to run it.");
}

/*
 * A Bind names the statement it runs, and the gateway decided that
 * statement when its Parse came.  But SQL PREPARE makes statements in
 * the same namespace without a Parse (and DEALLOCATE then PREPARE can
 * put another body under a name a Parse used), and what PREPARE made
 * the gateway cannot follow reliably from the wire (failed or skipped
 * statements, names the server folds or truncates otherwise).  So once
 * the session has sent SQL PREPARE or dynamic SQL (which can PREPARE
 * too), a Bind of a named statement is refused: fail closed.  Drivers
 * that prepare through Parse never meet this; a client that mixes both
 * can use unnamed statements or SQL EXECUTE (decided as dynamic).
 */
int pg_guard_named_use(struct pg_session *ps, const struct pg_frame *f)
{
	const void *nul;

	if (!ps->sql_prepared || f->type != 'B')
		return 0;
	nul = memchr(f->body, 0, f->body_len); /* the portal (validated) */
	if (!nul || (const uint8_t *)nul + 1 >= f->body + f->body_len ||
	    *((const uint8_t *)nul + 1) == 0)
		return 0; /* the unnamed statement: its Parse was decided */
	return pg_refuse(ps, 'P', "bind of a named statement after SQL PREPARE",
		      "this session ran SQL PREPARE or dynamic SQL, so "
		      "jitgate cannot tell what a named prepared statement "
		      "runs",
		      "Prepare statements with the protocol's Parse (as "
		      "drivers do) in a session without SQL PREPARE, or use "
		      "the unnamed statement.");
}

/*
 * A Parse that needs review is held with the rest of its pipeline, up
 * to and including Sync: its one Bind (whose parameters the approver
 * sees and the approval binds), Describe, Execute, Close, Flush.  Those
 * are already in the client's buffer behind the Parse (libpq and the
 * drivers send them in one write).  Returns the bytes to run in buf
 * (statement and portal unnamed: unname), *rest the bytes after the
 * Parse, the Bind's parameters in a; 0 when the buffer holds no such
 * pipeline.
 */
static int gather(struct pg_session *ps, const uint8_t *msg, size_t n,
		  struct pg_buf *buf, size_t *rest,
		  char (*store)[PG_PARAM_TEXT + 64], struct jg_attr *a,
		  size_t *na)
{
	const uint8_t *d;
	size_t len, off = n, nmsgs = 1, nbind = 0, nexec = 0;
	struct pg_frame f;
	struct pg_reader r;
	const char *why = NULL, *pstmt, *bstmt = NULL, *portal = NULL, *e;

	len = ps->h->stream_peek(ps->client, &d);
	if (d != msg || len < n)
		return 0;
	pg_reader_init(&r, msg + 5, n - 5);
	pstmt = pg_get_str(&r, NULL);
	if (!pstmt)
		return 0;
	for (;;) {
		if (pg_frame_typed(d + off, len - off, ps->in->max_message, &f,
				   &why) != PG_FRAME_OK ||
		    ++nmsgs > PG_HOLD_MAX_MSGS)
			return 0;
		switch (f.type) {
		case 'B':
			if (nbind++ ||
			    bind_params(f.body, f.body_len, &bstmt, store, a,
					na) < 0 ||
			    strcmp(bstmt, pstmt) != 0)
				return 0;
			portal = (const char *)f.body; /* checked: a string */
			break;
		case 'E':
			/* only the bound portal: unname() renames every
			 * Execute */
			pg_reader_init(&r, f.body, f.body_len);
			e = pg_get_str(&r, NULL);
			pg_get_i32(&r);
			if (r.bad || pg_remaining(&r) != 0 || !nbind ||
			    strcmp(e, portal) != 0)
				return 0;
			nexec++;
			break;
		case 'D':
		case 'C':
			if (f.body_len < 2 ||
			    (f.body[0] != 'S' && f.body[0] != 'P') ||
			    !valid_cstr(f.body + 1, f.body_len - 1))
				return 0;
			break;
		case 'H':
		case 'S':
			if (f.body_len != 0)
				return 0;
			break;
		default:
			return 0;
		}
		off += f.total;
		if (f.type == 'S')
			break;
	}
	if (nbind != 1 || nexec == 0 || unname(d, off, pstmt, portal, buf))
		return 0;
	*rest = off - n;
	return 1;
}

/* A Parse that needs review: hold it with its Bind, Execute and Sync. */
int pg_hold_parse(struct pg_session *ps, const uint8_t *msg, size_t n,
		  const char *sql, const struct jg_attr *ra, size_t nra,
		  const struct jg_decision *d)
{
	struct jg_attr a[PG_MAX_ATTRS + PG_SHOW_PARAMS + 1];
	char store[PG_SHOW_PARAMS + 1][PG_PARAM_TEXT + 64];
	struct pg_buf buf;
	size_t na = 0, rest = 0, i;
	int rc;

	pg_buf_init(&buf);
	if (!gather(ps, msg, n, &buf, &rest, store, a + nra, &na)) {
		pg_buf_free(&buf);
		/* Fail closed: an approval must cover the exact parameters
		 * and one run, which a statement prepared now and bound
		 * later would escape. */
		pg_deny(ps, 'P', "42501",
			"a statement that needs review must arrive with its "
			"Bind, Execute and Sync in one pipeline",
			"The approval covers the statement's text and "
			"parameters and one run (libpq's PQexecParams, or a "
			"simple query, send it so); a statement prepared now "
			"and executed later cannot be reviewed.");
		return 1;
	}
	for (i = 0; i < nra; i++)
		a[i] = ra[i];
	rc = pg_hold(ps, buf.data, buf.len, 1, sql, a, nra + na, d);
	pg_buf_free(&buf);
	/* Held or refused with its own Sync: the rest of the pipeline is
	 * ours.  The relay consumes the Parse's n bytes when this returns,
	 * from the front, so taking rest bytes now makes the two add up to
	 * the whole pipeline.  (sql and msg point into that buffer: not
	 * used after this.) */
	if (rc >= 0 && ps->state == ST_RELAY)
		ps->h->stream_consume(ps->client, rest);
	return rc;
}

