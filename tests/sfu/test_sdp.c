/* test_sdp.c - the SFU's SDP: browser offers parsed field by field, answers
 * built and parsed back, the 105 case, malformed input, and the subscriber
 * offer / answer round trip.
 *   test_sdp CHROME_OFFER FIREFOX_OFFER CHROME_SIMULCAST_OFFER */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/tap.h"
#include "sdp.h"

#define FP "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"

static char *fixture[3];
static size_t fixture_len[3];

static const char *const addrs[] = {"198.51.100.10", "2001:db8::10"};

static parley_sdp_local local(void)
{
    parley_sdp_local l = {
        .ice_ufrag = "PaRl",
        .ice_pwd = "parleyIcePassword0123456789",
        .fingerprint = FP,
        .addresses = addrs,
        .n_addresses = 2,
        .port = 40000,
        .session_id = 42,
        .session_version = 7,
    };
    return l;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(PARLEY_SDP_MAX_TEXT + 1);
    *len = buf ? fread(buf, 1, PARLEY_SDP_MAX_TEXT, f) : 0;
    fclose(f);
    return buf;
}

static parley_sdp *parse_str(const char *text, int *rc, char *err, size_t errlen)
{
    parley_sdp *s = NULL;
    *rc = parley_sdp_parse(text, strlen(text), &s, err, errlen);
    return s;
}

/* ---- Chromium ---------------------------------------------------------- */

TEST(chrome_offer_parsed)
{
    parley_sdp *s = NULL;
    char err[256];
    int rc = parley_sdp_parse(fixture[0], fixture_len[0], &s, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    REQUIRE(s);
    CHECK(strcmp(s->origin_user, "-") == 0);
    CHECK(strcmp(s->session_id, "4215775240449105457") == 0);
    CHECK(strcmp(s->session_version, "2") == 0);
    CHECK(!s->ice_lite && s->extmap_allow_mixed);
    CHECK(strcmp(s->msid_semantic, "WMS 5e9d2a1c-3f4b-4c1d-9a8e-7b6c5d4e3f2a") == 0);
    CHECK(s->n_bundle == 2 && strcmp(s->bundle[0], "0") == 0 && strcmp(s->bundle[1], "1") == 0);
    REQUIRE(s->n_media == 2);

    const parley_sdp_media *a = &s->media[0];
    CHECK(a->kind == PARLEY_SDP_AUDIO && strcmp(a->kind_name, "audio") == 0);
    CHECK(a->port == 9 && !a->rejected && strcmp(a->proto, "UDP/TLS/RTP/SAVPF") == 0);
    CHECK(strcmp(a->mid, "0") == 0 && a->direction == PARLEY_SDP_SENDRECV);
    CHECK(a->rtcp_mux && a->rtcp_rsize && !a->bundle_only);
    CHECK(a->n_codecs == 8);
    const parley_sdp_codec *opus = parley_sdp_media_codec(a, 111);
    REQUIRE(opus);
    CHECK(opus == &a->codecs[0]);
    CHECK(opus->has_rtpmap && strcmp(opus->name, "opus") == 0 && opus->clock == 48000 && opus->channels == 2);
    CHECK(strcmp(opus->fmtp, "minptime=10;useinbandfec=1") == 0);
    CHECK(opus->fb == PARLEY_SDP_FB_TRANSPORT_CC && opus->apt == -1);
    const parley_sdp_codec *pcmu = parley_sdp_media_codec(a, 0);
    CHECK(pcmu && strcmp(pcmu->name, "PCMU") == 0 && pcmu->clock == 8000 && pcmu->channels == 0);
    CHECK(parley_sdp_media_codec(a, 96) == NULL);
    CHECK(a->n_extmaps == 4);
    CHECK(parley_sdp_media_extmap_id(a, PARLEY_SDP_EXT_AUDIO_LEVEL) == 1);
    CHECK(parley_sdp_media_extmap_id(a, PARLEY_SDP_EXT_MID) == 4);
    CHECK(parley_sdp_media_extmap_id(a, "urn:nothing") == 0);
    CHECK(strcmp(a->msid_stream, "5e9d2a1c-3f4b-4c1d-9a8e-7b6c5d4e3f2a") == 0);
    CHECK(strcmp(a->msid_track, "8a1f0c2e-6d3b-4e5f-a7c9-1b2d3e4f5a6b") == 0);
    CHECK(a->n_ssrcs == 1 && a->ssrcs[0].ssrc == 3735928559u);
    CHECK(strcmp(a->ssrcs[0].cname, "dK3vQm9Xz1pL7wYt") == 0);
    CHECK(strcmp(a->ssrcs[0].msid_track, "8a1f0c2e-6d3b-4e5f-a7c9-1b2d3e4f5a6b") == 0);
    CHECK(strcmp(a->transport.ice_ufrag, "EsAw") == 0);
    CHECK(strcmp(a->transport.ice_pwd, "P2uYro0UCOQ4zxjKXaWCBui1") == 0);
    CHECK(strcmp(a->transport.ice_options, "trickle") == 0);
    CHECK(strcmp(a->transport.fingerprint_alg, "sha-256") == 0);
    CHECK(strncmp(a->transport.fingerprint, "D2:FA:0E:C3", 11) == 0 && strlen(a->transport.fingerprint) == 95);
    CHECK(a->transport.setup == PARLEY_SDP_SETUP_ACTPASS);
    REQUIRE(a->n_candidates == 3);
    const parley_sdp_candidate *c = &a->candidates[0];
    CHECK(strcmp(c->foundation, "1467250027") == 0 && c->component == 1);
    CHECK(strcmp(c->transport, "udp") == 0 && c->priority == 2122260223u);
    CHECK(strcmp(c->address, "192.168.1.23") == 0 && c->port == 54321 && strcmp(c->type, "host") == 0);
    CHECK(strcmp(a->candidates[1].transport, "tcp") == 0 && a->candidates[1].port == 9);
    CHECK(strcmp(a->candidates[2].type, "srflx") == 0 && strcmp(a->candidates[2].address, "203.0.113.7") == 0);

    const parley_sdp_media *v = &s->media[1];
    CHECK(v->kind == PARLEY_SDP_VIDEO && strcmp(v->mid, "1") == 0);
    CHECK(v->n_codecs == 25);
    const parley_sdp_codec *vp8 = parley_sdp_media_codec(v, 96);
    REQUIRE(vp8);
    CHECK(strcmp(vp8->name, "VP8") == 0 && vp8->clock == 90000 && vp8->fmtp[0] == '\0');
    CHECK(vp8->fb == (PARLEY_SDP_FB_NACK | PARLEY_SDP_FB_NACK_PLI | PARLEY_SDP_FB_CCM_FIR |
                      PARLEY_SDP_FB_GOOG_REMB | PARLEY_SDP_FB_TRANSPORT_CC));
    CHECK(parley_sdp_media_rtx_for(v, 96) == 97);
    CHECK(parley_sdp_media_rtx_for(v, 106) == 107);
    CHECK(parley_sdp_media_rtx_for(v, 118) == -1);
    const parley_sdp_codec *rtx = parley_sdp_media_codec(v, 97);
    CHECK(rtx && strcmp(rtx->name, "rtx") == 0 && rtx->apt == 96);
    const parley_sdp_codec *h = parley_sdp_media_codec(v, 106);
    CHECK(h && strcmp(h->fmtp, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f") == 0);
    const parley_sdp_codec *av1 = parley_sdp_media_codec(v, 45);
    CHECK(av1 && strcmp(av1->name, "AV1") == 0);
    const parley_sdp_codec *vp9 = parley_sdp_media_codec(v, 100);
    CHECK(vp9 && strcmp(vp9->name, "VP9") == 0 && strcmp(vp9->fmtp, "profile-id=2") == 0);
    CHECK(v->n_extmaps == 11 && parley_sdp_media_extmap_id(v, PARLEY_SDP_EXT_MID) == 4);
    CHECK(parley_sdp_media_extmap_id(v, PARLEY_SDP_EXT_AUDIO_LEVEL) == 0);
    CHECK(v->n_groups == 1 && strcmp(v->groups[0].semantics, "FID") == 0);
    CHECK(v->groups[0].n_ssrcs == 2 && v->groups[0].ssrcs[0] == 2882400001u &&
          v->groups[0].ssrcs[1] == 2882400002u);
    CHECK(v->n_ssrcs == 2 && v->n_candidates == 0);
    CHECK(parley_sdp_in_bundle(s, "1") && !parley_sdp_in_bundle(s, "2"));
    parley_sdp_free(s);
}

TEST(chrome_answer_vp8)
{
    parley_sdp *offer = NULL, *ans = NULL;
    char err[256];
    REQUIRE(parley_sdp_parse(fixture[0], fixture_len[0], &offer, err, sizeof err) == 0);
    parley_sdp_local l = local();
    parley_sdp_answer a;
    int rc = parley_sdp_answer_build(offer, &l, &a, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    REQUIRE(a.text && a.n_media == 2);
    CHECK(a.audio && a.video);
    CHECK(strcmp(a.remote.ice_ufrag, "EsAw") == 0 && a.remote.setup == PARLEY_SDP_SETUP_ACTPASS);
    CHECK(strlen(a.text) == a.len);
    const parley_sdp_choice *ca = &a.media[0], *cv = &a.media[1];
    CHECK(ca->accepted && ca->receiving && ca->direction == PARLEY_SDP_RECVONLY);
    CHECK(ca->codec.pt == 111 && ca->rtx_pt == -1 && ca->audio_level_id == 1 && ca->mid_ext_id == 4);
    CHECK(ca->ssrc == 3735928559u && ca->rtx_ssrc == 0);
    CHECK(strcmp(ca->msid_track, "8a1f0c2e-6d3b-4e5f-a7c9-1b2d3e4f5a6b") == 0);
    CHECK(cv->accepted && cv->codec.pt == 96 && cv->rtx_pt == -1 && cv->mid_ext_id == 4);
    CHECK(cv->audio_level_id == 0 && cv->ssrc == 2882400001u && cv->rtx_ssrc == 2882400002u);

    rc = parley_sdp_parse(a.text, a.len, &ans, err, sizeof err);
    CHECKF(rc == 0, "answer does not parse: %s", err);
    REQUIRE(ans && ans->n_media == 2);
    CHECK(ans->ice_lite);
    CHECK(strcmp(ans->session_id, "42") == 0 && strcmp(ans->session_version, "7") == 0);
    CHECK(ans->n_bundle == 2 && strcmp(ans->bundle[0], "0") == 0 && strcmp(ans->bundle[1], "1") == 0);
    for (size_t i = 0; i < 2; i++) {
        const parley_sdp_media *m = &ans->media[i];
        CHECK(m->port == 40000 && !m->rejected && strcmp(m->proto, "UDP/TLS/RTP/SAVPF") == 0);
        CHECK(m->direction == PARLEY_SDP_RECVONLY && m->rtcp_mux && !m->rtcp_rsize);
        CHECK(strcmp(m->transport.ice_ufrag, "PaRl") == 0);
        CHECK(strcmp(m->transport.ice_pwd, "parleyIcePassword0123456789") == 0);
        CHECK(strcmp(m->transport.fingerprint_alg, "sha-256") == 0 && strcmp(m->transport.fingerprint, FP) == 0);
        CHECK(m->transport.setup == PARLEY_SDP_SETUP_PASSIVE);
        CHECK(m->n_ssrcs == 0 && m->n_groups == 0 && m->msid_stream[0] == '\0');
        REQUIRE(m->n_candidates == 2);
        CHECK(strcmp(m->candidates[0].address, "198.51.100.10") == 0);
        CHECK(strcmp(m->candidates[1].address, "2001:db8::10") == 0);
        for (size_t k = 0; k < 2; k++) {
            CHECK(m->candidates[k].port == 40000 && m->candidates[k].component == 1);
            CHECK(strcmp(m->candidates[k].transport, "udp") == 0 && strcmp(m->candidates[k].type, "host") == 0);
        }
        CHECK(m->candidates[0].priority > m->candidates[1].priority);
        CHECK(strcmp(m->candidates[0].foundation, m->candidates[1].foundation) != 0);
        CHECK(m->end_of_candidates);
        CHECK(parley_sdp_media_extmap_id(m, PARLEY_SDP_EXT_MID) == 4);
    }
    const parley_sdp_media *am = &ans->media[0], *vm = &ans->media[1];
    CHECK(strcmp(am->mid, "0") == 0 && am->kind == PARLEY_SDP_AUDIO);
    REQUIRE(am->n_codecs == 1);
    CHECK(am->codecs[0].pt == 111 && strcmp(am->codecs[0].name, "opus") == 0);
    CHECK(am->codecs[0].clock == 48000 && am->codecs[0].channels == 2);
    CHECK(strcmp(am->codecs[0].fmtp, "minptime=10;useinbandfec=1") == 0 && am->codecs[0].fb == 0);
    CHECK(am->n_extmaps == 2 && parley_sdp_media_extmap_id(am, PARLEY_SDP_EXT_AUDIO_LEVEL) == 1);
    CHECK(strcmp(vm->mid, "1") == 0 && vm->kind == PARLEY_SDP_VIDEO);
    REQUIRE(vm->n_codecs == 1);
    CHECK(vm->codecs[0].pt == 96 && strcmp(vm->codecs[0].name, "VP8") == 0 && vm->codecs[0].clock == 90000);
    CHECK(vm->codecs[0].fmtp[0] == '\0');
    /* goog-remb: the publisher acts on the SFU's REMB; transport-cc stays out */
    CHECK(vm->codecs[0].fb == (PARLEY_SDP_FB_NACK | PARLEY_SDP_FB_NACK_PLI | PARLEY_SDP_FB_CCM_FIR |
                               PARLEY_SDP_FB_GOOG_REMB));
    CHECK(vm->n_extmaps == 1);
    CHECK(strstr(a.text, "\r\na=ice-lite\r\n") != NULL);
    CHECK(strstr(a.text, "c=IN IP4 198.51.100.10\r\n") != NULL);
    CHECK(strstr(a.text, "a=rtcp-fb:96 goog-remb\r\n") != NULL && strstr(a.text, "transport-cc") == NULL);
    parley_sdp_free(ans);
    parley_sdp_answer_free(&a);
    parley_sdp_answer_free(&a); /* twice is fine */
    parley_sdp_free(offer);
}

TEST(chrome_answer_h264_rtx)
{
    parley_sdp *offer = NULL, *ans = NULL;
    char err[256];
    REQUIRE(parley_sdp_parse(fixture[0], fixture_len[0], &offer, err, sizeof err) == 0);
    parley_sdp_local l = local();
    l.allow_h264 = l.prefer_h264 = l.video_rtx = true;
    parley_sdp_answer a;
    REQUIRE(parley_sdp_answer_build(offer, &l, &a, err, sizeof err) == 0);
    const parley_sdp_choice *cv = &a.media[1];
    CHECK(cv->codec.pt == 106 && strcmp(cv->codec.name, "H264") == 0 && cv->rtx_pt == 107);
    CHECK(strcmp(cv->codec.fmtp, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f") == 0);
    REQUIRE(parley_sdp_parse(a.text, a.len, &ans, err, sizeof err) == 0);
    const parley_sdp_media *vm = &ans->media[1];
    REQUIRE(vm->n_codecs == 2);
    CHECK(vm->codecs[0].pt == 106 && vm->codecs[1].pt == 107);
    CHECK(strcmp(vm->codecs[0].fmtp, cv->codec.fmtp) == 0);
    CHECK(parley_sdp_media_rtx_for(vm, 106) == 107);
    CHECK(ans->media[0].n_codecs == 1); /* no RTX for audio */
    parley_sdp_free(ans);
    parley_sdp_answer_free(&a);

    /* allowed but not preferred: VP8 first, with its RTX */
    l.prefer_h264 = false;
    REQUIRE(parley_sdp_answer_build(offer, &l, &a, err, sizeof err) == 0);
    CHECK(a.media[1].codec.pt == 96 && a.media[1].rtx_pt == 97);
    parley_sdp_answer_free(&a);
    parley_sdp_free(offer);
}

TEST(chrome_simulcast_recorded)
{
    parley_sdp *s = NULL;
    char err[256];
    int rc = parley_sdp_parse(fixture[2], fixture_len[2], &s, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    REQUIRE(s && s->n_media == 1);
    const parley_sdp_media *v = &s->media[0];
    CHECK(v->direction == PARLEY_SDP_SENDONLY);
    REQUIRE(v->n_rids == 3);
    CHECK(strcmp(v->rids[0].id, "q") == 0 && strcmp(v->rids[2].id, "f") == 0 && v->rids[1].send);
    CHECK(strcmp(v->simulcast, "send q;h;f") == 0);
    /* a=rtcp-fb:* nack applies to every payload type */
    CHECK(parley_sdp_media_codec(v, 96)->fb ==
          (PARLEY_SDP_FB_NACK | PARLEY_SDP_FB_NACK_PLI | PARLEY_SDP_FB_CCM_FIR));
    CHECK(parley_sdp_media_codec(v, 97)->fb == PARLEY_SDP_FB_NACK);
    parley_sdp_local l = local();
    parley_sdp_answer a;
    REQUIRE(parley_sdp_answer_build(s, &l, &a, err, sizeof err) == 0);
    CHECK(a.video && !a.audio && a.media[0].ssrc == 0);
    /* simulcast: three layers lowest first, their SSRCs to learn from the RID
     * extension; no RTX taken, so no repaired-rtp-stream-id */
    const parley_sdp_choice *ch = &a.media[0];
    REQUIRE(ch->n_layers == 3);
    CHECK(strcmp(ch->layers[0], "q") == 0 && strcmp(ch->layers[1], "h") == 0 &&
          strcmp(ch->layers[2], "f") == 0);
    CHECK(ch->rid_ext_id == 10 && ch->rrid_ext_id == 0);
    CHECK(strstr(a.text, "a=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\n") != NULL);
    CHECK(strstr(a.text, "a=simulcast:recv q;h;f\r\n") != NULL);
    CHECK(strstr(a.text, "a=extmap:10 " PARLEY_SDP_EXT_RID "\r\n") != NULL);
    CHECK(strstr(a.text, "repaired-rtp-stream-id") == NULL);
    parley_sdp *back = NULL;
    CHECKF(parley_sdp_parse(a.text, a.len, &back, err, sizeof err) == 0, "%s", err);
    CHECK(back && back->media[0].n_rids == 3 && !back->media[0].rids[0].send);
    CHECK(back && strcmp(back->media[0].simulcast, "recv q;h;f") == 0);
    parley_sdp_free(back);
    parley_sdp_answer_free(&a);
    /* with RTX: the repaired stream's extension too */
    l.video_rtx = true;
    REQUIRE(parley_sdp_answer_build(s, &l, &a, err, sizeof err) == 0);
    CHECK(a.media[0].rtx_pt == 97 && a.media[0].rrid_ext_id == 11);
    CHECK(strstr(a.text, "a=extmap:11 " PARLEY_SDP_EXT_RRID "\r\n") != NULL);
    parley_sdp_answer_free(&a);
    parley_sdp_free(s);
    /* paused and alternative layers, an unknown rid, one layer, no extension */
    static const struct {
        const char *rids, *sim, *ext;
        size_t n;
        const char *first;
    } cases[] = {
        {"a=rid:a send\r\na=rid:b send\r\na=rid:c send\r\n", "send ~a;b,c;x", PARLEY_SDP_EXT_RID, 2, "a"},
        {"a=rid:a send\r\n", "send a", PARLEY_SDP_EXT_RID, 0, NULL},
        {"a=rid:a send\r\na=rid:b send\r\n", "send a;b", PARLEY_SDP_EXT_MID, 0, NULL},
        {"a=rid:a recv\r\na=rid:b recv\r\n", "send a;b", PARLEY_SDP_EXT_RID, 0, NULL},
        {"a=rid:a send\r\na=rid:b send\r\na=rid:c send\r\na=rid:d send\r\n", "send a;b;c;d",
         PARLEY_SDP_EXT_RID, 3, "a"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[2048];
        snprintf(text, sizeof text,
                 "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE v\r\n"
                 "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
                 "a=fingerprint:sha-256 " FP "\r\na=setup:actpass\r\n"
                 "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:v\r\na=sendonly\r\n"
                 "a=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=extmap:3 %s\r\n%sa=simulcast:%s\r\n",
                 cases[i].ext, cases[i].rids, cases[i].sim);
        parley_sdp *o = NULL;
        REQUIRE(parley_sdp_parse(text, strlen(text), &o, err, sizeof err) == 0);
        int rc2 = parley_sdp_answer_build(o, &l, &a, err, sizeof err);
        CHECKF(a.n_media == 1 && a.media[0].n_layers == cases[i].n, "case %zu: rc %d, %zu layers", i, rc2,
               a.n_media ? a.media[0].n_layers : 0);
        if (cases[i].first && a.n_media)
            CHECKF(strcmp(a.media[0].layers[0], cases[i].first) == 0, "case %zu", i);
        parley_sdp_answer_free(&a);
        parley_sdp_free(o);
    }
}

static const char SIM_OFFER[] =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE v\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
    "a=fingerprint:sha-256 " FP "\r\na=setup:active\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=mid:v\r\na=sendonly\r\na=rtcp-mux\r\n"
    "a=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
    "a=ssrc-group:SIM 11 12 13\r\na=ssrc-group:FID 11 21\r\na=ssrc-group:FID 12 22\r\n"
    "a=ssrc:11 cname:c\r\na=ssrc:11 msid:s t\r\na=ssrc:21 cname:c\r\na=x-unknown:ignored value\r\n";

TEST(legacy_sim_group_and_session_transport)
{
    int rc;
    char err[256];
    parley_sdp *s = parse_str(SIM_OFFER, &rc, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    REQUIRE(s);
    const parley_sdp_media *v = &s->media[0];
    CHECK(v->n_groups == 3 && strcmp(v->groups[0].semantics, "SIM") == 0 && v->groups[0].n_ssrcs == 3);
    /* session-level transport applies to the m-line */
    CHECK(strcmp(v->transport.ice_ufrag, "abcd") == 0 && v->transport.setup == PARLEY_SDP_SETUP_ACTIVE);
    CHECK(strcmp(v->transport.fingerprint, FP) == 0);
    parley_sdp_local l = local();
    l.video_rtx = true;
    parley_sdp_answer a;
    REQUIRE(parley_sdp_answer_build(s, &l, &a, err, sizeof err) == 0);
    CHECK(a.media[0].ssrc == 11 && a.media[0].rtx_ssrc == 21 && a.media[0].rtx_pt == 97);
    CHECK(strcmp(a.media[0].msid_stream, "s") == 0 && strcmp(a.media[0].msid_track, "t") == 0);
    parley_sdp_answer_free(&a);
    parley_sdp_free(s);
}

/* ---- Firefox ----------------------------------------------------------- */

TEST(firefox_offer_and_answer)
{
    parley_sdp *s = NULL, *ans = NULL;
    char err[256];
    int rc = parley_sdp_parse(fixture[1], fixture_len[1], &s, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    REQUIRE(s && s->n_media == 3);
    CHECK(strcmp(s->origin_user, "mozilla...THIS_IS_SDPARTA-99.0") == 0);
    CHECK(strcmp(s->msid_semantic, "WMS *") == 0);
    CHECK(s->n_bundle == 3);
    const parley_sdp_media *a = &s->media[0], *v = &s->media[1], *d = &s->media[2];
    CHECK(a->direction == PARLEY_SDP_SENDONLY && v->direction == PARLEY_SDP_SENDONLY);
    CHECK(strcmp(a->transport.fingerprint_alg, "sha-256") == 0); /* from the session */
    CHECK(strncmp(a->transport.fingerprint, "8B:87:09", 8) == 0);
    CHECK(strcmp(a->transport.ice_options, "trickle") == 0);  /* from the session */
    CHECK(strcmp(a->transport.ice_ufrag, "3c9f1b2e") == 0);
    CHECK(strcmp(a->msid_stream, "{7c1e5a3b-2d4f-4e6a-8b9c-0d1e2f3a4b5c}") == 0);
    CHECK(strcmp(a->msid_track, "{a1b2c3d4-e5f6-4789-abcd-ef0123456789}") == 0);
    CHECK(parley_sdp_media_codec(a, 109)->channels == 2);
    CHECK(parley_sdp_media_codec(a, 9)->channels == 1);
    CHECK(strcmp(parley_sdp_media_codec(a, 101)->fmtp, "0-15") == 0);
    CHECK(a->n_extmaps == 3 && parley_sdp_media_extmap_id(a, PARLEY_SDP_EXT_MID) == 3);
    CHECK(parley_sdp_media_rtx_for(v, 120) == 124 && parley_sdp_media_rtx_for(v, 126) == 127);
    CHECK(v->n_groups == 1 && v->groups[0].ssrcs[0] == 3046218107u);
    CHECK(d->kind == PARLEY_SDP_APPLICATION && d->n_codecs == 0 && d->sctp_port == 5000);
    CHECK(strcmp(d->fmt0, "webrtc-datachannel") == 0 && strcmp(a->fmt0, "109") == 0);
    CHECK(strcmp(d->proto, "UDP/DTLS/SCTP") == 0 && d->direction == PARLEY_SDP_SENDRECV);

    parley_sdp_local l = local();
    l.allow_h264 = true;
    parley_sdp_answer an;
    rc = parley_sdp_answer_build(s, &l, &an, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    REQUIRE(an.n_media == 3);
    CHECK(an.audio && an.video);
    CHECK(an.media[0].codec.pt == 109 && an.media[0].ssrc == 1414743394u);
    CHECK(an.media[1].codec.pt == 120 && an.media[1].rtx_ssrc == 1290145326u);
    CHECK(!an.media[2].accepted && strcmp(an.media[2].reason, "not audio or video") == 0);
    REQUIRE(parley_sdp_parse(an.text, an.len, &ans, err, sizeof err) == 0);
    CHECK(ans->n_bundle == 2);
    CHECK(ans->media[0].direction == PARLEY_SDP_RECVONLY && ans->media[1].direction == PARLEY_SDP_RECVONLY);
    CHECK(parley_sdp_media_extmap_id(&ans->media[0], PARLEY_SDP_EXT_AUDIO_LEVEL) == 1);
    CHECK(parley_sdp_media_extmap_id(&ans->media[0], PARLEY_SDP_EXT_MID) == 3);
    const parley_sdp_media *dm = &ans->media[2];
    CHECK(dm->rejected && dm->port == 0 && strcmp(dm->mid, "2") == 0 && dm->kind == PARLEY_SDP_APPLICATION);
    CHECK(strcmp(dm->proto, "UDP/DTLS/SCTP") == 0 && dm->direction == PARLEY_SDP_INACTIVE);
    CHECK(!parley_sdp_in_bundle(ans, "2"));
    parley_sdp_free(ans);
    parley_sdp_answer_free(&an);

    /* Firefox's H.264 (parameters in another order) when preferred */
    l.prefer_h264 = l.video_rtx = true;
    REQUIRE(parley_sdp_answer_build(s, &l, &an, err, sizeof err) == 0);
    CHECK(an.media[1].codec.pt == 126 && an.media[1].rtx_pt == 127);
    parley_sdp_answer_free(&an);
    parley_sdp_free(s);
}

/* ---- 105, rejected m-lines, unusable offers ------------------------------ */

#define HEAD                                                                                       \
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"                   \
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 " FP "\r\n" \
    "a=setup:actpass\r\n"
#define AUDIO(dir) "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=" dir "\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
#define VIDEO(dir) "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=" dir "\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n"

static int answer_status(const char *text, parley_sdp_answer *a, char *err, size_t errlen)
{
    int rc;
    parley_sdp *s = parse_str(text, &rc, err, errlen);
    if (!s)
        return 100 + rc;
    parley_sdp_local l = local();
    rc = parley_sdp_answer_build(s, &l, a, err, errlen);
    parley_sdp_free(s);
    return rc;
}

TEST(publish_without_media_is_105)
{
    parley_sdp_answer a;
    char err[256];
    /* a subscriber-style offer: nothing sent to us */
    CHECK(answer_status(HEAD AUDIO("recvonly") VIDEO("inactive"), &a, err, sizeof err) == PARLEY_SDP_ENOMEDIA);
    CHECK(!a.audio && !a.video && a.n_media == 2 && a.media[0].accepted && !a.media[0].receiving);
    CHECK(a.media[0].direction == PARLEY_SDP_INACTIVE);
    parley_sdp_answer_free(&a);
    /* no supported codec anywhere */
    CHECK(answer_status(HEAD "m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\na=rtcp-mux\r\na=rtpmap:0 PCMU/8000\r\n"
                             "m=video 9 UDP/TLS/RTP/SAVPF 98\r\na=mid:1\r\na=rtcp-mux\r\na=rtpmap:98 VP9/90000\r\n",
                        &a, err, sizeof err) == PARLEY_SDP_ENOMEDIA);
    CHECK(strcmp(a.media[0].reason, "no common codec") == 0 && strcmp(a.media[1].reason, "no common codec") == 0);
    CHECK(a.text && strstr(a.text, "m=audio 0 UDP/TLS/RTP/SAVPF 0\r\n") && strstr(a.text, "m=video 0 UDP/TLS/RTP/SAVPF 98\r\n"));
    CHECK(!strstr(a.text, "a=group:BUNDLE"));
    parley_sdp_answer_free(&a);
    /* every m-line rejected by the offerer */
    CHECK(answer_status("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 0 UDP/TLS/RTP/SAVPF 111\r\n"
                        "a=mid:0\r\na=rtpmap:111 opus/48000/2\r\n",
                        &a, err, sizeof err) == PARLEY_SDP_ENOMEDIA);
    CHECK(strcmp(a.media[0].reason, "rejected by the offerer") == 0);
    parley_sdp_answer_free(&a);
    /* no m-line at all */
    CHECK(answer_status("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", &a, err, sizeof err) ==
          PARLEY_SDP_ENOMEDIA);
    parley_sdp_answer_free(&a);
    /* audio alone is enough; the video m-line is rejected */
    CHECK(answer_status(HEAD AUDIO("sendonly") "m=video 9 UDP/TLS/RTP/SAVPF 98\r\na=mid:1\r\na=rtcp-mux\r\n"
                                               "a=rtpmap:98 VP9/90000\r\n",
                        &a, err, sizeof err) == 0);
    CHECK(a.audio && !a.video && !a.media[1].accepted);
    CHECK(strstr(a.text, "a=group:BUNDLE 0\r\n") && strstr(a.text, "m=video 0 "));
    parley_sdp_answer_free(&a);
}

TEST(bundle_only_is_not_rejected)
{
    parley_sdp_answer a;
    char err[256];
    int rc = answer_status(HEAD AUDIO("sendonly")
                           "m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=bundle-only\r\na=mid:1\r\na=sendonly\r\n"
                           "a=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n",
                           &a, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    CHECK(a.n_media == 2 && a.media[1].accepted && a.video);
    CHECK(a.text && strstr(a.text, "m=video 40000 "));
    parley_sdp_answer_free(&a);
    /* the transport comes from the BUNDLE-tagged m-line; the bundle-only one has none */
    rc = answer_status("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 1 0\r\n"
                       "m=audio 0 UDP/TLS/RTP/SAVPF 111\r\na=bundle-only\r\na=mid:0\r\na=rtcp-mux\r\n"
                       "a=rtpmap:111 opus/48000/2\r\n"
                       "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=ice-ufrag:vvvv\r\n"
                       "a=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 " FP "\r\n"
                       "a=setup:active\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\n",
                       &a, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    CHECK(a.audio && a.video && strcmp(a.remote.ice_ufrag, "vvvv") == 0);
    CHECK(a.remote.setup == PARLEY_SDP_SETUP_ACTIVE);
    parley_sdp_answer_free(&a);
}

TEST(bundle_and_rtcp_mux_required)
{
    parley_sdp_answer a;
    char err[256];
    /* video outside BUNDLE and audio without rtcp-mux: both rejected -> 105 */
    CHECK(answer_status("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
                        "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 " FP "\r\n"
                        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\na=rtpmap:111 opus/48000/2\r\n" VIDEO("sendrecv"),
                        &a, err, sizeof err) == PARLEY_SDP_ENOMEDIA);
    CHECK(strcmp(a.media[0].reason, "no rtcp-mux") == 0);
    CHECK(strcmp(a.media[1].reason, "not in the BUNDLE group") == 0);
    parley_sdp_answer_free(&a);
    /* plain RTP (no DTLS-SRTP) is refused; the rejected line echoes the offer's */
    CHECK(answer_status(HEAD "m=audio 9 RTP/AVP 111\r\na=mid:0\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\n"
                             VIDEO("sendonly"), &a, err, sizeof err) == 0);
    CHECK(strcmp(a.media[0].reason, "not UDP/TLS/RTP/SAVPF") == 0 && a.video && !a.audio);
    CHECK(a.text && strstr(a.text, "m=audio 0 RTP/AVP 111\r\n"));
    parley_sdp_answer_free(&a);
}

TEST(unusable_transport)
{
    parley_sdp_answer a;
    char err[256] = "";
    CHECK(answer_status("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
                        "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n" AUDIO("sendrecv"),
                        &a, err, sizeof err) == PARLEY_SDP_EUNSUPPORTED);
    CHECK(strstr(err, "fingerprint") != NULL);
    CHECK(a.text == NULL && a.media == NULL);
    CHECK(answer_status("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
                        "a=fingerprint:sha-256 " FP "\r\n" AUDIO("sendrecv"),
                        &a, err, sizeof err) == PARLEY_SDP_EUNSUPPORTED);
    CHECK(strstr(err, "ICE") != NULL);
    CHECK(answer_status("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
                        "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=fingerprint:sha-256 " FP "\r\n"
                        "a=setup:passive\r\n" AUDIO("sendrecv"),
                        &a, err, sizeof err) == PARLEY_SDP_EUNSUPPORTED);
    CHECK(strstr(err, "DTLS") != NULL);
}

TEST(direction_mirrored)
{
    static const struct {
        const char *offer;
        parley_sdp_direction answer;
        bool receiving;
    } cases[] = {
        {"sendonly", PARLEY_SDP_RECVONLY, true},
        {"sendrecv", PARLEY_SDP_RECVONLY, true},
        {"recvonly", PARLEY_SDP_INACTIVE, false},
        {"inactive", PARLEY_SDP_INACTIVE, false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[2048];
        char err[256];
        snprintf(text, sizeof text, HEAD AUDIO("%s") VIDEO("sendonly"), cases[i].offer);
        parley_sdp_answer a;
        int rc = answer_status(text, &a, err, sizeof err);
        CHECKF(rc == 0, "%s: %s", cases[i].offer, err);
        CHECK(a.n_media == 2 && a.media[0].direction == cases[i].answer);
        CHECK(a.media[0].receiving == cases[i].receiving && a.audio == cases[i].receiving);
        parley_sdp_answer_free(&a);
    }
}

TEST(local_config_checked)
{
    parley_sdp *s = NULL;
    char err[256];
    REQUIRE(parley_sdp_parse(fixture[0], fixture_len[0], &s, err, sizeof err) == 0);
    parley_sdp_answer a;
    parley_sdp_local l = local();
    l.fingerprint = "sha-256 " FP; /* the algorithm may be given */
    CHECK(parley_sdp_answer_build(s, &l, &a, err, sizeof err) == 0);
    CHECK(strstr(a.text, "a=fingerprint:sha-256 " FP "\r\n") != NULL);
    parley_sdp_answer_free(&a);
    const char *const bad_addr[] = {"example.com"};
    l = local();
    l.addresses = bad_addr;
    l.n_addresses = 1;
    CHECK(parley_sdp_answer_build(s, &l, &a, err, sizeof err) == PARLEY_SDP_EINVAL);
    l = local();
    l.ice_ufrag = "ab\r\na=x";
    CHECK(parley_sdp_answer_build(s, &l, &a, err, sizeof err) == PARLEY_SDP_EINVAL);
    l = local();
    l.fingerprint = "AB:CD";
    CHECK(parley_sdp_answer_build(s, &l, &a, err, sizeof err) == PARLEY_SDP_EINVAL);
    l = local();
    l.port = 0;
    CHECK(parley_sdp_answer_build(s, &l, &a, err, sizeof err) == PARLEY_SDP_EINVAL);
    CHECK(parley_sdp_answer_build(NULL, &l, &a, err, sizeof err) == PARLEY_SDP_EINVAL);
    CHECK(parley_sdp_answer_build(s, NULL, &a, err, sizeof err) == PARLEY_SDP_EINVAL);
    parley_sdp_free(s);
}

/* ---- malformed input ------------------------------------------------------ */

#define OK_HEAD "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
#define M_AUDIO "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"

TEST(malformed_rejected_with_reason)
{
    static const struct {
        const char *text;
        int status;
        const char *reason;
    } cases[] = {
        {"o=- 1 1 IN IP4 1.2.3.4\r\nv=0\r\n", PARLEY_SDP_EMALFORMED, "line 1: the first line is not v="},
        {"v=1\r\n", PARLEY_SDP_EMALFORMED, "v=0"},
        {"v=0\r\ns=-\r\n", PARLEY_SDP_EMALFORMED, "no o= line"},
        {"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\n", PARLEY_SDP_EMALFORMED, "no s= line"},
        {"v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\ns=-\r\n", PARLEY_SDP_EMALFORMED, "s= out of place"},
        {"v=0\r\nm=audio 9 RTP/AVP 0\r\n", PARLEY_SDP_EMALFORMED, "m= before o="},
        {"v=0\r\no=- x 1 IN IP4 1.2.3.4\r\n", PARLEY_SDP_EMALFORMED, "session id"},
        {"v=0\r\no=- 1 1 XX IP4 1.2.3.4\r\n", PARLEY_SDP_EMALFORMED, "network type"},
        {"v=0\r\no=- 1 1 IN IP4\r\n", PARLEY_SDP_EMALFORMED, "o=: bad address"},
        {OK_HEAD "x=1\r\n", PARLEY_SDP_EMALFORMED, "line 5: unknown line type"},
        {OK_HEAD "hello\r\n", PARLEY_SDP_EMALFORMED, "not a <type>=<value> line"},
        {OK_HEAD "\r\na=x\r\n", PARLEY_SDP_EMALFORMED, "line 5: empty line"},
        {OK_HEAD "a=\r\n", PARLEY_SDP_EMALFORMED, "bad attribute name"},
        {OK_HEAD "a=tab\x01x\r\n", PARLEY_SDP_EMALFORMED, "control character"},
        {OK_HEAD "m=audio 70000 RTP/AVP 0\r\n", PARLEY_SDP_EMALFORMED, "m=: bad port"},
        {OK_HEAD "m=audio 9 RTP/AVP\r\n", PARLEY_SDP_EMALFORMED, "no formats"},
        {OK_HEAD "m=audio 9 RTP/AVP 128\r\n", PARLEY_SDP_EMALFORMED, "bad payload type"},
        {OK_HEAD "m=audio 9 RTP/AVP 0 0\r\n", PARLEY_SDP_EMALFORMED, "payload type 0 twice"},
        {OK_HEAD "m=audio 9 RTP/AVP -1\r\n", PARLEY_SDP_EMALFORMED, "bad payload type"},
        {OK_HEAD M_AUDIO "a=rtpmap:111 opus\r\n", PARLEY_SDP_EMALFORMED, "no encoding name or clock"},
        {OK_HEAD M_AUDIO "a=rtpmap:111 opus/0/2\r\n", PARLEY_SDP_EMALFORMED, "bad clock rate"},
        {OK_HEAD M_AUDIO "a=rtpmap:111 opus/48000/\r\n", PARLEY_SDP_EMALFORMED, "bad channel count"},
        {OK_HEAD M_AUDIO "a=rtpmap:111 opus/48000/2\r\na=rtpmap:111 opus/48000/2\r\n", PARLEY_SDP_EMALFORMED, "mapped twice"},
        {OK_HEAD M_AUDIO "a=rtpmap:x opus/48000/2\r\n", PARLEY_SDP_EMALFORMED, "a=rtpmap: bad payload type"},
        {OK_HEAD M_AUDIO "a=fmtp:111\r\n", PARLEY_SDP_EMALFORMED, "a=fmtp: no parameters"},
        {OK_HEAD M_AUDIO "a=fmtp:111 apt=x\r\n", PARLEY_SDP_EMALFORMED, "bad apt"},
        {OK_HEAD M_AUDIO "a=rtcp-fb:abc nack\r\n", PARLEY_SDP_EMALFORMED, "a=rtcp-fb: bad payload type"},
        {OK_HEAD M_AUDIO "a=extmap:0 urn:x\r\n", PARLEY_SDP_EMALFORMED, "a=extmap: bad id"},
        {OK_HEAD M_AUDIO "a=extmap:3/sideways urn:x\r\n", PARLEY_SDP_EMALFORMED, "bad direction"},
        {OK_HEAD M_AUDIO "a=extmap:3 urn:x\r\na=extmap:3 urn:y\r\n", PARLEY_SDP_EMALFORMED, "id 3 twice"},
        {OK_HEAD M_AUDIO "a=extmap:3\r\n", PARLEY_SDP_EMALFORMED, "bad URI"},
        {OK_HEAD M_AUDIO "a=ssrc:4294967296 cname:x\r\n", PARLEY_SDP_EMALFORMED, "a=ssrc: bad SSRC"},
        {OK_HEAD M_AUDIO "a=ssrc:1\r\n", PARLEY_SDP_EMALFORMED, "no attribute"},
        {OK_HEAD M_AUDIO "a=ssrc:1 cname:\r\n", PARLEY_SDP_EMALFORMED, "bad cname"},
        {OK_HEAD M_AUDIO "a=ssrc:1 msid:a b c\r\n", PARLEY_SDP_EMALFORMED, "bad msid"},
        {OK_HEAD M_AUDIO "a=ssrc-group:FID\r\n", PARLEY_SDP_EMALFORMED, "no SSRC"},
        {OK_HEAD M_AUDIO "a=ssrc-group:SIM 1 2 3 4 5\r\n", PARLEY_SDP_ETOOBIG, "more than 4 SSRCs"},
        {OK_HEAD M_AUDIO "a=rid:h sideways\r\n", PARLEY_SDP_EMALFORMED, "not send or recv"},
        {OK_HEAD M_AUDIO "a=rid:h!x send\r\n", PARLEY_SDP_EMALFORMED, "a=rid: bad id"},
        {OK_HEAD M_AUDIO "a=mid:\r\n", PARLEY_SDP_EMALFORMED, "a=mid: bad value"},
        {OK_HEAD M_AUDIO "a=mid:a\tb\r\n", PARLEY_SDP_EMALFORMED, "a=mid: bad value"},
        {OK_HEAD M_AUDIO "a=mid:0\r\n" M_AUDIO "a=mid:0\r\n", PARLEY_SDP_EMALFORMED, "mid 0 on two m-lines"},
        {OK_HEAD "a=group:BUNDLE 0 1\r\n" M_AUDIO "a=mid:0\r\n", PARLEY_SDP_EMALFORMED, "unknown mid 1"},
        {OK_HEAD "a=group:BUNDLE 0 0\r\n", PARLEY_SDP_EMALFORMED, "mid 0 twice"},
        {OK_HEAD "a=ice-ufrag:a\r\n", PARLEY_SDP_EMALFORMED, "a=ice-ufrag: bad value"},
        {OK_HEAD "a=ice-ufrag:abc;d\r\n", PARLEY_SDP_EMALFORMED, "a=ice-ufrag: bad value"},
        {OK_HEAD "a=ice-pwd:short\r\n", PARLEY_SDP_EMALFORMED, "a=ice-pwd: bad value"},
        {OK_HEAD "a=fingerprint:sha-256 AB:CD\r\n", PARLEY_SDP_EMALFORMED, "not 32 bytes"},
        {OK_HEAD "a=fingerprint:sha-256 ZB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89\r\n",
         PARLEY_SDP_EMALFORMED, "bad hex"},
        {OK_HEAD "a=fingerprint:sha-256\r\n", PARLEY_SDP_EMALFORMED, "expected <hash> <value>"},
        {OK_HEAD "a=setup:both\r\n", PARLEY_SDP_EMALFORMED, "a=setup: unknown role"},
        {OK_HEAD M_AUDIO "a=candidate:1 1 udp 2122260223 10.0.0.1 5000 host\r\n", PARLEY_SDP_EMALFORMED, "no typ"},
        {OK_HEAD M_AUDIO "a=candidate:1 1 udp 2122260223 10.0.0.1 70000 typ host\r\n", PARLEY_SDP_EMALFORMED, "bad port"},
        {OK_HEAD M_AUDIO "a=candidate:1 0 udp 2122260223 10.0.0.1 5000 typ host\r\n", PARLEY_SDP_EMALFORMED, "bad component"},
        {OK_HEAD M_AUDIO "a=candidate:1 1 udp 2122260223 10.0.0.1 5000 typ magic\r\n", PARLEY_SDP_EMALFORMED, "bad candidate type"},
        {OK_HEAD M_AUDIO "a=candidate:1 1 udp\r\n", PARLEY_SDP_EMALFORMED, "bad priority"},
        {OK_HEAD M_AUDIO "a=sctp-port:x\r\n", PARLEY_SDP_EMALFORMED, "a=sctp-port: bad port"},
        {OK_HEAD M_AUDIO "a=msid:\r\n", PARLEY_SDP_EMALFORMED, "a=msid: bad value"},
        {"", PARLEY_SDP_EMALFORMED, "empty SDP"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char err[256] = "";
        parley_sdp *s = (parley_sdp *)1;
        int rc = parley_sdp_parse(cases[i].text, strlen(cases[i].text), &s, err, sizeof err);
        CHECKF(rc == cases[i].status, "case %zu: status %d (%s)", i, rc, err);
        CHECKF(strstr(err, cases[i].reason) != NULL, "case %zu: reason \"%s\", wanted \"%s\"", i, err,
               cases[i].reason);
        CHECK(s == NULL);
        parley_sdp_free(s);
    }
}

TEST(limits_enforced)
{
    char err[256];
    parley_sdp *s = NULL;
    size_t cap = PARLEY_SDP_MAX_TEXT + 16;
    char *big = malloc(cap);
    REQUIRE(big);
    /* a line longer than the limit */
    int n = snprintf(big, cap, OK_HEAD "a=x-long:");
    memset(big + n, 'x', PARLEY_SDP_MAX_LINE);
    size_t len = (size_t)n + PARLEY_SDP_MAX_LINE;
    CHECK(parley_sdp_parse(big, len, &s, err, sizeof err) == PARLEY_SDP_ETOOBIG && strstr(err, "line 5:"));
    /* too many lines */
    len = (size_t)snprintf(big, cap, OK_HEAD);
    while (len + 5 < PARLEY_SDP_MAX_TEXT && len < 4 * (PARLEY_SDP_MAX_LINES + 10)) {
        memcpy(big + len, "a=x\n", 4);
        len += 4;
    }
    CHECK(parley_sdp_parse(big, len, &s, err, sizeof err) == PARLEY_SDP_ETOOBIG && strstr(err, "lines"));
    /* more text than a signaling frame */
    CHECK(parley_sdp_parse(big, PARLEY_SDP_MAX_TEXT + 1, &s, err, sizeof err) == PARLEY_SDP_ETOOBIG);
    /* too many m-lines */
    len = (size_t)snprintf(big, cap, OK_HEAD);
    for (int i = 0; i <= PARLEY_SDP_MAX_MEDIA; i++)
        len += (size_t)snprintf(big + len, cap - len, "m=audio 9 RTP/AVP 0\r\n");
    CHECK(parley_sdp_parse(big, len, &s, err, sizeof err) == PARLEY_SDP_ETOOBIG && strstr(err, "m-lines"));
    /* exactly the limit is fine */
    len = (size_t)snprintf(big, cap, OK_HEAD);
    for (int i = 0; i < PARLEY_SDP_MAX_MEDIA; i++)
        len += (size_t)snprintf(big + len, cap - len, "m=audio 9 RTP/AVP 0\r\na=mid:m%d\r\n", i);
    CHECK(parley_sdp_parse(big, len, &s, err, sizeof err) == 0 && s && s->n_media == PARLEY_SDP_MAX_MEDIA);
    parley_sdp_free(s);
    s = NULL;
    /* too many payload types */
    len = (size_t)snprintf(big, cap, OK_HEAD "m=video 9 RTP/AVP");
    for (int i = 0; i <= PARLEY_SDP_MAX_CODECS; i++)
        len += (size_t)snprintf(big + len, cap - len, " %d", i);
    CHECK(parley_sdp_parse(big, len, &s, err, sizeof err) == PARLEY_SDP_ETOOBIG);
    /* a value longer than its field is refused, not truncated */
    n = snprintf(big, cap, OK_HEAD M_AUDIO "a=mid:");
    memset(big + n, 'm', PARLEY_SDP_TOKEN_LEN);
    CHECK(parley_sdp_parse(big, (size_t)n + PARLEY_SDP_TOKEN_LEN, &s, err, sizeof err) == PARLEY_SDP_EMALFORMED);
    free(big);
}

TEST(bounded_reads_and_endings)
{
    char err[256];
    parley_sdp *s = NULL;
    /* exact-size heap copies, no NUL: the sanitizer build sees any overread */
    static const char text[] = OK_HEAD M_AUDIO "a=rtpmap:111 opus/48000/2";
    for (size_t cut = 1; cut <= sizeof text - 1; cut++) {
        char *copy = malloc(cut);
        REQUIRE(copy);
        memcpy(copy, text, cut);
        int rc = parley_sdp_parse(copy, cut, &s, err, sizeof err);
        CHECK((rc == 0) == (s != NULL));
        parley_sdp_free(s);
        s = NULL;
        free(copy);
    }
    /* LF-only endings and no final newline */
    const char *lf = "v=0\no=- 1 1 IN IP4 1.2.3.4\ns=-\nm=audio 9 RTP/AVP 111\na=rtpmap:111 opus/48000/2";
    CHECK(parley_sdp_parse(lf, strlen(lf), &s, err, sizeof err) == 0);
    CHECK(s && s->n_media == 1 && s->media[0].codecs[0].clock == 48000);
    parley_sdp_free(s);
    /* a NUL inside the given length */
    static const char nul[] = "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\0\r\n";
    CHECK(parley_sdp_parse(nul, sizeof nul - 1, &s, err, sizeof err) == PARLEY_SDP_EMALFORMED);
    /* arguments */
    CHECK(parley_sdp_parse(NULL, 3, &s, err, sizeof err) == PARLEY_SDP_EINVAL);
    CHECK(parley_sdp_parse("v=0", 3, NULL, NULL, 0) == PARLEY_SDP_EINVAL);
    CHECK(parley_sdp_parse("x", 1, &s, NULL, 0) == PARLEY_SDP_EMALFORMED); /* no err buffer */
    char tiny[4];
    CHECK(parley_sdp_parse("x", 1, &s, tiny, sizeof tiny) == PARLEY_SDP_EMALFORMED && strlen(tiny) == 3);
    CHECK(strcmp(parley_sdp_status_name(PARLEY_SDP_ENOMEDIA), "no media") == 0);
    CHECK(strcmp(parley_sdp_direction_name(PARLEY_SDP_RECVONLY), "recvonly") == 0);
    CHECK(strcmp(parley_sdp_kind_name(PARLEY_SDP_APPLICATION), "application") == 0);
}

TEST(unknown_attributes_ignored)
{
    int rc;
    char err[256];
    parley_sdp *s = parse_str(OK_HEAD "a=x-google-flag:conference\r\na=foo\r\nb=AS:30\r\nc=IN IP4 0.0.0.0\r\n"
                                      "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
                                      "a=rtpmap:96 VP8/90000\r\na=rtpmap:97 rtx/90000\r\na=fmtp:98 apt=97\r\n"
                                      "a=rtcp-fb:96 nack sli\r\na=rtcp-fb:96 goog-lntf\r\na=framerate:30\r\n"
                                      "a=ssrc:5 label:x\r\na=group:LS 0\r\n",
                              &rc, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    REQUIRE(s);
    CHECK(s->media[0].n_codecs == 1 && s->media[0].codecs[0].fb == 0);
    CHECK(s->media[0].n_ssrcs == 1 && s->n_bundle == 0);
    parley_sdp_free(s);
}

TEST(trickled_candidate)
{
    parley_sdp_candidate c;
    char err[128];
    const char *t = "candidate:3813063722 1 udp 2113937151 5a1b2c3d-1111-2222-3333-444455556666.local 61234 typ host "
                    "generation 0 ufrag EsAw network-cost 999";
    CHECK(parley_sdp_candidate_parse(t, strlen(t), &c, err, sizeof err) == 0);
    CHECK(strcmp(c.address, "5a1b2c3d-1111-2222-3333-444455556666.local") == 0 && c.port == 61234);
    CHECK(c.priority == 2113937151u && strcmp(c.type, "host") == 0);
    t = "a=candidate:1 1 UDP 1 2001:db8::1 3478 typ relay raddr 0.0.0.0 rport 0";
    CHECK(parley_sdp_candidate_parse(t, strlen(t), &c, err, sizeof err) == 0);
    CHECK(strcmp(c.transport, "UDP") == 0 && strcmp(c.type, "relay") == 0 && strcmp(c.address, "2001:db8::1") == 0);
    t = "candidate:1 1 udp 1 1.2.3.4 3478";
    CHECK(parley_sdp_candidate_parse(t, strlen(t), &c, err, sizeof err) == PARLEY_SDP_EMALFORMED);
    CHECK(strstr(err, "no typ") != NULL);
    CHECK(parley_sdp_candidate_parse("cand", 4, &c, err, sizeof err) == PARLEY_SDP_EMALFORMED);
    CHECK(parley_sdp_candidate_parse("candidate:1\n", 12, &c, err, sizeof err) == PARLEY_SDP_EMALFORMED);
}

/* ---- subscriber offer and answer --------------------------------------------- */

static void sub_tracks(parley_sdp_track t[3])
{
    memset(t, 0, 3 * sizeof *t);
    t[0] = (parley_sdp_track){.kind = PARLEY_SDP_AUDIO, .mid = "a0", .stream_id = "alice", .track_id = "alice-mic",
                              .cname = "alice-cname", .pt = 111, .codec = "opus", .ssrc = 1001,
                              .audio_level_id = 1, .mid_ext_id = 4};
    t[1] = (parley_sdp_track){.kind = PARLEY_SDP_VIDEO, .mid = "v0", .stream_id = "alice", .track_id = "alice-cam",
                              .pt = 96, .codec = "VP8", .rtx_pt = 97, .ssrc = 2001, .rtx_ssrc = 2002,
                              .mid_ext_id = 4};
    t[2] = (parley_sdp_track){.kind = PARLEY_SDP_VIDEO, .mid = "v1", .stopped = true, .pt = 96, .codec = "VP8"};
}

static const char SUB_ANSWER[] =
    "v=0\r\no=- 5555 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE a0 v0\r\n"
    "a=msid-semantic: WMS\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:SuBs\r\na=ice-pwd:subscriberPassword012345\r\na=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 " FP "\r\na=setup:%s\r\na=mid:a0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=recvonly\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:SuBs\r\na=ice-pwd:subscriberPassword012345\r\n"
    "a=fingerprint:sha-256 " FP "\r\na=setup:%s\r\na=mid:v0\r\na=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=%s\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"
    "a=rtcp-fb:96 ccm fir\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
    "m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:%s\r\na=inactive\r\n";

TEST(subscriber_offer_round_trip)
{
    parley_sdp_track t[3];
    sub_tracks(t);
    parley_sdp_local l = local();
    char *text = NULL, err[256];
    size_t len = 0;
    int rc = parley_sdp_offer_build(&l, t, 3, &text, &len, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    REQUIRE(text && len == strlen(text));
    parley_sdp *s = NULL;
    rc = parley_sdp_parse(text, len, &s, err, sizeof err);
    CHECKF(rc == 0, "offer does not parse: %s", err);
    REQUIRE(s && s->n_media == 3);
    CHECK(s->ice_lite && strcmp(s->msid_semantic, "WMS *") == 0);
    CHECK(s->n_bundle == 2 && strcmp(s->bundle[0], "a0") == 0 && strcmp(s->bundle[1], "v0") == 0);
    const parley_sdp_media *a = &s->media[0], *v = &s->media[1], *x = &s->media[2];
    CHECK(a->kind == PARLEY_SDP_AUDIO && strcmp(a->mid, "a0") == 0 && a->direction == PARLEY_SDP_SENDONLY);
    CHECK(a->port == 40000 && a->rtcp_mux && a->transport.setup == PARLEY_SDP_SETUP_ACTPASS);
    CHECK(strcmp(a->transport.ice_ufrag, "PaRl") == 0 && strcmp(a->transport.fingerprint, FP) == 0);
    CHECK(a->n_codecs == 1 && strcmp(a->codecs[0].name, "opus") == 0 && a->codecs[0].channels == 2);
    CHECK(strcmp(a->codecs[0].fmtp, "minptime=10;useinbandfec=1") == 0);
    CHECK(parley_sdp_media_extmap_id(a, PARLEY_SDP_EXT_AUDIO_LEVEL) == 1);
    CHECK(parley_sdp_media_extmap_id(a, PARLEY_SDP_EXT_MID) == 4);
    CHECK(strcmp(a->msid_stream, "alice") == 0 && strcmp(a->msid_track, "alice-mic") == 0);
    CHECK(a->n_ssrcs == 1 && a->ssrcs[0].ssrc == 1001 && strcmp(a->ssrcs[0].cname, "alice-cname") == 0);
    CHECK(strcmp(a->ssrcs[0].msid_stream, "alice") == 0 && strcmp(a->ssrcs[0].msid_track, "alice-mic") == 0);
    CHECK(a->n_candidates == 2 && a->end_of_candidates);
    CHECK(v->direction == PARLEY_SDP_SENDONLY && v->n_codecs == 2);
    CHECK(parley_sdp_media_codec(v, 96)->fb == (PARLEY_SDP_FB_NACK | PARLEY_SDP_FB_NACK_PLI | PARLEY_SDP_FB_CCM_FIR));
    CHECK(parley_sdp_media_rtx_for(v, 96) == 97);
    CHECK(v->n_groups == 1 && strcmp(v->groups[0].semantics, "FID") == 0);
    CHECK(v->groups[0].ssrcs[0] == 2001 && v->groups[0].ssrcs[1] == 2002);
    CHECK(v->n_ssrcs == 2 && strcmp(v->ssrcs[1].cname, "alice") == 0); /* cname defaults to the stream */
    CHECK(strcmp(v->ssrcs[1].msid_track, "alice-cam") == 0);
    CHECK(parley_sdp_media_extmap_id(v, PARLEY_SDP_EXT_AUDIO_LEVEL) == 0);
    CHECK(x->rejected && x->direction == PARLEY_SDP_INACTIVE && strcmp(x->mid, "v1") == 0);
    parley_sdp_free(s);
    free(text);

    /* the subscriber's answer */
    char ans[4096];
    bool accepted[3] = {false, false, true};
    snprintf(ans, sizeof ans, SUB_ANSWER, "active", "active", "recvonly", "v1");
    rc = parley_sdp_parse(ans, strlen(ans), &s, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    REQUIRE(s);
    rc = parley_sdp_answer_check(t, 3, s, accepted, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    CHECK(accepted[0] && accepted[1] && !accepted[2]);
    CHECK(strcmp(s->media[1].transport.ice_ufrag, "SuBs") == 0);
    CHECK(parley_sdp_answer_check(t, 2, s, NULL, err, sizeof err) == PARLEY_SDP_EMALFORMED);
    parley_sdp_free(s);

    /* video declined by the subscriber */
    snprintf(ans, sizeof ans, SUB_ANSWER, "active", "active", "inactive", "v1");
    REQUIRE(parley_sdp_parse(ans, strlen(ans), &s, err, sizeof err) == 0);
    CHECK(parley_sdp_answer_check(t, 3, s, accepted, err, sizeof err) == 0 && accepted[0] && !accepted[1]);
    parley_sdp_free(s);

    static const struct {
        const char *setup, *dir, *mid, *reason;
    } bad[] = {
        {"passive", "recvonly", "v1", "setup is not active"},
        {"active", "sendrecv", "v1", "not recvonly"},
        {"active", "recvonly", "zz", "mid differs"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(ans, sizeof ans, SUB_ANSWER, bad[i].setup, bad[i].setup, bad[i].dir, bad[i].mid);
        REQUIRE(parley_sdp_parse(ans, strlen(ans), &s, err, sizeof err) == 0);
        rc = parley_sdp_answer_check(t, 3, s, accepted, err, sizeof err);
        CHECKF(rc == PARLEY_SDP_EUNSUPPORTED && strstr(err, bad[i].reason), "case %zu: %d %s", i, rc, err);
        parley_sdp_free(s);
    }
}

TEST(subscriber_offer_checks_tracks)
{
    parley_sdp_track t[3];
    parley_sdp_local l = local();
    char *text = NULL, err[256];
    sub_tracks(t);
    t[1].mid = "a0";
    CHECK(parley_sdp_offer_build(&l, t, 3, &text, NULL, err, sizeof err) == PARLEY_SDP_EINVAL && strstr(err, "twice"));
    sub_tracks(t);
    t[0].stream_id = "alice\r\na=evil";
    CHECK(parley_sdp_offer_build(&l, t, 3, &text, NULL, err, sizeof err) == PARLEY_SDP_EINVAL);
    sub_tracks(t);
    t[1].codec = "H264";
    CHECK(parley_sdp_offer_build(&l, t, 3, &text, NULL, err, sizeof err) == PARLEY_SDP_EINVAL);
    l.allow_h264 = true;
    CHECK(parley_sdp_offer_build(&l, t, 3, &text, NULL, err, sizeof err) == 0);
    CHECK(text && strstr(text, "a=fmtp:96 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"));
    free(text);
    text = NULL;
    sub_tracks(t);
    t[1].ssrc = 0;
    CHECK(parley_sdp_offer_build(&l, t, 3, &text, NULL, err, sizeof err) == PARLEY_SDP_EINVAL && strstr(err, "SSRC"));
    sub_tracks(t);
    t[0].rtx_pt = 100; /* no RTX for audio */
    CHECK(parley_sdp_offer_build(&l, t, 3, &text, NULL, err, sizeof err) == PARLEY_SDP_EINVAL);
    /* no tracks: a valid offer with no m-line */
    CHECK(parley_sdp_offer_build(&l, NULL, 0, &text, NULL, err, sizeof err) == 0 && text);
    parley_sdp *s = NULL;
    CHECK(text && parley_sdp_parse(text, strlen(text), &s, err, sizeof err) == 0 && s->n_media == 0);
    parley_sdp_free(s);
    free(text);
    CHECK(text != NULL);
}

/* The C SDK's side (parley_sdp_local.client): its publish offer, answered by
 * the SFU, and its answer to the SFU's offer, checked by the SFU. */
TEST(client_side_offer_and_answer)
{
    parley_sdp_local c = {.ice_ufrag = "CliE", .ice_pwd = "clientIcePassword01234567", .fingerprint = FP,
                          .client = true, .session_id = 9};
    parley_sdp_track pub[2] = {
        {.kind = PARLEY_SDP_AUDIO, .mid = "audio", .stream_id = "bob", .track_id = "audio", .cname = "c1",
         .pt = 111, .codec = "opus", .ssrc = 11},
        {.kind = PARLEY_SDP_VIDEO, .mid = "video", .stream_id = "bob", .track_id = "video", .cname = "c1",
         .pt = 96, .codec = "VP8", .ssrc = 22},
    };
    char *text = NULL, err[256];
    int rc = parley_sdp_offer_build(&c, pub, 2, &text, NULL, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    REQUIRE(text);
    CHECK(!strstr(text, "a=ice-lite") && !strstr(text, "a=candidate") && strstr(text, "c=IN IP4 0.0.0.0\r\n"));
    parley_sdp *s = NULL;
    rc = parley_sdp_parse(text, strlen(text), &s, err, sizeof err);
    free(text);
    CHECKF(rc == 0, "%s", err);
    REQUIRE(s && s->n_media == 2);
    CHECK(!s->ice_lite && s->media[0].port == 9 && s->media[0].n_candidates == 0);
    CHECK(s->media[0].transport.setup == PARLEY_SDP_SETUP_ACTPASS && s->media[1].direction == PARLEY_SDP_SENDONLY);
    CHECK(s->media[1].n_ssrcs == 1 && s->media[1].ssrcs[0].ssrc == 22);
    parley_sdp_local l = local();
    parley_sdp_answer a = {0};
    rc = parley_sdp_answer_build(s, &l, &a, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    CHECK(a.audio && a.video && a.n_media == 2 && a.media[0].ssrc == 11 && a.media[1].ssrc == 22);
    CHECK(a.media[1].codec.pt == 96 && strcmp(a.remote.ice_ufrag, "CliE") == 0);
    parley_sdp_answer_free(&a);
    parley_sdp_free(s);

    /* the SFU's offer to a subscriber, answered by the SDK */
    parley_sdp_track t[3];
    sub_tracks(t);
    REQUIRE(parley_sdp_offer_build(&l, t, 3, &text, NULL, err, sizeof err) == 0);
    REQUIRE(parley_sdp_parse(text, strlen(text), &s, err, sizeof err) == 0);
    free(text);
    rc = parley_sdp_answer_build(s, &c, &a, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    CHECK(a.n_media == 3 && a.media[0].receiving && a.media[1].receiving && !a.media[2].accepted);
    CHECK(a.media[0].ssrc == 1001 && a.media[1].ssrc == 2001 && a.media[1].codec.pt == 96);
    CHECK(strcmp(a.remote.ice_ufrag, "PaRl") == 0);
    parley_sdp_free(s);
    REQUIRE(a.text);
    CHECK(!strstr(a.text, "a=ice-lite") && !strstr(a.text, "a=candidate") && strstr(a.text, "a=setup:active\r\n"));
    REQUIRE(parley_sdp_parse(a.text, a.len, &s, err, sizeof err) == 0);
    bool accepted[3] = {false, false, true};
    rc = parley_sdp_answer_check(t, 3, s, accepted, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    CHECK(accepted[0] && accepted[1] && !accepted[2]);
    CHECK(s->media[0].direction == PARLEY_SDP_RECVONLY && s->media[0].transport.setup == PARLEY_SDP_SETUP_ACTIVE);
    parley_sdp_free(s);
    parley_sdp_answer_free(&a);

    /* the client form still checks its credentials and fingerprint */
    c.fingerprint = "not a fingerprint";
    CHECK(parley_sdp_offer_build(&c, pub, 2, &text, NULL, err, sizeof err) == PARLEY_SDP_EINVAL);
    /* and the SFU's form still needs an address and a port */
    l.n_addresses = 0;
    CHECK(parley_sdp_offer_build(&l, pub, 2, &text, NULL, err, sizeof err) == PARLEY_SDP_EINVAL);
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: test_sdp CHROME FIREFOX SIMULCAST\n");
        return 2;
    }
    for (int i = 0; i < 3; i++) {
        fixture[i] = slurp(argv[i + 1], &fixture_len[i]);
        if (!fixture[i]) {
            printf("Bail out! cannot read %s\n", argv[i + 1]);
            return 1;
        }
    }
    RUN(chrome_offer_parsed);
    RUN(chrome_answer_vp8);
    RUN(chrome_answer_h264_rtx);
    RUN(chrome_simulcast_recorded);
    RUN(legacy_sim_group_and_session_transport);
    RUN(firefox_offer_and_answer);
    RUN(publish_without_media_is_105);
    RUN(bundle_only_is_not_rejected);
    RUN(bundle_and_rtcp_mux_required);
    RUN(unusable_transport);
    RUN(direction_mirrored);
    RUN(local_config_checked);
    RUN(malformed_rejected_with_reason);
    RUN(limits_enforced);
    RUN(bounded_reads_and_endings);
    RUN(unknown_attributes_ignored);
    RUN(trickled_candidate);
    RUN(subscriber_offer_round_trip);
    RUN(subscriber_offer_checks_tracks);
    RUN(client_side_offer_and_answer);
    for (int i = 0; i < 3; i++)
        free(fixture[i]);
    return tap_done();
}
