/* track.c - custom tracks: the public track API, callable from any thread.
 *
 * A track is created against a meeting and listed in its client (under
 * client->mu) until the loop frees it. parley_track_write copies the frame
 * and posts it on the client's command queue, so frames reach the loop in the
 * order they were written and always before the track's own free command;
 * the loop hands them to the publication (media.c) or drops them; an audio
 * frame may carry its level (parley_track_write_level) to the packet's
 * audio level header extension. The track's
 * memory is released on the loop thread when its free command runs, so no
 * queued frame ever points at freed memory. Freeing a published track makes
 * the publication fall back to its default source (media.c), after the error
 * 3001 (video) or 3002 (audio). */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_FRAME (1u << 20) /* the largest frame accepted: 1 MiB */

static void unlink_locked(parley_client *client, parley_track *t)
{
    for (parley_track **pp = &client->tracks; *pp; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            return;
        }
}

/* Why cfg cannot be honoured, or NULL. */
static const char *config_problem(const parley_track_config *cfg)
{
    if (cfg->kind == PARLEY_MEDIA_VIDEO) {
        if (cfg->codec != PARLEY_CODEC_VP8)
            return "a video track takes the VP8 codec";
        if (cfg->clock_rate && cfg->clock_rate != 90000)
            return "VP8 runs at a clock rate of 90000";
        if (cfg->channels)
            return "a video track has no channels";
        if (cfg->width > 16384 || cfg->height > 16384)
            return "width and height are 0 (unknown) or 1..16384";
        if (cfg->fps > 240)
            return "fps is 0 (unknown) or 1..240";
        return NULL;
    }
    if (cfg->screen)
        return "a screen is a video track";
    if (cfg->codec != PARLEY_CODEC_OPUS)
        return "an audio track takes the Opus codec";
    if (cfg->clock_rate && cfg->clock_rate != 48000)
        return "Opus runs at a clock rate of 48000";
    if (cfg->channels > 2)
        return "channels is 0, 1 or 2";
    if (cfg->width || cfg->height || cfg->fps)
        return "an audio track has no width, height or fps";
    return NULL;
}

int parley_track_new(parley_meeting *m, const parley_track_config *cfg, parley_track **out)
{
    if (!out)
        return PARLEY_EINVAL;
    *out = NULL;
    if (!m || !cfg || (cfg->kind != PARLEY_MEDIA_AUDIO && cfg->kind != PARLEY_MEDIA_VIDEO))
        return PARLEY_EINVAL;
    const char *why = config_problem(cfg);
    if (why) {
        int code = cfg->kind == PARLEY_MEDIA_VIDEO ? PARLEY_ERR_NATIVE_ERROR_CREATING_VIDEO_TRACK
                                                   : PARLEY_ERR_NATIVE_ERROR_CREATING_AUDIO_TRACK;
        cmd *c = calloc(1, sizeof *c);
        if (!c)
            return PARLEY_ENOMEM;
        c->kind = CMD_LOCAL_ERROR;
        c->meeting = m;
        c->code = code;
        c->arg = strdup(why);
        int rc = client_post(m->client, c);
        return rc == PARLEY_OK ? code : rc;
    }
    parley_track *t = calloc(1, sizeof *t);
    if (!t)
        return PARLEY_ENOMEM;
    t->client = m->client;
    t->meeting = m;
    t->cfg = *cfg;
    if (!t->cfg.clock_rate)
        t->cfg.clock_rate = cfg->kind == PARLEY_MEDIA_VIDEO ? 90000 : 48000;
    parley_client *client = m->client;
    uv_mutex_lock(&client->mu);
    if (client->closing || m->released) {
        uv_mutex_unlock(&client->mu);
        free(t);
        return client->closing ? PARLEY_ECLOSED : PARLEY_EINVAL;
    }
    t->next = client->tracks;
    client->tracks = t;
    uv_mutex_unlock(&client->mu);
    *out = t;
    return PARLEY_OK;
}

static int write_frame(parley_track *t, const void *data, size_t len, uint32_t timestamp, int level, bool voice)
{
    if (!t || !data || !len || len > MAX_FRAME)
        return PARLEY_EINVAL;
    cmd *c = calloc(1, sizeof *c);
    uint8_t *copy = c ? malloc(len) : NULL;
    if (!copy) {
        free(c);
        return PARLEY_ENOMEM;
    }
    memcpy(copy, data, len);
    c->kind = CMD_TRACK_FRAME;
    c->track = t;
    c->data = copy;
    c->len = len;
    c->ts = timestamp;
    c->has_level = level >= 0;
    c->level = (uint8_t)(level >= 0 ? level : 0);
    c->voice = voice;
    parley_client *client = t->client;
    uv_mutex_lock(&client->mu);
    int rc;
    if (!t->meeting) {
        cmd_free(c); /* its meeting is gone: nothing to publish to */
        rc = PARLEY_OK;
    } else {
        c->meeting = t->meeting;
        rc = client_post_locked(client, c);
    }
    uv_mutex_unlock(&client->mu);
    return rc;
}

int parley_track_write(parley_track *t, const void *data, size_t len, uint32_t timestamp)
{
    return write_frame(t, data, len, timestamp, -1, false);
}

int parley_track_write_level(parley_track *t, const void *data, size_t len, uint32_t timestamp, uint8_t level,
                             bool voice)
{
    /* cfg is immutable after creation: readable without the lock */
    if (!t || t->cfg.kind != PARLEY_MEDIA_AUDIO || level > 127)
        return PARLEY_EINVAL;
    return write_frame(t, data, len, timestamp, level, voice);
}

void parley_track_free(parley_track *t)
{
    if (!t)
        return;
    cmd *c = calloc(1, sizeof *c);
    parley_client *client = t->client;
    uv_mutex_lock(&client->mu);
    if (c) {
        c->kind = CMD_TRACK_FREE;
        c->track = t;
        c->meeting = t->meeting;
        client_post_locked(client, c); /* when closing, destroy frees t */
    }
    uv_mutex_unlock(&client->mu);
    /* Out of memory: t stays allocated until parley_client_destroy. */
}

void track_on_frame(parley_track *t, cmd *c)
{
    uv_mutex_lock(&t->client->mu);
    parley_meeting *m = t->meeting;
    uv_mutex_unlock(&t->client->mu);
    if (m && !t->freed)
        media_send_frame(m, t, c->data, c->len, c->ts, c->has_level ? c->level : -1, c->voice);
    else
        free(c->data);
}

void track_on_free(parley_track *t)
{
    parley_client *client = t->client;
    uv_mutex_lock(&client->mu);
    parley_meeting *m = t->meeting;
    unlink_locked(client, t);
    uv_mutex_unlock(&client->mu);
    t->freed = true;
    if (m)
        media_track_gone(m, t);
    free(t);
}

void tracks_detach_locked(parley_client *client, parley_meeting *m)
{
    for (parley_track *t = client->tracks; t; t = t->next)
        if (t->meeting == m)
            t->meeting = NULL;
}

void tracks_free_all(parley_client *client)
{
    while (client->tracks) {
        parley_track *t = client->tracks;
        client->tracks = t->next;
        free(t);
    }
}
