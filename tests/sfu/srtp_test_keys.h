/* srtp_test_keys.h - the fixed SRTP keys the SRTP test and the SRTP fuzzer
 * share: keys for one connection as DTLS would export them, from the client's
 * side (client = true) or the server's (the client's write key is the
 * server's remote key). Not secret, not random: for tests only. */
#ifndef PARLEY_SRTP_TEST_KEYS_H
#define PARLEY_SRTP_TEST_KEYS_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "srtp.h"

static inline parley_dtls_keys srtp_test_keys(parley_srtp_profile profile, bool client)
{
    parley_dtls_keys k;
    memset(&k, 0, sizeof k);
    k.profile = profile;
    k.key_len = 16;
    k.salt_len = profile == PARLEY_SRTP_AEAD_AES_128_GCM ? 12 : 14;
    for (int i = 0; i < 16; i++) {
        k.client_key[i] = (uint8_t)(0x10 + i);
        k.server_key[i] = (uint8_t)(0x80 + i);
    }
    for (int i = 0; i < 14; i++) {
        k.client_salt[i] = (uint8_t)(0x30 + i);
        k.server_salt[i] = (uint8_t)(0xC0 + i);
    }
    memcpy(k.local_key, client ? k.client_key : k.server_key, 16);
    memcpy(k.local_salt, client ? k.client_salt : k.server_salt, 14);
    memcpy(k.remote_key, client ? k.server_key : k.client_key, 16);
    memcpy(k.remote_salt, client ? k.server_salt : k.client_salt, 14);
    return k;
}

#endif
