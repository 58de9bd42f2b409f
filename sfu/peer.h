/* peer.h - one WebRTC transport on the SFU side: the ICE-lite agent, the DTLS
 * server endpoint and the SRTP sessions of one browser or SDK connection,
 * attached to the SFU's one UDP port.
 *
 * Design. The port (udp.h) demultiplexes datagrams and finds the peer by the
 * sender's address; open it with parley_peer_udp_callbacks so that a peer's
 * DTLS and RTP datagrams reach it. DTLS datagrams go to the endpoint (the SFU
 * is always the server, a=setup:passive) and what it writes leaves through
 * the port to the ICE-selected address. When the handshake completes the
 * SRTP sessions are made from the exported keys; from then on inbound SRTP
 * and SRTCP are unprotected into the peer's own buffer and handed to the
 * owner, and the owner's RTP and RTCP are protected in place and sent.
 * Media that arrives before the keys, or fails to unprotect, is dropped and
 * counted by reason. The DTLS retransmission timer is the peer's uv_timer;
 * ICE consent is ticked by the port's own timer.
 *
 * States (reported to the owner on change): connecting from creation,
 * connected once the keys exist, failed when ICE consent is lost or the
 * handshake fails (bad fingerprint, timeout, SRTP setup), closed when the
 * owner closes it or the remote sends close_notify. Failed and closed are
 * final.
 *
 * Threads: everything on the loop thread. No allocation per packet: one
 * receive buffer per peer, reused.
 *
 * Ownership: the owner creates and frees the peer; the peer borrows the
 * loop, the port and the certificate (all must outlive it) and owns its UDP
 * peer entry, DTLS endpoint, SRTP sessions and timer. parley_peer_free may
 * be called from the owner's RTP/RTCP callbacks but not from on_state (which
 * runs inside the DTLS endpoint); it must be called before the port is
 * closed. The memory goes once libuv has closed the timer. Packets handed to
 * the callbacks are the peer's buffer, writable, valid during the call. */
#ifndef PARLEY_SFU_PEER_H
#define PARLEY_SFU_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "cert.h"
#include "udp.h"

#define PARLEY_PEER_BUFFER 2048 /* largest SRTP/SRTCP datagram accepted */

typedef struct parley_peer parley_peer;

typedef enum parley_peer_state {
    PARLEY_PEER_CONNECTING = 0, /* ICE and DTLS under way */
    PARLEY_PEER_CONNECTED,      /* SRTP keys in place: media flows */
    PARLEY_PEER_FAILED,         /* consent lost or handshake failed */
    PARLEY_PEER_CLOSED,         /* closed by the owner or by the remote */
} parley_peer_state;

typedef struct parley_peer_callbacks {
    void (*on_state)(parley_peer *p, void *arg, parley_peer_state state);
    void (*on_rtp)(parley_peer *p, void *arg, uint8_t *pkt, size_t len);  /* plain RTP */
    void (*on_rtcp)(parley_peer *p, void *arg, uint8_t *pkt, size_t len); /* plain compound RTCP */
    void *arg;
} parley_peer_callbacks;

typedef struct parley_peer_config {
    const parley_cert *cert;        /* the SFU's certificate; borrowed */
    const char *remote_fingerprint; /* "sha-256 AB:..." from the remote SDP */
    const char *remote_ufrag;       /* the remote ICE credentials */
    const char *remote_pwd;
    unsigned handshake_timeout_ms;  /* 0: the DTLS default */
} parley_peer_config;

typedef struct parley_peer_counters {
    uint64_t rtp_in, rtcp_in, rtp_out, rtcp_out;
    uint64_t dtls_in;
    uint64_t drop_not_ready;   /* media before the SRTP keys, or after the end */
    uint64_t drop_oversize;    /* larger than PARLEY_PEER_BUFFER */
    uint64_t unprotect_truncated, unprotect_auth, unprotect_replay, unprotect_other;
    uint64_t send_errors;      /* protect refused or no selected address */
} parley_peer_counters;

/* The callbacks to open the UDP port with so that datagrams reach peers. */
extern const parley_udp_callbacks parley_peer_udp_callbacks;

/* A new peer on port u with the remote credentials and fingerprint; NULL
 * with err on failure. */
parley_peer *parley_peer_new(uv_loop_t *loop, parley_udp *u, const parley_peer_config *cfg,
                             const parley_peer_callbacks *cb, char *err, size_t errlen);
/* Leave the port and free everything (the memory once the timer has closed).
 * No callback. NULL is fine. */
void parley_peer_free(parley_peer *p);
/* Send close_notify and go closed (reported). */
void parley_peer_close(parley_peer *p);
/* The local ICE credentials and certificate fingerprint for the SDP. */
const char *parley_peer_local_ufrag(const parley_peer *p);
const char *parley_peer_local_pwd(const parley_peer *p);
const char *parley_peer_fingerprint(const parley_peer *p);
parley_peer_state parley_peer_get_state(const parley_peer *p);
/* True once ICE has selected the remote's address (DTLS may still be under way). */
bool parley_peer_ice_selected(const parley_peer *p);
const char *parley_peer_state_name(parley_peer_state s);
/* Protect pkt[0..len) in place (cap bytes of room: len plus
 * PARLEY_PEER_SEND_ROOM suffices) and send it to the selected address.
 * 0, or -1 when not connected or the protect/send failed (counted). */
#define PARLEY_PEER_SEND_ROOM 32
int parley_peer_send_rtp(parley_peer *p, uint8_t *pkt, size_t len, size_t cap);
int parley_peer_send_rtcp(parley_peer *p, uint8_t *pkt, size_t len, size_t cap);
/* Replace the remote ICE credentials and fingerprint given at creation (an
 * offer made before the remote's answer). 0, or -1 when refused. */
int parley_peer_set_remote(parley_peer *p, const char *ufrag, const char *pwd,
                           const char *fingerprint);
/* ICE restart: new local ICE credentials (the old ones still answered
 * until the remote uses the new) and the remote's new ufrag and pwd (NULL
 * ufrag: they come later through parley_peer_set_remote). DTLS and SRTP
 * carry on, as does the selected address until checks move it. 0, or -1
 * when refused (bad credentials, the peer failed or closed). */
int parley_peer_restart_ice(parley_peer *p, const char *ufrag, const char *pwd);
void parley_peer_get_counters(const parley_peer *p, parley_peer_counters *out);

#endif
