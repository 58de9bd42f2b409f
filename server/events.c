/* events.c - error events and leave reasons from the catalog, logged and
 * recorded in the error history.
 *
 * The store write is best effort: when the store itself is what failed, the
 * log line (which always carries the request id) is what remains. */
#include <stdio.h>
#include <string.h>

#include <parley/errors.h>

#include "events.h"
#include "log.h"
#include "server.h"
#include "store.h"

/* Codes whose remedy is to ask the operator: their message ends with the
 * operator's contact when one is configured. */
static bool sends_to_operator(int code)
{
    switch (code) {
    case PARLEY_ERR_ACCOUNT_DEACTIVATED:
    case PARLEY_ERR_ACCOUNT_DISCONTINUED:
    case PARLEY_ERR_MAX_PARTCIPANT_REACHED:
    case PARLEY_ERR_MAX_SPEAKER_REACHED:
    case PARLEY_ERR_MAX_SPEAKER_LIMIT_REACHED_ON_ORGANIZATION:
    case PARLEY_ERR_MAX_VIEWER_LIMIT_REACHED_ON_ORGANIZATION:
    case PARLEY_ERR_MAX_RECORDING_LIMIT_REACHED_ON_ORGANIZATION:
    case PARLEY_ERR_MAX_HLS_LIMIT_REACHED_ON_ORGANIZATION:
    case PARLEY_ERR_MAX_LIVESTREAM_LIMIT_REACHED_ON_ORGANIZATION:
    case PARLEY_ERR_SESSION_CANNOT_BE_CREATED_ERROR_CODE:
    case PARLEY_ERR_UNKNOWN_ERROR:
        return true;
    default:
        return false;
    }
}

static const parley_error_info *info_of(int code)
{
    return parley_error_lookup(code, PARLEY_PROFILE_ALL);
}

void ev_message(int code, const ev_ctx *ctx, char *out, size_t len)
{
    const parley_error_info *e = info_of(code);
    const char *base = ctx && ctx->message ? ctx->message : e ? e->message : "";
    int n = snprintf(out, len, "%s", base);
    if (ctx && ctx->extra && ctx->extra[0] && n >= 0 && (size_t)n < len)
        n += snprintf(out + n, len - (size_t)n, " %s", ctx->extra);
    const char *contact = server.cfg.operator_contact;
    if (contact[0] && sends_to_operator(code) && n >= 0 && (size_t)n < len)
        snprintf(out + n, len - (size_t)n, " Contact the operator: %s.", contact);
}

static void copy(char *dst, size_t size, const char *src)
{
    size_t n = src ? strnlen(src, size - 1) : 0;
    if (n)
        memcpy(dst, src, n);
    dst[n] = '\0';
}

void ev_record(int code, const ev_ctx *ctx, const char *message,
               char request_id[PARLEY_REQUEST_ID_LEN + 1])
{
    static const ev_ctx none;
    if (!ctx)
        ctx = &none;
    char text[1024];
    if (!message) {
        ev_message(code, ctx, text, sizeof text);
        message = text;
    }
    if (parley_id_request(request_id) != 0)
        request_id[0] = '\0';
    const parley_error_info *e = info_of(code);

    parley_log_ctx lc = {
        .request_id = request_id,
        .room_id = ctx->room_id,
        .participant_id = ctx->participant_id,
        .session_id = ctx->session_id,
        .has_code = true,
        .code = code,
    };
    json_t *extra = json_object();
    json_object_set_new(extra, "name", json_string(e ? e->name : "?"));
    if (ctx->hint)
        json_object_set_new(extra, "hint", json_string(ctx->hint));
    if (ctx->detail)
        json_object_set_new(extra, "detail", json_string(ctx->detail));
    parley_log_level level = code == PARLEY_ERR_UNKNOWN_ERROR ? PARLEY_LOG_ERROR : PARLEY_LOG_WARN;
    parley_log_json(level, &lc, extra, "%s", message);

    if (!server.store)
        return;
    parley_error_record rec;
    memset(&rec, 0, sizeof rec);
    rec.code = code;
    copy(rec.message, sizeof rec.message, message);
    rec.org_id = ctx->org_id;
    copy(rec.room_id, sizeof rec.room_id, ctx->room_id);
    copy(rec.session_id, sizeof rec.session_id, ctx->session_id);
    copy(rec.participant_id, sizeof rec.participant_id, ctx->participant_id);
    copy(rec.request_id, sizeof rec.request_id, request_id);
    if (parley_store_error_add(server.store, &rec) != PARLEY_STORE_OK)
        parley_log(PARLEY_LOG_ERROR, &lc, "could not record error %d in the history: %s", code,
                   parley_store_errmsg(server.store));
}

/* The part every error body shares, signaling or REST: {code, name, message}
 * added to body, after recording the error in the history; the request id
 * lands in rid. */
static void error_body(json_t *body, int code, const ev_ctx *ctx, char rid[PARLEY_REQUEST_ID_LEN + 1])
{
    const parley_error_info *e = info_of(code);
    char message[1024];
    ev_message(code, ctx, message, sizeof message);
    ev_record(code, ctx, message, rid);
    json_object_set_new(body, "code", json_integer(code));
    json_object_set_new(body, "name", json_string(e ? e->name : "UNKNOWN_ERROR"));
    json_object_set_new(body, "message", json_string(message));
}

json_t *ev_error(int code, bool fatal, const ev_ctx *ctx)
{
    static const ev_ctx none;
    if (!ctx)
        ctx = &none;
    char rid[PARLEY_REQUEST_ID_LEN + 1];
    json_t *ev = json_object();
    json_object_set_new(ev, "type", json_string("error"));
    if (ctx->id)
        json_object_set_new(ev, "id", json_string(ctx->id));
    error_body(ev, code, ctx, rid);
    if (ctx->hint)
        json_object_set_new(ev, "hint", json_string(ctx->hint));
    json_object_set_new(ev, "fatal", json_boolean(fatal));
    if (ctx->room_id && ctx->room_id[0])
        json_object_set_new(ev, "roomId", json_string(ctx->room_id));
    if (ctx->participant_id && ctx->participant_id[0])
        json_object_set_new(ev, "participantId", json_string(ctx->participant_id));
    json_object_set_new(ev, "requestId", json_string(rid));
    return ev;
}

json_t *ev_rest_error(int code, int status, const ev_ctx *ctx)
{
    static const ev_ctx none;
    if (!ctx)
        ctx = &none;
    char rid[PARLEY_REQUEST_ID_LEN + 1];
    json_t *body = json_object();
    error_body(body, code, ctx, rid);
    json_object_set_new(body, "statusCode", json_integer(status));
    if (ctx->hint)
        json_object_set_new(body, "hint", json_string(ctx->hint));
    json_object_set_new(body, "requestId", json_string(rid));
    return body;
}

json_t *ev_reason(int leave_code)
{
    const parley_leave_reason *r = parley_leave_reason_lookup(leave_code);
    if (!r)
        r = parley_leave_reason_lookup(PARLEY_LEAVE_UNKNOWN);
    return json_pack("{s:i, s:s, s:s}", "code", r->code, "name", r->name, "message", r->message);
}

json_t *ev_meeting_left(int leave_code)
{
    return json_pack("{s:s, s:o}", "type", "meeting-left", "reason", ev_reason(leave_code));
}
