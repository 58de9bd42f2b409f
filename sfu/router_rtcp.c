/* router_rtcp.c - the router's RTCP (see router.h): subscribers' NACKs
 * answered from the tracks' buffers, their PLI/FIR mapped to publishers
 * through the limiters, publishers' SRs and subscribers' REMBs noted; and
 * from the timer, the SFU's own NACKs, RRs, REMBs and SRs and the active
 * speaker.
 *
 * The retransmission buffer of a track holds the publisher's packets as they
 * arrived, once for all subscribers; a NACK's sequence numbers are mapped back
 * through the subscriber's forwarder offsets and the stored packet rewritten
 * with the same offsets it was first sent with. */
#include "router_int.h"

#include <stdlib.h>
#include <string.h>

/* The SFU's own RTCP (in r->fb) to a peer; false when it was not sent (a
 * peer still connecting is skipped, not counted as a send error). */
bool router_send_own(parley_router *r, parley_peer *p, size_t len)
{
    return len && parley_peer_get_state(p) == PARLEY_PEER_CONNECTED &&
           parley_peer_send_rtcp(p, r->fb, len, sizeof r->fb) == 0;
}

/* Ask the publisher for what the track's loss tracker says is due. */
void router_send_nacks(parley_router *r, track *t, int64_t now)
{
    uint16_t seqs[NACK_BATCH];
    unsigned n = parley_nack_tracker_collect(&t->loss, now, PARLEY_ROUTER_NACK_RTT_MS, seqs,
                                             NACK_BATCH);
    if (!n)
        return;
    size_t len = parley_rtcp_build_nack(r->fb, PARLEY_RTCP_MAX_PACKET, r->cfg.sfu_ssrc, t->ssrc,
                                        seqs, n);
    if (router_send_own(r, t->pub, len)) {
        r->c.nacks_sent++;
        r->c.nack_seqs += n;
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
    for (simgroup *g = r->sims; g; g = g->next)
        for (sub *s = g->subs; s; s = s->next)
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
    if (!s || !s->t)
        return false; /* a simulcast subscription before its first layer */
    *publisher_ssrc = s->t->ssrc;
    return true;
}

static void answer_nack(parley_router *r, sub *s, const parley_rtcp_packet *pk, int64_t now)
{
    const parley_forwarder *f = &s->fwd;
    if (!s->t || !f->has_src || f->src_ssrc != s->t->ssrc)
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
        track *t = router_find_track(r, parley_rtcp_remb_ssrc(pk, i));
        for (sub *s = t ? router_track_subs(t) : NULL; s; s = s->next)
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
    int64_t now = router_now_ms(r);
    parley_rtcp_iter it;
    parley_rtcp_packet pk;
    parley_rtcp_iter_init(&it, pkt, len);
    while (parley_rtcp_next(&it, &pk) == 1) {
        sub *s;
        track *t;
        if (pk.kind == PARLEY_RTCP_KIND_NACK && (s = find_sub(r, p, pk.media_ssrc)))
            answer_nack(r, s, &pk, now);
        else if (pk.kind == PARLEY_RTCP_KIND_SR && (t = router_find_track(r, pk.ssrc)) && t->pub == p)
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
        track *t = router_find_track(r, media);
        if (!t || pk.len > PARLEY_RTCP_MAX_PACKET)
            continue;
        if (!parley_pli_limiter_allow(&t->pli, now)) {
            r->c.feedback_suppressed++;
            continue;
        }
        memcpy(r->fb, pk.data, pk.len);
        router_send_feedback(r, t, pk.len);
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
        for (sub *s = u->subs; s; s = s->next) /* simulcast: layers, not REMB (router.h) */
            if (s->remb_bps && now - s->remb_ms <= PARLEY_ROUTER_REMB_FRESH_MS && s->remb_bps < remb)
                remb = s->remb_bps;
    }
    size_t len = 0, cap = PARLEY_RTCP_MAX_PACKET;
    if (n)
        len = parley_rtcp_build_rr(r->fb, cap, r->cfg.sfu_ssrc, rb, n);
    size_t remb_len = parley_rtcp_build_remb(r->fb + len, cap - len, r->cfg.sfu_ssrc, remb, ssrcs, ns);
    if (router_send_own(r, t->pub, len + remb_len)) {
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
    if (router_send_own(r, s->peer, parley_rtcp_build_sr(r->fb, PARLEY_RTCP_MAX_PACKET, &sr, NULL, 0)))
        r->c.sender_reports++;
}

static void send_reports(parley_router *r, int64_t now)
{
    for (track *t = r->tracks; t; t = t->next)
        t->reported = false;
    for (track *t = r->tracks; t; t = t->next) {
        if (!t->reported)
            report_to_publisher(r, t, now);
        for (sub *s = router_track_subs(t); s; s = s->next)
            report_to_subscriber(r, t, s, now);
    }
}

void router_on_tick(uv_timer_t *h)
{
    parley_router *r = h->data;
    if (!r->tracks) {
        uv_timer_stop(h);
        return;
    }
    int64_t now = router_now_ms(r);
    for (track *t = r->tracks; t; t = t->next)
        if (parley_nack_tracker_pending(&t->loss))
            router_send_nacks(r, t, now);
    router_sim_tick(r, now);
    if (now >= r->next_report_ms) {
        send_reports(r, now);
        r->next_report_ms = now + r->cfg.report_interval_ms;
    }
    for (spk_group *g = r->groups; g; g = g->next) {
        uint32_t ssrc;
        if (!parley_speaker_tick(&g->det, now) || !parley_speaker_current(&g->det, &ssrc))
            continue;
        track *t = router_find_track(r, ssrc);
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
