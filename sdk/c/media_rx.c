/* media_rx.c - a meeting's subscriptions: `subscribe`, the answer to the
 * server's subscribe-offer, and the received tracks: SRTP in, VP8 frames
 * reassembled (sfu/packetize) and Opus packets handed to the frame callback,
 * NACKs for the gaps, PLIs after a lost frame until the next keyframe,
 * receiver reports, and the per-track statistics of
 * parley_meeting_track_stats.
 *
 * One connection (rtc.c) per subscription, keyed by the publisher's id. The
 * list changes and the statistics are written under client->mu, because
 * parley_meeting_track_stats reads them from any thread; everything else is
 * the loop thread's. When a subscription ends, its tracks' final counters
 * move, in the same critical section, to the meeting's list of ended
 * subscriptions (media_ended), so a reader never misses or counts twice the
 * frames of the end; that list lives until the next join or the free.
 *
 * Events: media-state-changed with participantId: CONNECTING at `subscribe`,
 * CONNECTED when DTLS completes, FAILED when the server refuses (its error
 * comes first) or ICE/DTLS fail (after error 303 with the cause in the
 * hint), DISCONNECTED on unsubscribe, when the publisher stops or leaves, and
 * when the meeting ends. The end (FAILED, DISCONNECTED) of a subscription
 * that had tracks carries `tracks`: [{kind, packets, lost, frames, bytes}],
 * its final counters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media_int.h"

#include "nack.h"
#include "packetize.h"
#include "rtcp.h"
#include "rtp.h"

enum {
    RR_INTERVAL_MS = 1000,
    NACK_RTT_MS = 40,
    STALL_GIVE_UP_MS = 1000, /* a frame waiting on a lost packet this long is dropped */
    PLI_INTERVAL_MS = 500,
    MAX_RX = 8,
};

typedef struct rx_track {
    parley_media_kind kind;
    parley_codec codec;
    uint32_t ssrc;
    uint8_t pt;
    bool nack_ok; /* the offer's rtcp-fb has nack: ask for retransmissions */
    bool seen;
    parley_vp8_depacketizer depack; /* video */
    parley_nack_tracker nack;
    parley_rtcp_recv_stats rs;
    parley_track_stats stats; /* under client->mu */
    uint64_t stall_since_ms, last_pli_ms;
} rx_track;

struct media_sub {
    struct media_sub *next;
    parley_meeting *m;
    char *pid;
    rtc *rtc;
    char req_id[16], answer_id[16];
    bool offered;
    uint32_t rtcp_ssrc;
    size_t n;       /* under client->mu, with rx */
    rx_track *rx;
    uint64_t next_rr_ms;
};

/* The final counters of an ended subscription (under client->mu). */
struct media_ended {
    struct media_ended *next;
    char *pid;
    size_t n;
    parley_track_stats st[];
};

static struct media_sub *find(parley_meeting *m, const char *pid)
{
    for (struct media_sub *s = m->subs; s; s = s->next)
        if (pid && !strcmp(s->pid, pid))
            return s;
    return NULL;
}

static void sub_free(struct media_sub *s)
{
    rtc_close(s->rtc);
    for (size_t i = 0; i < s->n; i++)
        parley_vp8_depack_free(&s->rx[i].depack);
    free(s->rx);
    free(s->pid);
    free(s);
}

static const char *kind_name(parley_media_kind k)
{
    return k == PARLEY_MEDIA_VIDEO ? "video" : "audio";
}

/* Unlink and free s, its final counters kept in m->ended; emit `state` (with
 * hint and the counters) unless IDLE. */
static void sub_end(parley_meeting *m, struct media_sub *s, parley_meeting_state state, const char *hint)
{
    struct media_ended *e = s->n ? malloc(sizeof *e + s->n * sizeof e->st[0]) : NULL;
    if (e && !(e->pid = strdup(s->pid))) {
        free(e);
        e = NULL; /* out of memory: the counters go with the subscription */
    }
    json_t *tracks = s->n && state != PARLEY_STATE_IDLE ? json_array() : NULL;
    uv_mutex_lock(&m->client->mu);
    for (struct media_sub **pp = &m->subs; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    for (size_t i = 0; i < s->n; i++) {
        parley_track_stats *st = &s->rx[i].stats;
        st->lost = s->rx[i].nack.lost;
        st->ended = true;
        if (tracks)
            json_array_append_new(tracks, json_pack("{s:s, s:I, s:I, s:I, s:I}", "kind", kind_name(st->kind),
                                                    "packets", (json_int_t)st->packets, "lost",
                                                    (json_int_t)st->lost, "frames", (json_int_t)st->frames,
                                                    "bytes", (json_int_t)st->bytes));
        if (e)
            e->st[i] = *st;
    }
    if (e) {
        e->next = NULL;
        e->n = s->n;
        if (m->ended_tail)
            m->ended_tail->next = e;
        else
            m->ended = e;
        m->ended_tail = e;
    }
    uv_mutex_unlock(&m->client->mu);
    char *pid = s->pid;
    s->pid = NULL;
    sub_free(s);
    if (state != PARLEY_STATE_IDLE)
        media_emit_state_tracks(m, state, pid, hint, tracks);
    else
        json_decref(tracks);
    free(pid);
}

void media_forget_ended(parley_meeting *m)
{
    uv_mutex_lock(&m->client->mu);
    struct media_ended *e = m->ended;
    m->ended = m->ended_tail = NULL;
    uv_mutex_unlock(&m->client->mu);
    while (e) {
        struct media_ended *next = e->next;
        free(e->pid);
        free(e);
        e = next;
    }
}

static void sub_fail(parley_meeting *m, struct media_sub *s, const char *why)
{
    if (s->offered) { /* the server has our subscription: end that too */
        json_t *f = json_pack("{s:s}", "participantId", s->pid);
        if (f)
            session_request(m, "unsubscribe", f, NULL);
    }
    json_t *ev = json_pack("{s:s, s:i, s:s, s:s, s:b, s:s, s:s, s:s}", "event", "error", "code",
                           PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, "name", "MEDIA_ENDPOINT_ERROR_CODE", "message",
                           "", "fatal", 0, "roomId", m->meeting_id, "participantId", s->pid, "request", "subscribe");
    const parley_error_info *e = parley_error_lookup(PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, PARLEY_PROFILE_NATIVE);
    if (ev && e) {
        json_object_set_new(ev, "name", json_string(e->name));
        json_object_set_new(ev, "message", json_string(e->message));
    }
    if (ev && why)
        json_object_set_new(ev, "hint", json_string(why));
    if (ev)
        event_emit(m, PARLEY_EVENT_ERROR, ev);
    sub_end(m, s, PARLEY_STATE_FAILED, why);
}

/* ---- receiving ---- */

static void deliver(parley_meeting *m, struct media_sub *s, rx_track *r, const uint8_t *data, size_t len,
                    uint32_t ts, bool key)
{
    uv_mutex_lock(&m->client->mu);
    r->stats.frames++;
    r->stats.bytes += len;
    parley_frame_cb cb = m->frame_cb;
    void *ud = m->frame_ud;
    bool released = m->released;
    uv_mutex_unlock(&m->client->mu);
    if (!cb || released)
        return;
    parley_frame f = {.participant_id = s->pid, .kind = r->kind, .codec = r->codec, .timestamp = ts,
                      .data = data, .len = len, .keyframe = key};
    cb(m, &f, ud);
}

static void send_rtcp(struct media_sub *s, uint8_t *buf, size_t len, size_t cap)
{
    if (len)
        rtc_send_rtcp(s->rtc, buf, len, cap);
}

static void send_pli(struct media_sub *s, rx_track *r, uint64_t now)
{
    if (r->last_pli_ms && now - r->last_pli_ms < PLI_INTERVAL_MS)
        return;
    r->last_pli_ms = now;
    uint8_t buf[PARLEY_RTCP_MAX_PACKET + 64];
    send_rtcp(s, buf, parley_rtcp_build_pli(buf, PARLEY_RTCP_MAX_PACKET, s->rtcp_ssrc, r->ssrc), sizeof buf);
}

static void sub_rtp(void *arg, uint8_t *pkt, size_t len)
{
    struct media_sub *s = arg;
    parley_meeting *m = s->m;
    parley_rtp_header h;
    if (parley_rtp_parse(pkt, len, &h) != PARLEY_RTP_OK)
        return;
    rx_track *r = NULL;
    for (size_t i = 0; i < s->n && !r; i++)
        if (s->rx[i].ssrc == h.ssrc && s->rx[i].pt == h.payload_type)
            r = &s->rx[i];
    if (!r)
        return;
    uint64_t now = uv_now(&m->client->loop);
    const uint8_t *payload = pkt + h.header_len;
    r->seen = true;
    parley_rtcp_stats_packet(&r->rs, h.seq, h.timestamp, (int64_t)now);
    bool tracked = parley_nack_tracker_on_packet(&r->nack, h.seq);
    if (r->kind == PARLEY_MEDIA_AUDIO) {
        uv_mutex_lock(&m->client->mu);
        r->stats.packets++;
        uv_mutex_unlock(&m->client->mu);
        if (h.payload_len)
            deliver(m, s, r, payload, h.payload_len, h.timestamp, false);
        return;
    }
    int put = parley_vp8_depack_put(&r->depack, h.seq, h.timestamp, h.marker, payload, h.payload_len);
    if (put == 1) {
        uv_mutex_lock(&m->client->mu);
        r->stats.packets++;
        uv_mutex_unlock(&m->client->mu);
    }
    if (!tracked)
        parley_vp8_depack_skip(&r->depack); /* too large a gap to ask for */
    parley_vp8_frame f;
    while (parley_vp8_depack_pop(&r->depack, &f) == 1) {
        r->stall_since_ms = 0;
        deliver(m, s, r, f.data, f.len, f.timestamp, f.keyframe);
    }
    if (r->depack.need_keyframe)
        send_pli(s, r, now);
}

static void sub_rtcp(void *arg, uint8_t *pkt, size_t len)
{
    struct media_sub *s = arg;
    if (!parley_rtcp_valid(pkt, len))
        return;
    uint64_t now = uv_now(&s->m->client->loop);
    parley_rtcp_iter it;
    parley_rtcp_packet q;
    parley_rtcp_iter_init(&it, pkt, len);
    while (parley_rtcp_next(&it, &q) == 1) {
        if (q.kind != PARLEY_RTCP_KIND_SR)
            continue;
        parley_rtcp_sr sr;
        parley_rtcp_sr_info(&q, &sr);
        for (size_t i = 0; i < s->n; i++)
            if (s->rx[i].ssrc == sr.ssrc)
                parley_rtcp_stats_sr(&s->rx[i].rs, sr.ntp, (int64_t)now);
    }
}

static void sub_tick(void *arg, uint64_t now)
{
    struct media_sub *s = arg;
    parley_meeting *m = s->m;
    if (rtc_get_state(s->rtc) != RTC_CONNECTED)
        return;
    uint8_t buf[PARLEY_RTCP_MAX_PACKET + 64];
    for (size_t i = 0; i < s->n; i++) {
        rx_track *r = &s->rx[i];
        if (!r->seen)
            continue;
        uint16_t seqs[64];
        /* without nack the gaps are still collected: after the retries they count as lost */
        unsigned n = parley_nack_tracker_collect(&r->nack, (int64_t)now, NACK_RTT_MS, seqs, 64);
        if (n && r->nack_ok)
            send_rtcp(s, buf, parley_rtcp_build_nack(buf, PARLEY_RTCP_MAX_PACKET, s->rtcp_ssrc, r->ssrc, seqs, n),
                      sizeof buf);
        if (r->kind == PARLEY_MEDIA_VIDEO) {
            if (parley_vp8_depack_stalled(&r->depack)) {
                if (!r->stall_since_ms)
                    r->stall_since_ms = now;
                else if (now - r->stall_since_ms >= STALL_GIVE_UP_MS) {
                    r->stall_since_ms = 0;
                    parley_vp8_depack_skip(&r->depack);
                    parley_vp8_frame f;
                    while (parley_vp8_depack_pop(&r->depack, &f) == 1)
                        deliver(m, s, r, f.data, f.len, f.timestamp, f.keyframe);
                }
            } else {
                r->stall_since_ms = 0;
            }
            if (r->depack.need_keyframe)
                send_pli(s, r, now);
        }
        uv_mutex_lock(&m->client->mu);
        r->stats.lost = r->nack.lost;
        uv_mutex_unlock(&m->client->mu);
    }
    if (now >= s->next_rr_ms) {
        s->next_rr_ms = now + RR_INTERVAL_MS;
        parley_rtcp_report_block rb[MAX_RX];
        unsigned nb = 0;
        for (size_t i = 0; i < s->n && nb < MAX_RX; i++)
            if (parley_rtcp_stats_report(&s->rx[i].rs, (int64_t)now, &rb[nb]))
                nb++;
        send_rtcp(s, buf, parley_rtcp_build_rr(buf, PARLEY_RTCP_MAX_PACKET, s->rtcp_ssrc, rb, nb), sizeof buf);
    }
}

static void sub_state(void *arg, rtc_state st, const char *why)
{
    struct media_sub *s = arg;
    parley_meeting *m = s->m;
    if (st == RTC_CONNECTED)
        media_emit_state(m, PARLEY_STATE_CONNECTED, s->pid, NULL);
    else if (st == RTC_FAILED)
        sub_fail(m, s, why);
    else if (st == RTC_CLOSED)
        sub_end(m, s, PARLEY_STATE_DISCONNECTED, why);
}

/* ---- negotiation ---- */

void media_subscribe(parley_meeting *m, const char *pid)
{
    if (m->phase != PHASE_JOINED) {
        session_local_error(m, PARLEY_ERR_NATIVE_ERROR_ACTION_PERFORMED_BEFORE_MEETING_JOINED, "subscribe", NULL);
        return;
    }
    if (find(m, pid)) {
        session_local_error(m, PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, "subscribe",
                            "already subscribed, or the exchange is under way");
        return;
    }
    struct media_sub *s = calloc(1, sizeof *s);
    if (!s || !(s->pid = strdup(pid))) {
        free(s);
        session_local_error(m, PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, "subscribe", "out of memory");
        return;
    }
    s->m = m;
    s->rtcp_ssrc = media_random32();
    json_t *f = json_pack("{s:s}", "participantId", pid);
    if (!f || !session_request(m, "subscribe", f, s->req_id)) {
        sub_free(s);
        session_local_error(m, PARLEY_ERR_NATIVE_ERROR_ACTION_PERFORMED_BEFORE_MEETING_JOINED, "subscribe", NULL);
        return;
    }
    uv_mutex_lock(&m->client->mu);
    struct media_sub **pp = &m->subs;
    while (*pp)
        pp = &(*pp)->next;
    *pp = s; /* subscription order */
    uv_mutex_unlock(&m->client->mu);
    media_emit_state(m, PARLEY_STATE_CONNECTING, pid, NULL);
}

void media_unsubscribe(parley_meeting *m, const char *pid, bool tell_server)
{
    if (tell_server) {
        json_t *f = json_pack("{s:s}", "participantId", pid);
        if (!f || !session_request(m, "unsubscribe", f, NULL)) {
            session_local_error(m, PARLEY_ERR_NATIVE_ERROR_ACTION_PERFORMED_BEFORE_MEETING_JOINED, "unsubscribe",
                                NULL);
            return;
        }
    }
    struct media_sub *s = find(m, pid);
    if (s)
        sub_end(m, s, PARLEY_STATE_DISCONNECTED, NULL);
}

static bool rx_init(rx_track *r, const parley_sdp_choice *ch)
{
    bool video = ch->kind == PARLEY_SDP_VIDEO;
    r->kind = video ? PARLEY_MEDIA_VIDEO : PARLEY_MEDIA_AUDIO;
    r->codec = video ? PARLEY_CODEC_VP8 : PARLEY_CODEC_OPUS;
    r->ssrc = ch->ssrc;
    r->pt = ch->codec.pt;
    r->nack_ok = ch->codec.fb & PARLEY_SDP_FB_NACK;
    r->stats.kind = r->kind;
    parley_nack_tracker_init(&r->nack, 10, 20);
    parley_rtcp_stats_init(&r->rs, r->ssrc, video ? 90000 : 48000);
    if (!video)
        return true;
    if (parley_vp8_depack_init(&r->depack))
        return false;
    r->depack.need_keyframe = true; /* a decoder starts from a keyframe */
    return true;
}

static void on_offer(parley_meeting *m, json_t *msg)
{
    const char *pid = json_string_value(json_object_get(msg, "participantId"));
    const char *text = json_string_value(json_object_get(msg, "sdp"));
    struct media_sub *s = find(m, pid);
    if (!s || s->offered)
        return; /* not asked for, or already answered */
    s->offered = true;
    char err[256] = "the offer carries no SDP";
    parley_sdp *offer = NULL;
    parley_sdp_answer ans = {0};
    rx_track *rx = NULL;
    size_t n = 0;
    rtc_callbacks cb = {sub_state, sub_rtp, sub_rtcp, sub_tick};
    if (!text || parley_sdp_parse(text, strlen(text), &offer, err, sizeof err))
        goto fail;
    if (!(s->rtc = rtc_new(&m->client->loop, &cb, s, err, sizeof err)))
        goto fail;
    parley_sdp_local local = {.ice_ufrag = rtc_ufrag(s->rtc), .ice_pwd = rtc_pwd(s->rtc),
                              .fingerprint = rtc_fingerprint(s->rtc), .client = true,
                              .session_id = media_random32()};
    if (parley_sdp_answer_build(offer, &local, &ans, err, sizeof err))
        goto fail;
    if (!(rx = calloc(ans.n_media ? ans.n_media : 1, sizeof *rx))) {
        snprintf(err, sizeof err, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < ans.n_media && n < MAX_RX; i++)
        if (ans.media[i].receiving && ans.media[i].ssrc && rx_init(&rx[n], &ans.media[i]))
            n++;
    uv_mutex_lock(&m->client->mu);
    s->rx = rx;
    s->n = n;
    uv_mutex_unlock(&m->client->mu);
    rx = NULL;
    const parley_sdp_transport *tr = &ans.remote;
    char fp[PARLEY_SDP_TEXT_LEN + 20];
    snprintf(fp, sizeof fp, "%s %s", tr->fingerprint_alg, tr->fingerprint);
    const char *addr;
    uint16_t port;
    if (!media_candidate(offer, &addr, &port)) {
        snprintf(err, sizeof err, "the server's offer has no candidate");
        goto fail;
    }
    if (rtc_start(s->rtc, tr->ice_ufrag, tr->ice_pwd, fp, addr, port, err, sizeof err))
        goto fail;
    json_t *f = json_pack("{s:s, s:s}", "participantId", pid, "sdp", ans.text);
    if (!f || !session_request(m, "subscribe-answer", f, s->answer_id)) {
        snprintf(err, sizeof err, "the answer could not be sent");
        goto fail;
    }
    parley_sdp_answer_free(&ans);
    parley_sdp_free(offer);
    return;
fail:
    free(rx);
    parley_sdp_answer_free(&ans);
    parley_sdp_free(offer);
    sub_fail(m, s, err);
}

void media_rx_on_message(parley_meeting *m, const char *type, json_t *msg, const char *request, const char *id)
{
    if (!strcmp(type, "subscribe-offer")) {
        on_offer(m, msg);
    } else if (!strcmp(type, "error") && id && request &&
               (!strcmp(request, "subscribe") || !strcmp(request, "subscribe-answer"))) {
        for (struct media_sub *s = m->subs; s; s = s->next)
            if (!strcmp(id, s->req_id) || !strcmp(id, s->answer_id)) {
                sub_end(m, s, PARLEY_STATE_FAILED, "the server refused the subscription");
                return;
            }
    } else if (!strcmp(type, "stream-disabled") || !strcmp(type, "participant-left")) {
        struct media_sub *s = find(m, json_string_value(json_object_get(msg, "participantId")));
        if (s)
            sub_end(m, s, PARLEY_STATE_DISCONNECTED, "the publisher stopped");
    }
}

void media_rx_teardown(parley_meeting *m, bool emit)
{
    while (m->subs)
        sub_end(m, m->subs, emit ? PARLEY_STATE_DISCONNECTED : PARLEY_STATE_IDLE, NULL);
}

/* ---- statistics, from any thread ---- */

int parley_meeting_track_stats(parley_meeting *m, const char *participant_id, parley_track_stats *out, char **ids,
                               int max)
{
    if (!m || !out || max <= 0)
        return 0;
    int n = 0;
    uv_mutex_lock(&m->client->mu);
    for (struct media_ended *e = m->ended; e && n < max; e = e->next) {
        if (participant_id && strcmp(participant_id, e->pid))
            continue;
        for (size_t i = 0; i < e->n && n < max; i++) {
            out[n] = e->st[i];
            if (ids)
                ids[n] = strdup(e->pid);
            n++;
        }
    }
    for (struct media_sub *s = m->subs; s && n < max; s = s->next) {
        if (participant_id && strcmp(participant_id, s->pid))
            continue;
        for (size_t i = 0; i < s->n && n < max; i++) {
            out[n] = s->rx[i].stats;
            if (ids)
                ids[n] = strdup(s->pid);
            n++;
        }
    }
    uv_mutex_unlock(&m->client->mu);
    return n;
}
