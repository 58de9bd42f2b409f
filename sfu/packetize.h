/* packetize.h - encoded frames to RTP payloads and back: VP8 (RFC 7741) and
 * Opus (RFC 7587, one packet per RTP packet, nothing to do).
 *
 * Sending: a parley_vp8_packetizer cuts one whole VP8 frame into payloads of
 * at most max_payload bytes, each opening with a 4-byte payload descriptor
 * (X set, S on the first packet, partition 0, a 15-bit PictureID); the last
 * payload carries the marker. The sizes are balanced (no tiny last packet).
 *
 * Receiving: a parley_vp8_depacketizer keeps the packets of one stream in a
 * ring indexed by sequence number (PARLEY_DEPACK_SLOTS of them), so packets
 * may arrive out of order (retransmissions) and duplicates are ignored. It
 * hands out whole frames in sequence order: from a frame's first packet (S
 * set, partition 0) through its marker, every sequence number present and one
 * timestamp. A frame with a hole waits; the owner decides when to give up on
 * it (parley_vp8_depack_skip, e.g. after its retransmission requests were
 * exhausted): the frames in the hole are counted as dropped and, from then
 * on, inter frames are dropped until the next keyframe (need_keyframe, which
 * the owner turns into PLIs). A malformed payload is dropped, never read past.
 *
 * Ownership: a depacketizer owns its ring and frame buffer (allocated by
 * init, released by free; free is safe on a zeroed struct). The packetizer
 * borrows the frame it cuts until its last payload is taken. Nothing locks;
 * use one object from one thread at a time. */
#ifndef PARLEY_SFU_PACKETIZE_H
#define PARLEY_SFU_PACKETIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtp.h"

#define PARLEY_VP8_DESC_LEN 4           /* X, I, 15-bit PictureID */
#define PARLEY_PACKETIZE_MTU 1200       /* default payload budget per packet */
#define PARLEY_DEPACK_SLOTS 256         /* packets held per received stream */
#define PARLEY_DEPACK_MAX_FRAME (1u << 20) /* largest frame reassembled: 1 MiB */

/* ---- sending ---- */

typedef struct parley_vp8_packetizer {
    const uint8_t *frame;
    size_t len, off;
    size_t chunk;      /* frame bytes per packet */
    uint16_t picture_id;
} parley_vp8_packetizer;

/* Prepare to cut frame[0..len) with picture_id (taken modulo 2^15) into
 * payloads of at most max_payload bytes (0: PARLEY_PACKETIZE_MTU). False when
 * len is 0 or max_payload leaves no room after the descriptor. */
bool parley_vp8_packetizer_init(parley_vp8_packetizer *p, const uint8_t *frame, size_t len,
                                uint16_t picture_id, size_t max_payload);
/* Write the next payload into out[0..cap); its length (0 when the frame is
 * done or cap is too small) and whether it is the frame's last (marker). */
size_t parley_vp8_packetizer_next(parley_vp8_packetizer *p, uint8_t *out, size_t cap, bool *marker);

/* The number of packets a frame of len bytes takes (0 when it cannot be cut). */
size_t parley_vp8_packet_count(size_t len, size_t max_payload);

/* True when a whole VP8 frame is a keyframe (the P bit of its first byte
 * clear). */
static inline bool parley_vp8_frame_is_key(const uint8_t *frame, size_t len)
{
    return len > 0 && !(frame[0] & 0x01);
}

/* ---- receiving ---- */

typedef struct parley_depack_slot {
    bool used;
    bool marker, start, key;
    uint16_t seq;
    uint32_t ts;
    uint16_t off, len; /* the VP8 bytes after the descriptor, in data */
    uint8_t data[PARLEY_RTP_MAX_PACKET];
} parley_depack_slot;

typedef struct parley_vp8_depacketizer {
    parley_depack_slot *slots; /* PARLEY_DEPACK_SLOTS */
    uint8_t *frame;            /* the last frame handed out */
    size_t frame_len;
    bool started;
    uint16_t next_seq;   /* the oldest sequence number not consumed yet */
    uint16_t newest_seq; /* the newest stored */
    bool need_keyframe;  /* a frame was lost: inter frames are dropped */
    uint64_t frames, keyframes, dropped_frames, bad_payloads, late;
} parley_vp8_depacketizer;

typedef struct parley_vp8_frame {
    const uint8_t *data; /* in the depacketizer, valid until the next pop */
    size_t len;
    uint32_t timestamp;
    bool keyframe;
    uint16_t first_seq, last_seq;
} parley_vp8_frame;

/* Allocate the ring and frame buffer; -1 when memory is short. */
int parley_vp8_depack_init(parley_vp8_depacketizer *d);
void parley_vp8_depack_free(parley_vp8_depacketizer *d);
/* Store one packet's payload. 1 stored, 0 ignored (a duplicate or older than
 * what was consumed), -1 malformed (counted in bad_payloads). A packet too far
 * ahead of the oldest one waiting moves the window (what it passes over is
 * skipped as by parley_vp8_depack_skip). */
int parley_vp8_depack_put(parley_vp8_depacketizer *d, uint16_t seq, uint32_t ts, bool marker,
                          const uint8_t *payload, size_t len);
/* The next whole frame in order: 1 and *out filled, 0 when the next one is
 * not complete yet (or none is waiting). Frames that cannot be used (inter
 * frames while need_keyframe, frames without their start) are dropped on the
 * way and counted. */
int parley_vp8_depack_pop(parley_vp8_depacketizer *d, parley_vp8_frame *out);
/* True when a frame waits on a missing packet while newer packets are held. */
bool parley_vp8_depack_stalled(const parley_vp8_depacketizer *d);
/* Give up on the packets missing before the next frame start that is held:
 * the frame(s) in between are dropped, need_keyframe is set. */
void parley_vp8_depack_skip(parley_vp8_depacketizer *d);

#endif
