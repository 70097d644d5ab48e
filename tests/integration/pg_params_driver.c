/*
 * A tiny libpq client for tests/integration/pg_review.test: runs one
 * statement with parameters through the extended protocol, as an
 * application would.
 *
 *   pg_params_driver CONNINFO SQL [PARAM...]
 *       PQexecParams (Parse, Bind, Describe, Execute, Sync in one write)
 *   pg_params_driver --prepare CONNINFO SQL [PARAM...]
 *       PQprepare, then PQexecPrepared (two round trips)
 *   pg_params_driver --rerun VALUE CONNINFO SQL PARAM
 *       PQexecParams, then what a client would try to run an approved
 *       statement again with VALUE, in the same session:
 *       PQexecPrepared of the unnamed statement, twice (the gateway
 *       refuses the first; its stand-in, a Parse of the unnamed
 *       statement, replaced it on the server, which answers the
 *       second); each statement
 *       pg_prepared_statements lists ("PREPARED name" lines, or
 *       "PREPARED none"), by PQexecPrepared and by SQL EXECUTE; then
 *       PQexecParams("select $1::int + 1", VALUE) to show the session
 *       still works
 *
 *   pg_params_driver --mixed VALUE CONNINFO
 *       named statements next to SQL PREPARE in one session: PQprepare
 *       "p1" and PQexecPrepared it; then SQL "PREPARE p2 AS DELETE FROM
 *       people WHERE id = $1" (needs review); SQL "PREPARE p3 AS SELECT
 *       $1::int + 100"; PQexecPrepared of p1 and of p3 with VALUE; SQL
 *       "EXECUTE p3(VALUE)"; PQexecParams("select $1::int + 1", VALUE)
 *
 * Notices go to stderr as they arrive (libpq's default), so a test sees
 * "held for review" while the call still waits.  Prints the command tag
 * and exits 0, or prints "ERROR SQLSTATE: message" and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

static int result(PGconn *c, PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);
	int rc = 0;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		printf("%s\n", PQcmdStatus(r));
	} else {
		const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		printf("ERROR %s: %s\n", code ? code : "?",
		       r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
			 : PQerrorMessage(c));
		rc = 1;
	}
	PQclear(r);
	fflush(stdout);
	return rc;
}

/* Every way to run a statement again with value v (--rerun). */
static void rerun(PGconn *c, const char *v)
{
	PGresult *r;
	char sql[256];
	int i, n;

	result(c, PQexecPrepared(c, "", 1, &v, NULL, NULL, 0));
	result(c, PQexecPrepared(c, "", 1, &v, NULL, NULL, 0));
	r = PQexec(c, "SELECT name FROM pg_prepared_statements");
	n = PQresultStatus(r) == PGRES_TUPLES_OK ? PQntuples(r) : -1;
	if (n <= 0)
		printf("PREPARED %s\n", n == 0 ? "none" : "?");
	for (i = 0; i < n; i++) {
		const char *name = PQgetvalue(r, i, 0);

		printf("PREPARED %s\n", name);
		result(c, PQexecPrepared(c, name, 1, &v, NULL, NULL, 0));
		snprintf(sql, sizeof(sql), "EXECUTE %s(%d)", name, atoi(v));
		result(c, PQexec(c, sql));
	}
	PQclear(r);
	result(c, PQexecParams(c, "select $1::int + 1", 1, NULL, &v, NULL,
			       NULL, 0));
}

/* --mixed: what a client mixing Parse and SQL PREPARE meets. */
static void mixed(PGconn *c, const char *v)
{
	char sql[64];

	result(c, PQprepare(c, "p1", "SELECT $1::int", 1, NULL));
	result(c, PQexecPrepared(c, "p1", 1, &v, NULL, NULL, 0));
	result(c, PQexec(c, "PREPARE p2 AS DELETE FROM people WHERE id = $1"));
	result(c, PQexec(c, "PREPARE p3 AS SELECT $1::int + 100"));
	result(c, PQexecPrepared(c, "p1", 1, &v, NULL, NULL, 0));
	result(c, PQexecPrepared(c, "p3", 1, &v, NULL, NULL, 0));
	snprintf(sql, sizeof(sql), "EXECUTE p3(%d)", atoi(v));
	result(c, PQexec(c, sql));
	result(c, PQexecParams(c, "select $1::int + 1", 1, NULL, &v, NULL,
			       NULL, 0));
}

int main(int argc, char **argv)
{
	const char *conninfo, *sql, *again = NULL;
	const char *const *params;
	int nparams, rc, prepare = 0;
	PGconn *c;

	if (argc == 4 && strcmp(argv[1], "--mixed") == 0) {
		c = PQconnectdb(argv[3]);
		if (PQstatus(c) != CONNECTION_OK) {
			printf("CONNECT %s", PQerrorMessage(c));
			PQfinish(c);
			return 1;
		}
		mixed(c, argv[2]);
		PQfinish(c);
		return 0;
	}
	if (argc > 2 && strcmp(argv[1], "--rerun") == 0) {
		again = argv[2];
		argc -= 2;
		argv += 2;
	} else if (argc > 1 && strcmp(argv[1], "--prepare") == 0) {
		prepare = 1;
	}
	if (argc < 3 + prepare) {
		fprintf(stderr,
			"usage: pg_params_driver [--prepare | --rerun VALUE] "
			"CONNINFO SQL [PARAM...]\n"
			"       pg_params_driver --mixed VALUE CONNINFO\n");
		return 2;
	}
	conninfo = argv[1 + prepare];
	sql = argv[2 + prepare];
	params = (const char *const *)argv + 3 + prepare;
	nparams = argc - 3 - prepare;
	c = PQconnectdb(conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		printf("CONNECT %s", PQerrorMessage(c));
		PQfinish(c);
		return 1;
	}
	if (prepare) {
		rc = result(c, PQprepare(c, "s1", sql, nparams, NULL));
		if (rc == 0)
			rc = result(c, PQexecPrepared(c, "s1", nparams, params,
						      NULL, NULL, 0));
	} else {
		rc = result(c, PQexecParams(c, sql, nparams, NULL, params,
					    NULL, NULL, 0));
		if (again)
			rerun(c, again);
	}
	PQfinish(c);
	return rc;
}
