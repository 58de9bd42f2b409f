/* fuzz_stun.c - libFuzzer target for STUN parsing and the ICE-lite agent.
 *
 * Every input is used twice:
 *   as is    a datagram, parsed (every field read so ASan sees any overread)
 *            and handed to an ICE agent, which must refuse it or answer it;
 *   wrapped  its attributes (from byte 20 on) put into a binding request
 *            with the agent's valid USERNAME first and a correct
 *            MESSAGE-INTEGRITY and FINGERPRINT last, so the checks behind
 *            authentication (role, unknown attributes, nomination, the
 *            answer) are reached too.
 * Any answer the agent writes must itself parse. */
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ice.h"
#include "stun.h"

static parley_ice_agent *agent;
static char username[64];
static int64_t now;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    agent = parley_ice_new(NULL, NULL);
    if (!agent || parley_ice_set_remote(agent, "fuzz", "fuzz-remote-password-0123", 0) != 0) {
        fprintf(stderr, "fuzz_stun: no agent\n");
        abort();
    }
    snprintf(username, sizeof username, "%s:fuzz", parley_ice_local_ufrag(agent));
    return 0;
}

static void touch(const parley_stun_msg *m)
{
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < m->username_len; i++)
        sink ^= (uint8_t)m->username[i];
    for (size_t i = 0; i < m->reason_len; i++)
        sink ^= (uint8_t)m->reason[i];
    (void)sink;
}

static void feed(const uint8_t *d, size_t n)
{
    parley_stun_msg m;
    const char *why = NULL;
    if (parley_stun_parse(d, n, &m, &why) == 0) {
        touch(&m);
        (void)parley_stun_check_integrity(&m, "fuzz-key", 8);
    } else if (!why) {
        abort(); /* every refusal has a reason */
    }
    struct sockaddr_in from = {.sin_family = AF_INET, .sin_port = htons(5000), .sin_addr = {htonl(0x7f000001)}};
    uint8_t resp[512];
    size_t rlen = 0;
    parley_ice_handle(agent, d, n, (struct sockaddr *)&from, now, resp, sizeof resp, &rlen);
    if (rlen && parley_stun_parse(resp, rlen, &m, &why) != 0)
        abort(); /* our own answers must parse */
    now += 1000;
    parley_ice_tick(agent, now);
    if (parley_ice_get_state(agent) == PARLEY_ICE_FAILED) { /* consent lost: start again */
        parley_ice_restart(agent, now);
        parley_ice_set_remote(agent, "fuzz", "fuzz-remote-password-0123", now);
        snprintf(username, sizeof username, "%s:fuzz", parley_ice_local_ufrag(agent));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    feed(data, size);

    static uint8_t buf[8192];
    uint8_t txid[PARLEY_STUN_TXID_LEN] = {0};
    if (size >= PARLEY_STUN_HEADER_LEN)
        memcpy(txid, data + 8, sizeof txid);
    parley_stun_builder b;
    parley_stun_begin(&b, buf, sizeof buf, PARLEY_STUN_BINDING_REQUEST, txid);
    parley_stun_add(&b, PARLEY_STUN_ATTR_USERNAME, username, strlen(username));
    if (size > PARLEY_STUN_HEADER_LEN) {
        size_t body = (size - PARLEY_STUN_HEADER_LEN) & ~(size_t)3;
        memcpy(buf + b.len, data + PARLEY_STUN_HEADER_LEN, body);
        b.len += body;
    }
    const char *pwd = parley_ice_local_pwd(agent);
    parley_stun_add_integrity(&b, pwd, strlen(pwd));
    parley_stun_add_fingerprint(&b);
    size_t n = parley_stun_finish(&b);
    if (n)
        feed(buf, n);
    return 0;
}
