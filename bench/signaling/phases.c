/* phases.c - the run's phase machine, its pacing and its counters.
 *
 * A run is bounded in count and time and goes through these phases:
 *   join    start N participants across R rooms at --rate joins/s (0: as fast
 *           as --window joins in flight allow); each connects, joins and
 *           stays. Join latency is connect start → `joined`.
 *   settle  wait for the presence events the joins caused to arrive; the
 *           server's CPU and RSS are read before the join phase and here.
 *   probe   duplicate-participant probes at --probe-rate: a new connection
 *           joins with an existing participant's id. The latency is the
 *           newcomer's join leaving the socket → the error event received
 *           (Parley: 4005 on the older connection; Janus: 436 to the newcomer).
 *   hold    everyone stays --hold seconds.
 *   leave   everyone leaves at the join pace.
 * From the probe phase on, joined participants send a keepalive every
 * --keepalive seconds, as a real client does, so neither server drops them
 * as silent (none is sent while join CPU is measured). One 1 ms libuv timer
 * drives it all; the drivers report through the lg_* event functions here,
 * which own every counter. Then report.c prints the figures. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <uv.h>

#include "lg.h"

typedef enum { PH_JOIN, PH_SETTLE, PH_PROBE, PH_HOLD, PH_LEAVE, PH_DONE } lg_phase;

enum { PROBE_JOINED = 1, PROBE_ERROR = 2, PROBE_RESOLVED = 4 };

static struct {
    const lg_driver *drv;
    int n, n_rooms, n_probes, window, server_pid;
    double rate, probe_rate, hold, timeout, keepalive;
    double ka_credit; /* keepalives owed, spread over the interval */
    int ka_next;      /* where the keepalive sweep resumes */
    double t_last_tick;
    lg_conn *conns;   /* n participants, then the probes */
    long *room_joined;
    int started, probes_started, leave_next;
    long probes_resolved, leaving;
    lg_phase ph;
    double t0, t_phase, t_first, t_last_joined, t_last_presence, t_last_probe, deadline;
    bool reported;
    uv_loop_t loop;
    uv_timer_t tick;
    uv_signal_t sigint, sigterm;
    lg_result r;
} run;

/* ---- events from the drivers ---- */

static void note_reason(const char *why, int code)
{
    for (int i = 0; i < run.r.n_reasons; i++)
        if (run.r.reasons[i].code == code && !strcmp(run.r.reasons[i].why, why)) {
            run.r.reasons[i].count++;
            return;
        }
    if (run.r.n_reasons < LG_MAX_REASONS)
        run.r.reasons[run.r.n_reasons++] = (lg_reason){why, code, 1};
}

static void probe_mark(lg_conn *probe, int bits, bool ok)
{
    if (!probe || (probe->step & PROBE_RESOLVED))
        return;
    probe->step |= bits;
    if (!ok) {
        probe->step |= PROBE_RESOLVED;
        run.r.probe_failures++;
        run.probes_resolved++;
        return;
    }
    int need = run.drv->dup_to_old ? (PROBE_JOINED | PROBE_ERROR) : PROBE_ERROR;
    if ((probe->step & need) == need) {
        probe->step |= PROBE_RESOLVED;
        run.r.probes_ok++;
        run.probes_resolved++;
    }
}

void lg_join_sent(lg_conn *c)
{
    c->t_join_sent = lg_now();
}

void lg_failed(lg_conn *c, const char *why, int code)
{
    if (run.reported || c->state == LG_DONE || c->state == LG_FAILED)
        return;
    lg_state prev = c->state;
    c->state = LG_FAILED;
    note_reason(why, code);
    if (c->probe)
        probe_mark(c, 0, false);
    else if (prev == LG_CONNECTING || prev == LG_JOINING)
        run.r.join_failures++;
    else if (prev == LG_LEAVING) {
        run.r.leave_failures++;
        run.leaving--;
    } else
        run.r.drops++;
    if (c->newcomer && prev == LG_JOINED)
        probe_mark(c->newcomer, 0, false); /* the victim went before its error came */
    if (getenv("LG_VERBOSE"))
        fprintf(stderr, "loadgen: %s: %s (%d)\n", c->pid, why, code);
    lg_ws_close(c);
}

void lg_joined(lg_conn *c)
{
    if (run.reported)
        return;
    double now = lg_now();
    if (c->probe) {
        if (!run.drv->dup_to_old) {
            lg_failed(c, "duplicate id accepted", 0);
            return;
        }
        c->state = LG_JOINED;
        probe_mark(c, PROBE_JOINED, true);
        return;
    }
    c->state = LG_JOINED;
    run.r.joined++;
    run.room_joined[c->room]++;
    run.t_last_joined = now;
    lg_samples_add(&run.r.join_ms, (now - c->t_start) * 1000.0);
}

void lg_presence(lg_conn *c)
{
    (void)c;
    run.r.presence_rx++;
    run.t_last_presence = lg_now();
}

bool lg_error_event(lg_conn *c, int code)
{
    if (run.reported || code != run.drv->dup_code)
        return false;
    double now = lg_now();
    if (run.drv->dup_to_old && c->newcomer && c->state == LG_JOINED && c->newcomer->t_join_sent > 0) {
        lg_samples_add(&run.r.error_ms, (now - c->newcomer->t_join_sent) * 1000.0);
        c->state = LG_REPLACED;
        probe_mark(c->newcomer, PROBE_ERROR, true);
        return true;
    }
    if (!run.drv->dup_to_old && c->probe && c->state == LG_JOINING && c->t_join_sent > 0) {
        lg_samples_add(&run.r.error_ms, (now - c->t_join_sent) * 1000.0);
        c->state = LG_DONE;
        probe_mark(c, PROBE_ERROR, true);
        lg_ws_close(c);
        return true;
    }
    return false;
}

void lg_left(lg_conn *c)
{
    if (run.reported || c->state != LG_LEAVING)
        return;
    c->state = LG_DONE;
    run.r.left++;
    run.leaving--;
}

/* ---- phases ---- */

static void start_conn(lg_conn *c, double now)
{
    if (!run.t_first)
        run.t_first = now;
    lg_ws_connect(c);
}

static void pace_joins(double now)
{
    long due = run.n;
    if (run.rate > 0) {
        due = (long)((now - run.t_phase) * run.rate) + 1;
        if (due > run.n)
            due = run.n;
    }
    while (run.started < due) {
        long inflight = run.started - run.r.joined - run.r.join_failures;
        if (run.window > 0 && inflight >= run.window)
            break;
        start_conn(&run.conns[run.started++], now);
    }
}

static void pace_probes(double now)
{
    long due = (long)((now - run.t_phase) * run.probe_rate) + 1;
    if (due > run.n_probes)
        due = run.n_probes;
    int stride = run.n / (run.n_probes ? run.n_probes : 1);
    if (stride < 1)
        stride = 1;
    while (run.probes_started < due) {
        int k = run.probes_started++;
        lg_conn *p = &run.conns[run.n + k];
        /* the victim: the k-th participant spread over the table, still joined */
        lg_conn *v = NULL;
        for (int i = 0; i < run.n && !v; i++) {
            lg_conn *cand = &run.conns[(k * stride + i) % run.n];
            if (cand->state == LG_JOINED && !cand->newcomer)
                v = cand;
        }
        if (!v) {
            p->probe = true;
            note_reason("no joined participant to duplicate", 0);
            run.r.probe_failures++;
            run.probes_resolved++;
            continue;
        }
        p->probe = true;
        p->victim = v;
        p->room = v->room;
        p->num_id = v->num_id;
        memcpy(p->pid, v->pid, sizeof p->pid);
        v->newcomer = p;
        run.r.probes++;
        run.t_last_probe = now;
        start_conn(p, now);
    }
}

static void pace_leaves(double now)
{
    int total = run.n + run.n_probes;
    long due = total;
    if (run.rate > 0) {
        due = (long)((now - run.t_phase) * run.rate) + 1;
        if (due > total)
            due = total;
    }
    while (run.leave_next < due) {
        if (run.window > 0 && run.leaving >= run.window)
            break;
        lg_conn *c = &run.conns[run.leave_next++];
        if (c->state != LG_JOINED)
            continue;
        run.leaving++;
        run.drv->leave(c);
    }
}

/* Every joined participant gets one keepalive per interval, spread evenly
 * over it rather than in bursts. */
static void keepalives(double now)
{
    int total = run.n + run.n_probes;
    double dt = run.t_last_tick ? now - run.t_last_tick : 0;
    run.t_last_tick = now;
    /* not while the server's CPU per join is being measured */
    if (run.keepalive <= 0 || run.ph == PH_JOIN || run.ph == PH_SETTLE)
        return;
    run.ka_credit += dt * total / run.keepalive;
    while (run.ka_credit >= 1) {
        run.ka_credit -= 1;
        lg_conn *c = &run.conns[run.ka_next];
        run.ka_next = (run.ka_next + 1) % total;
        if (c->state == LG_JOINED && c->wsi)
            run.drv->keepalive(c);
    }
}

static void enter(lg_phase ph, double now)
{
    run.ph = ph;
    run.t_phase = now;
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void finish(double now)
{
    int total = run.n + run.n_probes;
    for (int i = 0; i < total; i++) {
        lg_conn *c = &run.conns[i];
        if (c->probe && c->victim && !(c->step & PROBE_RESOLVED)) {
            probe_mark(c, 0, false);
            note_reason("probe unresolved", 0);
        }
        if (run.r.timed_out && c->state != LG_IDLE && c->state != LG_DONE && c->state != LG_FAILED &&
            c->state != LG_REPLACED)
            lg_failed(c, "timed out", 0);
    }
    /* participants never started count as failed joins */
    if (run.started < run.n) {
        run.r.join_failures += run.n - run.started;
        note_reason("never started", 0);
    }
    run.r.end = lg_proc_read(run.server_pid);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    run.r.loadgen_cpu_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                          (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    run.r.join_wall_s = run.t_last_joined > run.t_first ? run.t_last_joined - run.t_first : 0;
    run.r.duration_s = now - run.t0;
    run.r.failures = run.r.join_failures + run.r.probe_failures + run.r.leave_failures + run.r.drops;
    lg_report(&run.r);
    run.reported = true;
    run.ph = PH_DONE;
    lg_ws_destroy();
    uv_timer_stop(&run.tick);
    close_handle((uv_handle_t *)&run.tick);
    close_handle((uv_handle_t *)&run.sigint);
    close_handle((uv_handle_t *)&run.sigterm);
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
    double now = lg_now();
    if (run.ph == PH_DONE)
        return;
    if (now >= run.deadline) {
        run.r.timed_out = true;
        finish(now);
        return;
    }
    keepalives(now);
    switch (run.ph) {
    case PH_JOIN:
        pace_joins(now);
        if (run.r.joined + run.r.join_failures >= run.n) {
            for (int r = 0; r < run.n_rooms; r++)
                run.r.presence_expected += run.room_joined[r] * (run.room_joined[r] - 1) / 2;
            enter(PH_SETTLE, now);
        }
        break;
    case PH_SETTLE: {
        double quiet = now - (run.t_last_presence > run.t_phase ? run.t_last_presence : run.t_phase);
        if (run.r.presence_rx >= run.r.presence_expected || quiet > 1.0 || now - run.t_phase > 10.0) {
            run.r.after_join = lg_proc_read(run.server_pid);
            run.r.presence_join = run.r.presence_rx;
            enter(PH_PROBE, now);
        }
        break;
    }
    case PH_PROBE:
        pace_probes(now);
        if (run.probes_resolved >= run.n_probes ||
            (run.probes_started >= run.n_probes && now - run.t_last_probe > 10.0))
            enter(PH_HOLD, now);
        break;
    case PH_HOLD:
        if (now - run.t_phase >= run.hold)
            enter(PH_LEAVE, now);
        break;
    case PH_LEAVE:
        pace_leaves(now);
        if (run.leave_next >= run.n + run.n_probes && run.leaving <= 0)
            finish(now);
        break;
    case PH_DONE:
        break;
    }
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    (void)signum;
    run.deadline = 0; /* the next tick reports what was measured */
}

int lg_run(const lg_config *cfg)
{
    run.drv = cfg->drv;
    run.n = cfg->participants;
    run.n_rooms = cfg->rooms;
    run.n_probes = cfg->probes;
    run.window = cfg->window;
    run.server_pid = cfg->server_pid;
    run.rate = cfg->rate;
    run.probe_rate = cfg->probe_rate;
    run.hold = cfg->hold;
    run.timeout = cfg->timeout;
    run.keepalive = cfg->keepalive;
    run.r.label = cfg->label;

    run.conns = calloc((size_t)(run.n + run.n_probes), sizeof *run.conns);
    run.room_joined = calloc((size_t)run.n_rooms, sizeof *run.room_joined);
    if (!run.conns || !run.room_joined) {
        free(run.conns);
        free(run.room_joined);
        return 1;
    }
    for (int i = 0; i < run.n + run.n_probes; i++) {
        lg_conn *c = &run.conns[i];
        c->idx = i;
        c->room = i % run.n_rooms;
        c->num_id = i + 1;
        snprintf(c->pid, sizeof c->pid, "p%06d", i);
    }

    run.r.target = run.drv->name;
    run.r.participants = run.n;
    run.r.rooms = run.n_rooms;
    run.r.window = run.window;
    run.r.rate = run.rate;
    run.r.hold_s = run.hold;
    run.r.dup_code = run.drv->dup_code;
    run.r.dup_to_old = run.drv->dup_to_old;
    run.r.server_pid = run.server_pid;

    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&run.loop);
    lg_ws_opts wo = {.host = cfg->host, .port = cfg->port, .path = cfg->path,
                     .subprotocol = run.drv->subprotocol, .fd_limit = cfg->fd_limit, .verbose = cfg->verbose};
    int status = 1;
    if (lg_ws_init(&run.loop, &wo, run.drv)) {
        fprintf(stderr, "loadgen: cannot create the WebSocket context\n");
        goto out;
    }
    uv_timer_init(&run.loop, &run.tick);
    uv_signal_init(&run.loop, &run.sigint);
    uv_signal_init(&run.loop, &run.sigterm);
    uv_signal_start(&run.sigint, on_signal, SIGINT);
    uv_signal_start(&run.sigterm, on_signal, SIGTERM);

    run.r.before = lg_proc_read(run.server_pid);
    run.t0 = lg_now();
    run.deadline = run.t0 + run.timeout;
    enter(PH_JOIN, run.t0);
    uv_timer_start(&run.tick, on_tick, 0, 1);
    uv_run(&run.loop, UV_RUN_DEFAULT);
    for (int i = 0; i < 3 && lg_ws_alive(); i++) {
        lg_ws_destroy();
        uv_run(&run.loop, UV_RUN_DEFAULT);
    }
    status = run.r.failures || run.r.timed_out ? 1 : 0;
out:
    uv_loop_close(&run.loop);
    for (int i = 0; i < run.n + run.n_probes; i++)
        lg_ws_release(&run.conns[i]);
    free(run.conns);
    free(run.room_joined);
    lg_samples_free(&run.r.join_ms);
    lg_samples_free(&run.r.error_ms);
    return status;
}
