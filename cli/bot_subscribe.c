/* bot_subscribe.c - `parley bot subscribe`: receive every publisher's media.
 *
 * Each stream-enabled event (those sent right after joining for the streams
 * already published included) subscribes to its participant once; a
 * stream-disabled or participant-left forgets it, so a publisher that
 * publishes again is subscribed again. Once the meeting is left, the main
 * thread reads parley_meeting_track_stats: every subscription of the join
 * has ended by then and left its final counters there, one entry per track
 * and subscription, summed per publisher and kind (a publisher that left
 * early, or published twice, is counted to its last frame). With --save, frames are written on
 * the loop thread as they arrive: video from its first keyframe to
 * DIR/<participantId>-video.ivf (timebase 1/90000, pts from the RTP
 * timestamps), audio to DIR/<participantId>-audio.opus (Ogg Opus, two
 * channels, granule positions from the packets' durations). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bot.h"
#include "cli.h"
#include "ivf.h"
#include "ogg_opus.h"

static const char usage_text[] =
    "usage: parley bot subscribe --url URL --token T --meeting M [--seconds S] [--save DIR]\n"
    "                            [--participant-id ID] [--name N] [--origin O] [--insecure]\n"
    "                            [--ca-file F] [--json]\n"
    "\n"
    "Joins the meeting (CONFERENCE), subscribes to every participant that publishes,\n"
    "and counts what arrives until S seconds have passed since start (default: until\n"
    "SIGINT/SIGTERM or the meeting is left); then leaves and prints one line:\n"
    "{\"event\":\"summary\",\"tracks\":[{\"participantId\":\"...\",\"kind\":\"video\",\"packets\":N,\n"
    "  \"lost\":N,\"frames\":N,\"bytes\":N},...]}\n"
    "With --json every meeting event comes first, one JSON object per line.\n"
    "--save DIR (created if missing) writes each received video track, from its first\n"
    "keyframe, to DIR/<participantId>-video.ivf (VP8, timebase 1/90000) and each audio\n"
    "track to DIR/<participantId>-audio.opus (Ogg Opus); characters of the id other\n"
    "than letters, digits, '-', '_' and '.' become '_'. Each track of the summary then\n"
    "has \"saved\": the frames written.\n"
    "\n"
    "Exit status: 0 after leaving as asked (time up, a signal); 1 after a fatal\n"
    "error, a meeting-left it did not ask for, a failed media connection or a\n"
    "failed write; 2 for bad usage.\n";

enum { MAX_TRACKS = 64 };

/* A received track saved to a file (loop thread; read after bot_stop). */
typedef struct saved {
    char *pid;
    parley_media_kind kind;
    ivf_writer ivf;
    oggopus_writer ogg;
    bool open, failed;
    uint64_t frames;
    uint32_t last_ts;
    uint32_t step; /* video: the last frame interval */
    uint64_t pts;
} saved;

/* A publisher's track: its subscriptions' counters summed (main thread). */
typedef struct tally {
    char *pid;
    parley_media_kind kind;
    parley_track_stats sum;
} tally;

typedef struct sub {
    char **subscribed; /* loop thread: whom we subscribed to */
    int nsub;
    saved *saves; /* loop thread */
    int nsaves;
    bool save_failed;
    tally *tallies; /* main thread */
    int ntallies;
} sub;

static const char *kind_name(parley_media_kind k) { return k == PARLEY_MEDIA_VIDEO ? "video" : "audio"; }

/* ---- subscriptions (loop thread) ---- */

static int find_subscribed(sub *s, const char *pid)
{
    for (int i = 0; i < s->nsub; i++)
        if (!strcmp(s->subscribed[i], pid))
            return i;
    return -1;
}

static void forget(sub *s, const char *pid)
{
    int i = find_subscribed(s, pid);
    if (i < 0)
        return;
    free(s->subscribed[i]);
    s->subscribed[i] = s->subscribed[--s->nsub];
}

static void on_event(bot *b, const parley_event *e)
{
    sub *s = b->data;
    parley_event_type t = parley_event_get_type(e);
    const char *pid = parley_event_participant(e);
    if (!pid)
        return;
    if (t == PARLEY_EVENT_STREAM_DISABLED || t == PARLEY_EVENT_PARTICIPANT_LEFT) {
        forget(s, pid);
        return;
    }
    if (t != PARLEY_EVENT_STREAM_ENABLED || find_subscribed(s, pid) >= 0)
        return;
    char **grown = realloc(s->subscribed, sizeof(*grown) * (size_t)(s->nsub + 1));
    char *copy = strdup(pid);
    if (!grown || !copy) {
        free(copy);
        if (grown)
            s->subscribed = grown;
        bot_report(b, "out of memory");
        return;
    }
    s->subscribed = grown;
    s->subscribed[s->nsub++] = copy;
    int rc = parley_meeting_subscribe(b->m, pid);
    if (rc < 0)
        bot_report(b, "subscribing to %s: %s", pid, parley_strerror(rc));
}

/* ---- saving (loop thread) ---- */

static char *file_name(const char *dir, const char *pid, parley_media_kind kind)
{
    size_t n = strlen(dir) + strlen(pid) + 16;
    char *p = malloc(n);
    if (!p)
        return NULL;
    int at = snprintf(p, n, "%s/", dir);
    for (const char *c = pid; *c; c++)
        p[at++] = (char)((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
                                 *c == '-' || *c == '_' || (*c == '.' && c != pid)
                             ? *c
                             : '_');
    snprintf(p + at, n - (size_t)at, "-%s", kind == PARLEY_MEDIA_VIDEO ? "video.ivf" : "audio.opus");
    return p;
}

static saved *saved_for(sub *s, const char *pid, parley_media_kind kind)
{
    for (int i = 0; i < s->nsaves; i++)
        if (s->saves[i].kind == kind && !strcmp(s->saves[i].pid, pid))
            return &s->saves[i];
    saved *grown = realloc(s->saves, sizeof(*grown) * (size_t)(s->nsaves + 1));
    if (!grown)
        return NULL;
    s->saves = grown;
    saved *v = &s->saves[s->nsaves];
    memset(v, 0, sizeof(*v));
    v->pid = strdup(pid);
    v->kind = kind;
    if (!v->pid)
        return NULL;
    s->nsaves++;
    return v;
}

static void save_failed(bot *b, saved *v, const char *error)
{
    bot_report(b, "saving %s's %s: %s", v->pid, kind_name(v->kind), error);
    v->failed = true;
    ((sub *)b->data)->save_failed = true;
}

static void on_frame(parley_meeting *m, const parley_frame *f, void *ud)
{
    (void)m;
    bot *b = ud;
    sub *s = b->data;
    if (!f->participant_id || !f->data || !f->len)
        return;
    saved *v = saved_for(s, f->participant_id, f->kind);
    if (!v || v->failed)
        return;
    if (!v->open) {
        char *path = file_name(b->o.save_dir, f->participant_id, f->kind);
        int rc = -1;
        unsigned w = 0, h = 0;
        if (f->kind == PARLEY_MEDIA_VIDEO) {
            if (!f->keyframe || !vp8_keyframe_size(f->data, f->len, &w, &h)) {
                free(path);
                return; /* from the first keyframe on */
            }
            rc = path ? ivf_writer_open(&v->ivf, path, w, h, 90000, 1) : -1;
        } else {
            rc = path ? oggopus_writer_open(&v->ogg, path, 2) : -1;
        }
        free(path);
        v->open = true;
        if (rc) {
            save_failed(b, v, f->kind == PARLEY_MEDIA_VIDEO ? v->ivf.error : v->ogg.error);
            return;
        }
        v->last_ts = f->timestamp;
    }
    int rc;
    if (f->kind == PARLEY_MEDIA_VIDEO) {
        /* A jump back or of more than 10 s is a new subscription (the
         * publisher published again): one frame interval in the file. */
        int32_t delta = (int32_t)(f->timestamp - v->last_ts);
        if (delta > 0 && delta <= 10 * 90000)
            v->step = (uint32_t)delta;
        else if (delta != 0)
            delta = (int32_t)(v->step ? v->step : 3000);
        v->pts += (uint64_t)delta;
        v->last_ts = f->timestamp;
        rc = ivf_write(&v->ivf, f->data, f->len, v->pts);
    } else {
        rc = oggopus_write(&v->ogg, f->data, f->len);
    }
    if (rc)
        save_failed(b, v, f->kind == PARLEY_MEDIA_VIDEO ? v->ivf.error : v->ogg.error);
    else
        v->frames++;
}

static void close_saves(bot *b, sub *s)
{
    for (int i = 0; i < s->nsaves; i++) {
        saved *v = &s->saves[i];
        if (v->open) {
            bool video = v->kind == PARLEY_MEDIA_VIDEO;
            if ((video ? ivf_writer_close(&v->ivf) : oggopus_writer_close(&v->ogg)) && !v->failed)
                save_failed(b, v, video ? v->ivf.error : v->ogg.error);
        }
    }
}

/* ---- counting (main thread) ---- */

static void add_stats(parley_track_stats *to, const parley_track_stats *x)
{
    to->packets += x->packets;
    to->lost += x->lost;
    to->frames += x->frames;
    to->bytes += x->bytes;
}

/* Read every subscription's counters (after leaving: their final ones) and
 * sum them per publisher and kind. */
static void count(bot *b, sub *s)
{
    int max = MAX_TRACKS, n;
    parley_track_stats *st;
    char **ids;
    for (;;) {
        st = calloc((size_t)max, sizeof(*st));
        ids = calloc((size_t)max, sizeof(*ids));
        if (!st || !ids) {
            free(st);
            free(ids);
            bot_report(b, "out of memory");
            return;
        }
        n = b->m ? parley_meeting_track_stats(b->m, NULL, st, ids, max) : 0;
        if (n < max)
            break;
        for (int i = 0; i < n; i++) /* perhaps more: again, with room for them */
            free(ids[i]);
        free(st);
        free(ids);
        max *= 2;
    }
    for (int i = 0; i < n; i++) {
        if (!ids[i])
            continue;
        tally *t = NULL;
        for (int k = 0; k < s->ntallies && !t; k++)
            if (s->tallies[k].kind == st[i].kind && !strcmp(s->tallies[k].pid, ids[i]))
                t = &s->tallies[k];
        if (!t) {
            tally *grown = realloc(s->tallies, sizeof(*grown) * (size_t)(s->ntallies + 1));
            if (!grown) {
                free(ids[i]);
                continue;
            }
            s->tallies = grown;
            t = &s->tallies[s->ntallies++];
            memset(t, 0, sizeof(*t));
            t->pid = ids[i];
            t->kind = st[i].kind;
            ids[i] = NULL;
        }
        add_stats(&t->sum, &st[i]);
        free(ids[i]);
    }
    free(st);
    free(ids);
}

static void print_summary(bot *b, sub *s)
{
    json_t *tracks = json_array();
    for (int i = 0; i < s->ntallies; i++) {
        tally *t = &s->tallies[i];
        parley_track_stats sum = t->sum;
        json_t *o = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I}", "participantId", t->pid, "kind", kind_name(t->kind),
                              "packets", (json_int_t)sum.packets, "lost", (json_int_t)sum.lost, "frames",
                              (json_int_t)sum.frames, "bytes", (json_int_t)sum.bytes);
        if (b->o.save_dir) {
            uint64_t written = 0;
            for (int k = 0; k < s->nsaves; k++)
                if (s->saves[k].kind == t->kind && !strcmp(s->saves[k].pid, t->pid))
                    written = s->saves[k].frames;
            json_object_set_new(o, "saved", json_integer((json_int_t)written));
        }
        json_array_append_new(tracks, o);
    }
    bot_print_json(json_pack("{s:s, s:o}", "event", "summary", "tracks", tracks));
}

static int make_dir(const char *dir)
{
    struct stat st;
    if (mkdir(dir, 0777) && errno != EEXIST)
        return -1;
    if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

int bot_subscribe(int argc, char **argv)
{
    static bot b; /* zeroed; the signal thread reaches it */
    static sub s;
    int rc = bot_parse(argc, argv, false, usage_text, &b.o);
    if (rc)
        return rc;
    if (b.o.save_dir && make_dir(b.o.save_dir)) {
        fprintf(stderr, "parley: --save %s: %s\n", b.o.save_dir, strerror(errno));
        return CLI_USAGE;
    }
    b.data = &s;
    b.hook = on_event;
    rc = bot_start(&b, b.o.save_dir ? on_frame : NULL);
    pthread_mutex_lock(&b.mu);
    if (rc == CLI_OK)
        while (!bot_over(&b))
            bot_wait(&b, NULL, NULL);
    rc = bot_leave(&b); /* releases mu */
    count(&b, &s);     /* left: every subscription's final counters */
    bot_stop(&b);
    close_saves(&b, &s);
    print_summary(&b, &s);
    if (s.save_failed)
        rc = CLI_FAILED;
    for (int i = 0; i < s.nsub; i++)
        free(s.subscribed[i]);
    free(s.subscribed);
    for (int i = 0; i < s.nsaves; i++)
        free(s.saves[i].pid);
    free(s.saves);
    for (int i = 0; i < s.ntallies; i++)
        free(s.tallies[i].pid);
    free(s.tallies);
    return rc;
}
