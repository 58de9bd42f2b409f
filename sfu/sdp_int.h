/* sdp_int.h - what sdp.c and sdp_attr.c share; not for use outside sfu/sdp*.
 *
 * The parser's state, the bounded helpers every line parser uses, and the
 * attribute parsers of sdp_attr.c. Every failure goes through sdp_fail, which
 * writes "line N: reason" into the caller's buffer and returns the status,
 * so no parse fails without a reason. */
#ifndef PARLEY_SFU_SDP_INT_H
#define PARLEY_SFU_SDP_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "sdp.h"

typedef struct sdp_parser {
    parley_sdp *sdp;
    parley_sdp_media *m; /* the current media section, NULL at session level */
    size_t cap;
    unsigned wild_fb;    /* rtcp-fb:* of the current media section */
    parley_sdp_direction session_dir;
    bool seen_s;
    int lineno;
    int status;
    char *err;
    size_t errlen;
} sdp_parser;

/* Record the status and "line N: <fmt>" (no prefix at line 0); returns status. */
int sdp_fail(sdp_parser *p, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Write msg into err (errlen bytes; either may be NULL/0). */
void sdp_set_err(char *err, size_t errlen, const char *msg);

/* Copy n bytes of src into dst[size] with a NUL; false when it does not fit. */
bool sdp_copy_n(char *dst, size_t size, const char *src, size_t n);
bool sdp_copy_str(char *dst, size_t size, const char *src);
/* The next space- or tab-separated token of *s, its length in *n; NULL at the end. */
const char *sdp_next_tok(const char **s, size_t *n);
/* n decimal digits, no sign, at most max. */
bool sdp_parse_uint(const char *s, size_t n, unsigned long long max, unsigned long long *out);
bool sdp_tok_uint(const char **s, unsigned long long max, unsigned long long *out);
/* Copy the next token into dst; false when absent or too long. */
bool sdp_tok_copy(const char **s, char *dst, size_t size);
/* Case-insensitive comparison of a token with a word. */
bool sdp_tok_is(const char *t, size_t n, const char *word);
/* ice-char: ALPHA / DIGIT / "+" / "/" (RFC 8839). */
bool sdp_ice_chars(const char *s);
const char *sdp_skip_sp(const char *s);
parley_sdp_codec *sdp_find_codec(parley_sdp_media *m, unsigned long long pt);

/* "<stream> [<track>]" into two fields; false when malformed or too long. */
bool sdp_parse_msid_value(const char *v, char *stream, size_t ss, char *track, size_t ts);
/* The value of a=candidate (after "candidate:"); the reason in *why. */
bool sdp_candidate_fields(const char *v, parley_sdp_candidate *c, const char **why);

/* a=<name>:<v> of the current media section (p->m) or transport tr. */
int sdp_parse_rtpmap(sdp_parser *p, const char *v);
int sdp_parse_fmtp(sdp_parser *p, const char *v);
int sdp_parse_rtcp_fb(sdp_parser *p, const char *v);
int sdp_parse_extmap(sdp_parser *p, const char *v);
int sdp_parse_ssrc(sdp_parser *p, const char *v);
int sdp_parse_ssrc_group(sdp_parser *p, const char *v);
int sdp_parse_rid(sdp_parser *p, const char *v);
int sdp_parse_fingerprint(sdp_parser *p, parley_sdp_transport *tr, const char *v);
int sdp_parse_setup(sdp_parser *p, parley_sdp_transport *tr, const char *v);

#endif
