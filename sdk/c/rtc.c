/* rtc.c - one client media connection to the server's media port, on the
 * client's loop thread: its UDP socket, the ICE controlling agent, the DTLS
 * client and the SRTP sessions keyed from it. Built from the media core
 * (sfu/stun, dtls, srtp, cert); it knows nothing of tracks or signaling.
 *
 * ICE: the server is ICE-lite with one host candidate, so there is one pair.
 * Binding requests (USE-CANDIDATE, ICE-CONTROLLING, MESSAGE-INTEGRITY with
 * the server's ice-pwd, FINGERPRINT) go every CHECK_RTO_MS until one is
 * answered with a valid MESSAGE-INTEGRITY, then every CONSENT_MS as consent
 * keep-alives; no answer for CONSENT_LOST_MS fails the connection. The DTLS
 * handshake starts at the first answer and must complete within
 * CONNECT_TIMEOUT_MS of the start, or the connection fails.
 *
 * Only datagrams from the server's address are looked at. One repeating
 * timer (TICK_MS) drives the checks, the DTLS retransmissions and the
 * owner's periodic work (rtc_callbacks.tick).
 *
 * Lifetime: rtc_close() stops every callback at once and frees the
 * connection when its libuv handles have closed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "internal.h"

#include "cert.h"
#include "dtls.h"
#include "rtp.h"
#include "sdp.h"
#include "srtp.h"
#include "stun.h"

enum {
    TICK_MS = 10,
    CHECK_RTO_MS = 100,
    CONSENT_MS = 5000,
    CONSENT_LOST_MS = 30000,
    CONNECT_TIMEOUT_MS = 10000,
    RX_BUF = 8192,
};

struct rtc {
    uv_loop_t *loop;
    uv_udp_t udp;
    uv_timer_t timer;
    int open_handles;
    bool udp_ready, timer_ready;
    bool closed;
    rtc_callbacks cb;
    void *arg;

    parley_cert *cert;
    parley_dtls *dtls;
    parley_srtp *srtp;
    char ufrag[9], pwd[25];
    char remote_user[2 * PARLEY_SDP_ICE_LEN + 2]; /* "serverufrag:ourufrag" */
    char remote_pwd[PARLEY_SDP_ICE_LEN + 1];
    struct sockaddr_storage remote;
    uint64_t tiebreaker;

    rtc_state state;
    bool ice_ok;
    uint64_t started_ms, last_check_ms, last_answer_ms;
    uint8_t rx[RX_BUF];
};

static void ice_chars(char *out, size_t n)
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char raw[32];
    if (RAND_bytes(raw, (int)n) != 1)
        for (size_t i = 0; i < n; i++)
            raw[i] = (unsigned char)rand();
    for (size_t i = 0; i < n; i++)
        out[i] = set[raw[i] % 64];
    out[n] = '\0';
}

static void set_state(rtc *r, rtc_state s, const char *why)
{
    if (r->state == s || r->closed)
        return;
    r->state = s;
    if (r->cb.state)
        r->cb.state(r->arg, s, why);
}

static void send_raw(rtc *r, const uint8_t *d, size_t n)
{
    if (!r->udp_ready || r->closed)
        return;
    uv_buf_t b = uv_buf_init((char *)d, (unsigned)n);
    uv_udp_try_send(&r->udp, &b, 1, (const struct sockaddr *)&r->remote);
}

static void dtls_out(void *user, const uint8_t *d, size_t n)
{
    send_raw(user, d, n);
}

rtc *rtc_new(uv_loop_t *loop, const rtc_callbacks *cb, void *arg, char *err, size_t errlen)
{
    rtc *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->loop = loop;
    r->cb = *cb;
    r->arg = arg;
    ice_chars(r->ufrag, 8);
    ice_chars(r->pwd, 24);
    if (RAND_bytes((unsigned char *)&r->tiebreaker, sizeof r->tiebreaker) != 1)
        r->tiebreaker = ((uint64_t)rand() << 32) | (uint64_t)rand();
    if (!(r->cert = parley_cert_generate(0, err, errlen))) {
        free(r);
        return NULL;
    }
    parley_dtls_config dc = {.role = PARLEY_DTLS_CLIENT, .cert = r->cert, .send = dtls_out, .user = r,
                             .handshake_timeout_ms = CONNECT_TIMEOUT_MS};
    if (!(r->dtls = parley_dtls_new(&dc, err, errlen))) {
        parley_cert_free(r->cert);
        free(r);
        return NULL;
    }
    r->state = RTC_NEW;
    return r;
}

const char *rtc_ufrag(const rtc *r)
{
    return r->ufrag;
}

const char *rtc_pwd(const rtc *r)
{
    return r->pwd;
}

const char *rtc_fingerprint(const rtc *r)
{
    return parley_cert_fingerprint(r->cert);
}

rtc_state rtc_get_state(const rtc *r)
{
    return r->state;
}

static void send_check(rtc *r)
{
    parley_stun_request q = {.username = r->remote_user, .password = r->remote_pwd,
                             .priority = 0x6e0001ff, .controlling = true,
                             .tiebreaker = r->tiebreaker, .use_candidate = true};
    uint8_t txid[PARLEY_STUN_TXID_LEN], buf[600];
    parley_stun_new_txid(txid);
    size_t n = parley_stun_binding_request(buf, sizeof buf, txid, &q);
    if (n)
        send_raw(r, buf, n);
    r->last_check_ms = uv_now(r->loop);
}

static void on_stun(rtc *r, const uint8_t *d, size_t len)
{
    parley_stun_msg m;
    const char *why;
    if (parley_stun_parse(d, len, &m, &why) != 0 || m.type != PARLEY_STUN_BINDING_SUCCESS ||
        !parley_stun_check_integrity(&m, r->remote_pwd, strlen(r->remote_pwd)))
        return;
    r->last_answer_ms = uv_now(r->loop);
    if (!r->ice_ok) {
        r->ice_ok = true;
        set_state(r, RTC_DTLS, NULL);
        if (!r->closed && parley_dtls_start(r->dtls) == PARLEY_DTLS_FAILED)
            set_state(r, RTC_FAILED, parley_dtls_error(r->dtls));
    }
}

static void on_dtls(rtc *r, const uint8_t *d, size_t len)
{
    parley_dtls_state st = parley_dtls_input(r->dtls, d, len);
    if (st == PARLEY_DTLS_CONNECTED && !r->srtp) {
        parley_dtls_keys k;
        char err[128];
        if (parley_dtls_get_keys(r->dtls, &k) != 0 || !(r->srtp = parley_srtp_new(&k, err, sizeof err))) {
            set_state(r, RTC_FAILED, "the SRTP keys could not be set up");
            return;
        }
        set_state(r, RTC_CONNECTED, NULL);
    } else if (st == PARLEY_DTLS_FAILED) {
        set_state(r, RTC_FAILED, parley_dtls_error(r->dtls));
    } else if (st == PARLEY_DTLS_CLOSED && r->state == RTC_CONNECTED) {
        set_state(r, RTC_CLOSED, "the server closed the connection");
    }
}

static bool same_addr(const struct sockaddr *a, const struct sockaddr_storage *b)
{
    if (a->sa_family != b->ss_family)
        return false;
    if (a->sa_family == AF_INET) {
        const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
    return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    (void)suggested;
    rtc *r = h->data;
    *b = uv_buf_init((char *)r->rx, sizeof r->rx);
}

static void on_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *from, unsigned flags)
{
    rtc *r = h->data;
    if (n <= 0 || !from || r->closed || (flags & UV_UDP_PARTIAL) || !same_addr(from, &r->remote))
        return;
    uint8_t *d = (uint8_t *)b->base;
    size_t len = (size_t)n;
    if (d[0] < 4) {
        on_stun(r, d, len);
    } else if (d[0] >= 20 && d[0] <= 63) {
        on_dtls(r, d, len);
    } else if (d[0] >= 128 && d[0] <= 191 && r->srtp && r->state == RTC_CONNECTED) {
        if (parley_rtp_is_rtcp(d, len)) {
            if (parley_srtp_unprotect_rtcp(r->srtp, d, &len) == PARLEY_SRTP_OK && r->cb.rtcp)
                r->cb.rtcp(r->arg, d, len);
        } else if (parley_srtp_unprotect_rtp(r->srtp, d, &len) == PARLEY_SRTP_OK && r->cb.rtp) {
            r->cb.rtp(r->arg, d, len);
        }
    }
}

static void on_tick(uv_timer_t *t)
{
    rtc *r = t->data;
    if (r->closed)
        return;
    uint64_t now = uv_now(r->loop);
    if (r->state == RTC_CHECKING || r->state == RTC_DTLS || r->state == RTC_CONNECTED) {
        unsigned every = r->ice_ok ? CONSENT_MS : CHECK_RTO_MS;
        if (now - r->last_check_ms >= every)
            send_check(r);
        if (r->state != RTC_CONNECTED && now - r->started_ms >= CONNECT_TIMEOUT_MS) {
            set_state(r, RTC_FAILED, r->ice_ok ? "the DTLS handshake did not complete in time"
                                               : "no answer to the ICE checks");
            return;
        }
        if (r->state == RTC_CONNECTED && now - r->last_answer_ms >= CONSENT_LOST_MS) {
            set_state(r, RTC_FAILED, "consent lost: the server stopped answering the ICE checks");
            return;
        }
    }
    if (r->state == RTC_DTLS && parley_dtls_timeout_ms(r->dtls) == 0 &&
        parley_dtls_tick(r->dtls) == PARLEY_DTLS_FAILED) {
        set_state(r, RTC_FAILED, parley_dtls_error(r->dtls));
        return;
    }
    if (r->cb.tick && !r->closed)
        r->cb.tick(r->arg, now);
}

int rtc_start(rtc *r, const char *remote_ufrag, const char *remote_pwd, const char *fingerprint,
              const char *address, uint16_t port, char *err, size_t errlen)
{
    if (r->state != RTC_NEW) {
        snprintf(err, errlen, "the connection was already started");
        return -1;
    }
    if (!remote_ufrag || !*remote_ufrag || !remote_pwd || !*remote_pwd ||
        strlen(remote_ufrag) > PARLEY_SDP_ICE_LEN || strlen(remote_pwd) > PARLEY_SDP_ICE_LEN) {
        snprintf(err, errlen, "the server's ICE credentials are missing");
        return -1;
    }
    if (!fingerprint || parley_dtls_set_remote_fingerprint(r->dtls, fingerprint) != 0) {
        snprintf(err, errlen, "the server's fingerprint is not a sha-256 fingerprint");
        return -1;
    }
    struct sockaddr_in6 a6;
    struct sockaddr_in a4;
    const char *any;
    if (uv_ip4_addr(address, port, &a4) == 0) {
        memcpy(&r->remote, &a4, sizeof a4);
        any = "0.0.0.0";
    } else if (uv_ip6_addr(address, port, &a6) == 0) {
        memcpy(&r->remote, &a6, sizeof a6);
        any = "::";
    } else {
        snprintf(err, errlen, "the server's candidate address %s is not an IP address", address);
        return -1;
    }
    snprintf(r->remote_user, sizeof r->remote_user, "%s:%s", remote_ufrag, r->ufrag);
    snprintf(r->remote_pwd, sizeof r->remote_pwd, "%s", remote_pwd);

    int rc = uv_udp_init(r->loop, &r->udp);
    if (rc) {
        snprintf(err, errlen, "UDP socket: %s", uv_strerror(rc));
        return -1;
    }
    r->udp.data = r;
    r->udp_ready = true;
    r->open_handles++;
    struct sockaddr_storage bind_addr;
    if (any[0] == '0')
        uv_ip4_addr(any, 0, (struct sockaddr_in *)&bind_addr);
    else
        uv_ip6_addr(any, 0, (struct sockaddr_in6 *)&bind_addr);
    if ((rc = uv_udp_bind(&r->udp, (const struct sockaddr *)&bind_addr, 0)) ||
        (rc = uv_udp_recv_start(&r->udp, on_alloc, on_recv))) {
        snprintf(err, errlen, "UDP socket: %s", uv_strerror(rc));
        return -1;
    }
    uv_timer_init(r->loop, &r->timer);
    r->timer.data = r;
    r->timer_ready = true;
    r->open_handles++;
    uv_update_time(r->loop);
    r->started_ms = uv_now(r->loop);
    r->state = RTC_CHECKING;
    send_check(r);
    uv_timer_start(&r->timer, on_tick, TICK_MS, TICK_MS);
    return 0;
}

int rtc_send_rtp(rtc *r, uint8_t *pkt, size_t len, size_t cap)
{
    if (r->closed || r->state != RTC_CONNECTED || !r->srtp ||
        parley_srtp_protect_rtp(r->srtp, pkt, &len, cap) != PARLEY_SRTP_OK)
        return -1;
    send_raw(r, pkt, len);
    return 0;
}

int rtc_send_rtcp(rtc *r, uint8_t *pkt, size_t len, size_t cap)
{
    if (r->closed || r->state != RTC_CONNECTED || !r->srtp ||
        parley_srtp_protect_rtcp(r->srtp, pkt, &len, cap) != PARLEY_SRTP_OK)
        return -1;
    send_raw(r, pkt, len);
    return 0;
}

static void free_now(rtc *r)
{
    parley_dtls_free(r->dtls);
    parley_srtp_free(r->srtp);
    parley_cert_free(r->cert);
    free(r);
}

static void on_closed(uv_handle_t *h)
{
    rtc *r = h->data;
    if (--r->open_handles == 0)
        free_now(r);
}

void rtc_close(rtc *r)
{
    if (!r || r->closed)
        return;
    if (r->state == RTC_CONNECTED)
        parley_dtls_close(r->dtls); /* close_notify, while the socket is still open */
    r->closed = true;
    if (!r->open_handles) {
        free_now(r);
        return;
    }
    if (r->timer_ready) {
        uv_timer_stop(&r->timer);
        uv_close((uv_handle_t *)&r->timer, on_closed);
    }
    if (r->udp_ready) {
        uv_udp_recv_stop(&r->udp);
        uv_close((uv_handle_t *)&r->udp, on_closed);
    }
}
