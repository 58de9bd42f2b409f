/* test_srtp.c - SRTP and SRTCP between two peers keyed as DTLS would key
 * them (fixed test keys: the client's write key is the server's remote key),
 * for both profiles: round trips, and every way a packet must be refused. */
#include <stdlib.h>
#include <string.h>

#include "../lib/tap.h"
#include "srtp.h"
#include "srtp_test_keys.h"

static const parley_srtp_profile profiles[] = {PARLEY_SRTP_AEAD_AES_128_GCM,
                                               PARLEY_SRTP_AES128_CM_SHA1_80};

typedef struct pair {
    parley_srtp *client, *server;
} pair;

static pair make_pair(parley_srtp_profile profile)
{
    char err[128];
    parley_dtls_keys kc = srtp_test_keys(profile, true), ks = srtp_test_keys(profile, false);
    pair p = {parley_srtp_new(&kc, err, sizeof err), parley_srtp_new(&ks, err, sizeof err)};
    return p;
}

static void free_pair(pair p)
{
    parley_srtp_free(p.client);
    parley_srtp_free(p.server);
}

/* An RTP packet: seq, ssrc, payload_len bytes of pattern. Returns its length. */
static size_t rtp_packet(uint8_t *buf, uint16_t seq, uint32_t ssrc, size_t payload_len)
{
    buf[0] = 0x80;
    buf[1] = 111;
    buf[2] = (uint8_t)(seq >> 8);
    buf[3] = (uint8_t)seq;
    memset(buf + 4, 0, 4); /* timestamp */
    buf[8] = (uint8_t)(ssrc >> 24);
    buf[9] = (uint8_t)(ssrc >> 16);
    buf[10] = (uint8_t)(ssrc >> 8);
    buf[11] = (uint8_t)ssrc;
    for (size_t i = 0; i < payload_len; i++)
        buf[12 + i] = (uint8_t)(i * 3 + seq);
    return 12 + payload_len;
}

/* An RTCP receiver report with one block. */
static size_t rtcp_packet(uint8_t *buf, uint32_t ssrc)
{
    memset(buf, 0, 32);
    buf[0] = 0x81;
    buf[1] = 201;
    buf[3] = 7; /* length in words minus one */
    buf[4] = (uint8_t)(ssrc >> 24);
    buf[7] = (uint8_t)ssrc;
    for (int i = 8; i < 32; i++)
        buf[i] = (uint8_t)i;
    return 32;
}

TEST(rtp_round_trip)
{
    for (size_t p = 0; p < 2; p++) {
        pair pr = make_pair(profiles[p]);
        REQUIRE(pr.client && pr.server);
        size_t tag = profiles[p] == PARLEY_SRTP_AEAD_AES_128_GCM ? 16 : 10;
        CHECK(parley_srtp_rtp_overhead(pr.client) == tag);
        for (uint16_t seq = 1000; seq < 1010; seq++) {
            uint8_t buf[1500], plain[1500];
            size_t len = rtp_packet(buf, seq, 0x1234, 160 + seq % 7);
            size_t plain_len = len;
            memcpy(plain, buf, len);
            CHECK(parley_srtp_protect_rtp(pr.client, buf, &len, sizeof buf) == PARLEY_SRTP_OK);
            CHECK(len == plain_len + tag);
            CHECK(memcmp(buf + 12, plain + 12, 16) != 0); /* encrypted */
            CHECK(parley_srtp_unprotect_rtp(pr.server, buf, &len) == PARLEY_SRTP_OK);
            CHECK(len == plain_len && !memcmp(buf, plain, len));
        }
        /* and the other way, with CSRCs and a header extension */
        uint8_t buf[256], plain[256];
        size_t len = rtp_packet(buf, 7, 0xABCD, 0);
        buf[0] = 0x90 | 2; /* X, CC=2 */
        memset(buf + 12, 0x55, 8);
        buf[20] = 0xBE, buf[21] = 0xDE, buf[22] = 0, buf[23] = 1; /* one-byte ext, 1 word */
        memset(buf + 24, 0x42, 4 + 50);
        len = 24 + 4 + 50;
        memcpy(plain, buf, len);
        CHECK(parley_srtp_protect_rtp(pr.server, buf, &len, sizeof buf) == PARLEY_SRTP_OK);
        CHECK(parley_srtp_unprotect_rtp(pr.client, buf, &len) == PARLEY_SRTP_OK);
        CHECK(len == 78 && !memcmp(buf, plain, len));
        parley_srtp_stats st;
        parley_srtp_get_stats(pr.server, &st);
        CHECK(st.unprotected_rtp == 10 && st.protected_rtp == 1);
        free_pair(pr);
    }
}

TEST(rtcp_round_trip)
{
    for (size_t p = 0; p < 2; p++) {
        pair pr = make_pair(profiles[p]);
        REQUIRE(pr.client && pr.server);
        size_t over = parley_srtp_rtcp_overhead(pr.client);
        CHECK(over == (profiles[p] == PARLEY_SRTP_AEAD_AES_128_GCM ? 20u : 14u));
        for (int i = 0; i < 5; i++) {
            uint8_t buf[128], plain[128];
            size_t len = rtcp_packet(buf, 0x5678 + (uint32_t)i);
            memcpy(plain, buf, len);
            CHECK(parley_srtp_protect_rtcp(pr.server, buf, &len, sizeof buf) == PARLEY_SRTP_OK);
            CHECK(len == 32 + over);
            CHECK(parley_srtp_unprotect_rtcp(pr.client, buf, &len) == PARLEY_SRTP_OK);
            CHECK(len == 32 && !memcmp(buf, plain, 32));
        }
        free_pair(pr);
    }
}

TEST(tampered_rejected)
{
    for (size_t p = 0; p < 2; p++) {
        pair pr = make_pair(profiles[p]);
        REQUIRE(pr.client && pr.server);
        /* each byte position flipped in turn: header, payload and tag */
        uint8_t orig[256], buf[256];
        size_t olen = rtp_packet(orig, 1, 0x99, 40), len;
        CHECK(parley_srtp_protect_rtp(pr.client, orig, &olen, sizeof orig) == PARLEY_SRTP_OK);
        int refused = 0;
        for (size_t i = 0; i < olen; i++) {
            memcpy(buf, orig, olen);
            len = olen;
            buf[i] ^= i < 2 ? 0x01 : 0x40; /* keep it RTP version 2 */
            parley_srtp_status st = parley_srtp_unprotect_rtp(pr.server, buf, &len);
            refused += st != PARLEY_SRTP_OK;
            CHECKF(st == PARLEY_SRTP_AUTH || (i < 1 && st == PARLEY_SRTP_TRUNCATED),
                   "byte %zu: %s", i, parley_srtp_status_name(st));
        }
        CHECK(refused == (int)olen);
        /* the untouched packet still passes afterwards */
        memcpy(buf, orig, olen);
        len = olen;
        CHECK(parley_srtp_unprotect_rtp(pr.server, buf, &len) == PARLEY_SRTP_OK);

        /* SRTCP */
        size_t rlen = rtcp_packet(orig, 0x77);
        CHECK(parley_srtp_protect_rtcp(pr.client, orig, &rlen, sizeof orig) == PARLEY_SRTP_OK);
        memcpy(buf, orig, rlen);
        buf[12] ^= 1;
        len = rlen;
        CHECK(parley_srtp_unprotect_rtcp(pr.server, buf, &len) == PARLEY_SRTP_AUTH);
        memcpy(buf, orig, rlen);
        buf[rlen - 1] ^= 1; /* the tag */
        len = rlen;
        CHECK(parley_srtp_unprotect_rtcp(pr.server, buf, &len) == PARLEY_SRTP_AUTH);

        /* a packet unprotected with the wrong direction's key */
        uint8_t own[256];
        size_t owl = rtp_packet(own, 2, 0x99, 40);
        CHECK(parley_srtp_protect_rtp(pr.client, own, &owl, sizeof own) == PARLEY_SRTP_OK);
        CHECK(parley_srtp_unprotect_rtp(pr.client, own, &owl) == PARLEY_SRTP_AUTH);

        parley_srtp_stats st;
        parley_srtp_get_stats(pr.server, &st);
        CHECKF(st.rejected_auth >= olen - 1 + 2, "%llu", (unsigned long long)st.rejected_auth);
        free_pair(pr);
    }
}

TEST(replay_rejected)
{
    for (size_t p = 0; p < 2; p++) {
        pair pr = make_pair(profiles[p]);
        REQUIRE(pr.client && pr.server);
        /* sent early, delivered far behind the window (libsrtp keeps 128) */
        uint8_t old[256];
        size_t olen = rtp_packet(old, 100, 0x42, 20);
        CHECK(parley_srtp_protect_rtp(pr.client, old, &olen, sizeof old) == PARLEY_SRTP_OK);
        uint8_t a[256], copy[256];
        size_t len = rtp_packet(a, 500, 0x42, 20);
        CHECK(parley_srtp_protect_rtp(pr.client, a, &len, sizeof a) == PARLEY_SRTP_OK);
        size_t clen = len;
        memcpy(copy, a, len);
        CHECK(parley_srtp_unprotect_rtp(pr.server, a, &len) == PARLEY_SRTP_OK);
        CHECK(parley_srtp_unprotect_rtp(pr.server, copy, &clen) == PARLEY_SRTP_REPLAY);
        for (uint16_t seq = 501; seq < 800; seq++) {
            uint8_t b[256];
            size_t bl = rtp_packet(b, seq, 0x42, 20);
            parley_srtp_protect_rtp(pr.client, b, &bl, sizeof b);
            parley_srtp_unprotect_rtp(pr.server, b, &bl);
        }
        CHECK(parley_srtp_unprotect_rtp(pr.server, old, &olen) == PARLEY_SRTP_REPLAY);
        /* the outbound side may send the same packet again (NACK answers) */
        len = rtp_packet(a, 900, 0x42, 20);
        CHECK(parley_srtp_protect_rtp(pr.client, a, &len, sizeof a) == PARLEY_SRTP_OK);
        len = rtp_packet(a, 900, 0x42, 20);
        CHECK(parley_srtp_protect_rtp(pr.client, a, &len, sizeof a) == PARLEY_SRTP_OK);

        /* SRTCP replay */
        uint8_t r[128], rcopy[128];
        size_t rl = rtcp_packet(r, 0x43);
        CHECK(parley_srtp_protect_rtcp(pr.client, r, &rl, sizeof r) == PARLEY_SRTP_OK);
        size_t rcl = rl;
        memcpy(rcopy, r, rl);
        CHECK(parley_srtp_unprotect_rtcp(pr.server, r, &rl) == PARLEY_SRTP_OK);
        CHECK(parley_srtp_unprotect_rtcp(pr.server, rcopy, &rcl) == PARLEY_SRTP_REPLAY);
        parley_srtp_stats st;
        parley_srtp_get_stats(pr.server, &st);
        CHECK(st.rejected_replay == 3);
        free_pair(pr);
    }
}

TEST(truncated_rejected)
{
    for (size_t p = 0; p < 2; p++) {
        pair pr = make_pair(profiles[p]);
        REQUIRE(pr.client && pr.server);
        size_t tag = parley_srtp_rtp_overhead(pr.client);
        uint8_t orig[256], buf[256];
        size_t olen = rtp_packet(orig, 1, 0x99, 40);
        CHECK(parley_srtp_protect_rtp(pr.client, orig, &olen, sizeof orig) == PARLEY_SRTP_OK);
        /* every shorter length is refused, short of the header+tag as truncated */
        for (size_t cut = 0; cut < olen; cut++) {
            memcpy(buf, orig, olen);
            size_t len = cut;
            parley_srtp_status st = parley_srtp_unprotect_rtp(pr.server, buf, &len);
            CHECKF(st != PARLEY_SRTP_OK && len == cut, "cut %zu", cut);
            if (cut < 12 + tag)
                CHECKF(st == PARLEY_SRTP_TRUNCATED, "cut %zu: %s", cut,
                       parley_srtp_status_name(st));
        }
        /* an extension header claiming more than the packet holds */
        memcpy(buf, orig, olen);
        buf[0] |= 0x10;
        buf[14] = 0xFF;
        buf[15] = 0xFF;
        size_t len = olen;
        CHECK(parley_srtp_unprotect_rtp(pr.server, buf, &len) == PARLEY_SRTP_TRUNCATED);
        /* CSRC count beyond the packet */
        memcpy(buf, orig, 12);
        buf[0] = 0x8F;
        len = 12 + tag + 4;
        CHECK(parley_srtp_unprotect_rtp(pr.server, buf, &len) == PARLEY_SRTP_TRUNCATED);
        /* SRTCP shorter than header + index + tag */
        size_t rl = rtcp_packet(orig, 1);
        CHECK(parley_srtp_protect_rtcp(pr.client, orig, &rl, sizeof orig) == PARLEY_SRTP_OK);
        for (size_t cut = 0; cut < rl; cut++) {
            memcpy(buf, orig, rl);
            len = cut;
            CHECKF(parley_srtp_unprotect_rtcp(pr.server, buf, &len) != PARLEY_SRTP_OK, "cut %zu",
                   cut);
        }
        len = 8 + parley_srtp_rtcp_overhead(pr.client) - 1;
        CHECK(parley_srtp_unprotect_rtcp(pr.server, buf, &len) == PARLEY_SRTP_TRUNCATED);
        parley_srtp_stats st;
        parley_srtp_get_stats(pr.server, &st);
        CHECK(st.rejected_truncated > 0 && st.unprotected_rtp == 0 && st.unprotected_rtcp == 0);
        free_pair(pr);
    }
}

TEST(protect_needs_room)
{
    pair pr = make_pair(PARLEY_SRTP_AEAD_AES_128_GCM);
    REQUIRE(pr.client && pr.server);
    uint8_t buf[64 + 16 + 8];
    memset(buf, 0xEE, sizeof buf);
    size_t len = rtp_packet(buf, 1, 1, 52); /* 64 bytes */
    CHECK(parley_srtp_protect_rtp(pr.client, buf, &len, 64 + 15) == PARLEY_SRTP_NO_ROOM);
    CHECK(len == 64 && buf[64] == 0xEE); /* untouched */
    CHECK(parley_srtp_protect_rtp(pr.client, buf, &len, 64 + 16) == PARLEY_SRTP_OK);
    CHECK(len == 80 && buf[80] == 0xEE);
    len = rtcp_packet(buf, 1);
    CHECK(parley_srtp_protect_rtcp(pr.client, buf, &len, 32 + 19) == PARLEY_SRTP_NO_ROOM);
    CHECK(parley_srtp_protect_rtcp(pr.client, buf, &len, 32 + 20) == PARLEY_SRTP_OK);
    /* not RTP / not RTCP, and bad arguments */
    len = 11;
    CHECK(parley_srtp_protect_rtp(pr.client, buf, &len, sizeof buf) == PARLEY_SRTP_INVALID);
    buf[0] = 0x40;
    len = 40;
    CHECK(parley_srtp_protect_rtp(pr.client, buf, &len, sizeof buf) == PARLEY_SRTP_INVALID);
    CHECK(parley_srtp_protect_rtcp(pr.client, buf, &len, sizeof buf) == PARLEY_SRTP_INVALID);
    CHECK(parley_srtp_protect_rtp(pr.client, NULL, &len, sizeof buf) == PARLEY_SRTP_INVALID);
    CHECK(parley_srtp_unprotect_rtp(NULL, buf, &len) == PARLEY_SRTP_INVALID);
    free_pair(pr);
}

TEST(keys_and_library_lifetime)
{
    char err[128] = "";
    parley_dtls_keys k = srtp_test_keys(PARLEY_SRTP_AEAD_AES_128_GCM, true);
    k.salt_len = 14; /* GCM salts are 12 bytes */
    CHECK(parley_srtp_new(&k, err, sizeof err) == NULL && err[0]);
    k = srtp_test_keys(PARLEY_SRTP_AES128_CM_SHA1_80, true);
    k.profile = (parley_srtp_profile)2;
    CHECK(parley_srtp_new(&k, err, sizeof err) == NULL);
    CHECK(parley_srtp_new(NULL, err, sizeof err) == NULL);
    /* shutdown waits for the last session; init again afterwards works */
    pair pr = make_pair(PARLEY_SRTP_AES128_CM_SHA1_80);
    CHECK(parley_srtp_global_shutdown() == -1);
    free_pair(pr);
    CHECK(parley_srtp_global_shutdown() == 0);
    CHECK(parley_srtp_global_init() == 0);
    CHECK(parley_srtp_global_init() == 0);
    pr = make_pair(PARLEY_SRTP_AES128_CM_SHA1_80);
    CHECK(pr.client && pr.server);
    free_pair(pr);
}

int main(void)
{
    RUN(rtp_round_trip);
    RUN(rtcp_round_trip);
    RUN(tampered_rejected);
    RUN(replay_rejected);
    RUN(truncated_rejected);
    RUN(protect_needs_room);
    RUN(keys_and_library_lifetime);
    parley_srtp_global_shutdown();
    return tap_done();
}
