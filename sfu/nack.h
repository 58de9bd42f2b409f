/* nack.h - retransmission on the SFU, both directions.
 *
 * parley_nack_buffer keeps the last `capacity` packets of one stream (a power
 * of two, e.g. 512 for video, 128 for audio) in one block allocated when the
 * stream is created, indexed by sequence number modulo capacity, and answers
 * a subscriber's NACK items (PID + BLP) with the packets it still holds: a
 * slot answers only for the exact sequence number stored there and only while
 * the packet is younger than max_age_ms. Which sequence space it is keyed by
 * is the owner's choice (the subscriber-facing one after rewriting, so that
 * a NACK is answered without mapping).
 *
 * parley_nack_tracker watches a publisher's sequence numbers and produces the
 * NACK requests the SFU sends it for gaps: each missing packet is asked for
 * at most max_retries times, no sooner than one RTT (at least min_interval_ms)
 * after the previous ask, and given up when it falls more than
 * PARLEY_NACK_MAX_MISSING behind the newest packet.
 *
 * Both run on the loop thread, with the time passed in (ms, any epoch);
 * nothing allocates per packet and nothing locks.
 *
 * Ownership: a buffer owns its slots (parley_nack_buffer_free releases them;
 * safe on a zeroed struct). Packets passed in are copied; a packet handed to
 * an answer callback lives in the buffer until the next insert. A tracker is
 * a plain struct with no resources. */
#ifndef PARLEY_SFU_NACK_H
#define PARLEY_SFU_NACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtp.h"

typedef struct parley_nack_slot {
    int64_t stored_ms;
    uint16_t seq;
    uint16_t len; /* 0: empty */
    uint8_t data[PARLEY_RTP_MAX_PACKET];
} parley_nack_slot;

typedef struct parley_nack_buffer {
    parley_nack_slot *slots;
    uint32_t capacity; /* a power of two */
    uint32_t max_age_ms;
    uint64_t hits, misses; /* sequence numbers asked for: found / not found */
} parley_nack_buffer;

/* Allocate capacity slots (a power of two, 16..32768) once; -1 when the size
 * is not allowed or memory is short. max_age_ms 0 means no age limit. */
int parley_nack_buffer_init(parley_nack_buffer *b, uint32_t capacity, uint32_t max_age_ms);
void parley_nack_buffer_free(parley_nack_buffer *b);
/* Keep a copy of packet pkt[0..len) under seq; false (and nothing kept) when
 * len is 0 or above PARLEY_RTP_MAX_PACKET. Evicts whatever shared its slot. */
bool parley_nack_buffer_put(parley_nack_buffer *b, uint16_t seq, const uint8_t *pkt, size_t len,
                            int64_t now_ms);
/* The stored packet for seq, or NULL (never stored, evicted, or too old). */
const uint8_t *parley_nack_buffer_get(const parley_nack_buffer *b, uint16_t seq, size_t *len,
                                      int64_t now_ms);

typedef void (*parley_nack_send_fn)(void *arg, const uint8_t *pkt, size_t len);
/* Answer one NACK item: send(arg, ...) for each stored packet it asks for, in
 * sequence order; counts hits and misses; returns the packets sent. */
unsigned parley_nack_buffer_answer(parley_nack_buffer *b, uint16_t pid, uint16_t blp,
                                   int64_t now_ms, parley_nack_send_fn send, void *arg);

#define PARLEY_NACK_MAX_MISSING 256

typedef struct parley_nack_missing {
    int64_t seq;     /* extended */
    int64_t sent_ms; /* last request, 0: not yet */
    uint8_t retries;
} parley_nack_missing;

typedef struct parley_nack_tracker {
    bool started;
    int64_t highest;  /* extended sequence number of the newest packet */
    uint8_t max_retries;
    uint32_t min_interval_ms;
    uint16_t n;
    parley_nack_missing missing[PARLEY_NACK_MAX_MISSING]; /* ascending by seq */
    uint64_t requested, recovered, lost; /* requests sent, gaps filled, given up */
} parley_nack_tracker;

/* Defaults: 10 retries, 20 ms between requests at least. */
void parley_nack_tracker_init(parley_nack_tracker *t, uint8_t max_retries, uint32_t min_interval_ms);
/* One packet received. Returns false when the gap was too large to track (a
 * jump of more than PARLEY_NACK_MAX_MISSING): the owner should then ask for a
 * keyframe instead of retransmissions. */
bool parley_nack_tracker_on_packet(parley_nack_tracker *t, uint16_t seq);
/* The sequence numbers to ask for now (at most max, oldest first), given the
 * current RTT estimate; each one returned counts as one retry. */
unsigned parley_nack_tracker_collect(parley_nack_tracker *t, int64_t now_ms, uint32_t rtt_ms,
                                     uint16_t *out, unsigned max);
/* Packets still missing. */
static inline unsigned parley_nack_tracker_pending(const parley_nack_tracker *t) { return t->n; }

#endif
