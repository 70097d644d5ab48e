/*
 * The host services table (see host.h).  Thin: each entry forwards to the
 * runtime file that owns the service, or to core/services.h.
 */
#include "config.h"
#include "host.h"
#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "policy.h"
#include "runtime.h"
#include "services.h"
#include "session.h"
#include "stream.h"
#include "worker.h"

#include <stdio.h>
#include <string.h>

static void host_log(const char *plugin, const struct jg_session *s,
		     int level, const char *msgid, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void host_log(const char *plugin, const struct jg_session *s,
		     int level, const char *msgid, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, msgid, plugin, s ? s->id : NULL, fmt, ap);
	va_end(ap);
}

static struct jg_loop *host_session_loop(struct jg_session *s)
{
	return s->loop;
}

static struct jg_loop *host_main_loop(void)
{
	return main_loop();
}

static const char *host_session_id(const struct jg_session *s)
{
	return s->id;
}

static const char *host_session_peer(const struct jg_session *s)
{
	return s->peer;
}

static int host_session_is_loopback(const struct jg_session *s)
{
	return s->loopback;
}

static struct jg_stream *host_session_client(struct jg_session *s)
{
	return s->client;
}

static const struct jg_config *host_session_connection(struct jg_session *s,
							const char *name)
{
	const struct rt_connection *c =
		rt_connection(s->rt, name, s->listener->protocol);

	if (c == NULL)
		return NULL;
	s->conn_name = c->name;
	s->conn = c->cfg;
	return c->cfg;
}

static const struct jg_config *host_session_listener(struct jg_session *s)
{
	return s->listener->cfg;
}

static int host_authenticate(struct jg_session *s, const char *user,
			     const char *credential, size_t len,
			     const char *conn, char *err, size_t errlen)
{
	int rc = core_authenticate(s, user, credential, len, conn, err,
				   errlen);

	if (rc == JG_OK)
		session_mark_ready(s);
	return rc;
}

static int host_decide(struct jg_session *s, const struct jg_action *a,
		       struct jg_decision *out)
{
	char mask[sizeof(s->mask_profile)];
	int rc;

	/* Masking sticks: a later decision without a profile (or a deny)
	 * must not unmask the rows of statements still in flight. */
	memcpy(mask, s->mask_profile, sizeof(mask));
	rc = core_decide(s, a, out);

	/* Count what the caller will act on: an error is a deny. */
	if (rc != JG_OK)
		out->effect = JG_EFFECT_DENY;
	switch (out->effect) {
	case JG_EFFECT_ALLOW:
		metrics_inc(M_DECISIONS_ALLOW, 1);
		break;
	case JG_EFFECT_REVIEW:
		metrics_inc(M_DECISIONS_REVIEW, 1);
		break;
	default:
		metrics_inc(M_DECISIONS_DENY, 1);
		break;
	}
	if (rc == JG_OK && out->mask_profile[0])
		snprintf(s->mask_profile, sizeof(s->mask_profile), "%s",
			 out->mask_profile);
	else
		memcpy(s->mask_profile, mask, sizeof(mask));
	if (strcmp(s->mask_profile, mask))
		s->mask_serial++;
	if (rc == JG_OK)
		s->record_level = out->record_level;
	return rc;
}

/* Written once by main() before any plugin is loaded; read-only after. */
static int checking_only;

void host_set_checking(int on)
{
	checking_only = on;
}

static int host_checking(void)
{
	return checking_only;
}

static void host_stream_counts(const struct jg_stream *st, uint64_t *in,
			       uint64_t *out)
{
	stream_counts(st, in, out);
}

const struct jg_host core_host = {
	.magic = JG_PLUGIN_MAGIC,
	.abi_major = JG_ABI_MAJOR,
	.abi_minor = JG_ABI_MINOR,
	.size = sizeof(struct jg_host),

	.log = host_log,
	.session_alloc = session_alloc,
	.session_cleanup = session_cleanup,

	.cfg_string = cfg_string,
	.cfg_int = cfg_int,
	.cfg_list_len = cfg_list_len,
	.cfg_list_item = cfg_list_item,
	.cfg_json = cfg_json,
	.cfg_secret = cfg_secret,
	.cfg_where = cfg_where,

	.session_loop = host_session_loop,
	.main_loop = host_main_loop,
	.io_add = loop_io_add,
	.io_set = loop_io_set,
	.io_del = loop_io_del,
	.timer_add = loop_timer_add,
	.timer_del = loop_timer_del,
	.loop_post = loop_post,

	.session_id = host_session_id,
	.session_peer = host_session_peer,
	.session_is_loopback = host_session_is_loopback,
	.session_client = host_session_client,
	.session_end = session_end_by_plugin,
	.session_connection = host_session_connection,
	.session_listener = host_session_listener,

	.stream_set_events = stream_set_events,
	.stream_connect = stream_connect,
	.stream_peek = stream_peek,
	.stream_consume = stream_consume,
	.stream_write = stream_write,
	.stream_read_enable = stream_read_enable,
	.stream_starttls = stream_starttls,
	.stream_is_tls = stream_is_tls,
	.stream_pending = stream_pending,
	.stream_shutdown = stream_shutdown,
	.stream_close = stream_close,
	.stream_splice = stream_splice,

	.authenticate = host_authenticate,
	.session_subject = core_session_subject,
	.decide = host_decide,
	.review_hold = core_review_hold,
	.mask_value = core_mask_value,
	.record = core_record,

	.metric_add = metrics_add,

	.identity_set_subject = identity_set_subject,
	.identity_add_group = identity_add_group,
	.identity_set_claim = identity_set_claim,
	.identity_set_expiry = identity_set_expiry,

	.stream_counts = host_stream_counts,

	.checking = host_checking,

	.review_withdraw = core_review_withdraw,
	.mask_values = core_mask_values,
	.mask_column_rule = core_mask_column_rule,
	.session_end_reason = session_end_reason,
};
