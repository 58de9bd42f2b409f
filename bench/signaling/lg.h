/* lg.h - what the signaling load generator's modules share.
 *
 * The generator drives N WebSocket participants through a run's phases
 * (join, duplicate-participant probes, hold, leave) on one libuv loop. The
 * modules:
 *   loadgen.c  the command line: options and their checks
 *   phases.c   the phase machine, pacing and every counter
 *   parley.c   the Parley signaling protocol (docs/protocol.md)
 *   janus.c    the same load in Janus VideoRoom terms, the peer we compare with
 *   report.c   the human-readable figures and the one JSON line
 * and, shared with the media benchmark (bench/common/, bench.h): ws.c the
 * libwebsockets client on the libuv loop, stats.c samples and /proc figures,
 * token.c HS256 tokens.
 *
 * A driver reports progress through lg_joined(), lg_failed(), lg_presence(),
 * lg_error_event() and lg_left(); phases.c owns every counter. */
#ifndef PARLEY_BENCH_LG_H
#define PARLEY_BENCH_LG_H

#include "bench.h"

/* ---- run state the drivers read ---- */

typedef struct lg_run_view {
    const char *token;        /* Parley */
    const char *mode;         /* Parley join mode */
    const char *const *rooms; /* Parley room ids */
    int64_t janus_room_base;  /* Janus room numbers: base + room index */
} lg_run_view;

extern lg_run_view lg_view;

/* ---- the run (phases.c) ---- */

typedef struct lg_config {
    const lg_driver *drv;
    const char *host, *path; /* a loopback host */
    int port;
    int participants, rooms, window, probes, server_pid;
    double rate, probe_rate, hold, timeout, keepalive;
    const char *label;
    unsigned fd_limit;
    bool verbose;
} lg_config;

/* Run every phase, print the report; returns the exit status (0: nothing
 * failed). lg_view must be filled first. */
int lg_run(const lg_config *cfg);

/* ---- events the drivers report (phases.c) ---- */

/* lg_join_sent() and lg_failed() are declared in bench.h. */
void lg_joined(lg_conn *c);
void lg_presence(lg_conn *c);
/* An error event arrived on c with this code. Returns true when the run
 * expected it (a duplicate probe's error); otherwise the driver fails c. */
bool lg_error_event(lg_conn *c, int code);
void lg_left(lg_conn *c);

/* ---- report.c ---- */

typedef struct lg_reason {
    const char *why;
    int code;
    long count;
} lg_reason;

#define LG_MAX_REASONS 8

typedef struct lg_result {
    const char *target, *label;
    int participants, rooms, window;
    double rate, hold_s;
    long joined, join_failures;
    double join_wall_s;      /* first connect started → last joined */
    lg_samples join_ms;
    long presence_rx;        /* over the whole run (probes' joins announce too) */
    long presence_join, presence_expected; /* from the join phase, and what it should give */
    int probes;              /* duplicate-participant probes started */
    long probes_ok, probe_failures;
    int dup_code;
    bool dup_to_old;
    lg_samples error_ms;
    long left, leave_failures, drops;
    long failures;           /* every failure above, summed */
    lg_reason reasons[LG_MAX_REASONS];
    int n_reasons;
    int server_pid;
    lg_proc before, after_join, end;
    double loadgen_cpu_s, duration_s;
    bool timed_out;
} lg_result;

/* Print the human-readable figures, then one JSON line, to stdout. */
void lg_report(lg_result *r);

#endif
