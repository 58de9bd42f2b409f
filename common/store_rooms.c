/* store_rooms.c - rooms and their settings.
 *
 * A room has two names: its roomId ("abcd-efgh-ijkl", unique everywhere) and
 * an optional customRoomId chosen by the application (unique within its
 * organisation). Creating a room with a customRoomId that exists returns the
 * existing room, so an application may "create" the same meeting many times.
 * Settings are stored as their REST JSON text, parsed back on every read, so
 * the column and the API never disagree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* ---- settings ---------------------------------------------------------- */

#define LIMIT_MAX 1000000
#define ENTRY_TIMEOUT_MAX 86400

void parley_room_settings_init(parley_room_settings *s)
{
    memset(s, 0, sizeof(*s));
    s->duplicate_policy = PARLEY_DUPLICATE_REPLACE;
    s->entry_timeout = PARLEY_ENTRY_TIMEOUT_DEFAULT;
}

static bool set_err(char *err, size_t errlen, const char *fmt, const char *field)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, field);
    return false;
}

/* An integer field in [min, max]; absent leaves *out alone. */
static bool int_field(const json_t *obj, const char *key, int min, int max, int *out, char *err,
                      size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return set_err(err, errlen, "settings.%s must be a whole number in range", key);
    *out = (int)json_integer_value(v);
    return true;
}

int parley_room_settings_from_json(const json_t *obj, const parley_room_settings *base,
                                   parley_room_settings *out, char *err, size_t errlen)
{
    parley_room_settings s;
    if (base)
        memcpy(&s, base, sizeof(s));
    else
        parley_room_settings_init(&s);
    if (!json_is_object(obj)) {
        set_err(err, errlen, "%s must be an object", "settings");
        return PARLEY_STORE_INVALID;
    }
    if (!int_field(obj, "maxParticipants", 0, LIMIT_MAX, &s.max_participants, err, errlen) ||
        !int_field(obj, "maxSpeakers", 0, LIMIT_MAX, &s.max_speakers, err, errlen) ||
        !int_field(obj, "maxPublishers", 0, LIMIT_MAX, &s.max_publishers, err, errlen) ||
        !int_field(obj, "entryTimeout", 1, ENTRY_TIMEOUT_MAX, &s.entry_timeout, err, errlen))
        return PARLEY_STORE_INVALID;

    json_t *dup = json_object_get(obj, "duplicatePolicy");
    if (dup) {
        const char *p = json_string_value(dup);
        if (p && !strcmp(p, "replace"))
            s.duplicate_policy = PARLEY_DUPLICATE_REPLACE;
        else if (p && !strcmp(p, "reject"))
            s.duplicate_policy = PARLEY_DUPLICATE_REJECT;
        else {
            set_err(err, errlen, "settings.%s must be \"replace\" or \"reject\"", "duplicatePolicy");
            return PARLEY_STORE_INVALID;
        }
    }

    json_t *origins = json_object_get(obj, "allowedOrigins");
    if (origins && !json_is_null(origins)) {
        if (!json_is_array(origins) || json_array_size(origins) > PARLEY_ROOM_ORIGINS_MAX) {
            set_err(err, errlen, "settings.%s must be an array of at most 16 strings",
                    "allowedOrigins");
            return PARLEY_STORE_INVALID;
        }
        s.allowed_origin_count = 0;
        size_t i;
        json_t *o;
        json_array_foreach(origins, i, o) {
            const char *text = json_string_value(o);
            if (!text || !store_text_ok(text, PARLEY_ORIGIN_MAX, false)) {
                set_err(err, errlen, "settings.%s items must be 1-255 character strings",
                        "allowedOrigins");
                return PARLEY_STORE_INVALID;
            }
            store_copy(s.allowed_origins[s.allowed_origin_count],
                       sizeof(s.allowed_origins[0]), text);
            s.allowed_origin_count++;
        }
    } else if (origins) {
        s.allowed_origin_count = 0;
    }
    memcpy(out, &s, sizeof(s));
    return PARLEY_STORE_OK;
}

json_t *parley_room_settings_json(const parley_room_settings *s)
{
    json_t *origins = json_array();
    for (size_t i = 0; i < s->allowed_origin_count && i < PARLEY_ROOM_ORIGINS_MAX; i++)
        json_array_append_new(origins, json_string(s->allowed_origins[i]));
    return json_pack("{s:i, s:i, s:i, s:s, s:o, s:i}", "maxParticipants", s->max_participants,
                     "maxSpeakers", s->max_speakers, "maxPublishers", s->max_publishers,
                     "duplicatePolicy",
                     s->duplicate_policy == PARLEY_DUPLICATE_REJECT ? "reject" : "replace",
                     "allowedOrigins", origins, "entryTimeout", s->entry_timeout);
}

bool parley_room_origin_allowed(const parley_room_settings *s, const char *origin)
{
    if (s->allowed_origin_count == 0)
        return true;
    if (!origin)
        return false;
    for (size_t i = 0; i < s->allowed_origin_count && i < PARLEY_ROOM_ORIGINS_MAX; i++)
        if (!strcmp(s->allowed_origins[i], origin) || !strcmp(s->allowed_origins[i], "*"))
            return true;
    return false;
}

/* ---- rooms ------------------------------------------------------------- */

#define ROOM_COLUMNS \
    "id, room_id, custom_room_id, org_id, disabled, created_at, updated_at, settings"

static void read_room(sqlite3_stmt *stmt, void *dst)
{
    parley_room *r = dst;
    memset(r, 0, sizeof(*r));
    store_col_text(stmt, 0, r->id, sizeof(r->id));
    store_col_text(stmt, 1, r->room_id, sizeof(r->room_id));
    store_col_text(stmt, 2, r->custom_room_id, sizeof(r->custom_room_id));
    r->org_id = sqlite3_column_int64(stmt, 3);
    r->disabled = sqlite3_column_int(stmt, 4) != 0;
    r->created_at = sqlite3_column_int64(stmt, 5);
    r->updated_at = sqlite3_column_int64(stmt, 6);
    parley_room_settings_init(&r->settings);
    const char *text = (const char *)sqlite3_column_text(stmt, 7);
    json_t *obj = text ? json_loads(text, 0, NULL) : NULL;
    if (obj)
        parley_room_settings_from_json(obj, &r->settings, &r->settings, NULL, 0);
    json_decref(obj);
}

int parley_store_room_get(parley_store *st, int64_t org_id, const char *id, parley_room *out)
{
    store_ok(st);
    if (!id || !*id || strlen(id) > PARLEY_CUSTOM_ROOM_ID_MAX)
        return store_fail(st, PARLEY_STORE_NOT_FOUND, "unknown room");
    sqlite3_stmt *stmt;
    /* A roomId match wins over a customRoomId that happens to look like one;
     * without an organisation, customRoomIds are ambiguous and not searched. */
    int rc = store_prepare(st, &stmt,
                           "SELECT " ROOM_COLUMNS " FROM rooms"
                           " WHERE (room_id = ?1 AND (?2 = 0 OR org_id = ?2))"
                           "    OR (?2 != 0 AND org_id = ?2 AND custom_room_id = ?1)"
                           " ORDER BY room_id = ?1 DESC LIMIT 1");
    if (rc)
        return rc;
    store_bind_text(stmt, 1, id);
    sqlite3_bind_int64(stmt, 2, org_id);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        parley_room tmp;
        read_room(stmt, &tmp);
        if (out)
            memcpy(out, &tmp, sizeof(tmp));
    } else if (step == SQLITE_DONE) {
        rc = store_fail(st, PARLEY_STORE_NOT_FOUND, "unknown room");
    } else {
        rc = store_db_fail(st, "reading a room");
    }
    store_finalize(st, stmt);
    return rc;
}

static int settings_text(parley_store *st, const parley_room_settings *s, char **out)
{
    json_t *j = parley_room_settings_json(s);
    *out = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!*out)
        return store_fail(st, PARLEY_STORE_INVALID, "room settings cannot be encoded");
    return PARLEY_STORE_OK;
}

static int check_settings(parley_store *st, const parley_room_settings *s)
{
    if (s->max_participants < 0 || s->max_speakers < 0 || s->max_publishers < 0 ||
        s->max_participants > LIMIT_MAX || s->max_speakers > LIMIT_MAX ||
        s->max_publishers > LIMIT_MAX)
        return store_fail(st, PARLEY_STORE_INVALID, "room limits must be between 0 and %d",
                          LIMIT_MAX);
    if (s->entry_timeout < 1 || s->entry_timeout > ENTRY_TIMEOUT_MAX)
        return store_fail(st, PARLEY_STORE_INVALID, "entryTimeout must be 1-%d seconds",
                          ENTRY_TIMEOUT_MAX);
    if ((unsigned)s->duplicate_policy > PARLEY_DUPLICATE_REJECT)
        return store_fail(st, PARLEY_STORE_INVALID, "unknown duplicate policy");
    if (s->allowed_origin_count > PARLEY_ROOM_ORIGINS_MAX)
        return store_fail(st, PARLEY_STORE_INVALID, "at most %d allowed origins",
                          PARLEY_ROOM_ORIGINS_MAX);
    for (size_t i = 0; i < s->allowed_origin_count; i++)
        if (!store_text_ok(s->allowed_origins[i], PARLEY_ORIGIN_MAX, false))
            return store_fail(st, PARLEY_STORE_INVALID, "allowed origins must be 1-%d characters",
                              PARLEY_ORIGIN_MAX);
    return PARLEY_STORE_OK;
}

/* The existing room of a customRoomId: OK, NOT_FOUND, or a failure. */
static int find_custom(parley_store *st, int64_t org_id, const char *custom, parley_room *out)
{
    sqlite3_stmt *stmt;
    int rc = store_prepare(st, &stmt,
                           "SELECT " ROOM_COLUMNS " FROM rooms WHERE org_id = ?1 AND custom_room_id = ?2");
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, org_id);
    store_bind_text(stmt, 2, custom);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW)
        read_room(stmt, out);
    else if (step == SQLITE_DONE)
        rc = PARLEY_STORE_NOT_FOUND;
    else
        rc = store_db_fail(st, "reading a room");
    store_finalize(st, stmt);
    return rc;
}

int parley_store_room_create(parley_store *st, int64_t org_id, const char *custom_room_id,
                             const parley_room_settings *settings, parley_room *out,
                             bool *created)
{
    store_ok(st);
    parley_room scratch;
    if (!out)
        out = &scratch;
    if (created)
        *created = false;
    if (custom_room_id && !*custom_room_id)
        custom_room_id = NULL;
    if (custom_room_id && !store_text_ok(custom_room_id, PARLEY_CUSTOM_ROOM_ID_MAX, false))
        return store_fail(st, PARLEY_STORE_INVALID,
                          "customRoomId must be 1-%d characters without control characters",
                          PARLEY_CUSTOM_ROOM_ID_MAX);
    parley_room_settings defaults;
    if (!settings) {
        parley_room_settings_init(&defaults);
        settings = &defaults;
    }
    int rc = check_settings(st, settings);
    if (rc)
        return rc;
    rc = parley_store_org_get_by_id(st, org_id, NULL);
    if (rc)
        return rc;
    char *text = NULL;
    rc = settings_text(st, settings, &text);
    if (rc)
        return rc;

    /* A unique-constraint failure is either another creator of the same
     * customRoomId winning the race (then the next lookup finds its room)
     * or a random id colliding (then the next attempt draws a new one). */
    for (int attempt = 0; attempt < 5; attempt++) {
        if (custom_room_id) {
            rc = find_custom(st, org_id, custom_room_id, out);
            if (rc != PARLEY_STORE_NOT_FOUND)
                goto done;
        }
        char id[PARLEY_HEX_ID_LEN + 1], room_id[PARLEY_ROOM_ID_LEN + 1];
        if (parley_id_hex24(id) || parley_id_room(room_id)) {
            rc = store_fail(st, PARLEY_STORE_ERROR, "the random source failed");
            goto done;
        }
        sqlite3_stmt *stmt;
        rc = store_prepare(st, &stmt,
                           "INSERT INTO rooms (id, room_id, custom_room_id, org_id, disabled,"
                           " settings, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6, ?6)");
        if (rc)
            goto done;
        store_bind_text(stmt, 1, id);
        store_bind_text(stmt, 2, room_id);
        store_bind_text(stmt, 3, custom_room_id);
        sqlite3_bind_int64(stmt, 4, org_id);
        store_bind_text(stmt, 5, text);
        sqlite3_bind_int64(stmt, 6, parley_now_ms());
        int step = sqlite3_step(stmt);
        if (step != SQLITE_DONE && step != SQLITE_CONSTRAINT)
            rc = store_db_fail(st, "creating a room");
        store_finalize(st, stmt);
        if (step == SQLITE_CONSTRAINT)
            continue;
        if (rc)
            goto done;
        rc = parley_store_room_get(st, org_id, room_id, out);
        if (!rc && created)
            *created = true;
        goto done;
    }
    rc = store_fail(st, PARLEY_STORE_ERROR, "could not find a free room id");
done:
    free(text);
    return rc;
}

int parley_store_room_update(parley_store *st, parley_room *room)
{
    store_ok(st);
    if (!room)
        return store_fail(st, PARLEY_STORE_INVALID, "no room");
    int rc = check_settings(st, &room->settings);
    if (rc)
        return rc;
    char *text = NULL;
    rc = settings_text(st, &room->settings, &text);
    if (rc)
        return rc;
    sqlite3_stmt *stmt;
    rc = store_prepare(st, &stmt,
                       "UPDATE rooms SET disabled = ?2, settings = ?3, updated_at = ?4"
                       " WHERE room_id = ?1");
    if (!rc) {
        store_bind_text(stmt, 1, room->room_id);
        sqlite3_bind_int(stmt, 2, room->disabled);
        store_bind_text(stmt, 3, text);
        sqlite3_bind_int64(stmt, 4, parley_now_ms());
        rc = store_exec_stmt(st, stmt, "updating a room");
        if (!rc && sqlite3_changes(st->db) == 0)
            rc = store_fail(st, PARLEY_STORE_NOT_FOUND, "unknown room");
        store_finalize(st, stmt);
    }
    free(text);
    if (rc)
        return rc;
    char room_id[PARLEY_ROOM_ID_LEN + 1];
    store_copy(room_id, sizeof(room_id), room->room_id);
    return parley_store_room_get(st, room->org_id, room_id, room);
}

/* SELECT COUNT(*) of sql with one integer parameter. */
static int count_rows(parley_store *st, const char *sql, int64_t param, int64_t *total)
{
    sqlite3_stmt *stmt;
    int rc = store_prepare(st, &stmt, sql);
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, param);
    if (sqlite3_step(stmt) == SQLITE_ROW)
        *total = sqlite3_column_int64(stmt, 0);
    else
        rc = store_db_fail(st, "counting rows");
    store_finalize(st, stmt);
    return rc;
}

int parley_store_room_list(parley_store *st, int64_t org_id, parley_page page, parley_room **out,
                           size_t *count, int64_t *total)
{
    store_ok(st);
    if (!out || !count || !total)
        return store_fail(st, PARLEY_STORE_INVALID, "no output for the list");
    *out = NULL;
    *count = 0;
    *total = 0;
    int rc = store_page_check(st, &page);
    if (rc)
        return rc;
    rc = count_rows(st, "SELECT COUNT(*) FROM rooms WHERE org_id = ?1", org_id, total);
    if (rc)
        return rc;
    sqlite3_stmt *stmt;
    rc = store_prepare(st, &stmt,
                       "SELECT " ROOM_COLUMNS " FROM rooms WHERE org_id = ?1"
                       " ORDER BY created_at DESC, rowid DESC LIMIT ?2 OFFSET ?3");
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, org_id);
    sqlite3_bind_int64(stmt, 2, page.per_page);
    sqlite3_bind_int64(stmt, 3, (page.page - 1) * page.per_page);
    void *arr = NULL;
    rc = store_collect(st, stmt, sizeof(parley_room), read_room, &arr, count, "listing rooms");
    store_finalize(st, stmt);
    *out = arr;
    return rc;
}

static json_t *link(const char *base_url, const char *fmt, const char *room_id)
{
    char path[256];
    snprintf(path, sizeof(path), fmt, room_id);
    if (!base_url)
        return json_string(path);
    size_t n = strlen(base_url);
    while (n && base_url[n - 1] == '/')
        n--;
    char full[1024];
    snprintf(full, sizeof(full), "%.*s%s", (int)(n < 700 ? n : 700), base_url, path);
    json_t *s = json_string(full);
    return s ? s : json_string(path);
}

json_t *parley_room_json(const parley_room *room, const char *base_url)
{
    json_t *links = json_pack("{s:o, s:o}", "get_room", link(base_url, "/v2/rooms/%s", room->room_id),
                              "get_session", link(base_url, "/v2/sessions/?roomId=%s", room->room_id));
    return json_pack("{s:s, s:o, s:b, s:o, s:o, s:s, s:o, s:o}", "roomId", room->room_id,
                     "customRoomId", store_str_or_null(room->custom_room_id), "disabled",
                     room->disabled, "createdAt", store_time_json(room->created_at), "updatedAt",
                     store_time_json(room->updated_at), "id", room->id, "settings",
                     parley_room_settings_json(&room->settings), "links", links);
}

int parley_store_room_list_json(parley_store *st, int64_t org_id, parley_page page,
                                const char *base_url, json_t **out)
{
    parley_room *rooms = NULL;
    size_t n = 0;
    int64_t total = 0;
    *out = NULL;
    int rc = parley_store_room_list(st, org_id, page, &rooms, &n, &total);
    if (rc)
        return rc;
    store_page_check(st, &page);
    json_t *data = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(data, parley_room_json(&rooms[i], base_url));
    free(rooms);
    *out = parley_page_json(page, total, data);
    return *out ? PARLEY_STORE_OK : store_fail(st, PARLEY_STORE_ERROR, "out of memory");
}
