/* test_local.c - libparley without a server: local errors, failed joins,
 * threading, subscriptions and clean shutdown.
 *
 * Network failures are real: a loopback port nobody listens on (connection
 * refused), a listener that accepts and closes at once (the server goes away
 * before answering), and a listener that accepts and never answers (the
 * meeting stays connecting). Run it under the sanitizer build for leaks. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <parley/parley.h>

#include "../lib/tap.h"

/* ---- recording events ---- */

enum { MAX_EVENTS = 64 };

typedef struct seen {
    parley_event_type type;
    int code;
    char name[64];
    char request[32];
    char hint[160];
    char state[16];
    char room[32];
    bool fatal;
    pthread_t thread;
} seen;

typedef struct recorder {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    seen ev[MAX_EVENTS];
    int count;
} recorder;

static void recorder_init(recorder *r)
{
    memset(r, 0, sizeof(*r));
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cond, NULL);
}

static void recorder_fini(recorder *r)
{
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cond);
}

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static void record(parley_meeting *m, const parley_event *e, void *ud)
{
    (void)m;
    recorder *r = ud;
    pthread_mutex_lock(&r->mu);
    if (r->count < MAX_EVENTS) {
        seen *s = &r->ev[r->count++];
        s->type = parley_event_get_type(e);
        s->code = parley_event_code(e);
        copy(s->name, sizeof(s->name), parley_event_code_name(e));
        copy(s->request, sizeof(s->request), parley_event_request(e));
        copy(s->hint, sizeof(s->hint), parley_event_hint(e));
        copy(s->room, sizeof(s->room), parley_event_room(e));
        copy(s->state, sizeof(s->state),
             s->type == PARLEY_EVENT_MEETING_STATE_CHANGED ? parley_meeting_state_name(parley_event_state(e)) : "");
        s->fatal = parley_event_fatal(e);
        s->thread = pthread_self();
    }
    pthread_cond_broadcast(&r->cond);
    pthread_mutex_unlock(&r->mu);
}

static int count_of(recorder *r, parley_event_type type)
{
    int n = 0;
    for (int i = 0; i < r->count; i++)
        n += r->ev[i].type == type;
    return n;
}

/* Wait until `want` events of type arrived (or 5 s); the count seen. */
static int wait_for(recorder *r, parley_event_type type, int want)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 5;
    pthread_mutex_lock(&r->mu);
    int n;
    while ((n = count_of(r, type)) < want)
        if (pthread_cond_timedwait(&r->cond, &r->mu, &deadline))
            break;
    n = count_of(r, type);
    pthread_mutex_unlock(&r->mu);
    return n;
}

static const seen *find(recorder *r, parley_event_type type, int nth)
{
    for (int i = 0; i < r->count; i++)
        if (r->ev[i].type == type && nth-- == 0)
            return &r->ev[i];
    return NULL;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- loopback listeners ---- */

typedef enum { LISTEN_CLOSED_PORT, LISTEN_ACCEPT_CLOSE, LISTEN_ACCEPT_HOLD } listen_kind;

typedef struct listener {
    int fd, port;
    listen_kind kind;
    pthread_t thread;
    atomic_bool stop;
    int held[8];
    int nheld;
} listener;

static void *listener_main(void *arg)
{
    listener *l = arg;
    while (!atomic_load(&l->stop)) {
        int c = accept(l->fd, NULL, NULL);
        if (c < 0)
            break;
        if (l->kind == LISTEN_ACCEPT_HOLD && l->nheld < 8)
            l->held[l->nheld++] = c;
        else
            close(c);
    }
    return NULL;
}

static bool listener_start(listener *l, listen_kind kind)
{
    memset(l, 0, sizeof(*l));
    l->kind = kind;
    l->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&a, sizeof(a)) ||
        getsockname(l->fd, (struct sockaddr *)&a, &len))
        return false;
    l->port = ntohs(a.sin_port);
    if (kind == LISTEN_CLOSED_PORT) { /* bound, then closed: nobody listens there */
        close(l->fd);
        l->fd = -1;
        return true;
    }
    return listen(l->fd, 8) == 0 && pthread_create(&l->thread, NULL, listener_main, l) == 0;
}

static void listener_stop(listener *l)
{
    if (l->fd < 0)
        return;
    atomic_store(&l->stop, true);
    shutdown(l->fd, SHUT_RDWR); /* wakes accept() */
    pthread_join(l->thread, NULL);
    close(l->fd);
    for (int i = 0; i < l->nheld; i++)
        close(l->held[i]);
}

static parley_meeting *meeting_at(parley_client *c, int port, const char *scheme)
{
    char url[64];
    snprintf(url, sizeof(url), "%s://127.0.0.1:%d", scheme, port);
    parley_meeting_config cfg = {.url = url, .token = "t.o.k", .meeting_id = "abcd-efgh-ijkl", .name = "Ada"};
    parley_meeting *m = NULL;
    return parley_meeting_new(c, &cfg, &m) == PARLEY_OK ? m : NULL;
}

/* ---- tests ---- */

TEST(client_starts_and_stops)
{
    parley_client *c = NULL;
    REQUIRE(parley_client_new(NULL, &c) == PARLEY_OK && c);
    CHECK(parley_client_destroy(c) == PARLEY_OK);
    parley_client_options o = {.connect_timeout_s = 3};
    REQUIRE(parley_client_new(&o, &c) == PARLEY_OK);
    CHECK(parley_client_destroy(c) == PARLEY_OK);
    CHECK(parley_client_new(NULL, NULL) == PARLEY_EINVAL);
}

TEST(bad_configs_are_refused)
{
    parley_client *c;
    REQUIRE(parley_client_new(NULL, &c) == PARLEY_OK);
    parley_meeting *m = NULL;
    const char *bad_urls[] = {"ftp://example.com", "localhost:8080", "http://", "", "http://h:99999"};
    for (size_t i = 0; i < sizeof(bad_urls) / sizeof(*bad_urls); i++) {
        parley_meeting_config cfg = {.url = bad_urls[i], .token = "t", .meeting_id = "m"};
        CHECKF(parley_meeting_new(c, &cfg, &m) == PARLEY_EINVAL && !m, "%s", bad_urls[i]);
    }
    parley_meeting_config no_token = {.url = "http://localhost:1", .meeting_id = "m"};
    CHECK(parley_meeting_new(c, &no_token, &m) == PARLEY_EINVAL);
    parley_meeting_config no_meeting = {.url = "http://localhost:1", .token = "t"};
    CHECK(parley_meeting_new(c, &no_meeting, &m) == PARLEY_EINVAL);
    parley_meeting_config bad_mode = {.url = "ws://[::1]:1/x/", .token = "t", .meeting_id = "m", .mode = 7};
    CHECK(parley_meeting_new(c, &bad_mode, &m) == PARLEY_EINVAL);
    bad_mode.mode = PARLEY_MODE_VIEWER;
    CHECK(parley_meeting_new(c, &bad_mode, &m) == PARLEY_OK && m); /* left to destroy */
    CHECK(parley_meeting_lock(NULL) == PARLEY_EINVAL);
    CHECK(parley_meeting_chat(m, "", "x") == PARLEY_EINVAL);
    CHECK(parley_meeting_sync(m, 0.0 / 0.0, 1, false) == PARLEY_EINVAL);
    CHECK(parley_meeting_remove_participant(m, NULL) == PARLEY_EINVAL);
    CHECK(parley_client_destroy(c) == PARLEY_OK);
}

/* Each action: its call, and the request type its error names. */
typedef struct action {
    const char *request;
    int (*call)(parley_meeting *);
} action;

static int do_end(parley_meeting *m) { return parley_meeting_end(m); }
static int do_leave(parley_meeting *m) { return parley_meeting_leave(m); }
static int do_mode(parley_meeting *m) { return parley_meeting_change_mode(m, PARLEY_MODE_VIEWER, NULL); }
static int do_lock(parley_meeting *m) { return parley_meeting_lock(m); }
static int do_unlock(parley_meeting *m) { return parley_meeting_unlock(m); }
static int do_publish(parley_meeting *m) { return parley_meeting_publish(m, true, true); }
static int do_unpublish(parley_meeting *m) { return parley_meeting_unpublish(m); }
static int do_sync_role(parley_meeting *m) { return parley_meeting_set_synchronizer(m, "bob"); }
static int do_sync(parley_meeting *m) { return parley_meeting_sync(m, 12.5, 1.0, false); }
static int do_entry(parley_meeting *m) { return parley_meeting_respond_entry(m, "bob", true); }
static int do_remove(parley_meeting *m) { return parley_meeting_remove_participant(m, "bob"); }
static int do_mute(parley_meeting *m) { return parley_meeting_request_mute(m, "bob", PARLEY_MEDIA_AUDIO); }
static int do_refresh(parley_meeting *m) { return parley_meeting_refresh_token(m, "new.tok.en"); }
static int do_chat(parley_meeting *m) { return parley_meeting_chat(m, "general", "hello"); }
static int do_ping(parley_meeting *m) { return parley_meeting_ping(m); }

static const action actions[] = {
    {"end", do_end},
    {"change-mode", do_mode},
    {"lock", do_lock},
    {"unlock", do_unlock},
    {"publish", do_publish},
    {"unpublish", do_unpublish},
    {"set-synchronizer", do_sync_role},
    {"sync", do_sync},
    {"entry-response", do_entry},
    {"remove-participant", do_remove},
    {"request-mute", do_mute},
    {"refresh-token", do_refresh},
    {"chat", do_chat},
    {"ping", do_ping},
};
enum { NACTIONS = sizeof(actions) / sizeof(actions[0]) };

/* Call every action; each must return 3022 and emit one 3022 error naming it. */
static void check_all_actions_refused(parley_meeting *m, recorder *r, bool with_leave)
{
    int before = count_of(r, PARLEY_EVENT_ERROR);
    for (int i = 0; i < NACTIONS; i++)
        CHECKF(actions[i].call(m) == PARLEY_ERR_NATIVE_ERROR_ACTION_PERFORMED_BEFORE_MEETING_JOINED, "%s",
               actions[i].request);
    int want = before + NACTIONS;
    if (with_leave) {
        CHECK(do_leave(m) == PARLEY_ERR_NATIVE_ERROR_ACTION_PERFORMED_BEFORE_MEETING_JOINED);
        want++;
    }
    CHECK(wait_for(r, PARLEY_EVENT_ERROR, want) == want);
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < NACTIONS; i++) {
        const seen *s = find(r, PARLEY_EVENT_ERROR, before + i);
        REQUIRE(s);
        CHECK(s->code == 3022);
        CHECK(!strcmp(s->name, "ERROR_ACTION_PERFORMED_BEFORE_MEETING_JOINED"));
        CHECKF(!strcmp(s->request, actions[i].request), "%s vs %s", s->request, actions[i].request);
        CHECK(!s->fatal);
        CHECK(!strcmp(s->room, "abcd-efgh-ijkl"));
    }
    if (with_leave) {
        const seen *s = find(r, PARLEY_EVENT_ERROR, before + NACTIONS);
        CHECK(s && s->code == 3022 && !strcmp(s->request, "leave"));
    }
    pthread_mutex_unlock(&r->mu);
}

// provokes 3022 native
TEST(actions_before_join_raise_3022)
{
    parley_client *c;
    REQUIRE(parley_client_new(NULL, &c) == PARLEY_OK);
    parley_meeting *m = meeting_at(c, 9, "http");
    REQUIRE(m);
    recorder r;
    recorder_init(&r);
    REQUIRE(parley_meeting_on(m, PARLEY_EVENT_ERROR, record, &r) == PARLEY_OK);
    CHECK(parley_meeting_get_state(m) == PARLEY_STATE_IDLE);
    check_all_actions_refused(m, &r, true);
    CHECK(count_of(&r, PARLEY_EVENT_MEETING_LEFT) == 0);
    parley_client_destroy(c);
    recorder_fini(&r);
}

// provokes 3022 native
TEST(actions_while_connecting_raise_3022)
{
    listener l;
    REQUIRE(listener_start(&l, LISTEN_ACCEPT_HOLD));
    parley_client *c;
    REQUIRE(parley_client_new(NULL, &c) == PARLEY_OK);
    parley_meeting *m = meeting_at(c, l.port, "ws");
    recorder r;
    recorder_init(&r);
    REQUIRE(m && parley_meeting_on(m, PARLEY_EVENT_ALL, record, &r) == PARLEY_OK);
    CHECK(parley_meeting_join(m) == PARLEY_OK);
    CHECK(parley_meeting_join(m) == PARLEY_EALREADY);
    CHECK(parley_meeting_get_state(m) == PARLEY_STATE_CONNECTING);
    check_all_actions_refused(m, &r, false);
    /* leave cancels the join in progress: 1101, not an error */
    CHECK(parley_meeting_leave(m) == PARLEY_OK);
    CHECK(wait_for(&r, PARLEY_EVENT_MEETING_LEFT, 1) == 1);
    pthread_mutex_lock(&r.mu);
    const seen *left = find(&r, PARLEY_EVENT_MEETING_LEFT, 0);
    CHECK(left && left->code == PARLEY_LEAVE_MANUAL_LEAVE_CALLED && !strcmp(left->name, "MANUAL_LEAVE_CALLED"));
    const seen *last_state = find(&r, PARLEY_EVENT_MEETING_STATE_CHANGED, 1);
    CHECK(last_state && !strcmp(last_state->state, "DISCONNECTED"));
    CHECK(count_of(&r, PARLEY_EVENT_ERROR) == NACTIONS);
    pthread_mutex_unlock(&r.mu);
    CHECK(parley_meeting_get_state(m) == PARLEY_STATE_DISCONNECTED);
    parley_client_destroy(c);
    listener_stop(&l);
    recorder_fini(&r);
}

/* The events of a failed join, in order: CONNECTING, error 3023, FAILED, meeting-left 1103. */
static void check_join_failure(recorder *r, int from)
{
    pthread_mutex_lock(&r->mu);
    REQUIRE(r->count >= from + 4);
    const seen *e = &r->ev[from];
    CHECK(e[0].type == PARLEY_EVENT_MEETING_STATE_CHANGED && !strcmp(e[0].state, "CONNECTING"));
    CHECK(e[1].type == PARLEY_EVENT_ERROR && e[1].code == 3023 && !strcmp(e[1].name, "ERROR_JOINING_MEETING"));
    CHECK(e[1].fatal && e[1].hint[0] && !strcmp(e[1].request, "join"));
    CHECK(e[2].type == PARLEY_EVENT_MEETING_STATE_CHANGED && !strcmp(e[2].state, "FAILED"));
    CHECK(e[3].type == PARLEY_EVENT_MEETING_LEFT && e[3].code == PARLEY_LEAVE_JOIN_ROOM_FAILED);
    CHECK(!strcmp(e[3].name, "JOIN_ROOM_FAILED"));
    printf("# 3023 hint: %s\n", e[1].hint);
    pthread_mutex_unlock(&r->mu);
}

// provokes 3023 native
TEST(join_refused_connection_raises_3023)
{
    listener l;
    REQUIRE(listener_start(&l, LISTEN_CLOSED_PORT));
    parley_client *c;
    REQUIRE(parley_client_new(NULL, &c) == PARLEY_OK);
    parley_meeting *m = meeting_at(c, l.port, "http");
    recorder r;
    recorder_init(&r);
    REQUIRE(m && parley_meeting_on(m, PARLEY_EVENT_ALL, record, &r) == PARLEY_OK);
    CHECK(parley_meeting_join(m) == PARLEY_OK);
    CHECK(wait_for(&r, PARLEY_EVENT_MEETING_LEFT, 1) == 1);
    check_join_failure(&r, 0);
    CHECK(parley_meeting_get_state(m) == PARLEY_STATE_FAILED);
    /* a failed meeting may join again, and fails the same way */
    CHECK(parley_meeting_join(m) == PARLEY_OK);
    CHECK(wait_for(&r, PARLEY_EVENT_MEETING_LEFT, 2) == 2);
    check_join_failure(&r, 4);
    parley_client_destroy(c);
    recorder_fini(&r);
}

/* Join a listener that accepts and closes at once, through scheme: the join
 * must fail with 3023 and meeting-left 1103. */
static void join_accept_close(const char *scheme)
{
    listener l;
    REQUIRE(listener_start(&l, LISTEN_ACCEPT_CLOSE));
    parley_client *c;
    REQUIRE(parley_client_new(NULL, &c) == PARLEY_OK);
    parley_meeting *m = meeting_at(c, l.port, scheme);
    recorder r;
    recorder_init(&r);
    REQUIRE(m && parley_meeting_on(m, PARLEY_EVENT_ALL, record, &r) == PARLEY_OK);
    CHECK(parley_meeting_join(m) == PARLEY_OK);
    CHECK(wait_for(&r, PARLEY_EVENT_MEETING_LEFT, 1) == 1);
    check_join_failure(&r, 0);
    parley_client_destroy(c);
    listener_stop(&l);
    recorder_fini(&r);
}

// provokes 3023 native
TEST(join_server_closes_before_answering_raises_3023)
{
    join_accept_close("http");
}

// provokes 3023 native
TEST(tls_join_to_plain_listener_raises_3023)
{
    join_accept_close("wss");
}

TEST(callbacks_run_on_the_loop_thread)
{
    listener l;
    REQUIRE(listener_start(&l, LISTEN_CLOSED_PORT));
    parley_client *c;
    REQUIRE(parley_client_new(NULL, &c) == PARLEY_OK);
    parley_meeting *m = meeting_at(c, l.port, "http");
    recorder r;
    recorder_init(&r);
    REQUIRE(m && parley_meeting_on(m, PARLEY_EVENT_ALL, record, &r) == PARLEY_OK);
    parley_meeting_lock(m);
    parley_meeting_join(m);
    CHECK(wait_for(&r, PARLEY_EVENT_MEETING_LEFT, 1) == 1);
    pthread_mutex_lock(&r.mu);
    CHECK(r.count >= 5);
    for (int i = 0; i < r.count; i++) {
        CHECK(!pthread_equal(r.ev[i].thread, pthread_self()));
        CHECK(pthread_equal(r.ev[i].thread, r.ev[0].thread));
    }
    pthread_mutex_unlock(&r.mu);
    parley_client_destroy(c);
    recorder_fini(&r);
}

static atomic_int calls_a, calls_b;
static void count_a(parley_meeting *m, const parley_event *e, void *ud)
{
    (void)m, (void)e, (void)ud;
    atomic_fetch_add(&calls_a, 1);
}
static void count_b(parley_meeting *m, const parley_event *e, void *ud)
{
    (void)e;
    atomic_fetch_add(&calls_b, 1);
    /* removing itself from inside its own callback */
    parley_meeting_off(m, PARLEY_EVENT_ERROR, count_b, ud);
}

TEST(on_and_off)
{
    parley_client *c;
    REQUIRE(parley_client_new(NULL, &c) == PARLEY_OK);
    parley_meeting *m = meeting_at(c, 9, "http");
    recorder r;
    recorder_init(&r);
    REQUIRE(m);
    int tag1, tag2;
    CHECK(parley_meeting_on(m, PARLEY_EVENT_ERROR, count_a, &tag1) == PARLEY_OK);
    CHECK(parley_meeting_on(m, PARLEY_EVENT_ERROR, count_a, &tag1) == PARLEY_OK); /* no-op */
    CHECK(parley_meeting_on(m, PARLEY_EVENT_ALL, count_a, &tag2) == PARLEY_OK);   /* another one */
    CHECK(parley_meeting_on(m, PARLEY_EVENT_ERROR, count_b, NULL) == PARLEY_OK);
    CHECK(parley_meeting_on(m, PARLEY_EVENT_CHAT, count_a, &tag1) == PARLEY_OK);  /* never fires */
    CHECK(parley_meeting_on(m, PARLEY_EVENT_ERROR, record, &r) == PARLEY_OK);
    CHECK(parley_meeting_on(m, PARLEY_EVENT_COUNT_, count_a, NULL) == PARLEY_EINVAL);
    CHECK(parley_meeting_on(m, PARLEY_EVENT_ERROR, NULL, NULL) == PARLEY_EINVAL);

    parley_meeting_lock(m);
    CHECK(wait_for(&r, PARLEY_EVENT_ERROR, 1) == 1);
    CHECK(atomic_load(&calls_a) == 2); /* tag1 once, tag2 once */
    CHECK(atomic_load(&calls_b) == 1);

    CHECK(parley_meeting_off(m, PARLEY_EVENT_ERROR, count_b, NULL) == PARLEY_ENOENT); /* already off */
    CHECK(parley_meeting_off(m, PARLEY_EVENT_ERROR, count_a, &tag1) == PARLEY_OK);
    CHECK(parley_meeting_off(m, PARLEY_EVENT_ERROR, count_a, &tag1) == PARLEY_ENOENT);
    CHECK(parley_meeting_off(m, PARLEY_EVENT_ERROR, count_a, &tag2) == PARLEY_ENOENT); /* it is on ALL */
    parley_meeting_unlock(m);
    CHECK(wait_for(&r, PARLEY_EVENT_ERROR, 2) == 2);
    CHECK(atomic_load(&calls_a) == 3); /* only the wildcard */
    CHECK(atomic_load(&calls_b) == 1);
    CHECK(parley_meeting_off(m, PARLEY_EVENT_ALL, count_a, &tag2) == PARLEY_OK);
    parley_meeting_unlock(m);
    CHECK(wait_for(&r, PARLEY_EVENT_ERROR, 3) == 3);
    CHECK(atomic_load(&calls_a) == 3);
    parley_client_destroy(c);
    recorder_fini(&r);
}

typedef struct inside {
    parley_client *client;
    atomic_int destroy_rc;
    atomic_bool freed;
} inside;

static void free_inside(parley_meeting *m, const parley_event *e, void *ud)
{
    inside *in = ud;
    (void)e;
    atomic_store(&in->destroy_rc, parley_client_destroy(in->client));
    parley_meeting_free(m);
    atomic_store(&in->freed, true);
}

TEST(free_and_destroy_from_callbacks)
{
    parley_client *c;
    REQUIRE(parley_client_new(NULL, &c) == PARLEY_OK);
    inside in = {.client = c};
    parley_meeting *m = meeting_at(c, 9, "http");
    REQUIRE(m && parley_meeting_on(m, PARLEY_EVENT_ERROR, free_inside, &in) == PARLEY_OK);
    parley_meeting_lock(m);
    for (int i = 0; i < 500 && !atomic_load(&in.freed); i++)
        sleep_ms(10);
    CHECK(atomic_load(&in.freed));
    CHECK(atomic_load(&in.destroy_rc) == PARLEY_EDEADLK);
    /* meetings never freed are freed by destroy, joined or not */
    parley_meeting *idle = meeting_at(c, 9, "http");
    CHECK(idle != NULL);
    listener l;
    REQUIRE(listener_start(&l, LISTEN_ACCEPT_HOLD));
    parley_meeting *connecting = meeting_at(c, l.port, "http");
    parley_meeting *released = meeting_at(c, l.port, "http");
    REQUIRE(connecting && released);
    CHECK(parley_meeting_join(connecting) == PARLEY_OK);
    CHECK(parley_meeting_join(released) == PARLEY_OK);
    sleep_ms(50);
    parley_meeting_free(released); /* while connecting: closed and freed on the loop */
    sleep_ms(50);
    CHECK(parley_client_destroy(c) == PARLEY_OK);
    listener_stop(&l);
}

TEST(strerror_covers_statuses_and_codes)
{
    CHECK(!strcmp(parley_strerror(PARLEY_EINVAL), "invalid argument"));
    CHECK(strstr(parley_strerror(3022), "still connecting") != NULL);
    CHECK(strstr(parley_strerror(3023), "could not be joined") != NULL);
    CHECK(parley_strerror(123456) != NULL);
    CHECK(!strcmp(parley_event_type_name(PARLEY_EVENT_MEETING_LEFT), "meeting-left"));
    CHECK(parley_event_type_name(PARLEY_EVENT_COUNT_) == NULL);
    CHECK(!strcmp(parley_event_type_name(PARLEY_EVENT_KEYFRAME_REQUESTED), "keyframe-requested"));
    for (int t = PARLEY_EVENT_ALL; t < PARLEY_EVENT_COUNT_; t++)
        CHECKF(parley_event_type_name((parley_event_type)t) != NULL, "event type %d has no name", t);
    parley_mode mode;
    CHECK(parley_mode_parse("SIGNALLING_ONLY", &mode) && mode == PARLEY_MODE_VIEWER);
    CHECK(parley_mode_parse("conference", &mode) && mode == PARLEY_MODE_CONFERENCE);
    CHECK(!parley_mode_parse("RECV_ONLY", &mode));
}

int main(void)
{
    RUN(client_starts_and_stops);
    RUN(bad_configs_are_refused);
    RUN(actions_before_join_raise_3022);
    RUN(actions_while_connecting_raise_3022);
    RUN(join_refused_connection_raises_3023);
    RUN(join_server_closes_before_answering_raises_3023);
    RUN(tls_join_to_plain_listener_raises_3023);
    RUN(callbacks_run_on_the_loop_thread);
    RUN(on_and_off);
    RUN(free_and_destroy_from_callbacks);
    RUN(strerror_covers_statuses_and_codes);
    return tap_done();
}
