/* test_packetize.c - the VP8 payloader and depacketizer: descriptors, sizes,
 * markers, reassembly in and out of order, duplicates, sequence wrap, a lost
 * packet (stall, skip, inter frames dropped until the next keyframe),
 * malformed payloads, and a jump far ahead. */
#include <stdlib.h>

#include "../lib/tap.h"
#include "packetize.h"

typedef struct pkt {
    uint16_t seq;
    uint32_t ts;
    bool marker;
    size_t len;
    uint8_t data[PARLEY_PACKETIZE_MTU];
} pkt;

static uint8_t frame[8000];

/* Cut a frame of len bytes (keyframe or not) into p[], from seq; the count. */
static int cut(pkt *p, int max, size_t len, bool key, uint16_t seq, uint32_t ts, uint16_t pid)
{
    for (size_t i = 0; i < len; i++)
        frame[i] = (uint8_t)(i * 7 + ts);
    frame[0] = key ? 0x10 : 0x11;
    parley_vp8_packetizer pz;
    if (!parley_vp8_packetizer_init(&pz, frame, len, pid, 0))
        return 0;
    int n = 0;
    while (n < max) {
        bool m = false;
        uint8_t tmp[PARLEY_PACKETIZE_MTU];
        size_t l = parley_vp8_packetizer_next(&pz, tmp, sizeof tmp, &m);
        if (!l)
            break;
        p[n].seq = (uint16_t)(seq + n);
        p[n].ts = ts;
        p[n].marker = m;
        p[n].len = l;
        memcpy(p[n].data, tmp, l);
        n++;
    }
    return n;
}

static int put(parley_vp8_depacketizer *d, const pkt *p)
{
    return parley_vp8_depack_put(d, p->seq, p->ts, p->marker, p->data, p->len);
}

TEST(payloader)
{
    CHECK(parley_vp8_packet_count(0, 0) == 0);
    CHECK(parley_vp8_packet_count(10, 4) == 0);
    CHECK(parley_vp8_packet_count(1196, 1200) == 1);
    CHECK(parley_vp8_packet_count(1197, 1200) == 2);
    parley_vp8_packetizer pz;
    CHECK(!parley_vp8_packetizer_init(&pz, frame, 0, 1, 0));
    uint8_t small[8];
    bool m;
    CHECK(parley_vp8_packetizer_init(&pz, frame, 100, 1, 0));
    CHECK(parley_vp8_packetizer_next(&pz, small, sizeof small, &m) == 0); /* no room */

    pkt p[8];
    int n = cut(p, 8, 3000, true, 10, 90000, 0x7ffe);
    CHECKF(n == 3, "%d packets", n);
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        parley_vp8_desc d;
        REQUIRE(parley_vp8_parse(p[i].data, p[i].len, &d));
        CHECK(p[i].len <= PARLEY_PACKETIZE_MTU);
        CHECK(d.desc_len == PARLEY_VP8_DESC_LEN && d.has_picture_id && d.picture_id_16);
        CHECK(d.picture_id == 0x7ffe);
        CHECK(d.start == (i == 0) && d.partition == 0);
        CHECK(d.keyframe == (i == 0));
        CHECK(p[i].marker == (i == n - 1));
        total += p[i].len - PARLEY_VP8_DESC_LEN;
    }
    CHECK(total == 3000);
    /* balanced: no packet much smaller than the others */
    CHECK(p[2].len + 4 >= p[0].len);
    CHECK(parley_vp8_frame_is_key((const uint8_t[]){0x10}, 1));
    CHECK(!parley_vp8_frame_is_key((const uint8_t[]){0x11}, 1));
    CHECK(!parley_vp8_frame_is_key(NULL, 0));
}

static bool same_frame(const parley_vp8_frame *f, size_t len, bool key, uint32_t ts)
{
    uint8_t want[8000];
    for (size_t i = 0; i < len; i++)
        want[i] = (uint8_t)(i * 7 + ts);
    want[0] = key ? 0x10 : 0x11;
    return f->len == len && f->keyframe == key && f->timestamp == ts && !memcmp(f->data, want, len);
}

TEST(reassembly_in_and_out_of_order)
{
    parley_vp8_depacketizer d;
    REQUIRE(parley_vp8_depack_init(&d) == 0);
    pkt p[16];
    parley_vp8_frame f;
    /* in order, across the sequence wrap */
    int n = cut(p, 16, 5000, true, 65533, 1000, 1);
    REQUIRE(n == 5);
    for (int i = 0; i < n; i++)
        CHECK(put(&d, &p[i]) == 1);
    CHECK(parley_vp8_depack_pop(&d, &f) == 1);
    CHECK(same_frame(&f, 5000, true, 1000));
    CHECK(f.first_seq == 65533 && f.last_seq == 1);
    CHECK(parley_vp8_depack_pop(&d, &f) == 0);
    /* reversed, with duplicates */
    n = cut(p, 16, 2500, false, 2, 4000, 2);
    REQUIRE(n == 3);
    for (int i = n - 1; i >= 0; i--) {
        CHECK(put(&d, &p[i]) == 1);
        CHECK(put(&d, &p[i]) == 0);
        if (i > 0)
            CHECK(parley_vp8_depack_pop(&d, &f) == 0);
    }
    CHECK(parley_vp8_depack_pop(&d, &f) == 1);
    CHECK(same_frame(&f, 2500, false, 4000));
    CHECK(put(&d, &p[0]) == 0 && d.late == 1); /* already consumed */
    CHECK(d.frames == 2 && d.keyframes == 1 && d.dropped_frames == 0);
    parley_vp8_depack_free(&d);
    parley_vp8_depack_free(&d); /* twice is fine */
}

TEST(loss_skip_and_keyframe_gate)
{
    parley_vp8_depacketizer d;
    REQUIRE(parley_vp8_depack_init(&d) == 0);
    pkt a[8], b[8], c[8];
    parley_vp8_frame f;
    int na = cut(a, 8, 3000, true, 100, 10, 1);
    int nb = cut(b, 8, 100, false, (uint16_t)(100 + na), 20, 2);
    int nc = cut(c, 8, 2000, true, (uint16_t)(100 + na + nb), 30, 3);
    REQUIRE(na == 3 && nb == 1 && nc == 2);
    CHECK(put(&d, &a[0]) == 1);
    CHECK(put(&d, &a[2]) == 1); /* a[1] is lost */
    CHECK(put(&d, &b[0]) == 1);
    CHECK(parley_vp8_depack_pop(&d, &f) == 0);
    CHECK(parley_vp8_depack_stalled(&d));
    /* a late retransmission would complete it; give up instead */
    parley_vp8_depack_skip(&d);
    CHECK(d.need_keyframe && d.dropped_frames == 1);
    CHECK(!parley_vp8_depack_stalled(&d));
    /* b is an inter frame: dropped while a keyframe is needed */
    CHECK(parley_vp8_depack_pop(&d, &f) == 0);
    CHECK(d.dropped_frames == 2);
    for (int i = 0; i < nc; i++)
        put(&d, &c[i]);
    CHECK(parley_vp8_depack_pop(&d, &f) == 1);
    CHECK(same_frame(&f, 2000, true, 30));
    CHECK(!d.need_keyframe);
    CHECK(put(&d, &a[1]) == 0); /* too late now */
    parley_vp8_depack_free(&d);
}

TEST(malformed_and_far_ahead)
{
    parley_vp8_depacketizer d;
    REQUIRE(parley_vp8_depack_init(&d) == 0);
    static const uint8_t trunc[] = {0x90, 0x80, 0x80}; /* PictureID cut short */
    CHECK(parley_vp8_depack_put(&d, 1, 1, true, trunc, sizeof trunc) == -1);
    CHECK(parley_vp8_depack_put(&d, 1, 1, true, trunc, 0) == -1);
    CHECK(parley_vp8_depack_put(&d, 1, 1, true, NULL, 4) == -1);
    static const uint8_t only_desc[] = {0x90, 0x80, 0x80, 0x01};
    CHECK(parley_vp8_depack_put(&d, 1, 1, true, only_desc, sizeof only_desc) == -1);
    CHECK(d.bad_payloads == 4);
    pkt p[8];
    parley_vp8_frame f;
    int n = cut(p, 8, 3000, true, 500, 1, 1);
    CHECK(put(&d, &p[0]) == 1); /* a frame left waiting */
    (void)n;
    int m = cut(p, 8, 50, true, 500 + 1000, 2, 2);
    REQUIRE(m == 1);
    CHECK(put(&d, &p[0]) == 1); /* far ahead: the waiting frame is given up */
    CHECK(d.dropped_frames == 1);
    CHECK(parley_vp8_depack_pop(&d, &f) == 1);
    CHECK(same_frame(&f, 50, true, 2));
    parley_vp8_depack_free(&d);
    parley_vp8_depacketizer z = {0};
    CHECK(parley_vp8_depack_pop(&z, &f) == 0);
    CHECK(!parley_vp8_depack_stalled(&z));
    parley_vp8_depack_skip(&z);
    parley_vp8_depack_free(&z);
}

int main(void)
{
    RUN(payloader);
    RUN(reassembly_in_and_out_of_order);
    RUN(loss_skip_and_keyframe_gate);
    RUN(malformed_and_far_ahead);
    return tap_done();
}
