/* main.c - parleyd: read the settings, open the store, listen, run the loop,
 * and shut down cleanly on SIGINT or SIGTERM.
 *
 * Shutdown happens inside the loop: the signal handler ends every live
 * session (so the store shows them ended), destroys the lws context (which
 * closes every connection) and closes its own handles; the loop then runs
 * out of work and returns, and main releases what is left. A clean exit
 * frees everything, so AddressSanitizer reports no leak. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <libwebsockets.h>

#include "listener.h"
#include "log.h"
#include "media.h"
#include "room.h"
#include "server.h"
#include "signaling.h"
#include "srtp.h"

parley_server server;

static uv_signal_t sigint_handle, sigterm_handle;

void parley_server_stop(void)
{
    if (server.stopping)
        return;
    server.stopping = true;
    parley_log(PARLEY_LOG_INFO, NULL, "shutting down");
    uv_close((uv_handle_t *)&sigint_handle, NULL);
    uv_close((uv_handle_t *)&sigterm_handle, NULL);
    sig_sweep_stop();
    media_stop();
    rooms_shutdown();
    if (server.lws)
        lws_context_destroy(server.lws);
}

static void on_signal(uv_signal_t *h, int signum)
{
    (void)h;
    (void)signum;
    parley_server_stop();
}

static void close_leftover(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

int main(int argc, char **argv)
{
    char err[512];
    parley_config_defaults(&server.cfg);
    int rc = parley_config_from_args(&server.cfg, argc, argv, err, sizeof err);
    if (rc == PARLEY_CONFIG_EXIT)
        return 0;
    if (rc != PARLEY_CONFIG_OK) {
        fprintf(stderr, "parleyd: %s (see parleyd --help)\n", err);
        return 2;
    }
    if (server.cfg.log_level[0]) {
        parley_log_level level;
        if (!parley_log_level_parse(server.cfg.log_level, &level)) {
            fprintf(stderr, "parleyd: unknown log level '%s'\n", server.cfg.log_level);
            return 2;
        }
        parley_log_set_level(level);
    }
    signal(SIGPIPE, SIG_IGN);

    if (parley_store_open(server.cfg.data_dir, &server.store, err, sizeof err) != PARLEY_STORE_OK) {
        fprintf(stderr, "parleyd: cannot open the store in %s: %s\n", server.cfg.data_dir, err);
        return 1;
    }
    int ended = 0;
    if (parley_store_session_end_all(server.store, 0, &ended) == PARLEY_STORE_OK && ended)
        parley_log(PARLEY_LOG_WARN, NULL, "ended %d session(s) left over from a previous run",
                   ended);

    uv_loop_init(&server.loop);
    uv_signal_init(&server.loop, &sigint_handle);
    uv_signal_init(&server.loop, &sigterm_handle);
    uv_signal_start(&sigint_handle, on_signal, SIGINT);
    uv_signal_start(&sigterm_handle, on_signal, SIGTERM);

    if (listener_start(err, sizeof err)) {
        fprintf(stderr, "parleyd: %s\n", err);
        if (server.lws)
            return 1; /* a context without its vhost: see listener.c */
        uv_close((uv_handle_t *)&sigint_handle, NULL);
        uv_close((uv_handle_t *)&sigterm_handle, NULL);
        uv_run(&server.loop, UV_RUN_DEFAULT);
        uv_loop_close(&server.loop);
        parley_store_close(server.store);
        return 1;
    }
    int exit_code = 0;
    if (sig_sweep_start()) {
        fprintf(stderr, "parleyd: cannot start the idle timer\n");
        exit_code = 1;
        parley_server_stop();
    } else if (media_start(err, sizeof err)) {
        fprintf(stderr, "parleyd: %s\n", err);
        exit_code = 1;
        parley_server_stop();
    } else {
        printf("parleyd: listening on %s://%s:%d (data in %s)\n", server.cfg.cert[0] ? "https" : "http",
               server.cfg.host, server.port, server.cfg.data_dir);
        fflush(stdout);
        parley_log(PARLEY_LOG_INFO, NULL, "listening on %s:%d", server.cfg.host, server.port);
        printf("parleyd: media on udp port %d (advertised as %s)\n", media_port(), media_advertised());
        fflush(stdout);
    }

    uv_run(&server.loop, UV_RUN_DEFAULT);
    /* lws finishes destroying its context once its handles have closed. */
    if (server.lws)
        lws_context_destroy(server.lws);
    uv_walk(&server.loop, close_leftover, NULL);
    uv_run(&server.loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&server.loop))
        parley_log(PARLEY_LOG_ERROR, NULL, "the loop still had open handles at exit");
    parley_store_close(server.store);
    parley_srtp_global_shutdown();
    parley_log(PARLEY_LOG_INFO, NULL, "stopped");
    return exit_code;
}
