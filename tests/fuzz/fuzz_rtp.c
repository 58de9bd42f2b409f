/* fuzz_rtp.c - libFuzzer target for the RTP forwarding path: the header
 * parser, header extension lookup (every id, both forms), the audio level,
 * the VP8 descriptor, in-place rewriting, the per-subscriber rewriter, the
 * retransmission buffer and the loss tracker.
 *
 * Besides not crashing, what the parsers say must hold together: the header,
 * payload and padding add up to the packet; every extension element and VP8
 * descriptor lies inside it; a rewritten copy parses to the same shape with
 * the new fields. The input is then also read as a run of sequence numbers for
 * the loss tracker and the reception statistics. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "nack.h"
#include "rtcp.h"
#include "rtp.h"

static parley_nack_buffer buffer;
static parley_nack_tracker tracker;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (parley_nack_buffer_init(&buffer, 64, 1000) != 0)
        abort();
    return 0;
}

static void check_packet(const uint8_t *data, size_t size)
{
    parley_rtp_header h;
    if (parley_rtp_parse(data, size, &h) != PARLEY_RTP_OK)
        return;
    if ((size_t)h.header_len + h.payload_len + h.padding_len != size || h.version != 2)
        abort();
    for (unsigned id = 0; id < 256; id++) {
        const uint8_t *d;
        size_t len;
        if (parley_rtp_ext_find(data, &h, (uint8_t)id, &d, &len) &&
            (d < data + h.ext_offset || d + len > data + h.ext_offset + h.ext_len))
            abort();
    }
    bool voice;
    uint8_t level;
    if (parley_rtp_audio_level(data, &h, 1, &voice, &level) && level > 127)
        abort();
    parley_vp8_desc vp8;
    bool key = false;
    bool vp8_ok = parley_vp8_parse(data + h.header_len, h.payload_len, &vp8);
    if (vp8_ok) {
        if (vp8.desc_len > h.payload_len || (vp8.keyframe && !vp8.frame_start))
            abort();
        key = vp8.keyframe;
    }

    static uint8_t copy[16384];
    memcpy(copy, data, size);
    parley_forwarder f;
    parley_pli_limiter lim;
    parley_pli_limiter_init(&lim, 0);
    parley_forward_init(&f, 0x5eed, 90000, true, 100, NULL, NULL);
    parley_forward_switch(&f, h.ssrc, &lim, 0);
    parley_forward_out o;
    if (parley_forward_packet(&f, &h, key, 1, &o) == PARLEY_FORWARD_SEND) {
        parley_forward_apply(&o, copy);
        if (vp8_ok) {
            parley_vp8_desc again;
            parley_forward_vp8(&f, &vp8, copy + h.header_len);
            if (!parley_vp8_parse(copy + h.header_len, h.payload_len, &again) ||
                again.desc_len != vp8.desc_len || again.keyframe != vp8.keyframe ||
                again.picture_id_16 != vp8.picture_id_16 || again.keyidx != vp8.keyidx)
                abort();
        }
        parley_rtp_header g;
        if (parley_rtp_parse(copy, size, &g) != PARLEY_RTP_OK || g.ssrc != 0x5eed ||
            g.payload_type != 100 || g.seq != o.seq || g.timestamp != o.timestamp ||
            g.marker != h.marker || g.header_len != h.header_len || g.payload_len != h.payload_len)
            abort();
    } else if (key) {
        abort(); /* the first keyframe of the awaited source always goes */
    }

    size_t len;
    if (parley_nack_buffer_put(&buffer, h.seq, data, size, 0)) {
        const uint8_t *got = parley_nack_buffer_get(&buffer, h.seq, &len, 0);
        if (!got || len != size || memcmp(got, data, size) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    check_packet(data, size);

    parley_nack_tracker_init(&tracker, 3, 20);
    parley_rtcp_recv_stats stats;
    parley_rtcp_report_block rb;
    parley_rtcp_stats_init(&stats, 1, 90000);
    uint16_t out[64];
    int64_t now = 0;
    for (size_t i = 0; i + 1 < size; i += 2) {
        parley_nack_tracker_on_packet(&tracker, parley_rd16(data + i));
        if (parley_nack_tracker_pending(&tracker) > PARLEY_NACK_MAX_MISSING)
            abort();
        now += data[i] & 0x3f;
        parley_rtcp_stats_packet(&stats, parley_rd16(data + i), (uint32_t)data[i] << 24, now);
        if ((i & 15) == 0 && parley_nack_tracker_collect(&tracker, now, 30, out, 64) > 64)
            abort();
    }
    if (size >= 2 && !parley_rtcp_stats_report(&stats, now, &rb))
        abort();
    return 0;
}
