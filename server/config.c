/* config.c - parleyd's settings from defaults, a config file and flags.
 *
 * One table lists every setting once: its flag name (also its key in the
 * config file), whether it takes a value, and how to store it. The file
 * format is deliberately tiny: `key = value` lines, `#` comments, blank
 * lines; the keys are the flag names without their leading dashes. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

typedef enum { SET_STR, SET_INT, SET_LISTEN } setting_kind;

typedef struct setting {
    const char *name;
    setting_kind kind;
    size_t offset; /* into parley_config */
    size_t size;   /* SET_STR: buffer size */
    int min, max;  /* SET_INT: accepted range */
    const char *help;
} setting;

static const setting settings[] = {
    {"listen", SET_LISTEN, 0, 0, 0, 0, "HOST:PORT to serve REST and WebSocket on (default 127.0.0.1:7880; port 0 picks a free one)"},
    {"data", SET_STR, offsetof(parley_config, data_dir), sizeof(((parley_config *)0)->data_dir), 0, 0, "data directory holding parley.db (default ./data)"},
    {"cert", SET_STR, offsetof(parley_config, cert), sizeof(((parley_config *)0)->cert), 0, 0, "TLS certificate (PEM); with --key, serve https and wss"},
    {"key", SET_STR, offsetof(parley_config, key), sizeof(((parley_config *)0)->key), 0, 0, "TLS private key (PEM)"},
    {"operator-contact", SET_STR, offsetof(parley_config, operator_contact), sizeof(((parley_config *)0)->operator_contact), 0, 0, "how users reach the operator; added to account and limit messages"},
    {"max-sessions", SET_INT, offsetof(parley_config, max_sessions), 0, 0, 1000000, "live sessions this server accepts; 0 for no limit (default 0)"},
    {"reconnect-grace", SET_INT, offsetof(parley_config, reconnect_grace), 0, 0, 86400, "seconds a dropped participant may reconnect (default 30)"},
    {"entry-timeout", SET_INT, offsetof(parley_config, entry_timeout), 0, 1, 86400, "seconds an ask_join joiner waits for a decision (default 60)"},
    {"idle-timeout", SET_INT, offsetof(parley_config, idle_timeout), 0, 1, 86400, "seconds a connection may stay silent before joining (default 60; joined: twice that)"},
    {"log-level", SET_STR, offsetof(parley_config, log_level), sizeof(((parley_config *)0)->log_level), 0, 0, "debug, info, warn, error or off (default info)"},
    {"web-root", SET_STR, offsetof(parley_config, web_root), sizeof(((parley_config *)0)->web_root), 0, 0, "directory served at / and /sdk/ (default: the build's web directory)"},
    {"rtc-port", SET_INT, offsetof(parley_config, rtc_port), 0, 0, 65535, "UDP port for media (default 7882; 0 picks a free one)"},
    {"rtc-address", SET_STR, offsetof(parley_config, rtc_address), sizeof(((parley_config *)0)->rtc_address), 0, 0, "address the media port binds to (default: the listen host)"},
    {"advertise", SET_STR, offsetof(parley_config, advertise), sizeof(((parley_config *)0)->advertise), 0, 0, "address given to clients in SDP candidates (default: the media bind address)"},
    {"sdp-timeout", SET_INT, offsetof(parley_config, sdp_timeout), 0, 1, 25, "seconds a subscriber has to answer an offer, 1-25 (default 10)"},
    {"media-timeout", SET_INT, offsetof(parley_config, media_timeout), 0, 1, 30, "seconds a media connection has to pass ICE once its SDP exchange is done, 1-30 (default 20)"},
    {"demo", SET_INT, offsetof(parley_config, demo), 0, 0, 1, "development only, never on a public address: POST /demo/token and /demo/room mint tokens and rooms with the demo key (a bare --demo means 1)"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

void parley_config_defaults(parley_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->host, sizeof cfg->host, "%s", PARLEY_DEFAULT_HOST);
    cfg->port = PARLEY_DEFAULT_PORT;
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", PARLEY_DEFAULT_DATA);
    cfg->reconnect_grace = PARLEY_DEFAULT_RECONNECT_GRACE;
    cfg->entry_timeout = PARLEY_DEFAULT_ENTRY_TIMEOUT;
    cfg->idle_timeout = PARLEY_DEFAULT_IDLE_TIMEOUT;
    cfg->rtc_port = PARLEY_DEFAULT_RTC_PORT;
    cfg->sdp_timeout = PARLEY_DEFAULT_SDP_TIMEOUT;
    cfg->media_timeout = PARLEY_DEFAULT_MEDIA_TIMEOUT;
#ifdef PARLEY_DEFAULT_WEB_ROOT
    snprintf(cfg->web_root, sizeof cfg->web_root, "%s", PARLEY_DEFAULT_WEB_ROOT);
#endif
}

void parley_config_usage(FILE *out)
{
    fputs("usage: parleyd [--config FILE] [options]\n\n"
          "Parley's meeting server. With no options it serves on 127.0.0.1:7880 with\n"
          "its data in ./data. Options (also `name = value` lines in --config FILE):\n\n",
          out);
    for (size_t i = 0; i < COUNT(settings); i++)
        fprintf(out, "  --%-18s %s\n", settings[i].name, settings[i].help);
    fputs("  --config FILE       read settings from FILE first\n"
          "  --help              show this text\n",
          out);
}

static bool parse_int(const char *text, int min, int max, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        return false;
    *out = (int)v;
    return true;
}

/* "HOST:PORT", "[V6]:PORT", ":PORT" or "HOST". */
static bool parse_listen(parley_config *cfg, const char *text)
{
    const char *host = text, *colon;
    size_t hostlen;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close)
            return false;
        host = text + 1;
        hostlen = (size_t)(close - host);
        colon = close[1] == ':' ? close + 1 : NULL;
        if (close[1] && !colon)
            return false;
    } else {
        colon = strrchr(text, ':');
        hostlen = colon ? (size_t)(colon - text) : strlen(text);
    }
    if (hostlen >= sizeof cfg->host)
        return false;
    int port = cfg->port;
    if (colon && !parse_int(colon + 1, 0, 65535, &port))
        return false;
    if (hostlen) {
        memcpy(cfg->host, host, hostlen);
        cfg->host[hostlen] = '\0';
    }
    cfg->port = port;
    return true;
}

static int apply(parley_config *cfg, const char *name, const char *value, char *err, size_t errlen)
{
    for (size_t i = 0; i < COUNT(settings); i++) {
        const setting *s = &settings[i];
        if (strcmp(s->name, name))
            continue;
        char *field = (char *)cfg + s->offset;
        switch (s->kind) {
        case SET_STR:
            if (strlen(value) >= s->size) {
                snprintf(err, errlen, "%s: value too long", name);
                return PARLEY_CONFIG_ERROR;
            }
            memcpy(field, value, strlen(value) + 1);
            return PARLEY_CONFIG_OK;
        case SET_INT:
            if (!parse_int(value, s->min, s->max, (int *)(void *)field)) {
                snprintf(err, errlen, "%s: expected a whole number from %d to %d, got '%s'", name,
                         s->min, s->max, value);
                return PARLEY_CONFIG_ERROR;
            }
            return PARLEY_CONFIG_OK;
        case SET_LISTEN:
            if (!parse_listen(cfg, value)) {
                snprintf(err, errlen, "listen: expected HOST:PORT, got '%s'", value);
                return PARLEY_CONFIG_ERROR;
            }
            return PARLEY_CONFIG_OK;
        }
    }
    snprintf(err, errlen, "unknown setting '%s'", name);
    return PARLEY_CONFIG_ERROR;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s;
}

static int load_file(parley_config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return PARLEY_CONFIG_ERROR;
    }
    char line[4096], msg[512];
    int lineno = 0, rc = PARLEY_CONFIG_OK;
    while (rc == PARLEY_CONFIG_OK && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
            rc = PARLEY_CONFIG_ERROR;
            break;
        }
        *eq = '\0';
        rc = apply(cfg, trim(s), trim(eq + 1), msg, sizeof msg);
        if (rc != PARLEY_CONFIG_OK)
            snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
    }
    fclose(f);
    return rc;
}

int parley_config_from_args(parley_config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    /* The file first, wherever --config appears, so that flags win. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            parley_config_usage(stdout);
            return PARLEY_CONFIG_EXIT;
        }
        if (!strcmp(a, "--config")) {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "--config needs a file");
                return PARLEY_CONFIG_ERROR;
            }
            if (load_file(cfg, argv[i + 1], err, errlen) != PARLEY_CONFIG_OK)
                return PARLEY_CONFIG_ERROR;
        } else if (!strncmp(a, "--config=", 9)) {
            if (load_file(cfg, a + 9, err, errlen) != PARLEY_CONFIG_OK)
                return PARLEY_CONFIG_ERROR;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2)) {
            snprintf(err, errlen, "unexpected argument '%s'", a);
            return PARLEY_CONFIG_ERROR;
        }
        char name[64];
        const char *value, *eq = strchr(a, '=');
        size_t n = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (n >= sizeof name) {
            snprintf(err, errlen, "unknown option '%s'", a);
            return PARLEY_CONFIG_ERROR;
        }
        memcpy(name, a + 2, n);
        name[n] = '\0';
        if (eq) {
            value = eq + 1;
        } else if (!strcmp(name, "demo")) { /* the one flag without a value */
            value = "1";
        } else {
            if (i + 1 >= argc) {
                snprintf(err, errlen, "--%s needs a value", name);
                return PARLEY_CONFIG_ERROR;
            }
            value = argv[++i];
        }
        if (!strcmp(name, "config"))
            continue;
        char msg[512];
        if (apply(cfg, name, value, msg, sizeof msg) != PARLEY_CONFIG_OK) {
            snprintf(err, errlen, "%s", msg);
            return PARLEY_CONFIG_ERROR;
        }
    }
    if (!cfg->cert[0] != !cfg->key[0]) {
        snprintf(err, errlen, "--cert and --key go together");
        return PARLEY_CONFIG_ERROR;
    }
    return PARLEY_CONFIG_OK;
}
