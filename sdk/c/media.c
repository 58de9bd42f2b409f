/* media.c - a meeting's publication: its offer and the server's answer, the
 * frames of its tracks cut into RTP (sfu/packetize), the send history that
 * answers the server's NACKs, keyframe requests, sender reports, and the
 * default sources that replace a published track the application freed.
 * Also the signaling glue of the media side (media_on_message) and the
 * teardown. Subscriptions are in media_rx.c.
 *
 * One publication per meeting, on one connection (rtc.c): up to one audio
 * track (mid "audio", Opus, pt 111, source "microphone", the audio level
 * header extension offered as id 1) and one video track (mid "video", VP8,
 * pt 96, source "camera" or "screen"); the offer's `sources` names them.
 * Everything runs on the loop thread.
 *
 * Events: media-state-changed CONNECTING when the offer is sent, CONNECTED
 * when DTLS completes, FAILED when the server refuses the offer (its error
 * comes first) or ICE/DTLS fail (after error 3011 for a publication with
 * video, else 3012, the cause in the hint), DISCONNECTED on unpublish or when
 * the meeting ends; keyframe-requested when the server sends a PLI or FIR for
 * a custom video track. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "media_int.h"

#include "nack.h"
#include "packetize.h"
#include "rtcp.h"
#include "rtp.h"
#include "sdp.h"

enum {
    SR_INTERVAL_MS = 1000,
    AUDIO_FRAME_MS = 20,
    BLACK_FRAME_MS = 1000,
    HISTORY_AGE_MS = 3000,
    AUDIO_LEVEL_EXT_ID = 1, /* offered for urn:ietf:params:rtp-hdrext:ssrc-audio-level */
    NO_LEVEL = -1,
    SILENCE_LEVEL = 127,
};

/* The Opus DTX silence frame (RFC 6716 TOC 0xF8: CELT FB 20 ms, one frame). */
static const uint8_t opus_silence[] = {0xF8, 0xFF, 0xFE};

/* A 16x16 black VP8 keyframe, made with
 *   ffmpeg -f lavfi -i color=black:s=16x16 -frames:v 1 -c:v libvpx -f ivf black.ivf
 * (the frame's bytes, after the 32-byte IVF header and the 12-byte frame header). */
static const uint8_t vp8_black[] = {
    0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x10, 0x00, 0x10, 0x00, 0x00, 0x47, 0x08, 0x85, 0x85, 0x88,
    0x85, 0x84, 0x88, 0x02, 0x02, 0x00, 0x0c, 0x0d, 0x60, 0x00, 0xfe, 0xff, 0xab, 0x50, 0x80,
};

typedef struct out_track {
    bool used;
    parley_track *track; /* NULL: the default source */
    parley_media_kind kind;
    uint32_t ssrc;
    uint8_t pt;
    uint32_t clock;
    uint16_t seq, picture_id;
    bool sent_any;
    uint32_t last_ts;    /* RTP timestamp of the last frame */
    uint64_t last_ms;    /* when it was sent */
    uint64_t next_default_ms;
    uint32_t packets, octets;
    uint64_t plis;
    uint8_t level_id; /* audio: the answered audio level extension id; 0: not negotiated */
    const char *source;
    parley_nack_buffer history;
} out_track;

struct media_pub {
    parley_meeting *m;
    rtc *rtc;
    char req_id[16];
    bool answered;
    uint32_t rtcp_ssrc;
    char cname[17];
    out_track t[2]; /* [PARLEY_MEDIA_AUDIO], [PARLEY_MEDIA_VIDEO] */
    uint64_t next_sr_ms;
};

/* ---- shared helpers (media_int.h) ---- */

uint32_t media_random32(void)
{
    uint32_t v = 0;
    while (!v)
        if (RAND_bytes((unsigned char *)&v, sizeof v) != 1)
            v = (uint32_t)rand();
    return v;
}

void media_emit_state_tracks(parley_meeting *m, parley_meeting_state s, const char *participant_id,
                             const char *hint, json_t *tracks)
{
    json_t *ev = json_pack("{s:s, s:s}", "event", "media-state-changed", "state", parley_meeting_state_name(s));
    if (!ev) {
        json_decref(tracks);
        return;
    }
    if (participant_id)
        json_object_set_new(ev, "participantId", json_string(participant_id));
    if (hint)
        json_object_set_new(ev, "hint", json_string(hint));
    if (tracks)
        json_object_set_new(ev, "tracks", tracks);
    event_emit(m, PARLEY_EVENT_MEDIA_STATE_CHANGED, ev);
}

void media_emit_state(parley_meeting *m, parley_meeting_state s, const char *participant_id, const char *hint)
{
    media_emit_state_tracks(m, s, participant_id, hint, NULL);
}

/* The server's candidate: the first usable one of the first m-line with one. */
bool media_candidate(const parley_sdp *sdp, const char **addr, uint16_t *port)
{
    for (size_t i = 0; i < sdp->n_media; i++)
        for (size_t k = 0; k < sdp->media[i].n_candidates; k++) {
            const parley_sdp_candidate *c = &sdp->media[i].candidates[k];
            if (c->component == 1 && !strcasecmp(c->transport, "udp") && c->port) {
                *addr = c->address;
                *port = c->port;
                return true;
            }
        }
    return false;
}

/* The transport of the first m-line that carries ICE credentials. */
const parley_sdp_transport *media_transport(const parley_sdp *sdp)
{
    for (size_t i = 0; i < sdp->n_media; i++)
        if (sdp->media[i].transport.ice_ufrag[0])
            return &sdp->media[i].transport;
    return &sdp->transport;
}

/* ---- the publication ---- */

static const char *self_of(parley_meeting *m)
{
    return m->self_id ? m->self_id : m->participant_id ? m->participant_id : "parley";
}

static void pub_free(struct media_pub *p)
{
    if (!p)
        return;
    rtc_close(p->rtc);
    for (int k = 0; k < 2; k++)
        parley_nack_buffer_free(&p->t[k].history);
    free(p);
}

/* End the publication; emit `state` unless it is IDLE. */
static void pub_end(parley_meeting *m, parley_meeting_state state, const char *hint)
{
    struct media_pub *p = m->pub;
    if (!p)
        return;
    m->pub = NULL;
    pub_free(p);
    if (state != PARLEY_STATE_IDLE)
        media_emit_state(m, state, NULL, hint);
}

static int pub_code(const struct media_pub *p)
{
    return p->t[PARLEY_MEDIA_VIDEO].used ? PARLEY_ERR_NATIVE_ERROR_STARTING_VIDEO
                                         : PARLEY_ERR_NATIVE_ERROR_STARTING_AUDIO;
}

static void pub_fail(parley_meeting *m, const char *why)
{
    if (!m->pub)
        return;
    if (m->pub->answered) /* the server publishes us: end that too */
        session_request(m, "unpublish", NULL, NULL);
    session_local_error(m, pub_code(m->pub), "publish-offer", why);
    pub_end(m, PARLEY_STATE_FAILED, why);
}

/* One RTP packet; level (0..127, or NO_LEVEL) goes in the audio level
 * extension when it was negotiated (RFC 8285 one-byte form, RFC 6464). */
static void pub_send_packet(struct media_pub *p, out_track *o, const uint8_t *payload, size_t plen, bool marker,
                            uint32_t ts, uint64_t now, int level, bool voice)
{
    uint8_t pkt[PARLEY_RTP_MAX_PACKET + 64];
    size_t hl = 12;
    bool ext = level >= 0 && o->level_id;
    if (ext)
        hl += 8; /* 0xBEDE, one word: the element and its padding */
    if (hl + plen > PARLEY_RTP_MAX_PACKET)
        return;
    pkt[0] = ext ? 0x90 : 0x80;
    pkt[1] = (uint8_t)(o->pt | (marker ? 0x80 : 0));
    parley_wr16(pkt + 2, o->seq);
    parley_wr32(pkt + 4, ts);
    parley_wr32(pkt + 8, o->ssrc);
    if (ext) {
        parley_wr16(pkt + 12, 0xBEDE);
        parley_wr16(pkt + 14, 1);
        pkt[16] = (uint8_t)(o->level_id << 4); /* length 1 (encoded 0) */
        pkt[17] = (uint8_t)((voice ? 0x80 : 0) | (level & 0x7f));
        pkt[18] = pkt[19] = 0;
    }
    memcpy(pkt + hl, payload, plen);
    parley_nack_buffer_put(&o->history, o->seq, pkt, hl + plen, (int64_t)now);
    o->seq++;
    o->packets++;
    o->octets += (uint32_t)plen;
    rtc_send_rtp(p->rtc, pkt, hl + plen, sizeof pkt);
}

static void pub_send_frame(struct media_pub *p, out_track *o, const uint8_t *data, size_t len, uint32_t ts,
                           int level, bool voice)
{
    uint64_t now = uv_now(&p->m->client->loop);
    if (o->kind == PARLEY_MEDIA_AUDIO) {
        if (len > PARLEY_PACKETIZE_MTU)
            return; /* not one Opus packet */
        pub_send_packet(p, o, data, len, true, ts, now, level, voice);
    } else {
        parley_vp8_packetizer pz;
        if (!parley_vp8_packetizer_init(&pz, data, len, o->picture_id, PARLEY_PACKETIZE_MTU))
            return;
        uint8_t payload[PARLEY_PACKETIZE_MTU];
        bool marker = false;
        size_t n;
        while ((n = parley_vp8_packetizer_next(&pz, payload, sizeof payload, &marker)) > 0)
            pub_send_packet(p, o, payload, n, marker, ts, now, NO_LEVEL, false);
        o->picture_id = (uint16_t)((o->picture_id + 1) & 0x7fff);
    }
    o->sent_any = true;
    o->last_ts = ts;
    o->last_ms = now;
}

void media_send_frame(parley_meeting *m, parley_track *t, uint8_t *data, size_t len, uint32_t ts, int level,
                      bool voice)
{
    struct media_pub *p = m->pub;
    out_track *o = p ? &p->t[t->cfg.kind == PARLEY_MEDIA_VIDEO] : NULL;
    if (o && o->used && o->track == t && rtc_get_state(p->rtc) == RTC_CONNECTED)
        pub_send_frame(p, o, data, len, ts, level, voice);
    free(data);
}

/* The default source's next frame, when due. */
static void pub_default(struct media_pub *p, out_track *o, uint64_t now)
{
    if (now < o->next_default_ms)
        return;
    bool audio = o->kind == PARLEY_MEDIA_AUDIO;
    uint32_t step_ms = audio ? AUDIO_FRAME_MS : BLACK_FRAME_MS;
    /* a steady step while the cadence holds; the time elapsed after a pause */
    uint32_t elapsed = o->sent_any && now - o->last_ms > 3 * step_ms ? (uint32_t)(now - o->last_ms) : step_ms;
    uint32_t ts = o->last_ts + (uint32_t)((uint64_t)elapsed * o->clock / 1000);
    if (audio)
        pub_send_frame(p, o, opus_silence, sizeof opus_silence, ts, SILENCE_LEVEL, false);
    else
        pub_send_frame(p, o, vp8_black, sizeof vp8_black, ts, NO_LEVEL, false);
    o->next_default_ms = (o->next_default_ms && now - o->next_default_ms < step_ms ? o->next_default_ms : now) + step_ms;
}

static uint64_t ntp_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t sec = (uint64_t)ts.tv_sec + 2208988800ull;
    uint64_t frac = ((uint64_t)ts.tv_nsec << 32) / 1000000000ull;
    return sec << 32 | frac;
}

static void pub_reports(struct media_pub *p, uint64_t now)
{
    uint8_t buf[PARLEY_RTCP_MAX_PACKET + 64];
    size_t len = 0;
    uint32_t first = 0;
    for (int k = 0; k < 2; k++) {
        out_track *o = &p->t[k];
        if (!o->used || !o->sent_any)
            continue;
        parley_rtcp_sr sr = {.ssrc = o->ssrc, .ntp = ntp_now(),
                             .rtp_ts = o->last_ts + (uint32_t)((now - o->last_ms) * o->clock / 1000),
                             .packet_count = o->packets, .octet_count = o->octets};
        len += parley_rtcp_build_sr(buf + len, PARLEY_RTCP_MAX_PACKET - len, &sr, NULL, 0);
        if (!first)
            first = o->ssrc;
    }
    if (len) /* a compound packet: the SRs, then the CNAME */
        len += parley_rtcp_build_sdes_cname(buf + len, PARLEY_RTCP_MAX_PACKET - len, first, p->cname);
    if (len)
        rtc_send_rtcp(p->rtc, buf, len, sizeof buf);
}

static void pub_tick(void *arg, uint64_t now)
{
    struct media_pub *p = arg;
    if (rtc_get_state(p->rtc) != RTC_CONNECTED)
        return;
    for (int k = 0; k < 2; k++)
        if (p->t[k].used && !p->t[k].track)
            pub_default(p, &p->t[k], now);
    if (now >= p->next_sr_ms) {
        pub_reports(p, now);
        p->next_sr_ms = now + SR_INTERVAL_MS;
    }
}

typedef struct resend_ctx {
    struct media_pub *p;
} resend_ctx;

static void resend(void *arg, const uint8_t *pkt, size_t len)
{
    resend_ctx *c = arg;
    uint8_t buf[PARLEY_RTP_MAX_PACKET + 64];
    memcpy(buf, pkt, len);
    rtc_send_rtp(c->p->rtc, buf, len, sizeof buf);
}

static out_track *pub_track_by_ssrc(struct media_pub *p, uint32_t ssrc)
{
    for (int k = 0; k < 2; k++)
        if (p->t[k].used && p->t[k].ssrc == ssrc)
            return &p->t[k];
    return NULL;
}

static void pub_rtcp(void *arg, uint8_t *pkt, size_t len)
{
    struct media_pub *p = arg;
    if (!parley_rtcp_valid(pkt, len))
        return;
    uint64_t now = uv_now(&p->m->client->loop);
    parley_rtcp_iter it;
    parley_rtcp_packet q;
    parley_rtcp_iter_init(&it, pkt, len);
    while (parley_rtcp_next(&it, &q) == 1) {
        out_track *o;
        if (q.kind == PARLEY_RTCP_KIND_NACK && (o = pub_track_by_ssrc(p, q.media_ssrc))) {
            resend_ctx c = {p};
            for (unsigned i = 0; i < parley_rtcp_nack_items(&q); i++) {
                uint16_t pid, blp;
                parley_rtcp_nack_item(&q, i, &pid, &blp);
                parley_nack_buffer_answer(&o->history, pid, blp, (int64_t)now, resend, &c);
            }
        } else if (q.kind == PARLEY_RTCP_KIND_PLI || q.kind == PARLEY_RTCP_KIND_FIR) {
            uint32_t ssrc = q.media_ssrc;
            if (q.kind == PARLEY_RTCP_KIND_FIR && parley_rtcp_fir_items(&q) > 0) {
                uint8_t seq;
                parley_rtcp_fir_item(&q, 0, &ssrc, &seq);
            }
            if ((o = pub_track_by_ssrc(p, ssrc)) && o->kind == PARLEY_MEDIA_VIDEO) {
                o->plis++;
                if (!o->track) {
                    o->next_default_ms = 0; /* the default source: a keyframe now */
                } else { /* a custom track's encoder is the application's */
                    json_t *ev = json_pack("{s:s, s:s, s:s, s:s}", "event", "keyframe-requested", "kind", "video",
                                           "source", o->source, "feedback",
                                           q.kind == PARLEY_RTCP_KIND_FIR ? "FIR" : "PLI");
                    if (ev) /* the callback's actions are queued: p outlives it */
                        event_emit(p->m, PARLEY_EVENT_KEYFRAME_REQUESTED, ev);
                }
            }
        }
    }
}

static void pub_state(void *arg, rtc_state s, const char *why)
{
    struct media_pub *p = arg;
    parley_meeting *m = p->m;
    if (s == RTC_CONNECTED)
        media_emit_state(m, PARLEY_STATE_CONNECTED, NULL, NULL);
    else if (s == RTC_FAILED)
        pub_fail(m, why);
    else if (s == RTC_CLOSED)
        pub_end(m, PARLEY_STATE_DISCONNECTED, why);
}

static void pub_rtp(void *arg, uint8_t *pkt, size_t len)
{
    (void)arg;
    (void)pkt;
    (void)len; /* a publication receives no media */
}

static bool out_init(out_track *o, parley_track *t, parley_media_kind kind)
{
    o->used = true;
    o->track = t;
    o->kind = kind;
    o->ssrc = media_random32();
    o->pt = kind == PARLEY_MEDIA_VIDEO ? 96 : 111;
    o->clock = kind == PARLEY_MEDIA_VIDEO ? 90000 : 48000;
    o->seq = (uint16_t)media_random32();
    o->picture_id = (uint16_t)(media_random32() & 0x7fff);
    o->last_ts = media_random32();
    o->source = kind == PARLEY_MEDIA_AUDIO ? "microphone" : t->cfg.screen ? "screen" : "camera";
    return parley_nack_buffer_init(&o->history, kind == PARLEY_MEDIA_VIDEO ? 512 : 128, HISTORY_AGE_MS) == 0;
}

void media_publish(parley_meeting *m, parley_track *audio, parley_track *video)
{
    static const char *req = "publish-offer";
    if (m->phase != PHASE_JOINED) {
        session_local_error(m, PARLEY_ERR_NATIVE_ERROR_ACTION_PERFORMED_BEFORE_MEETING_JOINED, req, NULL);
        return;
    }
    if (m->pub) {
        session_local_error(m, PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, req, "already publishing: unpublish first");
        return;
    }
    struct media_pub *p = calloc(1, sizeof *p);
    char err[256] = "out of memory";
    if (!p) {
        session_local_error(m, video ? PARLEY_ERR_NATIVE_ERROR_STARTING_VIDEO : PARLEY_ERR_NATIVE_ERROR_STARTING_AUDIO,
                            req, err);
        return;
    }
    p->m = m;
    m->pub = p;
    p->rtcp_ssrc = media_random32();
    snprintf(p->cname, sizeof p->cname, "%08x%08x", media_random32(), media_random32());
    bool ok = (!audio || out_init(&p->t[PARLEY_MEDIA_AUDIO], audio, PARLEY_MEDIA_AUDIO)) &&
              (!video || out_init(&p->t[PARLEY_MEDIA_VIDEO], video, PARLEY_MEDIA_VIDEO));
    rtc_callbacks cb = {pub_state, pub_rtp, pub_rtcp, pub_tick};
    if (!ok || !(p->rtc = rtc_new(&m->client->loop, &cb, p, err, sizeof err))) {
        pub_fail(m, err);
        return;
    }
    parley_sdp_track st[2];
    size_t n = 0;
    const char *self = self_of(m);
    for (int k = 0; k < 2; k++) {
        out_track *o = &p->t[k];
        if (!o->used)
            continue;
        bool v = k == PARLEY_MEDIA_VIDEO;
        st[n++] = (parley_sdp_track){.kind = v ? PARLEY_SDP_VIDEO : PARLEY_SDP_AUDIO, .mid = v ? "video" : "audio",
                                     .stream_id = self, .track_id = v ? "video" : "audio", .cname = p->cname,
                                     .pt = o->pt, .codec = v ? "VP8" : "opus", .ssrc = o->ssrc,
                                     .audio_level_id = v ? 0 : AUDIO_LEVEL_EXT_ID};
    }
    parley_sdp_local local = {.ice_ufrag = rtc_ufrag(p->rtc), .ice_pwd = rtc_pwd(p->rtc),
                              .fingerprint = rtc_fingerprint(p->rtc), .client = true,
                              .session_id = media_random32()};
    char *offer = NULL;
    if (parley_sdp_offer_build(&local, st, n, &offer, NULL, err, sizeof err)) {
        pub_fail(m, err);
        return;
    }
    json_t *sources = json_object();
    for (int k = 0; k < 2 && sources; k++)
        if (p->t[k].used)
            json_object_set_new(sources, k == PARLEY_MEDIA_VIDEO ? "video" : "audio", json_string(p->t[k].source));
    json_t *f = sources ? json_pack("{s:s, s:o}", "sdp", offer, "sources", sources) : NULL;
    free(offer);
    if (!f || !session_request(m, req, f, p->req_id)) {
        pub_fail(m, "the offer could not be sent");
        return;
    }
    media_emit_state(m, PARLEY_STATE_CONNECTING, NULL, NULL);
}

static void pub_answered(parley_meeting *m, json_t *msg)
{
    struct media_pub *p = m->pub;
    const char *text = json_string_value(json_object_get(msg, "sdp"));
    char err[256] = "the response carries no SDP answer";
    parley_sdp *ans = NULL;
    if (!text || parley_sdp_parse(text, strlen(text), &ans, err, sizeof err) || !ans->n_media) {
        parley_sdp_free(ans);
        pub_fail(m, err);
        return;
    }
    p->answered = true;
    for (size_t i = 0; i < ans->n_media; i++)
        if (ans->media[i].kind == PARLEY_SDP_AUDIO && !strcmp(ans->media[i].mid, "audio"))
            p->t[PARLEY_MEDIA_AUDIO].level_id = parley_sdp_media_extmap_id(&ans->media[i], PARLEY_SDP_EXT_AUDIO_LEVEL);
    if (p->t[PARLEY_MEDIA_AUDIO].level_id > 14)
        p->t[PARLEY_MEDIA_AUDIO].level_id = 0; /* beyond the one-byte form we write */
    const parley_sdp_transport *tr = media_transport(ans);
    char fp[PARLEY_SDP_TEXT_LEN + 20];
    snprintf(fp, sizeof fp, "%s %s", tr->fingerprint_alg, tr->fingerprint);
    const char *addr = NULL;
    uint16_t port = 0;
    if (!media_candidate(ans, &addr, &port))
        snprintf(err, sizeof err, "the server's answer has no candidate");
    else if (rtc_start(p->rtc, tr->ice_ufrag, tr->ice_pwd, fp, addr, port, err, sizeof err) == 0)
        err[0] = '\0';
    parley_sdp_free(ans);
    if (err[0])
        pub_fail(m, err);
}

void media_unpublish(parley_meeting *m, bool tell_server)
{
    if (tell_server && !session_request(m, "unpublish", NULL, NULL)) {
        session_local_error(m, PARLEY_ERR_NATIVE_ERROR_ACTION_PERFORMED_BEFORE_MEETING_JOINED, "unpublish", NULL);
        return;
    }
    pub_end(m, PARLEY_STATE_DISCONNECTED, NULL);
}

void media_track_gone(parley_meeting *m, parley_track *t)
{
    struct media_pub *p = m->pub;
    out_track *o = p ? &p->t[t->cfg.kind == PARLEY_MEDIA_VIDEO] : NULL;
    if (!o || !o->used || o->track != t)
        return;
    o->track = NULL;
    o->next_default_ms = 0;
    bool video = o->kind == PARLEY_MEDIA_VIDEO;
    session_local_error(m, video ? PARLEY_ERR_NATIVE_ERROR_CUSTOM_VIDEO_TRACK_DISPOSED
                                 : PARLEY_ERR_NATIVE_ERROR_CUSTOM_AUDIO_TRACK_DISPOSED,
                        NULL, video ? "the publication carries on with a black picture"
                                    : "the publication carries on with silence");
}

/* ---- signaling glue ---- */

void media_on_message(parley_meeting *m, const char *type, json_t *msg, const char *request, const char *id)
{
    struct media_pub *p = m->pub;
    bool ours = p && id && !strcmp(id, p->req_id);
    if (!strcmp(type, "response") && request && !strcmp(request, "publish-offer")) {
        if (ours && !p->answered)
            pub_answered(m, msg);
    } else if (!strcmp(type, "error") && request && !strcmp(request, "publish-offer")) {
        if (ours)
            pub_end(m, PARLEY_STATE_FAILED, "the server refused the offer");
    } else {
        media_rx_on_message(m, type, msg, request, id);
    }
}

void media_teardown(parley_meeting *m, bool emit)
{
    pub_end(m, emit ? PARLEY_STATE_DISCONNECTED : PARLEY_STATE_IDLE, NULL);
    media_rx_teardown(m, emit);
}

/* ---- the public API ---- */

static cmd *media_cmd(cmd_kind kind, parley_meeting *m, const char *type)
{
    cmd *c = calloc(1, sizeof *c);
    if (c) {
        c->kind = kind;
        c->meeting = m;
        snprintf(c->type, sizeof c->type, "%s", type);
    }
    return c;
}

int parley_meeting_publish_tracks(parley_meeting *m, parley_track *audio, parley_track *video)
{
    if (!m || (!audio && !video))
        return PARLEY_EINVAL;
    uv_mutex_lock(&m->client->mu);
    bool ok = (!audio || (audio->meeting == m && audio->cfg.kind == PARLEY_MEDIA_AUDIO)) &&
              (!video || (video->meeting == m && video->cfg.kind == PARLEY_MEDIA_VIDEO));
    uv_mutex_unlock(&m->client->mu);
    if (!ok)
        return PARLEY_EINVAL;
    cmd *c = media_cmd(CMD_PUBLISH, m, "publish-offer");
    if (!c)
        return PARLEY_ENOMEM;
    c->track = audio;
    c->track2 = video;
    return meeting_post_if(m, c, false);
}

int parley_meeting_unpublish_tracks(parley_meeting *m)
{
    if (!m)
        return PARLEY_EINVAL;
    cmd *c = media_cmd(CMD_UNPUBLISH, m, "unpublish");
    return c ? meeting_post_if(m, c, false) : PARLEY_ENOMEM;
}

int parley_meeting_on_frame(parley_meeting *m, parley_frame_cb cb, void *userdata)
{
    if (!m)
        return PARLEY_EINVAL;
    uv_mutex_lock(&m->client->mu);
    m->frame_cb = cb;
    m->frame_ud = userdata;
    uv_mutex_unlock(&m->client->mu);
    return PARLEY_OK;
}

static int about_participant(parley_meeting *m, cmd_kind kind, const char *type, const char *participant_id)
{
    if (!m || !participant_id || !*participant_id)
        return PARLEY_EINVAL;
    cmd *c = media_cmd(kind, m, type);
    if (!c || !(c->arg = strdup(participant_id))) {
        cmd_free(c);
        return PARLEY_ENOMEM;
    }
    return meeting_post_if(m, c, false);
}

int parley_meeting_subscribe(parley_meeting *m, const char *participant_id)
{
    return about_participant(m, CMD_SUBSCRIBE, "subscribe", participant_id);
}

int parley_meeting_unsubscribe(parley_meeting *m, const char *participant_id)
{
    return about_participant(m, CMD_UNSUBSCRIBE, "unsubscribe", participant_id);
}
