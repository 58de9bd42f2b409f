/* store.c - the store's handle: opening, the schema and its migrations,
 * shared helpers and pagination.
 *
 * Migrations are a list of SQL scripts; migration i takes the schema from
 * version i to i + 1 and runs in one transaction together with the new
 * PRAGMA user_version, so a crash halfway leaves the old version intact. A
 * database written by a newer build is refused rather than guessed at. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store_int.h"

static const char *const migrations[] = {
    /* 0 -> 1 */
    "CREATE TABLE orgs ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  state TEXT NOT NULL DEFAULT 'active'"
    "    CHECK (state IN ('active', 'deactivated', 'discontinued')),"
    "  message TEXT NOT NULL DEFAULT '',"
    "  addons INTEGER NOT NULL DEFAULT 1,"
    "  max_speakers INTEGER NOT NULL DEFAULT 0,"
    "  max_viewers INTEGER NOT NULL DEFAULT 0,"
    "  max_recordings INTEGER NOT NULL DEFAULT 0,"
    "  max_hls INTEGER NOT NULL DEFAULT 0,"
    "  max_livestreams INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE TABLE api_keys ("
    "  apikey TEXT PRIMARY KEY,"
    "  secret TEXT NOT NULL,"
    "  org_id INTEGER NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,"
    "  room_id TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX api_keys_org ON api_keys(org_id, created_at);"
    "CREATE TABLE rooms ("
    "  id TEXT PRIMARY KEY,"
    "  room_id TEXT NOT NULL UNIQUE,"
    "  custom_room_id TEXT,"
    "  org_id INTEGER NOT NULL REFERENCES orgs(id),"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  settings TEXT NOT NULL DEFAULT '{}',"
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  UNIQUE (org_id, custom_room_id));"
    "CREATE INDEX rooms_org ON rooms(org_id, created_at);"
    "CREATE TABLE sessions ("
    "  id TEXT PRIMARY KEY,"
    "  room_id TEXT NOT NULL REFERENCES rooms(room_id),"
    "  org_id INTEGER NOT NULL,"
    "  start_at INTEGER NOT NULL,"
    "  end_at INTEGER);"
    "CREATE INDEX sessions_room ON sessions(room_id, start_at);"
    "CREATE INDEX sessions_org ON sessions(org_id, start_at);"
    "CREATE INDEX sessions_ongoing ON sessions(end_at) WHERE end_at IS NULL;"
    "CREATE TABLE participants ("
    "  session_id TEXT NOT NULL REFERENCES sessions(id),"
    "  participant_id TEXT NOT NULL,"
    "  name TEXT NOT NULL DEFAULT '',"
    "  first_seen INTEGER NOT NULL,"
    "  PRIMARY KEY (session_id, participant_id));"
    "CREATE TABLE timelogs ("
    "  id INTEGER PRIMARY KEY,"
    "  session_id TEXT NOT NULL,"
    "  participant_id TEXT NOT NULL,"
    "  start_at INTEGER NOT NULL,"
    "  end_at INTEGER,"
    "  FOREIGN KEY (session_id, participant_id)"
    "    REFERENCES participants(session_id, participant_id));"
    "CREATE INDEX timelogs_participant ON timelogs(session_id, participant_id, start_at);"
    "CREATE TABLE errors ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  code INTEGER NOT NULL,"
    "  name TEXT NOT NULL DEFAULT '',"
    "  message TEXT NOT NULL DEFAULT '',"
    "  org_id INTEGER NOT NULL DEFAULT 0,"
    "  room_id TEXT NOT NULL DEFAULT '',"
    "  session_id TEXT NOT NULL DEFAULT '',"
    "  participant_id TEXT NOT NULL DEFAULT '',"
    "  request_id TEXT NOT NULL DEFAULT '',"
    "  at INTEGER NOT NULL);"
    "CREATE INDEX errors_room ON errors(room_id, seq);"
    "CREATE INDEX errors_session ON errors(session_id, seq);"
    "CREATE INDEX errors_code ON errors(code, seq);",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

int parley_store_schema_version(void) { return SCHEMA_VERSION; }

/* ---- shared helpers ---------------------------------------------------- */

int store_fail(parley_store *st, int status, const char *fmt, ...)
{
    if (st) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(st->err, sizeof(st->err), fmt, ap);
        va_end(ap);
    }
    return status;
}

int store_db_fail(parley_store *st, const char *what)
{
    int code = sqlite3_errcode(st->db);
    int status = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? PARLEY_STORE_BUSY
                                                                 : PARLEY_STORE_ERROR;
    return store_fail(st, status, "%s: %s", what, sqlite3_errmsg(st->db));
}

void store_ok(parley_store *st)
{
    if (st)
        st->err[0] = '\0';
}

int store_prepare(parley_store *st, sqlite3_stmt **stmt, const char *sql)
{
    *stmt = NULL;
    bool kept = false; /* a statement for this text is kept (and in use) */
    for (int i = 0; i < st->ncached; i++) {
        store_cached *c = &st->cache[i];
        if (strcmp(c->sql, sql))
            continue;
        kept = true;
        if (c->busy)
            break;
        c->busy = true;
        *stmt = c->stmt;
        return PARLEY_STORE_OK;
    }
    bool keep = !kept && st->ncached < STORE_STMT_CACHE;
    if (sqlite3_prepare_v3(st->db, sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, stmt, NULL) !=
        SQLITE_OK) {
        int rc = store_db_fail(st, "preparing a query");
        sqlite3_finalize(*stmt);
        *stmt = NULL;
        return rc;
    }
    char *copy = keep ? strdup(sql) : NULL;
    if (copy) {
        st->cache[st->ncached++] = (store_cached){.sql = copy, .stmt = *stmt, .busy = true};
    }
    return PARLEY_STORE_OK;
}

void store_finalize(parley_store *st, sqlite3_stmt *stmt)
{
    if (!stmt)
        return;
    for (int i = 0; i < st->ncached; i++) {
        if (st->cache[i].stmt != stmt)
            continue;
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        st->cache[i].busy = false;
        return;
    }
    sqlite3_finalize(stmt);
}

void store_cache_clear(parley_store *st)
{
    for (int i = 0; i < st->ncached; i++) {
        sqlite3_finalize(st->cache[i].stmt);
        free(st->cache[i].sql);
    }
    st->ncached = 0;
}

int store_exec_stmt(parley_store *st, sqlite3_stmt *stmt, const char *what)
{
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        ;
    return rc == SQLITE_DONE ? PARLEY_STORE_OK : store_db_fail(st, what);
}

int store_exec(parley_store *st, const char *sql, const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        int code = sqlite3_errcode(st->db);
        int status = (code == SQLITE_BUSY || code == SQLITE_LOCKED) ? PARLEY_STORE_BUSY
                                                                     : PARLEY_STORE_ERROR;
        store_fail(st, status, "%s: %s", what, msg ? msg : sqlite3_errmsg(st->db));
        sqlite3_free(msg);
        return status;
    }
    return PARLEY_STORE_OK;
}

int store_begin(parley_store *st) { return store_exec(st, "BEGIN IMMEDIATE", "starting a transaction"); }

int store_commit(parley_store *st)
{
    int rc = store_exec(st, "COMMIT", "committing");
    if (rc)
        store_rollback(st);
    return rc;
}

void store_rollback(parley_store *st)
{
    if (!sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

void store_bind_text(sqlite3_stmt *stmt, int idx, const char *text)
{
    if (text)
        sqlite3_bind_text(stmt, idx, text, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(stmt, idx);
}

void store_copy(char *dst, size_t cap, const char *text)
{
    if (!cap)
        return;
    size_t n = text ? strlen(text) : 0;
    if (n >= cap)
        n = cap - 1;
    if (n)
        memcpy(dst, text, n);
    dst[n] = '\0';
}

void store_col_text(sqlite3_stmt *stmt, int col, char *dst, size_t cap)
{
    store_copy(dst, cap, (const char *)sqlite3_column_text(stmt, col));
}

bool store_text_ok(const char *text, size_t max, bool allow_empty)
{
    if (!text)
        return allow_empty;
    size_t n = strlen(text);
    if (n > max || (!allow_empty && n == 0))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 || c == 0x7f)
            return false;
    }
    json_t *utf8 = json_string(text); /* NULL unless valid UTF-8 */
    json_decref(utf8);
    return utf8 != NULL;
}

json_t *store_time_json(int64_t ms)
{
    char iso[PARLEY_ISO_TIME_LEN + 1];
    return json_string(parley_iso_time(ms, iso));
}

json_t *store_str_or_null(const char *text)
{
    if (!text || !*text)
        return json_null();
    json_t *s = json_string(text);
    return s ? s : json_null();
}

/* Collect every row of stmt into a growing array of records of size elem. */
int store_collect(parley_store *st, sqlite3_stmt *stmt, size_t elem,
                   void (*read)(sqlite3_stmt *, void *), void **out, size_t *count,
                   const char *what)
{
    char *arr = NULL;
    size_t n = 0, cap = 0;
    int step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            char *grown = realloc(arr, ncap * elem);
            if (!grown) {
                free(arr);
                return store_fail(st, PARLEY_STORE_ERROR, "%s: out of memory", what);
            }
            arr = grown;
            cap = ncap;
        }
        read(stmt, arr + n * elem);
        n++;
    }
    if (step != SQLITE_DONE) {
        free(arr);
        return store_db_fail(st, what);
    }
    *out = arr;
    *count = n;
    return PARLEY_STORE_OK;
}

/* ---- pagination -------------------------------------------------------- */

/* Pages beyond this would overflow offsets; nobody has that many rows. */
#define PAGE_LIMIT 1000000000LL

int store_page_check(parley_store *st, parley_page *page)
{
    if (page->page == 0)
        page->page = 1;
    if (page->per_page == 0)
        page->per_page = PARLEY_PAGE_DEFAULT;
    if (page->page < 1 || page->page > PAGE_LIMIT)
        return store_fail(st, PARLEY_STORE_INVALID, "page must be between 1 and %lld", PAGE_LIMIT);
    if (page->per_page < 1 || page->per_page > PARLEY_PAGE_MAX)
        return store_fail(st, PARLEY_STORE_INVALID, "perPage must be between 1 and %d",
                          PARLEY_PAGE_MAX);
    return PARLEY_STORE_OK;
}

static bool parse_whole(const char *text, int64_t min, int64_t max, int64_t *out)
{
    if (!text || !*text || strlen(text) > 12)
        return false;
    int64_t v = 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (*p - '0');
    }
    if (v < min || v > max)
        return false;
    *out = v;
    return true;
}

int parley_page_parse(const char *page, const char *per_page, parley_page *out, char *err,
                      size_t errlen)
{
    parley_page p = {1, PARLEY_PAGE_DEFAULT};
    if (page && !parse_whole(page, 1, PAGE_LIMIT, &p.page)) {
        if (err && errlen)
            snprintf(err, errlen, "page must be a whole number from 1");
        return PARLEY_STORE_INVALID;
    }
    if (per_page && !parse_whole(per_page, 1, PARLEY_PAGE_MAX, &p.per_page)) {
        if (err && errlen)
            snprintf(err, errlen, "perPage must be a whole number from 1 to %d", PARLEY_PAGE_MAX);
        return PARLEY_STORE_INVALID;
    }
    *out = p;
    return PARLEY_STORE_OK;
}

json_t *parley_page_info_json(parley_page page, int64_t total)
{
    int64_t per = page.per_page > 0 ? page.per_page : PARLEY_PAGE_DEFAULT;
    int64_t cur = page.page > 0 ? page.page : 1;
    int64_t last = total > 0 ? (total + per - 1) / per : 1;
    return json_pack("{s:I, s:I, s:I, s:I}", "currentPage", (json_int_t)cur, "perPage",
                     (json_int_t)per, "lastPage", (json_int_t)last, "total", (json_int_t)total);
}

json_t *parley_page_json(parley_page page, int64_t total, json_t *data)
{
    return json_pack("{s:o, s:o}", "pageInfo", parley_page_info_json(page, total), "data",
                     data ? data : json_array());
}

/* ---- the handle -------------------------------------------------------- */

const char *parley_store_status_name(int status)
{
    switch (status) {
    case PARLEY_STORE_OK: return "ok";
    case PARLEY_STORE_ERROR: return "store failure";
    case PARLEY_STORE_NOT_FOUND: return "not found";
    case PARLEY_STORE_EXISTS: return "already exists";
    case PARLEY_STORE_INVALID: return "invalid argument";
    case PARLEY_STORE_BUSY: return "store busy";
    default: return "unknown status";
    }
}

const char *parley_store_errmsg(const parley_store *st) { return st ? st->err : "no store"; }

const char *parley_store_path(const parley_store *st) { return st ? st->path : ""; }

/* mkdir -p, mode 0750 for what it creates. */
static int make_dirs(const char *dir, char *err, size_t errlen)
{
    char buf[PATH_MAX];
    size_t n = strlen(dir);
    if (n >= sizeof(buf)) {
        snprintf(err, errlen, "data directory path is too long");
        return -1;
    }
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        char saved = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0750) != 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create %s: %s", buf, strerror(errno));
            return -1;
        }
        buf[i] = saved;
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "%s is not a directory", dir);
        return -1;
    }
    return 0;
}

static int read_user_version(parley_store *st, int *version)
{
    sqlite3_stmt *stmt;
    int rc = store_prepare(st, &stmt, "PRAGMA user_version");
    if (rc)
        return rc;
    if (sqlite3_step(stmt) != SQLITE_ROW) {
        rc = store_db_fail(st, "reading the schema version");
        store_finalize(st, stmt);
        return rc;
    }
    *version = sqlite3_column_int(stmt, 0);
    store_finalize(st, stmt);
    return PARLEY_STORE_OK;
}

static int migrate(parley_store *st)
{
    int version = 0;
    int rc = store_begin(st);
    if (rc)
        return rc;
    rc = read_user_version(st, &version);
    if (rc)
        goto fail;
    if (version > SCHEMA_VERSION) {
        rc = store_fail(st, PARLEY_STORE_ERROR,
                        "%s has schema version %d, newer than this build's %d; upgrade Parley",
                        st->path, version, SCHEMA_VERSION);
        goto fail;
    }
    for (; version < SCHEMA_VERSION; version++) {
        char what[64], pragma[64];
        snprintf(what, sizeof(what), "migrating the schema to version %d", version + 1);
        rc = store_exec(st, migrations[version], what);
        if (rc)
            goto fail;
        snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version + 1);
        rc = store_exec(st, pragma, what);
        if (rc)
            goto fail;
    }
    return store_commit(st);
fail:
    store_rollback(st);
    return rc;
}

static int configure(parley_store *st)
{
    sqlite3_busy_timeout(st->db, 5000);
    sqlite3_extended_result_codes(st->db, 0);
    sqlite3_stmt *stmt;
    int rc = store_prepare(st, &stmt, "PRAGMA journal_mode = WAL");
    if (rc)
        return rc;
    if (sqlite3_step(stmt) != SQLITE_ROW) {
        rc = store_db_fail(st, "switching to WAL mode");
        store_finalize(st, stmt);
        return rc;
    }
    const char *mode = (const char *)sqlite3_column_text(stmt, 0);
    if (!mode || strcmp(mode, "wal") != 0)
        rc = store_fail(st, PARLEY_STORE_ERROR, "%s: WAL mode unavailable (journal mode %s)",
                        st->path, mode ? mode : "?");
    store_finalize(st, stmt);
    if (rc)
        return rc;
    rc = store_exec(st, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL",
                    "configuring the database");
    return rc ? rc : migrate(st);
}

int parley_store_open(const char *data_dir, parley_store **out, char *err, size_t errlen)
{
    char scratch[512];
    if (!err || !errlen) {
        err = scratch;
        errlen = sizeof(scratch);
    }
    err[0] = '\0';
    if (!out)
        return PARLEY_STORE_INVALID;
    *out = NULL;
    if (!data_dir || !*data_dir) {
        snprintf(err, errlen, "no data directory given");
        return PARLEY_STORE_INVALID;
    }
    if (make_dirs(data_dir, err, errlen))
        return PARLEY_STORE_ERROR;

    parley_store *st = calloc(1, sizeof(*st));
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return PARLEY_STORE_ERROR;
    }
    int n = snprintf(st->path, sizeof(st->path), "%s/%s", data_dir, PARLEY_STORE_FILE);
    if (n < 0 || (size_t)n >= sizeof(st->path)) {
        snprintf(err, errlen, "data directory path is too long");
        free(st);
        return PARLEY_STORE_INVALID;
    }
    int rc = PARLEY_STORE_OK;
    if (sqlite3_open_v2(st->path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                        NULL) != SQLITE_OK) {
        rc = st->db ? store_db_fail(st, "opening the database")
                    : store_fail(st, PARLEY_STORE_ERROR, "opening the database: out of memory");
        snprintf(err, errlen, "%s (%s)", st->err, st->path);
    } else if ((rc = configure(st)) != PARLEY_STORE_OK) {
        snprintf(err, errlen, "%s (%s)", st->err, st->path);
    }
    if (rc) {
        store_cache_clear(st);
        sqlite3_close(st->db);
        free(st);
        return rc;
    }
    store_ok(st);
    *out = st;
    return PARLEY_STORE_OK;
}

void parley_store_close(parley_store *st)
{
    if (!st)
        return;
    store_cache_clear(st);
    sqlite3_close(st->db);
    free(st);
}
