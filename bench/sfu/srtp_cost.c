/* srtp_cost.c - the per-packet cost of SRTP protection with the system's
 * libsrtp2, for each profile DTLS-SRTP can negotiate with browsers.
 *
 *   srtp_cost [packets]
 *
 * Protects `packets` (default 200000) RTP packets of 1,200 payload bytes
 * (a VP8 packet at 600 kbit/s is about that size) through one outbound
 * session per profile, the way the SFU does for each subscriber, and prints
 * the mean time per packet. The figure depends on how libsrtp2 was built
 * (its crypto backend), which is why it is measured rather than assumed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <srtp2/srtp.h>

#define PAYLOAD 1200

typedef struct profile {
    const char *name;
    void (*set)(srtp_crypto_policy_t *);
    size_t key_len; /* master key and salt */
} profile;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const profile *pr, long packets)
{
    srtp_policy_t p;
    uint8_t key[64];
    memset(&p, 0, sizeof p);
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 7 + 3);
    pr->set(&p.rtp);
    pr->set(&p.rtcp);
    p.ssrc.type = ssrc_any_outbound;
    p.key = key;
    p.allow_repeat_tx = 1;
    srtp_t s;
    if (srtp_create(&s, &p) != srtp_err_status_ok) {
        printf("%-24s not supported by this libsrtp2\n", pr->name);
        return 0;
    }
    uint8_t pkt[12 + PAYLOAD + SRTP_MAX_TRAILER_LEN];
    memset(pkt, 0xab, sizeof pkt);
    pkt[0] = 0x80;
    pkt[1] = 96;
    pkt[8] = 0x12, pkt[9] = 0x34, pkt[10] = 0x56, pkt[11] = 0x78;
    double t0 = now_s();
    for (long i = 0; i < packets; i++) {
        uint16_t seq = (uint16_t)i;
        pkt[2] = (uint8_t)(seq >> 8);
        pkt[3] = (uint8_t)seq;
        int len = 12 + PAYLOAD;
        if (srtp_protect(s, pkt, &len) != srtp_err_status_ok) {
            fprintf(stderr, "%s: srtp_protect failed\n", pr->name);
            srtp_dealloc(s);
            return -1;
        }
    }
    double dt = now_s() - t0;
    srtp_dealloc(s);
    printf("%-24s %8.3f us/packet  (%ld packets of %d payload bytes)\n", pr->name,
           dt * 1e6 / (double)packets, packets, PAYLOAD);
    return 0;
}

int main(int argc, char **argv)
{
    long packets = argc > 1 ? strtol(argv[1], NULL, 10) : 200000;
    if (packets <= 0) {
        fprintf(stderr, "usage: srtp_cost [packets]\n");
        return 2;
    }
    if (srtp_init() != srtp_err_status_ok) {
        fprintf(stderr, "srtp_init failed\n");
        return 1;
    }
    static const profile profiles[] = {
        {"SRTP_AES128_CM_SHA1_80", srtp_crypto_policy_set_rtp_default, 30},
        {"SRTP_AEAD_AES_128_GCM", srtp_crypto_policy_set_aes_gcm_128_16_auth, 28},
        {"SRTP_AEAD_AES_256_GCM", srtp_crypto_policy_set_aes_gcm_256_16_auth, 44},
    };
    int rc = 0;
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++)
        rc |= run(&profiles[i], packets);
    srtp_shutdown();
    return rc ? 1 : 0;
}
