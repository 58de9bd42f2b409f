/* rest_sessions.c - the sessions and error-history API of docs/protocol.md
 * §3: list and fetch sessions and their participants, end a session or
 * remove a participant from it, and read the error history.
 *
 * Sessions come from the store (the history); ending and removing act on
 * the live room (room.c), which writes the store as it goes. An unknown
 * session or participant answers 102 (404); a session that has already
 * ended answers 203 (409). */
#include <stdlib.h>
#include <string.h>

#include "rest.h"
#include "room.h"
#include "server.h"

/* The caller's session id: false after answering 102, 4022 or -1. */
static bool session_lookup(http_req *rq, const char *id, parley_session *out)
{
    if (!parley_hex24_valid(id)) {
        http_fail(rq, PARLEY_ERR_USER_NOT_FOUND_ERROR_CODE, 404, NULL, "no such session");
        return false;
    }
    int rc = parley_store_session_get(server.store, rq->tok.key.org_id, id, out);
    if (rc == PARLEY_STORE_NOT_FOUND) {
        http_fail(rq, PARLEY_ERR_USER_NOT_FOUND_ERROR_CODE, 404, NULL, "no such session");
        return false;
    }
    if (rc != PARLEY_STORE_OK) {
        http_fail_store(rq, NULL);
        return false;
    }
    const char *bound = parley_token_bound_room(&rq->tok.claims);
    if (bound) {
        parley_room rec;
        if (parley_store_room_get(server.store, rq->tok.key.org_id, out->room_id, &rec) !=
                PARLEY_STORE_OK ||
            parley_token_check_room(&rq->tok.claims, rec.room_id, rec.custom_room_id)) {
            http_fail(rq, PARLEY_ERR_UNAUTHORIZED_MEETING_ID, 403, out->room_id,
                      "the token is bound to another room");
            return false;
        }
    }
    return true;
}

static void reply_session(http_req *rq, const char *session_id)
{
    parley_session s;
    json_t *out = NULL;
    if (parley_store_session_get(server.store, rq->tok.key.org_id, session_id, &s) !=
            PARLEY_STORE_OK ||
        parley_store_session_json(server.store, &s, &out) != PARLEY_STORE_OK) {
        http_fail_store(rq, NULL);
        return;
    }
    http_reply(rq, 200, out);
}

void rest_session_list(http_req *rq, const char *segment)
{
    (void)segment;
    parley_page page;
    parley_room rec;
    const char *ref = http_arg(rq, "roomId");
    if (!rest_page(rq, &page) || (ref && !rest_room_lookup(rq, ref, &rec)))
        return;
    json_t *out = NULL;
    if (parley_store_session_list_json(server.store, rq->tok.key.org_id, ref ? rec.room_id : NULL,
                                       page, &out) != PARLEY_STORE_OK) {
        http_fail_store(rq, ref ? rec.room_id : NULL);
        return;
    }
    http_reply(rq, 200, out);
}

void rest_session_get(http_req *rq, const char *segment)
{
    parley_session s;
    json_t *out = NULL;
    if (!session_lookup(rq, segment, &s))
        return;
    if (parley_store_session_json(server.store, &s, &out) != PARLEY_STORE_OK) {
        http_fail_store(rq, s.room_id);
        return;
    }
    http_reply(rq, 200, out);
}

static void participants(http_req *rq, const char *segment, bool active)
{
    parley_session s;
    parley_page page;
    json_t *out = NULL;
    if (!rest_page(rq, &page) || !session_lookup(rq, segment, &s))
        return;
    if (parley_store_participants_json(server.store, s.id, page, active, &out) != PARLEY_STORE_OK) {
        http_fail_store(rq, s.room_id);
        return;
    }
    http_reply(rq, 200, out);
}

void rest_session_participants(http_req *rq, const char *segment)
{
    participants(rq, segment, false);
}

void rest_session_active(http_req *rq, const char *segment)
{
    participants(rq, segment, true);
}

/* The live room of the body's roomId, matching its optional sessionId:
 * NULL after answering (803, 4003, 4022, 4025, 102, 203, -1). */
static room *live_room(http_req *rq, json_t *body)
{
    json_t *rv = json_object_get(body, "roomId"), *sv = json_object_get(body, "sessionId");
    const char *ref = json_string_value(rv);
    const char *sid = json_string_value(sv);
    if (!ref || (sv && !json_is_null(sv) && !sid)) {
        http_fail(rq, PARLEY_ERR_TRANSPORT_ERROR_CODE, 400, NULL,
                  "roomId (a string) is required; sessionId must be a string");
        return NULL;
    }
    parley_room rec;
    if (!rest_room_lookup(rq, ref, &rec))
        return NULL;
    room *r = room_find(rec.room_id);
    if (r && (!sid || !strcmp(sid, r->session_id)))
        return r;
    parley_session s;
    if (sid && parley_hex24_valid(sid) &&
        parley_store_session_get(server.store, rq->tok.key.org_id, sid, &s) == PARLEY_STORE_OK &&
        !strcmp(s.room_id, rec.room_id) && !s.ongoing) {
        http_fail(rq, PARLEY_ERR_SESSION_CLOSED_ERROR_CODE, 409, rec.room_id,
                  "the session has already ended");
        return NULL;
    }
    http_fail(rq, PARLEY_ERR_USER_NOT_FOUND_ERROR_CODE, 404, rec.room_id,
              sid ? "no such session in this room" : "the room has no live session");
    return NULL;
}

void rest_session_end(http_req *rq, const char *segment)
{
    (void)segment;
    json_t *body = http_body_object(rq);
    if (!body)
        return;
    room *r = live_room(rq, body);
    json_decref(body);
    if (!r)
        return;
    char sid[PARLEY_HEX_ID_LEN + 1];
    memcpy(sid, r->session_id, sizeof sid);
    room_end(r, PARLEY_LEAVE_MEETING_END_API);
    reply_session(rq, sid);
}

void rest_session_remove(http_req *rq, const char *segment)
{
    (void)segment;
    json_t *body = http_body_object(rq);
    if (!body)
        return;
    const char *pid = json_string_value(json_object_get(body, "participantId"));
    room *r = NULL;
    if (!pid)
        http_fail(rq, PARLEY_ERR_TRANSPORT_ERROR_CODE, 400, NULL,
                  "participantId (a string) is required");
    else
        r = live_room(rq, body);
    if (!r) {
        json_decref(body);
        return;
    }
    participant *p = room_member(r, pid);
    if (!p || p->state == PS_WAITING) {
        http_fail(rq, PARLEY_ERR_USER_NOT_FOUND_ERROR_CODE, 404, r->room_id,
                  "no such participant in the session");
        json_decref(body);
        return;
    }
    char sid[PARLEY_HEX_ID_LEN + 1];
    memcpy(sid, r->session_id, sizeof sid);
    json_decref(body);
    participant_remove(p, PARLEY_LEAVE_REMOVE_PEER_API, TELL_SELF | TELL_OTHERS);
    reply_session(rq, sid);
}

void rest_error_list(http_req *rq, const char *segment)
{
    (void)segment;
    parley_page page;
    parley_room rec;
    const char *ref = http_arg(rq, "roomId"), *code = http_arg(rq, "code");
    if (!rest_page(rq, &page) || (ref && !rest_room_lookup(rq, ref, &rec)))
        return;
    parley_error_filter f = {.org_id = rq->tok.key.org_id,
                             .room_id = ref ? rec.room_id : NULL,
                             .session_id = http_arg(rq, "sessionId")};
    if (code) {
        char *end;
        long v = strtol(code, &end, 10);
        if (!*code || *end || v < -1000000 || v > 1000000) {
            http_fail(rq, PARLEY_ERR_TRANSPORT_ERROR_CODE, 400, NULL, "code must be a number");
            return;
        }
        f.has_code = true;
        f.code = (int)v;
    }
    json_t *out = NULL;
    if (parley_store_error_list_json(server.store, &f, page, &out) != PARLEY_STORE_OK) {
        http_fail_store(rq, f.room_id);
        return;
    }
    http_reply(rq, 200, out);
}
