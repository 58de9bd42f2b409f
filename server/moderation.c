/* moderation.c - requests that act on others or on the whole room: end,
 * admission decisions, removal, mute requests, the lock and the
 * synchronizer role (docs/protocol.md §2.2).
 *
 * Moderator-only requests from a participant without allow_mod answer 4024
 * (not fatal here: the sender stays); admission decisions need allow_join. */
#include <string.h>

#include "handlers.h"
#include "lobby.h"
#include "room.h"
#include "token.h"

static bool require(conn *c, const char *id, unsigned perm)
{
    if (c->p->perms & perm)
        return true;
    sig_error(c, PARLEY_ERR_UNAUTHORIZED_ROLE, id,
              perm == PARLEY_PERM_ALLOW_JOIN ? "this request needs allow_join"
                                              : "this request needs allow_mod");
    return false;
}

participant *handler_target(conn *c, json_t *msg, const char *id, bool waiting)
{
    const char *pid;
    if (!sig_string(c, msg, id, "participantId", true, &pid))
        return NULL;
    participant *t = room_member(c->p->room, pid);
    if (!t || (t->state == PS_WAITING) != waiting) {
        sig_error(c, PARLEY_ERR_USER_NOT_FOUND_ERROR_CODE, id,
                  waiting ? "nobody with this participantId is waiting" : "no such participant");
        return NULL;
    }
    return t;
}

void handle_end(conn *c, json_t *msg, const char *id)
{
    (void)msg;
    if (!require(c, id, PARLEY_PERM_ALLOW_MOD))
        return;
    sig_reply(c, id, NULL);
    room_end(c->p->room, PARLEY_LEAVE_REMOVE_ALL);
}

void handle_entry_response(conn *c, json_t *msg, const char *id)
{
    if (!require(c, id, PARLEY_PERM_ALLOW_JOIN))
        return;
    const char *decision;
    if (!sig_string(c, msg, id, "decision", true, &decision))
        return;
    bool allowed = !strcmp(decision, "allowed");
    if (!allowed && strcmp(decision, "denied")) {
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, "decision must be allowed or denied");
        return;
    }
    participant *t = handler_target(c, msg, id, true);
    if (!t)
        return;
    sig_reply(c, id, NULL);
    lobby_decide(t, allowed);
}

void handle_remove_participant(conn *c, json_t *msg, const char *id)
{
    if (!require(c, id, PARLEY_PERM_ALLOW_MOD))
        return;
    participant *t = handler_target(c, msg, id, false);
    if (!t)
        return;
    sig_reply(c, id, NULL);
    participant_remove(t, PARLEY_LEAVE_REMOVE_PEER, TELL_SELF | TELL_OTHERS);
}

void handle_request_mute(conn *c, json_t *msg, const char *id)
{
    if (!require(c, id, PARLEY_PERM_ALLOW_MOD))
        return;
    const char *kind;
    if (!sig_string(c, msg, id, "kind", true, &kind))
        return;
    if (strcmp(kind, "audio") && strcmp(kind, "video")) {
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, "kind must be audio or video");
        return;
    }
    participant *t = handler_target(c, msg, id, false);
    if (!t)
        return;
    if (!t->conn) {
        /* Still in the room, within its reconnection grace, but nobody to tell:
         * say so rather than report a delivery that did not happen. */
        sig_error(c, PARLEY_ERR_USER_CLOSED_ERROR_CODE, id,
                  "the participant's connection is closed; it may reconnect shortly");
        return;
    }
    sig_reply(c, id, NULL);
    sig_send(t->conn, json_pack("{s:s, s:s, s:s}", "type", "mute-requested", "by", c->p->id,
                                "kind", kind));
}

static void set_lock(conn *c, const char *id, bool locked)
{
    room *r = c->p->room;
    if (!require(c, id, PARLEY_PERM_ALLOW_MOD))
        return;
    if (locked && r->locked) {
        sig_error(c, PARLEY_ERR_SESSION_GENERIC_ERROR_CODE, id, "the room is already locked");
        return;
    }
    r->locked = locked;
    sig_reply(c, id, NULL);
    room_broadcast(r, json_pack("{s:s, s:b, s:s}", "type", "lock-changed", "locked", locked, "by",
                                c->p->id),
                   NULL);
}

void handle_lock(conn *c, json_t *msg, const char *id)
{
    (void)msg;
    set_lock(c, id, true);
}

void handle_unlock(conn *c, json_t *msg, const char *id)
{
    (void)msg;
    set_lock(c, id, false);
}

void handle_set_synchronizer(conn *c, json_t *msg, const char *id)
{
    if (!require(c, id, PARLEY_PERM_ALLOW_MOD))
        return;
    participant *t = handler_target(c, msg, id, false);
    if (!t)
        return;
    room *r = c->p->room;
    memcpy(r->synchronizer, t->id, sizeof r->synchronizer);
    sig_reply(c, id, NULL);
    room_broadcast(r,
                   json_pack("{s:s, s:s}", "type", "synchronizer-changed", "participantId", t->id),
                   NULL);
}
