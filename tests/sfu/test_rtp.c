/* test_rtp.c - RTP header parsing, header extensions, audio level, the VP8
 * payload descriptor and in-place rewriting (sfu/rtp.h), on packets built
 * here the way browsers send them. */
#include <stdint.h>
#include <string.h>

#include "rtp.h"
#include "../lib/tap.h"

/* A packet: fixed header, ncsrc CSRCs, an extension block (profile + words
 * of elements, when ext is not NULL), payload, padding (pad bytes). */
static size_t build(uint8_t *b, uint8_t pt, uint16_t seq, uint32_t ts, uint32_t ssrc, bool marker,
                    unsigned ncsrc, uint16_t profile, const uint8_t *ext, size_t ext_len,
                    const uint8_t *payload, size_t plen, uint8_t pad)
{
    size_t o = 0;
    b[o++] = (uint8_t)(0x80 | (pad ? 0x20 : 0) | (ext ? 0x10 : 0) | ncsrc);
    b[o++] = (uint8_t)((marker ? 0x80 : 0) | pt);
    parley_wr16(b + o, seq);
    parley_wr32(b + o + 2, ts);
    parley_wr32(b + o + 6, ssrc);
    o += 10;
    for (unsigned i = 0; i < ncsrc; i++, o += 4)
        parley_wr32(b + o, 0x1000 + i);
    if (ext) {
        size_t words = (ext_len + 3) / 4;
        parley_wr16(b + o, profile);
        parley_wr16(b + o + 2, (uint16_t)words);
        memset(b + o + 4, 0, words * 4);
        memcpy(b + o + 4, ext, ext_len);
        o += 4 + words * 4;
    }
    if (plen)
        memcpy(b + o, payload, plen);
    o += plen;
    if (pad) {
        memset(b + o, 0, pad);
        o += pad;
        b[o - 1] = pad;
    }
    return o;
}

static const uint8_t opus[] = {0x78, 0x0b, 0xe4, 0xc1, 0x36, 0xec, 0xc5, 0x8d, 0x8c, 0x49};

TEST(parses_plain_header)
{
    uint8_t b[256];
    parley_rtp_header h;
    size_t n = build(b, 111, 4321, 960000, 0xdeadbeef, true, 0, 0, NULL, 0, opus, sizeof opus, 0);
    REQUIRE(parley_rtp_parse(b, n, &h) == PARLEY_RTP_OK);
    CHECK(h.version == 2 && !h.padding && !h.extension && h.marker);
    CHECK(h.payload_type == 111 && h.seq == 4321 && h.timestamp == 960000);
    CHECK(h.ssrc == 0xdeadbeef && h.csrc_count == 0);
    CHECK(h.header_len == 12 && h.payload_len == sizeof opus);
    CHECK(memcmp(b + h.header_len, opus, sizeof opus) == 0);
    CHECK(!parley_rtp_is_rtcp(b, n));
}

TEST(parses_csrcs_and_padding)
{
    uint8_t b[256];
    parley_rtp_header h;
    size_t n = build(b, 96, 1, 2, 3, false, 3, 0, NULL, 0, opus, sizeof opus, 4);
    REQUIRE(parley_rtp_parse(b, n, &h) == PARLEY_RTP_OK);
    CHECK(h.csrc_count == 3 && h.header_len == 24);
    CHECK(h.padding && h.padding_len == 4 && h.payload_len == sizeof opus);
    /* a padding-only packet (bandwidth probing) is fine */
    n = build(b, 96, 1, 2, 3, false, 0, 0, NULL, 0, NULL, 0, 200);
    REQUIRE(parley_rtp_parse(b, n, &h) == PARLEY_RTP_OK);
    CHECK(h.payload_len == 0 && h.padding_len == 200);
}

TEST(rejects_malformed)
{
    uint8_t b[256];
    parley_rtp_header h;
    size_t n = build(b, 96, 1, 2, 3, false, 2, 0, NULL, 0, opus, sizeof opus, 0);
    for (size_t i = 0; i < 20; i++) /* shorter than the fixed header plus CSRCs */
        CHECK(parley_rtp_parse(b, i, &h) == PARLEY_RTP_TRUNCATED);
    CHECK(parley_rtp_parse(b, 20, &h) == PARLEY_RTP_OK);
    b[0] = (uint8_t)((b[0] & 0x3f) | 0x40); /* version 1 */
    CHECK(parley_rtp_parse(b, n, &h) == PARLEY_RTP_BAD_VERSION);
    b[0] = (uint8_t)(b[0] | 0xc0); /* version 3 */
    CHECK(parley_rtp_parse(b, n, &h) == PARLEY_RTP_BAD_VERSION);

    /* extension length running past the packet */
    uint8_t ext[] = {0x10, 0x55, 0, 0};
    n = build(b, 96, 1, 2, 3, false, 0, PARLEY_RTP_EXT_ONE_BYTE, ext, sizeof ext, NULL, 0, 0);
    CHECK(parley_rtp_parse(b, n, &h) == PARLEY_RTP_OK);
    CHECK(parley_rtp_parse(b, n - 1, &h) == PARLEY_RTP_TRUNCATED);
    parley_wr16(b + 14, 2);
    CHECK(parley_rtp_parse(b, n, &h) == PARLEY_RTP_TRUNCATED);
    CHECK(parley_rtp_parse(b, 14, &h) == PARLEY_RTP_TRUNCATED); /* no room for the ext header */

    /* padding: zero count, longer than what follows the header */
    n = build(b, 96, 1, 2, 3, false, 0, 0, NULL, 0, opus, sizeof opus, 2);
    b[n - 1] = 0;
    CHECK(parley_rtp_parse(b, n, &h) == PARLEY_RTP_BAD_PADDING);
    b[n - 1] = (uint8_t)(sizeof opus + 3);
    CHECK(parley_rtp_parse(b, n, &h) == PARLEY_RTP_BAD_PADDING);
    b[n - 1] = (uint8_t)(sizeof opus + 2);
    CHECK(parley_rtp_parse(b, n, &h) == PARLEY_RTP_OK && h.payload_len == 0);
    /* padding flag on a bare header */
    b[0] |= 0x20;
    CHECK(parley_rtp_parse(b, 12, &h) == PARLEY_RTP_BAD_PADDING);
    /* longer than any UDP datagram */
    static uint8_t huge[65536];
    memcpy(huge, b, 12);
    CHECK(parley_rtp_parse(huge, sizeof huge, &h) == PARLEY_RTP_TOO_LONG);
}

TEST(one_byte_extensions)
{
    /* audio level (id 1), padding byte, abs-send-time (id 3, 3 bytes), mid (id 4) */
    uint8_t ext[] = {0x10, 0x80 | 42, 0x00, 0x32, 0x12, 0x34, 0x56, 0x41, 'a', '0'};
    uint8_t b[256];
    parley_rtp_header h;
    size_t n = build(b, 111, 7, 8, 9, false, 0, PARLEY_RTP_EXT_ONE_BYTE, ext, sizeof ext, opus,
                     sizeof opus, 0);
    REQUIRE(parley_rtp_parse(b, n, &h) == PARLEY_RTP_OK);
    CHECK(h.extension && h.ext_profile == 0xBEDE && h.ext_len == 12);
    CHECK(h.header_len == 12 + 4 + 12 && h.payload_len == sizeof opus);
    const uint8_t *d;
    size_t len;
    CHECK(parley_rtp_ext_find(b, &h, 3, &d, &len) && len == 3 && d[0] == 0x12 && d[2] == 0x56);
    CHECK(parley_rtp_ext_find(b, &h, 4, &d, &len) && len == 2 && memcmp(d, "a0", 2) == 0);
    CHECK(!parley_rtp_ext_find(b, &h, 2, &d, &len));
    CHECK(!parley_rtp_ext_find(b, &h, 0, &d, &len));
    CHECK(!parley_rtp_ext_find(b, &h, 15, &d, &len));
    bool voice = false;
    uint8_t level = 0;
    CHECK(parley_rtp_audio_level(b, &h, 1, &voice, &level) && voice && level == 42);
    CHECK(!parley_rtp_audio_level(b, &h, 5, &voice, &level));

    /* id 15 stops the walk; an element longer than the block is not found */
    uint8_t stop[] = {0xf0, 0x30, 1, 2, 3, 4, 0, 0};
    n = build(b, 111, 7, 8, 9, false, 0, PARLEY_RTP_EXT_ONE_BYTE, stop, sizeof stop, NULL, 0, 0);
    REQUIRE(parley_rtp_parse(b, n, &h) == PARLEY_RTP_OK);
    CHECK(!parley_rtp_ext_find(b, &h, 3, &d, &len));
    uint8_t over[] = {0x2f, 1, 2, 3};
    n = build(b, 111, 7, 8, 9, false, 0, PARLEY_RTP_EXT_ONE_BYTE, over, sizeof over, NULL, 0, 0);
    REQUIRE(parley_rtp_parse(b, n, &h) == PARLEY_RTP_OK);
    CHECK(!parley_rtp_ext_find(b, &h, 2, &d, &len));
}

TEST(two_byte_extensions)
{
    uint8_t ext[32] = {5, 0, 0, 7, 20};
    for (int i = 0; i < 20; i++)
        ext[5 + i] = (uint8_t)(0xa0 + i);
    ext[25] = 1;
    ext[26] = 1;
    ext[27] = 0x80 | 90;
    uint8_t b[256];
    parley_rtp_header h;
    size_t n = build(b, 100, 7, 8, 9, false, 0, PARLEY_RTP_EXT_TWO_BYTE | 0x3, ext, 28, NULL, 0, 0);
    REQUIRE(parley_rtp_parse(b, n, &h) == PARLEY_RTP_OK);
    const uint8_t *d;
    size_t len;
    CHECK(parley_rtp_ext_find(b, &h, 5, &d, &len) && len == 0);
    CHECK(parley_rtp_ext_find(b, &h, 7, &d, &len) && len == 20 && d[0] == 0xa0 && d[19] == 0xb3);
    bool voice;
    uint8_t level;
    CHECK(parley_rtp_audio_level(b, &h, 1, &voice, &level) && voice && level == 90);
    CHECK(!parley_rtp_ext_find(b, &h, 200, &d, &len));
    /* an unknown profile has no elements to find */
    parley_wr16(b + 12, 0x1234);
    REQUIRE(parley_rtp_parse(b, n, &h) == PARLEY_RTP_OK);
    CHECK(!parley_rtp_ext_find(b, &h, 7, &d, &len));
}

TEST(vp8_descriptor)
{
    /* X=1 S=1 PID=0; I L T K; 15-bit picture id 0x1234; TL0PICIDX 9; TID 2 Y KEYIDX 5;
     * then a keyframe's payload header (P bit 0) and start code */
    uint8_t key[] = {0x90, 0xf0, 0x80 | 0x12, 0x34, 9, 0x80 | 0x20 | 5, 0x50, 0x42, 0x00, 0x9d,
                     0x01, 0x2a};
    parley_vp8_desc d;
    REQUIRE(parley_vp8_parse(key, sizeof key, &d));
    CHECK(d.start && d.partition == 0 && !d.non_reference);
    CHECK(d.has_picture_id && d.picture_id_16 && d.picture_id == 0x1234);
    CHECK(d.has_tl0picidx && d.tl0picidx == 9);
    CHECK(d.has_tid && d.tid == 2 && d.layer_sync && d.has_keyidx && d.keyidx == 5);
    CHECK(d.desc_len == 6 && d.frame_start && d.keyframe);

    /* an interframe: P bit set; 7-bit picture id */
    uint8_t inter[] = {0x90, 0x80, 0x33, 0x31, 0x01, 0x00};
    REQUIRE(parley_vp8_parse(inter, sizeof inter, &d));
    CHECK(d.picture_id == 0x33 && !d.picture_id_16 && d.desc_len == 3);
    CHECK(d.frame_start && !d.keyframe);

    /* the rest of a keyframe: S=0 is no frame start, whatever the bytes */
    uint8_t cont[] = {0x80, 0x80, 0x33, 0x50};
    REQUIRE(parley_vp8_parse(cont, sizeof cont, &d));
    CHECK(!d.frame_start && !d.keyframe);
    /* a later partition's start (PID 1) is no frame start either */
    uint8_t part[] = {0x11, 0x50};
    REQUIRE(parley_vp8_parse(part, sizeof part, &d));
    CHECK(d.start && d.partition == 1 && !d.frame_start && !d.keyframe);
    /* without the extension byte */
    uint8_t bare[] = {0x10, 0x50};
    REQUIRE(parley_vp8_parse(bare, sizeof bare, &d));
    CHECK(d.desc_len == 1 && d.keyframe && !d.has_picture_id);

    /* rewriting picture id and TL0PICIDX in place, in both picture id forms */
    REQUIRE(parley_vp8_parse(key, sizeof key, &d));
    parley_vp8_set_picture_id(key, &d, 0x7abc);
    parley_vp8_set_tl0picidx(key, &d, 200);
    REQUIRE(parley_vp8_parse(key, sizeof key, &d));
    CHECK(d.picture_id == 0x7abc && d.picture_id_16 && d.tl0picidx == 200 && d.keyidx == 5);
    parley_vp8_set_picture_id(key, &d, 0x8001); /* taken modulo 2^15 */
    REQUIRE(parley_vp8_parse(key, sizeof key, &d));
    CHECK(d.picture_id == 1 && d.picture_id_16);
    REQUIRE(parley_vp8_parse(inter, sizeof inter, &d));
    parley_vp8_set_picture_id(inter, &d, 0x1ff);
    parley_vp8_set_tl0picidx(inter, &d, 9); /* absent: untouched */
    REQUIRE(parley_vp8_parse(inter, sizeof inter, &d));
    CHECK(d.picture_id == 0x7f && !d.picture_id_16 && !d.has_tl0picidx && !d.keyframe);
    REQUIRE(parley_vp8_parse(bare, sizeof bare, &d));
    parley_vp8_set_picture_id(bare, &d, 5); /* no descriptor field: untouched */
    REQUIRE(parley_vp8_parse(bare, sizeof bare, &d));
    CHECK(!d.has_picture_id && bare[1] == 0x50);

    /* every truncation of the keyframe's descriptor is refused */
    for (size_t i = 0; i <= 6; i++)
        CHECK(!parley_vp8_parse(key, i, &d));
    CHECK(parley_vp8_parse(key, 7, &d) && d.keyframe);
}

TEST(rewrites_in_place)
{
    uint8_t b[256];
    parley_rtp_header h;
    uint8_t ext[] = {0x10, 0x80 | 42};
    size_t n = build(b, 96, 65535, 0xffffffff, 0x11111111, true, 1, PARLEY_RTP_EXT_ONE_BYTE, ext,
                     sizeof ext, opus, sizeof opus, 0);
    parley_rtp_set_ssrc(b, 0xcafebabe);
    parley_rtp_set_seq(b, 17);
    parley_rtp_set_timestamp(b, 123456789);
    parley_rtp_set_payload_type(b, 98);
    REQUIRE(parley_rtp_parse(b, n, &h) == PARLEY_RTP_OK);
    CHECK(h.ssrc == 0xcafebabe && h.seq == 17 && h.timestamp == 123456789);
    CHECK(h.payload_type == 98 && h.marker && h.csrc_count == 1 && h.extension);
    bool voice;
    uint8_t level;
    CHECK(parley_rtp_audio_level(b, &h, 1, &voice, &level) && level == 42);
    parley_rtp_set_payload_type(b, 0xff); /* only 7 bits land, marker kept */
    REQUIRE(parley_rtp_parse(b, n, &h) == PARLEY_RTP_OK);
    CHECK(h.payload_type == 127 && h.marker);
}

TEST(demultiplexes_rtcp)
{
    uint8_t sr[] = {0x80, 200, 0, 6};
    uint8_t rtp[] = {0x80, 96, 0, 6};
    uint8_t rtp_m[] = {0x80, 0x80 | 96, 0, 6};
    CHECK(parley_rtp_is_rtcp(sr, sizeof sr));
    CHECK(!parley_rtp_is_rtcp(rtp, sizeof rtp));
    CHECK(!parley_rtp_is_rtcp(rtp_m, sizeof rtp_m));
    CHECK(!parley_rtp_is_rtcp(sr, 1));
}

int main(void)
{
    RUN(parses_plain_header);
    RUN(parses_csrcs_and_padding);
    RUN(rejects_malformed);
    RUN(one_byte_extensions);
    RUN(two_byte_extensions);
    RUN(vp8_descriptor);
    RUN(rewrites_in_place);
    RUN(demultiplexes_rtcp);
    return tap_done();
}
