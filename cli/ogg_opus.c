/* ogg_opus.c - Ogg Opus reader and writer on libogg (see ogg_opus.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ogg_opus.h"

enum { READ_CHUNK = 8192, OPUS_HEAD_MIN = 19 };

static int fail(char *error, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *error, const char *path, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(error, 256, "%s: %s", path ? path : "Ogg", msg);
    return -1;
}

int opus_packet_samples(const uint8_t *data, size_t len)
{
    static const int silk[4] = {480, 960, 1920, 2880}; /* 10, 20, 40, 60 ms */
    static const int celt[4] = {120, 240, 480, 960};   /* 2.5, 5, 10, 20 ms */
    if (!data || len < 1)
        return -1;
    unsigned config = data[0] >> 3;
    int frame = config < 12 ? silk[config & 3] : config < 16 ? ((config & 1) ? 960 : 480) : celt[config & 3];
    int count;
    switch (data[0] & 3) {
    case 0: count = 1; break;
    case 1:
    case 2: count = 2; break;
    default:
        if (len < 2)
            return -1;
        count = data[1] & 0x3f;
        break;
    }
    int total = count * frame;
    return count == 0 || total > 5760 ? -1 : total;
}

/* ---- reader ---- */

/* The next packet of the stream: 1, 0 at its end, -1 when malformed. */
static int next_packet(oggopus_reader *r, ogg_packet *op)
{
    for (;;) {
        if (r->started) {
            int rc = ogg_stream_packetout(&r->stream, op);
            if (rc == 1)
                return 1;
            if (rc < 0)
                return fail(r->error, r->path, "corrupt Ogg stream: data missing after packet %llu",
                            (unsigned long long)r->packets);
            if (r->eos)
                return 0;
        }
        ogg_page page;
        int prc = ogg_sync_pageout(&r->sync, &page);
        if (prc == 1) {
            if (!r->started) {
                if (!ogg_page_bos(&page))
                    return fail(r->error, r->path, "not the start of an Ogg stream");
                ogg_stream_init(&r->stream, ogg_page_serialno(&page));
                r->started = true;
            }
            if (ogg_page_serialno(&page) != r->stream.serialno)
                continue; /* another logical stream */
            if (ogg_stream_pagein(&r->stream, &page))
                return fail(r->error, r->path, "bad Ogg page");
            if (ogg_page_eos(&page))
                r->eos = true;
            continue;
        }
        if (prc < 0)
            continue; /* bytes skipped to find the next page */
        char *buf = ogg_sync_buffer(&r->sync, READ_CHUNK);
        if (!buf)
            return fail(r->error, r->path, "out of memory");
        size_t n = fread(buf, 1, READ_CHUNK, r->f);
        if (ferror(r->f))
            return fail(r->error, r->path, "%s", strerror(errno));
        ogg_sync_wrote(&r->sync, (long)n);
        if (n == 0) {
            if (!r->started) {
                if (r->sync.fill - r->sync.returned >= 4 && !memcmp(r->sync.data + r->sync.returned, "OggS", 4))
                    return fail(r->error, r->path, "truncated: the first Ogg page is incomplete");
                return fail(r->error, r->path, "not an Ogg file (no Ogg page found)");
            }
            if (r->sync.fill > r->sync.returned)
                return fail(r->error, r->path, "truncated: the last Ogg page is incomplete");
            return 0; /* ends without an end-of-stream page: accepted */
        }
    }
}

static int start(oggopus_reader *r)
{
    ogg_packet op;
    int rc = next_packet(r, &op);
    if (rc <= 0)
        return rc < 0 ? -1 : fail(r->error, r->path, "empty Ogg stream");
    if (op.bytes >= 7 && !memcmp(op.packet, "\x01vorbis", 7))
        return fail(r->error, r->path, "a Vorbis stream, not Opus");
    if (op.bytes < 8 || memcmp(op.packet, "OpusHead", 8))
        return fail(r->error, r->path, "not an Opus stream (no OpusHead)");
    if (op.bytes < OPUS_HEAD_MIN)
        return fail(r->error, r->path, "OpusHead too short (%ld bytes)", op.bytes);
    if (op.packet[8] >> 4)
        return fail(r->error, r->path, "unsupported OpusHead version %u", op.packet[8]);
    r->channels = op.packet[9];
    r->pre_skip = (unsigned)(op.packet[10] | op.packet[11] << 8);
    r->input_rate = (uint32_t)op.packet[12] | (uint32_t)op.packet[13] << 8 | (uint32_t)op.packet[14] << 16 |
                    (uint32_t)op.packet[15] << 24;
    if (r->channels == 0)
        return fail(r->error, r->path, "OpusHead has no channels");
    if (op.packet[18] != 0 || r->channels > 2)
        return fail(r->error, r->path, "%u channels (mapping family %u): only mono and stereo are supported",
                    r->channels, op.packet[18]);
    rc = next_packet(r, &op);
    if (rc <= 0)
        return rc < 0 ? -1 : fail(r->error, r->path, "no OpusTags after OpusHead");
    if (op.bytes < 8 || memcmp(op.packet, "OpusTags", 8))
        return fail(r->error, r->path, "no OpusTags after OpusHead");
    r->packets = 0;
    return 0;
}

int oggopus_open(oggopus_reader *r, const char *path)
{
    memset(r, 0, sizeof(*r));
    ogg_sync_init(&r->sync);
    r->path = strdup(path);
    r->f = fopen(path, "rb");
    if (!r->f)
        return fail(r->error, path, "%s", strerror(errno));
    return start(r);
}

int oggopus_read(oggopus_reader *r, oggopus_packet *out)
{
    if (!r->f)
        return fail(r->error, r->path, "not open");
    ogg_packet op;
    int rc = next_packet(r, &op);
    if (rc <= 0)
        return rc;
    int samples = opus_packet_samples(op.packet, (size_t)op.bytes);
    if (samples < 0)
        return fail(r->error, r->path, "audio packet %llu is not a valid Opus packet (%ld bytes)",
                    (unsigned long long)r->packets, op.bytes);
    r->packets++;
    out->data = op.packet;
    out->len = (size_t)op.bytes;
    out->samples = (unsigned)samples;
    return 1;
}

int oggopus_rewind(oggopus_reader *r)
{
    if (r->started)
        ogg_stream_clear(&r->stream);
    r->started = r->eos = false;
    ogg_sync_reset(&r->sync);
    clearerr(r->f);
    if (fseek(r->f, 0, SEEK_SET))
        return fail(r->error, r->path, "%s", strerror(errno));
    return start(r);
}

void oggopus_close(oggopus_reader *r)
{
    if (r->started)
        ogg_stream_clear(&r->stream);
    ogg_sync_clear(&r->sync);
    if (r->f)
        fclose(r->f);
    free(r->path);
    r->f = NULL;
    r->path = NULL;
    r->started = false;
}

int oggopus_check(oggopus_reader *r, uint64_t *packets, uint64_t *samples)
{
    oggopus_packet p;
    uint64_t n = 0, total = 0;
    int rc;
    while ((rc = oggopus_read(r, &p)) == 1) {
        n++;
        total += p.samples;
    }
    if (rc < 0)
        return -1;
    if (n == 0)
        return fail(r->error, r->path, "no audio packets");
    *packets = n;
    *samples = total;
    return oggopus_rewind(r);
}

/* ---- writer ---- */

static int write_pages(oggopus_writer *w, bool flush)
{
    ogg_page page;
    while (flush ? ogg_stream_flush(&w->stream, &page) : ogg_stream_pageout(&w->stream, &page)) {
        if (fwrite(page.header, 1, (size_t)page.header_len, w->f) != (size_t)page.header_len ||
            fwrite(page.body, 1, (size_t)page.body_len, w->f) != (size_t)page.body_len)
            return fail(w->error, NULL, "write failed: %s", strerror(errno));
    }
    return 0;
}

static int packet_in(oggopus_writer *w, const void *data, size_t len, int64_t granule, bool bos, bool eos)
{
    ogg_packet op = {
        .packet = (unsigned char *)data,
        .bytes = (long)len,
        .b_o_s = bos,
        .e_o_s = eos,
        .granulepos = granule,
        .packetno = w->packetno++,
    };
    if (ogg_stream_packetin(&w->stream, &op))
        return fail(w->error, NULL, "libogg refused a packet");
    return 0;
}

int oggopus_writer_open(oggopus_writer *w, const char *path, unsigned channels)
{
    memset(w, 0, sizeof(*w));
    if (channels < 1 || channels > 2)
        return fail(w->error, path, "%u channels: 1 or 2 only", channels);
    w->f = fopen(path, "wb");
    if (!w->f)
        return fail(w->error, path, "%s", strerror(errno));
    ogg_stream_init(&w->stream, (int)((unsigned)time(NULL) ^ (unsigned)(uintptr_t)w));
    w->started = true;
    uint8_t head[OPUS_HEAD_MIN] = {'O', 'p', 'u', 's', 'H', 'e', 'a', 'd', 1, (uint8_t)channels, 0, 0,
                                   0x80, 0xbb, 0, 0 /* 48000 */, 0, 0, 0};
    static const char vendor[] = "parley";
    uint8_t tags[8 + 4 + sizeof(vendor) - 1 + 4] = {'O', 'p', 'u', 's', 'T', 'a', 'g', 's', sizeof(vendor) - 1};
    memcpy(tags + 12, vendor, sizeof(vendor) - 1);
    if (packet_in(w, head, sizeof(head), 0, true, false) || write_pages(w, true) ||
        packet_in(w, tags, sizeof(tags), 0, false, false) || write_pages(w, true))
        return -1;
    return 0;
}

int oggopus_write(oggopus_writer *w, const void *data, size_t len)
{
    int samples = opus_packet_samples(data, len);
    if (!w->f)
        return fail(w->error, NULL, "not open");
    if (samples < 0)
        return fail(w->error, NULL, "not a valid Opus packet (%zu bytes)", len);
    if (w->pending_len) { /* the one held back is not the last */
        if (packet_in(w, w->pending, w->pending_len, w->pending_granule, false, false) || write_pages(w, false))
            return -1;
    }
    if (len > w->pending_cap) {
        uint8_t *nb = realloc(w->pending, len);
        if (!nb)
            return fail(w->error, NULL, "out of memory");
        w->pending = nb;
        w->pending_cap = len;
    }
    memcpy(w->pending, data, len);
    w->pending_len = len;
    w->granule += samples;
    w->pending_granule = w->granule;
    w->packets++;
    return 0;
}

int oggopus_writer_close(oggopus_writer *w)
{
    int rc = 0;
    if (w->f) {
        if (w->pending_len)
            rc = packet_in(w, w->pending, w->pending_len, w->pending_granule, false, true);
        if (!rc)
            rc = write_pages(w, true);
        if (fclose(w->f) && !rc)
            rc = fail(w->error, NULL, "close failed: %s", strerror(errno));
        w->f = NULL;
    }
    if (w->started)
        ogg_stream_clear(&w->stream);
    w->started = false;
    free(w->pending);
    w->pending = NULL;
    w->pending_len = w->pending_cap = 0;
    return rc;
}
