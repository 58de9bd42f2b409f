/* media.c - parleyd's media glue (see media.h): the port, the certificate,
 * the router, and one SFU peer per publisher and per subscription. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "cert.h"
#include "log.h"
#include "handlers.h"
#include "media.h"
#include "peer.h"
#include "room.h"
#include "router.h"
#include "sdp.h"
#include "server.h"
#include "srtp.h"
#include "timer.h"
#include "token.h"
#include "udp.h"

#define MEDIA_MAX_TRACKS 8       /* tracks one publisher may register */
#define MEDIA_MAX_CANDIDATES 64  /* trickled candidates held per participant */
#define PENDING_UFRAG "pend"     /* remote credentials until a subscriber answers */
#define PENDING_PWD "pendingpendingpendingpend"

typedef struct mtrack {
    parley_sdp_kind kind;
    char mid[PARLEY_SDP_TOKEN_LEN];
    uint32_t ssrc;
    parley_sdp_codec codec;
    const char *source; /* "camera", "microphone" or "screen" (static) */
} mtrack;

/* A publisher's peer (target NULL) or a subscription's (target: whom it
 * receives). */
typedef struct mpeer {
    struct mpeer *next;
    participant *p;
    participant *target;
    parley_peer *peer;
    size_t n;
    mtrack t[MEDIA_MAX_TRACKS];
    /* subscriptions: the offer's tracks, its strings, the answer timer */
    parley_sdp_track st[MEDIA_MAX_TRACKS];
    char mids[MEDIA_MAX_TRACKS][24];
    char track_ids[MEDIA_MAX_TRACKS][PARLEY_SDP_TOKEN_LEN];
    uint32_t out_ssrc[MEDIA_MAX_TRACKS];
    bool answered;
    bool stale;      /* made over a connection p has since replaced (reconnect) */
    bool connecting; /* timer is the deadline for ICE (media_connect_deadline) */
    bool ended;      /* the peer failed: timer is its end (peer_ended) */
    ptimer *timer;
} mpeer;

/* Trickled candidates per participant: only counted (ICE-lite). */
typedef struct mcand {
    struct mcand *next;
    participant *p;
    int n;
} mcand;

static struct {
    parley_udp *udp;
    parley_cert *cert;
    parley_router *router;
    mpeer *peers;
    mcand *cands;
    char advertise[256];
} media;

/* ---- the core ---- */

static void peer_ended(void *arg);

static void peer_state(parley_peer *p, void *arg, parley_peer_state state)
{
    (void)p;
    mpeer *m = arg;
    parley_log(state == PARLEY_PEER_FAILED ? PARLEY_LOG_WARN : PARLEY_LOG_DEBUG, NULL,
               "media peer of %s%s%s: %s", m->p->id, m->target ? " from " : "",
               m->target ? m->target->id : "", parley_peer_state_name(state));
    if (state == PARLEY_PEER_CONNECTED && m->connecting) {
        ptimer_cancel(m->timer);
        m->timer = NULL;
        m->connecting = false;
    } else if (state == PARLEY_PEER_FAILED && !m->ended) {
        /* a peer is not freed from its own callback: end it from the loop */
        ptimer_cancel(m->timer);
        m->connecting = false;
        m->ended = true;
        m->timer = ptimer_start(0, peer_ended, m);
    }
}

static void peer_rtp(parley_peer *p, void *arg, uint8_t *pkt, size_t len)
{
    (void)arg;
    parley_router_rtp(media.router, p, pkt, len);
}

static void peer_rtcp(parley_peer *p, void *arg, uint8_t *pkt, size_t len)
{
    (void)arg;
    parley_router_rtcp(media.router, p, pkt, len);
}

/* The router's speaker detection (audio levels, grouped by room): the
 * loudest publisher of a room changed; everyone in it is told. */
static void active_speaker(void *arg, const void *group, parley_peer *pub, uint32_t ssrc)
{
    (void)arg;
    (void)ssrc;
    for (mpeer *m = media.peers; m; m = m->next)
        if (m->peer == pub && !m->target) {
            if (group == (const void *)m->p->room)
                room_broadcast(m->p->room,
                               json_pack("{s:s, s:s}", "type", "active-speaker", "participantId",
                                         m->p->id),
                               NULL);
            return;
        }
}

int media_start(char *err, size_t errlen)
{
    const parley_config *cfg = &server.cfg;
    const char *bind = cfg->rtc_address[0] ? cfg->rtc_address : cfg->host;
    snprintf(media.advertise, sizeof media.advertise, "%s", cfg->advertise[0] ? cfg->advertise : bind);
    char why[256];
    if (!(media.cert = parley_cert_generate(0, why, sizeof why))) {
        snprintf(err, errlen, "cannot make the media certificate: %s", why);
        return -1;
    }
    parley_udp_config uc = {.bind_address = bind, .port = (uint16_t)cfg->rtc_port,
                            .advertised_address = media.advertise};
    if (!(media.udp = parley_udp_open(&server.loop, &uc, &parley_peer_udp_callbacks, why, sizeof why))) {
        snprintf(err, errlen, "cannot open the media port %s:%d: %s", bind, cfg->rtc_port, why);
        media_stop();
        return -1;
    }
    if (!(media.router = parley_router_new(&server.loop, NULL))) {
        snprintf(err, errlen, "cannot make the media router");
        media_stop();
        return -1;
    }
    parley_router_on_speaker(media.router, active_speaker, NULL);
    return 0;
}

int media_port(void)
{
    return media.udp ? parley_udp_port(media.udp) : 0;
}

const char *media_advertised(void)
{
    return media.advertise;
}

static void mpeer_free(mpeer *m)
{
    for (mpeer **pp = &media.peers; *pp; pp = &(*pp)->next)
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    ptimer_cancel(m->timer);
    if (m->peer) {
        parley_router_remove_peer(media.router, m->peer);
        parley_peer_free(m->peer);
    }
    free(m);
}

void media_stop(void)
{
    while (media.peers)
        mpeer_free(media.peers);
    while (media.cands) {
        mcand *k = media.cands;
        media.cands = k->next;
        free(k);
    }
    parley_router_free(media.router);
    media.router = NULL;
    if (media.udp)
        parley_udp_close(media.udp);
    media.udp = NULL;
    parley_cert_free(media.cert);
    media.cert = NULL;
}

static mpeer *mpeer_new(participant *p, participant *target, char *err, size_t errlen)
{
    mpeer *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    parley_peer_config pc = {.cert = media.cert, .remote_ufrag = PENDING_UFRAG,
                             .remote_pwd = PENDING_PWD};
    parley_peer_callbacks cb = {peer_state, peer_rtp, peer_rtcp, m};
    if (!(m->peer = parley_peer_new(&server.loop, media.udp, &pc, &cb, err, errlen))) {
        free(m);
        return NULL;
    }
    m->p = p;
    m->target = target;
    m->next = media.peers;
    media.peers = m;
    return m;
}

static void local_of(const mpeer *m, parley_sdp_local *l, const char *const *addr)
{
    memset(l, 0, sizeof *l);
    l->ice_ufrag = parley_peer_local_ufrag(m->peer);
    l->ice_pwd = parley_peer_local_pwd(m->peer);
    l->fingerprint = parley_peer_fingerprint(m->peer);
    l->addresses = addr;
    l->n_addresses = 1;
    l->port = (uint16_t)media_port();
}

static int set_remote(mpeer *m, const parley_sdp_transport *t)
{
    char fp[PARLEY_SDP_TEXT_LEN + 32];
    snprintf(fp, sizeof fp, "%s %s", t->fingerprint_alg, t->fingerprint);
    return parley_peer_set_remote(m->peer, t->ice_ufrag, t->ice_pwd, fp);
}

static mpeer *find(const participant *p, const participant *target)
{
    for (mpeer *m = media.peers; m; m = m->next)
        if (m->p == p && m->target == target)
            return m;
    return NULL;
}

static void candidates_clear(const participant *p)
{
    for (mcand **pp = &media.cands; *pp; pp = &(*pp)->next)
        if ((*pp)->p == p) {
            mcand *k = *pp;
            *pp = k->next;
            free(k);
            return;
        }
}

static void tell(participant *p, int code, const char *hint)
{
    if (p->conn)
        sig_error(p->conn, code, NULL, hint);
}

/* End every subscription to publisher pub; the exchanges still under way
 * are told 103. */
static void end_subscriptions_to(participant *pub, bool left)
{
    mpeer *m = media.peers;
    while (m) {
        mpeer *next = m->next;
        if (m->target == pub) {
            if (left && !m->answered)
                tell(m->p, PARLEY_ERR_USER_CLOSED_ERROR_CODE,
                     "the publisher left during the exchange");
            mpeer_free(m);
            next = media.peers; /* the list changed */
        }
        m = next;
    }
}

static void disable_streams(mpeer *pub)
{
    for (size_t i = 0; i < pub->n; i++)
        room_broadcast(pub->p->room,
                       json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "stream-disabled",
                                 "participantId", pub->p->id, "kind",
                                 parley_sdp_kind_name(pub->t[i].kind), "trackId", pub->t[i].mid,
                                 "source", pub->t[i].source),
                       pub->p);
}

void media_unpublish(participant *p)
{
    mpeer *pub = find(p, NULL);
    if (!pub)
        return;
    end_subscriptions_to(p, true);
    if (!server.stopping)
        disable_streams(pub);
    mpeer_free(pub);
}

void media_participant_gone(participant *p)
{
    media_unpublish(p);
    mpeer *m = media.peers;
    while (m) {
        mpeer *next = m->next;
        if (m->p == p) {
            mpeer_free(m);
            next = media.peers;
        }
        m = next;
    }
    candidates_clear(p);
}

void media_participant_reconnected(participant *p)
{
    /* The client cannot know which exchanges of the old connection
     * completed: a subscription still waiting for its answer ends (its
     * offer may be lost), the completed ones carry on but are stale, so
     * that a new publish-offer or subscribe replaces them instead of
     * answering 303. Then p is told the streams to subscribe to. */
    mpeer *m = media.peers;
    while (m) {
        mpeer *next = m->next;
        if (m->p == p && m->target && !m->answered) {
            mpeer_free(m);
            next = media.peers;
        } else if (m->p == p) {
            m->stale = true;
        }
        m = next;
    }
    candidates_clear(p);
    media_tell_streams(p);
}

/* ---- failed peers ---- */

/* The transport of m failed (no ICE in time, consent lost, DTLS handshake
 * timeout or alert): its participant is told 303 and a subscription ends as
 * if unsubscribed, a publication as if unpublished (stream-disabled to the
 * others, its subscriptions ended), so that a new subscribe or
 * publish-offer starts afresh. A close_notify from the remote ends nothing:
 * the client closes a connection it replaces or is done with, and says so
 * in signaling. */
static void media_peer_end(mpeer *m, const char *hint)
{
    participant *p = m->p;
    char text[256];
    snprintf(text, sizeof text, "%s%s: %s", m->target ? "the subscription to " : "publishing",
             m->target ? m->target->id : "", hint);
    tell(p, PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, text);
    if (m->target) {
        mpeer_free(m);
        return;
    }
    media_unpublish(p);
    participant_set_media(p, false, false);
}

static void peer_ended(void *arg)
{
    mpeer *m = arg;
    m->timer = NULL;
    media_peer_end(m, "the media connection failed (ICE consent or DTLS)");
}

static void connect_timeout(void *arg)
{
    mpeer *m = arg;
    m->timer = NULL;
    m->connecting = false;
    /* past ICE, the DTLS handshake has its own deadline (peer_state) */
    if (!parley_peer_ice_selected(m->peer))
        media_peer_end(m, "no ICE connectivity check arrived in time");
}

/* Once an exchange is done, ICE must succeed within --media-timeout. */
static void media_connect_deadline(mpeer *m)
{
    if (m->ended || parley_peer_get_state(m->peer) != PARLEY_PEER_CONNECTING)
        return;
    ptimer_cancel(m->timer);
    m->connecting = true;
    m->timer = ptimer_start((uint64_t)server.cfg.media_timeout * 1000, connect_timeout, m);
}

/* ---- publishing ---- */

/* The source of an offered m-line: publish-offer's `sources` names it by mid
 * ("microphone" for audio, "camera" or "screen" for video); unnamed, audio
 * is the microphone and video the camera. NULL: a name that does not fit. */
static const char *track_source(json_t *sources, const char *mid, parley_sdp_kind kind)
{
    json_t *v = sources ? json_object_get(sources, mid) : NULL;
    const char *s = v ? json_string_value(v) : NULL;
    if (kind == PARLEY_SDP_AUDIO)
        return !v || (s && !strcmp(s, "microphone")) ? "microphone" : NULL;
    if (!v || (s && !strcmp(s, "camera")))
        return "camera";
    return s && !strcmp(s, "screen") ? "screen" : NULL;
}

/* The code refusing a source the token's publish grant lacks, or 0. */
static int source_denied(const participant *p, const char *source)
{
    if (!strcmp(source, "microphone"))
        return p->publish_grant & PARLEY_PUBLISH_MICROPHONE ? 0
                                                            : PARLEY_ERR_USER_AUDIO_PERMISSION_DENIED_ERROR_CODE;
    unsigned need = strcmp(source, "screen") ? PARLEY_PUBLISH_CAMERA : PARLEY_PUBLISH_SCREEN;
    return p->publish_grant & need ? 0 : PARLEY_ERR_USER_VIDEO_PERMISSION_DENIED_ERROR_CODE;
}

/* The stream-enabled notification for track i of publisher m. */
static json_t *stream_enabled(const mpeer *m, size_t i)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "stream-enabled", "participantId",
                     m->p->id, "kind", parley_sdp_kind_name(m->t[i].kind), "trackId", m->t[i].mid,
                     "source", m->t[i].source);
}

void handle_publish_offer(conn *c, json_t *msg, const char *id)
{
    participant *p = c->p;
    const char *text;
    if (!sig_string(c, msg, id, "sdp", true, &text))
        return;
    if (p->mode == MODE_VIEWER) {
        sig_error(c, PARLEY_ERR_USER_GENERIC_ERROR_CODE, id, "a VIEWER does not publish");
        return;
    }
    mpeer *old = find(p, NULL);
    if (old && !old->stale) {
        sig_error(c, PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, id,
                  "this participant already publishes (unpublish first)");
        return;
    }
    if (old) {
        /* published over a connection since replaced: this offer replaces
         * it; subscribers see stream-disabled, then the new stream-enabled
         * (an exchange under way is not told 103: nobody left) */
        end_subscriptions_to(p, false);
        disable_streams(old);
        mpeer_free(old);
    }
    int max = p->room->settings.max_publishers;
    if (!p->audio && !p->video && max > 0) {
        room_counts n;
        room_count(p->room, p, &n);
        if (n.publishers >= max) {
            sig_error(c, PARLEY_ERR_SESSION_IS_FULL_ERROR_CODE, id,
                      "the room's publisher limit is reached");
            return;
        }
    }
    json_t *sources = json_object_get(msg, "sources");
    if (sources && !json_is_object(sources)) {
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, "sources must map mids to sources");
        return;
    }
    char err[256];
    parley_sdp *offer = NULL;
    if (parley_sdp_parse(text, strlen(text), &offer, err, sizeof err)) {
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, err);
        return;
    }
    mpeer *m = mpeer_new(p, NULL, err, sizeof err);
    if (!m) {
        parley_sdp_free(offer);
        sig_error(c, PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, id, err);
        return;
    }
    const char *addr[1] = {media.advertise};
    parley_sdp_local local;
    local_of(m, &local, addr);
    parley_sdp_answer ans = {0};
    int rc = parley_sdp_answer_build(offer, &local, &ans, err, sizeof err);
    parley_sdp_free(offer);
    if (rc == PARLEY_SDP_ENOMEDIA) {
        sig_error(c, PARLEY_ERR_USER_NOT_STREAMING_ERROR_CODE, id,
                  "the offer sends neither audio nor video");
    } else if (rc) {
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, err);
    } else if (set_remote(m, &ans.remote)) {
        rc = -1;
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, "bad ICE credentials or fingerprint");
    }
    for (size_t i = 0; !rc && i < ans.n_media && m->n < MEDIA_MAX_TRACKS; i++) {
        const parley_sdp_choice *ch = &ans.media[i];
        if (!ch->receiving || !ch->ssrc ||
            (ch->kind != PARLEY_SDP_AUDIO && ch->kind != PARLEY_SDP_VIDEO))
            continue;
        const char *source = track_source(sources, ch->mid, ch->kind);
        for (size_t k = 0; source && k < m->n; k++)
            if (!strcmp(m->t[k].source, source))
                source = NULL; /* one track per source */
        int denied = source ? source_denied(p, source) : 0;
        if (!source || denied) {
            rc = -1;
            char hint[192];
            snprintf(hint, sizeof hint, source ? "the token does not grant %s publishing"
                                               : "sources: mid %s: an unknown source, one of another kind, or one taken",
                     source ? source : ch->mid);
            sig_error(c, source ? denied : PARLEY_ERR_TRANSPORT_ERROR_CODE, id, hint);
            break;
        }
        if (parley_router_add_track(media.router, m->peer, ch->ssrc, ch->kind == PARLEY_SDP_VIDEO))
            continue; /* the SSRC is taken: not forwarded */
        if (ch->kind == PARLEY_SDP_AUDIO && ch->audio_level_id)
            parley_router_track_speaker(media.router, ch->ssrc, ch->audio_level_id, p->room);
        mtrack *t = &m->t[m->n++];
        t->kind = ch->kind;
        snprintf(t->mid, sizeof t->mid, "%s", ch->mid);
        t->ssrc = ch->ssrc;
        t->codec = ch->codec;
        t->source = source;
    }
    if (!rc && !m->n) {
        rc = -1;
        sig_error(c, PARLEY_ERR_USER_NOT_STREAMING_ERROR_CODE, id,
                  "the offer names no SSRC for its audio or video");
    }
    if (rc) {
        parley_sdp_answer_free(&ans);
        mpeer_free(m);
        return;
    }
    bool audio = false, video = false;
    for (size_t i = 0; i < m->n; i++) {
        audio |= m->t[i].kind == PARLEY_SDP_AUDIO;
        video |= m->t[i].kind == PARLEY_SDP_VIDEO;
    }
    candidates_clear(p);
    sig_reply(c, id, json_pack("{s:s}", "sdp", ans.text));
    parley_sdp_answer_free(&ans);
    for (size_t i = 0; i < m->n; i++)
        room_broadcast(p->room, stream_enabled(m, i), p);
    participant_set_media(p, audio, video);
    media_connect_deadline(m);
}

void media_tell_streams(participant *p)
{
    for (mpeer *m = media.peers; m; m = m->next)
        if (!m->target && m->p != p && m->p->room == p->room)
            for (size_t i = 0; i < m->n; i++)
                sig_send(p->conn, stream_enabled(m, i));
}

/* ---- subscribing ---- */

static void answer_timeout(void *arg)
{
    mpeer *m = arg;
    m->timer = NULL;
    tell(m->p, PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, "no subscribe-answer in time");
    mpeer_free(m);
}

/* The member to subscribe to: anyone joined but oneself (102 otherwise). */
static participant *target_of(conn *c, json_t *msg, const char *id)
{
    participant *t = handler_target(c, msg, id, false);
    if (t == c->p) {
        sig_error(c, PARLEY_ERR_USER_NOT_FOUND_ERROR_CODE, id, "no such participant");
        return NULL;
    }
    return t;
}

static uint32_t fresh_ssrc(void)
{
    uint32_t v = 0;
    while (!v)
        if (RAND_bytes((unsigned char *)&v, sizeof v) != 1)
            v = (uint32_t)rand();
    return v;
}

void handle_subscribe(conn *c, json_t *msg, const char *id)
{
    participant *target = target_of(c, msg, id);
    if (!target)
        return;
    mpeer *pub = find(target, NULL);
    if (!pub || !pub->n) {
        sig_error(c, PARLEY_ERR_USER_NOT_STREAMING_ERROR_CODE, id, "the participant publishes nothing");
        return;
    }
    mpeer *old = find(c->p, target);
    if (old && !old->stale) {
        sig_error(c, PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, id,
                  "already subscribed, or the exchange is under way");
        return;
    }
    if (old) /* subscribed over a connection since replaced: replaced */
        mpeer_free(old);
    char err[256];
    mpeer *m = mpeer_new(c->p, target, err, sizeof err);
    if (!m) {
        sig_error(c, PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, id, err);
        return;
    }
    m->n = pub->n;
    for (size_t i = 0; i < pub->n; i++) {
        const mtrack *t = &pub->t[i];
        m->t[i] = *t;
        snprintf(m->mids[i], sizeof m->mids[i], "%zu", i);
        snprintf(m->track_ids[i], sizeof m->track_ids[i], "%s", t->mid);
        m->out_ssrc[i] = fresh_ssrc();
        m->st[i] = (parley_sdp_track){
            .kind = t->kind, .mid = m->mids[i], .stream_id = target->id,
            .track_id = m->track_ids[i], .cname = target->id, .pt = t->codec.pt,
            .codec = t->codec.name, .fmtp = t->codec.fmtp[0] ? t->codec.fmtp : NULL,
            .ssrc = m->out_ssrc[i]};
    }
    const char *addr[1] = {media.advertise};
    parley_sdp_local local;
    local_of(m, &local, addr);
    char *offer = NULL;
    size_t len = 0;
    if (parley_sdp_offer_build(&local, m->st, m->n, &offer, &len, err, sizeof err)) {
        mpeer_free(m);
        sig_error(c, PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, id, err);
        return;
    }
    m->timer = ptimer_start((uint64_t)server.cfg.sdp_timeout * 1000, answer_timeout, m);
    sig_reply(c, id, NULL);
    json_t *tracks = json_array();
    for (size_t i = 0; i < m->n; i++)
        json_array_append_new(tracks, json_pack("{s:s, s:s, s:s, s:s}", "mid", m->mids[i], "kind",
                                                parley_sdp_kind_name(m->t[i].kind), "source",
                                                m->t[i].source, "trackId", m->track_ids[i]));
    sig_send(c, json_pack("{s:s, s:s, s:s, s:o}", "type", "subscribe-offer", "participantId",
                          target->id, "sdp", offer, "tracks", tracks));
    free(offer);
}

void handle_subscribe_answer(conn *c, json_t *msg, const char *id)
{
    const char *pid, *text;
    if (!sig_string(c, msg, id, "participantId", true, &pid) ||
        !sig_string(c, msg, id, "sdp", true, &text))
        return;
    participant *target = room_member(c->p->room, pid);
    mpeer *m = target ? find(c->p, target) : NULL;
    if (!m || m->answered || m->ended) {
        sig_error(c, PARLEY_ERR_USER_NOT_STREAMING_ERROR_CODE, id, "no subscribe-offer to answer");
        return;
    }
    char err[256];
    parley_sdp *ans = NULL;
    bool accepted[MEDIA_MAX_TRACKS] = {0};
    if (parley_sdp_parse(text, strlen(text), &ans, err, sizeof err) ||
        parley_sdp_answer_check(m->st, m->n, ans, accepted, err, sizeof err) ||
        !ans->n_media || set_remote(m, &ans->media[0].transport)) {
        parley_sdp_free(ans);
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, err[0] ? err : "bad answer");
        return;
    }
    parley_sdp_free(ans);
    ptimer_cancel(m->timer);
    m->timer = NULL;
    m->answered = true;
    media_connect_deadline(m);
    for (size_t i = 0; i < m->n; i++)
        if (accepted[i])
            parley_router_subscribe(media.router, m->peer, m->t[i].ssrc, m->out_ssrc[i]);
    candidates_clear(c->p);
    sig_reply(c, id, NULL);
}

void handle_unsubscribe(conn *c, json_t *msg, const char *id)
{
    participant *target = target_of(c, msg, id);
    if (!target)
        return;
    mpeer *m = find(c->p, target);
    if (m)
        mpeer_free(m);
    sig_reply(c, id, NULL);
}

void handle_candidate(conn *c, json_t *msg, const char *id)
{
    if (!json_object_get(msg, "candidate")) {
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, "candidate");
        return;
    }
    mcand *k = media.cands;
    while (k && k->p != c->p)
        k = k->next;
    if (!k) {
        if (!(k = calloc(1, sizeof *k))) {
            sig_error(c, PARLEY_ERR_USER_GENERIC_ERROR_CODE, id, "out of memory");
            return;
        }
        k->p = c->p;
        k->next = media.cands;
        media.cands = k;
    }
    if (k->n >= MEDIA_MAX_CANDIDATES) {
        sig_error(c, PARLEY_ERR_USER_GENERIC_ERROR_CODE, id, "more than 64 pending candidates");
        return;
    }
    k->n++;
    sig_reply(c, id, NULL);
}
