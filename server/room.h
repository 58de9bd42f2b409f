/* room.h - live rooms: the participants of each room's live session, their
 * modes and media, the lock, the synchronizer role, and session lifecycle.
 *
 * A room is live while it has a live session: it is opened (and a session
 * started in the store) when the first joiner of a room without one gets
 * through the join checks, and closed (the session ended) when its last
 * participant or waiting joiner is gone, or on `end`. Limits per room and
 * per organisation are counted here, over the live rooms.
 *
 * Ownership: server.rooms owns every room; a room owns its participants.
 * A participant and its connection point at each other while both exist;
 * participant_remove() and sig_closed() break that link. ptimers are owned
 * by the loop and cancelled here. Messages passed to the broadcast helpers
 * are stolen. */
#ifndef PARLEYD_ROOM_H
#define PARLEYD_ROOM_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "ids.h"
#include "store.h"
#include "timer.h"

struct conn;

typedef enum pmode { MODE_CONFERENCE = 0, MODE_VIEWER } pmode;

typedef enum pstate {
    PS_WAITING = 0, /* ask_join: waiting for a decision */
    PS_JOINED,      /* in the meeting, connected */
    PS_AWAY,        /* in the meeting, connection lost: within the reconnect grace */
} pstate;

typedef struct participant {
    struct room *room;
    struct participant *next, *prev;
    char id[PARLEY_PARTICIPANT_ID_MAX + 1];
    char name[PARLEY_PARTICIPANT_NAME_MAX + 1];
    char secret[PARLEY_SECRET_LEN + 1];
    char join_id[65];            /* id of the join message, echoed by a late `joined` */
    pmode mode;
    bool audio, video;           /* publishing now */
    bool want_audio, want_video; /* micEnabled / webcamEnabled at join */
    unsigned perms;              /* PARLEY_PERM_* */
    unsigned publish_grant;      /* PARLEY_PUBLISH_* */
    pstate state;
    struct conn *conn;
    ptimer *timer;               /* entry timeout (waiting) or grace (away) */
} participant;

typedef struct room {
    struct room *next, *prev;
    char room_id[PARLEY_ROOM_ID_LEN + 1];
    char custom_room_id[PARLEY_CUSTOM_ROOM_ID_MAX + 1];
    int64_t org_id;
    struct org_tally *tally; /* the organisation's counts, shared by its live rooms */
    char session_id[PARLEY_HEX_ID_LEN + 1];
    parley_room_settings settings;
    bool locked;
    char synchronizer[PARLEY_PARTICIPANT_ID_MAX + 1]; /* "" when nobody holds the role */
    participant *members;
    int holds; /* while > 0, an empty room stays open (a join is under way) */
} room;

typedef struct room_counts {
    int participants; /* joined or away */
    int speakers;     /* of those, in CONFERENCE mode */
    int viewers;      /* of those, in VIEWER mode */
    int publishers;   /* of those, publishing audio or video */
    int waiting;
} room_counts;

/* How participant_remove() tells people. */
enum { TELL_SELF = 1, TELL_OTHERS = 2 };

const char *mode_name(pmode m);
/* CONFERENCE, VIEWER and their synonyms SEND_AND_RECV, SIGNALLING_ONLY. */
bool mode_parse(const char *text, pmode *out);

room *room_find(const char *room_id);
/* Open rec's room with a new session. 0, or PARLEY_ERR_SESSION_CANNOT_BE_CREATED_ERROR_CODE
 * (server at --max-sessions, or the store failed) with the reason in detail. */
int room_open(const parley_room *rec, room **out, char *detail, size_t detail_len);
void room_hold(room *r);
/* Drop a hold; closes the room (ends its session) when it is empty. */
void room_release(room *r);
/* Everyone gets meeting-left with leave_code; the session ends. */
void room_end(room *r, int leave_code);
/* At shutdown: end every session, free everything, without messages. */
void rooms_shutdown(void);

participant *room_member(const room *r, const char *participant_id);
void room_count(const room *r, const participant *except, room_counts *out);
/* Speakers and viewers of an organisation over its live rooms: counters
 * kept up to date as participants are admitted, change mode and go, so
 * this costs nothing per participant. */
void org_count(int64_t org_id, const participant *except, int *speakers, int *viewers);
/* Change p's mode, keeping the organisation's counts (no message). */
void participant_set_mode(participant *p, pmode mode);

/* Send msg to every connected, joined member but except (may be NULL). */
void room_broadcast(room *r, json_t *msg, const participant *except);
/* The same, only to members holding any of the permission bits. */
void room_broadcast_perm(room *r, json_t *msg, unsigned perms, const participant *except);

/* A new member in state PS_WAITING, not yet announced. */
participant *participant_add(room *r, const char *participant_id);
/* Let p into the meeting: open its timelog, send `joined` (with
 * reconnected false), tell the others, then the non-fatal 108/107/206 for
 * media it asked for and may not publish. */
void participant_admit(participant *p, const char *request_id);
/* Remove p from its room and free it (see TELL_*); closes the room if it
 * becomes empty and is not held. */
void participant_remove(participant *p, int leave_code, unsigned tell);
/* p's connection closed without a leave: a waiting joiner is gone (901);
 * a joined participant becomes PS_AWAY for the reconnect grace. */
void participant_conn_lost(participant *p);

/* {participantId, name, mode, audio, video} */
json_t *participant_json(const participant *p);
/* The `joined` message for p. */
json_t *joined_json(const participant *p, const char *request_id, bool reconnected);
/* Change p's media and tell everyone with publish-changed (if it changed). */
void participant_set_media(participant *p, bool audio, bool video);
/* Clear the synchronizer role if p holds it, telling everyone. */
void room_drop_synchronizer(room *r, const participant *p);

#endif
