/* media_client.h - what the SFU media tests share (test_media_path.c,
 * test_simulcast.c): one uv loop with the SFU's UDP port, certificate and
 * router on 127.0.0.1, and client transports built from the media core in
 * their client roles (ICE controlling: binding requests with USE-CANDIDATE
 * signed with the SFU peer's pwd; DTLS client checking the SFU's
 * fingerprint; SRTP from its keys), each with an SFU peer feeding the
 * router. A client records the RTP it receives (unprotected) and the RTCP
 * the SFU sends it. */
#ifndef PARLEY_TEST_MEDIA_CLIENT_H
#define PARLEY_TEST_MEDIA_CLIENT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "cert.h"
#include "dtls.h"
#include "peer.h"
#include "router.h"
#include "rtcp.h"
#include "srtp.h"

#define PLEN_MAX 600
#define RX_MAX 1024
#define MC_MAX_CLIENTS 4

extern uv_loop_t loop;
extern parley_udp *port;
extern parley_router *router;
extern parley_cert *sfu_cert;
extern struct sockaddr_in sfu_addr;

typedef struct rx_packet {
    uint32_t ssrc, ts;
    uint16_t seq;
    uint8_t pt;
    bool marker;
    size_t plen;
    uint8_t payload[PLEN_MAX];
} rx_packet;

/* The last SR a client got for one SSRC, or RR block, or REMB. */
typedef struct rx_sr {
    bool seen;
    parley_rtcp_sr sr;
} rx_sr;

typedef struct client {
    const char *ufrag, *pwd;
    /* what the test watches for: SRs of two outgoing SSRCs, RR blocks of two
     * published ones, and one packet of drop_ssrc lost (the drop_at-th) */
    uint32_t sr_video_ssrc, sr_audio_ssrc, rr_video_ssrc, rr_audio_ssrc;
    uint32_t drop_ssrc;
    int drop_at;
    uv_udp_t h;
    parley_cert *cert;
    parley_dtls *dtls;
    parley_srtp *srtp;
    parley_peer *peer;          /* its transport on the SFU */
    parley_peer_state sfu_state; /* as the SFU peer reported it */
    bool ice_ok, closed_seen;
    int video_seen;             /* drop_ssrc datagrams before unprotecting */
    bool dropped;
    uint16_t dropped_seq;
    rx_packet rx[RX_MAX];
    int n_rx;
    int plis;                   /* PLIs received */
    uint32_t pli_sender, pli_media;
    uint32_t pli_log[256];      /* the media SSRC of each, in order */
    int auth_failures;
    rx_sr sr_video, sr_audio;   /* SRs for sr_video_ssrc / sr_audio_ssrc */
    int rrs;                    /* RR blocks for rr_video_ssrc / rr_audio_ssrc */
    parley_rtcp_report_block rr_video, rr_audio;
    uint32_t rr_sender;
    uint8_t audio_fraction_max;
    uint16_t nacked[64];        /* sequence numbers NACKed to this client */
    int n_nacked;
    uint32_t nack_sender, nack_media;
    int rembs;
    uint64_t remb_bps;
    unsigned remb_n;
    uint32_t remb_ssrc[4];
} client;

/* The loop, the port on 127.0.0.1 and the router (cfg); 0 or -1. */
int mc_setup(const parley_router_config *cfg);
/* Open client c (socket, certificate, DTLS), make its SFU peer and send its
 * first ICE check; 0 or -1. */
int mc_client_start(client *c);
bool mc_connected(const client *c);
/* Send raw bytes from a client's socket to the SFU's port. */
void c_send(client *c, const uint8_t *d, size_t n);
/* Protect and send one plain RTP or RTCP packet from a client. */
void client_media(client *c, uint8_t *pkt, size_t len, size_t cap, bool rtcp);
/* Run the loop until cond holds or timeout_ms pass (cond NULL: just the
 * time); the result of cond then (true without one). */
bool run_until(bool (*cond)(void), unsigned timeout_ms);
int count_rx(const client *c, uint32_t ssrc);
/* The end of a test program: every client's SFU peer leaves the router and
 * is freed, then the router, the port, the clients and the certificate; the
 * loop runs until every handle is closed. 0, or -1 when the loop or SRTP did
 * not shut down cleanly. */
int mc_teardown(void);

#endif
