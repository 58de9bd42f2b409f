/* ogg_opus.h - Ogg Opus files (RFC 7845): the audio `parley bot` publishes
 * and saves.
 *
 * The reader (on libogg) follows the first logical stream of the file, checks
 * its OpusHead and OpusTags header packets and then yields the audio packets
 * one by one, each with its duration in 48 kHz samples read from the
 * packet's TOC byte (RFC 6716 3.1). The writer makes a file of one logical
 * stream that the reader, ffmpeg and players read back.
 *
 * Errors are returned as -1 with a sentence in the reader's or writer's
 * `error` (prefixed by the path); nothing here aborts on bad input. */
#ifndef PARLEY_CLI_OGG_OPUS_H
#define PARLEY_CLI_OGG_OPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <ogg/ogg.h>

typedef struct oggopus_reader {
    FILE *f;
    char *path;
    ogg_sync_state sync;
    ogg_stream_state stream;
    bool started;          /* stream initialised from the first page */
    bool eos;              /* the stream's last page was read */
    unsigned channels;     /* from OpusHead */
    unsigned pre_skip;
    uint32_t input_rate;   /* informational; Opus always decodes at 48 kHz */
    uint64_t packets;      /* audio packets read since open or rewind */
    char error[256];
} oggopus_reader;

typedef struct oggopus_packet {
    const uint8_t *data; /* valid until the next read or close */
    size_t len;
    unsigned samples;    /* its duration at 48 kHz */
} oggopus_packet;

/* Open path and read its two header packets. Call oggopus_close afterwards
 * whatever it returned. */
int oggopus_open(oggopus_reader *r, const char *path);
/* The next audio packet: 1, 0 at the end of the stream, -1 when malformed. */
int oggopus_read(oggopus_reader *r, oggopus_packet *out);
/* Back to the first audio packet. */
int oggopus_rewind(oggopus_reader *r);
void oggopus_close(oggopus_reader *r);

/* Read the whole stream once: at least one packet, each with a valid TOC.
 * Fills *packets and *samples (the total duration at 48 kHz) and rewinds. */
int oggopus_check(oggopus_reader *r, uint64_t *packets, uint64_t *samples);

/* The duration of an Opus packet in 48 kHz samples (120 to 5760), or -1
 * when its TOC (and frame count byte) is not valid. */
int opus_packet_samples(const uint8_t *data, size_t len);

typedef struct oggopus_writer {
    FILE *f;
    ogg_stream_state stream;
    bool started;
    int64_t granule;     /* samples written */
    int64_t packetno;
    uint8_t *pending;    /* the last packet, held back to mark the end of stream */
    size_t pending_len, pending_cap;
    int64_t pending_granule;
    uint64_t packets;
    char error[256];
} oggopus_writer;

/* Create path with OpusHead (channels 1 or 2, pre-skip 0) and OpusTags. */
int oggopus_writer_open(oggopus_writer *w, const char *path, unsigned channels);
/* Append one Opus packet (its duration is read from its TOC). */
int oggopus_write(oggopus_writer *w, const void *data, size_t len);
/* Write the last page (end of stream) and close; -1 when a write failed. */
int oggopus_writer_close(oggopus_writer *w);

#endif
