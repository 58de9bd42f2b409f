/* ivf.h - IVF files: the VP8 frames `parley bot` publishes and saves.
 *
 * An IVF file is a 32-byte header ("DKIF", version 0, header size 32, the
 * codec's FourCC, width, height, the timebase as rate/scale, a frame count)
 * followed by frames, each a 12-byte header (size, 64-bit pts, little
 * endian) and the frame's bytes. A frame's time is pts * scale / rate
 * seconds.
 *
 * Errors are returned as -1 with a sentence in the reader's or writer's
 * `error` (prefixed by the path and, where it helps, the byte offset);
 * nothing here aborts on bad input. */
#ifndef PARLEY_CLI_IVF_H
#define PARLEY_CLI_IVF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum { IVF_HEADER_SIZE = 32, IVF_FRAME_HEADER_SIZE = 12, IVF_MAX_FRAME = 8 << 20 };

typedef struct ivf_reader {
    FILE *f;
    char *path;
    char fourcc[5];
    unsigned width, height;
    uint32_t rate, scale;  /* timebase: scale / rate seconds per pts unit */
    uint32_t header_count; /* the header's frame count (often 0 or stale) */
    long data_offset;      /* of the first frame header */
    long offset;           /* of the next frame header */
    uint64_t frames;       /* frames read since open or rewind */
    uint8_t *buf;          /* the last frame read */
    size_t cap;
    char error[256];
} ivf_reader;

typedef struct ivf_frame {
    const uint8_t *data; /* valid until the next read or close */
    size_t len;
    uint64_t pts;
    bool keyframe;       /* VP8: bit 0 of the first byte is 0 */
} ivf_frame;

/* Open path and check its header (VP8 only: FourCC VP80). Call ivf_close
 * afterwards whatever it returned. */
int ivf_open(ivf_reader *r, const char *path);
/* The next frame: 1, 0 at the end of the file, -1 on a malformed frame. */
int ivf_read(ivf_reader *r, ivf_frame *out);
/* Back to the first frame. */
int ivf_rewind(ivf_reader *r);
void ivf_close(ivf_reader *r);

/* Read the whole file once: every frame well formed, at least one, the
 * first a keyframe, pts never going back. Fills *frames and *duration (the
 * last pts plus one frame interval, in pts units) and rewinds. */
int ivf_check(ivf_reader *r, uint64_t *frames, uint64_t *duration);

typedef struct ivf_writer {
    FILE *f;
    uint32_t frames;
    char error[256];
} ivf_writer;

/* Create path with a VP8 header for width x height and timebase scale/rate;
 * the frame count is written by ivf_writer_close. */
int ivf_writer_open(ivf_writer *w, const char *path, unsigned width, unsigned height, uint32_t rate,
                    uint32_t scale);
int ivf_write(ivf_writer *w, const void *data, size_t len, uint64_t pts);
/* Patch the frame count and close; -1 when a write failed. */
int ivf_writer_close(ivf_writer *w);

/* VP8 keyframe dimensions (from the frame's start code), or false. */
bool vp8_keyframe_size(const uint8_t *data, size_t len, unsigned *width, unsigned *height);

#endif
