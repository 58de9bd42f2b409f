/* room.c - live rooms and their members; session lifecycle.
 *
 * A room lives in server.rooms from the first successful join of a room
 * without a live session to the moment its last member is gone (or `end`).
 * Opening starts a session in the store and closing ends it, so the store's
 * "ongoing" sessions are exactly the live rooms. The few rooms and members
 * of one server are kept in plain linked lists: every operation that scans
 * them is already O(members) because it messages them.
 *
 * Members are joined, away (connection lost, within the reconnect grace,
 * still counted and still visible to others) or waiting (ask_join; not
 * counted, not visible). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "log.h"
#include "room.h"
#include "media.h"
#include "server.h"
#include "signaling.h"
#include "token.h"

/* Speakers and viewers (joined or away) of one organisation over its live
 * rooms, for the organisation's limits; freed with its last live room. */
typedef struct org_tally {
    struct org_tally *next;
    int64_t org_id;
    int rooms;
    int speakers, viewers;
} org_tally;

static org_tally *tallies;

static org_tally *tally_find(int64_t org_id)
{
    for (org_tally *t = tallies; t; t = t->next)
        if (t->org_id == org_id)
            return t;
    return NULL;
}

static org_tally *tally_hold(int64_t org_id)
{
    org_tally *t = tally_find(org_id);
    if (!t) {
        t = calloc(1, sizeof *t);
        if (!t)
            return NULL;
        t->org_id = org_id;
        t->next = tallies;
        tallies = t;
    }
    t->rooms++;
    return t;
}

static void tally_release(org_tally *t)
{
    if (--t->rooms > 0)
        return;
    for (org_tally **at = &tallies; *at; at = &(*at)->next)
        if (*at == t) {
            *at = t->next;
            break;
        }
    free(t);
}

/* p starts (+1) or stops (-1) counting for its organisation. */
static void tally_count(const participant *p, int delta)
{
    org_tally *t = p->room->tally;
    if (p->mode == MODE_CONFERENCE)
        t->speakers += delta;
    else
        t->viewers += delta;
}

const char *mode_name(pmode m)
{
    return m == MODE_VIEWER ? "VIEWER" : "CONFERENCE";
}

bool mode_parse(const char *text, pmode *out)
{
    if (!strcmp(text, "CONFERENCE") || !strcmp(text, "SEND_AND_RECV"))
        *out = MODE_CONFERENCE;
    else if (!strcmp(text, "VIEWER") || !strcmp(text, "SIGNALLING_ONLY"))
        *out = MODE_VIEWER;
    else
        return false;
    return true;
}

room *room_find(const char *room_id)
{
    for (room *r = server.rooms; r; r = r->next)
        if (!strcmp(r->room_id, room_id))
            return r;
    return NULL;
}

static void log_store_failure(const room *r, const char *what)
{
    parley_log_ctx lc = {.room_id = r->room_id, .session_id = r->session_id};
    parley_log(PARLEY_LOG_ERROR, &lc, "%s: %s", what, parley_store_errmsg(server.store));
}

int room_open(const parley_room *rec, room **out, char *detail, size_t detail_len)
{
    *out = NULL;
    if (server.cfg.max_sessions > 0 && server.live_sessions >= (size_t)server.cfg.max_sessions) {
        snprintf(detail, detail_len, "this server is at its capacity of %d live sessions",
                 server.cfg.max_sessions);
        return PARLEY_ERR_SESSION_CANNOT_BE_CREATED_ERROR_CODE;
    }
    room *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(detail, detail_len, "out of memory");
        return PARLEY_ERR_SESSION_CANNOT_BE_CREATED_ERROR_CODE;
    }
    r->tally = tally_hold(rec->org_id);
    if (!r->tally) {
        snprintf(detail, detail_len, "out of memory");
        free(r);
        return PARLEY_ERR_SESSION_CANNOT_BE_CREATED_ERROR_CODE;
    }
    parley_session s;
    int rc = parley_store_session_start(server.store, rec->room_id, 0, &s);
    if (rc != PARLEY_STORE_OK) {
        snprintf(detail, detail_len, "the store could not start a session: %s",
                 parley_store_errmsg(server.store));
        tally_release(r->tally);
        free(r);
        return PARLEY_ERR_SESSION_CANNOT_BE_CREATED_ERROR_CODE;
    }
    snprintf(r->room_id, sizeof r->room_id, "%s", rec->room_id);
    snprintf(r->custom_room_id, sizeof r->custom_room_id, "%s", rec->custom_room_id);
    snprintf(r->session_id, sizeof r->session_id, "%s", s.id);
    r->org_id = rec->org_id;
    r->settings = rec->settings;
    r->next = server.rooms;
    if (server.rooms)
        server.rooms->prev = r;
    server.rooms = r;
    server.live_sessions++;
    parley_log_ctx lc = {.room_id = r->room_id, .session_id = r->session_id};
    parley_log(PARLEY_LOG_INFO, &lc, "session started");
    *out = r;
    return 0;
}

static void room_close(room *r)
{
    if (parley_store_session_end(server.store, r->session_id, 0, NULL) != PARLEY_STORE_OK)
        log_store_failure(r, "could not end the session in the store");
    if (r->prev)
        r->prev->next = r->next;
    else
        server.rooms = r->next;
    if (r->next)
        r->next->prev = r->prev;
    server.live_sessions--;
    parley_log_ctx lc = {.room_id = r->room_id, .session_id = r->session_id};
    parley_log(PARLEY_LOG_INFO, &lc, "session ended");
    tally_release(r->tally);
    free(r);
}

void room_hold(room *r)
{
    r->holds++;
}

void room_release(room *r)
{
    if (--r->holds == 0 && !r->members)
        room_close(r);
}

participant *room_member(const room *r, const char *participant_id)
{
    for (participant *p = r->members; p; p = p->next)
        if (!strcmp(p->id, participant_id))
            return p;
    return NULL;
}

void room_count(const room *r, const participant *except, room_counts *out)
{
    memset(out, 0, sizeof *out);
    for (const participant *p = r->members; p; p = p->next) {
        if (p == except)
            continue;
        if (p->state == PS_WAITING) {
            out->waiting++;
            continue;
        }
        out->participants++;
        if (p->mode == MODE_CONFERENCE)
            out->speakers++;
        else
            out->viewers++;
        if (p->audio || p->video)
            out->publishers++;
    }
}

void org_count(int64_t org_id, const participant *except, int *speakers, int *viewers)
{
    *speakers = *viewers = 0;
    const org_tally *t = tally_find(org_id);
    if (!t)
        return;
    *speakers = t->speakers;
    *viewers = t->viewers;
    if (except && except->state != PS_WAITING && except->room->tally == t) {
        if (except->mode == MODE_CONFERENCE)
            (*speakers)--;
        else
            (*viewers)--;
    }
}

void participant_set_mode(participant *p, pmode mode)
{
    if (p->mode == mode)
        return;
    if (p->state != PS_WAITING)
        tally_count(p, -1);
    p->mode = mode;
    if (p->state != PS_WAITING)
        tally_count(p, +1);
}

void room_broadcast_perm(room *r, json_t *msg, unsigned perms, const participant *except)
{
    /* Serialized once, on the first recipient; every queue shares the bytes. */
    sig_shared *s = NULL;
    for (participant *p = r->members; p; p = p->next) {
        if (p == except || p->state != PS_JOINED || !p->conn || (perms && !(p->perms & perms)))
            continue;
        if (!s) {
            s = sig_shared_new(msg);
            msg = NULL;
            if (!s)
                return;
        }
        sig_send_shared(p->conn, s);
    }
    sig_shared_release(s);
    json_decref(msg);
}

void room_broadcast(room *r, json_t *msg, const participant *except)
{
    room_broadcast_perm(r, msg, 0, except);
}

participant *participant_add(room *r, const char *participant_id)
{
    participant *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->room = r;
    snprintf(p->id, sizeof p->id, "%s", participant_id);
    p->state = PS_WAITING;
    p->publish_grant = PARLEY_PUBLISH_ALL;
    if (parley_id_secret(p->secret) != 0) {
        free(p);
        return NULL;
    }
    /* Append, so that lists keep arrival order. */
    participant **tail = &r->members, *prev = NULL;
    while (*tail) {
        prev = *tail;
        tail = &(*tail)->next;
    }
    p->prev = prev;
    *tail = p;
    return p;
}

json_t *participant_json(const participant *p)
{
    return json_pack("{s:s, s:s, s:s, s:b, s:b}", "participantId", p->id, "name", p->name,
                     "mode", mode_name(p->mode), "audio", p->audio, "video", p->video);
}

json_t *joined_json(const participant *p, const char *request_id, bool reconnected)
{
    const room *r = p->room;
    json_t *others = json_array();
    for (const participant *m = r->members; m; m = m->next)
        if (m != p && m->state != PS_WAITING)
            json_array_append_new(others, participant_json(m));
    json_t *msg = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:o, s:b, s:o, s:o, s:b, s:b, s:b}", "type", "joined",
        "meetingId", r->room_id, "sessionId", r->session_id, "participantId", p->id, "secret",
        p->secret, "name", p->name, "mode", mode_name(p->mode), "permissions",
        parley_token_flags_json(PARLEY_TOKEN_PERMISSIONS, p->perms), "locked", r->locked,
        "synchronizer", r->synchronizer[0] ? json_string(r->synchronizer) : json_null(),
        "participants", others, "reconnected", reconnected, "audio", p->audio, "video", p->video);
    if (request_id && request_id[0])
        json_object_set_new(msg, "id", json_string(request_id));
    return msg;
}

void participant_set_media(participant *p, bool audio, bool video)
{
    if (p->audio == audio && p->video == video)
        return;
    p->audio = audio;
    p->video = video;
    room_broadcast(p->room,
                   json_pack("{s:s, s:s, s:b, s:b}", "type", "publish-changed", "participantId",
                             p->id, "audio", audio, "video", video),
                   p);
}

void room_drop_synchronizer(room *r, const participant *p)
{
    if (!r->synchronizer[0] || strcmp(r->synchronizer, p->id))
        return;
    r->synchronizer[0] = '\0';
    room_broadcast(r, json_pack("{s:s, s:n}", "type", "synchronizer-changed", "participantId"),
                   p);
}

/* Media asked for at join: granted, viewer, or refused (108/107/206). */
static void apply_join_media(participant *p, int *errors, int *nerrors)
{
    room_counts n;
    room_count(p->room, p, &n);
    bool limit = p->room->settings.max_publishers > 0 &&
                 n.publishers >= p->room->settings.max_publishers;
    bool audio = false, video = false;
    if (p->want_audio) {
        if (!(p->publish_grant & PARLEY_PUBLISH_MICROPHONE))
            errors[(*nerrors)++] = PARLEY_ERR_USER_AUDIO_PERMISSION_DENIED_ERROR_CODE;
        else if (p->mode == MODE_CONFERENCE)
            audio = true;
    }
    if (p->want_video) {
        if (!(p->publish_grant & PARLEY_PUBLISH_CAMERA))
            errors[(*nerrors)++] = PARLEY_ERR_USER_VIDEO_PERMISSION_DENIED_ERROR_CODE;
        else if (p->mode == MODE_CONFERENCE)
            video = true;
    }
    if ((audio || video) && limit) {
        errors[(*nerrors)++] = PARLEY_ERR_SESSION_IS_FULL_ERROR_CODE;
        audio = video = false;
    }
    p->audio = audio;
    p->video = video;
}

void participant_admit(participant *p, const char *request_id)
{
    room *r = p->room;
    int errors[3], nerrors = 0;
    p->state = PS_JOINED;
    tally_count(p, +1);
    apply_join_media(p, errors, &nerrors);
    if (parley_store_participant_join(server.store, r->session_id, p->id, p->name, 0) !=
        PARLEY_STORE_OK)
        log_store_failure(r, "could not record the participant's arrival");
    parley_log_ctx lc = {.room_id = r->room_id, .session_id = r->session_id,
                         .participant_id = p->id};
    parley_log(PARLEY_LOG_INFO, &lc, "participant joined (%s)", mode_name(p->mode));

    conn *c = p->conn;
    sig_send(c, joined_json(p, request_id, false));
    media_tell_streams(p);
    room_broadcast(r,
                   json_pack("{s:s, s:o}", "type", "participant-joined", "participant",
                             participant_json(p)),
                   p);
    if (c && (p->perms & PARLEY_PERM_ALLOW_JOIN))
        for (participant *w = r->members; w; w = w->next)
            if (w->state == PS_WAITING)
                sig_send(c, json_pack("{s:s, s:s, s:s}", "type", "entry-requested",
                                      "participantId", w->id, "name", w->name));
    for (int i = 0; i < nerrors; i++)
        if (c)
            sig_error(c, errors[i], NULL, "joined without that media");
}

void participant_remove(participant *p, int leave_code, unsigned tell)
{
    room *r = p->room;
    conn *c = p->conn;
    if (c) {
        c->p = NULL;
        p->conn = NULL;
    }
    ptimer_cancel(p->timer);
    p->timer = NULL;
    media_participant_gone(p);
    if (p->prev)
        p->prev->next = p->next;
    else
        r->members = p->next;
    if (p->next)
        p->next->prev = p->prev;

    if ((tell & TELL_SELF) && c) {
        sig_send(c, ev_meeting_left(leave_code));
        sig_close(c);
    }
    if (p->state != PS_WAITING) {
        tally_count(p, -1);
        if (!server.stopping &&
            parley_store_participant_leave(server.store, r->session_id, p->id, 0) !=
                PARLEY_STORE_OK)
            log_store_failure(r, "could not record the participant's departure");
        room_drop_synchronizer(r, p);
        if (tell & TELL_OTHERS)
            room_broadcast(r,
                           json_pack("{s:s, s:s, s:o}", "type", "participant-left",
                                     "participantId", p->id, "reason", ev_reason(leave_code)),
                           NULL);
        parley_log_ctx lc = {.room_id = r->room_id, .session_id = r->session_id,
                             .participant_id = p->id};
        parley_log(PARLEY_LOG_INFO, &lc, "participant left (%d)", leave_code);
    }
    free(p);
    if (r->holds == 0 && !r->members)
        room_close(r);
}

static void grace_expired(void *arg)
{
    participant *p = arg;
    p->timer = NULL;
    participant_remove(p, PARLEY_LEAVE_WEBSOCKET_DISCONNECTED, TELL_OTHERS);
}

void participant_conn_lost(participant *p)
{
    room *r = p->room;
    if (p->state == PS_WAITING) {
        ev_ctx ctx = {.room_id = r->room_id, .session_id = r->session_id,
                      .participant_id = p->id, .org_id = r->org_id,
                      .hint = "the connection closed while waiting for admission"};
        char rid[PARLEY_REQUEST_ID_LEN + 1];
        ev_record(PARLEY_ERR_GENERIC_CONNECTION_ERROR, &ctx, NULL, rid);
        participant_remove(p, PARLEY_LEAVE_WEBSOCKET_DISCONNECTED, 0);
        return;
    }
    if (p->state != PS_JOINED)
        return;
    p->state = PS_AWAY;
    if (server.cfg.reconnect_grace > 0)
        p->timer = ptimer_start((uint64_t)server.cfg.reconnect_grace * 1000, grace_expired, p);
    if (!p->timer)
        participant_remove(p, PARLEY_LEAVE_WEBSOCKET_DISCONNECTED, TELL_OTHERS);
}

void room_end(room *r, int leave_code)
{
    room_hold(r);
    while (r->members)
        participant_remove(r->members, leave_code, TELL_SELF);
    room_release(r);
}

void rooms_shutdown(void)
{
    while (server.rooms) {
        room *r = server.rooms;
        while (r->members) {
            participant *p = r->members;
            if (p->state != PS_WAITING &&
                parley_store_participant_leave(server.store, r->session_id, p->id, 0) !=
                    PARLEY_STORE_OK)
                log_store_failure(r, "could not record the participant's departure");
            if (p->conn)
                p->conn->p = NULL;
            ptimer_cancel(p->timer);
            r->members = p->next;
            free(p);
        }
        room_close(r);
    }
}
