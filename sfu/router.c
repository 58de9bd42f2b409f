/* router.c - publishers' tracks to their subscribers, NACKs answered from
 * the tracks' buffers, keyframe requests to publishers (see router.h).
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
} sub;

struct track {
    track *next;
    parley_router *r;
    parley_peer *pub;
    uint32_t ssrc;
    bool video;
    parley_nack_buffer nack;
    parley_pli_limiter pli;
    sub *subs;
};

struct parley_router {
    uv_loop_t *loop;
    parley_router_config cfg;
    track *tracks;
    parley_router_counters c;
    uint8_t scratch[PARLEY_RTP_MAX_PACKET + PARLEY_PEER_SEND_ROOM];
    uint8_t fb[PARLEY_RTCP_MAX_PACKET + PARLEY_PEER_SEND_ROOM];
};

static int64_t now_ms(const parley_router *r)
{
    return (int64_t)uv_now(r->loop);
}

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
    return r;
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
    free(r);
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
    t->next = r->tracks;
    r->tracks = t;
    return 0;
}

void parley_router_remove_track(parley_router *r, uint32_t ssrc)
{
    for (track **pp = &r->tracks; *pp; pp = &(*pp)->next) {
        if ((*pp)->ssrc == ssrc) {
            track *t = *pp;
            *pp = t->next;
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
        if (parley_peer_send_rtp(s->peer, r->scratch, len, sizeof r->scratch) == 0)
            r->c.rtp_forwarded++;
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
    if (parley_peer_send_rtp(s->peer, r->scratch, len, sizeof r->scratch) == 0)
        r->c.retransmitted++;
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
        if (pk.kind == PARLEY_RTCP_KIND_NACK && (s = find_sub(r, p, pk.media_ssrc)))
            answer_nack(r, s, &pk, now);
    }

    map_ctx m = {r, p};
    size_t n = parley_rtcp_feedback_to_publisher(pkt, len, r->cfg.sfu_ssrc, map_ssrc, &m);
    parley_rtcp_iter_init(&it, pkt, n);
    while (n && parley_rtcp_next(&it, &pk) == 1) {
        uint32_t media = pk.media_ssrc;
        uint8_t fir_seq;
        if (pk.kind == PARLEY_RTCP_KIND_FIR && parley_rtcp_fir_items(&pk) > 0)
            parley_rtcp_fir_item(&pk, 0, &media, &fir_seq);
        else if (pk.kind != PARLEY_RTCP_KIND_PLI)
            continue; /* REMB: the SFU's own estimate is for later */
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

void parley_router_get_counters(const parley_router *r, parley_router_counters *out)
{
    *out = r->c;
}
