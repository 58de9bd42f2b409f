/* log.h - Parley's structured log: one JSON object per line.
 *
 * Every event that is worth a log line is written as a single line of JSON
 * to stderr (or the stream set with parley_log_set_stream), for example:
 *
 *   {"time":"2024-05-01T09:30:00.123Z","level":"warn","msg":"join refused",
 *    "requestId":"01HX...","roomId":"abcd-efgh-ijkl","participantId":"alice","code":4009}
 *
 * time, level and msg are always present; requestId, roomId, participantId,
 * code and any extra fields appear when given. A line is written with one
 * call under the stream's lock, so lines from several threads never mix.
 * Lines below the threshold (default info; PARLEY_LOG_LEVEL in the
 * environment may set it at the first log call) are dropped cheaply.
 *
 * Ownership: strings passed in are only read during the call. The `extra`
 * object of parley_log_json is taken over (stolen) by the call, whether the
 * line is written or not. All functions are thread-safe. */
#ifndef PARLEY_COMMON_LOG_H
#define PARLEY_COMMON_LOG_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

typedef enum parley_log_level {
    PARLEY_LOG_DEBUG = 0,
    PARLEY_LOG_INFO,
    PARLEY_LOG_WARN,
    PARLEY_LOG_ERROR,
    PARLEY_LOG_OFF, /* as a threshold only: write nothing */
} parley_log_level;

/* What a line is about; every field is optional (NULL / has_code false). */
typedef struct parley_log_ctx {
    const char *request_id;
    const char *room_id;
    const char *participant_id;
    const char *session_id;
    bool has_code;
    int code; /* a catalog code, PARLEY_ERR_* */
} parley_log_ctx;

/* The threshold: lines of a lower level are not written. */
void parley_log_set_level(parley_log_level level);
parley_log_level parley_log_get_level(void);
bool parley_log_enabled(parley_log_level level);

/* "debug", "info", "warn", "error", "off" and back; parse returns false for
 * an unknown name and leaves *out alone. */
const char *parley_log_level_name(parley_log_level level);
bool parley_log_level_parse(const char *text, parley_log_level *out);

/* Where lines go; NULL restores stderr. The stream is not closed by log. */
void parley_log_set_stream(FILE *stream);

/* Write one line; ctx may be NULL. msg is printf-formatted. */
void parley_log(parley_log_level level, const parley_log_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The same with extra fields: the members of the JSON object extra (stolen;
 * may be NULL) are added to the line after the standard ones. */
void parley_log_json(parley_log_level level, const parley_log_ctx *ctx, json_t *extra,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
