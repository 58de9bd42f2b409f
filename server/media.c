/* media.c - parleyd's media glue (see media.h): the port, the certificate,
 * the router and the peers' callbacks into it, the peer list, and the
 * publications (publish-offer, stream-enabled, trickled candidates).
 * Subscriptions are in media_sub.c, the ends of peers in media_fail.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#include "cert.h"
#include "media_int.h"
#include "srtp.h"
#include "token.h"
#include "udp.h"

media_state media;

uint32_t media_fresh_ssrc(void)
{
    uint32_t v = 0;
    while (!v)
        if (RAND_bytes((unsigned char *)&v, sizeof v) != 1)
            v = (uint32_t)rand();
    return v;
}

/* ---- the core ---- */

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
        m->timer = ptimer_start(0, media_peer_ended, m);
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
    int rcvbuf, sndbuf;
    parley_udp_buffer_sizes(media.udp, &rcvbuf, &sndbuf);
    parley_log(PARLEY_LOG_INFO, NULL, "media port %d: socket buffers %d bytes receive, %d send",
               (int)parley_udp_port(media.udp), rcvbuf, sndbuf);
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

void mpeer_free(mpeer *m)
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

mpeer *mpeer_new(participant *p, participant *target, char *err, size_t errlen)
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

void media_local_of(const mpeer *m, parley_sdp_local *l, const char *const *addr)
{
    memset(l, 0, sizeof *l);
    l->ice_ufrag = parley_peer_local_ufrag(m->peer);
    l->ice_pwd = parley_peer_local_pwd(m->peer);
    l->fingerprint = parley_peer_fingerprint(m->peer);
    l->addresses = addr;
    l->n_addresses = 1;
    l->port = (uint16_t)media_port();
}

int media_set_remote(mpeer *m, const parley_sdp_transport *t)
{
    char fp[PARLEY_SDP_TEXT_LEN + 32];
    snprintf(fp, sizeof fp, "%s %s", t->fingerprint_alg, t->fingerprint);
    if (parley_peer_set_remote(m->peer, t->ice_ufrag, t->ice_pwd, fp))
        return -1;
    snprintf(m->remote_ufrag, sizeof m->remote_ufrag, "%s", t->ice_ufrag);
    snprintf(m->remote_fp, sizeof m->remote_fp, "%s", fp);
    return 0;
}

bool media_same_fingerprint(const mpeer *m, const parley_sdp_transport *t)
{
    char fp[PARLEY_SDP_TEXT_LEN + 32];
    snprintf(fp, sizeof fp, "%s %s", t->fingerprint_alg, t->fingerprint);
    return !strcasecmp(fp, m->remote_fp);
}

mpeer *media_find(const participant *p, const participant *target)
{
    for (mpeer *m = media.peers; m; m = m->next)
        if (m->p == p && m->target == target)
            return m;
    return NULL;
}

void media_candidates_clear(const participant *p)
{
    for (mcand **pp = &media.cands; *pp; pp = &(*pp)->next)
        if ((*pp)->p == p) {
            mcand *k = *pp;
            *pp = k->next;
            free(k);
            return;
        }
}

void media_tell(participant *p, int code, const char *hint)
{
    if (p->conn)
        sig_error(p->conn, code, NULL, hint);
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
json_t *media_stream_enabled(const mpeer *m, size_t i)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "type", "stream-enabled", "participantId",
                     m->p->id, "kind", parley_sdp_kind_name(m->t[i].kind), "trackId", m->t[i].mid,
                     "source", m->t[i].source);
}

/* Whether the offer's answer ans receives the tracks of publication m:
 * the same m-lines, and on them the same mids, kinds, codecs, SSRCs (or
 * simulcast layers' rids) and sources. */
static bool same_tracks(const mpeer *m, const parley_sdp_answer *ans, json_t *sources)
{
    if (ans->n_media != m->n_mlines)
        return false;
    size_t k = 0;
    for (size_t i = 0; i < ans->n_media; i++) {
        const parley_sdp_choice *ch = &ans->media[i];
        if (!ch->receiving || (!ch->ssrc && !ch->n_layers) ||
            (ch->kind != PARLEY_SDP_AUDIO && ch->kind != PARLEY_SDP_VIDEO))
            continue;
        if (k >= m->n)
            return false;
        const mtrack *t = &m->t[k++];
        const char *source = track_source(sources, ch->mid, ch->kind);
        if (t->kind != ch->kind || strcmp(t->mid, ch->mid) || t->layers != ch->n_layers ||
            (!ch->n_layers && t->ssrc != ch->ssrc) || t->codec.pt != ch->codec.pt ||
            strcasecmp(t->codec.name, ch->codec.name) || !source || strcmp(source, t->source))
            return false;
        for (size_t l = 0; l < t->layers; l++)
            if (strcmp(t->rids[l], ch->layers[l]))
                return false;
    }
    return k == m->n;
}

/* A publish-offer from a participant who publishes already is an ICE
 * restart when it offers the same tracks (same_tracks) with the fingerprint
 * of the DTLS association and a new ice-ufrag: the peer gets new local
 * credentials and the offer's, and the answer is built as the first was.
 * DTLS, SRTP, the router's tracks and the subscriptions carry on; nobody
 * is told anything. False, with nothing sent, when the offer is not one. */
static bool publish_restart(conn *c, mpeer *m, json_t *msg, const char *text, const char *id)
{
    json_t *sources = json_object_get(msg, "sources");
    if (m->ended || (sources && !json_is_object(sources)))
        return false;
    char err[256];
    parley_sdp *offer = NULL;
    if (parley_sdp_parse(text, strlen(text), &offer, err, sizeof err))
        return false;
    const char *addr[1] = {media.advertise};
    parley_sdp_local local;
    media_local_of(m, &local, addr);
    parley_sdp_answer ans = {0};
    bool restart = parley_sdp_answer_build(offer, &local, &ans, err, sizeof err) == 0 &&
                   media_same_fingerprint(m, &ans.remote) &&
                   strcmp(ans.remote.ice_ufrag, m->remote_ufrag) != 0 &&
                   same_tracks(m, &ans, sources);
    parley_sdp_transport remote = ans.remote;
    parley_sdp_answer_free(&ans);
    if (!restart) {
        parley_sdp_free(offer);
        return false;
    }
    int rc = parley_peer_restart_ice(m->peer, remote.ice_ufrag, remote.ice_pwd);
    if (rc == 0) {
        media_local_of(m, &local, addr); /* the new local credentials */
        memset(&ans, 0, sizeof ans);
        rc = parley_sdp_answer_build(offer, &local, &ans, err, sizeof err);
    }
    parley_sdp_free(offer);
    if (rc) {
        parley_sdp_answer_free(&ans);
        sig_error(c, PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, id, "the ICE restart was refused");
        return true;
    }
    snprintf(m->remote_ufrag, sizeof m->remote_ufrag, "%s", remote.ice_ufrag);
    m->stale = false;
    parley_log(PARLEY_LOG_INFO, NULL, "media peer of %s: ICE restart", m->p->id);
    media_candidates_clear(m->p);
    sig_reply(c, id, json_pack("{s:s}", "sdp", ans.text));
    parley_sdp_answer_free(&ans);
    media_connect_deadline(m); /* restarted before it ever connected */
    return true;
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
    json_t *restart = json_object_get(msg, "iceRestart");
    if (restart && !json_is_boolean(restart)) {
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, "iceRestart must be true or false");
        return;
    }
    mpeer *old = media_find(p, NULL);
    if (old && publish_restart(c, old, msg, text, id))
        return;
    if (json_is_true(restart)) {
        /* meant for a publication the server no longer holds, or changed:
         * taken as a new one, it would wait for a DTLS handshake that the
         * client, keeping its association, never starts */
        sig_error(c, PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, id,
                  old ? "not an ICE restart of this participant's publication"
                      : "no publication to restart ICE of");
        return;
    }
    if (old && !old->stale) {
        sig_error(c, PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, id,
                  "this participant already publishes (unpublish first: a live "
                  "publication takes no re-offer but an ICE restart)");
        return;
    }
    if (old) {
        /* published over a connection since replaced: this offer replaces
         * it; subscribers see stream-disabled, then the new stream-enabled
         * (an exchange under way is not told 103: nobody left) */
        media_end_subscriptions_to(p, false);
        media_disable_streams(old);
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
    media_local_of(m, &local, addr);
    parley_sdp_answer ans = {0};
    int rc = parley_sdp_answer_build(offer, &local, &ans, err, sizeof err);
    parley_sdp_free(offer);
    if (rc == PARLEY_SDP_ENOMEDIA) {
        sig_error(c, PARLEY_ERR_USER_NOT_STREAMING_ERROR_CODE, id,
                  "the offer sends neither audio nor video");
    } else if (rc) {
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, err);
    } else if (media_set_remote(m, &ans.remote)) {
        rc = -1;
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, "bad ICE credentials or fingerprint");
    }
    for (size_t i = 0; !rc && i < ans.n_media && m->n < MEDIA_MAX_TRACKS; i++) {
        const parley_sdp_choice *ch = &ans.media[i];
        if (!ch->receiving || (!ch->ssrc && !ch->n_layers) ||
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
        uint32_t ssrc = ch->ssrc;
        if (ch->n_layers) {
            /* simulcast: the layers' SSRCs come with the media (router.h);
             * the track is known by an id of ours */
            const char *rids[PARLEY_SDP_MAX_LAYERS];
            for (size_t k = 0; k < ch->n_layers; k++)
                rids[k] = ch->layers[k];
            ssrc = media_fresh_ssrc();
            if (parley_router_add_simulcast(media.router, m->peer, ssrc, ch->rid_ext_id, rids,
                                            ch->n_layers))
                continue;
        } else if (parley_router_add_track(media.router, m->peer, ssrc, ch->kind == PARLEY_SDP_VIDEO)) {
            continue; /* the SSRC is taken: not forwarded */
        }
        if (ch->kind == PARLEY_SDP_AUDIO && ch->audio_level_id)
            parley_router_track_speaker(media.router, ch->ssrc, ch->audio_level_id, p->room);
        mtrack *t = &m->t[m->n++];
        t->kind = ch->kind;
        snprintf(t->mid, sizeof t->mid, "%s", ch->mid);
        t->ssrc = ssrc;
        t->layers = ch->n_layers;
        for (size_t k = 0; k < ch->n_layers; k++)
            snprintf(t->rids[k], sizeof t->rids[k], "%s", ch->layers[k]);
        t->codec = ch->codec;
        t->source = source;
    }
    m->n_mlines = ans.n_media;
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
    media_candidates_clear(p);
    sig_reply(c, id, json_pack("{s:s}", "sdp", ans.text));
    parley_sdp_answer_free(&ans);
    for (size_t i = 0; i < m->n; i++)
        room_broadcast(p->room, media_stream_enabled(m, i), p);
    participant_set_media(p, audio, video);
    media_connect_deadline(m);
}

/* After joined (or reconnected): every published track of the room, then
 * its active speaker if one has been elected, as the others were told. */
void media_tell_streams(participant *p)
{
    parley_peer *speaker = media.router ? parley_router_speaker(media.router, p->room) : NULL;
    for (mpeer *m = media.peers; m; m = m->next)
        if (!m->target && m->p != p && m->p->room == p->room)
            for (size_t i = 0; i < m->n; i++)
                sig_send(p->conn, media_stream_enabled(m, i));
    for (mpeer *m = media.peers; speaker && m; m = m->next)
        if (m->peer == speaker && !m->target && m->p->room == p->room) {
            sig_send(p->conn, json_pack("{s:s, s:s}", "type", "active-speaker", "participantId", m->p->id));
            break;
        }
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
