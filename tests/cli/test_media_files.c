/* test_media_files.c - the IVF and Ogg Opus readers and writers of `parley bot`.
 *
 * Real files come from Debian's ffmpeg (its path is argv[1]; without it those
 * cases are skipped): a 3 s VP8 test pattern in IVF and a 3 s Opus sine in
 * Ogg. Each is read, checked, written back through our writer and compared
 * byte for byte; then cut short, corrupted and replaced by garbage, which
 * must give an error naming the problem, never a crash (the sanitizer build
 * runs this too). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ogg/ogg.h>

#include "../lib/tap.h"
#include "ivf.h"
#include "ogg_opus.h"

static const char *ffmpeg;
static char dir[64];
static char ivf_path[128], ogg_path[128];
static bool have_media;

static char *path_in(const char *name)
{
    static char p[8][160];
    static int i;
    i = (i + 1) % 8;
    snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
    return p[i];
}

static bool write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    *len = buf ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    return buf;
}

/* A copy of src cut to len bytes, optionally with one byte flipped. */
static const char *variant(const char *src, const char *name, size_t len, long flip_at)
{
    size_t n;
    uint8_t *buf = read_file(src, &n);
    if (!buf)
        return NULL;
    if (len > n)
        len = n;
    if (flip_at >= 0 && (size_t)flip_at < len)
        buf[flip_at] ^= 0x55;
    const char *p = path_in(name);
    bool ok = write_file(p, buf, len);
    free(buf);
    return ok ? p : NULL;
}

static bool contains(const char *hay, const char *needle)
{
    bool yes = strstr(hay, needle) != NULL;
    if (!yes)
        printf("#   '%s' does not contain '%s'\n", hay, needle);
    return yes;
}

/* ---- Opus TOC ---- */

TEST(opus_toc_gives_the_packet_duration)
{
    uint8_t p[3] = {0};
    struct { uint8_t toc, count; int samples; } cases[] = {
        {0 << 3 | 0, 0, 480},   /* SILK NB 10 ms, one frame */
        {1 << 3 | 0, 0, 960},   /* SILK NB 20 ms */
        {2 << 3 | 0, 0, 1920},  /* 40 ms */
        {3 << 3 | 0, 0, 2880},  /* 60 ms */
        {3 << 3 | 1, 0, 5760},  /* 2 x 60 ms */
        {12 << 3 | 0, 0, 480},  /* hybrid SWB 10 ms */
        {13 << 3 | 2, 0, 1920}, /* hybrid 20 ms, two frames of different sizes */
        {16 << 3 | 0, 0, 120},  /* CELT 2.5 ms */
        {31 << 3 | 0, 0, 960},  /* CELT FB 20 ms */
        {31 << 3 | 4, 0, 960},  /* the stereo bit changes nothing */
        {28 << 3 | 3, 6, 720},  /* CELT 2.5 ms x 6 (code 3) */
        {31 << 3 | 3, 6, 5760}, /* 20 ms x 6 = 120 ms, the maximum */
        {31 << 3 | 3, 7, -1},   /* 140 ms: too long */
        {31 << 3 | 3, 0, -1},   /* no frames */
        {31 << 3 | 3, 0x80 | 2, 1920}, /* VBR flag, 2 frames */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        p[0] = cases[i].toc;
        p[1] = cases[i].count;
        int got = opus_packet_samples(p, (cases[i].toc & 3) == 3 ? 2 : 1);
        CHECKF(got == cases[i].samples, "case %zu: %d, want %d", i, got, cases[i].samples);
    }
    p[0] = 31 << 3 | 3;
    CHECK(opus_packet_samples(p, 1) == -1); /* code 3 without its count byte */
    CHECK(opus_packet_samples(p, 0) == -1);
    CHECK(opus_packet_samples(NULL, 4) == -1);
}

/* ---- IVF ---- */

TEST(ivf_reads_ffmpegs_vp8)
{
    if (!have_media) {
        printf("# skipped: no ffmpeg\n");
        return;
    }
    ivf_reader r;
    int rc = ivf_open(&r, ivf_path);
    CHECKF(rc == 0, "%s", r.error);
    if (rc) {
        ivf_close(&r);
        return;
    }
    CHECK(!strcmp(r.fourcc, "VP80"));
    CHECK(r.width == 320 && r.height == 240);
    CHECKF(r.rate == 30 && r.scale == 1, "timebase %u/%u", r.scale, r.rate);
    uint64_t frames = 0, duration = 0;
    rc = ivf_check(&r, &frames, &duration);
    CHECKF(rc == 0, "%s", r.error);
    CHECKF(frames == 90 && duration == 90, "%llu frames, duration %llu", (unsigned long long)frames,
           (unsigned long long)duration);
    ivf_frame f;
    int keys = 0;
    uint64_t n = 0;
    while (ivf_read(&r, &f) == 1) {
        CHECK(f.pts == n);
        if (f.keyframe) {
            unsigned w = 0, h = 0;
            CHECK(vp8_keyframe_size(f.data, f.len, &w, &h) && w == 320 && h == 240);
            keys++;
        }
        n++;
    }
    CHECK(n == 90);
    CHECKF(keys >= 3, "%d keyframes", keys); /* -g 30 */
    CHECK(ivf_rewind(&r) == 0 && ivf_read(&r, &f) == 1 && f.pts == 0 && f.keyframe);
    ivf_close(&r);
}

TEST(ivf_writer_round_trip)
{
    if (!have_media) {
        printf("# skipped: no ffmpeg\n");
        return;
    }
    ivf_reader r, back;
    ivf_writer w;
    const char *copy = path_in("copy.ivf");
    REQUIRE(ivf_open(&r, ivf_path) == 0);
    int rc = ivf_writer_open(&w, copy, r.width, r.height, 90000, 1);
    CHECKF(rc == 0, "%s", w.error);
    ivf_frame f;
    while (ivf_read(&r, &f) == 1)
        CHECK(ivf_write(&w, f.data, f.len, f.pts * 3000) == 0);
    CHECK(ivf_writer_close(&w) == 0);
    rc = ivf_open(&back, copy);
    CHECKF(rc == 0, "%s", back.error);
    CHECK(back.rate == 90000 && back.scale == 1 && back.header_count == 90 && back.width == 320);
    ivf_rewind(&r);
    ivf_frame g;
    int n = 0;
    while (ivf_read(&r, &f) == 1) {
        /* f points into r's buffer, g into back's */
        REQUIRE(ivf_read(&back, &g) == 1);
        CHECK(g.len == f.len && !memcmp(g.data, f.data, f.len) && g.pts == f.pts * 3000);
        n++;
    }
    CHECK(n == 90 && ivf_read(&back, &g) == 0);
    ivf_close(&back);
    ivf_close(&r);
    /* the same bytes as ffmpeg's file once the timebase is put back */
    REQUIRE(ivf_open(&r, ivf_path) == 0);
    const char *same = path_in("same.ivf");
    REQUIRE(ivf_writer_open(&w, same, 320, 240, 30, 1) == 0);
    while (ivf_read(&r, &f) == 1)
        ivf_write(&w, f.data, f.len, f.pts);
    ivf_writer_close(&w);
    ivf_close(&r);
    size_t la, lb;
    uint8_t *a = read_file(ivf_path, &la), *b = read_file(same, &lb);
    CHECK(a && b && la == lb && !memcmp(a, b, la));
    free(a);
    free(b);
}

/* ivf_open, then ivf_check: the first error, or "" when both passed. */
static const char *ivf_error(const char *path)
{
    static char msg[256];
    ivf_reader r;
    uint64_t frames, duration;
    msg[0] = '\0';
    if (ivf_open(&r, path) || ivf_check(&r, &frames, &duration))
        snprintf(msg, sizeof(msg), "%s", r.error);
    ivf_close(&r);
    return msg;
}

TEST(ivf_malformed_files_are_errors)
{
    CHECK(contains(ivf_error(path_in("missing.ivf")), "No such file"));
    write_file(path_in("empty.ivf"), "", 0);
    CHECK(contains(ivf_error(path_in("empty.ivf")), "not an IVF file"));
    uint8_t garbage[4096];
    srand(7);
    for (size_t i = 0; i < sizeof(garbage); i++)
        garbage[i] = (uint8_t)rand();
    write_file(path_in("garbage.ivf"), garbage, sizeof(garbage));
    CHECK(contains(ivf_error(path_in("garbage.ivf")), "not an IVF file"));
    /* a header alone, no frames */
    uint8_t h[32] = {'D', 'K', 'I', 'F', 0, 0, 32, 0, 'V', 'P', '8', '0', 64, 0, 48, 0, 30, 0, 0, 0, 1};
    write_file(path_in("noframes.ivf"), h, sizeof(h));
    CHECK(contains(ivf_error(path_in("noframes.ivf")), "no frames"));
    memcpy(h + 8, "VP90", 4);
    write_file(path_in("vp9.ivf"), h, sizeof(h));
    CHECK(contains(ivf_error(path_in("vp9.ivf")), "VP90 is not supported"));
    memcpy(h + 8, "VP80", 4);
    h[16] = 0;
    write_file(path_in("rate0.ivf"), h, sizeof(h));
    CHECK(contains(ivf_error(path_in("rate0.ivf")), "timebase"));
    h[16] = 30;
    /* a frame whose size is absurd, and one that is not a keyframe first */
    uint8_t buf[32 + 12 + 10];
    memcpy(buf, h, 32);
    memset(buf + 32, 0, 22);
    buf[32] = 0xff, buf[33] = 0xff, buf[34] = 0xff, buf[35] = 0x7f;
    write_file(path_in("huge.ivf"), buf, sizeof(buf));
    CHECK(contains(ivf_error(path_in("huge.ivf")), "bad frame size"));
    buf[32] = 10, buf[33] = buf[34] = buf[35] = 0;
    buf[44] = 1; /* inter frame */
    write_file(path_in("inter.ivf"), buf, sizeof(buf));
    CHECK(contains(ivf_error(path_in("inter.ivf")), "not a VP8 keyframe"));
    buf[44] = 0; /* keyframe bit, but no start code */
    write_file(path_in("nostart.ivf"), buf, sizeof(buf));
    CHECK(contains(ivf_error(path_in("nostart.ivf")), "bad start code"));
    if (!have_media)
        return;
    CHECK(contains(ivf_error(variant(ivf_path, "short-header.ivf", 20, -1)), "truncated IVF header"));
    CHECK(contains(ivf_error(variant(ivf_path, "short-fh.ivf", 32 + 7, -1)), "truncated frame header at offset 32"));
    CHECK(contains(ivf_error(variant(ivf_path, "short-frame.ivf", 32 + 12 + 100, -1)), "truncated frame at offset 32"));
    size_t n;
    uint8_t *all = read_file(ivf_path, &n);
    REQUIRE(all);
    CHECK(contains(ivf_error(variant(ivf_path, "short-end.ivf", n - 1, -1)), "truncated frame"));
    free(all);
    /* a truncated file is only refused when read: frames before the cut are fine */
    ivf_reader r;
    ivf_frame f;
    REQUIRE(ivf_open(&r, path_in("short-end.ivf")) == 0);
    int rc, frames = 0;
    while ((rc = ivf_read(&r, &f)) == 1)
        frames++;
    CHECK(rc == -1 && frames == 89);
    ivf_close(&r);
}

/* ---- Ogg Opus ---- */

TEST(ogg_opus_reads_ffmpegs_opus)
{
    if (!have_media) {
        printf("# skipped: no ffmpeg\n");
        return;
    }
    oggopus_reader r;
    int rc = oggopus_open(&r, ogg_path);
    CHECKF(rc == 0, "%s", r.error);
    if (rc) {
        oggopus_close(&r);
        return;
    }
    CHECK(r.channels == 1 && r.input_rate == 48000 && r.pre_skip > 0);
    uint64_t packets = 0, samples = 0;
    rc = oggopus_check(&r, &packets, &samples);
    CHECKF(rc == 0, "%s", r.error);
    /* 3 s at 20 ms a packet, plus the encoder's pre-skip */
    CHECKF(packets >= 150 && packets <= 152 && samples == packets * 960, "%llu packets, %llu samples",
           (unsigned long long)packets, (unsigned long long)samples);
    oggopus_packet p;
    uint64_t n = 0;
    while (oggopus_read(&r, &p) == 1) {
        CHECK(p.samples == 960 && p.len > 0 && p.len < 400);
        n++;
    }
    CHECK(n == packets);
    CHECK(oggopus_rewind(&r) == 0 && oggopus_read(&r, &p) == 1 && r.packets == 1);
    oggopus_close(&r);
}

TEST(ogg_opus_writer_round_trip)
{
    if (!have_media) {
        printf("# skipped: no ffmpeg\n");
        return;
    }
    oggopus_reader r, back;
    oggopus_writer w;
    const char *copy = path_in("copy.opus");
    REQUIRE(oggopus_open(&r, ogg_path) == 0);
    int rc = oggopus_writer_open(&w, copy, 2);
    CHECKF(rc == 0, "%s", w.error);
    oggopus_packet p, q;
    uint64_t n = 0;
    while (oggopus_read(&r, &p) == 1) {
        CHECK(oggopus_write(&w, p.data, p.len) == 0);
        n++;
    }
    CHECK(w.packets == n && w.granule == (int64_t)(n * 960));
    CHECK(oggopus_writer_close(&w) == 0);
    rc = oggopus_open(&back, copy);
    CHECKF(rc == 0, "%s", back.error);
    CHECK(back.channels == 2 && back.pre_skip == 0);
    oggopus_rewind(&r);
    uint64_t m = 0;
    while (oggopus_read(&r, &p) == 1) {
        uint8_t keep[1500];
        REQUIRE(p.len <= sizeof(keep));
        memcpy(keep, p.data, p.len);
        size_t len = p.len;
        REQUIRE(oggopus_read(&back, &q) == 1);
        CHECK(q.len == len && !memcmp(q.data, keep, len) && q.samples == 960);
        m++;
    }
    CHECK(m == n && oggopus_read(&back, &q) == 0 && back.eos);
    oggopus_close(&back);
    oggopus_close(&r);
    /* ffmpeg reads it back too */
    if (ffmpeg) {
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "%s -v error -i %s -f null - 2>&1", ffmpeg, copy);
        FILE *pp = popen(cmd, "r");
        char out[256] = "";
        size_t got = pp ? fread(out, 1, sizeof(out) - 1, pp) : 0;
        int status = pp ? pclose(pp) : -1;
        CHECKF(status == 0 && got == 0, "ffmpeg: %d %s", status, out);
    }
}

/* An Ogg file of one logical stream with these packets. */
static const char *ogg_of(const char *name, const char *const *packets, const size_t *lens, int count)
{
    ogg_stream_state os;
    ogg_stream_init(&os, 1234);
    const char *p = path_in(name);
    FILE *f = fopen(p, "wb");
    for (int i = 0; i < count; i++) {
        ogg_packet op = {.packet = (unsigned char *)packets[i], .bytes = (long)lens[i], .b_o_s = i == 0,
                         .e_o_s = i == count - 1, .granulepos = i, .packetno = i};
        ogg_stream_packetin(&os, &op);
        ogg_page page;
        while (ogg_stream_flush(&os, &page)) {
            fwrite(page.header, 1, (size_t)page.header_len, f);
            fwrite(page.body, 1, (size_t)page.body_len, f);
        }
    }
    fclose(f);
    ogg_stream_clear(&os);
    return p;
}

static const char *ogg_error(const char *path)
{
    static char msg[256];
    oggopus_reader r;
    uint64_t packets, samples;
    msg[0] = '\0';
    if (oggopus_open(&r, path) || oggopus_check(&r, &packets, &samples))
        snprintf(msg, sizeof(msg), "%s", r.error);
    oggopus_close(&r);
    return msg;
}

TEST(ogg_opus_malformed_files_are_errors)
{
    CHECK(contains(ogg_error(path_in("missing.ogg")), "No such file"));
    write_file(path_in("empty.ogg"), "", 0);
    CHECK(contains(ogg_error(path_in("empty.ogg")), "not an Ogg file"));
    uint8_t garbage[20000];
    srand(11);
    for (size_t i = 0; i < sizeof(garbage); i++)
        garbage[i] = (uint8_t)rand();
    write_file(path_in("garbage.ogg"), garbage, sizeof(garbage));
    CHECK(contains(ogg_error(path_in("garbage.ogg")), "not an Ogg file"));

    static const char head[19] = "OpusHead\x01\x01\x38\x01\x80\xbb\0\0\0\0\0";
    static const char tags[16] = "OpusTags\0\0\0\0\0\0\0\0";
    static const char vorbis[30] = "\x01vorbis";
    static const char bad_toc[2] = {(char)(31 << 3 | 3), 0};
    static const char good[3] = {(char)(31 << 3), 1, 2};
    {
        const char *pk[] = {vorbis};
        size_t ln[] = {sizeof(vorbis)};
        CHECK(contains(ogg_error(ogg_of("vorbis.ogg", pk, ln, 1)), "Vorbis stream, not Opus"));
    }
    {
        const char *pk[] = {"hello"};
        size_t ln[] = {5};
        CHECK(contains(ogg_error(ogg_of("other.ogg", pk, ln, 1)), "not an Opus stream"));
    }
    {
        const char *pk[] = {head};
        size_t ln[] = {12};
        CHECK(contains(ogg_error(ogg_of("shorthead.ogg", pk, ln, 1)), "OpusHead too short"));
    }
    {
        const char *pk[] = {head};
        size_t ln[] = {sizeof(head)};
        CHECK(contains(ogg_error(ogg_of("notags.ogg", pk, ln, 1)), "no OpusTags"));
    }
    {
        const char *pk[] = {head, tags};
        size_t ln[] = {sizeof(head), sizeof(tags)};
        CHECK(contains(ogg_error(ogg_of("noaudio.ogg", pk, ln, 2)), "no audio packets"));
    }
    {
        const char *pk[] = {head, tags, good, bad_toc};
        size_t ln[] = {sizeof(head), sizeof(tags), sizeof(good), sizeof(bad_toc)};
        CHECK(contains(ogg_error(ogg_of("badtoc.ogg", pk, ln, 4)), "packet 1 is not a valid Opus packet"));
    }
    {
        char six[19];
        memcpy(six, head, sizeof(six));
        six[9] = 6;
        six[18] = 1;
        const char *pk[] = {six, tags, good};
        size_t ln[] = {sizeof(six), sizeof(tags), sizeof(good)};
        CHECK(contains(ogg_error(ogg_of("surround.ogg", pk, ln, 3)), "only mono and stereo"));
    }
    if (!have_media)
        return;
    CHECK(contains(ogg_error(ivf_path), "not an Ogg file"));
    size_t n;
    uint8_t *all = read_file(ogg_path, &n);
    REQUIRE(all);
    free(all);
    CHECK(contains(ogg_error(variant(ogg_path, "cut-head.ogg", 40, -1)), "truncated"));
    CHECK(contains(ogg_error(variant(ogg_path, "cut-end.ogg", n - 100, -1)), "truncated: the last Ogg page is incomplete"));
    /* one byte changed in the middle: that page fails its CRC and is lost */
    CHECK(contains(ogg_error(variant(ogg_path, "flipped.ogg", n, (long)n / 2)), "data missing after packet"));
    /* a file cut exactly after a page is a shorter, valid stream */
    oggopus_reader r;
    REQUIRE(oggopus_open(&r, ogg_path) == 0);
    long page_end = 0;
    {
        uint8_t *b = read_file(ogg_path, &n);
        /* the start of the last page */
        for (long i = (long)n - 4; i > 0; i--)
            if (!memcmp(b + i, "OggS", 4)) {
                page_end = i;
                break;
            }
        free(b);
    }
    oggopus_close(&r);
    uint64_t packets, samples;
    REQUIRE(oggopus_open(&r, variant(ogg_path, "cut-page.ogg", (size_t)page_end, -1)) == 0);
    CHECKF(oggopus_check(&r, &packets, &samples) == 0 && packets > 100, "%s", r.error);
    oggopus_close(&r);
}

static bool run_ffmpeg(const char *args, const char *out)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "%s -nostdin -hide_banner -loglevel error -y %s %s", ffmpeg, args, out);
    int rc = system(cmd);
    if (rc != 0)
        printf("# %s: exit %d\n", cmd, rc);
    return rc == 0;
}

int main(int argc, char **argv)
{
    ffmpeg = argc > 1 && argv[1][0] ? argv[1] : NULL;
    snprintf(dir, sizeof(dir), "/tmp/parley-media-XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(ivf_path, sizeof(ivf_path), "%s/x.ivf", dir);
    snprintf(ogg_path, sizeof(ogg_path), "%s/x.ogg", dir);
    if (ffmpeg)
        have_media =
            run_ffmpeg("-f lavfi -i testsrc=size=320x240:rate=30 -t 3 -c:v libvpx -b:v 600k -g 30 -f ivf", ivf_path) &&
            run_ffmpeg("-f lavfi -i sine=frequency=440:sample_rate=48000 -t 3 -c:a libopus -b:a 32k", ogg_path);
    if (!have_media)
        printf("# ffmpeg %s: the cases on real files are skipped\n", ffmpeg ? "failed" : "not found");
    RUN(opus_toc_gives_the_packet_duration);
    RUN(ivf_reads_ffmpegs_vp8);
    RUN(ivf_writer_round_trip);
    RUN(ivf_malformed_files_are_errors);
    RUN(ogg_opus_reads_ffmpegs_opus);
    RUN(ogg_opus_writer_round_trip);
    RUN(ogg_opus_malformed_files_are_errors);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", dir);
    return tap_done();
}
