/* bench.h - what the benchmarks' generators share (bench/common/).
 *
 *   ws.c     the libwebsockets client on a libuv loop: one context, one lg_conn
 *            per WebSocket, a send queue, frame reassembly; each whole JSON
 *            message goes to the program's lg_driver
 *   stats.c  monotonic time, latency samples and percentiles, the server's
 *            CPU and RSS from /proc
 *   token.c  HS256 Parley tokens
 *   args.c   the signaling URL (loopback only), lists, the descriptor limit
 *
 * Used by the signaling generator (bench/signaling/) and the media forwarding
 * generator (bench/sfu/). A program linking ws.c provides lg_join_sent() and
 * lg_failed(), which ws.c calls. */
#ifndef PARLEY_BENCH_COMMON_H
#define PARLEY_BENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct lws;

/* ---- time ---- */

/* Monotonic seconds. */
double lg_now(void);

/* ---- connections ---- */

typedef enum lg_state {
    LG_IDLE,       /* not started */
    LG_CONNECTING, /* WebSocket handshake */
    LG_JOINING,    /* join sent (Janus: create/attach/join in flight) */
    LG_JOINED,
    LG_REPLACED,   /* Parley: a newer connection took this participantId (4005) */
    LG_LEAVING,
    LG_DONE,       /* left, or a probe that finished */
    LG_FAILED,
} lg_state;

typedef struct lg_msg lg_msg;

typedef struct lg_conn {
    int idx;             /* index in the run's connection table */
    int room;            /* index into the run's rooms */
    int64_t num_id;      /* Janus publisher id; Parley uses pid */
    char pid[40];        /* participantId */
    lg_state state;
    bool probe;          /* a duplicate newcomer */
    bool counted;        /* its join outcome has been counted */
    struct lg_conn *victim;   /* probe: the older connection with the same id */
    struct lg_conn *newcomer; /* victim: the probe that took its id */
    double t_start;      /* connect started */
    double t_join_sent;  /* the join request left the socket */
    struct lws *wsi;
    bool closing;        /* close once the queue is flushed */
    /* Janus session state */
    int64_t session, handle;
    int step;
    /* outgoing queue */
    lg_msg *q_head, *q_tail;
    /* incoming message reassembly */
    char *rx;
    size_t rx_len, rx_cap;
    void *user;          /* the program's own state for this connection */
} lg_conn;

/* ---- protocol drivers ---- */

typedef struct lg_driver {
    const char *name;        /* "parley" or "janus" */
    const char *subprotocol; /* Sec-WebSocket-Protocol */
    /* The error a duplicate participant id provokes, and who receives it:
     * the older connection (Parley: 4005) or the newcomer (Janus: 436). */
    int dup_code;
    bool dup_to_old;
    /* The socket is open: send the first request. */
    void (*on_open)(lg_conn *c);
    /* One whole JSON message arrived. */
    void (*on_message)(lg_conn *c, json_t *msg);
    /* Leave the meeting politely. */
    void (*leave)(lg_conn *c);
    /* Show the server the participant is alive (servers drop silent ones). */
    void (*keepalive)(lg_conn *c);
    /* The socket closed (by either side); state says what was expected. */
    void (*on_close)(lg_conn *c);
} lg_driver;

extern const lg_driver lg_parley_driver;
extern const lg_driver lg_janus_driver;

/* ---- ws.c ---- */

typedef struct lg_ws_opts {
    const char *host;
    int port;
    const char *path;
    const char *subprotocol;
    unsigned fd_limit;
    bool verbose; /* lws warnings and errors to stderr */
} lg_ws_opts;

/* Create the lws context on the given uv loop. 0 or -1. */
int lg_ws_init(void *uv_loop, const lg_ws_opts *o, const lg_driver *drv);
/* Start the WebSocket handshake for c. 0 or -1 (c is then failed). */
int lg_ws_connect(lg_conn *c);
/* Queue one JSON message (stolen reference) for c. When is_join, the moment
 * it leaves the socket is reported through lg_join_sent(). 0 or -1. */
int lg_ws_send(lg_conn *c, json_t *msg, bool is_join);
/* Close c's socket from our side once its queue is flushed. */
void lg_ws_close(lg_conn *c);
/* Free c's buffers (after it closed). */
void lg_ws_release(lg_conn *c);
/* Destroy the context; the loop must run afterwards so handles close, and
 * then, while lg_ws_alive(), lg_ws_destroy() again to free it. */
void lg_ws_destroy(void);
bool lg_ws_alive(void);

/* ---- provided by the program linking ws.c ---- */

/* A join request left the socket (lg_ws_send with is_join). */
void lg_join_sent(lg_conn *c);
/* c failed (connect error, bad message...). */
void lg_failed(lg_conn *c, const char *why, int code);

/* ---- stats.c ---- */

typedef struct lg_samples {
    double *v; /* milliseconds */
    size_t n, cap;
} lg_samples;

void lg_samples_add(lg_samples *s, double ms);
/* Nearest-rank percentile (0 < p <= 100) of the samples; -1 when empty. */
double lg_samples_pct(lg_samples *s, double p);
void lg_samples_free(lg_samples *s);

typedef struct lg_proc {
    bool ok;
    double cpu_s;   /* utime + stime, seconds */
    long rss_kib;   /* VmRSS */
    long threads;
} lg_proc;

/* Read /proc/PID figures; ok=false when the process is gone or pid <= 0. */
lg_proc lg_proc_read(int pid);

/* ---- token.c ---- */

/* An HS256 token {apikey, permissions:[allow_join], version:2, iat, exp}.
 * Returns a malloc'd string or NULL. */
char *lg_token_mint(const char *apikey, const char *secret, long ttl_s);

/* ---- args.c ---- */

/* ws://HOST[:PORT][/PATH] with HOST a loopback address ([::1] for IPv6);
 * 0, or -1 for anything else. */
int lg_parse_url(const char *url, char *host, size_t hostsz, int *port, char *path, size_t pathsz);
/* The items of text (separated by commas or whitespace), malloc'd, in a
 * NULL-terminated array (NULL when there are none); takes text (malloc'd,
 * or NULL) and frees it. */
char **lg_split(char *text, int *count);
/* Raise the soft limit of open files to the hard one; the limit (at most 2^20). */
unsigned lg_raise_fd_limit(void);

#endif
