/* meeting.c - the public meeting API, callable from any thread.
 *
 * Each call checks its arguments and the meeting's state here, synchronously,
 * so that a misuse is reported by the return value; then it posts a command
 * and returns. The loop thread (session.c) does the rest. An action that needs
 * a joined meeting, called before joining or after leaving, returns 3022
 * ERROR_ACTION_PERFORMED_BEFORE_MEETING_JOINED and posts the matching error
 * event instead of the request. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { DEFAULT_ATTEMPTS = 8, DEFAULT_MIN_MS = 200, DEFAULT_MAX_MS = 2000, DEFAULT_KEEPALIVE_MS = 20000 };

void meeting_free_memory(parley_meeting *m)
{
    handlers_free(m->handlers);
    for (pending *p = m->pending, *next; p; p = next) {
        next = p->next;
        free(p->arg);
        free(p);
    }
    for (outbox_item *o = m->outbox, *next; o; o = next) {
        next = o->next;
        json_decref(o->msg);
        free(o->arg);
        free(o);
    }
    free(m->host);
    free(m->path);
    free(m->origin);
    free(m->token);
    free(m->meeting_id);
    free(m->participant_id);
    free(m->name);
    free(m->secret);
    free(m->self_id);
    media_forget_ended(m);
    free(m);
}

static bool nonempty(const char *s)
{
    return s && *s;
}

int parley_meeting_new(parley_client *client, const parley_meeting_config *cfg, parley_meeting **out)
{
    if (!out)
        return PARLEY_EINVAL;
    *out = NULL;
    if (!client || !cfg || !nonempty(cfg->url) || !nonempty(cfg->token) || !nonempty(cfg->meeting_id) ||
        !parley_mode_name(cfg->mode))
        return PARLEY_EINVAL;
    url_parts u;
    if (!url_parse(cfg->url, &u))
        return PARLEY_EINVAL;
    parley_meeting *m = calloc(1, sizeof(*m));
    if (!m) {
        free(u.host);
        free(u.path);
        return PARLEY_ENOMEM;
    }
    m->client = client;
    m->tls = u.tls;
    m->host = u.host;
    m->port = u.port;
    m->path = u.path;
    m->insecure = cfg->tls_insecure;
    m->origin = sdk_strdup(cfg->origin);
    m->token = sdk_strdup(cfg->token);
    m->meeting_id = sdk_strdup(cfg->meeting_id);
    m->participant_id = sdk_strdup(cfg->participant_id);
    m->name = sdk_strdup(cfg->name);
    m->mode = cfg->mode;
    m->mic = cfg->mic_enabled;
    m->webcam = cfg->webcam_enabled;
    m->reconnect_attempts = cfg->reconnect_attempts == 0 ? DEFAULT_ATTEMPTS
                            : cfg->reconnect_attempts < 0 ? 0
                                                          : cfg->reconnect_attempts;
    m->reconnect_min_ms = cfg->reconnect_min_ms ? cfg->reconnect_min_ms : DEFAULT_MIN_MS;
    m->reconnect_max_ms = cfg->reconnect_max_ms ? cfg->reconnect_max_ms : DEFAULT_MAX_MS;
    m->keepalive_ms = cfg->keepalive_ms == 0 ? DEFAULT_KEEPALIVE_MS : cfg->keepalive_ms < 0 ? 0 : (unsigned)cfg->keepalive_ms;
    if (m->reconnect_max_ms < m->reconnect_min_ms)
        m->reconnect_max_ms = m->reconnect_min_ms;
    if ((cfg->origin && !m->origin) || !m->token || !m->meeting_id || (cfg->participant_id && !m->participant_id) ||
        (cfg->name && !m->name) || !m->host || !m->path) {
        meeting_free_memory(m);
        return PARLEY_ENOMEM;
    }

    /* The list changes under the mutex; the loop walks it without the mutex
     * only at shutdown, when nothing can be added any more. */
    uv_mutex_lock(&client->mu);
    if (client->closing) {
        uv_mutex_unlock(&client->mu);
        meeting_free_memory(m);
        return PARLEY_ECLOSED;
    }
    m->next = client->meetings;
    client->meetings = m;
    uv_mutex_unlock(&client->mu);
    *out = m;
    return PARLEY_OK;
}

void parley_meeting_free(parley_meeting *m)
{
    if (!m)
        return;
    cmd *c = calloc(1, sizeof(*c));
    parley_client *client = m->client;
    uv_mutex_lock(&client->mu);
    m->released = true;
    tracks_detach_locked(client, m);
    if (c) {
        c->kind = CMD_RELEASE;
        c->meeting = m;
        client_post_locked(client, c); /* when closing, destroy frees m */
    }
    uv_mutex_unlock(&client->mu);
    /* Out of memory: m stays allocated, silent, until parley_client_destroy. */
}

parley_meeting_state parley_meeting_get_state(parley_meeting *m)
{
    if (!m)
        return PARLEY_STATE_IDLE;
    uv_mutex_lock(&m->client->mu);
    parley_meeting_state s = m->state;
    uv_mutex_unlock(&m->client->mu);
    return s;
}

static cmd *cmd_new(cmd_kind kind, parley_meeting *m, const char *type)
{
    cmd *c = calloc(1, sizeof(*c));
    if (c) {
        c->kind = kind;
        c->meeting = m;
        if (type)
            snprintf(c->type, sizeof(c->type), "%s", type);
    }
    return c;
}

int parley_meeting_join(parley_meeting *m)
{
    if (!m)
        return PARLEY_EINVAL;
    cmd *c = cmd_new(CMD_JOIN, m, "join");
    if (!c)
        return PARLEY_ENOMEM;
    parley_client *client = m->client;
    uv_mutex_lock(&client->mu);
    int rc;
    if (m->state == PARLEY_STATE_CONNECTING || m->state == PARLEY_STATE_CONNECTED ||
        m->state == PARLEY_STATE_RECONNECTING) {
        cmd_free(c);
        rc = PARLEY_EALREADY;
    } else {
        rc = client_post_locked(client, c);
        if (rc == PARLEY_OK)
            m->state = PARLEY_STATE_CONNECTING; /* announced by the loop */
    }
    uv_mutex_unlock(&client->mu);
    return rc;
}

/* Post c when the meeting is in a state that allows it; otherwise post a
 * 3022 error event for it instead. Takes c. */
int meeting_post_if(parley_meeting *m, cmd *c, bool allow_connecting)
{
    parley_client *client = m->client;
    uv_mutex_lock(&client->mu);
    parley_meeting_state s = m->state;
    bool ok = s == PARLEY_STATE_CONNECTED || s == PARLEY_STATE_RECONNECTING ||
              (allow_connecting && s == PARLEY_STATE_CONNECTING);
    int rc;
    if (ok) {
        rc = client_post_locked(client, c);
    } else {
        json_decref(c->msg);
        c->msg = NULL;
        free(c->arg);
        c->arg = NULL;
        c->kind = CMD_LOCAL_ERROR;
        c->code = PARLEY_ERR_NATIVE_ERROR_ACTION_PERFORMED_BEFORE_MEETING_JOINED;
        rc = client_post_locked(client, c);
        if (rc == PARLEY_OK)
            rc = PARLEY_ERR_NATIVE_ERROR_ACTION_PERFORMED_BEFORE_MEETING_JOINED;
    }
    uv_mutex_unlock(&client->mu);
    return rc;
}

int parley_meeting_leave(parley_meeting *m)
{
    if (!m)
        return PARLEY_EINVAL;
    cmd *c = cmd_new(CMD_LEAVE, m, "leave");
    if (!c)
        return PARLEY_ENOMEM;
    return meeting_post_if(m, c, true);
}

/* Queue request `type` with fields msg (taken; NULL: none). */
static int request(parley_meeting *m, const char *type, json_t *msg, const char *arg)
{
    if (!m) {
        json_decref(msg);
        return PARLEY_EINVAL;
    }
    cmd *c = cmd_new(CMD_SEND, m, type);
    if (!c || (!msg && !(msg = json_object()))) {
        cmd_free(c);
        json_decref(msg);
        return PARLEY_ENOMEM;
    }
    c->msg = msg;
    if (arg && !(c->arg = strdup(arg))) {
        cmd_free(c);
        return PARLEY_ENOMEM;
    }
    return meeting_post_if(m, c, false);
}

int parley_meeting_end(parley_meeting *m)
{
    return request(m, "end", NULL, NULL);
}

int parley_meeting_change_mode(parley_meeting *m, parley_mode mode, const char *participant_id)
{
    const char *name = parley_mode_name(mode);
    if (!name || (participant_id && !*participant_id))
        return PARLEY_EINVAL;
    json_t *msg = json_pack("{s:s}", "mode", name);
    if (msg && participant_id)
        json_object_set_new(msg, "participantId", json_string(participant_id));
    return msg ? request(m, "change-mode", msg, NULL) : PARLEY_ENOMEM;
}

int parley_meeting_lock(parley_meeting *m)
{
    return request(m, "lock", NULL, NULL);
}

int parley_meeting_unlock(parley_meeting *m)
{
    return request(m, "unlock", NULL, NULL);
}

int parley_meeting_publish(parley_meeting *m, bool audio, bool video)
{
    json_t *msg = json_pack("{s:b, s:b}", "audio", audio, "video", video);
    return msg ? request(m, "publish", msg, NULL) : PARLEY_ENOMEM;
}

int parley_meeting_unpublish(parley_meeting *m)
{
    return request(m, "unpublish", NULL, NULL);
}

/* A request whose one field is a participant id. */
static int about(parley_meeting *m, const char *type, const char *participant_id, json_t *more)
{
    if (!nonempty(participant_id)) {
        json_decref(more);
        return PARLEY_EINVAL;
    }
    json_t *msg = json_pack("{s:s}", "participantId", participant_id);
    if (msg && more)
        json_object_update(msg, more);
    json_decref(more);
    return msg ? request(m, type, msg, NULL) : PARLEY_ENOMEM;
}

int parley_meeting_set_synchronizer(parley_meeting *m, const char *participant_id)
{
    return about(m, "set-synchronizer", participant_id, NULL);
}

int parley_meeting_sync(parley_meeting *m, double position, double rate, bool paused)
{
    if (!isfinite(position) || !isfinite(rate))
        return PARLEY_EINVAL;
    json_t *msg = json_pack("{s:f, s:f, s:b}", "position", position, "rate", rate, "paused", paused);
    return msg ? request(m, "sync", msg, NULL) : PARLEY_ENOMEM;
}

int parley_meeting_respond_entry(parley_meeting *m, const char *participant_id, bool allowed)
{
    return about(m, "entry-response", participant_id,
                 json_pack("{s:s}", "decision", allowed ? "allowed" : "denied"));
}

int parley_meeting_remove_participant(parley_meeting *m, const char *participant_id)
{
    return about(m, "remove-participant", participant_id, NULL);
}

int parley_meeting_request_mute(parley_meeting *m, const char *participant_id, parley_media_kind kind)
{
    if (kind != PARLEY_MEDIA_AUDIO && kind != PARLEY_MEDIA_VIDEO)
        return PARLEY_EINVAL;
    return about(m, "request-mute", participant_id,
                 json_pack("{s:s}", "kind", kind == PARLEY_MEDIA_AUDIO ? "audio" : "video"));
}

int parley_meeting_refresh_token(parley_meeting *m, const char *token)
{
    if (!nonempty(token))
        return PARLEY_EINVAL;
    json_t *msg = json_pack("{s:s}", "token", token);
    return msg ? request(m, "refresh-token", msg, token) : PARLEY_ENOMEM;
}

int parley_meeting_chat(parley_meeting *m, const char *topic, const char *message)
{
    if (!nonempty(topic) || !message)
        return PARLEY_EINVAL;
    json_t *msg = json_pack("{s:s, s:s}", "topic", topic, "message", message);
    return msg ? request(m, "chat", msg, NULL) : PARLEY_ENOMEM;
}

int parley_meeting_ping(parley_meeting *m)
{
    return request(m, "ping", NULL, NULL);
}
