/* log.c - one JSON object per line, built with jansson.
 *
 * The threshold is an atomic so that parley_log_enabled() costs one load on
 * the hot path. The environment variable PARLEY_LOG_LEVEL is read once, at
 * the first call that needs the threshold, unless a level was set before. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "ids.h"

static const char *const level_names[] = {"debug", "info", "warn", "error", "off"};

/* -1: not yet decided (read the environment on first use). */
static atomic_int threshold = -1;
static FILE *_Atomic log_stream = NULL;

const char *parley_log_level_name(parley_log_level level)
{
    if ((int)level < 0 || level > PARLEY_LOG_OFF)
        return "?";
    return level_names[level];
}

bool parley_log_level_parse(const char *text, parley_log_level *out)
{
    if (!text)
        return false;
    for (int i = 0; i <= PARLEY_LOG_OFF; i++) {
        if (!strcmp(text, level_names[i])) {
            *out = (parley_log_level)i;
            return true;
        }
    }
    if (!strcmp(text, "warning")) {
        *out = PARLEY_LOG_WARN;
        return true;
    }
    return false;
}

void parley_log_set_level(parley_log_level level)
{
    if ((int)level < 0 || level > PARLEY_LOG_OFF)
        return;
    atomic_store(&threshold, (int)level);
}

parley_log_level parley_log_get_level(void)
{
    int t = atomic_load(&threshold);
    if (t < 0) {
        parley_log_level lvl = PARLEY_LOG_INFO;
        parley_log_level_parse(getenv("PARLEY_LOG_LEVEL"), &lvl);
        int expected = -1;
        atomic_compare_exchange_strong(&threshold, &expected, (int)lvl);
        t = atomic_load(&threshold);
    }
    return (parley_log_level)t;
}

bool parley_log_enabled(parley_log_level level)
{
    return level < PARLEY_LOG_OFF && level >= parley_log_get_level();
}

void parley_log_set_stream(FILE *stream)
{
    atomic_store(&log_stream, stream);
}

static void set_str(json_t *obj, const char *key, const char *val)
{
    if (val && *val)
        json_object_set_new(obj, key, json_string(val));
}

static void write_line(parley_log_level level, const parley_log_ctx *ctx, json_t *extra,
                       const char *fmt, va_list ap)
{
    char iso[PARLEY_ISO_TIME_LEN + 1];
    char msg_buf[1024];
    vsnprintf(msg_buf, sizeof(msg_buf), fmt, ap);

    json_t *line = json_object();
    if (!line)
        return;
    json_object_set_new(line, "time", json_string(parley_iso_time(parley_now_ms(), iso)));
    json_object_set_new(line, "level", json_string(parley_log_level_name(level)));
    /* json_string refuses invalid UTF-8; keep the line anyway. */
    json_t *msg = json_string(msg_buf);
    json_object_set_new(line, "msg", msg ? msg : json_string("(message is not UTF-8)"));
    if (ctx) {
        set_str(line, "requestId", ctx->request_id);
        set_str(line, "roomId", ctx->room_id);
        set_str(line, "sessionId", ctx->session_id);
        set_str(line, "participantId", ctx->participant_id);
        if (ctx->has_code)
            json_object_set_new(line, "code", json_integer(ctx->code));
    }
    if (json_is_object(extra))
        json_object_update_missing(line, extra);

    char *text = json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(line);
    if (!text)
        return;
    FILE *out = atomic_load(&log_stream);
    if (!out)
        out = stderr;
    flockfile(out);
    fputs(text, out);
    fputc('\n', out);
    fflush(out);
    funlockfile(out);
    free(text);
}

void parley_log(parley_log_level level, const parley_log_ctx *ctx, const char *fmt, ...)
{
    if (!parley_log_enabled(level))
        return;
    va_list ap;
    va_start(ap, fmt);
    write_line(level, ctx, NULL, fmt, ap);
    va_end(ap);
}

void parley_log_json(parley_log_level level, const parley_log_ctx *ctx, json_t *extra,
                     const char *fmt, ...)
{
    if (parley_log_enabled(level)) {
        va_list ap;
        va_start(ap, fmt);
        write_line(level, ctx, extra, fmt, ap);
        va_end(ap);
    }
    json_decref(extra);
}
