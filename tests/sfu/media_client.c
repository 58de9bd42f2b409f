/* media_client.c - the SFU media tests' shared world and client transports
 * (see media_client.h). */
#include "media_client.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtp.h"
#include "stun.h"
#include "udp.h"

uv_loop_t loop;
parley_udp *port;
parley_router *router;
parley_cert *sfu_cert;
struct sockaddr_in sfu_addr;

static client *clients[MC_MAX_CLIENTS];
static int n_clients;

static void c_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    (void)h;
    (void)s;
    static char buf[65536];
    *b = uv_buf_init(buf, sizeof buf);
}

void c_send(client *c, const uint8_t *d, size_t n)
{
    uv_buf_t b = uv_buf_init((char *)d, (unsigned)n);
    uv_udp_try_send(&c->h, &b, 1, (const struct sockaddr *)&sfu_addr);
}

static void dtls_out(void *user, const uint8_t *d, size_t n)
{
    c_send(user, d, n);
}

static void on_client_rtcp(client *c, const uint8_t *d, size_t n)
{
    parley_rtcp_iter it;
    parley_rtcp_packet p;
    parley_rtcp_iter_init(&it, d, n);
    while (parley_rtcp_next(&it, &p) == 1) {
        if (p.kind == PARLEY_RTCP_KIND_PLI) {
            if (c->plis < 256)
                c->pli_log[c->plis] = p.media_ssrc;
            c->plis++;
            c->pli_sender = p.ssrc;
            c->pli_media = p.media_ssrc;
        } else if (p.kind == PARLEY_RTCP_KIND_SR) {
            parley_rtcp_sr sr;
            parley_rtcp_sr_info(&p, &sr);
            rx_sr *to = sr.ssrc && sr.ssrc == c->sr_video_ssrc   ? &c->sr_video
                        : sr.ssrc && sr.ssrc == c->sr_audio_ssrc ? &c->sr_audio
                                                                 : NULL;
            if (to)
                *to = (rx_sr){true, sr};
        } else if (p.kind == PARLEY_RTCP_KIND_RR) {
            c->rr_sender = p.ssrc;
            for (unsigned i = 0; i < p.count; i++) {
                parley_rtcp_report_block rb;
                parley_rtcp_report(&p, i, &rb);
                c->rrs++;
                if (rb.ssrc == c->rr_video_ssrc)
                    c->rr_video = rb;
                if (rb.ssrc == c->rr_audio_ssrc) {
                    c->rr_audio = rb;
                    if (rb.fraction_lost > c->audio_fraction_max)
                        c->audio_fraction_max = rb.fraction_lost;
                }
            }
        } else if (p.kind == PARLEY_RTCP_KIND_NACK) {
            c->nack_sender = p.ssrc;
            c->nack_media = p.media_ssrc;
            for (unsigned i = 0; i < parley_rtcp_nack_items(&p); i++) {
                uint16_t pid, blp, seqs[17];
                parley_rtcp_nack_item(&p, i, &pid, &blp);
                unsigned k = parley_rtcp_nack_expand(pid, blp, seqs);
                for (unsigned j = 0; j < k && c->n_nacked < 64; j++)
                    c->nacked[c->n_nacked++] = seqs[j];
            }
        } else if (p.kind == PARLEY_RTCP_KIND_REMB) {
            c->rembs++;
            c->remb_bps = parley_rtcp_remb_bitrate(&p);
            c->remb_n = parley_rtcp_remb_ssrcs(&p);
            for (unsigned i = 0; i < c->remb_n && i < 4; i++)
                c->remb_ssrc[i] = parley_rtcp_remb_ssrc(&p, i);
        }
    }
}

static void c_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *a, unsigned f)
{
    (void)f;
    client *c = h->data;
    if (n <= 0 || !a)
        return;
    uint8_t *d = (uint8_t *)b->base;
    size_t len = (size_t)n;
    if (d[0] < 4) {
        parley_stun_msg m;
        const char *why;
        const char *pwd = parley_peer_local_pwd(c->peer);
        if (parley_stun_parse(d, len, &m, &why) == 0 && m.type == PARLEY_STUN_BINDING_SUCCESS &&
            parley_stun_check_integrity(&m, pwd, strlen(pwd)) && !c->ice_ok) {
            c->ice_ok = true;
            parley_dtls_start(c->dtls);
        }
    } else if (d[0] >= 20 && d[0] <= 63) {
        parley_dtls_state st = parley_dtls_input(c->dtls, d, len);
        if (st == PARLEY_DTLS_CONNECTED && !c->srtp) {
            parley_dtls_keys k;
            char err[128];
            if (parley_dtls_get_keys(c->dtls, &k) == 0)
                c->srtp = parley_srtp_new(&k, err, sizeof err);
        }
        if (st == PARLEY_DTLS_CLOSED)
            c->closed_seen = true;
    } else if (d[0] >= 128 && d[0] <= 191 && c->srtp) {
        if (parley_rtp_is_rtcp(d, len)) {
            if (parley_srtp_unprotect_rtcp(c->srtp, d, &len) == PARLEY_SRTP_OK)
                on_client_rtcp(c, d, len);
            else
                c->auth_failures++;
            return;
        }
        /* the header is in the clear: lose one packet before SRTP sees it */
        if (c->drop_ssrc && len >= 12 && parley_rd32(d + 8) == c->drop_ssrc &&
            c->video_seen++ == c->drop_at) {
            c->dropped = true;
            c->dropped_seq = parley_rd16(d + 2);
            return;
        }
        parley_rtp_header rh;
        if (parley_srtp_unprotect_rtp(c->srtp, d, &len) != PARLEY_SRTP_OK) {
            c->auth_failures++;
            return;
        }
        if (parley_rtp_parse(d, len, &rh) != PARLEY_RTP_OK || c->n_rx >= RX_MAX || rh.payload_len > PLEN_MAX)
            return;
        rx_packet *r = &c->rx[c->n_rx++];
        r->ssrc = rh.ssrc;
        r->seq = rh.seq;
        r->ts = rh.timestamp;
        r->pt = rh.payload_type;
        r->marker = rh.marker;
        r->plen = rh.payload_len;
        memcpy(r->payload, d + rh.header_len, rh.payload_len);
    }
}

static int client_open(client *c)
{
    char err[128];
    if (!(c->cert = parley_cert_generate(0, err, sizeof err)))
        return -1;
    parley_dtls_config dc = {.role = PARLEY_DTLS_CLIENT, .cert = c->cert,
                             .remote_fingerprint = parley_cert_fingerprint(sfu_cert),
                             .send = dtls_out, .user = c};
    if (!(c->dtls = parley_dtls_new(&dc, err, sizeof err)))
        return -1;
    struct sockaddr_in sa;
    uv_ip4_addr("127.0.0.1", 0, &sa);
    uv_udp_init(&loop, &c->h);
    c->h.data = c;
    if (uv_udp_bind(&c->h, (struct sockaddr *)&sa, 0) || uv_udp_recv_start(&c->h, c_alloc, c_recv))
        return -1;
    if (n_clients < MC_MAX_CLIENTS)
        clients[n_clients++] = c;
    return 0;
}

/* The controlling side's check: USERNAME "sfu:client", signed with the SFU's pwd. */
static void client_check(client *c)
{
    char user[64];
    snprintf(user, sizeof user, "%s:%s", parley_peer_local_ufrag(c->peer), c->ufrag);
    parley_stun_request r = {.username = user, .password = parley_peer_local_pwd(c->peer),
                             .priority = 0x6e0001ff, .controlling = true,
                             .tiebreaker = 0x0102030405060708ull, .use_candidate = true};
    uint8_t txid[PARLEY_STUN_TXID_LEN], buf[512];
    parley_stun_new_txid(txid);
    size_t n = parley_stun_binding_request(buf, sizeof buf, txid, &r);
    c_send(c, buf, n);
}

/* Protect and send one plain RTP or RTCP packet from a client. */
void client_media(client *c, uint8_t *pkt, size_t len, size_t cap, bool rtcp)
{
    if (rtcp ? parley_srtp_protect_rtcp(c->srtp, pkt, &len, cap) == PARLEY_SRTP_OK
             : parley_srtp_protect_rtp(c->srtp, pkt, &len, cap) == PARLEY_SRTP_OK)
        c_send(c, pkt, len);
}

/* ---- the SFU side ---- */

static void sfu_state(parley_peer *p, void *arg, parley_peer_state s)
{
    (void)p;
    ((client *)arg)->sfu_state = s;
}

static void sfu_rtp(parley_peer *p, void *arg, uint8_t *pkt, size_t len)
{
    (void)arg;
    parley_router_rtp(router, p, pkt, len);
}

static void sfu_rtcp(parley_peer *p, void *arg, uint8_t *pkt, size_t len)
{
    (void)arg;
    parley_router_rtcp(router, p, pkt, len);
}

/* ---- running the loop until something holds ---- */

static bool (*cond_fn)(void);
static uint64_t deadline;

static void on_poll(uv_timer_t *t)
{
    for (int i = 0; i < n_clients; i++)
        if (clients[i]->dtls)
            parley_dtls_tick(clients[i]->dtls);
    if ((cond_fn && cond_fn()) || uv_now(t->loop) >= deadline)
        uv_stop(t->loop);
}

bool run_until(bool (*cond)(void), unsigned timeout_ms)
{
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    cond_fn = cond;
    uv_update_time(&loop);
    deadline = uv_now(&loop) + timeout_ms;
    uv_timer_start(&t, on_poll, 2, 2);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    return !cond || cond();
}


int mc_setup(const parley_router_config *cfg)
{
    char err[128];
    if (uv_loop_init(&loop) || !(sfu_cert = parley_cert_generate(0, err, sizeof err)))
        return -1;
    parley_udp_config uc = {.bind_address = "127.0.0.1"};
    if (!(port = parley_udp_open(&loop, &uc, &parley_peer_udp_callbacks, err, sizeof err)))
        return -1;
    uv_ip4_addr("127.0.0.1", parley_udp_port(port), &sfu_addr);
    return (router = parley_router_new(&loop, cfg)) ? 0 : -1;
}

int mc_client_start(client *c)
{
    char err[128];
    if (client_open(c))
        return -1;
    parley_peer_config pc = {.cert = sfu_cert, .remote_fingerprint = parley_cert_fingerprint(c->cert),
                             .remote_ufrag = c->ufrag, .remote_pwd = c->pwd};
    parley_peer_callbacks pcb = {sfu_state, sfu_rtp, sfu_rtcp, c};
    if (!(c->peer = parley_peer_new(&loop, port, &pc, &pcb, err, sizeof err)))
        return -1;
    client_check(c);
    return 0;
}

bool mc_connected(const client *c)
{
    return c->srtp && c->sfu_state == PARLEY_PEER_CONNECTED;
}

int count_rx(const client *c, uint32_t ssrc)
{
    int n = 0;
    for (int i = 0; i < c->n_rx; i++)
        n += c->rx[i].ssrc == ssrc;
    return n;
}

/* Close the clients' sockets and free them. */
static void clients_close(void)
{
    for (int i = 0; i < n_clients; i++) {
        client *c = clients[i];
        parley_srtp_free(c->srtp);
        c->srtp = NULL;
        parley_dtls_free(c->dtls);
        c->dtls = NULL;
        parley_cert_free(c->cert);
        c->cert = NULL;
        if (c->h.loop)
            uv_close((uv_handle_t *)&c->h, NULL);
    }
    n_clients = 0;
}

int mc_teardown(void)
{
    for (int i = 0; i < n_clients; i++) {
        if (router && clients[i]->peer)
            parley_router_remove_peer(router, clients[i]->peer);
        parley_peer_free(clients[i]->peer);
        clients[i]->peer = NULL;
    }
    parley_router_free(router);
    router = NULL;
    if (port)
        parley_udp_close(port);
    port = NULL;
    clients_close();
    parley_cert_free(sfu_cert);
    sfu_cert = NULL;
    uv_run(&loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(&loop) == 0 ? 0 : -1;
    return parley_srtp_global_shutdown() == 0 ? rc : -1;
}
