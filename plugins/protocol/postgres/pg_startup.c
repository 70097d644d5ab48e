/*
 * Startup packet parsing and the parameter filter.
 */
#include "pg_startup.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Session settings any client may choose: they change formatting, not
 * what the server lets the session do. */
static const char *const pass_params[] = {
	"application_name", "client_encoding", "datestyle", "timezone",
	"extra_float_digits", "intervalstyle", "bytea_output",
	"standard_conforming_strings", "statement_timeout", "lock_timeout",
	"idle_in_transaction_session_timeout", "geqo", "lc_monetary",
	"lc_numeric", "lc_time", NULL,
};

/* Settings that change what the server does or where names resolve. */
static const char *const policy_params[] = {
	"options", "search_path", "replication", NULL,
};

static int in_list(const char *const *list, const char *key)
{
	for (; *list; list++)
		if (strcasecmp(*list, key) == 0)
			return 1;
	return 0;
}

int pg_param_kind(const char *key)
{
	if (strcmp(key, "user") == 0 || strcmp(key, "database") == 0)
		return PG_PARAM_GATEWAY;
	if (in_list(pass_params, key))
		return PG_PARAM_PASS;
	if (in_list(policy_params, key))
		return PG_PARAM_POLICY;
	return PG_PARAM_DROP;
}

void pg_startup_free(struct pg_startup *st)
{
	free(st->raw);
	memset(st, 0, sizeof(*st));
}

const char *pg_startup_get(const struct pg_startup *st, const char *key)
{
	size_t i;

	for (i = 0; i < st->nparams; i++)
		if (strcasecmp(st->keys[i], key) == 0)
			return st->vals[i];
	return NULL;
}

static int parse_params(struct pg_startup *st, size_t len, const char **why)
{
	struct pg_reader r;
	const char *k, *v;
	size_t klen;

	pg_reader_init(&r, (const uint8_t *)st->raw, len);
	for (;;) {
		k = pg_get_str(&r, &klen);
		if (!k) {
			*why = "startup parameters not terminated";
			return -1;
		}
		if (klen == 0)
			break;
		v = pg_get_str(&r, NULL);
		if (!v) {
			*why = "startup parameter without a value";
			return -1;
		}
		if (st->nparams == PG_MAX_PARAMS) {
			*why = "too many startup parameters";
			return -1;
		}
		if (pg_startup_get(st, k)) {
			*why = "startup parameter given twice";
			return -1;
		}
		st->keys[st->nparams] = k;
		st->vals[st->nparams] = v;
		st->nparams++;
	}
	if (pg_remaining(&r) != 0) {
		*why = "bytes after the startup parameters";
		return -1;
	}
	if (!pg_startup_get(st, "user") || !*pg_startup_get(st, "user")) {
		*why = "no user name in the startup packet";
		return -1;
	}
	return 0;
}

int pg_startup_parse(const uint8_t *body, size_t len, struct pg_startup *st,
		     const char **why)
{
	struct pg_reader r;

	memset(st, 0, sizeof(*st));
	pg_reader_init(&r, body, len);
	st->code = (uint32_t)pg_get_i32(&r);
	if (r.bad) {
		*why = "startup packet too short";
		return -1;
	}
	switch (st->code) {
	case PG_SSL_CODE:
	case PG_GSSENC_CODE:
		if (len != 4) {
			*why = "SSL/GSS request with a body";
			return -1;
		}
		return 0;
	case PG_CANCEL_CODE:
		st->cancel_pid = pg_get_i32(&r);
		st->cancel_key = pg_get_i32(&r);
		if (r.bad || pg_remaining(&r) != 0) {
			*why = "cancel request of the wrong size";
			return -1;
		}
		return 0;
	case PG_PROTO_V3:
		break;
	default:
		*why = "unsupported frontend protocol";
		return -1;
	}
	st->raw = malloc(len - 4 + 1);
	if (!st->raw) {
		*why = "out of memory";
		return -1;
	}
	memcpy(st->raw, body + 4, len - 4);
	st->raw[len - 4] = 0;
	if (parse_params(st, len - 4, why) < 0) {
		pg_startup_free(st);
		return -1;
	}
	return 0;
}
