/*
 * Admin API requests with libcurl, and the mapping of answers to exit
 * codes.  The token goes only into the Authorization header; it is never
 * printed, not even with --json.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

/* The admin API answers small JSON documents; anything bigger is wrong. */
#define MAX_ANSWER (8u << 20)

struct answer {
	char *buf;
	size_t len;
	bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct answer *a = ud;
	size_t n = size * nmemb;
	char *p;

	if (a->len + n > MAX_ANSWER) {
		a->too_big = true;
		return 0;
	}
	p = realloc(a->buf, a->len + n + 1);
	if (!p)
		return 0;
	memcpy(p + a->len, ptr, n);
	a->buf = p;
	a->len += n;
	p[a->len] = '\0';
	return n;
}

int cli_request(struct cli *cli, const char *method, const char *path,
		struct json_object *body, struct json_object **resp)
{
	struct answer a = {0};
	struct curl_slist *h = NULL;
	char url[2048], *auth = NULL;
	long status = 0;
	size_t ulen;
	CURLcode rc;
	CURL *c;

	*resp = NULL;
	if (!cli->url || !*cli->url)
		return -cli_error(CLI_USAGE, "no gateway: give --url or set "
					     "JITGATE_URL");
	if (!cli->token || !*cli->token)
		return -cli_error(CLI_USAGE, "no token: give --token, "
					     "--token-file or set "
					     "JITGATE_TOKEN");
	/* Drop a trailing '/' of --url so "/v1/..." joins cleanly. */
	ulen = strlen(cli->url);
	while (ulen && cli->url[ulen - 1] == '/')
		ulen--;
	if ((size_t)snprintf(url, sizeof(url), "%.*s%s", (int)ulen, cli->url,
			     path) >= sizeof(url))
		return -cli_error(CLI_USAGE, "gateway URL too long");
	c = curl_easy_init();
	if (!c)
		return -cli_error(CLI_UNREACHABLE, "cannot start libcurl");
	if (asprintf(&auth, "Authorization: Bearer %s", cli->token) < 0) {
		curl_easy_cleanup(c);
		return -cli_error(CLI_FAIL, "out of memory");
	}
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Accept: application/json");
	if (body)
		h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "jitgate-cli");
	if (cli->cacert)
		curl_easy_setopt(c, CURLOPT_CAINFO, cli->cacert);
	if (body)
		curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS,
				 json_object_to_json_string_ext(
					 body, JSON_C_TO_STRING_PLAIN));
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(h);
	explicit_bzero(auth, strlen(auth));
	free(auth);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		free(a.buf);
		if (a.too_big)
			return -cli_error(CLI_FAIL, "answer from %s too large",
					  cli->url);
		return -cli_error(CLI_UNREACHABLE, "cannot reach %s: %s",
				  cli->url, curl_easy_strerror(rc));
	}
	if (a.buf)
		*resp = json_tokener_parse(a.buf);
	free(a.buf);
	if (!*resp)
		*resp = json_object_new_object();
	return (int)status;
}

int cli_http_error(int status, struct json_object *resp)
{
	struct json_object *e = NULL;
	const char *code = "", *msg = "";
	int rc;

	if (resp && json_object_object_get_ex(resp, "error", &e)) {
		code = cli_str(e, "code");
		msg = cli_str(e, "message");
	}
	switch (status) {
	case 401:
		rc = CLI_AUTH;
		break;
	case 403:
		rc = CLI_DENIED;
		break;
	case 404:
		rc = CLI_NOTFOUND;
		break;
	case 400:
		rc = CLI_USAGE;
		break;
	default:
		rc = CLI_FAIL;
	}
	return cli_error(rc, "%d %s%s%s", status, code, *code ? ": " : "",
			 *msg ? msg : "the gateway gave no reason");
}

void cli_print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						       JSON_C_TO_STRING_SPACED |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
}

const char *cli_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o && json_object_object_get_ex(o, key, &v) &&
	    !json_object_is_type(v, json_type_null))
		return json_object_get_string(v);
	return "";
}

long long cli_int(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (o && json_object_object_get_ex(o, key, &v))
		return (long long)json_object_get_int64(v);
	return 0;
}

const char *cli_time(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm)) {
		snprintf(buf, len, "-");
		return buf;
	}
	strftime(buf, len, "%Y-%m-%d %H:%M:%SZ", &tm);
	return buf;
}

static void print_fields(struct json_object *o)
{
	json_object_object_foreach(o, k, v)
	{
		const char *text =
			json_object_is_type(v, json_type_object) ||
					json_object_is_type(v, json_type_array)
				? json_object_to_json_string_ext(
					  v, JSON_C_TO_STRING_PLAIN |
						     JSON_C_TO_STRING_NOSLASHESCAPE)
				: json_object_get_string(v);

		if (strcmp(k, "expires_at") == 0 ||
		    strcmp(k, "created_at") == 0 ||
		    strcmp(k, "started_at") == 0 ||
		    strcmp(k, "decided_at") == 0) {
			char t[32];

			text = cli_time(json_object_get_int64(v), t, sizeof(t));
			printf("%-14s %s\n", k, text);
			continue;
		}
		printf("%-14s %s\n", k, text ? text : "");
	}
}

int cli_simple(struct cli *cli, const char *method, const char *path,
	       const char *key, void (*line)(struct json_object *))
{
	struct json_object *resp, *v = NULL;
	int st = cli_request(cli, method, path, NULL, &resp), rc = CLI_OK;

	if (st < 0)
		return -st;
	if (st < 200 || st > 299) {
		rc = cli_http_error(st, resp);
	} else if (cli->json) {
		cli_print_json(resp);
	} else if (!json_object_object_get_ex(resp, key, &v)) {
		rc = cli_error(CLI_FAIL, "the gateway's answer has no \"%s\"",
			       key);
	} else if (json_object_is_type(v, json_type_array)) {
		size_t n = json_object_array_length(v);

		for (size_t i = 0; i < n; i++)
			line(json_object_array_get_idx(v, i));
		if (n == 0)
			fprintf(stderr, "(no %s)\n", key);
	} else if (line) {
		line(v);
	} else {
		print_fields(v);
	}
	json_object_put(resp);
	return rc;
}
