/* router.c - publishers' tracks to their subscribers, NACKs answered from
 * the tracks' buffers, keyframe requests to publishers, the SFU's own RTCP
 * and the active speaker (see router.h).
 *
 * The retransmission buffer of a track holds the publisher's packets as they
 * arrived, once for all subscribers; a NACK's sequence numbers are mapped back
 * through the subscriber's forwarder offsets and the stored packet rewritten
 * with the same offsets it was first sent with. */
#include "router.h"

#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "nack.h"
#include "rtcp.h"
#include "rtp.h"

typedef struct track track;

typedef struct sub {
    struct sub *next;
    parley_peer *peer;
    track *t;
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
};

struct parley_router {
    uv_loop_t *loop;
    parley_router_config cfg;
    track *tracks;
    spk_group *groups;
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

static int64_t now_ms(const parley_router *r)
{
    return (int64_t)uv_now(r->loop);
}

static void on_tick(uv_timer_t *h);

parley_router *parley_router_new(uv_loop_t *loop, const parley_router_config *cfg)
{
    parley_router *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->loop = loop;
    if (cfg)
        r->cfg = *cfg;
    if (!r->cfg.sfu_ssrc)
        r->cfg.sfu_ssrc = 1;
    if (!r->cfg.video_buffer)
        r->cfg.video_buffer = 512;
    if (!r->cfg.audio_buffer)
        r->cfg.audio_buffer = 128;
    if (!r->cfg.buffer_age_ms)
        r->cfg.buffer_age_ms = 1000;
    if (!r->cfg.report_interval_ms)
        r->cfg.report_interval_ms = 1000;
    if (!r->cfg.remb_cap_bps)
        r->cfg.remb_cap_bps = 2500000;
    if (!(r->timer = malloc(sizeof *r->timer)) || uv_timer_init(loop, r->timer)) {
        free(r->timer);
        free(r);
        return NULL;
    }
    r->timer->data = r;
    return r;
}

static void timer_closed(uv_handle_t *h)
{
    free(h);
}

static void free_track(track *t)
{
    while (t->subs) {
        sub *s = t->subs;
        t->subs = s->next;
        free(s);
    }
    parley_nack_buffer_free(&t->nack);
    free(t);
}

void parley_router_free(parley_router *r)
{
    if (!r)
        return;
    while (r->tracks) {
        track *t = r->tracks;
        r->tracks = t->next;
        free_track(t);
    }
    while (r->groups) {
        spk_group *g = r->groups;
        r->groups = g->next;
        free(g);
    }
    uv_close((uv_handle_t *)r->timer, timer_closed);
    free(r);
}

/* A track leaves its speaker group; the group goes with its last track. */
static void leave_group(parley_router *r, track *t)
{
    spk_group *g = t->group;
    if (!g)
        return;
    t->group = NULL;
    parley_speaker_remove(&g->det, t->ssrc);
    if (--g->tracks)
        return;
    for (spk_group **pp = &r->groups; *pp; pp = &(*pp)->next)
        if (*pp == g) {
            *pp = g->next;
            free(g);
            return;
        }
}

static track *find_track(const parley_router *r, uint32_t ssrc)
{
    for (track *t = r->tracks; t; t = t->next)
        if (t->ssrc == ssrc)
            return t;
    return NULL;
}

int parley_router_add_track(parley_router *r, parley_peer *pub, uint32_t ssrc, bool video)
{
    if (find_track(r, ssrc))
        return -1;
    track *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    uint32_t cap = video ? r->cfg.video_buffer : r->cfg.audio_buffer;
    if (parley_nack_buffer_init(&t->nack, cap, r->cfg.buffer_age_ms) < 0) {
        free(t);
        return -1;
    }
    t->r = r;
    t->pub = pub;
    t->ssrc = ssrc;
    t->video = video;
    parley_pli_limiter_init(&t->pli, r->cfg.pli_interval_ms);
    parley_rtcp_stats_init(&t->stats, ssrc, video ? 90000 : 48000);
    parley_nack_tracker_init(&t->loss, 0, 0);
    t->next = r->tracks;
    r->tracks = t;
    if (!uv_is_active((uv_handle_t *)r->timer)) {
        r->next_report_ms = now_ms(r) + r->cfg.report_interval_ms;
        uv_timer_start(r->timer, on_tick, PARLEY_ROUTER_TICK_MS, PARLEY_ROUTER_TICK_MS);
    }
    return 0;
}

int parley_router_track_speaker(parley_router *r, uint32_t ssrc, uint8_t ext_id, const void *group)
{
    track *t = find_track(r, ssrc);
    if (!t || t->video || !ext_id)
        return -1;
    spk_group *g = r->groups;
    while (g && g->key != group)
        g = g->next;
    if (!g) {
        if (!(g = calloc(1, sizeof *g)))
            return -1;
        g->key = group;
        parley_speaker_init(&g->det);
        g->next = r->groups;
        r->groups = g;
    }
    if (t->group != g) {
        leave_group(r, t);
        t->group = g;
        g->tracks++;
    }
    t->level_id = ext_id;
    return 0;
}

void parley_router_on_speaker(parley_router *r, parley_router_speaker_fn fn, void *arg)
{
    r->on_speaker = fn;
    r->speaker_arg = arg;
}

void parley_router_remove_track(parley_router *r, uint32_t ssrc)
{
    for (track **pp = &r->tracks; *pp; pp = &(*pp)->next) {
        if ((*pp)->ssrc == ssrc) {
            track *t = *pp;
            *pp = t->next;
            leave_group(r, t);
            free_track(t);
            return;
        }
    }
}

/* Send an RTCP packet (already in r->fb) to a track's publisher. */
static void send_feedback(parley_router *r, track *t, size_t len)
{
    if (len && parley_peer_send_rtcp(t->pub, r->fb, len, sizeof r->fb) == 0)
        r->c.keyframe_requests++;
}

/* A forwarder waiting for a keyframe asks (its limiter already agreed). */
static void on_keyframe(void *arg, uint32_t publisher_ssrc)
{
    track *t = arg;
    parley_router *r = t->r;
    send_feedback(r, t, parley_rtcp_build_pli(r->fb, sizeof r->fb, r->cfg.sfu_ssrc, publisher_ssrc));
}

/* The SFU's own RTCP (in r->fb) to a peer; false when it was not sent (a
 * peer still connecting is skipped, not counted as a send error). */
static bool send_own(parley_router *r, parley_peer *p, size_t len)
{
    return len && parley_peer_get_state(p) == PARLEY_PEER_CONNECTED &&
           parley_peer_send_rtcp(p, r->fb, len, sizeof r->fb) == 0;
}

/* Lost beyond retransmission: a video publisher is asked for a keyframe. */
static void request_keyframe(track *t, int64_t now)
{
    if (t->video && parley_pli_limiter_allow(&t->pli, now))
        on_keyframe(t, t->ssrc);
}

/* Ask the publisher for what the track's loss tracker says is due. */
static void send_nacks(parley_router *r, track *t, int64_t now)
{
    uint16_t seqs[NACK_BATCH];
    unsigned n = parley_nack_tracker_collect(&t->loss, now, PARLEY_ROUTER_NACK_RTT_MS, seqs,
                                             NACK_BATCH);
    if (!n)
        return;
    size_t len = parley_rtcp_build_nack(r->fb, PARLEY_RTCP_MAX_PACKET, r->cfg.sfu_ssrc, t->ssrc,
                                        seqs, n);
    if (send_own(r, t->pub, len)) {
        r->c.nacks_sent++;
        r->c.nack_seqs += n;
    }
}

int parley_router_subscribe(parley_router *r, parley_peer *peer, uint32_t ssrc, uint32_t out_ssrc)
{
    track *t = find_track(r, ssrc);
    if (!t)
        return -1;
    for (sub *s = t->subs; s; s = s->next)
        if (s->peer == peer)
            return -1;
    sub *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->peer = peer;
    s->t = t;
    parley_forward_init(&s->fwd, out_ssrc, t->video ? 90000 : 48000, t->video, -1,
                        t->video ? on_keyframe : NULL, t);
    s->next = t->subs;
    t->subs = s;
    parley_forward_switch(&s->fwd, ssrc, t->video ? &t->pli : NULL, now_ms(r));
    return 0;
}

static void unlink_subs(track *t, parley_peer *peer)
{
    for (sub **pp = &t->subs; *pp;) {
        if ((*pp)->peer == peer) {
            sub *s = *pp;
            *pp = s->next;
            free(s);
        } else {
            pp = &(*pp)->next;
        }
    }
}

void parley_router_unsubscribe(parley_router *r, parley_peer *peer, uint32_t ssrc)
{
    track *t = find_track(r, ssrc);
    if (t)
        unlink_subs(t, peer);
}

void parley_router_remove_peer(parley_router *r, parley_peer *p)
{
    for (track **pp = &r->tracks; *pp;) {
        if ((*pp)->pub == p) {
            track *t = *pp;
            *pp = t->next;
            leave_group(r, t);
            free_track(t);
        } else {
            unlink_subs(*pp, p);
            pp = &(*pp)->next;
        }
    }
}

/* ---- media ---- */

void parley_router_rtp(parley_router *r, parley_peer *p, uint8_t *pkt, size_t len)
{
    parley_rtp_header h;
    if (len > PARLEY_RTP_MAX_PACKET || parley_rtp_parse(pkt, len, &h) != PARLEY_RTP_OK) {
        r->c.rtp_malformed++;
        return;
    }
    track *t = find_track(r, h.ssrc);
    if (!t || t->pub != p) {
        r->c.rtp_unknown_track++;
        return;
    }
    r->c.rtp_in++;
    int64_t now = now_ms(r);
    parley_rtcp_stats_packet(&t->stats, h.seq, h.timestamp, now);
    if (t->video) { /* audio has no NACK negotiated: Opus conceals its losses */
        if (!parley_nack_tracker_on_packet(&t->loss, h.seq))
            request_keyframe(t, now); /* too many lost to ask for */
        else if (parley_nack_tracker_pending(&t->loss))
            send_nacks(r, t, now);
    }
    bool voice;
    uint8_t level;
    if (t->group && parley_rtp_audio_level(pkt, &h, t->level_id, &voice, &level))
        parley_speaker_observe(&t->group->det, t->ssrc, voice, level, now);
    parley_vp8_desc d;
    bool vp8 = t->video && parley_vp8_parse(pkt + h.header_len, h.payload_len, &d);
    bool keyframe = vp8 && d.keyframe;
    parley_nack_buffer_put(&t->nack, h.seq, pkt, len, now);
    for (sub *s = t->subs; s; s = s->next) {
        parley_forward_out out;
        if (parley_forward_packet(&s->fwd, &h, keyframe, now, &out) != PARLEY_FORWARD_SEND) {
            r->c.forward_dropped++;
            continue;
        }
        memcpy(r->scratch, pkt, len);
        parley_forward_apply(&out, r->scratch);
        if (vp8)
            parley_forward_vp8(&s->fwd, &d, r->scratch + h.header_len);
        if (parley_peer_send_rtp(s->peer, r->scratch, len, sizeof r->scratch) == 0) {
            r->c.rtp_forwarded++;
            s->packets++;
            s->octets += (uint32_t)h.payload_len;
        }
    }
}

/* A stored packet asked for again: rewritten with the subscriber's offsets. */
static void retransmit(void *arg, const uint8_t *pkt, size_t len)
{
    sub *s = arg;
    parley_router *r = s->t->r;
    const parley_forwarder *f = &s->fwd;
    parley_rtp_header h;
    if (parley_rtp_parse(pkt, len, &h) != PARLEY_RTP_OK ||
        (int16_t)(uint16_t)(h.seq - f->src_first_seq) < 0)
        return; /* from before this subscriber's first packet */
    memcpy(r->scratch, pkt, len);
    parley_forward_out out = {
        .ssrc = f->out_ssrc,
        .seq = (uint16_t)(h.seq + f->seq_offset),
        .timestamp = h.timestamp + f->ts_offset,
        .payload_type = f->out_pt,
    };
    parley_forward_apply(&out, r->scratch);
    parley_vp8_desc d;
    uint8_t *payload = r->scratch + h.header_len;
    if (s->t->video && parley_vp8_parse(payload, h.payload_len, &d)) {
        parley_vp8_set_picture_id(payload, &d, (uint16_t)((d.picture_id + f->pid_offset) & 0x7fff));
        parley_vp8_set_tl0picidx(payload, &d, (uint8_t)(d.tl0picidx + f->tl0_offset));
    }
    if (parley_peer_send_rtp(s->peer, r->scratch, len, sizeof r->scratch) == 0) {
        r->c.retransmitted++;
        s->packets++;
        s->octets += (uint32_t)h.payload_len;
    }
}

static sub *find_sub(const parley_router *r, const parley_peer *peer, uint32_t out_ssrc)
{
    for (track *t = r->tracks; t; t = t->next)
        for (sub *s = t->subs; s; s = s->next)
            if (s->peer == peer && s->fwd.out_ssrc == out_ssrc)
                return s;
    return NULL;
}

typedef struct map_ctx {
    parley_router *r;
    parley_peer *peer;
} map_ctx;

static bool map_ssrc(void *arg, uint32_t subscriber_ssrc, uint32_t *publisher_ssrc)
{
    map_ctx *m = arg;
    sub *s = find_sub(m->r, m->peer, subscriber_ssrc);
    if (!s)
        return false;
    *publisher_ssrc = s->t->ssrc;
    return true;
}

static void answer_nack(parley_router *r, sub *s, const parley_rtcp_packet *pk, int64_t now)
{
    const parley_forwarder *f = &s->fwd;
    if (!f->has_src || f->src_ssrc != s->t->ssrc)
        return;
    unsigned n = parley_rtcp_nack_items(pk);
    for (unsigned i = 0; i < n; i++) {
        uint16_t pid, blp;
        parley_rtcp_nack_item(pk, i, &pid, &blp);
        r->c.nack_items++;
        parley_nack_buffer_answer(&s->t->nack, (uint16_t)(pid - f->seq_offset), blp, now,
                                  retransmit, s);
    }
}

/* A publisher's SR: LSR/DLSR of its RRs, and the time base of the SRs its
 * subscribers get. */
static void publisher_sr(track *t, const parley_rtcp_packet *pk, int64_t now)
{
    parley_rtcp_sr sr;
    parley_rtcp_sr_info(pk, &sr);
    parley_rtcp_stats_sr(&t->stats, sr.ntp, now);
    t->has_sr = true;
    t->sr_ntp = sr.ntp;
    t->sr_rtp = sr.rtp_ts;
    t->sr_ms = now;
}

/* A subscriber's REMB (its SSRCs already mapped to the publishers'): noted
 * on each subscription it names, for the estimate sent to the publisher. */
static void subscriber_remb(parley_router *r, parley_peer *p, const parley_rtcp_packet *pk,
                            int64_t now)
{
    uint64_t bps = parley_rtcp_remb_bitrate(pk);
    for (unsigned i = 0; i < parley_rtcp_remb_ssrcs(pk); i++) {
        track *t = find_track(r, parley_rtcp_remb_ssrc(pk, i));
        for (sub *s = t ? t->subs : NULL; s; s = s->next)
            if (s->peer == p) {
                s->remb_bps = bps;
                s->remb_ms = now;
            }
    }
}

void parley_router_rtcp(parley_router *r, parley_peer *p, uint8_t *pkt, size_t len)
{
    if (!parley_rtcp_valid(pkt, len)) {
        r->c.rtcp_malformed++;
        return;
    }
    int64_t now = now_ms(r);
    parley_rtcp_iter it;
    parley_rtcp_packet pk;
    parley_rtcp_iter_init(&it, pkt, len);
    while (parley_rtcp_next(&it, &pk) == 1) {
        sub *s;
        track *t;
        if (pk.kind == PARLEY_RTCP_KIND_NACK && (s = find_sub(r, p, pk.media_ssrc)))
            answer_nack(r, s, &pk, now);
        else if (pk.kind == PARLEY_RTCP_KIND_SR && (t = find_track(r, pk.ssrc)) && t->pub == p)
            publisher_sr(t, &pk, now);
    }

    map_ctx m = {r, p};
    size_t n = parley_rtcp_feedback_to_publisher(pkt, len, r->cfg.sfu_ssrc, map_ssrc, &m);
    parley_rtcp_iter_init(&it, pkt, n);
    while (n && parley_rtcp_next(&it, &pk) == 1) {
        uint32_t media = pk.media_ssrc;
        uint8_t fir_seq;
        if (pk.kind == PARLEY_RTCP_KIND_REMB) {
            subscriber_remb(r, p, &pk, now);
            continue;
        }
        if (pk.kind == PARLEY_RTCP_KIND_FIR && parley_rtcp_fir_items(&pk) > 0)
            parley_rtcp_fir_item(&pk, 0, &media, &fir_seq);
        else if (pk.kind != PARLEY_RTCP_KIND_PLI)
            continue;
        track *t = find_track(r, media);
        if (!t || pk.len > PARLEY_RTCP_MAX_PACKET)
            continue;
        if (!parley_pli_limiter_allow(&t->pli, now)) {
            r->c.feedback_suppressed++;
            continue;
        }
        memcpy(r->fb, pk.data, pk.len);
        send_feedback(r, t, pk.len);
    }
}

/* ---- the SFU's own RTCP and the speaker, on the timer ---- */

/* One compound to publisher t->pub: an RR with a block per track it
 * publishes, and a REMB for those tracks. Marks its tracks reported. */
static void report_to_publisher(parley_router *r, track *t, int64_t now)
{
    parley_rtcp_report_block rb[31];
    uint32_t ssrcs[31];
    unsigned n = 0, ns = 0;
    uint64_t remb = r->cfg.remb_cap_bps;
    for (track *u = t; u; u = u->next) {
        if (u->pub != t->pub || u->reported)
            continue;
        u->reported = true;
        if (n < 31 && parley_rtcp_stats_report(&u->stats, now, &rb[n]))
            n++;
        if (ns < 31)
            ssrcs[ns++] = u->ssrc;
        for (sub *s = u->subs; s; s = s->next)
            if (s->remb_bps && now - s->remb_ms <= PARLEY_ROUTER_REMB_FRESH_MS && s->remb_bps < remb)
                remb = s->remb_bps;
    }
    size_t len = 0, cap = PARLEY_RTCP_MAX_PACKET;
    if (n)
        len = parley_rtcp_build_rr(r->fb, cap, r->cfg.sfu_ssrc, rb, n);
    size_t remb_len = parley_rtcp_build_remb(r->fb + len, cap - len, r->cfg.sfu_ssrc, remb, ssrcs, ns);
    if (send_own(r, t->pub, len + remb_len)) {
        r->c.receiver_reports += n > 0;
        r->c.rembs += remb_len > 0;
    }
}

/* An SR for subscription s of track t: the publisher's last SR carried
 * forward to now, its RTP time in the subscriber's timeline. */
static void report_to_subscriber(parley_router *r, track *t, sub *s, int64_t now)
{
    if (!t->has_sr || !s->fwd.started || now < t->sr_ms)
        return;
    uint64_t elapsed = (uint64_t)(now - t->sr_ms);
    uint32_t ts = t->sr_rtp + (uint32_t)(elapsed * t->stats.clock_rate / 1000);
    parley_rtcp_sr sr = {.ssrc = s->fwd.out_ssrc,
                         .ntp = t->sr_ntp + (elapsed << 32) / 1000,
                         .packet_count = s->packets,
                         .octet_count = s->octets};
    if (!parley_forward_map_timestamp(&s->fwd, t->ssrc, ts, &sr.rtp_ts))
        return;
    if (send_own(r, s->peer, parley_rtcp_build_sr(r->fb, PARLEY_RTCP_MAX_PACKET, &sr, NULL, 0)))
        r->c.sender_reports++;
}

static void send_reports(parley_router *r, int64_t now)
{
    for (track *t = r->tracks; t; t = t->next)
        t->reported = false;
    for (track *t = r->tracks; t; t = t->next) {
        if (!t->reported)
            report_to_publisher(r, t, now);
        for (sub *s = t->subs; s; s = s->next)
            report_to_subscriber(r, t, s, now);
    }
}

static void on_tick(uv_timer_t *h)
{
    parley_router *r = h->data;
    if (!r->tracks) {
        uv_timer_stop(h);
        return;
    }
    int64_t now = now_ms(r);
    for (track *t = r->tracks; t; t = t->next)
        if (parley_nack_tracker_pending(&t->loss))
            send_nacks(r, t, now);
    if (now >= r->next_report_ms) {
        send_reports(r, now);
        r->next_report_ms = now + r->cfg.report_interval_ms;
    }
    for (spk_group *g = r->groups; g; g = g->next) {
        uint32_t ssrc;
        if (!parley_speaker_tick(&g->det, now) || !parley_speaker_current(&g->det, &ssrc))
            continue;
        track *t = find_track(r, ssrc);
        if (!t)
            continue;
        r->c.speaker_changes++;
        if (r->on_speaker) {
            /* the callback may change tracks and groups: the rest wait a tick */
            r->on_speaker(r->speaker_arg, g->key, t->pub, ssrc);
            break;
        }
    }
}

void parley_router_get_counters(const parley_router *r, parley_router_counters *out)
{
    *out = r->c;
}
