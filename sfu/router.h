/* router.h - who receives what: publishers' tracks forwarded to their
 * subscribers, and the feedback that flows back.
 *
 * Design. A track is one publisher stream, known by the publisher peer and
 * its SSRC (VP8 video or Opus audio), or a simulcast video track (below). Its RTP is kept in the
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
 * The SFU's own RTCP, from a timer on the loop (every 20 ms while tracks
 * exist). Each publisher gets, every report interval (1 s), one compound
 * packet: an RR with one report block per track (RFC 3550 §6.4.2: loss,
 * extended highest sequence number, jitter, LSR/DLSR from the publisher's
 * SRs) and a REMB for its tracks (see below). Each subscriber gets an SR per
 * outgoing stream on the same schedule, once the track's publisher has sent
 * an SR: the publisher's NTP and RTP times carried forward to now, the RTP
 * time mapped into the subscriber's timeline (parley_forward_map_timestamp),
 * and the packets and payload octets sent to that subscriber. Reports carry
 * no SDES (reduced-size RTCP, RFC 5506).
 *
 * Loss toward the SFU: each video track's parley_nack_tracker sees the
 * publisher's sequence numbers (audio negotiates no NACK: Opus conceals its
 * losses); a gap is NACKed to the publisher at once (generic NACK,
 * RFC 4585) and again from the timer, each packet at most 10 times, no
 * sooner than PARLEY_ROUTER_NACK_RTT_MS apart, up to 64 per request. A
 * retransmission arrives on the track's SSRC (no RTX is negotiated), fills
 * the buffer and is forwarded like any packet, so every subscriber gets it
 * in its own numbering (copies of a packet never get this far: SRTP's replay
 * check drops them). A gap too large to track asks a video publisher for a
 * keyframe instead.
 *
 * REMB: the estimate sent to a publisher is the lowest REMB its subscribers
 * sent in the last PARLEY_ROUTER_REMB_FRESH_MS (a subscription peer receives
 * one publisher, so its REMB is that publisher's budget), never above
 * remb_cap_bps; with no subscriber REMB, remb_cap_bps.
 *
 * Active speaker: an audio track registered with parley_router_track_speaker
 * feeds its RFC 6464 levels into the speaker detector of its group (an
 * opaque key: parleyd uses the room); the detector's decisions (windows,
 * hysteresis: forward.h) are reported through the speaker callback.
 *
 * Simulcast: parley_router_add_simulcast registers a video track sent as up
 * to PARLEY_ROUTER_MAX_LAYERS layers (RID-based, lowest first), known by an
 * id of the caller's choosing that subscribers name like an SSRC. The layers'
 * SSRCs are not in the SDP: a packet of unknown SSRC from the publisher whose
 * RID header extension names a layer not yet learned makes that SSRC the
 * layer, a track of its own (buffer, NACKs, RRs, limiter). Each subscription
 * has one forwarder: one outgoing SSRC whose source moves between layers at
 * keyframes (a PLI to the layer switched to, repeated from the timer while
 * it waits), sequence numbers, timestamps and VP8 picture ids continuous.
 * It gets the layer asked for (parley_router_set_layer; at first the
 * highest) or, while that one has sent nothing for
 * PARLEY_ROUTER_LAYER_STALE_MS, the next lower one arriving (or the next
 * higher when none lower is), and goes back up once it arrives again. Its
 * REMB does not lower the publisher's estimate: a subscriber short of
 * bandwidth takes a lower layer instead.
 *
 * Feed it from the peers' callbacks: parley_router_rtp and parley_router_rtcp
 * with the packet the peer handed over (the router may modify it).
 *
 * Threads: the loop thread; the time is uv_now of the loop. No allocation per
 * packet: one scratch buffer per router; tracks, subscriptions and speaker
 * groups are allocated when added. Lookups are linear scans, fine for a
 * meeting's size.
 *
 * Ownership: the owner creates and frees the router; the router borrows the
 * peers (remove a peer with parley_router_remove_peer before freeing it) and
 * owns its tracks, their buffers, the subscriptions and its timer (closed by
 * parley_router_free; the loop must run once more to release it). The
 * speaker callback runs from the router's timer and may add or remove
 * tracks and peers. */
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
    uint32_t report_interval_ms; /* RR/SR/REMB period; 0: 1000 */
    uint64_t remb_cap_bps;      /* highest REMB sent to a publisher; 0: 2500000 */
} parley_router_config;

#define PARLEY_ROUTER_MAX_LAYERS 3
#define PARLEY_ROUTER_LAYER_STALE_MS 1000
#define PARLEY_ROUTER_NACK_RTT_MS 50   /* no RTT is measured toward publishers */
#define PARLEY_ROUTER_REMB_FRESH_MS 5000

/* The active speaker of group changed: now the audio track ssrc of pub. */
typedef void (*parley_router_speaker_fn)(void *arg, const void *group, parley_peer *pub,
                                         uint32_t ssrc);

typedef struct parley_router_counters {
    uint64_t rtp_in, rtp_forwarded, rtp_unknown_track, rtp_malformed;
    uint64_t forward_dropped;   /* refused by a forwarder (waiting for a keyframe, ...) */
    uint64_t nack_items, retransmitted;
    uint64_t keyframe_requests; /* PLI/FIR sent to publishers */
    uint64_t feedback_suppressed; /* PLI/FIR held back by the limiter */
    uint64_t rtcp_malformed;
    uint64_t nacks_sent, nack_seqs; /* NACKs to publishers and the packets they asked for */
    uint64_t receiver_reports, sender_reports, rembs; /* RTCP packets the SFU sent */
    uint64_t speaker_changes;
    uint64_t layers_learned;    /* simulcast layer SSRCs learned from the RID extension */
} parley_router_counters;

/* NULL when out of memory. cfg may be NULL (defaults). */
parley_router *parley_router_new(uv_loop_t *loop, const parley_router_config *cfg);
/* Free tracks and subscriptions; the peers are not touched. NULL is fine. */
void parley_router_free(parley_router *r);
/* A publisher's track: ssrc on peer pub, VP8 (video) or Opus (audio).
 * 0, or -1 when the SSRC is taken or memory is short. */
int parley_router_add_track(parley_router *r, parley_peer *pub, uint32_t ssrc, bool video);
/* A simulcast video track (VP8) on peer pub, known as id (not an SSRC of
 * any track): n layers (2..PARLEY_ROUTER_MAX_LAYERS) named by their rids,
 * lowest first, carried in header extension rid_ext_id (1..255). 0, or -1
 * when the id is taken, an argument is bad or memory is short. */
int parley_router_add_simulcast(parley_router *r, parley_peer *pub, uint32_t id, uint8_t rid_ext_id,
                                const char *const *rids, size_t n);
/* The layer (0 lowest; above the highest: the highest) peer sub wants of
 * simulcast track id. 0, or -1 when sub does not subscribe to such a track. */
int parley_router_set_layer(parley_router *r, parley_peer *sub, uint32_t id, int layer);
/* The layer of simulcast track id being sent to sub; -1 when none (yet). */
int parley_router_current_layer(const parley_router *r, const parley_peer *sub, uint32_t id);
/* Drop a track (an SSRC or a simulcast id) and its subscriptions. */
void parley_router_remove_track(parley_router *r, uint32_t ssrc);
/* Send track ssrc (or simulcast id) to peer sub as out_ssrc (unique per
 * subscriber peer); a video subscription asks the publisher for a keyframe. 0, or -1 when the
 * track is unknown, the pair exists, or memory is short. */
int parley_router_subscribe(parley_router *r, parley_peer *sub, uint32_t ssrc, uint32_t out_ssrc);
void parley_router_unsubscribe(parley_router *r, parley_peer *sub, uint32_t ssrc);
/* Audio track ssrc carries RFC 6464 audio levels as header extension ext_id
 * (1..255); its levels count toward the active speaker of group. 0, or -1
 * when the track is unknown or video, or memory is short. */
int parley_router_track_speaker(parley_router *r, uint32_t ssrc, uint8_t ext_id, const void *group);
/* The publisher whose audio is group's active speaker now; NULL: none yet. */
parley_peer *parley_router_speaker(const parley_router *r, const void *group);
/* Where speaker changes go (fn NULL: nowhere). */
void parley_router_on_speaker(parley_router *r, parley_router_speaker_fn fn, void *arg);
/* Forget a peer: its tracks (with their subscriptions) and subscriptions. */
void parley_router_remove_peer(parley_router *r, parley_peer *p);
/* A plain RTP packet / compound RTCP packet from peer p. */
void parley_router_rtp(parley_router *r, parley_peer *p, uint8_t *pkt, size_t len);
void parley_router_rtcp(parley_router *r, parley_peer *p, uint8_t *pkt, size_t len);
void parley_router_get_counters(const parley_router *r, parley_router_counters *out);

#endif
