/* http.c - REST transactions: collect, route, authenticate, answer.
 *
 * Routes are a table of patterns where '*' stands for one path segment;
 * the first match wins, so fixed paths come before their '*' siblings. A
 * path no route knows answers 999 with 404 (§3). Every route but /healthz
 * needs a token checked in the REST context (roles must allow `crawler`),
 * whose failures answer with the status of §3's table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "http.h"
#include "log.h"
#include "rest.h"
#include "server.h"
#include "static.h"

typedef struct route {
    http_method method; /* HTTP_OTHER here: GET or POST */
    const char *pattern;
    rest_handler fn;
    bool auth;
} route;

static const route routes[] = {
    {HTTP_GET, "/healthz", rest_health, false},
    {HTTP_POST, "/v2/rooms", rest_room_create, true},
    {HTTP_GET, "/v2/rooms", rest_room_list, true},
    {HTTP_OTHER, "/v2/rooms/validate/*", rest_room_validate, true},
    {HTTP_POST, "/v2/rooms/deactivate", rest_room_deactivate, true},
    {HTTP_GET, "/v2/rooms/*", rest_room_get, true},
    {HTTP_POST, "/v2/rooms/*", rest_room_update, true},
    {HTTP_GET, "/v2/sessions", rest_session_list, true},
    {HTTP_POST, "/v2/sessions/end", rest_session_end, true},
    {HTTP_POST, "/v2/sessions/participants/remove", rest_session_remove, true},
    {HTTP_GET, "/v2/sessions/*/participants/active", rest_session_active, true},
    {HTTP_GET, "/v2/sessions/*/participants", rest_session_participants, true},
    {HTTP_GET, "/v2/sessions/*", rest_session_get, true},
    {HTTP_GET, "/v2/errors", rest_error_list, true},
    {HTTP_POST, "/demo/token", static_demo_token, false}, /* only with --demo (static.c) */
    {HTTP_POST, "/demo/room", static_demo_room, false},
};

void http_free(http_req **slot)
{
    http_req *rq = *slot;
    if (!rq)
        return;
    json_decref(rq->args);
    free(rq->auth);
    free(rq->body);
    free(rq->out);
    parley_token_result_free(&rq->tok);
    free(rq);
    *slot = NULL;
}

const char *http_arg(const http_req *rq, const char *name)
{
    return json_string_value(json_object_get(rq->args, name));
}

static int status_of(int code)
{
    switch (code) {
    case PARLEY_ERR_INVALID_API_KEY:
    case PARLEY_ERR_INVALID_TOKEN:
        return 401;
    case PARLEY_ERR_UNKNOWN_ERROR:
        return 500;
    default:
        return 403;
    }
}

void http_reply(http_req *rq, int status, json_t *body)
{
    if (rq->answered || !body) {
        json_decref(body);
        return;
    }
    rq->answered = true;
    size_t len = json_dumpb(body, NULL, 0, JSON_COMPACT);
    rq->out = malloc(LWS_PRE + len + 1);
    if (rq->out)
        json_dumpb(body, (char *)rq->out + LWS_PRE, len, JSON_COMPACT);
    rq->out_len = len;
    json_decref(body);
    if (!rq->out) {
        rq->out_len = 0;
        return;
    }
    unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start,
                                      *end = hdr + sizeof hdr - 1;
    if (lws_add_http_common_headers(rq->wsi, (unsigned int)status, "application/json", len, &p,
                                    end) ||
        lws_finalize_write_http_header(rq->wsi, start, &p, end)) {
        free(rq->out);
        rq->out = NULL;
    }
    lws_callback_on_writable(rq->wsi);
}

static void fail_ctx(http_req *rq, int code, int status, ev_ctx *ctx)
{
    if (rq->tok.key_found) {
        ctx->org_id = rq->tok.key.org_id;
        if (code == PARLEY_ERR_ACCOUNT_DISCONTINUED)
            ctx->extra = rq->tok.org.message;
    }
    http_reply(rq, status, ev_rest_error(code, status, ctx));
}

void http_fail(http_req *rq, int code, int status, const char *room_id, const char *hint)
{
    ev_ctx ctx = {.room_id = room_id, .hint = hint};
    fail_ctx(rq, code, status, &ctx);
}

void http_fail_store(http_req *rq, const char *room_id)
{
    ev_ctx ctx = {.room_id = room_id, .hint = "storage failure",
                  .detail = parley_store_errmsg(server.store)};
    fail_ctx(rq, PARLEY_ERR_UNKNOWN_ERROR, 500, &ctx);
}

json_t *http_body_object(http_req *rq)
{
    if (rq->body_too_big) {
        http_fail(rq, PARLEY_ERR_TRANSPORT_ERROR_CODE, 400, NULL, "body larger than 64 KiB");
        return NULL;
    }
    if (!rq->body_len)
        return json_object();
    json_error_t jerr;
    json_t *obj = json_loadb(rq->body, rq->body_len, 0, &jerr);
    if (!json_is_object(obj)) {
        json_decref(obj);
        http_fail(rq, PARLEY_ERR_TRANSPORT_ERROR_CODE, 400, NULL, "the body is not a JSON object");
        return NULL;
    }
    return obj;
}

static bool authenticate(http_req *rq)
{
    int code = parley_token_check(server.store, rq->auth ? rq->auth : "", PARLEY_TOKEN_CTX_REST, 0,
                                  &rq->tok);
    if (!code)
        return true;
    ev_ctx ctx = {.hint = code == PARLEY_ERR_UNKNOWN_ERROR ? "storage failure" : rq->tok.detail,
                  .detail = rq->tok.detail};
    fail_ctx(rq, code, status_of(code), &ctx);
    return false;
}

static bool match(const char *pattern, const char *path, char *seg, size_t seglen)
{
    while (*pattern) {
        if (*pattern == '*') {
            size_t n = strcspn(path, "/");
            if (n == 0 || n >= seglen)
                return false;
            memcpy(seg, path, n);
            seg[n] = '\0';
            path += n;
            pattern++;
        } else if (*pattern++ != *path++) {
            return false;
        }
    }
    return *path == '\0';
}

static void dispatch(http_req *rq)
{
    char seg[256] = "";
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const route *rt = &routes[i];
        if (rt->method == HTTP_OTHER ? rq->method == HTTP_OTHER : rt->method != rq->method)
            continue;
        seg[0] = '\0';
        if (!match(rt->pattern, rq->path, seg, sizeof seg))
            continue;
        if (rt->auth && !authenticate(rq))
            return;
        rt->fn(rq, strchr(rt->pattern, '*') ? seg : NULL);
        if (!rq->answered)
            http_fail(rq, PARLEY_ERR_UNKNOWN_ERROR, 500, NULL, "the request was not answered");
        return;
    }
    http_fail(rq, PARLEY_ERR_GENERIC_ERROR_CODE, 404, NULL, "unknown path");
}

static char *header(struct lws *wsi, enum lws_token_indexes h)
{
    int n = lws_hdr_total_length(wsi, h);
    if (n <= 0)
        return NULL;
    char *s = malloc((size_t)n + 1);
    if (s && lws_hdr_copy(wsi, s, n + 1, h) < 0) {
        free(s);
        s = NULL;
    }
    return s;
}

static void read_args(http_req *rq)
{
    char frag[1024];
    rq->args = json_object();
    for (int i = 0; i < 64; i++) {
        int n = lws_hdr_copy_fragment(rq->wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n < 0)
            break;
        char *eq = strchr(frag, '=');
        if (eq)
            *eq = '\0';
        if (frag[0])
            json_object_set_new(rq->args, frag, json_string(eq ? eq + 1 : ""));
    }
}

int http_on_request(struct lws *wsi, http_req **slot, const char *uri)
{
    http_free(slot);
    http_req *rq = calloc(1, sizeof *rq);
    if (!rq)
        return -1;
    *slot = rq;
    rq->wsi = wsi;
    /* The method, in the one place lws keeps it: which URI header is set. */
    if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI))
        rq->method = HTTP_GET;
    else if (lws_hdr_total_length(wsi, WSI_TOKEN_POST_URI))
        rq->method = HTTP_POST;
    else
        rq->method = HTTP_OTHER;
    snprintf(rq->path, sizeof rq->path, "%s", uri ? uri : "/");
    size_t n = strlen(rq->path);
    if (n > 1 && rq->path[n - 1] == '/')
        rq->path[n - 1] = '\0';
    read_args(rq);
    rq->auth = header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (rq->auth && !strncmp(rq->auth, "Bearer ", 7))
        memmove(rq->auth, rq->auth + 7, strlen(rq->auth + 7) + 1);

    if (rq->method == HTTP_POST) {
        char *cl = header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH);
        char *te = header(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING);
        long long length = cl ? atoll(cl) : 0;
        rq->waiting_body = length > 0 || te;
        rq->body_too_big = length > HTTP_BODY_MAX;
        free(cl);
        free(te);
        if (rq->waiting_body)
            return 0;
    }
    dispatch(rq);
    return 0;
}

int http_on_body(http_req *rq, const void *in, size_t len)
{
    if (!rq || rq->body_too_big || !len)
        return 0;
    if (rq->body_len + len > HTTP_BODY_MAX) {
        rq->body_too_big = true;
        free(rq->body);
        rq->body = NULL;
        rq->body_len = 0;
        return 0;
    }
    char *grown = realloc(rq->body, rq->body_len + len + 1);
    if (!grown)
        return -1;
    rq->body = grown;
    memcpy(rq->body + rq->body_len, in, len);
    rq->body_len += len;
    return 0;
}

int http_on_body_done(http_req *rq)
{
    if (!rq || !rq->waiting_body)
        return 0;
    rq->waiting_body = false;
    dispatch(rq);
    return 0;
}

int http_on_writeable(http_req *rq, http_req **slot)
{
    if (!rq || !rq->answered)
        return 0;
    struct lws *wsi = rq->wsi;
    if (!rq->out) { /* the answer could not be built or its headers not written */
        http_free(slot);
        return -1;
    }
    int n = lws_write(wsi, rq->out + LWS_PRE, rq->out_len, LWS_WRITE_HTTP_FINAL);
    http_free(slot);
    if (n < 0)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}
