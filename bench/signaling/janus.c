/* janus.c - the same participant in Janus terms, the peer this benchmark compares with.
 *
 * Janus's WebSocket API (subprotocol janus-protocol) needs three requests to
 * enter a room: `create` a session, `attach` the VideoRoom plugin, then a
 * VideoRoom `join` as a publisher (no media is ever negotiated). The join
 * latency therefore spans three round trips, which is what a Janus client
 * pays. Presence is VideoRoom's `joining` event (rooms need notify_joining).
 * Leaving is the VideoRoom `leave`, then `destroy` of the session. A duplicate
 * publisher id is refused to the newcomer with error 436. Sessions are kept
 * alive with `keepalive`. */
#include <string.h>

#include "lg.h"

enum { STEP_CREATE = 1, STEP_ATTACH, STEP_JOIN, STEP_LEAVE, STEP_DESTROY };

static void send_or_fail(lg_conn *c, json_t *m, bool is_join, const char *what)
{
    if (!m || lg_ws_send(c, m, is_join) < 0)
        lg_failed(c, what, 0);
}

static void on_open(lg_conn *c)
{
    c->state = LG_JOINING;
    c->step = STEP_CREATE;
    send_or_fail(c, json_pack("{s:s, s:s}", "janus", "create", "transaction", "c"), false, "cannot send create");
}

static void on_success(lg_conn *c, json_t *msg)
{
    json_int_t id = json_integer_value(json_object_get(json_object_get(msg, "data"), "id"));
    switch (c->step) {
    case STEP_CREATE:
        c->session = id;
        c->step = STEP_ATTACH;
        send_or_fail(c, json_pack("{s:s, s:I, s:s, s:s}", "janus", "attach", "session_id", (json_int_t)c->session,
            "plugin", "janus.plugin.videoroom", "transaction", "a"), false, "cannot send attach");
        break;
    case STEP_ATTACH:
        c->handle = id;
        c->step = STEP_JOIN;
        send_or_fail(c, json_pack("{s:s, s:I, s:I, s:s, s:{s:s, s:s, s:I, s:I, s:s}}",
            "janus", "message", "session_id", (json_int_t)c->session, "handle_id", (json_int_t)c->handle,
            "transaction", "j", "body", "request", "join", "ptype", "publisher",
            "room", (json_int_t)(lg_view.janus_room_base + c->room), "id", (json_int_t)c->num_id,
            "display", c->pid), true, "cannot send join");
        break;
    case STEP_DESTROY:
        lg_left(c);
        lg_ws_close(c);
        break;
    default:
        break;
    }
}

static void on_error(lg_conn *c, int code)
{
    if (lg_error_event(c, code))
        return;
    lg_failed(c, c->state == LG_JOINING ? "join refused" : "error event", code);
}

static void on_event(lg_conn *c, json_t *msg)
{
    json_t *data = json_object_get(json_object_get(msg, "plugindata"), "data");
    if (!data)
        return;
    json_t *err = json_object_get(data, "error_code");
    if (err) {
        on_error(c, (int)json_integer_value(err));
        return;
    }
    const char *what = json_string_value(json_object_get(data, "videoroom"));
    if (!what)
        return;
    if (!strcmp(what, "joined")) {
        if (c->state == LG_JOINING)
            lg_joined(c);
    } else if (!strcmp(what, "event")) {
        if (json_object_get(data, "joining"))
            lg_presence(c);
        json_t *leaving = json_object_get(data, "leaving");
        if (c->state == LG_LEAVING && json_is_string(leaving) && !strcmp(json_string_value(leaving), "ok")) {
            c->step = STEP_DESTROY;
            send_or_fail(c, json_pack("{s:s, s:I, s:s}", "janus", "destroy", "session_id",
                (json_int_t)c->session, "transaction", "d"), false, "cannot send destroy");
        }
    }
}

static void on_message(lg_conn *c, json_t *msg)
{
    const char *kind = json_string_value(json_object_get(msg, "janus"));
    if (!kind)
        return;
    if (!strcmp(kind, "success"))
        on_success(c, msg);
    else if (!strcmp(kind, "event"))
        on_event(c, msg);
    else if (!strcmp(kind, "error"))
        on_error(c, (int)json_integer_value(json_object_get(json_object_get(msg, "error"), "code")));
    else if (!strcmp(kind, "timeout"))
        lg_failed(c, "session timed out", 0);
    /* ack, keepalive answers, detached, hangup: nothing to count */
}

static void leave(lg_conn *c)
{
    c->state = LG_LEAVING;
    c->step = STEP_LEAVE;
    send_or_fail(c, json_pack("{s:s, s:I, s:I, s:s, s:{s:s}}", "janus", "message", "session_id",
        (json_int_t)c->session, "handle_id", (json_int_t)c->handle, "transaction", "l",
        "body", "request", "leave"), false, "cannot send leave");
}

static void keepalive(lg_conn *c)
{
    lg_ws_send(c, json_pack("{s:s, s:I, s:s}", "janus", "keepalive", "session_id", (json_int_t)c->session,
        "transaction", "k"), false);
}

static void on_close(lg_conn *c)
{
    if (c->state != LG_DONE && c->state != LG_FAILED && c->state != LG_IDLE)
        lg_failed(c, "connection closed", 0);
}

const lg_driver lg_janus_driver = {
    .name = "janus",
    .subprotocol = "janus-protocol",
    .dup_code = 436,
    .dup_to_old = false,
    .on_open = on_open,
    .on_message = on_message,
    .leave = leave,
    .keepalive = keepalive,
    .on_close = on_close,
};
