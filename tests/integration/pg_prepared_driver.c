/*
 * A tiny libpq client for tests/integration/pg_prepared.test: prepares
 * a named statement with the extended protocol (a Parse named NAME, as
 * libpq's PQprepare sends it), then runs each further argument as a
 * simple Query in the same session, the way SQL EXECUTE of that name
 * would come from psql.
 *
 *   pg_prepared_driver CONNINFO NAME SQL [QUERY...]
 *
 * Prints "PREPARED NAME" when the Parse succeeded, then each result's
 * command tag (and a SELECT's first value as "VALUE v"), or "ERROR
 * SQLSTATE: message"; exits 0.
 */
#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

static void result(PGconn *c, PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		printf("%s\n", PQcmdStatus(r));
		if (st == PGRES_TUPLES_OK && PQntuples(r) > 0)
			printf("VALUE %s\n", PQgetvalue(r, 0, 0));
	} else {
		const char *code = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		printf("ERROR %s: %s\n", code ? code : "?",
		       r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY)
			 : PQerrorMessage(c));
	}
	PQclear(r);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	PGconn *c;
	PGresult *r;
	int i;

	if (argc < 4) {
		fprintf(stderr, "usage: pg_prepared_driver CONNINFO NAME SQL "
				"[QUERY...]\n");
		return 2;
	}
	c = PQconnectdb(argv[1]);
	if (PQstatus(c) != CONNECTION_OK) {
		printf("CONNECT %s", PQerrorMessage(c));
		PQfinish(c);
		return 1;
	}
	r = PQprepare(c, argv[2], argv[3], 0, NULL);
	if (PQresultStatus(r) == PGRES_COMMAND_OK) {
		printf("PREPARED %s\n", argv[2]);
		PQclear(r);
	} else {
		result(c, r);
	}
	for (i = 4; i < argc; i++)
		result(c, PQexec(c, argv[i]));
	PQfinish(c);
	return 0;
}
