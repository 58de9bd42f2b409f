/* test_nack.c - the retransmission buffer (storage, eviction, age, NACK
 * answers across the 65535 wrap) and the loss tracker (gaps, RTT spacing,
 * retry limit, recovery, wraparound, jumps) of sfu/nack.h. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nack.h"
#include "../lib/tap.h"

static size_t packet(uint8_t *b, uint16_t seq, size_t len)
{
    memset(b, 0, len);
    b[0] = 0x80;
    b[1] = 96;
    parley_wr16(b + 2, seq);
    b[len - 1] = (uint8_t)seq;
    return len;
}

typedef struct sent_log {
    uint16_t seqs[64];
    unsigned n;
} sent_log;

static void record(void *arg, const uint8_t *pkt, size_t len)
{
    sent_log *l = arg;
    if (l->n < 64 && len >= 4)
        l->seqs[l->n++] = parley_rd16(pkt + 2);
}

TEST(buffer_sizes)
{
    parley_nack_buffer b;
    CHECK(parley_nack_buffer_init(&b, 0, 0) == -1);
    CHECK(parley_nack_buffer_init(&b, 500, 0) == -1);
    CHECK(parley_nack_buffer_init(&b, 8, 0) == -1);
    CHECK(parley_nack_buffer_init(&b, 65536, 0) == -1);
    CHECK(b.slots == NULL);
    parley_nack_buffer_free(&b);
    REQUIRE(parley_nack_buffer_init(&b, 512, 0) == 0);
    uint8_t big[PARLEY_RTP_MAX_PACKET + 1];
    packet(big, 1, sizeof big);
    CHECK(!parley_nack_buffer_put(&b, 1, big, sizeof big, 0));
    CHECK(!parley_nack_buffer_put(&b, 1, big, 0, 0));
    CHECK(parley_nack_buffer_put(&b, 1, big, PARLEY_RTP_MAX_PACKET, 0));
    parley_nack_buffer_free(&b);
    parley_nack_buffer_free(&b); /* twice is fine */
}

TEST(buffer_stores_and_evicts)
{
    parley_nack_buffer b;
    REQUIRE(parley_nack_buffer_init(&b, 512, 0) == 0);
    uint8_t p[200];
    size_t len;
    for (unsigned s = 0; s < 512; s++)
        parley_nack_buffer_put(&b, (uint16_t)s, p, packet(p, (uint16_t)s, 100 + s % 50), s);
    const uint8_t *got = parley_nack_buffer_get(&b, 0, &len, 600);
    CHECK(got && len == 100 && parley_rd16(got + 2) == 0);
    got = parley_nack_buffer_get(&b, 511, &len, 600);
    CHECK(got && len == 100 + 511 % 50 && got[len - 1] == (uint8_t)511);
    CHECK(!parley_nack_buffer_get(&b, 512, &len, 600)); /* never stored */
    /* 100 more: the oldest 100 are gone, the rest still there */
    for (unsigned s = 512; s < 612; s++)
        parley_nack_buffer_put(&b, (uint16_t)s, p, packet(p, (uint16_t)s, 60), s);
    CHECK(!parley_nack_buffer_get(&b, 0, &len, 700));
    CHECK(!parley_nack_buffer_get(&b, 99, &len, 700));
    CHECK(parley_nack_buffer_get(&b, 100, &len, 700) != NULL);
    CHECK(parley_nack_buffer_get(&b, 611, &len, 700) != NULL && len == 60);
    /* a sequence number 65536 away in the same slot is not a hit */
    CHECK(!parley_nack_buffer_get(&b, (uint16_t)(100 + 65536 - 512), &len, 700));
    parley_nack_buffer_free(&b);
}

TEST(buffer_age_limit)
{
    parley_nack_buffer b;
    REQUIRE(parley_nack_buffer_init(&b, 128, 1000) == 0);
    uint8_t p[64];
    size_t len;
    parley_nack_buffer_put(&b, 7, p, packet(p, 7, 64), 5000);
    CHECK(parley_nack_buffer_get(&b, 7, &len, 6000) != NULL);
    CHECK(parley_nack_buffer_get(&b, 7, &len, 6001) == NULL);
    parley_nack_buffer_free(&b);
}

TEST(buffer_answers_nack_across_wrap)
{
    parley_nack_buffer b;
    REQUIRE(parley_nack_buffer_init(&b, 64, 0) == 0);
    uint8_t p[80];
    for (uint32_t s = 65530; s < 65536 + 12; s++)
        if (s != 65535 && s != 65536 + 3) /* two never arrived */
            parley_nack_buffer_put(&b, (uint16_t)s, p, packet(p, (uint16_t)s, 80), 0);
    sent_log log = {0};
    /* PID 65533, BLP: +1 (65534) +2 (65535, missing) +3 (0) +6 (3, missing) +16 (13, beyond) */
    uint16_t blp = 1u << 0 | 1u << 1 | 1u << 2 | 1u << 5 | 1u << 15;
    unsigned n = parley_nack_buffer_answer(&b, 65533, blp, 10, record, &log);
    CHECK(n == 3 && log.n == 3);
    CHECK(log.seqs[0] == 65533 && log.seqs[1] == 65534 && log.seqs[2] == 0);
    CHECK(b.hits == 3 && b.misses == 3);
    parley_nack_buffer_free(&b);
}

TEST(tracker_requests_gaps)
{
    parley_nack_tracker t;
    parley_nack_tracker_init(&t, 3, 20);
    uint16_t out[32];
    for (uint16_t s = 0; s < 10; s++)
        CHECK(parley_nack_tracker_on_packet(&t, s));
    CHECK(parley_nack_tracker_collect(&t, 0, 50, out, 32) == 0);
    CHECK(parley_nack_tracker_on_packet(&t, 12)); /* 10 and 11 missing */
    CHECK(parley_nack_tracker_on_packet(&t, 12)); /* a duplicate changes nothing */
    CHECK(parley_nack_tracker_pending(&t) == 2);
    REQUIRE(parley_nack_tracker_collect(&t, 1000, 50, out, 32) == 2);
    CHECK(out[0] == 10 && out[1] == 11);
    /* not again before one RTT */
    CHECK(parley_nack_tracker_collect(&t, 1049, 50, out, 32) == 0);
    CHECK(parley_nack_tracker_collect(&t, 1050, 50, out, 32) == 2);
    /* 11 arrives (retransmitted): only 10 is left */
    CHECK(parley_nack_tracker_on_packet(&t, 11));
    CHECK(t.recovered == 1 && parley_nack_tracker_pending(&t) == 1);
    /* the minimum interval rules when the RTT is tiny */
    CHECK(parley_nack_tracker_collect(&t, 1060, 1, out, 32) == 0);
    CHECK(parley_nack_tracker_collect(&t, 1070, 1, out, 32) == 1 && out[0] == 10);
    /* three requests made: the next due one gives up instead */
    CHECK(parley_nack_tracker_collect(&t, 2000, 1, out, 32) == 0);
    CHECK(parley_nack_tracker_pending(&t) == 0 && t.lost == 1);
    CHECK(t.requested == 5);
}

TEST(tracker_wraps_and_limits)
{
    parley_nack_tracker t;
    parley_nack_tracker_init(&t, 0, 0); /* defaults */
    CHECK(t.max_retries == 10 && t.min_interval_ms == 20);
    uint16_t out[PARLEY_NACK_MAX_MISSING];
    parley_nack_tracker_on_packet(&t, 65533);
    parley_nack_tracker_on_packet(&t, 65534);
    CHECK(parley_nack_tracker_on_packet(&t, 2)); /* 65535, 0, 1 missing */
    REQUIRE(parley_nack_tracker_collect(&t, 100, 0, out, 8) == 3);
    CHECK(out[0] == 65535 && out[1] == 0 && out[2] == 1);
    CHECK(parley_nack_tracker_on_packet(&t, 0)); /* late, across the wrap */
    CHECK(parley_nack_tracker_pending(&t) == 2);
    /* at most max per call, oldest first; the rest wait their turn */
    CHECK(parley_nack_tracker_on_packet(&t, 20)); /* 3..19 missing too */
    CHECK(parley_nack_tracker_collect(&t, 200, 0, out, 4) == 4 && out[0] == 65535 && out[1] == 1 &&
          out[2] == 3 && out[3] == 4);
    /* a jump beyond what can be tracked: give up, ask for a keyframe */
    CHECK(!parley_nack_tracker_on_packet(&t, (uint16_t)(20 + PARLEY_NACK_MAX_MISSING + 2)));
    CHECK(parley_nack_tracker_pending(&t) == 0);
    /* a full window of gaps slides: the oldest drop out as lost */
    parley_nack_tracker_init(&t, 0, 0);
    parley_nack_tracker_on_packet(&t, 0);
    CHECK(parley_nack_tracker_on_packet(&t, 201)); /* 200 missing */
    uint64_t lost = t.lost;
    CHECK(parley_nack_tracker_on_packet(&t, 302)); /* 100 more (202..301) */
    /* only those within PARLEY_NACK_MAX_MISSING of the newest stay: 46..301 but 201 */
    CHECK(parley_nack_tracker_pending(&t) == 255);
    CHECK(t.lost - lost == 45);
    REQUIRE(parley_nack_tracker_collect(&t, 0, 0, out, 1) == 1);
    CHECK(out[0] == 46);
}

int main(void)
{
    RUN(buffer_sizes);
    RUN(buffer_stores_and_evicts);
    RUN(buffer_age_limit);
    RUN(buffer_answers_nack_across_wrap);
    RUN(tracker_requests_gaps);
    RUN(tracker_wraps_and_limits);
    return tap_done();
}
