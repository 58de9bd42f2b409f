/* parley/parley.h - libparley, the C client SDK: join a meeting, act in it,
 * and receive its events, the error event first.
 *
 * A parley_client owns one internal thread running one event loop; every
 * WebSocket of every meeting created from it is served there. A
 * parley_meeting is one participant's place in one meeting: create it from a
 * config, subscribe to its events, join, act, leave, free.
 *
 *     parley_client *c;
 *     parley_client_new(NULL, &c);
 *     parley_meeting *m;
 *     parley_meeting_config cfg = { .url = "http://localhost:8080", .token = tok,
 *                                   .meeting_id = "abcd-efgh-ijkl", .name = "Ada" };
 *     parley_meeting_new(c, &cfg, &m);
 *     parley_meeting_on(m, PARLEY_EVENT_ERROR, on_error, NULL);
 *     parley_meeting_join(m);
 *     ...
 *     parley_client_destroy(c);   // leaves, joins the thread, frees everything
 *
 * Threading. Every callback runs on the client's loop thread, one at a time,
 * in the order the events happened. Every function below may be called from
 * any thread, callbacks included, except where stated. Actions never block:
 * they queue a request onto the loop and return; the outcome arrives later as
 * an event (PARLEY_EVENT_RESPONSE on success, PARLEY_EVENT_ERROR on failure,
 * plus whatever the server broadcasts).
 *
 * Return values. Functions returning int return PARLEY_OK (0) when the
 * request was queued; a negative PARLEY_E* status when the call itself was
 * wrong (nothing is queued, no event follows); or a positive catalog code
 * when libparley raised that error (an error event with the same code is
 * emitted too, on the loop thread). parley_strerror() describes both.
 *
 * Ownership. Strings passed in are copied before the call returns. The
 * application owns the client and the meetings it creates: free a meeting with
 * parley_meeting_free(), or let parley_client_destroy() free those left. A
 * parley_event, and every string or JSON value reached through it, lives only
 * for the duration of the callback it is passed to; copy what you keep (or
 * json_incref() the JSON). Nothing returned by an accessor is to be freed. */
#ifndef PARLEY_PARLEY_H
#define PARLEY_PARLEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <parley/errors.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define PARLEY_API __attribute__((visibility("default")))
#else
#define PARLEY_API
#endif

/* Statuses of the calls themselves (errno-like, negative). */
enum {
    PARLEY_OK = 0,
    PARLEY_ENOENT = -2,    /* parley_meeting_off: no such subscription */
    PARLEY_ENOMEM = -12,   /* out of memory */
    PARLEY_EINVAL = -22,   /* a required argument is NULL, empty or out of range */
    PARLEY_EDEADLK = -35,  /* parley_client_destroy called from the loop thread */
    PARLEY_ECLOSED = -108, /* the client is being destroyed */
    PARLEY_EALREADY = -114, /* join while the meeting is joining or joined */
    PARLEY_ESTART = -1000, /* the loop thread or the WebSocket library failed to start */
};

/* A sentence for a status or a catalog code (native profile); never NULL. */
PARLEY_API const char *parley_strerror(int status);

/* ---- Client: the loop thread -------------------------------------------- */

typedef struct parley_client parley_client;

typedef struct parley_client_options {
    unsigned connect_timeout_s; /* TCP + TLS + WebSocket handshake; 0: 10 s */
    const char *ca_file;        /* PEM bundle trusted for wss/https; NULL: the system's */
} parley_client_options;

/* Start the loop thread. opts may be NULL. On success *out is the client. */
PARLEY_API int parley_client_new(const parley_client_options *opts, parley_client **out);

/* Leave every joined meeting (a `leave` is sent, no further event is
 * delivered), stop and join the loop thread, free every meeting not yet freed
 * and the client. Must not be called from a callback (PARLEY_EDEADLK). */
PARLEY_API int parley_client_destroy(parley_client *client);

/* ---- Meetings ------------------------------------------------------------ */

typedef struct parley_meeting parley_meeting;

typedef enum parley_mode {
    PARLEY_MODE_CONFERENCE = 0, /* send and receive media */
    PARLEY_MODE_VIEWER,         /* signaling only: chat, sync, no media */
} parley_mode;

typedef enum parley_media_kind {
    PARLEY_MEDIA_AUDIO = 0,
    PARLEY_MEDIA_VIDEO,
} parley_media_kind;

typedef enum parley_meeting_state {
    PARLEY_STATE_IDLE = 0,     /* created (or left), join not called; never announced */
    PARLEY_STATE_CONNECTING,   /* join called: connecting, joining, or waiting for admission */
    PARLEY_STATE_CONNECTED,    /* joined */
    PARLEY_STATE_RECONNECTING, /* the connection dropped after joining; retrying */
    PARLEY_STATE_FAILED,       /* the join failed, or reconnection gave up */
    PARLEY_STATE_DISCONNECTED, /* left: by leave(), or the server ended it */
} parley_meeting_state;

typedef struct parley_meeting_config {
    const char *url;            /* http[s]://host[:port][/prefix] or ws[s]://...; required */
    const char *token;          /* the JWT; required */
    const char *meeting_id;     /* room id or custom id; required */
    const char *participant_id; /* NULL: the token's, or one the server picks */
    const char *name;           /* display name; NULL: none */
    parley_mode mode;
    bool mic_enabled;           /* intent sent with join */
    bool webcam_enabled;
    const char *origin;         /* Origin header for the room's security check; NULL: none */
    bool tls_insecure;          /* accept a self-signed or mismatching certificate */
    int reconnect_attempts;     /* after an unexpected drop; 0: 8; negative: never reconnect */
    unsigned reconnect_min_ms;  /* first retry delay, doubled each attempt; 0: 200 */
    unsigned reconnect_max_ms;  /* cap of the delay; 0: 2000 */
    int keepalive_ms;           /* ping the server when joined; 0: every 20000; negative: never */
} parley_meeting_config;

/* Create a meeting (no network yet). The config is copied. PARLEY_EINVAL when
 * url, token or meeting_id is missing or the url is not http/https/ws/wss. */
PARLEY_API int parley_meeting_new(parley_client *client, const parley_meeting_config *cfg,
                                  parley_meeting **out);

/* Release the meeting: a joined meeting is left (a `leave` is sent) without
 * further events. No callback starts for it after this returns; one already
 * running on the loop thread may still be finishing when called elsewhere.
 * The handle must not be used afterwards. */
PARLEY_API void parley_meeting_free(parley_meeting *meeting);

/* The current state (may change right after it is read). */
PARLEY_API parley_meeting_state parley_meeting_get_state(parley_meeting *meeting);
PARLEY_API const char *parley_meeting_state_name(parley_meeting_state state);
PARLEY_API const char *parley_mode_name(parley_mode mode);
PARLEY_API bool parley_mode_parse(const char *text, parley_mode *out); /* CONFERENCE, VIEWER + synonyms */

/* ---- Events -------------------------------------------------------------- */

typedef enum parley_event_type {
    PARLEY_EVENT_ALL = 0,             /* subscription wildcard; never delivered */
    /* raised by libparley */
    PARLEY_EVENT_MEETING_STATE_CHANGED, /* state; reconnected, participants on reconnection */
    PARLEY_EVENT_RESPONSE,            /* a request succeeded: request, id, its result fields */
    /* from the server (docs/protocol.md §2.3), name = the server's type except joined */
    PARLEY_EVENT_MEETING_JOINED,      /* joined: meetingId, participantId, participants, ... */
    PARLEY_EVENT_WAITING,
    PARLEY_EVENT_PARTICIPANT_JOINED,
    PARLEY_EVENT_PARTICIPANT_LEFT,    /* code/name/message: the leave reason */
    PARLEY_EVENT_ENTRY_REQUESTED,
    PARLEY_EVENT_ENTRY_RESPONDED,
    PARLEY_EVENT_MODE_CHANGED,
    PARLEY_EVENT_LOCK_CHANGED,
    PARLEY_EVENT_PUBLISH_CHANGED,
    PARLEY_EVENT_MUTE_REQUESTED,
    PARLEY_EVENT_SYNCHRONIZER_CHANGED,
    PARLEY_EVENT_SYNC_DATA,
    PARLEY_EVENT_CHAT,
    PARLEY_EVENT_PONG,
    PARLEY_EVENT_ERROR,               /* from the server or raised by libparley */
    PARLEY_EVENT_MEETING_LEFT,        /* last event of a join; code/name/message: the leave reason */
    PARLEY_EVENT_STREAM_ENABLED,      /* participantId, kind, source: a participant published a track */
    PARLEY_EVENT_STREAM_DISABLED,     /* participantId, kind, source: it stopped */
    PARLEY_EVENT_ACTIVE_SPEAKER,      /* participantId: the loudest speaker changed */
    /* raised by libparley */
    PARLEY_EVENT_MEDIA_STATE_CHANGED, /* a media connection's state (parley_event_state: CONNECTING,
                                       * CONNECTED, FAILED, DISCONNECTED); participantId: the
                                       * publisher subscribed to, absent for our publication;
                                       * a subscription's end (DISCONNECTED, FAILED) carries
                                       * `tracks`, its final counters (parley_track_stats) */
    PARLEY_EVENT_KEYFRAME_REQUESTED,  /* the server asks a published custom video track for a
                                       * keyframe (RTCP PLI or FIR): kind, source, feedback */
    PARLEY_EVENT_OTHER,               /* a server message this version does not know */
    PARLEY_EVENT_COUNT_
} parley_event_type;

typedef struct parley_event parley_event;
struct json_t; /* jansson */

typedef void (*parley_event_cb)(parley_meeting *meeting, const parley_event *event, void *userdata);

/* Subscribe cb(meeting, event, userdata) to one event type, or to every one
 * with PARLEY_EVENT_ALL. Subscribing the same (type, cb, userdata) twice is a
 * no-op. Callbacks of one event run in subscription order. */
PARLEY_API int parley_meeting_on(parley_meeting *meeting, parley_event_type type, parley_event_cb cb,
                                 void *userdata);
/* Remove that subscription; it is not called again once this returns (when
 * called from the loop thread; from another thread, a call already running
 * finishes). PARLEY_ENOENT when it was not subscribed. */
PARLEY_API int parley_meeting_off(parley_meeting *meeting, parley_event_type type, parley_event_cb cb,
                                  void *userdata);

PARLEY_API parley_event_type parley_event_get_type(const parley_event *event);
/* "error", "meeting-joined", "meeting-state-changed", ...; for
 * PARLEY_EVENT_OTHER, the server's type. */
PARLEY_API const char *parley_event_name(const parley_event *event);
PARLEY_API const char *parley_event_type_name(parley_event_type type);

/* The whole event as a JSON object: {"event": name, ...fields}. Server
 * messages keep every field they carry except `type` (and the reconnection
 * secret); errors and responses gain "request", the type of the request they
 * answer, when known. Use it to print or forward everything. */
PARLEY_API const struct json_t *parley_event_json(const parley_event *event);

/* Error events: the catalog code; meeting-left and participant-left: the
 * leave-reason code; 0 otherwise. name and message go with the code. */
PARLEY_API int parley_event_code(const parley_event *event);
PARLEY_API const char *parley_event_code_name(const parley_event *event);
PARLEY_API const char *parley_event_message(const parley_event *event);
/* Error events; NULL (false) when absent. */
PARLEY_API const char *parley_event_hint(const parley_event *event);
PARLEY_API bool parley_event_fatal(const parley_event *event);
PARLEY_API const char *parley_event_room(const parley_event *event);        /* roomId or meetingId */
PARLEY_API const char *parley_event_participant(const parley_event *event); /* participantId */
PARLEY_API const char *parley_event_request_id(const parley_event *event);  /* the server's requestId */
PARLEY_API const char *parley_event_answers(const parley_event *event);     /* id of the request answered */
PARLEY_API const char *parley_event_request(const parley_event *event);     /* its type: "lock", "join" */
/* meeting-state-changed: the new state; otherwise the meeting's state when
 * the event was emitted. */
PARLEY_API parley_meeting_state parley_event_state(const parley_event *event);
/* Any top-level string field of the JSON; NULL when absent or not a string. */
PARLEY_API const char *parley_event_string(const parley_event *event, const char *field);

/* ---- Actions ------------------------------------------------------------- */

/* Connect and join. Events: meeting-state-changed CONNECTING, then
 * CONNECTED + meeting-joined (or waiting first with an ask_join token); on
 * failure an error (3023 ERROR_JOINING_MEETING for a network cause, or the
 * server's) then FAILED + meeting-left 1103 (or the server's reason).
 * PARLEY_EALREADY while joining or joined; a left meeting may join again. */
PARLEY_API int parley_meeting_join(parley_meeting *meeting);

/* Leave: meeting-left 1101 MANUAL_LEAVE_CALLED. Also cancels a join in
 * progress or a reconnection. */
PARLEY_API int parley_meeting_leave(parley_meeting *meeting);

/* Every action below needs a joined meeting: before meeting-joined (or after
 * meeting-left) it returns 3022 ERROR_ACTION_PERFORMED_BEFORE_MEETING_JOINED
 * and emits that error. While reconnecting, requests wait and are sent once
 * the meeting is connected again. */
PARLEY_API int parley_meeting_end(parley_meeting *meeting);
/* participant_id NULL: self. */
PARLEY_API int parley_meeting_change_mode(parley_meeting *meeting, parley_mode mode, const char *participant_id);
PARLEY_API int parley_meeting_lock(parley_meeting *meeting);
PARLEY_API int parley_meeting_unlock(parley_meeting *meeting);
PARLEY_API int parley_meeting_publish(parley_meeting *meeting, bool audio, bool video);
PARLEY_API int parley_meeting_unpublish(parley_meeting *meeting);
PARLEY_API int parley_meeting_set_synchronizer(parley_meeting *meeting, const char *participant_id);
PARLEY_API int parley_meeting_sync(parley_meeting *meeting, double position, double rate, bool paused);
PARLEY_API int parley_meeting_respond_entry(parley_meeting *meeting, const char *participant_id, bool allowed);
PARLEY_API int parley_meeting_remove_participant(parley_meeting *meeting, const char *participant_id);
PARLEY_API int parley_meeting_request_mute(parley_meeting *meeting, const char *participant_id,
                                           parley_media_kind kind);
/* On success the new token is also the one used to reconnect. */
PARLEY_API int parley_meeting_refresh_token(parley_meeting *meeting, const char *token);
PARLEY_API int parley_meeting_chat(parley_meeting *meeting, const char *topic, const char *message);
PARLEY_API int parley_meeting_ping(parley_meeting *meeting);

/* ---- Media ---------------------------------------------------------------
 *
 * A meeting in CONFERENCE mode publishes custom tracks that the application
 * feeds with encoded frames, and receives the tracks of the participants it
 * subscribes to as whole, depacketized frames. Each publication and each
 * subscription is one WebRTC connection to the server's media port (ICE
 * controlling agent, DTLS client, SRTP; BUNDLE and rtcp-mux), negotiated over
 * the meeting's signaling (docs/protocol.md: publish-offer, subscribe).
 *
 * Tracks. A parley_track is created by the application, owned by it, and
 * freed with parley_track_free(). Its frames may be written from any thread.
 * Freeing a track that is published emits 3001 ERROR_CUSTOM_VIDEO_TRACK_DISPOSED
 * (video) or 3002 ERROR_CUSTOM_AUDIO_TRACK_DISPOSED (audio), and the
 * publication carries on with libparley's default source for that kind:
 * Opus silence for audio, a black VP8 picture once a second for video.
 * Free the tracks before destroying the client: parley_client_destroy()
 * frees those left, and their handles are then invalid. A track whose
 * meeting was freed stays valid but its frames are dropped.
 *
 * Failures. A media connection that cannot be set up or is lost (ICE or DTLS
 * failure or timeout: 10 s to connect; 30 s without an answer to the ICE
 * consent checks) emits an error, 3011 ERROR_STARTING_VIDEO (a publication
 * with video) or 3012 ERROR_STARTING_AUDIO for the publication, 303
 * MEDIA_ENDPOINT_ERROR_CODE for a subscription, the cause in its hint; then
 * media-state-changed FAILED. */

typedef enum parley_codec {
    PARLEY_CODEC_OPUS = 1, /* audio: 48 kHz, 2 channels in RTP (RFC 7587) */
    PARLEY_CODEC_VP8 = 2,  /* video: 90 kHz (RFC 7741) */
} parley_codec;

typedef struct parley_track parley_track;

typedef struct parley_track_config {
    parley_media_kind kind;
    parley_codec codec;   /* OPUS for audio, VP8 for video */
    unsigned clock_rate;  /* 0: the codec's (48000 or 90000); any other value is invalid */
    unsigned channels;    /* audio: 0, 1 or 2 */
    unsigned width, height, fps; /* video: 0 (unknown) or 1..16384, fps 0..240 */
    bool screen;          /* video: a screen share (source "screen"), not a camera */
} parley_track_config;

/* Sources. A publication says what its tracks are (publish-offer `sources`,
 * docs/protocol.md §2.6): audio is the "microphone", video the "camera", or
 * the "screen" when its track was created with screen set. Each needs its
 * grant in the token's `publish` claim (107 for camera and screen, 108 for
 * the microphone, as error events). The others' stream-enabled events carry
 * the source of each track they publish. */

/* Create a custom track for the meeting. A config the SDK cannot honour (a
 * codec that does not match the kind, a bad rate, size or channel count)
 * returns 3017 ERROR_CREATING_VIDEO_TRACK or 3018 ERROR_CREATING_AUDIO_TRACK
 * and emits that error; *out is then NULL. */
PARLEY_API int parley_track_new(parley_meeting *meeting, const parley_track_config *cfg,
                                parley_track **out);

/* Write one encoded frame (a whole VP8 frame, or one Opus packet of at most
 * 1200 bytes) with its RTP timestamp in clock_rate units. Copied before the
 * call returns and sent in write order. Frames written while the track's
 * publication is not CONNECTED (media-state-changed) are dropped (PARLEY_OK):
 * start feeding a video track with a keyframe once it is. PARLEY_EINVAL for
 * an empty frame or one above 1 MiB. */
PARLEY_API int parley_track_write(parley_track *track, const void *data, size_t len, uint32_t timestamp);

/* The same for an audio track, with the packet's audio level (RFC 6464,
 * urn:ietf:params:rtp-hdrext:ssrc-audio-level, negotiated with every audio
 * publication): level in -dBov, 0 (the loudest) to 127 (silence), and
 * whether the packet holds voice. The server elects the active speaker from
 * these levels (active-speaker events); packets written without a level
 * (parley_track_write) carry none and take no part in it, and the default
 * source's silence says 127, no voice. PARLEY_EINVAL for a video track or a
 * level above 127. */
PARLEY_API int parley_track_write_level(parley_track *track, const void *data, size_t len, uint32_t timestamp,
                                        uint8_t level, bool voice);

/* Keyframe requests. When the server asks for a keyframe of a published
 * custom video track (a subscriber joined, or lost a frame for good),
 * libparley emits PARLEY_EVENT_KEYFRAME_REQUESTED ("keyframe-requested",
 * fields kind "video", source, feedback "PLI" or "FIR"): a live encoder
 * should make its next frame a keyframe. The server paces its requests; a
 * subscriber receives nothing from a track until its next keyframe. (The
 * default source answers by itself with a black keyframe.) */

/* Free the track (see above for a published one). */
PARLEY_API void parley_track_free(parley_track *track);

/* Publish up to one audio and one video track (either may be NULL, not both)
 * on one connection. Events: media-state-changed (CONNECTING, CONNECTED or
 * FAILED) with no participantId; others get stream-enabled. Needs a joined
 * meeting (3022); the server's refusals (101, 105, 206, 303, ...) arrive as
 * error events, followed by FAILED. One publication per meeting: publishing
 * again before unpublishing emits 303. PARLEY_EINVAL when a track is of the
 * wrong kind or was created for another meeting. */
PARLEY_API int parley_meeting_publish_tracks(parley_meeting *meeting, parley_track *audio,
                                             parley_track *video);
/* Stop publishing: `unpublish`, then media-state-changed DISCONNECTED; the
 * tracks stay the application's and may be published again. */
PARLEY_API int parley_meeting_unpublish_tracks(parley_meeting *meeting);

/* A received frame, handed to the frame callback on the loop thread. data
 * lives for the duration of the callback. */
typedef struct parley_frame {
    const char *participant_id; /* the publisher */
    parley_media_kind kind;
    parley_codec codec;
    uint32_t timestamp;         /* RTP timestamp, as the server forwards it */
    const uint8_t *data;        /* a whole VP8 frame, or one Opus packet */
    size_t len;
    bool keyframe;              /* VP8: an intra frame */
} parley_frame;

typedef void (*parley_frame_cb)(parley_meeting *meeting, const parley_frame *frame, void *userdata);

/* Set the frame callback (NULL: none; frames are still counted). */
PARLEY_API int parley_meeting_on_frame(parley_meeting *meeting, parley_frame_cb cb, void *userdata);

/* Subscribe to everything a participant publishes: `subscribe`, then the
 * server's offer is answered. Events: media-state-changed with that
 * participantId (CONNECTING, CONNECTED, FAILED after the server's refusal
 * such as 105 when it publishes nothing; DISCONNECTED on unsubscribe, when it
 * unpublishes or leaves, or when the meeting ends); frames through the frame
 * callback, video from a keyframe on. A second subscription to the same
 * participant while one exists emits 303. Subscribe after its
 * stream-enabled (once per publication, not once per track). */
PARLEY_API int parley_meeting_subscribe(parley_meeting *meeting, const char *participant_id);
PARLEY_API int parley_meeting_unsubscribe(parley_meeting *meeting, const char *participant_id);

/* Counters of one received track, readable from any thread. */
typedef struct parley_track_stats {
    parley_media_kind kind;
    uint64_t packets; /* RTP packets received (retransmissions included once) */
    uint64_t lost;    /* sequence numbers never received (given up after NACKs) */
    uint64_t frames;  /* frames reassembled whole and handed on */
    uint64_t bytes;   /* payload bytes of those frames */
    bool ended;       /* its subscription has ended: these are its final counters */
} parley_track_stats;

/* Fill up to max entries for the tracks received from participant_id (NULL:
 * every publisher) and write each entry's publisher id into ids[i] (a copy
 * the caller frees; ids may be NULL). Returns the number of entries filled.
 * A subscription's tracks are listed from its subscribe-offer on, one entry
 * per track per subscription: first those of the subscriptions that have
 * ended (flagged `ended`, with their final counters, in the order they
 * ended), then those of the live ones, in subscription order. A new
 * subscription to the same publisher has entries of its own, from zero, so
 * the sum of a publisher's entries is everything received from it. Ended
 * entries stay until the meeting joins again or is freed: after leaving
 * (every subscription then ends), they are the whole join's counts. */
PARLEY_API int parley_meeting_track_stats(parley_meeting *meeting, const char *participant_id,
                                          parley_track_stats *out, char **ids, int max);

#ifdef __cplusplus
}
#endif

#endif
