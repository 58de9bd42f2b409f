/* main.c - the parley command: dispatch to subcommands.
 *
 * Each subcommand lives in its own cmd_<name>.c and is listed once in the
 * table below; main() only picks the entry and hands it argv. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_command commands[] = {
    {"errors", cmd_errors, "list and explain the error catalog"},
    {"admin", cmd_admin, "organisations and API keys in the store"},
    {"token", cmd_token, "mint an access token"},
    {"join", cmd_join, "join a meeting and print its events"},
    {"room", cmd_room, "create, inspect, list, deactivate and end rooms (REST)"},
    {"bot", cmd_bot, "publish media files to a meeting, or receive and count its media"},
};

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("parley: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return CLI_USAGE;
}

struct timespec cli_after(struct timespec t, double seconds)
{
    double whole = floor(seconds);
    t.tv_sec += (time_t)whole;
    t.tv_nsec += (long)((seconds - whole) * 1e9);
    while (t.tv_nsec >= 1000000000L) {
        t.tv_sec++;
        t.tv_nsec -= 1000000000L;
    }
    return t;
}

bool cli_before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

void cli_print_json(json_t *value)
{
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
    if (text) {
        puts(text);
        free(text);
    }
    json_decref(value);
}

static void usage(FILE *out)
{
    fputs("usage: parley <command> [options]\n\ncommands:\n", out);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fputs("\nRun 'parley <command> --help' for a command's options.\n", out);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    cli_usage_error("unknown command '%s'", argv[1]);
    usage(stderr);
    return CLI_USAGE;
}
