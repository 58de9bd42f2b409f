/* forward.c - the per-subscriber rewriter, the keyframe request limiter and
 * the active speaker detector (see forward.h for the rules they follow).
 *
 * Offsets are kept modulo 2^16 (sequence numbers) and 2^32 (timestamps), so
 * an outgoing value is one addition per packet. A source's packets older than
 * its first sent one are dropped, or they would land on numbers already sent
 * for the previous source; that floor trails the newest packet by at most
 * FLOOR_LAG so 16-bit comparisons stay meaningful on long streams. */
#include "forward.h"

#include <string.h>

#define FLOOR_LAG 16384

void parley_pli_limiter_init(parley_pli_limiter *l, uint32_t interval_ms)
{
    *l = (parley_pli_limiter){.interval_ms = interval_ms ? interval_ms : PARLEY_PLI_INTERVAL_MS};
}

bool parley_pli_limiter_allow(parley_pli_limiter *l, int64_t now_ms)
{
    if (l->sent_once && now_ms - l->last_ms < (int64_t)l->interval_ms) {
        l->suppressed++;
        return false;
    }
    l->sent_once = true;
    l->last_ms = now_ms;
    l->allowed++;
    return true;
}

/* ---- forwarder ---- */

void parley_forward_init(parley_forwarder *f, uint32_t out_ssrc, uint32_t clock_rate, bool video,
                         int16_t out_pt, parley_keyframe_fn keyframe, void *arg)
{
    *f = (parley_forwarder){
        .out_ssrc = out_ssrc,
        .clock_rate = clock_rate,
        .video = video,
        .out_pt = out_pt,
        .keyframe = keyframe,
        .keyframe_arg = arg,
    };
}

static void request_keyframe(parley_forwarder *f, int64_t now_ms)
{
    if (f->keyframe && f->next_limiter && parley_pli_limiter_allow(f->next_limiter, now_ms))
        f->keyframe(f->keyframe_arg, f->next_ssrc);
}

void parley_forward_switch(parley_forwarder *f, uint32_t ssrc, parley_pli_limiter *limiter,
                           int64_t now_ms)
{
    if (f->has_src && f->src_ssrc == ssrc) {
        f->has_next = false; /* back to what is flowing: nothing to wait for */
        return;
    }
    f->has_next = true;
    f->next_ssrc = ssrc;
    f->next_limiter = limiter;
    if (f->video)
        request_keyframe(f, now_ms);
}

void parley_forward_stop(parley_forwarder *f)
{
    f->has_src = false;
    f->has_next = false;
}

/* Make the pending source current, its first packet h following the last sent. */
static void commit(parley_forwarder *f, const parley_rtp_header *h, int64_t now_ms)
{
    if (f->started) {
        int64_t elapsed = now_ms - f->last_ms;
        uint64_t ticks = elapsed > 0 ? (uint64_t)elapsed * f->clock_rate / 1000 : 0;
        if (ticks == 0)
            ticks = 1; /* a new frame never shares the previous one's timestamp */
        f->seq_offset = (uint16_t)(f->last_seq + 1 - h->seq);
        f->ts_offset = (uint32_t)(f->last_ts + (uint32_t)ticks - h->timestamp);
    } else {
        f->seq_offset = 0;
        f->ts_offset = 0;
    }
    f->vp8_rebase = true;
    f->has_src = true;
    f->src_ssrc = f->next_ssrc;
    f->src_first_seq = h->seq;
    f->has_next = false;
    f->switches++;
}

parley_forward_verdict parley_forward_packet(parley_forwarder *f, const parley_rtp_header *h,
                                             bool keyframe, int64_t now_ms, parley_forward_out *out)
{
    if (f->has_next && h->ssrc == f->next_ssrc) {
        if (f->video && !keyframe) {
            request_keyframe(f, now_ms);
            f->dropped++;
            return PARLEY_FORWARD_DROP_WAITING;
        }
        commit(f, h, now_ms);
    } else if (!f->has_src || h->ssrc != f->src_ssrc) {
        f->dropped++;
        return PARLEY_FORWARD_DROP_OTHER;
    } else if ((int16_t)(uint16_t)(h->seq - f->src_first_seq) < 0) {
        f->dropped++;
        return PARLEY_FORWARD_DROP_OLD;
    }
    if ((int16_t)(uint16_t)(h->seq - f->src_first_seq) > FLOOR_LAG)
        f->src_first_seq = (uint16_t)(h->seq - FLOOR_LAG);

    out->ssrc = f->out_ssrc;
    out->seq = (uint16_t)(h->seq + f->seq_offset);
    out->timestamp = h->timestamp + f->ts_offset;
    out->payload_type = f->out_pt;
    if (!f->started || (int16_t)(uint16_t)(out->seq - f->last_seq) > 0) {
        f->last_seq = out->seq;
        f->last_ts = out->timestamp;
        f->last_ms = now_ms;
    }
    f->started = true;
    f->sent++;
    return PARLEY_FORWARD_SEND;
}

void parley_forward_poll(parley_forwarder *f, int64_t now_ms)
{
    if (f->has_next && f->video)
        request_keyframe(f, now_ms);
}

bool parley_forward_map_timestamp(const parley_forwarder *f, uint32_t ssrc, uint32_t ts,
                                  uint32_t *out)
{
    if (!f->has_src || f->src_ssrc != ssrc)
        return false;
    *out = ts + f->ts_offset;
    return true;
}

void parley_forward_apply(const parley_forward_out *out, uint8_t *pkt)
{
    parley_rtp_set_ssrc(pkt, out->ssrc);
    parley_rtp_set_seq(pkt, out->seq);
    parley_rtp_set_timestamp(pkt, out->timestamp);
    if (out->payload_type >= 0)
        parley_rtp_set_payload_type(pkt, (uint8_t)out->payload_type);
}

void parley_forward_vp8(parley_forwarder *f, const parley_vp8_desc *d, uint8_t *payload)
{
    if (f->vp8_rebase) {
        f->vp8_rebase = false;
        if (f->vp8_started) {
            f->pid_offset = (uint16_t)((f->last_pid + 1 - d->picture_id) & 0x7fff);
            f->tl0_offset = (uint8_t)(f->last_tl0 + 1 - d->tl0picidx);
        } else {
            f->pid_offset = 0;
            f->tl0_offset = 0;
        }
    }
    uint16_t pid = (uint16_t)((d->picture_id + f->pid_offset) & 0x7fff);
    uint8_t tl0 = (uint8_t)(d->tl0picidx + f->tl0_offset);
    if (d->has_picture_id) {
        parley_vp8_set_picture_id(payload, d, pid);
        if (!f->vp8_started || ((pid - f->last_pid) & 0x7fff) < 0x4000)
            f->last_pid = pid;
    }
    if (d->has_tl0picidx) {
        parley_vp8_set_tl0picidx(payload, d, tl0);
        if (!f->vp8_started || (int8_t)(uint8_t)(tl0 - f->last_tl0) >= 0)
            f->last_tl0 = tl0;
    }
    if (d->has_picture_id || d->has_tl0picidx)
        f->vp8_started = true;
}

/* ---- active speaker ---- */

#define EXPECTED_PACKETS (PARLEY_SPEAKER_WINDOW_MS / 20) /* 20 ms audio frames */

void parley_speaker_init(parley_speaker_detector *d) { *d = (parley_speaker_detector){0}; }

static parley_speaker_entry *find(parley_speaker_detector *d, uint32_t id)
{
    for (unsigned i = 0; i < d->n; i++)
        if (d->e[i].id == id)
            return &d->e[i];
    return NULL;
}

bool parley_speaker_observe(parley_speaker_detector *d, uint32_t id, bool voice, uint8_t level,
                            int64_t now_ms)
{
    parley_speaker_entry *e = find(d, id);
    if (!e) {
        if (d->n == PARLEY_SPEAKER_MAX)
            return false;
        e = &d->e[d->n++];
        *e = (parley_speaker_entry){.id = id};
    }
    if (!d->has_window) {
        d->has_window = true;
        d->window_start = now_ms;
    }
    level &= 0x7f;
    e->sum += voice ? 127u - level : 0;
    e->count++;
    return true;
}

static void close_window(parley_speaker_detector *d)
{
    for (unsigned i = 0; i < d->n; i++) {
        parley_speaker_entry *e = &d->e[i];
        uint32_t div = e->count > EXPECTED_PACKETS ? e->count : EXPECTED_PACKETS;
        int32_t avg = (int32_t)(e->sum * 16 / div);
        e->score = (e->score + avg) / 2;
        e->sum = e->count = 0;
    }
}

/* After a window: keep the speaker, or hand over to a challenger that has
 * led by the margin long enough. True when the speaker changed. */
static bool decide(parley_speaker_detector *d)
{
    parley_speaker_entry *top = NULL, *cur = d->has_speaker ? find(d, d->speaker) : NULL;
    for (unsigned i = 0; i < d->n; i++)
        if (!top || d->e[i].score > top->score)
            top = &d->e[i];
    if (!top || top->score <= 0)
        return false;
    if (!cur) {
        d->has_speaker = true;
        d->speaker = top->id;
        return true;
    }
    for (unsigned i = 0; i < d->n; i++)
        if (&d->e[i] != top)
            d->e[i].lead = 0;
    if (top == cur || top->score <= cur->score + PARLEY_SPEAKER_MARGIN * 16) {
        top->lead = 0;
        return false;
    }
    if (++top->lead < PARLEY_SPEAKER_HOLD)
        return false;
    top->lead = 0;
    d->speaker = top->id;
    return true;
}

bool parley_speaker_tick(parley_speaker_detector *d, int64_t now_ms)
{
    if (!d->has_window)
        return false;
    bool changed = false;
    unsigned windows = 0;
    while (now_ms - d->window_start >= PARLEY_SPEAKER_WINDOW_MS) {
        close_window(d);
        changed |= decide(d);
        d->window_start += PARLEY_SPEAKER_WINDOW_MS;
        if (++windows == 8) { /* a long pause: the scores have decayed anyway */
            d->window_start = now_ms;
            break;
        }
    }
    return changed;
}

bool parley_speaker_current(const parley_speaker_detector *d, uint32_t *id)
{
    if (d->has_speaker)
        *id = d->speaker;
    return d->has_speaker;
}

void parley_speaker_remove(parley_speaker_detector *d, uint32_t id)
{
    parley_speaker_entry *e = find(d, id);
    if (!e)
        return;
    *e = d->e[--d->n];
    if (d->has_speaker && d->speaker == id)
        d->has_speaker = false;
}
