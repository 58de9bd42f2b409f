/* cmd_join.c - `parley join`: be a participant from the command line.
 *
 * Joins through libparley and prints every event the meeting delivers (one
 * JSON object per line with --json), so a script or a test sees exactly what
 * an application would. Scripted actions (--do) run in order once joined,
 * each waiting for its answer, which makes multi-party tests deterministic.
 *
 * Threads: events are printed by libparley's loop thread (the only writer of
 * stdout); the main thread runs the script and the clock; a third thread
 * waits for SIGINT/SIGTERM, which leave the meeting cleanly. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <parley/parley.h>

#include "cli.h"

static const char usage_text[] =
    "usage: parley join --url URL --token T --meeting M [--participant P] [--name N]\n"
    "                   [--mode CONFERENCE|VIEWER] [--mic] [--webcam] [--origin O]\n"
    "                   [--insecure] [--ca-file F] [--reconnect-attempts N] [--keepalive S]\n"
    "                   [--seconds S] [--do ACTION[:ARG]]... [--auto-admit allowed|denied] [--json]\n"
    "\n"
    "Joins the meeting, prints every event (with --json one object per line, e.g.\n"
    "{\"event\":\"error\",\"code\":4002,\"name\":\"INVALID_TOKEN\",...}) and stays until S seconds\n"
    "have passed since start (then leaves), the meeting is left, or SIGINT/SIGTERM\n"
    "(which leave too). Without --seconds it stays until the meeting is left.\n"
    "URL is http[s]://host:port or ws[s]://host:port; --insecure accepts any certificate.\n"
    "--reconnect-attempts 0 turns automatic reconnection off (default 8).\n"
    "--keepalive S pings the server every S seconds once joined (default 20; 0: never).\n"
    "\n"
    "Actions (--do, repeatable) run in order once joined; each waits for its answer\n"
    "(a response or an error) before the next one starts:\n"
    "  leave | end | lock | unlock | unpublish | ping\n"
    "  publish:audio,video | publish:audio | publish:video\n"
    "  publish:none                  a publish request carrying neither (the server refuses it)\n"
    "  mode:CONFERENCE|VIEWER[:ID]   change your own mode, or ID's\n"
    "  set-synchronizer:ID | remove:ID | mute:ID:audio|video\n"
    "  entry:ID:allowed|denied       answer ID's entry request\n"
    "  sync:POSITION[:RATE[:paused]] RATE defaults to 1\n"
    "  chat:TOPIC:TEXT               TEXT may contain ':'\n"
    "  refresh-token:TOKEN\n"
    "  wait:SECONDS                  pause\n"
    "  wait-for:EVENT                until an event of that name arrives (participant-joined, ...)\n"
    "--auto-admit answers every entry-requested with allowed or denied.\n"
    "\n"
    "Exit status: 0 after leaving as asked (time up, a signal, a leave or end action);\n"
    "1 after a fatal error or a meeting-left it did not ask for; 2 for bad usage.\n";

enum { MAX_ACTIONS = 64, ANSWER_TIMEOUT_S = 15, LEAVE_TIMEOUT_S = 5 };

typedef enum act_kind {
    ACT_LEAVE, ACT_END, ACT_LOCK, ACT_UNLOCK, ACT_UNPUBLISH, ACT_PING, ACT_PUBLISH, ACT_MODE,
    ACT_SET_SYNC, ACT_REMOVE, ACT_MUTE, ACT_ENTRY, ACT_SYNC, ACT_CHAT, ACT_REFRESH, ACT_WAIT, ACT_WAIT_FOR,
} act_kind;

typedef struct act {
    act_kind kind;
    const char *request; /* the request type its answer names */
    const char *text;    /* the --do argument, for messages */
    char *a, *b;         /* parsed arguments (pointing into a copy) */
    bool flag1, flag2;
    double num1, num2;
    parley_mode mode;
    char *copy;
} act;

typedef struct join_opts {
    parley_meeting_config cfg;
    bool json, has_seconds, auto_admit, admit_allowed;
    double seconds;
    const char *ca_file;
    act acts[MAX_ACTIONS];
    int nacts;
} join_opts;

/* What the loop thread saw, for the main thread. Under mu. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool joined, left, fatal, signalled;
    int left_code;
    unsigned long seq;        /* events seen */
    const char *want_request; /* the request being answered */
    unsigned long answered_at;
    const char *want_event;   /* wait-for */
    unsigned long event_at;
    bool json;
    bool auto_admit, admit_allowed;
} run = {.mu = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};

/* ---- parsing ---- */

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

/* Split a copy of text at the first ':' at most `parts - 1` times. */
static int split(char *s, char **out, int parts)
{
    int n = 0;
    out[n++] = s;
    while (n < parts && (s = strchr(s, ':'))) {
        *s++ = '\0';
        out[n++] = s;
    }
    return n;
}

static int parse_action(const char *text, act *a)
{
    memset(a, 0, sizeof(*a));
    a->text = text;
    a->copy = strdup(text);
    if (!a->copy)
        return cli_usage_error("out of memory");
    char *p[4] = {0};
    int n = split(a->copy, p, 3);
    const char *name = p[0];
    static const struct {
        const char *name;
        act_kind kind;
        const char *request;
        int min_args, max_args;
    } table[] = {
        {"leave", ACT_LEAVE, "leave", 0, 0},
        {"end", ACT_END, "end", 0, 0},
        {"lock", ACT_LOCK, "lock", 0, 0},
        {"unlock", ACT_UNLOCK, "unlock", 0, 0},
        {"unpublish", ACT_UNPUBLISH, "unpublish", 0, 0},
        {"ping", ACT_PING, "ping", 0, 0},
        {"publish", ACT_PUBLISH, "publish", 1, 1},
        {"mode", ACT_MODE, "change-mode", 1, 2},
        {"set-synchronizer", ACT_SET_SYNC, "set-synchronizer", 1, 1},
        {"remove", ACT_REMOVE, "remove-participant", 1, 1},
        {"mute", ACT_MUTE, "request-mute", 2, 2},
        {"entry", ACT_ENTRY, "entry-response", 2, 2},
        {"sync", ACT_SYNC, "sync", 1, 3},
        {"chat", ACT_CHAT, "chat", 2, 2},
        {"refresh-token", ACT_REFRESH, "refresh-token", 1, 1},
        {"wait", ACT_WAIT, NULL, 1, 1},
        {"wait-for", ACT_WAIT_FOR, NULL, 1, 1},
    };
    size_t i = 0;
    for (; i < sizeof(table) / sizeof(*table); i++)
        if (!strcmp(name, table[i].name))
            break;
    if (i == sizeof(table) / sizeof(*table))
        return cli_usage_error("unknown action '%s' (see 'parley join --help')", text);
    a->kind = table[i].kind;
    a->request = table[i].request;
    if (a->kind == ACT_CHAT || a->kind == ACT_REFRESH) { /* the text keeps its colons */
        free(a->copy);
        a->copy = strdup(text);
        n = split(a->copy, p, a->kind == ACT_CHAT ? 3 : 2);
    } else if (a->kind == ACT_SYNC) {
        free(a->copy);
        a->copy = strdup(text);
        n = split(a->copy, p, 4);
    }
    int args = n - 1;
    for (int k = 1; k < n; k++)
        if (!*p[k])
            return cli_usage_error("empty argument in action '%s'", text);
    if (args < table[i].min_args || args > table[i].max_args)
        return cli_usage_error("wrong number of arguments in action '%s' (see 'parley join --help')", text);
    a->a = p[1];
    a->b = p[2];
    switch (a->kind) {
    case ACT_PUBLISH:
        a->flag1 = strstr(a->a, "audio") != NULL;
        a->flag2 = strstr(a->a, "video") != NULL;
        if (strcmp(a->a, "audio") && strcmp(a->a, "video") && strcmp(a->a, "audio,video") &&
            strcmp(a->a, "video,audio") && strcmp(a->a, "none"))
            return cli_usage_error("publish takes audio, video, audio,video or none: '%s'", text);
        break;
    case ACT_MODE:
        if (!parley_mode_parse(a->a, &a->mode))
            return cli_usage_error("unknown mode in '%s' (CONFERENCE or VIEWER)", text);
        break;
    case ACT_MUTE:
        if (strcmp(a->b, "audio") && strcmp(a->b, "video"))
            return cli_usage_error("mute takes audio or video: '%s'", text);
        break;
    case ACT_ENTRY:
        if (strcmp(a->b, "allowed") && strcmp(a->b, "denied"))
            return cli_usage_error("entry takes allowed or denied: '%s'", text);
        a->flag1 = !strcmp(a->b, "allowed");
        break;
    case ACT_SYNC:
        a->num2 = 1.0;
        if (!parse_number(p[1], &a->num1) || (n > 2 && !parse_number(p[2], &a->num2)))
            return cli_usage_error("sync takes POSITION[:RATE[:paused]]: '%s'", text);
        if (n > 3 && strcmp(p[3], "paused"))
            return cli_usage_error("sync takes POSITION[:RATE[:paused]]: '%s'", text);
        a->flag1 = n > 3;
        break;
    case ACT_WAIT:
        if (!parse_number(a->a, &a->num1) || a->num1 < 0)
            return cli_usage_error("wait takes a number of seconds: '%s'", text);
        break;
    default:
        break;
    }
    return CLI_OK;
}

static int parse_opts(int argc, char **argv, join_opts *o)
{
    o->cfg.mode = PARLEY_MODE_CONFERENCE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            exit(CLI_OK);
        } else if (!strcmp(a, "--json")) {
            o->json = true;
        } else if (!strcmp(a, "--mic")) {
            o->cfg.mic_enabled = true;
        } else if (!strcmp(a, "--webcam")) {
            o->cfg.webcam_enabled = true;
        } else if (!strcmp(a, "--insecure")) {
            o->cfg.tls_insecure = true;
        } else {
            static const char *const valued[] = {"--url", "--token", "--meeting", "--participant", "--name",
                                                 "--mode", "--origin", "--ca-file", "--seconds", "--do",
                                                 "--auto-admit", "--reconnect-attempts", "--keepalive"};
            size_t k = 0;
            for (; k < sizeof(valued) / sizeof(*valued); k++)
                if (!strcmp(a, valued[k]))
                    break;
            if (k == sizeof(valued) / sizeof(*valued))
                return cli_usage_error("unexpected argument '%s'\n%s", a, usage_text);
            if (i + 1 >= argc)
                return cli_usage_error("%s needs a value", a);
            const char *v = argv[++i];
            double num;
            if (!strcmp(a, "--url")) {
                o->cfg.url = v;
            } else if (!strcmp(a, "--token")) {
                o->cfg.token = v;
            } else if (!strcmp(a, "--meeting")) {
                o->cfg.meeting_id = v;
            } else if (!strcmp(a, "--participant")) {
                o->cfg.participant_id = v;
            } else if (!strcmp(a, "--name")) {
                o->cfg.name = v;
            } else if (!strcmp(a, "--origin")) {
                o->cfg.origin = v;
            } else if (!strcmp(a, "--ca-file")) {
                o->ca_file = v;
            } else if (!strcmp(a, "--mode")) {
                if (!parley_mode_parse(v, &o->cfg.mode))
                    return cli_usage_error("unknown mode '%s' (CONFERENCE or VIEWER)", v);
            } else if (!strcmp(a, "--seconds")) {
                if (!parse_number(v, &num) || num < 0)
                    return cli_usage_error("--seconds takes a number of seconds, not '%s'", v);
                o->seconds = num;
                o->has_seconds = true;
            } else if (!strcmp(a, "--reconnect-attempts")) {
                if (!parse_number(v, &num) || num < 0 || num > 1000 || num != (int)num)
                    return cli_usage_error("--reconnect-attempts takes a count, not '%s'", v);
                o->cfg.reconnect_attempts = num == 0 ? -1 : (int)num;
            } else if (!strcmp(a, "--keepalive")) {
                if (!parse_number(v, &num) || num < 0 || num > 86400)
                    return cli_usage_error("--keepalive takes a number of seconds, not '%s'", v);
                o->cfg.keepalive_ms = num == 0 ? -1 : (int)(num * 1000) > 0 ? (int)(num * 1000) : 1;
            } else if (!strcmp(a, "--auto-admit")) {
                if (strcmp(v, "allowed") && strcmp(v, "denied"))
                    return cli_usage_error("--auto-admit takes allowed or denied, not '%s'", v);
                o->auto_admit = true;
                o->admit_allowed = !strcmp(v, "allowed");
            } else if (!strcmp(a, "--do")) {
                if (o->nacts == MAX_ACTIONS)
                    return cli_usage_error("at most %d actions", MAX_ACTIONS);
                int rc = parse_action(v, &o->acts[o->nacts++]);
                if (rc)
                    return rc;
            }
        }
    }
    if (!o->cfg.url || !o->cfg.token || !o->cfg.meeting_id)
        return cli_usage_error("join needs --url, --token and --meeting\n%s", usage_text);
    return CLI_OK;
}

/* ---- events (loop thread) ---- */

static void print_event(const parley_event *e)
{
    json_t *j = (json_t *)parley_event_json(e);
    if (run.json) {
        cli_print_json(json_incref(j));
        fflush(stdout);
        return;
    }
    parley_event_type t = parley_event_get_type(e);
    if (t == PARLEY_EVENT_ERROR || t == PARLEY_EVENT_MEETING_LEFT || t == PARLEY_EVENT_PARTICIPANT_LEFT) {
        const char *hint = parley_event_hint(e);
        printf("%s%s%s %d %s: %s%s%s%s%s\n", parley_event_name(e), t == PARLEY_EVENT_PARTICIPANT_LEFT ? " " : "",
               t == PARLEY_EVENT_PARTICIPANT_LEFT ? parley_event_participant(e) : "", parley_event_code(e),
               parley_event_code_name(e), parley_event_message(e), hint ? " (" : "", hint ? hint : "",
               hint ? ")" : "", parley_event_fatal(e) ? " [fatal]" : "");
    } else if (t == PARLEY_EVENT_MEETING_STATE_CHANGED) {
        printf("%s %s\n", parley_event_name(e), parley_meeting_state_name(parley_event_state(e)));
    } else {
        json_t *rest = json_copy(j);
        json_object_del(rest, "event");
        char *text = json_dumps(rest, JSON_COMPACT | JSON_ENSURE_ASCII);
        printf("%s %s\n", parley_event_name(e), text ? text : "");
        free(text);
        json_decref(rest);
    }
    fflush(stdout);
}

static void on_event(parley_meeting *m, const parley_event *e, void *ud)
{
    (void)ud;
    print_event(e);
    parley_event_type t = parley_event_get_type(e);
    pthread_mutex_lock(&run.mu);
    run.seq++;
    if (t == PARLEY_EVENT_MEETING_JOINED)
        run.joined = true;
    if (t == PARLEY_EVENT_ERROR && parley_event_fatal(e))
        run.fatal = true;
    if (t == PARLEY_EVENT_MEETING_LEFT) {
        run.left = true;
        run.left_code = parley_event_code(e);
    }
    const char *req = parley_event_request(e);
    if (run.want_request && req && !strcmp(req, run.want_request) &&
        (t == PARLEY_EVENT_RESPONSE || t == PARLEY_EVENT_ERROR || t == PARLEY_EVENT_PONG))
        run.answered_at = run.seq;
    const char *name = parley_event_name(e);
    if (run.want_event && name && !strcmp(name, run.want_event))
        run.event_at = run.seq;
    bool admit = run.auto_admit && t == PARLEY_EVENT_ENTRY_REQUESTED;
    bool allowed = run.admit_allowed;
    pthread_cond_broadcast(&run.cond);
    pthread_mutex_unlock(&run.mu);
    if (admit && parley_event_participant(e))
        parley_meeting_respond_entry(m, parley_event_participant(e), allowed);
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
        pthread_mutex_lock(&run.mu);
        run.signalled = true;
        pthread_cond_broadcast(&run.cond);
        pthread_mutex_unlock(&run.mu);
    }
}

/* ---- the script (main thread) ---- */

/* A deadline seconds from now (CLOCK_REALTIME, as pthread_cond_timedwait). */
static struct timespec deadline_after(double seconds)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return cli_after(t, seconds);
}


/* Wait, with run.mu held, until cond() holds, the meeting is left, a signal
 * came, or the earlier of the two deadlines passes. True when cond() held. */
static bool wait_until(bool (*cond)(void), const struct timespec *d1, const struct timespec *d2)
{
    const struct timespec *d = !d1 ? d2 : !d2 ? d1 : cli_before(d1, d2) ? d1 : d2;
    while (!cond() && !run.left && !run.signalled) {
        if (d) {
            if (pthread_cond_timedwait(&run.cond, &run.mu, d) == ETIMEDOUT)
                break;
        } else {
            pthread_cond_wait(&run.cond, &run.mu);
        }
    }
    return cond();
}

static bool is_joined(void) { return run.joined; }
static bool never(void) { return false; }
static bool answered(void) { return run.answered_at != 0; }
static bool event_seen(void) { return run.event_at != 0; }
static bool is_left(void) { return run.left; }

static int perform(parley_meeting *m, const act *a)
{
    switch (a->kind) {
    case ACT_LEAVE: return parley_meeting_leave(m);
    case ACT_END: return parley_meeting_end(m);
    case ACT_LOCK: return parley_meeting_lock(m);
    case ACT_UNLOCK: return parley_meeting_unlock(m);
    case ACT_UNPUBLISH: return parley_meeting_unpublish(m);
    case ACT_PING: return parley_meeting_ping(m);
    case ACT_PUBLISH: return parley_meeting_publish(m, a->flag1, a->flag2);
    case ACT_MODE: return parley_meeting_change_mode(m, a->mode, a->b);
    case ACT_SET_SYNC: return parley_meeting_set_synchronizer(m, a->a);
    case ACT_REMOVE: return parley_meeting_remove_participant(m, a->a);
    case ACT_MUTE:
        return parley_meeting_request_mute(m, a->a, !strcmp(a->b, "audio") ? PARLEY_MEDIA_AUDIO : PARLEY_MEDIA_VIDEO);
    case ACT_ENTRY: return parley_meeting_respond_entry(m, a->a, a->flag1);
    case ACT_SYNC: return parley_meeting_sync(m, a->num1, a->num2, a->flag1);
    case ACT_CHAT: return parley_meeting_chat(m, a->a, a->b);
    case ACT_REFRESH: return parley_meeting_refresh_token(m, a->a);
    case ACT_WAIT:
    case ACT_WAIT_FOR: break;
    }
    return PARLEY_OK;
}

/* Run the script; true when it asked to leave (leave or end). mu held. */
static bool run_script(parley_meeting *m, join_opts *o, const struct timespec *end)
{
    bool asked = false;
    for (int i = 0; i < o->nacts && !run.left && !run.signalled; i++) {
        act *a = &o->acts[i];
        if (a->kind == ACT_WAIT) {
            struct timespec d = deadline_after(a->num1);
            wait_until(never, &d, end);
            continue;
        }
        if (a->kind == ACT_WAIT_FOR) {
            run.want_event = a->a;
            run.event_at = 0;
            wait_until(event_seen, NULL, end);
            run.want_event = NULL;
            continue;
        }
        run.want_request = a->request;
        run.answered_at = 0;
        pthread_mutex_unlock(&run.mu);
        int rc = perform(m, a);
        pthread_mutex_lock(&run.mu);
        if (rc < 0)
            fprintf(stderr, "parley: action '%s': %s\n", a->text, parley_strerror(rc));
        if (a->kind == ACT_LEAVE || a->kind == ACT_END) {
            asked = true;
            struct timespec d = deadline_after(ANSWER_TIMEOUT_S);
            wait_until(is_left, &d, NULL);
        } else if (rc == PARLEY_OK) {
            struct timespec d = deadline_after(ANSWER_TIMEOUT_S);
            if (!wait_until(answered, &d, end) && !run.left && !run.signalled)
                fprintf(stderr, "parley: action '%s': no answer\n", a->text);
        }
        run.want_request = NULL;
    }
    return asked;
}

int cmd_join(int argc, char **argv)
{
    join_opts o;
    memset(&o, 0, sizeof(o));
    int rc = parse_opts(argc, argv, &o);
    if (rc)
        goto out;
    run.json = o.json;
    run.auto_admit = o.auto_admit;
    run.admit_allowed = o.admit_allowed;

    /* Signals go to the signal thread only; threads inherit this mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_t sig_thread;
    pthread_create(&sig_thread, NULL, signal_main, &set);

    parley_client *client = NULL;
    parley_meeting *m = NULL;
    parley_client_options copts = {.ca_file = o.ca_file};
    rc = parley_client_new(&copts, &client);
    if (rc == PARLEY_OK)
        rc = parley_meeting_new(client, &o.cfg, &m);
    if (rc != PARLEY_OK) {
        fprintf(stderr, "parley: %s\n", parley_strerror(rc));
        rc = rc == PARLEY_EINVAL ? CLI_USAGE : CLI_FAILED;
    } else {
        parley_meeting_on(m, PARLEY_EVENT_ALL, on_event, NULL);
        struct timespec end_at = deadline_after(o.seconds);
        const struct timespec *end = o.has_seconds ? &end_at : NULL;
        bool asked = false;
        if (parley_meeting_join(m) == PARLEY_OK) {
            pthread_mutex_lock(&run.mu);
            if (wait_until(is_joined, end, NULL))
                asked = run_script(m, &o, end);
            wait_until(never, end, NULL); /* stay until time is up, a signal, or the end */
            if (!run.left) {
                asked = true;
                pthread_mutex_unlock(&run.mu);
                parley_meeting_leave(m);
                pthread_mutex_lock(&run.mu);
                run.signalled = false;
                struct timespec d = deadline_after(LEAVE_TIMEOUT_S);
                wait_until(is_left, &d, NULL);
            }
            bool clean = run.left && asked && !run.fatal;
            pthread_mutex_unlock(&run.mu);
            rc = clean ? CLI_OK : CLI_FAILED;
        } else {
            rc = CLI_FAILED;
        }
    }
    if (client)
        parley_client_destroy(client);
    pthread_kill(sig_thread, SIGUSR1);
    pthread_join(sig_thread, NULL);
out:
    for (int i = 0; i < o.nacts; i++)
        free(o.acts[i].copy);
    return rc;
}
