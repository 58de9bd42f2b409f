/* static.h - files from the web root (the demo page and parley.js) and the
 * development-only demo endpoints.
 *
 * static_serve answers GET / and GET of any file under cfg.web_root (for
 * example /sdk/parley.js, /sdk/errors.js, /demo.js) with lws's own file
 * serving; REST and signaling paths are never looked up there. The demo
 * endpoints answer only when parleyd runs with --demo: they mint tokens
 * and create rooms with the 'demo' organisation's key, for a person trying
 * Parley on their own machine. They must never be reachable publicly. */
#ifndef PARLEYD_STATIC_H
#define PARLEYD_STATIC_H

#include "http.h"

struct lws;

/* 0: not a static file, go on with REST; 1: being served; -1: close. */
int static_serve(struct lws *wsi, const char *uri);

/* POST /demo/token {roomId?, participantId?, permissions?} -> {token}
 * POST /demo/room {customRoomId?, settings?} -> room. 999/404 without --demo. */
void static_demo_token(http_req *rq, const char *segment);
void static_demo_room(http_req *rq, const char *segment);

#endif
