/* report.c - the run's figures: a human-readable block, then one JSON line.
 *
 * Every figure the benchmark promises is always printed, as "n/a" (JSON null)
 * when it could not be measured (no --server-pid, no probe resolved), so a
 * reader or a test can tell "missing" from "zero". The JSON line is the last
 * line on stdout and starts with '{'. */
#include <stdio.h>
#include <stdlib.h>

#include "lg.h"

static json_t *num_or_null(double v, bool ok)
{
    return ok ? json_real(v) : json_null();
}

static void human_ms(const char *label, lg_samples *s, const char *extra)
{
    if (!s->n) {
        printf("  %-24s n/a%s\n", label, extra);
        return;
    }
    printf("  %-24s p50 %.2f ms  p99 %.2f ms  max %.2f ms%s\n", label, lg_samples_pct(s, 50),
        lg_samples_pct(s, 99), lg_samples_pct(s, 100), extra);
}

static json_t *json_ms(lg_samples *s)
{
    if (!s->n)
        return json_pack("{s:n, s:n, s:n, s:i}", "p50", "p99", "max", "count", 0);
    return json_pack("{s:f, s:f, s:f, s:I}", "p50", lg_samples_pct(s, 50), "p99", lg_samples_pct(s, 99),
        "max", lg_samples_pct(s, 100), "count", (json_int_t)s->n);
}

void lg_report(lg_result *r)
{
    double jps = r->join_wall_s > 0 ? (double)r->joined / r->join_wall_s : 0;
    bool have_cpu = r->before.ok && r->after_join.ok && r->joined > 0;
    double cpu_per_k = have_cpu ? (r->after_join.cpu_s - r->before.cpu_s) * 1000.0 / (double)r->joined : 0;
    double rss_per = have_cpu ? (double)(r->after_join.rss_kib - r->before.rss_kib) / (double)r->joined : 0;

    printf("%s signaling load: %d participants in %d rooms, ", r->target, r->participants, r->rooms);
    if (r->rate > 0)
        printf("target %.0f joins/s", r->rate);
    else
        printf("unthrottled (window %d)", r->window);
    printf(", hold %.0f s\n", r->hold_s);
    printf("  %-24s %ld ok, %ld failed, %.1f joins/s\n", "joins", r->joined, r->join_failures, jps);
    human_ms("join latency", &r->join_ms, "");
    printf("  %-24s %ld of %ld expected after the joins, %ld in all\n", "presence events", r->presence_join,
        r->presence_expected, r->presence_rx);
    char label[64], extra[64];
    snprintf(label, sizeof label, "error delivery (%d)", r->dup_code);
    snprintf(extra, sizeof extra, "  (%ld of %d probes, to the %s connection)", r->probes_ok, r->probes,
        r->dup_to_old ? "older" : "new");
    human_ms(label, &r->error_ms, extra);
    if (have_cpu) {
        printf("  %-24s %.3f s per 1,000 joins\n", "server CPU", cpu_per_k);
        printf("  %-24s %.1f KiB per participant (%.1f MiB before, %.1f MiB joined, %ld threads)\n",
            "server RSS", rss_per, r->before.rss_kib / 1024.0, r->after_join.rss_kib / 1024.0, r->after_join.threads);
    } else {
        printf("  %-24s n/a\n", "server CPU");
        printf("  %-24s n/a\n", "server RSS");
    }
    printf("  %-24s %ld ok, %ld failed\n", "leaves", r->left, r->leave_failures);
    printf("  %-24s %.2f s CPU over %.1f s\n", "generator", r->loadgen_cpu_s, r->duration_s);
    printf("  %-24s %ld%s\n", "failures", r->failures, r->timed_out ? " (timed out)" : "");
    for (int i = 0; i < r->n_reasons; i++) {
        printf("    %ld x %s", r->reasons[i].count, r->reasons[i].why);
        if (r->reasons[i].code)
            printf(" (code %d)", r->reasons[i].code);
        putchar('\n');
    }
    fflush(stdout);

    json_t *reasons = json_array();
    for (int i = 0; i < r->n_reasons; i++)
        json_array_append_new(reasons, json_pack("{s:s, s:i, s:I}", "why", r->reasons[i].why, "code",
            r->reasons[i].code, "count", (json_int_t)r->reasons[i].count));
    json_t *out = json_pack("{s:s, s:s?, s:i, s:i, s:f, s:i, s:f}", "target", r->target, "label", r->label,
        "participants", r->participants, "rooms", r->rooms, "rate_target", r->rate, "window", r->window,
        "hold_s", r->hold_s);
    json_object_set_new(out, "joined", json_integer(r->joined));
    json_object_set_new(out, "join_failures", json_integer(r->join_failures));
    json_object_set_new(out, "joins_per_s", json_real(jps));
    json_object_set_new(out, "join_ms", json_ms(&r->join_ms));
    json_object_set_new(out, "presence", json_pack("{s:I, s:I, s:I}", "received", (json_int_t)r->presence_join,
        "expected", (json_int_t)r->presence_expected, "total", (json_int_t)r->presence_rx));
    json_object_set_new(out, "error", json_pack("{s:i, s:b, s:I, s:I, s:o}", "code", r->dup_code,
        "to_older", r->dup_to_old, "probes", (json_int_t)r->probes, "ok", (json_int_t)r->probes_ok,
        "ms", json_ms(&r->error_ms)));
    json_object_set_new(out, "server", json_pack("{s:i, s:o, s:o, s:o, s:o, s:o}", "pid", r->server_pid,
        "cpu_s_per_1000_joins", num_or_null(cpu_per_k, have_cpu),
        "rss_kib_per_participant", num_or_null(rss_per, have_cpu),
        "rss_kib_before", r->before.ok ? json_integer(r->before.rss_kib) : json_null(),
        "rss_kib_joined", r->after_join.ok ? json_integer(r->after_join.rss_kib) : json_null(),
        "threads", r->after_join.ok ? json_integer(r->after_join.threads) : json_null()));
    json_object_set_new(out, "left", json_integer(r->left));
    json_object_set_new(out, "leave_failures", json_integer(r->leave_failures));
    json_object_set_new(out, "drops", json_integer(r->drops));
    json_object_set_new(out, "probe_failures", json_integer(r->probe_failures));
    json_object_set_new(out, "failures", json_integer(r->failures));
    json_object_set_new(out, "failure_reasons", reasons);
    json_object_set_new(out, "timed_out", json_boolean(r->timed_out));
    json_object_set_new(out, "loadgen_cpu_s", json_real(r->loadgen_cpu_s));
    json_object_set_new(out, "duration_s", json_real(r->duration_s));
    char *text = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (text) {
        puts(text);
        free(text);
    }
    json_decref(out);
    fflush(stdout);
}
