/*
 * Records straight from the store (see audit_read.h).  The file store is
 * read with the same framing code as the plugin; PostgreSQL with
 * blocking libpq calls, which is fine in a command-line tool.
 */
#include "config.h"
#include "audit_read.h"
#include "sf_frame.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef JG_AUDIT_PG
#include <libpq-fe.h>
#endif

static char *conninfo_buf;

char *audit_secret(const char *ref, size_t *len)
{
	char *out = NULL;
	size_t n = 0;

	if (strncmp(ref, "env:", 4) == 0) {
		const char *v = getenv(ref + 4);
		if (!v || !*v) {
			fprintf(stderr, "jitgate: %s is not set\n", ref + 4);
			return NULL;
		}
		out = strdup(v);
		n = out ? strlen(out) : 0;
	} else if (strncmp(ref, "file:", 5) == 0) {
		if (sf_read_file(ref + 5, &out, &n) < 0) {
			fprintf(stderr, "jitgate: cannot read %s: %s\n",
				ref + 5, strerror(errno));
			return NULL;
		}
		if (n > 0 && out[n - 1] == '\n')
			out[--n] = '\0';
	} else {
		fprintf(stderr,
			"jitgate: a secret is given as env:NAME or file:PATH\n");
		return NULL;
	}
	if (len)
		*len = n;
	return out;
}

int audit_source_option(struct audit_src *src, int ch, const char *arg)
{
	switch (ch) {
	case AUDIT_OPT_DATA_DIR:
		src->data_dir = arg;
		return 1;
	case AUDIT_OPT_CONNINFO:
		free(conninfo_buf);
		conninfo_buf = audit_secret(arg, NULL);
		src->conninfo = conninfo_buf;
		return conninfo_buf ? 1 : -1;
	case AUDIT_OPT_SCHEMA:
		src->schema = arg;
		return 1;
	}
	return 0;
}

int audit_src_init(struct audit_src *src)
{
	if (!src->data_dir && !src->conninfo) {
		src->data_dir = getenv("JITGATE_DATA_DIR");
		src->conninfo = getenv("JITGATE_CONNINFO");
	}
	if (!src->schema)
		src->schema = "jitgate";
	if (!src->data_dir && !src->conninfo) {
		fprintf(stderr, "jitgate: say where the records are: "
				"--data-dir DIR or --conninfo REF\n");
		return -1;
	}
#ifndef JG_AUDIT_PG
	if (!src->data_dir) {
		fprintf(stderr, "jitgate: built without PostgreSQL support\n");
		return -1;
	}
#endif
	return 0;
}

void audit_list_free(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

void audit_rec_free(struct audit_rec *r)
{
	audit_list_free(r->ev, r->n);
	memset(r, 0, sizeof(*r));
}

static int push(char ***v, size_t *n, const char *s, size_t len)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return -1;
	*v = nv;
	if (!(nv[*n] = strndup(s, len)))
		return -1;
	(*n)++;
	return 0;
}

struct ent {
	char *id;
	long long mtime;
};

static int by_time(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;
	if (x->mtime != y->mtime)
		return x->mtime < y->mtime ? -1 : 1;
	return strcmp(x->id, y->id);
}

static int file_list(const char *dir, char ***ids, size_t *n)
{
	char path[4200];
	struct dirent *e;
	struct ent *v = NULL;
	size_t cnt = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/records", dir);
	if (!(d = opendir(path))) {
		fprintf(stderr, "jitgate: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		struct stat st;
		char full[4500];
		if (l <= 4 || strcmp(e->d_name + l - 4, ".rec") != 0 ||
		    e->d_name[0] == '.')
			continue;
		snprintf(full, sizeof(full), "%s/%s", path, e->d_name);
		if (stat(full, &st) < 0)
			continue;
		struct ent *nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv)
			break;
		v = nv;
		v[cnt].id = strndup(e->d_name, l - 4);
		v[cnt].mtime = (long long)st.st_mtim.tv_sec * 1000000000LL +
			       st.st_mtim.tv_nsec;
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), by_time);
	*ids = calloc(cnt + 1, sizeof(**ids));
	for (size_t i = 0; i < cnt; i++)
		(*ids)[i] = v[i].id;
	*n = cnt;
	free(v);
	return 0;
}

static int frame(void *ud, const char *payload, size_t len, size_t index)
{
	struct audit_rec *r = ud;
	(void)index;
	return push(&r->ev, &r->n, payload, len) < 0;
}

static int file_read(const char *dir, const char *id, struct audit_rec *out)
{
	char path[4500], *buf;
	size_t len;
	struct sf_scan scan;

	if (strchr(id, '/') || id[0] == '.') {
		fprintf(stderr, "jitgate: not a record id: %s\n", id);
		return -1;
	}
	snprintf(path, sizeof(path), "%s/records/%s.rec", dir, id);
	if (sf_read_file(path, &buf, &len) < 0) {
		if (errno == ENOENT)
			return 1;
		fprintf(stderr, "jitgate: %s: %s\n", path, strerror(errno));
		return -1;
	}
	sf_scan(buf, len, frame, out, &scan);
	free(buf);
	out->damaged = scan.corrupt;
	out->torn = scan.torn;
	out->bad_offset = scan.bad_offset;
	return 0;
}

#ifdef JG_AUDIT_PG
static PGconn *pg_open(const struct audit_src *src)
{
	PGconn *c = PQconnectdb(src->conninfo);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "jitgate: database: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	return c;
}

/* Run "before SCHEMA after" with at most one parameter; first column. */
static int pg_query(const struct audit_src *src, const char *before,
		    const char *after, const char *param, char ***out,
		    size_t *n)
{
	char q[512];
	PGconn *c = pg_open(src);
	PGresult *res;
	int rc = 0;

	if (!c)
		return -1;
	/* the schema name is an identifier: quote it */
	char *schema = PQescapeIdentifier(c, src->schema, strlen(src->schema));
	snprintf(q, sizeof(q), "%s%s%s", before, schema ? schema : "jitgate",
		 after);
	PQfreemem(schema);
	res = PQexecParams(c, q, param ? 1 : 0, NULL, &param, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "jitgate: database: %s",
			PQresultErrorMessage(res));
		rc = -1;
	} else {
		for (int i = 0; i < PQntuples(res); i++)
			if (push(out, n, PQgetvalue(res, i, 0),
				 (size_t)PQgetlength(res, i, 0)) < 0)
				rc = -1;
	}
	PQclear(res);
	PQfinish(c);
	return rc;
}
#endif

int audit_list(const struct audit_src *src, char ***ids, size_t *n)
{
	*ids = NULL;
	*n = 0;
	if (src->data_dir)
		return file_list(src->data_dir, ids, n);
#ifdef JG_AUDIT_PG
	return pg_query(src, "SELECT sid FROM ",
			".events GROUP BY sid ORDER BY min(at), sid", NULL, ids,
			n);
#else
	return -1;
#endif
}

int audit_read(const struct audit_src *src, const char *id,
	       struct audit_rec *out)
{
	memset(out, 0, sizeof(*out));
	if (src->data_dir)
		return file_read(src->data_dir, id, out);
#ifdef JG_AUDIT_PG
	if (pg_query(src, "SELECT event FROM ",
		     ".events WHERE sid = $1 ORDER BY seq", id, &out->ev,
		     &out->n) < 0)
		return -1;
	return out->n ? 0 : 1;
#else
	return -1;
#endif
}
