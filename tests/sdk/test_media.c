/* test_media.c - libparley's media against a real parleyd (started by
 * test_media.py, which passes its URL, a room and a token in the
 * environment: PARLEY_URL, PARLEY_ROOM, PARLEY_TOKEN).
 *
 * Two meetings in one process share one client: "pub" publishes a VP8 track
 * and an Opus track fed with synthetic frames (the SFU forwards bytes; the
 * first video frame is a keyframe: P bit clear), "sub" subscribes and must
 * get every frame intact, in order, with matching counts and nothing lost.
 * Then the published tracks are freed (3001, 3002) and the subscriber keeps
 * receiving the default sources: Opus silence and a black VP8 keyframe once
 * a second. Bad track configs give 3017 and 3018; publishing before joining
 * gives 3022. The subscription makes the server ask the publisher for a
 * keyframe (keyframe-requested); half the audio frames carry an audio level
 * (the header extension must not disturb them); a subscription's end carries
 * its final counters, which stay readable, flagged ended, after it and after
 * leaving, until the next join. Run it under the sanitizer build for leaks. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include <parley/error_codes.h>
#include <parley/parley.h>

#include "../lib/tap.h"

/* N_FRAMES are checked one by one; N_TRAIL more follow them so that a lost
 * last packet of the last checked frame shows as a gap (through the lossy
 * relay: nobody can tell that the very last packet of a stream is missing). */
enum { MAX_EVENTS = 256, MAX_FRAMES = 512, N_FRAMES = 50, N_TRAIL = 3, N_SENT = N_FRAMES + N_TRAIL };

/* ---- recording events and frames ---- */

typedef struct seen {
    parley_event_type type;
    int code;
    char state[16], pid[32], hint[160];
    long long frames[2]; /* media-state-changed `tracks`: frames per kind; -1: none */
} seen;

typedef struct rframe {
    parley_media_kind kind;
    uint32_t ts;
    bool key;
    size_t len;
    uint8_t *data;
} rframe;

typedef struct recorder {
    seen ev[MAX_EVENTS];
    int count;
    rframe fr[MAX_FRAMES];
    int frames;
} recorder;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static recorder rec_pub, rec_sub;

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static void on_event(parley_meeting *m, const parley_event *e, void *ud)
{
    (void)m;
    recorder *r = ud;
    pthread_mutex_lock(&mu);
    if (r->count < MAX_EVENTS) {
        seen *s = &r->ev[r->count++];
        s->type = parley_event_get_type(e);
        s->code = parley_event_code(e);
        copy(s->state, sizeof s->state, parley_event_string(e, "state"));
        copy(s->pid, sizeof s->pid, parley_event_participant(e));
        copy(s->hint, sizeof s->hint, parley_event_hint(e));
        s->frames[0] = s->frames[1] = -1;
        json_t *tracks = json_object_get(parley_event_json(e), "tracks");
        for (size_t i = 0; i < json_array_size(tracks); i++) {
            json_t *t = json_array_get(tracks, i);
            const char *kind = json_string_value(json_object_get(t, "kind"));
            if (kind)
                s->frames[!strcmp(kind, "video")] = json_integer_value(json_object_get(t, "frames"));
        }
    }
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&mu);
}

static void on_frame(parley_meeting *m, const parley_frame *f, void *ud)
{
    (void)m;
    recorder *r = ud;
    pthread_mutex_lock(&mu);
    if (r->frames < MAX_FRAMES && !strcmp(f->participant_id, "pub")) {
        rframe *x = &r->fr[r->frames];
        x->data = malloc(f->len);
        if (x->data) {
            memcpy(x->data, f->data, f->len);
            x->len = f->len;
            x->kind = f->kind;
            x->ts = f->timestamp;
            x->key = f->keyframe;
            r->frames++;
        }
    }
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&mu);
}

/* Events of type (and code when non-zero, state and pid when non-NULL). */
static int count_events(recorder *r, parley_event_type type, int code, const char *state, const char *pid)
{
    int n = 0;
    for (int i = 0; i < r->count; i++) {
        seen *s = &r->ev[i];
        n += s->type == type && (!code || s->code == code) && (!state || !strcmp(s->state, state)) &&
             (!pid || !strcmp(s->pid, pid));
    }
    return n;
}

static int count_frames(recorder *r, parley_media_kind kind, int from)
{
    int n = 0;
    for (int i = from; i < r->frames; i++)
        n += r->fr[i].kind == kind;
    return n;
}

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* Wait until count_events(...) >= want; true when it happened. */
static bool wait_event(recorder *r, parley_event_type type, int code, const char *state, const char *pid, int want,
                       int ms)
{
    struct timespec dl;
    deadline_in(&dl, ms);
    pthread_mutex_lock(&mu);
    bool ok;
    while (!(ok = count_events(r, type, code, state, pid) >= want))
        if (pthread_cond_timedwait(&cond, &mu, &dl))
            break;
    ok = count_events(r, type, code, state, pid) >= want;
    pthread_mutex_unlock(&mu);
    return ok;
}

static bool wait_frames(recorder *r, int from, int video, int audio, int ms)
{
    struct timespec dl;
    deadline_in(&dl, ms);
    pthread_mutex_lock(&mu);
    bool ok;
    while (!(ok = count_frames(r, PARLEY_MEDIA_VIDEO, from) >= video && count_frames(r, PARLEY_MEDIA_AUDIO, from) >= audio))
        if (pthread_cond_timedwait(&cond, &mu, &dl))
            break;
    ok = count_frames(r, PARLEY_MEDIA_VIDEO, from) >= video && count_frames(r, PARLEY_MEDIA_AUDIO, from) >= audio;
    pthread_mutex_unlock(&mu);
    return ok;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the frames sent ---- */

static uint8_t *video_frame[N_SENT], *audio_frame[N_SENT];
static size_t video_len[N_SENT], audio_len[N_SENT];

static void make_frames(void)
{
    for (int i = 0; i < N_SENT; i++) {
        /* a mix of one-packet and several-packet frames */
        size_t vl = i == 0 ? 5000 : i % 7 == 3 ? 3600 : 200 + (size_t)i * 13;
        uint8_t *v = malloc(vl);
        for (size_t k = 0; k < vl; k++)
            v[k] = (uint8_t)(k * 31 + (size_t)i * 7);
        if (i == 0) {
            static const uint8_t key[] = {0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01};
            memcpy(v, key, sizeof key); /* P clear: a keyframe, 640x480 */
        } else {
            v[0] = 0x31; /* P set: an inter frame */
        }
        video_frame[i] = v;
        video_len[i] = vl;
        size_t al = 60 + (size_t)i % 40;
        uint8_t *a = malloc(al);
        a[0] = 0x78;
        for (size_t k = 1; k < al; k++)
            a[k] = (uint8_t)(k * 3 + (size_t)i * 11);
        audio_frame[i] = a;
        audio_len[i] = al;
    }
}

/* ---- the cases ---- */

static parley_client *client;
static parley_meeting *mpub, *msub;
static parley_track *vtrack, *atrack;
static const char *url, *room, *tok;

static parley_meeting *meeting(const char *pid, recorder *r)
{
    parley_meeting_config cfg = {.url = url, .token = tok, .meeting_id = room, .participant_id = pid, .name = pid,
                                 .reconnect_attempts = -1};
    parley_meeting *m = NULL;
    if (parley_meeting_new(client, &cfg, &m) == PARLEY_OK)
        parley_meeting_on(m, PARLEY_EVENT_ALL, on_event, r);
    return m;
}

TEST(setup)
{
    REQUIRE(url && room && tok);
    make_frames();
    REQUIRE(parley_client_new(NULL, &client) == PARLEY_OK);
    REQUIRE((mpub = meeting("pub", &rec_pub)) != NULL);
    REQUIRE((msub = meeting("sub", &rec_sub)) != NULL);
    CHECK(parley_meeting_on_frame(msub, on_frame, &rec_sub) == PARLEY_OK);
}

// provokes 3017 native
TEST(bad_video_track_config)
{
    parley_track *t = (parley_track *)1;
    parley_track_config c = {.kind = PARLEY_MEDIA_VIDEO, .codec = PARLEY_CODEC_OPUS};
    CHECK(parley_track_new(mpub, &c, &t) == PARLEY_ERR_NATIVE_ERROR_CREATING_VIDEO_TRACK);
    CHECK(t == NULL);
    c = (parley_track_config){.kind = PARLEY_MEDIA_VIDEO, .codec = PARLEY_CODEC_VP8, .width = 20000};
    CHECK(parley_track_new(mpub, &c, &t) == PARLEY_ERR_NATIVE_ERROR_CREATING_VIDEO_TRACK);
    c = (parley_track_config){.kind = PARLEY_MEDIA_VIDEO, .codec = PARLEY_CODEC_VP8, .clock_rate = 48000};
    CHECK(parley_track_new(mpub, &c, &t) == PARLEY_ERR_NATIVE_ERROR_CREATING_VIDEO_TRACK);
    CHECK(wait_event(&rec_pub, PARLEY_EVENT_ERROR, 3017, NULL, NULL, 3, 2000));
    pthread_mutex_lock(&mu);
    for (int i = 0; i < rec_pub.count; i++)
        if (rec_pub.ev[i].code == 3017)
            CHECKF(rec_pub.ev[i].hint[0], "3017 without a hint");
    pthread_mutex_unlock(&mu);
    c.kind = (parley_media_kind)7;
    CHECK(parley_track_new(mpub, &c, &t) == PARLEY_EINVAL);
}

// provokes 3018 native
TEST(bad_audio_track_config)
{
    parley_track *t = NULL;
    parley_track_config c = {.kind = PARLEY_MEDIA_AUDIO, .codec = PARLEY_CODEC_VP8};
    CHECK(parley_track_new(mpub, &c, &t) == PARLEY_ERR_NATIVE_ERROR_CREATING_AUDIO_TRACK);
    c = (parley_track_config){.kind = PARLEY_MEDIA_AUDIO, .codec = PARLEY_CODEC_OPUS, .channels = 6};
    CHECK(parley_track_new(mpub, &c, &t) == PARLEY_ERR_NATIVE_ERROR_CREATING_AUDIO_TRACK);
    CHECK(t == NULL);
    c = (parley_track_config){.kind = PARLEY_MEDIA_AUDIO, .codec = PARLEY_CODEC_OPUS, .screen = true};
    CHECK(parley_track_new(mpub, &c, &t) == PARLEY_ERR_NATIVE_ERROR_CREATING_AUDIO_TRACK);
    CHECK(wait_event(&rec_pub, PARLEY_EVENT_ERROR, 3018, NULL, NULL, 3, 2000));
}

// provokes 3022 native
TEST(publish_before_join)
{
    parley_track_config vc = {.kind = PARLEY_MEDIA_VIDEO, .codec = PARLEY_CODEC_VP8, .width = 640, .height = 480,
                              .fps = 50};
    parley_track_config ac = {.kind = PARLEY_MEDIA_AUDIO, .codec = PARLEY_CODEC_OPUS, .channels = 2};
    REQUIRE(parley_track_new(mpub, &vc, &vtrack) == PARLEY_OK);
    REQUIRE(parley_track_new(mpub, &ac, &atrack) == PARLEY_OK);
    CHECK(parley_track_write(vtrack, "x", 1, 0) == PARLEY_OK); /* not published: dropped */
    CHECK(parley_track_write_level(atrack, "x", 1, 0, 30, true) == PARLEY_OK);
    CHECK(parley_track_write_level(vtrack, "x", 1, 0, 30, true) == PARLEY_EINVAL); /* video has no level */
    CHECK(parley_track_write_level(atrack, "x", 1, 0, 128, true) == PARLEY_EINVAL);
    CHECK(parley_meeting_publish_tracks(mpub, atrack, vtrack) == PARLEY_ERR_NATIVE_ERROR_ACTION_PERFORMED_BEFORE_MEETING_JOINED);
    CHECK(parley_meeting_subscribe(msub, "pub") == PARLEY_ERR_NATIVE_ERROR_ACTION_PERFORMED_BEFORE_MEETING_JOINED);
    CHECK(wait_event(&rec_pub, PARLEY_EVENT_ERROR, 3022, NULL, NULL, 1, 2000));
    CHECK(wait_event(&rec_sub, PARLEY_EVENT_ERROR, 3022, NULL, NULL, 1, 2000));
    CHECK(parley_meeting_publish_tracks(mpub, NULL, NULL) == PARLEY_EINVAL);
    CHECK(parley_meeting_publish_tracks(mpub, vtrack, NULL) == PARLEY_EINVAL); /* a video track as audio */
}

TEST(publish_and_subscribe)
{
    REQUIRE(vtrack && atrack);
    REQUIRE(parley_meeting_join(mpub) == PARLEY_OK);
    REQUIRE(parley_meeting_join(msub) == PARLEY_OK);
    REQUIRE(wait_event(&rec_pub, PARLEY_EVENT_MEETING_JOINED, 0, NULL, NULL, 1, 5000));
    REQUIRE(wait_event(&rec_sub, PARLEY_EVENT_MEETING_JOINED, 0, NULL, NULL, 1, 5000));
    /* nothing published yet: the server refuses, the subscription fails */
    CHECK(parley_meeting_subscribe(msub, "pub") == PARLEY_OK);
    CHECK(wait_event(&rec_sub, PARLEY_EVENT_ERROR, 105, NULL, NULL, 1, 2000));
    CHECK(wait_event(&rec_sub, PARLEY_EVENT_MEDIA_STATE_CHANGED, 0, "FAILED", "pub", 1, 2000));
    CHECK(parley_meeting_publish_tracks(mpub, atrack, vtrack) == PARLEY_OK);
    CHECK(wait_event(&rec_pub, PARLEY_EVENT_MEDIA_STATE_CHANGED, 0, "CONNECTING", "", 1, 2000));
    CHECK(wait_event(&rec_pub, PARLEY_EVENT_MEDIA_STATE_CHANGED, 0, "CONNECTED", "", 1, 5000));
    CHECK(wait_event(&rec_sub, PARLEY_EVENT_STREAM_ENABLED, 0, NULL, "pub", 2, 5000));
    pthread_mutex_lock(&mu);
    CHECK(count_events(&rec_pub, PARLEY_EVENT_KEYFRAME_REQUESTED, 0, NULL, NULL) == 0);
    pthread_mutex_unlock(&mu);
    CHECK(parley_meeting_subscribe(msub, "pub") == PARLEY_OK);
    CHECK(wait_event(&rec_sub, PARLEY_EVENT_MEDIA_STATE_CHANGED, 0, "CONNECTING", "pub", 2, 2000));
    CHECK(wait_event(&rec_sub, PARLEY_EVENT_MEDIA_STATE_CHANGED, 0, "CONNECTED", "pub", 1, 5000));
    /* the new subscriber needs a keyframe: the server asks the publisher */
    CHECK(wait_event(&rec_pub, PARLEY_EVENT_KEYFRAME_REQUESTED, 0, NULL, NULL, 1, 3000));
    /* a second subscription to the same publisher is refused locally */
    CHECK(parley_meeting_subscribe(msub, "pub") == PARLEY_OK);
    CHECK(wait_event(&rec_sub, PARLEY_EVENT_ERROR, 303, NULL, NULL, 1, 2000));
    pthread_mutex_lock(&mu);
    CHECK(count_events(&rec_pub, PARLEY_EVENT_MEDIA_STATE_CHANGED, 0, "FAILED", NULL) == 0);
    CHECK(count_events(&rec_sub, PARLEY_EVENT_MEDIA_STATE_CHANGED, 0, "FAILED", NULL) == 1);
    pthread_mutex_unlock(&mu);
}

TEST(frames_arrive_intact)
{
    sleep_ms(200); /* the server's side of the subscription settles */
    for (int i = 0; i < N_SENT; i++) {
        CHECK(parley_track_write(vtrack, video_frame[i], video_len[i], 1000u + 1800u * (uint32_t)i) == PARLEY_OK);
        uint32_t ats = 5000u + 960u * (uint32_t)i;
        CHECK((i % 2 ? parley_track_write_level(atrack, audio_frame[i], audio_len[i], ats, (uint8_t)(i % 128), i % 4 == 1)
                     : parley_track_write(atrack, audio_frame[i], audio_len[i], ats)) == PARLEY_OK);
        sleep_ms(20);
    }
    CHECK(wait_frames(&rec_sub, 0, N_FRAMES, N_FRAMES, 5000));
    (void)wait_frames(&rec_sub, 0, N_SENT, N_SENT, 1000); /* the trailing ones settle (the last may be lost) */
    pthread_mutex_lock(&mu);
    int iv = 0, ia = 0;
    uint32_t vts0 = 0, ats0 = 0;
    for (int i = 0; i < rec_sub.frames; i++) {
        rframe *f = &rec_sub.fr[i];
        if (f->kind == PARLEY_MEDIA_VIDEO && iv < N_FRAMES) {
            if (iv == 0)
                vts0 = f->ts;
            CHECKF(f->len == video_len[iv] && !memcmp(f->data, video_frame[iv], f->len), "video frame %d: %zu bytes",
                   iv, f->len);
            CHECKF(f->ts - vts0 == 1800u * (uint32_t)iv, "video frame %d: ts %u", iv, f->ts - vts0);
            CHECK(f->key == (iv == 0));
            iv++;
        } else if (f->kind == PARLEY_MEDIA_AUDIO && ia < N_FRAMES) {
            if (ia == 0)
                ats0 = f->ts;
            CHECKF(f->len == audio_len[ia] && !memcmp(f->data, audio_frame[ia], f->len), "audio frame %d", ia);
            CHECK(f->ts - ats0 == 960u * (uint32_t)ia);
            ia++;
        }
    }
    CHECKF(iv == N_FRAMES && ia == N_FRAMES, "%d video, %d audio", iv, ia);
    pthread_mutex_unlock(&mu);
    sleep_ms(100);

    parley_track_stats st[4];
    char *ids[4] = {0};
    int n = parley_meeting_track_stats(msub, "pub", st, ids, 4);
    CHECKF(n == 2, "%d", n);
    for (int i = 0; i < n; i++) {
        CHECK(ids[i] && !strcmp(ids[i], "pub"));
        free(ids[i]);
        CHECK(!st[i].ended);
        bool v = st[i].kind == PARLEY_MEDIA_VIDEO;
        /* every checked frame, and the trailing ones that arrived, all in order */
        CHECKF(st[i].frames >= N_FRAMES && st[i].frames <= N_SENT, "%s frames %llu", v ? "video" : "audio",
               (unsigned long long)st[i].frames);
        size_t vbytes = 0, abytes = 0;
        for (uint64_t k = 0; k < st[i].frames && k < N_SENT; k++) {
            vbytes += video_len[k];
            abytes += audio_len[k];
        }
        CHECKF(st[i].lost == 0, "lost %llu", (unsigned long long)st[i].lost);
        CHECKF(st[i].bytes == (v ? vbytes : abytes), "bytes %llu", (unsigned long long)st[i].bytes);
        CHECK(st[i].packets >= st[i].frames);
    }
    CHECK(parley_meeting_track_stats(msub, "nobody", st, NULL, 4) == 0);
    CHECK(parley_meeting_track_stats(msub, NULL, st, NULL, 1) == 1);
}

// provokes 3001 native
// provokes 3002 native
TEST(freed_tracks_fall_back_to_default_sources)
{
    pthread_mutex_lock(&mu);
    int from = rec_sub.frames;
    pthread_mutex_unlock(&mu);
    parley_track_free(vtrack);
    parley_track_free(atrack);
    vtrack = atrack = NULL;
    CHECK(wait_event(&rec_pub, PARLEY_EVENT_ERROR, 3001, NULL, NULL, 1, 2000));
    CHECK(wait_event(&rec_pub, PARLEY_EVENT_ERROR, 3002, NULL, NULL, 1, 2000));
    /* black keyframes once a second, silence every 20 ms */
    CHECK(wait_frames(&rec_sub, from, 2, 50, 5000));
    static const uint8_t silence[] = {0xF8, 0xFF, 0xFE};
    pthread_mutex_lock(&mu);
    int black = 0, quiet = 0;
    for (int i = from; i < rec_sub.frames; i++) {
        rframe *f = &rec_sub.fr[i];
        if (f->kind == PARLEY_MEDIA_VIDEO) {
            CHECK(f->key && f->len > 10 && !(f->data[0] & 1));
            black += f->key;
        } else {
            quiet += f->len == sizeof silence && !memcmp(f->data, silence, sizeof silence);
        }
    }
    CHECKF(black >= 2 && quiet >= 50, "%d black, %d silent", black, quiet);
    CHECK(count_events(&rec_sub, PARLEY_EVENT_MEDIA_STATE_CHANGED, 0, "DISCONNECTED", NULL) == 0);
    pthread_mutex_unlock(&mu);
}

/* The subscription's entries: ended, and the frames of the event's `tracks`. */
static void check_final_counters(void)
{
    parley_track_stats st[4];
    char *ids[4] = {0};
    int n = parley_meeting_track_stats(msub, NULL, st, ids, 4);
    CHECKF(n == 2, "%d entries", n); /* the refused subscription had no tracks */
    pthread_mutex_lock(&mu);
    seen *end = NULL;
    for (int i = 0; i < rec_sub.count; i++)
        if (rec_sub.ev[i].type == PARLEY_EVENT_MEDIA_STATE_CHANGED && !strcmp(rec_sub.ev[i].state, "DISCONNECTED"))
            end = &rec_sub.ev[i];
    CHECK(end != NULL);
    for (int i = 0; i < n; i++) {
        bool v = st[i].kind == PARLEY_MEDIA_VIDEO;
        CHECK(ids[i] && !strcmp(ids[i], "pub") && st[i].ended);
        /* (through the lossy relay a sparse black frame may lose a packet for good) */
        CHECKF(st[i].frames >= N_FRAMES, "%s: %llu frames", v ? "video" : "audio", (unsigned long long)st[i].frames);
        CHECKF(end && end->frames[v] == (long long)st[i].frames, "%s: %lld in the event, %llu", v ? "video" : "audio",
               end ? end->frames[v] : -1, (unsigned long long)st[i].frames);
        free(ids[i]);
    }
    pthread_mutex_unlock(&mu);
}

TEST(unsubscribe_unpublish_leave)
{
    CHECK(parley_meeting_unsubscribe(msub, "pub") == PARLEY_OK);
    CHECK(wait_event(&rec_sub, PARLEY_EVENT_MEDIA_STATE_CHANGED, 0, "DISCONNECTED", "pub", 1, 2000));
    check_final_counters();
    CHECK(parley_meeting_unpublish_tracks(mpub) == PARLEY_OK);
    CHECK(wait_event(&rec_pub, PARLEY_EVENT_MEDIA_STATE_CHANGED, 0, "DISCONNECTED", "", 1, 2000));
    CHECK(wait_event(&rec_sub, PARLEY_EVENT_STREAM_DISABLED, 0, NULL, "pub", 1, 3000));
    CHECK(parley_meeting_publish_tracks(mpub, NULL, NULL) == PARLEY_EINVAL);
    CHECK(parley_meeting_leave(mpub) == PARLEY_OK);
    CHECK(parley_meeting_leave(msub) == PARLEY_OK);
    CHECK(wait_event(&rec_pub, PARLEY_EVENT_MEETING_LEFT, 0, NULL, NULL, 1, 5000));
    CHECK(wait_event(&rec_sub, PARLEY_EVENT_MEETING_LEFT, 0, NULL, NULL, 1, 5000));
    check_final_counters(); /* still there after leaving */
}

TEST(teardown_with_live_media)
{
    /* a fresh publication and subscription, then the client is destroyed
     * with both live: everything media is freed (the sanitizer checks) */
    REQUIRE(parley_meeting_join(mpub) == PARLEY_OK);
    REQUIRE(parley_meeting_join(msub) == PARLEY_OK);
    REQUIRE(wait_event(&rec_pub, PARLEY_EVENT_MEETING_JOINED, 0, NULL, NULL, 2, 5000));
    REQUIRE(wait_event(&rec_sub, PARLEY_EVENT_MEETING_JOINED, 0, NULL, NULL, 2, 5000));
    parley_track_stats st[4];
    CHECK(parley_meeting_track_stats(msub, NULL, st, NULL, 4) == 0); /* a new join starts afresh */
    parley_track_config ac = {.kind = PARLEY_MEDIA_AUDIO, .codec = PARLEY_CODEC_OPUS};
    parley_track *t = NULL;
    REQUIRE(parley_track_new(mpub, &ac, &t) == PARLEY_OK);
    CHECK(parley_meeting_publish_tracks(mpub, t, NULL) == PARLEY_OK);
    CHECK(wait_event(&rec_pub, PARLEY_EVENT_MEDIA_STATE_CHANGED, 0, "CONNECTED", "", 2, 5000));
    CHECK(wait_event(&rec_sub, PARLEY_EVENT_STREAM_ENABLED, 0, NULL, "pub", 3, 5000));
    CHECK(parley_meeting_subscribe(msub, "pub") == PARLEY_OK);
    CHECK(wait_event(&rec_sub, PARLEY_EVENT_MEDIA_STATE_CHANGED, 0, "CONNECTED", "pub", 2, 5000));
    for (int i = 0; i < 10; i++) {
        CHECK(parley_track_write(t, audio_frame[i], audio_len[i], 960u * (uint32_t)i) == PARLEY_OK);
        sleep_ms(20);
    }
    parley_meeting_free(msub); /* a meeting freed with a live subscription */
    CHECK(parley_client_destroy(client) == PARLEY_OK); /* t is freed with the client */
    client = NULL;
}

// provokes 3011 native
// provokes 3012 native
TEST(publications_fail_when_the_media_port_is_unreachable)
{
    /* the server advertises an address where nothing answers: no ICE
     * answer, and after the connect timeout each publication fails */
    REQUIRE(parley_meeting_join(mpub) == PARLEY_OK);
    REQUIRE(parley_meeting_join(msub) == PARLEY_OK);
    REQUIRE(wait_event(&rec_pub, PARLEY_EVENT_MEETING_JOINED, 0, NULL, NULL, 1, 5000));
    REQUIRE(wait_event(&rec_sub, PARLEY_EVENT_MEETING_JOINED, 0, NULL, NULL, 1, 5000));
    parley_track_config ac = {.kind = PARLEY_MEDIA_AUDIO, .codec = PARLEY_CODEC_OPUS};
    parley_track_config vc = {.kind = PARLEY_MEDIA_VIDEO, .codec = PARLEY_CODEC_VP8};
    parley_track *a = NULL, *v = NULL;
    REQUIRE(parley_track_new(mpub, &ac, &a) == PARLEY_OK);
    REQUIRE(parley_track_new(msub, &vc, &v) == PARLEY_OK);
    CHECK(parley_meeting_publish_tracks(mpub, a, NULL) == PARLEY_OK);
    CHECK(parley_meeting_publish_tracks(msub, NULL, v) == PARLEY_OK);
    CHECK(wait_event(&rec_pub, PARLEY_EVENT_MEDIA_STATE_CHANGED, 0, "CONNECTING", "", 1, 2000));
    CHECK(wait_event(&rec_pub, PARLEY_EVENT_ERROR, 3012, NULL, NULL, 1, 15000));
    CHECK(wait_event(&rec_pub, PARLEY_EVENT_MEDIA_STATE_CHANGED, 0, "FAILED", "", 1, 2000));
    CHECK(wait_event(&rec_sub, PARLEY_EVENT_ERROR, 3011, NULL, NULL, 1, 5000));
    CHECK(wait_event(&rec_sub, PARLEY_EVENT_MEDIA_STATE_CHANGED, 0, "FAILED", "", 1, 2000));
    pthread_mutex_lock(&mu);
    for (int i = 0; i < rec_pub.count; i++)
        if (rec_pub.ev[i].code == 3012)
            CHECKF(strstr(rec_pub.ev[i].hint, "ICE"), "hint: %s", rec_pub.ev[i].hint);
    CHECK(count_events(&rec_pub, PARLEY_EVENT_MEDIA_STATE_CHANGED, 0, "CONNECTED", NULL) == 0);
    pthread_mutex_unlock(&mu);
    /* the server was told: it no longer counts the publication */
    CHECK(wait_event(&rec_sub, PARLEY_EVENT_STREAM_DISABLED, 0, NULL, "pub", 1, 3000));
    parley_track_free(a);
    parley_track_free(v);
    CHECK(parley_client_destroy(client) == PARLEY_OK);
    client = NULL;
}

int main(void)
{
    url = getenv("PARLEY_URL");
    room = getenv("PARLEY_ROOM");
    tok = getenv("PARLEY_TOKEN");
    if (getenv("PARLEY_MEDIA_UNREACHABLE")) {
        RUN(setup);
        RUN(publications_fail_when_the_media_port_is_unreachable);
        if (client)
            parley_client_destroy(client);
        for (int i = 0; i < N_SENT; i++) {
            free(video_frame[i]);
            free(audio_frame[i]);
        }
        return tap_done();
    }
    RUN(setup);
    RUN(bad_video_track_config);
    RUN(bad_audio_track_config);
    RUN(publish_before_join);
    RUN(publish_and_subscribe);
    RUN(frames_arrive_intact);
    RUN(freed_tracks_fall_back_to_default_sources);
    RUN(unsubscribe_unpublish_leave);
    RUN(teardown_with_live_media);
    if (client)
        parley_client_destroy(client);
    for (int i = 0; i < N_SENT; i++) {
        free(video_frame[i]);
        free(audio_frame[i]);
    }
    for (int i = 0; i < rec_sub.frames; i++)
        free(rec_sub.fr[i].data);
    return tap_done();
}
