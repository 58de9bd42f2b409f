/* cli.h - what the parley command's subcommands share.
 *
 * Exit codes, the same for every subcommand:
 *   0  success
 *   1  the operation ran and failed (a server refused, a fatal meeting error)
 *   2  bad usage or unknown input (an unknown error code, a missing option) */
#ifndef PARLEY_CLI_H
#define PARLEY_CLI_H

#include <stdbool.h>
#include <time.h>

#include <jansson.h>

enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand's name */
    const char *summary;
} cli_command;

/* Print "parley: <message>" to stderr and return CLI_USAGE. */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a JSON value on one line to stdout, then free it. */
void cli_print_json(json_t *value);

/* t plus seconds (normalised), and whether a is earlier than b: deadlines
 * for timed waits, on whichever clock t was read from. */
struct timespec cli_after(struct timespec t, double seconds);
bool cli_before(const struct timespec *a, const struct timespec *b);

/* Subcommands. */
int cmd_errors(int argc, char **argv);
int cmd_admin(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_join(int argc, char **argv);
int cmd_room(int argc, char **argv);
int cmd_bot(int argc, char **argv);

#endif
