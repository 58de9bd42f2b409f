/* media.h - parleyd's media glue: the one UDP port, certificate and router
 * of the media core (sfu/), and the WebRTC exchanges of signaling
 * (docs/protocol.md: publish-offer, subscribe, subscribe-answer,
 * unsubscribe, set-layer, candidate).
 *
 * Peers: one SFU peer per publishing participant (it receives that
 * participant's tracks) and one per subscription (it sends one publisher's
 * tracks to one subscriber), so every SDP exchange stands alone: a
 * publisher's offer is answered by parley_sdp_answer_build, a subscription
 * is offered by parley_sdp_offer_build and its answer checked by
 * parley_sdp_answer_check.
 *
 * Ownership: media.c owns the port, the certificate, the router and every
 * peer. A participant's peers go when it leaves (media_participant_gone,
 * called by room.c) and all of them at shutdown (media_stop). */
#ifndef PARLEYD_MEDIA_H
#define PARLEYD_MEDIA_H

#include <stddef.h>

#include <jansson.h>

#include "signaling.h"

struct participant;

/* Open the port, make the certificate and the router. 0, or -1 with err. */
int media_start(char *err, size_t errlen);
/* The bound UDP port and the advertised address. */
int media_port(void);
const char *media_advertised(void);
/* Free every peer, the router, the port and the certificate. */
void media_stop(void);

/* p leaves the meeting: its peers go, its subscribers are told. */
void media_participant_gone(struct participant *p);
/* Tell a participant who just joined about every stream already published
 * in its room (stream-enabled, as the others got when it was published),
 * then who the active speaker is, if one has been elected. */
void media_tell_streams(struct participant *p);
/* p stops publishing: stream-disabled to the others, its subscriptions end. */
void media_unpublish(struct participant *p);
/* p took its place back over a new connection (`reconnect`): its
 * subscriptions still waiting for an answer end, its completed exchanges
 * carry on but become stale (a new publish-offer or subscribe replaces
 * them rather than answering 303), then p is told every stream published
 * in its room (stream-enabled) to subscribe again. Call after `joined`. */
void media_participant_reconnected(struct participant *p);

void handle_publish_offer(conn *c, json_t *msg, const char *id);
void handle_subscribe(conn *c, json_t *msg, const char *id);
void handle_subscribe_answer(conn *c, json_t *msg, const char *id);
void handle_unsubscribe(conn *c, json_t *msg, const char *id);
void handle_set_layer(conn *c, json_t *msg, const char *id);
void handle_candidate(conn *c, json_t *msg, const char *id);

#endif
