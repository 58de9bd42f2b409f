/* sb.h - what the media forwarding generator's modules share.
 *
 * The generator (bench/sfu/) puts P publishers and S subscribers on one SFU,
 * Parley's or Janus's VideoRoom, from one process on one libuv loop. Every
 * endpoint is a participant of its own: a WebSocket for signaling (the shared
 * client of bench/common/ws.c) and a media connection of its own (one UDP
 * socket, ICE controlling with USE-CANDIDATE, a DTLS client, SRTP), built from
 * the media core in sfu/. Publishers send 600 kbit/s of VP8 (30 frames/s,
 * split at 1,200 bytes, a keyframe every 2 s) and 32 kbit/s of Opus (20 ms);
 * each payload carries its send time, so subscribers measure forwarding
 * latency and loss (sequence gaps per stream).
 *
 *   main.c    options, the run's phases, pacing, the report
 *   media.c   one endpoint's media connection: SDP, ICE, DTLS, SRTP, sending,
 *             receiving, counting
 *   parley.c  Parley signaling: join, publish-offer, subscribe, subscribe-answer
 *   janus.c   Janus VideoRoom: session, attach, publisher join + publish,
 *             subscriber join + start */
#ifndef PARLEY_BENCH_SB_H
#define PARLEY_BENCH_SB_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "bench.h"
#include "cert.h"
#include "dtls.h"
#include "srtp.h"

#define SB_VIDEO_PT 96
#define SB_AUDIO_PT 111
#define SB_VIDEO_BPS 600000
#define SB_AUDIO_BPS 32000
#define SB_FPS 30
#define SB_KEYFRAME_S 2.0
#define SB_MTU_PAYLOAD 1200 /* video payload bytes per packet, descriptor included */

typedef enum sb_state {
    SB_IDLE = 0,  /* not started */
    SB_SIGNALING, /* WebSocket, join, offer/answer */
    SB_MEDIA,     /* ICE and DTLS under way */
    SB_CONNECTED, /* SRTP keys: media flows */
    SB_FAILED,
} sb_state;

/* What a subscriber has seen of one stream (loss and counts from the start
 * of the measurement). */
typedef struct sb_stream {
    bool started;
    uint32_t base, max; /* extended sequence numbers */
    uint64_t received;
} sb_stream;

typedef struct sb_ep {
    int idx;       /* publishers first, then subscribers */
    bool pub;
    int group;     /* publisher index: its room; a subscriber's publisher */
    sb_state state;
    const char *fail_why;
    lg_conn ws;
    /* signaling */
    int step;
    int64_t session, handle, feed; /* Janus */
    double t_start, t_connected;
    double t_keepalive; /* next signaling keepalive */
    bool setup_counted;
    /* media connection */
    uv_udp_t udp;
    bool udp_open;
    uint16_t lport;
    struct sockaddr_in raddr;
    bool have_raddr;
    char ufrag[16], pwd[32];
    char rufrag[257], rpwd[257];
    char rfp[300];
    bool dtls_server; /* the server answered setup:active */
    parley_dtls *dtls;
    parley_srtp *srtp;
    bool gcm; /* the SRTP profile negotiated is AEAD_AES_128_GCM */
    bool ice_ok, checks_on;
    double t_next_check;
    /* publisher */
    uint32_t vssrc, assrc;
    uint16_t vseq, aseq;
    uint32_t vts, ats;
    uint16_t picid;
    uint32_t frame;
    double next_v, next_a, t_send0;
    /* subscriber */
    uint8_t video_pt, audio_pt;
    sb_stream rs[2]; /* 0 audio, 1 video */
} sb_ep;

/* ---- the run (main.c) ---- */

typedef struct sb_view {
    const char *target;        /* "parley" or "janus" */
    const char *token;         /* Parley */
    const char *const *rooms;  /* Parley room ids, one per publisher */
    int64_t janus_room_base;   /* Janus: room base + publisher index */
    int publishers;
    const char *media_address; /* what the endpoints' UDP sockets bind to */
    unsigned srtp_profiles;    /* PARLEY_SRTP_PROFILE_BIT mask offered; 0: both */
    uint64_t tag;              /* makes participant ids unique per run */
} sb_view;

extern sb_view sb;
extern uv_loop_t *sb_loop;

/* The endpoint of a signaling connection. */
static inline sb_ep *sb_of(lg_conn *c) { return c->user; }
/* The publisher subscriber e receives. */
sb_ep *sb_publisher_of(const sb_ep *e);
/* e's participant id (publishers "pub-N", subscribers "sub-N"). */
void sb_pid(const sb_ep *e, char *out, size_t n);
/* e's signaling failed or its media did: count it, close it. */
void sb_fail(sb_ep *e, const char *why, int code);
/* Both drivers' on_close: a WebSocket that closes before the end is a failure. */
void sb_on_close(lg_conn *c);

/* ---- media.c ---- */

int sb_media_global(char *err, size_t n);
/* Whether media may use address (IPv4): a loopback address, or an address
 * of an interface of a network namespace the generator runs in that is not
 * the machine's own (PID 1's). */
bool sb_media_address_allowed(const char *address);
void sb_media_global_free(void);
/* Open e's socket, make its credentials. 0 or -1. */
int sb_media_open(sb_ep *e);
void sb_media_close(sb_ep *e);
/* A publisher's offer (malloc'd). */
char *sb_media_offer(sb_ep *e);
/* Take a publisher's answer from the server. 0 or -1 (why set). */
int sb_media_take_answer(sb_ep *e, const char *sdp, const char **why);
/* A subscriber: take the server's offer, return the answer (malloc'd), NULL
 * with why. */
char *sb_media_answer(sb_ep *e, const char *offer, const char **why);
/* Start ICE checks (and then DTLS). */
void sb_media_go(sb_ep *e, double now);
/* Periodic work: checks, consent, DTLS retransmissions. */
void sb_media_tick(sb_ep *e, double now);
/* A publisher: send what is due by now. */
void sb_media_send(sb_ep *e, double now);
/* Packets per second one publisher sends (and one subscriber receives) by
 * the schedule: 50 Opus packets, and the VP8 frames' packets (~113.5). */
double sb_nominal_pps(void);

/* Counters over the measurement window (reset by sb_measure_start). */
typedef struct sb_counts {
    uint64_t rtp_rx, bytes_rx, rtcp_rx;
    uint64_t rtp_tx, bytes_tx;
    uint64_t srtp_fail, send_fail;
    uint64_t keyframes_rx;
} sb_counts;

extern sb_counts sb_cnt;
extern bool sb_measuring;
/* Forwarding latency: a histogram of (receive − send) in microseconds. */
void sb_lat_add(double us);
double sb_lat_pct(double p); /* milliseconds; -1 when empty */
uint64_t sb_lat_count(void);
void sb_measure_start(sb_ep *eps, int n);
/* Loss over the window: expected and received over every stream, the
 * streams seen and those that lost anything. */
void sb_loss(sb_ep *eps, int n, uint64_t *expected, uint64_t *received, int *streams, int *lossy);

/* ---- signaling drivers ---- */

extern const lg_driver sb_parley_driver;
extern const lg_driver sb_janus_driver;

#endif
