/* store.h - Parley's embedded store: organisations, API keys, rooms,
 * sessions and the error history, in SQLite at <data_dir>/parley.db.
 *
 * parleyd and `parley admin` open the same file at the same time: the
 * database runs in WAL mode with a busy timeout (5 s), so an operator can
 * change an organisation while the server runs and the server sees the change
 * at its next read (nothing is cached here). The schema carries its version
 * in PRAGMA user_version and is migrated forward on open.
 *
 * Status: every function returns an int, PARLEY_STORE_OK (0) or one of the
 * negative parley_store_status values; nothing aborts. After a failure,
 * parley_store_errmsg() tells why in words fit for an operator.
 *
 * Threads: a handle is one SQLite connection plus its last error message;
 * use it from one thread at a time (open one handle per thread otherwise).
 *
 * Ownership: records are plain structs with fixed-size fields that the caller
 * owns (stack or heap); no record holds a pointer. Lists come back as one
 * malloc'd array that the caller releases with free(). json_t values returned
 * are new references the caller owns (json_decref). Strings passed in are only
 * read during the call.
 *
 * Times are int64_t ms since the epoch (see ids.h); JSON shows them as
 * ISO 8601 UTC strings. JSON helpers produce the REST shapes of
 * docs/protocol.md §3 so that the server does not rebuild them. */
#ifndef PARLEY_COMMON_STORE_H
#define PARLEY_COMMON_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "ids.h"

#define PARLEY_STORE_FILE "parley.db"

typedef struct parley_store parley_store;

typedef enum parley_store_status {
    PARLEY_STORE_OK = 0,
    PARLEY_STORE_ERROR = -1,     /* SQLite or file system failure */
    PARLEY_STORE_NOT_FOUND = -2, /* no such record */
    PARLEY_STORE_EXISTS = -3,    /* a unique name or id is taken */
    PARLEY_STORE_INVALID = -4,   /* an argument is malformed or out of range */
    PARLEY_STORE_BUSY = -5,      /* the database stayed locked past the busy timeout */
} parley_store_status;

/* Field sizes (excluding the NUL). Longer input is refused with INVALID. */
#define PARLEY_ORG_NAME_MAX 64
#define PARLEY_ORG_MESSAGE_MAX 512
#define PARLEY_APIKEY_MAX 128
#define PARLEY_API_SECRET_MAX 256
#define PARLEY_CUSTOM_ROOM_ID_MAX 128
#define PARLEY_PARTICIPANT_ID_MAX 64
#define PARLEY_PARTICIPANT_NAME_MAX 256
#define PARLEY_ORIGIN_MAX 255
#define PARLEY_ROOM_ORIGINS_MAX 16
#define PARLEY_ERROR_NAME_MAX 64
#define PARLEY_ERROR_MESSAGE_MAX 512

/* ---- handle ---------------------------------------------------------- */

/* Open (creating data_dir and the database if missing) and migrate the
 * store. On failure *out is NULL and err (may be NULL) holds the reason. */
int parley_store_open(const char *data_dir, parley_store **out, char *err, size_t errlen);
/* Close; NULL is fine. */
void parley_store_close(parley_store *st);
/* The reason for the last failure on this handle ("" if none). Valid until
 * the next call on the handle. */
const char *parley_store_errmsg(const parley_store *st);
/* The database file's path. */
const char *parley_store_path(const parley_store *st);
/* The schema version this build writes (PRAGMA user_version). */
int parley_store_schema_version(void);
/* Short English name of a status ("ok", "not found", ...). */
const char *parley_store_status_name(int status);

/* ---- pagination ------------------------------------------------------ */

/* 0 in either field means its default; other values out of range make list
 * functions answer INVALID. */
typedef struct parley_page {
    int64_t page;     /* 1-based; default 1 */
    int64_t per_page; /* 1..PARLEY_PAGE_MAX; default PARLEY_PAGE_DEFAULT */
} parley_page;

#define PARLEY_PAGE_DEFAULT 20
#define PARLEY_PAGE_MAX 100

/* Parse the query values page and perPage (either may be NULL: default).
 * INVALID with a reason in err for anything but whole numbers in range. */
int parley_page_parse(const char *page, const char *per_page, parley_page *out, char *err,
                      size_t errlen);
/* {currentPage, perPage, lastPage, total}; lastPage is at least 1. */
json_t *parley_page_info_json(parley_page page, int64_t total);
/* {pageInfo, data}; data is stolen. */
json_t *parley_page_json(parley_page page, int64_t total, json_t *data);

/* ---- organisations --------------------------------------------------- */

typedef enum parley_org_state {
    PARLEY_ORG_ACTIVE = 0,
    PARLEY_ORG_DEACTIVATED, /* tokens of its keys answer 4006 */
    PARLEY_ORG_DISCONTINUED, /* tokens of its keys answer 4007 */
} parley_org_state;

/* Organisation-wide limits; 0 means unlimited. */
typedef struct parley_org_limits {
    int max_speakers;    /* 4026 */
    int max_viewers;     /* 4027 */
    int max_recordings;  /* 4028 */
    int max_hls;         /* 4029 */
    int max_livestreams; /* 4030 */
} parley_org_limits;

typedef struct parley_org {
    int64_t id;
    char name[PARLEY_ORG_NAME_MAX + 1];
    parley_org_state state;
    char message[PARLEY_ORG_MESSAGE_MAX + 1]; /* the operator's message; "" if none */
    bool addons;                               /* add-on services (egress) on; default on */
    parley_org_limits limits;
    int64_t created_at, updated_at;
} parley_org;

/* "active", "deactivated", "discontinued" and back. */
const char *parley_org_state_name(parley_org_state state);
bool parley_org_state_parse(const char *text, parley_org_state *out);

/* A fresh organisation record with the defaults (active, add-ons on, no
 * limits) and the given name (not checked here). */
void parley_org_init(parley_org *org, const char *name);

/* Create org (name, state, message, addons, limits are read; a name is 1-64
 * printable characters without whitespace). EXISTS if the name is taken.
 * out (may be NULL) receives the stored record with its id and times. */
int parley_store_org_create(parley_store *st, const parley_org *org, parley_org *out);
/* Look up by name or by id. */
int parley_store_org_get(parley_store *st, const char *name, parley_org *out);
int parley_store_org_get_by_id(parley_store *st, int64_t id, parley_org *out);
/* Write state, message, addons and limits of the organisation named
 * org->name; updated_at is set. org is refreshed from the store. */
int parley_store_org_update(parley_store *st, parley_org *org);
/* Every organisation, by name. */
int parley_store_org_list(parley_store *st, parley_org **out, size_t *count);
/* {id, name, state, message, addons, limits:{maxSpeakers, maxViewers,
 *  maxRecordings, maxHls, maxLivestreams}, createdAt, updatedAt} */
json_t *parley_org_json(const parley_org *org);

/* ---- API keys -------------------------------------------------------- */

typedef struct parley_api_key {
    char apikey[PARLEY_APIKEY_MAX + 1];
    char secret[PARLEY_API_SECRET_MAX + 1];
    int64_t org_id;
    char org_name[PARLEY_ORG_NAME_MAX + 1];
    char room_id[PARLEY_CUSTOM_ROOM_ID_MAX + 1]; /* "" unless bound to one room (4025) */
    int64_t created_at;
} parley_api_key;

/* Create a key for the organisation named org_name, with a new random apikey
 * and secret; room_id (NULL or "" for none) binds it to one room (a roomId or
 * customRoomId). NOT_FOUND if the organisation is unknown. */
int parley_store_key_create(parley_store *st, const char *org_name, const char *room_id,
                            parley_api_key *out);
/* The same with a caller-chosen apikey and secret (importing keys a token
 * server already uses). EXISTS if the apikey is taken. */
int parley_store_key_import(parley_store *st, const char *org_name, const char *apikey,
                            const char *secret, const char *room_id, parley_api_key *out);
/* Look up by apikey (the public half). */
int parley_store_key_get(parley_store *st, const char *apikey, parley_api_key *out);
/* Every key of an organisation, oldest first. NOT_FOUND if it is unknown. */
int parley_store_key_list(parley_store *st, const char *org_name, parley_api_key **out,
                          size_t *count);
/* Remove a key; NOT_FOUND if unknown. */
int parley_store_key_delete(parley_store *st, const char *apikey);
/* {apikey, org, room (or null), createdAt} plus secret when with_secret. */
json_t *parley_api_key_json(const parley_api_key *key, bool with_secret);

/* ---- rooms ----------------------------------------------------------- */

typedef enum parley_duplicate_policy {
    PARLEY_DUPLICATE_REPLACE = 0, /* the newcomer replaces the older connection (4005) */
    PARLEY_DUPLICATE_REJECT,      /* the newcomer is refused (104) */
} parley_duplicate_policy;

/* Limits are 0 for unlimited. */
typedef struct parley_room_settings {
    int max_participants; /* 4009 */
    int max_speakers;     /* 4010 */
    int max_publishers;   /* 206 */
    parley_duplicate_policy duplicate_policy;
    size_t allowed_origin_count; /* 0: any Origin */
    char allowed_origins[PARLEY_ROOM_ORIGINS_MAX][PARLEY_ORIGIN_MAX + 1];
    int entry_timeout; /* seconds an ask_join joiner waits; default 60 */
} parley_room_settings;

#define PARLEY_ENTRY_TIMEOUT_DEFAULT 60

typedef struct parley_room {
    char id[PARLEY_HEX_ID_LEN + 1];
    char room_id[PARLEY_ROOM_ID_LEN + 1];
    char custom_room_id[PARLEY_CUSTOM_ROOM_ID_MAX + 1]; /* "" if none */
    int64_t org_id;
    bool disabled;
    int64_t created_at, updated_at;
    parley_room_settings settings;
} parley_room;

/* The default settings (no limits, replace, any origin, 60 s). */
void parley_room_settings_init(parley_room_settings *s);
/* Apply a JSON settings object (camelCase keys as in §3: maxParticipants,
 * maxSpeakers, maxPublishers, duplicatePolicy, allowedOrigins,
 * entryTimeout) over base into out (out may equal base). Absent keys keep
 * base's values; unknown keys are ignored. INVALID with the offending field
 * in err for a wrong type or range (the server answers 803). */
int parley_room_settings_from_json(const json_t *obj, const parley_room_settings *base,
                                   parley_room_settings *out, char *err, size_t errlen);
json_t *parley_room_settings_json(const parley_room_settings *s);
/* Whether origin is allowed (always true when the list is empty). */
bool parley_room_origin_allowed(const parley_room_settings *s, const char *origin);

/* Create a room in org_id. custom_room_id (NULL or "" for none) is unique per
 * organisation: when it exists already, that room is returned, settings are
 * ignored and *created (may be NULL) is false. settings NULL: defaults. */
int parley_store_room_create(parley_store *st, int64_t org_id, const char *custom_room_id,
                             const parley_room_settings *settings, parley_room *out,
                             bool *created);
/* Look up by roomId or customRoomId within org_id (org_id 0: any
 * organisation, roomId only then being unambiguous). */
int parley_store_room_get(parley_store *st, int64_t org_id, const char *room_or_custom_id,
                          parley_room *out);
/* Write room->disabled and room->settings of the room room->room_id;
 * updated_at is set and room is refreshed from the store. */
int parley_store_room_update(parley_store *st, parley_room *room);
/* A page of an organisation's rooms, newest first, and the total count. */
int parley_store_room_list(parley_store *st, int64_t org_id, parley_page page, parley_room **out,
                           size_t *count, int64_t *total);
/* The room object {roomId, customRoomId, disabled, createdAt, updatedAt, id,
 * settings, links:{get_room, get_session}}; customRoomId is null when none.
 * Links are paths, prefixed with base_url when it is not NULL. */
json_t *parley_room_json(const parley_room *room, const char *base_url);
/* {pageInfo, data:[room]} for parley_store_room_list's arguments. */
int parley_store_room_list_json(parley_store *st, int64_t org_id, parley_page page,
                                const char *base_url, json_t **out);

/* ---- sessions and participants --------------------------------------- */

typedef struct parley_session {
    char id[PARLEY_HEX_ID_LEN + 1];
    char room_id[PARLEY_ROOM_ID_LEN + 1];
    int64_t org_id;
    int64_t start;
    int64_t end; /* 0 while ongoing */
    bool ongoing;
} parley_session;

/* Start a new session of a room (looked up by roomId, any organisation) at
 * `at` (0: now). The caller decides whether one may start; see
 * parley_store_session_current. NOT_FOUND if the room is unknown. */
int parley_store_session_start(parley_store *st, const char *room_id, int64_t at,
                               parley_session *out);
/* The ongoing session of a room; NOT_FOUND if none. */
int parley_store_session_current(parley_store *st, const char *room_id, parley_session *out);
/* End a session at `at` (0: now), closing every open timelog entry. Ending
 * an ended session is OK and changes nothing. out may be NULL. */
int parley_store_session_end(parley_store *st, const char *session_id, int64_t at,
                             parley_session *out);
/* End every ongoing session (at server start, after a crash); *ended (may be
 * NULL) receives how many. */
int parley_store_session_end_all(parley_store *st, int64_t at, int *ended);
/* Fetch one session within org_id (0: any). */
int parley_store_session_get(parley_store *st, int64_t org_id, const char *session_id,
                             parley_session *out);
/* A page of sessions within org_id (0: any), of one room when room_id is not
 * NULL (a roomId or customRoomId), newest first. NOT_FOUND if room_id is
 * given and names no room. */
int parley_store_session_list(parley_store *st, int64_t org_id, const char *room_id,
                              parley_page page, parley_session **out, size_t *count,
                              int64_t *total);

/* A participant enters a session at `at` (0: now): a new timelog entry is
 * opened (a participant may join several times) and its name is updated.
 * An entry still open for the same participant is closed first. */
int parley_store_participant_join(parley_store *st, const char *session_id,
                                  const char *participant_id, const char *name, int64_t at);
/* A participant leaves at `at` (0: now): its open timelog entry is closed.
 * NOT_FOUND if it has none open. */
int parley_store_participant_leave(parley_store *st, const char *session_id,
                                   const char *participant_id, int64_t at);

/* The session object {id, roomId, start, end (null while ongoing), status,
 * participants:[{participantId, name, timelog:[{start, end}]}]}. */
int parley_store_session_json(parley_store *st, const parley_session *session, json_t **out);
/* {pageInfo, data:[session]} for parley_store_session_list's arguments. */
int parley_store_session_list_json(parley_store *st, int64_t org_id, const char *room_id,
                                   parley_page page, json_t **out);
/* {pageInfo, data:[{participantId, name, timelog}]} of one session, in order
 * of first arrival; only those with an open timelog entry when active_only.
 * NOT_FOUND if the session is unknown. */
int parley_store_participants_json(parley_store *st, const char *session_id, parley_page page,
                                   bool active_only, json_t **out);

/* ---- error history --------------------------------------------------- */

typedef struct parley_error_record {
    int64_t seq; /* set by the store, increasing */
    int code;
    char name[PARLEY_ERROR_NAME_MAX + 1];       /* "" on add: the catalog's name */
    char message[PARLEY_ERROR_MESSAGE_MAX + 1]; /* "" on add: the catalog's message */
    int64_t org_id;                             /* 0 if unknown */
    char room_id[PARLEY_CUSTOM_ROOM_ID_MAX + 1];
    char session_id[PARLEY_HEX_ID_LEN + 1];
    char participant_id[PARLEY_PARTICIPANT_ID_MAX + 1];
    char request_id[PARLEY_REQUEST_ID_LEN + 1];
    int64_t at; /* 0 on add: now */
} parley_error_record;

typedef struct parley_error_filter {
    int64_t org_id;         /* 0: any */
    const char *room_id;    /* NULL: any */
    const char *session_id; /* NULL: any */
    bool has_code;
    int code;
} parley_error_filter;

/* Record an error event the server emitted; over-long text is truncated.
 * rec->seq (and at, name, message when empty) are filled in. */
int parley_store_error_add(parley_store *st, parley_error_record *rec);
/* A page of matching records (filter NULL: all), newest first. */
int parley_store_error_list(parley_store *st, const parley_error_filter *filter, parley_page page,
                            parley_error_record **out, size_t *count, int64_t *total);
/* {code, name, message, roomId, sessionId, participantId, requestId, at};
 * empty text fields are null. */
json_t *parley_error_record_json(const parley_error_record *rec);
/* {pageInfo, data:[record]} for parley_store_error_list's arguments. */
int parley_store_error_list_json(parley_store *st, const parley_error_filter *filter,
                                 parley_page page, json_t **out);

#endif
