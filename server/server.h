/* server.h - the one parleyd instance: its settings, loop, store and rooms.
 *
 * parleyd is single-threaded. The libuv loop runs libwebsockets (REST and
 * signaling on one port), every timer, and every SQLite call (synchronous,
 * on the loop: WAL keeps them short). So the state below is touched by the
 * loop thread only and needs no locks. See docs/architecture.md.
 *
 * Ownership: `server` is a static global owned by main.c; it owns the store
 * handle, the lws context, the live rooms (room.c) and the open signaling
 * connections (signaling.c). Nothing else frees them. */
#ifndef PARLEYD_SERVER_H
#define PARLEYD_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include <uv.h>

#include "config.h"
#include "store.h"

struct lws_context;
struct room;
struct conn;

typedef struct parley_server {
    parley_config cfg;
    uv_loop_t loop;
    struct lws_context *lws;
    parley_store *store;
    int port;             /* the port actually listened on */
    bool stopping;        /* shutdown under way: no new work, no grace timers */
    struct room *rooms;   /* live rooms (a live session each), room.c */
    size_t live_sessions; /* how many rooms are live */
    struct conn *conns;   /* open signaling connections, signaling.c */
} parley_server;

extern parley_server server;

/* Begin a clean shutdown from inside the loop (signals call this). */
void parley_server_stop(void);

#endif
