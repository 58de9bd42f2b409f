/* nack.c - the retransmission buffer (a ring of fixed slots indexed by
 * sequence number) and the loss tracker (a sorted list of missing extended
 * sequence numbers, bounded by PARLEY_NACK_MAX_MISSING).
 *
 * Extended sequence numbers (64-bit, never wrapping) are derived from the
 * 16-bit ones by the signed distance to the newest packet, so a wrap from
 * 65535 to 0 is a step forward and reordering across it is handled. */
#include "nack.h"

#include <stdlib.h>
#include <string.h>

int parley_nack_buffer_init(parley_nack_buffer *b, uint32_t capacity, uint32_t max_age_ms)
{
    *b = (parley_nack_buffer){0};
    if (capacity < 16 || capacity > 32768 || (capacity & (capacity - 1)))
        return -1;
    b->slots = calloc(capacity, sizeof *b->slots);
    if (!b->slots)
        return -1;
    b->capacity = capacity;
    b->max_age_ms = max_age_ms;
    return 0;
}

void parley_nack_buffer_free(parley_nack_buffer *b)
{
    free(b->slots);
    *b = (parley_nack_buffer){0};
}

bool parley_nack_buffer_put(parley_nack_buffer *b, uint16_t seq, const uint8_t *pkt, size_t len,
                            int64_t now_ms)
{
    if (len == 0 || len > PARLEY_RTP_MAX_PACKET || !b->slots)
        return false;
    parley_nack_slot *s = &b->slots[seq & (b->capacity - 1)];
    s->seq = seq;
    s->len = (uint16_t)len;
    s->stored_ms = now_ms;
    memcpy(s->data, pkt, len);
    return true;
}

const uint8_t *parley_nack_buffer_get(const parley_nack_buffer *b, uint16_t seq, size_t *len,
                                      int64_t now_ms)
{
    if (!b->slots)
        return NULL;
    const parley_nack_slot *s = &b->slots[seq & (b->capacity - 1)];
    if (s->len == 0 || s->seq != seq)
        return NULL;
    if (b->max_age_ms && now_ms - s->stored_ms > (int64_t)b->max_age_ms)
        return NULL;
    *len = s->len;
    return s->data;
}

unsigned parley_nack_buffer_answer(parley_nack_buffer *b, uint16_t pid, uint16_t blp,
                                   int64_t now_ms, parley_nack_send_fn send, void *arg)
{
    unsigned sent = 0;
    for (unsigned bit = 0; bit <= 16; bit++) {
        if (bit > 0 && !(blp & (1u << (bit - 1))))
            continue;
        size_t len;
        const uint8_t *pkt = parley_nack_buffer_get(b, (uint16_t)(pid + bit), &len, now_ms);
        if (!pkt) {
            b->misses++;
            continue;
        }
        b->hits++;
        send(arg, pkt, len);
        sent++;
    }
    return sent;
}

/* ---- loss tracker ---- */

void parley_nack_tracker_init(parley_nack_tracker *t, uint8_t max_retries, uint32_t min_interval_ms)
{
    *t = (parley_nack_tracker){
        .max_retries = max_retries ? max_retries : 10,
        .min_interval_ms = min_interval_ms ? min_interval_ms : 20,
    };
}

static void drop_first(parley_nack_tracker *t, unsigned k)
{
    memmove(t->missing, t->missing + k, (t->n - k) * sizeof t->missing[0]);
    t->n = (uint16_t)(t->n - k);
}

bool parley_nack_tracker_on_packet(parley_nack_tracker *t, uint16_t seq)
{
    if (!t->started) {
        t->started = true;
        t->highest = seq;
        return true;
    }
    int64_t ext = t->highest + (int16_t)(uint16_t)(seq - (uint16_t)t->highest);
    if (ext == t->highest)
        return true; /* a duplicate */
    if (ext < t->highest) { /* late or retransmitted: fill its gap if it was one */
        for (unsigned i = 0; i < t->n; i++) {
            if (t->missing[i].seq == ext) {
                memmove(t->missing + i, t->missing + i + 1, (t->n - i - 1) * sizeof t->missing[0]);
                t->n--;
                t->recovered++;
                break;
            }
            if (t->missing[i].seq > ext)
                break;
        }
        return true;
    }
    int64_t gap = ext - t->highest - 1;
    t->highest = ext;
    if (gap > PARLEY_NACK_MAX_MISSING) {
        t->lost += (uint64_t)gap + t->n;
        t->n = 0;
        return false;
    }
    /* too old to be worth asking for, or no room for the new ones */
    unsigned old = 0;
    while (old < t->n && t->missing[old].seq < ext - PARLEY_NACK_MAX_MISSING)
        old++;
    if (t->n - old + gap > PARLEY_NACK_MAX_MISSING)
        old = (unsigned)(t->n + gap - PARLEY_NACK_MAX_MISSING);
    if (old) {
        t->lost += old;
        drop_first(t, old);
    }
    for (int64_t s = ext - gap; s < ext; s++)
        t->missing[t->n++] = (parley_nack_missing){.seq = s};
    return true;
}

unsigned parley_nack_tracker_collect(parley_nack_tracker *t, int64_t now_ms, uint32_t rtt_ms,
                                     uint16_t *out, unsigned max)
{
    int64_t spacing = rtt_ms > t->min_interval_ms ? rtt_ms : t->min_interval_ms;
    unsigned n = 0, w = 0;
    for (unsigned i = 0; i < t->n; i++) {
        parley_nack_missing m = t->missing[i];
        if (n < max && (m.retries == 0 || now_ms - m.sent_ms >= spacing)) {
            if (m.retries >= t->max_retries) {
                t->lost++;
                continue; /* given up: not kept */
            }
            out[n++] = (uint16_t)m.seq;
            m.retries++;
            m.sent_ms = now_ms;
            t->requested++;
        }
        t->missing[w++] = m;
    }
    t->n = (uint16_t)w;
    return n;
}
