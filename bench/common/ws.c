/* ws.c - the generator's WebSocket client: libwebsockets on the run's libuv loop.
 *
 * One lws context serves every participant. Each connection has a queue of
 * outgoing JSON texts, written one per WRITEABLE callback as lws requires, and
 * a buffer that reassembles fragmented frames into whole messages. Everything
 * protocol-specific is the driver's: this file only moves text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "bench.h"

struct lg_msg {
    lg_msg *next;
    size_t len;
    bool is_join;
    unsigned char buf[]; /* LWS_PRE bytes, then the text */
};

#define LG_RX_MAX (4u << 20) /* a bigger message is a broken peer */

static struct lws_context *ctx;
static const lg_driver *drv;
static lg_ws_opts opts;

static void drop_queue(lg_conn *c)
{
    while (c->q_head) {
        lg_msg *m = c->q_head;
        c->q_head = m->next;
        free(m);
    }
    c->q_tail = NULL;
}

static void deliver(lg_conn *c)
{
    json_error_t err;
    json_t *msg = json_loadb(c->rx, c->rx_len, 0, &err);
    c->rx_len = 0;
    if (!msg || !json_is_object(msg)) {
        json_decref(msg);
        lg_failed(c, "unparseable message", 0);
        return;
    }
    drv->on_message(c, msg);
    json_decref(msg);
}

static int on_receive(lg_conn *c, struct lws *wsi, const void *in, size_t len)
{
    if (c->rx_len + len + 1 > c->rx_cap) {
        size_t cap = c->rx_cap ? c->rx_cap : 1024;
        while (cap < c->rx_len + len + 1)
            cap *= 2;
        if (cap > LG_RX_MAX) {
            lg_failed(c, "message too large", 0);
            return -1;
        }
        char *p = realloc(c->rx, cap);
        if (!p)
            return -1;
        c->rx = p;
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi))
        deliver(c);
    return 0;
}

static int on_writeable(lg_conn *c, struct lws *wsi)
{
    lg_msg *m = c->q_head;
    if (!m) {
        if (c->closing) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        return 0;
    }
    c->q_head = m->next;
    if (!c->q_head)
        c->q_tail = NULL;
    int n = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_TEXT);
    bool is_join = m->is_join;
    free(m);
    if (n < 0)
        return -1;
    if (is_join)
        lg_join_sent(c);
    if (c->q_head || c->closing)
        lws_callback_on_writable(wsi);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    (void)user;
    lg_conn *c = lws_get_opaque_user_data(wsi);
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (!c)
            break;
        c->wsi = NULL;
        drop_queue(c);
        if (getenv("LG_VERBOSE"))
            fprintf(stderr, "loadgen: %s: connect failed: %s\n", c->pid, in ? (const char *)in : "");
        lg_failed(c, "connect failed", 0);
        drv->on_close(c);
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (c)
            drv->on_open(c);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (c)
            return on_receive(c, wsi, in, len);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (c)
            return on_writeable(c, wsi);
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (!c)
            break;
        c->wsi = NULL;
        drop_queue(c);
        lws_set_opaque_user_data(wsi, NULL);
        drv->on_close(c);
        break;
    case LWS_CALLBACK_WSI_DESTROY:
        if (c && c->wsi == wsi) {
            c->wsi = NULL;
            drop_queue(c);
            drv->on_close(c);
        }
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {"lg", callback, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

int lg_ws_init(void *uv_loop, const lg_ws_opts *o, const lg_driver *d)
{
    drv = d;
    opts = *o;
    lws_set_log_level(o->verbose ? LLL_ERR | LLL_WARN : 0, NULL);
    void *loops[1] = {uv_loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_LIBUV;
    info.foreign_loops = loops;
    info.fd_limit_per_thread = o->fd_limit;
    info.timeout_secs = 30;
    info.connect_timeout_secs = 30;
    info.gid = -1;
    info.uid = -1;
    info.pcontext = &ctx; /* lws clears it once the context is wholly gone */
    ctx = lws_create_context(&info);
    return ctx ? 0 : -1;
}

int lg_ws_connect(lg_conn *c)
{
    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof ci);
    ci.context = ctx;
    ci.address = opts.host;
    ci.port = opts.port;
    ci.path = opts.path;
    ci.host = opts.host;
    ci.origin = opts.host;
    ci.protocol = opts.subprotocol;
    ci.local_protocol_name = "lg";
    ci.ietf_version_or_minus_one = -1;
    ci.opaque_user_data = c;
    ci.pwsi = &c->wsi;
    c->state = LG_CONNECTING;
    c->t_start = lg_now();
    if (!lws_client_connect_via_info(&ci)) {
        /* CONNECTION_ERROR may already have reported it */
        if (c->state == LG_CONNECTING)
            lg_failed(c, "connect failed", 0);
        c->wsi = NULL;
        return -1;
    }
    return 0;
}

int lg_ws_send(lg_conn *c, json_t *msg, bool is_join)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (!text)
        return -1;
    if (!c->wsi) {
        free(text);
        return -1;
    }
    size_t len = strlen(text);
    lg_msg *m = malloc(sizeof *m + LWS_PRE + len);
    if (!m) {
        free(text);
        return -1;
    }
    m->next = NULL;
    m->len = len;
    m->is_join = is_join;
    memcpy(m->buf + LWS_PRE, text, len);
    free(text);
    if (c->q_tail)
        c->q_tail->next = m;
    else
        c->q_head = m;
    c->q_tail = m;
    lws_callback_on_writable(c->wsi);
    return 0;
}

void lg_ws_close(lg_conn *c)
{
    if (!c->wsi || c->closing)
        return;
    c->closing = true;
    lws_callback_on_writable(c->wsi);
}

void lg_ws_release(lg_conn *c)
{
    drop_queue(c);
    free(c->rx);
    c->rx = NULL;
    c->rx_len = c->rx_cap = 0;
}

void lg_ws_destroy(void)
{
    /* On a foreign loop the first call closes lws's handles; once the loop
     * has run them down, a second call frees the context (and clears ctx). */
    if (ctx)
        lws_context_destroy(ctx);
}

bool lg_ws_alive(void)
{
    return ctx != NULL;
}
