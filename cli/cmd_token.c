/* cmd_token.c - `parley token`: mint an HS256 access token.
 *
 * It needs no server and no store: the key and secret come from the command
 * line (or PARLEY_APIKEY / PARLEY_SECRET, which keep the secret out of the
 * process list). Defaults follow the token format of docs/protocol.md §1:
 * permissions allow_join, version 2, two hours of life. A negative --ttl mints
 * a token that is already expired, for tests of 4002 and 1100. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "token.h"

static const char usage_text[] =
    "usage: parley token --apikey K --secret S [--permissions allow_join,ask_join,allow_mod]\n"
    "                    [--room R] [--participant P] [--roles rtc,crawler]\n"
    "                    [--publish camera,microphone,screen] [--ttl 2h] [--version 2] [--json]\n"
    "\n"
    "Defaults: --permissions allow_join --version 2 --ttl 2h. TTL is N, Ns, Nm, Nh or Nd\n"
    "(seconds by default); a negative TTL (--ttl=-1m) mints an expired token.\n"
    "--room, --participant and --roles take effect only with version 2.\n"
    "PARLEY_APIKEY and PARLEY_SECRET stand in for --apikey and --secret.\n";

/* "90s", "15m", "2h", "1d", "-1m", "300": seconds; false when malformed. */
static bool parse_ttl(const char *text, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || (*text != '-' && (*text < '0' || *text > '9')))
        return false;
    long unit = 1;
    if (*end) {
        if (end[1])
            return false;
        switch (*end) {
        case 's': unit = 1; break;
        case 'm': unit = 60; break;
        case 'h': unit = 3600; break;
        case 'd': unit = 86400; break;
        default: return false;
        }
    }
    /* at most ten years either way */
    if (v > 3650L * 86400 / unit || v < -3650L * 86400 / unit)
        return false;
    *out = v * unit;
    return true;
}

static bool is_opt(const char *a, const char *opt)
{
    size_t n = strlen(opt);
    return !strncmp(a, opt, n) && (a[n] == '\0' || a[n] == '=');
}

int cmd_token(int argc, char **argv)
{
    static const char *const names[] = {"--apikey", "--secret", "--permissions", "--room",
                                        "--participant", "--roles", "--publish", "--ttl",
                                        "--version"};
    enum { APIKEY, SECRET, PERMS, ROOM, PARTICIPANT, ROLES, PUBLISH, TTL, VERSION, NOPTS };
    const char *val[NOPTS] = {0};
    bool json = false;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            return CLI_OK;
        }
        if (!strcmp(a, "--json")) {
            json = true;
            continue;
        }
        int k = 0;
        while (k < NOPTS && !is_opt(a, names[k]))
            k++;
        if (k == NOPTS)
            return cli_usage_error("unexpected argument '%s'\n%s", a, usage_text);
        const char *eq = strchr(a, '=');
        if (eq)
            val[k] = eq + 1;
        else if (i + 1 < argc)
            val[k] = argv[++i];
        else
            return cli_usage_error("%s needs a value", names[k]);
    }
    if (!val[APIKEY])
        val[APIKEY] = getenv("PARLEY_APIKEY");
    if (!val[SECRET])
        val[SECRET] = getenv("PARLEY_SECRET");
    if (!val[APIKEY] || !*val[APIKEY])
        return cli_usage_error("token needs --apikey\n%s", usage_text);
    if (!val[SECRET] || !*val[SECRET])
        return cli_usage_error("token needs --secret\n%s", usage_text);

    parley_token_grant g = {.apikey = val[APIKEY], .permissions = PARLEY_PERM_ALLOW_JOIN,
                            .version = 2, .ttl = 2 * 3600};
    char err[128];
    if (val[PERMS] && !parley_token_flags_parse(PARLEY_TOKEN_PERMISSIONS, val[PERMS],
                                                &g.permissions, err, sizeof(err)))
        return cli_usage_error("--permissions: %s (allow_join, ask_join, allow_mod)", err);
    if (val[PERMS] && !g.permissions)
        return cli_usage_error("--permissions needs at least one of allow_join, ask_join, allow_mod");
    if (val[ROLES]) {
        if (!parley_token_flags_parse(PARLEY_TOKEN_ROLES, val[ROLES], &g.roles, err, sizeof(err)))
            return cli_usage_error("--roles: %s (rtc, crawler)", err);
        g.roles_set = true;
    }
    if (val[PUBLISH]) {
        if (!parley_token_flags_parse(PARLEY_TOKEN_PUBLISH, val[PUBLISH], &g.publish, err,
                                      sizeof(err)))
            return cli_usage_error("--publish: %s (camera, microphone, screen)", err);
        g.publish_set = true;
    }
    if (val[TTL] && !parse_ttl(val[TTL], &g.ttl))
        return cli_usage_error("--ttl: '%s' is not a duration such as 90s, 15m, 2h, 1d",
                               val[TTL]);
    if (val[VERSION]) {
        char *end;
        errno = 0;
        long v = strtol(val[VERSION], &end, 10);
        if (errno || end == val[VERSION] || *end || v < 1 || v > 1000)
            return cli_usage_error("--version must be a positive whole number");
        g.version = v;
    }
    if (g.version != 2 && (val[ROOM] || val[PARTICIPANT] || val[ROLES]))
        return cli_usage_error("--room, --participant and --roles need --version 2");
    if (val[ROOM] && !*val[ROOM])
        return cli_usage_error("--room needs a room id");
    if (val[PARTICIPANT] && !*val[PARTICIPANT])
        return cli_usage_error("--participant needs a participant id");
    g.room_id = val[ROOM];
    g.participant_id = val[PARTICIPANT];

    char *token = NULL;
    char why[160];
    if (parley_token_mint(&g, val[SECRET], 0, &token, why, sizeof(why)) != 0) {
        fprintf(stderr, "parley: cannot mint the token: %s\n", why);
        return CLI_FAILED;
    }
    if (json)
        cli_print_json(json_pack("{s:s}", "token", token));
    else
        puts(token);
    free(token);
    return CLI_OK;
}
