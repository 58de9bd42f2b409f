/* store_sessions.c - sessions of rooms, their participants and timelogs.
 *
 * A session is one continuous use of a room, from its first join until it
 * ends. A participant appears once per session with its latest name; each of
 * its joins opens a timelog entry {start, end} that its leave (or the end of
 * the session) closes. Writes that touch several rows run in one
 * transaction, so a reader never sees a participant without its entry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

#define SESSION_COLUMNS "id, room_id, org_id, start_at, end_at"

static void read_session(sqlite3_stmt *stmt, void *dst)
{
    parley_session *s = dst;
    memset(s, 0, sizeof(*s));
    store_col_text(stmt, 0, s->id, sizeof(s->id));
    store_col_text(stmt, 1, s->room_id, sizeof(s->room_id));
    s->org_id = sqlite3_column_int64(stmt, 2);
    s->start = sqlite3_column_int64(stmt, 3);
    s->ongoing = sqlite3_column_type(stmt, 4) == SQLITE_NULL;
    s->end = s->ongoing ? 0 : sqlite3_column_int64(stmt, 4);
}

static int64_t when(int64_t at) { return at > 0 ? at : parley_now_ms(); }

/* One session from a query with ?1 text and ?2 integer parameters (an unused
 * one is ignored). */
static int one_session(parley_store *st, const char *sql, const char *text, int64_t num,
                       parley_session *out, const char *missing)
{
    sqlite3_stmt *stmt;
    int rc = store_prepare(st, &stmt, sql);
    if (rc)
        return rc;
    store_bind_text(stmt, 1, text);
    sqlite3_bind_int64(stmt, 2, num);
    int step = sqlite3_step(stmt);
    if (step == SQLITE_ROW) {
        parley_session tmp;
        read_session(stmt, &tmp);
        if (out)
            *out = tmp;
    } else if (step == SQLITE_DONE) {
        rc = store_fail(st, PARLEY_STORE_NOT_FOUND, "%s", missing);
    } else {
        rc = store_db_fail(st, "reading a session");
    }
    store_finalize(st, stmt);
    return rc;
}

int parley_store_session_get(parley_store *st, int64_t org_id, const char *session_id,
                             parley_session *out)
{
    store_ok(st);
    if (!parley_hex24_valid(session_id))
        return store_fail(st, PARLEY_STORE_NOT_FOUND, "unknown session");
    return one_session(st,
                       "SELECT " SESSION_COLUMNS " FROM sessions WHERE id = ?1 AND (?2 = 0 OR org_id = ?2)",
                       session_id, org_id, out, "unknown session");
}

int parley_store_session_current(parley_store *st, const char *room_id, parley_session *out)
{
    store_ok(st);
    if (!room_id)
        return store_fail(st, PARLEY_STORE_NOT_FOUND, "no ongoing session");
    return one_session(st,
                       "SELECT " SESSION_COLUMNS " FROM sessions WHERE room_id = ?1 AND end_at IS NULL"
                       " ORDER BY start_at DESC, rowid DESC LIMIT 1",
                       room_id, 0, out, "no ongoing session");
}

int parley_store_session_start(parley_store *st, const char *room_id, int64_t at,
                               parley_session *out)
{
    store_ok(st);
    parley_room room;
    int rc = parley_store_room_get(st, 0, room_id, &room);
    if (rc)
        return rc;
    for (int attempt = 0; attempt < 3; attempt++) {
        char id[PARLEY_HEX_ID_LEN + 1];
        if (parley_id_hex24(id))
            return store_fail(st, PARLEY_STORE_ERROR, "the random source failed");
        sqlite3_stmt *stmt;
        rc = store_prepare(st, &stmt,
                           "INSERT INTO sessions (id, room_id, org_id, start_at) VALUES (?1, ?2, ?3, ?4)");
        if (rc)
            return rc;
        store_bind_text(stmt, 1, id);
        store_bind_text(stmt, 2, room.room_id);
        sqlite3_bind_int64(stmt, 3, room.org_id);
        sqlite3_bind_int64(stmt, 4, when(at));
        int step = sqlite3_step(stmt);
        if (step != SQLITE_DONE && step != SQLITE_CONSTRAINT)
            rc = store_db_fail(st, "starting a session");
        store_finalize(st, stmt);
        if (step == SQLITE_CONSTRAINT)
            continue; /* an id collision: draw again */
        if (rc)
            return rc;
        return parley_store_session_get(st, 0, id, out);
    }
    return store_fail(st, PARLEY_STORE_ERROR, "could not find a free session id");
}

/* Close open timelogs and sessions matching the WHERE clause, which uses
 * ?2 for a session id (or ignores it). */
static int end_where(parley_store *st, const char *session_id, int64_t at, int *ended)
{
    int rc = store_begin(st);
    if (rc)
        return rc;
    sqlite3_stmt *stmt;
    rc = store_prepare(st, &stmt,
                       "UPDATE timelogs SET end_at = MAX(?1, start_at) WHERE end_at IS NULL"
                       " AND (?2 IS NULL OR session_id = ?2)");
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, at);
        store_bind_text(stmt, 2, session_id);
        rc = store_exec_stmt(st, stmt, "closing timelogs");
        store_finalize(st, stmt);
    }
    if (!rc)
        rc = store_prepare(st, &stmt,
                           "UPDATE sessions SET end_at = MAX(?1, start_at) WHERE end_at IS NULL"
                           " AND (?2 IS NULL OR id = ?2)");
    if (!rc) {
        sqlite3_bind_int64(stmt, 1, at);
        store_bind_text(stmt, 2, session_id);
        rc = store_exec_stmt(st, stmt, "ending sessions");
        if (!rc && ended)
            *ended = sqlite3_changes(st->db);
        store_finalize(st, stmt);
    }
    if (rc) {
        store_rollback(st);
        return rc;
    }
    return store_commit(st);
}

int parley_store_session_end(parley_store *st, const char *session_id, int64_t at,
                             parley_session *out)
{
    store_ok(st);
    int rc = parley_store_session_get(st, 0, session_id, NULL);
    if (rc)
        return rc;
    rc = end_where(st, session_id, when(at), NULL);
    if (rc)
        return rc;
    return out ? parley_store_session_get(st, 0, session_id, out) : PARLEY_STORE_OK;
}

int parley_store_session_end_all(parley_store *st, int64_t at, int *ended)
{
    store_ok(st);
    if (ended)
        *ended = 0;
    return end_where(st, NULL, when(at), ended);
}

int parley_store_session_list(parley_store *st, int64_t org_id, const char *room_id,
                              parley_page page, parley_session **out, size_t *count,
                              int64_t *total)
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
    parley_room room;
    if (room_id) {
        rc = parley_store_room_get(st, org_id, room_id, &room);
        if (rc)
            return rc;
    }
    const char *where = " WHERE (?1 = 0 OR org_id = ?1) AND (?2 IS NULL OR room_id = ?2)";
    char sql[512];
    sqlite3_stmt *stmt;
    snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM sessions%s", where);
    rc = store_prepare(st, &stmt, sql);
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, org_id);
    store_bind_text(stmt, 2, room_id ? room.room_id : NULL);
    if (sqlite3_step(stmt) == SQLITE_ROW)
        *total = sqlite3_column_int64(stmt, 0);
    else
        rc = store_db_fail(st, "counting sessions");
    store_finalize(st, stmt);
    if (rc)
        return rc;
    snprintf(sql, sizeof(sql),
             "SELECT " SESSION_COLUMNS " FROM sessions%s ORDER BY start_at DESC, rowid DESC"
             " LIMIT ?3 OFFSET ?4", where);
    rc = store_prepare(st, &stmt, sql);
    if (rc)
        return rc;
    sqlite3_bind_int64(stmt, 1, org_id);
    store_bind_text(stmt, 2, room_id ? room.room_id : NULL);
    sqlite3_bind_int64(stmt, 3, page.per_page);
    sqlite3_bind_int64(stmt, 4, (page.page - 1) * page.per_page);
    void *arr = NULL;
    rc = store_collect(st, stmt, sizeof(parley_session), read_session, &arr, count,
                       "listing sessions");
    store_finalize(st, stmt);
    *out = arr;
    return rc;
}

/* ---- participants ------------------------------------------------------ */

static bool participant_ok(const char *id)
{
    return store_text_ok(id, PARLEY_PARTICIPANT_ID_MAX, false);
}

/* The session must exist and still be going on. */
static int need_ongoing(parley_store *st, const char *session_id)
{
    parley_session s;
    int rc = parley_store_session_get(st, 0, session_id, &s);
    if (rc)
        return rc;
    if (!s.ongoing)
        return store_fail(st, PARLEY_STORE_INVALID, "session %s has ended", session_id);
    return PARLEY_STORE_OK;
}

/* Run sql with ?1 session, ?2 participant, ?3 text, ?4 time; parameters a
 * statement does not use are left unbound (SQLite ignores them). */
static int run(parley_store *st, const char *sql, const char *session_id, const char *pid,
               const char *text, int64_t at, const char *what)
{
    sqlite3_stmt *stmt;
    int rc = store_prepare(st, &stmt, sql);
    if (rc)
        return rc;
    store_bind_text(stmt, 1, session_id);
    store_bind_text(stmt, 2, pid);
    store_bind_text(stmt, 3, text);
    sqlite3_bind_int64(stmt, 4, at);
    rc = store_exec_stmt(st, stmt, what);
    store_finalize(st, stmt);
    return rc;
}

int parley_store_participant_join(parley_store *st, const char *session_id,
                                  const char *participant_id, const char *name, int64_t at)
{
    store_ok(st);
    if (!participant_ok(participant_id))
        return store_fail(st, PARLEY_STORE_INVALID, "participant id must be 1-%d characters",
                          PARLEY_PARTICIPANT_ID_MAX);
    if (!name)
        name = "";
    char clipped[PARLEY_PARTICIPANT_NAME_MAX + 1];
    store_copy(clipped, sizeof(clipped), name);
    if (!store_text_ok(clipped, PARLEY_PARTICIPANT_NAME_MAX, true))
        return store_fail(st, PARLEY_STORE_INVALID, "participant name must be text");
    at = when(at);
    int rc = store_begin(st);
    if (rc)
        return rc;
    rc = need_ongoing(st, session_id);
    if (!rc)
        rc = run(st,
                 "INSERT INTO participants (session_id, participant_id, name, first_seen)"
                 " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (session_id, participant_id)"
                 " DO UPDATE SET name = excluded.name",
                 session_id, participant_id, clipped, at, "recording a participant");
    if (!rc)
        rc = run(st,
                 "UPDATE timelogs SET end_at = MAX(?4, start_at) WHERE session_id = ?1"
                 " AND participant_id = ?2 AND end_at IS NULL",
                 session_id, participant_id, NULL, at, "closing a timelog");
    if (!rc)
        rc = run(st,
                 "INSERT INTO timelogs (session_id, participant_id, start_at)"
                 " VALUES (?1, ?2, ?4)",
                 session_id, participant_id, NULL, at, "opening a timelog");
    if (rc) {
        store_rollback(st);
        return rc;
    }
    return store_commit(st);
}

int parley_store_participant_leave(parley_store *st, const char *session_id,
                                   const char *participant_id, int64_t at)
{
    store_ok(st);
    if (!participant_ok(participant_id))
        return store_fail(st, PARLEY_STORE_NOT_FOUND, "unknown participant");
    int rc = run(st,
                 "UPDATE timelogs SET end_at = MAX(?4, start_at) WHERE session_id = ?1"
                 " AND participant_id = ?2 AND end_at IS NULL",
                 session_id, participant_id, NULL, when(at), "closing a timelog");
    if (rc)
        return rc;
    if (sqlite3_changes(st->db) == 0)
        return store_fail(st, PARLEY_STORE_NOT_FOUND, "participant %s is not in session %s",
                          participant_id, session_id ? session_id : "?");
    return PARLEY_STORE_OK;
}

/* ---- JSON -------------------------------------------------------------- */

static json_t *time_or_null(sqlite3_stmt *stmt, int col)
{
    if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
        return json_null();
    return store_time_json(sqlite3_column_int64(stmt, col));
}

/* Append the timelog of one participant to the array tl. */
static int add_timelog(parley_store *st, const char *session_id, const char *pid, json_t *tl)
{
    sqlite3_stmt *stmt;
    int rc = store_prepare(st, &stmt,
                           "SELECT start_at, end_at FROM timelogs WHERE session_id = ?1"
                           " AND participant_id = ?2 ORDER BY start_at, id");
    if (rc)
        return rc;
    store_bind_text(stmt, 1, session_id);
    store_bind_text(stmt, 2, pid);
    int step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW)
        json_array_append_new(tl, json_pack("{s:o, s:o}", "start", time_or_null(stmt, 0), "end",
                                            time_or_null(stmt, 1)));
    if (step != SQLITE_DONE)
        rc = store_db_fail(st, "reading timelogs");
    store_finalize(st, stmt);
    return rc;
}

/* Participants of a session as JSON objects, a page of them (or all when
 * limit is -1), optionally only those with an open entry. */
static int participants(parley_store *st, const char *session_id, int64_t limit, int64_t offset,
                        bool active_only, json_t **out, int64_t *total)
{
    static const char *const filter =
        " WHERE p.session_id = ?1 AND (?2 = 0 OR EXISTS (SELECT 1 FROM timelogs t"
        " WHERE t.session_id = p.session_id AND t.participant_id = p.participant_id"
        " AND t.end_at IS NULL))";
    char sql[640];
    sqlite3_stmt *stmt;
    int rc;
    *out = NULL;
    if (total) {
        snprintf(sql, sizeof(sql), "SELECT COUNT(*) FROM participants p%s", filter);
        rc = store_prepare(st, &stmt, sql);
        if (rc)
            return rc;
        store_bind_text(stmt, 1, session_id);
        sqlite3_bind_int(stmt, 2, active_only);
        if (sqlite3_step(stmt) == SQLITE_ROW)
            *total = sqlite3_column_int64(stmt, 0);
        else
            rc = store_db_fail(st, "counting participants");
        store_finalize(st, stmt);
        if (rc)
            return rc;
    }
    snprintf(sql, sizeof(sql),
             "SELECT p.participant_id, p.name FROM participants p%s"
             " ORDER BY p.first_seen, p.rowid LIMIT ?3 OFFSET ?4", filter);
    rc = store_prepare(st, &stmt, sql);
    if (rc)
        return rc;
    store_bind_text(stmt, 1, session_id);
    sqlite3_bind_int(stmt, 2, active_only);
    sqlite3_bind_int64(stmt, 3, limit);
    sqlite3_bind_int64(stmt, 4, offset);
    json_t *arr = json_array();
    int step;
    while ((step = sqlite3_step(stmt)) == SQLITE_ROW) {
        char pid[PARLEY_PARTICIPANT_ID_MAX + 1], name[PARLEY_PARTICIPANT_NAME_MAX + 1];
        store_col_text(stmt, 0, pid, sizeof(pid));
        store_col_text(stmt, 1, name, sizeof(name));
        json_t *tl = json_array();
        rc = add_timelog(st, session_id, pid, tl);
        if (rc) {
            json_decref(tl);
            break;
        }
        json_array_append_new(arr, json_pack("{s:s, s:o, s:o}", "participantId", pid, "name",
                                             store_str_or_null(name), "timelog", tl));
    }
    if (!rc && step != SQLITE_DONE)
        rc = store_db_fail(st, "reading participants");
    store_finalize(st, stmt);
    if (rc) {
        json_decref(arr);
        return rc;
    }
    *out = arr;
    return PARLEY_STORE_OK;
}

int parley_store_session_json(parley_store *st, const parley_session *s, json_t **out)
{
    store_ok(st);
    *out = NULL;
    json_t *parts = NULL;
    int rc = participants(st, s->id, -1, 0, false, &parts, NULL);
    if (rc)
        return rc;
    *out = json_pack("{s:s, s:s, s:o, s:o, s:s, s:o}", "id", s->id, "roomId", s->room_id, "start",
                     store_time_json(s->start), "end",
                     s->ongoing ? json_null() : store_time_json(s->end), "status",
                     s->ongoing ? "ongoing" : "ended", "participants", parts);
    return *out ? PARLEY_STORE_OK : store_fail(st, PARLEY_STORE_ERROR, "out of memory");
}

int parley_store_session_list_json(parley_store *st, int64_t org_id, const char *room_id,
                                   parley_page page, json_t **out)
{
    parley_session *list = NULL;
    size_t n = 0;
    int64_t total = 0;
    *out = NULL;
    int rc = parley_store_session_list(st, org_id, room_id, page, &list, &n, &total);
    if (rc)
        return rc;
    store_page_check(st, &page);
    json_t *data = json_array();
    for (size_t i = 0; i < n && !rc; i++) {
        json_t *one = NULL;
        rc = parley_store_session_json(st, &list[i], &one);
        if (!rc)
            json_array_append_new(data, one);
    }
    free(list);
    if (rc) {
        json_decref(data);
        return rc;
    }
    *out = parley_page_json(page, total, data);
    return *out ? PARLEY_STORE_OK : store_fail(st, PARLEY_STORE_ERROR, "out of memory");
}

int parley_store_participants_json(parley_store *st, const char *session_id, parley_page page,
                                   bool active_only, json_t **out)
{
    store_ok(st);
    *out = NULL;
    int rc = store_page_check(st, &page);
    if (rc)
        return rc;
    rc = parley_store_session_get(st, 0, session_id, NULL);
    if (rc)
        return rc;
    json_t *data = NULL;
    int64_t total = 0;
    rc = participants(st, session_id, page.per_page, (page.page - 1) * page.per_page, active_only,
                      &data, &total);
    if (rc)
        return rc;
    *out = parley_page_json(page, total, data);
    return *out ? PARLEY_STORE_OK : store_fail(st, PARLEY_STORE_ERROR, "out of memory");
}
