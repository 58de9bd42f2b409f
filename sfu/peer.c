/* peer.c - one SFU-side WebRTC transport: ICE-lite agent (through the UDP
 * port), DTLS server endpoint, SRTP sessions (see peer.h for the rules).
 *
 * The DTLS endpoint is started on the first DTLS datagram, so that its
 * handshake deadline measures the handshake and not the time ICE took. */
#include "peer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtls.h"
#include "ice.h"
#include "rtp.h"
#include "srtp.h"

struct parley_peer {
    uv_loop_t *loop;
    parley_udp *udp;
    parley_udp_peer *up;
    const parley_cert *cert;
    parley_dtls *dtls;
    parley_srtp *srtp;
    uv_timer_t timer;
    parley_peer_state state;
    parley_peer_callbacks cb;
    parley_peer_counters c;
    uint8_t buf[PARLEY_PEER_BUFFER];
};

const char *parley_peer_state_name(parley_peer_state s)
{
    switch (s) {
    case PARLEY_PEER_CONNECTING: return "connecting";
    case PARLEY_PEER_CONNECTED: return "connected";
    case PARLEY_PEER_FAILED: return "failed";
    case PARLEY_PEER_CLOSED: return "closed";
    }
    return "?";
}

static void set_state(parley_peer *p, parley_peer_state s)
{
    if (p->state == s || p->state == PARLEY_PEER_FAILED || p->state == PARLEY_PEER_CLOSED)
        return;
    p->state = s;
    if (p->cb.on_state)
        p->cb.on_state(p, p->cb.arg, s);
}

static void dtls_send(void *user, const uint8_t *data, size_t len)
{
    parley_peer *p = user;
    if (parley_udp_send(p->udp, p->up, data, len) < 0)
        p->c.send_errors++;
}

static void on_timer(uv_timer_t *t);

/* Follow the endpoint's state: keys, failure, close; re-arm its timer. */
static void after_dtls(parley_peer *p, parley_dtls_state st)
{
    if (st == PARLEY_DTLS_CONNECTED && !p->srtp && p->state == PARLEY_PEER_CONNECTING) {
        parley_dtls_keys keys;
        char err[128];
        if (parley_dtls_get_keys(p->dtls, &keys) == 0 &&
            (p->srtp = parley_srtp_new(&keys, err, sizeof err)) != NULL)
            set_state(p, PARLEY_PEER_CONNECTED);
        else
            set_state(p, PARLEY_PEER_FAILED);
    } else if (st == PARLEY_DTLS_FAILED) {
        set_state(p, PARLEY_PEER_FAILED);
    } else if (st == PARLEY_DTLS_CLOSED) {
        set_state(p, PARLEY_PEER_CLOSED);
    }
    long ms = parley_dtls_timeout_ms(p->dtls);
    if (ms >= 0)
        uv_timer_start(&p->timer, on_timer, (uint64_t)ms, 0);
    else
        uv_timer_stop(&p->timer);
}

static void on_timer(uv_timer_t *t)
{
    parley_peer *p = t->data;
    after_dtls(p, parley_dtls_tick(p->dtls));
}

/* ---- the port's callbacks ---- */

static void udp_dtls(parley_udp_peer *up, void *owner, const uint8_t *data, size_t len)
{
    (void)up;
    parley_peer *p = owner;
    p->c.dtls_in++;
    if (parley_dtls_state_of(p->dtls) == PARLEY_DTLS_NEW)
        parley_dtls_start(p->dtls);
    after_dtls(p, parley_dtls_input(p->dtls, data, len));
}

static void udp_rtp(parley_udp_peer *up, void *owner, const uint8_t *data, size_t len)
{
    (void)up;
    parley_peer *p = owner;
    if (!p->srtp || p->state != PARLEY_PEER_CONNECTED) {
        p->c.drop_not_ready++;
        return;
    }
    if (len > sizeof p->buf) {
        p->c.drop_oversize++;
        return;
    }
    memcpy(p->buf, data, len);
    bool rtcp = parley_rtp_is_rtcp(p->buf, len);
    parley_srtp_status st = rtcp ? parley_srtp_unprotect_rtcp(p->srtp, p->buf, &len)
                                 : parley_srtp_unprotect_rtp(p->srtp, p->buf, &len);
    switch (st) {
    case PARLEY_SRTP_OK: break;
    case PARLEY_SRTP_TRUNCATED: p->c.unprotect_truncated++; return;
    case PARLEY_SRTP_AUTH: p->c.unprotect_auth++; return;
    case PARLEY_SRTP_REPLAY: p->c.unprotect_replay++; return;
    default: p->c.unprotect_other++; return;
    }
    if (rtcp) {
        p->c.rtcp_in++;
        if (p->cb.on_rtcp)
            p->cb.on_rtcp(p, p->cb.arg, p->buf, len);
    } else {
        p->c.rtp_in++;
        if (p->cb.on_rtp)
            p->cb.on_rtp(p, p->cb.arg, p->buf, len);
    }
}

static void udp_state(parley_udp_peer *up, void *owner, parley_ice_state s)
{
    (void)up;
    if (s == PARLEY_ICE_FAILED)
        set_state(owner, PARLEY_PEER_FAILED);
}

const parley_udp_callbacks parley_peer_udp_callbacks = {udp_dtls, udp_rtp, udp_state};

/* ---- life ---- */

parley_peer *parley_peer_new(uv_loop_t *loop, parley_udp *u, const parley_peer_config *cfg,
                             const parley_peer_callbacks *cb, char *err, size_t errlen)
{
    if (!cfg || !cfg->cert || !cfg->remote_ufrag || !cfg->remote_pwd) {
        snprintf(err, errlen, "certificate and remote ICE credentials required");
        return NULL;
    }
    parley_peer *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->loop = loop;
    p->udp = u;
    p->cert = cfg->cert;
    if (cb)
        p->cb = *cb;
    parley_dtls_config dc = {
        .role = PARLEY_DTLS_SERVER,
        .cert = cfg->cert,
        .remote_fingerprint = cfg->remote_fingerprint,
        .handshake_timeout_ms = cfg->handshake_timeout_ms,
        .send = dtls_send,
        .user = p,
    };
    if (!(p->dtls = parley_dtls_new(&dc, err, errlen))) {
        free(p);
        return NULL;
    }
    if (!(p->up = parley_udp_peer_add(u, p))) {
        snprintf(err, errlen, "cannot add the peer to the port");
        parley_dtls_free(p->dtls);
        free(p);
        return NULL;
    }
    if (parley_ice_set_remote(parley_udp_peer_ice(p->up), cfg->remote_ufrag, cfg->remote_pwd,
                              (int64_t)uv_now(loop)) < 0) {
        snprintf(err, errlen, "bad remote ICE credentials");
        parley_udp_peer_remove(u, p->up);
        parley_dtls_free(p->dtls);
        free(p);
        return NULL;
    }
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    return p;
}

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

void parley_peer_free(parley_peer *p)
{
    if (!p)
        return;
    parley_udp_peer_remove(p->udp, p->up);
    parley_dtls_free(p->dtls);
    parley_srtp_free(p->srtp);
    p->up = NULL;
    p->dtls = NULL;
    p->srtp = NULL;
    uv_close((uv_handle_t *)&p->timer, on_closed);
}

void parley_peer_close(parley_peer *p)
{
    parley_dtls_close(p->dtls);
    uv_timer_stop(&p->timer);
    set_state(p, PARLEY_PEER_CLOSED);
}

const char *parley_peer_local_ufrag(const parley_peer *p)
{
    return parley_ice_local_ufrag(parley_udp_peer_ice(p->up));
}

const char *parley_peer_local_pwd(const parley_peer *p)
{
    return parley_ice_local_pwd(parley_udp_peer_ice(p->up));
}

const char *parley_peer_fingerprint(const parley_peer *p)
{
    return parley_cert_fingerprint(p->cert);
}

parley_peer_state parley_peer_get_state(const parley_peer *p)
{
    return p->state;
}

bool parley_peer_ice_selected(const parley_peer *p)
{
    struct sockaddr_storage ss;
    return p->up && parley_ice_selected(parley_udp_peer_ice(p->up), &ss);
}

static int send_protected(parley_peer *p, uint8_t *pkt, size_t len, size_t cap, bool rtcp)
{
    if (!p->srtp || p->state != PARLEY_PEER_CONNECTED) {
        p->c.send_errors++;
        return -1;
    }
    parley_srtp_status st = rtcp ? parley_srtp_protect_rtcp(p->srtp, pkt, &len, cap)
                                 : parley_srtp_protect_rtp(p->srtp, pkt, &len, cap);
    if (st != PARLEY_SRTP_OK || parley_udp_send(p->udp, p->up, pkt, len) < 0) {
        p->c.send_errors++;
        return -1;
    }
    if (rtcp)
        p->c.rtcp_out++;
    else
        p->c.rtp_out++;
    return 0;
}

int parley_peer_send_rtp(parley_peer *p, uint8_t *pkt, size_t len, size_t cap)
{
    return send_protected(p, pkt, len, cap, false);
}

int parley_peer_send_rtcp(parley_peer *p, uint8_t *pkt, size_t len, size_t cap)
{
    return send_protected(p, pkt, len, cap, true);
}

void parley_peer_get_counters(const parley_peer *p, parley_peer_counters *out)
{
    *out = p->c;
}

int parley_peer_set_remote(parley_peer *p, const char *ufrag, const char *pwd,
                           const char *fingerprint)
{
    if (!p || !ufrag || !pwd || !fingerprint)
        return -1;
    if (parley_ice_set_remote(parley_udp_peer_ice(p->up), ufrag, pwd, (int64_t)uv_now(p->loop)) < 0)
        return -1;
    return parley_dtls_set_remote_fingerprint(p->dtls, fingerprint) ? -1 : 0;
}

int parley_peer_restart_ice(parley_peer *p, const char *ufrag, const char *pwd)
{
    if (!p || !p->up || p->state == PARLEY_PEER_FAILED || p->state == PARLEY_PEER_CLOSED)
        return -1;
    if (ufrag && (!pwd || !*ufrag || !*pwd || strlen(ufrag) > PARLEY_ICE_REMOTE_MAX ||
                  strlen(pwd) > PARLEY_ICE_REMOTE_MAX || strchr(ufrag, ':')))
        return -1; /* refused before anything changes */
    if (parley_udp_peer_restart(p->udp, p->up))
        return -1;
    return !ufrag || parley_ice_set_remote(parley_udp_peer_ice(p->up), ufrag, pwd,
                                           (int64_t)uv_now(p->loop)) == 0 ? 0 : -1;
}
