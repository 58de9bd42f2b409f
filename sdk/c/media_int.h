/* media_int.h - what media.c (the publication, the glue) and media_rx.c (the
 * subscriptions) share; not installed. Loop thread only. */
#ifndef PARLEY_SDK_MEDIA_INT_H
#define PARLEY_SDK_MEDIA_INT_H

#include <strings.h>

#include "internal.h"
#include "sdp.h"

/* A random non-zero 32-bit value (SSRCs, ids). */
uint32_t media_random32(void);
/* Emit media-state-changed: state, participantId (NULL: the publication), hint. */
void media_emit_state(parley_meeting *m, parley_meeting_state s, const char *participant_id, const char *hint);
/* The same with `tracks` (taken; NULL: none), a subscription's final counters. */
void media_emit_state_tracks(parley_meeting *m, parley_meeting_state s, const char *participant_id,
                             const char *hint, json_t *tracks);
/* The server's UDP candidate in its SDP; false when there is none. */
bool media_candidate(const parley_sdp *sdp, const char **addr, uint16_t *port);
/* The transport of the first m-line with ICE credentials (else the session's). */
const parley_sdp_transport *media_transport(const parley_sdp *sdp);

/* media_rx.c */
void media_rx_on_message(parley_meeting *m, const char *type, json_t *msg, const char *request, const char *id);
void media_rx_teardown(parley_meeting *m, bool emit);

#endif
