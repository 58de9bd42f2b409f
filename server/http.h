/* http.h - the REST side of parleyd (docs/protocol.md §3): one http_req per
 * HTTP transaction, routing, authentication, bodies and JSON answers.
 *
 * lws delivers a request in up to three callbacks (headers, body pieces,
 * body end); http.c collects what the handlers need (method, path, query
 * arguments, Authorization, Origin, body up to HTTP_BODY_MAX), routes it,
 * authenticates it, and calls the handler once. A handler answers exactly
 * once with http_reply() or http_fail(); the answer is written from the
 * writeable callback.
 *
 * Ownership: the http_req belongs to the connection's lws session data and
 * is freed by http.c when the transaction completes or the connection
 * closes. Bodies passed to http_reply are stolen. */
#ifndef PARLEYD_HTTP_H
#define PARLEYD_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "events.h"
#include "store.h"
#include "token.h"

#define HTTP_BODY_MAX (64 * 1024)

struct lws;

typedef enum http_method { HTTP_GET, HTTP_POST, HTTP_OTHER } http_method;

typedef struct http_req {
    struct lws *wsi;
    http_method method;
    char path[512];
    json_t *args;         /* query arguments: object of strings */
    char *auth;           /* Authorization, "Bearer " removed; NULL if absent */
    char *body;
    size_t body_len;
    bool body_too_big;
    bool waiting_body;
    bool answered;
    unsigned char *out;   /* LWS_PRE + the answer's body */
    size_t out_len;
    parley_token_result tok; /* after authentication: the key and organisation */
} http_req;

/* lws glue (listener.c). Each returns non-zero to close the connection. */
int http_on_request(struct lws *wsi, http_req **slot, const char *uri);
int http_on_body(http_req *rq, const void *in, size_t len);
int http_on_body_done(http_req *rq);
int http_on_writeable(http_req *rq, http_req **slot);
void http_free(http_req **slot);

/* A query argument, or NULL. */
const char *http_arg(const http_req *rq, const char *name);
/* The body as a JSON object (a new reference; {} when empty), or NULL
 * after answering 803. */
json_t *http_body_object(http_req *rq);

/* Answer with status and body (stolen). */
void http_reply(http_req *rq, int status, json_t *body);
/* Answer an error: {code, name, message, statusCode, requestId}, logged and
 * recorded with what rq knows (organisation) plus room_id and hint. */
void http_fail(http_req *rq, int code, int status, const char *room_id, const char *hint);
/* The same for a store failure on a read: -1, 500, the store's message in the log. */
void http_fail_store(http_req *rq, const char *room_id);

#endif
