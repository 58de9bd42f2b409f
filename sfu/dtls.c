/* dtls.c - the DTLS 1.2 endpoint: OpenSSL over memory, for DTLS-SRTP.
 *
 * Reads come from a memory BIO the caller's datagrams are written into.
 * Writes go to a small BIO of our own whose write function is the send
 * callback: OpenSSL's DTLS writes one datagram per BIO_write, so each call
 * is one datagram (a memory BIO would glue a flight's datagrams together).
 * The MTU is set explicitly (SSL_OP_NO_QUERY_MTU): there is no socket to ask.
 *
 * The peer's certificate is judged only by its fingerprint: the verify
 * callback ignores chain errors (self-signed is normal in WebRTC) and compares
 * the leaf's SHA-256 digest with the remote SDP's in constant time; the same
 * comparison is made again when the handshake completes. The keys are
 * exported and split per RFC 5764 §4.2: client key, server key, client salt,
 * server salt. */
#include "dtls.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include "errtext.h"

#define MAX_RTO_US 8000000u
#define SRTP_LABEL "EXTRACTOR-dtls_srtp"
/* a fixed type for the outgoing BIO, below the dynamic range (128..255) that
 * BIO_get_new_index would run out of with one method per endpoint */
#define OUT_BIO_TYPE (120 | BIO_TYPE_SOURCE_SINK)

struct parley_dtls {
    parley_dtls_config cfg;
    parley_dtls_state state;
    SSL_CTX *ctx;
    SSL *ssl;
    BIO_METHOD *out_method;
    BIO *rbio; /* owned by ssl */
    bool have_fp, fp_matched, have_keys, started;
    uint8_t remote_fp[PARLEY_FINGERPRINT_BYTES];
    uint64_t deadline; /* handshake deadline on cfg.now_ms's clock */
    parley_dtls_keys keys;
    parley_dtls_stats stats;
    char error[192];
};

static uint64_t monotonic_ms(void *user)
{
    (void)user;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t now_ms(const parley_dtls *d)
{
    return d->cfg.now_ms(d->cfg.user);
}

static void fail(parley_dtls *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(parley_dtls *d, const char *fmt, ...)
{
    if (d->state == PARLEY_DTLS_FAILED)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->error, sizeof d->error, fmt, ap);
    va_end(ap);
    unsigned long e = ERR_peek_last_error();
    if (e) {
        size_t n = strlen(d->error);
        char reason[128];
        ERR_error_string_n(e, reason, sizeof reason);
        snprintf(d->error + n, sizeof d->error - n, " (%s)", reason);
    }
    ERR_clear_error();
    d->state = PARLEY_DTLS_FAILED;
}

/* ---- the outgoing BIO ----------------------------------------------------- */

static int out_write(BIO *b, const char *data, int len)
{
    parley_dtls *d = BIO_get_data(b);
    if (len <= 0)
        return 0;
    d->stats.datagrams_out++;
    d->cfg.send(d->cfg.user, (const uint8_t *)data, (size_t)len);
    return len;
}

static long out_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b;
    (void)num;
    (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_DGRAM_QUERY_MTU:
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
    case BIO_CTRL_WPENDING:
    case BIO_CTRL_PENDING:
    default:
        return 0;
    }
}

static int out_create(BIO *b)
{
    BIO_set_init(b, 1);
    return 1;
}

/* ---- callbacks from OpenSSL ----------------------------------------------- */

static bool fingerprint_matches(parley_dtls *d, X509 *x)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!d->have_fp || !x || !X509_digest(x, EVP_sha256(), md, &n) ||
        n != PARLEY_FINGERPRINT_BYTES)
        return false;
    return CRYPTO_memcmp(md, d->remote_fp, PARLEY_FINGERPRINT_BYTES) == 0;
}

static int verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
    (void)preverify_ok; /* chain errors are expected: peers are self-signed */
    if (X509_STORE_CTX_get_error_depth(store) != 0)
        return 1;
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    parley_dtls *d = ssl ? SSL_get_app_data(ssl) : NULL;
    if (!d)
        return 0;
    d->fp_matched = fingerprint_matches(d, X509_STORE_CTX_get_current_cert(store));
    if (!d->fp_matched)
        X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
    return d->fp_matched ? 1 : 0;
}

/* OpenSSL asks for the next retransmission timeout: 0 is the first. */
static unsigned int timer_cb(SSL *ssl, unsigned int timer_us)
{
    parley_dtls *d = SSL_get_app_data(ssl);
    if (timer_us == 0)
        return d->cfg.initial_rto_ms >= MAX_RTO_US / 1000 ? MAX_RTO_US
                                                          : d->cfg.initial_rto_ms * 1000u;
    d->stats.retransmissions++;
    return timer_us >= MAX_RTO_US / 2 ? MAX_RTO_US : timer_us * 2;
}

/* ---- creation ------------------------------------------------------------- */

/* The SRTP profiles, in the server's order of preference. As server, OpenSSL
 * picks the first profile of this list that the client offered, whatever the
 * client's order, so GCM comes first: with Debian's libsrtp2 (built on NSS)
 * AES-128-GCM costs about a fifth of AES-CM + HMAC-SHA1-80 per packet
 * (bench/sfu/srtp_cost.c; docs/architecture.md), and Chromium and Firefox
 * both offer it. AES-256-GCM, which they also offer, costs more than
 * AES-128-GCM and is not listed. */
static const char *profile_list(unsigned mask)
{
    unsigned gcm = PARLEY_SRTP_PROFILE_BIT(PARLEY_SRTP_AEAD_AES_128_GCM);
    unsigned cm = PARLEY_SRTP_PROFILE_BIT(PARLEY_SRTP_AES128_CM_SHA1_80);
    if (mask == 0 || mask == (gcm | cm))
        return "SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80";
    if (mask == gcm)
        return "SRTP_AEAD_AES_128_GCM";
    if (mask == cm)
        return "SRTP_AES128_CM_SHA1_80";
    return NULL;
}

parley_dtls *parley_dtls_new(const parley_dtls_config *config, char *err, size_t errlen)
{
    const char *profiles = config ? profile_list(config->profiles) : NULL;
    if (!config || !config->cert || !config->send || !profiles ||
        (config->role != PARLEY_DTLS_SERVER && config->role != PARLEY_DTLS_CLIENT)) {
        parley_errtext_ssl(err, errlen, "a DTLS endpoint needs a role, a certificate, a send callback and "
                         "known SRTP profiles");
        return NULL;
    }
    parley_dtls *d = calloc(1, sizeof *d);
    if (!d) {
        parley_errtext_ssl(err, errlen, "out of memory");
        return NULL;
    }
    d->cfg = *config;
    d->cfg.remote_fingerprint = NULL; /* copied below, not kept */
    if (!d->cfg.mtu)
        d->cfg.mtu = PARLEY_DTLS_MTU;
    if (!d->cfg.handshake_timeout_ms)
        d->cfg.handshake_timeout_ms = PARLEY_DTLS_HANDSHAKE_TIMEOUT_MS;
    if (!d->cfg.initial_rto_ms)
        d->cfg.initial_rto_ms = PARLEY_DTLS_INITIAL_RTO_MS;
    if (!d->cfg.now_ms)
        d->cfg.now_ms = monotonic_ms;
    if (config->remote_fingerprint &&
        parley_dtls_set_remote_fingerprint(d, config->remote_fingerprint) != 0) {
        parley_errtext_ssl(err, errlen, "the remote fingerprint is not a sha-256 fingerprint");
        free(d);
        return NULL;
    }

    const char *what = "cannot set up DTLS";
    SSL_CTX *ctx = d->ctx = SSL_CTX_new(DTLS_method());
    bool ok = ctx && SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION) &&
              SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION) &&
              SSL_CTX_use_certificate(ctx, parley_cert_x509(config->cert)) == 1 &&
              SSL_CTX_use_PrivateKey(ctx, parley_cert_pkey(config->cert)) == 1 &&
              SSL_CTX_check_private_key(ctx) == 1 &&
              SSL_CTX_set_cipher_list(ctx, "ECDHE-ECDSA-AES128-GCM-SHA256:"
                                           "ECDHE-ECDSA-AES256-GCM-SHA384:"
                                           "ECDHE-ECDSA-CHACHA20-POLY1305:"
                                           "ECDHE-RSA-AES128-GCM-SHA256:"
                                           "ECDHE-RSA-AES256-GCM-SHA384:"
                                           "ECDHE-RSA-CHACHA20-POLY1305") == 1 &&
              SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") == 1 &&
              SSL_CTX_set_tlsext_use_srtp(ctx, profiles) == 0; /* 0 is success */
    if (ok) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(ctx, SSL_OP_NO_QUERY_MTU | SSL_OP_NO_TICKET);
        d->ssl = SSL_new(ctx);
        d->out_method = BIO_meth_new(OUT_BIO_TYPE, "parley-dtls");
        d->rbio = BIO_new(BIO_s_mem());
        ok = d->ssl && d->out_method && d->rbio &&
             BIO_meth_set_write(d->out_method, out_write) &&
             BIO_meth_set_ctrl(d->out_method, out_ctrl) &&
             BIO_meth_set_create(d->out_method, out_create);
    }
    BIO *wbio = ok ? BIO_new(d->out_method) : NULL;
    if (ok && wbio) {
        BIO_set_data(wbio, d);
        BIO_set_mem_eof_return(d->rbio, -1); /* empty means "try again" */
        SSL_set_bio(d->ssl, d->rbio, wbio);  /* ssl owns both now */
        SSL_set_app_data(d->ssl, d);
        DTLS_set_timer_cb(d->ssl, timer_cb);
        if (config->role == PARLEY_DTLS_SERVER)
            SSL_set_accept_state(d->ssl);
        else
            SSL_set_connect_state(d->ssl);
        ok = SSL_set_mtu(d->ssl, (long)d->cfg.mtu) > 0;
        what = "the MTU is too small";
    } else {
        BIO_free(d->rbio);
        ok = false;
    }
    if (!ok) {
        parley_errtext_ssl(err, errlen, what);
        parley_dtls_free(d);
        return NULL;
    }
    return d;
}

void parley_dtls_free(parley_dtls *d)
{
    if (!d)
        return;
    SSL_free(d->ssl); /* and both BIOs */
    SSL_CTX_free(d->ctx);
    BIO_meth_free(d->out_method);
    OPENSSL_cleanse(&d->keys, sizeof d->keys);
    free(d);
    ERR_clear_error();
}

int parley_dtls_set_remote_fingerprint(parley_dtls *d, const char *fingerprint)
{
    uint8_t fp[PARLEY_FINGERPRINT_BYTES];
    if (!parley_fingerprint_parse(fingerprint, fp))
        return -1;
    memcpy(d->remote_fp, fp, sizeof fp);
    d->have_fp = true;
    return 0;
}

/* ---- the handshake -------------------------------------------------------- */

static bool export_keys(parley_dtls *d)
{
    const SRTP_PROTECTION_PROFILE *p = SSL_get_selected_srtp_profile(d->ssl);
    parley_dtls_keys *k = &d->keys;
    if (!p) {
        fail(d, "the peer negotiated no SRTP profile");
        return false;
    }
    if (p->id == PARLEY_SRTP_AEAD_AES_128_GCM) {
        k->profile = PARLEY_SRTP_AEAD_AES_128_GCM;
        k->salt_len = 12;
    } else if (p->id == PARLEY_SRTP_AES128_CM_SHA1_80) {
        k->profile = PARLEY_SRTP_AES128_CM_SHA1_80;
        k->salt_len = 14;
    } else {
        fail(d, "unexpected SRTP profile %lu", p->id);
        return false;
    }
    k->key_len = 16;
    uint8_t material[2 * (16 + 14)];
    size_t n = 2 * (k->key_len + k->salt_len);
    if (SSL_export_keying_material(d->ssl, material, n, SRTP_LABEL, strlen(SRTP_LABEL), NULL, 0,
                                   0) != 1) {
        fail(d, "cannot export the SRTP keys");
        return false;
    }
    const uint8_t *m = material;
    memcpy(k->client_key, m, k->key_len);
    memcpy(k->server_key, m + k->key_len, k->key_len);
    memcpy(k->client_salt, m + 2 * k->key_len, k->salt_len);
    memcpy(k->server_salt, m + 2 * k->key_len + k->salt_len, k->salt_len);
    OPENSSL_cleanse(material, sizeof material);
    bool client = d->cfg.role == PARLEY_DTLS_CLIENT;
    memcpy(k->local_key, client ? k->client_key : k->server_key, k->key_len);
    memcpy(k->local_salt, client ? k->client_salt : k->server_salt, k->salt_len);
    memcpy(k->remote_key, client ? k->server_key : k->client_key, k->key_len);
    memcpy(k->remote_salt, client ? k->server_salt : k->client_salt, k->salt_len);
    d->have_keys = true;
    return true;
}

static void handshake(parley_dtls *d)
{
    int r = SSL_do_handshake(d->ssl);
    if (r == 1) {
        /* the callback checked the leaf already; check again at the end */
        if (!d->fp_matched || !fingerprint_matches(d, SSL_get0_peer_certificate(d->ssl))) {
            fail(d, "the peer's certificate does not match the remote fingerprint");
            return;
        }
        if (export_keys(d))
            d->state = PARLEY_DTLS_CONNECTED;
        return;
    }
    int e = SSL_get_error(d->ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return;
    }
    if (!d->have_fp && SSL_get_verify_result(d->ssl) != X509_V_OK)
        fail(d, "no remote fingerprint to check the peer's certificate against");
    else if (!d->fp_matched && SSL_get_verify_result(d->ssl) != X509_V_OK)
        fail(d, "the peer's certificate does not match the remote fingerprint");
    else
        fail(d, "DTLS handshake failed");
}

/* After the handshake: application data is not used (dropped), a
 * close_notify closes, a fatal alert fails. Retransmitted handshake flights
 * from the peer are answered inside SSL_read. */
static void connected(parley_dtls *d)
{
    uint8_t buf[2048];
    for (;;) {
        int r = SSL_read(d->ssl, buf, sizeof buf);
        if (r > 0) {
            d->stats.dropped++;
            continue;
        }
        int e = SSL_get_error(d->ssl, r);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            ERR_clear_error();
        } else if (e == SSL_ERROR_ZERO_RETURN) {
            (void)SSL_shutdown(d->ssl); /* answer with our close_notify */
            ERR_clear_error();
            d->state = PARLEY_DTLS_CLOSED;
        } else {
            fail(d, "DTLS connection failed");
        }
        return;
    }
}

static void begin(parley_dtls *d)
{
    if (d->started)
        return;
    d->started = true;
    d->state = PARLEY_DTLS_CONNECTING;
    d->deadline = now_ms(d) + d->cfg.handshake_timeout_ms;
}

parley_dtls_state parley_dtls_start(parley_dtls *d)
{
    if (d->state != PARLEY_DTLS_NEW)
        return d->state;
    begin(d);
    if (d->cfg.role == PARLEY_DTLS_CLIENT)
        handshake(d);
    return d->state;
}

/* RFC 7983: DTLS starts with 20..63; a record header is 13 bytes, and its
 * length field must fit in the datagram. */
static bool looks_like_dtls(const uint8_t *p, size_t len)
{
    if (len < 13 || len > PARLEY_DTLS_MAX_DATAGRAM || p[0] < 20 || p[0] > 63)
        return false;
    size_t rec = (size_t)p[11] << 8 | p[12];
    return p[1] == 0xFE && 13 + rec <= len;
}

parley_dtls_state parley_dtls_input(parley_dtls *d, const uint8_t *data, size_t len)
{
    d->stats.datagrams_in++;
    if (!data || !looks_like_dtls(data, len) || d->state == PARLEY_DTLS_FAILED ||
        d->state == PARLEY_DTLS_CLOSED) {
        d->stats.dropped++;
        return d->state;
    }
    if (d->state == PARLEY_DTLS_CONNECTING && now_ms(d) >= d->deadline) {
        fail(d, "DTLS handshake timed out");
        return d->state;
    }
    if (BIO_write(d->rbio, data, (int)len) != (int)len) {
        d->stats.dropped++;
        ERR_clear_error();
        return d->state;
    }
    begin(d);
    if (d->state == PARLEY_DTLS_CONNECTING)
        handshake(d);
    if (d->state == PARLEY_DTLS_CONNECTED)
        connected(d);
    (void)BIO_reset(d->rbio); /* whatever OpenSSL left is stale */
    return d->state;
}

long parley_dtls_timeout_ms(parley_dtls *d)
{
    if (d->state != PARLEY_DTLS_CONNECTING)
        return -1;
    uint64_t now = now_ms(d);
    long left = now >= d->deadline ? 0 : (long)(d->deadline - now);
    struct timeval tv;
    if (DTLSv1_get_timeout(d->ssl, &tv) == 1) {
        long t = (long)tv.tv_sec * 1000 + (long)(tv.tv_usec + 999) / 1000;
        if (t < left)
            left = t;
    }
    return left;
}

parley_dtls_state parley_dtls_tick(parley_dtls *d)
{
    if (d->state != PARLEY_DTLS_CONNECTING)
        return d->state;
    if (now_ms(d) >= d->deadline) {
        fail(d, "DTLS handshake timed out");
        return d->state;
    }
    if (DTLSv1_handle_timeout(d->ssl) < 0)
        fail(d, "DTLS retransmission failed");
    else
        ERR_clear_error();
    return d->state;
}

void parley_dtls_close(parley_dtls *d)
{
    if (d->state == PARLEY_DTLS_CONNECTED) {
        (void)SSL_shutdown(d->ssl);
        ERR_clear_error();
    }
    if (d->state != PARLEY_DTLS_FAILED)
        d->state = PARLEY_DTLS_CLOSED;
}

parley_dtls_state parley_dtls_state_of(const parley_dtls *d)
{
    return d->state;
}

const char *parley_dtls_state_name(parley_dtls_state s)
{
    switch (s) {
    case PARLEY_DTLS_NEW:
        return "new";
    case PARLEY_DTLS_CONNECTING:
        return "connecting";
    case PARLEY_DTLS_CONNECTED:
        return "connected";
    case PARLEY_DTLS_CLOSED:
        return "closed";
    case PARLEY_DTLS_FAILED:
        return "failed";
    }
    return "unknown";
}

const char *parley_dtls_error(const parley_dtls *d)
{
    return d->error;
}

int parley_dtls_get_keys(const parley_dtls *d, parley_dtls_keys *out)
{
    if (!d->have_keys || d->state == PARLEY_DTLS_FAILED)
        return -1;
    *out = d->keys;
    return 0;
}

void parley_dtls_get_stats(const parley_dtls *d, parley_dtls_stats *out)
{
    *out = d->stats;
}
