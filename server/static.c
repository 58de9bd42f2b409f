/* static.c - the web root and the demo endpoints (see static.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libwebsockets.h>

#include "log.h"
#include "rest.h"
#include "server.h"
#include "static.h"
#include "token.h"

#define DEMO_ORG "demo"
#define DEMO_TOKEN_TTL (4 * 3600)

static const struct {
    const char *ext, *type;
} mimetypes[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "application/javascript"},
    {".mjs", "application/javascript"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
};

static const char *mimetype(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof mimetypes / sizeof mimetypes[0]; i++)
        if (!strcmp(dot, mimetypes[i].ext))
            return mimetypes[i].type;
    return NULL;
}

/* Letters, digits, '-', '_', '.', '/' and no ".." or hidden names. */
static bool safe_path(const char *p)
{
    if (p[0] != '/' || strstr(p, "/.") || strstr(p, "//"))
        return false;
    for (; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.' || *p == '/'))
            return false;
    return true;
}

int static_serve(struct lws *wsi, const char *uri)
{
    if (!server.cfg.web_root[0] || !uri || !lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI))
        return 0;
    if (!strncmp(uri, "/v1/", 4) || !strncmp(uri, "/v2/", 4) || !strcmp(uri, "/v2") ||
        !strcmp(uri, "/healthz") || !strncmp(uri, "/demo/", 6) || !safe_path(uri))
        return 0;
    const char *rel = strcmp(uri, "/") ? uri : "/index.html";
    const char *type = mimetype(rel);
    char path[PATH_MAX + 64];
    struct stat st;
    if (!type || snprintf(path, sizeof path, "%s%s", server.cfg.web_root, rel) >= (int)sizeof path ||
        stat(path, &st) || !S_ISREG(st.st_mode))
        return 0;
    static const char nocache[] = "Cache-Control: no-cache\x0d\x0a";
    int n = lws_serve_http_file(wsi, path, type, nocache, (int)strlen(nocache));
    if (n < 0)
        return -1;
    if (n > 0 && lws_http_transaction_completed(wsi))
        return -1;
    return 1;
}

/* The demo organisation's first key, created with the organisation when
 * there is none yet (a fresh data directory). */
static bool demo_key(http_req *rq, parley_api_key *out)
{
    parley_api_key *keys = NULL;
    size_t count = 0;
    int rc = parley_store_key_list(server.store, DEMO_ORG, &keys, &count);
    for (size_t i = 0; rc == PARLEY_STORE_OK && i < count; i++) {
        if (!keys[i].room_id[0]) { /* a key bound to one room would refuse the others */
            *out = keys[i];
            free(keys);
            return true;
        }
    }
    free(keys);
    parley_org org;
    parley_org_init(&org, DEMO_ORG);
    rc = parley_store_org_create(server.store, &org, &org);
    if ((rc == PARLEY_STORE_OK || rc == PARLEY_STORE_EXISTS) &&
        parley_store_key_create(server.store, DEMO_ORG, NULL, out) == PARLEY_STORE_OK) {
        parley_log(PARLEY_LOG_INFO, NULL, "demo: created the '%s' organisation's key %s", DEMO_ORG,
                   out->apikey);
        return true;
    }
    http_fail_store(rq, NULL);
    return false;
}

static bool demo_enabled(http_req *rq)
{
    if (server.cfg.demo)
        return true;
    http_fail(rq, PARLEY_ERR_GENERIC_ERROR_CODE, 404, NULL, "unknown path (start parleyd with --demo)");
    return false;
}

static const char *opt_string(json_t *body, const char *name)
{
    const char *s = json_string_value(json_object_get(body, name));
    return s && s[0] ? s : NULL;
}

void static_demo_token(http_req *rq, const char *segment)
{
    (void)segment;
    parley_api_key key;
    if (!demo_enabled(rq))
        return;
    json_t *body = http_body_object(rq);
    if (!body)
        return;
    parley_token_grant g = {.permissions = PARLEY_PERM_ALLOW_JOIN | PARLEY_PERM_ALLOW_MOD,
                            .ttl = DEMO_TOKEN_TTL};
    json_t *perms = json_object_get(body, "permissions");
    if (perms) {
        char err[128];
        unsigned mask = 0;
        size_t i;
        json_t *v;
        bool ok = json_is_array(perms) && json_array_size(perms);
        json_array_foreach(perms, i, v) {
            unsigned bit = json_is_string(v) ? parley_token_flag(PARLEY_TOKEN_PERMISSIONS, json_string_value(v)) : 0;
            ok = ok && bit;
            mask |= bit;
        }
        if (!ok && json_is_string(perms))
            ok = parley_token_flags_parse(PARLEY_TOKEN_PERMISSIONS, json_string_value(perms), &mask,
                                          err, sizeof err) && mask;
        if (!ok) {
            json_decref(body);
            http_fail(rq, PARLEY_ERR_TRANSPORT_ERROR_CODE, 400, NULL,
                      "permissions: a list of allow_join, ask_join, allow_mod");
            return;
        }
        g.permissions = mask;
    }
    json_t *publish = json_object_get(body, "publish");
    if (publish) {
        size_t i;
        json_t *v;
        bool ok = json_is_array(publish);
        json_array_foreach(publish, i, v) {
            unsigned bit = json_is_string(v) ? parley_token_flag(PARLEY_TOKEN_PUBLISH, json_string_value(v)) : 0;
            ok = ok && bit;
            g.publish |= bit;
        }
        if (!ok) {
            json_decref(body);
            http_fail(rq, PARLEY_ERR_TRANSPORT_ERROR_CODE, 400, NULL,
                      "publish: a list of camera, microphone, screen");
            return;
        }
        g.publish_set = true;
    }
    g.room_id = opt_string(body, "roomId");
    g.participant_id = opt_string(body, "participantId");
    if (g.room_id || g.participant_id)
        g.version = 2;
    if (!demo_key(rq, &key)) {
        json_decref(body);
        return;
    }
    g.apikey = key.apikey;
    char *token = NULL, err[256];
    int rc = parley_token_mint(&g, key.secret, 0, &token, err, sizeof err);
    json_decref(body);
    if (rc) {
        http_fail(rq, PARLEY_ERR_UNKNOWN_ERROR, 500, NULL, err);
        return;
    }
    http_reply(rq, 200, json_pack("{s:s,s:i}", "token", token, "expiresIn", DEMO_TOKEN_TTL));
    free(token);
}

void static_demo_room(http_req *rq, const char *segment)
{
    (void)segment;
    parley_api_key key;
    if (!demo_enabled(rq))
        return;
    json_t *body = http_body_object(rq);
    if (!body)
        return;
    parley_room_settings settings;
    parley_room_settings_init(&settings);
    char err[256];
    json_t *sv = json_object_get(body, "settings");
    if (sv && parley_room_settings_from_json(sv, &settings, &settings, err, sizeof err) != PARLEY_STORE_OK) {
        json_decref(body);
        http_fail(rq, PARLEY_ERR_TRANSPORT_ERROR_CODE, 400, NULL, err);
        return;
    }
    if (!demo_key(rq, &key)) {
        json_decref(body);
        return;
    }
    parley_room rec;
    int rc = parley_store_room_create(server.store, key.org_id, opt_string(body, "customRoomId"),
                                      &settings, &rec, NULL);
    json_decref(body);
    if (rc == PARLEY_STORE_INVALID) {
        http_fail(rq, PARLEY_ERR_TRANSPORT_ERROR_CODE, 400, NULL, parley_store_errmsg(server.store));
        return;
    }
    if (rc != PARLEY_STORE_OK) {
        http_fail_store(rq, NULL);
        return;
    }
    http_reply(rq, 200, parley_room_json(&rec, NULL));
}
