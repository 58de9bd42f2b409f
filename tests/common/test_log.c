/* test_log.c - the structured log: one parseable JSON object per line, the
 * context fields, extra fields, and the level threshold. Lines go to a
 * temporary file that is read back and parsed with jansson. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/tap.h"
#include "log.h"

static FILE *out;

/* The lines written since the last call, as a JSON array of objects
 * (NULL if any line is not a JSON object). */
static json_t *read_lines(void)
{
    fflush(out);
    rewind(out);
    json_t *arr = json_array();
    char line[8192];
    while (fgets(line, sizeof(line), out)) {
        json_t *obj = json_loads(line, 0, NULL);
        if (!json_is_object(obj) || line[strlen(line) - 1] != '\n') {
            printf("#   not a JSON line: %s", line);
            json_decref(obj);
            json_decref(arr);
            arr = NULL;
            break;
        }
        json_array_append_new(arr, obj);
    }
    rewind(out);
    if (ftruncate(fileno(out), 0) != 0)
        printf("# ftruncate failed\n");
    return arr;
}

static const char *str(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

TEST(lines_carry_time_level_msg_and_context)
{
    parley_log_set_level(PARLEY_LOG_DEBUG);
    parley_log_ctx ctx = {.request_id = "01HXREQ", .room_id = "abcd-efgh-ijkl",
                          .participant_id = "alice", .has_code = true, .code = 4009};
    parley_log(PARLEY_LOG_WARN, &ctx, "join refused: %d of %d", 5, 5);
    parley_log(PARLEY_LOG_INFO, NULL, "plain \"quoted\" line\nwith a newline");
    json_t *lines = read_lines();
    REQUIRE(lines && json_array_size(lines) == 2);
    json_t *a = json_array_get(lines, 0), *b = json_array_get(lines, 1);
    CHECK(!strcmp(str(a, "level"), "warn") && !strcmp(str(a, "msg"), "join refused: 5 of 5"));
    CHECK(!strcmp(str(a, "requestId"), "01HXREQ") && !strcmp(str(a, "roomId"), "abcd-efgh-ijkl"));
    CHECK(!strcmp(str(a, "participantId"), "alice"));
    CHECK(json_integer_value(json_object_get(a, "code")) == 4009);
    const char *t = str(a, "time");
    CHECK(t && strlen(t) == 24 && t[10] == 'T' && t[23] == 'Z');
    CHECK(!strcmp(str(b, "msg"), "plain \"quoted\" line\nwith a newline"));
    CHECK(!json_object_get(b, "code") && !json_object_get(b, "roomId"));
    json_decref(lines);
}

TEST(extra_fields_and_bad_text)
{
    parley_log_set_level(PARLEY_LOG_DEBUG);
    parley_log_json(PARLEY_LOG_ERROR, NULL, json_pack("{s:i, s:s, s:s}", "port", 8443, "path",
                                                      "/v2/rooms", "level", "spoofed"),
                    "listen failed");
    parley_log(PARLEY_LOG_INFO, NULL, "bytes \xff\xfe here");
    parley_log_json(PARLEY_LOG_INFO, NULL, NULL, "no extra");
    json_t *lines = read_lines();
    REQUIRE(lines && json_array_size(lines) == 3);
    json_t *a = json_array_get(lines, 0);
    CHECK(json_integer_value(json_object_get(a, "port")) == 8443);
    CHECK(!strcmp(str(a, "path"), "/v2/rooms"));
    CHECK(!strcmp(str(a, "level"), "error")); /* extras never replace standard fields */
    CHECK(str(json_array_get(lines, 1), "msg") != NULL);
    CHECK(!strcmp(str(json_array_get(lines, 2), "msg"), "no extra"));
    json_decref(lines);
}

TEST(threshold_drops_lower_levels)
{
    parley_log_set_level(PARLEY_LOG_WARN);
    CHECK(parley_log_get_level() == PARLEY_LOG_WARN);
    CHECK(!parley_log_enabled(PARLEY_LOG_INFO) && parley_log_enabled(PARLEY_LOG_ERROR));
    parley_log(PARLEY_LOG_DEBUG, NULL, "dropped");
    parley_log(PARLEY_LOG_INFO, NULL, "dropped");
    parley_log_json(PARLEY_LOG_INFO, NULL, json_pack("{s:s}", "k", "v"), "dropped, extra freed");
    parley_log(PARLEY_LOG_WARN, NULL, "kept");
    parley_log(PARLEY_LOG_ERROR, NULL, "kept");
    json_t *lines = read_lines();
    REQUIRE(lines);
    CHECK(json_array_size(lines) == 2);
    json_decref(lines);
    parley_log_set_level(PARLEY_LOG_OFF);
    parley_log(PARLEY_LOG_ERROR, NULL, "dropped");
    lines = read_lines();
    CHECK(lines && json_array_size(lines) == 0);
    json_decref(lines);
    parley_log_set_level((parley_log_level)42); /* ignored */
    CHECK(parley_log_get_level() == PARLEY_LOG_OFF);
}

TEST(level_names)
{
    parley_log_level l = PARLEY_LOG_INFO;
    CHECK(parley_log_level_parse("debug", &l) && l == PARLEY_LOG_DEBUG);
    CHECK(parley_log_level_parse("warning", &l) && l == PARLEY_LOG_WARN);
    CHECK(!parley_log_level_parse("loud", &l) && l == PARLEY_LOG_WARN);
    CHECK(!parley_log_level_parse(NULL, &l));
    CHECK(!strcmp(parley_log_level_name(PARLEY_LOG_ERROR), "error"));
    CHECK(!strcmp(parley_log_level_name((parley_log_level)-3), "?"));
}

int main(void)
{
    out = tmpfile();
    if (!out) {
        printf("Bail out! tmpfile\n");
        return 1;
    }
    parley_log_set_stream(out);
    RUN(lines_carry_time_level_msg_and_context);
    RUN(extra_fields_and_bad_text);
    RUN(threshold_drops_lower_levels);
    RUN(level_names);
    parley_log_set_stream(NULL);
    fclose(out);
    return tap_done();
}
