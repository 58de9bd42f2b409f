/* parley.c - the generator's participant, speaking Parley signaling (docs/protocol.md §2).
 *
 * One join per connection: `join` → `joined`; while in the room, count
 * `participant-joined` (presence); leave with `leave` → `response`, then
 * `meeting-left`, then the server closes. A duplicate participantId makes the
 * server send 4005 to the older connection, followed by `meeting-left`: that
 * older connection is then "replaced", which the run expects for its probes.
 * A `ping` now and then keeps a silent participant from being dropped. */
#include <string.h>

#include "lg.h"

static void on_open(lg_conn *c)
{
    json_t *m = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
        "type", "join", "id", "j", "token", lg_view.token, "meetingId", lg_view.rooms[c->room],
        "participantId", c->pid, "name", c->pid, "mode", lg_view.mode);
    c->state = LG_JOINING;
    if (!m || lg_ws_send(c, m, true) < 0)
        lg_failed(c, "cannot send join", 0);
}

static void on_error(lg_conn *c, json_t *msg)
{
    int code = (int)json_integer_value(json_object_get(msg, "code"));
    if (lg_error_event(c, code))
        return;
    lg_failed(c, c->state == LG_JOINING ? "join refused" : "error event", code);
}

static void on_meeting_left(lg_conn *c, json_t *msg)
{
    switch (c->state) {
    case LG_LEAVING:
        lg_left(c);
        break;
    case LG_REPLACED:
        c->state = LG_DONE;
        break;
    default: {
        json_t *reason = json_object_get(msg, "reason");
        lg_failed(c, "meeting-left", (int)json_integer_value(json_object_get(reason, "code")));
    }
    }
}

static void on_message(lg_conn *c, json_t *msg)
{
    const char *type = json_string_value(json_object_get(msg, "type"));
    if (!type)
        return;
    if (!strcmp(type, "participant-joined"))
        lg_presence(c);
    else if (!strcmp(type, "joined")) {
        if (c->state == LG_JOINING)
            lg_joined(c);
    } else if (!strcmp(type, "error"))
        on_error(c, msg);
    else if (!strcmp(type, "meeting-left"))
        on_meeting_left(c, msg);
    /* response (to leave), participant-left and the rest: nothing to count */
}

static void leave(lg_conn *c)
{
    c->state = LG_LEAVING;
    if (lg_ws_send(c, json_pack("{s:s, s:s}", "type", "leave", "id", "l"), false) < 0)
        lg_failed(c, "cannot send leave", 0);
}

static void keepalive(lg_conn *c)
{
    lg_ws_send(c, json_pack("{s:s}", "type", "ping"), false);
}

static void on_close(lg_conn *c)
{
    switch (c->state) {
    case LG_DONE:
    case LG_FAILED:
    case LG_IDLE:
        break;
    case LG_REPLACED:
        c->state = LG_DONE;
        break;
    default:
        lg_failed(c, "connection closed", 0);
    }
}

const lg_driver lg_parley_driver = {
    .name = "parley",
    .subprotocol = "parley.v1",
    .dup_code = 4005,
    .dup_to_old = true,
    .on_open = on_open,
    .on_message = on_message,
    .leave = leave,
    .keepalive = keepalive,
    .on_close = on_close,
};
