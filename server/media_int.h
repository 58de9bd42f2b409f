/* media_int.h - what server/media*.c share; not for use elsewhere.
 *
 * The media glue's state (the port, the certificate, the router, the peers
 * and the trickled candidates) and the helpers its files call one another
 * through. media.c owns the state and the publications, media_sub.c the
 * subscriptions, media_fail.c the ends of peers: a participant leaving,
 * unpublishing or reconnecting, and transports that fail or time out. */
#ifndef PARLEYD_MEDIA_INT_H
#define PARLEYD_MEDIA_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handlers.h"
#include "log.h"
#include "media.h"
#include "peer.h"
#include "room.h"
#include "router.h"
#include "sdp.h"
#include "server.h"
#include "timer.h"

#define MEDIA_MAX_TRACKS 8       /* tracks one publisher may register */
#define MEDIA_MAX_CANDIDATES 64  /* trickled candidates held per participant */
#define PENDING_UFRAG "pend"     /* remote credentials until a subscriber answers */
#define PENDING_PWD "pendingpendingpendingpend"

typedef struct mtrack {
    parley_sdp_kind kind;
    char mid[PARLEY_SDP_TOKEN_LEN];
    uint32_t ssrc;      /* simulcast: the router's id of the track */
    size_t layers;      /* simulcast layers, lowest first; 0: none */
    char rids[PARLEY_SDP_MAX_LAYERS][PARLEY_SDP_TOKEN_LEN]; /* their rids */
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
    size_t n_mlines; /* publications: the offer's m-lines (ICE restart) */
    /* subscriptions: the offer's tracks, its strings, the answer timer */
    parley_sdp_track st[MEDIA_MAX_TRACKS];
    char mids[MEDIA_MAX_TRACKS][24];
    char track_ids[MEDIA_MAX_TRACKS][PARLEY_SDP_TOKEN_LEN];
    uint32_t out_ssrc[MEDIA_MAX_TRACKS];
    bool answered;
    bool restarting; /* subscriptions: an ICE restart's offer awaits its answer */
    bool stale;      /* made over a connection p has since replaced (reconnect) */
    bool connecting; /* timer is the deadline for ICE (media_connect_deadline) */
    bool ended;      /* the peer failed: timer is its end (media_peer_ended) */
    ptimer *timer;
    /* the remote's ICE ufrag and fingerprint, as last set (ICE restart) */
    char remote_ufrag[PARLEY_SDP_ICE_LEN + 1];
    char remote_fp[PARLEY_SDP_TEXT_LEN + 32];
} mpeer;

/* Trickled candidates per participant: only counted (ICE-lite). */
typedef struct mcand {
    struct mcand *next;
    participant *p;
    int n;
} mcand;

typedef struct media_state {
    parley_udp *udp;
    parley_cert *cert;
    parley_router *router;
    mpeer *peers;
    mcand *cands;
    char advertise[256];
} media_state;

extern media_state media;

/* media.c */
mpeer *mpeer_new(participant *p, participant *target, char *err, size_t errlen);
void mpeer_free(mpeer *m);
/* The publication of p (target NULL) or p's subscription to target. */
mpeer *media_find(const participant *p, const participant *target);
void media_local_of(const mpeer *m, parley_sdp_local *l, const char *const *addr);
int media_set_remote(mpeer *m, const parley_sdp_transport *t);
/* Whether t has the fingerprint m's DTLS association was made with. */
bool media_same_fingerprint(const mpeer *m, const parley_sdp_transport *t);
void media_candidates_clear(const participant *p);
/* An error to p outside any request (p may be disconnected). */
void media_tell(participant *p, int code, const char *hint);
json_t *media_stream_enabled(const mpeer *m, size_t i);
/* A random nonzero 32-bit number: outgoing SSRCs, simulcast ids. */
uint32_t media_fresh_ssrc(void);

/* media_fail.c */
void media_end_subscriptions_to(participant *pub, bool left);
void media_disable_streams(mpeer *pub);
void media_peer_ended(void *arg);
void media_connect_deadline(mpeer *m);

#endif
