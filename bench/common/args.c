/* args.c - what both generators' command lines need: the signaling URL
 * (loopback only, as every benchmark here runs on this machine), lists given
 * as comma- or whitespace-separated text, and as many descriptors as the
 * process may have. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench.h"

static bool loopback(const char *host)
{
    return !strcmp(host, "localhost") || !strcmp(host, "::1") || !strncmp(host, "127.", 4);
}

int lg_parse_url(const char *url, char *host, size_t hostsz, int *port, char *path, size_t pathsz)
{
    if (strncmp(url, "ws://", 5))
        return -1;
    const char *p = url + 5, *end;
    if (*p == '[') {
        end = strchr(p, ']');
        if (!end)
            return -1;
        snprintf(host, hostsz, "%.*s", (int)(end - p - 1), p + 1);
        p = end + 1;
    } else {
        end = p + strcspn(p, ":/");
        snprintf(host, hostsz, "%.*s", (int)(end - p), p);
        p = end;
    }
    *port = 80;
    if (*p == ':')
        *port = (int)strtol(p + 1, (char **)&p, 10);
    snprintf(path, pathsz, "%s", *p ? p : "/");
    return *port > 0 && *port < 65536 && loopback(host) ? 0 : -1;
}

char **lg_split(char *text, int *count)
{
    char **out = NULL;
    int n = 0;
    for (char *save = NULL, *tok = text ? strtok_r(text, ",\n\r \t", &save) : NULL; tok;
         tok = strtok_r(NULL, ",\n\r \t", &save)) {
        char **r = realloc(out, sizeof *out * (size_t)(n + 2));
        if (!r)
            break;
        out = r;
        out[n++] = strdup(tok);
        out[n] = NULL;
    }
    free(text);
    *count = n;
    return out;
}

unsigned lg_raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl))
        return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur > 1u << 20 ? 1u << 20 : (unsigned)rl.rlim_cur;
}
