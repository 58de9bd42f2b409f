/* media.c - one endpoint's media connection, client side, from the media core.
 *
 * Each endpoint has its own UDP socket on --media-address (127.0.0.1 by
 * default; received with recvmmsg), its own ICE credentials, and the run's
 * one certificate. ICE: the endpoint
 * is the controlling agent and the servers are lite (Parley always, Janus as
 * the benchmark configures it): binding requests with USE-CANDIDATE every
 * 100 ms until one is answered, then one every 2.5 s for consent freshness;
 * requests from the server, should it check too, are answered. DTLS: the
 * client role (or the server role when the answer says setup:active), the
 * peer's certificate checked against its SDP fingerprint; SRTP keyed from it.
 *
 * Publishers send VP8 (RFC 7741 descriptor with a 15-bit picture id; every
 * 60th frame a keyframe: P bit clear in the payload header, with the start
 * code) and Opus. After the descriptor and the VP8 payload header (or the
 * Opus TOC byte) each payload carries its send time, 8 bytes of monotonic
 * nanoseconds, which subscribers subtract from their receive time. */
#include <ifaddrs.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "rtp.h"
#include "sb.h"
#include "sdp.h"
#include "stun.h"

static parley_cert *cert;
sb_counts sb_cnt;
bool sb_measuring;

/* ---- latency histogram: 10 µs buckets to 100 ms, then 1 ms to 10 s ---- */

#define LAT_FINE 10000
#define LAT_COARSE 9900
static uint64_t lat_fine[LAT_FINE], lat_coarse[LAT_COARSE + 1], lat_n;

void sb_lat_add(double us)
{
    if (us < 0)
        us = 0;
    if (us < LAT_FINE * 10.0)
        lat_fine[(size_t)(us / 10.0)]++;
    else {
        size_t k = (size_t)((us - LAT_FINE * 10.0) / 1000.0);
        lat_coarse[k > LAT_COARSE ? LAT_COARSE : k]++;
    }
    lat_n++;
}

uint64_t sb_lat_count(void)
{
    return lat_n;
}

double sb_lat_pct(double p)
{
    if (!lat_n)
        return -1;
    uint64_t rank = (uint64_t)(p / 100.0 * (double)lat_n + 0.999999), seen = 0;
    if (rank < 1)
        rank = 1;
    for (size_t i = 0; i < LAT_FINE; i++)
        if ((seen += lat_fine[i]) >= rank)
            return (double)(i + 1) * 0.01; /* the bucket's upper edge */
    for (size_t i = 0; i <= LAT_COARSE; i++)
        if ((seen += lat_coarse[i]) >= rank)
            return 100.0 + (double)(i + 1);
    return 100.0 + LAT_COARSE + 1;
}

void sb_measure_start(sb_ep *eps, int n)
{
    memset(&sb_cnt, 0, sizeof sb_cnt);
    memset(lat_fine, 0, sizeof lat_fine);
    memset(lat_coarse, 0, sizeof lat_coarse);
    lat_n = 0;
    for (int i = 0; i < n; i++)
        memset(eps[i].rs, 0, sizeof eps[i].rs);
    sb_measuring = true;
}

void sb_loss(sb_ep *eps, int n, uint64_t *expected, uint64_t *received, int *streams, int *lossy)
{
    *expected = *received = 0;
    *streams = *lossy = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 2; k++) {
            const sb_stream *s = &eps[i].rs[k];
            if (!s->started)
                continue;
            uint64_t exp = (uint64_t)(s->max - s->base) + 1;
            (*streams)++;
            *lossy += s->received < exp;
            *expected += exp;
            *received += s->received;
        }
}

/* ---- setup ---- */

int sb_media_global(char *err, size_t n)
{
    cert = parley_cert_generate(0, err, n);
    return cert ? 0 : -1;
}

void sb_media_global_free(void)
{
    parley_cert_free(cert);
    cert = NULL;
}

/* Whether a is an address of one of this machine's interfaces. */
static bool is_local(const struct in_addr *a)
{
    struct ifaddrs *ifs, *i;
    bool yes = false;
    if (getifaddrs(&ifs))
        return false;
    for (i = ifs; i && !yes; i = i->ifa_next)
        yes = i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
              ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr == a->s_addr;
    freeifaddrs(ifs);
    return yes;
}

/* The kernel's fixed inode number for the initial network namespace
 * (PROC_NET_INIT_INO in include/linux/proc_ns.h). */
#define NET_INIT_INO 0xEFFFFFF9u

/* Whether the namespace's routing table (/proc/net/route or ipv6_route)
 * has a default route or a route through a gateway: a way off its own
 * links. IPv6's reject route on lo (RTF_REJECT) is not one. */
static bool has_way_out(const char *path, bool v6)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return !v6; /* no IPv4 table: do not trust; no IPv6 at all: fine */
    char line[512];
    bool out = false;
    while (!out && fgets(line, sizeof line, f)) {
        if (v6) {
            char dst[33], src[33], gw[33], dev[32];
            unsigned plen, slen, metric, ref, use, flags;
            if (sscanf(line, "%32s %x %32s %x %32s %x %x %x %x %31s", dst, &plen, src, &slen, gw, &metric, &ref,
                       &use, &flags, dev) == 10)
                out = !(flags & 0x0200) && (plen == 0 || strspn(gw, "0") != 32);
        } else {
            char dev[32];
            unsigned dst, gw, flags, ref, use, metric, mask;
            if (sscanf(line, "%31s %x %x %x %u %u %u %x", dev, &dst, &gw, &flags, &ref, &use, &metric, &mask) == 8)
                out = mask == 0 || gw != 0;
        }
    }
    fclose(f);
    return out;
}

/* Whether this process runs in a network namespace of its own, such as the
 * one bench/sfu/run.sh creates: not the machine's initial namespace (nor
 * PID 1's, when that can be read), and with no route out of its own links
 * (no default route, nothing through a gateway), so that whatever is sent
 * to its addresses stays inside it. */
static bool in_own_netns(void)
{
    static int known = -1;
    if (known < 0) {
        struct stat self, init;
        known = !stat("/proc/self/ns/net", &self) && self.st_ino != NET_INIT_INO &&
                (stat("/proc/1/ns/net", &init) || self.st_ino != init.st_ino || self.st_dev != init.st_dev) &&
                !has_way_out("/proc/net/route", false) && !has_way_out("/proc/net/ipv6_route", true);
    }
    return known;
}

/* Whether media may use address a: loopback always; another address only
 * when it belongs to an interface of a network namespace of the
 * generator's own, never to the machine's real interfaces. */
static bool is_allowed(const struct in_addr *a)
{
    return ntohl(a->s_addr) >> 24 == 127 || (in_own_netns() && is_local(a));
}

bool sb_media_address_allowed(const char *address)
{
    struct sockaddr_in a;
    return !uv_ip4_addr(address, 0, &a) && is_allowed(&a.sin_addr);
}

static void random_token(char *out, size_t len)
{
    static const char al[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    unsigned char r[64];
    if (RAND_bytes(r, (int)len) != 1)
        for (size_t i = 0; i < len; i++)
            r[i] = (unsigned char)rand();
    for (size_t i = 0; i < len; i++)
        out[i] = al[r[i] % (sizeof al - 1)];
    out[len] = '\0';
}

static uint32_t random_u32(void)
{
    uint32_t v = 0;
    while (!v)
        if (RAND_bytes((unsigned char *)&v, sizeof v) != 1)
            v = (uint32_t)rand();
    return v;
}

static void send_raw(sb_ep *e, const uint8_t *d, size_t n)
{
    if (!e->have_raddr || !e->udp_open)
        return;
    uv_buf_t b = uv_buf_init((char *)d, (unsigned)n);
    if (uv_udp_try_send(&e->udp, &b, 1, (const struct sockaddr *)&e->raddr) < 0 && sb_measuring)
        sb_cnt.send_fail++;
}

static void dtls_out(void *user, const uint8_t *d, size_t n)
{
    send_raw(user, d, n);
}

/* ---- receiving ---- */

#define RX_CHUNKS 32
static char rx_buf[RX_CHUNKS * 65536];

static void rx_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    (void)h;
    (void)s;
    *b = uv_buf_init(rx_buf, sizeof rx_buf);
}

static void on_stun(sb_ep *e, const uint8_t *d, size_t len, const struct sockaddr *from)
{
    parley_stun_msg m;
    const char *why;
    if (parley_stun_parse(d, len, &m, &why))
        return;
    if (m.type == PARLEY_STUN_BINDING_SUCCESS) {
        if (!parley_stun_check_integrity(&m, e->rpwd, strlen(e->rpwd)) || e->ice_ok)
            return;
        e->ice_ok = true;
        e->t_next_check = lg_now() + 2.5;
        if (e->dtls && !e->dtls_server)
            parley_dtls_start(e->dtls);
    } else if (m.type == PARLEY_STUN_BINDING_REQUEST) {
        /* a full agent checks us too: answer with our password */
        if (!parley_stun_check_integrity(&m, e->pwd, strlen(e->pwd)))
            return;
        uint8_t out[256];
        size_t n = parley_stun_binding_success(out, sizeof out, m.txid, from, e->pwd);
        if (n) {
            uv_buf_t b = uv_buf_init((char *)out, (unsigned)n);
            uv_udp_try_send(&e->udp, &b, 1, from);
        }
    }
}

static void on_dtls(sb_ep *e, const uint8_t *d, size_t len)
{
    if (!e->dtls)
        return;
    parley_dtls_state st = parley_dtls_input(e->dtls, d, len);
    if (st == PARLEY_DTLS_CONNECTED && !e->srtp) {
        parley_dtls_keys k;
        char err[128];
        if (parley_dtls_get_keys(e->dtls, &k) || !(e->srtp = parley_srtp_new(&k, err, sizeof err))) {
            sb_fail(e, "SRTP keys", 0);
            return;
        }
        e->state = SB_CONNECTED;
        e->t_connected = lg_now();
        e->gcm = k.profile == PARLEY_SRTP_AEAD_AES_128_GCM;
        e->next_v = e->next_a = e->t_connected;
    } else if (st == PARLEY_DTLS_FAILED) {
        if (getenv("LG_VERBOSE"))
            fprintf(stderr, "sfuload: %s: DTLS: %s\n", e->ws.pid, parley_dtls_error(e->dtls));
        sb_fail(e, "DTLS failed", 0);
    }
}

static inline uint64_t rd64(const uint8_t *p)
{
    return (uint64_t)parley_rd32(p) << 32 | parley_rd32(p + 4);
}

static void on_rtp(sb_ep *e, uint8_t *d, size_t len)
{
    if (parley_rtp_is_rtcp(d, len)) {
        if (sb_measuring)
            sb_cnt.rtcp_rx++;
        return; /* receiver reports, PLIs: nothing this generator acts on */
    }
    if (parley_srtp_unprotect_rtp(e->srtp, d, &len) != PARLEY_SRTP_OK) {
        if (sb_measuring)
            sb_cnt.srtp_fail++;
        return;
    }
    if (!sb_measuring || e->pub)
        return;
    uint64_t now_ns = uv_hrtime();
    parley_rtp_header h;
    if (parley_rtp_parse(d, len, &h) != PARLEY_RTP_OK)
        return;
    bool video = h.payload_type == e->video_pt;
    sb_stream *s = &e->rs[video];
    if (!s->started) {
        s->started = true;
        s->base = s->max = h.seq;
    } else {
        int16_t delta = (int16_t)(h.seq - (uint16_t)s->max);
        if (delta > 0)
            s->max += (uint32_t)delta;
    }
    s->received++;
    sb_cnt.rtp_rx++;
    sb_cnt.bytes_rx += len;
    const uint8_t *p = d + h.header_len;
    size_t off;
    if (video) {
        parley_vp8_desc vd;
        if (!parley_vp8_parse(p, h.payload_len, &vd))
            return;
        off = vd.desc_len + (vd.frame_start ? (vd.keyframe ? 10 : 3) : 0);
        if (vd.keyframe)
            sb_cnt.keyframes_rx++;
    } else {
        off = 1;
    }
    if (off + 8 <= h.payload_len) {
        uint64_t sent = rd64(p + off);
        if (sent && sent <= now_ns + 1000000000ull)
            sb_lat_add((double)(int64_t)(now_ns - sent) / 1000.0);
    }
}

static void on_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *a, unsigned flags)
{
    (void)flags;
    sb_ep *e = h->data;
    if (n <= 0 || !a || e->state == SB_FAILED)
        return;
    uint8_t *d = (uint8_t *)b->base;
    size_t len = (size_t)n;
    if (d[0] < 4)
        on_stun(e, d, len, a);
    else if (d[0] >= 20 && d[0] <= 63)
        on_dtls(e, d, len);
    else if (d[0] >= 128 && d[0] <= 191 && e->srtp)
        on_rtp(e, d, len);
}

int sb_media_open(sb_ep *e)
{
    struct sockaddr_in sa;
    if (uv_ip4_addr(sb.media_address, 0, &sa))
        return -1;
    if (uv_udp_init_ex(sb_loop, &e->udp, AF_INET | UV_UDP_RECVMMSG))
        return -1;
    e->udp.data = e;
    e->udp_open = true;
    if (uv_udp_bind(&e->udp, (const struct sockaddr *)&sa, 0) ||
        uv_udp_recv_start(&e->udp, rx_alloc, on_recv))
        return -1;
    /* room for a second of media should the generator's loop stall: its own
     * stalls must not show as the server's loss */
    int rcvbuf = 1 << 20;
    uv_recv_buffer_size((uv_handle_t *)&e->udp, &rcvbuf);
    struct sockaddr_in me;
    int nl = sizeof me;
    if (uv_udp_getsockname(&e->udp, (struct sockaddr *)&me, &nl))
        return -1;
    e->lport = ntohs(me.sin_port);
    random_token(e->ufrag, 8);
    random_token(e->pwd, 24);
    if (e->pub) {
        e->vssrc = random_u32();
        e->assrc = random_u32();
        e->vseq = (uint16_t)random_u32();
        e->aseq = (uint16_t)random_u32();
        e->vts = random_u32();
        e->ats = random_u32();
        e->picid = (uint16_t)(random_u32() & 0x7fff);
    }
    return 0;
}

static void udp_closed(uv_handle_t *h)
{
    (void)h;
}

void sb_media_close(sb_ep *e)
{
    if (e->udp_open) {
        uv_udp_recv_stop(&e->udp);
        uv_close((uv_handle_t *)&e->udp, udp_closed);
        e->udp_open = false;
    }
    parley_srtp_free(e->srtp);
    e->srtp = NULL;
    parley_dtls_free(e->dtls);
    e->dtls = NULL;
}

/* ---- SDP ---- */

typedef struct strbuf {
    char *p;
    size_t len, cap;
} strbuf;

__attribute__((format(printf, 2, 3))) static void sb_add(strbuf *b, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (b->p && (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 2048;
        while (cap < b->len + (size_t)n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q)
            return;
        b->p = q;
        b->cap = cap;
    }
}

static void transport_lines(strbuf *b, const sb_ep *e, const char *setup)
{
    sb_add(b, "c=IN IP4 %s\r\n", sb.media_address);
    sb_add(b, "a=candidate:1 1 udp 2130706431 %s %u typ host\r\n", sb.media_address, e->lport);
    sb_add(b, "a=end-of-candidates\r\n");
    sb_add(b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", e->ufrag, e->pwd);
    sb_add(b, "a=fingerprint:%s\r\n", parley_cert_fingerprint(cert));
    sb_add(b, "a=setup:%s\r\n", setup);
}

char *sb_media_offer(sb_ep *e)
{
    strbuf b = {0};
    sb_add(&b, "v=0\r\no=- %llu 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
           (unsigned long long)(sb.tag + (uint64_t)e->idx));
    sb_add(&b, "a=group:BUNDLE 0 1\r\na=msid-semantic: WMS bench%d\r\n", e->idx);
    sb_add(&b, "m=audio 9 UDP/TLS/RTP/SAVPF %d\r\n", SB_AUDIO_PT);
    transport_lines(&b, e, "actpass");
    sb_add(&b, "a=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n");
    sb_add(&b, "a=msid:bench%d audio%d\r\n", e->idx, e->idx);
    sb_add(&b, "a=rtpmap:%d opus/48000/2\r\na=fmtp:%d minptime=10;useinbandfec=1\r\n", SB_AUDIO_PT,
           SB_AUDIO_PT);
    sb_add(&b, "a=ssrc:%u cname:bench%d\r\na=ssrc:%u msid:bench%d audio%d\r\n", e->assrc, e->idx, e->assrc,
           e->idx, e->idx);
    sb_add(&b, "m=video 9 UDP/TLS/RTP/SAVPF %d\r\n", SB_VIDEO_PT);
    transport_lines(&b, e, "actpass");
    sb_add(&b, "a=mid:1\r\na=sendonly\r\na=rtcp-mux\r\n");
    sb_add(&b, "a=msid:bench%d video%d\r\n", e->idx, e->idx);
    sb_add(&b, "a=rtpmap:%d VP8/90000\r\n", SB_VIDEO_PT);
    sb_add(&b, "a=rtcp-fb:%d nack\r\na=rtcp-fb:%d nack pli\r\na=rtcp-fb:%d ccm fir\r\n", SB_VIDEO_PT,
           SB_VIDEO_PT, SB_VIDEO_PT);
    sb_add(&b, "a=ssrc:%u cname:bench%d\r\na=ssrc:%u msid:bench%d video%d\r\n", e->vssrc, e->idx, e->vssrc,
           e->idx, e->idx);
    return b.p;
}

/* The server's transport: credentials, fingerprint, role, and the address
 * of its first IPv4 UDP candidate. */
static int take_transport(sb_ep *e, const parley_sdp *s, const char *text, bool answer, const char **why)
{
    const parley_sdp_transport *t = NULL;
    for (size_t i = 0; i < s->n_media && !t; i++)
        if (!s->media[i].rejected && s->media[i].transport.ice_ufrag[0])
            t = &s->media[i].transport;
    if (!t) {
        *why = "no ICE credentials in the server's SDP";
        return -1;
    }
    snprintf(e->rufrag, sizeof e->rufrag, "%s", t->ice_ufrag);
    snprintf(e->rpwd, sizeof e->rpwd, "%s", t->ice_pwd);
    snprintf(e->rfp, sizeof e->rfp, "%s %s", t->fingerprint_alg, t->fingerprint);
    e->dtls_server = answer && t->setup == PARLEY_SDP_SETUP_ACTIVE;
    /* An IPv4 UDP candidate: the endpoints' own address first, then a
     * loopback one, then (only inside a network namespace of the
     * generator's own, see is_allowed) another address of that namespace's
     * interfaces: Janus gathers no loopback candidate, so bench/sfu/run.sh
     * gives it a veth address inside a namespace it creates. Nothing is
     * ever sent to the machine's real interfaces. */
    struct sockaddr_in mine;
    uv_ip4_addr(sb.media_address, 0, &mine);
    for (int pass = 0; pass < 3 && !e->have_raddr; pass++)
        for (size_t i = 0; i < s->n_media && !e->have_raddr; i++)
            for (size_t k = 0; k < s->media[i].n_candidates && !e->have_raddr; k++) {
                const parley_sdp_candidate *c = &s->media[i].candidates[k];
                if (c->component != 1 || strcasecmp(c->transport, "udp") ||
                    uv_ip4_addr(c->address, c->port, &e->raddr))
                    continue;
                e->have_raddr = pass == 0   ? e->raddr.sin_addr.s_addr == mine.sin_addr.s_addr
                                : pass == 1 ? ntohl(e->raddr.sin_addr.s_addr) >> 24 == 127
                                            : is_allowed(&e->raddr.sin_addr);
            }
    if (!e->have_raddr) {
        if (getenv("LG_VERBOSE"))
            fprintf(stderr, "sfuload: %s: no local candidate in:\n%s\n", e->ws.pid, text);
        *why = "no IPv4 UDP candidate on this machine in the server's SDP";
        return -1;
    }
    return 0;
}

static int make_dtls(sb_ep *e, const char **why)
{
    char err[128];
    parley_dtls_config dc = {.role = e->dtls_server ? PARLEY_DTLS_SERVER : PARLEY_DTLS_CLIENT,
                             .cert = cert, .remote_fingerprint = e->rfp, .profiles = sb.srtp_profiles,
                             .send = dtls_out, .user = e};
    if (!(e->dtls = parley_dtls_new(&dc, err, sizeof err))) {
        *why = "cannot make the DTLS endpoint";
        return -1;
    }
    if (e->dtls_server)
        parley_dtls_start(e->dtls);
    return 0;
}

int sb_media_take_answer(sb_ep *e, const char *sdp, const char **why)
{
    parley_sdp *s = NULL;
    char err[256];
    if (parley_sdp_parse(sdp, strlen(sdp), &s, err, sizeof err)) {
        *why = "unparseable SDP answer";
        return -1;
    }
    int rc = take_transport(e, s, sdp, true, why);
    parley_sdp_free(s);
    return rc ? rc : make_dtls(e, why);
}

static const parley_sdp_codec *pick_codec(const parley_sdp_media *m)
{
    for (size_t i = 0; i < m->n_codecs; i++)
        if (!strcasecmp(m->codecs[i].name, m->kind == PARLEY_SDP_VIDEO ? "VP8" : "opus"))
            return &m->codecs[i];
    return NULL;
}

char *sb_media_answer(sb_ep *e, const char *offer, const char **why)
{
    parley_sdp *s = NULL;
    char err[256];
    if (parley_sdp_parse(offer, strlen(offer), &s, err, sizeof err)) {
        *why = "unparseable SDP offer";
        return NULL;
    }
    if (take_transport(e, s, offer, false, why) || make_dtls(e, why)) {
        parley_sdp_free(s);
        return NULL;
    }
    strbuf b = {0};
    sb_add(&b, "v=0\r\no=- %llu 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n",
           (unsigned long long)(sb.tag + (uint64_t)e->idx));
    sb_add(&b, "a=group:BUNDLE");
    for (size_t i = 0; i < s->n_media; i++) {
        const parley_sdp_media *m = &s->media[i];
        if (!m->rejected && (m->kind == PARLEY_SDP_AUDIO || m->kind == PARLEY_SDP_VIDEO) && pick_codec(m))
            sb_add(&b, " %s", m->mid);
    }
    sb_add(&b, "\r\na=msid-semantic: WMS\r\n");
    e->video_pt = e->audio_pt = 255;
    for (size_t i = 0; i < s->n_media; i++) {
        const parley_sdp_media *m = &s->media[i];
        const parley_sdp_codec *c = m->rejected ? NULL : pick_codec(m);
        if (!c || (m->kind != PARLEY_SDP_AUDIO && m->kind != PARLEY_SDP_VIDEO)) {
            sb_add(&b, "m=%s 0 %s %s\r\nc=IN IP4 0.0.0.0\r\na=mid:%s\r\na=inactive\r\n", m->kind_name,
                   m->proto, m->fmt0, m->mid);
            continue;
        }
        sb_add(&b, "m=%s 9 %s %u\r\n", m->kind_name, m->proto, c->pt);
        transport_lines(&b, e, "active");
        sb_add(&b, "a=mid:%s\r\na=recvonly\r\na=rtcp-mux\r\n", m->mid);
        if (c->channels)
            sb_add(&b, "a=rtpmap:%u %s/%u/%u\r\n", c->pt, c->name, c->clock, c->channels);
        else
            sb_add(&b, "a=rtpmap:%u %s/%u\r\n", c->pt, c->name, c->clock);
        if (c->fmtp[0])
            sb_add(&b, "a=fmtp:%u %s\r\n", c->pt, c->fmtp);
        if (m->kind == PARLEY_SDP_VIDEO) {
            sb_add(&b, "a=rtcp-fb:%u nack\r\na=rtcp-fb:%u nack pli\r\n", c->pt, c->pt);
            e->video_pt = c->pt;
        } else {
            e->audio_pt = c->pt;
        }
    }
    parley_sdp_free(s);
    if (e->video_pt == 255 && e->audio_pt == 255) {
        free(b.p);
        *why = "the offer has neither VP8 nor Opus";
        return NULL;
    }
    return b.p;
}

/* ---- ICE and time ---- */

static void send_check(sb_ep *e)
{
    char user[600];
    snprintf(user, sizeof user, "%s:%s", e->rufrag, e->ufrag);
    parley_stun_request r = {.username = user, .password = e->rpwd, .priority = 0x6e0001ff,
                             .controlling = true, .tiebreaker = ((uint64_t)e->idx << 32) | 0x5bu,
                             .use_candidate = true};
    uint8_t txid[PARLEY_STUN_TXID_LEN], buf[1024];
    parley_stun_new_txid(txid);
    size_t n = parley_stun_binding_request(buf, sizeof buf, txid, &r);
    if (n)
        send_raw(e, buf, n);
}

void sb_media_go(sb_ep *e, double now)
{
    e->state = SB_MEDIA;
    e->checks_on = true;
    e->t_next_check = now;
    sb_media_tick(e, now);
}

void sb_media_tick(sb_ep *e, double now)
{
    if (!e->checks_on || e->state == SB_FAILED)
        return;
    if (now >= e->t_next_check) {
        send_check(e);
        e->t_next_check = now + (e->ice_ok ? 2.5 : 0.1);
    }
    if (e->dtls && !e->srtp && parley_dtls_tick(e->dtls) == PARLEY_DTLS_FAILED) {
        if (getenv("LG_VERBOSE"))
            fprintf(stderr, "sfuload: %s: DTLS: %s\n", e->ws.pid, parley_dtls_error(e->dtls));
        sb_fail(e, "DTLS failed", 0);
    }
}

/* ---- sending ---- */

static uint8_t tx_buf[1500 + 64];

static inline void wr64(uint8_t *p, uint64_t v)
{
    parley_wr32(p, (uint32_t)(v >> 32));
    parley_wr32(p + 4, (uint32_t)v);
}

static void protect_send(sb_ep *e, size_t len)
{
    if (parley_srtp_protect_rtp(e->srtp, tx_buf, &len, sizeof tx_buf) != PARLEY_SRTP_OK) {
        if (sb_measuring)
            sb_cnt.srtp_fail++;
        return;
    }
    send_raw(e, tx_buf, len);
    if (sb_measuring) {
        sb_cnt.rtp_tx++;
        sb_cnt.bytes_tx += len;
    }
}

static void rtp_header(uint8_t pt, bool marker, uint16_t seq, uint32_t ts, uint32_t ssrc)
{
    tx_buf[0] = 0x80;
    tx_buf[1] = (uint8_t)(pt | (marker ? 0x80 : 0));
    parley_wr16(tx_buf + 2, seq);
    parley_wr32(tx_buf + 4, ts);
    parley_wr32(tx_buf + 8, ssrc);
}

/* Frame sizes: the 2 s between keyframes carry 600 kbit/s; a keyframe is
 * KEY_BYTES, the 59 frames after it share the rest. */
#define FRAMES_PER_KEY ((int)(SB_FPS * SB_KEYFRAME_S))
#define KEY_BYTES 10000
#define GOP_BYTES (SB_VIDEO_BPS / 8 * (int)SB_KEYFRAME_S)
#define INTER_BYTES ((GOP_BYTES - KEY_BYTES) / (FRAMES_PER_KEY - 1))

double sb_nominal_pps(void)
{
    int key = (KEY_BYTES + SB_MTU_PAYLOAD - 1) / SB_MTU_PAYLOAD;
    int inter = (INTER_BYTES + SB_MTU_PAYLOAD - 1) / SB_MTU_PAYLOAD;
    return 50.0 + (key + (FRAMES_PER_KEY - 1) * inter) / SB_KEYFRAME_S;
}

static void send_frame(sb_ep *e)
{
    static const uint8_t key_hdr[10] = {0x50, 0x2e, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01};
    static const uint8_t inter_hdr[3] = {0x31, 0x10, 0x00};
    bool key = e->frame % FRAMES_PER_KEY == 0;
    size_t size = key ? KEY_BYTES : INTER_BYTES;
    size_t npk = (size + SB_MTU_PAYLOAD - 1) / SB_MTU_PAYLOAD;
    e->picid = (uint16_t)((e->picid + 1) & 0x7fff);
    for (size_t k = 0; k < npk; k++) {
        size_t plen = size / npk + (k < size % npk);
        rtp_header(SB_VIDEO_PT, k + 1 == npk, e->vseq++, e->vts, e->vssrc);
        uint8_t *p = tx_buf + 12;
        size_t off = 0;
        p[off++] = (uint8_t)(0x80 | (k == 0 ? 0x10 : 0)); /* X, S on the first, PID 0 */
        p[off++] = 0x80;                                  /* I */
        p[off++] = (uint8_t)(0x80 | e->picid >> 8);       /* M: 15-bit picture id */
        p[off++] = (uint8_t)e->picid;
        if (k == 0) {
            memcpy(p + off, key ? key_hdr : inter_hdr, key ? sizeof key_hdr : sizeof inter_hdr);
            off += key ? sizeof key_hdr : sizeof inter_hdr;
        }
        wr64(p + off, uv_hrtime());
        off += 8;
        if (plen > off) {
            memset(p + off, 0xa5, plen - off);
            off = plen;
        }
        protect_send(e, 12 + off);
    }
    e->frame++;
    e->vts += 90000 / SB_FPS;
}

static void send_audio(sb_ep *e)
{
    size_t plen = SB_AUDIO_BPS / 8 / 50; /* 80 bytes per 20 ms */
    rtp_header(SB_AUDIO_PT, false, e->aseq++, e->ats, e->assrc);
    uint8_t *p = tx_buf + 12;
    p[0] = 0x78; /* an Opus TOC byte */
    wr64(p + 1, uv_hrtime());
    memset(p + 9, 0x5a, plen - 9);
    protect_send(e, 12 + plen);
    e->ats += 960;
}

void sb_media_send(sb_ep *e, double now)
{
    if (e->state != SB_CONNECTED || !e->pub)
        return;
    /* a loop stall longer than 200 ms is not made up in a burst */
    if (now - e->next_v > 0.2)
        e->next_v = now;
    if (now - e->next_a > 0.2)
        e->next_a = now;
    while (e->next_a <= now) {
        send_audio(e);
        e->next_a += 0.020;
    }
    while (e->next_v <= now) {
        send_frame(e);
        e->next_v += 1.0 / SB_FPS;
    }
}
