/* ivf.c - IVF reader and writer (see ivf.h for the format). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ivf.h"

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)v);
    put16(p + 2, (uint16_t)(v >> 16));
}

static int fail(char *error, const char *path, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *error, const char *path, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(error, 256, "%s: %s", path ? path : "IVF", msg);
    return -1;
}

int ivf_open(ivf_reader *r, const char *path)
{
    memset(r, 0, sizeof(*r));
    r->path = strdup(path);
    r->f = fopen(path, "rb");
    if (!r->f)
        return fail(r->error, path, "%s", strerror(errno));
    uint8_t h[IVF_HEADER_SIZE];
    size_t n = fread(h, 1, sizeof(h), r->f);
    if (n < 4 || memcmp(h, "DKIF", 4))
        return fail(r->error, path, "not an IVF file (no DKIF signature)");
    if (n < sizeof(h))
        return fail(r->error, path, "truncated IVF header (%zu of %d bytes)", n, IVF_HEADER_SIZE);
    unsigned version = get16(h + 4), hsize = get16(h + 6);
    if (version != 0)
        return fail(r->error, path, "unsupported IVF version %u", version);
    if (hsize < IVF_HEADER_SIZE)
        return fail(r->error, path, "bad IVF header size %u", hsize);
    for (int i = 0; i < 4; i++)
        r->fourcc[i] = (h[8 + i] >= 0x20 && h[8 + i] < 0x7f) ? (char)h[8 + i] : '?';
    if (memcmp(h + 8, "VP80", 4))
        return fail(r->error, path, "codec %s is not supported (VP8 only: VP80)", r->fourcc);
    r->width = get16(h + 12);
    r->height = get16(h + 14);
    r->rate = get32(h + 16);
    r->scale = get32(h + 20);
    r->header_count = get32(h + 24);
    if (!r->rate || !r->scale)
        return fail(r->error, path, "bad IVF timebase %u/%u", r->scale, r->rate);
    r->data_offset = r->offset = (long)hsize;
    if (fseek(r->f, r->offset, SEEK_SET))
        return fail(r->error, path, "%s", strerror(errno));
    return 0;
}

int ivf_read(ivf_reader *r, ivf_frame *out)
{
    if (!r->f)
        return fail(r->error, r->path, "not open");
    uint8_t h[IVF_FRAME_HEADER_SIZE];
    size_t n = fread(h, 1, sizeof(h), r->f);
    if (n == 0 && feof(r->f))
        return 0;
    if (n < sizeof(h))
        return fail(r->error, r->path, "truncated frame header at offset %ld (frame %llu)", r->offset,
                    (unsigned long long)r->frames);
    uint32_t size = get32(h);
    if (size == 0 || size > IVF_MAX_FRAME)
        return fail(r->error, r->path, "bad frame size %u at offset %ld (frame %llu)", size, r->offset,
                    (unsigned long long)r->frames);
    if (size > r->cap) {
        uint8_t *nb = realloc(r->buf, size);
        if (!nb)
            return fail(r->error, r->path, "out of memory");
        r->buf = nb;
        r->cap = size;
    }
    n = fread(r->buf, 1, size, r->f);
    if (n < size)
        return fail(r->error, r->path, "truncated frame at offset %ld (frame %llu: %zu of %u bytes)", r->offset,
                    (unsigned long long)r->frames, n, size);
    r->offset += IVF_FRAME_HEADER_SIZE + (long)size;
    r->frames++;
    out->data = r->buf;
    out->len = size;
    out->pts = get64(h + 4);
    out->keyframe = !(r->buf[0] & 1);
    return 1;
}

int ivf_rewind(ivf_reader *r)
{
    r->offset = r->data_offset;
    r->frames = 0;
    clearerr(r->f);
    if (fseek(r->f, r->offset, SEEK_SET))
        return fail(r->error, r->path, "%s", strerror(errno));
    return 0;
}

void ivf_close(ivf_reader *r)
{
    if (r->f)
        fclose(r->f);
    free(r->buf);
    free(r->path);
    r->f = NULL;
    r->buf = NULL;
    r->path = NULL;
}

int ivf_check(ivf_reader *r, uint64_t *frames, uint64_t *duration)
{
    ivf_frame fr;
    uint64_t count = 0, first = 0, last = 0, step = 1;
    int rc;
    while ((rc = ivf_read(r, &fr)) == 1) {
        if (count == 0) {
            if (!fr.keyframe)
                return fail(r->error, r->path, "the first frame is not a VP8 keyframe");
            unsigned w, h;
            if (!vp8_keyframe_size(fr.data, fr.len, &w, &h))
                return fail(r->error, r->path, "the first frame is not a VP8 keyframe (bad start code)");
            first = fr.pts;
        } else {
            if (fr.pts < last)
                return fail(r->error, r->path, "frame %llu goes back in time (pts %llu after %llu)",
                            (unsigned long long)count, (unsigned long long)fr.pts, (unsigned long long)last);
            if (fr.pts > last)
                step = fr.pts - last;
        }
        last = fr.pts;
        count++;
    }
    if (rc < 0)
        return -1;
    if (count == 0)
        return fail(r->error, r->path, "no frames");
    *frames = count;
    *duration = last - first + step;
    return ivf_rewind(r);
}

/* ---- writer ---- */

int ivf_writer_open(ivf_writer *w, const char *path, unsigned width, unsigned height, uint32_t rate,
                    uint32_t scale)
{
    memset(w, 0, sizeof(*w));
    w->f = fopen(path, "wb");
    if (!w->f)
        return fail(w->error, path, "%s", strerror(errno));
    uint8_t h[IVF_HEADER_SIZE] = {'D', 'K', 'I', 'F'};
    put16(h + 4, 0);
    put16(h + 6, IVF_HEADER_SIZE);
    memcpy(h + 8, "VP80", 4);
    put16(h + 12, (uint16_t)width);
    put16(h + 14, (uint16_t)height);
    put32(h + 16, rate);
    put32(h + 20, scale);
    if (fwrite(h, 1, sizeof(h), w->f) != sizeof(h))
        return fail(w->error, path, "%s", strerror(errno));
    return 0;
}

int ivf_write(ivf_writer *w, const void *data, size_t len, uint64_t pts)
{
    uint8_t h[IVF_FRAME_HEADER_SIZE];
    put32(h, (uint32_t)len);
    put32(h + 4, (uint32_t)pts);
    put32(h + 8, (uint32_t)(pts >> 32));
    if (!w->f || len > IVF_MAX_FRAME || fwrite(h, 1, sizeof(h), w->f) != sizeof(h) ||
        fwrite(data, 1, len, w->f) != len)
        return fail(w->error, NULL, "write failed: %s", w->f ? strerror(errno) : "not open");
    w->frames++;
    return 0;
}

int ivf_writer_close(ivf_writer *w)
{
    if (!w->f)
        return 0;
    int rc = 0;
    uint8_t n[4];
    put32(n, w->frames);
    if (fseek(w->f, 24, SEEK_SET) || fwrite(n, 1, 4, w->f) != 4)
        rc = fail(w->error, NULL, "write failed: %s", strerror(errno));
    if (fclose(w->f))
        rc = fail(w->error, NULL, "close failed: %s", strerror(errno));
    w->f = NULL;
    return rc;
}

bool vp8_keyframe_size(const uint8_t *data, size_t len, unsigned *width, unsigned *height)
{
    /* RFC 6386 9.1: a 3-byte frame tag (bit 0 clear on keyframes), the start
     * code 9d 01 2a, then 14-bit width and height with 2-bit scales. */
    if (len < 10 || (data[0] & 1) || data[3] != 0x9d || data[4] != 0x01 || data[5] != 0x2a)
        return false;
    *width = get16(data + 6) & 0x3fff;
    *height = get16(data + 8) & 0x3fff;
    return true;
}
