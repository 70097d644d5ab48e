/*
 * Webhook bodies.  The core hands us a review as JSON text; we parse it
 * once with json-c and let json-c write the body, so every string
 * (statement text with quotes, newlines, control characters) is escaped
 * by the same well-tested code whatever the format.
 *
 * The Slack message is for people: one short line per fact, the action
 * text shortened and defused (no mentions, links or broken code spans
 * from a statement's '<', '>' or '`'), and the command that approves.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "webhook.h"

#define SLACK_TEXT_MAX   4096
#define NAME_MAX_BYTES   80 /* requester, connection, rule, approver */
#define REASON_MAX_BYTES 200

static const char *field(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return "?";
	return json_object_get_string(v);
}

/* Append n bytes, all or nothing, keeping out NUL-terminated; -1 when
 * they do not fit. */
static int put(char *out, size_t outlen, size_t *o, const char *s, size_t n)
{
	if (*o + n >= outlen)
		return -1;
	memcpy(out + *o, s, n);
	*o += n;
	out[*o] = '\0';
	return 0;
}

/* Bytes in the UTF-8 sequence lead byte c starts; 1 for anything odd. */
static size_t utf8_len(unsigned char c)
{
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	if (c >= 0xe0)
		return c <= 0xef ? 3 : 1;
	if (c >= 0xc2)
		return 2;
	return 1;
}

/* Slack's three entities, and no backquote to end a code span early. */
static const char *slack_escape(unsigned char c, size_t *n)
{
	switch (c) {
	case '&':
		*n = 5;
		return "&amp;";
	case '<':
		*n = 4;
		return "&lt;";
	case '>':
		*n = 4;
		return "&gt;";
	case '`':
		*n = 1;
		return "'";
	default:
		return NULL;
	}
}

void wh_slack_text(char *out, size_t outlen, const char *text, size_t max)
{
	size_t o, n = strlen(text), i = 0, start;
	int gap = 0;

	if (outlen == 0)
		return;
	o = strnlen(out, outlen);
	if (o >= outlen) {
		out[outlen - 1] = '\0';
		return;
	}
	while (i < n && ((unsigned char)text[i] <= ' ' || text[i] == 0x7f))
		i++;
	start = i;
	while (i < n) {
		unsigned char c = (unsigned char)text[i];
		size_t k = utf8_len(c), rn = 0;
		const char *rep;

		if (c <= ' ' || c == 0x7f) {
			gap = 1;
			i++;
			continue;
		}
		if (k > n - i)
			k = n - i;
		if (i - start + k > max) {
			put(out, outlen, &o, "\xe2\x80\xa6", 3); /* "…" */
			return;
		}
		if (gap && put(out, outlen, &o, " ", 1) < 0)
			return;
		gap = 0;
		rep = slack_escape(c, &rn);
		if (put(out, outlen, &o, rep ? rep : text + i, rep ? rn : k) <
		    0)
			return; /* full: stop rather than skip a piece */
		i += k;
	}
}

/* Append a format string's output verbatim (our own words only). */
static void putf(char *out, size_t outlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void putf(char *out, size_t outlen, const char *fmt, ...)
{
	size_t o = strnlen(out, outlen);
	va_list ap;

	if (o + 1 >= outlen)
		return;
	va_start(ap, fmt);
	vsnprintf(out + o, outlen - o, fmt, ap);
	va_end(ap);
}

static void slack_message(char *t, size_t tl, const char *event,
                          struct json_object *r)
{
	const char *id = field(r, "id"), *kind = field(r, "kind");

	putf(t, tl, "*Review ");
	wh_slack_text(t, tl, id, NAME_MAX_BYTES);
	if (!strcmp(event, "review.created")) {
		putf(t, tl, "*: ");
		wh_slack_text(t, tl, field(r, "requester"), NAME_MAX_BYTES);
		putf(t, tl,
		     !strcmp(kind, "grant") ? " requests access to `"
		                            : " holds an action on `");
	} else {
		if (!strcmp(event, "review.approved"))
			putf(t, tl, "* approved by ");
		else if (!strcmp(event, "review.denied"))
			putf(t, tl, "* denied by ");
		else if (!strcmp(event, "review.expired"))
			putf(t, tl, "* expired without approval");
		else if (!strcmp(event, "review.approval"))
			putf(t, tl, "* got an approval from ");
		else
			putf(t, tl, "* (%s)",
			     !strcmp(event, "review.used") ? "approval used"
			                                   : "updated");
		if (!strcmp(event, "review.approved") ||
		    !strcmp(event, "review.denied"))
			wh_slack_text(t, tl, field(r, "decided_by"),
			              NAME_MAX_BYTES);
		if (!strcmp(event, "review.approval")) {
			struct json_object *by = NULL;
			size_t n;

			json_object_object_get_ex(r, "approved_by", &by);
			n = json_object_is_type(by, json_type_array)
			        ? json_object_array_length(by)
			        : 0;
			wh_slack_text(
			    t, tl,
			    n ? json_object_get_string(
			            json_object_array_get_idx(by, n - 1))
			      : "?",
			    NAME_MAX_BYTES);
		}
		if (!strcmp(event, "review.denied")) {
			putf(t, tl, " (");
			wh_slack_text(t, tl, field(r, "reason"),
			              REASON_MAX_BYTES);
			putf(t, tl, ")");
		}
		putf(t, tl, ": ");
		wh_slack_text(t, tl, field(r, "requester"), NAME_MAX_BYTES);
		putf(t, tl, " on `");
	}
	wh_slack_text(t, tl, field(r, "connection"), NAME_MAX_BYTES);
	putf(t, tl, "`\n> ");
	wh_slack_text(t, tl, field(r, "summary"), WH_SUMMARY_MAX);
	if (!strcmp(event, "review.created") ||
	    !strcmp(event, "review.approval")) {
		putf(t, tl, "\nNeeds ");
		wh_slack_text(t, tl, field(r, "progress"), REASON_MAX_BYTES);
		putf(t, tl, " (rule ");
		wh_slack_text(t, tl, field(r, "rule"), NAME_MAX_BYTES);
		putf(t, tl, ").\nApprove: `jitgate review approve ");
		wh_slack_text(t, tl, id, NAME_MAX_BYTES);
		putf(t, tl, "`  Deny: `jitgate review deny ");
		wh_slack_text(t, tl, id, NAME_MAX_BYTES);
		putf(t, tl, " --reason TEXT`");
	}
}

/* The review id, if it looks like one, for log lines. */
static void safe_id(struct json_object *r, char *id, size_t idlen)
{
	const char *s = field(r, "id");
	size_t n = strlen(s);

	if (idlen == 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
		            "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_",
		            s[i]))
			n = 0;
	if (n == 0 || n >= idlen)
		s = "?";
	snprintf(id, idlen, "%s", s);
}

char *wh_body(int slack, const char *event, const char *review_json,
              size_t *len, char *id, size_t idlen)
{
	size_t n =
	    review_json ? strnlen(review_json, WH_MAX_EVENT_JSON + 1) : 0;
	struct json_tokener *tok;
	struct json_object *r = NULL, *o = NULL;
	char *out = NULL;

	if (idlen)
		snprintf(id, idlen, "?");
	if (n == 0 || n > WH_MAX_EVENT_JSON || !event ||
	    !(tok = json_tokener_new()))
		return NULL;
	r = json_tokener_parse_ex(tok, review_json, (int)n);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != n ||
	    !json_object_is_type(r, json_type_object))
		goto out;
	safe_id(r, id, idlen);
	o = json_object_new_object();
	if (!o)
		goto out;
	if (slack) {
		char *text = calloc(1, SLACK_TEXT_MAX);

		if (!text)
			goto out;
		slack_message(text, SLACK_TEXT_MAX, event, r);
		json_object_object_add(o, "text", json_object_new_string(text));
		free(text);
	} else {
		json_object_object_add(o, "event",
		                       json_object_new_string(event));
		json_object_object_add(o, "review", json_object_get(r));
	}
	{
		size_t sl;
		const char *s = json_object_to_json_string_length(
		    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
		    &sl);

		if (s && (out = malloc(sl + 1))) {
			memcpy(out, s, sl + 1);
			*len = sl;
		}
	}
out:
	json_object_put(o);
	json_object_put(r);
	json_tokener_free(tok);
	return out;
}
