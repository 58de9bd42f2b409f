/* sdp_answer.c - the SDP the SFU writes: answers to publishers' offers,
 * offers to subscribers, and the check of subscribers' answers.
 *
 * This file owns the SFU's media policy as SDP sees it (sdp.h): ICE-lite with
 * one host candidate per advertised address, DTLS server (setup passive in
 * answers, actpass in offers), BUNDLE and rtcp-mux required on every m-line
 * we accept, Opus 48000/2 and VP8 (H.264 mode 1, constrained baseline, when
 * allowed), nack / nack pli / ccm fir for video (and goog-remb in answers to
 * publishers, who act on the SFU's REMB), and the audio-level and mid
 * header extensions when the browser offers them. On a publisher's connection
 * the SFU only receives, so answer directions are the offer's mirrored and
 * capped to receiving: sendonly/sendrecv -> recvonly, recvonly/inactive ->
 * inactive. The same builders serve the C SDK's side (parley_sdp_local.client):
 * its publish offers and its answers to the SFU's offers. Strings from the
 * caller that end up in SDP are checked first, so no caller value can add a
 * line. */
#include "sdp.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "errtext.h"

#define OPUS_FMTP "minptime=10;useinbandfec=1"
#define H264_FMTP "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
#define VIDEO_FB (PARLEY_SDP_FB_NACK | PARLEY_SDP_FB_NACK_PLI | PARLEY_SDP_FB_CCM_FIR)

/* ---- a growing string ------------------------------------------------------ */

typedef struct strbuf {
    char *p;
    size_t len, cap;
    bool failed;
} strbuf;

static void sb_add(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(strbuf *b, const char *fmt, ...)
{
    if (b->failed)
        return;
    for (;;) {
        size_t room = b->cap - b->len;
        va_list ap;
        va_start(ap, fmt);
        int n = room ? vsnprintf(b->p + b->len, room, fmt, ap) : -2;
        va_end(ap);
        if (n == -1) {
            b->failed = true;
            return;
        }
        if (n >= 0 && (size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = b->cap ? b->cap * 2 : 2048;
        while (n >= 0 && cap - b->len <= (size_t)n)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->failed = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
}

/* ---- checks on the caller's strings ---------------------------------------- */

/* A token safe to write in SDP: printable, no space, 1..max-1 bytes. */
static bool sdp_token(const char *s, size_t max)
{
    if (!s || !*s || strlen(s) >= max)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f)
            return false;
    return true;
}

static bool ice_token(const char *s, size_t min)
{
    if (!s || strlen(s) < min || strlen(s) > PARLEY_SDP_ICE_LEN)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '+' && *s != '/')
            return false;
    return true;
}

/* "AB:CD:..." hex pairs, optionally after "sha-256 "; *value is the pairs. */
static bool fingerprint_ok(const char *fp, const char **value)
{
    if (!fp)
        return false;
    if (strncasecmp(fp, "sha-256 ", 8) == 0)
        fp += 8;
    if (strlen(fp) != 95)
        return false;
    for (int i = 0; i < 95; i++)
        if (i % 3 == 2 ? fp[i] != ':' : !isxdigit((unsigned char)fp[i]))
            return false;
    *value = fp;
    return true;
}

/* 4 or 6 for an IP address text, 0 otherwise. */
static int ip_family(const char *addr)
{
    unsigned char buf[16];
    if (!addr)
        return 0;
    if (inet_pton(AF_INET, addr, buf) == 1)
        return 4;
    if (inet_pton(AF_INET6, addr, buf) == 1)
        return 6;
    return 0;
}

static int check_local(const parley_sdp_local *l, const char **fp, char *err, size_t errlen)
{
    if (!l) {
        parley_errtext(err, errlen, "no local description");
        return PARLEY_SDP_EINVAL;
    }
    if (!ice_token(l->ice_ufrag, 4) || !ice_token(l->ice_pwd, 22)) {
        parley_errtext(err, errlen, "bad local ICE credentials");
        return PARLEY_SDP_EINVAL;
    }
    if (!fingerprint_ok(l->fingerprint, fp)) {
        parley_errtext(err, errlen, "bad local fingerprint (sha-256 hex pairs)");
        return PARLEY_SDP_EINVAL;
    }
    if (!l->client && (l->port == 0 || l->n_addresses == 0 || !l->addresses)) {
        parley_errtext(err, errlen, "no local port or address");
        return PARLEY_SDP_EINVAL;
    }
    for (size_t i = 0; l->addresses && i < l->n_addresses; i++)
        if (!ip_family(l->addresses[i])) {
            parley_errtext(err, errlen, "local address %zu is not an IP address", i);
            return PARLEY_SDP_EINVAL;
        }
    return PARLEY_SDP_OK;
}

/* ---- shared writing ------------------------------------------------------- */

static void write_session(strbuf *b, const parley_sdp_local *l)
{
    unsigned long long id = l->session_id ? l->session_id : 1;
    unsigned long long ver = l->session_version ? l->session_version : 1;
    sb_add(b, "v=0\r\no=- %llu %llu IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n%s", id, ver,
           l->client ? "" : "a=ice-lite\r\n");
}

static void write_transport(strbuf *b, const parley_sdp_local *l, const char *fp, bool offer)
{
    if (l->n_addresses && l->addresses)
        sb_add(b, "c=IN IP%d %s\r\n", ip_family(l->addresses[0]), l->addresses[0]);
    else
        sb_add(b, "c=IN IP4 0.0.0.0\r\n");
    sb_add(b, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", l->ice_ufrag, l->ice_pwd);
    sb_add(b, "a=fingerprint:sha-256 %s\r\n", fp);
    sb_add(b, "a=setup:%s\r\n", offer ? "actpass" : l->client ? "active" : "passive");
}

static void write_candidates(strbuf *b, const parley_sdp_local *l)
{
    if (l->client && (!l->n_addresses || !l->addresses))
        return; /* the SDK's connections: the ICE-lite server learns the address from checks */
    for (size_t i = 0; i < l->n_addresses; i++) {
        /* host type preference 126, local preference by order, component 1 */
        unsigned long prio = (126UL << 24) | ((65535UL - (i & 0xffff)) << 8) | 255UL;
        sb_add(b, "a=candidate:%zu 1 udp %lu %s %u typ host\r\n", i + 1, prio, l->addresses[i],
               (unsigned)l->port);
    }
    sb_add(b, "a=end-of-candidates\r\n");
}

static void write_codec(strbuf *b, const parley_sdp_codec *c)
{
    if (c->channels)
        sb_add(b, "a=rtpmap:%u %s/%u/%u\r\n", c->pt, c->name, (unsigned)c->clock, c->channels);
    else
        sb_add(b, "a=rtpmap:%u %s/%u\r\n", c->pt, c->name, (unsigned)c->clock);
    if (c->fmtp[0])
        sb_add(b, "a=fmtp:%u %s\r\n", c->pt, c->fmtp);
    if (c->fb & PARLEY_SDP_FB_NACK)
        sb_add(b, "a=rtcp-fb:%u nack\r\n", c->pt);
    if (c->fb & PARLEY_SDP_FB_NACK_PLI)
        sb_add(b, "a=rtcp-fb:%u nack pli\r\n", c->pt);
    if (c->fb & PARLEY_SDP_FB_CCM_FIR)
        sb_add(b, "a=rtcp-fb:%u ccm fir\r\n", c->pt);
    if (c->fb & PARLEY_SDP_FB_GOOG_REMB)
        sb_add(b, "a=rtcp-fb:%u goog-remb\r\n", c->pt);
}

static void write_rtx(strbuf *b, int rtx_pt, unsigned pt)
{
    if (rtx_pt >= 0)
        sb_add(b, "a=rtpmap:%d rtx/90000\r\na=fmtp:%d apt=%u\r\n", rtx_pt, rtx_pt, pt);
}

/* ---- choosing codecs -------------------------------------------------------- */

static const char *fmtp_param(const char *fmtp, const char *key, size_t *n)
{
    size_t kl = strlen(key);
    for (const char *a = fmtp; a && *a; a = strchr(a, ';')) {
        if (*a == ';')
            a++;
        while (*a == ' ')
            a++;
        if (strncasecmp(a, key, kl) == 0 && a[kl] == '=') {
            *n = strcspn(a + kl + 1, "; ");
            return a + kl + 1;
        }
    }
    return NULL;
}

/* H.264 we forward: packetization-mode=1, profile-level-id 42e0xx. */
static bool h264_ok(const parley_sdp_codec *c)
{
    size_t n;
    const char *mode = fmtp_param(c->fmtp, "packetization-mode", &n);
    if (!mode || n != 1 || *mode != '1')
        return false;
    const char *plid = fmtp_param(c->fmtp, "profile-level-id", &n);
    return plid && n == 6 && strncasecmp(plid, "42e0", 4) == 0 && isxdigit((unsigned char)plid[4]) &&
           isxdigit((unsigned char)plid[5]);
}

static bool codec_is(const parley_sdp_codec *c, const char *name, uint32_t clock)
{
    return c->has_rtpmap && strcasecmp(c->name, name) == 0 && c->clock == clock;
}

/* The offered codec we take for a media section, NULL when none. */
static const parley_sdp_codec *choose(const parley_sdp_media *m, const parley_sdp_local *l)
{
    const char *order[2] = {"VP8", l->allow_h264 ? "H264" : NULL};
    if (l->allow_h264 && l->prefer_h264) {
        order[0] = "H264";
        order[1] = "VP8";
    }
    if (m->kind == PARLEY_SDP_AUDIO) {
        for (size_t i = 0; i < m->n_codecs; i++)
            if (codec_is(&m->codecs[i], "opus", 48000) && m->codecs[i].channels == 2)
                return &m->codecs[i];
        return NULL;
    }
    if (m->kind != PARLEY_SDP_VIDEO)
        return NULL;
    for (int k = 0; k < 2; k++) {
        if (!order[k])
            continue;
        for (size_t i = 0; i < m->n_codecs; i++) {
            const parley_sdp_codec *c = &m->codecs[i];
            if (codec_is(c, order[k], 90000) && (strcmp(order[k], "H264") != 0 || h264_ok(c)))
                return c;
        }
    }
    return NULL;
}

/* The offerer's main SSRC (first of SIM, else first of FID, else the first
 * listed) and its RTX SSRC (FID partner). */
static void offered_ssrcs(const parley_sdp_media *m, uint32_t *ssrc, uint32_t *rtx)
{
    *ssrc = *rtx = 0;
    for (size_t i = 0; i < m->n_groups && !*ssrc; i++)
        if (strcmp(m->groups[i].semantics, "SIM") == 0)
            *ssrc = m->groups[i].ssrcs[0];
    for (size_t i = 0; i < m->n_groups && !*ssrc; i++)
        if (strcmp(m->groups[i].semantics, "FID") == 0)
            *ssrc = m->groups[i].ssrcs[0];
    if (!*ssrc && m->n_ssrcs > 0)
        *ssrc = m->ssrcs[0].ssrc;
    for (size_t i = 0; i < m->n_groups; i++)
        if (strcmp(m->groups[i].semantics, "FID") == 0 && m->groups[i].n_ssrcs >= 2 &&
            m->groups[i].ssrcs[0] == *ssrc)
            *rtx = m->groups[i].ssrcs[1];
}

/* Whether rid is offered with direction send. */
static bool rid_sent(const parley_sdp_media *m, const char *rid, size_t n)
{
    for (size_t i = 0; i < m->n_rids; i++)
        if (m->rids[i].send && strlen(m->rids[i].id) == n && strncmp(m->rids[i].id, rid, n) == 0)
            return true;
    return false;
}

/* RID-based simulcast of a video m-line: "send q;h;f" (RFC 8853; of each
 * alternative list the first, a paused "~" one taken as well) whose rids
 * are offered as send, with the RID extension. Fills the choice's layers. */
static void simulcast_layers(const parley_sdp_media *m, parley_sdp_choice *ch)
{
    uint8_t rid_ext = parley_sdp_media_extmap_id(m, PARLEY_SDP_EXT_RID);
    if (m->kind != PARLEY_SDP_VIDEO || !rid_ext || strncmp(m->simulcast, "send ", 5) != 0)
        return;
    const char *v = m->simulcast + 5;
    while (*v == ' ')
        v++;
    size_t n = 0;
    char rids[PARLEY_SDP_MAX_LAYERS][PARLEY_SDP_TOKEN_LEN];
    while (*v && *v != ' ' && n < PARLEY_SDP_MAX_LAYERS) {
        size_t stream = strcspn(v, "; ");
        size_t alt = strcspn(v, ",; ");
        const char *rid = v;
        if (*rid == '~') {
            rid++;
            alt = alt ? alt - 1 : 0;
        }
        bool dup = false;
        for (size_t k = 0; k < n; k++)
            dup = dup || (strlen(rids[k]) == alt && strncmp(rids[k], rid, alt) == 0);
        if (alt && alt < PARLEY_SDP_TOKEN_LEN && !dup && rid_sent(m, rid, alt)) {
            memcpy(rids[n], rid, alt);
            rids[n++][alt] = '\0';
        }
        v += stream;
        if (*v == ';')
            v++;
    }
    if (n < 2)
        return; /* one layer is no simulcast */
    ch->n_layers = n;
    memcpy(ch->layers, rids, sizeof rids);
    ch->rid_ext_id = rid_ext;
    if (ch->rtx_pt >= 0)
        ch->rrid_ext_id = parley_sdp_media_extmap_id(m, PARLEY_SDP_EXT_RRID);
}

/* Decide one m-line; reason set when rejected. */
static void decide(const parley_sdp *offer, const parley_sdp_media *m, const parley_sdp_local *l,
                   parley_sdp_choice *ch)
{
    memset(ch, 0, sizeof *ch);
    ch->kind = m->kind;
    ch->rtx_pt = -1;
    ch->direction = PARLEY_SDP_INACTIVE;
    strcpy(ch->mid, m->mid);
    const char *why = NULL;
    const parley_sdp_codec *c = NULL;
    if (m->rejected)
        why = "rejected by the offerer";
    else if (m->kind != PARLEY_SDP_AUDIO && m->kind != PARLEY_SDP_VIDEO)
        why = "not audio or video";
    else if (strcmp(m->proto, "UDP/TLS/RTP/SAVPF") != 0)
        why = "not UDP/TLS/RTP/SAVPF";
    else if (!m->mid[0])
        why = "no mid";
    else if (!parley_sdp_in_bundle(offer, m->mid))
        why = "not in the BUNDLE group";
    else if (!m->rtcp_mux)
        why = "no rtcp-mux";
    else if (!(c = choose(m, l)))
        why = "no common codec";
    if (why) {
        snprintf(ch->reason, sizeof ch->reason, "%s", why);
        return;
    }
    ch->accepted = true;
    ch->receiving = m->direction == PARLEY_SDP_SENDRECV || m->direction == PARLEY_SDP_SENDONLY;
    ch->direction = ch->receiving ? PARLEY_SDP_RECVONLY : PARLEY_SDP_INACTIVE;
    ch->codec = *c;
    ch->codec.apt = -1;
    if (m->kind == PARLEY_SDP_AUDIO) {
        snprintf(ch->codec.fmtp, sizeof ch->codec.fmtp, "%s", OPUS_FMTP);
        ch->codec.fb = 0;
        ch->audio_level_id = parley_sdp_media_extmap_id(m, PARLEY_SDP_EXT_AUDIO_LEVEL);
    } else {
        if (strcasecmp(c->name, "VP8") == 0)
            ch->codec.fmtp[0] = '\0';
        /* goog-remb too: the SFU sends publishers REMB (router.h) */
        ch->codec.fb = c->fb & (VIDEO_FB | PARLEY_SDP_FB_GOOG_REMB);
        if (l->video_rtx)
            ch->rtx_pt = parley_sdp_media_rtx_for(m, c->pt);
        if (ch->receiving && !l->client)
            simulcast_layers(m, ch);
    }
    ch->mid_ext_id = parley_sdp_media_extmap_id(m, PARLEY_SDP_EXT_MID);
    offered_ssrcs(m, &ch->ssrc, &ch->rtx_ssrc);
    const parley_sdp_ssrc *s = NULL;
    for (size_t i = 0; i < m->n_ssrcs && !s; i++)
        if (m->ssrcs[i].ssrc == ch->ssrc)
            s = &m->ssrcs[i];
    if (m->msid_stream[0]) {
        strcpy(ch->msid_stream, m->msid_stream);
        strcpy(ch->msid_track, m->msid_track);
    } else if (s) {
        strcpy(ch->msid_stream, s->msid_stream);
        strcpy(ch->msid_track, s->msid_track);
    }
}

static bool transport_usable(const parley_sdp_transport *t, const char **why)
{
    *why = !t->ice_ufrag[0] || !t->ice_pwd[0]           ? "no ICE credentials"
           : strcmp(t->fingerprint_alg, "sha-256") != 0 ? "no sha-256 fingerprint"
           : t->setup == PARLEY_SDP_SETUP_PASSIVE || t->setup == PARLEY_SDP_SETUP_HOLDCONN
               ? "the offerer will not take the DTLS client role"
               : NULL;
    return *why == NULL;
}

void parley_sdp_answer_free(parley_sdp_answer *a)
{
    if (!a)
        return;
    free(a->text);
    free(a->media);
    memset(a, 0, sizeof *a);
}

int parley_sdp_answer_build(const parley_sdp *offer, const parley_sdp_local *l,
                            parley_sdp_answer *out, char *err, size_t errlen)
{
    const char *fp = NULL;
    if (!out) {
        parley_errtext(err, errlen, "no answer to fill");
        return PARLEY_SDP_EINVAL;
    }
    memset(out, 0, sizeof *out);
    if (!offer) {
        parley_errtext(err, errlen, "no offer");
        return PARLEY_SDP_EINVAL;
    }
    int rc = check_local(l, &fp, err, errlen);
    if (rc)
        return rc;
    if (offer->n_media == 0) {
        parley_errtext(err, errlen, "the offer has no m-line");
        return PARLEY_SDP_ENOMEDIA;
    }
    out->media = calloc(offer->n_media, sizeof *out->media);
    if (!out->media) {
        parley_errtext(err, errlen, "out of memory");
        return PARLEY_SDP_ENOMEM;
    }
    out->n_media = offer->n_media;
    /* One transport for the whole BUNDLE: that of the first accepted m-line
     * in BUNDLE order that carries ICE credentials (bundle-only m-lines
     * carry none). */
    const parley_sdp_media *first = NULL;
    bool any = false;
    for (size_t i = 0; i < offer->n_media; i++) {
        parley_sdp_choice *ch = &out->media[i];
        decide(offer, &offer->media[i], l, ch);
        any = any || ch->accepted;
        if (ch->receiving && ch->kind == PARLEY_SDP_AUDIO)
            out->audio = true;
        if (ch->receiving && ch->kind == PARLEY_SDP_VIDEO)
            out->video = true;
    }
    for (size_t k = 0; k < offer->n_bundle && any && !first; k++)
        for (size_t i = 0; i < offer->n_media && !first; i++)
            if (out->media[i].accepted && strcmp(offer->media[i].mid, offer->bundle[k]) == 0 &&
                offer->media[i].transport.ice_ufrag[0])
                first = &offer->media[i];
    const char *why = "no ICE credentials";
    if (any && (!first || !transport_usable(&first->transport, &why))) {
        parley_errtext(err, errlen, "the offer's transport: %s", why);
        parley_sdp_answer_free(out);
        return PARLEY_SDP_EUNSUPPORTED;
    }
    if (first)
        out->remote = first->transport;

    strbuf b = {0};
    write_session(&b, l);
    if (first) {
        sb_add(&b, "a=group:BUNDLE");
        for (size_t i = 0; i < out->n_media; i++)
            if (out->media[i].accepted)
                sb_add(&b, " %s", out->media[i].mid);
        sb_add(&b, "\r\n");
    }
    for (size_t i = 0; i < offer->n_media; i++) {
        const parley_sdp_media *m = &offer->media[i];
        const parley_sdp_choice *ch = &out->media[i];
        if (!ch->accepted) {
            sb_add(&b, "m=%s 0 %s %s\r\n", m->kind_name, m->proto, m->fmt0);
            sb_add(&b, "c=IN IP4 0.0.0.0\r\n");
            if (m->mid[0])
                sb_add(&b, "a=mid:%s\r\n", m->mid);
            sb_add(&b, "a=inactive\r\n");
            continue;
        }
        sb_add(&b, "m=%s %u UDP/TLS/RTP/SAVPF %u", m->kind_name, (unsigned)(l->port ? l->port : 9), ch->codec.pt);
        if (ch->rtx_pt >= 0)
            sb_add(&b, " %d", ch->rtx_pt);
        sb_add(&b, "\r\n");
        write_transport(&b, l, fp, false);
        sb_add(&b, "a=mid:%s\r\na=%s\r\na=rtcp-mux\r\n", ch->mid, parley_sdp_direction_name(ch->direction));
        write_codec(&b, &ch->codec);
        write_rtx(&b, ch->rtx_pt, ch->codec.pt);
        if (ch->audio_level_id)
            sb_add(&b, "a=extmap:%u %s\r\n", ch->audio_level_id, PARLEY_SDP_EXT_AUDIO_LEVEL);
        if (ch->mid_ext_id)
            sb_add(&b, "a=extmap:%u %s\r\n", ch->mid_ext_id, PARLEY_SDP_EXT_MID);
        if (ch->n_layers) {
            sb_add(&b, "a=extmap:%u %s\r\n", ch->rid_ext_id, PARLEY_SDP_EXT_RID);
            if (ch->rrid_ext_id)
                sb_add(&b, "a=extmap:%u %s\r\n", ch->rrid_ext_id, PARLEY_SDP_EXT_RRID);
            for (size_t k = 0; k < ch->n_layers; k++)
                sb_add(&b, "a=rid:%s recv\r\n", ch->layers[k]);
            sb_add(&b, "a=simulcast:recv ");
            for (size_t k = 0; k < ch->n_layers; k++)
                sb_add(&b, "%s%s", k ? ";" : "", ch->layers[k]);
            sb_add(&b, "\r\n");
        }
        write_candidates(&b, l);
    }
    if (b.failed) {
        free(b.p);
        parley_sdp_answer_free(out);
        parley_errtext(err, errlen, "out of memory");
        return PARLEY_SDP_ENOMEM;
    }
    out->text = b.p;
    out->len = b.len;
    if (!out->audio && !out->video) {
        parley_errtext(err, errlen, "the offer sends no audio or video the SFU accepts");
        return PARLEY_SDP_ENOMEDIA;
    }
    return PARLEY_SDP_OK;
}

/* ---- offers to subscribers -------------------------------------------------- */

static int check_track(const parley_sdp_local *l, const parley_sdp_track *t, size_t i,
                       const parley_sdp_track *all, char *err, size_t errlen)
{
    const char *why = NULL;
    bool audio = t->kind == PARLEY_SDP_AUDIO;
    if (!audio && t->kind != PARLEY_SDP_VIDEO)
        why = "kind is not audio or video";
    else if (!sdp_token(t->mid, PARLEY_SDP_TOKEN_LEN))
        why = "bad mid";
    else if (t->pt > 127 || (t->rtx_pt && (t->rtx_pt > 127 || t->rtx_pt == t->pt || audio)))
        why = "bad payload type";
    else if (!t->codec || (audio ? strcasecmp(t->codec, "opus") != 0
                                 : strcasecmp(t->codec, "VP8") != 0 &&
                                       !(l->allow_h264 && strcasecmp(t->codec, "H264") == 0)))
        why = "codec not offered by the SFU";
    else if (t->fmtp && (!sdp_token(t->fmtp, PARLEY_SDP_TEXT_LEN)))
        why = "bad fmtp";
    else if (!t->stopped && (t->ssrc == 0 || (t->rtx_pt && (!t->rtx_ssrc || t->rtx_ssrc == t->ssrc))))
        why = "bad SSRC";
    else if (!t->stopped && (!sdp_token(t->stream_id, PARLEY_SDP_TOKEN_LEN) ||
                             !sdp_token(t->track_id, PARLEY_SDP_TOKEN_LEN)))
        why = "bad msid";
    else if (t->cname && !sdp_token(t->cname, PARLEY_SDP_TOKEN_LEN))
        why = "bad cname";
    else if (t->audio_level_id && t->audio_level_id == t->mid_ext_id)
        why = "two extensions with one id";
    for (size_t j = 0; !why && j < i; j++)
        if (strcmp(all[j].mid, t->mid) == 0)
            why = "mid used twice";
    if (why) {
        parley_errtext(err, errlen, "track %zu: %s", i, why);
        return PARLEY_SDP_EINVAL;
    }
    return PARLEY_SDP_OK;
}

int parley_sdp_offer_build(const parley_sdp_local *l, const parley_sdp_track *tracks,
                           size_t n_tracks, char **out, size_t *out_len, char *err, size_t errlen)
{
    const char *fp = NULL;
    if (!out || (n_tracks && !tracks)) {
        parley_errtext(err, errlen, "no output or no tracks");
        return PARLEY_SDP_EINVAL;
    }
    *out = NULL;
    if (out_len)
        *out_len = 0;
    int rc = check_local(l, &fp, err, errlen);
    if (rc)
        return rc;
    if (n_tracks > PARLEY_SDP_MAX_MEDIA) {
        parley_errtext(err, errlen, "more than %d tracks", PARLEY_SDP_MAX_MEDIA);
        return PARLEY_SDP_ETOOBIG;
    }
    for (size_t i = 0; i < n_tracks; i++)
        if ((rc = check_track(l, &tracks[i], i, tracks, err, errlen)))
            return rc;

    strbuf b = {0};
    write_session(&b, l);
    bool any = false;
    for (size_t i = 0; i < n_tracks; i++)
        if (!tracks[i].stopped) {
            sb_add(&b, any ? " %s" : "a=group:BUNDLE %s", tracks[i].mid);
            any = true;
        }
    if (any)
        sb_add(&b, "\r\n");
    sb_add(&b, "a=msid-semantic: WMS *\r\n");
    for (size_t i = 0; i < n_tracks; i++) {
        const parley_sdp_track *t = &tracks[i];
        const char *kind = parley_sdp_kind_name(t->kind);
        if (t->stopped) {
            sb_add(&b, "m=%s 0 UDP/TLS/RTP/SAVPF %u\r\nc=IN IP4 0.0.0.0\r\na=mid:%s\r\na=inactive\r\n",
                   kind, t->pt, t->mid);
            continue;
        }
        bool audio = t->kind == PARLEY_SDP_AUDIO;
        parley_sdp_codec c = {.pt = t->pt, .clock = audio ? 48000 : 90000, .channels = audio ? 2 : 0};
        snprintf(c.name, sizeof c.name, "%s", audio ? "opus" : strcasecmp(t->codec, "VP8") == 0 ? "VP8" : "H264");
        snprintf(c.fmtp, sizeof c.fmtp, "%s",
                 t->fmtp ? t->fmtp : audio ? OPUS_FMTP : strcmp(c.name, "H264") == 0 ? H264_FMTP : "");
        c.fb = audio ? 0 : VIDEO_FB;
        sb_add(&b, "m=%s %u UDP/TLS/RTP/SAVPF %u", kind, (unsigned)(l->port ? l->port : 9), t->pt);
        if (t->rtx_pt)
            sb_add(&b, " %u", t->rtx_pt);
        sb_add(&b, "\r\n");
        write_transport(&b, l, fp, true);
        sb_add(&b, "a=mid:%s\r\na=sendonly\r\na=rtcp-mux\r\n", t->mid);
        write_codec(&b, &c);
        write_rtx(&b, t->rtx_pt ? t->rtx_pt : -1, t->pt);
        if (t->audio_level_id && audio)
            sb_add(&b, "a=extmap:%u %s\r\n", t->audio_level_id, PARLEY_SDP_EXT_AUDIO_LEVEL);
        if (t->mid_ext_id)
            sb_add(&b, "a=extmap:%u %s\r\n", t->mid_ext_id, PARLEY_SDP_EXT_MID);
        const char *cname = t->cname ? t->cname : t->stream_id;
        sb_add(&b, "a=msid:%s %s\r\n", t->stream_id, t->track_id);
        if (t->rtx_pt)
            sb_add(&b, "a=ssrc-group:FID %u %u\r\n", (unsigned)t->ssrc, (unsigned)t->rtx_ssrc);
        for (int k = 0; k < (t->rtx_pt ? 2 : 1); k++) {
            unsigned ssrc = (unsigned)(k ? t->rtx_ssrc : t->ssrc);
            sb_add(&b, "a=ssrc:%u cname:%s\r\na=ssrc:%u msid:%s %s\r\n", ssrc, cname, ssrc,
                   t->stream_id, t->track_id);
        }
        write_candidates(&b, l);
    }
    if (b.failed) {
        free(b.p);
        parley_errtext(err, errlen, "out of memory");
        return PARLEY_SDP_ENOMEM;
    }
    *out = b.p;
    if (out_len)
        *out_len = b.len;
    return PARLEY_SDP_OK;
}

int parley_sdp_answer_check(const parley_sdp_track *tracks, size_t n_tracks,
                            const parley_sdp *answer, bool *accepted, char *err, size_t errlen)
{
    if (!answer || (n_tracks && !tracks)) {
        parley_errtext(err, errlen, "no answer or no tracks");
        return PARLEY_SDP_EINVAL;
    }
    if (answer->n_media != n_tracks) {
        parley_errtext(err, errlen, "the answer has %zu m-lines for %zu offered", answer->n_media, n_tracks);
        return PARLEY_SDP_EMALFORMED;
    }
    for (size_t i = 0; i < n_tracks; i++) {
        const parley_sdp_track *t = &tracks[i];
        const parley_sdp_media *m = &answer->media[i];
        const char *why = NULL;
        bool ok = false;
        if (m->kind != t->kind || !t->mid || strcmp(m->mid, t->mid) != 0)
            why = "kind or mid differs from the offer";
        else if (t->stopped || m->rejected || m->direction == PARLEY_SDP_INACTIVE)
            ok = false;
        else if (m->direction != PARLEY_SDP_RECVONLY)
            why = "direction is not recvonly for a sendonly offer";
        else if (!parley_sdp_in_bundle(answer, m->mid))
            why = "not in the BUNDLE group";
        else if (!m->rtcp_mux)
            why = "no rtcp-mux";
        else if (!m->transport.ice_ufrag[0] || !m->transport.ice_pwd[0])
            why = "no ICE credentials";
        else if (strcmp(m->transport.fingerprint_alg, "sha-256") != 0)
            why = "no sha-256 fingerprint";
        else if (m->transport.setup != PARLEY_SDP_SETUP_ACTIVE)
            why = "setup is not active";
        else if (!parley_sdp_media_codec(m, t->pt))
            why = "the offered payload type is missing";
        else
            ok = true;
        if (why) {
            parley_errtext(err, errlen, "m-line %zu (mid %s): %s", i, m->mid, why);
            return PARLEY_SDP_EUNSUPPORTED;
        }
        if (accepted)
            accepted[i] = ok;
    }
    return PARLEY_SDP_OK;
}
