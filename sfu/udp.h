/* udp.h - the SFU's one UDP port: every peer's ICE, DTLS and RTP/RTCP
 * arrive on it and leave from it.
 *
 * Design. One uv_udp_t bound to the configured address (IPv4 or IPv6; "::"
 * takes IPv4 too, as v4-mapped addresses, which are shown to peers and
 * callbacks as plain IPv4). Datagrams are demultiplexed by their first byte
 * (RFC 7983): 0-3 STUN, 20-63 DTLS, 128-191 RTP/RTCP, anything else is
 * dropped and counted. A peer is found by the remote address (a hash table);
 * an address joins the table only after a valid ICE check from it, found the
 * first time through the STUN USERNAME's local ufrag (a second table). DTLS
 * and RTP from addresses not in the table are dropped and counted, as are
 * garbage and STUN that fails to parse: nothing from the network can crash
 * or stall the loop.
 *
 * Threads: everything runs on the loop thread; no function may be called
 * from another thread. Buffers: one receive buffer per port, reused; the
 * callbacks' data is valid only during the callback. Sending from inside
 * one of the port's callbacks copies the datagram into the port's queue,
 * sent with sendmmsg when the callback returns (Linux); elsewhere it uses
 * uv_udp_try_send at once. Either way a full socket buffer drops the
 * datagram and counts it, as media would be lost anyway.
 *
 * Ownership: the owner creates and destroys the port and its peers; a peer
 * owns its ICE agent (reach it with parley_udp_peer_ice to read credentials
 * and set the remote ones). parley_udp_close closes the handle, frees every
 * peer left and frees the port once libuv has let go of it; it must not be
 * called from inside one of the port's callbacks (parley_udp_peer_remove
 * may be: the peer is then freed when the callback has returned). The advertised
 * address (NAT deployments) is only carried here, for the SDP module. */
#ifndef PARLEY_SFU_UDP_H
#define PARLEY_SFU_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "ice.h"

#define PARLEY_UDP_ADDRS_PER_PEER 8 /* learned addresses kept per peer */

typedef struct parley_udp parley_udp;
typedef struct parley_udp_peer parley_udp_peer;

typedef struct parley_udp_config {
    const char *bind_address;       /* "0.0.0.0", "::", "127.0.0.1", ... */
    uint16_t port;                  /* 0: any free port (tests) */
    const char *advertised_address; /* for the SDP candidates; NULL: none */
} parley_udp_config;

/* Datagrams for a peer's owner; data is valid only during the call. */
typedef struct parley_udp_callbacks {
    void (*on_dtls)(parley_udp_peer *p, void *owner, const uint8_t *data, size_t len);
    void (*on_rtp)(parley_udp_peer *p, void *owner, const uint8_t *data, size_t len);
    void (*on_state)(parley_udp_peer *p, void *owner, parley_ice_state state);
} parley_udp_callbacks;

typedef struct parley_udp_counters {
    uint64_t received, sent;
    uint64_t stun, dtls, rtp;           /* delivered by kind */
    uint64_t drop_garbage;              /* first byte outside RFC 7983 ranges, or empty */
    uint64_t drop_unknown_peer;         /* DTLS/RTP from an address not in the table */
    uint64_t drop_bad_stun;             /* STUN that did not parse */
    uint64_t drop_unknown_ufrag;        /* STUN whose USERNAME names no peer */
    uint64_t stun_rejected;             /* checks answered with an error */
    uint64_t stun_ignored;              /* responses, indications, failed agents */
    uint64_t send_errors;               /* try_send refused (buffer full, ...) */
} parley_udp_counters;

/* Bind and start receiving on loop. NULL on failure, with a reason in err. */
parley_udp *parley_udp_open(uv_loop_t *loop, const parley_udp_config *cfg,
                            const parley_udp_callbacks *cb, char *err, size_t errlen);
/* Stop, free all peers (no callbacks), free the port after the handle closes. */
void parley_udp_close(parley_udp *u);
/* The bound port (useful with port 0) and the advertised address (or NULL). */
uint16_t parley_udp_port(const parley_udp *u);
const char *parley_udp_advertised(const parley_udp *u);
void parley_udp_get_counters(const parley_udp *u, parley_udp_counters *out);
/* The socket's receive and send buffer sizes as the kernel reports them
 * (Linux: twice what was granted); 0 when unknown. */
void parley_udp_buffer_sizes(const parley_udp *u, int *recv, int *send);

/* A new peer with its own ICE agent; owner is handed back in callbacks. */
parley_udp_peer *parley_udp_peer_add(parley_udp *u, void *owner);
/* Forget a peer: its addresses, its ufrags, its agent. NULL is fine. */
void parley_udp_peer_remove(parley_udp *u, parley_udp_peer *p);
parley_ice_agent *parley_udp_peer_ice(parley_udp_peer *p);
/* ICE restart through the port, so the new ufrag is found. */
int parley_udp_peer_restart(parley_udp *u, parley_udp_peer *p);
/* Send to the peer's selected address; -1 when none or the send failed. */
int parley_udp_send(parley_udp *u, parley_udp_peer *p, const uint8_t *data, size_t len);

#endif
