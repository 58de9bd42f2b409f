/* event.c - events: their names, subscriptions, dispatch and accessors.
 *
 * An event is its type plus one JSON object, {"event": name, ...fields}; the
 * accessors read that object, so a server message and a locally raised event
 * look the same to the application. Dispatch runs on the loop thread: it
 * walks the meeting's subscription list under the client mutex, and drops the
 * mutex around each callback, so callbacks may call on/off and every action.
 * Removed subscriptions are only marked; the loop thread unlinks and frees
 * them after the dispatch, so a node is never freed while a walk holds it. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

struct parley_event {
    parley_event_type type;
    json_t *json;
    parley_meeting_state state;
};

/* Indexed by parley_event_type. */
static const char *const event_names[PARLEY_EVENT_COUNT_] = {
    [PARLEY_EVENT_ALL] = "all",
    [PARLEY_EVENT_MEETING_STATE_CHANGED] = "meeting-state-changed",
    [PARLEY_EVENT_RESPONSE] = "response",
    [PARLEY_EVENT_MEETING_JOINED] = "meeting-joined",
    [PARLEY_EVENT_WAITING] = "waiting",
    [PARLEY_EVENT_PARTICIPANT_JOINED] = "participant-joined",
    [PARLEY_EVENT_PARTICIPANT_LEFT] = "participant-left",
    [PARLEY_EVENT_ENTRY_REQUESTED] = "entry-requested",
    [PARLEY_EVENT_ENTRY_RESPONDED] = "entry-responded",
    [PARLEY_EVENT_MODE_CHANGED] = "mode-changed",
    [PARLEY_EVENT_LOCK_CHANGED] = "lock-changed",
    [PARLEY_EVENT_PUBLISH_CHANGED] = "publish-changed",
    [PARLEY_EVENT_MUTE_REQUESTED] = "mute-requested",
    [PARLEY_EVENT_SYNCHRONIZER_CHANGED] = "synchronizer-changed",
    [PARLEY_EVENT_SYNC_DATA] = "sync-data",
    [PARLEY_EVENT_CHAT] = "chat",
    [PARLEY_EVENT_PONG] = "pong",
    [PARLEY_EVENT_ERROR] = "error",
    [PARLEY_EVENT_MEETING_LEFT] = "meeting-left",
    [PARLEY_EVENT_STREAM_ENABLED] = "stream-enabled",
    [PARLEY_EVENT_STREAM_DISABLED] = "stream-disabled",
    [PARLEY_EVENT_ACTIVE_SPEAKER] = "active-speaker",
    [PARLEY_EVENT_MEDIA_STATE_CHANGED] = "media-state-changed",
    [PARLEY_EVENT_KEYFRAME_REQUESTED] = "keyframe-requested",
    [PARLEY_EVENT_OTHER] = "other",
};

char *sdk_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

const char *parley_event_type_name(parley_event_type type)
{
    if ((int)type < 0 || type >= PARLEY_EVENT_COUNT_)
        return NULL;
    return event_names[type];
}

parley_event_type event_type_from_server(const char *type)
{
    if (!strcmp(type, "joined"))
        return PARLEY_EVENT_MEETING_JOINED;
    /* meeting-state-changed, meeting-joined, media-state-changed and
     * keyframe-requested are ours, never the server's */
    for (int t = PARLEY_EVENT_RESPONSE; t < PARLEY_EVENT_OTHER; t++)
        if (t != PARLEY_EVENT_MEETING_JOINED && t != PARLEY_EVENT_MEDIA_STATE_CHANGED &&
            t != PARLEY_EVENT_KEYFRAME_REQUESTED && !strcmp(type, event_names[t]))
            return (parley_event_type)t;
    return PARLEY_EVENT_OTHER;
}

const char *parley_strerror(int status)
{
    switch (status) {
    case PARLEY_OK: return "success";
    case PARLEY_ENOENT: return "no such subscription";
    case PARLEY_ENOMEM: return "out of memory";
    case PARLEY_EINVAL: return "invalid argument";
    case PARLEY_EDEADLK: return "the client cannot be destroyed from its own loop thread";
    case PARLEY_ECLOSED: return "the client is being destroyed";
    case PARLEY_EALREADY: return "the meeting is already joining or joined";
    case PARLEY_ESTART: return "the event loop or the WebSocket library could not start";
    default: break;
    }
    const parley_error_info *e = parley_error_lookup(status, PARLEY_PROFILE_NATIVE);
    return e ? e->message : "unknown status";
}

/* ---- subscriptions ---- */

void handlers_free(handler *h)
{
    while (h) {
        handler *next = h->next;
        free(h);
        h = next;
    }
}

static bool valid_type(parley_event_type type)
{
    return (int)type >= 0 && type < PARLEY_EVENT_COUNT_;
}

int parley_meeting_on(parley_meeting *m, parley_event_type type, parley_event_cb cb, void *userdata)
{
    if (!m || !cb || !valid_type(type))
        return PARLEY_EINVAL;
    handler *n = calloc(1, sizeof(*n));
    if (!n)
        return PARLEY_ENOMEM;
    n->type = type;
    n->cb = cb;
    n->userdata = userdata;
    uv_mutex_lock(&m->client->mu);
    handler **tail = &m->handlers;
    for (; *tail; tail = &(*tail)->next) {
        handler *h = *tail;
        if (!h->removed && h->type == type && h->cb == cb && h->userdata == userdata) {
            uv_mutex_unlock(&m->client->mu);
            free(n);
            return PARLEY_OK;
        }
    }
    *tail = n;
    uv_mutex_unlock(&m->client->mu);
    return PARLEY_OK;
}

int parley_meeting_off(parley_meeting *m, parley_event_type type, parley_event_cb cb, void *userdata)
{
    if (!m || !cb || !valid_type(type))
        return PARLEY_EINVAL;
    int rc = PARLEY_ENOENT;
    uv_mutex_lock(&m->client->mu);
    for (handler *h = m->handlers; h; h = h->next) {
        if (!h->removed && h->type == type && h->cb == cb && h->userdata == userdata) {
            h->removed = true;
            m->needs_sweep = true;
            rc = PARLEY_OK;
            break;
        }
    }
    uv_mutex_unlock(&m->client->mu);
    return rc;
}

/* Loop thread, mu held: unlink and free removed subscriptions. */
static void sweep_locked(parley_meeting *m)
{
    if (!m->needs_sweep)
        return;
    m->needs_sweep = false;
    for (handler **pp = &m->handlers; *pp;) {
        handler *h = *pp;
        if (h->removed) {
            *pp = h->next;
            free(h);
        } else {
            pp = &h->next;
        }
    }
}

void event_emit(parley_meeting *m, parley_event_type type, json_t *json)
{
    parley_client *client = m->client;
    parley_event ev = {.type = type, .json = json};
    uv_mutex_lock(&client->mu);
    ev.state = m->state;
    for (handler *h = m->handlers; h && !m->released && !client->closing; h = h->next) {
        if (h->removed || (h->type != type && h->type != PARLEY_EVENT_ALL))
            continue;
        parley_event_cb cb = h->cb;
        void *userdata = h->userdata;
        uv_mutex_unlock(&client->mu);
        cb(m, &ev, userdata);
        uv_mutex_lock(&client->mu);
    }
    sweep_locked(m);
    uv_mutex_unlock(&client->mu);
    json_decref(json);
}

/* ---- accessors ---- */

parley_event_type parley_event_get_type(const parley_event *ev)
{
    return ev ? ev->type : PARLEY_EVENT_ALL;
}

const struct json_t *parley_event_json(const parley_event *ev)
{
    return ev ? ev->json : NULL;
}

const char *parley_event_string(const parley_event *ev, const char *field)
{
    if (!ev || !field)
        return NULL;
    return json_string_value(json_object_get(ev->json, field));
}

const char *parley_event_name(const parley_event *ev)
{
    return parley_event_string(ev, "event");
}

/* The leave reason of meeting-left / participant-left, else NULL. */
static json_t *reason_of(const parley_event *ev)
{
    if (ev->type != PARLEY_EVENT_MEETING_LEFT && ev->type != PARLEY_EVENT_PARTICIPANT_LEFT)
        return NULL;
    json_t *r = json_object_get(ev->json, "reason");
    return json_is_object(r) ? r : NULL;
}

int parley_event_code(const parley_event *ev)
{
    if (!ev)
        return 0;
    json_t *r = reason_of(ev);
    if (r)
        return (int)json_integer_value(json_object_get(r, "code"));
    if (ev->type == PARLEY_EVENT_ERROR)
        return (int)json_integer_value(json_object_get(ev->json, "code"));
    return 0;
}

const char *parley_event_code_name(const parley_event *ev)
{
    if (!ev)
        return NULL;
    json_t *r = reason_of(ev);
    if (r)
        return json_string_value(json_object_get(r, "name"));
    if (ev->type == PARLEY_EVENT_ERROR)
        return parley_event_string(ev, "name");
    return NULL;
}

const char *parley_event_message(const parley_event *ev)
{
    if (!ev)
        return NULL;
    json_t *r = reason_of(ev);
    if (r)
        return json_string_value(json_object_get(r, "message"));
    return parley_event_string(ev, "message");
}

const char *parley_event_hint(const parley_event *ev)
{
    return parley_event_string(ev, "hint");
}

bool parley_event_fatal(const parley_event *ev)
{
    return ev && json_is_true(json_object_get(ev->json, "fatal"));
}

const char *parley_event_room(const parley_event *ev)
{
    const char *s = parley_event_string(ev, "roomId");
    return s ? s : parley_event_string(ev, "meetingId");
}

const char *parley_event_participant(const parley_event *ev)
{
    const char *s = parley_event_string(ev, "participantId");
    if (s || !ev)
        return s;
    json_t *p = json_object_get(ev->json, "participant");
    return json_string_value(json_object_get(p, "participantId"));
}

const char *parley_event_request_id(const parley_event *ev)
{
    return parley_event_string(ev, "requestId");
}

const char *parley_event_answers(const parley_event *ev)
{
    return parley_event_string(ev, "id");
}

const char *parley_event_request(const parley_event *ev)
{
    return parley_event_string(ev, "request");
}

parley_meeting_state parley_event_state(const parley_event *ev)
{
    if (!ev)
        return PARLEY_STATE_IDLE;
    if (ev->type == PARLEY_EVENT_MEETING_STATE_CHANGED || ev->type == PARLEY_EVENT_MEDIA_STATE_CHANGED) {
        const char *s = parley_event_string(ev, "state");
        for (int st = PARLEY_STATE_IDLE; s && st <= PARLEY_STATE_DISCONNECTED; st++)
            if (!strcmp(s, parley_meeting_state_name((parley_meeting_state)st)))
                return (parley_meeting_state)st;
    }
    return ev->state;
}

/* ---- names ---- */

const char *parley_meeting_state_name(parley_meeting_state state)
{
    switch (state) {
    case PARLEY_STATE_IDLE: return "IDLE";
    case PARLEY_STATE_CONNECTING: return "CONNECTING";
    case PARLEY_STATE_CONNECTED: return "CONNECTED";
    case PARLEY_STATE_RECONNECTING: return "RECONNECTING";
    case PARLEY_STATE_FAILED: return "FAILED";
    case PARLEY_STATE_DISCONNECTED: return "DISCONNECTED";
    }
    return NULL;
}

const char *parley_mode_name(parley_mode mode)
{
    switch (mode) {
    case PARLEY_MODE_CONFERENCE: return "CONFERENCE";
    case PARLEY_MODE_VIEWER: return "VIEWER";
    }
    return NULL;
}

bool parley_mode_parse(const char *text, parley_mode *out)
{
    if (!text || !out)
        return false;
    if (!strcasecmp(text, "CONFERENCE") || !strcasecmp(text, "SEND_AND_RECV"))
        *out = PARLEY_MODE_CONFERENCE;
    else if (!strcasecmp(text, "VIEWER") || !strcasecmp(text, "SIGNALLING_ONLY"))
        *out = PARLEY_MODE_VIEWER;
    else
        return false;
    return true;
}
