/*
 * jitgate plugin SDK: identity provider plugins (OIDC, SAML).
 *
 * The core asks each configured idp instance in turn to verify a
 * credential a client presented.  An instance answers JG_DECLINED for a
 * credential that is not its own (another issuer), JG_ERROR with a reason
 * for one that is its own but bad, and JG_OK after filling the identity
 * builder with the host's identity_* services.
 */
#ifndef JITGATE_IDP_H
#define JITGATE_IDP_H

#include <jitgate/host.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Operations of a JG_KIND_IDP plugin (descriptor ops). */
struct jg_idp_ops {
	uint32_t size; /**< sizeof(struct jg_idp_ops) at build time */

	/**
	 * Verify credential (len bytes, not NUL-terminated) and describe the
	 * caller into b.  Must not block: use cached keys; refresh them in
	 * the background on host->main_loop().  Thread-safe: called from any
	 * worker.  The reason in err is shown to the client and recorded, so
	 * it must not contain the credential.
	 */
	int (*authenticate)(void *instance, const char *credential, size_t len,
			    struct jg_identity_builder *b, char *err,
			    size_t errlen);
};

#ifdef __cplusplus
}
#endif

#endif /* JITGATE_IDP_H */
