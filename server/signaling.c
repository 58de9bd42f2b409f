/* signaling.c - the WebSocket side of parleyd: one conn per connection.
 *
 * lws hands us frames in pieces; a message is reassembled here up to
 * SIG_FRAME_MAX and then parsed with jansson. Nothing a client sends can
 * stall the loop: oversized and binary messages are refused as they start,
 * a client flooding more than SIG_RATE_LIMIT messages a second is cut off,
 * a reader that never drains its queue is dropped, and a connection that
 * stays silent (idle timeout; twice that once joined, where clients ping)
 * is closed by the idle sweep.
 *
 * Idle deadlines are kept here, not in lws: each connection stamps its last
 * sign of life (a cheap store per message), and one repeating loop timer
 * (sig_sweep_start) walks the connections a few times per idle timeout and
 * closes the silent ones. lws's own per-connection timeouts live in one
 * sorted list whose every insert walks the pending ones, so re-arming one on
 * each message would cost O(connections) per message.
 *
 * Outgoing messages are written at once when nothing is queued before them
 * and the socket takes them (sig_can_write, which lws's own check backs:
 * nothing of an earlier write still buffered, the socket writeable);
 * otherwise they are queued and the writeable callback writes the queue, one
 * message after another while the socket keeps taking them. A message for
 * several recipients (a room broadcast) is serialized once into a
 * reference-counted buffer that every recipient's queue shares
 * (sig_send_shared).
 *
 * Closing is always asynchronous: sig_close() marks the conn, the writeable
 * callback starts lws's Close handshake once the queue is
 * empty (a plain -1 there would drop the socket, and with libuv unread input
 * turns that into a reset that can swallow our last messages), lws then
 * reports LWS_CALLBACK_CLOSED and sig_closed() frees the conn. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "handlers.h"
#include "media.h"
#include "log.h"
#include "room.h"
#include "server.h"
#include "signaling.h"

/* Serialized bytes shared by the queues of several connections. lws writes
 * the frame header into the LWS_PRE bytes before the text on each write and
 * leaves the text alone (a server does not mask), so the queues can share it. */
struct sig_shared {
    unsigned refs;
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes, then the text */
};

struct outmsg {
    outmsg *next;
    sig_shared *shared;  /* the bytes, if shared; NULL: they follow in buf */
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes, then the text (unshared messages) */
};

static uv_timer_t sweep_timer;
static bool sweep_running;

uint64_t sig_now_ms(void)
{
    return uv_hrtime() / 1000000u;
}

static void drop_queue(conn *c);
static int write_first(conn *c);

static bool is_joined(const conn *c)
{
    return c->p && c->p->state == PS_JOINED;
}

/* Drop c at once, unsent messages and all, by two roads: its writeable
 * callback returns -1, on which lws closes the socket (prompt even from loop
 * timers, outside lws's service, where lws's own timers may not be re-armed
 * yet), and lws's kill timeout, for a peer whose socket never becomes
 * writeable again (one that stopped reading). Either way lws then reports the
 * connection closed. */
static void drop_now(conn *c)
{
    drop_queue(c);
    c->closing = true;
    c->dropped = true;
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    lws_callback_on_writable(c->wsi);
}

/* Silent for idle_timeout before joining, twice that once joined or waiting
 * (a waiting joiner is also bounded by its entry timeout): the sweep below
 * closes it. */
static void arm_idle_timeout(conn *c)
{
    c->last_active = sig_now_ms();
}

static void sweep(uv_timer_t *t)
{
    (void)t;
    uint64_t now = sig_now_ms();
    uint64_t idle = (uint64_t)server.cfg.idle_timeout * 1000u;
    for (conn *c = server.conns; c; c = c->next) {
        if (c->closing || now - c->last_active < idle * (c->p ? 2 : 1))
            continue;
        /* Dropped without a Close handshake (the peer is silent). */
        drop_now(c);
    }
}

int sig_sweep_start(void)
{
    /* A few sweeps per idle timeout: a silent connection goes between one
     * and about 1.25 idle timeouts after its last message. */
    uint64_t every = (uint64_t)server.cfg.idle_timeout * 250u;
    if (every > 1000)
        every = 1000;
    if (every < 50)
        every = 50;
    if (uv_timer_init(&server.loop, &sweep_timer))
        return -1;
    if (uv_timer_start(&sweep_timer, sweep, every, every)) {
        uv_close((uv_handle_t *)&sweep_timer, NULL);
        return -1;
    }
    uv_unref((uv_handle_t *)&sweep_timer); /* not a reason for the loop to run */
    sweep_running = true;
    return 0;
}

void sig_sweep_stop(void)
{
    if (!sweep_running)
        return;
    sweep_running = false;
    uv_timer_stop(&sweep_timer);
    uv_close((uv_handle_t *)&sweep_timer, NULL);
}

conn *sig_open(struct lws *wsi, const char *origin)
{
    conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->wsi = wsi;
    snprintf(c->origin, sizeof c->origin, "%s", origin ? origin : "");
    c->next = server.conns;
    if (server.conns)
        server.conns->prev = c;
    server.conns = c;
    arm_idle_timeout(c);
    return c;
}

void sig_touch(conn *c)
{
    if (!c->closing)
        arm_idle_timeout(c);
}

void sig_shared_release(sig_shared *s)
{
    if (s && --s->refs == 0)
        free(s);
}

static void outmsg_free(outmsg *m)
{
    sig_shared_release(m->shared);
    free(m);
}

static void drop_queue(conn *c)
{
    while (c->out_head) {
        outmsg *m = c->out_head;
        c->out_head = m->next;
        outmsg_free(m);
    }
    c->out_tail = NULL;
    c->out_bytes = 0;
}

void sig_closed(conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        server.conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    participant *p = c->p;
    if (p) {
        c->p = NULL;
        p->conn = NULL;
        if (!server.stopping)
            participant_conn_lost(p);
    }
    drop_queue(c);
    free(c->rx);
    free(c);
}

/* Serialize msg (stolen) into one allocation: hdr bytes for the caller,
 * LWS_PRE bytes for lws, then the compact text (in one pass when it fits 4
 * KiB); *len gets the text's length. NULL on failure. */
static unsigned char *serialize(json_t *msg, size_t hdr, size_t *len)
{
    char first[4096];
    size_t flags = JSON_COMPACT;
    size_t n = json_dumpb(msg, first, sizeof first, flags);
    unsigned char *mem = n ? malloc(hdr + LWS_PRE + n) : NULL;
    if (mem) {
        if (n <= sizeof first)
            memcpy(mem + hdr + LWS_PRE, first, n);
        else
            json_dumpb(msg, (char *)mem + hdr + LWS_PRE, n, flags);
    }
    json_decref(msg);
    *len = n;
    return mem;
}

static void enqueue(conn *c, outmsg *m)
{
    m->next = NULL;
    if (c->out_tail)
        c->out_tail->next = m;
    else
        c->out_head = m;
    c->out_tail = m;
    c->out_bytes += m->len;
    if (c->out_bytes > SIG_QUEUE_MAX) {
        /* The peer does not read: stop queueing for it and cut it off. */
        parley_log(PARLEY_LOG_WARN, NULL, "signaling peer does not read its messages; closing");
        drop_now(c);
        return;
    }
    /* Alone in the queue and the socket takes it: written now, which spares
     * the poll changes of a writeable callback. Otherwise it waits its turn. */
    if (c->out_head == m && sig_can_write && sig_can_write(c->wsi)) {
        if (write_first(c))
            drop_now(c);
        return;
    }
    lws_callback_on_writable(c->wsi);
}

void sig_send(conn *c, json_t *msg)
{
    if (!msg)
        return;
    if (!c || c->closing) {
        json_decref(msg);
        return;
    }
    size_t len;
    outmsg *m = (outmsg *)serialize(msg, offsetof(outmsg, buf), &len);
    if (!m)
        return;
    m->shared = NULL;
    m->len = len;
    enqueue(c, m);
}

sig_shared *sig_shared_new(json_t *msg)
{
    if (!msg)
        return NULL;
    size_t len;
    sig_shared *s = (sig_shared *)serialize(msg, offsetof(sig_shared, buf), &len);
    if (!s)
        return NULL;
    s->refs = 1;
    s->len = len;
    return s;
}

void sig_send_shared(conn *c, sig_shared *s)
{
    if (!s || !c || c->closing)
        return;
    outmsg *m = malloc(sizeof *m);
    if (!m)
        return;
    s->refs++;
    m->shared = s;
    m->len = s->len;
    enqueue(c, m);
}

bool (*sig_can_write)(struct lws *wsi);

/* Write the first queued message. -1: the connection is broken. */
static int write_first(conn *c)
{
    outmsg *m = c->out_head;
    c->out_head = m->next;
    if (!c->out_head)
        c->out_tail = NULL;
    c->out_bytes -= m->len;
    unsigned char *text = (m->shared ? m->shared->buf : m->buf) + LWS_PRE;
    int n = lws_write(c->wsi, text, m->len, LWS_WRITE_TEXT);
    size_t len = m->len;
    outmsg_free(m);
    return n < (int)len ? -1 : 0;
}

int sig_writeable(conn *c)
{
    if (c->dropped)
        return -1;
    /* Everything queued while the socket takes it: one writeable callback
     * (and one round of poll changes) for a burst of messages. */
    for (int i = 0; c->out_head; i++) {
        if (write_first(c))
            return -1;
        if (c->out_head && (i >= SIG_WRITE_BURST || !sig_can_write || !sig_can_write(c->wsi))) {
            lws_callback_on_writable(c->wsi);
            return 0;
        }
    }
    if (c->closing && !c->close_sent) {
        /* The polite close: lws sends a Close frame and reads (and drops)
         * whatever the peer still sends until it answers, so that closing
         * never resets a connection with our last messages unread. */
        c->close_sent = true;
        lws_close_reason(c->wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
    }
    return 0;
}

void sig_close(conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    /* A peer that never lets us write the last messages is not waited for. */
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, 5);
    lws_callback_on_writable(c->wsi);
}

void sig_reply(conn *c, const char *id, json_t *result)
{
    json_t *msg = json_object();
    json_object_set_new(msg, "type", json_string("response"));
    if (id)
        json_object_set_new(msg, "id", json_string(id));
    json_object_set_new(msg, "ok", json_true());
    if (result) {
        json_object_update_missing(msg, result);
        json_decref(result);
    }
    sig_send(c, msg);
}

void sig_ctx(const conn *c, ev_ctx *ctx)
{
    const participant *p = c ? c->p : NULL;
    if (!p)
        return;
    if (!ctx->room_id)
        ctx->room_id = p->room->room_id;
    if (!ctx->session_id)
        ctx->session_id = p->room->session_id;
    if (!ctx->participant_id)
        ctx->participant_id = p->id;
    if (!ctx->org_id)
        ctx->org_id = p->room->org_id;
}

void sig_error_ctx(conn *c, int code, const ev_ctx *given)
{
    ev_ctx ctx = *given;
    sig_ctx(c, &ctx);
    sig_send(c, ev_error(code, false, &ctx));
}

void sig_error(conn *c, int code, const char *id, const char *hint)
{
    ev_ctx ctx = {.id = id, .hint = hint};
    sig_error_ctx(c, code, &ctx);
}

void sig_leave(conn *c, int leave_code)
{
    if (c->p) {
        participant_remove(c->p, leave_code, TELL_SELF | TELL_OTHERS);
        return;
    }
    sig_send(c, ev_meeting_left(leave_code));
    sig_close(c);
}

void sig_fatal(conn *c, int code, const ev_ctx *given, int leave_code)
{
    ev_ctx ctx = *given;
    sig_ctx(c, &ctx);
    sig_send(c, ev_error(code, true, &ctx));
    sig_leave(c, leave_code);
}

/* ---- field access ------------------------------------------------------ */

static json_t *field(conn *c, json_t *msg, const char *id, const char *name, bool required,
                     bool *ok)
{
    json_t *v = json_object_get(msg, name);
    *ok = true;
    if (v && !json_is_null(v))
        return v;
    if (required) {
        char hint[96];
        snprintf(hint, sizeof hint, "missing field '%s'", name);
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, hint);
        *ok = false;
    }
    return NULL;
}

static bool mistyped(conn *c, const char *id, const char *name, const char *want)
{
    char hint[128];
    snprintf(hint, sizeof hint, "field '%s' must be %s", name, want);
    sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, hint);
    return false;
}

bool sig_string(conn *c, json_t *msg, const char *id, const char *name, bool required,
                const char **out)
{
    bool ok;
    json_t *v = field(c, msg, id, name, required, &ok);
    *out = NULL;
    if (!v)
        return ok;
    if (!json_is_string(v))
        return mistyped(c, id, name, "a string");
    *out = json_string_value(v);
    return true;
}

bool sig_bool(conn *c, json_t *msg, const char *id, const char *name, bool required, bool *out)
{
    bool ok;
    json_t *v = field(c, msg, id, name, required, &ok);
    if (!v)
        return ok;
    if (!json_is_boolean(v))
        return mistyped(c, id, name, "a boolean");
    *out = json_is_true(v);
    return true;
}

bool sig_number(conn *c, json_t *msg, const char *id, const char *name, bool required,
                double *out)
{
    bool ok;
    json_t *v = field(c, msg, id, name, required, &ok);
    if (!v)
        return ok;
    if (!json_is_number(v))
        return mistyped(c, id, name, "a number");
    *out = json_number_value(v);
    return true;
}

/* ---- input ------------------------------------------------------------- */

static void handle_ping(conn *c, json_t *msg, const char *id)
{
    (void)msg;
    json_t *pong = json_pack("{s:s}", "type", "pong");
    if (id)
        json_object_set_new(pong, "id", json_string(id));
    sig_send(c, pong);
}

static const struct {
    const char *type;
    sig_handler fn;
    bool before_join; /* allowed before the connection has joined */
} handlers[] = {
    {"join", handle_join, true},
    {"reconnect", handle_reconnect, true},
    {"ping", handle_ping, true},
    {"leave", handle_leave, false},
    {"end", handle_end, false},
    {"entry-response", handle_entry_response, false},
    {"remove-participant", handle_remove_participant, false},
    {"request-mute", handle_request_mute, false},
    {"change-mode", handle_change_mode, false},
    {"lock", handle_lock, false},
    {"unlock", handle_unlock, false},
    {"publish", handle_publish, false},
    {"unpublish", handle_unpublish, false},
    {"publish-offer", handle_publish_offer, false},
    {"subscribe", handle_subscribe, false},
    {"subscribe-answer", handle_subscribe_answer, false},
    {"unsubscribe", handle_unsubscribe, false},
    {"set-layer", handle_set_layer, false},
    {"candidate", handle_candidate, false},
    {"set-synchronizer", handle_set_synchronizer, false},
    {"sync", handle_sync, false},
    {"refresh-token", handle_refresh_token, false},
    {"chat", handle_chat, false},
};

/* A transport violation: 803, and the connection goes. */
static void refuse(conn *c, const char *hint)
{
    ev_ctx ctx = {.hint = hint};
    sig_fatal(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, &ctx, PARLEY_LEAVE_WEBSOCKET_DISCONNECTED);
}

static void handle_text(conn *c, const char *text, size_t len)
{
    uint64_t now = sig_now_ms();
    if (now - c->window_start >= 1000) {
        c->window_start = now;
        c->window_count = 0;
    }
    if (++c->window_count > SIG_RATE_LIMIT) {
        refuse(c, "rate limited");
        return;
    }

    json_error_t jerr;
    json_t *msg = json_loadb(text, len, 0, &jerr);
    if (!msg || !json_is_object(msg)) {
        ev_ctx ctx = {.hint = "not a JSON object", .detail = msg ? NULL : jerr.text};
        sig_error_ctx(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, &ctx);
        json_decref(msg);
        return;
    }
    const char *id = NULL;
    json_t *idv = json_object_get(msg, "id");
    if (idv && !json_is_null(idv)) {
        if (!json_is_string(idv) || json_string_length(idv) > SIG_ID_MAX) {
            sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, NULL,
                      "field 'id' must be a string of at most 64 characters");
            json_decref(msg);
            return;
        }
        id = json_string_value(idv);
    }
    const char *type;
    if (!sig_string(c, msg, id, "type", true, &type)) {
        json_decref(msg);
        return;
    }
    for (size_t i = 0; i < sizeof handlers / sizeof handlers[0]; i++) {
        if (strcmp(handlers[i].type, type))
            continue;
        if (!handlers[i].before_join && !is_joined(c))
            sig_error(c, PARLEY_ERR_USER_NOT_FOUND_ERROR_CODE, id, "join the meeting first");
        else
            handlers[i].fn(c, msg, id);
        json_decref(msg);
        return;
    }
    char hint[128];
    snprintf(hint, sizeof hint, "unknown message type '%.64s'", type);
    sig_error(c, PARLEY_ERR_GENERIC_ERROR_CODE, id, hint);
    json_decref(msg);
}

void sig_receive(conn *c, const void *in, size_t len)
{
    if (c->closing)
        return;
    arm_idle_timeout(c);
    struct lws *wsi = c->wsi;
    if (lws_is_first_fragment(wsi)) {
        c->rx_len = 0;
        c->rx_binary = lws_frame_is_binary(wsi);
    }
    if (c->rx_binary) {
        refuse(c, "binary frames are not accepted");
        return;
    }
    size_t remaining = lws_remaining_packet_payload(wsi);
    if (c->rx_len + len + remaining > SIG_FRAME_MAX) {
        refuse(c, "message larger than 64 KiB");
        return;
    }
    char *grown = realloc(c->rx, c->rx_len + len + 1);
    if (!grown) {
        refuse(c, "out of memory");
        return;
    }
    c->rx = grown;
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (!lws_is_final_fragment(wsi))
        return;
    size_t n = c->rx_len;
    c->rx_len = 0;
    handle_text(c, c->rx, n);
    if (n > 4096) { /* do not keep a big buffer around for a quiet connection */
        free(c->rx);
        c->rx = NULL;
    }
}
