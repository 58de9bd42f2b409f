/* sdp.c - parsing SDP offers and answers into a parley_sdp.
 *
 * The parser owns the strict reading of browser SDP (sdp.h): the text is cut
 * into lines, each line is copied into a bounded, NUL-terminated buffer
 * before it is looked at, the session structure (v=, o=, s=, m=) is checked
 * and every a= line is dispatched to its parser (sdp_attr.c for those with
 * values). Values are copied into their fixed-size fields only when they
 * fit. Building answers and offers lives in sdp_answer.c. */
#include "sdp_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- lookups ------------------------------------------------------------ */

const parley_sdp_codec *parley_sdp_media_codec(const parley_sdp_media *m, uint8_t pt)
{
    return m ? sdp_find_codec((parley_sdp_media *)m, pt) : NULL;
}

uint8_t parley_sdp_media_extmap_id(const parley_sdp_media *m, const char *uri)
{
    if (!m || !uri)
        return 0;
    for (size_t i = 0; i < m->n_extmaps; i++)
        if (strcmp(m->extmaps[i].uri, uri) == 0)
            return m->extmaps[i].id;
    return 0;
}

int parley_sdp_media_rtx_for(const parley_sdp_media *m, uint8_t pt)
{
    if (!m)
        return -1;
    for (size_t i = 0; i < m->n_codecs; i++)
        if (m->codecs[i].apt == pt && strcasecmp(m->codecs[i].name, "rtx") == 0)
            return m->codecs[i].pt;
    return -1;
}

bool parley_sdp_in_bundle(const parley_sdp *sdp, const char *mid)
{
    if (!sdp || !mid || !*mid)
        return false;
    for (size_t i = 0; i < sdp->n_bundle; i++)
        if (strcmp(sdp->bundle[i], mid) == 0)
            return true;
    return false;
}

const char *parley_sdp_kind_name(parley_sdp_kind kind)
{
    switch (kind) {
    case PARLEY_SDP_AUDIO: return "audio";
    case PARLEY_SDP_VIDEO: return "video";
    case PARLEY_SDP_APPLICATION: return "application";
    default: return "other";
    }
}

const char *parley_sdp_direction_name(parley_sdp_direction dir)
{
    switch (dir) {
    case PARLEY_SDP_SENDRECV: return "sendrecv";
    case PARLEY_SDP_SENDONLY: return "sendonly";
    case PARLEY_SDP_RECVONLY: return "recvonly";
    default: return "inactive";
    }
}

const char *parley_sdp_status_name(int status)
{
    switch (status) {
    case PARLEY_SDP_OK: return "ok";
    case PARLEY_SDP_EMALFORMED: return "malformed";
    case PARLEY_SDP_ETOOBIG: return "too big";
    case PARLEY_SDP_ENOMEDIA: return "no media";
    case PARLEY_SDP_EUNSUPPORTED: return "unsupported";
    case PARLEY_SDP_EINVAL: return "invalid argument";
    case PARLEY_SDP_ENOMEM: return "out of memory";
    default: return "unknown";
    }
}

void parley_sdp_free(parley_sdp *sdp)
{
    if (!sdp)
        return;
    free(sdp->media);
    free(sdp);
}

/* ---- lines -------------------------------------------------------------- */

static int parse_origin(sdp_parser *p, const char *v)
{
    parley_sdp *s = p->sdp;
    unsigned long long x;
    const char *q = v, *t;
    size_t n;
    if (!sdp_tok_copy(&q, s->origin_user, sizeof s->origin_user))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "o=: bad username");
    t = sdp_next_tok(&q, &n);
    if (!t || !sdp_parse_uint(t, n, ~0ULL, &x) || !sdp_copy_n(s->session_id, sizeof s->session_id, t, n))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "o=: bad session id");
    t = sdp_next_tok(&q, &n);
    if (!t || !sdp_parse_uint(t, n, ~0ULL, &x) ||
        !sdp_copy_n(s->session_version, sizeof s->session_version, t, n))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "o=: bad session version");
    t = sdp_next_tok(&q, &n);
    if (!t || !sdp_tok_is(t, n, "IN"))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "o=: network type is not IN");
    t = sdp_next_tok(&q, &n);
    if (!t || !(sdp_tok_is(t, n, "IP4") || sdp_tok_is(t, n, "IP6")))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "o=: address type is not IP4 or IP6");
    if (!sdp_next_tok(&q, &n) || sdp_next_tok(&q, &n))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "o=: bad address");
    return 0;
}

static int parse_mline(sdp_parser *p, const char *v)
{
    parley_sdp *s = p->sdp;
    if (s->n_media >= PARLEY_SDP_MAX_MEDIA)
        return sdp_fail(p, PARLEY_SDP_ETOOBIG, "more than %d m-lines", PARLEY_SDP_MAX_MEDIA);
    if (s->n_media == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 4;
        parley_sdp_media *media = realloc(s->media, cap * sizeof *media);
        if (!media)
            return sdp_fail(p, PARLEY_SDP_ENOMEM, "out of memory");
        s->media = media;
        p->cap = cap;
    }
    parley_sdp_media *m = &s->media[s->n_media++];
    memset(m, 0, sizeof *m);
    p->m = m;
    p->wild_fb = 0;
    m->direction = p->session_dir;

    const char *q = v, *t;
    size_t n;
    unsigned long long x;
    if (!sdp_tok_copy(&q, m->kind_name, sizeof m->kind_name))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "m=: bad media type");
    m->kind = strcmp(m->kind_name, "audio") == 0         ? PARLEY_SDP_AUDIO
              : strcmp(m->kind_name, "video") == 0       ? PARLEY_SDP_VIDEO
              : strcmp(m->kind_name, "application") == 0 ? PARLEY_SDP_APPLICATION
                                                         : PARLEY_SDP_OTHER;
    t = sdp_next_tok(&q, &n);
    if (!t)
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "m=: no port");
    const char *slash = memchr(t, '/', n);
    size_t pn = slash ? (size_t)(slash - t) : n;
    if (!sdp_parse_uint(t, pn, 65535, &x))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "m=: bad port");
    m->port = (uint16_t)x;
    m->rejected = m->port == 0;
    if (slash && !sdp_parse_uint(slash + 1, n - pn - 1, 65535, &x))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "m=: bad port count");
    if (!sdp_tok_copy(&q, m->proto, sizeof m->proto))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "m=: bad protocol");
    bool rtp = strstr(m->proto, "RTP") != NULL;
    size_t nfmt = 0;
    while ((t = sdp_next_tok(&q, &n))) {
        if (nfmt++ == 0 && !sdp_copy_n(m->fmt0, sizeof m->fmt0, t, n))
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "m=: format too long");
        if (!rtp)
            continue;
        if (!sdp_parse_uint(t, n, 127, &x))
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "m=: bad payload type");
        if (sdp_find_codec(m, x))
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "m=: payload type %llu twice", x);
        if (m->n_codecs >= PARLEY_SDP_MAX_CODECS)
            return sdp_fail(p, PARLEY_SDP_ETOOBIG, "m=: more than %d payload types",
                        PARLEY_SDP_MAX_CODECS);
        parley_sdp_codec *c = &m->codecs[m->n_codecs++];
        c->pt = (uint8_t)x;
        c->apt = -1;
    }
    if (nfmt == 0)
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "m=: no formats");
    return 0;
}

static int parse_group(sdp_parser *p, const char *v)
{
    parley_sdp *s = p->sdp;
    const char *q = v, *t;
    size_t n;
    t = sdp_next_tok(&q, &n);
    if (!t)
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=group: no semantics");
    if (!sdp_tok_is(t, n, "BUNDLE") || s->n_bundle > 0)
        return 0; /* other groups, and a second BUNDLE group, are not used */
    while ((t = sdp_next_tok(&q, &n))) {
        if (s->n_bundle >= PARLEY_SDP_MAX_BUNDLE)
            return sdp_fail(p, PARLEY_SDP_ETOOBIG, "a=group: more than %d mids", PARLEY_SDP_MAX_BUNDLE);
        if (!sdp_copy_n(s->bundle[s->n_bundle], PARLEY_SDP_TOKEN_LEN, t, n))
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=group: mid too long");
        for (size_t i = 0; i < s->n_bundle; i++)
            if (strcmp(s->bundle[i], s->bundle[s->n_bundle]) == 0)
                return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=group: mid %s twice", s->bundle[i]);
        s->n_bundle++;
    }
    return 0;
}

static bool parse_direction(const char *name, parley_sdp_direction *dir)
{
    static const char *const names[] = {"sendrecv", "sendonly", "recvonly", "inactive"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0) {
            *dir = (parley_sdp_direction)i;
            return true;
        }
    return false;
}

/* One a= line; name is NUL-terminated, v is the value ("" when none). */
static int parse_attr(sdp_parser *p, const char *name, const char *v, bool has_value)
{
    parley_sdp *s = p->sdp;
    parley_sdp_media *m = p->m;
    parley_sdp_transport *tr = m ? &m->transport : &s->transport;
    parley_sdp_direction dir;

    /* session or media level */
    if (strcmp(name, "ice-ufrag") == 0) {
        if (!sdp_copy_str(tr->ice_ufrag, sizeof tr->ice_ufrag, v))
            return sdp_fail(p, PARLEY_SDP_ETOOBIG, "a=ice-ufrag: longer than %d", PARLEY_SDP_ICE_LEN);
        if (strlen(v) < 4 || !sdp_ice_chars(v))
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=ice-ufrag: bad value");
        return 0;
    }
    if (strcmp(name, "ice-pwd") == 0) {
        if (!sdp_copy_str(tr->ice_pwd, sizeof tr->ice_pwd, v))
            return sdp_fail(p, PARLEY_SDP_ETOOBIG, "a=ice-pwd: longer than %d", PARLEY_SDP_ICE_LEN);
        if (strlen(v) < 22 || !sdp_ice_chars(v))
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=ice-pwd: bad value");
        return 0;
    }
    if (strcmp(name, "ice-options") == 0) {
        if (!*v || !sdp_copy_str(tr->ice_options, sizeof tr->ice_options, v))
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=ice-options: bad value");
        return 0;
    }
    if (strcmp(name, "fingerprint") == 0)
        return sdp_parse_fingerprint(p, tr, v);
    if (strcmp(name, "setup") == 0)
        return sdp_parse_setup(p, tr, v);
    if (!has_value && parse_direction(name, &dir)) {
        if (m)
            m->direction = dir;
        else
            p->session_dir = dir;
        return 0;
    }
    if (strcmp(name, "extmap-allow-mixed") == 0) {
        s->extmap_allow_mixed = true;
        return 0;
    }
    if (!m) {
        if (strcmp(name, "group") == 0)
            return parse_group(p, v);
        if (strcmp(name, "ice-lite") == 0)
            s->ice_lite = true;
        else if (strcmp(name, "msid-semantic") == 0 &&
                 !sdp_copy_str(s->msid_semantic, sizeof s->msid_semantic, sdp_skip_sp(v)))
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=msid-semantic: too long");
        return 0;
    }

    /* media level */
    if (strcmp(name, "mid") == 0) {
        if (!*v || strpbrk(v, " \t") || !sdp_copy_str(m->mid, sizeof m->mid, v))
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=mid: bad value");
        return 0;
    }
    if (strcmp(name, "rtpmap") == 0)
        return sdp_parse_rtpmap(p, v);
    if (strcmp(name, "fmtp") == 0)
        return sdp_parse_fmtp(p, v);
    if (strcmp(name, "rtcp-fb") == 0)
        return sdp_parse_rtcp_fb(p, v);
    if (strcmp(name, "extmap") == 0)
        return sdp_parse_extmap(p, v);
    if (strcmp(name, "ssrc") == 0)
        return sdp_parse_ssrc(p, v);
    if (strcmp(name, "ssrc-group") == 0)
        return sdp_parse_ssrc_group(p, v);
    if (strcmp(name, "rid") == 0)
        return sdp_parse_rid(p, v);
    if (strcmp(name, "simulcast") == 0) {
        if (!*v || !sdp_copy_str(m->simulcast, sizeof m->simulcast, v))
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=simulcast: bad value");
        return 0;
    }
    if (strcmp(name, "msid") == 0) {
        if (!sdp_parse_msid_value(v, m->msid_stream, sizeof m->msid_stream, m->msid_track,
                              sizeof m->msid_track))
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=msid: bad value");
        return 0;
    }
    if (strcmp(name, "candidate") == 0) {
        if (m->n_candidates >= PARLEY_SDP_MAX_CANDIDATES)
            return sdp_fail(p, PARLEY_SDP_ETOOBIG, "more than %d candidates", PARLEY_SDP_MAX_CANDIDATES);
        const char *why;
        if (!sdp_candidate_fields(v, &m->candidates[m->n_candidates], &why))
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=candidate: %s", why);
        m->n_candidates++;
        return 0;
    }
    if (strcmp(name, "sctp-port") == 0) {
        unsigned long long x;
        if (!sdp_parse_uint(v, strlen(v), 65535, &x))
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=sctp-port: bad port");
        m->sctp_port = (uint16_t)x;
        return 0;
    }
    if (strcmp(name, "rtcp-mux") == 0)
        m->rtcp_mux = true;
    else if (strcmp(name, "rtcp-rsize") == 0)
        m->rtcp_rsize = true;
    else if (strcmp(name, "bundle-only") == 0)
        m->bundle_only = true;
    else if (strcmp(name, "end-of-candidates") == 0)
        m->end_of_candidates = true;
    return 0;
}

static int parse_line(sdp_parser *p, char *line, size_t len, bool *seen)
{
    if (len < 2 || line[1] != '=' || line[0] < 'a' || line[0] > 'z')
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "not a <type>=<value> line");
    char type = line[0];
    char *v = line + 2;
    if (!strchr("vosiuepcbtrzkam", type))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "unknown line type %c=", type);
    if (p->lineno == 1 && type != 'v')
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "the first line is not v=");
    switch (type) {
    case 'v':
        if (p->lineno != 1 || strcmp(v, "0") != 0)
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "v=0 must come first, once");
        break;
    case 'o':
        if (seen['o' - 'a'] || p->m)
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "o= out of place");
        if (parse_origin(p, v))
            return p->status;
        break;
    case 's':
        if (seen['s' - 'a'] || p->m)
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "s= out of place");
        p->seen_s = true;
        break;
    case 'm':
        if (!seen['o' - 'a'] || !seen['s' - 'a'])
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "m= before o= and s=");
        return parse_mline(p, v);
    case 'a': {
        char *colon = strchr(v, ':');
        size_t nlen = colon ? (size_t)(colon - v) : strlen(v);
        if (nlen == 0 || nlen > 64)
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=: bad attribute name");
        for (size_t i = 0; i < nlen; i++)
            if (v[i] == ' ')
                return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=: bad attribute name");
        if (colon)
            *colon = '\0';
        return parse_attr(p, v, colon ? colon + 1 : "", colon != NULL);
    }
    default:
        break; /* i, u, e, p, c, b, t, r, z, k: not used */
    }
    seen[type - 'a'] = true;
    return 0;
}

/* After the last line: defaults and consistency. */
static int finish(sdp_parser *p)
{
    parley_sdp *s = p->sdp;
    p->lineno = 0;
    if (s->origin_user[0] == '\0')
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "no o= line");
    if (!p->seen_s)
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "no s= line");
    for (size_t i = 0; i < s->n_media; i++) {
        parley_sdp_media *m = &s->media[i];
        parley_sdp_transport *t = &m->transport, *st = &s->transport;
        if (!t->ice_ufrag[0])
            strcpy(t->ice_ufrag, st->ice_ufrag);
        if (!t->ice_pwd[0])
            strcpy(t->ice_pwd, st->ice_pwd);
        if (!t->ice_options[0])
            strcpy(t->ice_options, st->ice_options);
        if (!t->fingerprint[0]) {
            strcpy(t->fingerprint_alg, st->fingerprint_alg);
            strcpy(t->fingerprint, st->fingerprint);
        }
        if (t->setup == PARLEY_SDP_SETUP_NONE)
            t->setup = st->setup;
        if (!m->mid[0])
            continue;
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->media[j].mid, m->mid) == 0)
                return sdp_fail(p, PARLEY_SDP_EMALFORMED, "mid %s on two m-lines", m->mid);
    }
    for (size_t i = 0; i < s->n_bundle; i++) {
        bool found = false;
        for (size_t j = 0; j < s->n_media && !found; j++)
            found = strcmp(s->media[j].mid, s->bundle[i]) == 0;
        if (!found)
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=group:BUNDLE names unknown mid %s",
                        s->bundle[i]);
    }
    return 0;
}

/* Close the current media section: a=rtcp-fb:* applies to all its codecs. */
static void close_media(sdp_parser *p)
{
    if (!p->m)
        return;
    /* port 0 with a=bundle-only (JSEP) is bundled, not rejected */
    if (p->m->port == 0 && p->m->bundle_only)
        p->m->rejected = false;
    for (size_t j = 0; j < p->m->n_codecs; j++)
        p->m->codecs[j].fb |= p->wild_fb;
    p->wild_fb = 0;
}

int parley_sdp_parse(const char *text, size_t len, parley_sdp **out, char *err, size_t errlen)
{
    if (out)
        *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (!text || !out) {
        sdp_set_err(err, errlen, "no SDP");
        return PARLEY_SDP_EINVAL;
    }
    sdp_parser p = {.err = err, .errlen = errlen};
    if (len > PARLEY_SDP_MAX_TEXT)
        return sdp_fail(&p, PARLEY_SDP_ETOOBIG, "SDP longer than %d bytes", PARLEY_SDP_MAX_TEXT);
    if (len == 0)
        return sdp_fail(&p, PARLEY_SDP_EMALFORMED, "empty SDP");
    p.sdp = calloc(1, sizeof *p.sdp);
    if (!p.sdp)
        return sdp_fail(&p, PARLEY_SDP_ENOMEM, "out of memory");

    char line[PARLEY_SDP_MAX_LINE + 1];
    bool seen[26] = {0};
    size_t pos = 0;
    int rc = 0;
    while (pos < len && rc == 0) {
        const char *start = text + pos;
        const char *nl = memchr(start, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - start) : len - pos;
        pos += n + (nl ? 1 : 0);
        if (n > 0 && start[n - 1] == '\r')
            n--;
        p.lineno++;
        if (p.lineno > PARLEY_SDP_MAX_LINES) {
            rc = sdp_fail(&p, PARLEY_SDP_ETOOBIG, "more than %d lines", PARLEY_SDP_MAX_LINES);
            break;
        }
        if (n > PARLEY_SDP_MAX_LINE) {
            rc = sdp_fail(&p, PARLEY_SDP_ETOOBIG, "longer than %d bytes", PARLEY_SDP_MAX_LINE);
            break;
        }
        for (size_t i = 0; i < n; i++) {
            unsigned char c = (unsigned char)start[i];
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                rc = sdp_fail(&p, PARLEY_SDP_EMALFORMED, "control character");
                break;
            }
        }
        if (rc)
            break;
        if (n == 0) {
            rc = sdp_fail(&p, PARLEY_SDP_EMALFORMED, "empty line");
            break;
        }
        memcpy(line, start, n);
        line[n] = '\0';
        if (line[0] == 'm')
            close_media(&p);
        rc = parse_line(&p, line, n, seen);
    }
    if (rc == 0) {
        close_media(&p);
        rc = finish(&p);
    }
    if (rc != 0) {
        parley_sdp_free(p.sdp);
        return rc;
    }
    *out = p.sdp;
    return PARLEY_SDP_OK;
}
