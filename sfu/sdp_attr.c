/* sdp_attr.c - the bounded text helpers of the SDP parser and the parsers
 * of the attributes that carry values: rtpmap, fmtp, rtcp-fb, extmap, ssrc,
 * ssrc-group, rid, msid, fingerprint, setup and candidate.
 *
 * Each takes one NUL-terminated line value (sdp.c copied it out of the
 * caller's text, so nothing here can run past it), checks it and stores it
 * in its fixed-size field only when it fits; a bad value fails the parse
 * through sdp_fail with the attribute's name in the reason. */
#include "sdp_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int sdp_fail(sdp_parser *p, int status, const char *fmt, ...)
{
    p->status = status;
    if (p->err && p->errlen > 0) {
        int n = p->lineno > 0 ? snprintf(p->err, p->errlen, "line %d: ", p->lineno) : 0;
        if (n < 0)
            n = 0;
        if ((size_t)n < p->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return status;
}

void sdp_set_err(char *err, size_t errlen, const char *msg)
{
    if (err && errlen > 0)
        snprintf(err, errlen, "%s", msg);
}

/* ---- small bounded helpers --------------------------------------------- */

/* Copy n bytes of src into dst[size] with a NUL; false when it does not fit. */
bool sdp_copy_n(char *dst, size_t size, const char *src, size_t n)
{
    if (n >= size)
        return false;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return true;
}

bool sdp_copy_str(char *dst, size_t size, const char *src)
{
    return sdp_copy_n(dst, size, src, strlen(src));
}

/* The next space-separated token of *s (runs of spaces skipped); its length
 * in *n; NULL at the end. */
const char *sdp_next_tok(const char **s, size_t *n)
{
    const char *p = *s;
    while (*p == ' ' || *p == '\t')
        p++;
    if (!*p)
        return NULL;
    const char *start = p;
    while (*p && *p != ' ' && *p != '\t')
        p++;
    *n = (size_t)(p - start);
    *s = p;
    return start;
}

/* Decimal digits only, no sign, at most max. */
bool sdp_parse_uint(const char *s, size_t n, unsigned long long max, unsigned long long *out)
{
    if (n == 0 || n > 20)
        return false;
    unsigned long long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
        if (v > max)
            return false;
    }
    *out = v;
    return true;
}

bool sdp_tok_uint(const char **s, unsigned long long max, unsigned long long *out)
{
    size_t n;
    const char *t = sdp_next_tok(s, &n);
    return t && sdp_parse_uint(t, n, max, out);
}

/* Copy the next token into dst; false when absent or too long. */
bool sdp_tok_copy(const char **s, char *dst, size_t size)
{
    size_t n;
    const char *t = sdp_next_tok(s, &n);
    return t && sdp_copy_n(dst, size, t, n);
}

bool sdp_tok_is(const char *t, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(t, word, n) == 0;
}

/* ice-char: ALPHA / DIGIT / "+" / "/" (RFC 8839). */
bool sdp_ice_chars(const char *s)
{
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '+' && *s != '/')
            return false;
    return true;
}

/* Remaining text after leading spaces. */
const char *sdp_skip_sp(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

parley_sdp_codec *sdp_find_codec(parley_sdp_media *m, unsigned long long pt)
{
    for (size_t i = 0; i < m->n_codecs; i++)
        if (m->codecs[i].pt == pt)
            return &m->codecs[i];
    return NULL;
}

/* ---- media attributes ------------------------------------------------------ */

int sdp_parse_rtpmap(sdp_parser *p, const char *v)
{
    const char *q = v;
    unsigned long long pt;
    size_t n;
    if (!sdp_tok_uint(&q, 127, &pt))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=rtpmap: bad payload type");
    const char *t = sdp_next_tok(&q, &n);
    if (!t || sdp_next_tok(&q, &(size_t){0}))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=rtpmap: expected <pt> <name>/<clock>");
    const char *s1 = memchr(t, '/', n);
    if (!s1 || s1 == t)
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=rtpmap: no encoding name or clock");
    const char *rest = s1 + 1;
    size_t rn = n - (size_t)(rest - t);
    const char *s2 = memchr(rest, '/', rn);
    size_t cn = s2 ? (size_t)(s2 - rest) : rn;
    unsigned long long clock;
    if (!sdp_parse_uint(rest, cn, 0xffffffffULL, &clock) || clock == 0)
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=rtpmap: bad clock rate");
    unsigned long long channels = 0;
    if (s2 && (!sdp_parse_uint(s2 + 1, rn - cn - 1, 255, &channels) || channels == 0))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=rtpmap: bad channel count");
    parley_sdp_codec *c = sdp_find_codec(p->m, pt);
    if (!c)
        return 0; /* not on the m-line: ignored */
    if (c->has_rtpmap)
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=rtpmap: payload type %llu mapped twice", pt);
    if (!sdp_copy_n(c->name, sizeof c->name, t, (size_t)(s1 - t)))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=rtpmap: encoding name too long");
    c->has_rtpmap = true;
    c->clock = (uint32_t)clock;
    c->channels = (uint8_t)channels;
    return 0;
}

int sdp_parse_fmtp(sdp_parser *p, const char *v)
{
    const char *q = v;
    unsigned long long pt;
    if (!sdp_tok_uint(&q, 127, &pt))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=fmtp: bad payload type");
    q = sdp_skip_sp(q);
    if (!*q)
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=fmtp: no parameters");
    parley_sdp_codec *c = sdp_find_codec(p->m, pt);
    if (!c)
        return 0;
    if (!sdp_copy_str(c->fmtp, sizeof c->fmtp, q))
        return sdp_fail(p, PARLEY_SDP_ETOOBIG, "a=fmtp: parameters too long");
    /* apt=<pt> (RTX, RFC 4588) */
    size_t len = strlen(c->fmtp);
    for (size_t i = 0; i < len;) {
        while (i < len && (c->fmtp[i] == ' ' || c->fmtp[i] == '\t'))
            i++;
        size_t end = i;
        while (end < len && c->fmtp[end] != ';')
            end++;
        if (end - i > 4 && memcmp(c->fmtp + i, "apt=", 4) == 0) {
            size_t n = i + 4;
            while (n < end && c->fmtp[n] != ' ')
                n++;
            unsigned long long apt;
            if (!sdp_parse_uint(c->fmtp + i + 4, n - i - 4, 127, &apt))
                return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=fmtp: bad apt");
            c->apt = (int)apt;
        } else if (end - i == 4 && memcmp(c->fmtp + i, "apt=", 4) == 0) {
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=fmtp: bad apt");
        }
        i = end + 1;
    }
    return 0;
}

int sdp_parse_rtcp_fb(sdp_parser *p, const char *v)
{
    const char *q = v, *t, *t2;
    size_t n, n2 = 0;
    unsigned long long pt = 0;
    bool wild = false;
    t = sdp_next_tok(&q, &n);
    if (!t)
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=rtcp-fb: no payload type");
    if (n == 1 && *t == '*')
        wild = true;
    else if (!sdp_parse_uint(t, n, 127, &pt))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=rtcp-fb: bad payload type");
    t = sdp_next_tok(&q, &n);
    if (!t)
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=rtcp-fb: no feedback type");
    t2 = sdp_next_tok(&q, &n2);
    unsigned bit = 0;
    if (sdp_tok_is(t, n, "nack"))
        bit = !t2 ? PARLEY_SDP_FB_NACK : sdp_tok_is(t2, n2, "pli") ? PARLEY_SDP_FB_NACK_PLI : 0;
    else if (sdp_tok_is(t, n, "ccm") && t2 && sdp_tok_is(t2, n2, "fir"))
        bit = PARLEY_SDP_FB_CCM_FIR;
    else if (sdp_tok_is(t, n, "goog-remb"))
        bit = PARLEY_SDP_FB_GOOG_REMB;
    else if (sdp_tok_is(t, n, "transport-cc"))
        bit = PARLEY_SDP_FB_TRANSPORT_CC;
    if (wild) {
        p->wild_fb |= bit;
    } else {
        parley_sdp_codec *c = sdp_find_codec(p->m, pt);
        if (c)
            c->fb |= bit;
    }
    return 0;
}

int sdp_parse_extmap(sdp_parser *p, const char *v)
{
    parley_sdp_media *m = p->m;
    const char *q = v, *t;
    size_t n;
    unsigned long long id;
    t = sdp_next_tok(&q, &n);
    if (!t)
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=extmap: no id");
    const char *slash = memchr(t, '/', n);
    size_t idn = slash ? (size_t)(slash - t) : n;
    if (!sdp_parse_uint(t, idn, 255, &id) || id == 0)
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=extmap: bad id");
    if (slash) {
        const char *d = slash + 1;
        size_t dn = n - idn - 1;
        if (!sdp_tok_is(d, dn, "sendrecv") && !sdp_tok_is(d, dn, "sendonly") &&
            !sdp_tok_is(d, dn, "recvonly") && !sdp_tok_is(d, dn, "inactive"))
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=extmap: bad direction");
    }
    for (size_t i = 0; i < m->n_extmaps; i++)
        if (m->extmaps[i].id == id)
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=extmap: id %llu twice", id);
    if (m->n_extmaps >= PARLEY_SDP_MAX_EXTMAPS)
        return sdp_fail(p, PARLEY_SDP_ETOOBIG, "more than %d a=extmap", PARLEY_SDP_MAX_EXTMAPS);
    parley_sdp_extmap *e = &m->extmaps[m->n_extmaps];
    if (!sdp_tok_copy(&q, e->uri, sizeof e->uri))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=extmap: bad URI");
    e->id = (uint8_t)id;
    m->n_extmaps++;
    return 0;
}

static parley_sdp_ssrc *sdp_ssrc_entry(sdp_parser *p, uint32_t ssrc)
{
    parley_sdp_media *m = p->m;
    for (size_t i = 0; i < m->n_ssrcs; i++)
        if (m->ssrcs[i].ssrc == ssrc)
            return &m->ssrcs[i];
    if (m->n_ssrcs >= PARLEY_SDP_MAX_SSRCS)
        return NULL;
    parley_sdp_ssrc *s = &m->ssrcs[m->n_ssrcs++];
    memset(s, 0, sizeof *s);
    s->ssrc = ssrc;
    return s;
}

/* "<stream> [<track>]" into two fields. */
bool sdp_parse_msid_value(const char *v, char *stream, size_t ss, char *track, size_t ts)
{
    const char *q = v;
    size_t n;
    if (!sdp_tok_copy(&q, stream, ss))
        return false;
    const char *t = sdp_next_tok(&q, &n);
    if (t && !sdp_copy_n(track, ts, t, n))
        return false;
    return !sdp_next_tok(&q, &n);
}

int sdp_parse_ssrc(sdp_parser *p, const char *v)
{
    const char *q = v;
    unsigned long long x;
    if (!sdp_tok_uint(&q, 0xffffffffULL, &x))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=ssrc: bad SSRC");
    q = sdp_skip_sp(q);
    if (!*q)
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=ssrc: no attribute");
    parley_sdp_ssrc *s = sdp_ssrc_entry(p, (uint32_t)x);
    if (!s)
        return sdp_fail(p, PARLEY_SDP_ETOOBIG, "more than %d SSRCs", PARLEY_SDP_MAX_SSRCS);
    if (strncmp(q, "cname:", 6) == 0) {
        if (!q[6] || strchr(q + 6, ' ') || !sdp_copy_str(s->cname, sizeof s->cname, q + 6))
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=ssrc: bad cname");
    } else if (strncmp(q, "msid:", 5) == 0) {
        if (!sdp_parse_msid_value(q + 5, s->msid_stream, sizeof s->msid_stream, s->msid_track,
                              sizeof s->msid_track))
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=ssrc: bad msid");
    }
    return 0;
}

int sdp_parse_ssrc_group(sdp_parser *p, const char *v)
{
    parley_sdp_media *m = p->m;
    if (m->n_groups >= PARLEY_SDP_MAX_GROUPS)
        return sdp_fail(p, PARLEY_SDP_ETOOBIG, "more than %d a=ssrc-group", PARLEY_SDP_MAX_GROUPS);
    parley_sdp_ssrc_group *g = &m->groups[m->n_groups];
    memset(g, 0, sizeof *g);
    const char *q = v, *t;
    size_t n;
    unsigned long long x;
    if (!sdp_tok_copy(&q, g->semantics, sizeof g->semantics))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=ssrc-group: bad semantics");
    while ((t = sdp_next_tok(&q, &n))) {
        if (!sdp_parse_uint(t, n, 0xffffffffULL, &x))
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=ssrc-group: bad SSRC");
        if (g->n_ssrcs >= PARLEY_SDP_MAX_GROUP_SSRCS)
            return sdp_fail(p, PARLEY_SDP_ETOOBIG, "a=ssrc-group: more than %d SSRCs",
                        PARLEY_SDP_MAX_GROUP_SSRCS);
        g->ssrcs[g->n_ssrcs++] = (uint32_t)x;
    }
    if (g->n_ssrcs == 0)
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=ssrc-group: no SSRC");
    m->n_groups++;
    return 0;
}

int sdp_parse_rid(sdp_parser *p, const char *v)
{
    parley_sdp_media *m = p->m;
    if (m->n_rids >= PARLEY_SDP_MAX_RIDS)
        return sdp_fail(p, PARLEY_SDP_ETOOBIG, "more than %d a=rid", PARLEY_SDP_MAX_RIDS);
    parley_sdp_rid *r = &m->rids[m->n_rids];
    const char *q = v, *t;
    size_t n;
    if (!sdp_tok_copy(&q, r->id, sizeof r->id))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=rid: bad id");
    for (const char *c = r->id; *c; c++)
        if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=rid: bad id");
    t = sdp_next_tok(&q, &n);
    if (!t || !(sdp_tok_is(t, n, "send") || sdp_tok_is(t, n, "recv")))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=rid: direction is not send or recv");
    r->send = sdp_tok_is(t, n, "send");
    m->n_rids++;
    return 0;
}

int sdp_parse_fingerprint(sdp_parser *p, parley_sdp_transport *tr, const char *v)
{
    const char *q = v;
    char alg[16], value[PARLEY_SDP_TEXT_LEN];
    size_t n;
    if (!sdp_tok_copy(&q, alg, sizeof alg) || !sdp_tok_copy(&q, value, sizeof value) || sdp_next_tok(&q, &n))
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=fingerprint: expected <hash> <value>");
    for (char *c = alg; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    bool sha256 = strcmp(alg, "sha-256") == 0;
    if (sha256) {
        if (strlen(value) != 95)
            return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=fingerprint: sha-256 is not 32 bytes");
        for (int i = 0; i < 95; i++) {
            bool ok = i % 3 == 2 ? value[i] == ':' : isxdigit((unsigned char)value[i]) != 0;
            if (!ok)
                return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=fingerprint: bad hex");
        }
    }
    /* Several fingerprints: keep a sha-256 one. */
    if (strcmp(tr->fingerprint_alg, "sha-256") == 0 && !sha256)
        return 0;
    strcpy(tr->fingerprint_alg, alg);
    strcpy(tr->fingerprint, value);
    return 0;
}

int sdp_parse_setup(sdp_parser *p, parley_sdp_transport *tr, const char *v)
{
    if (strcmp(v, "actpass") == 0)
        tr->setup = PARLEY_SDP_SETUP_ACTPASS;
    else if (strcmp(v, "active") == 0)
        tr->setup = PARLEY_SDP_SETUP_ACTIVE;
    else if (strcmp(v, "passive") == 0)
        tr->setup = PARLEY_SDP_SETUP_PASSIVE;
    else if (strcmp(v, "holdconn") == 0)
        tr->setup = PARLEY_SDP_SETUP_HOLDCONN;
    else
        return sdp_fail(p, PARLEY_SDP_EMALFORMED, "a=setup: unknown role");
    return 0;
}

/* The value of a=candidate (after "candidate:"); reason in *why. */
bool sdp_candidate_fields(const char *v, parley_sdp_candidate *c, const char **why)
{
    const char *q = v, *t;
    size_t n;
    unsigned long long x;
    memset(c, 0, sizeof *c);
    *why = "bad foundation";
    if (!sdp_tok_copy(&q, c->foundation, sizeof c->foundation) || !sdp_ice_chars(c->foundation))
        return false;
    *why = "bad component";
    if (!sdp_tok_uint(&q, 256, &x) || x == 0)
        return false;
    c->component = (uint16_t)x;
    *why = "bad transport";
    if (!sdp_tok_copy(&q, c->transport, sizeof c->transport))
        return false;
    *why = "bad priority";
    if (!sdp_tok_uint(&q, 0xffffffffULL, &x) || x == 0)
        return false;
    c->priority = (uint32_t)x;
    *why = "bad address";
    if (!sdp_tok_copy(&q, c->address, sizeof c->address))
        return false;
    *why = "bad port";
    if (!sdp_tok_uint(&q, 65535, &x))
        return false;
    c->port = (uint16_t)x;
    *why = "no typ";
    t = sdp_next_tok(&q, &n);
    if (!t || !sdp_tok_is(t, n, "typ"))
        return false;
    *why = "bad candidate type";
    t = sdp_next_tok(&q, &n);
    if (!t || !(sdp_tok_is(t, n, "host") || sdp_tok_is(t, n, "srflx") || sdp_tok_is(t, n, "prflx") ||
                sdp_tok_is(t, n, "relay")))
        return false;
    sdp_copy_n(c->type, sizeof c->type, t, n);
    return true;
}

int parley_sdp_candidate_parse(const char *text, size_t len, parley_sdp_candidate *out,
                               char *err, size_t errlen)
{
    char buf[PARLEY_SDP_MAX_LINE + 1];
    if (!text || !out) {
        sdp_set_err(err, errlen, "no candidate");
        return PARLEY_SDP_EINVAL;
    }
    if (len > PARLEY_SDP_MAX_LINE) {
        sdp_set_err(err, errlen, "candidate too long");
        return PARLEY_SDP_ETOOBIG;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f) {
            sdp_set_err(err, errlen, "control character in candidate");
            return PARLEY_SDP_EMALFORMED;
        }
    memcpy(buf, text, len);
    buf[len] = '\0';
    const char *v = buf;
    if (strncmp(v, "a=", 2) == 0)
        v += 2;
    if (strncmp(v, "candidate:", 10) != 0) {
        sdp_set_err(err, errlen, "not a candidate");
        return PARLEY_SDP_EMALFORMED;
    }
    const char *why;
    if (!sdp_candidate_fields(v + 10, out, &why)) {
        char msg[64];
        snprintf(msg, sizeof msg, "a=candidate: %s", why);
        sdp_set_err(err, errlen, msg);
        return PARLEY_SDP_EMALFORMED;
    }
    return PARLEY_SDP_OK;
}
