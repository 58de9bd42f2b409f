/* srtp.c - libsrtp2 sessions for a peer, with the length checks libsrtp
 * leaves to its caller.
 *
 * libsrtp assumes the buffer has room for its trailer and that packets are
 * at least a header long; both are checked here first, so that nothing a peer
 * sends (or the forwarding code mistakes) makes libsrtp read or write out of
 * bounds. The outbound session allows repeated sequence numbers
 * (allow_repeat_tx): the SFU resends the very same packet when answering a
 * NACK. The inbound session keeps libsrtp's replay window. */
#include "srtp.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <srtp2/srtp.h>

struct parley_srtp {
    srtp_t out, in;
    size_t rtp_tag;  /* bytes added to RTP: the auth / AEAD tag */
    size_t rtcp_tag; /* the tag and the 4-byte SRTCP index */
    parley_srtp_stats stats;
};

static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;
static bool lib_ready;
static unsigned long lib_sessions;

int parley_srtp_global_init(void)
{
    pthread_mutex_lock(&lib_lock);
    if (!lib_ready && srtp_init() == srtp_err_status_ok)
        lib_ready = true;
    bool ok = lib_ready;
    pthread_mutex_unlock(&lib_lock);
    return ok ? 0 : -1;
}

int parley_srtp_global_shutdown(void)
{
    int rc = 0;
    pthread_mutex_lock(&lib_lock);
    if (lib_ready && lib_sessions == 0) {
        rc = srtp_shutdown() == srtp_err_status_ok ? 0 : -1;
        lib_ready = false;
    } else if (lib_sessions) {
        rc = -1;
    }
    pthread_mutex_unlock(&lib_lock);
    return rc;
}

static srtp_t make_session(const parley_dtls_keys *k, bool outbound)
{
    srtp_policy_t p;
    uint8_t master[16 + 14];
    memset(&p, 0, sizeof p);
    if (k->profile == PARLEY_SRTP_AEAD_AES_128_GCM) {
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
        srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
    } else {
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtp);
        srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&p.rtcp);
    }
    memcpy(master, outbound ? k->local_key : k->remote_key, k->key_len);
    memcpy(master + k->key_len, outbound ? k->local_salt : k->remote_salt, k->salt_len);
    p.ssrc.type = outbound ? ssrc_any_outbound : ssrc_any_inbound;
    p.key = master;
    p.window_size = 0; /* libsrtp's default */
    p.allow_repeat_tx = outbound ? 1 : 0;
    srtp_t s = NULL;
    if (srtp_create(&s, &p) != srtp_err_status_ok)
        s = NULL;
    memset(master, 0, sizeof master);
    return s;
}

parley_srtp *parley_srtp_new(const parley_dtls_keys *keys, char *err, size_t errlen)
{
    if (!keys || keys->key_len != 16 ||
        !((keys->profile == PARLEY_SRTP_AEAD_AES_128_GCM && keys->salt_len == 12) ||
          (keys->profile == PARLEY_SRTP_AES128_CM_SHA1_80 && keys->salt_len == 14))) {
        snprintf(err, errlen, "unsupported SRTP keys");
        return NULL;
    }
    if (parley_srtp_global_init() != 0) {
        snprintf(err, errlen, "libsrtp cannot be initialised");
        return NULL;
    }
    parley_srtp *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    bool gcm = keys->profile == PARLEY_SRTP_AEAD_AES_128_GCM;
    s->rtp_tag = gcm ? 16 : 10;
    s->rtcp_tag = s->rtp_tag + 4;
    pthread_mutex_lock(&lib_lock);
    lib_sessions++;
    pthread_mutex_unlock(&lib_lock);
    s->out = make_session(keys, true);
    s->in = make_session(keys, false);
    if (!s->out || !s->in) {
        snprintf(err, errlen, "libsrtp refused the keys");
        parley_srtp_free(s);
        return NULL;
    }
    return s;
}

void parley_srtp_free(parley_srtp *s)
{
    if (!s)
        return;
    if (s->out)
        srtp_dealloc(s->out);
    if (s->in)
        srtp_dealloc(s->in);
    free(s);
    pthread_mutex_lock(&lib_lock);
    lib_sessions--;
    pthread_mutex_unlock(&lib_lock);
}

/* The length of the RTP header (fixed part, CSRCs, extension), or 0 when
 * the packet is too short to hold it or is not RTP version 2. */
static size_t rtp_header_len(const uint8_t *p, size_t len)
{
    if (len < 12 || (p[0] >> 6) != 2)
        return 0;
    size_t h = 12 + 4 * (size_t)(p[0] & 0x0F);
    if (p[0] & 0x10) {
        if (len < h + 4)
            return 0;
        h += 4 + 4 * ((size_t)p[h + 2] << 8 | p[h + 3]);
    }
    return h <= len ? h : 0;
}

static bool rtcp_ok(const uint8_t *p, size_t len)
{
    return len >= 8 && (p[0] >> 6) == 2;
}

static parley_srtp_status reject(parley_srtp *s, srtp_err_status_t e)
{
    switch (e) {
    case srtp_err_status_auth_fail:
        s->stats.rejected_auth++;
        return PARLEY_SRTP_AUTH;
    case srtp_err_status_replay_fail:
    case srtp_err_status_replay_old:
        s->stats.rejected_replay++;
        return PARLEY_SRTP_REPLAY;
    default:
        s->stats.rejected_other++;
        return PARLEY_SRTP_ERROR;
    }
}

static bool args_ok(const parley_srtp *s, const uint8_t *buf, const size_t *len)
{
    return s && buf && len && *len <= INT_MAX / 2;
}

parley_srtp_status parley_srtp_protect_rtp(parley_srtp *s, uint8_t *buf, size_t *len, size_t cap)
{
    if (!args_ok(s, buf, len) || !rtp_header_len(buf, *len))
        return PARLEY_SRTP_INVALID;
    if (cap < *len + s->rtp_tag)
        return PARLEY_SRTP_NO_ROOM;
    int n = (int)*len;
    srtp_err_status_t e = srtp_protect(s->out, buf, &n);
    if (e != srtp_err_status_ok)
        return reject(s, e);
    *len = (size_t)n;
    s->stats.protected_rtp++;
    return PARLEY_SRTP_OK;
}

parley_srtp_status parley_srtp_protect_rtcp(parley_srtp *s, uint8_t *buf, size_t *len,
                                            size_t cap)
{
    if (!args_ok(s, buf, len) || !rtcp_ok(buf, *len))
        return PARLEY_SRTP_INVALID;
    if (cap < *len + s->rtcp_tag)
        return PARLEY_SRTP_NO_ROOM;
    int n = (int)*len;
    srtp_err_status_t e = srtp_protect_rtcp(s->out, buf, &n);
    if (e != srtp_err_status_ok)
        return reject(s, e);
    *len = (size_t)n;
    s->stats.protected_rtcp++;
    return PARLEY_SRTP_OK;
}

parley_srtp_status parley_srtp_unprotect_rtp(parley_srtp *s, uint8_t *buf, size_t *len)
{
    if (!args_ok(s, buf, len))
        return PARLEY_SRTP_INVALID;
    size_t h = rtp_header_len(buf, *len);
    if (!h || *len < h + s->rtp_tag) {
        s->stats.rejected_truncated++;
        return PARLEY_SRTP_TRUNCATED;
    }
    int n = (int)*len;
    srtp_err_status_t e = srtp_unprotect(s->in, buf, &n);
    if (e != srtp_err_status_ok)
        return reject(s, e);
    *len = (size_t)n;
    s->stats.unprotected_rtp++;
    return PARLEY_SRTP_OK;
}

parley_srtp_status parley_srtp_unprotect_rtcp(parley_srtp *s, uint8_t *buf, size_t *len)
{
    if (!args_ok(s, buf, len))
        return PARLEY_SRTP_INVALID;
    if (!rtcp_ok(buf, *len) || *len < 8 + s->rtcp_tag) {
        s->stats.rejected_truncated++;
        return PARLEY_SRTP_TRUNCATED;
    }
    int n = (int)*len;
    srtp_err_status_t e = srtp_unprotect_rtcp(s->in, buf, &n);
    if (e != srtp_err_status_ok)
        return reject(s, e);
    *len = (size_t)n;
    s->stats.unprotected_rtcp++;
    return PARLEY_SRTP_OK;
}

size_t parley_srtp_rtp_overhead(const parley_srtp *s)
{
    return s->rtp_tag;
}

size_t parley_srtp_rtcp_overhead(const parley_srtp *s)
{
    return s->rtcp_tag;
}

void parley_srtp_get_stats(const parley_srtp *s, parley_srtp_stats *out)
{
    *out = s->stats;
}

const char *parley_srtp_status_name(parley_srtp_status st)
{
    switch (st) {
    case PARLEY_SRTP_OK:
        return "ok";
    case PARLEY_SRTP_INVALID:
        return "invalid";
    case PARLEY_SRTP_NO_ROOM:
        return "no room for the trailer";
    case PARLEY_SRTP_TRUNCATED:
        return "truncated";
    case PARLEY_SRTP_AUTH:
        return "authentication failed";
    case PARLEY_SRTP_REPLAY:
        return "replayed";
    case PARLEY_SRTP_ERROR:
        return "refused";
    }
    return "unknown";
}
