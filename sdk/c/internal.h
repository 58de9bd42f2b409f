/* internal.h - what the parts of libparley share; not installed.
 *
 * The parts, and who calls whom:
 *   client.c     the loop thread, the command queue (any thread -> loop), shutdown
 *   meeting.c    the public meeting API: config, state checks, actions as commands
 *   session.c    the meeting state machine on the loop: join, reconnect, leave, messages
 *   transport.c  one WebSocket (a conn) on libwebsockets, and URL parsing
 *   event.c      events, subscriptions and their dispatch, the accessors
 *
 * Locking: one mutex per client (client->mu) guards the command queue, the
 * closing flag, each meeting's state and released flag, and each meeting's
 * subscription list. Everything else of a meeting or a conn is touched only on
 * the loop thread. Callbacks run with no lock held. */
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
} cmd_kind;

typedef struct cmd {
    struct cmd *next;
    cmd_kind kind;
    parley_meeting *meeting;
    char type[24]; /* request type */
    json_t *msg;   /* request fields, owned */
    char *arg;     /* refresh-token: the new token, owned */
    int code;
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
};

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
