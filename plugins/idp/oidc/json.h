/*
 * A strict JSON parser for token segments that builds json-c objects.
 */
#ifndef OIDC_JSON_H
#define OIDC_JSON_H

#include <stddef.h>

struct json_object;

/*
 * Parse buf[0..len) as one RFC 8259 JSON value nested at most depth
 * containers deep, with only whitespace after it.  buf must be writable
 * and buf[len] must be a NUL byte: strings are unescaped in place.
 * Stricter than json-c's strict mode, as RFC 8259 is: single quotes,
 * "1.", NaN, Infinity, raw control characters in strings, invalid or
 * overlong UTF-8 and lone surrogates are refused; so is \u0000.  On
 * success *out is the value (NULL for JSON null) and 0 is returned; -1
 * on any error.
 */
int oidc_json_parse_inplace(char *buf, size_t len, int depth,
			    struct json_object **out);

#endif /* OIDC_JSON_H */
