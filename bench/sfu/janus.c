/* janus.c - an endpoint in Janus VideoRoom terms, the SFU this benchmark compares with.
 *
 * Both kinds: `create` a session, `attach` janus.plugin.videoroom.
 * Publisher: `join` {ptype publisher, room, id} → `joined` → `publish` with
 * the jsep offer (and a trickle `completed`: every candidate is in the SDP)
 * → `event` with the jsep answer; media starts.
 * Subscriber: `join` {ptype subscriber, room, streams [{feed}]} → `attached`
 * with Janus's jsep offer → `start` with the jsep answer; media starts.
 * Room r of the run is Janus room base + r, declared in the configuration;
 * publisher r has feed id r + 1. Sessions are kept alive with `keepalive`. */
#include <stdlib.h>
#include <string.h>

#include "sb.h"

enum { STEP_CREATE = 1, STEP_ATTACH, STEP_JOIN, STEP_NEGOTIATE, STEP_DONE };

static void send_or_fail(sb_ep *e, json_t *m, const char *what)
{
    if (!m || lg_ws_send(&e->ws, m, false) < 0)
        sb_fail(e, what, 0);
}

static void on_open(lg_conn *c)
{
    sb_ep *e = sb_of(c);
    c->state = LG_JOINING;
    e->step = STEP_CREATE;
    send_or_fail(e, json_pack("{s:s, s:s}", "janus", "create", "transaction", "c"), "cannot send create");
}

static json_t *message(sb_ep *e, const char *tx, json_t *body, json_t *jsep)
{
    json_t *m = json_pack("{s:s, s:I, s:I, s:s, s:o}", "janus", "message", "session_id", (json_int_t)e->session,
                          "handle_id", (json_int_t)e->handle, "transaction", tx, "body", body);
    if (m && jsep)
        json_object_set_new(m, "jsep", jsep);
    return m;
}

static void join(sb_ep *e)
{
    json_int_t room = (json_int_t)(sb.janus_room_base + e->group);
    json_t *body = e->pub ? json_pack("{s:s, s:s, s:I, s:I, s:s}", "request", "join", "ptype", "publisher", "room",
                                      room, "id", (json_int_t)(e->group + 1), "display", e->ws.pid)
                          : json_pack("{s:s, s:s, s:I, s:[{s:I}]}", "request", "join", "ptype", "subscriber", "room",
                                      room, "streams", "feed", (json_int_t)(e->group + 1));
    e->step = STEP_JOIN;
    send_or_fail(e, message(e, "j", body, NULL), "cannot send join");
}

static void on_success(sb_ep *e, json_t *msg)
{
    json_int_t id = json_integer_value(json_object_get(json_object_get(msg, "data"), "id"));
    switch (e->step) {
    case STEP_CREATE:
        e->session = id;
        e->step = STEP_ATTACH;
        send_or_fail(e, json_pack("{s:s, s:I, s:s, s:s}", "janus", "attach", "session_id", (json_int_t)e->session,
                                  "plugin", "janus.plugin.videoroom", "transaction", "a"),
                     "cannot send attach");
        break;
    case STEP_ATTACH:
        e->handle = id;
        join(e);
        break;
    default:
        break;
    }
}

static void publish(sb_ep *e)
{
    char *offer = sb_media_offer(e);
    if (!offer) {
        sb_fail(e, "cannot make the offer", 0);
        return;
    }
    e->step = STEP_NEGOTIATE;
    e->ws.state = LG_JOINED;
    send_or_fail(e, message(e, "p", json_pack("{s:s, s:b, s:b}", "request", "publish", "audio", 1, "video", 1),
                            json_pack("{s:s, s:s}", "type", "offer", "sdp", offer)),
                 "cannot send publish");
    free(offer);
    send_or_fail(e, json_pack("{s:s, s:I, s:I, s:s, s:{s:b}}", "janus", "trickle", "session_id",
                              (json_int_t)e->session, "handle_id", (json_int_t)e->handle, "transaction", "t",
                              "candidate", "completed", 1),
                 "cannot send trickle");
}

static void on_jsep(sb_ep *e, json_t *jsep)
{
    const char *type = json_string_value(json_object_get(jsep, "type"));
    const char *sdp = json_string_value(json_object_get(jsep, "sdp"));
    const char *why = "no SDP";
    if (!type || !sdp) {
        sb_fail(e, why, 0);
        return;
    }
    if (e->pub && !strcmp(type, "answer")) {
        if (sb_media_take_answer(e, sdp, &why)) {
            sb_fail(e, why, 0);
            return;
        }
        e->step = STEP_DONE;
        sb_media_go(e, lg_now());
    } else if (!e->pub && !strcmp(type, "offer")) {
        char *answer = sb_media_answer(e, sdp, &why);
        if (!answer) {
            sb_fail(e, why, 0);
            return;
        }
        e->step = STEP_DONE;
        e->ws.state = LG_JOINED;
        send_or_fail(e, message(e, "s", json_pack("{s:s}", "request", "start"),
                                json_pack("{s:s, s:s}", "type", "answer", "sdp", answer)),
                     "cannot send start");
        free(answer);
        send_or_fail(e, json_pack("{s:s, s:I, s:I, s:s, s:{s:b}}", "janus", "trickle", "session_id",
                                  (json_int_t)e->session, "handle_id", (json_int_t)e->handle, "transaction", "t",
                                  "candidate", "completed", 1),
                     "cannot send trickle");
        sb_media_go(e, lg_now());
    }
}

static void on_event(sb_ep *e, json_t *msg)
{
    json_t *data = json_object_get(json_object_get(msg, "plugindata"), "data");
    json_t *err = json_object_get(data, "error_code");
    if (err) {
        sb_fail(e, "VideoRoom error", (int)json_integer_value(err));
        return;
    }
    const char *what = json_string_value(json_object_get(data, "videoroom"));
    if (e->pub && what && !strcmp(what, "joined") && e->step == STEP_JOIN)
        publish(e);
    json_t *jsep = json_object_get(msg, "jsep");
    if (jsep && e->step != STEP_DONE)
        on_jsep(e, jsep);
}

static void on_message(lg_conn *c, json_t *msg)
{
    sb_ep *e = sb_of(c);
    const char *kind = json_string_value(json_object_get(msg, "janus"));
    if (!kind || e->state == SB_FAILED)
        return;
    if (!strcmp(kind, "success"))
        on_success(e, msg);
    else if (!strcmp(kind, "event"))
        on_event(e, msg);
    else if (!strcmp(kind, "error"))
        sb_fail(e, "Janus error", (int)json_integer_value(json_object_get(json_object_get(msg, "error"), "code")));
    else if (!strcmp(kind, "hangup"))
        sb_fail(e, "hangup", 0);
    else if (!strcmp(kind, "timeout"))
        sb_fail(e, "session timed out", 0);
    /* ack, webrtcup, media, slowlink, keepalive answers: nothing to do */
}

static void leave(lg_conn *c)
{
    lg_ws_close(c);
}

static void keepalive(lg_conn *c)
{
    sb_ep *e = sb_of(c);
    if (e->session)
        lg_ws_send(c, json_pack("{s:s, s:I, s:s}", "janus", "keepalive", "session_id", (json_int_t)e->session,
                                "transaction", "k"),
                   false);
}

const lg_driver sb_janus_driver = {
    .name = "janus",
    .subprotocol = "janus-protocol",
    .on_open = on_open,
    .on_message = on_message,
    .leave = leave,
    .keepalive = keepalive,
    .on_close = sb_on_close,
};
