/* router.h - who receives what: publishers' tracks forwarded to their
 * subscribers, and the feedback that flows back.
 *
 * Design. A track is one publisher stream, known by the publisher peer and
 * its SSRC (VP8 video or Opus audio; no simulcast). Its RTP is kept in the
 * track's retransmission buffer (keyed by the publisher's sequence numbers)
 * and sent to every subscriber of the track through that subscriber's own
 * parley_forwarder: its own SSRC, continuous sequence numbers and timestamps,
 * video starting on a keyframe. A subscriber's NACK is answered from the
 * track's buffer, each packet rewritten again the way the subscriber saw it;
 * its PLI and FIR go to the publisher (parley_rtcp_feedback_to_publisher maps
 * the SSRCs) through the track's PLI limiter, as do the keyframe requests of
 * a new subscription. Everything else a subscriber or publisher sends in
 * RTCP is terminated here.
 *
 * Feed it from the peers' callbacks: parley_router_rtp and parley_router_rtcp
 * with the packet the peer handed over (the router may modify it).
 *
 * Threads: the loop thread; the time is uv_now of the loop. No allocation per
 * packet: one scratch buffer per router; tracks and subscriptions are
 * allocated when added. Lookups are linear scans, fine for a meeting's size.
 *
 * Ownership: the owner creates and frees the router; the router borrows the
 * peers (remove a peer with parley_router_remove_peer before freeing it) and
 * owns its tracks, their buffers and the subscriptions. */
#ifndef PARLEY_SFU_ROUTER_H
#define PARLEY_SFU_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "peer.h"

typedef struct parley_router parley_router;

typedef struct parley_router_config {
    uint32_t sfu_ssrc;          /* sender SSRC of the SFU's own RTCP; 0: 1 */
    uint32_t pli_interval_ms;   /* per track; 0: PARLEY_PLI_INTERVAL_MS */
    uint32_t video_buffer;      /* retransmission slots; 0: 512 */
    uint32_t audio_buffer;      /* 0: 128 */
    uint32_t buffer_age_ms;     /* 0: 1000 */
} parley_router_config;

typedef struct parley_router_counters {
    uint64_t rtp_in, rtp_forwarded, rtp_unknown_track, rtp_malformed;
    uint64_t forward_dropped;   /* refused by a forwarder (waiting for a keyframe, ...) */
    uint64_t nack_items, retransmitted;
    uint64_t keyframe_requests; /* PLI/FIR sent to publishers */
    uint64_t feedback_suppressed; /* PLI/FIR held back by the limiter */
    uint64_t rtcp_malformed;
} parley_router_counters;

/* NULL when out of memory. cfg may be NULL (defaults). */
parley_router *parley_router_new(uv_loop_t *loop, const parley_router_config *cfg);
/* Free tracks and subscriptions; the peers are not touched. NULL is fine. */
void parley_router_free(parley_router *r);
/* A publisher's track: ssrc on peer pub, VP8 (video) or Opus (audio).
 * 0, or -1 when the SSRC is taken or memory is short. */
int parley_router_add_track(parley_router *r, parley_peer *pub, uint32_t ssrc, bool video);
/* Drop a track and its subscriptions. */
void parley_router_remove_track(parley_router *r, uint32_t ssrc);
/* Send track ssrc to peer sub as out_ssrc (unique per subscriber peer); a
 * video subscription asks the publisher for a keyframe. 0, or -1 when the
 * track is unknown, the pair exists, or memory is short. */
int parley_router_subscribe(parley_router *r, parley_peer *sub, uint32_t ssrc, uint32_t out_ssrc);
void parley_router_unsubscribe(parley_router *r, parley_peer *sub, uint32_t ssrc);
/* Forget a peer: its tracks (with their subscriptions) and subscriptions. */
void parley_router_remove_peer(parley_router *r, parley_peer *p);
/* A plain RTP packet / compound RTCP packet from peer p. */
void parley_router_rtp(parley_router *r, parley_peer *p, uint8_t *pkt, size_t len);
void parley_router_rtcp(parley_router *r, parley_peer *p, uint8_t *pkt, size_t len);
void parley_router_get_counters(const parley_router *r, parley_router_counters *out);

#endif
