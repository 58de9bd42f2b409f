/* main.c - the media forwarding generator: options, phases, pacing, report.
 *
 *   sfuload --target parley|janus --url ws://127.0.0.1:PORT/PATH
 *           --publishers P --subscribers S --seconds T [options]
 *
 * Phases, bounded in count and time:
 *   publish    the P publishers join, publish and connect their media; each
 *              then sends 600 kbit/s VP8 + 32 kbit/s Opus until the end
 *   subscribe  S subscribers, at --rate per second with at most --window in
 *              flight: subscriber i receives publisher i mod P (in its room)
 *   warm-up    --warmup seconds (default 3: longer than the 2 s between
 *              keyframes, so every subscriber's video has started)
 *   measure    --seconds T: packets and bytes received, loss from sequence
 *              gaps per stream, forwarding latency (payload send time →
 *              receive, after SRTP), and the server's CPU (utime + stime) and
 *              RSS from /proc before and after
 * Server cost is reported per forwarded packet (packets received by the
 * subscribers ÷ server CPU seconds) and, from it, per subscriber: one
 * subscriber at full rate receives what one publisher sends by its schedule
 * (113.5 packets/s), so subscribers per core = forwarded packets per core ÷
 * that, and CPU per subscriber-second is its inverse. Loss thus never makes a
 * subscriber look cheaper than it is.
 * Then the figures, one JSON line, and exit 0 only if nothing failed.
 * Signaling targets are loopback only. Media binds to and goes to loopback
 * addresses only, or, inside a network namespace of the generator's own
 * (bench/sfu/run.sh makes one for Janus), to that namespace's addresses:
 * never to the machine's real interfaces. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sb.h"

sb_view sb;
uv_loop_t *sb_loop;

typedef enum { PH_PUBLISH, PH_SUBSCRIBE, PH_WARM, PH_MEASURE, PH_DONE } phase;

#define MAX_REASONS 8

static struct {
    const lg_driver *drv;
    int n_pub, n_sub, n, window, server_pid;
    double rate, warmup, seconds, timeout;
    const char *label;
    sb_ep *eps;
    int started, connected, failed;
    phase ph;
    double t0, t_phase, deadline, t_meas0, t_meas1, sub_credit, t_last;
    bool timed_out, interrupted;
    lg_proc before, after;
    double load0, load1; /* the machine's 1-minute load average at the start and end of the measurement */
    double loadgen_cpu0, loadgen_cpu1;
    lg_samples setup_ms;
    struct { const char *why; int code; long count; } reasons[MAX_REASONS];
    int n_reasons;
    long fail_measure; /* endpoints that failed during the measurement */
    uv_loop_t loop;
    uv_timer_t send_timer, tick;
    uv_signal_t sigint, sigterm;
} run;

/* ---- endpoints ---- */

sb_ep *sb_publisher_of(const sb_ep *e)
{
    return &run.eps[e->group];
}

void sb_pid(const sb_ep *e, char *out, size_t n)
{
    snprintf(out, n, "%s-%llx-%d", e->pub ? "pub" : "sub", (unsigned long long)sb.tag, e->pub ? e->group : e->idx);
}

static void note_reason(const char *why, int code)
{
    for (int i = 0; i < run.n_reasons; i++)
        if (run.reasons[i].code == code && !strcmp(run.reasons[i].why, why)) {
            run.reasons[i].count++;
            return;
        }
    if (run.n_reasons < MAX_REASONS) {
        run.reasons[run.n_reasons].why = why;
        run.reasons[run.n_reasons].code = code;
        run.reasons[run.n_reasons++].count = 1;
    }
}

void sb_fail(sb_ep *e, const char *why, int code)
{
    if (e->state == SB_FAILED)
        return;
    if (getenv("LG_VERBOSE"))
        fprintf(stderr, "sfuload: %s: %s (%d)\n", e->ws.pid, why, code);
    e->state = SB_FAILED;
    e->fail_why = why;
    e->ws.state = LG_FAILED;
    run.failed++;
    if (run.ph == PH_MEASURE)
        run.fail_measure++;
    note_reason(why, code);
    e->checks_on = false;
    sb_media_close(e);
    lg_ws_close(&e->ws);
}

void sb_on_close(lg_conn *c)
{
    sb_ep *e = sb_of(c);
    if (c->state != LG_DONE && e->state != SB_FAILED)
        sb_fail(e, "connection closed", 0);
}

void lg_join_sent(lg_conn *c)
{
    (void)c;
}

void lg_failed(lg_conn *c, const char *why, int code)
{
    if (c->user)
        sb_fail(c->user, why, code);
}

static void start(sb_ep *e)
{
    e->state = SB_SIGNALING;
    e->t_start = lg_now();
    run.started++;
    if (sb_media_open(e)) {
        sb_fail(e, "cannot open a UDP socket", 0);
        return;
    }
    lg_ws_connect(&e->ws);
}

/* ---- phases ---- */

static double cpu_self(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
}

static double loadavg(void)
{
    double v = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

static void enter(phase ph, double now)
{
    run.ph = ph;
    run.t_phase = now;
    if (ph == PH_MEASURE) {
        sb_measure_start(run.eps, run.n);
        run.before = lg_proc_read(run.server_pid);
        run.loadgen_cpu0 = cpu_self();
        run.load0 = loadavg();
        run.t_meas0 = now;
    }
}

static void count_connected(void)
{
    int c = 0;
    for (int i = 0; i < run.n; i++)
        if (run.eps[i].state == SB_CONNECTED) {
            c++;
            if (!run.eps[i].pub && !run.eps[i].setup_counted) {
                lg_samples_add(&run.setup_ms, (run.eps[i].t_connected - run.eps[i].t_start) * 1000.0);
                run.eps[i].setup_counted = true;
            }
        }
    run.connected = c;
}

static void report(void);
static void finish(void);

static void on_send(uv_timer_t *t)
{
    (void)t;
    double now = lg_now();
    for (int i = 0; i < run.n_pub; i++)
        sb_media_send(&run.eps[i], now);
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
    double now = lg_now();
    for (int i = 0; i < run.n; i++) {
        sb_ep *e = &run.eps[i];
        if (e->state == SB_IDLE || e->state == SB_FAILED)
            continue;
        sb_media_tick(e, now);
        /* signaling keepalive every 15 s, spread over the endpoints */
        if (e->t_keepalive == 0) {
            e->t_keepalive = now + 5.0 + 10.0 * (double)i / (double)run.n;
        } else if (e->ws.wsi && e->ws.state == LG_JOINED && now >= e->t_keepalive) {
            run.drv->keepalive(&e->ws);
            e->t_keepalive = now + 15.0;
        }
    }
    count_connected();
    int in_flight = run.started - run.connected - run.failed;
    if (run.interrupted || now >= run.deadline) {
        run.timed_out = !run.interrupted;
        finish();
        return;
    }
    switch (run.ph) {
    case PH_PUBLISH:
        if (run.connected + run.failed >= run.n_pub) {
            if (run.connected < run.n_pub) {
                finish(); /* no point without every publisher */
                return;
            }
            enter(PH_SUBSCRIBE, now);
            run.t_last = now;
        }
        break;
    case PH_SUBSCRIBE: {
        run.sub_credit += (now - run.t_last) * run.rate;
        run.t_last = now;
        if (run.sub_credit > run.rate)
            run.sub_credit = run.rate;
        while (run.started < run.n && run.sub_credit >= 1 && (!run.window || in_flight < run.window)) {
            start(&run.eps[run.started]);
            run.sub_credit -= 1;
            in_flight++;
        }
        if (run.started == run.n && in_flight <= 0)
            enter(PH_WARM, now);
        break;
    }
    case PH_WARM:
        if (now - run.t_phase >= run.warmup)
            enter(PH_MEASURE, now);
        break;
    case PH_MEASURE:
        if (now - run.t_phase >= run.seconds) {
            run.t_meas1 = now;
            run.after = lg_proc_read(run.server_pid);
            run.loadgen_cpu1 = cpu_self();
            run.load1 = loadavg();
            sb_measuring = false;
            finish();
        }
        break;
    case PH_DONE:
        break;
    }
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void finish(void)
{
    if (run.ph == PH_DONE)
        return;
    if (run.ph != PH_MEASURE || !run.t_meas1) {
        /* the run did not reach its end: what was measured, if anything */
        run.t_meas1 = lg_now();
        run.after = lg_proc_read(run.server_pid);
        run.loadgen_cpu1 = cpu_self();
        sb_measuring = false;
    }
    bool measured = run.ph == PH_MEASURE;
    run.ph = PH_DONE;
    if (!measured)
        run.t_meas0 = 0;
    report();
    for (int i = 0; i < run.n; i++) {
        sb_ep *e = &run.eps[i];
        e->ws.state = LG_DONE;
        e->checks_on = false;
        sb_media_close(e);
        lg_ws_close(&e->ws);
    }
    lg_ws_destroy();
    uv_timer_stop(&run.send_timer);
    uv_timer_stop(&run.tick);
    close_handle((uv_handle_t *)&run.send_timer);
    close_handle((uv_handle_t *)&run.tick);
    close_handle((uv_handle_t *)&run.sigint);
    close_handle((uv_handle_t *)&run.sigterm);
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    (void)signum;
    run.interrupted = true;
}

/* ---- report ---- */

static json_t *num_or_null(double v, bool ok)
{
    return ok ? json_real(v) : json_null();
}

static void report(void)
{
    double win = run.t_meas0 ? run.t_meas1 - run.t_meas0 : 0;
    bool have_cpu = win > 0 && run.before.ok && run.after.ok;
    double cpu = have_cpu ? run.after.cpu_s - run.before.cpu_s : 0;
    int subs = 0, gcm = 0, cm = 0;
    for (int i = run.n_pub; i < run.n; i++)
        subs += run.eps[i].state == SB_CONNECTED;
    for (int i = 0; i < run.n; i++)
        if (run.eps[i].state == SB_CONNECTED)
            *(run.eps[i].gcm ? &gcm : &cm) += 1;
    uint64_t expected, received;
    int streams, lossy;
    sb_loss(run.eps, run.n, &expected, &received, &streams, &lossy);
    double loss = expected ? 100.0 * (double)(expected > received ? expected - received : 0) / (double)expected : 0;
    double pps = win > 0 ? (double)sb_cnt.rtp_rx / win : 0;
    double mbps = win > 0 ? (double)sb_cnt.bytes_rx * 8 / win / 1e6 : 0;
    double cores = have_cpu ? cpu / win : 0;
    bool cpu_ok = have_cpu && cpu > 0;
    double pps_core = cpu_ok ? (double)sb_cnt.rtp_rx / cpu : 0;
    /* what one subscriber receives per second when nothing is lost: what a
     * publisher sends by its schedule */
    double per_sub = sb_nominal_pps();
    double subs_core = cpu_ok && per_sub > 0 ? pps_core / per_sub : 0;
    /* server CPU ms per subscriber-second at that rate (so loss does not
     * make a subscriber look cheaper) */
    double ms_sub = subs_core > 0 ? 1000.0 / subs_core : 0;
    double p50 = sb_lat_pct(50), p99 = sb_lat_pct(99), pmax = sb_lat_pct(100);
    double lg_cpu = run.loadgen_cpu1 - run.loadgen_cpu0;
    long failures = run.failed + (run.n - run.started);

    printf("%s: %d publishers x %d subscribers (subscriber i receives publisher i mod %d), %.1f s measured\n",
           run.drv->name, run.n_pub, run.n_sub, run.n_pub, win);
    printf("  subscribers connected    %d of %d (setup p50 %.1f ms, p99 %.1f ms)\n", subs, run.n_sub,
           lg_samples_pct(&run.setup_ms, 50), lg_samples_pct(&run.setup_ms, 99));
    printf("  SRTP                     %d connections AEAD_AES_128_GCM, %d AES128_CM_SHA1_80\n", gcm, cm);
    printf("  sent by publishers       %.1f packets/s per publisher (%.1f by the schedule)\n",
           win > 0 ? (double)sb_cnt.rtp_tx / win / run.n_pub : 0, sb_nominal_pps());
    printf("  forwarded (received)     %.0f packets/s, %.1f Mbit/s, %llu packets in %d streams\n", pps, mbps,
           (unsigned long long)sb_cnt.rtp_rx, streams);
    if (cpu_ok) {
        printf("  server CPU               %.2f s = %.3f cores\n", cpu, cores);
        printf("  forwarded per core       %.0f packets/s per server core\n", pps_core);
        printf("  CPU per subscriber       %.4f ms per subscriber per second\n", ms_sub);
        printf("  subscribers per core     %.0f at 600 kbit/s video + 32 kbit/s audio (%.1f packets/s each)\n",
               subs_core, per_sub);
    } else {
        printf("  server CPU               n/a (no server pid, or no CPU used)\n");
        printf("  forwarded per core       n/a\n  CPU per subscriber       n/a\n  subscribers per core     n/a\n");
    }
    printf("  loss                     %.4f %% (%llu of %llu expected; %d of %d streams lost some)\n", loss,
           (unsigned long long)(expected > received ? expected - received : 0), (unsigned long long)expected, lossy,
           streams);
    printf("  latency                  p50 %.2f ms  p99 %.2f ms  max %.2f ms (%llu samples)\n", p50, p99, pmax,
           (unsigned long long)sb_lat_count());
    if (run.after.ok)
        printf("  server RSS               %.1f MB (%.1f MB before the measurement), %ld threads\n",
               (double)run.after.rss_kib / 1024.0, (double)run.before.rss_kib / 1024.0, run.after.threads);
    else
        printf("  server RSS               n/a\n");
    printf("  generator CPU            %.2f s (%.3f cores) during the measurement\n", lg_cpu,
           win > 0 ? lg_cpu / win : 0);
    printf("  machine load average     %.2f at the start, %.2f at the end (%ld cores)\n", run.load0, run.load1,
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("  failures                 %ld%s%s\n", failures, run.timed_out ? " (timed out)" : "",
           run.interrupted ? " (interrupted)" : "");
    for (int i = 0; i < run.n_reasons; i++)
        printf("    %ld x %s%s%.0d\n", run.reasons[i].count, run.reasons[i].why, run.reasons[i].code ? " " : "",
               run.reasons[i].code);
    if (sb_cnt.srtp_fail || sb_cnt.send_fail)
        printf("  SRTP failures %llu, send failures %llu\n", (unsigned long long)sb_cnt.srtp_fail,
               (unsigned long long)sb_cnt.send_fail);

    json_t *reasons = json_array();
    for (int i = 0; i < run.n_reasons; i++)
        json_array_append_new(reasons, json_pack("{s:s, s:i, s:I}", "why", run.reasons[i].why, "code",
                                                 run.reasons[i].code, "count", (json_int_t)run.reasons[i].count));
    json_t *j = json_pack("{s:s, s:s, s:i, s:i, s:i, s:f, s:I, s:I, s:f, s:f, s:o, s:o, s:o, s:o, s:o, s:f, "
                          "s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:f, s:I, s:b, s:o}",
                          "target", run.drv->name, "label", run.label ? run.label : "", "publishers", run.n_pub,
                          "subscribers", run.n_sub, "subscribers_connected", subs, "seconds", win, "packets_rx",
                          (json_int_t)sb_cnt.rtp_rx, "packets_tx", (json_int_t)sb_cnt.rtp_tx, "pps", pps,
                          "mbps", mbps, "server_cpu_s", num_or_null(cpu, have_cpu), "server_cores",
                          num_or_null(cores, have_cpu), "pps_per_core", num_or_null(pps_core, cpu_ok),
                          "cpu_ms_per_sub_s", num_or_null(ms_sub, ms_sub > 0), "subs_per_core",
                          num_or_null(subs_core, cpu_ok), "loss_pct", loss, "expected", (json_int_t)expected,
                          "received", (json_int_t)received, "lat_p50_ms", num_or_null(p50, p50 >= 0),
                          "lat_p99_ms", num_or_null(p99, p99 >= 0), "lat_max_ms", num_or_null(pmax, pmax >= 0),
                          "rss_mb", num_or_null((double)run.after.rss_kib / 1024.0, run.after.ok),
                          "rss_mb_before", num_or_null((double)run.before.rss_kib / 1024.0, run.before.ok),
                          "server_threads", json_integer(run.after.threads), "loadgen_cpu_s", lg_cpu,
                          "failures", (json_int_t)failures, "timed_out", run.timed_out, "failure_reasons",
                          reasons);
    if (j) {
        json_object_set_new(j, "srtp_gcm", json_integer(gcm));
        json_object_set_new(j, "srtp_cm", json_integer(cm));
        json_object_set_new(j, "streams", json_integer(streams));
        json_object_set_new(j, "streams_lossy", json_integer(lossy));
        json_object_set_new(j, "loadavg_start", json_real(run.load0));
        json_object_set_new(j, "loadavg_end", json_real(run.load1));
    }
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (text)
        printf("%s\n", text);
    free(text);
    json_decref(j);
    fflush(stdout);
}

/* ---- options ---- */

static const char usage_text[] =
    "usage: sfuload --target parley|janus --url ws://127.0.0.1:PORT/PATH [options]\n"
    "\n"
    "  --publishers P       publishers, each in a room of its own (default 1)\n"
    "  --subscribers S      subscribers; subscriber i receives publisher i mod P (default 200)\n"
    "  --seconds T          measured seconds (default 20)\n"
    "  --warmup W           seconds between the last subscriber connected and the measurement (default 3)\n"
    "  --rate R             subscribers started per second (default 200)\n"
    "  --window W           at most W subscribers connecting at once (default 100; 0: no limit)\n"
    "  --room-ids A,B,...   Parley: one room id per publisher\n"
    "  --token T            Parley token (allow_join); or --apikey K --secret S to mint one\n"
    "  --janus-room-base B  Janus: publisher r is in room B + r (default 1000)\n"
    "  --media-address A    the address the endpoints' UDP sockets bind to: 127.0.0.1 (default),\n"
    "                       or, run inside a network namespace of its own (not the machine's,\n"
    "                       no route out, as bench/sfu/run.sh makes), an address in it\n"
    "  --srtp both|gcm|cm   SRTP profiles offered in DTLS: both (default, AEAD_AES_128_GCM first, as\n"
    "                       browsers do), or only AEAD_AES_128_GCM, or only AES128_CM_SHA1_80\n"
    "  --server-pid PID     read the server's CPU and RSS from /proc\n"
    "  --timeout S          stop and report after S seconds whatever happened\n"
    "  --label TEXT         copied into the JSON line\n"
    "  --verbose            log failures to stderr\n";

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "sfuload: %s%s%s\n%s", msg, arg ? ": " : "", arg ? arg : "", usage_text);
    return 2;
}





int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"target", required_argument, 0, 't'}, {"url", required_argument, 0, 'u'},
        {"publishers", required_argument, 0, 'P'}, {"subscribers", required_argument, 0, 'S'},
        {"seconds", required_argument, 0, 's'}, {"warmup", required_argument, 0, 'W'},
        {"rate", required_argument, 0, 'r'}, {"window", required_argument, 0, 'w'},
        {"room-ids", required_argument, 0, 'i'}, {"token", required_argument, 0, 'T'},
        {"apikey", required_argument, 0, 'k'}, {"secret", required_argument, 0, 'x'},
        {"janus-room-base", required_argument, 0, 'b'}, {"server-pid", required_argument, 0, 'p'},
        {"timeout", required_argument, 0, 'o'}, {"label", required_argument, 0, 'l'},
        {"media-address", required_argument, 0, 'm'}, {"srtp", required_argument, 0, 'c'}, {"verbose", no_argument, 0, 'v'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    const char *target = "parley", *url = NULL, *rooms_csv = NULL, *token = NULL, *apikey = NULL, *secret = NULL;
    bool verbose = false;
    run.n_pub = 1;
    run.n_sub = 200;
    run.seconds = 20;
    run.warmup = 3;
    run.rate = 200;
    run.window = 100;
    sb.janus_room_base = 1000;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 't': target = optarg; break;
        case 'u': url = optarg; break;
        case 'P': run.n_pub = atoi(optarg); break;
        case 'S': run.n_sub = atoi(optarg); break;
        case 's': run.seconds = atof(optarg); break;
        case 'W': run.warmup = atof(optarg); break;
        case 'r': run.rate = atof(optarg); break;
        case 'w': run.window = atoi(optarg); break;
        case 'i': rooms_csv = optarg; break;
        case 'T': token = optarg; break;
        case 'k': apikey = optarg; break;
        case 'x': secret = optarg; break;
        case 'b': sb.janus_room_base = atoll(optarg); break;
        case 'p': run.server_pid = atoi(optarg); break;
        case 'o': run.timeout = atof(optarg); break;
        case 'l': run.label = optarg; break;
        case 'm': sb.media_address = optarg; break;
        case 'c':
            if (!strcmp(optarg, "gcm"))
                sb.srtp_profiles = PARLEY_SRTP_PROFILE_BIT(PARLEY_SRTP_AEAD_AES_128_GCM);
            else if (!strcmp(optarg, "cm"))
                sb.srtp_profiles = PARLEY_SRTP_PROFILE_BIT(PARLEY_SRTP_AES128_CM_SHA1_80);
            else if (strcmp(optarg, "both"))
                return usage_error("--srtp both|gcm|cm", optarg);
            break;
        case 'v': verbose = true; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: return usage_error("bad option", NULL);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument", argv[optind]);
    if (!strcmp(target, "parley"))
        run.drv = &sb_parley_driver;
    else if (!strcmp(target, "janus"))
        run.drv = &sb_janus_driver;
    else
        return usage_error("unknown target", target);
    sb.target = run.drv->name;
    char host[256], path[512];
    int port;
    if (!url || lg_parse_url(url, host, sizeof host, &port, path, sizeof path))
        return usage_error("--url must be ws://LOOPBACK:PORT/PATH", url);
    if (run.n_pub < 1 || run.n_pub > 1000 || run.n_sub < 0 || run.n_sub > 20000 || run.seconds <= 0 ||
        run.seconds > 3600 || run.warmup < 0 || run.rate <= 0 || run.window < 0)
        return usage_error("--publishers 1..1000, --subscribers 0..20000, --seconds 0..3600, --rate > 0", NULL);
    char **rooms = NULL, *minted = NULL;
    if (run.drv == &sb_parley_driver) {
        int n_rooms = 0;
        if (!rooms_csv || !(rooms = lg_split(strdup(rooms_csv), &n_rooms)) || n_rooms < run.n_pub)
            return usage_error("Parley needs --room-ids with one room per publisher", NULL);
        if (!token && apikey && secret)
            token = minted = lg_token_mint(apikey, secret, 6 * 3600);
        if (!token)
            return usage_error("Parley needs --token, or --apikey and --secret", NULL);
        sb.rooms = (const char *const *)rooms;
        sb.token = token;
    }
    if (!sb.media_address)
        sb.media_address = "127.0.0.1";
    if (!sb_media_address_allowed(sb.media_address))
        return usage_error("--media-address must be a loopback address, or an address of a network namespace "
                           "of the generator's own (not the machine's, no route out)",
                           sb.media_address);
    sb.publishers = run.n_pub;
    sb.tag = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 20);
    run.n = run.n_pub + run.n_sub;
    if (!run.timeout)
        run.timeout = 60 + run.n_sub / run.rate * 3 + run.warmup + run.seconds;
    unsigned fds = lg_raise_fd_limit();
    if ((unsigned)run.n * 2 + 64 > fds) {
        fprintf(stderr, "sfuload: %d endpoints need %d file descriptors; the limit is %u\n", run.n, run.n * 2 + 64,
                fds);
        return 2;
    }
    if (verbose)
        setenv("LG_VERBOSE", "1", 1);
    char err[256];
    if (sb_media_global(err, sizeof err)) {
        fprintf(stderr, "sfuload: %s\n", err);
        return 1;
    }
    run.eps = calloc((size_t)run.n, sizeof *run.eps);
    if (!run.eps)
        return 1;
    for (int i = 0; i < run.n; i++) {
        sb_ep *e = &run.eps[i];
        e->idx = i;
        e->pub = i < run.n_pub;
        e->group = e->pub ? i : (i - run.n_pub) % run.n_pub;
        e->ws.idx = i;
        e->ws.user = e;
        sb_pid(e, e->ws.pid, sizeof e->ws.pid);
    }

    signal(SIGPIPE, SIG_IGN);
    uv_loop_init(&run.loop);
    sb_loop = &run.loop;
    lg_ws_opts wo = {.host = host, .port = port, .path = path, .subprotocol = run.drv->subprotocol,
                     .fd_limit = fds, .verbose = verbose};
    int status = 1;
    if (lg_ws_init(&run.loop, &wo, run.drv)) {
        fprintf(stderr, "sfuload: cannot create the WebSocket context\n");
        goto out;
    }
    uv_timer_init(&run.loop, &run.send_timer);
    uv_timer_init(&run.loop, &run.tick);
    uv_signal_init(&run.loop, &run.sigint);
    uv_signal_init(&run.loop, &run.sigterm);
    uv_signal_start(&run.sigint, on_signal, SIGINT);
    uv_signal_start(&run.sigterm, on_signal, SIGTERM);
    run.t0 = lg_now();
    run.deadline = run.t0 + run.timeout;
    enter(PH_PUBLISH, run.t0);
    for (int i = 0; i < run.n_pub; i++)
        start(&run.eps[i]);
    uv_timer_start(&run.send_timer, on_send, 1, 2);
    uv_timer_start(&run.tick, on_tick, 10, 10);
    uv_run(&run.loop, UV_RUN_DEFAULT);
    for (int i = 0; i < 3 && lg_ws_alive(); i++) {
        lg_ws_destroy();
        uv_run(&run.loop, UV_RUN_DEFAULT);
    }
    status = run.failed || run.started < run.n || run.timed_out || run.interrupted ? 1 : 0;
out:
    uv_loop_close(&run.loop);
    for (int i = 0; i < run.n; i++)
        lg_ws_release(&run.eps[i].ws);
    free(run.eps);
    lg_samples_free(&run.setup_ms);
    sb_media_global_free();
    parley_srtp_global_shutdown();
    for (int i = 0; rooms && rooms[i]; i++)
        free(rooms[i]);
    free(rooms);
    free(minted);
    return status;
}
