/* router_sim.c - the router's simulcast tracks (see router.h): layers
 * learned from the RID extension of their first packets, and per
 * subscription the layer it gets, moved at keyframes by its forwarder (the
 * layer asked for, a lower one while that one does not arrive). */
#include "router_int.h"

#include <stdlib.h>
#include <string.h>

simgroup *router_sim_find(const parley_router *r, uint32_t id)
{
    for (simgroup *g = r->sims; g; g = g->next)
        if (g->id == id)
            return g;
    return NULL;
}

int parley_router_add_simulcast(parley_router *r, parley_peer *pub, uint32_t id, uint8_t rid_ext_id,
                                const char *const *rids, size_t n)
{
    if (!pub || !rid_ext_id || !rids || n < 2 || n > PARLEY_ROUTER_MAX_LAYERS ||
        router_sim_find(r, id) || router_find_track(r, id))
        return -1;
    simgroup *g = calloc(1, sizeof *g);
    if (!g)
        return -1;
    for (size_t i = 0; i < n; i++) {
        size_t len = rids[i] ? strlen(rids[i]) : 0;
        if (!len || len >= sizeof g->rid[i]) {
            free(g);
            return -1;
        }
        memcpy(g->rid[i], rids[i], len + 1);
    }
    g->r = r;
    g->pub = pub;
    g->id = id;
    g->rid_ext = rid_ext_id;
    g->n = n;
    g->next = r->sims;
    r->sims = g;
    return 0;
}

track *router_sim_learn(parley_router *r, parley_peer *p, const uint8_t *pkt,
                        const parley_rtp_header *h, int64_t now)
{
    if (router_sim_find(r, h->ssrc))
        return NULL; /* an SSRC that is some group's id is never a layer */
    for (simgroup *g = r->sims; g; g = g->next) {
        const uint8_t *d;
        size_t n;
        if (g->pub != p || !parley_rtp_ext_find(pkt, h, g->rid_ext, &d, &n))
            continue;
        for (size_t i = 0; i < g->n; i++) {
            if (strlen(g->rid[i]) != n || memcmp(g->rid[i], d, n) != 0)
                continue;
            if (g->layer[i])
                return NULL; /* learned already, under another SSRC */
            track *t = router_track_new(r, p, h->ssrc, true);
            if (!t)
                return NULL;
            t->sim = g;
            t->layer = (int)i;
            t->last_ms = now;
            g->layer[i] = t;
            r->c.layers_learned++;
            for (sub *s = g->subs; s; s = s->next)
                router_sim_retarget(g, s, now);
            return t;
        }
    }
    return NULL;
}

/* A layer arrives when it sent something in the last
 * PARLEY_ROUTER_LAYER_STALE_MS. */
static bool arriving(const track *t, int64_t now)
{
    return t && now - t->last_ms <= PARLEY_ROUTER_LAYER_STALE_MS;
}

/* The layer for want: itself, else the nearest lower one arriving, else the
 * nearest higher one; -1 when none arrives. */
static int target_layer(const simgroup *g, int want, int64_t now)
{
    for (int i = want; i >= 0; i--)
        if (arriving(g->layer[i], now))
            return i;
    for (int i = want + 1; i < (int)g->n; i++)
        if (arriving(g->layer[i], now))
            return i;
    return -1;
}

void router_sim_retarget(simgroup *g, sub *s, int64_t now)
{
    int l = target_layer(g, s->want, now);
    if (l < 0)
        return; /* nothing arrives: what is set stays */
    const parley_forwarder *f = &s->fwd;
    track *t = g->layer[l];
    bool set = f->has_next ? f->next_ssrc == t->ssrc : f->has_src && f->src_ssrc == t->ssrc;
    if (!set)
        parley_forward_switch(&s->fwd, t->ssrc, &t->pli, now);
}

/* A forwarder waiting for a layer's keyframe asks (its limiter agreed). */
static void sim_keyframe(void *arg, uint32_t ssrc)
{
    simgroup *g = arg;
    for (size_t i = 0; i < g->n; i++)
        if (g->layer[i] && g->layer[i]->ssrc == ssrc)
            router_on_keyframe(g->layer[i], ssrc);
}

int router_sim_subscribe(parley_router *r, simgroup *g, parley_peer *peer, uint32_t out_ssrc)
{
    for (sub *s = g->subs; s; s = s->next)
        if (s->peer == peer)
            return -1;
    sub *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    s->peer = peer;
    s->sim = g;
    s->want = (int)g->n - 1;
    parley_forward_init(&s->fwd, out_ssrc, 90000, true, -1, sim_keyframe, g);
    s->next = g->subs;
    g->subs = s;
    router_sim_retarget(g, s, router_now_ms(r));
    return 0;
}

static sub *sim_sub(const parley_router *r, const parley_peer *peer, uint32_t id)
{
    simgroup *g = router_sim_find(r, id);
    for (sub *s = g ? g->subs : NULL; s; s = s->next)
        if (s->peer == peer)
            return s;
    return NULL;
}

int parley_router_set_layer(parley_router *r, parley_peer *peer, uint32_t id, int layer)
{
    sub *s = sim_sub(r, peer, id);
    if (!s || layer < 0)
        return -1;
    s->want = layer < (int)s->sim->n ? layer : (int)s->sim->n - 1;
    router_sim_retarget(s->sim, s, router_now_ms(r));
    return 0;
}

int parley_router_current_layer(const parley_router *r, const parley_peer *peer, uint32_t id)
{
    const sub *s = sim_sub(r, peer, id);
    return s && s->t && s->fwd.has_src && s->fwd.src_ssrc == s->t->ssrc ? s->t->layer : -1;
}

void router_sim_unlink(simgroup *g, parley_peer *peer)
{
    for (sub **pp = &g->subs; *pp;) {
        if ((*pp)->peer == peer) {
            sub *s = *pp;
            *pp = s->next;
            free(s);
        } else {
            pp = &(*pp)->next;
        }
    }
}

void router_sim_detach(track *t)
{
    simgroup *g = t->sim;
    g->layer[t->layer] = NULL;
    t->sim = NULL;
    for (sub *s = g->subs; s; s = s->next) {
        bool current = s->fwd.has_src && s->fwd.src_ssrc == t->ssrc;
        if (current || (s->fwd.has_next && s->fwd.next_ssrc == t->ssrc))
            parley_forward_stop(&s->fwd); /* the numbering resumes on another layer */
        if (s->t == t)
            s->t = NULL;
    }
}

void router_sim_free(parley_router *r, simgroup *g)
{
    for (simgroup **pp = &r->sims; *pp; pp = &(*pp)->next)
        if (*pp == g) {
            *pp = g->next;
            break;
        }
    while (g->subs) {
        sub *s = g->subs;
        g->subs = s->next;
        free(s);
    }
    for (size_t i = 0; i < g->n; i++)
        if (g->layer[i])
            router_track_drop(r, g->layer[i]);
    free(g);
}

void router_sim_tick(parley_router *r, int64_t now)
{
    for (simgroup *g = r->sims; g; g = g->next)
        for (sub *s = g->subs; s; s = s->next) {
            router_sim_retarget(g, s, now);
            parley_forward_poll(&s->fwd, now);
        }
}
