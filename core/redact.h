/*
 * Secret redaction for recorded events.
 *
 * Everything a session record holds passes through here first, so a
 * password typed into psql, a token in a header or a grant credential
 * never reaches a file or table the store writes.  Redaction is textual
 * and deliberately greedy: a false positive costs a few characters of a
 * record, a false negative leaks a secret.
 *
 * What is replaced by REDACT_MARK:
 *   - the string literal after the SQL keyword PASSWORD (CREATE/ALTER
 *     ROLE/USER ... [ENCRYPTED] PASSWORD '...', also E'...' and $$...$$),
 *   - values of password=, pass=, pwd=, secret=, token= in connection
 *     strings (quoted or not), and the password of scheme://user:pass@,
 *   - the credential after "Bearer " or "Basic " (HTTP authorization),
 *   - jitgate grant credentials (jg_ followed by 16 or more token chars),
 *   - JSON Web Tokens (three base64url parts starting with eyJ).
 * Whole values are replaced when the attribute's key itself names a
 * secret (redact_key_is_secret).
 */
#ifndef JG_REDACT_H
#define JG_REDACT_H

#include <stddef.h>

#define REDACT_MARK "[REDACTED]"

/*
 * Redact text (len bytes, need not be NUL-terminated).  Returns a new
 * NUL-terminated string the caller frees, or NULL when out of memory.
 * *changed (may be NULL) is set to the number of secrets replaced.
 */
char *redact_text(const char *text, size_t len, size_t *changed);

/* Non-zero if an attribute with this key holds a secret as a whole
 * ("password", "credential", "token", "authorization", "secret", ...). */
int redact_key_is_secret(const char *key);

/* Zero when redact_text() would certainly change nothing in text: then
 * the caller may use text as it is, without the copy. */
int redact_may_hold_secret(const char *text, size_t len);

#endif /* JG_REDACT_H */
