/* session.c - one meeting's life on the loop thread: join, reconnect, leave.
 *
 * Phases (internal, finer than the public states):
 *   JOIN       connecting, `join` sent, maybe `waiting`        state CONNECTING
 *   JOINED     `joined` received                                state CONNECTED
 *   BACKOFF    the connection dropped; a retry is scheduled     state RECONNECTING
 *   RECONNECT  a retry is connecting, `reconnect` sent          state RECONNECTING
 *   LEAVING    `leave` sent; waiting for meeting-left           state CONNECTED
 *   NONE       idle, failed or left
 *
 * Every join ends with exactly one meeting-left, emitted by finish(): the
 * server's own when it sends one, otherwise a leave reason raised here —
 * 1101 after leave(), 1103 when the join failed, 1102 when reconnection gave
 * up, 1001 when the server refused to resume or closed after a fatal error.
 * A join that fails for a network reason (refused, DNS, TLS, closed before an
 * answer) is first reported as error 3023 ERROR_JOINING_MEETING. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { LEAVE_TIMEOUT_MS = 3000 };

typedef enum timer_purpose { TIMER_ANSWER, TIMER_BACKOFF, TIMER_LEAVE, TIMER_KEEPALIVE } timer_purpose;

/* The id of keep-alive pings; their pongs are not events. */
#define KEEPALIVE_ID "keepalive"

static void finish(parley_meeting *m, parley_meeting_state state, json_t *server_left, int reason);
static void on_timer(uv_timer_t *t);

/* ---- small helpers ---- */

static void set_state(parley_meeting *m, parley_meeting_state s, json_t *extra)
{
    uv_mutex_lock(&m->client->mu);
    m->state = s;
    uv_mutex_unlock(&m->client->mu);
    json_t *ev = json_pack("{s:s, s:s}", "event", "meeting-state-changed", "state", parley_meeting_state_name(s));
    if (ev && extra)
        json_object_update(ev, extra);
    json_decref(extra);
    if (ev)
        event_emit(m, PARLEY_EVENT_MEETING_STATE_CHANGED, ev);
}

static void start_timer(parley_meeting *m, timer_purpose purpose, uint64_t ms)
{
    m->timer.data = m;
    m->timer_purpose = purpose;
    uv_timer_start(&m->timer, on_timer, ms, 0);
}

/* Joined, the timer paces keep-alive pings: a silent connection is one the
 * server (and any proxy) may close. */
static void keepalive_arm(parley_meeting *m)
{
    if (m->keepalive_ms && m->phase == PHASE_JOINED)
        start_timer(m, TIMER_KEEPALIVE, m->keepalive_ms);
}

static void stop_timer(parley_meeting *m)
{
    if (m->timer_ready)
        uv_timer_stop(&m->timer);
}

static json_t *reason_json(int code)
{
    const parley_leave_reason *r = parley_leave_reason_lookup(code);
    return json_pack("{s:i, s:s, s:s}", "code", code, "name", r ? r->name : "UNKNOWN", "message",
                     r ? r->message : "");
}

/* A server message as an event: {"event": name, ...fields but type/secret}. */
static json_t *to_event(json_t *msg, const char *name, const char *request)
{
    json_t *ev = json_pack("{s:s}", "event", name);
    if (!ev)
        return NULL;
    const char *key;
    json_t *v;
    json_object_foreach(msg, key, v)
    {
        if (strcmp(key, "type") && strcmp(key, "secret"))
            json_object_set(ev, key, v);
    }
    if (request)
        json_object_set_new(ev, "request", json_string(request));
    return ev;
}

static const char *self_id(parley_meeting *m)
{
    return m->self_id ? m->self_id : m->participant_id;
}

void session_local_error(parley_meeting *m, int code, const char *request, const char *hint)
{
    const parley_error_info *e = parley_error_lookup(code, PARLEY_PROFILE_NATIVE);
    json_t *ev = json_pack("{s:s, s:i, s:s, s:s, s:b, s:s}", "event", "error", "code", code, "name",
                           e ? e->name : "UNKNOWN_ERROR", "message", e ? e->message : "", "fatal",
                           e ? e->fatal : false, "roomId", m->meeting_id);
    if (!ev)
        return;
    if (hint)
        json_object_set_new(ev, "hint", json_string(hint));
    if (self_id(m))
        json_object_set_new(ev, "participantId", json_string(self_id(m)));
    if (request)
        json_object_set_new(ev, "request", json_string(request));
    event_emit(m, PARLEY_EVENT_ERROR, ev);
}

/* ---- requests ---- */

static void pending_clear(parley_meeting *m)
{
    for (pending *p = m->pending, *next; p; p = next) {
        next = p->next;
        free(p->arg);
        free(p);
    }
    m->pending = NULL;
}

static pending *pending_take(parley_meeting *m, const char *id)
{
    if (!id)
        return NULL;
    for (pending **pp = &m->pending; *pp; pp = &(*pp)->next) {
        if (!strcmp((*pp)->id, id)) {
            pending *p = *pp;
            *pp = p->next;
            return p;
        }
    }
    return NULL;
}

static void outbox_clear(parley_meeting *m)
{
    for (outbox_item *o = m->outbox, *next; o; o = next) {
        next = o->next;
        json_decref(o->msg);
        free(o->arg);
        free(o);
    }
    m->outbox = m->outbox_tail = NULL;
}

/* Send {type, id, ...fields} (takes fields, arg); the id is remembered so the
 * answer names its request. id_out, when given, receives the id. */
static void send_request(parley_meeting *m, const char *type, json_t *fields, char *arg, char *id_out)
{
    pending *p = calloc(1, sizeof(*p));
    json_t *msg = p ? json_pack("{s:s}", "type", type) : NULL;
    if (!msg || !m->conn) {
        free(p);
        free(arg);
        json_decref(fields);
        json_decref(msg);
        return;
    }
    snprintf(p->id, sizeof(p->id), "r%u", ++m->next_id);
    snprintf(p->type, sizeof(p->type), "%s", type);
    p->arg = arg;
    p->next = m->pending;
    m->pending = p;
    json_object_set_new(msg, "id", json_string(p->id));
    if (fields)
        json_object_update(msg, fields);
    json_decref(fields);
    if (id_out)
        memcpy(id_out, p->id, sizeof(p->id));
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (text)
        conn_send(m->conn, text);
    free(text);
}

bool session_request(parley_meeting *m, const char *type, json_t *fields, char *id_out)
{
    if (m->phase != PHASE_JOINED || !m->conn) {
        json_decref(fields);
        return false;
    }
    send_request(m, type, fields, NULL, id_out);
    return true;
}

static void flush_outbox(parley_meeting *m)
{
    outbox_item *o = m->outbox;
    m->outbox = m->outbox_tail = NULL;
    while (o) {
        outbox_item *next = o->next;
        send_request(m, o->type, o->msg, o->arg, NULL);
        free(o);
        o = next;
    }
}

void session_send(parley_meeting *m, const char *type, json_t *msg, char *arg)
{
    if (m->phase == PHASE_JOINED) {
        send_request(m, type, msg, arg, NULL);
        return;
    }
    if (m->phase == PHASE_BACKOFF || m->phase == PHASE_RECONNECT) {
        outbox_item *o = calloc(1, sizeof(*o));
        if (o) {
            snprintf(o->type, sizeof(o->type), "%s", type);
            o->msg = msg;
            o->arg = arg;
            if (m->outbox_tail)
                m->outbox_tail->next = o;
            else
                m->outbox = o;
            m->outbox_tail = o;
            return;
        }
    } else {
        /* The meeting left (or never joined) since the call was made. */
        session_local_error(m, PARLEY_ERR_NATIVE_ERROR_ACTION_PERFORMED_BEFORE_MEETING_JOINED, type, NULL);
    }
    json_decref(msg);
    free(arg);
}

/* ---- connecting ---- */

static bool open_conn(parley_meeting *m, char *why, size_t why_size)
{
    m->conn = conn_open(m, why, why_size);
    return m->conn != NULL;
}

static void drop_conn(parley_meeting *m)
{
    if (m->conn) {
        conn_close(m->conn);
        m->conn = NULL;
    }
}

/* 3023 with a hint naming the address and the cause. */
static void raise_3023(parley_meeting *m, const char *why)
{
    char hint[320];
    snprintf(hint, sizeof(hint), "%s://%s:%d%s: %s%s", m->tls ? "wss" : "ws", m->host, m->port, m->path,
             m->tls && strstr(why, "SSL") ? "TLS handshake failed: " : "", why);
    session_local_error(m, PARLEY_ERR_NATIVE_ERROR_JOINING_MEETING, "join", hint);
}

static void join_failed_network(parley_meeting *m, const char *why)
{
    drop_conn(m);
    raise_3023(m, why);
    finish(m, PARLEY_STATE_FAILED, NULL, PARLEY_LEAVE_JOIN_ROOM_FAILED);
}

void session_join(parley_meeting *m)
{
    if (m->timer_closed)
        return;
    if (!m->timer_ready) {
        uv_timer_init(&m->client->loop, &m->timer);
        m->timer_ready = true;
    }
    m->phase = PHASE_JOIN;
    media_forget_ended(m); /* the counters of the previous join's subscriptions */
    m->refused = false;
    m->fatal_seen = false;
    m->attempt = 0;
    free(m->secret);
    m->secret = NULL;
    free(m->self_id);
    m->self_id = NULL;
    set_state(m, PARLEY_STATE_CONNECTING, NULL);
    if (m->phase != PHASE_JOIN)
        return;
    char why[160];
    if (!open_conn(m, why, sizeof(why)))
        join_failed_network(m, why);
}

static unsigned backoff_ms(parley_meeting *m, int attempt)
{
    unsigned long long ms = m->reconnect_min_ms;
    for (int i = 0; i < attempt && ms < m->reconnect_max_ms; i++)
        ms *= 2;
    return ms > m->reconnect_max_ms ? m->reconnect_max_ms : (unsigned)ms;
}

static void attempt_failed(parley_meeting *m)
{
    drop_conn(m);
    if (m->attempt >= m->reconnect_attempts) {
        finish(m, PARLEY_STATE_FAILED, NULL, PARLEY_LEAVE_WEBSOCKET_CONNECTION_ATTEMPTS_EXHAUSTED);
        return;
    }
    m->phase = PHASE_BACKOFF;
    start_timer(m, TIMER_BACKOFF, backoff_ms(m, m->attempt));
}

static void start_reconnecting(parley_meeting *m)
{
    drop_conn(m);
    if (m->reconnect_attempts <= 0) {
        finish(m, PARLEY_STATE_FAILED, NULL, PARLEY_LEAVE_WEBSOCKET_CONNECTION_ATTEMPTS_EXHAUSTED);
        return;
    }
    m->phase = PHASE_BACKOFF;
    m->attempt = 0;
    m->refused = false;
    start_timer(m, TIMER_BACKOFF, backoff_ms(m, 0));
    set_state(m, PARLEY_STATE_RECONNECTING, json_pack("{s:i}", "attempts", m->reconnect_attempts));
}

static void on_timer(uv_timer_t *t)
{
    parley_meeting *m = t->data;
    char why[160];
    switch (m->timer_purpose) {
    case TIMER_BACKOFF:
        if (m->phase != PHASE_BACKOFF)
            return;
        m->attempt++;
        m->phase = PHASE_RECONNECT;
        if (!open_conn(m, why, sizeof(why)))
            attempt_failed(m);
        break;
    case TIMER_ANSWER:
        if (m->phase == PHASE_JOIN)
            join_failed_network(m, "the server did not answer the join");
        else if (m->phase == PHASE_RECONNECT)
            attempt_failed(m);
        break;
    case TIMER_LEAVE:
        if (m->phase == PHASE_LEAVING)
            finish(m, PARLEY_STATE_DISCONNECTED, NULL, PARLEY_LEAVE_MANUAL_LEAVE_CALLED);
        break;
    case TIMER_KEEPALIVE:
        if (m->phase == PHASE_JOINED && m->conn) {
            conn_send(m->conn, "{\"type\":\"ping\",\"id\":\"" KEEPALIVE_ID "\"}");
            keepalive_arm(m);
        }
        break;
    }
}

/* ---- the end of a join ---- */

static void finish(parley_meeting *m, parley_meeting_state state, json_t *server_left, int reason)
{
    stop_timer(m);
    drop_conn(m);
    m->phase = PHASE_NONE;
    media_teardown(m, true);
    free(m->secret);
    m->secret = NULL;
    pending_clear(m);
    outbox_clear(m);
    set_state(m, state, NULL);
    json_t *ev = server_left;
    if (!ev) {
        ev = json_pack("{s:s, s:o}", "event", "meeting-left", "reason", reason_json(reason));
        if (ev && m->meeting_id)
            json_object_set_new(ev, "meetingId", json_string(m->meeting_id));
    }
    if (ev)
        event_emit(m, PARLEY_EVENT_MEETING_LEFT, ev);
}

void session_leave(parley_meeting *m)
{
    switch (m->phase) {
    case PHASE_JOINED:
        if (m->conn && conn_is_open(m->conn)) {
            m->phase = PHASE_LEAVING;
            send_request(m, "leave", NULL, NULL, NULL);
            start_timer(m, TIMER_LEAVE, LEAVE_TIMEOUT_MS);
            return;
        }
        /* fall through */
    case PHASE_JOIN:
    case PHASE_BACKOFF:
    case PHASE_RECONNECT:
        finish(m, PARLEY_STATE_DISCONNECTED, NULL, PARLEY_LEAVE_MANUAL_LEAVE_CALLED);
        break;
    case PHASE_LEAVING:
    case PHASE_NONE:
        break;
    }
}

static void unlink_and_free(parley_meeting *m)
{
    parley_client *client = m->client;
    uv_mutex_lock(&client->mu);
    for (parley_meeting **pp = &client->meetings; *pp; pp = &(*pp)->next) {
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    }
    uv_mutex_unlock(&client->mu);
    meeting_free_memory(m);
}

static void on_timer_closed(uv_handle_t *h)
{
    unlink_and_free(h->data);
}

void session_close_quietly(parley_meeting *m, bool release)
{
    media_teardown(m, false);
    if (m->conn) {
        if ((m->phase == PHASE_JOINED || m->phase == PHASE_LEAVING) && conn_is_open(m->conn))
            conn_send(m->conn, "{\"type\":\"leave\"}");
        drop_conn(m);
    }
    m->phase = PHASE_NONE;
    uv_mutex_lock(&m->client->mu);
    if (m->state != PARLEY_STATE_IDLE && m->state != PARLEY_STATE_FAILED)
        m->state = PARLEY_STATE_DISCONNECTED;
    uv_mutex_unlock(&m->client->mu);
    if (m->timer_ready) {
        uv_timer_stop(&m->timer);
        m->timer.data = m;
        m->timer_ready = false;
        uv_close((uv_handle_t *)&m->timer, release ? on_timer_closed : NULL);
        m->timer_closed = true;
    } else if (release && !m->timer_closed) {
        unlink_and_free(m);
    }
}

/* ---- what the connection reports ---- */

void session_on_open(parley_meeting *m, conn *c)
{
    if (c != m->conn)
        return;
    json_t *f;
    if (m->phase == PHASE_JOIN) {
        f = json_pack("{s:s, s:s, s:s, s:b, s:b}", "token", m->token, "meetingId", m->meeting_id, "mode",
                      parley_mode_name(m->mode), "micEnabled", m->mic, "webcamEnabled", m->webcam);
        if (f && m->participant_id)
            json_object_set_new(f, "participantId", json_string(m->participant_id));
        if (f && m->name)
            json_object_set_new(f, "name", json_string(m->name));
        send_request(m, "join", f, NULL, m->join_id);
    } else if (m->phase == PHASE_RECONNECT) {
        f = json_pack("{s:s, s:s, s:s?, s:s?}", "token", m->token, "meetingId", m->meeting_id, "participantId",
                      self_id(m), "secret", m->secret);
        send_request(m, "reconnect", f, NULL, m->join_id);
    } else {
        return;
    }
    start_timer(m, TIMER_ANSWER, (uint64_t)m->client->connect_timeout_s * 1000);
}

static void on_joined(parley_meeting *m, json_t *msg)
{
    if (m->phase != PHASE_JOIN && m->phase != PHASE_RECONNECT)
        return;
    stop_timer(m);
    const char *secret = json_string_value(json_object_get(msg, "secret"));
    const char *pid = json_string_value(json_object_get(msg, "participantId"));
    if (secret) {
        free(m->secret);
        m->secret = strdup(secret);
    }
    if (pid) {
        free(m->self_id);
        m->self_id = strdup(pid);
    }
    bool again = m->phase == PHASE_RECONNECT;
    m->phase = PHASE_JOINED;
    m->attempt = 0;
    m->join_id[0] = '\0';
    if (again) {
        json_t *extra = json_pack("{s:b}", "reconnected", 1);
        json_t *parts = json_object_get(msg, "participants");
        if (extra && parts)
            json_object_set(extra, "participants", parts);
        set_state(m, PARLEY_STATE_CONNECTED, extra);
    } else {
        set_state(m, PARLEY_STATE_CONNECTED, NULL);
        json_t *ev = to_event(msg, "meeting-joined", NULL);
        if (ev)
            event_emit(m, PARLEY_EVENT_MEETING_JOINED, ev);
    }
    if (m->phase == PHASE_JOINED) {
        flush_outbox(m);
        keepalive_arm(m);
    }
}

static void on_error(parley_meeting *m, json_t *msg, const char *request)
{
    const char *id = json_string_value(json_object_get(msg, "id"));
    bool fatal = json_is_true(json_object_get(msg, "fatal"));
    bool answers_join = id && m->join_id[0] && !strcmp(id, m->join_id);
    json_t *ev = to_event(msg, "error", request);
    if (ev)
        event_emit(m, PARLEY_EVENT_ERROR, ev);
    if (m->phase == PHASE_JOIN && (fatal || answers_join)) {
        m->refused = true; /* a fatal error is followed by meeting-left */
        if (!fatal)
            finish(m, PARLEY_STATE_FAILED, NULL, PARLEY_LEAVE_JOIN_ROOM_FAILED);
    } else if (m->phase == PHASE_RECONNECT && (fatal || answers_join)) {
        m->refused = true;
        if (!fatal)
            finish(m, PARLEY_STATE_FAILED, NULL, PARLEY_LEAVE_WEBSOCKET_DISCONNECTED);
    } else if ((m->phase == PHASE_JOINED || m->phase == PHASE_LEAVING) && fatal) {
        m->fatal_seen = true;
    }
}

void session_on_message(parley_meeting *m, conn *c, const char *text, size_t len)
{
    if (c != m->conn)
        return;
    json_t *msg = json_loadb(text, len, 0, NULL);
    const char *type = json_string_value(json_object_get(msg, "type"));
    if (!json_is_object(msg) || !type) {
        json_decref(msg);
        return; /* not a message of the protocol: ignored */
    }
    const char *id = json_string_value(json_object_get(msg, "id"));
    if (!strcmp(type, "pong") && id && !strcmp(id, KEEPALIVE_ID)) {
        json_decref(msg);
        return;
    }
    pending *p = pending_take(m, id);
    if (p && !strcmp(type, "response") && !strcmp(p->type, "refresh-token") && p->arg) {
        free(m->token);
        m->token = p->arg; /* the token to reconnect with from now on */
        p->arg = NULL;
    }
    const char *request = p ? p->type : NULL;

    if (!strcmp(type, "joined")) {
        on_joined(m, msg);
    } else if (!strcmp(type, "error")) {
        on_error(m, msg, request);
    } else if (!strcmp(type, "meeting-left")) {
        bool joining = m->phase == PHASE_JOIN || m->phase == PHASE_RECONNECT;
        finish(m, joining ? PARLEY_STATE_FAILED : PARLEY_STATE_DISCONNECTED, to_event(msg, "meeting-left", NULL), 0);
    } else {
        if (!strcmp(type, "waiting") && m->phase == PHASE_JOIN)
            stop_timer(m); /* admission may take a while */
        parley_event_type t = event_type_from_server(type);
        const char *name = t == PARLEY_EVENT_OTHER ? type : parley_event_type_name(t);
        json_t *ev = to_event(msg, name, request);
        if (ev)
            event_emit(m, t, ev);
    }
    if (strcmp(type, "joined") && strcmp(type, "meeting-left"))
        media_on_message(m, type, msg, request, id);
    if (p) {
        free(p->arg);
        free(p);
    }
    json_decref(msg);
}

void session_on_closed(parley_meeting *m, conn *c, const char *why)
{
    if (c != m->conn)
        return;
    m->conn = NULL; /* the transport frees it */
    switch (m->phase) {
    case PHASE_LEAVING:
        finish(m, PARLEY_STATE_DISCONNECTED, NULL, PARLEY_LEAVE_MANUAL_LEAVE_CALLED);
        break;
    case PHASE_JOIN:
        if (!m->refused)
            raise_3023(m, why);
        finish(m, PARLEY_STATE_FAILED, NULL, PARLEY_LEAVE_JOIN_ROOM_FAILED);
        break;
    case PHASE_JOINED:
        if (m->fatal_seen)
            finish(m, PARLEY_STATE_DISCONNECTED, NULL, PARLEY_LEAVE_WEBSOCKET_DISCONNECTED);
        else
            start_reconnecting(m);
        break;
    case PHASE_RECONNECT:
        if (m->refused)
            finish(m, PARLEY_STATE_FAILED, NULL, PARLEY_LEAVE_WEBSOCKET_DISCONNECTED);
        else
            attempt_failed(m);
        break;
    case PHASE_BACKOFF:
    case PHASE_NONE:
        break;
    }
}
