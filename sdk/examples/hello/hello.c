/*
 * hello: the smallest complete jitgate protocol plugin.
 *
 * It greets every client with a configurable banner that names the
 * session, records that it did, and closes.  It shows the whole plugin
 * life cycle: an option schema, init/fini, a protocol ops table, and
 * the host services table for streams, sessions, records and logs.
 *
 * Build it out of tree against the installed SDK (see Makefile):
 *
 *   cc -shared -fPIC -fvisibility=hidden $(pkg-config --cflags jitgate-sdk) \
 *      -o hello.so hello.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jitgate/host.h>
#include <jitgate/jitgate.h>
#include <jitgate/protocol.h>

/* Everything but the descriptor is static: the plugin exports one symbol. */

/* The options a listener may set under "options", validated by the core. */
static const struct jg_option hello_options[] = {
	{"banner", JG_OPT_STRING, "hello from jitgate, session {session}", 0,
	 0, "text sent to the client; {session} becomes the session id"},
	{NULL, 0, NULL, 0, 0, NULL},
};

struct hello {
	const struct jg_host *host;
	char *banner;
};

static int hello_init(const struct jg_host *host, const struct jg_config *cfg,
		      void **instance, char *err, size_t errlen)
{
	struct hello *h;
	const char *banner;

	/* The table only grows: refuse a core older than what we use. */
	if (host->size < offsetof(struct jg_host, record) + sizeof(host->record)) {
		snprintf(err, errlen, "the core's host table is too old");
		return JG_ERROR;
	}
	banner = host->cfg_string(cfg, "banner");
	if (strlen(banner) > 1024) {
		snprintf(err, errlen, "banner: longer than 1024 bytes (%s)",
			 host->cfg_where(cfg, "banner"));
		return JG_ERROR;
	}
	h = calloc(1, sizeof(*h));
	if (!h || !(h->banner = strdup(banner))) {
		free(h);
		snprintf(err, errlen, "out of memory");
		return JG_ERROR;
	}
	h->host = host;
	*instance = h;
	return JG_OK;
}

static void hello_fini(void *instance)
{
	struct hello *h = instance;

	free(h->banner);
	free(h);
}

/* The banner with every "{session}" replaced, and a CRLF. */
static size_t render(const char *banner, const char *sid, char *out,
		     size_t cap)
{
	static const char tag[] = "{session}";
	size_t n = 0, sl = strlen(sid);

	while (*banner && n + 3 < cap) {
		if (strncmp(banner, tag, sizeof(tag) - 1) == 0 &&
		    n + sl + 3 < cap) {
			memcpy(out + n, sid, sl);
			n += sl;
			banner += sizeof(tag) - 1;
		} else {
			out[n++] = *banner++;
		}
	}
	out[n++] = '\r';
	out[n++] = '\n';
	out[n] = '\0';
	return n;
}

static int hello_open(void *instance, struct jg_session *s, void **state)
{
	struct hello *h = instance;
	const struct jg_host *host = h->host;
	char line[2048];
	size_t n = render(h->banner, host->session_id(s), line, sizeof(line));
	char bytes[24];
	struct jg_attr attrs[] = {{"bytes", bytes}};
	struct jg_stream *client = host->session_client(s);

	snprintf(bytes, sizeof(bytes), "%zu", n);
	/* Record first: if the gateway cannot record, nothing happens. */
	if (host->record(s, "hello.greeted", attrs, 1) != JG_OK) {
		host->log("hello", s, JG_LOG_WARN, "HELLO01",
			  "not greeting: the greeting could not be recorded");
		return JG_ERROR;
	}
	if (host->stream_write(client, line, n) == JG_ERROR)
		return JG_ERROR;
	host->log("hello", s, JG_LOG_INFO, "HELLO00", "greeted %s",
		  host->session_peer(s));
	/* Close once the banner is written, then end the session. */
	host->stream_shutdown(client);
	host->session_end(s, "greeted");
	*state = NULL;
	return JG_OK;
}

static void hello_close(void *instance, struct jg_session *s, void *state)
{
	/* No per-session state to release. */
}

static const struct jg_protocol_ops hello_ops = {
	.size = sizeof(struct jg_protocol_ops),
	.connection_options = NULL, /* hello never connects upstream */
	.session_open = hello_open,
	.session_close = hello_close,
};

JG_EXPORT const struct jg_plugin jg_plugin = {
	JG_PLUGIN_PREFIX,
	.kind = JG_KIND_PROTOCOL,
	.name = "hello",
	.version = "1.0.0",
	.description = "greets the client with a banner and closes",
	.options = hello_options,
	.init = hello_init,
	.fini = hello_fini,
	.ops = &hello_ops,
};
