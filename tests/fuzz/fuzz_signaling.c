/* fuzz_signaling.c - libFuzzer target for parleyd's signaling messages.
 *
 * Everything behind the WebSocket is the real server: frame reassembly, JSON
 * parsing, dispatch, the join checks, the request handlers, rooms, the store.
 * Only the transport is replaced: the few libwebsockets calls signaling.c
 * makes are defined below, reporting every message as one text frame and
 * accepting every write. (libwebsockets is not linked into this program.)
 *
 * An input is a list of messages, one per line. A line starting with "@2 " or
 * "@3 " is sent on a second or third connection, so presence, duplicates and
 * the waiting room are reached too. In a line, $MOD is replaced by a valid
 * moderator token (allow_join + allow_mod), $GUEST by an ask_join token and
 * $ROOM by the id of an existing room, so the fuzzer gets past the token
 * checks that it could never forge. After each input every connection is
 * closed and due timers run, so no state leaks from one input to the next
 * beyond what the server itself keeps. */
#include <libwebsockets.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "room.h"
#include "server.h"
#include "signaling.h"
#include "token.h"

parley_server server;
void parley_server_stop(void) { server.stopping = true; }

/* The transport stand-ins. */
int lws_callback_on_writable(struct lws *wsi) { (void)wsi; return 1; }
void lws_set_timeout(struct lws *wsi, enum pending_timeout reason, int secs)
{
    (void)wsi, (void)reason, (void)secs;
}
int lws_write(struct lws *wsi, unsigned char *buf, size_t len, enum lws_write_protocol protocol)
{
    (void)wsi, (void)buf, (void)protocol;
    return (int)len;
}
void lws_close_reason(struct lws *wsi, enum lws_close_status status, unsigned char *buf, size_t len)
{
    (void)wsi, (void)status, (void)buf, (void)len;
}
int lws_is_first_fragment(struct lws *wsi) { (void)wsi; return 1; }
int lws_is_final_fragment(struct lws *wsi) { (void)wsi; return 1; }
int lws_frame_is_binary(struct lws *wsi) { (void)wsi; return 0; }
size_t lws_remaining_packet_payload(struct lws *wsi) { (void)wsi; return 0; }

#define NCONN 3
static char fake_wsi[NCONN][16]; /* distinct non-NULL handles, never dereferenced */
static char *tok_mod, *tok_guest;
static char room_id[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void die(const char *what)
{
    fprintf(stderr, "fuzz_signaling: %s\n", what);
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    char dir[] = "/tmp/parley-fuzz-signaling-XXXXXX", err[256];
    static const char secret[] = "fuzz-secret-0123456789abcdef0123456789abcdef";
    parley_org org;
    parley_room room;
    parley_log_set_level(PARLEY_LOG_OFF);
    parley_config_defaults(&server.cfg);
    server.cfg.reconnect_grace = 0;
    server.cfg.entry_timeout = 0;
    if (!mkdtemp(dir) || parley_store_open(dir, &server.store, err, sizeof err))
        die("cannot open a store");
    if (uv_loop_init(&server.loop))
        die("cannot make a loop");
    parley_org_init(&org, "fuzz");
    if (parley_store_org_create(server.store, &org, &org) ||
        parley_store_key_import(server.store, "fuzz", "fuzz-key", secret, NULL, NULL) ||
        parley_store_room_create(server.store, org.id, "fuzz-room", NULL, &room, NULL))
        die("cannot set up the organisation, key and room");
    snprintf(room_id, sizeof room_id, "%s", room.room_id);
    parley_token_grant g = {.apikey = "fuzz-key", .version = 2, .ttl = 3600,
                            .permissions = PARLEY_PERM_ALLOW_JOIN | PARLEY_PERM_ALLOW_MOD};
    if (parley_token_mint(&g, secret, 0, &tok_mod, err, sizeof err))
        die("cannot mint a token");
    g.permissions = PARLEY_PERM_ASK_JOIN;
    if (parley_token_mint(&g, secret, 0, &tok_guest, err, sizeof err))
        die("cannot mint a token");
    return 0;
}

/* The line with its placeholders replaced, in a malloc'd buffer. */
static char *expand(const char *line, size_t len, size_t *out_len)
{
    static const struct { const char *key; const char **val; } subst[] = {
        {"$MOD", (const char **)&tok_mod}, {"$GUEST", (const char **)&tok_guest}, {"$ROOM", NULL},
    };
    size_t cap = len * 8 + 1024, n = 0;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    for (size_t i = 0; i < len;) {
        size_t k;
        for (k = 0; k < sizeof subst / sizeof subst[0]; k++) {
            size_t kl = strlen(subst[k].key);
            if (i + kl <= len && !memcmp(line + i, subst[k].key, kl)) {
                const char *v = subst[k].val ? *subst[k].val : room_id;
                size_t vl = strlen(v);
                if (n + vl >= cap)
                    break;
                memcpy(out + n, v, vl);
                n += vl;
                i += kl;
                break;
            }
        }
        if (k == sizeof subst / sizeof subst[0] && n + 1 < cap)
            out[n++] = line[i++];
        else if (k == sizeof subst / sizeof subst[0])
            break;
    }
    out[n] = '\0';
    *out_len = n;
    return out;
}

static conn *find_conn(int i)
{
    for (conn *c = server.conns; c; c = c->next)
        if (c->wsi == (struct lws *)fake_wsi[i])
            return c;
    return NULL;
}

/* Write out the queue as lws would, and close a connection the server has
 * finished with, as lws would report it. */
static void pump(void)
{
    for (int i = 0; i < NCONN; i++) {
        conn *c = find_conn(i);
        if (!c)
            continue;
        int guard = 0;
        while (c->out_head && guard++ < 10000)
            if (sig_writeable(c) < 0)
                break;
        if (c->closing)
            sig_closed(c);
    }
    uv_run(&server.loop, UV_RUN_NOWAIT);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536)
        return 0;
    const char *text = (const char *)data;
    size_t pos = 0;
    while (pos < size) {
        const char *nl = memchr(text + pos, '\n', size - pos);
        size_t len = nl ? (size_t)(nl - (text + pos)) : size - pos;
        const char *line = text + pos;
        pos += len + 1;
        int which = 0;
        if (len >= 3 && line[0] == '@' && (line[1] == '2' || line[1] == '3') && line[2] == ' ') {
            which = line[1] - '1';
            line += 3;
            len -= 3;
        }
        conn *c = find_conn(which);
        if (!c && !(c = sig_open((struct lws *)fake_wsi[which], which == 2 ? "https://fuzz.example" : NULL)))
            continue;
        size_t n;
        char *msg = expand(line, len, &n);
        if (msg) {
            sig_receive(c, msg, n);
            free(msg);
        }
        pump();
    }
    for (int i = 0; i < NCONN; i++) {
        conn *c = find_conn(i);
        if (c)
            sig_closed(c);
    }
    uv_run(&server.loop, UV_RUN_NOWAIT);
    uv_run(&server.loop, UV_RUN_NOWAIT);
    return 0;
}
