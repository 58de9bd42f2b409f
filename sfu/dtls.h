/* dtls.h - one DTLS 1.2 endpoint per peer, for DTLS-SRTP (RFC 5764).
 *
 * An endpoint owns no socket: the UDP module hands it each datagram that
 * demultiplexes as DTLS (first byte 20..63, RFC 7983) with parley_dtls_input,
 * and the endpoint hands its datagrams out, one record flight piece per call
 * and never more than the MTU (default 1200), through the send callback.
 *
 * Roles: the SFU answers with a=setup:passive and is the DTLS server; the C
 * SDK offers a=setup:active and is the client (parley_dtls_start sends its
 * ClientHello). Both sides present a certificate (parley_cert) and both check
 * the one the peer presents against the SHA-256 fingerprint from the remote
 * SDP: self-signed is expected, a mismatch fails the handshake with a
 * bad_certificate alert. The use_srtp extension offers
 * SRTP_AEAD_AES_128_GCM and SRTP_AES128_CM_SHA1_80 (in that order of
 * preference) unless the config narrows it.
 *
 * Time: the caller drives retransmissions. parley_dtls_timeout_ms says when
 * parley_dtls_tick is next due; tick retransmits the last flight when its
 * timer has run out (DTLSv1_handle_timeout; OpenSSL 3.0 measures that timer
 * on the monotonic wall clock itself, with durations set here: initial_rto_ms,
 * doubled per retransmission up to 8 s) and fails the handshake when the
 * handshake deadline (handshake_timeout_ms, default 10 s) has passed on the
 * config's clock (now_ms; default CLOCK_MONOTONIC), which tests inject.
 *
 * When the handshake completes the state becomes CONNECTED and the SRTP keys
 * are exported (SSL_export_keying_material, "EXTRACTOR-dtls_srtp") and split
 * per RFC 5764 §4.2 into parley_dtls_keys, ready for parley_srtp_new. A
 * close_notify from the peer, or parley_dtls_close, makes it CLOSED. Any
 * fatal handshake error, a fingerprint mismatch or the deadline makes it
 * FAILED (with the reason in parley_dtls_error). Datagrams that are not
 * DTLS records are dropped and counted and never change the state.
 *
 * Ownership: the endpoint borrows config->cert (it must outlive it), copies
 * the fingerprint, and owns its SSL_CTX and SSL; parley_dtls_free releases
 * everything (NULL is fine). An endpoint is used by one thread at a time; the
 * send callback is called from inside the endpoint's functions, and must not
 * free the endpoint. */
#ifndef PARLEY_SFU_DTLS_H
#define PARLEY_SFU_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cert.h"

#define PARLEY_DTLS_MTU 1200
#define PARLEY_DTLS_HANDSHAKE_TIMEOUT_MS 10000
#define PARLEY_DTLS_INITIAL_RTO_MS 1000
#define PARLEY_DTLS_MAX_DATAGRAM 16384 /* larger input is dropped */

typedef enum parley_dtls_role {
    PARLEY_DTLS_SERVER = 0, /* a=setup:passive (the SFU) */
    PARLEY_DTLS_CLIENT,     /* a=setup:active (the SDK) */
} parley_dtls_role;

typedef enum parley_dtls_state {
    PARLEY_DTLS_NEW = 0,    /* nothing sent or received yet */
    PARLEY_DTLS_CONNECTING, /* handshake under way */
    PARLEY_DTLS_CONNECTED,  /* keys available */
    PARLEY_DTLS_CLOSED,     /* close_notify sent or received */
    PARLEY_DTLS_FAILED,     /* handshake error, fingerprint mismatch, timeout */
} parley_dtls_state;

/* SRTP protection profiles (their IANA numbers), usable as bit masks via
 * PARLEY_SRTP_PROFILE_BIT. */
typedef enum parley_srtp_profile {
    PARLEY_SRTP_AES128_CM_SHA1_80 = 0x0001,
    PARLEY_SRTP_AEAD_AES_128_GCM = 0x0007,
} parley_srtp_profile;
#define PARLEY_SRTP_PROFILE_BIT(p) (1u << (p))

/* The DTLS-SRTP keys of a connection. client_* / server_* are as exported;
 * local_* / remote_* are the same keys seen from this endpoint (local: what
 * it protects with, remote: what it unprotects with). */
typedef struct parley_dtls_keys {
    parley_srtp_profile profile;
    size_t key_len;  /* 16 */
    size_t salt_len; /* 14 (AES-CM) or 12 (AES-GCM) */
    uint8_t client_key[16], client_salt[14];
    uint8_t server_key[16], server_salt[14];
    uint8_t local_key[16], local_salt[14];
    uint8_t remote_key[16], remote_salt[14];
} parley_dtls_keys;

typedef void (*parley_dtls_send_fn)(void *user, const uint8_t *data, size_t len);
typedef uint64_t (*parley_dtls_clock_fn)(void *user); /* milliseconds, monotonic */

typedef struct parley_dtls_config {
    parley_dtls_role role;
    const parley_cert *cert;        /* required; borrowed */
    const char *remote_fingerprint; /* from the remote SDP; may be set later */
    unsigned profiles;              /* PARLEY_SRTP_PROFILE_BIT mask; 0: both */
    unsigned mtu;                   /* 0: PARLEY_DTLS_MTU */
    unsigned handshake_timeout_ms;  /* 0: PARLEY_DTLS_HANDSHAKE_TIMEOUT_MS */
    unsigned initial_rto_ms;        /* 0: PARLEY_DTLS_INITIAL_RTO_MS */
    parley_dtls_send_fn send;       /* required */
    parley_dtls_clock_fn now_ms;    /* NULL: CLOCK_MONOTONIC */
    void *user;                     /* for send and now_ms */
} parley_dtls_config;

typedef struct parley_dtls_stats {
    uint64_t datagrams_in, datagrams_out;
    uint64_t dropped; /* not DTLS, oversized, or after the end */
    uint64_t retransmissions;
} parley_dtls_stats;

typedef struct parley_dtls parley_dtls;

/* A new endpoint in state NEW. NULL with err on failure. */
parley_dtls *parley_dtls_new(const parley_dtls_config *config, char *err, size_t errlen);
void parley_dtls_free(parley_dtls *d);
/* Set (or replace) the peer's fingerprint before the handshake reaches the
 * peer's certificate. Returns 0, or -1 when it is not a sha-256 fingerprint. */
int parley_dtls_set_remote_fingerprint(parley_dtls *d, const char *fingerprint);
/* Start the handshake: a client sends its ClientHello, a server starts its
 * deadline and waits. Returns the state. */
parley_dtls_state parley_dtls_start(parley_dtls *d);
/* Feed one received datagram. Returns the state afterwards. */
parley_dtls_state parley_dtls_input(parley_dtls *d, const uint8_t *data, size_t len);
/* Milliseconds until parley_dtls_tick is due (0: now), or -1 when no timer
 * runs (not started, connected, closed, failed). */
long parley_dtls_timeout_ms(parley_dtls *d);
/* Retransmit if the flight timer ran out; fail if the deadline passed. */
parley_dtls_state parley_dtls_tick(parley_dtls *d);
/* Send close_notify (once) and go CLOSED. */
void parley_dtls_close(parley_dtls *d);

parley_dtls_state parley_dtls_state_of(const parley_dtls *d);
const char *parley_dtls_state_name(parley_dtls_state s);
/* Why the endpoint FAILED ("" otherwise). */
const char *parley_dtls_error(const parley_dtls *d);
/* The exported keys; -1 unless CONNECTED (or CLOSED after connecting). */
int parley_dtls_get_keys(const parley_dtls *d, parley_dtls_keys *out);
void parley_dtls_get_stats(const parley_dtls *d, parley_dtls_stats *out);

#endif
