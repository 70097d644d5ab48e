/*
 * The running session: every frontend message is framed and checked
 * before any of it goes upstream; backend messages go back as they come,
 * in batches, and only the ones masking or denials change are rebuilt.
 */
#include "pg_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg_cancel.h"

/* A backend message may legitimately be large (a wide row); 1 GiB is
 * PostgreSQL's own limit for one value. */
#define PG_MAX_BACKEND (1U << 30)

/* The text our denials send upstream in place of a statement: it cannot
 * parse, so the server raises an error at the right place in its
 * response stream and skips to Sync itself; we rewrite that error. */
#define PG_DENY_MARKER "jitgate_denied_4b1d"

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Output is queued per direction and written once per event-loop
 * callback (pg_flush from pg_leave): one send for a Bind/Execute/Sync
 * pipeline instead of one per message, so the peers wake once. */
#define PG_QUEUE_FLUSH (64U << 10)

void pg_flush(struct pg_session *ps)
{
	int rc;

	if (ps->state == ST_DONE) {
		pg_buf_reset(&ps->upq);
		pg_buf_reset(&ps->cq);
		return;
	}
	if (ps->upq.len && ps->up) {
		rc = ps->h->stream_write(ps->up, ps->upq.data, ps->upq.len);
		if (rc == JG_AGAIN)
			ps->h->stream_read_enable(ps->client, 0);
	}
	pg_buf_reset(&ps->upq);
	if (ps->cq.len) {
		rc = ps->h->stream_write(ps->client, ps->cq.data, ps->cq.len);
		if (rc == JG_AGAIN && ps->up)
			ps->h->stream_read_enable(ps->up, 0);
	}
	pg_buf_reset(&ps->cq);
}

int pg_client_write(struct pg_session *ps, const void *p, size_t n)
{
	pg_buf_add(&ps->cq, p, n);
	if (ps->cq.oom)
		return -1;
	if (ps->cq.len > PG_QUEUE_FLUSH)
		pg_flush(ps);
	return 0;
}

void pg_send_upstream_frame(struct pg_session *ps, const uint8_t *p, size_t n)
{
	if (pg_copy_sent(ps, p, n) < 0)
		return; /* refused in its place */
	pg_guard_sent(ps, p, n);
	/* each of these ends in exactly one ReadyForQuery */
	if (p[0] == 'Q' || p[0] == 'S' || p[0] == 'F')
		ps->rfq_sent++;
	pg_buf_add(&ps->upq, p, n);
	if (ps->upq.len > PG_QUEUE_FLUSH)
		pg_flush(ps);
}

void pg_fatal(struct pg_session *ps, const char *sqlstate,
	      const char *message, const char *detail)
{
	if (ps->state == ST_DONE)
		return;
	pg_flush(ps); /* what was already answered goes first */
	pg_buf_reset(&ps->out);
	pg_build_error(&ps->out, 'E', "FATAL", sqlstate, message, detail,
		       NULL);
	if (!ps->out.oom)
		ps->h->stream_write(ps->client, ps->out.data, ps->out.len);
	pg_buf_reset(&ps->out);
	ps->h->log(PG_PLUGIN, ps->s, JG_LOG_INFO, "PG0001",
		   "session refused: %s %s", sqlstate, message);
	ps->state = ST_DONE;
	ps->h->stream_shutdown(ps->client);
	ps->h->session_end(ps->s, message);
}

void pg_deny(struct pg_session *ps, uint8_t type, const char *sqlstate,
	     const char *message, const char *detail)
{
	struct pg_replace *r = calloc(1, sizeof(*r)), **pp;
	size_t off;

	if (!r || !(r->message = strdup(message)) ||
	    (detail && !(r->detail = strdup(detail)))) {
		if (r)
			free(r->message);
		free(r);
		pg_fatal(ps, "53200", "out of memory", NULL);
		return;
	}
	snprintf(r->sqlstate, sizeof(r->sqlstate), "%s", sqlstate);
	r->epoch = ps->rfq_sent;
	for (pp = &ps->repl; *pp; pp = &(*pp)->next)
		;
	*pp = r;
	ps->h->metric_add(PG_PLUGIN, "statements_denied", 1);
	pg_buf_reset(&ps->out);
	if (type == 'P') {
		off = pg_msg_begin(&ps->out, 'P');
		pg_buf_str(&ps->out, "");
		pg_buf_str(&ps->out, PG_DENY_MARKER);
		pg_buf_i16(&ps->out, 0);
	} else {
		off = pg_msg_begin(&ps->out, 'Q');
		pg_buf_str(&ps->out, PG_DENY_MARKER);
	}
	pg_msg_end(&ps->out, off);
	if (!ps->out.oom)
		pg_send_upstream_frame(ps, ps->out.data, ps->out.len);
	pg_buf_reset(&ps->out);
}

/* ---- frontend ---- */

static int valid_cstr(const uint8_t *p, size_t n)
{
	return n > 0 && memchr(p, 0, n) == p + n - 1;
}

/* Structure checks for the extended-protocol messages. */
static int valid_bind(const uint8_t *b, size_t n)
{
	struct pg_reader r;
	int16_t i, nf, np;
	int32_t l;

	pg_reader_init(&r, b, n);
	pg_get_str(&r, NULL);
	pg_get_str(&r, NULL);
	nf = pg_get_i16(&r);
	for (i = 0; i < nf && !r.bad; i++)
		pg_get_i16(&r);
	np = pg_get_i16(&r);
	for (i = 0; i < np && !r.bad; i++) {
		l = pg_get_i32(&r);
		if (l < -1)
			return 0;
		if (l > 0)
			pg_get_bytes(&r, (size_t)l);
	}
	nf = pg_get_i16(&r);
	for (i = 0; i < nf && !r.bad; i++)
		pg_get_i16(&r);
	return !r.bad && nf >= 0 && np >= 0 && pg_remaining(&r) == 0;
}

static int valid_frontend(const struct pg_frame *f, const char **sql,
			  const char **why)
{
	struct pg_reader r;
	int16_t i, np;

	*why = "malformed message";
	pg_reader_init(&r, f->body, f->body_len);
	switch (f->type) {
	case 'Q':
		if (!valid_cstr(f->body, f->body_len))
			return 0;
		*sql = (const char *)f->body;
		return 1;
	case 'P':
		pg_get_str(&r, NULL);
		*sql = pg_get_str(&r, NULL);
		np = pg_get_i16(&r);
		for (i = 0; i < np && !r.bad; i++)
			pg_get_i32(&r);
		return !r.bad && np >= 0 && pg_remaining(&r) == 0;
	case 'B':
		return valid_bind(f->body, f->body_len);
	case 'D':
	case 'C':
		return f->body_len >= 2 &&
		       (f->body[0] == 'S' || f->body[0] == 'P') &&
		       valid_cstr(f->body + 1, f->body_len - 1);
	case 'E':
		pg_get_str(&r, NULL);
		pg_get_i32(&r);
		return !r.bad && pg_remaining(&r) == 0;
	case 'S':
	case 'H':
	case 'X':
	case 'c':
		return f->body_len == 0;
	case 'f':
		return valid_cstr(f->body, f->body_len);
	case 'd':
		return 1;
	case 'F':
		return f->body_len >= 4;
	default:
		*why = "unknown message type";
		return 0;
	}
}

/* One frontend message.  1: handled, 0: held for review, -1: ended. */
static int client_message(struct pg_session *ps, const struct pg_frame *f,
			  const uint8_t *msg)
{
	const char *sql = NULL, *why = NULL;
	char text[64];

	if (!pg_frontend_type_known(f->type) ||
	    !valid_frontend(f, &sql, &why)) {
		snprintf(text, sizeof(text), "%s (type 0x%02x)", why, f->type);
		pg_fatal(ps, "08P01", text, NULL);
		return -1;
	}
	switch (f->type) {
	case 'd':
	case 'c':
	case 'f':
		if (!ps->copy_in) {
			pg_fatal(ps, "08P01", "COPY data outside COPY", NULL);
			return -1;
		}
		if (f->type != 'd')
			ps->copy_in = 0;
		break;
	case 'Q':
		return pg_guard_query(ps, msg, f->total, sql);
	case 'P':
		return pg_guard_parse(ps, msg, f->total, sql);
	case 'F':
		return pg_guard_function_call(ps, msg, f->total,
					      be32(f->body));
	case 'B':
	case 'D':
		if (pg_guard_unnamed_use(ps, f) || pg_guard_named_use(ps, f))
			return 1;
		break;
	case 'X':
		pg_send_upstream_frame(ps, msg, f->total);
		pg_flush(ps);
		ps->state = ST_DONE;
		ps->h->stream_shutdown(ps->up);
		ps->h->session_end(ps->s, "client terminated");
		return -1;
	default:
		break;
	}
	pg_send_upstream_frame(ps, msg, f->total);
	return 1;
}

int pg_relay_client_input(struct pg_session *ps)
{
	const uint8_t *d;
	size_t n;
	struct pg_frame f;
	const char *why = NULL;
	int fr, rc;

	while (ps->state == ST_RELAY && !ps->held) {
		n = ps->h->stream_peek(ps->client, &d);
		fr = pg_frame_typed(d, n, ps->in->max_message, &f, &why);
		if (fr == PG_FRAME_MORE)
			return 0;
		if (fr == PG_FRAME_BAD) {
			pg_fatal(ps, "08P01", why, NULL);
			return -1;
		}
		rc = client_message(ps, &f, d);
		if (rc < 0)
			return -1;
		ps->h->stream_consume(ps->client, f.total);
		if (ps->up && ps->h->stream_pending(ps->up) > ps->in->max_message)
			break; /* on_drained resumes */
	}
	return 0;
}

/* ---- backend ---- */

static int host_mask(void *ud, const char *column, const char *in, size_t len,
		     const char **out, size_t *outlen, int *changed)
{
	struct pg_session *ps = ud;

	return ps->h->mask_value(ps->s, column, in, len, out, outlen,
				 changed) == JG_OK
		       ? 0
		       : -1;
}

static void pop_replacement(struct pg_session *ps)
{
	struct pg_replace *r = ps->repl;

	ps->repl = r->next;
	free(r->message);
	free(r->detail);
	free(r);
}

/* Our denial's stand-in error: rewrite it as the denial. */
static int replaced_error(struct pg_session *ps, const struct pg_frame *f)
{
	const char *m = pg_error_field(f->body, f->body_len, 'M');
	struct pg_replace *r = ps->repl;

	if (!r || r->epoch != ps->rfq_seen || !m || !strstr(m, PG_DENY_MARKER))
		return 0;
	pg_buf_reset(&ps->out);
	pg_build_error(&ps->out, 'E', "ERROR", r->sqlstate, r->message,
		       r->detail, NULL);
	pop_replacement(ps);
	return 1;
}

static void record_result(struct pg_session *ps, const struct pg_frame *f)
{
	struct jg_attr a[2];

	if (f->type == 'C' && valid_cstr(f->body, f->body_len)) {
		a[0].key = "tag";
		a[0].value = (const char *)f->body;
		pg_record(ps, "result", a, 1);
	} else if (f->type == 'E') {
		a[0].key = "sqlstate";
		a[0].value = pg_error_field(f->body, f->body_len, 'C') ?: "";
		a[1].key = "message";
		a[1].value = pg_error_field(f->body, f->body_len, 'M') ?: "";
		pg_record(ps, "error", a, 2);
	}
}

/*
 * Column rules match a value by its column's name, so a DataRow whose
 * columns cannot be named (no RowDescription came for its result, as
 * when a client executes a statement it described in an earlier round
 * trip, or one that disagrees with the row, or a table column the
 * incomplete catalog could not name) would slip past them.  While a
 * masking profile applies, such a row is not sent: the session ends
 * with an error (fail closed).  0: the session ended.
 */
static int rows_named(struct pg_session *ps, const struct pg_frame *f)
{
	uint16_t n;

	if (!ps->masking)
		return 1;
	n = f->body_len >= 2 ? (uint16_t)(f->body[0] << 8 | f->body[1]) : 0;
	if (ps->rd_valid && !ps->rd_unnamed && ps->rd.n == n)
		return 1;
	ps->h->metric_add(PG_PLUGIN, "rows_unnamed", 1);
	ps->h->log(PG_PLUGIN, ps->s, JG_LOG_WARN, "PG0302",
		   "a result row arrived whose columns the gateway cannot "
		   "name (%s) while masking applies: session ended",
		   !ps->rd_valid	 ? "no RowDescription for its result"
		   : ps->rd_unnamed ? "the catalog of column names is "
				      "incomplete"
				    : "its column count differs");
	pg_fatal(ps, "42501",
		 "masking applies to this session and the gateway cannot "
		 "name the columns of this result, so its rows are not sent",
		 "Describe the statement or portal in the same round trip "
		 "as Execute (libpq does), or ask for a policy without "
		 "masking.");
	return 0;
}

/* The message ends a result (and any COPY): CommandComplete,
 * EmptyQueryResponse, PortalSuspended, NoData, ErrorResponse,
 * ReadyForQuery.  (A switch: this runs for every row of a masked
 * result.) */
static int ends_result(uint8_t type)
{
	switch (type) {
	case 'C':
	case 'I':
	case 's':
	case 'n':
	case 'E':
	case 'Z':
		return 1;
	default:
		return 0;
	}
}

/*
 * A whole backend message we look at.  Returns 0 with the bytes to send
 * in out and outlen (the original or ps->out), or -1 when the session
 * ended.
 */
static int backend_message(struct pg_session *ps, const struct pg_frame *f,
			   const uint8_t *msg, const uint8_t **out,
			   size_t *outlen)
{
	const char *why = NULL;
	int changed = 0;

	*out = msg;
	*outlen = f->total;
	/* the rows of one result run from its RowDescription to the
	 * message that ends it: a later DataRow needs a new description */
	if (ends_result(f->type)) {
		ps->rd_valid = 0;
		pg_copy_end(ps); /* a COPY ends with its CopyDone, or these */
	}
	if (f->type == 'S' || f->type == 'C')
		pg_copy_backend(ps, f); /* client_encoding, DDL */
	if (f->type == 'S')
		pg_guard_parameter(ps, f);
	switch (f->type) {
	case 'Z':
		if (f->body_len != 1)
			goto bad;
		ps->rfq_seen++;
		ps->txstatus = f->body[0];
		ps->copy_in = 0;
		while (ps->repl && ps->repl->epoch < ps->rfq_seen)
			pop_replacement(ps);
		return 0;
	case 'E':
		ps->copy_in = 0;
		if (replaced_error(ps, f)) {
			*out = ps->out.data;
			*outlen = ps->out.len;
			return 0;
		}
		record_result(ps, f);
		break;
	case 'C':
		record_result(ps, f);
		return 0;
	case 'T':
		pg_rowdesc_free(&ps->rd);
		if (pg_rowdesc_parse(&ps->rd, f->body, f->body_len, &why) < 0)
			goto bad;
		/* a table the catalog did not list while it was complete was
		 * created since the session began: its result names stand;
		 * with an incomplete catalog the name is unknown */
		ps->rd_unnamed = pg_rowdesc_qualify(&ps->rd, &ps->cat) &&
				 (ps->cat.failed || ps->cat.truncated);
		ps->rd_valid = 1;
		return 0;
	case 'G':
		ps->copy_in = 1;
		return 0;
	case 'H':
		if (!ps->masking)
			return 0;
		if (f->body_len >= 1 && f->body[0] == 1) {
			pg_fatal(ps, "42501",
				 "binary COPY is refused while masking applies",
				 NULL);
			return -1;
		}
		return pg_copy_out_start(ps, f);
	case 'c':
		if (!ps->copy || !ps->copy->active)
			return 0;
		if (pg_copy_out_message(ps, f, msg, 1, out, outlen, &why) < 0)
			goto bad;
		pg_copy_end(ps);
		return 0;
	case 'W':
		pg_fatal(ps, "0A000", "replication is not supported", NULL);
		return -1;
	case 'D':
		if (!rows_named(ps, f))
			return -1;
		if ((JG_HOST_HAS(ps->h, mask_values)
			     ? pg_datarow_mask_values(&ps->rd, f->body,
						      f->body_len,
						      pg_mask_values_host, ps,
						      &ps->out, &changed, &why)
			     : pg_datarow_mask(&ps->rd, f->body, f->body_len,
					       host_mask, ps, &ps->out,
					       &changed, &why)) < 0)
			goto bad;
		if (changed) {
			*out = ps->out.data;
			*outlen = ps->out.len;
		}
		return 0;
	case 'd':
		if (pg_copy_out_message(ps, f, msg, 0, out, outlen, &why) < 0)
			goto bad;
		return 0;
	default:
		break;
	}
	/* N, A, S and the remaining E go through the value detectors */
	if (ps->masking && strchr("NASE", f->type)) {
		if (pg_text_msg_mask(f->type, f->body, f->body_len, host_mask,
				     ps, &ps->out, &changed, &why) < 0)
			goto bad;
		if (changed) {
			*out = ps->out.data;
			*outlen = ps->out.len;
		}
	}
	return 0;
bad:
	ps->h->log(PG_PLUGIN, ps->s, JG_LOG_WARN, "PG0301",
		   "backend message '%c' not relayed: %s", f->type,
		   why ? why : "malformed");
	pg_fatal(ps, "08P01", "the gateway could not relay a server message",
		 why);
	return -1;
}

/* Types the relay must see whole; the rest stream through. */
static int needs_whole(const struct pg_session *ps, uint8_t type)
{
	switch (type) {
	case 'Z':
	case 'E':
	case 'C':
	case 'G':
	case 'H':
	case 'W':
	/* a description is read even while nothing is masked yet: a
	 * statement decided later may turn masking on for the rows of
	 * results already described; the others end a result */
	case 'T':
	case 'I':
	case 's':
	case 'n':
	case 'S': /* client_encoding, for COPY masking (pg_copy.h) */
		return 1;
	case 'D':
	case 'd':
	case 'N':
	case 'A':
		return ps->masking;
	case 'c':
		return ps->copy && ps->copy->active;
	default:
		return 0;
	}
}

static int flush_run(struct pg_session *ps, const uint8_t *p, size_t n)
{
	if (n == 0)
		return 0;
	if (pg_client_write(ps, p, n) < 0)
		return -1;
	ps->h->stream_consume(ps->up, n);
	return 0;
}

int pg_relay_upstream_input(struct pg_session *ps)
{
	const uint8_t *d, *out;
	size_t n, run, outlen, take;
	struct pg_frame f;
	uint32_t len;
	const char *why = NULL;
	int fr, rebuilt;

	while (ps->state == ST_RELAY) {
		n = ps->h->stream_peek(ps->up, &d);
		run = 0;
		rebuilt = 0;
		/*
		 * Batch every byte that goes out as it came into one write:
		 * messages streamed through without a look, and whole ones
		 * (a masked result's rows) that nothing changed.  A rebuilt
		 * message ends the batch.  (When a message ends the session,
		 * the batch before it is dropped with it: the client gets
		 * the error, not rows of a result that cannot complete.)
		 */
		while (run < n) {
			if (ps->passthru) {
				take = n - run < ps->passthru ? n - run
							      : ps->passthru;
				run += take;
				ps->passthru -= take;
				continue;
			}
			if (n - run < 5)
				break;
			if (!needs_whole(ps, d[run])) {
				len = be32(d + run + 1);
				if (len < 4 || len > PG_MAX_BACKEND) {
					pg_fatal(ps, "08P01",
						 "bad message length from the "
						 "server",
						 NULL);
					return -1;
				}
				run += 5;
				ps->passthru = len - 4;
				continue;
			}
			fr = pg_frame_typed(d + run, n - run, PG_MAX_BACKEND,
					    &f, &why);
			if (fr == PG_FRAME_MORE)
				break;
			if (fr == PG_FRAME_BAD) {
				pg_fatal(ps, "08P01", why, NULL);
				return -1;
			}
			if (backend_message(ps, &f, d + run, &out, &outlen) < 0)
				return -1;
			if (out == d + run) {
				run += f.total;
				continue;
			}
			if (flush_run(ps, d, run) < 0 ||
			    pg_client_write(ps, out, outlen) < 0)
				return -1;
			ps->h->stream_consume(ps->up, f.total);
			pg_buf_reset(&ps->out);
			run = 0;
			rebuilt = 1;
			break;
		}
		if (flush_run(ps, d, run) < 0)
			return -1;
		if (!run && !rebuilt)
			return 0; /* the rest of a message is still to come */
		if (ps->h->stream_pending(ps->client) > (1U << 20))
			break; /* on_drained resumes */
	}
	return 0;
}

void pg_relay_resume(struct pg_session *ps)
{
	if (ps->state != ST_RELAY)
		return;
	if (ps->up)
		ps->h->stream_read_enable(ps->up, 1);
	/* also while a statement is held: its messages wait unread in the
	 * stream (bounded by its buffer), and a client that goes away is
	 * noticed at once, so the review is withdrawn then */
	ps->h->stream_read_enable(ps->client, 1);
	if (pg_relay_upstream_input(ps) < 0)
		return;
	pg_relay_client_input(ps);
}
