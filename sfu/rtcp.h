/* rtcp.h - RTCP on the SFU: walking compound packets (RFC 3550 §6), reading
 * the reports and feedback the SFU acts on, building the ones it sends,
 * keeping the reception statistics its receiver reports carry, and rewriting
 * feedback that a subscriber sends back toward a publisher.
 *
 * Understood: SR (200), RR (201), SDES (202), BYE (203), generic NACK (205/1),
 * PLI (206/1), FIR (206/4), REMB (206/15, "REMB"). Recognised and skipped:
 * transport-wide CC feedback (205/15), APP (204), XR (207) and any other
 * 192..223 type. A compound packet is refused as a whole when any packet in
 * it is malformed: a version other than 2, a length running past the buffer,
 * padding on a packet other than the last or longer than the packet, or a
 * body too short for its type and count.
 *
 * Nothing here allocates. Builders write into a buffer the caller provides
 * and return the bytes written, 0 when it does not fit.
 *
 * Ownership: parley_rtcp_packet points into the buffer given to the walker;
 * it is valid while that buffer is and unchanged. */
#ifndef PARLEY_SFU_RTCP_H
#define PARLEY_SFU_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PARLEY_RTCP_SR 200
#define PARLEY_RTCP_RR 201
#define PARLEY_RTCP_SDES 202
#define PARLEY_RTCP_BYE 203
#define PARLEY_RTCP_APP 204
#define PARLEY_RTCP_RTPFB 205
#define PARLEY_RTCP_PSFB 206
#define PARLEY_RTCP_XR 207

#define PARLEY_RTCP_FMT_NACK 1  /* RTPFB */
#define PARLEY_RTCP_FMT_TWCC 15 /* RTPFB */
#define PARLEY_RTCP_FMT_PLI 1   /* PSFB */
#define PARLEY_RTCP_FMT_FIR 4   /* PSFB */
#define PARLEY_RTCP_FMT_AFB 15  /* PSFB: application layer feedback, REMB */

#define PARLEY_RTCP_MAX_PACKET 1472 /* one MTU-sized UDP datagram */

typedef enum parley_rtcp_kind {
    PARLEY_RTCP_KIND_SR,
    PARLEY_RTCP_KIND_RR,
    PARLEY_RTCP_KIND_SDES,
    PARLEY_RTCP_KIND_BYE,
    PARLEY_RTCP_KIND_NACK,
    PARLEY_RTCP_KIND_PLI,
    PARLEY_RTCP_KIND_FIR,
    PARLEY_RTCP_KIND_REMB,
    PARLEY_RTCP_KIND_TWCC,  /* recognised, not read */
    PARLEY_RTCP_KIND_OTHER, /* APP, XR, other feedback: skipped */
} parley_rtcp_kind;

/* One packet of a compound packet. */
typedef struct parley_rtcp_packet {
    parley_rtcp_kind kind;
    uint8_t type;          /* PT, 192..223 */
    uint8_t count;         /* RC / SC / FMT: the header's low 5 bits */
    const uint8_t *data;   /* the packet from its header on */
    size_t len;            /* header + body, without padding */
    uint32_t ssrc;         /* sender SSRC (0 for SDES and BYE: see their accessors) */
    uint32_t media_ssrc;   /* feedback: media source SSRC */
} parley_rtcp_packet;

/* A walker over a compound packet: init, then next() until it answers 0. */
typedef struct parley_rtcp_iter {
    const uint8_t *buf;
    size_t len, off;
} parley_rtcp_iter;

/* Check a whole compound packet without reading it further: true when every
 * packet in it is well formed (and there is at least one). */
bool parley_rtcp_valid(const uint8_t *buf, size_t len);
void parley_rtcp_iter_init(parley_rtcp_iter *it, const uint8_t *buf, size_t len);
/* 1 and *p filled, 0 at the end, -1 on a malformed packet (and every call
 * after). Validate first with parley_rtcp_valid to act on all or nothing. */
int parley_rtcp_next(parley_rtcp_iter *it, parley_rtcp_packet *p);

typedef struct parley_rtcp_report_block {
    uint32_t ssrc;
    uint8_t fraction_lost;   /* of 256 */
    int32_t cumulative_lost; /* 24-bit signed */
    uint32_t highest_seq;    /* extended */
    uint32_t jitter;
    uint32_t lsr, dlsr;
} parley_rtcp_report_block;

typedef struct parley_rtcp_sr {
    uint32_t ssrc;
    uint64_t ntp;
    uint32_t rtp_ts;
    uint32_t packet_count, octet_count;
} parley_rtcp_sr;

/* SR sender info (p->kind SR). */
void parley_rtcp_sr_info(const parley_rtcp_packet *p, parley_rtcp_sr *sr);
/* Report block i < p->count of an SR or RR. */
void parley_rtcp_report(const parley_rtcp_packet *p, unsigned i, parley_rtcp_report_block *rb);
/* SDES: the first chunk's SSRC and CNAME (*cname points into the packet, not
 * NUL-terminated); false when the first chunk has no CNAME. */
bool parley_rtcp_sdes_cname(const parley_rtcp_packet *p, uint32_t *ssrc, const char **cname,
                            size_t *len);
/* BYE: SSRC i < p->count. */
uint32_t parley_rtcp_bye_ssrc(const parley_rtcp_packet *p, unsigned i);
/* NACK: the number of PID+BLP items, and item i. */
unsigned parley_rtcp_nack_items(const parley_rtcp_packet *p);
void parley_rtcp_nack_item(const parley_rtcp_packet *p, unsigned i, uint16_t *pid, uint16_t *blp);
/* Expand one PID+BLP item into the sequence numbers it asks for (1..17),
 * in order, wrapping at 65535; returns their count. */
unsigned parley_rtcp_nack_expand(uint16_t pid, uint16_t blp, uint16_t out[17]);
/* FIR: the number of FCI entries, and entry i (its media SSRC and command
 * sequence number). */
unsigned parley_rtcp_fir_items(const parley_rtcp_packet *p);
void parley_rtcp_fir_item(const parley_rtcp_packet *p, unsigned i, uint32_t *ssrc, uint8_t *seq);
/* REMB: the estimated bitrate in bit/s (saturating) and the SSRC count;
 * SSRC i with parley_rtcp_remb_ssrc. */
uint64_t parley_rtcp_remb_bitrate(const parley_rtcp_packet *p);
unsigned parley_rtcp_remb_ssrcs(const parley_rtcp_packet *p);
uint32_t parley_rtcp_remb_ssrc(const parley_rtcp_packet *p, unsigned i);

/* Builders: append one packet at buf (capacity cap); bytes written or 0. */
size_t parley_rtcp_build_sr(uint8_t *buf, size_t cap, const parley_rtcp_sr *sr,
                            const parley_rtcp_report_block *blocks, unsigned n);
size_t parley_rtcp_build_rr(uint8_t *buf, size_t cap, uint32_t ssrc,
                            const parley_rtcp_report_block *blocks, unsigned n);
/* SDES with one chunk holding a CNAME (at most 255 bytes). */
size_t parley_rtcp_build_sdes_cname(uint8_t *buf, size_t cap, uint32_t ssrc, const char *cname);
/* Generic NACK for seqs[0..n) in send order (ascending modulo 2^16): runs of
 * up to 17 close sequence numbers share one PID+BLP item. */
size_t parley_rtcp_build_nack(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media,
                              const uint16_t *seqs, unsigned n);
size_t parley_rtcp_build_pli(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media);
size_t parley_rtcp_build_fir(uint8_t *buf, size_t cap, uint32_t sender, uint32_t media,
                             uint8_t seq);
/* REMB (draft-alvestrand-rmcat-remb): bitrate in bit/s for the streams
 * ssrcs[0..n) (n <= 255), rounded down to its 18-bit mantissa. */
size_t parley_rtcp_build_remb(uint8_t *buf, size_t cap, uint32_t sender, uint64_t bitrate,
                              const uint32_t *ssrcs, unsigned n);

/* Reception statistics of one incoming stream (RFC 3550 §6.4.1, A.3, A.8),
 * for the report blocks the SFU sends its publishers. Arrival times are ms,
 * so jitter has a resolution of one ms in the stream's clock. */
typedef struct parley_rtcp_recv_stats {
    uint32_t ssrc, clock_rate;
    bool started;
    uint16_t max_seq;
    uint32_t cycles;   /* wraps of max_seq, times 65536 */
    uint32_t base_seq; /* the first sequence number */
    uint32_t received, expected_prior, received_prior;
    bool has_transit;
    int64_t last_transit;
    uint32_t jitter_q4; /* jitter in the stream's clock, times 16 */
    bool has_sr;
    uint32_t last_sr;   /* middle 32 bits of the last SR's NTP time */
    int64_t last_sr_ms;
} parley_rtcp_recv_stats;

void parley_rtcp_stats_init(parley_rtcp_recv_stats *s, uint32_t ssrc, uint32_t clock_rate);
/* One packet received (duplicates count, as the RFC has it). */
void parley_rtcp_stats_packet(parley_rtcp_recv_stats *s, uint16_t seq, uint32_t rtp_ts,
                              int64_t now_ms);
/* An SR from the stream's sender arrived (for LSR and DLSR). */
void parley_rtcp_stats_sr(parley_rtcp_recv_stats *s, uint64_t ntp, int64_t now_ms);
/* The report block for now; starts a new interval for fraction_lost. False
 * (and nothing to report) before the first packet. */
bool parley_rtcp_stats_report(parley_rtcp_recv_stats *s, int64_t now_ms,
                              parley_rtcp_report_block *rb);

/* Map a subscriber-facing SSRC to its publisher's; false when unknown. */
typedef bool (*parley_rtcp_ssrc_map)(void *arg, uint32_t subscriber_ssrc, uint32_t *publisher_ssrc);

/* Turn a subscriber's compound RTCP, in place, into the feedback to forward
 * to publishers: keep PLI, FIR and REMB packets whose media SSRCs all map,
 * with the sender SSRC set to `sfu_ssrc` and the media SSRCs mapped; drop
 * everything else. The SFU terminates reports, SDES, BYE and TWCC, and it
 * answers NACKs itself from its retransmission buffers (their sequence
 * numbers are the subscriber's, which a publisher would not know); rate-limit
 * the PLIs and FIRs left with a parley_pli_limiter before sending them.
 * Returns the new length, 0 when nothing is left or buf is malformed. */
size_t parley_rtcp_feedback_to_publisher(uint8_t *buf, size_t len, uint32_t sfu_ssrc,
                                         parley_rtcp_ssrc_map map, void *arg);

#endif
