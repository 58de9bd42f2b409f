/* bot.h - what `parley bot publish` and `parley bot subscribe` share.
 *
 * cmd_bot.c owns the run: options, the client and the meeting, the signal
 * thread, the printing of events, the join and the leave. bot_publish.c and
 * bot_subscribe.c add what their command does in between.
 *
 * Threads, as in `parley join`: libparley's loop thread prints the events
 * (the only writer of stdout until the client is destroyed) and calls the
 * command's hook; the main thread waits on the run's condition variable
 * (CLOCK_MONOTONIC) and does the command's work; a third thread turns
 * SIGINT/SIGTERM into `signalled`. */
#ifndef PARLEY_CLI_BOT_H
#define PARLEY_CLI_BOT_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include <jansson.h>
#include <parley/parley.h>

typedef struct bot_opts {
    parley_meeting_config cfg;
    const char *ca_file;
    bool json, has_seconds;
    double seconds;
    const char *video, *audio; /* publish: the files */
    bool screen;               /* publish --screen: the video is a screen share */
    int audio_level;           /* publish --audio-level: 0..127 -dBov; -1: none sent */
    const char *save_dir;      /* subscribe --save */
} bot_opts;

typedef struct bot bot;
typedef void (*bot_hook)(bot *b, const parley_event *e);

struct bot {
    bot_opts o;
    parley_client *client;
    parley_meeting *m;
    bot_hook hook; /* called on the loop thread after printing, no lock held */
    void *data;    /* the command's */

    pthread_mutex_t mu;
    pthread_cond_t cond;     /* waits measure CLOCK_MONOTONIC */
    struct timespec end;     /* start + --seconds */
    /* under mu */
    bool joined, left, fatal, signalled;
    bool media_failed;        /* a media connection FAILED, or the server refused one */
    bool published;           /* our publication is CONNECTED */
    const char *want_request; /* bot_expect: the request awaited */
    bool answered;
};

/* Parse the options common to both commands plus --video/--audio/--screen/
 * --audio-level (publish) or --save (subscribe). CLI_OK, or the exit code after a message. */
int bot_parse(int argc, char **argv, bool publish, const char *usage, bot_opts *o);

/* Block the signals, create the client and the meeting, subscribe the
 * printer and hook, set the frame callback (may be NULL), and join. CLI_OK
 * once joined; otherwise the exit code (the meeting refused us, time ran
 * out, a signal). bot_leave and bot_stop follow either way. */
int bot_start(bot *b, parley_frame_cb on_frame);

/* Wait, mu held, until cond(b) holds, the meeting is left, a signal came,
 * --seconds run out, or `until` (may be NULL) passes. True when cond held. */
bool bot_wait(bot *b, bool (*cond)(bot *), const struct timespec *until);
/* Whether time is up, the meeting left or a signal came (mu held). */
bool bot_over(bot *b);

/* Await the answer to a request (mu held): bot_expect before the call that
 * queues it (with mu released around that call), then bot_answered with the
 * call's status waits up to timeout_s; true when a response or an error
 * answered it. */
void bot_expect(bot *b, const char *request);
bool bot_answered(bot *b, int rc, double timeout_s);

/* Leave if still joined and wait for meeting-left (mu held on entry, released
 * on return). The exit code: CLI_OK after a clean leave, CLI_FAILED after a
 * fatal error, an unasked meeting-left or a failed media connection. */
int bot_leave(bot *b);

/* Destroy the client (every callback has returned after this), stop the
 * signal thread. */
void bot_stop(bot *b);

/* Print one JSON value as a line on stdout (frees it); any thread. */
void bot_print_json(json_t *value);

/* CLOCK_MONOTONIC now (cli_after() adds to it). */
struct timespec bot_now(void);

/* A problem of ours, on stderr ("parley: ..."), and with --json also as a
 * line {"event":"bot-error","message":...} on stdout. Any thread. */
void bot_report(bot *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int bot_publish(int argc, char **argv);
int bot_subscribe(int argc, char **argv);

#endif
