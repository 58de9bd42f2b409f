/* test_rtcp.c - compound RTCP (sfu/rtcp.h): built packets read back field
 * by field, feedback recognised by type, NACK items across the 65535 wrap,
 * malformed packets refused as a whole, and feedback rewritten toward a
 * publisher. */
#include <stdint.h>
#include <string.h>

#include "rtcp.h"
#include "rtp.h"
#include "../lib/tap.h"

/* The kinds in a compound packet, in order; -1 when it is malformed. */
static int kinds(const uint8_t *b, size_t n, parley_rtcp_kind *out, int max)
{
    parley_rtcp_iter it;
    parley_rtcp_packet p;
    int r, k = 0;
    parley_rtcp_iter_init(&it, b, n);
    while ((r = parley_rtcp_next(&it, &p)) == 1)
        if (k < max)
            out[k++] = p.kind;
    return r < 0 ? -1 : k;
}

static size_t remb(uint8_t *b, uint32_t sender, unsigned exp, uint32_t mantissa,
                   const uint32_t *ssrcs, unsigned n)
{
    size_t len = 20 + 4u * n;
    b[0] = 0x80 | PARLEY_RTCP_FMT_AFB;
    b[1] = PARLEY_RTCP_PSFB;
    parley_wr16(b + 2, (uint16_t)(len / 4 - 1));
    parley_wr32(b + 4, sender);
    parley_wr32(b + 8, 0);
    memcpy(b + 12, "REMB", 4);
    b[16] = (uint8_t)n;
    b[17] = (uint8_t)(exp << 2 | mantissa >> 16);
    b[18] = (uint8_t)(mantissa >> 8);
    b[19] = (uint8_t)mantissa;
    for (unsigned i = 0; i < n; i++)
        parley_wr32(b + 20 + 4 * i, ssrcs[i]);
    return len;
}

/* A transport-wide CC feedback with an opaque body of 8 bytes. */
static size_t twcc(uint8_t *b, uint32_t sender, uint32_t media)
{
    b[0] = 0x80 | PARLEY_RTCP_FMT_TWCC;
    b[1] = PARLEY_RTCP_RTPFB;
    parley_wr16(b + 2, 4);
    parley_wr32(b + 4, sender);
    parley_wr32(b + 8, media);
    memset(b + 12, 0xab, 8);
    return 20;
}

TEST(sr_and_sdes_round_trip)
{
    uint8_t b[PARLEY_RTCP_MAX_PACKET];
    parley_rtcp_sr sr = {.ssrc = 0x01020304, .ntp = 0xe8d4a51000112233ull, .rtp_ts = 987654,
                         .packet_count = 1000, .octet_count = 123456};
    parley_rtcp_report_block rb[2] = {
        {.ssrc = 0xaaaa, .fraction_lost = 25, .cumulative_lost = 1234, .highest_seq = 0x1fffe,
         .jitter = 40, .lsr = 0x11223344, .dlsr = 65536},
        {.ssrc = 0xbbbb, .fraction_lost = 0, .cumulative_lost = -3, .highest_seq = 7},
    };
    size_t n = parley_rtcp_build_sr(b, sizeof b, &sr, rb, 2);
    REQUIRE(n == 28 + 48);
    size_t m = parley_rtcp_build_sdes_cname(b + n, sizeof b - n, sr.ssrc, "parley-cname-1");
    REQUIRE(m > 0 && m % 4 == 0);
    n += m;
    REQUIRE(parley_rtcp_valid(b, n));

    parley_rtcp_iter it;
    parley_rtcp_packet p;
    parley_rtcp_iter_init(&it, b, n);
    REQUIRE(parley_rtcp_next(&it, &p) == 1);
    CHECK(p.kind == PARLEY_RTCP_KIND_SR && p.count == 2 && p.ssrc == sr.ssrc);
    parley_rtcp_sr got;
    parley_rtcp_sr_info(&p, &got);
    CHECK(got.ntp == sr.ntp && got.rtp_ts == sr.rtp_ts && got.packet_count == 1000 &&
          got.octet_count == 123456);
    parley_rtcp_report_block g;
    parley_rtcp_report(&p, 0, &g);
    CHECK(g.ssrc == 0xaaaa && g.fraction_lost == 25 && g.cumulative_lost == 1234);
    CHECK(g.highest_seq == 0x1fffe && g.jitter == 40 && g.lsr == 0x11223344 && g.dlsr == 65536);
    parley_rtcp_report(&p, 1, &g);
    CHECK(g.ssrc == 0xbbbb && g.cumulative_lost == -3 && g.highest_seq == 7);

    REQUIRE(parley_rtcp_next(&it, &p) == 1);
    CHECK(p.kind == PARLEY_RTCP_KIND_SDES);
    uint32_t ssrc;
    const char *cname;
    size_t clen;
    CHECK(parley_rtcp_sdes_cname(&p, &ssrc, &cname, &clen) && ssrc == sr.ssrc &&
          clen == 14 && memcmp(cname, "parley-cname-1", 14) == 0);
    CHECK(parley_rtcp_next(&it, &p) == 0);

    /* no room: nothing written */
    CHECK(parley_rtcp_build_sr(b, 28 + 47, &sr, rb, 2) == 0);
    CHECK(parley_rtcp_build_sdes_cname(b, 16, 1, "parley-cname-1") == 0);
}

TEST(feedback_kinds_in_one_compound)
{
    uint8_t b[PARLEY_RTCP_MAX_PACKET];
    size_t n = parley_rtcp_build_rr(b, sizeof b, 0x5150, NULL, 0);
    uint16_t seqs[] = {100, 101, 103, 120};
    n += parley_rtcp_build_nack(b + n, sizeof b - n, 0x5150, 0xa1, seqs, 4);
    n += parley_rtcp_build_pli(b + n, sizeof b - n, 0x5150, 0xa1);
    n += parley_rtcp_build_fir(b + n, sizeof b - n, 0x5150, 0xa1, 7);
    uint32_t rs[] = {0xa1, 0xa2};
    n += remb(b + n, 0x5150, 3, 150000, rs, 2);
    n += twcc(b + n, 0x5150, 0xa1);
    /* BYE with a reason */
    uint8_t bye[] = {0x81, 203, 0, 2, 0, 0, 0x51, 0x50, 4, 'g', 'o', 'n'};
    bye[8] = 3;
    memcpy(b + n, bye, sizeof bye);
    n += sizeof bye;
    REQUIRE(parley_rtcp_valid(b, n));

    parley_rtcp_kind k[10];
    REQUIRE(kinds(b, n, k, 10) == 7);
    CHECK(k[0] == PARLEY_RTCP_KIND_RR && k[1] == PARLEY_RTCP_KIND_NACK &&
          k[2] == PARLEY_RTCP_KIND_PLI && k[3] == PARLEY_RTCP_KIND_FIR &&
          k[4] == PARLEY_RTCP_KIND_REMB && k[5] == PARLEY_RTCP_KIND_TWCC &&
          k[6] == PARLEY_RTCP_KIND_BYE);

    parley_rtcp_iter it;
    parley_rtcp_packet p;
    parley_rtcp_iter_init(&it, b, n);
    while (parley_rtcp_next(&it, &p) == 1) {
        if (p.kind == PARLEY_RTCP_KIND_NACK) {
            CHECK(p.ssrc == 0x5150 && p.media_ssrc == 0xa1);
            REQUIRE(parley_rtcp_nack_items(&p) == 2);
            uint16_t pid, blp;
            parley_rtcp_nack_item(&p, 0, &pid, &blp);
            CHECK(pid == 100 && blp == 0x0005);
            parley_rtcp_nack_item(&p, 1, &pid, &blp);
            CHECK(pid == 120 && blp == 0);
        } else if (p.kind == PARLEY_RTCP_KIND_FIR) {
            uint32_t s;
            uint8_t seq;
            REQUIRE(parley_rtcp_fir_items(&p) == 1);
            parley_rtcp_fir_item(&p, 0, &s, &seq);
            CHECK(s == 0xa1 && seq == 7 && p.media_ssrc == 0);
        } else if (p.kind == PARLEY_RTCP_KIND_REMB) {
            CHECK(parley_rtcp_remb_bitrate(&p) == 150000ull << 3);
            CHECK(parley_rtcp_remb_ssrcs(&p) == 2 && parley_rtcp_remb_ssrc(&p, 1) == 0xa2);
        } else if (p.kind == PARLEY_RTCP_KIND_BYE) {
            CHECK(p.count == 1 && parley_rtcp_bye_ssrc(&p, 0) == 0x5150);
        } else if (p.kind == PARLEY_RTCP_KIND_PLI) {
            CHECK(p.media_ssrc == 0xa1 && p.len == 12);
        }
    }
}

TEST(nack_items_across_wraparound)
{
    uint16_t exp[17];
    unsigned n = parley_rtcp_nack_expand(65535, 0xffff, exp);
    REQUIRE(n == 17);
    CHECK(exp[0] == 65535 && exp[1] == 0 && exp[16] == 15);
    n = parley_rtcp_nack_expand(65534, 0x8001, exp);
    CHECK(n == 3 && exp[0] == 65534 && exp[1] == 65535 && exp[2] == 14);

    /* build NACKs for 65530..65535, 0..5, 40: three runs at most, read back all */
    uint16_t seqs[13];
    for (int i = 0; i < 12; i++)
        seqs[i] = (uint16_t)(65530 + i);
    seqs[12] = 40;
    uint8_t b[256];
    size_t len = parley_rtcp_build_nack(b, sizeof b, 1, 2, seqs, 13);
    REQUIRE(len == 12 + 4 * 2);
    parley_rtcp_iter it;
    parley_rtcp_packet p;
    parley_rtcp_iter_init(&it, b, len);
    REQUIRE(parley_rtcp_next(&it, &p) == 1 && p.kind == PARLEY_RTCP_KIND_NACK);
    uint16_t all[40];
    unsigned total = 0;
    for (unsigned i = 0; i < parley_rtcp_nack_items(&p); i++) {
        uint16_t pid, blp;
        parley_rtcp_nack_item(&p, i, &pid, &blp);
        total += parley_rtcp_nack_expand(pid, blp, all + total);
    }
    REQUIRE(total == 13);
    CHECK(memcmp(all, seqs, sizeof seqs) == 0);
    CHECK(parley_rtcp_build_nack(b, sizeof b, 1, 2, seqs, 0) == 0);
    CHECK(parley_rtcp_build_nack(b, 16, 1, 2, seqs, 13) == 0); /* two items need 20 */
}

static bool refused(const uint8_t *b, size_t n)
{
    parley_rtcp_kind k[8];
    return !parley_rtcp_valid(b, n) && kinds(b, n, k, 8) == -1;
}

TEST(malformed_compounds_refused)
{
    uint8_t b[512], c[512];
    size_t n = parley_rtcp_build_rr(b, sizeof b, 1, NULL, 0);
    n += parley_rtcp_build_pli(b + n, sizeof b - n, 1, 2);
    n += parley_rtcp_build_sdes_cname(b + n, sizeof b - n, 1, "abc");
    REQUIRE(parley_rtcp_valid(b, n));
    /* every cut that does not fall between packets */
    for (size_t i = 0; i < n; i++)
        if (i != 8 && i != 20)
            CHECKF(!parley_rtcp_valid(b, i), "cut at %zu", i);
    CHECK(!parley_rtcp_valid(b, 0));

    memcpy(c, b, n);
    c[0] = 0x40; /* version 1 */
    CHECK(refused(c, n));
    memcpy(c, b, n);
    c[1] = 150; /* not an RTCP type */
    CHECK(refused(c, n));
    memcpy(c, b, n);
    c[0] |= 0x20; /* padding on the first packet */
    CHECK(refused(c, n));
    memcpy(c, b, n);
    c[0] = 0x81; /* RR claims a report block it has no room for */
    CHECK(refused(c, n));
    memcpy(c, b, n);
    parley_wr16(c + 2, 200); /* length past the end */
    CHECK(refused(c, n));

    /* padding on the last packet: fine when sane */
    size_t m = parley_rtcp_build_pli(c, sizeof c, 1, 2);
    c[0] |= 0x20;
    memset(c + m, 0, 4);
    c[m + 3] = 4;
    parley_wr16(c + 2, 3);
    CHECK(parley_rtcp_valid(c, m + 4));
    c[m + 3] = 0;
    CHECK(refused(c, m + 4));
    c[m + 3] = 13;
    CHECK(refused(c, m + 4));

    /* SDES chunk without its terminating zero */
    uint8_t sdes[] = {0x81, 202, 0, 2, 0, 0, 0, 1, 1, 2, 'a', 'b'};
    CHECK(refused(sdes, sizeof sdes));
    /* NACK without an item, FIR with half an entry */
    m = parley_rtcp_build_pli(c, sizeof c, 1, 2);
    c[0] = 0x80 | PARLEY_RTCP_FMT_NACK;
    c[1] = PARLEY_RTCP_RTPFB;
    CHECK(refused(c, m));
    c[0] = 0x80 | PARLEY_RTCP_FMT_FIR;
    c[1] = PARLEY_RTCP_PSFB;
    memset(c + 12, 0, 4);
    parley_wr16(c + 2, 3);
    CHECK(refused(c, 16));
    /* REMB claiming more SSRCs than it carries */
    uint32_t rs[] = {5};
    m = remb(c, 1, 0, 1000, rs, 1);
    c[16] = 2;
    CHECK(refused(c, m));
    /* an empty SR */
    uint8_t sr[] = {0x80, 200, 0, 1, 0, 0, 0, 1};
    CHECK(refused(sr, sizeof sr));
    /* BYE reason longer than the packet */
    uint8_t bye[] = {0x81, 203, 0, 2, 0, 0, 0, 1, 9, 'x', 'y', 'z'};
    CHECK(refused(bye, sizeof bye));
}

TEST(remb_bitrate_saturates)
{
    uint8_t b[64];
    uint32_t s = 1;
    parley_rtcp_packet p;
    parley_rtcp_iter it;
    size_t n = remb(b, 1, 63, 0x3ffff, &s, 1);
    parley_rtcp_iter_init(&it, b, n);
    REQUIRE(parley_rtcp_next(&it, &p) == 1 && p.kind == PARLEY_RTCP_KIND_REMB);
    CHECK(parley_rtcp_remb_bitrate(&p) == UINT64_MAX);
    n = remb(b, 1, 46, 0x3ffff, &s, 1);
    parley_rtcp_iter_init(&it, b, n);
    REQUIRE(parley_rtcp_next(&it, &p) == 1);
    CHECK(parley_rtcp_remb_bitrate(&p) == 0x3ffffull << 46);
    /* application feedback that is not REMB: recognised, skipped */
    memcpy(b + 12, "ABCD", 4);
    parley_rtcp_iter_init(&it, b, n);
    REQUIRE(parley_rtcp_next(&it, &p) == 1);
    CHECK(p.kind == PARLEY_RTCP_KIND_OTHER);
}

TEST(remb_built_and_read_back)
{
    uint8_t b[64];
    uint32_t ssrcs[] = {0xa001, 0xa002};
    parley_rtcp_packet p;
    parley_rtcp_iter it;
    /* 2.5 Mbit/s fits the 18-bit mantissa exactly (156250 << 4) */
    size_t n = parley_rtcp_build_remb(b, sizeof b, 0x5f0, 2500000, ssrcs, 2);
    CHECK(n == 28);
    parley_rtcp_iter_init(&it, b, n);
    REQUIRE(parley_rtcp_next(&it, &p) == 1 && p.kind == PARLEY_RTCP_KIND_REMB);
    CHECK(p.ssrc == 0x5f0 && p.media_ssrc == 0);
    CHECK(parley_rtcp_remb_bitrate(&p) == 2500000);
    CHECK(parley_rtcp_remb_ssrcs(&p) == 2 && parley_rtcp_remb_ssrc(&p, 1) == 0xa002);
    /* a value past the mantissa is rounded down, never up */
    n = parley_rtcp_build_remb(b, sizeof b, 1, 1000001, ssrcs, 1);
    parley_rtcp_iter_init(&it, b, n);
    REQUIRE(parley_rtcp_next(&it, &p) == 1);
    CHECK(parley_rtcp_remb_bitrate(&p) <= 1000001 && parley_rtcp_remb_bitrate(&p) > 999990);
    CHECK(parley_rtcp_build_remb(b, sizeof b, 1, 0, NULL, 0) == 20);
    CHECK(parley_rtcp_build_remb(b, 23, 1, 1, ssrcs, 1) == 0); /* does not fit */
}

/* subscriber-facing SSRCs 0x5001/0x5002 are publishers' 0xa001/0xa002 */
static bool map_ssrc(void *arg, uint32_t from, uint32_t *to)
{
    (*(int *)arg)++;
    if (from != 0x5001 && from != 0x5002)
        return false;
    *to = from - 0x5001 + 0xa001;
    return true;
}

TEST(feedback_rewritten_for_publisher)
{
    uint8_t b[PARLEY_RTCP_MAX_PACKET];
    size_t n = parley_rtcp_build_rr(b, sizeof b, 0x777, NULL, 0);
    n += parley_rtcp_build_pli(b + n, sizeof b - n, 0x777, 0x5001);
    uint16_t seqs[] = {1, 2};
    n += parley_rtcp_build_nack(b + n, sizeof b - n, 0x777, 0x5001, seqs, 2); /* answered here */
    n += parley_rtcp_build_pli(b + n, sizeof b - n, 0x777, 0x9999); /* unknown SSRC */
    uint32_t rs[] = {0x5001, 0x5002};
    n += remb(b + n, 0x777, 2, 1000, rs, 2);
    n += twcc(b + n, 0x777, 0x5001);
    n += parley_rtcp_build_fir(b + n, sizeof b - n, 0x777, 0x5002, 3);
    n += parley_rtcp_build_sdes_cname(b + n, sizeof b - n, 0x777, "sub");
    int calls = 0;
    size_t out = parley_rtcp_feedback_to_publisher(b, n, 0x5fu, map_ssrc, &calls);
    REQUIRE(out == 12 + 28 + 20);
    CHECK(calls == 5); /* PLI, unknown PLI, REMB x2, FIR; never the NACK */
    parley_rtcp_kind k[8];
    REQUIRE(kinds(b, out, k, 8) == 3);
    CHECK(k[0] == PARLEY_RTCP_KIND_PLI && k[1] == PARLEY_RTCP_KIND_REMB && k[2] == PARLEY_RTCP_KIND_FIR);
    parley_rtcp_iter it;
    parley_rtcp_packet p;
    parley_rtcp_iter_init(&it, b, out);
    while (parley_rtcp_next(&it, &p) == 1) {
        CHECK(p.ssrc == 0x5f);
        if (p.kind == PARLEY_RTCP_KIND_PLI)
            CHECK(p.media_ssrc == 0xa001);
        if (p.kind == PARLEY_RTCP_KIND_REMB)
            CHECK(parley_rtcp_remb_ssrc(&p, 0) == 0xa001 && parley_rtcp_remb_ssrc(&p, 1) == 0xa002 &&
                  parley_rtcp_remb_bitrate(&p) == 4000);
        if (p.kind == PARLEY_RTCP_KIND_FIR) {
            uint32_t s;
            uint8_t seq;
            parley_rtcp_fir_item(&p, 0, &s, &seq);
            CHECK(s == 0xa002 && seq == 3);
        }
    }
    /* nothing to forward; malformed input */
    n = parley_rtcp_build_rr(b, sizeof b, 0x777, NULL, 0);
    CHECK(parley_rtcp_feedback_to_publisher(b, n, 0x5f, map_ssrc, &calls) == 0);
    b[0] = 0;
    CHECK(parley_rtcp_feedback_to_publisher(b, n, 0x5f, map_ssrc, &calls) == 0);
}

TEST(reception_statistics)
{
    parley_rtcp_recv_stats s;
    parley_rtcp_report_block rb;
    parley_rtcp_stats_init(&s, 0xa1, 90000);
    CHECK(!parley_rtcp_stats_report(&s, 0, &rb));
    /* 100 packets from 65500, across the wrap, every 10th lost, perfectly paced */
    int64_t t = 1000;
    for (unsigned i = 0; i < 100; i++, t += 10)
        if (i % 10 != 5)
            parley_rtcp_stats_packet(&s, (uint16_t)(65500 + i), 4294967000u + 900 * i, t);
    REQUIRE(parley_rtcp_stats_report(&s, t, &rb));
    CHECK(rb.ssrc == 0xa1 && rb.highest_seq == 65536u + (uint16_t)(65500 + 99));
    CHECK(rb.cumulative_lost == 10);
    CHECK(rb.fraction_lost == 10 * 256 / 100);
    CHECK(rb.jitter == 0); /* paced exactly, even across the RTP clock's wrap */
    CHECK(rb.lsr == 0 && rb.dlsr == 0);
    /* next interval: nothing lost, a late packet from before does not move the max */
    parley_rtcp_stats_sr(&s, 0x0000123456780000ull, t);
    parley_rtcp_stats_packet(&s, (uint16_t)(65500 + 100), 4294967000u + 90000, t);
    parley_rtcp_stats_packet(&s, (uint16_t)(65500 + 50), 0, t);
    REQUIRE(parley_rtcp_stats_report(&s, t + 500, &rb));
    CHECK(rb.highest_seq == 65536u + (uint16_t)(65500 + 100));
    CHECK(rb.fraction_lost == 0 && rb.cumulative_lost == 9);
    CHECK(rb.lsr == 0x12345678 && rb.dlsr == 32768); /* 0.5 s */
    CHECK(rb.jitter > 0); /* the late one's transit was far off */
    /* round trip through an RR */
    uint8_t b[64];
    size_t n = parley_rtcp_build_rr(b, sizeof b, 0x5f, &rb, 1);
    parley_rtcp_iter it;
    parley_rtcp_packet p;
    parley_rtcp_report_block back;
    parley_rtcp_iter_init(&it, b, n);
    REQUIRE(parley_rtcp_next(&it, &p) == 1 && p.kind == PARLEY_RTCP_KIND_RR && p.count == 1);
    parley_rtcp_report(&p, 0, &back);
    CHECK(back.cumulative_lost == 9 && back.highest_seq == rb.highest_seq && back.jitter == rb.jitter);
}

int main(void)
{
    RUN(sr_and_sdes_round_trip);
    RUN(feedback_kinds_in_one_compound);
    RUN(nack_items_across_wraparound);
    RUN(malformed_compounds_refused);
    RUN(remb_bitrate_saturates);
    RUN(remb_built_and_read_back);
    RUN(feedback_rewritten_for_publisher);
    RUN(reception_statistics);
    return tap_done();
}
