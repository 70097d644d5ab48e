/*
 * The host services table handed to every plugin instance: every entry
 * set.  Identity, policy, review, masking and recording entries forward to
 * core/services.h; everything else is implemented by the runtime files.
 */
#ifndef JG_HOST_H
#define JG_HOST_H

#include <jitgate/host.h>

extern const struct jg_host core_host;

/* Set for jitgated --check-config: plugins see it as host->checking(). */
void host_set_checking(int on);

#endif /* JG_HOST_H */
