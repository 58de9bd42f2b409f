/* router.c - publishers' tracks and their subscriptions, and the RTP path:
 * each packet kept in its track's buffer and rewritten for every subscriber
 * by its forwarder; keyframe requests to publishers (see router.h). The
 * RTCP both ways and the router's timer are in router_rtcp.c. */
#include "router_int.h"

#include <stdlib.h>
#include <string.h>

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
    while (r->sims)
        router_sim_free(r, r->sims);
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

track *router_find_track(const parley_router *r, uint32_t ssrc)
{
    for (track *t = r->tracks; t; t = t->next)
        if (t->ssrc == ssrc)
            return t;
    return NULL;
}

track *router_track_new(parley_router *r, parley_peer *pub, uint32_t ssrc, bool video)
{
    track *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    uint32_t cap = video ? r->cfg.video_buffer : r->cfg.audio_buffer;
    if (parley_nack_buffer_init(&t->nack, cap, r->cfg.buffer_age_ms) < 0) {
        free(t);
        return NULL;
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
        r->next_report_ms = router_now_ms(r) + r->cfg.report_interval_ms;
        uv_timer_start(r->timer, router_on_tick, PARLEY_ROUTER_TICK_MS, PARLEY_ROUTER_TICK_MS);
    }
    return t;
}

int parley_router_add_track(parley_router *r, parley_peer *pub, uint32_t ssrc, bool video)
{
    if (router_find_track(r, ssrc) || router_sim_find(r, ssrc))
        return -1;
    return router_track_new(r, pub, ssrc, video) ? 0 : -1;
}

void router_track_drop(parley_router *r, track *t)
{
    for (track **pp = &r->tracks; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    if (t->sim)
        router_sim_detach(t);
    leave_group(r, t);
    free_track(t);
}

int parley_router_track_speaker(parley_router *r, uint32_t ssrc, uint8_t ext_id, const void *group)
{
    track *t = router_find_track(r, ssrc);
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

parley_peer *parley_router_speaker(const parley_router *r, const void *group)
{
    const spk_group *g = r->groups;
    while (g && g->key != group)
        g = g->next;
    uint32_t ssrc;
    if (!g || !parley_speaker_current(&g->det, &ssrc))
        return NULL;
    track *t = router_find_track(r, ssrc);
    return t ? t->pub : NULL;
}

void parley_router_on_speaker(parley_router *r, parley_router_speaker_fn fn, void *arg)
{
    r->on_speaker = fn;
    r->speaker_arg = arg;
}

void parley_router_remove_track(parley_router *r, uint32_t ssrc)
{
    simgroup *g = router_sim_find(r, ssrc);
    track *t = router_find_track(r, ssrc);
    if (g)
        router_sim_free(r, g);
    else if (t)
        router_track_drop(r, t);
}

/* Send an RTCP packet (already in r->fb) to a track's publisher. */
void router_send_feedback(parley_router *r, track *t, size_t len)
{
    if (len && parley_peer_send_rtcp(t->pub, r->fb, len, sizeof r->fb) == 0)
        r->c.keyframe_requests++;
}

/* A forwarder waiting for a keyframe asks (its limiter already agreed). */
void router_on_keyframe(void *arg, uint32_t publisher_ssrc)
{
    track *t = arg;
    parley_router *r = t->r;
    router_send_feedback(r, t, parley_rtcp_build_pli(r->fb, sizeof r->fb, r->cfg.sfu_ssrc, publisher_ssrc));
}

/* The SFU's own RTCP (in r->fb) to a peer; false when it was not sent (a
 * peer still connecting is skipped, not counted as a send error). */
/* Lost beyond retransmission: a video publisher is asked for a keyframe. */
void router_request_keyframe(track *t, int64_t now)
{
    if (t->video && parley_pli_limiter_allow(&t->pli, now))
        router_on_keyframe(t, t->ssrc);
}


int parley_router_subscribe(parley_router *r, parley_peer *peer, uint32_t ssrc, uint32_t out_ssrc)
{
    track *t = router_find_track(r, ssrc);
    simgroup *g = t ? NULL : router_sim_find(r, ssrc);
    if (g)
        return router_sim_subscribe(r, g, peer, out_ssrc);
    if (!t || t->sim)
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
                        t->video ? router_on_keyframe : NULL, t);
    s->next = t->subs;
    t->subs = s;
    parley_forward_switch(&s->fwd, ssrc, t->video ? &t->pli : NULL, router_now_ms(r));
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
    track *t = router_find_track(r, ssrc);
    simgroup *g = router_sim_find(r, ssrc);
    if (t)
        unlink_subs(t, peer);
    if (g)
        router_sim_unlink(g, peer);
}

void parley_router_remove_peer(parley_router *r, parley_peer *p)
{
    for (simgroup *g = r->sims, *next; g; g = next) {
        next = g->next;
        if (g->pub == p)
            router_sim_free(r, g);
        else
            router_sim_unlink(g, p);
    }
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
    int64_t now = router_now_ms(r);
    track *t = router_find_track(r, h.ssrc);
    if (!t && r->sims)
        t = router_sim_learn(r, p, pkt, &h, now);
    if (!t || t->pub != p) {
        r->c.rtp_unknown_track++;
        return;
    }
    r->c.rtp_in++;
    t->last_ms = now;
    parley_rtcp_stats_packet(&t->stats, h.seq, h.timestamp, now);
    if (t->video) { /* audio has no NACK negotiated: Opus conceals its losses */
        if (!parley_nack_tracker_on_packet(&t->loss, h.seq))
            router_request_keyframe(t, now); /* too many lost to ask for */
        else if (parley_nack_tracker_pending(&t->loss))
            router_send_nacks(r, t, now);
    }
    bool voice;
    uint8_t level;
    if (t->group && parley_rtp_audio_level(pkt, &h, t->level_id, &voice, &level))
        parley_speaker_observe(&t->group->det, t->ssrc, voice, level, now);
    parley_vp8_desc d;
    bool vp8 = t->video && parley_vp8_parse(pkt + h.header_len, h.payload_len, &d);
    bool keyframe = vp8 && d.keyframe;
    parley_nack_buffer_put(&t->nack, h.seq, pkt, len, now);
    for (sub *s = router_track_subs(t); s; s = s->next) {
        parley_forward_out out;
        if (parley_forward_packet(&s->fwd, &h, keyframe, now, &out) != PARLEY_FORWARD_SEND) {
            r->c.forward_dropped++;
            continue;
        }
        if (s->sim)
            s->t = t; /* the layer now sent (a switch commits on its keyframe) */
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

void parley_router_get_counters(const parley_router *r, parley_router_counters *out)
{
    *out = r->c;
}
