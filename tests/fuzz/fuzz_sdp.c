/* fuzz_sdp.c - libFuzzer target for the SFU's SDP (sfu/sdp.h).
 *
 * The first input byte sets the answerer's options (bit 0 allow H.264, bit 1
 * prefer it, bit 2 accept RTX); the rest is an offer. Whatever the input, the
 * parser must return a status and never read past it. When it parses, the
 * answer is built and must itself parse back with one m-line per offered one;
 * the accepted m-lines are then offered to a subscriber as tracks, and that
 * offer must parse too. The input is also read as a trickled candidate and
 * checked as a subscriber's answer, for coverage. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const addrs[] = {"192.0.2.1", "2001:db8::1"};

static void must(int cond, const char *what, const char *err)
{
    if (!cond) {
        fprintf(stderr, "fuzz_sdp: %s: %s\n", what, err);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > PARLEY_SDP_MAX_TEXT + 1)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    char err[256];

    parley_sdp_candidate cand;
    (void)parley_sdp_candidate_parse(text, len, &cand, err, sizeof err);

    parley_sdp *offer = NULL;
    int rc = parley_sdp_parse(text, len, &offer, err, sizeof err);
    must((rc == 0) == (offer != NULL), "status and result disagree", err);
    if (rc != 0)
        return 0;

    parley_sdp_local l = {
        .ice_ufrag = "FuZz",
        .ice_pwd = "fuzzIcePassword0123456789",
        .fingerprint = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                       "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
        .addresses = addrs,
        .n_addresses = 2,
        .port = 50000,
        .allow_h264 = data[0] & 1,
        .prefer_h264 = data[0] & 2,
        .video_rtx = data[0] & 4,
    };
    parley_sdp_answer a;
    rc = parley_sdp_answer_build(offer, &l, &a, err, sizeof err);
    if (a.text) {
        parley_sdp *back = NULL;
        int brc = parley_sdp_parse(a.text, a.len, &back, err, sizeof err);
        must(brc == 0, "our answer does not parse", err);
        must(back->n_media == offer->n_media, "answer m-line count", "");
        for (size_t i = 0; i < a.n_media; i++)
            must(back->media[i].rejected == !a.media[i].accepted, "answer port and choice disagree", "");
        parley_sdp_free(back);
    }
    must(rc != PARLEY_SDP_OK || a.audio || a.video, "an answer with no media is OK", "");

    /* The accepted m-lines, forwarded to a subscriber. */
    parley_sdp_track tracks[PARLEY_SDP_MAX_MEDIA];
    char track_ids[PARLEY_SDP_MAX_MEDIA][16];
    size_t n = 0;
    for (size_t i = 0; i < a.n_media && n < PARLEY_SDP_MAX_MEDIA; i++) {
        const parley_sdp_choice *c = &a.media[i];
        if (!c->accepted)
            continue;
        snprintf(track_ids[n], sizeof track_ids[n], "t%zu", n);
        tracks[n] = (parley_sdp_track){
            .kind = c->kind, .mid = c->mid, .stream_id = "fuzz", .track_id = track_ids[n],
            .pt = c->codec.pt, .codec = c->codec.name,
            .rtx_pt = c->rtx_pt >= 0 ? (uint8_t)c->rtx_pt : 0,
            .ssrc = (uint32_t)(2 * n + 1), .rtx_ssrc = (uint32_t)(2 * n + 2),
            .audio_level_id = c->audio_level_id, .mid_ext_id = c->mid_ext_id,
        };
        n++;
    }
    char *sub = NULL;
    size_t sub_len = 0;
    rc = parley_sdp_offer_build(&l, tracks, n, &sub, &sub_len, err, sizeof err);
    must(rc == 0, "subscriber offer from accepted m-lines", err);
    parley_sdp *sub_parsed = NULL;
    must(parley_sdp_parse(sub, sub_len, &sub_parsed, err, sizeof err) == 0, "our offer does not parse", err);
    must(sub_parsed->n_media == n, "offer m-line count", "");
    bool accepted[PARLEY_SDP_MAX_MEDIA];
    (void)parley_sdp_answer_check(tracks, n, offer, accepted, err, sizeof err);
    parley_sdp_free(sub_parsed);
    free(sub);
    parley_sdp_answer_free(&a);
    parley_sdp_free(offer);
    return 0;
}
