/* config.h - parleyd's settings: embedded defaults, a key = value file,
 * command-line flags (flags win over the file, the file over the defaults).
 *
 * Ownership: parley_config is a plain struct of fixed-size fields; nothing
 * in it is allocated. */
#ifndef PARLEYD_CONFIG_H
#define PARLEYD_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#define PARLEY_DEFAULT_HOST "127.0.0.1"
#define PARLEY_DEFAULT_PORT 7880
#define PARLEY_DEFAULT_DATA "./data"
#define PARLEY_DEFAULT_RECONNECT_GRACE 30
#define PARLEY_DEFAULT_ENTRY_TIMEOUT 60
#define PARLEY_DEFAULT_IDLE_TIMEOUT 60
#define PARLEY_DEFAULT_RTC_PORT 7882
#define PARLEY_DEFAULT_SDP_TIMEOUT 10
#define PARLEY_DEFAULT_MEDIA_TIMEOUT 20

typedef struct parley_config {
    char host[256];         /* numeric address or name to listen on */
    int port;               /* 0: any free port (printed at start) */
    char data_dir[PATH_MAX];
    char cert[PATH_MAX];    /* TLS certificate (PEM); "" for plain HTTP */
    char key[PATH_MAX];     /* TLS private key (PEM) */
    char operator_contact[256]; /* appended to messages that send users to the operator */
    int max_sessions;       /* live sessions on this server; 0: no limit */
    int reconnect_grace;    /* seconds a dropped participant may reconnect */
    int entry_timeout;      /* seconds an ask_join joiner waits (rooms may override) */
    int idle_timeout;       /* seconds a connection may stay silent before it joins */
    char log_level[16];     /* "" keeps log.h's default */
    char web_root[PATH_MAX]; /* the demo page and parley.js (static.c) */
    int rtc_port;           /* the media UDP port; 0: any free port (printed at start) */
    char rtc_address[256];  /* the media bind address; "": the listen host */
    char advertise[256];    /* the address in SDP candidates; "": the bind address */
    int sdp_timeout;        /* seconds a subscriber has to answer an offer (within ICE consent, 30 s) */
    int media_timeout;      /* seconds a media connection has to pass ICE after its SDP exchange */
    int demo;               /* 1: POST /demo/token and /demo/room (development only) */
} parley_config;

enum { PARLEY_CONFIG_OK = 0, PARLEY_CONFIG_EXIT = 1, PARLEY_CONFIG_ERROR = -1 };

/* Fill cfg with the embedded defaults. */
void parley_config_defaults(parley_config *cfg);

/* Apply --config FILE (if given) then every flag of argv over cfg.
 * OK to go on; EXIT when --help or --version was printed; ERROR with the
 * reason in err. */
int parley_config_from_args(parley_config *cfg, int argc, char **argv, char *err, size_t errlen);

/* Print the usage text. */
void parley_config_usage(FILE *out);

#endif
