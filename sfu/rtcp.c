/* rtcp.c - compound RTCP: one strict check of each packet (check_packet)
 * that both the walker and the feedback rewriter rely on, typed accessors
 * that read only what check_packet has proved present, and builders. */
#include "rtcp.h"

#include <string.h>

#include "rtp.h" /* parley_rd / parley_wr */

/* SDES chunks: SSRC, items (type, length, text), a 0 type, padding to 32 bits. */
static bool sdes_valid(const uint8_t *p, size_t len, unsigned chunks)
{
    size_t off = 4;
    for (unsigned c = 0; c < chunks; c++) {
        if (off + 4 > len)
            return false;
        off += 4;
        for (;;) {
            if (off >= len)
                return false;
            if (p[off] == 0) {
                off = (off + 4) & ~(size_t)3; /* the 0 byte, then up to the next boundary */
                if (off > len)
                    return false;
                break;
            }
            if (off + 2 > len || off + 2 + p[off + 1] > len)
                return false;
            off += 2u + p[off + 1];
        }
    }
    return true;
}

/* Check the packet at buf[0..avail) (last: nothing follows it in the compound
 * packet it came from) and classify it; its full length goes to *plen. */
static bool check_packet(const uint8_t *buf, size_t avail, bool *last, parley_rtcp_packet *p,
                         size_t *plen)
{
    if (avail < 4 || buf[0] >> 6 != 2)
        return false;
    size_t n = 4 * ((size_t)parley_rd16(buf + 2) + 1);
    if (n > avail)
        return false;
    *last = n == avail;
    size_t len = n;
    if (buf[0] & 0x20) {
        uint8_t pad = buf[n - 1];
        if (!*last || pad == 0 || pad > n - 4)
            return false;
        len -= pad;
    }
    uint8_t type = buf[1], count = buf[0] & 0x1f;
    *p = (parley_rtcp_packet){.type = type, .count = count, .data = buf, .len = len};
    *plen = n;
    if (type < 192 || type > 223)
        return false;
    if (type != PARLEY_RTCP_SDES && type != PARLEY_RTCP_BYE && len >= 8)
        p->ssrc = parley_rd32(buf + 4);
    switch (type) {
    case PARLEY_RTCP_SR:
        p->kind = PARLEY_RTCP_KIND_SR;
        return len >= 28 + 24u * count;
    case PARLEY_RTCP_RR:
        p->kind = PARLEY_RTCP_KIND_RR;
        return len >= 8 + 24u * count;
    case PARLEY_RTCP_SDES:
        p->kind = PARLEY_RTCP_KIND_SDES;
        return sdes_valid(buf, len, count);
    case PARLEY_RTCP_BYE:
        p->kind = PARLEY_RTCP_KIND_BYE;
        if (len < 4 + 4u * count)
            return false;
        if (len > 4 + 4u * count) { /* optional reason: length byte + text */
            size_t r = 4 + 4u * count;
            if (r + 1 + buf[r] > len)
                return false;
        }
        return true;
    case PARLEY_RTCP_RTPFB:
    case PARLEY_RTCP_PSFB:
        if (len < 12)
            return false;
        p->media_ssrc = parley_rd32(buf + 8);
        p->kind = PARLEY_RTCP_KIND_OTHER;
        if (type == PARLEY_RTCP_RTPFB && count == PARLEY_RTCP_FMT_NACK) {
            p->kind = PARLEY_RTCP_KIND_NACK;
            return len > 12 && (len - 12) % 4 == 0;
        }
        if (type == PARLEY_RTCP_RTPFB && count == PARLEY_RTCP_FMT_TWCC)
            p->kind = PARLEY_RTCP_KIND_TWCC;
        if (type == PARLEY_RTCP_PSFB && count == PARLEY_RTCP_FMT_PLI)
            p->kind = PARLEY_RTCP_KIND_PLI;
        if (type == PARLEY_RTCP_PSFB && count == PARLEY_RTCP_FMT_FIR) {
            p->kind = PARLEY_RTCP_KIND_FIR;
            return len > 12 && (len - 12) % 8 == 0;
        }
        if (type == PARLEY_RTCP_PSFB && count == PARLEY_RTCP_FMT_AFB && len >= 16 &&
            memcmp(buf + 12, "REMB", 4) == 0) {
            p->kind = PARLEY_RTCP_KIND_REMB;
            return len >= 20 && len >= 20 + 4u * buf[16];
        }
        return true;
    default: /* APP, XR and the rest: a header and, mostly, a sender SSRC */
        p->kind = PARLEY_RTCP_KIND_OTHER;
        return true;
    }
}

bool parley_rtcp_valid(const uint8_t *buf, size_t len)
{
    parley_rtcp_iter it;
    parley_rtcp_packet p;
    int r, n = 0;
    parley_rtcp_iter_init(&it, buf, len);
    while ((r = parley_rtcp_next(&it, &p)) == 1)
        n++;
    return r == 0 && n > 0;
}

void parley_rtcp_iter_init(parley_rtcp_iter *it, const uint8_t *buf, size_t len)
{
    *it = (parley_rtcp_iter){.buf = buf, .len = len};
}

int parley_rtcp_next(parley_rtcp_iter *it, parley_rtcp_packet *p)
{
    if (it->off == it->len)
        return 0;
    if (it->off > it->len)
        return -1;
    bool last;
    size_t n;
    if (!check_packet(it->buf + it->off, it->len - it->off, &last, p, &n)) {
        it->off = it->len + 1; /* stay failed */
        return -1;
    }
    it->off += n;
    return 1;
}

void parley_rtcp_sr_info(const parley_rtcp_packet *p, parley_rtcp_sr *sr)
{
    const uint8_t *d = p->data;
    sr->ssrc = parley_rd32(d + 4);
    sr->ntp = (uint64_t)parley_rd32(d + 8) << 32 | parley_rd32(d + 12);
    sr->rtp_ts = parley_rd32(d + 16);
    sr->packet_count = parley_rd32(d + 20);
    sr->octet_count = parley_rd32(d + 24);
}

void parley_rtcp_report(const parley_rtcp_packet *p, unsigned i, parley_rtcp_report_block *rb)
{
    const uint8_t *d = p->data + (p->kind == PARLEY_RTCP_KIND_SR ? 28 : 8) + 24u * i;
    rb->ssrc = parley_rd32(d);
    rb->fraction_lost = d[4];
    uint32_t lost = (uint32_t)d[5] << 16 | (uint32_t)d[6] << 8 | d[7];
    rb->cumulative_lost = (int32_t)(lost & 0x800000 ? lost | 0xff000000u : lost);
    rb->highest_seq = parley_rd32(d + 8);
    rb->jitter = parley_rd32(d + 12);
    rb->lsr = parley_rd32(d + 16);
    rb->dlsr = parley_rd32(d + 20);
}

bool parley_rtcp_sdes_cname(const parley_rtcp_packet *p, uint32_t *ssrc, const char **cname,
                            size_t *len)
{
    if (p->count == 0)
        return false;
    const uint8_t *d = p->data;
    size_t off = 8;
    *ssrc = parley_rd32(d + 4);
    while (off < p->len && d[off] != 0) { /* bounds proved by sdes_valid */
        if (d[off] == 1) {
            *cname = (const char *)d + off + 2;
            *len = d[off + 1];
            return true;
        }
        off += 2u + d[off + 1];
    }
    return false;
}

uint32_t parley_rtcp_bye_ssrc(const parley_rtcp_packet *p, unsigned i)
{
    return parley_rd32(p->data + 4 + 4u * i);
}

unsigned parley_rtcp_nack_items(const parley_rtcp_packet *p) { return (unsigned)((p->len - 12) / 4); }

void parley_rtcp_nack_item(const parley_rtcp_packet *p, unsigned i, uint16_t *pid, uint16_t *blp)
{
    *pid = parley_rd16(p->data + 12 + 4u * i);
    *blp = parley_rd16(p->data + 14 + 4u * i);
}

unsigned parley_rtcp_nack_expand(uint16_t pid, uint16_t blp, uint16_t out[17])
{
    unsigned n = 0;
    out[n++] = pid;
    for (unsigned b = 0; b < 16; b++)
        if (blp & (1u << b))
            out[n++] = (uint16_t)(pid + b + 1);
    return n;
}

unsigned parley_rtcp_fir_items(const parley_rtcp_packet *p) { return (unsigned)((p->len - 12) / 8); }

void parley_rtcp_fir_item(const parley_rtcp_packet *p, unsigned i, uint32_t *ssrc, uint8_t *seq)
{
    *ssrc = parley_rd32(p->data + 12 + 8u * i);
    *seq = p->data[16 + 8u * i];
}

uint64_t parley_rtcp_remb_bitrate(const parley_rtcp_packet *p)
{
    const uint8_t *d = p->data + 17;
    unsigned exp = d[0] >> 2;
    uint64_t mantissa = (uint64_t)(d[0] & 3) << 16 | (uint64_t)d[1] << 8 | d[2];
    if (mantissa && exp > 46) /* mantissa < 2^18: beyond 2^64 */
        return UINT64_MAX;
    return mantissa << exp;
}

unsigned parley_rtcp_remb_ssrcs(const parley_rtcp_packet *p) { return p->data[16]; }

uint32_t parley_rtcp_remb_ssrc(const parley_rtcp_packet *p, unsigned i)
{
    return parley_rd32(p->data + 20 + 4u * i);
}

/* ---- builders ---- */

static void header(uint8_t *buf, uint8_t count, uint8_t type, size_t len)
{
    buf[0] = (uint8_t)(0x80 | count);
    buf[1] = type;
    parley_wr16(buf + 2, (uint16_t)(len / 4 - 1));
}

static void put_blocks(uint8_t *d, const parley_rtcp_report_block *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++, d += 24) {
        uint32_t lost = (uint32_t)b[i].cumulative_lost & 0xffffff;
        parley_wr32(d, b[i].ssrc);
        parley_wr32(d + 4, (uint32_t)b[i].fraction_lost << 24 | lost);
        parley_wr32(d + 8, b[i].highest_seq);
        parley_wr32(d + 12, b[i].jitter);
        parley_wr32(d + 16, b[i].lsr);
        parley_wr32(d + 20, b[i].dlsr);
    }
}

size_t parley_rtcp_build_sr(uint8_t *buf, size_t cap, const parley_rtcp_sr *sr,
                            const parley_rtcp_report_block *blocks, unsigned n)
{
    size_t len = 28 + 24u * n;
    if (n > 31 || len > cap)
        return 0;
    header(buf, (uint8_t)n, PARLEY_RTCP_SR, len);
    parley_wr32(buf + 4, sr->ssrc);
    parley_wr32(buf + 8, (uint32_t)(sr->ntp >> 32));
    parley_wr32(buf + 12, (uint32_t)sr->ntp);
    parley_wr32(buf + 16, sr->rtp_ts);
    parley_wr32(buf + 20, sr->packet_count);
    parley_wr32(buf + 24, sr->octet_count);
    put_blocks(buf + 28, blocks, n);
    return len;
}

size_t parley_rtcp_build_rr(uint8_t *buf, size_t cap, uint32_t ssrc,
                            const parley_rtcp_report_block *blocks, unsigned n)
{
    size_t len = 8 + 24u * n;
    if (n > 31 || len > cap)
        return 0;
    header(buf, (uint8_t)n, PARLEY_RTCP_RR, len);
    parley_wr32(buf + 4, ssrc);
    put_blocks(buf + 8, blocks, n);
    return len;
}

size_t parley_rtcp_build_sdes_cname(uint8_t *buf, size_t cap, uint32_t ssrc, const char *cname)
{
    size_t clen = strlen(cname);
    if (clen > 255)
        return 0;
    size_t len = (8 + 2 + clen + 1 + 3) & ~(size_t)3; /* header, SSRC, item, end, padding */
    if (len > cap)
        return 0;
    memset(buf, 0, len);
    header(buf, 1, PARLEY_RTCP_SDES, len);
    parley_wr32(buf + 4, ssrc);
    buf[8] = 1; /* CNAME */
    buf[9] = (uint8_t)clen;
    memcpy(buf + 10, cname, clen);
    return len;
}

size_t parley_rtcp_build_nack(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media,
                              const uint16_t *seqs, unsigned n)
{
    if (n == 0 || cap < 16)
        return 0;
    size_t len = 12;
    uint16_t pid = seqs[0], blp = 0;
    for (unsigned i = 1; i <= n; i++) {
        uint16_t d = i < n ? (uint16_t)(seqs[i] - pid) : 0;
        if (i < n && d == 0)
            continue; /* a repeat */
        if (i < n && d <= 16) {
            blp |= (uint16_t)(1u << (d - 1));
            continue;
        }
        if (len + 4 > cap || len + 4 > 4 * 65536u)
            return 0;
        parley_wr16(buf + len, pid);
        parley_wr16(buf + len + 2, blp);
        len += 4;
        if (i < n) {
            pid = seqs[i];
            blp = 0;
        }
    }
    header(buf, PARLEY_RTCP_FMT_NACK, PARLEY_RTCP_RTPFB, len);
    parley_wr32(buf + 4, sender);
    parley_wr32(buf + 8, media);
    return len;
}

size_t parley_rtcp_build_pli(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media)
{
    if (cap < 12)
        return 0;
    header(buf, PARLEY_RTCP_FMT_PLI, PARLEY_RTCP_PSFB, 12);
    parley_wr32(buf + 4, sender);
    parley_wr32(buf + 8, media);
    return 12;
}

size_t parley_rtcp_build_fir(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media,
                             uint8_t seq)
{
    if (cap < 20)
        return 0;
    header(buf, PARLEY_RTCP_FMT_FIR, PARLEY_RTCP_PSFB, 20);
    parley_wr32(buf + 4, sender);
    parley_wr32(buf + 8, 0); /* RFC 5104 §4.3.1: media source SSRC unused */
    parley_wr32(buf + 12, media);
    parley_wr32(buf + 16, (uint32_t)seq << 24);
    return 20;
}

size_t parley_rtcp_build_remb(uint8_t *buf, size_t cap, uint32_t sender, uint64_t bitrate,
                              const uint32_t *ssrcs, unsigned n)
{
    size_t len = 20 + 4u * n;
    if (n > 255 || len > cap)
        return 0;
    unsigned exp = 0;
    while (bitrate >= (1u << 18)) { /* 18-bit mantissa, 6-bit exponent */
        bitrate >>= 1;
        exp++;
    }
    header(buf, PARLEY_RTCP_FMT_AFB, PARLEY_RTCP_PSFB, len);
    parley_wr32(buf + 4, sender);
    parley_wr32(buf + 8, 0); /* media source: unused */
    memcpy(buf + 12, "REMB", 4);
    buf[16] = (uint8_t)n;
    buf[17] = (uint8_t)(exp << 2 | (unsigned)(bitrate >> 16));
    buf[18] = (uint8_t)(bitrate >> 8);
    buf[19] = (uint8_t)bitrate;
    for (unsigned i = 0; i < n; i++)
        parley_wr32(buf + 20 + 4u * i, ssrcs[i]);
    return len;
}

/* ---- reception statistics ---- */

void parley_rtcp_stats_init(parley_rtcp_recv_stats *s, uint32_t ssrc, uint32_t clock_rate)
{
    *s = (parley_rtcp_recv_stats){.ssrc = ssrc, .clock_rate = clock_rate};
}

void parley_rtcp_stats_packet(parley_rtcp_recv_stats *s, uint16_t seq, uint32_t rtp_ts,
                              int64_t now_ms)
{
    if (!s->started) {
        s->started = true;
        s->max_seq = seq;
        s->base_seq = seq;
    } else if ((uint16_t)(seq - s->max_seq) < 0x8000 && seq != s->max_seq) {
        if (seq < s->max_seq)
            s->cycles += 65536;
        s->max_seq = seq;
    }
    s->received++;
    /* interarrival jitter: J += (|D| - J) / 16, kept times 16 */
    int64_t arrival = now_ms * (int64_t)s->clock_rate / 1000;
    int64_t transit = arrival - (int64_t)rtp_ts;
    if (s->has_transit) {
        int64_t d = (int32_t)(uint32_t)(transit - s->last_transit); /* RTP time wraps at 2^32 */
        if (d < 0)
            d = -d;
        s->jitter_q4 += (uint32_t)d - ((s->jitter_q4 + 8) >> 4);
    }
    s->has_transit = true;
    s->last_transit = transit;
}

void parley_rtcp_stats_sr(parley_rtcp_recv_stats *s, uint64_t ntp, int64_t now_ms)
{
    s->has_sr = true;
    s->last_sr = (uint32_t)(ntp >> 16);
    s->last_sr_ms = now_ms;
}

bool parley_rtcp_stats_report(parley_rtcp_recv_stats *s, int64_t now_ms,
                              parley_rtcp_report_block *rb)
{
    if (!s->started)
        return false;
    uint32_t ext_max = s->cycles + s->max_seq;
    uint32_t expected = ext_max - s->base_seq + 1;
    int64_t lost = (int64_t)expected - s->received;
    if (lost > 0x7fffff)
        lost = 0x7fffff;
    if (lost < -0x800000)
        lost = -0x800000;
    uint32_t expected_interval = expected - s->expected_prior;
    uint32_t received_interval = s->received - s->received_prior;
    int64_t lost_interval = (int64_t)expected_interval - received_interval;
    s->expected_prior = expected;
    s->received_prior = s->received;
    *rb = (parley_rtcp_report_block){
        .ssrc = s->ssrc,
        .fraction_lost = (uint8_t)(expected_interval == 0 || lost_interval <= 0
                                       ? 0
                                       : (lost_interval << 8) / expected_interval),
        .cumulative_lost = (int32_t)lost,
        .highest_seq = ext_max,
        .jitter = s->jitter_q4 >> 4,
    };
    if (s->has_sr) {
        rb->lsr = s->last_sr;
        int64_t delay = now_ms - s->last_sr_ms;
        rb->dlsr = delay > 0 ? (uint32_t)(delay * 65536 / 1000) : 0; /* 1/65536 s */
    }
    return true;
}

/* ---- feedback toward publishers ---- */

/* Map the media SSRCs of feedback packet q (already at its output place). */
static bool map_feedback(uint8_t *q, const parley_rtcp_packet *p, parley_rtcp_ssrc_map map,
                         void *arg)
{
    uint32_t to;
    switch (p->kind) {
    case PARLEY_RTCP_KIND_PLI:
        if (!map(arg, p->media_ssrc, &to))
            return false;
        parley_wr32(q + 8, to);
        return true;
    case PARLEY_RTCP_KIND_FIR:
        for (size_t off = 12; off + 8 <= p->len; off += 8) {
            if (!map(arg, parley_rd32(q + off), &to))
                return false;
            parley_wr32(q + off, to);
        }
        return true;
    case PARLEY_RTCP_KIND_REMB:
        for (unsigned i = 0; i < q[16]; i++) {
            if (!map(arg, parley_rd32(q + 20 + 4u * i), &to))
                return false;
            parley_wr32(q + 20 + 4u * i, to);
        }
        return true;
    default:
        return false;
    }
}

size_t parley_rtcp_feedback_to_publisher(uint8_t *buf, size_t len, uint32_t sfu_ssrc,
                                         parley_rtcp_ssrc_map map, void *arg)
{
    if (!parley_rtcp_valid(buf, len))
        return 0;
    size_t r = 0, w = 0;
    while (r < len) {
        parley_rtcp_packet p;
        bool last;
        size_t n;
        check_packet(buf + r, len - r, &last, &p, &n); /* proved valid above */
        bool keep = p.kind == PARLEY_RTCP_KIND_PLI || p.kind == PARLEY_RTCP_KIND_FIR ||
                    p.kind == PARLEY_RTCP_KIND_REMB;
        if (keep) {
            /* w <= r: moving down never overwrites a packet not read yet. A
             * packet that fails to map is left behind w and overwritten. */
            memmove(buf + w, buf + r, n);
            p.data = buf + w;
            if (map_feedback(buf + w, &p, map, arg)) {
                parley_wr32(buf + w + 4, sfu_ssrc);
                w += n;
            }
        }
        r += n;
    }
    return w;
}
