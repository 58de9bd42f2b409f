/* router_int.h - what router.c and router_rtcp.c share; not for use
 * outside sfu/router*.c.
 *
 * The router's tracks, subscriptions and speaker groups (router.h says
 * how they behave). router.c owns them and the RTP path; router_rtcp.c the
 * RTCP both ways and the timer that drives the SFU's own. */
#ifndef PARLEY_SFU_ROUTER_INT_H
#define PARLEY_SFU_ROUTER_INT_H

#include "router.h"

#include "forward.h"
#include "nack.h"
#include "rtcp.h"
#include "rtp.h"

typedef struct track track;
typedef struct simgroup simgroup;

typedef struct sub {
    struct sub *next;
    parley_peer *peer;
    track *t;                 /* simulcast: the layer being sent, NULL before one */
    simgroup *sim;            /* simulcast: the group subscribed to */
    int want;                 /* simulcast: the layer asked for (0 lowest) */
    parley_forwarder fwd;
    uint32_t packets, octets; /* sent to this subscriber: its SRs' counts */
    uint64_t remb_bps;        /* the subscriber's last REMB; 0: none */
    int64_t remb_ms;
} sub;

/* The tracks whose audio levels elect one active speaker. */
typedef struct spk_group {
    struct spk_group *next;
    const void *key;
    unsigned tracks;
    parley_speaker_detector det;
} spk_group;

struct track {
    track *next;
    parley_router *r;
    parley_peer *pub;
    uint32_t ssrc;
    bool video;
    parley_nack_buffer nack;
    parley_pli_limiter pli;
    sub *subs;
    parley_rtcp_recv_stats stats;   /* for the RRs to the publisher */
    parley_nack_tracker loss;       /* for the NACKs to the publisher */
    bool has_sr;                    /* the publisher's last SR, for the subscribers' */
    uint64_t sr_ntp;
    uint32_t sr_rtp;
    int64_t sr_ms;
    uint8_t level_id;               /* audio level extension; 0: none */
    spk_group *group;
    bool reported;                  /* done in this report round */
    simgroup *sim;                  /* a simulcast layer: its group, else NULL */
    int layer;                      /* its index there, 0 lowest */
    int64_t last_ms;                /* its last packet (simulcast layers) */
};

/* A simulcast track (router_sim.c): its layers are tracks of their own
 * (buffer, loss tracker, limiter, reports), learned by the RID extension of
 * their first packets; the subscriptions are the group's. */
struct simgroup {
    simgroup *next;
    parley_router *r;
    parley_peer *pub;
    uint32_t id;                    /* what subscribers name it by */
    uint8_t rid_ext;
    size_t n;
    char rid[PARLEY_ROUTER_MAX_LAYERS][64];
    track *layer[PARLEY_ROUTER_MAX_LAYERS]; /* NULL until learned */
    sub *subs;
};

struct parley_router {
    uv_loop_t *loop;
    parley_router_config cfg;
    track *tracks;
    spk_group *groups;
    simgroup *sims;
    parley_router_speaker_fn on_speaker;
    void *speaker_arg;
    uv_timer_t *timer;
    int64_t next_report_ms;
    parley_router_counters c;
    uint8_t scratch[PARLEY_RTP_MAX_PACKET + PARLEY_PEER_SEND_ROOM];
    uint8_t fb[PARLEY_RTCP_MAX_PACKET + PARLEY_PEER_SEND_ROOM];
};

#define PARLEY_ROUTER_TICK_MS 20 /* NACK retries, speaker windows, report schedule */
#define NACK_BATCH 64             /* sequence numbers per NACK to a publisher */

static inline int64_t router_now_ms(const parley_router *r)
{
    return (int64_t)uv_now(r->loop);
}

/* The subscriptions a track's packets go to. */
static inline sub *router_track_subs(const track *t)
{
    return t->sim ? t->sim->subs : t->subs;
}

/* router.c */
track *router_find_track(const parley_router *r, uint32_t ssrc);
/* A new track in the list (the timer started); NULL when memory is short. */
track *router_track_new(parley_router *r, parley_peer *pub, uint32_t ssrc, bool video);
/* Unlink and free a track (and its own subscriptions). */
void router_track_drop(parley_router *r, track *t);
/* Send an RTCP packet (already in r->fb) to a track's publisher. */
void router_send_feedback(parley_router *r, track *t, size_t len);
/* A forwarder waiting for a keyframe asks (its limiter already agreed). */
void router_on_keyframe(void *arg, uint32_t publisher_ssrc);
/* Lost beyond retransmission: a video publisher is asked for a keyframe. */
void router_request_keyframe(track *t, int64_t now);

/* router_rtcp.c */
/* The SFU's own RTCP (in r->fb) to a peer; false when it was not sent. */
bool router_send_own(parley_router *r, parley_peer *p, size_t len);
/* Ask the publisher for what the track's loss tracker says is due. */
void router_send_nacks(parley_router *r, track *t, int64_t now);
void router_on_tick(uv_timer_t *h);

/* router_sim.c */
simgroup *router_sim_find(const parley_router *r, uint32_t id);
/* The layer track a packet of unknown SSRC from p opens, if its RID
 * extension names a layer of one of p's simulcast tracks not yet learned. */
track *router_sim_learn(parley_router *r, parley_peer *p, const uint8_t *pkt,
                        const parley_rtp_header *h, int64_t now);
int router_sim_subscribe(parley_router *r, simgroup *g, parley_peer *peer, uint32_t out_ssrc);
void router_sim_unlink(simgroup *g, parley_peer *peer);
void router_sim_free(parley_router *r, simgroup *g);
/* A layer goes (its track is freed by the caller). */
void router_sim_detach(track *t);
/* Every subscription to its best layer, keyframe requests repeated. */
void router_sim_tick(parley_router *r, int64_t now);
void router_sim_retarget(simgroup *g, sub *s, int64_t now);

#endif
