/* events.h - Parley's error events and leave reasons, built from the catalog.
 *
 * Every error the server emits, on a WebSocket or as a REST answer, goes
 * through here: the name, message and fatal flag come from the catalog
 * (<parley/errors.h>), a fresh request id is stamped on it, the operator
 * contact is appended where users are sent to the operator, and the event
 * is written to the log and to the store's error history.
 *
 * Ownership: functions returning json_t * return a new reference the
 * caller owns. ev_ctx fields are borrowed for the duration of the call. */
#ifndef PARLEYD_EVENTS_H
#define PARLEYD_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <parley/error_codes.h>

#include "ids.h"

typedef struct ev_ctx {
    const char *id;             /* the id of the message answered, or NULL */
    const char *hint;           /* short pointer at the cause, or NULL */
    const char *message;        /* replaces the catalog's message, or NULL */
    const char *extra;          /* appended to the message (4007: the operator's words) */
    const char *detail;         /* for the log line only */
    const char *room_id;
    const char *session_id;
    const char *participant_id;
    int64_t org_id;             /* 0 when unknown */
} ev_ctx;

/* The final message for code: the catalog's (or ctx->message), ctx->extra,
 * and the operator contact for the codes that send users to the operator. */
void ev_message(int code, const ev_ctx *ctx, char *out, size_t len);

/* Log code and record it in the error history under a new request id,
 * written to request_id. message is the text sent (NULL: ev_message's). */
void ev_record(int code, const ev_ctx *ctx, const char *message,
               char request_id[PARLEY_REQUEST_ID_LEN + 1]);

/* A signaling error event {"type":"error", id?, code, name, message, hint?,
 * fatal, roomId?, participantId?, requestId}, recorded and logged. */
json_t *ev_error(int code, bool fatal, const ev_ctx *ctx);

/* A REST error body {code, name, message, statusCode, requestId},
 * recorded and logged. */
json_t *ev_rest_error(int code, int status, const ev_ctx *ctx);

/* A leave reason {code, name, message} (PARLEY_LEAVE_*). */
json_t *ev_reason(int leave_code);

/* {"type":"meeting-left","reason":{...}} */
json_t *ev_meeting_left(int leave_code);

#endif
