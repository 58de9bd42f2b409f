/* signaling.h - WebSocket signaling connections (docs/protocol.md §2.1-2.2).
 *
 * signaling.c owns the transport: one `conn` per WebSocket, its outgoing
 * queue, frame reassembly with the 64 KiB cap, the per-connection rate
 * limit and idle timeout, JSON parsing (803) and dispatch by `type` (999,
 * 102 before joining). The request handlers live in join.c, reconnect.c,
 * requests.c and moderation.c and answer through the helpers below.
 *
 * Ownership: a conn is created when the WebSocket is established and freed
 * when lws reports it closed; signaling.c frees it. conn->p points at the
 * participant this connection speaks for (owned by its room) or is NULL;
 * room.c keeps both sides of that link consistent. Messages passed to the
 * send helpers are stolen. */
#ifndef PARLEYD_SIGNALING_H
#define PARLEYD_SIGNALING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "events.h"
#include "store.h"

#define SIG_FRAME_MAX (64 * 1024)  /* one message, reassembled */
#define SIG_RATE_LIMIT 50          /* messages per second */
#define SIG_QUEUE_MAX (4 << 20)    /* unsent bytes before a reader counts as stuck */
#define SIG_ID_MAX 64
#define SIG_WRITE_BURST 64         /* messages written in one writeable callback */

struct lws;
struct participant;
typedef struct outmsg outmsg;
typedef struct sig_shared sig_shared;

typedef struct conn {
    struct lws *wsi;
    struct conn *next, *prev; /* server.conns */
    outmsg *out_head, *out_tail;
    size_t out_bytes;
    char *rx;                  /* the message being reassembled */
    size_t rx_len;
    bool rx_binary;
    bool closing;              /* input ignored; closed once the queue is sent */
    bool close_sent;           /* the Close handshake has begun */
    bool dropped;              /* to be closed at once, without a Close handshake */
    uint64_t last_active;      /* idle timeout: the last message or pong (ms) */
    uint64_t window_start;     /* rate limit: start of the current second (ms) */
    int window_count;
    struct participant *p;     /* joined, waiting or NULL */
    char origin[PARLEY_ORIGIN_MAX + 1];
} conn;

/* What lws's callback calls. */
conn *sig_open(struct lws *wsi, const char *origin);
void sig_receive(conn *c, const void *in, size_t len);
int sig_writeable(conn *c); /* -1: close it now */
void sig_touch(conn *c);    /* the peer showed life (a WebSocket pong) */
void sig_closed(conn *c);

/* The idle sweep: a repeating loop timer that closes connections silent
 * past their idle timeout. Started once the listener runs; stopped at
 * shutdown. */
int sig_sweep_start(void);
void sig_sweep_stop(void);

/* Set by the transport (listener.c): whether wsi takes a write right now
 * (nothing of an earlier write still buffered, the socket writeable). While
 * NULL every message waits for the writeable callback, one per callback. */
extern bool (*sig_can_write)(struct lws *wsi);

/* Sending. */
void sig_send(conn *c, json_t *msg);
/* One message for several connections: serialized once (msg stolen; NULL
 * if it could not be), queued to each with sig_send_shared, and released
 * by its maker once queued everywhere. */
sig_shared *sig_shared_new(json_t *msg);
void sig_send_shared(conn *c, sig_shared *s);
void sig_shared_release(sig_shared *s);
/* {"type":"response","id":id,"ok":true, ...members of result (stolen, may be NULL)} */
void sig_reply(conn *c, const char *id, json_t *result);
/* Fill ctx with what c knows (room, session, participant, organisation). */
void sig_ctx(const conn *c, ev_ctx *ctx);
/* A non-fatal error event; the connection stays. */
void sig_error(conn *c, int code, const char *id, const char *hint);
/* The same with a prepared context (ctx's room/participant fields win). */
void sig_error_ctx(conn *c, int code, const ev_ctx *ctx);
/* A fatal error: the event, then meeting-left with leave_code, then close. */
void sig_fatal(conn *c, int code, const ev_ctx *ctx, int leave_code);
/* meeting-left with leave_code, then close. */
void sig_leave(conn *c, int leave_code);
/* Close once everything queued is sent; further input is ignored. */
void sig_close(conn *c);

/* Field access for handlers: each answers 803 (hint: the field) and
 * returns false when the field is missing (if required) or mistyped. */
bool sig_string(conn *c, json_t *msg, const char *id, const char *field, bool required,
                const char **out);
bool sig_bool(conn *c, json_t *msg, const char *id, const char *field, bool required, bool *out);
bool sig_number(conn *c, json_t *msg, const char *id, const char *field, bool required,
                double *out);

/* Milliseconds on the loop's monotonic clock. */
uint64_t sig_now_ms(void);

#endif
