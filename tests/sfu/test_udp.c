/* test_udp.c - the UDP port on real sockets: a client socket sends real
 * binding requests to the port (127.0.0.1, ::1 when available, and an IPv4
 * client on a dual-stack "::" port) and checks the answers; DTLS and RTP from
 * the checked address reach the owner's callbacks; garbage, unknown peers and
 * bad STUN are dropped and counted; media goes back to the nominated address. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "stun.h"
#include "udp.h"
#include "../lib/tap.h"

static uv_loop_t loop;

/* ---- a client socket that keeps the last datagram it received ---- */

typedef struct client {
    uv_udp_t h;
    uint8_t last[2048];
    size_t last_len;
    int got;
} client;

static void c_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    (void)h;
    static char buf[65536];
    (void)s;
    *b = uv_buf_init(buf, sizeof buf);
}

static void c_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *b, const struct sockaddr *a, unsigned f)
{
    (void)f;
    client *c = h->data;
    if (n <= 0 || !a)
        return;
    c->last_len = (size_t)n < sizeof c->last ? (size_t)n : sizeof c->last;
    memcpy(c->last, b->base, c->last_len);
    c->got++;
}

static int client_open(client *c, const char *ip)
{
    memset(c, 0, sizeof *c);
    struct sockaddr_storage ss;
    if (strchr(ip, ':') ? uv_ip6_addr(ip, 0, (struct sockaddr_in6 *)&ss) : uv_ip4_addr(ip, 0, (struct sockaddr_in *)&ss))
        return -1;
    uv_udp_init(&loop, &c->h);
    c->h.data = c;
    if (uv_udp_bind(&c->h, (struct sockaddr *)&ss, 0) || uv_udp_recv_start(&c->h, c_alloc, c_recv)) {
        uv_close((uv_handle_t *)&c->h, NULL);
        return -1;
    }
    return 0;
}

static void client_close(client *c)
{
    uv_close((uv_handle_t *)&c->h, NULL);
}

static void client_send(client *c, const char *ip, uint16_t port, const void *d, size_t n)
{
    struct sockaddr_storage ss;
    if (strchr(ip, ':'))
        uv_ip6_addr(ip, port, (struct sockaddr_in6 *)&ss);
    else
        uv_ip4_addr(ip, port, (struct sockaddr_in *)&ss);
    uv_buf_t b = uv_buf_init((char *)d, (unsigned)n);
    int r = uv_udp_try_send(&c->h, &b, 1, (struct sockaddr *)&ss);
    if (r != (int)n)
        printf("# try_send: %s\n", r < 0 ? uv_strerror(r) : "short");
}

/* ---- running the loop until something happened (2 s at most) ---- */

static int timed_out;
static void on_timeout(uv_timer_t *t)
{
    (void)t;
    timed_out = 1;
}

static bool pump(bool (*done)(void *), void *arg)
{
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    timed_out = 0;
    uv_timer_start(&t, on_timeout, 2000, 0);
    while (!done(arg) && !timed_out)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&t, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    return done(arg);
}

static int want_got;
static bool client_got(void *arg)
{
    return ((client *)arg)->got >= want_got;
}

static uint64_t want_received;
static bool port_received(void *arg)
{
    parley_udp_counters c;
    parley_udp_get_counters(arg, &c);
    return c.received >= want_received;
}

/* ---- the owner's callbacks ---- */

static int dtls_seen, rtp_seen, state_connected;
static void *owner_seen;

static void on_dtls(parley_udp_peer *p, void *owner, const uint8_t *d, size_t n)
{
    (void)p;
    (void)d;
    (void)n;
    owner_seen = owner;
    dtls_seen++;
}

static parley_udp *remove_in_rtp; /* when set, on_rtp removes the peer */

static void on_rtp(parley_udp_peer *p, void *owner, const uint8_t *d, size_t n)
{
    (void)d;
    (void)n;
    owner_seen = owner;
    rtp_seen++;
    if (remove_in_rtp)
        parley_udp_peer_remove(remove_in_rtp, p);
}

static void on_state(parley_udp_peer *p, void *owner, parley_ice_state s)
{
    (void)p;
    (void)owner;
    if (s == PARLEY_ICE_CONNECTED)
        state_connected++;
}

static const parley_udp_callbacks cbs = {on_dtls, on_rtp, on_state};

static size_t make_check(uint8_t *buf, size_t cap, parley_udp_peer *p, const char *pwd, bool nominate,
                         uint8_t txid[12])
{
    char user[64];
    snprintf(user, sizeof user, "%s:cli1", parley_ice_local_ufrag(parley_udp_peer_ice(p)));
    parley_stun_new_txid(txid);
    parley_stun_request r = {.username = user, .password = pwd, .priority = 1, .controlling = true,
                             .tiebreaker = 7, .use_candidate = nominate};
    return parley_stun_binding_request(buf, cap, txid, &r);
}

/* One full exchange on a port bound to server_ip, from a client on client_ip
 * (sending to dest_ip). */
static void exchange(const char *server_ip, const char *client_ip, const char *dest_ip)
{
    char err[256];
    parley_udp_config cfg = {.bind_address = server_ip, .port = 0, .advertised_address = "203.0.113.5"};
    parley_udp *u = parley_udp_open(&loop, &cfg, &cbs, err, sizeof err);
    REQUIRE(u);
    uint16_t port = parley_udp_port(u);
    CHECK(port != 0);
    CHECK(strcmp(parley_udp_advertised(u), "203.0.113.5") == 0);
    int owner = 1;
    parley_udp_peer *p = parley_udp_peer_add(u, &owner);
    REQUIRE(p);
    const char *pwd = parley_ice_local_pwd(parley_udp_peer_ice(p));
    REQUIRE(parley_ice_set_remote(parley_udp_peer_ice(p), "cli1", "client-password-0123456789", 0) == 0);
    client c, stranger;
    REQUIRE(client_open(&c, client_ip) == 0);
    REQUIRE(client_open(&stranger, client_ip) == 0);
    dtls_seen = rtp_seen = state_connected = 0;
    owner_seen = NULL;

    /* DTLS before any check: the address is unknown, dropped */
    client_send(&c, dest_ip, port, "\x16\xfe\xfd\x00", 4);
    want_received = 1;
    CHECK(pump(port_received, u));
    CHECK(dtls_seen == 0);

    /* a real binding request, nominating: a valid answer */
    uint8_t req[512], txid[12];
    size_t n = make_check(req, sizeof req, p, pwd, true, txid);
    client_send(&c, dest_ip, port, req, n);
    want_got = 1;
    REQUIRE(pump(client_got, &c));
    parley_stun_msg m;
    REQUIRE(parley_stun_parse(c.last, c.last_len, &m, NULL) == 0);
    CHECK(m.type == PARLEY_STUN_BINDING_SUCCESS && memcmp(m.txid, txid, 12) == 0);
    CHECK(parley_stun_check_integrity(&m, pwd, strlen(pwd)));
    struct sockaddr_storage mine;
    int mlen = sizeof mine;
    uv_udp_getsockname(&c.h, (struct sockaddr *)&mine, &mlen);
    REQUIRE(m.has_mapped && m.mapped.ss_family == mine.ss_family);
    if (mine.ss_family == AF_INET)
        CHECK(((struct sockaddr_in *)&m.mapped)->sin_port == ((struct sockaddr_in *)&mine)->sin_port &&
              ((struct sockaddr_in *)&m.mapped)->sin_addr.s_addr == ((struct sockaddr_in *)&mine)->sin_addr.s_addr);
    else
        CHECK(((struct sockaddr_in6 *)&m.mapped)->sin6_port == ((struct sockaddr_in6 *)&mine)->sin6_port &&
              memcmp(&((struct sockaddr_in6 *)&m.mapped)->sin6_addr, &((struct sockaddr_in6 *)&mine)->sin6_addr, 16) == 0);
    CHECK(state_connected == 1);
    CHECK(parley_ice_get_state(parley_udp_peer_ice(p)) == PARLEY_ICE_CONNECTED);

    /* the wrong password: a 401 */
    n = make_check(req, sizeof req, p, "wrong-password-wrong-password", true, txid);
    client_send(&c, dest_ip, port, req, n);
    want_got = 2;
    REQUIRE(pump(client_got, &c));
    CHECK(parley_stun_parse(c.last, c.last_len, &m, NULL) == 0 && m.error_code == 401);

    /* now the checked address delivers DTLS and RTP to the owner */
    client_send(&c, dest_ip, port, "\x16\xfe\xfd\x00\x01", 5);
    client_send(&c, dest_ip, port, "\x80\x60\x00\x01", 4);
    /* garbage, bad STUN, a stranger's DTLS, an unknown ufrag: dropped */
    client_send(&c, dest_ip, port, "\x50garbage", 8);
    client_send(&c, dest_ip, port, "\xff", 1);
    client_send(&c, dest_ip, port, "\x00\x01\x00\x00\x21\x12", 6);
    client_send(&stranger, dest_ip, port, "\x17\xfe\xfd", 3);
    client_send(&stranger, dest_ip, port, "\x90\x60", 2);
    parley_stun_request r = {.username = "nobody:cli1", .password = "x", .controlling = true};
    n = parley_stun_binding_request(req, sizeof req, txid, &r);
    client_send(&stranger, dest_ip, port, req, n);
    want_received = 11;
    CHECK(pump(port_received, u));
    CHECK(dtls_seen == 1 && rtp_seen == 1 && owner_seen == &owner);

    /* media back to the nominated address */
    CHECK(parley_udp_send(u, p, (const uint8_t *)"\x80\x00media", 7) == 0);
    want_got = 3;
    CHECK(pump(client_got, &c));
    CHECK(c.last_len == 7 && memcmp(c.last, "\x80\x00media", 7) == 0);
    CHECK(stranger.got == 0); /* strangers get no answers at all */

    parley_udp_counters k;
    parley_udp_get_counters(u, &k);
    CHECKF(k.received == 11, "%llu", (unsigned long long)k.received);
    CHECKF(k.drop_garbage == 2, "%llu", (unsigned long long)k.drop_garbage);
    CHECKF(k.drop_unknown_peer == 3, "%llu", (unsigned long long)k.drop_unknown_peer);
    CHECKF(k.drop_bad_stun == 1, "%llu", (unsigned long long)k.drop_bad_stun);
    CHECKF(k.drop_unknown_ufrag == 1, "%llu", (unsigned long long)k.drop_unknown_ufrag);
    CHECK(k.stun == 2 && k.stun_rejected == 1 && k.dtls == 1 && k.rtp == 1);
    CHECK(k.sent == 3 && k.send_errors == 0);

    /* a removed peer's address is forgotten */
    parley_udp_peer_remove(u, p);
    client_send(&c, dest_ip, port, "\x16\xfe\xfd\x00", 4);
    want_received = 12;
    CHECK(pump(port_received, u));
    CHECK(dtls_seen == 1);

    client_close(&c);
    client_close(&stranger);
    parley_udp_close(u);
    uv_run(&loop, UV_RUN_NOWAIT);
}

TEST(ipv4)
{
    exchange("127.0.0.1", "127.0.0.1", "127.0.0.1");
}

static bool have_ipv6(void)
{
    client c;
    if (client_open(&c, "::1") != 0)
        return false;
    client_close(&c);
    uv_run(&loop, UV_RUN_NOWAIT);
    return true;
}

TEST(ipv6)
{
    if (!have_ipv6()) {
        printf("# no ::1 here, IPv6 exchange skipped\n");
        return;
    }
    exchange("::1", "::1", "::1");
}

TEST(dual_stack_ipv4_client)
{
    if (!have_ipv6()) {
        printf("# no IPv6 here, dual-stack exchange skipped\n");
        return;
    }
    exchange("::", "127.0.0.1", "127.0.0.1");
}

TEST(restart_routes_new_ufrag)
{
    char err[256];
    parley_udp_config cfg = {.bind_address = "127.0.0.1"};
    parley_udp *u = parley_udp_open(&loop, &cfg, &cbs, err, sizeof err);
    REQUIRE(u);
    parley_udp_peer *p = parley_udp_peer_add(u, NULL);
    REQUIRE(p);
    parley_ice_agent *a = parley_udp_peer_ice(p);
    parley_ice_set_remote(a, "cli1", "client-password-0123456789", 0);
    REQUIRE(parley_udp_peer_restart(u, p) == 0);
    client c;
    REQUIRE(client_open(&c, "127.0.0.1") == 0);
    uint8_t req[512], txid[12];
    size_t n = make_check(req, sizeof req, p, parley_ice_local_pwd(a), true, txid);
    client_send(&c, "127.0.0.1", parley_udp_port(u), req, n);
    want_got = 1;
    REQUIRE(pump(client_got, &c));
    parley_stun_msg m;
    CHECK(parley_stun_parse(c.last, c.last_len, &m, NULL) == 0 && m.type == PARLEY_STUN_BINDING_SUCCESS);
    client_close(&c);
    parley_udp_close(u); /* the peer goes with the port */
    uv_run(&loop, UV_RUN_NOWAIT);
}

/* A peer removed from inside its own callback is freed afterwards, safely. */
TEST(remove_inside_callback)
{
    char err[256];
    parley_udp_config cfg = {.bind_address = "127.0.0.1"};
    parley_udp *u = parley_udp_open(&loop, &cfg, &cbs, err, sizeof err);
    REQUIRE(u);
    parley_udp_peer *p = parley_udp_peer_add(u, NULL);
    REQUIRE(p);
    parley_ice_set_remote(parley_udp_peer_ice(p), "cli1", "client-password-0123456789", 0);
    client c;
    REQUIRE(client_open(&c, "127.0.0.1") == 0);
    uint8_t req[512], txid[12];
    size_t n = make_check(req, sizeof req, p, parley_ice_local_pwd(parley_udp_peer_ice(p)), true, txid);
    client_send(&c, "127.0.0.1", parley_udp_port(u), req, n);
    want_got = 1;
    REQUIRE(pump(client_got, &c));
    rtp_seen = 0;
    remove_in_rtp = u;
    client_send(&c, "127.0.0.1", parley_udp_port(u), "\x80\x60\x00\x01", 4);
    client_send(&c, "127.0.0.1", parley_udp_port(u), "\x80\x60\x00\x02", 4);
    want_received = 3;
    CHECK(pump(port_received, u));
    remove_in_rtp = NULL;
    parley_udp_counters k;
    parley_udp_get_counters(u, &k);
    CHECK(rtp_seen == 1 && k.drop_unknown_peer == 1);
    client_close(&c);
    parley_udp_close(u);
    uv_run(&loop, UV_RUN_NOWAIT);
}

TEST(bad_config_refused)
{
    char err[256] = "";
    parley_udp_config cfg = {.bind_address = "not-an-address"};
    CHECK(parley_udp_open(&loop, &cfg, &cbs, err, sizeof err) == NULL && err[0]);
    cfg.bind_address = "192.0.2.1"; /* not ours */
    err[0] = '\0';
    CHECK(parley_udp_open(&loop, &cfg, &cbs, err, sizeof err) == NULL && err[0]);
    uv_run(&loop, UV_RUN_NOWAIT);
}

int main(void)
{
    uv_loop_init(&loop);
    RUN(ipv4);
    RUN(ipv6);
    RUN(dual_stack_ipv4_client);
    RUN(restart_routes_new_ufrag);
    RUN(remove_inside_callback);
    RUN(bad_config_refused);
    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0)
        printf("# loop not empty at the end\n");
    return tap_done();
}
