/* requests.c - what a joined participant asks for itself: leave, mode,
 * media, sync data, token refresh and chat (docs/protocol.md §2.2).
 *
 * The dispatcher (signaling.c) has already checked that the sender joined;
 * each handler checks its fields (803), its preconditions, and answers once. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "access.h"
#include "handlers.h"
#include "media.h"
#include "room.h"
#include "server.h"
#include "token.h"

#define CHAT_TOPIC_MAX 64
#define CHAT_MESSAGE_MAX 4096

void handle_leave(conn *c, json_t *msg, const char *id)
{
    (void)msg;
    sig_reply(c, id, NULL);
    participant_remove(c->p, PARLEY_LEAVE_MANUAL_LEAVE_CALLED, TELL_SELF | TELL_OTHERS);
}

void handle_change_mode(conn *c, json_t *msg, const char *id)
{
    participant *self = c->p;
    const char *mode_text, *target_id;
    if (!sig_string(c, msg, id, "mode", true, &mode_text) ||
        !sig_string(c, msg, id, "participantId", false, &target_id))
        return;
    pmode mode;
    if (!mode_parse(mode_text, &mode)) {
        sig_error(c, PARLEY_ERR_USER_GENERIC_ERROR_CODE, id,
                  "mode must be CONFERENCE or VIEWER (or SEND_AND_RECV, SIGNALLING_ONLY)");
        return;
    }
    participant *target = self;
    if (target_id && strcmp(target_id, self->id)) {
        if (!(self->perms & PARLEY_PERM_ALLOW_MOD)) {
            sig_error(c, PARLEY_ERR_UNAUTHORIZED_ROLE, id,
                      "changing another participant's mode needs allow_mod");
            return;
        }
        target = room_member(self->room, target_id);
        if (!target || target->state == PS_WAITING) {
            sig_error(c, PARLEY_ERR_USER_NOT_FOUND_ERROR_CODE, id, "no such participant");
            return;
        }
    }
    if (target->mode != mode) {
        int code = access_check_limits(self->room, target, mode, false);
        if (code) {
            sig_error(c, code, id, "the participant keeps its mode");
            return;
        }
        participant_set_mode(target, mode);
        if (mode == MODE_VIEWER) {
            media_unpublish(target);
            participant_set_media(target, false, false);
        }
    }
    sig_reply(c, id, NULL);
    room_broadcast(self->room,
                   json_pack("{s:s, s:s, s:s}", "type", "mode-changed", "participantId",
                             target->id, "mode", mode_name(mode)),
                   NULL);
}

void handle_publish(conn *c, json_t *msg, const char *id)
{
    participant *p = c->p;
    bool audio = false, video = false, screen = false;
    if (!sig_bool(c, msg, id, "audio", true, &audio) || !sig_bool(c, msg, id, "video", true, &video) ||
        !sig_bool(c, msg, id, "screen", false, &screen))
        return;
    if (!audio && !video && !screen) {
        sig_error(c, PARLEY_ERR_USER_NOT_STREAMING_ERROR_CODE, id,
                  "publish at least one of audio, video and screen");
        return;
    }
    if (p->mode == MODE_VIEWER) {
        sig_error(c, PARLEY_ERR_USER_GENERIC_ERROR_CODE, id, "a VIEWER does not publish");
        return;
    }
    if (audio && !(p->publish_grant & PARLEY_PUBLISH_MICROPHONE)) {
        sig_error(c, PARLEY_ERR_USER_AUDIO_PERMISSION_DENIED_ERROR_CODE, id,
                  "the token does not grant microphone publishing");
        return;
    }
    if (video && !(p->publish_grant & PARLEY_PUBLISH_CAMERA)) {
        sig_error(c, PARLEY_ERR_USER_VIDEO_PERMISSION_DENIED_ERROR_CODE, id,
                  "the token does not grant camera publishing");
        return;
    }
    if (screen && !(p->publish_grant & PARLEY_PUBLISH_SCREEN)) {
        sig_error(c, PARLEY_ERR_USER_VIDEO_PERMISSION_DENIED_ERROR_CODE, id,
                  "the token does not grant screen publishing");
        return;
    }
    int max = p->room->settings.max_publishers;
    if (!p->audio && !p->video && max > 0) {
        room_counts n;
        room_count(p->room, p, &n);
        if (n.publishers >= max) {
            sig_error(c, PARLEY_ERR_SESSION_IS_FULL_ERROR_CODE, id,
                      "the room's publisher limit is reached");
            return;
        }
    }
    /* a screen is video to the others and to the publisher limit */
    participant_set_media(p, audio, video || screen);
    sig_reply(c, id, json_pack("{s:b, s:b, s:b}", "audio", audio, "video", video, "screen", screen));
}

void handle_unpublish(conn *c, json_t *msg, const char *id)
{
    (void)msg;
    media_unpublish(c->p);
    participant_set_media(c->p, false, false);
    sig_reply(c, id, NULL);
}

void handle_sync(conn *c, json_t *msg, const char *id)
{
    participant *p = c->p;
    double position = 0, rate = 0;
    bool paused = false;
    if (!sig_number(c, msg, id, "position", true, &position) ||
        !sig_number(c, msg, id, "rate", true, &rate) ||
        !sig_bool(c, msg, id, "paused", false, &paused))
        return;
    if (!isfinite(position) || position < 0) {
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, "position must be a number >= 0");
        return;
    }
    if (!isfinite(rate) || rate <= 0) {
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, "rate must be a number > 0");
        return;
    }
    if (strcmp(p->room->synchronizer, p->id)) {
        sig_error(c, PARLEY_ERR_USER_NOT_AUTHORIZED_ERROR_CODE, id,
                  "only the synchronizer sends sync data");
        return;
    }
    sig_reply(c, id, NULL);
    room_broadcast(p->room,
                   json_pack("{s:s, s:s, s:f, s:f, s:b}", "type", "sync-data", "participantId",
                             p->id, "position", position, "rate", rate, "paused", paused),
                   p);
}

void handle_refresh_token(conn *c, json_t *msg, const char *id)
{
    participant *p = c->p;
    room *r = p->room;
    const char *token;
    if (!sig_string(c, msg, id, "token", true, &token))
        return;
    parley_token_result tok = {0};
    ev_ctx ctx = {.id = id};
    int code = parley_token_check(server.store, token, PARLEY_TOKEN_CTX_REFRESH, 0, &tok);
    if (!code && tok.key.org_id != r->org_id) {
        code = PARLEY_ERR_TOKEN_DATA_IS_NOT_VALID;
        snprintf(tok.detail, sizeof tok.detail, "the API key belongs to another organisation");
    }
    if (!code && parley_token_check_room(&tok.claims, r->room_id, r->custom_room_id)) {
        code = PARLEY_ERR_UNAUTHORIZED_MEETING_ID;
        snprintf(tok.detail, sizeof tok.detail, "the token is bound to another room");
    }
    if (!code && parley_token_check_participant(&tok.claims, p->id)) {
        code = PARLEY_ERR_UNAUTHORIZED_PARTCIPANT_ID;
        snprintf(tok.detail, sizeof tok.detail, "the token is bound to another participant");
    }
    if (code == PARLEY_ERR_UNKNOWN_ERROR) {
        ctx.hint = "storage failure";
        ctx.detail = tok.detail;
        sig_error_ctx(c, code, &ctx);
    } else if (code) {
        ctx.hint = tok.detail;
        if (code == PARLEY_ERR_ACCOUNT_DISCONTINUED)
            ctx.extra = tok.org.message;
        sig_fatal(c, code, &ctx, PARLEY_LEAVE_UNKNOWN);
    } else {
        p->perms = tok.claims.permissions;
        p->publish_grant = parley_token_publish_grant(&tok.claims);
        sig_reply(c, id,
                  json_pack("{s:o}", "exp",
                            tok.claims.has_exp ? json_integer(tok.claims.exp) : json_null()));
    }
    parley_token_result_free(&tok);
}

void handle_chat(conn *c, json_t *msg, const char *id)
{
    participant *p = c->p;
    const char *topic, *text;
    if (!sig_string(c, msg, id, "topic", true, &topic) ||
        !sig_string(c, msg, id, "message", true, &text))
        return;
    size_t tlen = strlen(topic);
    if (tlen == 0 || tlen > CHAT_TOPIC_MAX) {
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, "topic must be 1-64 characters");
        return;
    }
    if (strlen(text) > CHAT_MESSAGE_MAX) {
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, "message longer than 4 KiB");
        return;
    }
    sig_reply(c, id, NULL);
    room_broadcast(p->room,
                   json_pack("{s:s, s:s, s:s, s:s, s:I}", "type", "chat", "topic", topic, "from",
                             p->id, "message", text, "timestamp", (json_int_t)parley_now_ms()),
                   NULL);
}
