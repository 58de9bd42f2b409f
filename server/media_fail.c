/* media_fail.c - how media peers end: a participant leaving, unpublishing
 * or coming back over a new connection (its exchanges ended or marked
 * stale), and transports that fail (ICE not in time, consent lost, DTLS)
 * ended from a timer as if unsubscribed or unpublished, with 303. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media_int.h"

/* End every subscription to publisher pub; the exchanges still under way
 * are told 103. */
void media_end_subscriptions_to(participant *pub, bool left)
{
    mpeer *m = media.peers;
    while (m) {
        mpeer *next = m->next;
        if (m->target == pub) {
            if (left && !m->answered)
                media_tell(m->p, PARLEY_ERR_USER_CLOSED_ERROR_CODE,
                           "the publisher left during the exchange");
            mpeer_free(m);
            next = media.peers; /* the list changed */
        }
        m = next;
    }
}

void media_disable_streams(mpeer *pub)
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
    mpeer *pub = media_find(p, NULL);
    if (!pub)
        return;
    media_end_subscriptions_to(p, true);
    if (!server.stopping)
        media_disable_streams(pub);
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
    media_candidates_clear(p);
}

void media_participant_reconnected(participant *p)
{
    /* The client cannot know which exchanges of the old connection
     * completed: a subscription still waiting for its answer (or for the
     * answer to an ICE restart's offer) ends (its offer may be lost), the
     * completed ones carry on but are stale, so
     * that a new publish-offer or subscribe replaces them instead of
     * answering 303. Then p is told the streams to subscribe to. */
    mpeer *m = media.peers;
    while (m) {
        mpeer *next = m->next;
        if (m->p == p && m->target && (!m->answered || m->restarting)) {
            mpeer_free(m);
            next = media.peers;
        } else if (m->p == p) {
            m->stale = true;
        }
        m = next;
    }
    media_candidates_clear(p);
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
    media_tell(p, PARLEY_ERR_MEDIA_ENDPOINT_ERROR_CODE, text);
    if (m->target) {
        mpeer_free(m);
        return;
    }
    media_unpublish(p);
    participant_set_media(p, false, false);
}

void media_peer_ended(void *arg)
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
void media_connect_deadline(mpeer *m)
{
    if (m->ended || parley_peer_get_state(m->peer) != PARLEY_PEER_CONNECTING)
        return;
    ptimer_cancel(m->timer);
    m->connecting = true;
    m->timer = ptimer_start((uint64_t)server.cfg.media_timeout * 1000, connect_timeout, m);
}
