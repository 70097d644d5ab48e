/*
 * Per-session state of the PostgreSQL plugin, shared by the files that
 * drive one session: pg_conn.c (client startup, upstream connect and
 * authentication), pg_relay.c (the message relay), pg_guard.c
 * (classification, policy, recording), pg_hold.c (reviews) and
 * plugin.c.
 */
#ifndef PG_SESSION_H
#define PG_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include <jitgate/protocol.h>

#include "pg_auth.h"
#include "pg_ccache.h"
#include "pg_copy.h"
#include "pg_msg.h"
#include "pg_rows.h"
#include "pg_startup.h"

#define PG_PLUGIN "postgres"
#define PG_SESSION_MAGIC 0x50475353U /* "PGSS" */

/* Client TLS policy of a listener. */
enum pg_client_tls {
	PG_TLS_DISABLED = 0, /* answer SSLRequest with N */
	PG_TLS_OPTIONAL = 1, /* offer TLS, allow plain */
	PG_TLS_REQUIRED = 2  /* refuse plain text (loopback may be exempt) */
};

/* Upstream TLS modes, libpq's names. */
enum pg_up_tls {
	PG_UP_DISABLE = 0,
	PG_UP_PREFER = 1,
	PG_UP_REQUIRE = 2,
	PG_UP_VERIFY_FULL = 3
};

struct pg_instance {
	const struct jg_host *h;
	int client_tls;          /* enum pg_client_tls */
	int loopback_plaintext;  /* allow plain text on loopback */
	size_t max_message;      /* largest frontend message accepted */
	size_t nallow;           /* allow_parameters */
	int allow_function_call; /* FunctionCall goes to policy */
	char **allow_params;
};

enum pg_state {
	ST_STARTUP = 0,   /* waiting for the first packet */
	ST_CLIENT_TLS,    /* TLS handshake with the client */
	ST_PASSWORD,      /* asked the client for its password */
	ST_UP_CONNECT,    /* TCP connect upstream */
	ST_UP_SSL,        /* sent SSLRequest upstream */
	ST_UP_TLS,        /* TLS handshake upstream */
	ST_UP_AUTH,       /* answering the server's auth requests */
	ST_UP_READY,      /* authenticated: relaying until ReadyForQuery */
	ST_UP_CATALOG,    /* reading column names (pg_rows.h) */
	ST_RELAY,         /* the session is running */
	ST_CANCEL,        /* forwarding a CancelRequest */
	ST_DONE           /* ending: touch nothing */
};

/* A denial whose error the upstream server will raise in our place. */
struct pg_replace {
	struct pg_replace *next;
	uint64_t epoch;     /* ReadyForQuery count it belongs to */
	char sqlstate[6];
	char *message;
	char *detail;
};

struct pg_session {
	uint32_t magic;
	struct pg_instance *in;
	const struct jg_host *h;
	struct jg_session *s;
	struct jg_stream *client;
	struct jg_stream *up;
	int state; /* enum pg_state */

	/* startup */
	struct pg_startup su;
	char conn_name[128];
	const struct jg_config *conn;
	char up_host[256];
	char up_port[16];
	int up_tls;
	struct pg_upauth ua;
	int32_t up_pid, up_key;  /* the upstream backend's cancel key */
	int32_t gw_pid, gw_key;  /* the key the client holds */
	int cancel_registered;

	/* relay */
	uint8_t txstatus;        /* last ReadyForQuery status */
	int copy_in;             /* client may send CopyData */
	uint64_t rfq_sent;       /* messages sent that end in ReadyForQuery */
	uint64_t rfq_seen;       /* ReadyForQuery received */
	struct pg_replace *repl; /* pending denials, oldest first */
	size_t passthru;         /* body bytes of a backend message still
	                            to forward without looking */
	int masking;             /* a decision named a masking profile */
	struct pg_rowdesc rd;    /* last RowDescription (masking) */
	int rd_valid;            /* rd describes the rows now arriving */
	int rd_unnamed;          /* rd has table columns the catalog could
	                            not name while it was incomplete */
	struct pg_catalog cat;   /* column names for column rules */
	uint64_t statements;
	struct pg_ccache *ccache; /* classifications (pg_ccache.h), lazily */
	struct pg_copy_state *copy; /* COPY TO STDOUT masking (pg_copy.h) */

	/* a statement held for review */
	int held;
	uint8_t *held_msg;       /* whole messages: a Query, or a Parse with
	                            its Bind, Execute... and Sync */
	size_t held_len;
	int held_ext;            /* held_msg is an extended pipeline that
	                            ends in its own Sync */
	char review_id[128];
	unsigned unnamed_guard;  /* the unnamed statement may hold an
	                            approved one (pg_hold.c) */
	char client_enc[32];     /* the server's client_encoding and */
	char server_enc[32];     /* server_encoding, as it reports them */
	char client_enc0[32];    /* client_encoding at startup, which RESET,
	                            DEFAULT and ROLLBACK return to */
	int sql_prepared;        /* an SQL PREPARE or dynamic statement
	                            went upstream: a named statement may
	                            not be what its Parse was (pg_hold.c) */

	struct pg_buf out;       /* scratch for messages we build */
	struct pg_buf upq;       /* queued for upstream (pg_flush) */
	struct pg_buf cq;        /* queued for the client (pg_flush) */
	int busy;                /* callbacks running on this session */
	int closed;              /* session_close came while busy */
};

/* plugin.c */
int pg_session_open(void *instance, struct jg_session *s, void **state);
void pg_session_close(void *instance, struct jg_session *s, void *state);

/* pg_conn.c: startup phase on the client stream, upstream connection. */
int pg_client_startup_input(struct pg_session *ps);
void pg_upstream_input(struct pg_session *ps);
void pg_start_cancel_forward(struct pg_session *ps, int32_t pid, int32_t key);
void pg_up_connected(struct pg_session *ps, int status, const char *err);
void pg_up_closed(struct pg_session *ps, const char *reason);
void pg_cancel_connected(struct pg_session *ps, int status);

/* plugin.c: a callback into the session starts with pg_enter() and ends
 * with pg_leave(), so a session_close() that comes in between (from
 * session_end()) frees the state only once nothing uses it. */
void pg_enter(struct pg_session *ps);
void pg_leave(struct pg_session *ps);

/* plugin.c: upstream stream callbacks (connect, relay, cancel). */
void pg_set_upstream_events(struct pg_session *ps);

/* pg_relay.c */
int pg_relay_client_input(struct pg_session *ps);
int pg_relay_upstream_input(struct pg_session *ps);
void pg_relay_resume(struct pg_session *ps);
void pg_send_upstream_frame(struct pg_session *ps, const uint8_t *p,
			    size_t n);

/* pg_guard.c: returns 1 (forwarded or handled), 0 (held), -1 (ended). */
int pg_guard_query(struct pg_session *ps, const uint8_t *msg, size_t n,
		   const char *sql);
int pg_guard_parse(struct pg_session *ps, const uint8_t *msg, size_t n,
		   const char *sql);
int pg_guard_function_call(struct pg_session *ps, const uint8_t *msg,
			   size_t n, uint32_t oid);
/* A ParameterStatus from the server: keeps the encodings. */
void pg_guard_parameter(struct pg_session *ps, const struct pg_frame *f);
/* pg_hold.c: a message goes upstream: tracks what the unnamed
 * statement holds. */
void pg_guard_sent(struct pg_session *ps, const uint8_t *p, size_t n);
/* A client Bind or Describe: 1 if refused because it would use the
 * unnamed statement an approved run may have left (pg_deny'd). */
int pg_guard_unnamed_use(struct pg_session *ps, const struct pg_frame *f);
/* A client Bind: 1 if refused because it names a statement after the
 * session ran SQL PREPARE or dynamic SQL (pg_deny'd). */
int pg_guard_named_use(struct pg_session *ps, const struct pg_frame *f);
/* A CancelRequest for the session: a held statement is withdrawn, the
 * client gets 57014 and ReadyForQuery. */
void pg_guard_cancel_hold(struct pg_session *ps);
/* The session ends (or its client left) while a statement is held: the
 * review is withdrawn, reason says why.  Nothing is sent. */
void pg_guard_drop_hold(struct pg_session *ps, const char *reason);
/* "$1 = 'text'", "$2 = NULL", "$3 = \x0000002a (binary)", "$4 = <binary
 * N bytes>": one Bind parameter as an approver reads it.  idx counts
 * from 1; len is -1 for NULL. */
void pg_render_param(char *out, size_t outlen, int idx, int32_t len,
		     const uint8_t *p, int binary);
/* Append to the session's record; -1 (logged) if it was refused. */
int pg_record(struct pg_session *ps, const char *event,
	      const struct jg_attr *a, size_t n);
/* Deny the message in msg: upstream raises the error in order. */
void pg_deny(struct pg_session *ps, uint8_t type, const char *sqlstate,
	     const char *message, const char *detail);

/* Queue bytes for the client; -1 when out of memory. */
int pg_client_write(struct pg_session *ps, const void *p, size_t n);
/* Write both queues out (pg_leave does it at the end of a callback). */
void pg_flush(struct pg_session *ps);
/* Send an error and end the session. */
void pg_fatal(struct pg_session *ps, const char *sqlstate,
	      const char *message, const char *detail);

#endif /* PG_SESSION_H */
