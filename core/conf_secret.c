/*
 * Secrets are never written in the configuration: a secret option holds a
 * reference, "env:NAME" or "file:PATH", resolved once at load.  The bytes
 * live in their own allocation, wiped before it is freed, and no message
 * built here ever contains them.
 */
#include "conf_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A secret file is a password or a key, not a document. */
#define SECRET_MAX (64u << 10)

void conf_secret_free(char *s, size_t len)
{
	if (!s)
		return;
	explicit_bzero(s, len);
	free(s);
}

static int valid_env_name(const char *n)
{
	if (!isalpha((unsigned char)*n) && *n != '_')
		return 0;
	for (; *n; n++)
		if (!isalnum((unsigned char)*n) && *n != '_')
			return 0;
	return 1;
}

static int from_env(const char *name, char **out, size_t *len, char *err,
		    size_t errlen)
{
	const char *v;

	if (!valid_env_name(name)) {
		snprintf(err, errlen,
			 "env:%.64s: not a valid environment variable name",
			 name);
		return -1;
	}
	v = getenv(name);
	if (!v) {
		snprintf(err, errlen, "environment variable %s is not set",
			 name);
		return -1;
	}
	if (!*v) {
		snprintf(err, errlen, "environment variable %s is empty",
			 name);
		return -1;
	}
	*len = strlen(v);
	*out = malloc(*len + 1);
	if (!*out) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memcpy(*out, v, *len + 1);
	return 0;
}

static int from_file(const char *path, const char *basedir, char **out,
		     size_t *len, char *err, size_t errlen, char *warn,
		     size_t warnlen)
{
	char full[PATH_MAX];
	struct stat sb;
	char *buf;
	ssize_t r;
	size_t n = 0;
	int fd;

	if (!*path) {
		snprintf(err, errlen, "file: reference without a path");
		return -1;
	}
	if (path[0] != '/' && basedir && *basedir)
		r = snprintf(full, sizeof(full), "%s/%s", basedir, path);
	else
		r = snprintf(full, sizeof(full), "%s", path);
	if (r < 0 || (size_t)r >= sizeof(full)) {
		snprintf(err, errlen, "secret file path too long");
		return -1;
	}
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "secret file %s: %s", full,
			 errno == ENOENT ? "file not found" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "secret file %s: not a regular file",
			 full);
		close(fd);
		return -1;
	}
	if (sb.st_size > (off_t)SECRET_MAX) {
		snprintf(err, errlen,
			 "secret file %s: %lld bytes, more than the %u allowed",
			 full, (long long)sb.st_size, SECRET_MAX);
		close(fd);
		return -1;
	}
	/* Kubernetes mounts secrets 0644 by default: warn, don't refuse. */
	if ((sb.st_mode & 077) && warn)
		snprintf(warn, warnlen,
			 "secret file %s is readable by group or others "
			 "(mode %04o); chmod 600 it",
			 full, (unsigned)(sb.st_mode & 07777));
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (n < (size_t)sb.st_size) {
		r = read(fd, buf + n, (size_t)sb.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	/* One trailing newline is how editors and `echo` end files. */
	if (n > 0 && buf[n - 1] == '\n') {
		n--;
		if (n > 0 && buf[n - 1] == '\r')
			n--;
	}
	buf[n] = '\0';
	if (n == 0) {
		conf_secret_free(buf, (size_t)sb.st_size + 1);
		snprintf(err, errlen, "secret file %s is empty", full);
		return -1;
	}
	*out = buf;
	*len = n;
	return 0;
}

int conf_secret_resolve(const char *ref, const char *basedir, char **out,
			size_t *len, char *err, size_t errlen, char *warn,
			size_t warnlen)
{
	*out = NULL;
	*len = 0;
	if (warn && warnlen)
		warn[0] = '\0';
	if (strncmp(ref, "env:", 4) == 0)
		return from_env(ref + 4, out, len, err, errlen);
	if (strncmp(ref, "file:", 5) == 0)
		return from_file(ref + 5, basedir, out, len, err, errlen, warn,
				 warnlen);
	/* Not a reference: the text may be the secret itself, never echo. */
	snprintf(err, errlen,
		 "a secret must be a reference \"env:NAME\" or \"file:PATH\", "
		 "not the secret itself");
	return -1;
}

int conf_resolve_secret(const char *ref, char **out, size_t *len, char *err,
			size_t errlen)
{
	return conf_secret_resolve(ref, NULL, out, len, err, errlen, NULL, 0);
}
