/* transport.c - one signaling WebSocket (a conn) on libwebsockets + libuv.
 *
 * The lws context lives on the client's own libuv loop (a "foreign loop" to
 * lws), so lws callbacks and our timers and commands share one thread. A conn
 * is the lws user data of its wsi; the meeting that opened it is told when
 * it opens, receives a whole text message, or goes away. A meeting that is
 * done with a conn detaches it (conn_close); the conn then flushes what was
 * queued, closes, and frees itself when lws reports the socket gone.
 *
 * Lifetime rule: a conn is freed exactly once, on the first of
 * CONNECTION_ERROR, CLIENT_CLOSED or WSI_DESTROY, which also clears the wsi's
 * user pointer so any later callback for that wsi sees NULL. During
 * lws_client_connect_via_info() an error only marks the conn: conn_open()
 * reports it and frees the conn itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libwebsockets.h>

#include "internal.h"

#define PROTOCOL_NAME "parley.v1"
#define SIGNALING_PATH "/v1/signaling"

enum {
    MAX_MESSAGE = 1 << 20,  /* larger incoming messages are dropped */
    CLOSE_GRACE_S = 2,      /* a closing socket is cut after this */
};

typedef struct outmsg {
    struct outmsg *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE bytes of room, then the text */
} outmsg;

struct conn {
    parley_client *client;
    parley_meeting *meeting; /* NULL once detached */
    struct lws *wsi;
    conn *prev, *next;       /* client->conns */
    outmsg *out_head, *out_tail;
    char *rx;
    size_t rx_len, rx_cap;
    bool rx_drop;
    bool in_connect, gone, established, closing;
    char why[160];
};

/* ---- URLs ---- */

bool url_parse(const char *url, url_parts *out)
{
    memset(out, 0, sizeof(*out));
    if (!url || !strstr(url, "://"))
        return false;
    char *copy = strdup(url);
    if (!copy)
        return false;
    const char *prot = NULL, *ads = NULL, *path = NULL;
    int port = 0;
    bool ok = lws_parse_uri(copy, &prot, &ads, &port, &path) == 0 && ads && *ads && port > 0 && port < 65536;
    if (ok) {
        if (!strcmp(prot, "https") || !strcmp(prot, "wss"))
            out->tls = true;
        else if (strcmp(prot, "http") && strcmp(prot, "ws"))
            ok = false;
    }
    if (ok) {
        /* lws drops the path's leading '/'; keep a prefix, minus trailing '/'. */
        size_t plen = path ? strlen(path) : 0;
        while (plen && path[plen - 1] == '/')
            plen--;
        size_t n = 1 + plen + sizeof(SIGNALING_PATH);
        out->path = malloc(n);
        out->host = strdup(ads);
        out->port = port;
        if (out->path)
            snprintf(out->path, n, "%s%.*s%s", plen ? "/" : "", (int)plen, plen ? path : "", SIGNALING_PATH);
        ok = out->path && out->host;
    }
    free(copy);
    if (!ok) {
        free(out->host);
        free(out->path);
        memset(out, 0, sizeof(*out));
    }
    return ok;
}

/* ---- conns ---- */

static void conn_link(conn *c)
{
    parley_client *client = c->client;
    c->next = client->conns;
    if (client->conns)
        client->conns->prev = c;
    client->conns = c;
}

void conn_free(conn *c)
{
    parley_client *client = c->client;
    if (c->prev)
        c->prev->next = c->next;
    else
        client->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    for (outmsg *o = c->out_head, *next; o; o = next) {
        next = o->next;
        free(o);
    }
    free(c->rx);
    free(c);
}

bool conn_is_open(const conn *c)
{
    return c->established && !c->closing && !c->gone;
}

bool conn_send(conn *c, const char *text)
{
    if (c->closing || c->gone)
        return false;
    size_t len = strlen(text);
    outmsg *o = malloc(sizeof(*o) + LWS_PRE + len);
    if (!o)
        return false;
    o->next = NULL;
    o->len = len;
    memcpy(o->buf + LWS_PRE, text, len);
    if (c->out_tail)
        c->out_tail->next = o;
    else
        c->out_head = o;
    c->out_tail = o;
    if (c->established)
        lws_callback_on_writable(c->wsi);
    return true;
}

void conn_close(conn *c)
{
    c->meeting = NULL;
    if (c->gone || c->closing)
        return;
    c->closing = true;
    if (c->established) {
        lws_callback_on_writable(c->wsi); /* flush, then close */
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, CLOSE_GRACE_S);
    } else {
        lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
    }
}

/* The socket is going away: tell the meeting, then free (see the top). */
static void conn_gone(conn *c, struct lws *wsi, const char *why)
{
    lws_set_wsi_user(wsi, NULL);
    c->gone = true;
    if (!c->why[0])
        snprintf(c->why, sizeof(c->why), "%s", why);
    if (c->in_connect)
        return;
    parley_meeting *m = c->meeting;
    c->meeting = NULL;
    if (m)
        session_on_closed(m, c, c->why);
    conn_free(c);
}

conn *conn_open(parley_meeting *m, char *why, size_t why_size)
{
    parley_client *client = m->client;
    conn *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(why, why_size, "out of memory");
        return NULL;
    }
    c->client = client;
    c->meeting = m;
    conn_link(c);

    struct lws_client_connect_info ci;
    memset(&ci, 0, sizeof(ci));
    ci.context = client->lws;
    ci.address = m->host;
    ci.port = m->port;
    ci.path = m->path;
    ci.host = m->host;
    ci.origin = m->origin;
    ci.protocol = PROTOCOL_NAME;
    ci.local_protocol_name = PROTOCOL_NAME;
    ci.ietf_version_or_minus_one = -1;
    ci.userdata = c;
    if (m->tls) {
        ci.ssl_connection = LCCSCF_USE_SSL;
        if (m->insecure)
            ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
                                 LCCSCF_ALLOW_EXPIRED;
    }
    c->in_connect = true;
    struct lws *wsi = lws_client_connect_via_info(&ci);
    c->in_connect = false;
    if (!wsi || c->gone) {
        snprintf(why, why_size, "%s", c->why[0] ? c->why : "the connection could not be started");
        conn_free(c);
        return NULL;
    }
    c->wsi = wsi;
    return c;
}

/* ---- the lws protocol ---- */

static void receive(conn *c, struct lws *wsi, const void *in, size_t len)
{
    if (lws_is_first_fragment(wsi)) {
        c->rx_len = 0;
        c->rx_drop = lws_frame_is_binary(wsi);
    }
    if (!c->rx_drop) {
        if (c->rx_len + len > MAX_MESSAGE) {
            c->rx_drop = true;
        } else {
            if (c->rx_len + len > c->rx_cap) {
                size_t cap = c->rx_cap ? c->rx_cap : 4096;
                while (cap < c->rx_len + len)
                    cap *= 2;
                char *rx = realloc(c->rx, cap);
                if (!rx) {
                    c->rx_drop = true;
                    return;
                }
                c->rx = rx;
                c->rx_cap = cap;
            }
            memcpy(c->rx + c->rx_len, in, len);
            c->rx_len += len;
        }
    }
    if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
        if (!c->rx_drop && c->meeting)
            session_on_message(c->meeting, c, c->rx, c->rx_len);
        c->rx_len = 0;
        c->rx_drop = false;
    }
}

static int write_next(conn *c, struct lws *wsi)
{
    outmsg *o = c->out_head;
    if (!o) {
        if (c->closing) {
            lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
            return -1;
        }
        return 0;
    }
    c->out_head = o->next;
    if (!c->out_head)
        c->out_tail = NULL;
    int n = lws_write(wsi, o->buf + LWS_PRE, o->len, LWS_WRITE_TEXT);
    bool short_write = n < (int)o->len;
    free(o);
    if (short_write)
        return -1;
    if (c->out_head || c->closing)
        lws_callback_on_writable(wsi);
    return 0;
}

/* Why a connection failed: the socket's own error when there is one
 * ("Connection refused"), with lws's description. */
static void socket_error(struct lws *wsi, const char *lws_says, char *why, size_t n)
{
    int err = 0;
    socklen_t len = sizeof(err);
    int fd = lws_get_socket_fd(wsi);
    if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err)
        snprintf(why, n, "%s (%s)", strerror(err), lws_says ? lws_says : "connection failed");
    else
        snprintf(why, n, "%s", lws_says ? lws_says : "connection failed");
}

static int on_lws(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
    conn *c = user;
    char why[160];
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        if (!c)
            break;
        socket_error(wsi, in, why, sizeof(why));
        conn_gone(c, wsi, why);
        break;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        if (!c)
            return -1;
        c->established = true;
        if (c->meeting)
            session_on_open(c->meeting, c);
        if (c->out_head || c->closing)
            lws_callback_on_writable(wsi);
        if (c->closing)
            lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, CLOSE_GRACE_S);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE:
        if (c && !c->gone)
            receive(c, wsi, in, len);
        break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (!c)
            return -1;
        return write_next(c, wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        if (c && len >= 2) {
            const unsigned char *b = in;
            snprintf(c->why, sizeof(c->why), "the server closed the connection (%u%s%.*s)",
                     (unsigned)(b[0] << 8 | b[1]), len > 2 ? ": " : "", (int)(len - 2), (const char *)b + 2);
        }
        break;
    case LWS_CALLBACK_CLIENT_CLOSED:
        if (c)
            conn_gone(c, wsi, "the server closed the connection");
        break;
    case LWS_CALLBACK_WSI_DESTROY:
        if (c)
            conn_gone(c, wsi, c->established ? "the connection closed"
                                              : "the connection closed before the WebSocket handshake completed");
        break;
    default:
        break;
    }
    return 0;
}

static const struct lws_protocols protocols[] = {
    {PROTOCOL_NAME, on_lws, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void set_log_level(void)
{
    /* lws logs process-wide; by default only its errors. PARLEY_LWS_LOG
     * takes an lws log mask (e.g. 1039 for most of it) when debugging. */
    const char *env = getenv("PARLEY_LWS_LOG");
    lws_set_log_level(env ? atoi(env) : LLL_ERR, NULL);
}

struct lws_context *transport_context_new(parley_client *client)
{
    static uv_once_t once = UV_ONCE_INIT;
    uv_once(&once, set_log_level);

    void *loops[1] = {&client->loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof(info));
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    /* JUST_USE_RAW_ORIGIN: send the application's Origin as given; without it
     * lws prefixes "http://" to it, and no room with allowedOrigins could be joined. */
    info.options = LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
                   LWS_SERVER_OPTION_JUST_USE_RAW_ORIGIN;
    info.foreign_loops = loops;
    info.user = client;
    info.gid = -1;
    info.uid = -1;
    info.connect_timeout_secs = client->connect_timeout_s;
    info.timeout_secs = client->connect_timeout_s;
    info.client_ssl_ca_filepath = client->ca_file;
    info.pcontext = &client->lws; /* lws clears it once wholly destroyed */
    return lws_create_context(&info);
}
