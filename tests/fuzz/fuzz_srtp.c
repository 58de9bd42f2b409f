/* fuzz_srtp.c - libFuzzer target for what the media plane decrypts and the
 * DTLS bytes it accepts from the network.
 *
 * The first input byte picks the mode (byte % 8); the rest is the payload:
 *   0-3  unprotect: the payload as one SRTP (0, 2) or SRTCP (1, 3) packet,
 *        into a fresh inbound session keyed with fixed test keys, AES-GCM
 *        (0, 1) or AES-CM/HMAC-SHA1-80 (2, 3); it must be refused or, if it
 *        passes, shrink to a plain packet. Never a crash.
 *   4-5  round trip: the payload as plain RTP (4) or RTCP (5), protected by
 *        the client and unprotected by the server; when protect accepts it,
 *        unprotect must give back exactly the payload.
 *   6    DTLS from an unknown peer: the payload, cut into datagrams by 2-byte
 *        big-endian length prefixes, into a fresh server endpoint.
 *   7    DTLS from a known peer: the same datagrams into a server endpoint
 *        that finished a real handshake; garbage must be dropped and the
 *        endpoint must stay connected or close cleanly (it is then replaced).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "dtls.h"
#include "srtp.h"
#include "../sfu/srtp_test_keys.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static parley_cert *server_cert, *client_cert;
static parley_dtls *known_server, *known_client;

/* datagrams between the known pair during their handshake */
static uint8_t queue[2][32][1600];
static size_t queue_len[2][32];
static int queue_n[2];

static void to_queue(void *user, const uint8_t *d, size_t len)
{
    int q = (int)(intptr_t)user;
    if (queue_n[q] < 32 && len <= sizeof queue[q][0]) {
        memcpy(queue[q][queue_n[q]], d, len);
        queue_len[q][queue_n[q]++] = len;
    }
}

static void discard(void *user, const uint8_t *d, size_t len)
{
    (void)user;
    (void)d;
    (void)len;
}

static parley_dtls *endpoint(parley_dtls_role role, parley_dtls_send_fn send, void *user)
{
    bool server = role == PARLEY_DTLS_SERVER;
    parley_dtls_config cfg = {
        .role = role,
        .cert = server ? server_cert : client_cert,
        .remote_fingerprint = parley_cert_fingerprint(server ? client_cert : server_cert),
        .send = send,
        .user = user,
    };
    char err[256];
    parley_dtls *d = parley_dtls_new(&cfg, err, sizeof err);
    if (!d) {
        fprintf(stderr, "fuzz_srtp: %s\n", err);
        abort();
    }
    return d;
}

/* A connected server (and its client) for mode 7. */
static void connect_known(void)
{
    parley_dtls_free(known_server);
    parley_dtls_free(known_client);
    known_server = endpoint(PARLEY_DTLS_SERVER, to_queue, (void *)(intptr_t)1);
    known_client = endpoint(PARLEY_DTLS_CLIENT, to_queue, (void *)(intptr_t)0);
    queue_n[0] = queue_n[1] = 0;
    parley_dtls_start(known_client);
    for (int round = 0; round < 16 && (queue_n[0] || queue_n[1]); round++) {
        int n0 = queue_n[0], n1 = queue_n[1];
        uint8_t (*q0)[1600] = malloc(sizeof queue[0]), (*q1)[1600] = malloc(sizeof queue[1]);
        size_t l0[32], l1[32];
        if (!q0 || !q1)
            abort();
        memcpy(q0, queue[0], sizeof queue[0]);
        memcpy(q1, queue[1], sizeof queue[1]);
        memcpy(l0, queue_len[0], sizeof l0);
        memcpy(l1, queue_len[1], sizeof l1);
        queue_n[0] = queue_n[1] = 0;
        for (int i = 0; i < n0; i++)
            parley_dtls_input(known_server, q0[i], l0[i]);
        for (int i = 0; i < n1; i++)
            parley_dtls_input(known_client, q1[i], l1[i]);
        free(q0);
        free(q1);
    }
    if (parley_dtls_state_of(known_server) != PARLEY_DTLS_CONNECTED) {
        fprintf(stderr, "fuzz_srtp: the known pair did not connect: %s\n",
                parley_dtls_error(known_server));
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[256];
    server_cert = parley_cert_generate(0, err, sizeof err);
    client_cert = parley_cert_generate(0, err, sizeof err);
    if (!server_cert || !client_cert || parley_srtp_global_init() != 0) {
        fprintf(stderr, "fuzz_srtp: setup failed: %s\n", err);
        abort();
    }
    connect_known();
    return 0;
}

static void unprotect(const uint8_t *p, size_t n, parley_srtp_profile profile, bool rtcp)
{
    char err[128];
    parley_dtls_keys k = srtp_test_keys(profile, false);
    parley_srtp *s = parley_srtp_new(&k, err, sizeof err);
    if (!s)
        abort();
    uint8_t *buf = malloc(n ? n : 1); /* exactly n bytes: ASan sees any overrun */
    if (!buf)
        abort();
    memcpy(buf, p, n);
    size_t len = n;
    parley_srtp_status st = rtcp ? parley_srtp_unprotect_rtcp(s, buf, &len)
                                 : parley_srtp_unprotect_rtp(s, buf, &len);
    if (st == PARLEY_SRTP_OK ? len > n : len != n)
        abort();
    free(buf);
    parley_srtp_free(s);
}

static void round_trip(const uint8_t *p, size_t n, bool rtcp)
{
    char err[128];
    parley_srtp_profile profile = n & 1 ? PARLEY_SRTP_AES128_CM_SHA1_80
                                        : PARLEY_SRTP_AEAD_AES_128_GCM;
    parley_dtls_keys kc = srtp_test_keys(profile, true), ks = srtp_test_keys(profile, false);
    parley_srtp *c = parley_srtp_new(&kc, err, sizeof err);
    parley_srtp *s = parley_srtp_new(&ks, err, sizeof err);
    if (!c || !s)
        abort();
    size_t over = rtcp ? parley_srtp_rtcp_overhead(c) : parley_srtp_rtp_overhead(c);
    size_t cap = n + over;
    uint8_t *buf = malloc(cap ? cap : 1);
    if (!buf)
        abort();
    memcpy(buf, p, n);
    size_t len = n;
    parley_srtp_status st = rtcp ? parley_srtp_protect_rtcp(c, buf, &len, cap)
                                 : parley_srtp_protect_rtp(c, buf, &len, cap);
    if (st == PARLEY_SRTP_OK) {
        if (len != n + over)
            abort();
        st = rtcp ? parley_srtp_unprotect_rtcp(s, buf, &len)
                  : parley_srtp_unprotect_rtp(s, buf, &len);
        if (st != PARLEY_SRTP_OK || len != n || memcmp(buf, p, n) != 0)
            abort(); /* what we protect, the peer must read back exactly */
    }
    free(buf);
    parley_srtp_free(c);
    parley_srtp_free(s);
}

static void feed(parley_dtls *d, const uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t len = n;
        if (n >= 2) {
            size_t want = (size_t)p[0] << 8 | p[1];
            if (want <= n - 2) {
                p += 2;
                n -= 2;
                len = want;
            }
        }
        uint8_t *dgram = malloc(len ? len : 1);
        if (!dgram)
            abort();
        memcpy(dgram, p, len);
        parley_dtls_input(d, dgram, len);
        free(dgram);
        p += len;
        n -= len;
        parley_dtls_tick(d);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 16384)
        return 0;
    unsigned mode = data[0] % 8;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (mode) {
    case 0:
    case 1:
        unprotect(p, n, PARLEY_SRTP_AEAD_AES_128_GCM, mode == 1);
        break;
    case 2:
    case 3:
        unprotect(p, n, PARLEY_SRTP_AES128_CM_SHA1_80, mode == 3);
        break;
    case 4:
    case 5:
        round_trip(p, n, mode == 5);
        break;
    case 6: {
        parley_dtls *d = endpoint(PARLEY_DTLS_SERVER, discard, NULL);
        feed(d, p, n);
        parley_dtls_free(d);
        break;
    }
    case 7: {
        parley_dtls_keys before, after;
        if (parley_dtls_get_keys(known_server, &before) != 0)
            abort();
        feed(known_server, p, n);
        parley_dtls_state st = parley_dtls_state_of(known_server);
        if (st == PARLEY_DTLS_CONNECTED &&
            (parley_dtls_get_keys(known_server, &after) != 0 ||
             memcmp(before.remote_key, after.remote_key, 16) != 0))
            abort(); /* garbage must never change the keys */
        if (st != PARLEY_DTLS_CONNECTED)
            connect_known();
        break;
    }
    }
    return 0;
}
