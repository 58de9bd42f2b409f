/* test_simulcast.c - simulcast through the SFU, for real on loopback (the
 * clients of media_client.h): client A publishes one VP8 track as three
 * layers, each on its own SSRC that the SDP never named, the RID header
 * extension on each layer's first packets only (as Chromium does); A
 * answers a PLI with a keyframe on the SSRC it names. B and C subscribe.
 *
 * The router must learn the three SSRCs from the RID extension (and no
 * others), send B and C the highest layer at first, move C to the lowest on
 * request at its next keyframe (a PLI to that layer's SSRC, nothing of it
 * before), fall back for B to the middle layer when the high one stops and
 * go back once it resumes; every subscriber sees one SSRC with continuous
 * sequence numbers, rising timestamps and continuous VP8 picture ids. */
#include <stdlib.h>

#include "../lib/tap.h"
#include "media_client.h"
#include "rtp.h"

#define SIM_ID 0x51510001u /* the track's id in the router */
#define RID_EXT 3
#define B_VIDEO 0xB0000001u
#define C_VIDEO 0xC0000001u
#define SFU_SSRC 0x5F0005F0u
#define FRAME_MS 20
#define RID_PACKETS 3 /* packets of a layer that carry its RID */

static const uint32_t layer_ssrc[3] = {0xA0000000u, 0xA0000001u, 0xA0000002u};
static const char *const rids[3] = {"q", "h", "f"};

static client ca = {.ufrag = "cliA", .pwd = "client-a-password-0123456789"};
static client cb_ = {.ufrag = "cliB", .pwd = "client-b-password-0123456789"};
static client cc = {.ufrag = "cliC", .pwd = "client-c-password-0123456789"};

/* The publisher's state per layer. */
static struct {
    bool on;
    uint16_t seq;
    uint32_t ts;
    uint16_t pid;
    int sent;
    bool key_due; /* a PLI asked for it */
} lay[3];
static int plis_seen; /* of ca.pli_log, acted upon */

/* One frame (one packet) of layer l: the RID extension on the first
 * RID_PACKETS, a VP8 descriptor with a 15-bit picture id, a keyframe
 * header when due, and the layer's number as the payload's last byte. */
static size_t layer_packet(uint8_t *buf, int l, bool key)
{
    size_t n = 12;
    buf[0] = 0x80;
    buf[1] = 96 | 0x80;
    parley_wr16(buf + 2, lay[l].seq++);
    parley_wr32(buf + 4, lay[l].ts);
    lay[l].ts += 90 * FRAME_MS;
    parley_wr32(buf + 8, layer_ssrc[l]);
    if (lay[l].sent < RID_PACKETS) {
        buf[0] |= 0x10;
        parley_wr16(buf + 12, PARLEY_RTP_EXT_ONE_BYTE);
        parley_wr16(buf + 14, 1); /* one word */
        buf[16] = (uint8_t)(RID_EXT << 4 | 0); /* one byte of data */
        buf[17] = (uint8_t)rids[l][0];
        buf[18] = buf[19] = 0;
        n = 20;
    }
    uint8_t *p = buf + n;
    size_t plen = 0;
    uint16_t pid = lay[l].pid++ & 0x7fff;
    p[plen++] = 0x90;
    p[plen++] = 0x80;
    p[plen++] = (uint8_t)(0x80 | pid >> 8);
    p[plen++] = (uint8_t)pid;
    if (key) {
        const uint8_t kf[] = {0x50, 0x2e, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01};
        memcpy(p + plen, kf, sizeof kf);
        plen += sizeof kf;
    } else {
        p[plen++] = 0x31;
        p[plen++] = 0x10;
        p[plen++] = 0x00;
    }
    for (int k = 0; k < 100; k++)
        p[plen++] = (uint8_t)(k + l);
    p[plen++] = (uint8_t)l;
    lay[l].sent++;
    return n + plen;
}

/* Publish for ms: a frame on every layer that is on each FRAME_MS, a
 * keyframe on a layer's first frame and after a PLI for it. */
static void publish(unsigned ms, bool (*until)(void))
{
    uint8_t pkt[PARLEY_RTP_MAX_PACKET + 64];
    for (unsigned t = 0; t < ms; t += FRAME_MS) {
        for (; plis_seen < ca.plis && plis_seen < 256; plis_seen++)
            for (int l = 0; l < 3; l++)
                if (ca.pli_log[plis_seen] == layer_ssrc[l])
                    lay[l].key_due = true;
        for (int l = 0; l < 3; l++) {
            if (!lay[l].on)
                continue;
            bool key = lay[l].sent == 0 || lay[l].key_due;
            lay[l].key_due = false;
            size_t n = layer_packet(pkt, l, key);
            client_media(&ca, pkt, n, sizeof pkt, false);
        }
        run_until(NULL, FRAME_MS);
        if (until && until())
            return;
    }
}

/* The layer of a received packet (its payload's last byte). */
static int layer_of(const rx_packet *r)
{
    return r->plen ? r->payload[r->plen - 1] : -1;
}

/* Every packet of c on one SSRC, sequence numbers without a gap, timestamps
 * rising, picture ids following on; first: the index of the first packet
 * checked (the packets since an earlier check). */
static void check_continuous(const client *c, uint32_t ssrc, int first)
{
    int prev = -1;
    for (int i = first; i < c->n_rx; i++) {
        const rx_packet *r = &c->rx[i];
        CHECKF(r->ssrc == ssrc, "packet %d: SSRC %08x", i, r->ssrc);
        if (prev >= 0) {
            const rx_packet *q = &c->rx[prev];
            uint16_t pid = (uint16_t)((r->payload[2] & 0x7f) << 8 | r->payload[3]);
            uint16_t qpid = (uint16_t)((q->payload[2] & 0x7f) << 8 | q->payload[3]);
            CHECKF(r->seq == (uint16_t)(q->seq + 1), "packet %d: seq %u after %u", i, r->seq, q->seq);
            CHECKF((int32_t)(r->ts - q->ts) > 0, "packet %d: ts %u after %u", i, r->ts, q->ts);
            CHECKF(pid == ((qpid + 1) & 0x7fff), "packet %d: picture id %u after %u", i, pid, qpid);
        }
        prev = i;
    }
}

static int last_layer(const client *c)
{
    return c->n_rx ? layer_of(&c->rx[c->n_rx - 1]) : -1;
}

static bool all_connected(void)
{
    return mc_connected(&ca) && mc_connected(&cb_) && mc_connected(&cc);
}

static bool both_high(void)
{
    return last_layer(&cb_) == 2 && last_layer(&cc) == 2;
}

static bool c_low(void)
{
    return last_layer(&cc) == 0;
}

static bool b_middle(void)
{
    return last_layer(&cb_) == 1;
}

static bool b_high(void)
{
    return last_layer(&cb_) == 2;
}

TEST(setup_and_connect)
{
    parley_router_config rc = {.sfu_ssrc = SFU_SSRC, .pli_interval_ms = 100};
    REQUIRE(mc_setup(&rc) == 0);
    REQUIRE(mc_client_start(&ca) == 0);
    REQUIRE(mc_client_start(&cb_) == 0);
    REQUIRE(mc_client_start(&cc) == 0);
    CHECK(run_until(all_connected, 3000));
}

TEST(simulcast_track_registered)
{
    REQUIRE(all_connected());
    const char *two[2] = {"a", "b"};
    const char *bad[2] = {"a", ""};
    CHECK(parley_router_add_simulcast(router, ca.peer, 7, RID_EXT, two, 1) == -1);  /* one layer */
    CHECK(parley_router_add_simulcast(router, ca.peer, 7, RID_EXT, two, 4) == -1);  /* too many */
    CHECK(parley_router_add_simulcast(router, ca.peer, 7, 0, two, 2) == -1);        /* no extension */
    CHECK(parley_router_add_simulcast(router, ca.peer, 7, RID_EXT, bad, 2) == -1);  /* empty rid */
    REQUIRE(parley_router_add_simulcast(router, ca.peer, SIM_ID, RID_EXT, rids, 3) == 0);
    CHECK(parley_router_add_simulcast(router, ca.peer, SIM_ID, RID_EXT, rids, 3) == -1); /* taken */
    CHECK(parley_router_add_track(router, ca.peer, SIM_ID, true) == -1); /* an id is no SSRC to take */
    REQUIRE(parley_router_subscribe(router, cb_.peer, SIM_ID, B_VIDEO) == 0);
    REQUIRE(parley_router_subscribe(router, cc.peer, SIM_ID, C_VIDEO) == 0);
    CHECK(parley_router_subscribe(router, cc.peer, SIM_ID, C_VIDEO) == -1); /* twice */
    CHECK(parley_router_current_layer(router, cb_.peer, SIM_ID) == -1);  /* nothing yet */
    CHECK(parley_router_set_layer(router, ca.peer, SIM_ID, 0) == -1);    /* no subscription */
    CHECK(parley_router_set_layer(router, cb_.peer, 0x1234, 0) == -1);   /* no such track */
    CHECK(parley_router_set_layer(router, cb_.peer, SIM_ID, -1) == -1);
}

TEST(layers_learned_and_highest_sent)
{
    for (int l = 0; l < 3; l++)
        lay[l] = (typeof(lay[l])){.on = true, .seq = (uint16_t)(1000 * (l + 1)),
                                  .ts = 10000u * (uint32_t)(l + 1), .pid = (uint16_t)(100 * (l + 1))};
    /* a stranger SSRC with a rid that is no layer, and one from B (not the
     * publisher) naming a layer: neither is learned */
    uint8_t pkt[PARLEY_RTP_MAX_PACKET + 64];
    size_t n = layer_packet(pkt, 0, true);
    parley_wr32(pkt + 8, 0xDEAD0001u);
    pkt[17] = 'x';
    client_media(&ca, pkt, n, sizeof pkt, false);
    lay[0] = (typeof(lay[0])){.on = true, .seq = 1000, .ts = 10000, .pid = 100};
    n = layer_packet(pkt, 0, true);
    parley_wr32(pkt + 8, 0xDEAD0002u);
    client_media(&cb_, pkt, n, sizeof pkt, false);
    lay[0] = (typeof(lay[0])){.on = true, .seq = 1000, .ts = 10000, .pid = 100};
    run_until(NULL, 20);

    publish(2000, both_high);
    parley_router_counters k;
    parley_router_get_counters(router, &k);
    CHECKF(k.layers_learned == 3, "%llu", (unsigned long long)k.layers_learned);
    CHECK(k.rtp_unknown_track >= 2);
    CHECK(both_high());
    CHECK(parley_router_current_layer(router, cb_.peer, SIM_ID) == 2);
    CHECK(parley_router_current_layer(router, cc.peer, SIM_ID) == 2);
    publish(200, NULL); /* past the RID-carrying packets: found by SSRC now */
    check_continuous(&cb_, B_VIDEO, 0);
    check_continuous(&cc, C_VIDEO, 0);
    /* each started on a keyframe (of the first layer learned) and has had
     * the high layer alone since it arrived */
    CHECK(cb_.n_rx > 10 && cb_.rx[0].payload[4] == 0x50 && cc.rx[0].payload[4] == 0x50);
    for (int i = cb_.n_rx - 10; i < cb_.n_rx; i++)
        CHECK(layer_of(&cb_.rx[i]) == 2 && layer_of(&cc.rx[i]) == 2);
    /* a subscriber's PLI goes to the layer it is sent, as that layer's SSRC */
    int before = ca.plis;
    run_until(NULL, 120);
    uint8_t fb[PARLEY_RTCP_MAX_PACKET + 64];
    n = parley_rtcp_build_pli(fb, sizeof fb, 0xBBBBBBBBu, B_VIDEO);
    client_media(&cb_, fb, n, sizeof fb, true);
    run_until(NULL, 50);
    CHECKF(ca.plis == before + 1 && ca.pli_media == layer_ssrc[2], "%d %08x", ca.plis - before,
           ca.pli_media);
}

TEST(a_subscriber_picks_the_low_layer_at_its_keyframe)
{
    int b_from = cb_.n_rx, c_from = cc.n_rx;
    int plis = ca.plis;
    REQUIRE(parley_router_set_layer(router, cc.peer, SIM_ID, 0) == 0);
    /* the switch waits for a keyframe of the low layer, asked for by PLI */
    publish(1000, c_low);
    CHECK(c_low());
    CHECK(parley_router_current_layer(router, cc.peer, SIM_ID) == 0);
    bool asked = false;
    for (int i = plis; i < ca.plis && i < 256; i++)
        asked = asked || ca.pli_log[i] == layer_ssrc[0];
    CHECK(asked);
    /* C got the high layer until the low one's keyframe, then only that */
    int first_low = -1;
    for (int i = c_from; i < cc.n_rx; i++)
        if (layer_of(&cc.rx[i]) == 0 && first_low < 0)
            first_low = i;
    REQUIRE(first_low >= 0);
    CHECK(cc.rx[first_low].payload[4] == 0x50); /* a keyframe */
    for (int i = c_from; i < cc.n_rx; i++)
        CHECKF(layer_of(&cc.rx[i]) == (i < first_low ? 2 : 0), "packet %d: layer %d", i,
               layer_of(&cc.rx[i]));
    publish(200, NULL);
    check_continuous(&cc, C_VIDEO, 0);
    /* B is not moved */
    for (int i = b_from; i < cb_.n_rx; i++)
        CHECK(layer_of(&cb_.rx[i]) == 2);
    CHECK(parley_router_current_layer(router, cb_.peer, SIM_ID) == 2);
    /* above the highest is the highest */
    CHECK(parley_router_set_layer(router, cc.peer, SIM_ID, 7) == 0);
    CHECK(parley_router_set_layer(router, cc.peer, SIM_ID, 0) == 0);
}

TEST(fallback_when_the_chosen_layer_stops)
{
    lay[2].on = false;
    /* B asked for nothing: it keeps the last high frames until the layer is
     * stale, then the middle one at its keyframe */
    publish(PARLEY_ROUTER_LAYER_STALE_MS / 2, NULL);
    CHECK(last_layer(&cb_) == 2);
    publish(PARLEY_ROUTER_LAYER_STALE_MS * 2, b_middle);
    CHECK(b_middle());
    CHECK(parley_router_current_layer(router, cb_.peer, SIM_ID) == 1);
    CHECK(last_layer(&cc) == 0); /* C stays where it asked */
    /* the high layer comes back: so does B */
    lay[2].on = true;
    publish(2000, b_high);
    CHECK(b_high());
    publish(200, NULL);
    check_continuous(&cb_, B_VIDEO, 0);
    check_continuous(&cc, C_VIDEO, 0);
    /* asked for a layer that stopped, with nothing lower: the next higher */
    lay[0].on = false;
    publish(PARLEY_ROUTER_LAYER_STALE_MS * 2, NULL);
    CHECKF(last_layer(&cc) == 1, "%d", last_layer(&cc));
    lay[0].on = true;
    publish(1000, c_low);
    CHECK(c_low());
    check_continuous(&cc, C_VIDEO, 0);
    CHECK(cb_.auth_failures == 0 && cc.auth_failures == 0);
}

TEST(nack_answered_from_the_layer_sent)
{
    /* C loses a packet of the low layer before SRTP sees it and NACKs it */
    cc.video_seen = 0;
    cc.drop_at = 3;
    cc.drop_ssrc = C_VIDEO;
    publish(200, NULL);
    cc.drop_ssrc = 0;
    REQUIRE(cc.dropped);
    int before = cc.n_rx;
    uint8_t fb[PARLEY_RTCP_MAX_PACKET + 64];
    uint16_t seqs[1] = {cc.dropped_seq};
    size_t n = parley_rtcp_build_nack(fb, sizeof fb, 0xCCCCCCCCu, C_VIDEO, seqs, 1);
    client_media(&cc, fb, n, sizeof fb, true);
    run_until(NULL, 100);
    parley_router_counters k;
    parley_router_get_counters(router, &k);
    CHECKF(k.nack_items == 1 && k.retransmitted == 1, "%llu %llu", (unsigned long long)k.nack_items,
           (unsigned long long)k.retransmitted);
    REQUIRE(cc.n_rx == before + 1);
    const rx_packet *r = &cc.rx[cc.n_rx - 1];
    CHECK(r->ssrc == C_VIDEO && r->seq == cc.dropped_seq && layer_of(r) == 0);
    /* it fits between its neighbours */
    const rx_packet *prev = NULL, *next = NULL;
    for (int i = 0; i < before; i++) {
        if (cc.rx[i].seq == (uint16_t)(r->seq - 1))
            prev = &cc.rx[i];
        if (cc.rx[i].seq == (uint16_t)(r->seq + 1))
            next = &cc.rx[i];
    }
    REQUIRE(prev && next);
    CHECK((int32_t)(r->ts - prev->ts) > 0 && (int32_t)(next->ts - r->ts) > 0);
}

TEST(unsubscribe_and_teardown)
{
    parley_router_unsubscribe(router, cc.peer, SIM_ID);
    CHECK(parley_router_set_layer(router, cc.peer, SIM_ID, 1) == -1);
    int c_before = cc.n_rx, b_before = cb_.n_rx;
    publish(200, NULL);
    CHECK(cc.n_rx == c_before && cb_.n_rx > b_before);
    /* the publisher goes: its layers and the subscriptions with it */
    parley_router_remove_peer(router, ca.peer);
    CHECK(parley_router_current_layer(router, cb_.peer, SIM_ID) == -1);
    CHECK(parley_router_subscribe(router, cb_.peer, SIM_ID, B_VIDEO) == -1);
    CHECK(mc_teardown() == 0);
}

int main(void)
{
    RUN(setup_and_connect);
    RUN(simulcast_track_registered);
    RUN(layers_learned_and_highest_sent);
    RUN(a_subscriber_picks_the_low_layer_at_its_keyframe);
    RUN(fallback_when_the_chosen_layer_stops);
    RUN(nack_answered_from_the_layer_sent);
    RUN(unsubscribe_and_teardown);
    return tap_done();
}
