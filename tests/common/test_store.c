/* test_store.c - the SQLite store: organisations, keys, rooms, sessions,
 * participants, the error history, pagination, two handles on one file (the
 * server and `parley admin`), and failures that must come back as statuses.
 *
 * Every case works in its own temporary data directory, so cases do not see
 * each other's rows. Raw SQLite is used only to look at the file from the
 * outside (journal mode, schema version) or to hold a lock. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../lib/tap.h"
#include "store.h"

static char tmp_base[] = "/tmp/parley-test-store-XXXXXX";
static int dir_count;

/* A fresh data directory path (not created: the store must create it). */
static const char *fresh_dir(void)
{
    static char path[256];
    snprintf(path, sizeof(path), "%s/case%d/nested/data", tmp_base, ++dir_count);
    return path;
}

static parley_store *open_fresh(const char **dir_out)
{
    const char *dir = fresh_dir();
    parley_store *st = NULL;
    char err[256];
    if (parley_store_open(dir, &st, err, sizeof(err)) != 0) {
        printf("# open %s: %s\n", dir, err);
        return NULL;
    }
    if (dir_out)
        *dir_out = dir;
    return st;
}

static int64_t make_org(parley_store *st, const char *name)
{
    parley_org o;
    parley_org_init(&o, name);
    if (parley_store_org_create(st, &o, &o) != 0) {
        printf("# org %s: %s\n", name, parley_store_errmsg(st));
        return 0;
    }
    return o.id;
}

/* obj is an object with exactly these keys (NULL-terminated list). */
static bool json_has_keys(json_t *obj, const char *const *keys)
{
    size_t n = 0;
    for (; keys[n]; n++)
        if (!json_object_get(obj, keys[n])) {
            printf("#   missing key %s\n", keys[n]);
            return false;
        }
    return json_is_object(obj) && json_object_size(obj) == n;
}

TEST(open_creates_directory_wal_and_schema)
{
    const char *dir = NULL;
    parley_store *st = open_fresh(&dir);
    REQUIRE(st);
    struct stat sb;
    CHECK(stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode));
    char path[512];
    snprintf(path, sizeof(path), "%s/parley.db", dir);
    CHECK(!strcmp(parley_store_path(st), path));
    CHECK(stat(path, &sb) == 0);
    CHECK(!strcmp(parley_store_errmsg(st), ""));

    sqlite3 *raw = NULL;
    REQUIRE(sqlite3_open(path, &raw) == SQLITE_OK);
    sqlite3_stmt *q;
    REQUIRE(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &q, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(q) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(q, 0), "wal"));
    sqlite3_finalize(q);
    REQUIRE(sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(q) == SQLITE_ROW && sqlite3_column_int(q, 0) == parley_store_schema_version());
    CHECK(parley_store_schema_version() >= 1);
    sqlite3_finalize(q);
    sqlite3_close(raw);
    parley_store_close(st);

    /* Opening again keeps the data and does not migrate twice. */
    REQUIRE(parley_store_open(dir, &st, NULL, 0) == 0);
    CHECK(make_org(st, "again") > 0);
    parley_store_close(st);
    REQUIRE(parley_store_open(dir, &st, NULL, 0) == 0);
    CHECK(parley_store_org_get(st, "again", NULL) == 0);
    parley_store_close(st);
    parley_store_close(NULL);
}

TEST(unwritable_paths_fail_cleanly)
{
    char file[256], err[256];
    snprintf(file, sizeof(file), "%s/plain-file", tmp_base);
    FILE *f = fopen(file, "w");
    REQUIRE(f);
    fclose(f);
    char under_file[300];
    snprintf(under_file, sizeof(under_file), "%s/sub", file);
    parley_store *st = (parley_store *)1;
    int rc = parley_store_open(under_file, &st, err, sizeof(err));
    CHECK(rc == PARLEY_STORE_ERROR);
    CHECK(st == NULL);
    CHECKF(strstr(err, "sub") || strstr(err, "directory"), "err '%s'", err);

    /* A directory where the database file should be. */
    char dir[300];
    snprintf(dir, sizeof(dir), "%s/dbdir", tmp_base);
    char dbpath[400];
    snprintf(dbpath, sizeof(dbpath), "%s/parley.db", dir);
    REQUIRE(mkdir(dir, 0700) == 0 && mkdir(dbpath, 0700) == 0);
    st = (parley_store *)1;
    CHECK(parley_store_open(dir, &st, err, sizeof(err)) == PARLEY_STORE_ERROR && st == NULL);
    CHECK(err[0] != '\0');

    CHECK(parley_store_open("/proc/parley-cannot-exist", &st, err, sizeof(err)) == PARLEY_STORE_ERROR);
    CHECK(st == NULL && err[0]);
    CHECK(parley_store_open("", &st, err, sizeof(err)) == PARLEY_STORE_INVALID && st == NULL);
    CHECK(parley_store_open(NULL, &st, NULL, 0) == PARLEY_STORE_INVALID && st == NULL);
    CHECK(parley_store_open(tmp_base, NULL, NULL, 0) == PARLEY_STORE_INVALID);
}

TEST(newer_schema_is_refused)
{
    const char *dir = NULL;
    parley_store *st = open_fresh(&dir);
    REQUIRE(st);
    parley_store_close(st);
    char path[512];
    snprintf(path, sizeof(path), "%s/parley.db", dir);
    sqlite3 *raw = NULL;
    REQUIRE(sqlite3_open(path, &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, "PRAGMA user_version = 999", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(raw);
    char err[256];
    CHECK(parley_store_open(dir, &st, err, sizeof(err)) == PARLEY_STORE_ERROR && !st);
    CHECKF(strstr(err, "999") != NULL, "err '%s'", err);
}

TEST(organisations)
{
    parley_store *st = open_fresh(NULL);
    REQUIRE(st);
    parley_org o;
    parley_org_init(&o, "zeta");
    o.limits.max_speakers = 3;
    o.limits.max_livestreams = 1;
    REQUIRE(parley_store_org_create(st, &o, &o) == 0);
    CHECK(o.id > 0 && o.state == PARLEY_ORG_ACTIVE && o.addons && o.created_at > 0);
    CHECK(o.limits.max_speakers == 3 && o.limits.max_viewers == 0 && o.limits.max_livestreams == 1);
    CHECK(parley_store_org_create(st, &o, NULL) == PARLEY_STORE_EXISTS);
    CHECK(strstr(parley_store_errmsg(st), "zeta") != NULL);
    CHECK(make_org(st, "alpha") > 0);

    const char *bad_names[] = {"", "has space", "tab\tname", "\xff\xfe"};
    for (size_t i = 0; i < 4; i++) {
        parley_org b;
        parley_org_init(&b, "x");
        snprintf(b.name, sizeof(b.name), "%s", bad_names[i]);
        CHECKF(parley_store_org_create(st, &b, NULL) == PARLEY_STORE_INVALID, "'%s'", bad_names[i]);
    }
    parley_org longest;
    parley_org_init(&longest, "");
    memset(longest.name, 'n', PARLEY_ORG_NAME_MAX); /* the longest name fits */
    CHECK(parley_store_org_create(st, &longest, NULL) == 0);
    parley_org neg;
    parley_org_init(&neg, "negative");
    neg.limits.max_viewers = -1;
    CHECK(parley_store_org_create(st, &neg, NULL) == PARLEY_STORE_INVALID);

    parley_org got;
    REQUIRE(parley_store_org_get(st, "zeta", &got) == 0);
    CHECK(got.id == o.id && got.limits.max_speakers == 3);
    CHECK(parley_store_org_get_by_id(st, o.id, &got) == 0 && !strcmp(got.name, "zeta"));
    CHECK(parley_store_org_get(st, "nobody", &got) == PARLEY_STORE_NOT_FOUND);
    CHECK(parley_store_org_get_by_id(st, 9999, &got) == PARLEY_STORE_NOT_FOUND);

    got.state = PARLEY_ORG_DISCONTINUED;
    snprintf(got.message, sizeof(got.message), "Closed at the owner's request");
    got.addons = false;
    got.limits.max_hls = 2;
    REQUIRE(parley_store_org_update(st, &got) == 0);
    CHECK(got.updated_at >= got.created_at);
    parley_org again;
    REQUIRE(parley_store_org_get(st, "zeta", &again) == 0);
    CHECK(again.state == PARLEY_ORG_DISCONTINUED && !again.addons && again.limits.max_hls == 2);
    CHECK(!strcmp(again.message, "Closed at the owner's request"));
    parley_org ghost;
    parley_org_init(&ghost, "ghost");
    CHECK(parley_store_org_update(st, &ghost) == PARLEY_STORE_NOT_FOUND);
    snprintf(again.message, sizeof(again.message), "bell\a");
    CHECK(parley_store_org_update(st, &again) == PARLEY_STORE_INVALID);

    parley_org *list = NULL;
    size_t n = 0;
    REQUIRE(parley_store_org_list(st, &list, &n) == 0);
    CHECK(n == 3 && !strcmp(list[0].name, "alpha") && !strcmp(list[2].name, "zeta"));
    free(list);

    json_t *j = parley_org_json(&again);
    static const char *const keys[] = {"id", "name", "state", "message", "addons", "limits",
                                       "createdAt", "updatedAt", NULL};
    CHECK(json_has_keys(j, keys));
    CHECK(!strcmp(json_string_value(json_object_get(j, "state")), "discontinued"));
    CHECK(json_integer_value(json_object_get(json_object_get(j, "limits"), "maxHls")) == 2);
    const char *created = json_string_value(json_object_get(j, "createdAt"));
    int64_t ms = 0;
    CHECK(created && strlen(created) == 24 && created[23] == 'Z' && parley_iso_time_parse(created, &ms));
    CHECK(ms == again.created_at);
    json_decref(j);

    parley_org_state s;
    CHECK(parley_org_state_parse("deactivated", &s) && s == PARLEY_ORG_DEACTIVATED);
    CHECK(!parley_org_state_parse("Deactivated", &s) && !parley_org_state_parse(NULL, &s));
    parley_store_close(st);
}

TEST(api_keys)
{
    parley_store *st = open_fresh(NULL);
    REQUIRE(st);
    int64_t acme = make_org(st, "acme");
    REQUIRE(acme > 0 && make_org(st, "other") > 0);
    parley_api_key k1, k2, bound;
    REQUIRE(parley_store_key_create(st, "acme", NULL, &k1) == 0);
    REQUIRE(parley_store_key_create(st, "acme", "", &k2) == 0);
    REQUIRE(parley_store_key_create(st, "other", "lobby", &bound) == 0);
    CHECK(strlen(k1.apikey) == PARLEY_APIKEY_LEN && strlen(k1.secret) == PARLEY_API_SECRET_LEN);
    CHECK(strcmp(k1.apikey, k2.apikey) && strcmp(k1.secret, k2.secret));
    CHECK(k1.org_id == acme && !strcmp(k1.org_name, "acme") && k1.room_id[0] == '\0');
    CHECK(!strcmp(bound.room_id, "lobby") && !strcmp(bound.org_name, "other"));
    CHECK(parley_store_key_create(st, "nobody", NULL, &k1) == PARLEY_STORE_NOT_FOUND);

    parley_api_key got;
    REQUIRE(parley_store_key_get(st, k2.apikey, &got) == 0);
    CHECK(!strcmp(got.secret, k2.secret) && got.org_id == acme);
    CHECK(parley_store_key_get(st, "nope", &got) == PARLEY_STORE_NOT_FOUND);
    CHECK(parley_store_key_get(st, "", &got) == PARLEY_STORE_NOT_FOUND);
    CHECK(parley_store_key_get(st, NULL, &got) == PARLEY_STORE_NOT_FOUND);

    /* Importing a token server's existing key, and refusing a duplicate. */
    CHECK(parley_store_key_import(st, "acme", "legacy-key", "0123456789abcdef0123", NULL, &got) == 0);
    CHECK(parley_store_key_import(st, "other", "legacy-key", "0123456789abcdef0123", NULL, NULL) ==
          PARLEY_STORE_EXISTS);
    CHECK(parley_store_key_import(st, "acme", "short-secret", "tiny", NULL, NULL) ==
          PARLEY_STORE_INVALID);

    parley_api_key *list = NULL;
    size_t n = 0;
    REQUIRE(parley_store_key_list(st, "acme", &list, &n) == 0);
    CHECK(n == 3 && !strcmp(list[0].apikey, k1.apikey) && !strcmp(list[2].apikey, "legacy-key"));
    free(list);
    CHECK(parley_store_key_list(st, "nobody", &list, &n) == PARLEY_STORE_NOT_FOUND && !list && !n);

    json_t *j = parley_api_key_json(&bound, false);
    static const char *const keys[] = {"apikey", "org", "room", "createdAt", NULL};
    CHECK(json_has_keys(j, keys) && !strcmp(json_string_value(json_object_get(j, "room")), "lobby"));
    json_decref(j);
    j = parley_api_key_json(&k2, true);
    CHECK(json_is_null(json_object_get(j, "room")));
    CHECK(!strcmp(json_string_value(json_object_get(j, "secret")), k2.secret));
    json_decref(j);

    CHECK(parley_store_key_delete(st, k2.apikey) == 0);
    CHECK(parley_store_key_get(st, k2.apikey, NULL) == PARLEY_STORE_NOT_FOUND);
    CHECK(parley_store_key_delete(st, k2.apikey) == PARLEY_STORE_NOT_FOUND);
    parley_store_close(st);
}

TEST(rooms_create_lookup_and_custom_id_idempotence)
{
    parley_store *st = open_fresh(NULL);
    REQUIRE(st);
    int64_t acme = make_org(st, "acme"), other = make_org(st, "other");
    REQUIRE(acme && other);
    parley_room r1, r2, r3;
    bool created = false;
    REQUIRE(parley_store_room_create(st, acme, NULL, NULL, &r1, &created) == 0);
    CHECK(created && parley_room_id_valid(r1.room_id) && parley_hex24_valid(r1.id));
    CHECK(r1.custom_room_id[0] == '\0' && !r1.disabled && r1.org_id == acme);
    CHECK(r1.settings.entry_timeout == PARLEY_ENTRY_TIMEOUT_DEFAULT);
    CHECK(r1.settings.duplicate_policy == PARLEY_DUPLICATE_REPLACE);

    parley_room_settings s;
    parley_room_settings_init(&s);
    s.max_participants = 10;
    s.duplicate_policy = PARLEY_DUPLICATE_REJECT;
    REQUIRE(parley_store_room_create(st, acme, "weekly-sync", &s, &r2, &created) == 0);
    CHECK(created && !strcmp(r2.custom_room_id, "weekly-sync") && r2.settings.max_participants == 10);
    /* Again with the same customRoomId: the same room, settings untouched. */
    parley_room_settings s2;
    parley_room_settings_init(&s2);
    s2.max_participants = 99;
    created = true;
    REQUIRE(parley_store_room_create(st, acme, "weekly-sync", &s2, &r3, &created) == 0);
    CHECK(!created && !strcmp(r3.room_id, r2.room_id) && !strcmp(r3.id, r2.id));
    CHECK(r3.settings.max_participants == 10 && r3.settings.duplicate_policy == PARLEY_DUPLICATE_REJECT);
    /* The same customRoomId in another organisation is another room. */
    REQUIRE(parley_store_room_create(st, other, "weekly-sync", NULL, &r3, &created) == 0);
    CHECK(created && strcmp(r3.room_id, r2.room_id) != 0);

    parley_room got;
    CHECK(parley_store_room_get(st, acme, r2.room_id, &got) == 0 && !strcmp(got.id, r2.id));
    CHECK(parley_store_room_get(st, acme, "weekly-sync", &got) == 0 && !strcmp(got.id, r2.id));
    CHECK(parley_store_room_get(st, other, "weekly-sync", &got) == 0 && !strcmp(got.id, r3.id));
    CHECK(parley_store_room_get(st, 0, r2.room_id, &got) == 0 && got.org_id == acme);
    CHECK(parley_store_room_get(st, 0, "weekly-sync", &got) == PARLEY_STORE_NOT_FOUND);
    CHECK(parley_store_room_get(st, other, r2.room_id, &got) == PARLEY_STORE_NOT_FOUND);
    CHECK(parley_store_room_get(st, acme, "zzzz-zzzz-zzzz", &got) == PARLEY_STORE_NOT_FOUND);
    CHECK(parley_store_room_get(st, acme, "", &got) == PARLEY_STORE_NOT_FOUND);
    CHECK(parley_store_room_create(st, 424242, NULL, NULL, &got, NULL) == PARLEY_STORE_NOT_FOUND);
    CHECK(parley_store_room_create(st, acme, "bad\nid", NULL, &got, NULL) == PARLEY_STORE_INVALID);
    s2.entry_timeout = 0;
    CHECK(parley_store_room_create(st, acme, NULL, &s2, &got, NULL) == PARLEY_STORE_INVALID);

    /* Update: disable and change settings. */
    got = r2;
    got.disabled = true;
    got.settings.max_speakers = 4;
    REQUIRE(parley_store_room_update(st, &got) == 0);
    CHECK(got.disabled && got.settings.max_speakers == 4 && got.updated_at >= r2.updated_at);
    parley_room re;
    REQUIRE(parley_store_room_get(st, acme, "weekly-sync", &re) == 0);
    CHECK(re.disabled && re.settings.max_speakers == 4 && re.settings.max_participants == 10);
    snprintf(got.room_id, sizeof(got.room_id), "nope-nope-nope");
    CHECK(parley_store_room_update(st, &got) == PARLEY_STORE_NOT_FOUND);

    /* The REST room object. */
    json_t *j = parley_room_json(&re, "http://localhost:8080/");
    static const char *const keys[] = {"roomId", "customRoomId", "disabled", "createdAt",
                                       "updatedAt", "id", "settings", "links", NULL};
    CHECK(json_has_keys(j, keys));
    CHECK(json_is_true(json_object_get(j, "disabled")));
    char want[128];
    snprintf(want, sizeof(want), "http://localhost:8080/v2/rooms/%s", re.room_id);
    const char *get_room = json_string_value(json_object_get(json_object_get(j, "links"), "get_room"));
    CHECKF(get_room && !strcmp(get_room, want), "%s", get_room);
    json_t *settings = json_object_get(j, "settings");
    CHECK(json_integer_value(json_object_get(settings, "maxParticipants")) == 10);
    CHECK(!strcmp(json_string_value(json_object_get(settings, "duplicatePolicy")), "reject"));
    json_decref(j);
    j = parley_room_json(&r1, NULL);
    CHECK(json_is_null(json_object_get(j, "customRoomId")));
    json_decref(j);
    parley_store_close(st);
}

TEST(room_settings_from_json)
{
    parley_room_settings base, out;
    parley_room_settings_init(&base);
    char err[128];
    json_t *j = json_loads("{\"maxParticipants\":5,\"maxSpeakers\":2,\"maxPublishers\":1,"
                           "\"duplicatePolicy\":\"reject\",\"allowedOrigins\":[\"https://a.example\","
                           "\"https://b.example\"],\"entryTimeout\":30,\"unknownKey\":true}", 0, NULL);
    REQUIRE(j);
    CHECK(parley_room_settings_from_json(j, &base, &out, err, sizeof(err)) == 0);
    json_decref(j);
    CHECK(out.max_participants == 5 && out.max_speakers == 2 && out.max_publishers == 1);
    CHECK(out.duplicate_policy == PARLEY_DUPLICATE_REJECT && out.entry_timeout == 30);
    CHECK(out.allowed_origin_count == 2 && !strcmp(out.allowed_origins[1], "https://b.example"));
    CHECK(parley_room_origin_allowed(&out, "https://a.example"));
    CHECK(!parley_room_origin_allowed(&out, "https://evil.example"));
    CHECK(!parley_room_origin_allowed(&out, NULL));
    CHECK(parley_room_origin_allowed(&base, "https://anything.example"));

    /* Absent keys keep the base. */
    j = json_loads("{\"maxSpeakers\":7}", 0, NULL);
    CHECK(parley_room_settings_from_json(j, &out, &out, err, sizeof(err)) == 0);
    json_decref(j);
    CHECK(out.max_speakers == 7 && out.max_participants == 5 && out.allowed_origin_count == 2);

    const char *bad[] = {
        "[]", "{\"maxParticipants\":-1}", "{\"maxParticipants\":\"5\"}",
        "{\"maxParticipants\":2.5}", "{\"duplicatePolicy\":\"merge\"}",
        "{\"allowedOrigins\":\"https://a.example\"}", "{\"allowedOrigins\":[1]}",
        "{\"allowedOrigins\":[\"\"]}", "{\"entryTimeout\":0}", "{\"entryTimeout\":99999999}",
        ("{\"allowedOrigins\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\","
         "\"12\",\"13\",\"14\",\"15\",\"16\",\"17\"]}"),
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        j = json_loads(bad[i], JSON_DECODE_ANY, NULL);
        parley_room_settings keep = out;
        err[0] = '\0';
        CHECKF(parley_room_settings_from_json(j, &out, &out, err, sizeof(err)) == PARLEY_STORE_INVALID,
               "%s", bad[i]);
        CHECKF(err[0] && !memcmp(&keep, &out, sizeof(out)), "%s left '%s'", bad[i], err);
        json_decref(j);
    }
    CHECK(parley_room_settings_from_json(NULL, NULL, &out, NULL, 0) == PARLEY_STORE_INVALID);
}

TEST(room_list_pagination)
{
    parley_store *st = open_fresh(NULL);
    REQUIRE(st);
    int64_t acme = make_org(st, "acme"), other = make_org(st, "other");
    REQUIRE(acme && other);
    for (int i = 0; i < 25; i++) {
        char custom[32];
        snprintf(custom, sizeof(custom), "room-%02d", i);
        REQUIRE(parley_store_room_create(st, acme, custom, NULL, NULL, NULL) == 0);
    }
    REQUIRE(parley_store_room_create(st, other, NULL, NULL, NULL, NULL) == 0);

    parley_room *rooms = NULL;
    size_t n = 0;
    int64_t total = 0;
    REQUIRE(parley_store_room_list(st, acme, (parley_page){1, 10}, &rooms, &n, &total) == 0);
    CHECK(n == 10 && total == 25);
    CHECK(!strcmp(rooms[0].custom_room_id, "room-24")); /* newest first */
    free(rooms);
    REQUIRE(parley_store_room_list(st, acme, (parley_page){3, 10}, &rooms, &n, &total) == 0);
    CHECK(n == 5 && total == 25 && !strcmp(rooms[4].custom_room_id, "room-00"));
    free(rooms);
    REQUIRE(parley_store_room_list(st, acme, (parley_page){4, 10}, &rooms, &n, &total) == 0);
    CHECK(n == 0 && total == 25);
    free(rooms);
    REQUIRE(parley_store_room_list(st, acme, (parley_page){0, 0}, &rooms, &n, &total) == 0);
    CHECK(n == PARLEY_PAGE_DEFAULT);
    free(rooms);
    CHECK(parley_store_room_list(st, acme, (parley_page){-1, 10}, &rooms, &n, &total) == PARLEY_STORE_INVALID);
    CHECK(parley_store_room_list(st, acme, (parley_page){1, 101}, &rooms, &n, &total) == PARLEY_STORE_INVALID);
    CHECK(rooms == NULL && n == 0);

    json_t *page = NULL;
    REQUIRE(parley_store_room_list_json(st, acme, (parley_page){2, 10}, NULL, &page) == 0);
    json_t *info = json_object_get(page, "pageInfo");
    CHECK(json_integer_value(json_object_get(info, "currentPage")) == 2);
    CHECK(json_integer_value(json_object_get(info, "perPage")) == 10);
    CHECK(json_integer_value(json_object_get(info, "lastPage")) == 3);
    CHECK(json_integer_value(json_object_get(info, "total")) == 25);
    CHECK(json_array_size(json_object_get(page, "data")) == 10);
    json_decref(page);
    REQUIRE(parley_store_room_list_json(st, 999, (parley_page){0, 0}, NULL, &page) == 0);
    info = json_object_get(page, "pageInfo");
    CHECK(json_integer_value(json_object_get(info, "total")) == 0);
    CHECK(json_integer_value(json_object_get(info, "lastPage")) == 1);
    json_decref(page);

    parley_page p;
    char err[96];
    CHECK(parley_page_parse("3", "50", &p, err, sizeof(err)) == 0 && p.page == 3 && p.per_page == 50);
    CHECK(parley_page_parse(NULL, NULL, &p, err, sizeof(err)) == 0 && p.page == 1 && p.per_page == 20);
    const char *bad[][2] = {{"0", NULL}, {"-1", NULL}, {"x", NULL}, {"1", "0"}, {"1", "101"},
                            {"", NULL}, {"1.5", NULL}, {"99999999999999999999", NULL}};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECKF(parley_page_parse(bad[i][0], bad[i][1], &p, err, sizeof(err)) == PARLEY_STORE_INVALID,
               "%s/%s", bad[i][0], bad[i][1] ? bad[i][1] : "-");
    parley_store_close(st);
}

TEST(sessions_participants_and_timelogs)
{
    parley_store *st = open_fresh(NULL);
    REQUIRE(st);
    int64_t acme = make_org(st, "acme");
    parley_room room;
    REQUIRE(parley_store_room_create(st, acme, "standup", NULL, &room, NULL) == 0);
    parley_session s, cur;
    CHECK(parley_store_session_current(st, room.room_id, &cur) == PARLEY_STORE_NOT_FOUND);
    int64_t t0 = 1700000000000;
    REQUIRE(parley_store_session_start(st, room.room_id, t0, &s) == 0);
    CHECK(parley_hex24_valid(s.id) && s.ongoing && s.start == t0 && s.end == 0 && s.org_id == acme);
    REQUIRE(parley_store_session_current(st, room.room_id, &cur) == 0);
    CHECK(!strcmp(cur.id, s.id));
    CHECK(parley_store_session_start(st, "none-none-none", 0, &cur) == PARLEY_STORE_NOT_FOUND);

    CHECK(parley_store_participant_join(st, s.id, "alice", "Alice", t0 + 1000) == 0);
    CHECK(parley_store_participant_join(st, s.id, "bob", "Bob", t0 + 2000) == 0);
    CHECK(parley_store_participant_leave(st, s.id, "alice", t0 + 3000) == 0);
    CHECK(parley_store_participant_leave(st, s.id, "alice", t0 + 3500) == PARLEY_STORE_NOT_FOUND);
    CHECK(parley_store_participant_join(st, s.id, "alice", "Alice B.", t0 + 4000) == 0);
    CHECK(parley_store_participant_leave(st, s.id, "carol", t0) == PARLEY_STORE_NOT_FOUND);
    CHECK(parley_store_participant_join(st, s.id, "", "x", 0) == PARLEY_STORE_INVALID);
    CHECK(parley_store_participant_join(st, "0123456789abcdef01234567", "x", "x", 0) ==
          PARLEY_STORE_NOT_FOUND);

    json_t *active = NULL;
    REQUIRE(parley_store_participants_json(st, s.id, (parley_page){0, 0}, true, &active) == 0);
    CHECK(json_array_size(json_object_get(active, "data")) == 2);
    json_decref(active);

    json_t *j = NULL;
    REQUIRE(parley_store_session_json(st, &s, &j) == 0);
    static const char *const keys[] = {"id", "roomId", "start", "end", "status", "participants", NULL};
    CHECK(json_has_keys(j, keys));
    CHECK(!strcmp(json_string_value(json_object_get(j, "status")), "ongoing"));
    CHECK(json_is_null(json_object_get(j, "end")));
    json_t *parts = json_object_get(j, "participants");
    REQUIRE(json_array_size(parts) == 2);
    json_t *alice = json_array_get(parts, 0);
    CHECK(!strcmp(json_string_value(json_object_get(alice, "participantId")), "alice"));
    CHECK(!strcmp(json_string_value(json_object_get(alice, "name")), "Alice B."));
    json_t *tl = json_object_get(alice, "timelog");
    REQUIRE(json_array_size(tl) == 2);
    CHECK(!strcmp(json_string_value(json_object_get(json_array_get(tl, 0), "start")),
                  "2023-11-14T22:13:21.000Z"));
    CHECK(!strcmp(json_string_value(json_object_get(json_array_get(tl, 0), "end")),
                  "2023-11-14T22:13:23.000Z"));
    CHECK(json_is_null(json_object_get(json_array_get(tl, 1), "end")));
    json_decref(j);

    /* Ending closes every open entry; ending twice changes nothing. */
    REQUIRE(parley_store_session_end(st, s.id, t0 + 9000, &s) == 0);
    CHECK(!s.ongoing && s.end == t0 + 9000);
    CHECK(parley_store_session_end(st, s.id, t0 + 99000, &s) == 0 && s.end == t0 + 9000);
    CHECK(parley_store_session_current(st, room.room_id, &cur) == PARLEY_STORE_NOT_FOUND);
    CHECK(parley_store_participant_join(st, s.id, "dave", "Dave", 0) == PARLEY_STORE_INVALID);
    REQUIRE(parley_store_participants_json(st, s.id, (parley_page){0, 0}, true, &active) == 0);
    CHECK(json_array_size(json_object_get(active, "data")) == 0);
    json_decref(active);
    REQUIRE(parley_store_participants_json(st, s.id, (parley_page){1, 1}, false, &active) == 0);
    CHECK(json_array_size(json_object_get(active, "data")) == 1);
    CHECK(json_integer_value(json_object_get(json_object_get(active, "pageInfo"), "total")) == 2);
    json_decref(active);
    REQUIRE(parley_store_session_json(st, &s, &j) == 0);
    CHECK(!strcmp(json_string_value(json_object_get(j, "status")), "ended"));
    tl = json_object_get(json_array_get(json_object_get(j, "participants"), 0), "timelog");
    CHECK(!strcmp(json_string_value(json_object_get(json_array_get(tl, 1), "end")),
                  "2023-11-14T22:13:29.000Z"));
    json_decref(j);
    CHECK(parley_store_participants_json(st, "ffffffffffffffffffffffff", (parley_page){0, 0}, false,
                                         &active) == PARLEY_STORE_NOT_FOUND);

    /* Listing per room and overall, newest first; end_all after a crash. */
    parley_session s2, s3;
    parley_room room2;
    REQUIRE(parley_store_room_create(st, acme, NULL, NULL, &room2, NULL) == 0);
    REQUIRE(parley_store_session_start(st, room.room_id, t0 + 10000, &s2) == 0);
    REQUIRE(parley_store_session_start(st, room2.room_id, t0 + 20000, &s3) == 0);
    REQUIRE(parley_store_participant_join(st, s3.id, "erin", "Erin", t0 + 20001) == 0);
    parley_session *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    REQUIRE(parley_store_session_list(st, acme, "standup", (parley_page){1, 1}, &list, &n, &total) == 0);
    CHECK(n == 1 && total == 2 && !strcmp(list[0].id, s2.id));
    free(list);
    REQUIRE(parley_store_session_list(st, acme, NULL, (parley_page){0, 0}, &list, &n, &total) == 0);
    CHECK(n == 3 && total == 3 && !strcmp(list[0].id, s3.id));
    free(list);
    CHECK(parley_store_session_list(st, 777, NULL, (parley_page){0, 0}, &list, &n, &total) == 0 && n == 0);
    free(list);
    CHECK(parley_store_session_list(st, acme, "unknown-room", (parley_page){0, 0}, &list, &n, &total) ==
          PARLEY_STORE_NOT_FOUND);
    CHECK(parley_store_session_get(st, 777, s2.id, &cur) == PARLEY_STORE_NOT_FOUND);
    CHECK(parley_store_session_get(st, acme, s2.id, &cur) == 0 && cur.ongoing);
    CHECK(parley_store_session_get(st, acme, "not-an-id", &cur) == PARLEY_STORE_NOT_FOUND);

    json_t *pagej = NULL;
    REQUIRE(parley_store_session_list_json(st, acme, room.room_id, (parley_page){0, 0}, &pagej) == 0);
    CHECK(json_integer_value(json_object_get(json_object_get(pagej, "pageInfo"), "total")) == 2);
    CHECK(json_array_size(json_object_get(pagej, "data")) == 2);
    json_decref(pagej);

    int ended = 0;
    REQUIRE(parley_store_session_end_all(st, t0 + 30000, &ended) == 0);
    CHECK(ended == 2);
    CHECK(parley_store_session_get(st, 0, s3.id, &cur) == 0 && !cur.ongoing && cur.end == t0 + 30000);
    REQUIRE(parley_store_participants_json(st, s3.id, (parley_page){0, 0}, true, &active) == 0);
    CHECK(json_array_size(json_object_get(active, "data")) == 0);
    json_decref(active);
    parley_store_close(st);
}

TEST(error_history_filters_and_pages)
{
    parley_store *st = open_fresh(NULL);
    REQUIRE(st);
    struct { int code; const char *room, *session; } ev[] = {
        {4009, "aaaa-aaaa-aaaa", "111111111111111111111111"},
        {4010, "aaaa-aaaa-aaaa", "111111111111111111111111"},
        {4009, "bbbb-bbbb-bbbb", "222222222222222222222222"},
        {4002, "", ""},
        {4009, "aaaa-aaaa-aaaa", "333333333333333333333333"},
    };
    for (size_t i = 0; i < 5; i++) {
        parley_error_record r = {.code = ev[i].code, .org_id = 1};
        snprintf(r.room_id, sizeof(r.room_id), "%s", ev[i].room);
        snprintf(r.session_id, sizeof(r.session_id), "%s", ev[i].session);
        snprintf(r.participant_id, sizeof(r.participant_id), "p%zu", i);
        snprintf(r.request_id, sizeof(r.request_id), "REQ%zu", i);
        REQUIRE(parley_store_error_add(st, &r) == 0);
        CHECK(r.seq > 0 && r.at > 0);
        if (i == 0)
            CHECK(!strcmp(r.name, "MAX_PARTCIPANT_REACHED") && r.message[0]);
    }
    parley_error_record custom = {.code = 4009, .org_id = 2};
    snprintf(custom.name, sizeof(custom.name), "MAX_PARTCIPANT_REACHED");
    snprintf(custom.message, sizeof(custom.message), "the room holds 2");
    memset(custom.participant_id, 'x', sizeof(custom.participant_id)); /* no NUL: truncated */
    REQUIRE(parley_store_error_add(st, &custom) == 0);
    CHECK(strlen(custom.participant_id) == PARLEY_PARTICIPANT_ID_MAX);

    parley_error_record *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    parley_error_filter f = {.org_id = 1, .room_id = "aaaa-aaaa-aaaa"};
    REQUIRE(parley_store_error_list(st, &f, (parley_page){0, 0}, &list, &n, &total) == 0);
    CHECK(n == 3 && total == 3 && !strcmp(list[0].participant_id, "p4")); /* newest first */
    free(list);
    f.has_code = true;
    f.code = 4009;
    REQUIRE(parley_store_error_list(st, &f, (parley_page){0, 0}, &list, &n, &total) == 0);
    CHECK(n == 2 && total == 2);
    free(list);
    f.session_id = "111111111111111111111111";
    REQUIRE(parley_store_error_list(st, &f, (parley_page){0, 0}, &list, &n, &total) == 0);
    CHECK(n == 1 && list[0].code == 4009 && !strcmp(list[0].request_id, "REQ0"));
    free(list);
    parley_error_filter by_code = {.has_code = true, .code = 4009};
    REQUIRE(parley_store_error_list(st, &by_code, (parley_page){2, 2}, &list, &n, &total) == 0);
    CHECK(total == 4 && n == 2);
    free(list);
    REQUIRE(parley_store_error_list(st, NULL, (parley_page){0, 0}, &list, &n, &total) == 0);
    CHECK(total == 6 && n == 6 && !strcmp(list[0].message, "the room holds 2"));
    free(list);

    json_t *page = NULL;
    parley_error_filter org1 = {.org_id = 1, .has_code = true, .code = 4002};
    REQUIRE(parley_store_error_list_json(st, &org1, (parley_page){0, 0}, &page) == 0);
    json_t *data = json_object_get(page, "data");
    REQUIRE(json_array_size(data) == 1);
    json_t *rec = json_array_get(data, 0);
    static const char *const keys[] = {"code", "name", "message", "roomId", "sessionId",
                                       "participantId", "requestId", "at", NULL};
    CHECK(json_has_keys(rec, keys));
    CHECK(json_integer_value(json_object_get(rec, "code")) == 4002);
    CHECK(!strcmp(json_string_value(json_object_get(rec, "name")), "INVALID_TOKEN"));
    CHECK(json_is_null(json_object_get(rec, "roomId")));
    CHECK(!strcmp(json_string_value(json_object_get(rec, "requestId")), "REQ3"));
    json_decref(page);
    CHECK(parley_store_error_add(st, NULL) == PARLEY_STORE_INVALID);
    parley_store_close(st);
}

/* ---- two handles: the server and `parley admin` ---- */

typedef struct locker {
    char path[512];
    int hold_ms;
    volatile int locked;
} locker;

static void *hold_write_lock(void *arg)
{
    locker *l = arg;
    sqlite3 *raw = NULL;
    if (sqlite3_open(l->path, &raw) == SQLITE_OK &&
        sqlite3_exec(raw, "BEGIN IMMEDIATE; UPDATE orgs SET message = 'held' WHERE name = 'acme'",
                     NULL, NULL, NULL) == SQLITE_OK) {
        l->locked = 1;
        usleep((useconds_t)l->hold_ms * 1000);
        sqlite3_exec(raw, "COMMIT", NULL, NULL, NULL);
    } else {
        l->locked = -1;
    }
    sqlite3_close(raw);
    return NULL;
}

TEST(second_connection_sees_changes_and_waits_for_locks)
{
    const char *dir = NULL;
    parley_store *server = open_fresh(&dir);
    REQUIRE(server);
    parley_store *admin = NULL;
    REQUIRE(parley_store_open(dir, &admin, NULL, 0) == 0);

    parley_org o;
    parley_org_init(&o, "acme");
    REQUIRE(parley_store_org_create(admin, &o, &o) == 0);
    parley_api_key k;
    REQUIRE(parley_store_key_create(admin, "acme", NULL, &k) == 0);

    /* The server reads; the admin deactivates; the server's next read sees it. */
    parley_api_key seen;
    parley_org so;
    REQUIRE(parley_store_key_get(server, k.apikey, &seen) == 0);
    REQUIRE(parley_store_org_get_by_id(server, seen.org_id, &so) == 0);
    CHECK(so.state == PARLEY_ORG_ACTIVE);
    o.state = PARLEY_ORG_DEACTIVATED;
    REQUIRE(parley_store_org_update(admin, &o) == 0);
    REQUIRE(parley_store_org_get_by_id(server, seen.org_id, &so) == 0);
    CHECK(so.state == PARLEY_ORG_DEACTIVATED);

    /* Rooms created by the server are visible to the admin handle. */
    parley_room r;
    REQUIRE(parley_store_room_create(server, o.id, "shared", NULL, &r, NULL) == 0);
    parley_room ar;
    CHECK(parley_store_room_get(admin, o.id, "shared", &ar) == 0 && !strcmp(ar.id, r.id));

    /* A writer holding the lock for 400 ms: the other write waits it out. */
    locker l = {.hold_ms = 400};
    snprintf(l.path, sizeof(l.path), "%s", parley_store_path(server));
    pthread_t th;
    REQUIRE(pthread_create(&th, NULL, hold_write_lock, &l) == 0);
    while (!l.locked)
        usleep(1000);
    CHECK(l.locked == 1);
    int64_t before = parley_now_ms();
    o.state = PARLEY_ORG_ACTIVE;
    int rc = parley_store_org_update(admin, &o);
    int64_t waited = parley_now_ms() - before;
    pthread_join(th, NULL);
    CHECKF(rc == 0, "update under a lock: %d %s", rc, parley_store_errmsg(admin));
    CHECKF(waited >= 200, "waited only %lld ms", (long long)waited);
    REQUIRE(parley_store_org_get(server, "acme", &so) == 0);
    CHECK(so.state == PARLEY_ORG_ACTIVE);

    parley_store_close(admin);
    parley_store_close(server);
}

TEST(ids_and_times)
{
    char room[PARLEY_ROOM_ID_LEN + 1], other[PARLEY_ROOM_ID_LEN + 1];
    REQUIRE(parley_id_room(room) == 0 && parley_id_room(other) == 0);
    CHECK(parley_room_id_valid(room) && strcmp(room, other) != 0);
    CHECK(!parley_room_id_valid("abcd-efgh-ijk") && !parley_room_id_valid("ABCD-efgh-ijkl"));
    CHECK(!parley_room_id_valid("abcd_efgh_ijkl") && !parley_room_id_valid(NULL));
    char hex[PARLEY_HEX_ID_LEN + 1];
    REQUIRE(parley_id_hex24(hex) == 0);
    CHECK(parley_hex24_valid(hex) && !parley_hex24_valid("0123456789abcdef0123456g"));
    char r1[PARLEY_REQUEST_ID_LEN + 1], r2[PARLEY_REQUEST_ID_LEN + 1];
    REQUIRE(parley_id_request(r1) == 0);
    usleep(3000);
    REQUIRE(parley_id_request(r2) == 0);
    CHECK(strlen(r1) == PARLEY_REQUEST_ID_LEN && strcmp(r1, r2) < 0);
    char secret[PARLEY_SECRET_LEN + 1], apikey[PARLEY_APIKEY_LEN + 1], api_secret[PARLEY_API_SECRET_LEN + 1];
    REQUIRE(parley_id_secret(secret) == 0 && parley_id_apikey(apikey) == 0 &&
            parley_id_api_secret(api_secret) == 0);
    CHECK(strlen(secret) == PARLEY_SECRET_LEN && strspn(secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == PARLEY_SECRET_LEN);
    CHECK(strlen(apikey) == 36 && apikey[8] == '-' && apikey[14] == '4');
    CHECK(strlen(api_secret) == 64 && strspn(api_secret, "0123456789abcdef") == 64);
    /* 200 room ids use the whole alphabet and never repeat. */
    char seen[256] = {0};
    char ids[200][PARLEY_ROOM_ID_LEN + 1];
    bool unique = true;
    for (int i = 0; i < 200; i++) {
        REQUIRE(parley_id_room(ids[i]) == 0);
        for (int k = 0; k < PARLEY_ROOM_ID_LEN; k++)
            seen[(unsigned char)ids[i][k]] = 1;
        for (int j = 0; j < i; j++)
            if (!strcmp(ids[i], ids[j]))
                unique = false;
    }
    CHECK(unique && seen['a'] && seen['z'] && seen['0'] && seen['9']);

    char iso[PARLEY_ISO_TIME_LEN + 1];
    CHECK(!strcmp(parley_iso_time(0, iso), "1970-01-01T00:00:00.000Z"));
    CHECK(!strcmp(parley_iso_time(1700000000123, iso), "2023-11-14T22:13:20.123Z"));
    int64_t ms;
    CHECK(parley_iso_time_parse("2023-11-14T22:13:20.123Z", &ms) && ms == 1700000000123);
    CHECK(parley_iso_time_parse("2023-11-14T23:13:20+01:00", &ms) && ms == 1700000000000);
    CHECK(!parley_iso_time_parse("2023-11-14 22:13:20Z", &ms) && !parley_iso_time_parse("", &ms));
    CHECK(!parley_iso_time_parse("2023-13-14T22:13:20Z", &ms));
    int64_t now = parley_now_ms();
    CHECK(now > 1700000000000);
}

int main(void)
{
    if (!mkdtemp(tmp_base)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(open_creates_directory_wal_and_schema);
    RUN(unwritable_paths_fail_cleanly);
    RUN(newer_schema_is_refused);
    RUN(organisations);
    RUN(api_keys);
    RUN(rooms_create_lookup_and_custom_id_idempotence);
    RUN(room_settings_from_json);
    RUN(room_list_pagination);
    RUN(sessions_participants_and_timelogs);
    RUN(error_history_filters_and_pages);
    RUN(second_connection_sees_changes_and_waits_for_locks);
    RUN(ids_and_times);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp_base);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmp_base);
    return tap_done();
}
