/* listener.h - the libwebsockets context: one port for REST and signaling,
 * TLS when configured, running on the server's libuv loop.
 *
 * Ownership: the context lives in server.lws; listener_start() creates it,
 * main.c destroys it at shutdown. */
#ifndef PARLEYD_LISTENER_H
#define PARLEYD_LISTENER_H

#include <stddef.h>

/* Create the context and listen; 0, or -1 with the reason in err. Sets
 * server.port to the port actually bound. */
int listener_start(char *err, size_t errlen);

#endif
