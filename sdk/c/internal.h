/* internal.h - what the parts of libparley share; not installed.
 *
 * The parts, and who calls whom:
 *   client.c     the loop thread, the command queue (any thread -> loop), shutdown
 *   meeting.c    the public meeting API: config, state checks, actions as commands
 *   session.c    the meeting state machine on the loop: join, reconnect, leave, messages
 *   transport.c  one WebSocket (a conn) on libwebsockets, and URL parsing
 *   event.c      events, subscriptions and their dispatch, the accessors
 *   track.c      custom tracks (the public track API, frames posted to the loop)
 *                and the default sources that replace a freed published track
 *   media.c      the publication: offer, RTP packetizing, send history, sender
 *                reports, default sources; the media side of signaling
 *   media_rx.c   the subscriptions: answer, frame reassembly, NACK/PLI,
 *                receiver reports, per-track statistics (media_int.h: shared)
 *   rtc.c        one media connection: UDP socket, ICE, DTLS client, SRTP
 *
 * Locking: one mutex per client (client->mu) guards the command queue, the
 * closing flag, each meeting's state and released flag, and each meeting's
 * subscription list; also the client's track list, each track's meeting
 * pointer, each meeting's frame callback and its list of media subscriptions
 * with their statistics. Everything else of a meeting, a conn or a media
 * connection is touched only on the loop thread. Callbacks run with no lock
 * held. */
#ifndef PARLEY_SDK_INTERNAL_H
#define PARLEY_SDK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>
#include <uv.h>

#include <parley/parley.h>

struct lws;
struct lws_context;

typedef struct conn conn;

/* ---- client.c ---- */

typedef enum cmd_kind {
    CMD_JOIN,        /* meeting: connect and join */
    CMD_LEAVE,       /* meeting: leave or cancel */
    CMD_SEND,        /* meeting: send request `type` with fields `msg` */
    CMD_LOCAL_ERROR, /* meeting: emit error `code` for request `type` */
    CMD_RELEASE,     /* meeting: close quietly and free */
    CMD_SHUTDOWN,    /* client: close everything and stop the loop */
    CMD_TRACK_FRAME, /* track: send frame data[len] with timestamp ts */
    CMD_TRACK_FREE,  /* track: stop using it and free it */
    CMD_PUBLISH,     /* meeting: publish track (audio) and track2 (video) */
    CMD_UNPUBLISH,   /* meeting: end the publication */
    CMD_SUBSCRIBE,   /* meeting: subscribe to participant `arg` */
    CMD_UNSUBSCRIBE, /* meeting: end the subscription to `arg` */
} cmd_kind;

typedef struct cmd {
    struct cmd *next;
    cmd_kind kind;
    parley_meeting *meeting;
    char type[24]; /* request type */
    json_t *msg;   /* request fields, owned */
    char *arg;     /* refresh-token: the new token; local error: the hint; owned */
    int code;
    parley_track *track, *track2;
    uint8_t *data; /* a frame, owned */
    size_t len;
    uint32_t ts;
    bool has_level; /* an audio frame's level (RFC 6464): level in -dBov, voice */
    bool voice;
    uint8_t level;
} cmd;

struct parley_client {
    uv_mutex_t mu;
    cmd *head, *tail; /* under mu */
    bool closing;     /* under mu: destroy has begun */

    uv_thread_t thread;
    uv_thread_t loop_thread_id; /* valid once started */
    uv_sem_t ready;
    int start_status;

    uv_loop_t loop;
    uv_async_t wake;
    uv_timer_t drain; /* shutdown: waits for connections to finish closing */
    unsigned drain_ticks;
    struct lws_context *lws;

    parley_meeting *meetings; /* loop thread (and destroy, after the join) */
    parley_track *tracks;     /* under mu: every track not yet freed */
    conn *conns;              /* every conn not yet freed, same */

    unsigned connect_timeout_s;
    char *ca_file;
};

/* Queue a command (takes ownership of c) and wake the loop. PARLEY_ECLOSED
 * when destroy has begun (c is freed). Call without mu held. */
int client_post(parley_client *client, cmd *c);
/* The same with mu already held. */
int client_post_locked(parley_client *client, cmd *c);
void cmd_free(cmd *c);
bool client_on_loop_thread(parley_client *client);

/* ---- meeting.c / session.c ---- */

typedef struct handler {
    struct handler *next;
    parley_event_type type;
    parley_event_cb cb;
    void *userdata;
    bool removed;
} handler;

typedef struct pending {
    struct pending *next;
    char id[16];
    char type[24];
    char *arg; /* refresh-token: the token it installs */
} pending;

typedef struct outbox_item {
    struct outbox_item *next;
    char type[24];
    json_t *msg;
    char *arg;
} outbox_item;

typedef enum phase {
    PHASE_NONE,      /* idle, failed or left */
    PHASE_JOIN,      /* first join: connecting, joining, waiting */
    PHASE_JOINED,    /* connected and joined */
    PHASE_BACKOFF,   /* reconnecting: waiting before the next attempt */
    PHASE_RECONNECT, /* reconnecting: an attempt is under way */
    PHASE_LEAVING,   /* leave sent, waiting for meeting-left */
} phase;

struct parley_meeting {
    parley_client *client;
    parley_meeting *next; /* the client's list */

    /* config, immutable after creation (token: loop thread only) */
    bool tls, insecure;
    char *host, *path; /* path has its leading '/' */
    int port;
    char *origin, *token, *meeting_id, *participant_id, *name;
    parley_mode mode;
    bool mic, webcam;
    int reconnect_attempts;
    unsigned reconnect_min_ms, reconnect_max_ms;
    unsigned keepalive_ms; /* 0: off */

    /* under client->mu */
    parley_meeting_state state;
    bool released;
    handler *handlers;
    bool needs_sweep;

    /* loop thread only */
    phase phase;
    conn *conn;
    uv_timer_t timer; /* backoff, answer and leave timeouts */
    int timer_purpose;
    bool timer_ready;  /* initialised and not closed */
    bool timer_closed; /* closed for good (release or shutdown) */
    int attempt;
    char *secret, *self_id; /* from joined */
    char join_id[16];       /* id of the join or reconnect in flight */
    bool refused;           /* the server answered the join/reconnect with an error */
    bool fatal_seen;        /* a fatal error arrived after joining */
    unsigned next_id;
    pending *pending;
    outbox_item *outbox, *outbox_tail;

    /* media (media.c) */
    parley_frame_cb frame_cb; /* under client->mu */
    void *frame_ud;
    struct media_pub *pub;    /* loop thread */
    struct media_sub *subs;   /* list changes under client->mu, on the loop thread */
    struct media_ended *ended, *ended_tail; /* under client->mu: final counters of ended
                                             * subscriptions, until the next join or free */
};

/* meeting.c: post c when the meeting is joined (or, allow_connecting,
 * joining); otherwise post a 3022 error event instead and return 3022. Takes c. */
int meeting_post_if(parley_meeting *m, cmd *c, bool allow_connecting);

/* session.c: command handlers, on the loop thread. */
void session_join(parley_meeting *m);
void session_leave(parley_meeting *m);
void session_send(parley_meeting *m, const char *type, json_t *msg, char *arg); /* takes msg, arg */
void session_local_error(parley_meeting *m, int code, const char *request, const char *hint);
/* Close quietly (a joined meeting sends leave); release: then free m. */
void session_close_quietly(parley_meeting *m, bool release);
void meeting_free_memory(parley_meeting *m);

/* session.c: what a conn reports, on the loop thread. */
void session_on_open(parley_meeting *m, conn *c);
void session_on_message(parley_meeting *m, conn *c, const char *text, size_t len);
void session_on_closed(parley_meeting *m, conn *c, const char *why);

/* session.c, for media.c: send request `type` with fields (taken) now; the
 * request id into id_out (16 bytes). False when the meeting is not joined. */
bool session_request(parley_meeting *m, const char *type, json_t *fields, char *id_out);

/* ---- track.c ---- */

struct parley_track {
    parley_track *next;       /* the client's list, under mu */
    parley_client *client;
    parley_meeting *meeting;  /* under mu; NULL once the meeting is released */
    parley_track_config cfg;  /* with the defaults filled in */
    bool freed;               /* loop thread: CMD_TRACK_FREE ran */
};

/* Loop thread: the commands. */
void track_on_frame(parley_track *t, cmd *c); /* takes c->data */
void track_on_free(parley_track *t);
/* parley_meeting_free: detach the meeting's tracks (under mu). */
void tracks_detach_locked(parley_client *client, parley_meeting *m);
/* parley_client_destroy, after the loop is gone. */
void tracks_free_all(parley_client *client);

/* ---- media.c (loop thread) ---- */

void media_publish(parley_meeting *m, parley_track *audio, parley_track *video);
void media_unpublish(parley_meeting *m, bool tell_server);
void media_subscribe(parley_meeting *m, const char *participant_id);
void media_unsubscribe(parley_meeting *m, const char *participant_id, bool tell_server);
/* A frame of a published track (level: RFC 6464 -dBov, or -1 for none); takes data. */
void media_send_frame(parley_meeting *m, parley_track *t, uint8_t *data, size_t len, uint32_t ts, int level,
                      bool voice);
/* A published track is freed: carry on with the default source. */
void media_track_gone(parley_meeting *m, parley_track *t);
/* Server messages: before the event is emitted. */
void media_on_message(parley_meeting *m, const char *type, json_t *msg, const char *request,
                      const char *id);
/* The meeting ends: emit (or not) DISCONNECTED and free everything media
 * (the final counters of the subscriptions stay, see media_forget_ended). */
void media_teardown(parley_meeting *m, bool emit);
/* A new join, or the meeting is freed: drop the ended subscriptions' counters. */
void media_forget_ended(parley_meeting *m);

/* ---- rtc.c ---- */

typedef struct rtc rtc;

typedef enum rtc_state {
    RTC_NEW,       /* created: credentials and certificate, no socket */
    RTC_CHECKING,  /* ICE checks sent, no answer yet */
    RTC_DTLS,      /* ICE answered, DTLS handshake under way */
    RTC_CONNECTED, /* SRTP keys set: media flows */
    RTC_FAILED,    /* ICE or DTLS failed or timed out, or consent was lost */
    RTC_CLOSED,    /* the server closed DTLS */
} rtc_state;

typedef struct rtc_callbacks {
    void (*state)(void *arg, rtc_state s, const char *why);
    void (*rtp)(void *arg, uint8_t *pkt, size_t len);  /* unprotected RTP */
    void (*rtcp)(void *arg, uint8_t *pkt, size_t len); /* unprotected compound RTCP */
    void (*tick)(void *arg, uint64_t now_ms);          /* every 10 ms once started */
} rtc_callbacks;

rtc *rtc_new(uv_loop_t *loop, const rtc_callbacks *cb, void *arg, char *err, size_t errlen);
const char *rtc_ufrag(const rtc *r);
const char *rtc_pwd(const rtc *r);
const char *rtc_fingerprint(const rtc *r); /* "sha-256 AB:..." */
rtc_state rtc_get_state(const rtc *r);
/* Open the socket and start ICE toward the server's candidate. */
int rtc_start(rtc *r, const char *remote_ufrag, const char *remote_pwd, const char *fingerprint,
              const char *address, uint16_t port, char *err, size_t errlen);
/* Protect in place (cap: the buffer's room) and send; -1 unless connected. */
int rtc_send_rtp(rtc *r, uint8_t *pkt, size_t len, size_t cap);
int rtc_send_rtcp(rtc *r, uint8_t *pkt, size_t len, size_t cap);
/* No callback after this; freed once its handles have closed. */
void rtc_close(rtc *r);

/* ---- transport.c ---- */

typedef struct url_parts {
    bool tls;
    char *host;
    int port;
    char *path; /* prefix + /v1/signaling */
} url_parts;

/* Parse http[s]/ws[s]://host[:port][/prefix]; false on anything else. */
bool url_parse(const char *url, url_parts *out);

struct lws_context *transport_context_new(parley_client *client);
/* Open a WebSocket for m. NULL on an immediate failure, with why filled. */
conn *conn_open(parley_meeting *m, char *why, size_t why_size);
bool conn_is_open(const conn *c);
/* Queue one text message; false when the conn cannot send any more. */
bool conn_send(conn *c, const char *text);
/* Detach from its meeting and close, after flushing what was queued. */
void conn_close(conn *c);
/* Free a conn whose socket lws already destroyed (client shutdown). */
void conn_free(conn *c);

/* ---- event.c ---- */

/* Deliver an event of type for m (takes json, which has "event" first). */
void event_emit(parley_meeting *m, parley_event_type type, json_t *json);
/* The event type for a server message type; PARLEY_EVENT_OTHER if unknown. */
parley_event_type event_type_from_server(const char *type);
void handlers_free(handler *h);

/* ---- small helpers (event.c) ---- */
char *sdk_strdup(const char *s); /* NULL stays NULL */

#endif
