/*
 * Listening sockets.  Every listener address gets one SO_REUSEPORT socket
 * per worker, so the kernel spreads connections over the workers and a
 * session never moves.  Sockets are bound on the main thread (errors are
 * reported at start and reload) and handed to the workers, which accept
 * on them.  A reload keeps the sockets of addresses still listed, opens
 * new ones and closes the rest.
 */
#ifndef JG_LISTENER_H
#define JG_LISTENER_H

#include <stddef.h>

struct rt;

/* A bound, listening, non-blocking TCP socket, or -1 with err. */
int listen_socket(const char *host, const char *port, int reuseport,
		  char *err, size_t errlen);

/* Main thread: make the workers serve rt's listeners (start or reload).
 * On error nothing changed. */
int listeners_apply(struct rt *rt, char *err, size_t errlen);
/* Main thread: stop accepting everywhere (SIGTERM). */
void listeners_drain(void);
/* Non-zero while listeners are open and not draining (/readyz). */
int listeners_ready(void);

#endif /* JG_LISTENER_H */
