/* rest.h - the REST handlers (rest_rooms.c, rest_sessions.c) and what they
 * share. Each handler gets the request and the path segment its route
 * matched (NULL when the route has none) and answers once. */
#ifndef PARLEYD_REST_H
#define PARLEYD_REST_H

#include <stdbool.h>

#include "http.h"

typedef void (*rest_handler)(http_req *rq, const char *segment);

void rest_health(http_req *rq, const char *segment);
void rest_room_create(http_req *rq, const char *segment);
void rest_room_list(http_req *rq, const char *segment);
void rest_room_validate(http_req *rq, const char *segment);
void rest_room_get(http_req *rq, const char *segment);
void rest_room_update(http_req *rq, const char *segment);
void rest_room_deactivate(http_req *rq, const char *segment);
void rest_session_list(http_req *rq, const char *segment);
void rest_session_get(http_req *rq, const char *segment);
void rest_session_participants(http_req *rq, const char *segment);
void rest_session_active(http_req *rq, const char *segment);
void rest_session_end(http_req *rq, const char *segment);
void rest_session_remove(http_req *rq, const char *segment);
void rest_error_list(http_req *rq, const char *segment);

/* The caller's room named ref (roomId or customRoomId): false after
 * answering 4003 (400 malformed, 404 unknown), 4022, 4025 or -1. */
bool rest_room_lookup(http_req *rq, const char *ref, parley_room *out);
/* page and perPage of the query: false after answering 803. */
bool rest_page(http_req *rq, parley_page *out);

#endif
