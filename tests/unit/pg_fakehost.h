/*
 * A fake host table for the PostgreSQL plugin's tests and fuzzers:
 * in-memory streams both ways, a scriptable policy, a recording log, a
 * masker that hides card numbers and "ssn" columns, and reviews the test
 * resolves by hand.  Stands in for the core, which these tests do not
 * need.
 */
#ifndef PG_FAKEHOST_H
#define PG_FAKEHOST_H

#include <stddef.h>
#include <stdint.h>

#include <jitgate/protocol.h>

struct fh_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

struct jg_stream {
	struct fh_buf in;  /* bytes from the peer, for the plugin */
	struct fh_buf out; /* bytes the plugin wrote */
	const struct jg_stream_events *ev;
	void *ud;
	int tls;
	int closed;
	int read_on;
	int starttls_calls;
};

struct jg_config {
	const char *keys[16];
	const char *vals[16];
};

struct jg_session {
	struct jg_stream client;
	struct jg_stream *up;
	int ended;
	char end_reason[256];
	int loopback;
	int authenticated;
	char subject[64];
};

/* Policy hook: given the action, fill the decision (default: allow). */
typedef void (*fh_policy_fn)(const struct jg_action *a,
			     struct jg_decision *d);

struct fh {
	struct jg_host host;
	struct jg_session sess;
	struct jg_config listener;
	struct jg_config conn;
	void *instance;
	void *state;
	fh_policy_fn policy;
	int record_fails;
	size_t nrecords;
	char records[64][256]; /* "event key=value ..." */
	size_t ndecisions;
	char last_action_text[1024];
	char last_attrs[1024];
	/* pending review */
	jg_review_cb review_cb;
	void *review_ud;
	int review_fail;
	char held_text[1024];  /* the held action's text and attributes */
	char held_attrs[2048];
	int nwithdrawn;        /* review_withdraw() calls */
	char withdrawn_reason[128];
	int closed_called;
	int no_tls; /* the listener has no certificate */
	int catalog_missing; /* fh_up_catalog found no catalog query */
};

extern struct fh fh;
/* allow_parameters for the next fh_setup() (one item), then cleared. */
extern const char *fh_next_allow_parameters;

/* Reset and open a session on the plugin (loopback plain text). */
void fh_setup(void);
void fh_teardown(void);
/* Feed bytes from the client / upstream and run the callbacks. */
void fh_client_send(const void *p, size_t n);
void fh_up_send(const void *p, size_t n);
/* Complete the upstream connect (or TLS) with status. */
void fh_up_connected(int status);
void fh_client_tls_done(int status);
/* Take what the plugin wrote to the client / upstream. */
size_t fh_client_take(uint8_t *buf, size_t cap);
size_t fh_up_take(uint8_t *buf, size_t cap);
/* Drive a whole login to the relay state (trust auth upstream). */
void fh_login(void);
/* The client's side of a login, up to the upstream connection opened
 * and its StartupMessage taken; the server has said nothing yet. */
void fh_login_begin(void);
struct pg_buf;
/* Append what the server says after the StartupMessage (trust auth:
 * AuthenticationOk, ParameterStatus, BackendKeyData, ReadyForQuery). */
void fh_backend_login(struct pg_buf *b);
/* Append the server's answer to the plugin's catalog query:
 * public.people (OID 16384) columns 1 "name", 2 "ssn", 4 "tier". */
void fh_backend_catalog(struct pg_buf *b);
/* Answer the plugin's startup catalog query with fh_backend_catalog.
 * Sets fh.catalog_missing if no query came. */
void fh_up_catalog(void);
/* Find a message of type in a buffer of whole messages; its body. */
const uint8_t *fh_find_msg(const uint8_t *buf, size_t n, uint8_t type,
			   size_t *body_len);
/* Count messages of type. */
size_t fh_count_msgs(const uint8_t *buf, size_t n, uint8_t type);
/* Build a frontend message into buf: type, body; returns total length. */
size_t fh_msg(uint8_t *buf, uint8_t type, const void *body, size_t n);
/* A Query message with text. */
size_t fh_query(uint8_t *buf, const char *sql);
/* Field code of the first ErrorResponse in a buffer of messages. */
const char *fh_error_field(const uint8_t *buf, size_t n, uint8_t code);
/* The server answers the gateway's stand-in for a refused statement:
 * its syntax error, then ReadyForQuery. */
void fh_up_rejects_stand_in(void);

#endif /* PG_FAKEHOST_H */
