/*
 * Structured logs on stderr: logfmt or JSON lines.
 *
 * Every line carries ts, level, id (a stable message id such as "JG0001"),
 * plugin, session and msg, then optional fields.  A field marked secret is
 * never written: its value is replaced by "[redacted]" so a caller that
 * passes one by mistake still leaks nothing.
 */
#ifndef JG_LOG_H
#define JG_LOG_H

#include <stdarg.h>
#include <stddef.h>

#include <jitgate/host.h>

enum log_format { LOG_LOGFMT = 0, LOG_JSON = 1 };

struct log_field {
	const char *key;
	const char *value;
	int secret; /* non-zero: the value is never written */
};

/* Defaults: logfmt, info. */
void log_setup(enum log_format fmt, int level);
/* Parse "logfmt"/"json" and "error"/"warn"/"info"/"debug"; -1 if bad. */
int log_parse_format(const char *s);
int log_parse_level(const char *s);
int log_enabled(int level);

/* Write one line; plugin and session may be NULL. */
void log_fields(int level, const char *msgid, const char *plugin,
		const char *session, const char *msg,
		const struct log_field *f, size_t nf);
void log_msg(int level, const char *msgid, const char *plugin,
	     const char *session, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void log_vmsg(int level, const char *msgid, const char *plugin,
	      const char *session, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

/*
 * Format a line into buf (always NUL-terminated, ends with '\n' when it
 * fits, truncated otherwise).  ts_ms is the wall clock in ms.  Returns the
 * length.  Exposed for the unit tests.
 */
size_t log_format_line(char *buf, size_t len, enum log_format fmt,
		       long long ts_ms, int level, const char *msgid,
		       const char *plugin, const char *session,
		       const char *msg, const struct log_field *f, size_t nf);

/* Redirect output (tests); default 2. */
void log_set_fd(int fd);

#endif /* JG_LOG_H */
