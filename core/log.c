/*
 * Structured logging.  One line is formatted into a stack buffer and
 * written with a single write() under a mutex, so lines from different
 * threads never interleave.
 */
#include "config.h"
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 4096

static enum log_format log_fmt = LOG_LOGFMT;
static int log_level = JG_LOG_INFO;
static int log_fd = 2;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void log_setup(enum log_format fmt, int level)
{
	log_fmt = fmt;
	log_level = level;
}

void log_set_fd(int fd)
{
	log_fd = fd;
}

int log_enabled(int level)
{
	return level <= log_level;
}

int log_parse_format(const char *s)
{
	if (s == NULL || strcmp(s, "logfmt") == 0)
		return LOG_LOGFMT;
	if (strcmp(s, "json") == 0)
		return LOG_JSON;
	return -1;
}

int log_parse_level(const char *s)
{
	static const struct {
		const char *name;
		int level;
	} levels[] = {{"error", JG_LOG_ERROR},
		      {"warn", JG_LOG_WARN},
		      {"info", JG_LOG_INFO},
		      {"debug", JG_LOG_DEBUG}};

	if (s == NULL)
		return JG_LOG_INFO;
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
		if (strcasecmp(s, levels[i].name) == 0)
			return levels[i].level;
	return -1;
}

static const char *level_name(int level)
{
	switch (level) {
	case JG_LOG_ERROR:
		return "error";
	case JG_LOG_WARN:
		return "warn";
	case JG_LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

/* A bounded writer: never overruns, remembers that it truncated. */
struct out {
	char *buf;
	size_t len, pos;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->pos >= o->len)
		return;
	size_t room = o->len - o->pos;
	if (n > room)
		n = room;
	memcpy(o->buf + o->pos, s, n);
	o->pos += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_escaped(struct out *o, const char *v, int json)
{
	char tmp[8];

	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		switch (*p) {
		case '"':
			puts_(o, "\\\"");
			break;
		case '\\':
			puts_(o, "\\\\");
			break;
		case '\n':
			puts_(o, "\\n");
			break;
		case '\r':
			puts_(o, "\\r");
			break;
		case '\t':
			puts_(o, "\\t");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				snprintf(tmp, sizeof(tmp),
					 json ? "\\u%04x" : "\\x%02x", *p);
				puts_(o, tmp);
			} else {
				put(o, (const char *)p, 1);
			}
		}
	}
}

static int logfmt_needs_quotes(const char *v)
{
	if (*v == '\0')
		return 1;
	for (const unsigned char *p = (const unsigned char *)v; *p; p++)
		if (*p <= ' ' || *p == '=' || *p == '"' || *p == '\\' ||
		    *p == 0x7f)
			return 1;
	return 0;
}

static void put_kv(struct out *o, int json, int first, const char *k,
		   const char *v)
{
	if (json) {
		puts_(o, first ? "{\"" : ",\"");
		put_escaped(o, k, 1);
		puts_(o, "\":\"");
		put_escaped(o, v, 1);
		puts_(o, "\"");
		return;
	}
	if (!first)
		puts_(o, " ");
	/* Keys come from code, but keep them one token anyway. */
	for (const char *p = k; *p; p++)
		put(o, (*p == ' ' || *p == '=' || *p == '"') ? "_" : p, 1);
	puts_(o, "=");
	if (logfmt_needs_quotes(v)) {
		puts_(o, "\"");
		put_escaped(o, v, 0);
		puts_(o, "\"");
	} else {
		puts_(o, v);
	}
}

size_t log_format_line(char *buf, size_t len, enum log_format fmt,
		       long long ts_ms, int level, const char *msgid,
		       const char *plugin, const char *session,
		       const char *msg, const struct log_field *f, size_t nf)
{
	struct out o = {buf, len >= 2 ? len - 2 : 0, 0};
	int json = fmt == LOG_JSON;
	char ts[64];
	time_t secs = (time_t)(ts_ms / 1000);
	struct tm tm;

	if (len < 2) {
		if (len)
			buf[0] = '\0';
		return 0;
	}
	gmtime_r(&secs, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ts_ms % 1000));
	put_kv(&o, json, 1, "ts", ts);
	put_kv(&o, json, 0, "level", level_name(level));
	put_kv(&o, json, 0, "id", msgid ? msgid : "JG0000");
	put_kv(&o, json, 0, "plugin", plugin ? plugin : "core");
	put_kv(&o, json, 0, "session", session ? session : "-");
	put_kv(&o, json, 0, "msg", msg ? msg : "");
	for (size_t i = 0; i < nf; i++) {
		if (f[i].key == NULL)
			continue;
		put_kv(&o, json, 0, f[i].key,
		       f[i].secret ? "[redacted]"
				   : (f[i].value ? f[i].value : ""));
	}
	if (json)
		puts_(&o, "}");
	/* Room for the newline and NUL was kept back by len - 2 above. */
	if (o.pos >= o.len && o.len >= 3)
		memcpy(buf + o.len - 3, "...", 3);
	buf[o.pos++] = '\n';
	buf[o.pos] = '\0';
	return o.pos;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void log_fields(int level, const char *msgid, const char *plugin,
		const char *session, const char *msg,
		const struct log_field *f, size_t nf)
{
	char line[LOG_LINE_MAX];
	size_t n;

	if (!log_enabled(level))
		return;
	n = log_format_line(line, sizeof(line), log_fmt, now_ms(), level,
			    msgid, plugin, session, msg, f, nf);
	pthread_mutex_lock(&log_lock);
	for (size_t off = 0; off < n;) {
		ssize_t w = write(log_fd, line + off, n - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	pthread_mutex_unlock(&log_lock);
}

void log_vmsg(int level, const char *msgid, const char *plugin,
	      const char *session, const char *fmt, va_list ap)
{
	char msg[2048];

	if (!log_enabled(level))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_fields(level, msgid, plugin, session, msg, NULL, 0);
}

void log_msg(int level, const char *msgid, const char *plugin,
	     const char *session, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, msgid, plugin, session, fmt, ap);
	va_end(ap);
}
