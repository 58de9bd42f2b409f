/* store_orgs.c - organisations and their API keys.
 *
 * An organisation owns keys and rooms; its state decides whether its tokens
 * are accepted (4006 / 4007) and its limits cap speakers, viewers and egress
 * across all its rooms. A key's secret never leaves the store except through
 * parley_api_key_json(..., true), which only `parley admin key create` uses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

static const char *const state_names[] = {"active", "deactivated", "discontinued"};

const char *parley_org_state_name(parley_org_state state)
{
    return (unsigned)state < 3 ? state_names[state] : "?";
}

bool parley_org_state_parse(const char *text, parley_org_state *out)
{
    for (int i = 0; text && i < 3; i++) {
        if (!strcmp(text, state_names[i])) {
            *out = (parley_org_state)i;
            return true;
        }
    }
    return false;
}

void parley_org_init(parley_org *org, const char *name)
{
    memset(org, 0, sizeof(*org));
    store_copy(org->name, sizeof(org->name), name);
    org->state = PARLEY_ORG_ACTIVE;
    org->addons = true;
}

static bool name_ok(const char *name)
{
    if (!store_text_ok(name, PARLEY_ORG_NAME_MAX, false))
        return false;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}

static int check_org(parley_store *st, const parley_org *org)
{
    if (!name_ok(org->name))
        return store_fail(st, PARLEY_STORE_INVALID,
                          "organisation name must be 1-%d characters without spaces",
                          PARLEY_ORG_NAME_MAX);
    if ((unsigned)org->state > PARLEY_ORG_DISCONTINUED)
        return store_fail(st, PARLEY_STORE_INVALID, "unknown organisation state");
    if (!store_text_ok(org->message, PARLEY_ORG_MESSAGE_MAX, true))
        return store_fail(st, PARLEY_STORE_INVALID,
                          "message must be at most %d characters without control characters",
                          PARLEY_ORG_MESSAGE_MAX);
    const parley_org_limits *l = &org->limits;
    if (l->max_speakers < 0 || l->max_viewers < 0 || l->max_recordings < 0 || l->max_hls < 0 ||
        l->max_livestreams < 0)
        return store_fail(st, PARLEY_STORE_INVALID, "limits must be 0 (unlimited) or more");
    return PARLEY_STORE_OK;
}

#define ORG_COLUMNS                                                                           \
    "id, name, state, message, addons, max_speakers, max_viewers, max_recordings, max_hls, " \
    "max_livestreams, created_at, updated_at"

static void read_org(sqlite3_stmt *stmt, parley_org *o)
{
    memset(o, 0, sizeof(*o));
    o->id = sqlite3_column_int64(stmt, 0);
    store_col_text(stmt, 1, o->name, sizeof(o->name));
    parley_org_state_parse((const char *)sqlite3_column_text(stmt, 2), &o->state);
    store_col_text(stmt, 3, o->message, sizeof(o->message));
    o->addons = sqlite3_column_int(stmt, 4) != 0;
    o->limits.max_speakers = sqlite3_column_int(stmt, 5);
    o->limits.max_viewers = sqlite3_column_int(stmt, 6);
    o->limits.max_recordings = sqlite3_column_int(stmt, 7);
    o->limits.max_hls = sqlite3_column_int(stmt, 8);
    o->limits.max_livestreams = sqlite3_column_int(stmt, 9);
    o->created_at = sqlite3_column_int64(stmt, 10);
    o->updated_at = sqlite3_column_int64(stmt, 11);
}

/* One org by a text (name) or integer (id) key. */
static int get_org(parley_store *st, const char *name, int64_t id, parley_org *out)
{
    sqlite3_stmt *stmt;
    int rc = store_prepare(st, &stmt,
                           name ? "SELECT " ORG_COLUMNS " FROM orgs WHERE name = ?1"
                                : "SELECT " ORG_COLUMNS " FROM orgs WHERE id = ?1");
    if (rc)
        return rc;
    if (name)
        store_bind_text(stmt, 1, name);
    else
        sqlite3_bind_int64(stmt, 1, id);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        parley_org tmp;
        read_org(stmt, &tmp);
        if (out)
            *out = tmp;
        rc = PARLEY_STORE_OK;
    } else if (step == SQLITE_DONE) {
        rc = name ? store_fail(st, PARLEY_STORE_NOT_FOUND, "unknown organisation '%s'", name)
                  : store_fail(st, PARLEY_STORE_NOT_FOUND, "unknown organisation #%lld",
                               (long long)id);
    } else {
        rc = store_db_fail(st, "reading an organisation");
    }
    store_finalize(st, stmt);
    return rc;
}

int parley_store_org_get(parley_store *st, const char *name, parley_org *out)
{
    store_ok(st);
    if (!name)
        return store_fail(st, PARLEY_STORE_INVALID, "no organisation name");
    return get_org(st, name, 0, out);
}

int parley_store_org_get_by_id(parley_store *st, int64_t id, parley_org *out)
{
    store_ok(st);
    return get_org(st, NULL, id, out);
}

/* The ten parameters INSERT and UPDATE share: ?1 name ... ?10 the time now. */
static void bind_org(sqlite3_stmt *stmt, const parley_org *org)
{
    store_bind_text(stmt, 1, org->name);
    store_bind_text(stmt, 2, parley_org_state_name(org->state));
    store_bind_text(stmt, 3, org->message);
    sqlite3_bind_int(stmt, 4, org->addons);
    sqlite3_bind_int(stmt, 5, org->limits.max_speakers);
    sqlite3_bind_int(stmt, 6, org->limits.max_viewers);
    sqlite3_bind_int(stmt, 7, org->limits.max_recordings);
    sqlite3_bind_int(stmt, 8, org->limits.max_hls);
    sqlite3_bind_int(stmt, 9, org->limits.max_livestreams);
    sqlite3_bind_int64(stmt, 10, parley_now_ms());
}

int parley_store_org_create(parley_store *st, const parley_org *org, parley_org *out)
{
    store_ok(st);
    if (!org)
        return store_fail(st, PARLEY_STORE_INVALID, "no organisation");
    int rc = check_org(st, org);
    if (rc)
        return rc;
    sqlite3_stmt *stmt;
    rc = store_prepare(st, &stmt,
                       "INSERT INTO orgs (name, state, message, addons, max_speakers, max_viewers,"
                       " max_recordings, max_hls, max_livestreams, created_at, updated_at)"
                       " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)");
    if (rc)
        return rc;
    bind_org(stmt, org);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_CONSTRAINT)
        rc = store_fail(st, PARLEY_STORE_EXISTS, "organisation '%s' already exists", org->name);
    else if (step != SQLITE_DONE)
        rc = store_db_fail(st, "creating an organisation");
    store_finalize(st, stmt);
    if (rc)
        return rc;
    return out ? get_org(st, org->name, 0, out) : PARLEY_STORE_OK;
}

int parley_store_org_update(parley_store *st, parley_org *org)
{
    store_ok(st);
    if (!org)
        return store_fail(st, PARLEY_STORE_INVALID, "no organisation");
    int rc = check_org(st, org);
    if (rc)
        return rc;
    sqlite3_stmt *stmt;
    rc = store_prepare(st, &stmt,
                       "UPDATE orgs SET state = ?2, message = ?3, addons = ?4, max_speakers = ?5,"
                       " max_viewers = ?6, max_recordings = ?7, max_hls = ?8,"
                       " max_livestreams = ?9, updated_at = ?10 WHERE name = ?1");
    if (rc)
        return rc;
    bind_org(stmt, org);
    rc = store_exec_stmt(st, stmt, "updating an organisation");
    int changed = sqlite3_changes(st->db);
    store_finalize(st, stmt);
    if (rc)
        return rc;
    if (!changed)
        return store_fail(st, PARLEY_STORE_NOT_FOUND, "unknown organisation '%s'", org->name);
    char name[PARLEY_ORG_NAME_MAX + 1];
    store_copy(name, sizeof(name), org->name);
    return get_org(st, name, 0, org);
}

static void read_org_any(sqlite3_stmt *stmt, void *dst) { read_org(stmt, dst); }

int parley_store_org_list(parley_store *st, parley_org **out, size_t *count)
{
    store_ok(st);
    if (!out || !count)
        return store_fail(st, PARLEY_STORE_INVALID, "no output for the list");
    *out = NULL;
    *count = 0;
    sqlite3_stmt *stmt;
    int rc = store_prepare(st, &stmt, "SELECT " ORG_COLUMNS " FROM orgs ORDER BY name");
    if (rc)
        return rc;
    void *arr = NULL;
    rc = store_collect(st, stmt, sizeof(parley_org), read_org_any, &arr, count, "listing organisations");
    store_finalize(st, stmt);
    *out = arr;
    return rc;
}

json_t *parley_org_json(const parley_org *org)
{
    json_t *limits = json_pack("{s:i, s:i, s:i, s:i, s:i}", "maxSpeakers", org->limits.max_speakers,
                               "maxViewers", org->limits.max_viewers, "maxRecordings",
                               org->limits.max_recordings, "maxHls", org->limits.max_hls,
                               "maxLivestreams", org->limits.max_livestreams);
    return json_pack("{s:I, s:s, s:s, s:o, s:b, s:o, s:o, s:o}", "id", (json_int_t)org->id, "name",
                     org->name, "state", parley_org_state_name(org->state), "message",
                     store_str_or_null(org->message), "addons", org->addons, "limits", limits, "createdAt",
                     store_time_json(org->created_at), "updatedAt",
                     store_time_json(org->updated_at));
}

/* ---- API keys ---------------------------------------------------------- */

#define KEY_COLUMNS "k.apikey, k.secret, k.org_id, o.name, k.room_id, k.created_at"

static void read_key(sqlite3_stmt *stmt, void *dst)
{
    parley_api_key *k = dst;
    memset(k, 0, sizeof(*k));
    store_col_text(stmt, 0, k->apikey, sizeof(k->apikey));
    store_col_text(stmt, 1, k->secret, sizeof(k->secret));
    k->org_id = sqlite3_column_int64(stmt, 2);
    store_col_text(stmt, 3, k->org_name, sizeof(k->org_name));
    store_col_text(stmt, 4, k->room_id, sizeof(k->room_id));
    k->created_at = sqlite3_column_int64(stmt, 5);
}

int parley_store_key_get(parley_store *st, const char *apikey, parley_api_key *out)
{
    store_ok(st);
    if (!apikey || !*apikey || strlen(apikey) > PARLEY_APIKEY_MAX)
        return store_fail(st, PARLEY_STORE_NOT_FOUND, "unknown API key");
    sqlite3_stmt *stmt;
    int rc = store_prepare(st, &stmt,
                           "SELECT " KEY_COLUMNS " FROM api_keys k JOIN orgs o ON o.id = k.org_id"
                           " WHERE k.apikey = ?1");
    if (rc)
        return rc;
    store_bind_text(stmt, 1, apikey);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        if (out)
            read_key(stmt, out);
    } else if (step == SQLITE_DONE) {
        rc = store_fail(st, PARLEY_STORE_NOT_FOUND, "unknown API key");
    } else {
        rc = store_db_fail(st, "reading an API key");
    }
    store_finalize(st, stmt);
    return rc;
}

int parley_store_key_import(parley_store *st, const char *org_name, const char *apikey,
                            const char *secret, const char *room_id, parley_api_key *out)
{
    store_ok(st);
    if (!store_text_ok(apikey, PARLEY_APIKEY_MAX, false) || strchr(apikey, ' '))
        return store_fail(st, PARLEY_STORE_INVALID, "an API key is 1-%d characters without spaces",
                          PARLEY_APIKEY_MAX);
    if (!store_text_ok(secret, PARLEY_API_SECRET_MAX, false) || strlen(secret) < 16)
        return store_fail(st, PARLEY_STORE_INVALID, "an API secret is 16-%d characters",
                          PARLEY_API_SECRET_MAX);
    if (room_id && *room_id && !store_text_ok(room_id, PARLEY_CUSTOM_ROOM_ID_MAX, false))
        return store_fail(st, PARLEY_STORE_INVALID, "room id must be 1-%d characters",
                          PARLEY_CUSTOM_ROOM_ID_MAX);
    parley_org org;
    int rc = parley_store_org_get(st, org_name, &org);
    if (rc)
        return rc;
    sqlite3_stmt *stmt;
    rc = store_prepare(st, &stmt,
                       "INSERT INTO api_keys (apikey, secret, org_id, room_id, created_at)"
                       " VALUES (?1, ?2, ?3, ?4, ?5)");
    if (rc)
        return rc;
    store_bind_text(stmt, 1, apikey);
    store_bind_text(stmt, 2, secret);
    sqlite3_bind_int64(stmt, 3, org.id);
    store_bind_text(stmt, 4, room_id ? room_id : "");
    sqlite3_bind_int64(stmt, 5, parley_now_ms());
    int step = sqlite3_step(stmt);
    if (step == SQLITE_CONSTRAINT)
        rc = store_fail(st, PARLEY_STORE_EXISTS, "API key already exists");
    else if (step != SQLITE_DONE)
        rc = store_db_fail(st, "creating an API key");
    store_finalize(st, stmt);
    if (rc)
        return rc;
    return out ? parley_store_key_get(st, apikey, out) : PARLEY_STORE_OK;
}

int parley_store_key_create(parley_store *st, const char *org_name, const char *room_id,
                            parley_api_key *out)
{
    char apikey[PARLEY_APIKEY_LEN + 1], secret[PARLEY_API_SECRET_LEN + 1];
    store_ok(st);
    for (int attempt = 0; attempt < 3; attempt++) {
        if (parley_id_apikey(apikey) || parley_id_api_secret(secret))
            return store_fail(st, PARLEY_STORE_ERROR, "the random source failed");
        int rc = parley_store_key_import(st, org_name, apikey, secret, room_id, out);
        if (rc != PARLEY_STORE_EXISTS)
            return rc;
    }
    return store_fail(st, PARLEY_STORE_ERROR, "could not find a free API key");
}

int parley_store_key_list(parley_store *st, const char *org_name, parley_api_key **out,
                          size_t *count)
{
    store_ok(st);
    if (!out || !count)
        return store_fail(st, PARLEY_STORE_INVALID, "no output for the list");
    *out = NULL;
    *count = 0;
    parley_org org;
    int rc = parley_store_org_get(st, org_name, &org);
    if (rc)
        return rc;
    sqlite3_stmt *stmt;
    rc = store_prepare(st, &stmt,
                       "SELECT " KEY_COLUMNS " FROM api_keys k JOIN orgs o ON o.id = k.org_id"
                       " WHERE k.org_id = ?1 ORDER BY k.created_at, k.rowid");
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, org.id);
    void *arr = NULL;
    rc = store_collect(st, stmt, sizeof(parley_api_key), read_key, &arr, count, "listing API keys");
    store_finalize(st, stmt);
    *out = arr;
    return rc;
}

int parley_store_key_delete(parley_store *st, const char *apikey)
{
    store_ok(st);
    sqlite3_stmt *stmt;
    int rc = store_prepare(st, &stmt, "DELETE FROM api_keys WHERE apikey = ?1");
    if (rc)
        return rc;
    store_bind_text(stmt, 1, apikey);
    rc = store_exec_stmt(st, stmt, "deleting an API key");
    int changed = sqlite3_changes(st->db);
    store_finalize(st, stmt);
    if (!rc && !changed)
        rc = store_fail(st, PARLEY_STORE_NOT_FOUND, "unknown API key");
    return rc;
}

json_t *parley_api_key_json(const parley_api_key *key, bool with_secret)
{
    json_t *o = json_pack("{s:s, s:s, s:o, s:o}", "apikey", key->apikey, "org", key->org_name,
                          "room", store_str_or_null(key->room_id), "createdAt",
                          store_time_json(key->created_at));
    if (o && with_secret)
        json_object_set_new(o, "secret", json_string(key->secret));
    return o;
}
