/* sdp.h - Parley's SDP: parsing browser offers and answers, building the
 * SFU's answers to publishers and its offers to subscribers.
 *
 * The SFU speaks one dialect of WebRTC: ICE-lite, BUNDLE-only, rtcp-mux-only,
 * Unified Plan (one track per m-line), Opus for audio and VP8 (and H.264
 * packetization-mode=1, constrained baseline 42e0xx, when allowed) for video.
 * SDP is plain text that we parse here ourselves, strictly:
 *
 *   - the text is at most PARLEY_SDP_MAX_TEXT bytes, at most
 *     PARLEY_SDP_MAX_LINES lines of at most PARLEY_SDP_MAX_LINE bytes each;
 *     lines end in CRLF or LF; NUL and control characters are refused;
 *   - every line we understand is checked; a malformed one fails the whole
 *     parse with a status and a reason naming the line ("line 12: a=rtpmap:
 *     bad clock rate"); values longer than their field are refused, never
 *     truncated; attributes we do not know are ignored;
 *   - nothing is read past the given length (the text need not end in NUL).
 *
 * Media-level ICE credentials, ICE options, fingerprint and setup fall back
 * to the session-level ones after parsing, so each parley_sdp_media carries
 * the values that apply to it.
 *
 * Status: functions return PARLEY_SDP_OK (0) or a negative parley_sdp_status
 * and write a reason into err (errlen bytes, may be NULL/0).
 *
 * Ownership: a parley_sdp, a parley_sdp_answer and the text of a built offer
 * are malloc'd by the call that makes them; release them with parley_sdp_free,
 * parley_sdp_answer_free and free(). Both free functions take NULL / a zeroed
 * struct. Everything else is plain structs of fixed-size fields; strings
 * passed in are only read during the call. Nothing here keeps global state:
 * every function is thread-safe. */
#ifndef PARLEY_SFU_SDP_H
#define PARLEY_SFU_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PARLEY_SDP_MAX_TEXT 65536 /* one signaling frame */
#define PARLEY_SDP_MAX_LINE 2048
#define PARLEY_SDP_MAX_LINES 4096
#define PARLEY_SDP_MAX_MEDIA 64
#define PARLEY_SDP_MAX_CODECS 64 /* payload types per m-line */
#define PARLEY_SDP_MAX_EXTMAPS 24
#define PARLEY_SDP_MAX_SSRCS 16
#define PARLEY_SDP_MAX_GROUPS 8
#define PARLEY_SDP_MAX_GROUP_SSRCS 4
#define PARLEY_SDP_MAX_RIDS 8
#define PARLEY_SDP_MAX_CANDIDATES 32
#define PARLEY_SDP_MAX_BUNDLE 64

#define PARLEY_SDP_TOKEN_LEN 64 /* mids, cnames, msid ids, codec names ... */
#define PARLEY_SDP_ICE_LEN 256  /* ice-ufrag, ice-pwd (RFC 8839: up to 256) */
#define PARLEY_SDP_TEXT_LEN 256 /* fmtp parameters, ice-options, simulcast */

typedef enum parley_sdp_status {
    PARLEY_SDP_OK = 0,
    PARLEY_SDP_EMALFORMED = -1, /* a line or the structure is wrong */
    PARLEY_SDP_ETOOBIG = -2,    /* a limit above was passed */
    PARLEY_SDP_ENOMEDIA = -3,   /* publish offer: no audio or video we accept (-> 105) */
    PARLEY_SDP_EUNSUPPORTED = -4, /* valid SDP we cannot use (no BUNDLE, no fingerprint...) */
    PARLEY_SDP_EINVAL = -5,     /* bad arguments from the caller */
    PARLEY_SDP_ENOMEM = -6,
} parley_sdp_status;

typedef enum parley_sdp_kind {
    PARLEY_SDP_AUDIO = 0,
    PARLEY_SDP_VIDEO,
    PARLEY_SDP_APPLICATION,
    PARLEY_SDP_OTHER,
} parley_sdp_kind;

typedef enum parley_sdp_direction {
    PARLEY_SDP_SENDRECV = 0, /* also the default when no direction is given */
    PARLEY_SDP_SENDONLY,
    PARLEY_SDP_RECVONLY,
    PARLEY_SDP_INACTIVE,
} parley_sdp_direction;

typedef enum parley_sdp_setup {
    PARLEY_SDP_SETUP_NONE = 0, /* not given */
    PARLEY_SDP_SETUP_ACTPASS,
    PARLEY_SDP_SETUP_ACTIVE,
    PARLEY_SDP_SETUP_PASSIVE,
    PARLEY_SDP_SETUP_HOLDCONN,
} parley_sdp_setup;

/* rtcp-fb kinds we know, as bits in parley_sdp_codec.fb. */
enum {
    PARLEY_SDP_FB_NACK = 1u << 0,
    PARLEY_SDP_FB_NACK_PLI = 1u << 1,
    PARLEY_SDP_FB_CCM_FIR = 1u << 2,
    PARLEY_SDP_FB_GOOG_REMB = 1u << 3,
    PARLEY_SDP_FB_TRANSPORT_CC = 1u << 4,
};

#define PARLEY_SDP_EXT_AUDIO_LEVEL "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
#define PARLEY_SDP_EXT_MID "urn:ietf:params:rtp-hdrext:sdes:mid"
#define PARLEY_SDP_EXT_RID "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"
#define PARLEY_SDP_EXT_RRID "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"
#define PARLEY_SDP_MAX_LAYERS 3 /* simulcast layers the SFU receives per track */

/* One payload type: a=rtpmap, a=fmtp and a=rtcp-fb. */
typedef struct parley_sdp_codec {
    uint8_t pt;
    bool has_rtpmap;
    char name[PARLEY_SDP_TOKEN_LEN]; /* as written: "opus", "VP8", "H264", "rtx" */
    uint32_t clock;
    uint8_t channels; /* 0 when not given */
    char fmtp[PARLEY_SDP_TEXT_LEN];
    unsigned fb;      /* PARLEY_SDP_FB_* bits (from pt and "*") */
    int apt;          /* rtx: the payload type it repairs (fmtp apt=), else -1 */
} parley_sdp_codec;

typedef struct parley_sdp_extmap {
    uint8_t id; /* 1..255 */
    char uri[PARLEY_SDP_TEXT_LEN];
} parley_sdp_extmap;

typedef struct parley_sdp_ssrc {
    uint32_t ssrc;
    char cname[PARLEY_SDP_TOKEN_LEN];
    char msid_stream[PARLEY_SDP_TOKEN_LEN];
    char msid_track[PARLEY_SDP_TOKEN_LEN];
} parley_sdp_ssrc;

typedef struct parley_sdp_ssrc_group {
    char semantics[16]; /* "FID", "SIM", "FEC-FR" ... */
    size_t n_ssrcs;
    uint32_t ssrcs[PARLEY_SDP_MAX_GROUP_SSRCS];
} parley_sdp_ssrc_group;

typedef struct parley_sdp_rid {
    char id[PARLEY_SDP_TOKEN_LEN];
    bool send; /* "send", else "recv" */
} parley_sdp_rid;

typedef struct parley_sdp_candidate {
    char foundation[33];
    uint16_t component;
    char transport[8]; /* "udp" / "tcp" as written */
    uint32_t priority;
    char address[PARLEY_SDP_TOKEN_LEN]; /* IPv4, IPv6 or an mDNS name */
    uint16_t port;
    char type[8]; /* "host", "srflx", "prflx", "relay" */
} parley_sdp_candidate;

/* The transport attributes, found at session or media level. */
typedef struct parley_sdp_transport {
    char ice_ufrag[PARLEY_SDP_ICE_LEN + 1];
    char ice_pwd[PARLEY_SDP_ICE_LEN + 1];
    char ice_options[PARLEY_SDP_TEXT_LEN]; /* "trickle", "trickle renomination" */
    char fingerprint_alg[16];              /* "sha-256" (others are recorded as given) */
    char fingerprint[PARLEY_SDP_TEXT_LEN]; /* "AB:CD:..." */
    parley_sdp_setup setup;
} parley_sdp_transport;

typedef struct parley_sdp_media {
    parley_sdp_kind kind;
    char kind_name[16]; /* as written on the m-line */
    uint16_t port;      /* 0: rejected, unless a=bundle-only */
    bool rejected;
    char proto[32];     /* "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP" ... */
    char fmt0[32];      /* the first format as written ("111", "webrtc-datachannel") */
    char mid[PARLEY_SDP_TOKEN_LEN];
    parley_sdp_direction direction;
    bool rtcp_mux, rtcp_rsize, bundle_only, end_of_candidates;
    size_t n_codecs; /* RTP protocols (proto has "RTP"): in m-line order, the offerer's preference */
    parley_sdp_codec codecs[PARLEY_SDP_MAX_CODECS];
    size_t n_extmaps;
    parley_sdp_extmap extmaps[PARLEY_SDP_MAX_EXTMAPS];
    size_t n_ssrcs;
    parley_sdp_ssrc ssrcs[PARLEY_SDP_MAX_SSRCS];
    size_t n_groups;
    parley_sdp_ssrc_group groups[PARLEY_SDP_MAX_GROUPS];
    size_t n_rids;
    parley_sdp_rid rids[PARLEY_SDP_MAX_RIDS];
    char simulcast[PARLEY_SDP_TEXT_LEN]; /* a=simulcast value as written */
    char msid_stream[PARLEY_SDP_TOKEN_LEN]; /* a=msid */
    char msid_track[PARLEY_SDP_TOKEN_LEN];
    uint16_t sctp_port;
    parley_sdp_transport transport; /* media level, else the session's */
    size_t n_candidates;
    parley_sdp_candidate candidates[PARLEY_SDP_MAX_CANDIDATES];
} parley_sdp_media;

typedef struct parley_sdp {
    char origin_user[PARLEY_SDP_TOKEN_LEN];
    char session_id[32]; /* o= sess-id and sess-version, digits */
    char session_version[32];
    bool ice_lite;
    bool extmap_allow_mixed;
    char msid_semantic[PARLEY_SDP_TOKEN_LEN]; /* "WMS", "WMS *" */
    size_t n_bundle;
    char bundle[PARLEY_SDP_MAX_BUNDLE][PARLEY_SDP_TOKEN_LEN]; /* a=group:BUNDLE mids */
    parley_sdp_transport transport; /* session level */
    size_t n_media;
    parley_sdp_media *media; /* n_media entries */
} parley_sdp;

/* ---- parsing ---------------------------------------------------------- */

/* Parse len bytes of SDP into a new *out (NULL on failure). */
int parley_sdp_parse(const char *text, size_t len, parley_sdp **out, char *err, size_t errlen);
void parley_sdp_free(parley_sdp *sdp);

/* Parse one candidate as trickled in signaling: "candidate:..." with or
 * without a leading "a=" (the fields after typ are ignored). */
int parley_sdp_candidate_parse(const char *text, size_t len, parley_sdp_candidate *out,
                               char *err, size_t errlen);

/* Lookups on a parsed media section; NULL / 0 when absent. */
const parley_sdp_codec *parley_sdp_media_codec(const parley_sdp_media *m, uint8_t pt);
uint8_t parley_sdp_media_extmap_id(const parley_sdp_media *m, const char *uri);
/* The RTX payload type that repairs pt, or -1. */
int parley_sdp_media_rtx_for(const parley_sdp_media *m, uint8_t pt);
/* Whether mid is in the session's BUNDLE group. */
bool parley_sdp_in_bundle(const parley_sdp *sdp, const char *mid);

const char *parley_sdp_kind_name(parley_sdp_kind kind);
const char *parley_sdp_direction_name(parley_sdp_direction dir);
const char *parley_sdp_status_name(int status);

/* ---- building --------------------------------------------------------- */

/* What the SFU says about itself in every answer and offer. */
typedef struct parley_sdp_local {
    const char *ice_ufrag, *ice_pwd;
    const char *fingerprint; /* "AB:CD:..." (sha-256 implied) or "sha-256 AB:CD:..." */
    const char *const *addresses; /* advertised addresses, IPv4 or IPv6 text: */
    size_t n_addresses;           /* one host UDP candidate each, on port */
    uint16_t port;
    bool allow_h264;  /* accept / offer H.264 (constrained baseline, mode 1) */
    bool prefer_h264; /* over VP8, when both are offered */
    bool video_rtx;   /* accept RTX for video (repair stream via FID) */
    uint64_t session_id, session_version; /* o= line; 0 picks 1 */
    bool client;      /* the C SDK's side, a full ICE agent and the DTLS client: no
                       * a=ice-lite, setup actpass in offers and active in answers;
                       * addresses and port optional (none: no candidates, port 9) */
} parley_sdp_local;

/* Per m-line of an answer: what was chosen. */
typedef struct parley_sdp_choice {
    parley_sdp_kind kind;
    char mid[PARLEY_SDP_TOKEN_LEN];
    bool accepted;              /* false: port 0 in the answer */
    bool receiving;             /* accepted and the offerer sends on it */
    parley_sdp_direction direction; /* the answer's */
    parley_sdp_codec codec;     /* the chosen codec (answer's fmtp and fb) */
    int rtx_pt;                 /* -1 when none */
    uint8_t audio_level_id, mid_ext_id; /* 0 when not negotiated */
    uint32_t ssrc, rtx_ssrc;    /* the offerer's (first of SIM, FID's second); 0 unknown */
    /* Simulcast (video, RID-based: a=rid send + a=simulcast:send + the
     * rtp-stream-id extension offered): the layers' rids, lowest first (the
     * order of a=simulcast, as sendEncodings lists them), at most
     * PARLEY_SDP_MAX_LAYERS; the answer has a=rid recv and a=simulcast:recv
     * for them. The SSRCs come with the media: the RID extension names them.
     * 0 layers: no simulcast (then an offer with rids but no SSRC has none). */
    size_t n_layers;
    char layers[PARLEY_SDP_MAX_LAYERS][PARLEY_SDP_TOKEN_LEN];
    uint8_t rid_ext_id, rrid_ext_id; /* 0 when not negotiated (rrid: with RTX only) */
    char msid_stream[PARLEY_SDP_TOKEN_LEN], msid_track[PARLEY_SDP_TOKEN_LEN];
    char reason[64];            /* why rejected: "no common codec", ... */
} parley_sdp_choice;

typedef struct parley_sdp_answer {
    char *text; /* the answer SDP, CRLF lines, NUL-terminated */
    size_t len;
    bool audio, video; /* some accepted m-line of that kind is received */
    parley_sdp_transport remote; /* the offerer's, for the whole BUNDLE */
    size_t n_media;
    parley_sdp_choice *media; /* one per offered m-line, in order */
} parley_sdp_answer;

/* Answer a publisher's offer. PARLEY_SDP_ENOMEDIA when no audio or video
 * m-line is accepted and sent by the offerer (the server answers 105 instead
 * of sending the answer); *out is then still filled (text and media, unless
 * the offer had no m-line), with the reasons in out->media[i].reason. On
 * other errors *out is left zeroed. PARLEY_SDP_EUNSUPPORTED: the BUNDLE
 * transport has no ICE credentials or sha-256 fingerprint, or will not be the
 * DTLS client. An m-line we cannot take (not UDP/TLS/RTP/SAVPF, no mid, not
 * in BUNDLE, no rtcp-mux, no common codec, not audio/video) is rejected with
 * port 0, never an error. */
int parley_sdp_answer_build(const parley_sdp *offer, const parley_sdp_local *local,
                            parley_sdp_answer *out, char *err, size_t errlen);
void parley_sdp_answer_free(parley_sdp_answer *answer);

/* One forwarded track in an offer to a subscriber. */
typedef struct parley_sdp_track {
    parley_sdp_kind kind; /* audio or video */
    const char *mid;
    bool stopped;         /* the m-line stays (Unified Plan) but port 0, inactive */
    const char *stream_id, *track_id; /* msid: stream = the publishing participant */
    const char *cname;
    uint8_t pt;           /* payload type and codec as forwarded */
    const char *codec;    /* "opus", "VP8", "H264" */
    const char *fmtp;     /* NULL: the default for the codec */
    uint8_t rtx_pt;       /* 0: no RTX */
    uint32_t ssrc, rtx_ssrc;
    uint8_t audio_level_id, mid_ext_id; /* 0: not offered */
} parley_sdp_track;

/* Build the SFU's offer to a subscriber: one sendonly m-line per track. The
 * offer says a=setup:actpass (RFC 5763), the answerer then takes active. */
int parley_sdp_offer_build(const parley_sdp_local *local, const parley_sdp_track *tracks,
                           size_t n_tracks, char **out, size_t *out_len, char *err, size_t errlen);

/* Check a subscriber's parsed answer against the tracks we offered: same
 * m-lines and mids, ICE credentials, a sha-256 fingerprint, setup active,
 * rtcp-mux and BUNDLE on accepted m-lines. accepted[i] (n_tracks entries, may
 * be NULL) tells which tracks the subscriber takes (port != 0, recvonly). */
int parley_sdp_answer_check(const parley_sdp_track *tracks, size_t n_tracks,
                            const parley_sdp *answer, bool *accepted, char *err, size_t errlen);

#endif
