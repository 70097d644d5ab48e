/*
 * GnuTLS credentials and sessions for streams.
 *
 * Server credentials come from a listener's (or the admin's) "tls"
 * section: cert, key and an optional client_ca that makes the client
 * certificate required and verified.  Client credentials come from a
 * struct jg_tls_client and are cached for the life of the process, so
 * opening an upstream does not re-read the CA bundle each time.
 */
#ifndef JG_TLS_H
#define JG_TLS_H

#include <stddef.h>

#include <gnutls/gnutls.h>

#include <jitgate/host.h>

struct tls_server {
	gnutls_certificate_credentials_t cred;
	int verify_client; /* client_ca given: require and verify */
};

int tls_global_init(void);
void tls_global_fini(void);

/* Load cert/key (PEM) and optional client_ca; NULL with err on failure. */
struct tls_server *tls_server_new(const char *cert, const char *key,
				  const char *client_ca, char *err,
				  size_t errlen);
void tls_server_free(struct tls_server *t);

/* A server-side session on fd. */
int tls_session_server(gnutls_session_t *out, const struct tls_server *t,
		       int fd, char *err, size_t errlen);
/* A client-side session on fd; host is the name dialled. */
int tls_session_client(gnutls_session_t *out, const struct jg_tls_client *c,
		       const char *host, int fd, char *err, size_t errlen);

#endif /* JG_TLS_H */
