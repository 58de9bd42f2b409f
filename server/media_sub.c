/* media_sub.c - subscriptions: the SFU's offer to a subscriber
 * (subscribe, subscribe-offer), its answer checked and the tracks routed
 * to the subscription's peer (subscribe-answer), unsubscribe, the
 * simulcast layer a subscription gets (set-layer), and the answer's
 * deadline. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media_int.h"

/* ---- subscribing ---- */

static void answer_timeout(void *arg)
{
    mpeer *m = arg;
    m->timer = NULL;
    media_tell(m->p, PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, "no subscribe-answer in time");
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

/* The subscribe-offer of subscription m to target (its tracks as offered). */
static void send_offer(conn *c, const mpeer *m, const participant *target, const char *offer)
{
    json_t *tracks = json_array();
    for (size_t i = 0; i < m->n; i++) {
        json_t *t = json_pack("{s:s, s:s, s:s, s:s}", "mid", m->mids[i], "kind",
                              parley_sdp_kind_name(m->t[i].kind), "source", m->t[i].source,
                              "trackId", m->track_ids[i]);
        if (m->t[i].layers) /* simulcast: set-layer picks among them */
            json_object_set_new(t, "layers", json_integer((json_int_t)m->t[i].layers));
        json_array_append_new(tracks, t);
    }
    sig_send(c, json_pack("{s:s, s:s, s:s, s:o}", "type", "subscribe-offer", "participantId",
                          target->id, "sdp", offer, "tracks", tracks));
}

/* subscribe with iceRestart: the answered subscription to target gets new
 * local ICE credentials and a new subscribe-offer (the same m-lines);
 * its subscribe-answer brings the client's new credentials. DTLS, SRTP
 * and the routing carry on. */
static void subscribe_restart(conn *c, participant *target, const char *id)
{
    mpeer *m = media_find(c->p, target);
    if (!m || m->ended) {
        sig_error(c, PARLEY_ERR_USER_NOT_FOUND_ERROR_CODE, id, "no subscription to this participant");
        return;
    }
    if (!m->answered || m->restarting) {
        sig_error(c, PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, id, "the exchange is under way");
        return;
    }
    char err[256];
    char *offer = NULL;
    size_t len = 0;
    const char *addr[1] = {media.advertise};
    parley_sdp_local local;
    if (parley_peer_restart_ice(m->peer, NULL, NULL)) {
        sig_error(c, PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, id, "the ICE restart was refused");
        return;
    }
    media_local_of(m, &local, addr);
    if (parley_sdp_offer_build(&local, m->st, m->n, &offer, &len, err, sizeof err)) {
        sig_error(c, PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, id, err);
        mpeer_free(m); /* restarted with no offer to give: ended */
        return;
    }
    parley_log(PARLEY_LOG_INFO, NULL, "media peer of %s from %s: ICE restart", c->p->id, target->id);
    ptimer_cancel(m->timer);
    m->connecting = false;
    m->restarting = true;
    m->stale = false;
    m->timer = ptimer_start((uint64_t)server.cfg.sdp_timeout * 1000, answer_timeout, m);
    sig_reply(c, id, NULL);
    send_offer(c, m, target, offer);
    free(offer);
}

void handle_subscribe(conn *c, json_t *msg, const char *id)
{
    json_t *restart = json_object_get(msg, "iceRestart");
    if (restart && !json_is_boolean(restart)) {
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, "iceRestart must be true or false");
        return;
    }
    participant *target = target_of(c, msg, id);
    if (!target)
        return;
    if (json_is_true(restart)) {
        subscribe_restart(c, target, id);
        return;
    }
    mpeer *pub = media_find(target, NULL);
    if (!pub || !pub->n) {
        sig_error(c, PARLEY_ERR_USER_NOT_STREAMING_ERROR_CODE, id, "the participant publishes nothing");
        return;
    }
    mpeer *old = media_find(c->p, target);
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
        m->out_ssrc[i] = media_fresh_ssrc();
        m->st[i] = (parley_sdp_track){
            .kind = t->kind, .mid = m->mids[i], .stream_id = target->id,
            .track_id = m->track_ids[i], .cname = target->id, .pt = t->codec.pt,
            .codec = t->codec.name, .fmtp = t->codec.fmtp[0] ? t->codec.fmtp : NULL,
            .ssrc = m->out_ssrc[i]};
    }
    const char *addr[1] = {media.advertise};
    parley_sdp_local local;
    media_local_of(m, &local, addr);
    char *offer = NULL;
    size_t len = 0;
    if (parley_sdp_offer_build(&local, m->st, m->n, &offer, &len, err, sizeof err)) {
        mpeer_free(m);
        sig_error(c, PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, id, err);
        return;
    }
    m->timer = ptimer_start((uint64_t)server.cfg.sdp_timeout * 1000, answer_timeout, m);
    sig_reply(c, id, NULL);
    send_offer(c, m, target, offer);
    free(offer);
}

void handle_subscribe_answer(conn *c, json_t *msg, const char *id)
{
    const char *pid, *text;
    if (!sig_string(c, msg, id, "participantId", true, &pid) ||
        !sig_string(c, msg, id, "sdp", true, &text))
        return;
    participant *target = room_member(c->p->room, pid);
    mpeer *m = target ? media_find(c->p, target) : NULL;
    if (!m || (m->answered && !m->restarting) || m->ended) {
        sig_error(c, PARLEY_ERR_USER_NOT_STREAMING_ERROR_CODE, id, "no subscribe-offer to answer");
        return;
    }
    char err[256] = "";
    parley_sdp *ans = NULL;
    bool accepted[MEDIA_MAX_TRACKS] = {0};
    if (parley_sdp_parse(text, strlen(text), &ans, err, sizeof err) ||
        parley_sdp_answer_check(m->st, m->n, ans, accepted, err, sizeof err) || !ans->n_media) {
        parley_sdp_free(ans);
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, err[0] ? err : "bad answer");
        return;
    }
    if (m->restarting && !media_same_fingerprint(m, &ans->media[0].transport)) {
        /* a new DTLS association is a new connection, not an ICE restart */
        parley_sdp_free(ans);
        sig_error(c, PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, id,
                  "the fingerprint changed: not an ICE restart (unsubscribe and subscribe)");
        return;
    }
    if (media_set_remote(m, &ans->media[0].transport)) {
        parley_sdp_free(ans);
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, "bad ICE credentials or fingerprint");
        return;
    }
    parley_sdp_free(ans);
    ptimer_cancel(m->timer);
    m->timer = NULL;
    if (m->restarting) { /* the routing is in place already */
        m->restarting = false;
        media_connect_deadline(m);
        media_candidates_clear(c->p);
        sig_reply(c, id, NULL);
        return;
    }
    m->answered = true;
    media_connect_deadline(m);
    for (size_t i = 0; i < m->n; i++)
        if (accepted[i])
            parley_router_subscribe(media.router, m->peer, m->t[i].ssrc, m->out_ssrc[i]);
    media_candidates_clear(c->p);
    sig_reply(c, id, NULL);
}

void handle_unsubscribe(conn *c, json_t *msg, const char *id)
{
    participant *target = target_of(c, msg, id);
    if (!target)
        return;
    mpeer *m = media_find(c->p, target);
    if (m)
        mpeer_free(m);
    sig_reply(c, id, NULL);
}

/* The layer named by set-layer: "low", "medium", "high" or 0..2; -1 else. */
static int layer_of(json_t *v)
{
    static const char *const names[] = {"low", "medium", "high"};
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 2)
        return (int)json_integer_value(v);
    for (int i = 0; json_is_string(v) && i < 3; i++)
        if (!strcmp(json_string_value(v), names[i]))
            return i;
    return -1;
}

void handle_set_layer(conn *c, json_t *msg, const char *id)
{
    int layer = layer_of(json_object_get(msg, "layer"));
    if (layer < 0) {
        sig_error(c, PARLEY_ERR_TRANSPORT_ERROR_CODE, id, "layer: low, medium or high (or 0, 1, 2)");
        return;
    }
    participant *target = target_of(c, msg, id);
    if (!target)
        return;
    mpeer *m = media_find(c->p, target);
    if (!m || !m->answered) {
        sig_error(c, PARLEY_ERR_USER_NOT_FOUND_ERROR_CODE, id, "no subscription to this participant");
        return;
    }
    int set = 0;
    for (size_t i = 0; i < m->n; i++)
        if (m->t[i].layers && parley_router_set_layer(media.router, m->peer, m->t[i].ssrc, layer) == 0)
            set++;
    if (!set) {
        sig_error(c, PARLEY_ERR_USER_NOT_STREAMING_ERROR_CODE, id,
                  "the subscription receives no simulcast track");
        return;
    }
    sig_reply(c, id, NULL);
}
