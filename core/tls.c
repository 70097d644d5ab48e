/*
 * GnuTLS credentials and sessions (see tls.h).
 */
#include "config.h"
#include "tls.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tls_global_init(void)
{
	return gnutls_global_init() == GNUTLS_E_SUCCESS ? 0 : -1;
}

struct tls_server *tls_server_new(const char *cert, const char *key,
				  const char *client_ca, char *err,
				  size_t errlen)
{
	struct tls_server *t;
	int rc;

	if (cert == NULL || key == NULL) {
		snprintf(err, errlen, "tls needs both cert and key");
		return NULL;
	}
	t = calloc(1, sizeof(*t));
	if (t == NULL || gnutls_certificate_allocate_credentials(&t->cred)) {
		free(t);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rc = gnutls_certificate_set_x509_key_file(t->cred, cert, key,
						  GNUTLS_X509_FMT_PEM);
	if (rc < 0) {
		snprintf(err, errlen, "cannot load certificate %s / key %s: %s",
			 cert, key, gnutls_strerror(rc));
		goto fail;
	}
	if (client_ca) {
		rc = gnutls_certificate_set_x509_trust_file(
			t->cred, client_ca, GNUTLS_X509_FMT_PEM);
		if (rc <= 0) {
			snprintf(err, errlen, "cannot load client_ca %s: %s",
				 client_ca,
				 rc == 0 ? "no certificates"
					 : gnutls_strerror(rc));
			goto fail;
		}
		t->verify_client = 1;
	}
	return t;
fail:
	gnutls_certificate_free_credentials(t->cred);
	free(t);
	return NULL;
}

void tls_server_free(struct tls_server *t)
{
	if (t == NULL)
		return;
	gnutls_certificate_free_credentials(t->cred);
	free(t);
}

int tls_session_server(gnutls_session_t *out, const struct tls_server *t,
		       int fd, char *err, size_t errlen)
{
	gnutls_session_t s;
	int rc = gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NONBLOCK);

	if (rc < 0) {
		snprintf(err, errlen, "tls: %s", gnutls_strerror(rc));
		return -1;
	}
	gnutls_set_default_priority(s);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, t->cred);
	if (t->verify_client) {
		gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
		/* Verifies the chain during the handshake; no name check. */
		gnutls_session_set_verify_cert(s, NULL, 0);
	}
	gnutls_transport_set_int(s, fd);
	*out = s;
	return 0;
}

/* Client credentials, one per (ca_file, cert, key), kept until exit. */
struct client_cred {
	struct client_cred *next;
	char *ca, *cert, *key;
	gnutls_certificate_credentials_t cred;
};
static struct client_cred *client_creds;
static pthread_mutex_t client_lock = PTHREAD_MUTEX_INITIALIZER;

static int same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) ||
	       (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static gnutls_certificate_credentials_t
client_cred_get(const struct jg_tls_client *c, char *err, size_t errlen)
{
	struct client_cred *cc;
	int rc;

	pthread_mutex_lock(&client_lock);
	for (cc = client_creds; cc; cc = cc->next)
		if (same(cc->ca, c->ca_file) && same(cc->cert, c->cert_file) &&
		    same(cc->key, c->key_file)) {
			pthread_mutex_unlock(&client_lock);
			return cc->cred;
		}
	cc = calloc(1, sizeof(*cc));
	if (cc == NULL || gnutls_certificate_allocate_credentials(&cc->cred)) {
		free(cc);
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (c->ca_file)
		rc = gnutls_certificate_set_x509_trust_file(
			cc->cred, c->ca_file, GNUTLS_X509_FMT_PEM);
	else
		rc = gnutls_certificate_set_x509_system_trust(cc->cred);
	if (rc <= 0 && c->verify) {
		snprintf(err, errlen, "cannot load CA %s: %s",
			 c->ca_file ? c->ca_file : "(system trust)",
			 rc == 0 ? "no certificates" : gnutls_strerror(rc));
		goto fail_cred;
	}
	if (c->cert_file || c->key_file) {
		rc = gnutls_certificate_set_x509_key_file(
			cc->cred, c->cert_file ? c->cert_file : "",
			c->key_file ? c->key_file : "", GNUTLS_X509_FMT_PEM);
		if (rc < 0) {
			snprintf(err, errlen,
				 "cannot load client certificate: %s",
				 gnutls_strerror(rc));
			goto fail_cred;
		}
	}
	cc->ca = dup_or_null(c->ca_file);
	cc->cert = dup_or_null(c->cert_file);
	cc->key = dup_or_null(c->key_file);
	cc->next = client_creds;
	client_creds = cc;
	pthread_mutex_unlock(&client_lock);
	return cc->cred;
fail_cred:
	gnutls_certificate_free_credentials(cc->cred);
	free(cc);
fail:
	pthread_mutex_unlock(&client_lock);
	return NULL;
}

int tls_session_client(gnutls_session_t *out, const struct jg_tls_client *c,
		       const char *host, int fd, char *err, size_t errlen)
{
	gnutls_certificate_credentials_t cred = client_cred_get(c, err, errlen);
	const char *name = c->server_name ? c->server_name : host;
	unsigned char addr[16];
	gnutls_session_t s;
	int rc;

	if (cred == NULL)
		return -1;
	rc = gnutls_init(&s, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
	if (rc < 0) {
		snprintf(err, errlen, "tls: %s", gnutls_strerror(rc));
		return -1;
	}
	gnutls_set_default_priority(s);
	gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cred);
	/* SNI carries names only, never IP literals (RFC 6066). */
	if (name && inet_pton(AF_INET, name, addr) != 1 &&
	    inet_pton(AF_INET6, name, addr) != 1)
		gnutls_server_name_set(s, GNUTLS_NAME_DNS, name, strlen(name));
	if (c->verify)
		gnutls_session_set_verify_cert(s, name, 0);
	gnutls_transport_set_int(s, fd);
	*out = s;
	return 0;
}

void tls_global_fini(void)
{
	pthread_mutex_lock(&client_lock);
	while (client_creds) {
		struct client_cred *cc = client_creds;
		client_creds = cc->next;
		gnutls_certificate_free_credentials(cc->cred);
		free(cc->ca);
		free(cc->cert);
		free(cc->key);
		free(cc);
	}
	pthread_mutex_unlock(&client_lock);
	gnutls_global_deinit();
}
