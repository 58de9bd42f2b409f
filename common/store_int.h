/* store_int.h - what the store_*.c files share; not for use outside common/.
 *
 * The store is split by table family (store.c: the handle, schema and
 * pagination; store_orgs.c: organisations and keys; store_rooms.c;
 * store_sessions.c; store_errors.c). Every function that fails goes through
 * store_fail / store_db_fail, which write the handle's message and return the
 * status, so a caller never sees a failure without a reason. */
#ifndef PARLEY_COMMON_STORE_INT_H
#define PARLEY_COMMON_STORE_INT_H

#include <limits.h>
#include <stdbool.h>
#include <sqlite3.h>

#include "store.h"

/* Statements are prepared once per SQL text and kept (store_prepare /
 * store_finalize), so a hot query is not parsed and planned on every call. */
#define STORE_STMT_CACHE 64

typedef struct store_cached {
    char *sql;          /* the statement's text (owned) */
    sqlite3_stmt *stmt;
    bool busy;          /* handed out, not yet given back */
} store_cached;

struct parley_store {
    sqlite3 *db;
    char path[PATH_MAX];
    char err[512];
    store_cached cache[STORE_STMT_CACHE];
    int ncached;
};

/* Set the handle's message and return status. */
int store_fail(parley_store *st, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same for a failed SQLite call: "what: sqlite's message"; BUSY for a
 * lock held past the timeout, ERROR otherwise. */
int store_db_fail(parley_store *st, const char *what);
/* Clear the message (the start of every public call). */
void store_ok(parley_store *st);

/* Prepare sql (or take the kept statement for the same text); on failure
 * return the status with the message set. Give it back with store_finalize. */
int store_prepare(parley_store *st, sqlite3_stmt **stmt, const char *sql);
/* Give back a statement from store_prepare: a kept one is reset for its next
 * use, any other finalized. NULL is fine. */
void store_finalize(parley_store *st, sqlite3_stmt *stmt);
/* Finalize every kept statement (before closing the database). */
void store_cache_clear(parley_store *st);
/* Step a statement that returns no row (or whose rows are ignored). */
int store_exec_stmt(parley_store *st, sqlite3_stmt *stmt, const char *what);
/* Run literal SQL without results. */
int store_exec(parley_store *st, const char *sql, const char *what);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK (rollback never fails loudly). */
int store_begin(parley_store *st);
int store_commit(parley_store *st);
void store_rollback(parley_store *st);

/* Collect every row of stmt into one malloc'd array of records of size
 * elem, each filled by read. */
int store_collect(parley_store *st, sqlite3_stmt *stmt, size_t elem,
                  void (*read)(sqlite3_stmt *, void *), void **out, size_t *count,
                  const char *what);
/* Bind text (copied by SQLite); NULL binds SQL NULL. */
void store_bind_text(sqlite3_stmt *stmt, int idx, const char *text);
/* Copy column col (NULL gives "") into dst of capacity cap, truncating. */
void store_col_text(sqlite3_stmt *stmt, int col, char *dst, size_t cap);
/* Copy text into dst of capacity cap, truncating; NULL gives "". */
void store_copy(char *dst, size_t cap, const char *text);

/* UTF-8 text of 1..max bytes (0..max when allow_empty) without control
 * characters. */
bool store_text_ok(const char *text, size_t max, bool allow_empty);
/* Resolve the 0-defaults of a page and check its range (INVALID otherwise). */
int store_page_check(parley_store *st, parley_page *page);
/* ISO 8601 JSON string of a time in ms. */
json_t *store_time_json(int64_t ms);
/* A JSON string, or null for NULL / "". */
json_t *store_str_or_null(const char *text);

#endif
