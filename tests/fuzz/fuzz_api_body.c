/*
 * libFuzzer harness for the admin API's /v1 request bodies: api_body()
 * (core/api.c) turns the body bytes into a JSON object, exactly as
 * POST /v1/grants and POST /v1/reviews/ID/{approve,deny} do, and the
 * harness then reads the members the handlers read, with the same type
 * checks, through the same parsers: "connection", "purpose", "review",
 * "reason" as strings, "ttl" as seconds or a duration
 * (policy_parse_duration, what create() in core/api_grants.c calls) and
 * "max_sessions".  The handlers themselves need the running daemon
 * (store, policy, main loop), so they are not called.
 *
 * Input: the whole input is the body.  Like the HTTP parser, the body
 * handed over is NUL-terminated and may hold NULs (api_body refuses it).
 *
 *   ./configure --enable-fuzz CC=clang && make tests/fuzz/fuzz_api_body
 *   tests/fuzz/fuzz_api_body tests/fuzz/corpus/api_body
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "admin.h"
#include "api_int.h"
#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A string member as the handlers take it, or NULL. */
static const char *str_member(struct json_object *b, const char *key)
{
	struct json_object *v;

	if (json_object_object_get_ex(b, key, &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct admin_request req = {.method = "POST",
				    .path = "/v1/grants",
				    .query = ""};
	struct json_object *b, *v;
	volatile size_t sink = 0;
	char *body;
	int64_t ms;

	body = malloc(size + 1);
	if (!body)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';
	req.body = body;
	req.body_len = size;
	b = api_body(&req);
	if (b) {
		const char *s;

		if ((s = str_member(b, "connection")))
			sink += strlen(s);
		if ((s = str_member(b, "purpose")))
			sink += strlen(s);
		if ((s = str_member(b, "reason")))
			sink += strlen(s);
		/* "review" is taken whatever its type. */
		if (json_object_object_get_ex(b, "review", &v) &&
		    (s = json_object_get_string(v)))
			sink += strlen(s);
		if (json_object_object_get_ex(b, "ttl", &v)) {
			if (json_object_is_type(v, json_type_int))
				sink += json_object_get_int64(v) > 0;
			else if (json_object_is_type(v, json_type_string) &&
				 policy_parse_duration(json_object_get_string(v),
						       &ms) == 0)
				sink += ms > 0;
		}
		if (json_object_object_get_ex(b, "max_sessions", &v) &&
		    json_object_is_type(v, json_type_int))
			sink += json_object_get_int64(v) > 0;
		/* What the reply path does with a body it echoes. */
		sink += strlen(json_object_to_json_string_ext(
			b, JSON_C_TO_STRING_PLAIN));
		json_object_put(b);
	}
	(void)sink;
	free(body);
	return 0;
}
