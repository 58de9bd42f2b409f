/* forward.h - what a subscriber receives: one stream per track, whatever the
 * SFU feeds it from.
 *
 * parley_forwarder rewrites one outgoing track of one subscriber. It shows a
 * single SSRC with continuous sequence numbers and timestamps while its
 * source changes (another publisher in a speaker slot, another simulcast
 * layer, a pause and a resume). On a switch the new source's sequence numbers
 * are offset to follow the last one sent with no gap and no step back, and its
 * timestamps to follow the last one sent by the wall time elapsed since, in
 * the track's clock (90 kHz video, 48 kHz audio); VP8 picture ids and
 * TL0PICIDX follow on the same way. Video waits for a keyframe of the new
 * source: until one arrives the old source keeps flowing (or, with none,
 * nothing does) and a keyframe is requested through the publisher's
 * parley_pli_limiter, which lets one request through per interval per
 * publisher however many subscribers wait.
 *
 * parley_speaker_detector picks the active speaker from RFC 6464 audio levels:
 * per participant, levels are averaged over 300 ms windows (silence and
 * missing packets count as nothing) and smoothed across windows; a challenger
 * takes over only when louder than the current speaker by a margin for two
 * windows in a row, so short noises and crosstalk do not make it flap.
 *
 * Everything runs on the loop thread with the time passed in (ms, any one
 * epoch per object); nothing allocates or locks.
 *
 * Ownership: all three are plain structs owned by the caller. A forwarder
 * borrows the limiter given to parley_forward_switch (it must outlive the
 * switch, or be replaced by another switch) and calls the keyframe callback
 * synchronously from parley_forward_packet. */
#ifndef PARLEY_SFU_FORWARD_H
#define PARLEY_SFU_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rtp.h"

/* ---- keyframe request (PLI/FIR) limiter, one per publisher stream ---- */

#define PARLEY_PLI_INTERVAL_MS 500

typedef struct parley_pli_limiter {
    uint32_t interval_ms;
    bool sent_once;
    int64_t last_ms;
    uint64_t allowed, suppressed;
} parley_pli_limiter;

/* interval 0 means PARLEY_PLI_INTERVAL_MS. */
void parley_pli_limiter_init(parley_pli_limiter *l, uint32_t interval_ms);
/* True (and the time noted) when a request may go to the publisher now. */
bool parley_pli_limiter_allow(parley_pli_limiter *l, int64_t now_ms);

/* ---- per-subscriber track rewriter ---- */

typedef void (*parley_keyframe_fn)(void *arg, uint32_t publisher_ssrc);

typedef enum parley_forward_verdict {
    PARLEY_FORWARD_SEND = 0,
    PARLEY_FORWARD_DROP_OTHER,    /* not from the current or the awaited source */
    PARLEY_FORWARD_DROP_WAITING,  /* from the awaited source, before its keyframe */
    PARLEY_FORWARD_DROP_OLD,      /* from before the source's first sent packet */
} parley_forward_verdict;

typedef struct parley_forwarder {
    uint32_t out_ssrc;
    uint32_t clock_rate;
    bool video;
    int16_t out_pt; /* -1: keep the publisher's */
    parley_keyframe_fn keyframe;
    void *keyframe_arg;

    bool has_src;   /* packets of src are being sent */
    uint32_t src_ssrc;
    uint16_t src_first_seq;  /* the first of its packets that was sent */
    uint16_t seq_offset;
    uint32_t ts_offset;

    bool has_next;  /* a switch to next_ssrc is pending */
    uint32_t next_ssrc;
    parley_pli_limiter *next_limiter;

    bool vp8_rebase;    /* the next VP8 descriptor sets the offsets below */
    bool vp8_started;
    uint16_t pid_offset, last_pid; /* 15-bit picture ids */
    uint8_t tl0_offset, last_tl0;

    bool started;   /* anything sent yet */
    uint16_t last_seq; /* the newest sent, in the subscriber's numbering */
    uint32_t last_ts;
    int64_t last_ms;
    uint64_t sent, dropped, switches;
} parley_forwarder;

typedef struct parley_forward_out {
    uint32_t ssrc;
    uint16_t seq;
    uint32_t timestamp;
    int16_t payload_type; /* -1: unchanged */
} parley_forward_out;

/* clock_rate: 90000 video, 48000 audio; keyframe may be NULL. */
void parley_forward_init(parley_forwarder *f, uint32_t out_ssrc, uint32_t clock_rate, bool video,
                         int16_t out_pt, parley_keyframe_fn keyframe, void *arg);
/* Move to source ssrc (also the first source). Video keeps the current source
 * until a keyframe of the new one; limiter may be NULL (no requests). */
void parley_forward_switch(parley_forwarder *f, uint32_t ssrc, parley_pli_limiter *limiter,
                           int64_t now_ms);
/* Stop forwarding (the source left or was muted); a later switch resumes the
 * numbering where it stopped. */
void parley_forward_stop(parley_forwarder *f);
/* Decide on one parsed packet; keyframe: it opens a keyframe (for video).
 * On PARLEY_FORWARD_SEND *out holds the fields to write into the copy sent. */
parley_forward_verdict parley_forward_packet(parley_forwarder *f, const parley_rtp_header *h,
                                             bool keyframe, int64_t now_ms, parley_forward_out *out);
/* While a switch waits for a keyframe, ask again (rate-limited): for the
 * router's timer, when the awaited source sends nothing to prompt it. */
void parley_forward_poll(parley_forwarder *f, int64_t now_ms);
/* A timestamp of the current source (e.g. from its SR) in the subscriber's
 * timeline, for the SR the SFU sends it; false when ssrc is not current. */
bool parley_forward_map_timestamp(const parley_forwarder *f, uint32_t ssrc, uint32_t ts,
                                  uint32_t *out);
/* Write out's fields into a packet (a copy: the original is shared). */
void parley_forward_apply(const parley_forward_out *out, uint8_t *pkt);

/* VP8 continuity: picture ids and TL0PICIDX follow on across a switch too,
 * or the subscriber's decoder takes the new source's frames for lost ones.
 * Call after PARLEY_FORWARD_SEND with the packet's descriptor; it rewrites
 * the descriptor of the copy sent (payload: its VP8 payload). */
void parley_forward_vp8(parley_forwarder *f, const parley_vp8_desc *d, uint8_t *payload);

/* ---- active speaker ---- */

#define PARLEY_SPEAKER_MAX 64
#define PARLEY_SPEAKER_WINDOW_MS 300
#define PARLEY_SPEAKER_MARGIN 8 /* smoothed score points (about dB) to take over */
#define PARLEY_SPEAKER_HOLD 2   /* windows in a row a challenger must lead */

typedef struct parley_speaker_entry {
    uint32_t id;
    uint32_t sum, count; /* this window: loudness (127 - level, 0 when no voice) */
    int32_t score;       /* smoothed, x16 */
    uint8_t lead;        /* windows in a row ahead of the current speaker */
} parley_speaker_entry;

typedef struct parley_speaker_detector {
    int64_t window_start;
    bool has_window;
    bool has_speaker;
    uint32_t speaker;
    unsigned n;
    parley_speaker_entry e[PARLEY_SPEAKER_MAX];
} parley_speaker_detector;

void parley_speaker_init(parley_speaker_detector *d);
/* One audio packet's level of participant id; false when the detector is full. */
bool parley_speaker_observe(parley_speaker_detector *d, uint32_t id, bool voice, uint8_t level,
                            int64_t now_ms);
/* Close the windows that have ended by now; true when the active speaker
 * changed (read it with parley_speaker_current). Call it every window or so. */
bool parley_speaker_tick(parley_speaker_detector *d, int64_t now_ms);
/* The active speaker; false when there is none yet. */
bool parley_speaker_current(const parley_speaker_detector *d, uint32_t *id);
void parley_speaker_remove(parley_speaker_detector *d, uint32_t id);

#endif
