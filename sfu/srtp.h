/* srtp.h - SRTP and SRTCP for one peer, keyed from its DTLS handshake.
 *
 * A parley_srtp holds two libsrtp2 sessions: outbound (protects what the SFU
 * sends, with this endpoint's write key) and inbound (unprotects what the
 * peer sends, with the peer's write key). RTP and RTCP share them (rtcp-mux);
 * any SSRC is accepted in either direction. libsrtp keeps a replay window per
 * SSRC (its default, 128 packets) for SRTP and SRTCP.
 *
 * Everything works in place. Protecting needs room behind the packet for the
 * trailer: parley_srtp_rtp_overhead / parley_srtp_rtcp_overhead bytes (10 or
 * 16 for RTP, 14 or 20 for RTCP, by profile); a buffer without it is refused
 * with PARLEY_SRTP_NO_ROOM, never overrun. Unprotecting shortens *len. A
 * packet that is truncated, malformed, tampered with or replayed is refused
 * with its status, counted, and left unusable; it is never a crash.
 *
 * libsrtp is initialised once per process on first use (guarded by a mutex);
 * parley_srtp_global_shutdown releases it when no session is left (tests and
 * orderly exits call it to keep LeakSanitizer quiet).
 *
 * Ownership: a parley_srtp owns its two libsrtp sessions and a copy of the
 * keys; parley_srtp_free releases them (NULL is fine). A session is used by
 * one thread at a time; different sessions may be used concurrently. */
#ifndef PARLEY_SFU_SRTP_H
#define PARLEY_SFU_SRTP_H

#include <stddef.h>
#include <stdint.h>

#include "dtls.h"

typedef enum parley_srtp_status {
    PARLEY_SRTP_OK = 0,
    PARLEY_SRTP_INVALID = -1,   /* bad arguments, or not an RTP/RTCP packet */
    PARLEY_SRTP_NO_ROOM = -2,   /* protect: the buffer cannot hold the trailer */
    PARLEY_SRTP_TRUNCATED = -3, /* unprotect: shorter than header + trailer */
    PARLEY_SRTP_AUTH = -4,      /* authentication failed (tampered, wrong key) */
    PARLEY_SRTP_REPLAY = -5,    /* replayed, or too old for the window */
    PARLEY_SRTP_ERROR = -6,     /* anything else libsrtp refused */
} parley_srtp_status;

typedef struct parley_srtp_stats {
    uint64_t protected_rtp, protected_rtcp;
    uint64_t unprotected_rtp, unprotected_rtcp;
    uint64_t rejected_truncated, rejected_auth, rejected_replay, rejected_other;
} parley_srtp_stats;

typedef struct parley_srtp parley_srtp;

/* Sessions from the keys a DTLS endpoint exported (its local key protects,
 * its remote key unprotects). NULL with err on failure. */
parley_srtp *parley_srtp_new(const parley_dtls_keys *keys, char *err, size_t errlen);
void parley_srtp_free(parley_srtp *s);

/* Protect the packet of *len bytes in buf (cap bytes of room) in place;
 * *len grows by the overhead. */
parley_srtp_status parley_srtp_protect_rtp(parley_srtp *s, uint8_t *buf, size_t *len, size_t cap);
parley_srtp_status parley_srtp_protect_rtcp(parley_srtp *s, uint8_t *buf, size_t *len,
                                            size_t cap);
/* Verify and decrypt in place; *len shrinks to the plain packet. On failure
 * the buffer's content is unspecified and *len unchanged. */
parley_srtp_status parley_srtp_unprotect_rtp(parley_srtp *s, uint8_t *buf, size_t *len);
parley_srtp_status parley_srtp_unprotect_rtcp(parley_srtp *s, uint8_t *buf, size_t *len);

size_t parley_srtp_rtp_overhead(const parley_srtp *s);
size_t parley_srtp_rtcp_overhead(const parley_srtp *s);
void parley_srtp_get_stats(const parley_srtp *s, parley_srtp_stats *out);
const char *parley_srtp_status_name(parley_srtp_status st);

/* libsrtp's process-wide state: init is implicit in parley_srtp_new and
 * idempotent; shutdown only acts when no session exists. Return 0 or -1. */
int parley_srtp_global_init(void);
int parley_srtp_global_shutdown(void);

#endif
