/* client.c - the parley_client: one thread, one libuv loop, one lws context.
 *
 * Every network event and every callback happens on this loop thread. Other
 * threads talk to it through a mutex-guarded command queue and a uv_async
 * wake-up; commands run in the order they were posted.
 *
 * Shutdown (parley_client_destroy): a CMD_SHUTDOWN closes every meeting
 * quietly, waits up to a second for the sockets to flush their `leave` and
 * close, destroys the lws context (whose libuv handles close on the same
 * loop), closes our own handles, and lets the loop run dry. The destroying
 * thread then joins the loop thread and frees the rest. */
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "internal.h"

enum { DRAIN_TICK_MS = 10, DRAIN_MAX_TICKS = 100 };

void cmd_free(cmd *c)
{
    if (!c)
        return;
    json_decref(c->msg);
    free(c->arg);
    free(c->data);
    free(c);
}

bool client_on_loop_thread(parley_client *client)
{
    uv_thread_t self = uv_thread_self();
    return uv_thread_equal(&self, &client->loop_thread_id);
}

int client_post_locked(parley_client *client, cmd *c)
{
    if (client->closing) {
        cmd_free(c);
        return PARLEY_ECLOSED;
    }
    c->next = NULL;
    if (client->tail)
        client->tail->next = c;
    else
        client->head = c;
    client->tail = c;
    /* Under mu: the loop closes this handle only after a shutdown, and no
     * command is posted after that. */
    uv_async_send(&client->wake);
    return PARLEY_OK;
}

int client_post(parley_client *client, cmd *c)
{
    uv_mutex_lock(&client->mu);
    int rc = client_post_locked(client, c);
    uv_mutex_unlock(&client->mu);
    return rc;
}

static void drain_tick(uv_timer_t *t)
{
    parley_client *client = t->data;
    if (client->conns && ++client->drain_ticks < DRAIN_MAX_TICKS)
        return;
    uv_timer_stop(t);
    /* lws closes its sockets and handles on this loop; the loop ends when
     * they and ours are closed. */
    lws_context_destroy(client->lws);
    uv_close((uv_handle_t *)&client->drain, NULL);
    uv_close((uv_handle_t *)&client->wake, NULL);
}

static void shutdown_loop(parley_client *client)
{
    for (parley_meeting *m = client->meetings; m; m = m->next)
        session_close_quietly(m, false);
    client->drain_ticks = 0;
    uv_timer_start(&client->drain, drain_tick, 0, DRAIN_TICK_MS);
}

static void run_command(parley_client *client, cmd *c)
{
    parley_meeting *m = c->meeting;
    switch (c->kind) {
    case CMD_JOIN:
        session_join(m);
        break;
    case CMD_LEAVE:
        session_leave(m);
        break;
    case CMD_SEND:
        session_send(m, c->type, c->msg, c->arg);
        c->msg = NULL;
        c->arg = NULL;
        break;
    case CMD_LOCAL_ERROR:
        session_local_error(m, c->code, c->type[0] ? c->type : NULL, c->arg);
        break;
    case CMD_TRACK_FRAME:
        track_on_frame(c->track, c);
        c->data = NULL;
        break;
    case CMD_TRACK_FREE:
        track_on_free(c->track);
        break;
    case CMD_PUBLISH:
        media_publish(m, c->track, c->track2);
        break;
    case CMD_UNPUBLISH:
        media_unpublish(m, true);
        break;
    case CMD_SUBSCRIBE:
        media_subscribe(m, c->arg);
        break;
    case CMD_UNSUBSCRIBE:
        media_unsubscribe(m, c->arg, true);
        break;
    case CMD_RELEASE:
        session_close_quietly(m, true);
        break;
    case CMD_SHUTDOWN:
        shutdown_loop(client);
        break;
    }
}

static void on_wake(uv_async_t *a)
{
    parley_client *client = a->data;
    for (;;) {
        uv_mutex_lock(&client->mu);
        cmd *c = client->head;
        if (c) {
            client->head = c->next;
            if (!client->head)
                client->tail = NULL;
        }
        uv_mutex_unlock(&client->mu);
        if (!c)
            return;
        bool last = c->kind == CMD_SHUTDOWN;
        run_command(client, c);
        cmd_free(c);
        if (last)
            return; /* nothing is posted after a shutdown */
    }
}

static void close_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

static void loop_thread(void *arg)
{
    parley_client *client = arg;
    client->loop_thread_id = uv_thread_self();

    int rc = uv_loop_init(&client->loop);
    if (rc == 0) {
        uv_async_init(&client->loop, &client->wake, on_wake);
        client->wake.data = client;
        uv_timer_init(&client->loop, &client->drain);
        client->drain.data = client;
        client->lws = transport_context_new(client);
        if (!client->lws) {
            uv_close((uv_handle_t *)&client->wake, NULL);
            uv_close((uv_handle_t *)&client->drain, NULL);
            uv_run(&client->loop, UV_RUN_DEFAULT);
            uv_loop_close(&client->loop);
            rc = -1;
        }
    }
    client->start_status = rc == 0 ? PARLEY_OK : PARLEY_ESTART;
    uv_sem_post(&client->ready);
    if (rc != 0)
        return;

    uv_run(&client->loop, UV_RUN_DEFAULT);
    /* With a foreign loop, lws finishes destroying its context on a further
     * call, once its handles have closed; it then clears client->lws. */
    for (int i = 0; client->lws && i < 4; i++) {
        lws_context_destroy(client->lws);
        uv_run(&client->loop, UV_RUN_DEFAULT);
    }
    /* Anything still open (it should not be) is closed here, then the loop. */
    while (uv_loop_close(&client->loop) == UV_EBUSY) {
        uv_walk(&client->loop, close_handle, NULL);
        uv_run(&client->loop, UV_RUN_DEFAULT);
    }
}

int parley_client_new(const parley_client_options *opts, parley_client **out)
{
    if (!out)
        return PARLEY_EINVAL;
    *out = NULL;
    parley_client *client = calloc(1, sizeof(*client));
    if (!client)
        return PARLEY_ENOMEM;
    client->connect_timeout_s = opts && opts->connect_timeout_s ? opts->connect_timeout_s : 10;
    client->ca_file = sdk_strdup(opts ? opts->ca_file : NULL);
    if (opts && opts->ca_file && !client->ca_file) {
        free(client);
        return PARLEY_ENOMEM;
    }
    uv_mutex_init(&client->mu);
    uv_sem_init(&client->ready, 0);
    int rc = PARLEY_ESTART;
    if (uv_thread_create(&client->thread, loop_thread, client) == 0) {
        uv_sem_wait(&client->ready);
        rc = client->start_status;
        if (rc != PARLEY_OK)
            uv_thread_join(&client->thread);
    }
    uv_sem_destroy(&client->ready);
    if (rc != PARLEY_OK) {
        uv_mutex_destroy(&client->mu);
        free(client->ca_file);
        free(client);
        return rc;
    }
    *out = client;
    return PARLEY_OK;
}

int parley_client_destroy(parley_client *client)
{
    if (!client)
        return PARLEY_EINVAL;
    if (client_on_loop_thread(client))
        return PARLEY_EDEADLK;
    cmd *c = calloc(1, sizeof(*c));
    if (!c)
        return PARLEY_ENOMEM;
    c->kind = CMD_SHUTDOWN;
    uv_mutex_lock(&client->mu);
    if (client->closing) { /* destroyed twice: a bug of the caller */
        uv_mutex_unlock(&client->mu);
        free(c);
        return PARLEY_ECLOSED;
    }
    client_post_locked(client, c);
    client->closing = true;
    uv_mutex_unlock(&client->mu);
    uv_thread_join(&client->thread);

    /* The loop is gone: what is left is plain memory. */
    for (cmd *q = client->head, *next; q; q = next) {
        next = q->next;
        cmd_free(q);
    }
    while (client->conns)
        conn_free(client->conns);
    tracks_free_all(client);
    while (client->meetings) {
        parley_meeting *m = client->meetings;
        client->meetings = m->next;
        meeting_free_memory(m);
    }
    uv_mutex_destroy(&client->mu);
    free(client->ca_file);
    free(client);
    return PARLEY_OK;
}
