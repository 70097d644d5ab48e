/*
 * store_postgres SQL: versioned migrations and one statement per
 * operation, each sent with PQsendQueryParams (no text is ever spliced
 * into SQL except the schema name, which is checked to be an identifier).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "pg_store.h"
#include "record_buf.h"

/*
 * Migrations, applied in order, each once, recorded in
 * SCHEMA.schema_migrations.  Append new ones; never edit an old one.
 * "@" stands for the schema name.
 */
static const char *const migrations[] = {
	/* 1: records and documents */
	"CREATE TABLE @.events ("
	" sid text NOT NULL, seq bigint NOT NULL, event text NOT NULL,"
	" at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (sid, seq));"
	"CREATE INDEX events_at ON @.events (at);"
	"CREATE TABLE @.docs ("
	" coll text NOT NULL, id text NOT NULL, version bigint NOT NULL,"
	" doc text NOT NULL, updated timestamptz NOT NULL DEFAULT now(),"
	" PRIMARY KEY (coll, id));",
	NULL,
};

static void put_schema(struct rbuf *b, const char *text, const char *schema)
{
	for (; *text; text++) {
		if (*text == '@')
			rbuf_str(b, schema);
		else
			rbuf_put(b, text, 1);
	}
}

char *sql_migrations(const char *schema)
{
	struct rbuf b = {0};
	char line[200];

	/* One simple-protocol script: two gateways starting together
	 * serialise on the advisory lock, and the second finds the work
	 * done. */
	rbuf_str(&b, "BEGIN;");
	snprintf(line, sizeof(line),
		 "SELECT pg_advisory_xact_lock(hashtext('jitgate-migrate-%s'));",
		 schema);
	rbuf_str(&b, line);
	put_schema(&b,
		   "CREATE SCHEMA IF NOT EXISTS @;"
		   "CREATE TABLE IF NOT EXISTS @.schema_migrations ("
		   " version int PRIMARY KEY,"
		   " applied_at timestamptz NOT NULL DEFAULT now());",
		   schema);
	for (int i = 0; migrations[i]; i++) {
		snprintf(line, sizeof(line),
			 "DO $jg$ BEGIN IF NOT EXISTS (SELECT 1 FROM "
			 "%s.schema_migrations WHERE version = %d) THEN ",
			 schema, i + 1);
		rbuf_str(&b, line);
		put_schema(&b, migrations[i], schema);
		snprintf(line, sizeof(line),
			 " INSERT INTO %s.schema_migrations (version) VALUES "
			 "(%d); END IF; END $jg$;",
			 schema, i + 1);
		rbuf_str(&b, line);
	}
	rbuf_str(&b, "COMMIT;");
	return rbuf_take(&b);
}

int req_idempotent(const struct pg_req *r)
{
	return r->kind != RQ_PUT && r->kind != RQ_REMOVE;
}

/* The statements; "@" is the schema, "%c" the notify channel. */
static const char *const q_append =
	"INSERT INTO @.events (sid, seq, event) VALUES ($1, $2, $3) "
	"ON CONFLICT DO NOTHING";
static const char *const q_read =
	"SELECT event FROM @.events WHERE sid = $1 ORDER BY seq";
static const char *const q_create =
	"WITH i AS (INSERT INTO @.docs (coll, id, version, doc) "
	" VALUES ($1, $2, 1, $3) ON CONFLICT DO NOTHING RETURNING version),"
	" n AS (SELECT version, pg_notify('%c', $1 || ' ' || $2 || ' ' ||"
	" version) FROM i) "
	"SELECT 1, version FROM n UNION ALL SELECT 0, version FROM @.docs "
	"WHERE coll = $1 AND id = $2 AND NOT EXISTS (SELECT 1 FROM i)";
static const char *const q_update =
	"WITH u AS (UPDATE @.docs SET version = version + 1, doc = $3,"
	" updated = now() WHERE coll = $1 AND id = $2 AND version = $4"
	" RETURNING version),"
	" n AS (SELECT version, pg_notify('%c', $1 || ' ' || $2 || ' ' ||"
	" version) FROM u) "
	"SELECT 1, version FROM n UNION ALL SELECT 0, version FROM @.docs "
	"WHERE coll = $1 AND id = $2 AND NOT EXISTS (SELECT 1 FROM u)";
static const char *const q_remove =
	"WITH d AS (DELETE FROM @.docs WHERE coll = $1 AND id = $2"
	" AND ($3::bigint = 0 OR version = $3::bigint) RETURNING version),"
	" n AS (SELECT pg_notify('%c', $1 || ' ' || $2 || ' 0') FROM d) "
	"SELECT 1, 0 FROM n UNION ALL SELECT 0, version FROM @.docs "
	"WHERE coll = $1 AND id = $2 AND NOT EXISTS (SELECT 1 FROM d)";
static const char *const q_get =
	"SELECT version, doc FROM @.docs WHERE coll = $1 AND id = $2";
static const char *const q_list =
	"SELECT id, version, doc FROM @.docs WHERE coll = $1 ORDER BY id";
static const char *const q_list_records =
	"SELECT sid, sum(length(event)), count(*),"
	" (extract(epoch FROM max(at)) * 1000)::bigint FROM @.events "
	"GROUP BY sid ORDER BY min(at)";
static const char *const q_retain =
	"DELETE FROM @.events WHERE sid IN (SELECT sid FROM @.events "
	"GROUP BY sid HAVING max(at) < now() - $1::bigint * interval '1 ms')";

static char *expand(const char *q, const struct pgs *st)
{
	struct rbuf b = {0};
	for (; *q; q++) {
		if (*q == '@')
			rbuf_str(&b, st->schema);
		else if (q[0] == '%' && q[1] == 'c') {
			rbuf_str(&b, st->channel);
			q++;
		} else
			rbuf_put(&b, q, 1);
	}
	return rbuf_take(&b);
}

int sql_send(struct pg_conn *c, struct pg_req *r)
{
	const char *q = NULL, *p[4] = {0};
	char n1[32], n2[32];
	int np = 0;

	switch (r->kind) {
	case RQ_APPEND:
		snprintf(n1, sizeof(n1), "%" PRId64, r->seq);
		q = q_append;
		p[0] = r->id, p[1] = n1, p[2] = r->data, np = 3;
		break;
	case RQ_READ:
		q = q_read, p[0] = r->id, np = 1;
		break;
	case RQ_PUT:
		p[0] = r->coll, p[1] = r->id, p[2] = r->data, np = 3;
		q = q_create;
		if (r->version) {
			snprintf(n1, sizeof(n1), "%" PRIu64, r->version);
			p[3] = n1, np = 4, q = q_update;
		}
		break;
	case RQ_REMOVE:
		snprintf(n1, sizeof(n1), "%" PRIu64, r->version);
		q = q_remove, p[0] = r->coll, p[1] = r->id, p[2] = n1, np = 3;
		break;
	case RQ_GET:
		q = q_get, p[0] = r->coll, p[1] = r->id, np = 2;
		break;
	case RQ_LIST:
		q = q_list, p[0] = r->coll, np = 1;
		break;
	case RQ_LIST_RECORDS:
		q = q_list_records;
		break;
	case RQ_RETAIN:
		snprintf(n2, sizeof(n2), "%" PRId64, c->st->retention_age_ms);
		q = q_retain, p[0] = n2, np = 1;
		break;
	}
	char *sql = expand(q, c->st);
	if (!sql)
		return -1;
	int ok = PQsendQueryParams(c->pq, sql, np, NULL, p, NULL, NULL, 0);
	free(sql);
	return ok ? 0 : -1;
}

static void set_err(struct pg_req *r, const char *what, PGresult *res)
{
	const char *m = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
			    : NULL;
	r->status = JG_ERROR;
	snprintf(r->err, sizeof(r->err), "%s: %s", what,
		 m ? m : "database error");
}

/* Build a JSON array from rows; col: which column holds an event, or -1
 * for documents {"id","version","doc"}, -2 for record summaries. */
static char *rows_json(PGresult *res, int mode)
{
	struct rbuf b = {0};
	char head[400];
	int n = PQntuples(res);

	rbuf_put(&b, "[", 1);
	for (int i = 0; i < n; i++) {
		if (i)
			rbuf_put(&b, ",", 1);
		if (mode == 0) {
			rbuf_str(&b, PQgetvalue(res, i, 0));
		} else if (mode == 1) {
			snprintf(head, sizeof(head),
				 "{\"id\":\"%s\",\"version\":%s,\"doc\":",
				 PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
			rbuf_str(&b, head);
			rbuf_str(&b, PQgetvalue(res, i, 2));
			rbuf_put(&b, "}", 1);
		} else {
			snprintf(head, sizeof(head),
				 "{\"id\":\"%s\",\"size\":%s,\"events\":%s,"
				 "\"updated\":%s}",
				 PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
				 PQgetvalue(res, i, 2), PQgetvalue(res, i, 3));
			rbuf_str(&b, head);
		}
	}
	rbuf_put(&b, "]", 1);
	return rbuf_take(&b);
}

void sql_result(struct pg_req *r, PGresult *res)
{
	ExecStatusType s = PQresultStatus(res);

	if (s != PGRES_TUPLES_OK && s != PGRES_COMMAND_OK) {
		set_err(r, "store_postgres", res);
		return;
	}
	r->status = JG_OK;
	switch (r->kind) {
	case RQ_APPEND:
	case RQ_RETAIN:
		break;
	case RQ_READ:
		if (PQntuples(res) == 0) {
			r->status = JG_DECLINED;
			snprintf(r->err, sizeof(r->err), "no such record");
			break;
		}
		r->result = rows_json(res, 0);
		break;
	case RQ_PUT:
	case RQ_REMOVE:
		if (PQntuples(res) == 1 &&
		    strcmp(PQgetvalue(res, 0, 0), "1") == 0) {
			r->version = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
			break;
		}
		r->status = JG_DECLINED;
		r->version = PQntuples(res) == 1
				     ? strtoull(PQgetvalue(res, 0, 1), NULL, 10)
				     : 0;
		snprintf(r->err, sizeof(r->err), "%s",
			 r->kind == RQ_PUT && !r->version ? "no such document"
			 : r->kind == RQ_PUT ? (r->version ? "version conflict"
							   : "already exists")
			 : r->version ? "version conflict"
				      : "no such document");
		break;
	case RQ_GET:
		if (PQntuples(res) == 0) {
			r->status = JG_DECLINED;
			snprintf(r->err, sizeof(r->err), "no such document");
			break;
		}
		r->version = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
		r->result = strdup(PQgetvalue(res, 0, 1));
		break;
	case RQ_LIST:
		r->result = rows_json(res, 1);
		break;
	case RQ_LIST_RECORDS:
		r->result = rows_json(res, 2);
		break;
	}
	if ((r->kind == RQ_READ || r->kind == RQ_GET || r->kind == RQ_LIST ||
	     r->kind == RQ_LIST_RECORDS) &&
	    r->status == JG_OK && !r->result) {
		r->status = JG_ERROR;
		snprintf(r->err, sizeof(r->err), "out of memory");
	}
}
