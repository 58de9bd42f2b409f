/* test_dtls.c - two DTLS endpoints, a client (the SDK's role) and a server
 * (the SFU's), wired back to back in memory.
 *
 * Each send callback queues the datagram on a wire; pump() delivers queued
 * datagrams to the other endpoint until both links are empty, dropping the
 * ones a test marks as lost. The handshake deadline runs on a clock the test
 * owns; retransmission timers use short RTOs and real time (OpenSSL's DTLS
 * timer reads the clock itself). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/tap.h"
#include "cert.h"
#include "dtls.h"
#include "srtp.h"

#define QMAX 128

typedef struct wire {
    uint8_t data[QMAX][1600];
    size_t len[QMAX];
    int head, tail;
    int sent;          /* datagrams ever sent on this wire */
    uint64_t drop;     /* bit i: lose the i-th datagram (i < 64) */
    bool drop_all;
    size_t max_len;
} wire;

static wire to_server, to_client;
static uint64_t fake_now = 1000000;
static unsigned test_mtu; /* 0: the default */
static parley_cert *server_cert, *client_cert, *stranger_cert;

static void on_send(void *user, const uint8_t *data, size_t len)
{
    wire *l = user;
    int i = l->sent++;
    if (len > l->max_len)
        l->max_len = len;
    if (l->drop_all || (i < 64 && (l->drop >> i & 1)) || len > sizeof l->data[0])
        return;
    if (l->tail - l->head >= QMAX)
        return;
    memcpy(l->data[l->tail % QMAX], data, len);
    l->len[l->tail % QMAX] = len;
    l->tail++;
}

static uint64_t clock_of_test(void *user)
{
    (void)user;
    return fake_now;
}

static void reset_links(void)
{
    memset(&to_server, 0, sizeof to_server);
    memset(&to_client, 0, sizeof to_client);
}

static parley_dtls *endpoint(parley_dtls_role role, const char *remote_fp, unsigned profiles)
{
    parley_dtls_config cfg = {
        .role = role,
        .cert = role == PARLEY_DTLS_SERVER ? server_cert : client_cert,
        .remote_fingerprint = remote_fp,
        .profiles = profiles,
        .initial_rto_ms = 20,
        .mtu = test_mtu,
        .send = on_send,
        .now_ms = clock_of_test,
        .user = role == PARLEY_DTLS_SERVER ? &to_client : &to_server,
    };
    char err[256] = "";
    parley_dtls *d = parley_dtls_new(&cfg, err, sizeof err);
    if (!d)
        printf("# parley_dtls_new: %s\n", err);
    return d;
}

/* Deliver until both links are empty (or a bound is hit). */
static void pump(parley_dtls *client, parley_dtls *server)
{
    for (int rounds = 0; rounds < 1000; rounds++) {
        bool moved = false;
        if (to_server.head < to_server.tail) {
            int i = to_server.head++ % QMAX;
            parley_dtls_input(server, to_server.data[i], to_server.len[i]);
            moved = true;
        }
        if (to_client.head < to_client.tail) {
            int i = to_client.head++ % QMAX;
            parley_dtls_input(client, to_client.data[i], to_client.len[i]);
            moved = true;
        }
        if (!moved)
            return;
    }
}

static bool both(parley_dtls *c, parley_dtls *s, parley_dtls_state st)
{
    return parley_dtls_state_of(c) == st && parley_dtls_state_of(s) == st;
}

/* Run the handshake, ticking both sides as their timers ask, for up to
 * limit_ms of real time. */
static void run(parley_dtls *c, parley_dtls *s, int limit_ms)
{
    parley_dtls_start(s);
    parley_dtls_start(c);
    for (int waited = 0; waited <= limit_ms; waited += 5) {
        pump(c, s);
        if (parley_dtls_state_of(c) != PARLEY_DTLS_CONNECTING &&
            parley_dtls_state_of(s) != PARLEY_DTLS_CONNECTING)
            return;
        usleep(5000);
        parley_dtls_tick(c);
        parley_dtls_tick(s);
    }
}

static void handshake_with(unsigned client_profiles, parley_srtp_profile expect)
{
    reset_links();
    parley_dtls *s = endpoint(PARLEY_DTLS_SERVER, parley_cert_fingerprint(client_cert), 0);
    parley_dtls *c = endpoint(PARLEY_DTLS_CLIENT, parley_cert_fingerprint(server_cert),
                              client_profiles);
    REQUIRE(s && c);
    CHECK(parley_dtls_state_of(c) == PARLEY_DTLS_NEW);
    CHECK(parley_dtls_timeout_ms(c) == -1);
    run(c, s, 2000);
    CHECKF(both(c, s, PARLEY_DTLS_CONNECTED), "client %s (%s), server %s (%s)",
           parley_dtls_state_name(parley_dtls_state_of(c)), parley_dtls_error(c),
           parley_dtls_state_name(parley_dtls_state_of(s)), parley_dtls_error(s));
    CHECK(parley_dtls_timeout_ms(c) == -1 && parley_dtls_timeout_ms(s) == -1);
    CHECKF(to_server.max_len <= PARLEY_DTLS_MTU && to_client.max_len <= PARLEY_DTLS_MTU,
           "largest datagrams %zu / %zu", to_server.max_len, to_client.max_len);

    parley_dtls_keys kc, ks;
    REQUIRE(parley_dtls_get_keys(c, &kc) == 0 && parley_dtls_get_keys(s, &ks) == 0);
    CHECK(kc.profile == expect && ks.profile == expect);
    CHECK(kc.key_len == 16 && kc.salt_len == (expect == PARLEY_SRTP_AEAD_AES_128_GCM ? 12u : 14u));
    CHECK(ks.key_len == kc.key_len && ks.salt_len == kc.salt_len);
    /* both export the same material ... */
    CHECK(!memcmp(kc.client_key, ks.client_key, 16) && !memcmp(kc.server_key, ks.server_key, 16));
    CHECK(!memcmp(kc.client_salt, ks.client_salt, kc.salt_len));
    CHECK(!memcmp(kc.server_salt, ks.server_salt, kc.salt_len));
    CHECK(memcmp(kc.client_key, kc.server_key, 16) != 0);
    /* ... and each one's write key is the other's remote key */
    CHECK(!memcmp(kc.local_key, kc.client_key, 16) && !memcmp(ks.local_key, ks.server_key, 16));
    CHECK(!memcmp(kc.local_key, ks.remote_key, 16) && !memcmp(ks.local_key, kc.remote_key, 16));
    CHECK(!memcmp(kc.local_salt, ks.remote_salt, kc.salt_len));
    CHECK(!memcmp(ks.local_salt, kc.remote_salt, kc.salt_len));

    /* the keys work: SRTP from the client reaches the server and back */
    char err[128];
    parley_srtp *sc = parley_srtp_new(&kc, err, sizeof err);
    parley_srtp *ss = parley_srtp_new(&ks, err, sizeof err);
    CHECK(sc && ss);
    if (sc && ss) {
        uint8_t pkt[256] = {0x80, 96, 0, 1, 0, 0, 0, 1, 0x11, 0x22, 0x33, 0x44};
        size_t len = 12 + 40;
        memset(pkt + 12, 0xAB, 40);
        CHECK(parley_srtp_protect_rtp(sc, pkt, &len, sizeof pkt) == PARLEY_SRTP_OK);
        CHECK(parley_srtp_unprotect_rtp(ss, pkt, &len) == PARLEY_SRTP_OK && len == 52);
        CHECK(pkt[12] == 0xAB && pkt[51] == 0xAB);
        CHECK(parley_srtp_protect_rtp(ss, pkt, &len, sizeof pkt) == PARLEY_SRTP_OK);
        CHECK(parley_srtp_unprotect_rtp(sc, pkt, &len) == PARLEY_SRTP_OK && len == 52);
    }
    parley_srtp_free(sc);
    parley_srtp_free(ss);
    parley_dtls_free(c);
    parley_dtls_free(s);
}

TEST(handshake_aes_gcm)
{
    handshake_with(0, PARLEY_SRTP_AEAD_AES_128_GCM);
}

TEST(handshake_aes_cm_sha1_80)
{
    handshake_with(PARLEY_SRTP_PROFILE_BIT(PARLEY_SRTP_AES128_CM_SHA1_80),
                   PARLEY_SRTP_AES128_CM_SHA1_80);
}

/* A small MTU: the certificate flights are fragmented to fit it. */
TEST(small_mtu_fragments)
{
    reset_links();
    test_mtu = 400;
    parley_dtls *s = endpoint(PARLEY_DTLS_SERVER, parley_cert_fingerprint(client_cert), 0);
    parley_dtls *c = endpoint(PARLEY_DTLS_CLIENT, parley_cert_fingerprint(server_cert), 0);
    test_mtu = 0;
    REQUIRE(s && c);
    run(c, s, 2000);
    CHECK(both(c, s, PARLEY_DTLS_CONNECTED));
    CHECKF(to_server.max_len <= 400 && to_client.max_len <= 400, "%zu / %zu", to_server.max_len,
           to_client.max_len);
    CHECK(to_client.sent >= 3); /* the server's first flight alone needs several */
    parley_dtls_free(c);
    parley_dtls_free(s);
}

/* The server expects another certificate than the client presents. */
TEST(server_rejects_fingerprint_mismatch)
{
    reset_links();
    parley_dtls *s = endpoint(PARLEY_DTLS_SERVER, parley_cert_fingerprint(stranger_cert), 0);
    parley_dtls *c = endpoint(PARLEY_DTLS_CLIENT, parley_cert_fingerprint(server_cert), 0);
    REQUIRE(s && c);
    run(c, s, 500);
    CHECK(parley_dtls_state_of(s) == PARLEY_DTLS_FAILED);
    CHECKF(strstr(parley_dtls_error(s), "fingerprint") != NULL, "%s", parley_dtls_error(s));
    CHECK(parley_dtls_state_of(c) == PARLEY_DTLS_FAILED); /* the alert reached it */
    parley_dtls_keys k;
    CHECK(parley_dtls_get_keys(s, &k) == -1 && parley_dtls_get_keys(c, &k) == -1);
    parley_dtls_free(c);
    parley_dtls_free(s);
}

/* The client expects another certificate than the server presents. */
TEST(client_rejects_fingerprint_mismatch)
{
    reset_links();
    parley_dtls *s = endpoint(PARLEY_DTLS_SERVER, parley_cert_fingerprint(client_cert), 0);
    parley_dtls *c = endpoint(PARLEY_DTLS_CLIENT, parley_cert_fingerprint(stranger_cert), 0);
    REQUIRE(s && c);
    run(c, s, 500);
    CHECK(parley_dtls_state_of(c) == PARLEY_DTLS_FAILED);
    CHECKF(strstr(parley_dtls_error(c), "fingerprint") != NULL, "%s", parley_dtls_error(c));
    CHECK(parley_dtls_state_of(s) != PARLEY_DTLS_CONNECTED);
    parley_dtls_free(c);
    parley_dtls_free(s);
}

/* No remote fingerprint at all: nothing is trusted. A fingerprint set later,
 * before the handshake, is used. */
TEST(fingerprint_required_and_settable)
{
    reset_links();
    parley_dtls *s = endpoint(PARLEY_DTLS_SERVER, NULL, 0);
    parley_dtls *c = endpoint(PARLEY_DTLS_CLIENT, parley_cert_fingerprint(server_cert), 0);
    REQUIRE(s && c);
    run(c, s, 500);
    CHECK(parley_dtls_state_of(s) == PARLEY_DTLS_FAILED);
    CHECKF(strstr(parley_dtls_error(s), "no remote fingerprint") != NULL, "%s",
           parley_dtls_error(s));
    CHECK(parley_dtls_state_of(c) == PARLEY_DTLS_FAILED);
    parley_dtls_free(c);
    parley_dtls_free(s);

    reset_links();
    s = endpoint(PARLEY_DTLS_SERVER, NULL, 0);
    c = endpoint(PARLEY_DTLS_CLIENT, parley_cert_fingerprint(server_cert), 0);
    REQUIRE(s && c);
    CHECK(parley_dtls_set_remote_fingerprint(s, "sha-256 00:11") == -1);
    CHECK(parley_dtls_set_remote_fingerprint(s, parley_cert_fingerprint(client_cert)) == 0);
    run(c, s, 2000);
    CHECK(both(c, s, PARLEY_DTLS_CONNECTED));
    parley_dtls_free(c);
    parley_dtls_free(s);

    /* a malformed fingerprint in the config is refused at creation */
    char err[128] = "";
    parley_dtls_config cfg = {.role = PARLEY_DTLS_SERVER, .cert = server_cert,
                              .remote_fingerprint = "sha-1 00", .send = on_send};
    CHECK(parley_dtls_new(&cfg, err, sizeof err) == NULL && err[0]);
    cfg.remote_fingerprint = NULL;
    cfg.send = NULL;
    CHECK(parley_dtls_new(&cfg, err, sizeof err) == NULL);
}

/* Lost datagrams in every flight are recovered by retransmission. */
TEST(loss_recovered_by_retransmission)
{
    static const struct {
        uint64_t c2s, s2c;
    } patterns[] = {
        {1u << 0, 0},                  /* the first ClientHello */
        {0, 1u << 0},                  /* the server's first flight */
        {1u << 1, 1u << 1},            /* the second flights */
        {0x5, 0xA},                    /* several */
        {0x6, 0x6},                    /* the final flights, twice (backoff) */
    };
    for (size_t p = 0; p < sizeof patterns / sizeof patterns[0]; p++) {
        reset_links();
        to_server.drop = patterns[p].c2s;
        to_client.drop = patterns[p].s2c;
        parley_dtls *s = endpoint(PARLEY_DTLS_SERVER, parley_cert_fingerprint(client_cert), 0);
        parley_dtls *c = endpoint(PARLEY_DTLS_CLIENT, parley_cert_fingerprint(server_cert), 0);
        REQUIRE(s && c);
        run(c, s, 5000);
        /* the side that finishes first may wait for the other's next retransmission */
        for (int i = 0; i < 400 && !both(c, s, PARLEY_DTLS_CONNECTED); i++) {
            usleep(5000);
            parley_dtls_tick(c);
            parley_dtls_tick(s);
            pump(c, s);
        }
        parley_dtls_stats sc, ss;
        parley_dtls_get_stats(c, &sc);
        parley_dtls_get_stats(s, &ss);
        CHECKF(both(c, s, PARLEY_DTLS_CONNECTED), "pattern %zu: client %s, server %s", p,
               parley_dtls_state_name(parley_dtls_state_of(c)),
               parley_dtls_state_name(parley_dtls_state_of(s)));
        CHECKF(sc.retransmissions + ss.retransmissions > 0, "pattern %zu", p);
        printf("# pattern %zu: %d/%d datagrams sent, %llu/%llu retransmissions\n", p,
               to_server.sent, to_client.sent, (unsigned long long)sc.retransmissions,
               (unsigned long long)ss.retransmissions);
        parley_dtls_keys kc, ks;
        CHECK(parley_dtls_get_keys(c, &kc) == 0 && parley_dtls_get_keys(s, &ks) == 0 &&
              !memcmp(kc.local_key, ks.remote_key, 16));
        parley_dtls_free(c);
        parley_dtls_free(s);
    }
}

/* Nothing gets through: the handshake fails at its deadline, on the
 * injected clock, and not before. */
TEST(handshake_timeout)
{
    reset_links();
    to_server.drop_all = true;
    parley_dtls *s = endpoint(PARLEY_DTLS_SERVER, parley_cert_fingerprint(client_cert), 0);
    parley_dtls *c = endpoint(PARLEY_DTLS_CLIENT, parley_cert_fingerprint(server_cert), 0);
    REQUIRE(s && c);
    CHECK(parley_dtls_start(c) == PARLEY_DTLS_CONNECTING);
    long t = parley_dtls_timeout_ms(c);
    CHECKF(t >= 0 && t <= 20, "%ld", t); /* the first retransmission is due soon */
    fake_now += PARLEY_DTLS_HANDSHAKE_TIMEOUT_MS - 1;
    CHECK(parley_dtls_tick(c) == PARLEY_DTLS_CONNECTING);
    fake_now += 1;
    CHECK(parley_dtls_timeout_ms(c) == 0);
    CHECK(parley_dtls_tick(c) == PARLEY_DTLS_FAILED);
    CHECKF(strstr(parley_dtls_error(c), "timed out") != NULL, "%s", parley_dtls_error(c));
    CHECK(parley_dtls_timeout_ms(c) == -1);
    /* a server that heard from nobody is not on a deadline; one that did is */
    CHECK(parley_dtls_tick(s) == PARLEY_DTLS_NEW);
    to_server.drop_all = false;
    parley_dtls_free(c);
    c = endpoint(PARLEY_DTLS_CLIENT, parley_cert_fingerprint(server_cert), 0);
    to_client.drop_all = true;
    parley_dtls_start(c);
    pump(c, s);
    CHECK(parley_dtls_state_of(s) == PARLEY_DTLS_CONNECTING);
    fake_now += PARLEY_DTLS_HANDSHAKE_TIMEOUT_MS;
    CHECK(parley_dtls_tick(s) == PARLEY_DTLS_FAILED);
    /* input after the end is dropped */
    parley_dtls_stats st;
    uint8_t hello[13] = {22, 0xFE, 0xFD};
    CHECK(parley_dtls_input(s, hello, sizeof hello) == PARLEY_DTLS_FAILED);
    parley_dtls_get_stats(s, &st);
    CHECK(st.dropped >= 1);
    parley_dtls_free(c);
    parley_dtls_free(s);
}

/* close_notify from either side closes both; keys stay readable. */
TEST(close_notify)
{
    for (int closer = 0; closer < 2; closer++) {
        reset_links();
        parley_dtls *s = endpoint(PARLEY_DTLS_SERVER, parley_cert_fingerprint(client_cert), 0);
        parley_dtls *c = endpoint(PARLEY_DTLS_CLIENT, parley_cert_fingerprint(server_cert), 0);
        REQUIRE(s && c);
        run(c, s, 2000);
        REQUIRE(both(c, s, PARLEY_DTLS_CONNECTED));
        parley_dtls_close(closer ? s : c);
        CHECK(parley_dtls_state_of(closer ? s : c) == PARLEY_DTLS_CLOSED);
        pump(c, s);
        CHECK(both(c, s, PARLEY_DTLS_CLOSED));
        parley_dtls_keys k;
        CHECK(parley_dtls_get_keys(closer ? c : s, &k) == 0);
        parley_dtls_close(c); /* twice is harmless */
        parley_dtls_free(c);
        parley_dtls_free(s);
    }
}

/* Garbage before and after the handshake is dropped without harm. */
TEST(garbage_is_dropped)
{
    reset_links();
    parley_dtls *s = endpoint(PARLEY_DTLS_SERVER, parley_cert_fingerprint(client_cert), 0);
    parley_dtls *c = endpoint(PARLEY_DTLS_CLIENT, parley_cert_fingerprint(server_cert), 0);
    REQUIRE(s && c);
    uint8_t junk[300];
    srand(7);
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (uint8_t)rand();
    junk[0] = 0x80; /* RTP, not DTLS */
    CHECK(parley_dtls_input(s, junk, sizeof junk) == PARLEY_DTLS_NEW);
    CHECK(parley_dtls_input(s, junk, 0) == PARLEY_DTLS_NEW);
    CHECK(parley_dtls_input(s, NULL, 10) == PARLEY_DTLS_NEW);
    junk[0] = 23; /* application data with a length beyond the datagram */
    junk[1] = 0xFE;
    junk[11] = 0xFF;
    CHECK(parley_dtls_input(s, junk, sizeof junk) == PARLEY_DTLS_NEW);
    run(c, s, 2000);
    REQUIRE(both(c, s, PARLEY_DTLS_CONNECTED));
    /* well-framed records that do not authenticate */
    for (uint8_t type = 20; type <= 25; type++) {
        junk[0] = type;
        junk[1] = 0xFE;
        junk[2] = 0xFD;
        junk[3] = 0;
        junk[4] = 1; /* epoch 1 */
        junk[11] = 0;
        junk[12] = 200;
        CHECK(parley_dtls_input(s, junk, 13 + 200) == PARLEY_DTLS_CONNECTED);
        CHECK(parley_dtls_input(c, junk, 13 + 200) == PARLEY_DTLS_CONNECTED);
    }
    parley_dtls_stats st;
    parley_dtls_get_stats(s, &st);
    CHECKF(st.dropped >= 4, "%llu", (unsigned long long)st.dropped);
    parley_dtls_free(c);
    parley_dtls_free(s);
}

int main(void)
{
    char err[256];
    server_cert = parley_cert_generate(0, err, sizeof err);
    client_cert = parley_cert_generate(0, err, sizeof err);
    stranger_cert = parley_cert_generate(0, err, sizeof err);
    if (!server_cert || !client_cert || !stranger_cert) {
        printf("Bail out! no certificates: %s\n", err);
        return 1;
    }
    RUN(handshake_aes_gcm);
    RUN(handshake_aes_cm_sha1_80);
    RUN(small_mtu_fragments);
    RUN(server_rejects_fingerprint_mismatch);
    RUN(client_rejects_fingerprint_mismatch);
    RUN(fingerprint_required_and_settable);
    RUN(loss_recovered_by_retransmission);
    RUN(handshake_timeout);
    RUN(close_notify);
    RUN(garbage_is_dropped);
    parley_cert_free(server_cert);
    parley_cert_free(client_cert);
    parley_cert_free(stranger_cert);
    parley_srtp_global_shutdown();
    return tap_done();
}
