/* handlers.h - the signaling request handlers, one per message type of
 * docs/protocol.md §2.2, grouped by concern: join.c (join), reconnect.c
 * (reconnect), requests.c (a participant's own requests), moderation.c
 * (requests that act on others or on the room).
 *
 * Each handler answers exactly once: sig_reply() or an error event. msg is
 * borrowed; id is the message's id or NULL. */
#ifndef PARLEYD_HANDLERS_H
#define PARLEYD_HANDLERS_H

#include <jansson.h>
#include <stdbool.h>

#include "signaling.h"

typedef void (*sig_handler)(conn *c, json_t *msg, const char *id);

/* The member named by msg's participantId: a waiting one if waiting, else a
 * joined (or away) one. Answers 803 (no participantId) or 102 (nobody such)
 * and returns NULL otherwise. */
struct participant *handler_target(conn *c, json_t *msg, const char *id, bool waiting);

void handle_join(conn *c, json_t *msg, const char *id);
void handle_reconnect(conn *c, json_t *msg, const char *id);

void handle_leave(conn *c, json_t *msg, const char *id);
void handle_change_mode(conn *c, json_t *msg, const char *id);
void handle_publish(conn *c, json_t *msg, const char *id);
void handle_unpublish(conn *c, json_t *msg, const char *id);
void handle_sync(conn *c, json_t *msg, const char *id);
void handle_refresh_token(conn *c, json_t *msg, const char *id);
void handle_chat(conn *c, json_t *msg, const char *id);

void handle_end(conn *c, json_t *msg, const char *id);
void handle_entry_response(conn *c, json_t *msg, const char *id);
void handle_remove_participant(conn *c, json_t *msg, const char *id);
void handle_request_mute(conn *c, json_t *msg, const char *id);
void handle_lock(conn *c, json_t *msg, const char *id);
void handle_unlock(conn *c, json_t *msg, const char *id);
void handle_set_synchronizer(conn *c, json_t *msg, const char *id);

#endif
