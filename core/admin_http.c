/*
 * The admin API's HTTP request parser: http-parser underneath, with hard
 * limits on every part so a client cannot make the daemon buffer without
 * bound, and tolerant of requests split anywhere.
 */
#include "config.h"
#include "admin.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_URL (8 * 1024)
#define MAX_HEADERS (16 * 1024)
#define MAX_BODY (1024 * 1024)
#define MAX_FIELD 64
#define MAX_AUTH 8192

struct admin_parser {
	http_parser hp;
	int status;       /* error status once refused */
	int done;
	char method[16];
	char *url;        /* MAX_URL + 1 */
	size_t url_len;
	char *path, *query;
	size_t header_bytes;
	char field[MAX_FIELD + 1];
	size_t field_len;
	int field_overflow;
	int in_value;     /* last callback was a header value */
	int value_is_auth;
	char *auth;       /* MAX_AUTH + 1, or NULL */
	size_t auth_len;
	char *body;
	size_t body_len, body_cap;
};

static struct admin_parser *P(http_parser *hp)
{
	return hp->data;
}

static int fail(http_parser *hp, int status)
{
	P(hp)->status = status;
	return 1; /* non-zero stops http-parser */
}

static int on_url(http_parser *hp, const char *at, size_t len)
{
	struct admin_parser *p = P(hp);

	if (len > MAX_URL - p->url_len)
		return fail(hp, 414);
	memcpy(p->url + p->url_len, at, len);
	p->url_len += len;
	p->url[p->url_len] = '\0';
	return 0;
}

static int count_header(http_parser *hp, size_t len)
{
	struct admin_parser *p = P(hp);

	p->header_bytes += len;
	return p->header_bytes > MAX_HEADERS;
}

static int on_header_field(http_parser *hp, const char *at, size_t len)
{
	struct admin_parser *p = P(hp);

	if (count_header(hp, len))
		return fail(hp, 431);
	if (p->in_value) { /* a new field starts */
		p->in_value = 0;
		p->field_len = 0;
		p->field_overflow = 0;
	}
	if (len > MAX_FIELD - p->field_len) {
		p->field_overflow = 1;
		return 0;
	}
	memcpy(p->field + p->field_len, at, len);
	p->field_len += len;
	p->field[p->field_len] = '\0';
	return 0;
}

static int on_header_value(http_parser *hp, const char *at, size_t len)
{
	struct admin_parser *p = P(hp);

	if (count_header(hp, len))
		return fail(hp, 431);
	if (!p->in_value) { /* first piece of this value */
		p->in_value = 1;
		p->value_is_auth = !p->field_overflow &&
				   strcasecmp(p->field, "authorization") == 0;
		if (p->value_is_auth) {
			if (p->auth) /* two Authorization headers: refuse */
				return fail(hp, 400);
			p->auth = malloc(MAX_AUTH + 1);
			if (p->auth == NULL)
				return fail(hp, 500);
			p->auth_len = 0;
			p->auth[0] = '\0';
		}
	}
	if (p->value_is_auth) {
		if (len > MAX_AUTH - p->auth_len)
			return fail(hp, 431);
		memcpy(p->auth + p->auth_len, at, len);
		p->auth_len += len;
		p->auth[p->auth_len] = '\0';
	}
	return 0;
}

static int on_headers_complete(http_parser *hp)
{
	struct admin_parser *p = P(hp);
	char *q;

	/* Refuse early what would not fit, before reading it. */
	if ((hp->flags & F_CONTENTLENGTH) && hp->content_length > MAX_BODY) {
		fail(hp, 413);
		return -1;
	}
	snprintf(p->method, sizeof(p->method), "%s",
		 http_method_str((enum http_method)hp->method));
	if (p->url_len == 0 || p->url[0] != '/') {
		fail(hp, 400); /* absolute-form and '*' are not served */
		return -1;
	}
	p->path = p->url;
	q = strchr(p->url, '?');
	if (q) {
		*q = '\0';
		p->query = q + 1;
	} else {
		p->query = p->url + p->url_len; /* "" */
	}
	if (strchr(p->query, '#'))
		*strchr(p->query, '#') = '\0';
	return 0;
}

static int on_body(http_parser *hp, const char *at, size_t len)
{
	struct admin_parser *p = P(hp);

	if (len > MAX_BODY - p->body_len)
		return fail(hp, 413);
	if (p->body_len + len + 1 > p->body_cap) {
		size_t cap = p->body_cap ? p->body_cap : 4096;
		while (cap < p->body_len + len + 1)
			cap *= 2;
		char *b = realloc(p->body, cap);
		if (b == NULL)
			return fail(hp, 500);
		p->body = b;
		p->body_cap = cap;
	}
	memcpy(p->body + p->body_len, at, len);
	p->body_len += len;
	p->body[p->body_len] = '\0';
	return 0;
}

static int on_message_complete(http_parser *hp)
{
	P(hp)->done = 1;
	http_parser_pause(hp, 1); /* one request per connection */
	return 0;
}

static const http_parser_settings settings = {
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

struct admin_parser *admin_parser_new(void)
{
	struct admin_parser *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	p->url = malloc(MAX_URL + 1);
	if (p->url == NULL) {
		free(p);
		return NULL;
	}
	p->url[0] = '\0';
	http_parser_init(&p->hp, HTTP_REQUEST);
	p->hp.data = p;
	return p;
}

void admin_parser_free(struct admin_parser *p)
{
	if (p == NULL)
		return;
	free(p->url);
	if (p->auth) /* a credential: wipe before freeing */
		explicit_bzero(p->auth, MAX_AUTH + 1);
	free(p->auth);
	free(p->body);
	free(p);
}

int admin_parser_feed(struct admin_parser *p, const char *data, size_t len)
{
	size_t n;

	if (p->done)
		return 1;
	if (p->status)
		return -1;
	n = http_parser_execute(&p->hp, &settings, data, len);
	if (p->done)
		return 1;
	if (p->status)
		return -1;
	if (HTTP_PARSER_ERRNO(&p->hp) != HPE_OK || n != len) {
		p->status = 400;
		return -1;
	}
	return 0;
}

int admin_parser_status(const struct admin_parser *p)
{
	return p->status;
}

const char *admin_parser_method(const struct admin_parser *p)
{
	return p->done ? p->method : NULL;
}

const char *admin_parser_path(const struct admin_parser *p)
{
	return p->done ? p->path : NULL;
}

const char *admin_parser_query(const struct admin_parser *p)
{
	return p->done ? p->query : NULL;
}

const char *admin_parser_authorization(const struct admin_parser *p)
{
	return p->done ? p->auth : NULL;
}

const char *admin_parser_body(const struct admin_parser *p, size_t *len)
{
	*len = p->done ? p->body_len : 0;
	return p->done ? (p->body ? p->body : "") : NULL;
}
