/* stats.c - latency samples and the server's own figures from /proc.
 *
 * Percentiles are nearest-rank over every sample (no histogram buckets): a run
 * holds at most a few tens of thousands of samples. CPU is utime + stime of
 * the whole process (all threads) from /proc/PID/stat; memory is VmRSS from
 * /proc/PID/status. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

double lg_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void lg_samples_add(lg_samples *s, double ms)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        double *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = ms;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double lg_samples_pct(lg_samples *s, double p)
{
    if (!s->n)
        return -1;
    qsort(s->v, s->n, sizeof *s->v, cmp_double);
    size_t rank = (size_t)((p / 100.0) * (double)s->n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > s->n)
        rank = s->n;
    return s->v[rank - 1];
}

void lg_samples_free(lg_samples *s)
{
    free(s->v);
    memset(s, 0, sizeof *s);
}

lg_proc lg_proc_read(int pid)
{
    lg_proc p = {0};
    if (pid <= 0)
        return p;
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return p;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* the command name may hold spaces: fields resume after the last ')' */
    char *rest = strrchr(buf, ')');
    if (!rest)
        return p;
    unsigned long utime = 0, stime = 0;
    /* fields 3..15: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (sscanf(rest + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
        return p;
    p.cpu_s = (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);

    snprintf(path, sizeof path, "/proc/%d/status", pid);
    f = fopen(path, "r");
    if (!f)
        return p;
    char line[256];
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmRSS:", 6))
            p.rss_kib = strtol(line + 6, NULL, 10);
        else if (!strncmp(line, "Threads:", 8))
            p.threads = strtol(line + 8, NULL, 10);
    }
    fclose(f);
    p.ok = p.rss_kib > 0; /* a zombie has no VmRSS */
    return p;
}
