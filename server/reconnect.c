/* reconnect.c - `reconnect`: a participant whose connection dropped takes
 * its place back within the grace period (docs/protocol.md §2.5).
 *
 * The participant secret from `joined` is the proof; it is compared in
 * constant time. The token is checked in the refresh context, so its
 * problems answer 1100 (expired) and 1101 (anything else). If the old
 * connection is still open (a half-open link the client gave up on), it is
 * told it was replaced (4005, meeting-left 1011) and dropped; the
 * participant itself stays and nobody else notices. Its media carries on,
 * and the client may negotiate it afresh without being answered 303
 * (media_participant_reconnected). */
#include <string.h>

#include <openssl/crypto.h>

#include "access.h"
#include "handlers.h"
#include "media.h"
#include "room.h"
#include "server.h"
#include "token.h"

static bool secret_matches(const char *given, const char *secret)
{
    size_t n = strlen(secret);
    return strlen(given) == n && CRYPTO_memcmp(given, secret, n) == 0;
}

void handle_reconnect(conn *c, json_t *msg, const char *id)
{
    if (c->p) {
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, "this connection has already joined");
        return;
    }
    const char *token, *meeting, *pid, *secret;
    if (!sig_string(c, msg, id, "token", false, &token) ||
        !sig_string(c, msg, id, "meetingId", true, &meeting) ||
        !sig_string(c, msg, id, "participantId", true, &pid) ||
        !sig_string(c, msg, id, "secret", true, &secret))
        return;

    ev_ctx ctx = {.id = id};
    parley_token_result tok = {0};
    int code = parley_token_check(server.store, token ? token : "", PARLEY_TOKEN_CTX_REFRESH, 0,
                                  &tok);
    if (tok.key_found)
        ctx.org_id = tok.key.org_id;
    if (code) {
        ctx.hint = code == PARLEY_ERR_UNKNOWN_ERROR ? "storage failure" : tok.detail;
        ctx.detail = tok.detail;
        if (code == PARLEY_ERR_ACCOUNT_DISCONTINUED)
            ctx.extra = tok.org.message;
        if (code == PARLEY_ERR_UNKNOWN_ERROR)
            sig_error_ctx(c, code, &ctx);
        else
            sig_fatal(c, code, &ctx, PARLEY_LEAVE_WEBSOCKET_DISCONNECTED);
        goto out;
    }

    parley_room rec;
    int rc = access_room_ref_valid(meeting)
                 ? parley_store_room_get(server.store, tok.key.org_id, meeting, &rec)
                 : PARLEY_STORE_NOT_FOUND;
    if (rc != PARLEY_STORE_OK && rc != PARLEY_STORE_NOT_FOUND) {
        ctx.detail = parley_store_errmsg(server.store);
        ctx.hint = "storage failure";
        sig_error_ctx(c, PARLEY_ERR_UNKNOWN_ERROR, &ctx);
        goto out;
    }
    if (rc == PARLEY_STORE_NOT_FOUND) {
        ctx.hint = "no such room";
        sig_fatal(c, PARLEY_ERR_INVALID_MEETING_ID, &ctx, PARLEY_LEAVE_WEBSOCKET_DISCONNECTED);
        goto out;
    }
    ctx.room_id = rec.room_id;
    ctx.participant_id = pid;
    if (parley_token_check_room(&tok.claims, rec.room_id, rec.custom_room_id) ||
        parley_token_check_participant(&tok.claims, pid)) {
        ctx.hint = "the token is bound to another room or participant";
        sig_fatal(c, PARLEY_ERR_TOKEN_DATA_IS_NOT_VALID, &ctx, PARLEY_LEAVE_WEBSOCKET_DISCONNECTED);
        goto out;
    }
    room *r = room_find(rec.room_id);
    if (!r || rec.disabled) {
        ctx.hint = "the session has ended";
        sig_fatal(c, PARLEY_ERR_SESSION_CLOSED_ERROR_CODE, &ctx, PARLEY_LEAVE_ROOM_CLOSE);
        goto out;
    }
    ctx.session_id = r->session_id;
    participant *p = room_member(r, pid);
    if (!p || p->state == PS_WAITING || !secret_matches(secret, p->secret)) {
        ctx.hint = p ? "wrong participant secret" : "no such participant to resume";
        sig_error_ctx(c, PARLEY_ERR_USER_NOT_AUTHORIZED_ERROR_CODE, &ctx);
        goto out;
    }

    if (p->conn) {
        conn *old = p->conn;
        old->p = NULL;
        p->conn = NULL;
        ev_ctx octx = {.room_id = r->room_id, .session_id = r->session_id,
                       .participant_id = p->id, .org_id = r->org_id,
                       .hint = "the participant reconnected on another connection"};
        sig_send(old, ev_error(PARLEY_ERR_DUPLICATE_PARTICIPANT, true, &octx));
        sig_leave(old, PARLEY_LEAVE_DUPLICATE_PARTICIPANT);
    }
    ptimer_cancel(p->timer);
    p->timer = NULL;
    p->state = PS_JOINED;
    p->conn = c;
    c->p = p;
    sig_send(c, joined_json(p, id, true));
    media_participant_reconnected(p);
    sig_touch(c);
out:
    parley_token_result_free(&tok);
}
