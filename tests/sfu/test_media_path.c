/* test_media_path.c - the first end-to-end media path, for real, in one
 * process on one uv loop: the SFU's UDP port on 127.0.0.1 with two peers and
 * a router, and two clients, each on its own UDP socket, built from the same
 * modules in their client roles (ICE controlling: binding requests with
 * USE-CANDIDATE signed with the SFU peer's pwd; DTLS client checking the
 * SFU's fingerprint; SRTP from its keys).
 *
 * Client A publishes a VP8 track (a keyframe first) and an Opus track; client
 * B subscribes and must receive every packet with its own SSRCs, contiguous
 * sequence numbers and the same payloads; B loses one video packet on purpose
 * (dropped before unprotecting), NACKs it and gets it again; B's PLI reaches
 * A for A's SSRC. A stranger's garbage and DTLS, and a tampered SRTP packet,
 * are dropped and counted while media flows. The SFU's own RTCP follows:
 * A's SRs carried to B as SRs of B's streams (timestamps mapped), RRs and
 * REMBs to A, a packet A never sent NACKed to A and, once A resends it,
 * forwarded to B; then both publish audio levels and the router's speaker
 * callback names A, then B. No sleeps: the loop runs until a condition
 * holds or a timeout passes. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "../lib/tap.h"
#include "cert.h"
#include "dtls.h"
#include "peer.h"
#include "router.h"
#include "rtcp.h"
#include "rtp.h"
#include "srtp.h"
#include "stun.h"
#include "udp.h"

#define A_VIDEO 0x11111111u
#define A_AUDIO 0x22222222u
#define A_STRAY 0x33333333u
#define B_VIDEO 0xB0000001u
#define B_AUDIO 0xB0000002u
#define B_SELF 0xBBBBBBBBu
#define B_PUB_AUDIO 0x44444444u /* B publishes audio too, for the speaker */
#define SFU_SSRC 0x5F0005F0u
#define N_VIDEO 30
#define N_AUDIO 30
#define DROP_AT 9 /* B loses its 10th video packet */
#define PLEN_MAX 600
#define N_MORE 10  /* second round: video and audio packets 30..39 */
#define LOST_VIDEO 33 /* A holds it back, then answers the SFU's NACK */
#define LOST_AUDIO_1 32 /* never sent: the RR counts them */
#define LOST_AUDIO_2 35
#define REPORT_MS 200
#define LEVEL_EXT 1 /* the audio level's extension id */

static uv_loop_t loop;
static parley_udp *port;
static parley_router *router;
static parley_cert *sfu_cert;
static struct sockaddr_in sfu_addr;

/* ---- a client transport ---- */

typedef struct rx_packet {
    uint32_t ssrc, ts;
    uint16_t seq;
    uint8_t pt;
    bool marker;
    size_t plen;
    uint8_t payload[PLEN_MAX];
} rx_packet;

#define RX_MAX 512

/* The last SR a client got for one SSRC, or RR block, or REMB. */
typedef struct rx_sr {
    bool seen;
    parley_rtcp_sr sr;
} rx_sr;

typedef struct client {
    const char *ufrag, *pwd;
    uv_udp_t h;
    parley_cert *cert;
    parley_dtls *dtls;
    parley_srtp *srtp;
    parley_peer *peer;          /* its transport on the SFU */
    parley_peer_state sfu_state; /* as the SFU peer reported it */
    bool ice_ok, closed_seen;
    int video_seen;             /* video datagrams before unprotecting */
    bool dropped;
    uint16_t dropped_seq;
    rx_packet rx[RX_MAX];
    int n_rx;
    int plis;                   /* PLIs received */
    uint32_t pli_sender, pli_media;
    int auth_failures;
    rx_sr sr_video, sr_audio;   /* SRs for B_VIDEO / B_AUDIO */
    int rrs;                    /* RR blocks for A_VIDEO / A_AUDIO */
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

static client ca = {.ufrag = "cliA", .pwd = "client-a-password-0123456789"};
static client cb_ = {.ufrag = "cliB", .pwd = "client-b-password-0123456789"};

static void c_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    (void)h;
    (void)s;
    static char buf[65536];
    *b = uv_buf_init(buf, sizeof buf);
}

static void c_send(client *c, const uint8_t *d, size_t n)
{
    uv_buf_t b = uv_buf_init((char *)d, (unsigned)n);
    uv_udp_try_send(&c->h, &b, 1, (const struct sockaddr *)&sfu_addr);
}

static void dtls_out(void *user, const uint8_t *d, size_t n)
{
    c_send(user, d, n);
}

static void on_client_rtcp(client *c, const uint8_t *d, size_t n)
{
    parley_rtcp_iter it;
    parley_rtcp_packet p;
    parley_rtcp_iter_init(&it, d, n);
    while (parley_rtcp_next(&it, &p) == 1) {
        if (p.kind == PARLEY_RTCP_KIND_PLI) {
            c->plis++;
            c->pli_sender = p.ssrc;
            c->pli_media = p.media_ssrc;
        } else if (p.kind == PARLEY_RTCP_KIND_SR) {
            parley_rtcp_sr sr;
            parley_rtcp_sr_info(&p, &sr);
            rx_sr *to = sr.ssrc == B_VIDEO ? &c->sr_video : sr.ssrc == B_AUDIO ? &c->sr_audio : NULL;
            if (to)
                *to = (rx_sr){true, sr};
        } else if (p.kind == PARLEY_RTCP_KIND_RR) {
            c->rr_sender = p.ssrc;
            for (unsigned i = 0; i < p.count; i++) {
                parley_rtcp_report_block rb;
                parley_rtcp_report(&p, i, &rb);
                c->rrs++;
                if (rb.ssrc == A_VIDEO)
                    c->rr_video = rb;
                if (rb.ssrc == A_AUDIO) {
                    c->rr_audio = rb;
                    if (rb.fraction_lost > c->audio_fraction_max)
                        c->audio_fraction_max = rb.fraction_lost;
                }
            }
        } else if (p.kind == PARLEY_RTCP_KIND_NACK) {
            c->nack_sender = p.ssrc;
            c->nack_media = p.media_ssrc;
            for (unsigned i = 0; i < parley_rtcp_nack_items(&p); i++) {
                uint16_t pid, blp, seqs[17];
                parley_rtcp_nack_item(&p, i, &pid, &blp);
                unsigned k = parley_rtcp_nack_expand(pid, blp, seqs);
                for (unsigned j = 0; j < k && c->n_nacked < 64; j++)
                    c->nacked[c->n_nacked++] = seqs[j];
            }
        } else if (p.kind == PARLEY_RTCP_KIND_REMB) {
            c->rembs++;
            c->remb_bps = parley_rtcp_remb_bitrate(&p);
            c->remb_n = parley_rtcp_remb_ssrcs(&p);
            for (unsigned i = 0; i < c->remb_n && i < 4; i++)
                c->remb_ssrc[i] = parley_rtcp_remb_ssrc(&p, i);
        }
    }
}

static void c_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *a, unsigned f)
{
    (void)f;
    client *c = h->data;
    if (n <= 0 || !a)
        return;
    uint8_t *d = (uint8_t *)b->base;
    size_t len = (size_t)n;
    if (d[0] < 4) {
        parley_stun_msg m;
        const char *why;
        const char *pwd = parley_peer_local_pwd(c->peer);
        if (parley_stun_parse(d, len, &m, &why) == 0 && m.type == PARLEY_STUN_BINDING_SUCCESS &&
            parley_stun_check_integrity(&m, pwd, strlen(pwd)) && !c->ice_ok) {
            c->ice_ok = true;
            parley_dtls_start(c->dtls);
        }
    } else if (d[0] >= 20 && d[0] <= 63) {
        parley_dtls_state st = parley_dtls_input(c->dtls, d, len);
        if (st == PARLEY_DTLS_CONNECTED && !c->srtp) {
            parley_dtls_keys k;
            char err[128];
            if (parley_dtls_get_keys(c->dtls, &k) == 0)
                c->srtp = parley_srtp_new(&k, err, sizeof err);
        }
        if (st == PARLEY_DTLS_CLOSED)
            c->closed_seen = true;
    } else if (d[0] >= 128 && d[0] <= 191 && c->srtp) {
        if (parley_rtp_is_rtcp(d, len)) {
            if (parley_srtp_unprotect_rtcp(c->srtp, d, &len) == PARLEY_SRTP_OK)
                on_client_rtcp(c, d, len);
            else
                c->auth_failures++;
            return;
        }
        /* the header is in the clear: lose one video packet before SRTP sees it */
        if (len >= 12 && parley_rd32(d + 8) == B_VIDEO && c->video_seen++ == DROP_AT) {
            c->dropped = true;
            c->dropped_seq = parley_rd16(d + 2);
            return;
        }
        parley_rtp_header rh;
        if (parley_srtp_unprotect_rtp(c->srtp, d, &len) != PARLEY_SRTP_OK) {
            c->auth_failures++;
            return;
        }
        if (parley_rtp_parse(d, len, &rh) != PARLEY_RTP_OK || c->n_rx >= RX_MAX || rh.payload_len > PLEN_MAX)
            return;
        rx_packet *r = &c->rx[c->n_rx++];
        r->ssrc = rh.ssrc;
        r->seq = rh.seq;
        r->ts = rh.timestamp;
        r->pt = rh.payload_type;
        r->marker = rh.marker;
        r->plen = rh.payload_len;
        memcpy(r->payload, d + rh.header_len, rh.payload_len);
    }
}

static int client_open(client *c)
{
    char err[128];
    if (!(c->cert = parley_cert_generate(0, err, sizeof err)))
        return -1;
    parley_dtls_config dc = {.role = PARLEY_DTLS_CLIENT, .cert = c->cert,
                             .remote_fingerprint = parley_cert_fingerprint(sfu_cert),
                             .send = dtls_out, .user = c};
    if (!(c->dtls = parley_dtls_new(&dc, err, sizeof err)))
        return -1;
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    uv_udp_init(&loop, &c->h);
    c->h.data = c;
    if (uv_udp_bind(&c->h, (struct sockaddr *)&sa, 0) || uv_udp_recv_start(&c->h, c_alloc, c_recv))
        return -1;
    return 0;
}

/* The controlling side's check: USERNAME "sfu:client", signed with the SFU's pwd. */
static void client_check(client *c)
{
    char user[64];
    snprintf(user, sizeof user, "%s:%s", parley_peer_local_ufrag(c->peer), c->ufrag);
    parley_stun_request r = {.username = user, .password = parley_peer_local_pwd(c->peer),
                             .priority = 0x6e0001ff, .controlling = true,
                             .tiebreaker = 0x0102030405060708ull, .use_candidate = true};
    uint8_t txid[PARLEY_STUN_TXID_LEN], buf[512];
    parley_stun_new_txid(txid);
    size_t n = parley_stun_binding_request(buf, sizeof buf, txid, &r);
    c_send(c, buf, n);
}

/* Protect and send one plain RTP or RTCP packet from a client. */
static void client_media(client *c, uint8_t *pkt, size_t len, size_t cap, bool rtcp)
{
    if (rtcp ? parley_srtp_protect_rtcp(c->srtp, pkt, &len, cap) == PARLEY_SRTP_OK
             : parley_srtp_protect_rtp(c->srtp, pkt, &len, cap) == PARLEY_SRTP_OK)
        c_send(c, pkt, len);
}

/* ---- the SFU side ---- */

static void sfu_state(parley_peer *p, void *arg, parley_peer_state s)
{
    (void)p;
    ((client *)arg)->sfu_state = s;
}

static void sfu_rtp(parley_peer *p, void *arg, uint8_t *pkt, size_t len)
{
    (void)arg;
    parley_router_rtp(router, p, pkt, len);
}

static void sfu_rtcp(parley_peer *p, void *arg, uint8_t *pkt, size_t len)
{
    (void)arg;
    parley_router_rtcp(router, p, pkt, len);
}

/* ---- running the loop until something holds ---- */

static bool (*cond_fn)(void);
static uint64_t deadline;

static void on_poll(uv_timer_t *t)
{
    if (ca.dtls)
        parley_dtls_tick(ca.dtls);
    if (cb_.dtls)
        parley_dtls_tick(cb_.dtls);
    if ((cond_fn && cond_fn()) || uv_now(t->loop) >= deadline)
        uv_stop(t->loop);
}

static bool run_until(bool (*cond)(void), unsigned timeout_ms)
{
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    cond_fn = cond;
    uv_update_time(&loop);
    deadline = uv_now(&loop) + timeout_ms;
    uv_timer_start(&t, on_poll, 2, 2);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    return !cond || cond();
}

static bool both_connected(void)
{
    return ca.srtp && cb_.srtp && ca.sfu_state == PARLEY_PEER_CONNECTED &&
           cb_.sfu_state == PARLEY_PEER_CONNECTED;
}

/* ---- packets ---- */

typedef struct sent_packet {
    uint32_t ssrc, ts;
    uint16_t seq;
    size_t plen;
    uint8_t payload[PLEN_MAX];
} sent_packet;

static sent_packet sent_video[N_VIDEO + N_MORE], sent_audio[N_AUDIO + N_MORE];

/* An RTP packet with a payload made of a VP8 descriptor (picture id, 15
 * bits) and a VP8 payload header (a keyframe's start code and size for
 * frame 0), or Opus-looking bytes; every payload differs. */
static size_t make_packet(uint8_t *buf, bool video, int i, sent_packet *s)
{
    uint16_t seq = (uint16_t)((video ? 1000 : 5000) + i);
    uint32_t ts = video ? 90000u + 3000u * (uint32_t)i : 48000u + 960u * (uint32_t)i;
    uint32_t ssrc = video ? A_VIDEO : A_AUDIO;
    buf[0] = 0x80;
    buf[1] = (uint8_t)((video ? 96 : 111) | 0x80); /* one packet per frame: marker set */
    parley_wr16(buf + 2, seq);
    parley_wr32(buf + 4, ts);
    parley_wr32(buf + 8, ssrc);
    uint8_t *p = buf + 12;
    size_t plen = 0;
    if (video) {
        uint16_t pid = (uint16_t)(100 + i);
        p[plen++] = 0x90; /* X, S, PID 0 */
        p[plen++] = 0x80; /* I */
        p[plen++] = (uint8_t)(0x80 | pid >> 8);
        p[plen++] = (uint8_t)pid;
        if (i == 0) {
            const uint8_t key[] = {0x50, 0x2e, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01};
            memcpy(p + plen, key, sizeof key); /* P clear, start code, 640x480 */
            plen += sizeof key;
        } else {
            p[plen++] = 0x31; /* P set: an interframe */
            p[plen++] = 0x10;
            p[plen++] = 0x00;
        }
        for (int k = 0; k < 200; k++)
            p[plen++] = (uint8_t)(i * 7 + k);
    } else {
        p[plen++] = 0x78; /* an Opus TOC byte */
        for (int k = 0; k < 80; k++)
            p[plen++] = (uint8_t)(i * 13 + k * 3);
    }
    *s = (sent_packet){.ssrc = ssrc, .ts = ts, .seq = seq, .plen = plen};
    memcpy(s->payload, p, plen);
    return 12 + plen;
}

static int count_rx(const client *c, uint32_t ssrc)
{
    int n = 0;
    for (int i = 0; i < c->n_rx; i++)
        n += c->rx[i].ssrc == ssrc;
    return n;
}

static bool media_arrived(void)
{
    return count_rx(&cb_, B_VIDEO) >= N_VIDEO - 1 && count_rx(&cb_, B_AUDIO) >= N_AUDIO;
}

static bool retransmission_arrived(void)
{
    return count_rx(&cb_, B_VIDEO) >= N_VIDEO;
}

static int plis_wanted;
static bool pli_arrived(void)
{
    return ca.plis >= plis_wanted;
}

static bool b_closed(void)
{
    return cb_.closed_seen && cb_.sfu_state == PARLEY_PEER_CLOSED;
}

static bool never(void)
{
    return false;
}

/* ---- the cases ---- */

TEST(setup_and_connect)
{
    char err[128];
    REQUIRE(uv_loop_init(&loop) == 0);
    REQUIRE((sfu_cert = parley_cert_generate(0, err, sizeof err)) != NULL);
    parley_udp_config uc = {.bind_address = "127.0.0.1"};
    REQUIRE((port = parley_udp_open(&loop, &uc, &parley_peer_udp_callbacks, err, sizeof err)) != NULL);
    uv_ip4_addr("127.0.0.1", parley_udp_port(port), &sfu_addr);
    parley_router_config rc = {.sfu_ssrc = SFU_SSRC, .pli_interval_ms = 100,
                               .report_interval_ms = REPORT_MS};
    REQUIRE((router = parley_router_new(&loop, &rc)) != NULL);
    client *cs[2] = {&ca, &cb_};
    for (int i = 0; i < 2; i++) {
        client *c = cs[i];
        REQUIRE(client_open(c) == 0);
        parley_peer_config pc = {.cert = sfu_cert, .remote_fingerprint = parley_cert_fingerprint(c->cert),
                                 .remote_ufrag = c->ufrag, .remote_pwd = c->pwd};
        parley_peer_callbacks pcb = {sfu_state, sfu_rtp, sfu_rtcp, c};
        REQUIRE((c->peer = parley_peer_new(&loop, port, &pc, &pcb, err, sizeof err)) != NULL);
        CHECK(strcmp(parley_peer_fingerprint(c->peer), parley_cert_fingerprint(sfu_cert)) == 0);
        CHECK(parley_peer_get_state(c->peer) == PARLEY_PEER_CONNECTING);
        client_check(c);
    }
    CHECK(run_until(both_connected, 3000));
    CHECK(ca.ice_ok && cb_.ice_ok);
    CHECKF(parley_peer_get_state(ca.peer) == PARLEY_PEER_CONNECTED, "%s",
           parley_peer_state_name(parley_peer_get_state(ca.peer)));
    CHECK(parley_peer_get_state(cb_.peer) == PARLEY_PEER_CONNECTED);
    CHECK(parley_dtls_state_of(ca.dtls) == PARLEY_DTLS_CONNECTED);
}

TEST(publish_subscribe_forward)
{
    REQUIRE(both_connected());
    REQUIRE(parley_router_add_track(router, ca.peer, A_VIDEO, true) == 0);
    REQUIRE(parley_router_add_track(router, ca.peer, A_AUDIO, false) == 0);
    CHECK(parley_router_add_track(router, cb_.peer, A_AUDIO, false) == -1); /* SSRC taken */
    REQUIRE(parley_router_subscribe(router, cb_.peer, A_VIDEO, B_VIDEO) == 0);
    REQUIRE(parley_router_subscribe(router, cb_.peer, A_AUDIO, B_AUDIO) == 0);
    CHECK(parley_router_subscribe(router, cb_.peer, 0x99, 0x98) == -1); /* no such track */

    /* a stranger's socket: garbage, DTLS and RTP from an unknown address */
    uv_udp_t stranger;
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    uv_udp_init(&loop, &stranger);
    REQUIRE(uv_udp_bind(&stranger, (struct sockaddr *)&sa, 0) == 0);
    static const uint8_t garbage[] = {0x42, 1, 2, 3, 4, 5, 6, 7, 8};
    static const uint8_t dtls_hello[] = {22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1};
    static const uint8_t rtp_like[] = {0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 9, 0xaa, 0xbb};

    uint8_t pkt[PARLEY_RTP_MAX_PACKET + 64];
    for (int i = 0; i < N_VIDEO; i++) {
        size_t n = make_packet(pkt, true, i, &sent_video[i]);
        client_media(&ca, pkt, n, sizeof pkt, false);
        n = make_packet(pkt, false, i, &sent_audio[i]);
        client_media(&ca, pkt, n, sizeof pkt, false);
        if (i % 10 == 5) {
            uv_buf_t bufs[3] = {uv_buf_init((char *)garbage, sizeof garbage),
                                uv_buf_init((char *)dtls_hello, sizeof dtls_hello),
                                uv_buf_init((char *)rtp_like, sizeof rtp_like)};
            for (int k = 0; k < 3; k++)
                uv_udp_try_send(&stranger, &bufs[k], 1, (struct sockaddr *)&sfu_addr);
            /* and a tampered SRTP packet from A's own address */
            memset(pkt, 0, 12);
            pkt[0] = 0x80;
            pkt[1] = 96;
            parley_wr16(pkt + 2, (uint16_t)i);
            parley_wr32(pkt + 8, A_STRAY);
            size_t len = 40;
            if (parley_srtp_protect_rtp(ca.srtp, pkt, &len, sizeof pkt) == PARLEY_SRTP_OK) {
                pkt[20] ^= 0x01;
                c_send(&ca, pkt, len);
            }
        }
        run_until(NULL, 0); /* let the port drain between pairs */
    }
    CHECK(run_until(media_arrived, 2000));
    uv_close((uv_handle_t *)&stranger, NULL);

    CHECKF(count_rx(&cb_, B_VIDEO) == N_VIDEO - 1, "%d", count_rx(&cb_, B_VIDEO));
    CHECKF(count_rx(&cb_, B_AUDIO) == N_AUDIO, "%d", count_rx(&cb_, B_AUDIO));
    CHECK(cb_.dropped);
    CHECK(cb_.auth_failures == 0);

    /* each stream: B's SSRC, contiguous sequence numbers, A's payloads */
    int iv = 0, ia = 0;
    uint16_t v0 = 0, a0 = 0;
    uint32_t vts0 = 0;
    for (int i = 0; i < cb_.n_rx; i++) {
        rx_packet *r = &cb_.rx[i];
        if (r->ssrc == B_VIDEO) {
            if (iv == 0) {
                v0 = r->seq;
                vts0 = r->ts;
            }
            if (iv == DROP_AT)
                iv++; /* the one B lost */
            REQUIRE(iv < N_VIDEO);
            sent_packet *s = &sent_video[iv];
            CHECKF(r->seq == (uint16_t)(v0 + iv), "video %d: seq %u", iv, r->seq);
            CHECK(r->ts - vts0 == s->ts - sent_video[0].ts);
            CHECK(r->pt == 96 && r->marker);
            CHECK(r->plen == s->plen && memcmp(r->payload, s->payload, s->plen) == 0);
            iv++;
        } else if (r->ssrc == B_AUDIO) {
            if (ia == 0)
                a0 = r->seq;
            REQUIRE(ia < N_AUDIO);
            sent_packet *s = &sent_audio[ia];
            CHECKF(r->seq == (uint16_t)(a0 + ia), "audio %d: seq %u", ia, r->seq);
            CHECK(r->pt == 111);
            CHECK(r->plen == s->plen && memcmp(r->payload, s->payload, s->plen) == 0);
            ia++;
        } else {
            CHECKF(0, "unexpected SSRC %08x", r->ssrc);
        }
    }
    CHECK(cb_.dropped_seq == (uint16_t)(v0 + DROP_AT));
    /* the first video packet B saw was A's keyframe */
    for (int i = 0; i < cb_.n_rx; i++)
        if (cb_.rx[i].ssrc == B_VIDEO) {
            CHECK(cb_.rx[i].payload[4] == 0x50); /* P bit clear */
            break;
        }

    parley_udp_counters uc;
    parley_udp_get_counters(port, &uc);
    CHECKF(uc.drop_garbage == 3, "%llu", (unsigned long long)uc.drop_garbage);
    CHECKF(uc.drop_unknown_peer == 6, "%llu", (unsigned long long)uc.drop_unknown_peer);
    parley_peer_counters pa, pb;
    parley_peer_get_counters(ca.peer, &pa);
    parley_peer_get_counters(cb_.peer, &pb);
    CHECKF(pa.rtp_in == N_VIDEO + N_AUDIO, "%llu", (unsigned long long)pa.rtp_in);
    CHECKF(pa.unprotect_auth == 3, "%llu", (unsigned long long)pa.unprotect_auth);
    CHECKF(pb.rtp_out == N_VIDEO + N_AUDIO, "%llu", (unsigned long long)pb.rtp_out);
    CHECK(pa.send_errors == 0 && pb.send_errors == 0);
    parley_router_counters rcn;
    parley_router_get_counters(router, &rcn);
    CHECK(rcn.rtp_in == N_VIDEO + N_AUDIO && rcn.rtp_forwarded == N_VIDEO + N_AUDIO);
    CHECK(rcn.forward_dropped == 0);
    /* the video subscription asked A for a keyframe */
    CHECKF(rcn.keyframe_requests == 1, "%llu", (unsigned long long)rcn.keyframe_requests);
    plis_wanted = 1;
    CHECK(run_until(pli_arrived, 1000));
    CHECK(ca.pli_media == A_VIDEO && ca.pli_sender == SFU_SSRC);
}

TEST(nack_answered_from_buffer)
{
    REQUIRE(cb_.dropped && cb_.srtp);
    uint8_t pkt[PARLEY_RTCP_MAX_PACKET + 64];
    uint16_t seqs[1] = {cb_.dropped_seq};
    size_t n = parley_rtcp_build_nack(pkt, sizeof pkt, B_SELF, B_VIDEO, seqs, 1);
    REQUIRE(n > 0);
    client_media(&cb_, pkt, n, sizeof pkt, true);
    CHECK(run_until(retransmission_arrived, 1000));
    REQUIRE(cb_.n_rx == N_VIDEO + N_AUDIO);
    rx_packet *r = &cb_.rx[cb_.n_rx - 1];
    CHECK(r->ssrc == B_VIDEO);
    CHECK(r->seq == cb_.dropped_seq);
    sent_packet *s = &sent_video[DROP_AT];
    CHECK(r->plen == s->plen && memcmp(r->payload, s->payload, s->plen) == 0);
    parley_router_counters rcn;
    parley_router_get_counters(router, &rcn);
    CHECK(rcn.nack_items == 1 && rcn.retransmitted == 1);
}

TEST(pli_reaches_publisher)
{
    REQUIRE(ca.plis >= 1);
    run_until(never, 120); /* past the limiter's interval since the subscription's PLI */
    uint8_t pkt[PARLEY_RTCP_MAX_PACKET + 64];
    size_t n = parley_rtcp_build_pli(pkt, sizeof pkt, B_SELF, B_VIDEO);
    REQUIRE(n > 0);
    int before = ca.plis;
    client_media(&cb_, pkt, n, sizeof pkt, true);
    plis_wanted = before + 1;
    CHECK(run_until(pli_arrived, 1000));
    CHECK(ca.pli_media == A_VIDEO);  /* mapped back to A's SSRC */
    CHECK(ca.pli_sender == SFU_SSRC);
    /* a second one at once is held back by the limiter */
    n = parley_rtcp_build_pli(pkt, sizeof pkt, B_SELF, B_VIDEO);
    client_media(&cb_, pkt, n, sizeof pkt, true);
    run_until(never, 30);
    CHECK(ca.plis == before + 1);
    parley_router_counters rcn;
    parley_router_get_counters(router, &rcn);
    CHECK(rcn.feedback_suppressed == 1);
    CHECK(ca.auth_failures == 0);
}

/* ---- the SFU's own RTCP ---- */

#define A_NTP (0xE0000000ull << 32 | 0x80000000u)

static parley_rtcp_sr a_video_sr, a_audio_sr;

/* The first RTP timestamp B got on ssrc minus the one A sent: the forwarder's offset. */
static uint32_t ts_offset(uint32_t ssrc, const sent_packet *first)
{
    for (int i = 0; i < cb_.n_rx; i++)
        if (cb_.rx[i].ssrc == ssrc)
            return cb_.rx[i].ts - first->ts;
    return 0;
}

/* ms elapsed between two NTP times (the SFU adds floor(ms * 2^32 / 1000)) */
static uint64_t ntp_ms(uint64_t later, uint64_t earlier)
{
    return ((later - earlier) * 1000 + (1ull << 31)) >> 32;
}

static bool reports_arrived(void)
{
    return cb_.sr_video.seen && cb_.sr_audio.seen && ca.rr_video.lsr && ca.rr_audio.lsr;
}

static bool remb_seen(void)
{
    return ca.rembs > 0;
}

static bool remb_lowered(void)
{
    return ca.remb_bps == 800000;
}

TEST(sender_and_receiver_reports)
{
    REQUIRE(ca.srtp && cb_.srtp && cb_.n_rx >= N_VIDEO + N_AUDIO);
    /* before any SR from A, B gets none; A gets RRs (no LSR) and REMBs */
    CHECK(run_until(remb_seen, 2000));
    CHECK(!cb_.sr_video.seen && !cb_.sr_audio.seen);
    CHECKF(ca.remb_bps == 2500000, "%llu", (unsigned long long)ca.remb_bps); /* the cap */
    CHECK(ca.remb_n == 2);
    CHECK((ca.remb_ssrc[0] == A_VIDEO && ca.remb_ssrc[1] == A_AUDIO) ||
          (ca.remb_ssrc[0] == A_AUDIO && ca.remb_ssrc[1] == A_VIDEO));

    uint8_t pkt[PARLEY_RTCP_MAX_PACKET + 64];
    a_video_sr = (parley_rtcp_sr){.ssrc = A_VIDEO, .ntp = A_NTP,
                                  .rtp_ts = sent_video[N_VIDEO - 1].ts + 3000, .packet_count = 1};
    a_audio_sr = (parley_rtcp_sr){.ssrc = A_AUDIO, .ntp = A_NTP,
                                  .rtp_ts = sent_audio[N_AUDIO - 1].ts + 960, .packet_count = 1};
    size_t n = parley_rtcp_build_sr(pkt, sizeof pkt, &a_video_sr, NULL, 0);
    n += parley_rtcp_build_sr(pkt + n, sizeof pkt - n, &a_audio_sr, NULL, 0);
    client_media(&ca, pkt, n, sizeof pkt, true);
    CHECK(run_until(reports_arrived, 2000));

    /* B's SRs: its own SSRCs, A's clock carried forward and mapped through
     * the forwarder's timestamp offset, the packets and octets B was sent */
    const parley_rtcp_sr *v = &cb_.sr_video.sr, *a = &cb_.sr_audio.sr;
    uint64_t ev = ntp_ms(v->ntp, A_NTP), ea = ntp_ms(a->ntp, A_NTP);
    CHECKF(ev < 2000 && ea < 2000, "%llu %llu", (unsigned long long)ev, (unsigned long long)ea);
    uint32_t vo = ts_offset(B_VIDEO, &sent_video[0]), ao = ts_offset(B_AUDIO, &sent_audio[0]);
    CHECKF(v->rtp_ts == a_video_sr.rtp_ts + vo + (uint32_t)ev * 90, "%u vs %u", v->rtp_ts,
           a_video_sr.rtp_ts + vo + (uint32_t)ev * 90);
    CHECKF(a->rtp_ts == a_audio_sr.rtp_ts + ao + (uint32_t)ea * 48, "%u vs %u", a->rtp_ts,
           a_audio_sr.rtp_ts + ao + (uint32_t)ea * 48);
    uint32_t voct = (uint32_t)sent_video[DROP_AT].plen, aoct = 0; /* the retransmission too */
    for (int i = 0; i < N_VIDEO; i++)
        voct += (uint32_t)sent_video[i].plen;
    for (int i = 0; i < N_AUDIO; i++)
        aoct += (uint32_t)sent_audio[i].plen;
    CHECKF(v->packet_count == N_VIDEO + 1 && v->octet_count == voct, "%u %u", v->packet_count,
           v->octet_count);
    CHECKF(a->packet_count == N_AUDIO && a->octet_count == aoct, "%u %u", a->packet_count,
           a->octet_count);

    /* A's RRs: nothing lost so far, the highest sequence numbers, LSR/DLSR */
    CHECK(ca.rr_sender == SFU_SSRC);
    CHECKF(ca.rr_video.highest_seq == 1000 + N_VIDEO - 1, "%u", ca.rr_video.highest_seq);
    CHECKF(ca.rr_audio.highest_seq == 5000 + N_AUDIO - 1, "%u", ca.rr_audio.highest_seq);
    CHECK(ca.rr_video.cumulative_lost == 0 && ca.rr_audio.cumulative_lost == 0);
    CHECK(ca.rr_video.fraction_lost == 0);
    CHECK(ca.rr_video.lsr == (uint32_t)(A_NTP >> 16) && ca.rr_audio.lsr == (uint32_t)(A_NTP >> 16));
    CHECKF(ca.rr_video.dlsr < 2 * 65536, "%u", ca.rr_video.dlsr);

    /* B's REMB lowers the estimate A gets */
    uint32_t bs[] = {B_VIDEO, B_AUDIO};
    n = parley_rtcp_build_rr(pkt, sizeof pkt, B_SELF, NULL, 0);
    n += parley_rtcp_build_remb(pkt + n, sizeof pkt - n, B_SELF, 800000, bs, 2);
    client_media(&cb_, pkt, n, sizeof pkt, true);
    CHECK(run_until(remb_lowered, 2000));
    parley_router_counters rcn;
    parley_router_get_counters(router, &rcn);
    CHECK(rcn.receiver_reports > 0 && rcn.sender_reports >= 2 && rcn.rembs > 0);
}

static int rx_video_before;

static bool nack_arrived(void)
{
    for (int i = 0; i < ca.n_nacked; i++)
        if (ca.nacked[i] == 1000 + LOST_VIDEO)
            return true;
    return false;
}

static bool second_round_arrived(void)
{
    return count_rx(&cb_, B_VIDEO) >= rx_video_before + N_MORE - 1 &&
           count_rx(&cb_, B_AUDIO) >= N_AUDIO + N_MORE - 2;
}

static bool resend_arrived(void)
{
    return count_rx(&cb_, B_VIDEO) >= rx_video_before + N_MORE;
}

static bool loss_reported(void)
{
    return ca.rr_audio.highest_seq == 5000 + N_AUDIO + N_MORE - 1 &&
           ca.rr_video.highest_seq == 1000 + N_VIDEO + N_MORE - 1;
}

TEST(nack_to_publisher_and_retransmission_forwarded)
{
    REQUIRE(ca.srtp && cb_.srtp);
    rx_video_before = count_rx(&cb_, B_VIDEO);
    ca.n_nacked = 0;
    uint8_t pkt[PARLEY_RTP_MAX_PACKET + 64];
    /* A's next ten packets of each stream, with holes: the video one will be
     * resent, the two audio ones never are */
    for (int i = N_VIDEO; i < N_VIDEO + N_MORE; i++) {
        size_t n = make_packet(pkt, true, i, &sent_video[i]);
        if (i != LOST_VIDEO)
            client_media(&ca, pkt, n, sizeof pkt, false);
        n = make_packet(pkt, false, i, &sent_audio[i]);
        if (i != LOST_AUDIO_1 && i != LOST_AUDIO_2)
            client_media(&ca, pkt, n, sizeof pkt, false);
        run_until(NULL, 0);
    }
    CHECK(run_until(second_round_arrived, 2000));
    /* the SFU asks A, as itself, for exactly the video packet it did not get
     * (and again while it stays missing); audio losses are not NACKed */
    CHECK(run_until(nack_arrived, 1000));
    CHECK(ca.nack_sender == SFU_SSRC && ca.nack_media == A_VIDEO);
    run_until(never, 120);
    CHECKF(ca.n_nacked >= 2, "%d", ca.n_nacked);
    for (int i = 0; i < ca.n_nacked; i++)
        CHECKF(ca.nacked[i] == 1000 + LOST_VIDEO, "NACK for %u", ca.nacked[i]);

    /* A resends the video packet: B gets it in its own numbering */
    size_t n = make_packet(pkt, true, LOST_VIDEO, &sent_video[LOST_VIDEO]);
    client_media(&ca, pkt, n, sizeof pkt, false);
    CHECK(run_until(resend_arrived, 1000));
    const rx_packet *r = &cb_.rx[cb_.n_rx - 1];
    uint16_t v0 = 0;
    for (int i = 0; i < cb_.n_rx; i++)
        if (cb_.rx[i].ssrc == B_VIDEO) {
            v0 = cb_.rx[i].seq;
            break;
        }
    CHECK(r->ssrc == B_VIDEO);
    CHECKF(r->seq == (uint16_t)(v0 + LOST_VIDEO), "%u", r->seq);
    const sent_packet *s = &sent_video[LOST_VIDEO];
    CHECK(r->plen == s->plen && memcmp(r->payload, s->payload, s->plen) == 0);

    /* the RRs: the video gap was filled, two audio packets stay lost */
    CHECK(run_until(loss_reported, 2000));
    CHECKF(ca.rr_video.cumulative_lost == 0, "%d", ca.rr_video.cumulative_lost);
    CHECKF(ca.rr_audio.cumulative_lost == 2, "%d", ca.rr_audio.cumulative_lost);
    CHECKF(ca.audio_fraction_max > 0, "%u", ca.audio_fraction_max);
    parley_router_counters rcn;
    parley_router_get_counters(router, &rcn);
    CHECK(rcn.nacks_sent >= 2 && rcn.nack_seqs == rcn.nacks_sent);
    /* asked for no more once it came */
    int nacked = ca.n_nacked;
    run_until(never, 150);
    CHECK(ca.n_nacked == nacked);
    CHECK(ca.auth_failures == 0 && cb_.auth_failures == 0);
}

/* ---- active speaker ---- */

static const char speaker_group[] = "room";
static struct {
    int n;
    const void *group[8];
    parley_peer *pub[8];
    uint32_t ssrc[8];
} spoke;

static void on_speaker(void *arg, const void *group, parley_peer *pub, uint32_t ssrc)
{
    (*(int *)arg)++;
    if (spoke.n < 8) {
        spoke.group[spoke.n] = group;
        spoke.pub[spoke.n] = pub;
        spoke.ssrc[spoke.n] = ssrc;
        spoke.n++;
    }
}

/* An Opus packet carrying the RFC 6464 level in a one-byte header extension. */
static size_t level_packet(uint8_t *buf, uint32_t ssrc, uint16_t seq, bool voice, uint8_t level)
{
    buf[0] = 0x90; /* X */
    buf[1] = 111;
    parley_wr16(buf + 2, seq);
    parley_wr32(buf + 4, 960u * seq);
    parley_wr32(buf + 8, ssrc);
    parley_wr16(buf + 12, 0xBEDE);
    parley_wr16(buf + 14, 1);
    buf[16] = LEVEL_EXT << 4; /* length 1 */
    buf[17] = (uint8_t)((voice ? 0x80 : 0) | level);
    buf[18] = buf[19] = 0;
    memset(buf + 20, 0x78, 40);
    return 60;
}

static bool spoke_once(void)
{
    return spoke.n >= 1;
}

static bool spoke_twice(void)
{
    return spoke.n >= 2;
}

/* 20 ms frames from A and B for ms, with their levels (0xff: not sent). */
static uint16_t a_seq = 7000, b_seq = 100;
static void talk(unsigned ms, uint8_t a_level, uint8_t b_level, bool (*until)(void))
{
    uint8_t pkt[PARLEY_RTP_MAX_PACKET + 64];
    for (unsigned t = 0; t < ms && !(until && until()); t += 20) {
        size_t n;
        if (a_level != 0xff) {
            n = level_packet(pkt, A_AUDIO, a_seq++, a_level < 127, a_level);
            client_media(&ca, pkt, n, sizeof pkt, false);
        }
        if (b_level != 0xff) {
            n = level_packet(pkt, B_PUB_AUDIO, b_seq++, b_level < 127, b_level);
            client_media(&cb_, pkt, n, sizeof pkt, false);
        }
        run_until(never, 20);
    }
}

TEST(active_speaker_from_audio_levels)
{
    REQUIRE(ca.srtp && cb_.srtp);
    int calls = 0;
    parley_router_on_speaker(router, on_speaker, &calls);
    REQUIRE(parley_router_add_track(router, cb_.peer, B_PUB_AUDIO, false) == 0);
    CHECK(parley_router_track_speaker(router, A_VIDEO, LEVEL_EXT, speaker_group) == -1); /* video */
    CHECK(parley_router_track_speaker(router, 0x99, LEVEL_EXT, speaker_group) == -1);   /* unknown */
    REQUIRE(parley_router_track_speaker(router, A_AUDIO, LEVEL_EXT, speaker_group) == 0);
    REQUIRE(parley_router_track_speaker(router, B_PUB_AUDIO, LEVEL_EXT, speaker_group) == 0);

    /* A speaks (30 dB below full scale), B is silent: A is the speaker */
    talk(1500, 30, 127, spoke_once);
    CHECKF(spoke.n == 1, "%d", spoke.n);
    CHECK(spoke.group[0] == speaker_group && spoke.pub[0] == ca.peer && spoke.ssrc[0] == A_AUDIO);
    /* a short burst from B is not enough to take over */
    talk(300, 30, 10, NULL);
    talk(600, 30, 127, NULL);
    CHECKF(spoke.n == 1, "%d", spoke.n);
    /* A goes quiet and B speaks: after the hold, B is the speaker */
    talk(3000, 127, 10, spoke_twice);
    CHECKF(spoke.n == 2, "%d", spoke.n);
    CHECK(spoke.pub[1] == cb_.peer && spoke.ssrc[1] == B_PUB_AUDIO);
    CHECK(calls == spoke.n);
    /* and nothing more while B keeps speaking */
    talk(600, 127, 10, NULL);
    CHECK(spoke.n == 2);
    parley_router_counters rcn;
    parley_router_get_counters(router, &rcn);
    CHECK(rcn.speaker_changes == 2);
    /* the speaker's track goes: the group forgets it */
    parley_router_remove_track(router, B_PUB_AUDIO);
}

TEST(close_and_teardown)
{
    if (cb_.peer) {
        parley_peer_close(cb_.peer);
        CHECK(run_until(b_closed, 1000));
        CHECK(parley_peer_get_state(cb_.peer) == PARLEY_PEER_CLOSED);
    }
    client *cs[2] = {&ca, &cb_};
    for (int i = 0; i < 2; i++) {
        if (router)
            parley_router_remove_peer(router, cs[i]->peer);
        parley_peer_free(cs[i]->peer);
    }
    parley_router_free(router);
    if (port)
        parley_udp_close(port);
    for (int i = 0; i < 2; i++) {
        client *c = cs[i];
        parley_dtls_free(c->dtls);
        parley_srtp_free(c->srtp);
        parley_cert_free(c->cert);
        if (c->h.loop)
            uv_close((uv_handle_t *)&c->h, NULL);
    }
    parley_cert_free(sfu_cert);
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
    CHECK(parley_srtp_global_shutdown() == 0);
}

int main(void)
{
    RUN(setup_and_connect);
    RUN(publish_subscribe_forward);
    RUN(nack_answered_from_buffer);
    RUN(pli_reaches_publisher);
    RUN(sender_and_receiver_reports);
    RUN(nack_to_publisher_and_retransmission_forwarded);
    RUN(active_speaker_from_audio_levels);
    RUN(close_and_teardown);
    return tap_done();
}
