/* cmd_bot.c - `parley bot`: a participant that sends or receives media.
 *
 * `parley bot publish` sends VP8 frames from an IVF file and Opus packets
 * from an Ogg file as custom tracks (bot_publish.c); `parley bot subscribe`
 * receives every publisher's tracks, counts them and can save them
 * (bot_subscribe.c). This file holds what both do: options, the client, the
 * join, the events printed as `parley join` prints them, signals, the leave
 * and the exit status (see bot.h for the threads). */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot.h"
#include "cli.h"

enum { LEAVE_TIMEOUT_S = 5 };

static const char usage_text[] =
    "usage: parley bot publish|subscribe [options]\n"
    "\n"
    "  publish     send media files to a meeting as custom tracks\n"
    "  subscribe   receive every publisher's media, count it, optionally save it\n"
    "\n"
    "Run 'parley bot publish --help' or 'parley bot subscribe --help' for their options.\n";

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER; /* one line at a time on stdout */
static bot *the_bot;                                        /* for the signal thread */

int cmd_bot(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(usage_text, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (!strcmp(argv[1], "publish"))
        return bot_publish(argc - 1, argv + 1);
    if (!strcmp(argv[1], "subscribe"))
        return bot_subscribe(argc - 1, argv + 1);
    return cli_usage_error("unknown bot command '%s' (publish or subscribe)\n%s", argv[1], usage_text);
}

/* ---- options ---- */

static bool parse_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

int bot_parse(int argc, char **argv, bool publish, const char *usage, bot_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->cfg.mode = PARLEY_MODE_CONFERENCE;
    o->audio_level = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            exit(CLI_OK);
        } else if (!strcmp(a, "--json")) {
            o->json = true;
        } else if (!strcmp(a, "--insecure")) {
            o->cfg.tls_insecure = true;
        } else if (publish && !strcmp(a, "--screen")) {
            o->screen = true;
        } else {
            static const char *const valued[] = {"--url",  "--token",   "--meeting", "--participant-id",
                                                 "--participant", "--name", "--origin", "--ca-file",
                                                 "--seconds", "--video", "--audio", "--save", "--audio-level"};
            size_t k = 0;
            for (; k < sizeof(valued) / sizeof(*valued); k++)
                if (!strcmp(a, valued[k]))
                    break;
            bool theirs = k < sizeof(valued) / sizeof(*valued) &&
                          (publish ? strcmp(a, "--save")
                                   : strcmp(a, "--video") && strcmp(a, "--audio") && strcmp(a, "--audio-level"));
            if (!theirs)
                return cli_usage_error("unexpected argument '%s'\n%s", a, usage);
            if (i + 1 >= argc)
                return cli_usage_error("%s needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--url"))
                o->cfg.url = v;
            else if (!strcmp(a, "--token"))
                o->cfg.token = v;
            else if (!strcmp(a, "--meeting"))
                o->cfg.meeting_id = v;
            else if (!strcmp(a, "--participant-id") || !strcmp(a, "--participant"))
                o->cfg.participant_id = v;
            else if (!strcmp(a, "--name"))
                o->cfg.name = v;
            else if (!strcmp(a, "--origin"))
                o->cfg.origin = v;
            else if (!strcmp(a, "--ca-file"))
                o->ca_file = v;
            else if (!strcmp(a, "--video"))
                o->video = v;
            else if (!strcmp(a, "--audio"))
                o->audio = v;
            else if (!strcmp(a, "--save"))
                o->save_dir = v;
            else if (!strcmp(a, "--audio-level")) {
                double level;
                if (!parse_number(v, &level) || level < 0 || level > 127 || level != floor(level))
                    return cli_usage_error("--audio-level takes a level in -dBov, 0 (loudest) to 127 (silence), "
                                           "not '%s'", v);
                o->audio_level = (int)level;
            }
            else if (!strcmp(a, "--seconds")) {
                if (!parse_number(v, &o->seconds) || o->seconds < 0)
                    return cli_usage_error("--seconds takes a number of seconds, not '%s'", v);
                o->has_seconds = true;
            }
        }
    }
    if (!o->cfg.url || !o->cfg.token || !o->cfg.meeting_id)
        return cli_usage_error("bot %s needs --url, --token and --meeting\n%s", publish ? "publish" : "subscribe",
                               usage);
    if (publish && !o->video && !o->audio)
        return cli_usage_error("bot publish needs --video FILE.ivf, --audio FILE.ogg or both\n%s", usage);
    if (o->screen && !o->video)
        return cli_usage_error("--screen needs --video FILE.ivf\n%s", usage);
    if (o->audio_level >= 0 && !o->audio)
        return cli_usage_error("--audio-level needs --audio FILE.ogg\n%s", usage);
    return CLI_OK;
}

/* ---- time ---- */

struct timespec bot_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t;
}



/* ---- output ---- */

void bot_print_json(json_t *value)
{
    pthread_mutex_lock(&out_mu);
    cli_print_json(value);
    fflush(stdout);
    pthread_mutex_unlock(&out_mu);
}

void bot_report(bot *b, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fprintf(stderr, "parley: %s\n", msg);
    if (b->o.json)
        bot_print_json(json_pack("{s:s, s:s}", "event", "bot-error", "message", msg));
}

/* Without --json only what goes wrong is printed, on stderr. */
static void print_event(bot *b, const parley_event *e)
{
    if (b->o.json) {
        bot_print_json(json_incref((json_t *)parley_event_json(e)));
        return;
    }
    parley_event_type t = parley_event_get_type(e);
    if (t == PARLEY_EVENT_ERROR) {
        const char *hint = parley_event_hint(e);
        fprintf(stderr, "parley: error %d %s: %s%s%s%s%s\n", parley_event_code(e), parley_event_code_name(e),
                parley_event_message(e), hint ? " (" : "", hint ? hint : "", hint ? ")" : "",
                parley_event_fatal(e) ? " [fatal]" : "");
    } else if (t == PARLEY_EVENT_MEETING_LEFT && parley_event_code(e) != PARLEY_LEAVE_MANUAL_LEAVE_CALLED) {
        fprintf(stderr, "parley: meeting left: %d %s: %s\n", parley_event_code(e), parley_event_code_name(e),
                parley_event_message(e));
    } else if (t == PARLEY_EVENT_MEDIA_STATE_CHANGED && parley_event_state(e) == PARLEY_STATE_FAILED) {
        const char *who = parley_event_participant(e);
        fprintf(stderr, "parley: media connection %s%s failed\n", who ? "from " : "(publishing)", who ? who : "");
    }
}

static bool is_media_request(const char *req)
{
    return req && (!strcmp(req, "publish-offer") || !strcmp(req, "subscribe") || !strcmp(req, "subscribe-answer"));
}

static void on_event(parley_meeting *m, const parley_event *e, void *ud)
{
    (void)m;
    bot *b = ud;
    print_event(b, e);
    parley_event_type t = parley_event_get_type(e);
    pthread_mutex_lock(&b->mu);
    if (t == PARLEY_EVENT_MEETING_JOINED)
        b->joined = true;
    else if (t == PARLEY_EVENT_ERROR && parley_event_fatal(e))
        b->fatal = true;
    else if (t == PARLEY_EVENT_ERROR && is_media_request(parley_event_request(e)))
        b->media_failed = true; /* the server refused our publication or a subscription */
    else if (t == PARLEY_EVENT_MEETING_LEFT)
        b->left = true;
    else if (t == PARLEY_EVENT_MEDIA_STATE_CHANGED) {
        parley_meeting_state s = parley_event_state(e);
        if (s == PARLEY_STATE_FAILED)
            b->media_failed = true;
        if (!parley_event_participant(e))
            b->published = s == PARLEY_STATE_CONNECTED;
    }
    const char *req = parley_event_request(e);
    if (b->want_request && req && !strcmp(req, b->want_request) &&
        (t == PARLEY_EVENT_RESPONSE || t == PARLEY_EVENT_ERROR))
        b->answered = true;
    pthread_cond_broadcast(&b->cond);
    pthread_mutex_unlock(&b->mu);
    if (b->hook)
        b->hook(b, e);
}

/* ---- signals ---- */

static void *signal_main(void *arg)
{
    sigset_t *set = arg;
    for (;;) {
        int sig = 0;
        if (sigwait(set, &sig))
            continue;
        if (sig == SIGUSR1) /* our own: time to go */
            return NULL;
        pthread_mutex_lock(&the_bot->mu);
        the_bot->signalled = true;
        pthread_cond_broadcast(&the_bot->cond);
        pthread_mutex_unlock(&the_bot->mu);
    }
}

static sigset_t sigs;
static pthread_t sig_thread;
static bool sig_started;

/* ---- the run ---- */

bool bot_over(bot *b)
{
    struct timespec now = bot_now();
    return b->left || b->signalled || (b->o.has_seconds && !cli_before(&now, &b->end));
}

bool bot_wait(bot *b, bool (*cond)(bot *), const struct timespec *until)
{
    const struct timespec *d = b->o.has_seconds ? &b->end : NULL;
    if (until && (!d || cli_before(until, d)))
        d = until;
    while (!(cond && cond(b)) && !b->left && !b->signalled) {
        if (d) {
            if (pthread_cond_timedwait(&b->cond, &b->mu, d) == ETIMEDOUT)
                break;
        } else {
            pthread_cond_wait(&b->cond, &b->mu);
        }
    }
    return cond && cond(b);
}

static bool is_joined(bot *b) { return b->joined; }
static bool is_left(bot *b) { return b->left; }
static bool is_answered(bot *b) { return b->answered; }

void bot_expect(bot *b, const char *request)
{
    b->want_request = request;
    b->answered = false;
}

bool bot_answered(bot *b, int rc, double timeout_s)
{
    bool ok = false;
    if (rc == PARLEY_OK) {
        struct timespec d = cli_after(bot_now(), timeout_s);
        ok = bot_wait(b, is_answered, &d);
    }
    b->want_request = NULL;
    return ok;
}

int bot_start(bot *b, parley_frame_cb on_frame)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&b->mu, NULL);
    b->end = cli_after(bot_now(), b->o.seconds);
    the_bot = b;

    /* Signals go to the signal thread only; threads inherit this mask. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    sig_started = pthread_create(&sig_thread, NULL, signal_main, &sigs) == 0;

    parley_client_options copts = {.ca_file = b->o.ca_file};
    int rc = parley_client_new(&copts, &b->client);
    if (rc == PARLEY_OK)
        rc = parley_meeting_new(b->client, &b->o.cfg, &b->m);
    if (rc != PARLEY_OK) {
        fprintf(stderr, "parley: %s\n", parley_strerror(rc));
        return rc == PARLEY_EINVAL ? CLI_USAGE : CLI_FAILED;
    }
    parley_meeting_on(b->m, PARLEY_EVENT_ALL, on_event, b);
    if (on_frame)
        parley_meeting_on_frame(b->m, on_frame, b);
    rc = parley_meeting_join(b->m);
    if (rc != PARLEY_OK) {
        fprintf(stderr, "parley: join: %s\n", parley_strerror(rc));
        return CLI_FAILED;
    }
    pthread_mutex_lock(&b->mu);
    bool joined = bot_wait(b, is_joined, NULL);
    pthread_mutex_unlock(&b->mu);
    return joined ? CLI_OK : CLI_FAILED;
}

int bot_leave(bot *b)
{
    bool asked = false;
    if (!b->left && b->joined) {
        asked = true;
        pthread_mutex_unlock(&b->mu);
        parley_meeting_leave(b->m);
        pthread_mutex_lock(&b->mu);
        b->signalled = false; /* the leave is under way: wait for it */
        b->o.has_seconds = false;
        struct timespec d = cli_after(bot_now(), LEAVE_TIMEOUT_S);
        bot_wait(b, is_left, &d);
        if (!b->left)
            bot_report(b, "no meeting-left within %d s of leaving", LEAVE_TIMEOUT_S);
    }
    bool clean = asked && b->left && !b->fatal && !b->media_failed;
    pthread_mutex_unlock(&b->mu);
    return clean ? CLI_OK : CLI_FAILED;
}

void bot_stop(bot *b)
{
    if (b->client)
        parley_client_destroy(b->client);
    b->client = NULL;
    b->m = NULL;
    if (sig_started) {
        pthread_kill(sig_thread, SIGUSR1);
        pthread_join(sig_thread, NULL);
        sig_started = false;
    }
}
