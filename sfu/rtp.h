/* rtp.h - RTP packets on the SFU's forwarding path: header parsing (RFC 3550),
 * header extensions (RFC 8285, one-byte and two-byte forms), the audio level
 * extension (RFC 6464), the VP8 payload descriptor (RFC 7741) and in-place
 * rewriting of the fields a forwarder changes.
 *
 * Parsing is strict: a packet shorter than its header says, a version other
 * than 2, a header extension running past the packet, or padding longer than
 * what follows the header is refused. Nothing here allocates or keeps state;
 * every function is safe to call from any thread on its own buffers.
 *
 * Ownership: parley_rtp_header and parley_vp8_desc hold offsets and copies,
 * never pointers into the packet, except where a function hands back a
 * pointer into the buffer it was given (valid while that buffer is). */
#ifndef PARLEY_SFU_RTP_H
#define PARLEY_SFU_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PARLEY_RTP_MAX_PACKET 1500 /* the largest RTP packet the SFU keeps or sends */
#define PARLEY_RTP_MIN_HEADER 12

typedef enum parley_rtp_status {
    PARLEY_RTP_OK = 0,
    PARLEY_RTP_TRUNCATED = -1, /* shorter than the fixed header, CSRCs or extension */
    PARLEY_RTP_BAD_VERSION = -2,
    PARLEY_RTP_BAD_PADDING = -3, /* padding count 0 or longer than the payload */
    PARLEY_RTP_TOO_LONG = -4,    /* above 65535 bytes: no UDP datagram is */
} parley_rtp_status;

/* Header extension profiles (the 16 bits that open the extension). */
#define PARLEY_RTP_EXT_ONE_BYTE 0xBEDEu
#define PARLEY_RTP_EXT_TWO_BYTE 0x1000u /* its low 4 bits are "appbits" */

typedef struct parley_rtp_header {
    uint8_t version;
    bool padding, extension, marker;
    uint8_t csrc_count;
    uint8_t payload_type;
    uint16_t seq;
    uint32_t timestamp;
    uint32_t ssrc;
    uint16_t ext_profile;  /* when extension */
    uint16_t ext_offset;   /* first byte of the extension elements */
    uint16_t ext_len;      /* their length in bytes (a multiple of 4) */
    uint16_t header_len;   /* fixed header + CSRCs + extension */
    uint16_t payload_len;  /* without the padding */
    uint8_t padding_len;   /* including the count byte itself */
} parley_rtp_header;

/* Parse the header of pkt[0..len); PARLEY_RTP_OK or a negative status. The
 * payload is pkt + h->header_len, h->payload_len bytes. */
parley_rtp_status parley_rtp_parse(const uint8_t *pkt, size_t len, parley_rtp_header *h);

/* RTP or RTCP on a muxed port (RFC 5761 §4): true when the second byte is an
 * RTCP packet type (192..223). */
bool parley_rtp_is_rtcp(const uint8_t *pkt, size_t len);

/* Find header extension element `id` (1..14 one-byte, 1..255 two-byte) in a
 * parsed packet; *data points into pkt. False when absent or malformed. */
bool parley_rtp_ext_find(const uint8_t *pkt, const parley_rtp_header *h, uint8_t id,
                         const uint8_t **data, size_t *len);

/* The audio level (RFC 6464) carried as extension `id`: voice activity flag
 * and level in -dBov (0 loudest, 127 silence). False when absent. */
bool parley_rtp_audio_level(const uint8_t *pkt, const parley_rtp_header *h, uint8_t id,
                            bool *voice, uint8_t *level);

/* The VP8 payload descriptor (RFC 7741 §4.2) and what follows it. */
typedef struct parley_vp8_desc {
    bool start;          /* S: first packet of a partition */
    bool non_reference;  /* N */
    uint8_t partition;   /* PID */
    bool has_picture_id; /* I */
    bool picture_id_16;  /* M: the 15-bit form */
    uint16_t picture_id;
    bool has_tl0picidx;  /* L */
    uint8_t tl0picidx;
    bool has_tid;        /* T */
    uint8_t tid;
    bool layer_sync;     /* Y */
    bool has_keyidx;     /* K */
    uint8_t keyidx;
    uint8_t desc_len;    /* bytes of descriptor before the VP8 payload */
    bool frame_start;    /* S and PID 0: the first packet of a frame */
    bool keyframe;       /* frame_start and the payload header's P bit clear */
} parley_vp8_desc;

/* Parse a VP8 RTP payload's descriptor; false when truncated (the frame's
 * first packet must also hold at least the payload header's first byte). */
bool parley_vp8_parse(const uint8_t *payload, size_t len, parley_vp8_desc *d);

/* Rewrite a parsed VP8 descriptor's picture id (in its 7- or 15-bit form, the
 * value taken modulo that) and TL0PICIDX in place; each does nothing when the
 * descriptor lacks the field. */
void parley_vp8_set_picture_id(uint8_t *payload, const parley_vp8_desc *d, uint16_t picture_id);
void parley_vp8_set_tl0picidx(uint8_t *payload, const parley_vp8_desc *d, uint8_t tl0picidx);

/* In-place rewrites of a packet known to hold at least the fixed header. The
 * payload type setter keeps the marker bit. */
void parley_rtp_set_ssrc(uint8_t *pkt, uint32_t ssrc);
void parley_rtp_set_seq(uint8_t *pkt, uint16_t seq);
void parley_rtp_set_timestamp(uint8_t *pkt, uint32_t ts);
void parley_rtp_set_payload_type(uint8_t *pkt, uint8_t pt);

/* Network byte order helpers, shared by the RTP and RTCP code. */
static inline uint16_t parley_rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t parley_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void parley_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void parley_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

#endif
