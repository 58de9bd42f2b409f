/* test_forward.c - the per-subscriber rewriter (continuity across source
 * switches, keyframe gating, wraparound, pause and resume), the keyframe
 * request limiter with an injected clock, and active speaker hysteresis
 * (sfu/forward.h). */
#include <stdint.h>
#include <string.h>

#include "forward.h"
#include "../lib/tap.h"

static parley_rtp_header hdr(uint32_t ssrc, uint16_t seq, uint32_t ts)
{
    return (parley_rtp_header){.version = 2, .payload_type = 96, .ssrc = ssrc, .seq = seq,
                               .timestamp = ts};
}

typedef struct kf_log {
    unsigned n;
    uint32_t last;
} kf_log;

static void on_keyframe(void *arg, uint32_t ssrc)
{
    kf_log *l = arg;
    l->n++;
    l->last = ssrc;
}

/* What the subscriber saw: every sent packet must be newer than the last. */
typedef struct watch {
    bool any;
    uint16_t seq;
    uint32_t ts;
    unsigned sent, bad;
} watch;

static parley_forward_verdict feed(parley_forwarder *f, watch *w, uint32_t ssrc, uint16_t seq,
                                   uint32_t ts, bool key, int64_t now)
{
    parley_rtp_header h = hdr(ssrc, seq, ts);
    parley_forward_out o;
    parley_forward_verdict v = parley_forward_packet(f, &h, key, now, &o);
    if (v == PARLEY_FORWARD_SEND) {
        if (w->any && o.seq != (uint16_t)(w->seq + 1))
            w->bad++;
        if (w->any && (int32_t)(o.timestamp - w->ts) < 0)
            w->bad++;
        if (o.ssrc != f->out_ssrc)
            w->bad++;
        w->any = true;
        w->seq = o.seq;
        w->ts = o.timestamp;
        w->sent++;
    }
    return v;
}

TEST(pli_limiter_with_clock)
{
    parley_pli_limiter l;
    parley_pli_limiter_init(&l, 0);
    CHECK(l.interval_ms == PARLEY_PLI_INTERVAL_MS);
    CHECK(parley_pli_limiter_allow(&l, 10000));
    CHECK(!parley_pli_limiter_allow(&l, 10000));
    CHECK(!parley_pli_limiter_allow(&l, 10499));
    CHECK(parley_pli_limiter_allow(&l, 10500));
    CHECK(!parley_pli_limiter_allow(&l, 10600));
    CHECK(parley_pli_limiter_allow(&l, 20000));
    CHECK(l.allowed == 3 && l.suppressed == 3);
    parley_pli_limiter_init(&l, 1000);
    CHECK(parley_pli_limiter_allow(&l, 0)); /* the first is allowed even at time 0 */
    CHECK(!parley_pli_limiter_allow(&l, 999));
    CHECK(parley_pli_limiter_allow(&l, 1000));
}

TEST(audio_switch_is_continuous)
{
    parley_forwarder f;
    watch w = {0};
    parley_forward_init(&f, 0xabc, 48000, false, 111, NULL, NULL);
    int64_t t = 1000;
    CHECK(feed(&f, &w, 0xa, 100, 5000, false, t) == PARLEY_FORWARD_DROP_OTHER); /* no source yet */
    parley_forward_switch(&f, 0xa, NULL, t);
    for (int i = 0; i < 10; i++, t += 20)
        CHECK(feed(&f, &w, 0xa, (uint16_t)(100 + i), 5000 + 960u * i, false, t) == PARLEY_FORWARD_SEND);
    uint16_t last_seq = w.seq;
    uint32_t last_ts = w.ts;
    CHECK(last_seq == 109 && last_ts == 5000 + 960 * 9);

    /* to publisher B, 20 ms after A's last packet */
    parley_forward_switch(&f, 0xb, NULL, t);
    CHECK(feed(&f, &w, 0xa, 110, 5000 + 9600, false, t) == PARLEY_FORWARD_SEND); /* A until B comes */
    last_seq = w.seq;
    last_ts = w.ts;
    t += 20;
    CHECK(feed(&f, &w, 0xb, 40000, 77777, false, t) == PARLEY_FORWARD_SEND);
    CHECK(w.seq == (uint16_t)(last_seq + 1));
    CHECK(w.ts == last_ts + 960); /* 20 ms at 48 kHz */
    CHECK(feed(&f, &w, 0xa, 111, 5000 + 10560, false, t) == PARLEY_FORWARD_DROP_OTHER);
    CHECK(feed(&f, &w, 0xb, 39999, 77777 - 960, false, t) == PARLEY_FORWARD_DROP_OLD);
    for (int i = 1; i < 50; i++)
        feed(&f, &w, 0xb, (uint16_t)(40000 + i), 77777 + 960u * i, false, t + 20 * i);
    CHECK(w.bad == 0 && w.sent == 61);
    CHECK(f.switches == 2);
}

TEST(apply_writes_fields)
{
    uint8_t pkt[20] = {0x80, 0x80 | 100};
    parley_forward_out o = {.ssrc = 0x01020304, .seq = 0xfffe, .timestamp = 0x0a0b0c0d,
                            .payload_type = 111};
    parley_forward_apply(&o, pkt);
    parley_rtp_header h;
    REQUIRE(parley_rtp_parse(pkt, sizeof pkt, &h) == PARLEY_RTP_OK);
    CHECK(h.ssrc == 0x01020304 && h.seq == 0xfffe && h.timestamp == 0x0a0b0c0d);
    CHECK(h.payload_type == 111 && h.marker);
    o.payload_type = -1;
    parley_rtp_set_payload_type(pkt, 96);
    parley_forward_apply(&o, pkt);
    REQUIRE(parley_rtp_parse(pkt, sizeof pkt, &h) == PARLEY_RTP_OK);
    CHECK(h.payload_type == 96);
}

TEST(video_waits_for_keyframe)
{
    parley_forwarder f;
    parley_pli_limiter lim_a, lim_b;
    kf_log kf = {0};
    watch w = {0};
    parley_pli_limiter_init(&lim_a, 500);
    parley_pli_limiter_init(&lim_b, 500);
    parley_forward_init(&f, 0x1d, 90000, true, -1, on_keyframe, &kf);
    int64_t t = 0;
    parley_forward_switch(&f, 0xa, &lim_a, t); /* asks A for a keyframe at once */
    CHECK(kf.n == 1 && kf.last == 0xa);
    /* A's interframes wait; requests stay within one per 500 ms */
    for (int i = 0; i < 30; i++, t += 33)
        CHECK(feed(&f, &w, 0xa, (uint16_t)(65500 + i), 3000u * i, false, t) == PARLEY_FORWARD_DROP_WAITING);
    CHECK(kf.n == 2 && w.sent == 0); /* at 0 and at 528 */
    /* a keyframe at seq 65530; then across the wrap */
    CHECK(feed(&f, &w, 0xa, 65530, 90000, true, t) == PARLEY_FORWARD_SEND);
    CHECK(w.seq == 65530); /* the first source keeps its numbering */
    for (int i = 1; i < 40; i++, t += 33)
        CHECK(feed(&f, &w, 0xa, (uint16_t)(65530 + i), 90000 + 3000u * i, false, t) == PARLEY_FORWARD_SEND);
    CHECK(w.seq == (uint16_t)(65530 + 39) && w.bad == 0);

    /* switch to B (a simulcast layer or a new speaker) */
    unsigned before = kf.n;
    parley_forward_switch(&f, 0xb, &lim_b, t);
    CHECK(kf.n == before + 1 && kf.last == 0xb);
    uint16_t a = (uint16_t)(65530 + 40), b = 1000;
    uint32_t ats = 90000 + 3000u * 40, bts = 4000000000u;
    for (int i = 0; i < 20; i++, t += 33, a++, b++, ats += 3000, bts += 3000) {
        CHECK(feed(&f, &w, 0xa, a, ats, false, t) == PARLEY_FORWARD_SEND);
        CHECK(feed(&f, &w, 0xb, b, bts, false, t) == PARLEY_FORWARD_DROP_WAITING);
    }
    CHECK(kf.n == before + 2); /* 660 ms of waiting: one more request */
    /* the router's timer asks again once the interval has passed, not before */
    parley_forward_poll(&f, t);
    CHECK(kf.n == before + 2);
    parley_forward_poll(&f, t + 400);
    CHECK(kf.n == before + 3 && lim_b.suppressed > 0);
    uint32_t mapped;
    CHECK(parley_forward_map_timestamp(&f, 0xa, ats, &mapped) && mapped == ats); /* A: no offset */
    CHECK(!parley_forward_map_timestamp(&f, 0xb, bts, &mapped));
    uint16_t last = w.seq;
    uint32_t last_ts = w.ts;
    CHECK(feed(&f, &w, 0xb, b, bts, true, t) == PARLEY_FORWARD_SEND);
    CHECK(w.seq == (uint16_t)(last + 1) && w.ts == last_ts + 33 * 90);
    CHECK(feed(&f, &w, 0xa, a, ats, false, t) == PARLEY_FORWARD_DROP_OTHER);
    CHECK(feed(&f, &w, 0xb, (uint16_t)(b - 1), bts - 3000, false, t) == PARLEY_FORWARD_DROP_OLD);
    CHECK(parley_forward_map_timestamp(&f, 0xb, bts, &mapped) && mapped == w.ts);
    parley_forward_poll(&f, t + 5000); /* nothing awaited: no request */
    CHECK(kf.n == before + 3);
    for (int i = 1; i < 10; i++)
        CHECK(feed(&f, &w, 0xb, (uint16_t)(b + i), bts + 3000u * i, false, t + 33 * i) == PARLEY_FORWARD_SEND);
    CHECK(w.bad == 0);
    /* toward A again, then back to B, which flows: nothing left to wait for */
    parley_forward_switch(&f, 0xa, &lim_a, t);
    CHECK(f.has_next);
    parley_forward_switch(&f, 0xb, &lim_b, t);
    CHECK(!f.has_next);
}

/* A VP8 packet with a 15-bit picture id and TL0PICIDX; key: a keyframe. */
static size_t vp8(uint8_t *p, uint16_t pid, uint8_t tl0, bool key)
{
    p[0] = 0x90;
    p[1] = 0xc0;
    p[2] = (uint8_t)(0x80 | pid >> 8);
    p[3] = (uint8_t)pid;
    p[4] = tl0;
    p[5] = key ? 0x10 : 0x11;
    return 6;
}

TEST(vp8_picture_ids_follow_on)
{
    parley_forwarder f;
    parley_forward_init(&f, 0x1d, 90000, true, -1, NULL, NULL);
    parley_forward_switch(&f, 0xa, NULL, 0);
    uint8_t p[8];
    parley_vp8_desc d;
    parley_forward_out o;
    uint16_t last_pid = 0;
    uint8_t last_tl0 = 0;
    /* A: picture ids 32760.. across the 15-bit wrap, one packet per frame */
    for (int i = 0; i < 20; i++) {
        size_t n = vp8(p, (uint16_t)((32760 + i) & 0x7fff), (uint8_t)(250 + i), i == 0);
        REQUIRE(parley_vp8_parse(p, n, &d));
        parley_rtp_header h = hdr(0xa, (uint16_t)(10 + i), 3000u * i);
        REQUIRE(parley_forward_packet(&f, &h, d.keyframe, 33 * i, &o) == PARLEY_FORWARD_SEND);
        parley_forward_vp8(&f, &d, p);
        REQUIRE(parley_vp8_parse(p, n, &d));
        if (i > 0)
            CHECK(d.picture_id == ((last_pid + 1) & 0x7fff) && d.tl0picidx == (uint8_t)(last_tl0 + 1));
        last_pid = d.picture_id;
        last_tl0 = d.tl0picidx;
    }
    CHECK(last_pid == 11 && last_tl0 == 13); /* the first source keeps its values */
    /* B, with unrelated numbering, takes over at a keyframe */
    parley_forward_switch(&f, 0xb, NULL, 700);
    for (int i = 0; i < 10; i++) {
        size_t n = vp8(p, (uint16_t)(500 + i), (uint8_t)(7 + i), i == 0);
        REQUIRE(parley_vp8_parse(p, n, &d));
        parley_rtp_header h = hdr(0xb, (uint16_t)(9000 + i), 70000u + 3000u * i);
        REQUIRE(parley_forward_packet(&f, &h, d.keyframe, 700 + 33 * i, &o) == PARLEY_FORWARD_SEND);
        parley_forward_vp8(&f, &d, p);
        REQUIRE(parley_vp8_parse(p, n, &d));
        CHECK(d.picture_id == ((last_pid + 1) & 0x7fff) && d.tl0picidx == (uint8_t)(last_tl0 + 1));
        CHECK(d.keyframe == (i == 0));
        last_pid = d.picture_id;
        last_tl0 = d.tl0picidx;
    }
}

TEST(stop_resume_and_long_streams)
{
    parley_forwarder f;
    watch w = {0};
    parley_forward_init(&f, 0x99, 48000, false, -1, NULL, NULL);
    parley_forward_switch(&f, 0xa, NULL, 0);
    int64_t t = 0;
    uint16_t s = 0;
    uint32_t ts = 0;
    /* 70000 packets: far past the 16-bit half range from the first one */
    for (int i = 0; i < 70000; i++, t += 20, s++, ts += 960)
        if (feed(&f, &w, 0xa, s, ts, false, t) != PARLEY_FORWARD_SEND)
            w.bad++;
    CHECK(w.bad == 0 && w.sent == 70000);
    /* a reordered packet inside the source still goes (it fills a hole) */
    parley_rtp_header h = hdr(0xa, (uint16_t)(s - 3), ts - 3 * 960);
    parley_forward_out o;
    CHECK(parley_forward_packet(&f, &h, false, t, &o) == PARLEY_FORWARD_SEND);
    CHECK(o.seq == (uint16_t)(w.seq - 2));
    /* muted for 2 s, then back: numbering resumes, timestamps jump by 2 s */
    parley_forward_stop(&f);
    CHECK(feed(&f, &w, 0xa, s, ts, false, t) == PARLEY_FORWARD_DROP_OTHER);
    uint16_t last = w.seq;
    uint32_t last_ts = w.ts;
    t += 2000;
    parley_forward_switch(&f, 0xa, NULL, t);
    CHECK(feed(&f, &w, 0xa, (uint16_t)(s + 100), ts + 100 * 960, false, t + 20) == PARLEY_FORWARD_SEND);
    CHECK(w.seq == (uint16_t)(last + 1));
    CHECK(w.ts == last_ts + (2000 + 20 + 20) * 48);
    CHECK(w.bad == 0);
}

/* 300 ms of 20 ms packets for each of the given levels (255: silent). */
static bool talk(parley_speaker_detector *d, int64_t *t, uint8_t la, uint8_t lb, uint8_t lc)
{
    bool changed = false;
    for (int i = 0; i < 15; i++, *t += 20) {
        if (la != 255)
            parley_speaker_observe(d, 1, true, la, *t);
        if (lb != 255)
            parley_speaker_observe(d, 2, true, lb, *t);
        if (lc != 255)
            parley_speaker_observe(d, 3, lc < 100, lc, *t);
        changed |= parley_speaker_tick(d, *t);
    }
    return changed;
}

TEST(active_speaker_hysteresis)
{
    parley_speaker_detector d;
    parley_speaker_init(&d);
    uint32_t id = 0;
    int64_t t = 0;
    CHECK(!parley_speaker_current(&d, &id));
    CHECK(!parley_speaker_tick(&d, 5000)); /* nothing heard */
    /* silence only (no voice flag): nobody speaks */
    talk(&d, &t, 255, 255, 127);
    talk(&d, &t, 255, 255, 127);
    CHECK(!parley_speaker_current(&d, &id));
    /* 1 talks */
    talk(&d, &t, 30, 255, 127);
    talk(&d, &t, 30, 255, 127);
    CHECK(parley_speaker_current(&d, &id) && id == 1);
    /* 2 coughs once, loudly: no change */
    talk(&d, &t, 30, 5, 127);
    talk(&d, &t, 30, 255, 127);
    talk(&d, &t, 30, 255, 127);
    CHECK(parley_speaker_current(&d, &id) && id == 1);
    /* 1 and 2 both talk, about as loud: no flapping either way */
    unsigned changes = 0;
    for (int i = 0; i < 20; i++)
        changes += talk(&d, &t, (uint8_t)(30 + (i & 1) * 4), (uint8_t)(34 - (i & 1) * 4), 127);
    CHECK(changes == 0 && parley_speaker_current(&d, &id) && id == 1);
    /* 1 stops, 2 goes on: 2 takes over, after a sustained lead */
    bool changed = false;
    int windows = 0;
    while (!changed && windows < 20) {
        changed = talk(&d, &t, 255, 30, 127);
        windows++;
    }
    CHECK(changed && parley_speaker_current(&d, &id) && id == 2);
    CHECK(windows >= PARLEY_SPEAKER_HOLD);
    /* 2 leaves: no speaker until someone is heard */
    parley_speaker_remove(&d, 2);
    CHECK(!parley_speaker_current(&d, &id));
    talk(&d, &t, 40, 255, 127);
    CHECK(parley_speaker_current(&d, &id) && id == 1);
    parley_speaker_remove(&d, 42); /* unknown: nothing */
    /* a full detector refuses newcomers */
    parley_speaker_init(&d);
    for (uint32_t i = 0; i < PARLEY_SPEAKER_MAX; i++)
        CHECK(parley_speaker_observe(&d, 100 + i, true, 50, 0));
    CHECK(!parley_speaker_observe(&d, 9999, true, 50, 0));
    CHECK(parley_speaker_observe(&d, 100, true, 50, 0));
}

int main(void)
{
    RUN(pli_limiter_with_clock);
    RUN(audio_switch_is_continuous);
    RUN(apply_writes_fields);
    RUN(video_waits_for_keyframe);
    RUN(vp8_picture_ids_follow_on);
    RUN(stop_resume_and_long_streams);
    RUN(active_speaker_hysteresis);
    return tap_done();
}
