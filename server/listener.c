/* listener.c - the libwebsockets context and its one protocol.
 *
 * One protocol, "parley.v1", handles both the HTTP callbacks (REST, see
 * http.c) and the WebSocket callbacks (signaling, see signaling.c); it is
 * the vhost's first protocol, so lws also gives it HTTP requests and
 * upgrades that name no subprotocol. Upgrades anywhere but /v1/signaling
 * are refused. lws joins the server's libuv loop as a foreign loop, so lws,
 * timers and signal handlers share one thread. lws's own log lines go to
 * Parley's structured log. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "http.h"
#include "listener.h"
#include "log.h"
#include "server.h"
#include "signaling.h"
#include "static.h"

#define SIGNALING_PATH "/v1/signaling"

typedef struct session_data {
    http_req *http; /* the REST transaction under way */
    conn *ws;       /* after the upgrade */
    char origin[PARLEY_ORIGIN_MAX + 1];
} session_data;

static void copy_origin(struct lws *wsi, session_data *sd)
{
    if (!sd->origin[0] && lws_hdr_copy(wsi, sd->origin, sizeof sd->origin, WSI_TOKEN_ORIGIN) < 0)
        sd->origin[0] = '\0';
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    session_data *sd = user;
    switch (reason) {
    case LWS_CALLBACK_HTTP: {
        int served = sd ? static_serve(wsi, in) : 0; /* the web root, static.c */
        if (served)
            return served < 0 ? -1 : 0;
        return sd ? http_on_request(wsi, &sd->http, in) : -1;
    }
    case LWS_CALLBACK_HTTP_BODY:
        return sd ? http_on_body(sd->http, in, len) : -1;
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return sd ? http_on_body_done(sd->http) : -1;
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return sd ? http_on_writeable(sd->http, &sd->http) : -1;
    case LWS_CALLBACK_CLOSED_HTTP:
        if (sd)
            http_free(&sd->http);
        return 0;

    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: {
        char uri[64];
        if (server.stopping || lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI) < 0 ||
            strcmp(uri, SIGNALING_PATH))
            return 1;
        if (sd)
            copy_origin(wsi, sd);
        return 0;
    }
    case LWS_CALLBACK_ESTABLISHED:
        if (!sd)
            return -1;
        copy_origin(wsi, sd);
        sd->ws = sig_open(wsi, sd->origin);
        return sd->ws ? 0 : -1;
    case LWS_CALLBACK_RECEIVE:
        if (sd && sd->ws)
            sig_receive(sd->ws, in, len);
        return 0;
    case LWS_CALLBACK_RECEIVE_PONG:
        if (sd && sd->ws)
            sig_touch(sd->ws);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return sd && sd->ws ? sig_writeable(sd->ws) : 0;
    case LWS_CALLBACK_CLOSED:
        if (sd && sd->ws) {
            sig_closed(sd->ws);
            sd->ws = NULL;
        }
        return 0;
    default:
        break;
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static bool can_write(struct lws *wsi)
{
    return !lws_send_pipe_choked(wsi);
}

static const struct lws_protocols protocols[] = {
    {"parley.v1", callback, sizeof(session_data), 16384, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_to_log(int level, const char *line)
{
    char text[512];
    snprintf(text, sizeof text, "%s", line);
    size_t n = strlen(text);
    while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = '\0';
    parley_log(level == LLL_ERR ? PARLEY_LOG_ERROR : PARLEY_LOG_WARN, NULL, "lws: %s", text);
}

/* Whether the address can be bound, and the TLS files read, before lws is
 * asked: lws would report either only as a context without a vhost. */
static int preflight(const char *iface, bool v6, char *err, size_t errlen)
{
    if (server.cfg.cert[0] && (access(server.cfg.cert, R_OK) || access(server.cfg.key, R_OK))) {
        snprintf(err, errlen, "cannot read the TLS certificate or key (%s, %s)", server.cfg.cert,
                 server.cfg.key);
        return -1;
    }
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    socklen_t len;
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)server.cfg.port);
        a->sin6_addr = in6addr_any;
        if (iface[0] && inet_pton(AF_INET6, iface, &a->sin6_addr) != 1)
            return 0; /* lws will judge it */
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)server.cfg.port);
        a->sin_addr.s_addr = htonl(INADDR_ANY);
        if (iface[0] && inet_pton(AF_INET, iface, &a->sin_addr) != 1)
            return 0;
        len = sizeof *a;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    if (fd < 0)
        return 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rc = bind(fd, (struct sockaddr *)&ss, len);
    int e = errno;
    close(fd);
    if (rc) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", server.cfg.host, server.cfg.port,
                 strerror(e));
        return -1;
    }
    return 0;
}

/* The numeric form of cfg.host; NULL for "any address". */
static int resolve(char *out, size_t outlen, bool *v6, char *err, size_t errlen)
{
    const char *host = server.cfg.host;
    *v6 = false;
    if (!host[0] || !strcmp(host, "0.0.0.0") || !strcmp(host, "::") || !strcmp(host, "*")) {
        out[0] = '\0';
        *v6 = !strcmp(host, "::");
        return 0;
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    int rc = getaddrinfo(host, NULL, &hints, &ai);
    if (rc || !ai) {
        snprintf(err, errlen, "cannot resolve '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    rc = getnameinfo(ai->ai_addr, ai->ai_addrlen, out, (socklen_t)outlen, NULL, 0, NI_NUMERICHOST);
    *v6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    if (rc) {
        snprintf(err, errlen, "cannot resolve '%s': %s", host, gai_strerror(rc));
        return -1;
    }
    return 0;
}

int listener_start(char *err, size_t errlen)
{
    char iface[128];
    bool v6;
    if (resolve(iface, sizeof iface, &v6, err, errlen) || preflight(iface, v6, err, errlen))
        return -1;
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_to_log);

    void *foreign_loops[1] = {&server.loop};
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_LIBUV;
    if (!v6)
        info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
    info.foreign_loops = foreign_loops;
    info.port = server.cfg.port;
    info.iface = iface[0] ? iface : NULL;
    info.protocols = protocols;
    info.vhost_name = "parley";
    info.pcontext = &server.lws;
    info.max_http_header_data = 16384;
    info.alpn = "http/1.1";
    /* No lws "validity" pings: idle connections are parleyd's business (the
     * idle sweep, signaling.c). lws's default (ping after 300 s of silence)
     * would re-file a timer in one sorted list on every frame received, a
     * walk past every connection's. */
    static const lws_retry_bo_t no_validity_checks = {.secs_since_valid_ping = 0,
                                                      .secs_since_valid_hangup = 0};
    info.retry_and_idle_policy = &no_validity_checks;
    /* lws's own waits (request headers, handshakes) end with our idle timeout. */
    info.timeout_secs = (unsigned int)server.cfg.idle_timeout;
    info.timeout_secs_ah_idle = (unsigned int)server.cfg.idle_timeout;
    if (server.cfg.cert[0]) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = server.cfg.cert;
        info.ssl_private_key_filepath = server.cfg.key;
    }
    /* With a foreign loop, lws keeps the context even when its vhost could
     * not listen; no vhost is the failure then. Such a context cannot be
     * destroyed safely (lws unloads its libuv plugin with handles still
     * closing), so main leaves it to the exit. */
    server.lws = lws_create_context(&info);
    struct lws_vhost *vh = server.lws ? lws_get_vhost_by_name(server.lws, "parley") : NULL;
    if (!vh) {
        snprintf(err, errlen, "cannot listen on %s:%d (address in use, or bad TLS files?)",
                 server.cfg.host, server.cfg.port);
        return -1;
    }
    server.port = lws_get_vhost_listen_port(vh);
    sig_can_write = can_write;
    return 0;
}
