/* fuzz_rtcp.c - libFuzzer target for compound RTCP: the walker and every
 * accessor of what it finds, report round trips through the builders, and
 * the in-place rewrite of feedback toward publishers.
 *
 * Inputs are capped at PARLEY_RTCP_MAX_PACKET (1,472 bytes: one MTU-sized UDP
 * datagram), as on the wire. Invariants: the walker and parley_rtcp_valid
 * agree; an SR or RR rebuilt from what was read parses back to the same
 * values; rewritten feedback is never longer than the input and is itself a
 * valid compound packet. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rtcp.h"
#include "rtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Even SSRCs map (to themselves + 1), odd ones are unknown. */
static bool map(void *arg, uint32_t from, uint32_t *to)
{
    (void)arg;
    *to = from + 1;
    return (from & 1) == 0;
}

static void round_trip_reports(const parley_rtcp_packet *p)
{
    parley_rtcp_report_block rb[31], back;
    uint8_t buf[PARLEY_RTCP_MAX_PACKET];
    for (unsigned i = 0; i < p->count; i++)
        parley_rtcp_report(p, i, &rb[i]);
    size_t n;
    parley_rtcp_sr sr = {0}, sr2;
    if (p->kind == PARLEY_RTCP_KIND_SR) {
        parley_rtcp_sr_info(p, &sr);
        n = parley_rtcp_build_sr(buf, sizeof buf, &sr, rb, p->count);
    } else {
        n = parley_rtcp_build_rr(buf, sizeof buf, p->ssrc, rb, p->count);
    }
    parley_rtcp_iter it;
    parley_rtcp_packet q;
    parley_rtcp_iter_init(&it, buf, n);
    if (n == 0 || parley_rtcp_next(&it, &q) != 1 || q.kind != p->kind || q.count != p->count ||
        q.ssrc != p->ssrc)
        abort();
    if (p->kind == PARLEY_RTCP_KIND_SR) {
        parley_rtcp_sr_info(&q, &sr2);
        if (sr.ssrc != sr2.ssrc || sr.ntp != sr2.ntp || sr.rtp_ts != sr2.rtp_ts ||
            sr.packet_count != sr2.packet_count || sr.octet_count != sr2.octet_count)
            abort();
    }
    for (unsigned i = 0; i < p->count; i++) {
        parley_rtcp_report(&q, i, &back);
        if (back.ssrc != rb[i].ssrc || back.fraction_lost != rb[i].fraction_lost ||
            back.cumulative_lost != rb[i].cumulative_lost || back.highest_seq != rb[i].highest_seq ||
            back.jitter != rb[i].jitter || back.lsr != rb[i].lsr || back.dlsr != rb[i].dlsr)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > PARLEY_RTCP_MAX_PACKET)
        return 0;
    parley_rtcp_iter it;
    parley_rtcp_packet p;
    int r, packets = 0;
    parley_rtcp_iter_init(&it, data, size);
    while ((r = parley_rtcp_next(&it, &p)) == 1) {
        packets++;
        if (p.data < data || p.data + p.len > data + size || p.len < 4)
            abort();
        uint16_t seqs[17];
        uint32_t ssrc;
        uint8_t seq;
        const char *cname;
        size_t clen;
        switch (p.kind) {
        case PARLEY_RTCP_KIND_SR:
        case PARLEY_RTCP_KIND_RR:
            round_trip_reports(&p);
            break;
        case PARLEY_RTCP_KIND_SDES:
            if (parley_rtcp_sdes_cname(&p, &ssrc, &cname, &clen) &&
                ((const uint8_t *)cname + clen > p.data + p.len))
                abort();
            break;
        case PARLEY_RTCP_KIND_BYE:
            for (unsigned i = 0; i < p.count; i++)
                (void)parley_rtcp_bye_ssrc(&p, i);
            break;
        case PARLEY_RTCP_KIND_NACK:
            for (unsigned i = 0; i < parley_rtcp_nack_items(&p); i++) {
                uint16_t pid, blp;
                parley_rtcp_nack_item(&p, i, &pid, &blp);
                if (parley_rtcp_nack_expand(pid, blp, seqs) != 1u + (unsigned)__builtin_popcount(blp))
                    abort();
            }
            break;
        case PARLEY_RTCP_KIND_FIR:
            for (unsigned i = 0; i < parley_rtcp_fir_items(&p); i++)
                parley_rtcp_fir_item(&p, i, &ssrc, &seq);
            break;
        case PARLEY_RTCP_KIND_REMB:
            (void)parley_rtcp_remb_bitrate(&p);
            for (unsigned i = 0; i < parley_rtcp_remb_ssrcs(&p); i++)
                (void)parley_rtcp_remb_ssrc(&p, i);
            break;
        default:
            break;
        }
    }
    bool valid = parley_rtcp_valid(data, size);
    if (valid != (r == 0 && packets > 0))
        abort();

    static uint8_t buf[PARLEY_RTCP_MAX_PACKET];
    memcpy(buf, data, size);
    size_t n = parley_rtcp_feedback_to_publisher(buf, size, 0x5f, map, NULL);
    if (n > size || (n > 0 && !valid) || (n > 0 && !parley_rtcp_valid(buf, n)))
        abort();
    return 0;
}
