/* cmd_room.c - `parley room`: the rooms of the REST API (docs/protocol.md §3).
 *
 * Plain blocking HTTP with libcurl: one request per invocation, the answer
 * printed as JSON (pretty by default, one line with --json). A REST failure
 * prints the server's error object ({code, name, message, statusCode,
 * requestId, hint}) and exits 1; a transport failure (nothing listening,
 * TLS) says so on stderr and exits 1. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include <parley/errors.h>

#include "cli.h"

static const char usage_text[] =
    "usage: parley room create     --url URL --token T [--custom-id X] [--max-participants N]\n"
    "                              [--max-speakers N] [--max-publishers N]\n"
    "                              [--duplicate-policy replace|reject] [--allowed-origin O]...\n"
    "                              [--entry-timeout S] [--json]\n"
    "       parley room validate   --url URL --token T --room ID [--json]\n"
    "       parley room get        --url URL --token T --room ID [--json]\n"
    "       parley room list       --url URL --token T [--page N] [--per-page N] [--json]\n"
    "       parley room deactivate --url URL --token T --room ID [--json]\n"
    "       parley room end        --url URL --token T --room ID [--session S] [--json]\n"
    "\n"
    "URL is the server's http[s]://host:port. The token needs the crawler role.\n"
    "--room takes a room id or a custom id. --insecure accepts any certificate.\n"
    "A refused request prints the server's error object and exits 1.\n";

enum { MAX_ORIGINS = 32 };

typedef struct room_opts {
    const char *url, *token, *room, *custom_id, *session, *policy;
    const char *origins[MAX_ORIGINS];
    int norigins;
    long max_participants, max_speakers, max_publishers, entry_timeout, page, per_page;
    bool json, insecure;
} room_opts;

typedef struct buffer {
    char *data;
    size_t len;
} buffer;

static bool parse_count(const char *text, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < 0)
        return false;
    *out = v;
    return true;
}

static int parse_opts(int argc, char **argv, room_opts *o)
{
    o->max_participants = o->max_speakers = o->max_publishers = o->entry_timeout = -1;
    o->page = o->per_page = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            exit(CLI_OK);
        }
        if (!strcmp(a, "--json")) {
            o->json = true;
            continue;
        }
        if (!strcmp(a, "--insecure")) {
            o->insecure = true;
            continue;
        }
        static const char *const strings[] = {"--url", "--token", "--room", "--custom-id", "--session",
                                              "--duplicate-policy", "--allowed-origin"};
        static const char *const counts[] = {"--max-participants", "--max-speakers", "--max-publishers",
                                             "--entry-timeout", "--page", "--per-page"};
        long *count_dst[] = {&o->max_participants, &o->max_speakers, &o->max_publishers,
                             &o->entry_timeout, &o->page, &o->per_page};
        const char **string_dst[] = {&o->url, &o->token, &o->room, &o->custom_id, &o->session, &o->policy, NULL};
        bool known = false;
        for (size_t k = 0; k < sizeof(strings) / sizeof(*strings) && !known; k++) {
            if (strcmp(a, strings[k]))
                continue;
            known = true;
            if (i + 1 >= argc)
                return cli_usage_error("%s needs a value", a);
            const char *v = argv[++i];
            if (string_dst[k]) {
                *string_dst[k] = v;
            } else if (o->norigins == MAX_ORIGINS) {
                return cli_usage_error("at most %d --allowed-origin", MAX_ORIGINS);
            } else {
                o->origins[o->norigins++] = v;
            }
        }
        for (size_t k = 0; k < sizeof(counts) / sizeof(*counts) && !known; k++) {
            if (strcmp(a, counts[k]))
                continue;
            known = true;
            if (i + 1 >= argc)
                return cli_usage_error("%s needs a value", a);
            if (!parse_count(argv[++i], count_dst[k]))
                return cli_usage_error("%s takes a number, not '%s'", a, argv[i]);
        }
        if (!known)
            return cli_usage_error("unexpected argument '%s'\n%s", a, usage_text);
    }
    if (!o->url || !o->token)
        return cli_usage_error("room needs --url and --token\n%s", usage_text);
    if (o->policy && strcmp(o->policy, "replace") && strcmp(o->policy, "reject"))
        return cli_usage_error("--duplicate-policy takes replace or reject, not '%s'", o->policy);
    return CLI_OK;
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    buffer *b = ud;
    size_t add = size * n;
    char *p = realloc(b->data, b->len + add + 1);
    if (!p)
        return 0;
    memcpy(p + b->len, data, add);
    b->data = p;
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

/* The base URL without a trailing '/', ws[s] taken as http[s]. */
static char *base_url(const char *url)
{
    const char *rest = url;
    const char *scheme = NULL;
    if (!strncmp(url, "ws://", 5)) {
        scheme = "http://";
        rest = url + 5;
    } else if (!strncmp(url, "wss://", 6)) {
        scheme = "https://";
        rest = url + 6;
    } else if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
        return NULL;
    }
    size_t n = strlen(rest);
    while (n && rest[n - 1] == '/')
        n--;
    char *out = malloc(n + 9);
    if (out)
        snprintf(out, n + 9, "%s%.*s", scheme ? scheme : "", (int)n, rest);
    return out;
}

/* Perform method path [body]; print the answer. The exit status. */
static int call(const room_opts *o, const char *method, const char *path, json_t *body)
{
    char *base = base_url(o->url);
    if (!base) {
        json_decref(body);
        return cli_usage_error("--url must be http://, https://, ws:// or wss://, not '%s'", o->url);
    }
    CURL *curl = curl_easy_init();
    if (!curl) {
        free(base);
        json_decref(body);
        fputs("parley: cannot start libcurl\n", stderr);
        return CLI_FAILED;
    }
    size_t ulen = strlen(base) + strlen(path) + 1;
    char *url = malloc(ulen);
    snprintf(url, ulen, "%s%s", base, path);
    size_t alen = strlen(o->token) + 32;
    char *auth = malloc(alen);
    snprintf(auth, alen, "Authorization: %s", o->token);
    struct curl_slist *headers = curl_slist_append(NULL, auth);
    headers = curl_slist_append(headers, "Accept: application/json");
    char *text = NULL;
    if (body) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        text = json_dumps(body, JSON_COMPACT);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, text ? text : "{}");
    }
    buffer answer = {0};
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (o->insecure) {
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    CURLcode cc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);

    int rc;
    if (cc != CURLE_OK) {
        fprintf(stderr, "parley: %s %s: %s\n", method, url, curl_easy_strerror(cc));
        rc = CLI_FAILED;
    } else {
        json_t *doc = answer.data ? json_loads(answer.data, 0, NULL) : NULL;
        size_t flags = o->json ? JSON_COMPACT : JSON_INDENT(2);
        if (status >= 200 && status < 300 && doc) {
            char *out = json_dumps(doc, flags | JSON_ENSURE_ASCII);
            if (out)
                puts(out);
            free(out);
            rc = CLI_OK;
        } else {
            json_t *err;
            if (json_is_object(doc) && json_is_integer(json_object_get(doc, "code"))) {
                err = json_incref(doc); /* as the server sent it: code, name, message, requestId, ... */
                if (!json_object_get(err, "statusCode"))
                    json_object_set_new(err, "statusCode", json_integer(status));
            } else {
                /* Not an answer of the API (a proxy, another program). */
                const parley_error_info *e = parley_error_lookup(PARLEY_ERR_UNKNOWN_ERROR, PARLEY_PROFILE_ALL);
                char msg[300];
                snprintf(msg, sizeof(msg), "HTTP %ld with %s", status,
                         doc ? "an unexpected JSON body" : "a body that is not JSON");
                err = json_pack("{s:i, s:s, s:s, s:I}", "code", PARLEY_ERR_UNKNOWN_ERROR, "name",
                                e ? e->name : "UNKNOWN_ERROR", "message", msg, "statusCode", (json_int_t)status);
            }
            char *out = err ? json_dumps(err, flags | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER) : NULL;
            if (out)
                puts(out);
            free(out);
            json_decref(err);
            rc = CLI_FAILED;
        }
        json_decref(doc);
    }
    fflush(stdout);
    free(answer.data);
    free(text);
    curl_slist_free_all(headers);
    free(auth);
    free(url);
    free(base);
    curl_easy_cleanup(curl);
    json_decref(body);
    return rc;
}

/* "/v2/rooms/<escaped id>" and the like. */
static char *path_with(const char *prefix, const char *id)
{
    char *esc = curl_easy_escape(NULL, id, 0);
    if (!esc)
        return NULL;
    size_t n = strlen(prefix) + strlen(esc) + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s", prefix, esc);
    curl_free(esc);
    return p;
}

static json_t *create_body(const room_opts *o)
{
    json_t *body = json_object();
    json_t *settings = json_object();
    if (o->custom_id)
        json_object_set_new(body, "customRoomId", json_string(o->custom_id));
    if (o->max_participants >= 0)
        json_object_set_new(settings, "maxParticipants", json_integer(o->max_participants));
    if (o->max_speakers >= 0)
        json_object_set_new(settings, "maxSpeakers", json_integer(o->max_speakers));
    if (o->max_publishers >= 0)
        json_object_set_new(settings, "maxPublishers", json_integer(o->max_publishers));
    if (o->policy)
        json_object_set_new(settings, "duplicatePolicy", json_string(o->policy));
    if (o->entry_timeout >= 0)
        json_object_set_new(settings, "entryTimeout", json_integer(o->entry_timeout));
    if (o->norigins) {
        json_t *arr = json_array();
        for (int i = 0; i < o->norigins; i++)
            json_array_append_new(arr, json_string(o->origins[i]));
        json_object_set_new(settings, "allowedOrigins", arr);
    }
    if (json_object_size(settings))
        json_object_set_new(body, "settings", settings);
    else
        json_decref(settings);
    return body;
}

static int run_room(const char *sub, const room_opts *o)
{
    bool needs_room = strcmp(sub, "create") && strcmp(sub, "list");
    if (needs_room && !o->room)
        return cli_usage_error("room %s needs --room", sub);
    if (!strcmp(sub, "create"))
        return call(o, "POST", "/v2/rooms", create_body(o));
    if (!strcmp(sub, "list")) {
        char path[96];
        snprintf(path, sizeof(path), "/v2/rooms?page=%ld&perPage=%ld", o->page > 0 ? o->page : 1,
                 o->per_page > 0 ? o->per_page : 20);
        return call(o, "GET", path, NULL);
    }
    if (!strcmp(sub, "deactivate"))
        return call(o, "POST", "/v2/rooms/deactivate", json_pack("{s:s}", "roomId", o->room));
    if (!strcmp(sub, "end")) {
        json_t *body = json_pack("{s:s}", "roomId", o->room);
        if (o->session)
            json_object_set_new(body, "sessionId", json_string(o->session));
        return call(o, "POST", "/v2/sessions/end", body);
    }
    char *path = path_with(!strcmp(sub, "validate") ? "/v2/rooms/validate/" : "/v2/rooms/", o->room);
    if (!path)
        return CLI_FAILED;
    int rc = call(o, "GET", path, NULL);
    free(path);
    return rc;
}

int cmd_room(int argc, char **argv)
{
    static const char *const subs[] = {"create", "validate", "get", "list", "deactivate", "end"};
    if (argc < 2) {
        fputs(usage_text, stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage_text, stdout);
        return CLI_OK;
    }
    size_t k = 0;
    for (; k < sizeof(subs) / sizeof(*subs); k++)
        if (!strcmp(argv[1], subs[k]))
            break;
    if (k == sizeof(subs) / sizeof(*subs))
        return cli_usage_error("unknown room subcommand '%s'\n%s", argv[1], usage_text);
    room_opts o;
    memset(&o, 0, sizeof(o));
    int rc = parse_opts(argc - 1, argv + 1, &o);
    if (rc)
        return rc;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fputs("parley: cannot start libcurl\n", stderr);
        return CLI_FAILED;
    }
    rc = run_room(argv[1], &o);
    curl_global_cleanup();
    return rc;
}
