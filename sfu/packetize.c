/* packetize.c - the VP8 payloader and depacketizer (see packetize.h). */
#include "packetize.h"

#include <stdlib.h>
#include <string.h>

/* ---- sending ---- */

size_t parley_vp8_packet_count(size_t len, size_t max_payload)
{
    if (!max_payload)
        max_payload = PARLEY_PACKETIZE_MTU;
    if (!len || max_payload <= PARLEY_VP8_DESC_LEN)
        return 0;
    size_t room = max_payload - PARLEY_VP8_DESC_LEN;
    return (len + room - 1) / room;
}

bool parley_vp8_packetizer_init(parley_vp8_packetizer *p, const uint8_t *frame, size_t len,
                                uint16_t picture_id, size_t max_payload)
{
    memset(p, 0, sizeof *p);
    size_t n = parley_vp8_packet_count(len, max_payload);
    if (!n || !frame)
        return false;
    p->frame = frame;
    p->len = len;
    p->chunk = (len + n - 1) / n;
    p->picture_id = picture_id & 0x7fff;
    return true;
}

size_t parley_vp8_packetizer_next(parley_vp8_packetizer *p, uint8_t *out, size_t cap, bool *marker)
{
    if (!p->frame || p->off >= p->len)
        return 0;
    size_t n = p->len - p->off < p->chunk ? p->len - p->off : p->chunk;
    if (cap < PARLEY_VP8_DESC_LEN + n)
        return 0;
    out[0] = (uint8_t)(0x80 | (p->off == 0 ? 0x10 : 0)); /* X, S, PID 0 */
    out[1] = 0x80;                                       /* I */
    out[2] = (uint8_t)(0x80 | (p->picture_id >> 8));     /* M: 15 bits */
    out[3] = (uint8_t)p->picture_id;
    memcpy(out + PARLEY_VP8_DESC_LEN, p->frame + p->off, n);
    p->off += n;
    if (marker)
        *marker = p->off >= p->len;
    return PARLEY_VP8_DESC_LEN + n;
}

/* ---- receiving ---- */

#define SLOT(d, seq) (&(d)->slots[(uint16_t)(seq) % PARLEY_DEPACK_SLOTS])

static bool held(const parley_vp8_depacketizer *d, uint16_t seq)
{
    const parley_depack_slot *s = SLOT(d, seq);
    return s->used && s->seq == seq;
}

static void clear_range(parley_vp8_depacketizer *d, uint16_t from, uint16_t to)
{
    for (uint16_t q = from; q != to; q++)
        if (held(d, q))
            SLOT(d, q)->used = false;
}

int parley_vp8_depack_init(parley_vp8_depacketizer *d)
{
    memset(d, 0, sizeof *d);
    d->slots = calloc(PARLEY_DEPACK_SLOTS, sizeof *d->slots);
    return d->slots ? 0 : -1;
}

void parley_vp8_depack_free(parley_vp8_depacketizer *d)
{
    if (!d)
        return;
    free(d->slots);
    free(d->frame);
    d->slots = NULL;
    d->frame = NULL;
}

int parley_vp8_depack_put(parley_vp8_depacketizer *d, uint16_t seq, uint32_t ts, bool marker,
                          const uint8_t *payload, size_t len)
{
    parley_vp8_desc desc;
    if (!d->slots || !payload || len > PARLEY_RTP_MAX_PACKET || !parley_vp8_parse(payload, len, &desc) ||
        desc.desc_len >= len) {
        d->bad_payloads++;
        return -1;
    }
    if (!d->started) {
        d->started = true;
        d->next_seq = d->newest_seq = seq;
    }
    int16_t diff = (int16_t)(uint16_t)(seq - d->next_seq);
    if (diff < 0) {
        d->late++;
        return 0;
    }
    if (diff >= PARLEY_DEPACK_SLOTS) {
        /* far ahead: what was waiting is given up */
        bool waiting = false;
        for (int i = 0; i < PARLEY_DEPACK_SLOTS; i++) {
            waiting |= d->slots[i].used;
            d->slots[i].used = false;
        }
        if (waiting)
            d->dropped_frames++;
        d->need_keyframe = true;
        d->next_seq = d->newest_seq = seq;
    }
    parley_depack_slot *s = SLOT(d, seq);
    if (s->used && s->seq == seq)
        return 0;
    s->used = true;
    s->seq = seq;
    s->ts = ts;
    s->marker = marker;
    s->start = desc.frame_start;
    s->key = desc.keyframe;
    s->off = desc.desc_len;
    s->len = (uint16_t)(len - desc.desc_len);
    memcpy(s->data, payload, len);
    if ((int16_t)(uint16_t)(seq - d->newest_seq) > 0)
        d->newest_seq = seq;
    return 1;
}

static bool frame_room(parley_vp8_depacketizer *d, size_t need)
{
    uint8_t *f = realloc(d->frame, need ? need : 1);
    if (!f)
        return false;
    d->frame = f;
    return true;
}

int parley_vp8_depack_pop(parley_vp8_depacketizer *d, parley_vp8_frame *out)
{
    if (!d->slots || !d->started)
        return 0;
    for (;;) {
        if (!held(d, d->next_seq))
            return 0;
        parley_depack_slot *s = SLOT(d, d->next_seq);
        if (!s->start) {
            /* the rest of a frame whose head was given up */
            s->used = false;
            d->need_keyframe = true;
            if (s->marker)
                d->dropped_frames++;
            d->next_seq++;
            continue;
        }
        uint16_t q = d->next_seq;
        size_t total = 0;
        bool complete = false, broken = false;
        for (int k = 0; k < PARLEY_DEPACK_SLOTS; k++, q++) {
            if (!held(d, q))
                return 0; /* a hole: wait for it */
            parley_depack_slot *t = SLOT(d, q);
            if (t->ts != s->ts || (k > 0 && t->start)) {
                broken = true; /* the frame ended without its marker */
                break;
            }
            total += t->len;
            if (t->marker) {
                complete = true;
                q++;
                break;
            }
        }
        if (!complete && !broken)
            return 0;
        bool key = s->key;
        uint32_t ts = s->ts;
        uint16_t first = d->next_seq;
        if (broken || (d->need_keyframe && !key) || total > PARLEY_DEPACK_MAX_FRAME || !frame_room(d, total)) {
            clear_range(d, d->next_seq, q);
            d->next_seq = q;
            d->dropped_frames++;
            d->need_keyframe = true;
            continue;
        }
        size_t off = 0;
        for (uint16_t r = d->next_seq; r != q; r++) {
            parley_depack_slot *t = SLOT(d, r);
            memcpy(d->frame + off, t->data + t->off, t->len);
            off += t->len;
            t->used = false;
        }
        d->frame_len = off;
        d->next_seq = q;
        d->frames++;
        if (key) {
            d->keyframes++;
            d->need_keyframe = false;
        }
        *out = (parley_vp8_frame){.data = d->frame, .len = off, .timestamp = ts, .keyframe = key,
                                  .first_seq = first, .last_seq = (uint16_t)(q - 1)};
        return 1;
    }
}

/* The first sequence number missing from next_seq up to newest; false when
 * nothing is missing. */
static bool first_missing(const parley_vp8_depacketizer *d, uint16_t *at)
{
    if (!d->slots || !d->started)
        return false;
    for (uint16_t q = d->next_seq; (int16_t)(uint16_t)(d->newest_seq - q) >= 0; q++)
        if (!held(d, q)) {
            *at = q;
            return true;
        }
    return false;
}

bool parley_vp8_depack_stalled(const parley_vp8_depacketizer *d)
{
    uint16_t m;
    return first_missing(d, &m);
}

void parley_vp8_depack_skip(parley_vp8_depacketizer *d)
{
    uint16_t m;
    if (!first_missing(d, &m))
        return;
    uint16_t q = m;
    while ((int16_t)(uint16_t)(d->newest_seq - q) >= 0 && !(held(d, q) && SLOT(d, q)->start))
        q++;
    clear_range(d, d->next_seq, q);
    d->next_seq = q;
    d->dropped_frames++;
    d->need_keyframe = true;
}
