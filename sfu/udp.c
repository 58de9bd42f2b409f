/* udp.c - the SFU's UDP port: demultiplexing, the peer tables, sending
 * (see udp.h).
 *
 * Two hash tables map keys to peers: remote addresses (family, port, IP)
 * learned from valid ICE checks, and local ufrags (current and, during a
 * restart, previous). STUN requests are routed by their USERNAME, everything
 * else by address. A peer removed from inside a callback is unlinked at once
 * and freed when the loop is back in udp.c, so no callback can pull a peer or
 * an agent out from under the code that called it.
 *
 * Sending in batches. Forwarding one received packet sends it to every
 * subscriber of its track, all from inside the receive callback. While a
 * callback path is running (busy > 0), parley_udp_send copies each datagram
 * and its destination into the port's queue instead of making a system call;
 * the queue goes out with sendmmsg(2) when the outermost callback returns or
 * when it holds BATCH datagrams. The caller's buffer is never kept (the
 * router reuses one scratch buffer for every subscriber). Outside callbacks,
 * and where sendmmsg is not available, every datagram is sent at once. A
 * datagram the kernel refuses at the flush is counted in send_errors, like
 * one refused at once; parley_udp_send has already returned 0 for it.
 *
 * Socket buffers: SOCK_BUF for receiving and sending (the kernel caps them at
 * net.core.rmem_max / wmem_max); the default receive buffer overflows under a
 * burst of publishers' packets while the loop is busy forwarding. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/rand.h>

#include "stun.h"
#include "udp.h"

#define RECV_BUF 65536
#define KEY_MAX 20
#define TICK_MS 1000
#define SOCK_BUF (4 * 1024 * 1024)

#if defined(__linux__) && defined(MSG_WAITFORONE)
#define HAVE_SENDMMSG 1
#define BATCH 64
#define SLOT 2048 /* larger datagrams are sent at once */

typedef struct out_queue {
    unsigned n;
    struct mmsghdr m[BATCH];
    struct iovec iov[BATCH];
    struct sockaddr_storage to[BATCH];
    uint8_t data[BATCH][SLOT];
} out_queue;
#endif

typedef struct entry {
    struct entry *next;
    parley_udp_peer *peer;
    uint8_t klen;
    uint8_t key[KEY_MAX];
} entry;

typedef struct table {
    entry **b;
    size_t nb, n;
} table;

typedef struct addr_key {
    uint8_t len;
    uint8_t k[KEY_MAX];
} addr_key;

struct parley_udp_peer {
    parley_udp *u;
    parley_ice_agent *ice;
    void *owner;
    char ufrag[PARLEY_ICE_UFRAG_LEN + 1];
    char old_ufrag[PARLEY_ICE_UFRAG_LEN + 1];
    addr_key addrs[PARLEY_UDP_ADDRS_PER_PEER];
    int naddrs, next_addr;
    /* The agent's selected address, ready for the socket (v4-mapped on an
     * IPv6 one), kept so that sending does not ask the agent each time. The
     * selection only changes inside parley_ice_handle, parley_ice_tick and
     * parley_ice_restart, all called from this file, and with the agent's state
     * (parley_ice_close): refresh_selected follows each of them. */
    bool has_sel;
    socklen_t sel_len;
    struct sockaddr_storage sel;
    bool dead;
    parley_udp_peer *prev, *next;
};

struct parley_udp {
    uv_udp_t handle;
    uv_timer_t timer;
    uv_loop_t *loop;
    parley_udp_callbacks cb;
    parley_udp_counters c;
    int family;          /* of the socket */
    uint16_t port;
    char advertised[64];
    uint64_t seed;
    table by_addr, by_ufrag;
    parley_udp_peer *peers;
    int busy;            /* > 0 while inside a callback path */
    bool has_dead;
    int open_handles;
    int fd;              /* the socket's descriptor, -1 once closed */
    int rcvbuf, sndbuf;  /* the sizes the kernel reports */
#ifdef HAVE_SENDMMSG
    out_queue *q;
#endif
    uint8_t rbuf[RECV_BUF];
};

/* ---- hash tables ---- */

static uint64_t hash(const parley_udp *u, const uint8_t *k, size_t n)
{
    uint64_t h = 1469598103934665603ull ^ u->seed;
    for (size_t i = 0; i < n; i++)
        h = (h ^ k[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static entry **slot(const parley_udp *u, const table *t, const uint8_t *k, size_t n)
{
    entry **e = &t->b[hash(u, k, n) & (t->nb - 1)];
    while (*e && ((*e)->klen != n || memcmp((*e)->key, k, n)))
        e = &(*e)->next;
    return e;
}

static parley_udp_peer *table_get(const parley_udp *u, const table *t, const uint8_t *k, size_t n)
{
    if (!t->nb)
        return NULL;
    entry *e = *slot(u, t, k, n);
    return e ? e->peer : NULL;
}

static int table_grow(parley_udp *u, table *t)
{
    size_t nb = t->nb ? t->nb * 2 : 64;
    entry **b = calloc(nb, sizeof *b);
    if (!b)
        return -1;
    for (size_t i = 0; i < t->nb; i++) {
        for (entry *e = t->b[i], *next; e; e = next) {
            next = e->next;
            size_t h = hash(u, e->key, e->klen) & (nb - 1);
            e->next = b[h];
            b[h] = e;
        }
    }
    free(t->b);
    t->b = b;
    t->nb = nb;
    return 0;
}

static int table_put(parley_udp *u, table *t, const uint8_t *k, size_t n, parley_udp_peer *p)
{
    if (n > KEY_MAX || ((t->n + 1 > t->nb) && table_grow(u, t)))
        return -1;
    entry **s = slot(u, t, k, n);
    if (*s) {
        (*s)->peer = p;
        return 0;
    }
    entry *e = calloc(1, sizeof *e);
    if (!e)
        return -1;
    e->peer = p;
    e->klen = (uint8_t)n;
    memcpy(e->key, k, n);
    *s = e;
    t->n++;
    return 0;
}

/* Remove k if it maps to p (another peer may have taken it over since). */
static void table_del(parley_udp *u, table *t, const uint8_t *k, size_t n, parley_udp_peer *p)
{
    if (!t->nb)
        return;
    entry **s = slot(u, t, k, n);
    if (*s && (*s)->peer == p) {
        entry *e = *s;
        *s = e->next;
        free(e);
        t->n--;
    }
}

static void table_free(table *t)
{
    for (size_t i = 0; i < t->nb; i++)
        for (entry *e = t->b[i], *next; e; e = next) {
            next = e->next;
            free(e);
        }
    free(t->b);
    memset(t, 0, sizeof *t);
}

/* ---- addresses ---- */

/* v4-mapped IPv6 addresses become plain IPv4, in place. */
static void normalise(struct sockaddr_storage *ss)
{
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
    if (ss->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
        return;
    struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = s6->sin6_port};
    memcpy(&s4.sin_addr, s6->sin6_addr.s6_addr + 12, 4);
    memset(ss, 0, sizeof *ss);
    memcpy(ss, &s4, sizeof s4);
}

static bool make_key(const struct sockaddr *sa, addr_key *k)
{
    k->k[0] = (uint8_t)sa->sa_family;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        memcpy(k->k + 1, &s->sin_port, 2);
        memcpy(k->k + 3, &s->sin_addr, 4);
        k->len = 7;
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        memcpy(k->k + 1, &s->sin6_port, 2);
        memcpy(k->k + 3, &s->sin6_addr, 16);
        k->len = 19;
        return true;
    }
    return false;
}

static void learn_addr(parley_udp *u, parley_udp_peer *p, const struct sockaddr *sa)
{
    addr_key k;
    if (!make_key(sa, &k) || table_get(u, &u->by_addr, k.k, k.len) == p)
        return;
    if (p->naddrs == PARLEY_UDP_ADDRS_PER_PEER) { /* forget the oldest */
        addr_key *old = &p->addrs[p->next_addr];
        table_del(u, &u->by_addr, old->k, old->len, p);
        p->naddrs--;
    }
    if (table_put(u, &u->by_addr, k.k, k.len, p) == 0) {
        p->addrs[p->next_addr] = k;
        p->next_addr = (p->next_addr + 1) % PARLEY_UDP_ADDRS_PER_PEER;
        p->naddrs++;
    }
}

/* ---- sending ---- */

/* An IPv4 destination becomes v4-mapped on an IPv6 socket, in place;
 * false when the socket cannot reach it. */
static bool map_addr(const parley_udp *u, struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET && u->family == AF_INET6) {
        struct sockaddr_in s4;
        memcpy(&s4, ss, sizeof s4);
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        memset(s6, 0, sizeof *s6);
        s6->sin6_family = AF_INET6;
        s6->sin6_port = s4.sin_port;
        s6->sin6_addr.s6_addr[10] = s6->sin6_addr.s6_addr[11] = 0xff;
        memcpy(s6->sin6_addr.s6_addr + 12, &s4.sin_addr, 4);
    }
    return ss->ss_family == u->family;
}

static void refresh_selected(parley_udp *u, parley_udp_peer *p)
{
    p->has_sel = parley_ice_selected(p->ice, &p->sel) && map_addr(u, &p->sel);
    p->sel_len = p->sel.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static int send_to(parley_udp *u, const uint8_t *data, size_t len, const struct sockaddr *to)
{
    struct sockaddr_storage dst;
    memset(&dst, 0, sizeof dst);
    memcpy(&dst, to, to->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int r = map_addr(u, &dst) ? uv_udp_try_send(&u->handle, &b, 1, (const struct sockaddr *)&dst)
                              : UV_EAFNOSUPPORT;
    if (r < 0 || (size_t)r != len) {
        u->c.send_errors++;
        return -1;
    }
    u->c.sent++;
    return 0;
}

#ifdef HAVE_SENDMMSG
/* Send what the queue holds: sendmmsg stops at the first datagram refused,
 * which is counted and skipped; a full socket buffer drops the rest. */
static void flush(parley_udp *u)
{
    out_queue *q = u->q;
    if (!q || !q->n)
        return;
    unsigned n = q->n, at = 0;
    q->n = 0;
    if (u->fd < 0) {
        u->c.send_errors += n;
        return;
    }
    while (at < n) {
        int r = sendmmsg(u->fd, q->m + at, n - at, 0);
        if (r > 0) {
            u->c.sent += (uint64_t)r;
            at += (unsigned)r;
        } else if (r < 0 && errno == EINTR) {
            continue;
        } else if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
            u->c.send_errors++; /* this one datagram (its address, its size) */
            at++;
        } else {
            u->c.send_errors += n - at;
            break;
        }
    }
}

/* Queue a datagram for the peer's selected address; false when it must be
 * sent at once instead (no queue, not inside a callback, too large). */
static bool queue(parley_udp *u, parley_udp_peer *p, const uint8_t *data, size_t len, int *rc)
{
    out_queue *q = u->q;
    if (!q || !u->busy || len > SLOT || u->fd < 0)
        return false;
    unsigned i = q->n;
    struct sockaddr_storage *to = &q->to[i];
    memcpy(to, &p->sel, p->sel_len);
    memcpy(q->data[i], data, len);
    q->iov[i].iov_base = q->data[i];
    q->iov[i].iov_len = len;
    memset(&q->m[i], 0, sizeof q->m[i]);
    q->m[i].msg_hdr.msg_name = to;
    q->m[i].msg_hdr.msg_namelen = p->sel_len;
    q->m[i].msg_hdr.msg_iov = &q->iov[i];
    q->m[i].msg_hdr.msg_iovlen = 1;
    if (++q->n == BATCH)
        flush(u);
    *rc = 0;
    return true;
}
#else
static void flush(parley_udp *u)
{
    (void)u;
}
#endif

int parley_udp_send(parley_udp *u, parley_udp_peer *p, const uint8_t *data, size_t len)
{
    if (!p || p->dead || !p->has_sel) {
        u->c.send_errors++;
        return -1;
    }
#ifdef HAVE_SENDMMSG
    int rc;
    if (queue(u, p, data, len, &rc))
        return rc;
#endif
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int r = uv_udp_try_send(&u->handle, &b, 1, (const struct sockaddr *)&p->sel);
    if (r < 0 || (size_t)r != len) {
        u->c.send_errors++;
        return -1;
    }
    u->c.sent++;
    return 0;
}

/* The end of a callback path: the queue goes out with the outermost one. */
static void leave(parley_udp *u)
{
    if (--u->busy == 0)
        flush(u);
}

/* ---- peers ---- */

static void on_ice_state(parley_ice_agent *a, parley_ice_state s, void *arg)
{
    (void)a;
    parley_udp_peer *p = arg;
    refresh_selected(p->u, p);
    if (!p->dead && p->u->cb.on_state)
        p->u->cb.on_state(p, p->owner, s);
}

parley_udp_peer *parley_udp_peer_add(parley_udp *u, void *owner)
{
    parley_udp_peer *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->u = u;
    p->owner = owner;
    p->ice = parley_ice_new(on_ice_state, p);
    if (!p->ice) {
        free(p);
        return NULL;
    }
    snprintf(p->ufrag, sizeof p->ufrag, "%s", parley_ice_local_ufrag(p->ice));
    if (table_put(u, &u->by_ufrag, (const uint8_t *)p->ufrag, strlen(p->ufrag), p)) {
        parley_ice_free(p->ice);
        free(p);
        return NULL;
    }
    p->next = u->peers;
    if (u->peers)
        u->peers->prev = p;
    u->peers = p;
    return p;
}

parley_ice_agent *parley_udp_peer_ice(parley_udp_peer *p)
{
    return p->ice;
}

static void unlink_tables(parley_udp *u, parley_udp_peer *p)
{
    for (int i = 0; i < p->naddrs; i++) {
        int at = (p->next_addr - p->naddrs + i + PARLEY_UDP_ADDRS_PER_PEER) % PARLEY_UDP_ADDRS_PER_PEER;
        table_del(u, &u->by_addr, p->addrs[at].k, p->addrs[at].len, p);
    }
    p->naddrs = 0;
    table_del(u, &u->by_ufrag, (const uint8_t *)p->ufrag, strlen(p->ufrag), p);
    if (p->old_ufrag[0])
        table_del(u, &u->by_ufrag, (const uint8_t *)p->old_ufrag, strlen(p->old_ufrag), p);
}

static void free_peer(parley_udp *u, parley_udp_peer *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        u->peers = p->next;
    if (p->next)
        p->next->prev = p->prev;
    parley_ice_free(p->ice);
    free(p);
}

void parley_udp_peer_remove(parley_udp *u, parley_udp_peer *p)
{
    if (!p || p->dead)
        return;
    unlink_tables(u, p);
    p->dead = true;
    if (u->busy)
        u->has_dead = true;
    else
        free_peer(u, p);
}

static void reap(parley_udp *u)
{
    if (u->busy || !u->has_dead)
        return;
    u->has_dead = false;
    for (parley_udp_peer *p = u->peers, *next; p; p = next) {
        next = p->next;
        if (p->dead)
            free_peer(u, p);
    }
}

/* Drop the previous ufrag once the agent no longer accepts it. */
static void retire_old_ufrag(parley_udp *u, parley_udp_peer *p)
{
    if (p->old_ufrag[0] && !parley_ice_previous_ufrag(p->ice)) {
        table_del(u, &u->by_ufrag, (const uint8_t *)p->old_ufrag, strlen(p->old_ufrag), p);
        p->old_ufrag[0] = '\0';
    }
}

int parley_udp_peer_restart(parley_udp *u, parley_udp_peer *p)
{
    if (!p || p->dead)
        return -1;
    if (p->old_ufrag[0]) /* a restart during a restart: the oldest goes */
        table_del(u, &u->by_ufrag, (const uint8_t *)p->old_ufrag, strlen(p->old_ufrag), p);
    p->old_ufrag[0] = '\0';
    u->busy++;
    int r = parley_ice_restart(p->ice, (int64_t)uv_now(u->loop));
    refresh_selected(u, p);
    leave(u);
    if (r == 0) {
        const char *prev = parley_ice_previous_ufrag(p->ice);
        if (prev)
            snprintf(p->old_ufrag, sizeof p->old_ufrag, "%s", prev);
        else
            table_del(u, &u->by_ufrag, (const uint8_t *)p->ufrag, strlen(p->ufrag), p);
        snprintf(p->ufrag, sizeof p->ufrag, "%s", parley_ice_local_ufrag(p->ice));
        if (table_put(u, &u->by_ufrag, (const uint8_t *)p->ufrag, strlen(p->ufrag), p))
            r = -1;
    }
    reap(u);
    return r;
}

/* ---- receiving ---- */

static void on_stun(parley_udp *u, const uint8_t *d, size_t n, const struct sockaddr *from)
{
    parley_stun_msg m;
    if (parley_stun_parse(d, n, &m, NULL) != 0) {
        u->c.drop_bad_stun++;
        return;
    }
    parley_udp_peer *p = NULL;
    if (m.username) {
        const char *colon = memchr(m.username, ':', m.username_len);
        size_t ulen = colon ? (size_t)(colon - m.username) : m.username_len;
        p = table_get(u, &u->by_ufrag, (const uint8_t *)m.username, ulen);
    } else {
        addr_key k;
        if (make_key(from, &k))
            p = table_get(u, &u->by_addr, k.k, k.len);
    }
    if (!p) {
        u->c.drop_unknown_ufrag++;
        return;
    }
    u->c.stun++;
    uint8_t resp[512];
    size_t rlen = 0;
    parley_ice_result r =
        parley_ice_handle(p->ice, d, n, from, (int64_t)uv_now(u->loop), resp, sizeof resp, &rlen);
    refresh_selected(u, p);
    if (rlen)
        send_to(u, resp, rlen, from);
    if (p->dead)
        return;
    if (r == PARLEY_ICE_VALID) {
        learn_addr(u, p, from);
        retire_old_ufrag(u, p);
    } else if (r == PARLEY_ICE_IGNORED) {
        u->c.stun_ignored++;
    } else {
        u->c.stun_rejected++;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    parley_udp *u = h->data;
    *buf = uv_buf_init((char *)u->rbuf, sizeof u->rbuf);
}

static void on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                    unsigned flags)
{
    parley_udp *u = h->data;
    if (nread < 0 || !addr)
        return; /* nothing received (or a transient error): nothing to do */
    u->c.received++;
    const uint8_t *d = (const uint8_t *)buf->base;
    size_t n = (size_t)nread;
    if (n == 0 || (flags & UV_UDP_PARTIAL)) {
        u->c.drop_garbage++;
        return;
    }
    struct sockaddr_storage from;
    memset(&from, 0, sizeof from);
    memcpy(&from, addr, addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in));
    normalise(&from);
    const struct sockaddr *sa = (const struct sockaddr *)&from;

    uint8_t b = d[0];
    u->busy++;
    if (b <= 3) {
        on_stun(u, d, n, sa);
    } else if ((b >= 20 && b <= 63) || (b >= 128 && b <= 191)) {
        addr_key k;
        parley_udp_peer *p = make_key(sa, &k) ? table_get(u, &u->by_addr, k.k, k.len) : NULL;
        if (!p) {
            u->c.drop_unknown_peer++;
        } else if (b <= 63) {
            u->c.dtls++;
            if (u->cb.on_dtls)
                u->cb.on_dtls(p, p->owner, d, n);
        } else {
            u->c.rtp++;
            if (u->cb.on_rtp)
                u->cb.on_rtp(p, p->owner, d, n);
        }
    } else {
        u->c.drop_garbage++;
    }
    leave(u);
    reap(u);
}

static void on_tick(uv_timer_t *t)
{
    parley_udp *u = t->data;
    int64_t now = (int64_t)uv_now(u->loop);
    u->busy++;
    for (parley_udp_peer *p = u->peers; p; p = p->next)
        if (!p->dead) {
            parley_ice_tick(p->ice, now);
            refresh_selected(u, p);
        }
    leave(u);
    reap(u);
}

/* ---- the port ---- */

static void on_closed(uv_handle_t *h)
{
    parley_udp *u = h->data;
    if (--u->open_handles == 0) {
#ifdef HAVE_SENDMMSG
        free(u->q);
#endif
        free(u);
    }
}

parley_udp *parley_udp_open(uv_loop_t *loop, const parley_udp_config *cfg,
                            const parley_udp_callbacks *cb, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    const char *host = cfg && cfg->bind_address ? cfg->bind_address : "0.0.0.0";
    uint16_t port = cfg ? cfg->port : 0;
    int r = strchr(host, ':') ? uv_ip6_addr(host, port, (struct sockaddr_in6 *)&ss)
                              : uv_ip4_addr(host, port, (struct sockaddr_in *)&ss);
    if (r) {
        snprintf(err, errlen, "bad bind address %s: %s", host, uv_strerror(r));
        return NULL;
    }
    if (cfg && cfg->advertised_address && strlen(cfg->advertised_address) >= 64) {
        snprintf(err, errlen, "advertised address too long");
        return NULL;
    }
    parley_udp *u = calloc(1, sizeof *u);
    if (!u) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    u->loop = loop;
    if (cb)
        u->cb = *cb;
    if (cfg && cfg->advertised_address)
        snprintf(u->advertised, sizeof u->advertised, "%s", cfg->advertised_address);
    if (RAND_bytes((unsigned char *)&u->seed, sizeof u->seed) != 1)
        u->seed = (uint64_t)(uintptr_t)u;
    u->family = ss.ss_family;
    u->fd = -1;
#ifdef HAVE_SENDMMSG
    u->q = malloc(sizeof *u->q); /* without it, every datagram is sent at once */
    if (u->q)
        u->q->n = 0;
#endif
    u->handle.data = u->timer.data = u;
    if ((r = uv_udp_init(loop, &u->handle))) {
        snprintf(err, errlen, "uv_udp_init: %s", uv_strerror(r));
#ifdef HAVE_SENDMMSG
        free(u->q);
#endif
        free(u);
        return NULL;
    }
    u->open_handles = 1;
    if ((r = uv_udp_bind(&u->handle, (const struct sockaddr *)&ss, 0)) ||
        (r = uv_udp_recv_start(&u->handle, on_alloc, on_recv))) {
        snprintf(err, errlen, "cannot bind %s port %u: %s", host, port, uv_strerror(r));
        uv_close((uv_handle_t *)&u->handle, on_closed);
        return NULL;
    }
    uv_os_fd_t fd;
    if (uv_fileno((const uv_handle_t *)&u->handle, &fd) == 0)
        u->fd = fd;
    int size = SOCK_BUF;
    uv_recv_buffer_size((uv_handle_t *)&u->handle, &size); /* best effort: capped by the kernel */
    size = SOCK_BUF;
    uv_send_buffer_size((uv_handle_t *)&u->handle, &size);
    size = 0;
    if (uv_recv_buffer_size((uv_handle_t *)&u->handle, &size) == 0)
        u->rcvbuf = size;
    size = 0;
    if (uv_send_buffer_size((uv_handle_t *)&u->handle, &size) == 0)
        u->sndbuf = size;
    struct sockaddr_storage bound;
    int blen = sizeof bound;
    if (uv_udp_getsockname(&u->handle, (struct sockaddr *)&bound, &blen) == 0)
        u->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
                                                    : ((struct sockaddr_in *)&bound)->sin_port);
    if (uv_timer_init(loop, &u->timer) == 0) {
        u->open_handles++;
        uv_timer_start(&u->timer, on_tick, TICK_MS, TICK_MS);
        uv_unref((uv_handle_t *)&u->timer); /* the port, not its timer, keeps a loop alive */
    }
    return u;
}

void parley_udp_close(parley_udp *u)
{
    if (!u)
        return;
    while (u->peers) {
        parley_udp_peer *p = u->peers;
        unlink_tables(u, p);
        free_peer(u, p);
    }
    table_free(&u->by_addr);
    table_free(&u->by_ufrag);
#ifdef HAVE_SENDMMSG
    if (u->q) { /* closed from inside a callback: what it queued is dropped */
        u->c.send_errors += u->q->n;
        u->q->n = 0;
    }
#endif
    u->fd = -1;
    uv_udp_recv_stop(&u->handle);
    if (u->open_handles == 2)
        uv_close((uv_handle_t *)&u->timer, on_closed);
    uv_close((uv_handle_t *)&u->handle, on_closed);
}

uint16_t parley_udp_port(const parley_udp *u)
{
    return u->port;
}

const char *parley_udp_advertised(const parley_udp *u)
{
    return u->advertised[0] ? u->advertised : NULL;
}

void parley_udp_buffer_sizes(const parley_udp *u, int *recv, int *send)
{
    *recv = u->rcvbuf;
    *send = u->sndbuf;
}

void parley_udp_get_counters(const parley_udp *u, parley_udp_counters *out)
{
    *out = u->c;
}
