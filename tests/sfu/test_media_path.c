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
#include "media_client.h"
#include "rtp.h"
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
#define N_MORE 10  /* second round: video and audio packets 30..39 */
#define LOST_VIDEO 33 /* A holds it back, then answers the SFU's NACK */
#define LOST_AUDIO_1 32 /* never sent: the RR counts them */
#define LOST_AUDIO_2 35
#define REPORT_MS 200
#define LEVEL_EXT 1 /* the audio level's extension id */

static client ca = {.ufrag = "cliA", .pwd = "client-a-password-0123456789",
                    .rr_video_ssrc = A_VIDEO, .rr_audio_ssrc = A_AUDIO};
static client cb_ = {.ufrag = "cliB", .pwd = "client-b-password-0123456789",
                     .sr_video_ssrc = B_VIDEO, .sr_audio_ssrc = B_AUDIO,
                     .drop_ssrc = B_VIDEO, .drop_at = DROP_AT};

static bool both_connected(void)
{
    return mc_connected(&ca) && mc_connected(&cb_);
}

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
    parley_router_config rc = {.sfu_ssrc = SFU_SSRC, .pli_interval_ms = 100,
                               .report_interval_ms = REPORT_MS};
    REQUIRE(mc_setup(&rc) == 0);
    client *cs[2] = {&ca, &cb_};
    for (int i = 0; i < 2; i++) {
        client *c = cs[i];
        REQUIRE(mc_client_start(c) == 0);
        CHECK(strcmp(parley_peer_fingerprint(c->peer), parley_cert_fingerprint(sfu_cert)) == 0);
        CHECK(parley_peer_get_state(c->peer) == PARLEY_PEER_CONNECTING);
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

    /* the RRs: the video gap was filled, two audio packets stay lost (an RR
     * sent before the resend arrived does not count) */
    memset(&ca.rr_video, 0, sizeof ca.rr_video);
    memset(&ca.rr_audio, 0, sizeof ca.rr_audio);
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
    CHECK(mc_teardown() == 0);
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
