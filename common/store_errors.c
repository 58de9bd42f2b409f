/* store_errors.c - the error history: every error event the server emits.
 *
 * Records are append-only and numbered by an increasing seq, which is also
 * their order in listings (newest first). A record added without a name or
 * message takes the catalog's, so the history always reads like the events
 * the clients received. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/errors.h>

#include "store_int.h"

#define ERROR_COLUMNS \
    "seq, code, name, message, org_id, room_id, session_id, participant_id, request_id, at"

static void read_error(sqlite3_stmt *stmt, void *dst)
{
    parley_error_record *r = dst;
    memset(r, 0, sizeof(*r));
    r->seq = sqlite3_column_int64(stmt, 0);
    r->code = sqlite3_column_int(stmt, 1);
    store_col_text(stmt, 2, r->name, sizeof(r->name));
    store_col_text(stmt, 3, r->message, sizeof(r->message));
    r->org_id = sqlite3_column_int64(stmt, 4);
    store_col_text(stmt, 5, r->room_id, sizeof(r->room_id));
    store_col_text(stmt, 6, r->session_id, sizeof(r->session_id));
    store_col_text(stmt, 7, r->participant_id, sizeof(r->participant_id));
    store_col_text(stmt, 8, r->request_id, sizeof(r->request_id));
    r->at = sqlite3_column_int64(stmt, 9);
}

/* Text fields of a record as stored: truncated (a character cut in half by
 * the truncation is dropped), and "" when still not clean UTF-8 text. */
static void clean(char *text, size_t cap)
{
    text[cap - 1] = '\0';
    for (int k = 0; k < 4 && !store_text_ok(text, cap - 1, true); k++) {
        size_t n = strlen(text);
        if (!n || !(text[n - 1] & 0x80))
            break;
        text[n - 1] = '\0';
    }
    if (!store_text_ok(text, cap - 1, true))
        text[0] = '\0';
}

int parley_store_error_add(parley_store *st, parley_error_record *rec)
{
    store_ok(st);
    if (!rec)
        return store_fail(st, PARLEY_STORE_INVALID, "no error record");
    const parley_error_info *info = parley_error_lookup(rec->code, PARLEY_PROFILE_ALL);
    if (!info)
        info = parley_error_lookup(rec->code, PARLEY_PROFILE_NATIVE);
    clean(rec->name, sizeof(rec->name));
    clean(rec->message, sizeof(rec->message));
    clean(rec->room_id, sizeof(rec->room_id));
    clean(rec->session_id, sizeof(rec->session_id));
    clean(rec->participant_id, sizeof(rec->participant_id));
    clean(rec->request_id, sizeof(rec->request_id));
    if (!rec->name[0] && info)
        store_copy(rec->name, sizeof(rec->name), info->name);
    if (!rec->message[0] && info)
        store_copy(rec->message, sizeof(rec->message), info->message);
    if (rec->at <= 0)
        rec->at = parley_now_ms();

    sqlite3_stmt *stmt;
    int rc = store_prepare(st, &stmt,
                           "INSERT INTO errors (code, name, message, org_id, room_id, session_id,"
                           " participant_id, request_id, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
    if (rc)
        return rc;
    sqlite3_bind_int(stmt, 1, rec->code);
    store_bind_text(stmt, 2, rec->name);
    store_bind_text(stmt, 3, rec->message);
    sqlite3_bind_int64(stmt, 4, rec->org_id);
    store_bind_text(stmt, 5, rec->room_id);
    store_bind_text(stmt, 6, rec->session_id);
    store_bind_text(stmt, 7, rec->participant_id);
    store_bind_text(stmt, 8, rec->request_id);
    sqlite3_bind_int64(stmt, 9, rec->at);
    rc = store_exec_stmt(st, stmt, "recording an error");
    if (!rc)
        rec->seq = sqlite3_last_insert_rowid(st->db);
    store_finalize(st, stmt);
    return rc;
}

#define ERROR_WHERE                                                              \
    " WHERE (?1 = 0 OR org_id = ?1) AND (?2 IS NULL OR room_id = ?2)"            \
    " AND (?3 IS NULL OR session_id = ?3) AND (?4 = 0 OR code = ?5)"

static void bind_filter(sqlite3_stmt *stmt, const parley_error_filter *f)
{
    sqlite3_bind_int64(stmt, 1, f->org_id);
    store_bind_text(stmt, 2, f->room_id);
    store_bind_text(stmt, 3, f->session_id);
    sqlite3_bind_int(stmt, 4, f->has_code);
    sqlite3_bind_int(stmt, 5, f->code);
}

int parley_store_error_list(parley_store *st, const parley_error_filter *filter, parley_page page,
                            parley_error_record **out, size_t *count, int64_t *total)
{
    store_ok(st);
    if (!out || !count || !total)
        return store_fail(st, PARLEY_STORE_INVALID, "no output for the list");
    *out = NULL;
    *count = 0;
    *total = 0;
    parley_error_filter all = {0};
    if (!filter)
        filter = &all;
    int rc = store_page_check(st, &page);
    if (rc)
        return rc;
    sqlite3_stmt *stmt;
    rc = store_prepare(st, &stmt, "SELECT COUNT(*) FROM errors" ERROR_WHERE);
    if (rc)
        return rc;
    bind_filter(stmt, filter);
    if (sqlite3_step(stmt) == SQLITE_ROW)
        *total = sqlite3_column_int64(stmt, 0);
    else
        rc = store_db_fail(st, "counting errors");
    store_finalize(st, stmt);
    if (rc)
        return rc;
    rc = store_prepare(st, &stmt,
                       "SELECT " ERROR_COLUMNS " FROM errors" ERROR_WHERE
                       " ORDER BY seq DESC LIMIT ?6 OFFSET ?7");
    if (rc)
        return rc;
    bind_filter(stmt, filter);
    sqlite3_bind_int64(stmt, 6, page.per_page);
    sqlite3_bind_int64(stmt, 7, (page.page - 1) * page.per_page);
    void *arr = NULL;
    rc = store_collect(st, stmt, sizeof(parley_error_record), read_error, &arr, count,
                       "listing errors");
    store_finalize(st, stmt);
    *out = arr;
    return rc;
}

json_t *parley_error_record_json(const parley_error_record *r)
{
    return json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "code", r->code, "name",
                     store_str_or_null(r->name), "message", store_str_or_null(r->message),
                     "roomId", store_str_or_null(r->room_id), "sessionId",
                     store_str_or_null(r->session_id), "participantId",
                     store_str_or_null(r->participant_id), "requestId",
                     store_str_or_null(r->request_id), "at", store_time_json(r->at));
}

int parley_store_error_list_json(parley_store *st, const parley_error_filter *filter,
                                 parley_page page, json_t **out)
{
    parley_error_record *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    *out = NULL;
    int rc = parley_store_error_list(st, filter, page, &list, &n, &total);
    if (rc)
        return rc;
    store_page_check(st, &page);
    json_t *data = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(data, parley_error_record_json(&list[i]));
    free(list);
    *out = parley_page_json(page, total, data);
    return *out ? PARLEY_STORE_OK : store_fail(st, PARLEY_STORE_ERROR, "out of memory");
}
