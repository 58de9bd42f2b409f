/* bot_publish.c - `parley bot publish`: media files sent as custom tracks.
 *
 * Both files are read through once before joining, so a malformed one is
 * refused before anything happens. Once joined, one custom track per file is
 * created and published on one connection; when it is CONNECTED the main
 * thread sends the frames in real time: each video frame at its IVF pts
 * (converted to the 90 kHz RTP clock), each Opus packet after the durations
 * of those before it (48 kHz). At the end of a file it starts again, its
 * timestamps carrying on from the end of the previous pass (the file's
 * duration added per pass), so the RTP timestamps only grow.
 *
 * With --audio-level every audio packet carries that fixed level (RFC 6464;
 * Opus is not decoded here), which drives the server's active-speaker
 * election. A keyframe request from the server (keyframe-requested, printed
 * with --json) cannot be honoured by a file: the frames keep its order, and a
 * new subscriber starts at the file's next keyframe. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bot.h"
#include "cli.h"
#include "ivf.h"
#include "ogg_opus.h"

static const char usage_text[] =
    "usage: parley bot publish --url URL --token T --meeting M [--video FILE.ivf] [--audio FILE.ogg]\n"
    "                          [--screen] [--audio-level DBOV] [--seconds S] [--participant-id ID]\n"
    "                          [--name N] [--origin O] [--insecure] [--ca-file F] [--json]\n"
    "\n"
    "Joins the meeting (CONFERENCE), publishes the files as custom tracks and sends\n"
    "their frames in real time, looping, until S seconds have passed since start\n"
    "(default: until SIGINT/SIGTERM or the meeting is left), then leaves.\n"
    "  --video FILE.ivf   VP8 in IVF (e.g. ffmpeg ... -c:v libvpx -f ivf FILE.ivf)\n"
    "  --audio FILE.ogg   Opus in Ogg (e.g. ffmpeg ... -c:a libopus FILE.ogg)\n"
    "  --screen           publish the video as a screen share (source \"screen\", which\n"
    "                     the token's publish grant must allow) instead of a camera\n"
    "  --audio-level DBOV send this audio level with every audio packet (RFC 6464, -dBov:\n"
    "                     0 loudest, 127 silence; voice below 127) for the server's\n"
    "                     active-speaker election; without it no level is sent\n"
    "A file that cannot be read, or is not such a file, is refused before joining.\n"
    "The server's keyframe requests (keyframe-requested with --json) are not honoured:\n"
    "a file cannot be re-encoded, its frames keep their order.\n"
    "\n"
    "Output: errors on stderr and, at the end, what was sent. With --json every\n"
    "meeting event as one JSON object per line (as 'parley join --json'), then\n"
    "{\"event\":\"summary\",\"sent\":[{\"kind\":\"video\",\"frames\":N,\"bytes\":N,\"loops\":N},...]}.\n"
    "\n"
    "Exit status: 0 after leaving as asked (time up, a signal); 1 after a fatal\n"
    "error, a meeting-left it did not ask for, or a failed media connection;\n"
    "2 for bad usage or a file refused.\n";

enum { CONNECT_TIMEOUT_S = 20, ANSWER_TIMEOUT_S = 5 };

/* One file being sent. Times are in the track's RTP clock units. */
typedef struct source {
    parley_media_kind kind;
    const char *path;
    unsigned clock;
    ivf_reader ivf;
    oggopus_reader opus;
    bool open;
    parley_track *track;
    uint64_t file_duration; /* one pass */
    uint64_t pass_start;    /* when the current pass started */
    uint64_t first_pts;     /* video: the file's first pts */
    uint64_t elapsed;       /* audio: samples of this pass before the pending packet */
    /* the pending frame: read, not yet sent */
    const uint8_t *data;
    size_t len;
    uint64_t at;            /* its time since the first frame of the first pass */
    unsigned samples;       /* audio: its duration */
    uint32_t ts_base;       /* the first RTP timestamp */
    uint64_t frames, bytes, loops;
} source;

static uint64_t video_units(const source *s, uint64_t pts)
{
    unsigned __int128 t = (unsigned __int128)(pts - s->first_pts) * s->ivf.scale * s->clock;
    return (uint64_t)(t / s->ivf.rate);
}

/* Open and check the file (before joining). */
static int source_open(source *s, bot *b)
{
    uint64_t count = 0;
    if (s->kind == PARLEY_MEDIA_VIDEO) {
        s->clock = 90000;
        s->open = true;
        if (ivf_open(&s->ivf, s->path) || ivf_check(&s->ivf, &count, &s->file_duration)) {
            bot_report(b, "%s", s->ivf.error);
            return -1;
        }
        s->file_duration = video_units(s, s->file_duration); /* first_pts is still 0 here */
        ivf_frame f;
        if (ivf_read(&s->ivf, &f) != 1 || ivf_rewind(&s->ivf)) {
            bot_report(b, "%s", s->ivf.error);
            return -1;
        }
        s->first_pts = f.pts;
    } else {
        s->clock = 48000;
        s->open = true;
        if (oggopus_open(&s->opus, s->path) || oggopus_check(&s->opus, &count, &s->file_duration)) {
            bot_report(b, "%s", s->opus.error);
            return -1;
        }
    }
    if (s->file_duration == 0) {
        bot_report(b, "%s: the file lasts no time", s->path);
        return -1;
    }
    uint32_t r = (uint32_t)random();
    s->ts_base = r;
    return 0;
}

static void source_close(source *s)
{
    if (!s->open)
        return;
    if (s->kind == PARLEY_MEDIA_VIDEO)
        ivf_close(&s->ivf);
    else
        oggopus_close(&s->opus);
    s->open = false;
}

/* Read the next frame into the pending slot, starting a new pass at the end
 * of the file. -1 on a read error (the file changed under us). */
static int source_next(source *s, bot *b)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int rc;
        if (s->kind == PARLEY_MEDIA_VIDEO) {
            ivf_frame f;
            rc = ivf_read(&s->ivf, &f);
            if (rc == 1) {
                s->data = f.data;
                s->len = f.len;
                s->at = s->pass_start + video_units(s, f.pts < s->first_pts ? s->first_pts : f.pts);
                return 0;
            }
            if (rc == 0)
                rc = ivf_rewind(&s->ivf);
            if (rc < 0) {
                bot_report(b, "%s", s->ivf.error);
                return -1;
            }
        } else {
            if (s->data) /* the packet just sent */
                s->elapsed += s->samples;
            oggopus_packet p;
            rc = oggopus_read(&s->opus, &p);
            if (rc == 1) {
                s->data = p.data;
                s->len = p.len;
                s->samples = p.samples;
                s->at = s->pass_start + s->elapsed;
                return 0;
            }
            if (rc == 0)
                rc = oggopus_rewind(&s->opus);
            if (rc < 0) {
                bot_report(b, "%s", s->opus.error);
                return -1;
            }
            s->data = NULL;
            s->elapsed = 0;
        }
        s->pass_start += s->file_duration;
        s->loops++;
    }
    bot_report(b, "%s: no frames on a new pass", s->path);
    return -1;
}

static int create_track(source *s, bot *b)
{
    parley_track_config cfg = {.kind = s->kind};
    if (s->kind == PARLEY_MEDIA_VIDEO) {
        cfg.codec = PARLEY_CODEC_VP8;
        if (s->ivf.width <= 16384 && s->ivf.height <= 16384) {
            cfg.width = s->ivf.width;
            cfg.height = s->ivf.height;
        }
        if (s->ivf.rate % s->ivf.scale == 0 && s->ivf.rate / s->ivf.scale <= 240)
            cfg.fps = s->ivf.rate / s->ivf.scale;
        cfg.screen = b->o.screen;
    } else {
        cfg.codec = PARLEY_CODEC_OPUS;
        cfg.channels = s->opus.channels;
    }
    int rc = parley_track_new(b->m, &cfg, &s->track);
    if (rc != PARLEY_OK) {
        bot_report(b, "creating the %s track: %s", s->kind == PARLEY_MEDIA_VIDEO ? "video" : "audio",
                   parley_strerror(rc));
        return -1;
    }
    return 0;
}

static bool is_published(bot *b) { return b->published || b->media_failed; }

/* Send the files in real time until the run is over (mu held). */
static void send_loop(bot *b, source *src, int n)
{
    struct timespec start = bot_now();
    for (int i = 0; i < n; i++)
        if (source_next(&src[i], b))
            return;
    while (!bot_over(b) && !b->media_failed) {
        source *s = &src[0];
        double due = (double)s->at / s->clock;
        for (int i = 1; i < n; i++)
            if ((double)src[i].at / src[i].clock < due) {
                s = &src[i];
                due = (double)s->at / s->clock;
            }
        struct timespec when = cli_after(start, due);
        bot_wait(b, NULL, &when); /* returns early only when the run is over */
        if (bot_over(b) || b->media_failed)
            break;
        pthread_mutex_unlock(&b->mu);
        uint32_t ts = (uint32_t)(s->ts_base + s->at);
        int level = b->o.audio_level;
        int rc = s->kind == PARLEY_MEDIA_AUDIO && level >= 0
                     ? parley_track_write_level(s->track, s->data, s->len, ts, (uint8_t)level, level < 127)
                     : parley_track_write(s->track, s->data, s->len, ts);
        pthread_mutex_lock(&b->mu);
        if (rc != PARLEY_OK) {
            bot_report(b, "writing a %s frame: %s", s->kind == PARLEY_MEDIA_VIDEO ? "video" : "audio",
                       parley_strerror(rc));
            b->media_failed = true;
            break;
        }
        s->frames++;
        s->bytes += s->len;
        if (source_next(s, b)) {
            b->media_failed = true;
            break;
        }
    }
}

static void print_summary(bot *b, source *src, int n)
{
    if (b->o.json) {
        json_t *sent = json_array();
        for (int i = 0; i < n; i++)
            json_array_append_new(sent, json_pack("{s:s, s:I, s:I, s:I}", "kind",
                                                  src[i].kind == PARLEY_MEDIA_VIDEO ? "video" : "audio", "frames",
                                                  (json_int_t)src[i].frames, "bytes", (json_int_t)src[i].bytes,
                                                  "loops", (json_int_t)src[i].loops));
        bot_print_json(json_pack("{s:s, s:o}", "event", "summary", "sent", sent));
        return;
    }
    for (int i = 0; i < n; i++)
        printf("sent %s: %llu frames, %llu bytes, %llu loops\n", src[i].kind == PARLEY_MEDIA_VIDEO ? "video" : "audio",
               (unsigned long long)src[i].frames, (unsigned long long)src[i].bytes,
               (unsigned long long)src[i].loops);
}

/* Create the tracks, publish them, send until the run is over, and stop
 * publishing. False when something failed. mu held on entry and return. */
static bool publish_and_send(bot *b, source *src, int n)
{
    pthread_mutex_unlock(&b->mu);
    parley_track *audio = NULL, *video = NULL;
    bool ok = true;
    for (int i = 0; i < n && ok; i++) {
        ok = create_track(&src[i], b) == 0;
        *(src[i].kind == PARLEY_MEDIA_VIDEO ? &video : &audio) = src[i].track;
    }
    int rc = ok ? parley_meeting_publish_tracks(b->m, audio, video) : PARLEY_OK;
    pthread_mutex_lock(&b->mu);
    if (!ok)
        return false;
    if (rc != PARLEY_OK) {
        bot_report(b, "publishing: %s", parley_strerror(rc));
        return false;
    }
    struct timespec d = cli_after(bot_now(), CONNECT_TIMEOUT_S);
    if (!bot_wait(b, is_published, &d) && !bot_over(b)) {
        bot_report(b, "the media connection did not connect within %d s", CONNECT_TIMEOUT_S);
        ok = false;
    }
    if (ok && b->published)
        send_loop(b, src, n);
    if (!b->left) { /* stop publishing before the tracks go */
        bot_expect(b, "unpublish");
        pthread_mutex_unlock(&b->mu);
        rc = parley_meeting_unpublish_tracks(b->m);
        pthread_mutex_lock(&b->mu);
        b->signalled = false; /* the run is over: wait for the answer */
        b->o.has_seconds = false;
        bot_answered(b, rc, ANSWER_TIMEOUT_S);
    }
    return ok;
}

int bot_publish(int argc, char **argv)
{
    static bot b; /* zeroed; the signal thread reaches it */
    int rc = bot_parse(argc, argv, true, usage_text, &b.o);
    if (rc)
        return rc;
    srandom((unsigned)getpid() ^ (unsigned)bot_now().tv_nsec);
    source src[2];
    memset(src, 0, sizeof(src));
    int n = 0;
    if (b.o.video)
        src[n++] = (source){.kind = PARLEY_MEDIA_VIDEO, .path = b.o.video};
    if (b.o.audio)
        src[n++] = (source){.kind = PARLEY_MEDIA_AUDIO, .path = b.o.audio};
    for (int i = 0; i < n; i++)
        if (source_open(&src[i], &b)) {
            for (int k = 0; k <= i; k++)
                source_close(&src[k]);
            return CLI_USAGE;
        }

    bool ok = bot_start(&b, NULL) == CLI_OK;
    pthread_mutex_lock(&b.mu);
    if (ok)
        ok = publish_and_send(&b, src, n);
    rc = bot_leave(&b); /* releases mu */
    if (!ok)
        rc = CLI_FAILED;
    for (int i = 0; i < n; i++)
        if (src[i].track)
            parley_track_free(src[i].track);
    bot_stop(&b);
    print_summary(&b, src, n);
    for (int i = 0; i < n; i++)
        source_close(&src[i]);
    return rc;
}
