/* join.c - the `join` request: the ordered checks of docs/protocol.md §1 and
 * §2.4, then admission or the waiting room.
 *
 * The order is the contract: the first failing check answers, so a client
 * always learns the most fundamental problem first (its token before the
 * room, the room before the participant, the participant before limits).
 * Every refusal but 101 and -1 is fatal: the error, meeting-left with
 * JOIN_ROOM_FAILED, and the connection closes. */
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "handlers.h"
#include "lobby.h"
#include "room.h"
#include "server.h"
#include "token.h"

typedef struct join_req {
    conn *c;
    const char *id;
    const char *token, *meeting, *participant_id, *name, *mode;
    bool mic, cam;
    parley_token_result tok;
    parley_room rec;
    ev_ctx ctx;
} join_req;

static void refuse(join_req *j, int code, const char *hint)
{
    j->ctx.hint = hint;
    if (code == PARLEY_ERR_ACCOUNT_DISCONTINUED && j->tok.key_found)
        j->ctx.extra = j->tok.org.message;
    if (code == PARLEY_ERR_UNKNOWN_ERROR || code == PARLEY_ERR_USER_GENERIC_ERROR_CODE)
        sig_error_ctx(j->c, code, &j->ctx);
    else
        sig_fatal(j->c, code, &j->ctx, PARLEY_LEAVE_JOIN_ROOM_FAILED);
}

static bool read_fields(join_req *j, json_t *msg)
{
    conn *c = j->c;
    const char *id = j->id;
    return sig_string(c, msg, id, "token", false, &j->token) &&
           sig_string(c, msg, id, "meetingId", false, &j->meeting) &&
           sig_string(c, msg, id, "participantId", false, &j->participant_id) &&
           sig_string(c, msg, id, "name", false, &j->name) &&
           sig_string(c, msg, id, "mode", false, &j->mode) &&
           sig_bool(c, msg, id, "micEnabled", false, &j->mic) &&
           sig_bool(c, msg, id, "webcamEnabled", false, &j->cam);
}

/* §1: the token, its key, its organisation, permissions, roles. */
static bool check_token(join_req *j)
{
    int code = parley_token_check(server.store, j->token ? j->token : "", PARLEY_TOKEN_CTX_JOIN, 0,
                                  &j->tok);
    if (j->tok.key_found)
        j->ctx.org_id = j->tok.key.org_id;
    if (code) {
        j->ctx.detail = j->tok.detail;
        refuse(j, code, code == PARLEY_ERR_UNKNOWN_ERROR ? "storage failure" : j->tok.detail);
        return false;
    }
    return true;
}

/* §2.4 up to the participant: room, room binding, participant id, origin. */
static bool check_room_and_participant(join_req *j, char *pid, size_t pid_size)
{
    if (!access_room_ref_valid(j->meeting)) {
        refuse(j, PARLEY_ERR_INVALID_MEETING_ID, "meetingId is empty or malformed");
        return false;
    }
    int rc = parley_store_room_get(server.store, j->tok.key.org_id, j->meeting, &j->rec);
    if (rc == PARLEY_STORE_NOT_FOUND) {
        refuse(j, PARLEY_ERR_INVALID_MEETING_ID, "no such room");
        return false;
    }
    if (rc != PARLEY_STORE_OK) {
        j->ctx.detail = parley_store_errmsg(server.store);
        refuse(j, PARLEY_ERR_UNKNOWN_ERROR, "storage failure");
        return false;
    }
    j->ctx.room_id = j->rec.room_id;
    if (j->rec.disabled) {
        refuse(j, PARLEY_ERR_SESSION_CLOSED_ERROR_CODE, "the room is deactivated");
        return false;
    }
    if (parley_token_check_room(&j->tok.claims, j->rec.room_id, j->rec.custom_room_id)) {
        refuse(j, PARLEY_ERR_UNAUTHORIZED_MEETING_ID, "the token is bound to another room");
        return false;
    }

    const char *bound = parley_token_bound_participant(&j->tok.claims);
    if (j->participant_id)
        snprintf(pid, pid_size, "%s", j->participant_id);
    else if (bound)
        snprintf(pid, pid_size, "%s", bound);
    else if (parley_id_hex24(pid) != 0)
        pid[0] = '\0';
    if (!access_participant_id_valid(j->participant_id ? j->participant_id : pid)) {
        refuse(j, PARLEY_ERR_INVALID_PARTICIPANT_ID,
               "participantId must be 1-64 characters without whitespace");
        return false;
    }
    j->ctx.participant_id = pid;
    if (parley_token_check_participant(&j->tok.claims, pid)) {
        refuse(j, PARLEY_ERR_UNAUTHORIZED_PARTCIPANT_ID, "the token is bound to another participant");
        return false;
    }
    if (!parley_room_origin_allowed(&j->rec.settings, j->c->origin)) {
        refuse(j, PARLEY_ERR_UNAUTHORIZED_REQUEST, "this Origin is not allowed in the room");
        return false;
    }
    if (parley_token_check_key_room(&j->tok.key, j->rec.room_id, j->rec.custom_room_id)) {
        refuse(j, PARLEY_ERR_UNAUTHORIZED_REQUEST, "the API key is bound to another room");
        return false;
    }
    return true;
}

/* The same participantId is already here: replace the older one, or refuse. */
static bool handle_duplicate(join_req *j, room *r, const char *pid)
{
    participant *old = room_member(r, pid);
    if (!old)
        return true;
    if (r->settings.duplicate_policy == PARLEY_DUPLICATE_REJECT) {
        refuse(j, PARLEY_ERR_EXISTING_USER_IN_SESSION_ERROR_CODE,
               "this participantId is already in the meeting");
        return false;
    }
    if (old->conn) {
        ev_ctx ctx = {.hint = "the same participantId joined from another connection"};
        sig_fatal(old->conn, PARLEY_ERR_DUPLICATE_PARTICIPANT, &ctx,
                  PARLEY_LEAVE_DUPLICATE_PARTICIPANT);
    } else {
        participant_remove(old, PARLEY_LEAVE_DUPLICATE_PARTICIPANT, TELL_OTHERS);
    }
    return true;
}

static void run_join(join_req *j, json_t *msg)
{
    char pid[PARLEY_PARTICIPANT_ID_MAX + 1] = "";
    if (!read_fields(j, msg) || !check_token(j) || !check_room_and_participant(j, pid, sizeof pid))
        return;

    pmode mode = MODE_CONFERENCE;
    if (j->mode && !mode_parse(j->mode, &mode)) {
        refuse(j, PARLEY_ERR_USER_GENERIC_ERROR_CODE,
               "mode must be CONFERENCE or VIEWER (or SEND_AND_RECV, SIGNALLING_ONLY)");
        return;
    }
    if (j->name && strlen(j->name) > PARLEY_PARTICIPANT_NAME_MAX) {
        sig_error(j->c, PARLEY_ERR_TRANSPORT_ERROR_CODE, j->id, "name longer than 256 bytes");
        return;
    }

    room *r = room_find(j->rec.room_id);
    if (r) {
        r->settings = j->rec.settings; /* the REST API may have changed them */
        if (r->locked) {
            refuse(j, PARLEY_ERR_SESSION_GENERIC_ERROR_CODE, "the room is locked");
            return;
        }
        room_hold(r);
        if (!handle_duplicate(j, r, pid)) {
            room_release(r);
            return;
        }
        int code = access_check_limits(r, NULL, mode, true);
        if (code) {
            refuse(j, code, NULL);
            room_release(r);
            return;
        }
    } else {
        /* No live session: the limits of an empty room are the org's only. */
        char detail[256];
        room probe = {.org_id = j->rec.org_id, .settings = j->rec.settings};
        int code = access_check_limits(&probe, NULL, mode, true);
        if (code) {
            refuse(j, code, NULL);
            return;
        }
        code = room_open(&j->rec, &r, detail, sizeof detail);
        if (code) {
            j->ctx.detail = detail;
            refuse(j, code, "the server could not start a session");
            return;
        }
        room_hold(r);
    }
    j->ctx.session_id = r->session_id;

    participant *p = participant_add(r, pid);
    if (!p) {
        refuse(j, PARLEY_ERR_UNKNOWN_ERROR, "out of memory");
        room_release(r);
        return;
    }
    snprintf(p->name, sizeof p->name, "%s", j->name ? j->name : pid);
    snprintf(p->join_id, sizeof p->join_id, "%s", j->id ? j->id : "");
    p->mode = mode;
    p->perms = j->tok.claims.permissions;
    p->publish_grant = parley_token_publish_grant(&j->tok.claims);
    p->want_audio = j->mic;
    p->want_video = j->cam;
    p->conn = j->c;
    j->c->p = p;
    if (p->perms & PARLEY_PERM_ASK_JOIN)
        lobby_wait(p);
    else
        participant_admit(p, j->id);
    sig_touch(j->c);
    room_release(r);
}

void handle_join(conn *c, json_t *msg, const char *id)
{
    if (c->p) {
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, "this connection has already joined");
        return;
    }
    join_req j = {.c = c, .id = id, .ctx = {.id = id}};
    run_join(&j, msg);
    parley_token_result_free(&j.tok);
}
