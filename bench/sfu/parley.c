/* parley.c - an endpoint in Parley signaling (docs/protocol.md §2).
 *
 * Publisher: `join` (CONFERENCE) → `joined` → `publish-offer` with the
 * endpoint's offer → `response` {sdp}: the answer; media starts.
 * Subscriber: `join` (VIEWER) → `joined` → `subscribe` {participantId of its
 * publisher} → `subscribe-offer` → `subscribe-answer` with the endpoint's
 * answer → `response`; media starts. Each publisher has a room of its own
 * with its subscribers. A `ping` now and then keeps the connection alive. */
#include <stdlib.h>
#include <string.h>

#include "sb.h"

static void send_or_fail(sb_ep *e, json_t *m, const char *what)
{
    if (!m || lg_ws_send(&e->ws, m, false) < 0)
        sb_fail(e, what, 0);
}

static void on_open(lg_conn *c)
{
    sb_ep *e = sb_of(c);
    c->state = LG_JOINING;
    send_or_fail(e, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "type", "join", "id", "j", "token", sb.token,
                              "meetingId", sb.rooms[e->group], "participantId", c->pid, "name", c->pid, "mode",
                              e->pub ? "CONFERENCE" : "VIEWER"),
                 "cannot send join");
}

static void on_joined(sb_ep *e)
{
    e->ws.state = LG_JOINED;
    if (e->pub) {
        char *offer = sb_media_offer(e);
        if (!offer) {
            sb_fail(e, "cannot make the offer", 0);
            return;
        }
        send_or_fail(e, json_pack("{s:s, s:s, s:s}", "type", "publish-offer", "id", "p", "sdp", offer),
                     "cannot send publish-offer");
        free(offer);
    } else {
        char pid[40];
        sb_pid(sb_publisher_of(e), pid, sizeof pid);
        send_or_fail(e, json_pack("{s:s, s:s, s:s}", "type", "subscribe", "id", "s", "participantId", pid),
                     "cannot send subscribe");
    }
}

static void on_response(sb_ep *e, json_t *msg)
{
    const char *id = json_string_value(json_object_get(msg, "id"));
    if (!id)
        return;
    if (!strcmp(id, "p")) {
        const char *sdp = json_string_value(json_object_get(msg, "sdp"));
        const char *why = "no SDP in the answer";
        if (!sdp || sb_media_take_answer(e, sdp, &why)) {
            sb_fail(e, why, 0);
            return;
        }
        sb_media_go(e, lg_now());
    } else if (!strcmp(id, "a")) {
        sb_media_go(e, lg_now());
    }
}

static void on_subscribe_offer(sb_ep *e, json_t *msg)
{
    const char *sdp = json_string_value(json_object_get(msg, "sdp"));
    const char *pid = json_string_value(json_object_get(msg, "participantId"));
    const char *why = "no SDP in subscribe-offer";
    char *answer = sdp && pid ? sb_media_answer(e, sdp, &why) : NULL;
    if (!answer) {
        sb_fail(e, why, 0);
        return;
    }
    send_or_fail(e, json_pack("{s:s, s:s, s:s, s:s}", "type", "subscribe-answer", "id", "a", "participantId", pid,
                              "sdp", answer),
                 "cannot send subscribe-answer");
    free(answer);
}

static void on_message(lg_conn *c, json_t *msg)
{
    sb_ep *e = sb_of(c);
    const char *type = json_string_value(json_object_get(msg, "type"));
    if (!type || e->state == SB_FAILED)
        return;
    if (!strcmp(type, "joined")) {
        if (c->state == LG_JOINING)
            on_joined(e);
    } else if (!strcmp(type, "response")) {
        on_response(e, msg);
    } else if (!strcmp(type, "subscribe-offer")) {
        on_subscribe_offer(e, msg);
    } else if (!strcmp(type, "error")) {
        sb_fail(e, "error event", (int)json_integer_value(json_object_get(msg, "code")));
    } else if (!strcmp(type, "meeting-left")) {
        sb_fail(e, "meeting-left", (int)json_integer_value(json_object_get(json_object_get(msg, "reason"), "code")));
    }
    /* participant-joined, stream-enabled and the rest: nothing to do */
}

static void leave(lg_conn *c)
{
    lg_ws_close(c);
}

static void keepalive(lg_conn *c)
{
    lg_ws_send(c, json_pack("{s:s}", "type", "ping"), false);
}

const lg_driver sb_parley_driver = {
    .name = "parley",
    .subprotocol = "parley.v1",
    .on_open = on_open,
    .on_message = on_message,
    .leave = leave,
    .keepalive = keepalive,
    .on_close = sb_on_close,
};
