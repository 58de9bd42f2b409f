/* cmd_admin.c - `parley admin`: organisations and API keys, straight in the
 * store.
 *
 * It opens <data>/parley.db itself (WAL, busy timeout), so an operator can
 * create keys or deactivate an organisation while parleyd runs; the server
 * sees the change at its next token check. Exit codes: 2 for usage errors and
 * an unknown organisation, 1 when the store fails (with its message). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "store.h"

static const char usage_text[] =
    "usage: parley admin --data DIR org create NAME [LIMITS] [--addons on|off] [--json]\n"
    "       parley admin --data DIR org set NAME [--state active|deactivated|discontinued]\n"
    "                    [--message M] [LIMITS] [--addons on|off] [--json]\n"
    "       parley admin --data DIR org list [--json]\n"
    "       parley admin --data DIR org show NAME [--json]\n"
    "       parley admin --data DIR key create --org NAME [--room ROOMID] [--json]\n"
    "       parley admin --data DIR key list --org NAME [--json]\n"
    "\n"
    "LIMITS (0 = unlimited): --max-speakers N --max-viewers N --max-recordings N\n"
    "                        --max-hls N --max-livestreams N\n";

/* Everything the admin subcommands accept; each uses a part. */
typedef struct admin_opts {
    const char *name; /* the positional NAME */
    const char *org, *room, *state, *message, *addons;
    bool json;
    bool has_limit[5];
    int limit[5];
} admin_opts;

static const char *const limit_opts[5] = {"--max-speakers", "--max-viewers", "--max-recordings",
                                          "--max-hls", "--max-livestreams"};

/* Allowed options per subcommand, as flags. */
enum { O_LIMITS = 1, O_ADDONS = 2, O_STATE = 4, O_MESSAGE = 8, O_ORG = 16, O_ROOM = 32, O_NAME = 64 };

static bool parse_count(const char *text, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < 0 || v > INT_MAX || text[0] == '-' || text[0] == '+')
        return false;
    *out = (int)v;
    return true;
}

/* "--opt value" or "--opt=value": the value, advancing *i; NULL if none. */
static const char *opt_value(int argc, char **argv, int *i, const char *opt)
{
    const char *a = argv[*i];
    size_t n = strlen(opt);
    if (strncmp(a, opt, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0' || *i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

static bool is_opt(const char *a, const char *opt)
{
    size_t n = strlen(opt);
    return !strncmp(a, opt, n) && (a[n] == '\0' || a[n] == '=');
}

static int parse_opts(int argc, char **argv, unsigned allowed, admin_opts *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        unsigned need = 0;
        if (!strcmp(a, "--json")) {
            o->json = true;
            continue;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            exit(CLI_OK);
        }
        int limit = -1;
        for (int k = 0; k < 5; k++)
            if (is_opt(a, limit_opts[k]))
                limit = k;
        if (limit >= 0 && (allowed & O_LIMITS)) {
            const char *v = opt_value(argc, argv, &i, limit_opts[limit]);
            if (!v)
                return cli_usage_error("%s needs a value", limit_opts[limit]);
            if (!parse_count(v, &o->limit[limit]))
                return cli_usage_error("%s must be a whole number, 0 or more (got '%s')",
                                       limit_opts[limit], v);
            o->has_limit[limit] = true;
            continue;
        }
        if (is_opt(a, "--addons"))
            slot = &o->addons, need = O_ADDONS;
        else if (is_opt(a, "--state"))
            slot = &o->state, need = O_STATE;
        else if (is_opt(a, "--message"))
            slot = &o->message, need = O_MESSAGE;
        else if (is_opt(a, "--org"))
            slot = &o->org, need = O_ORG;
        else if (is_opt(a, "--room"))
            slot = &o->room, need = O_ROOM;
        if (slot && (allowed & need)) {
            const char *opt = a;
            char optname[32];
            size_t n = strcspn(opt, "=");
            snprintf(optname, sizeof(optname), "%.*s", (int)(n < 31 ? n : 31), opt);
            *slot = opt_value(argc, argv, &i, optname);
            if (!*slot)
                return cli_usage_error("%s needs a value", optname);
            continue;
        }
        if (a[0] != '-' && (allowed & O_NAME) && !o->name) {
            o->name = a;
            continue;
        }
        return cli_usage_error("unexpected argument '%s' for 'admin %s'\n%s", a, argv[0],
                               usage_text);
    }
    if ((allowed & O_NAME) && !o->name)
        return cli_usage_error("'admin org %s' needs an organisation NAME", argv[0]);
    if ((allowed & O_ORG) && !o->org)
        return cli_usage_error("'admin key %s' needs --org NAME", argv[0]);
    if (o->addons && strcmp(o->addons, "on") && strcmp(o->addons, "off"))
        return cli_usage_error("--addons takes on or off (got '%s')", o->addons);
    return CLI_OK;
}

static void apply_limits(const admin_opts *o, parley_org *org)
{
    int *fields[5] = {&org->limits.max_speakers, &org->limits.max_viewers,
                      &org->limits.max_recordings, &org->limits.max_hls,
                      &org->limits.max_livestreams};
    for (int k = 0; k < 5; k++)
        if (o->has_limit[k])
            *fields[k] = o->limit[k];
    if (o->addons)
        org->addons = !strcmp(o->addons, "on");
}

/* A store status as an exit code, with its message. */
static int store_failure(parley_store *st, int rc, const char *org_name)
{
    if (rc == PARLEY_STORE_NOT_FOUND && org_name)
        return cli_usage_error("unknown organisation '%s'", org_name);
    if (rc == PARLEY_STORE_INVALID)
        return cli_usage_error("%s", parley_store_errmsg(st));
    fprintf(stderr, "parley: %s\n", parley_store_errmsg(st));
    return CLI_FAILED;
}

static void print_org(const parley_org *org)
{
    const parley_org_limits *l = &org->limits;
    printf("%s\n  state:       %s\n", org->name, parley_org_state_name(org->state));
    if (org->message[0])
        printf("  message:     %s\n", org->message);
    printf("  addons:      %s\n", org->addons ? "on" : "off");
    printf("  limits:      speakers %d, viewers %d, recordings %d, hls %d, livestreams %d"
           " (0 = unlimited)\n",
           l->max_speakers, l->max_viewers, l->max_recordings, l->max_hls, l->max_livestreams);
}

static int org_create(parley_store *st, const admin_opts *o)
{
    parley_org org;
    parley_org_init(&org, o->name);
    apply_limits(o, &org);
    int rc = parley_store_org_create(st, &org, &org);
    if (rc)
        return store_failure(st, rc, NULL);
    if (o->json)
        cli_print_json(parley_org_json(&org));
    else
        printf("created organisation %s\n", org.name);
    return CLI_OK;
}

static int org_set(parley_store *st, const admin_opts *o)
{
    parley_org org;
    parley_org_state state;
    if (o->state && !parley_org_state_parse(o->state, &state))
        return cli_usage_error("--state takes active, deactivated or discontinued (got '%s')",
                               o->state);
    int rc = parley_store_org_get(st, o->name, &org);
    if (rc)
        return store_failure(st, rc, o->name);
    if (o->state)
        org.state = state;
    if (o->message && strlen(o->message) > PARLEY_ORG_MESSAGE_MAX)
        return cli_usage_error("--message is longer than %d characters", PARLEY_ORG_MESSAGE_MAX);
    if (o->message)
        snprintf(org.message, sizeof(org.message), "%s", o->message);
    apply_limits(o, &org);
    rc = parley_store_org_update(st, &org);
    if (rc)
        return store_failure(st, rc, o->name);
    if (o->json)
        cli_print_json(parley_org_json(&org));
    else
        printf("updated organisation %s\n", org.name);
    return CLI_OK;
}

static int org_list(parley_store *st, const admin_opts *o)
{
    parley_org *orgs = NULL;
    size_t n = 0;
    int rc = parley_store_org_list(st, &orgs, &n);
    if (rc)
        return store_failure(st, rc, NULL);
    if (o->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, parley_org_json(&orgs[i]));
        cli_print_json(arr);
    } else {
        for (size_t i = 0; i < n; i++)
            printf("%-24s %-13s addons %s\n", orgs[i].name, parley_org_state_name(orgs[i].state),
                   orgs[i].addons ? "on" : "off");
    }
    free(orgs);
    return CLI_OK;
}

static int org_show(parley_store *st, const admin_opts *o)
{
    parley_org org;
    int rc = parley_store_org_get(st, o->name, &org);
    if (rc)
        return store_failure(st, rc, o->name);
    if (o->json)
        cli_print_json(parley_org_json(&org));
    else
        print_org(&org);
    return CLI_OK;
}

static int key_create(parley_store *st, const admin_opts *o)
{
    parley_api_key key;
    int rc = parley_store_key_create(st, o->org, o->room, &key);
    if (rc)
        return store_failure(st, rc, o->org);
    if (o->json)
        cli_print_json(json_pack("{s:s, s:s}", "apikey", key.apikey, "secret", key.secret));
    else
        printf("apikey: %s\nsecret: %s\n", key.apikey, key.secret);
    return CLI_OK;
}

static int key_list(parley_store *st, const admin_opts *o)
{
    parley_api_key *keys = NULL;
    size_t n = 0;
    int rc = parley_store_key_list(st, o->org, &keys, &n);
    if (rc)
        return store_failure(st, rc, o->org);
    if (o->json) {
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(arr, parley_api_key_json(&keys[i], false));
        cli_print_json(arr);
    } else {
        for (size_t i = 0; i < n; i++)
            printf("%s%s%s\n", keys[i].apikey, keys[i].room_id[0] ? "  room " : "",
                   keys[i].room_id);
    }
    free(keys);
    return CLI_OK;
}

typedef struct admin_action {
    const char *group, *verb;
    unsigned allowed;
    int (*run)(parley_store *st, const admin_opts *o);
} admin_action;

static const admin_action actions[] = {
    {"org", "create", O_NAME | O_LIMITS | O_ADDONS, org_create},
    {"org", "set", O_NAME | O_LIMITS | O_ADDONS | O_STATE | O_MESSAGE, org_set},
    {"org", "list", 0, org_list},
    {"org", "show", O_NAME, org_show},
    {"key", "create", O_ORG | O_ROOM, key_create},
    {"key", "list", O_ORG, key_list},
};

int cmd_admin(int argc, char **argv)
{
    const char *data = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage_text, stdout);
            return CLI_OK;
        }
        if (is_opt(argv[i], "--data")) {
            data = opt_value(argc, argv, &i, "--data");
            if (!data || !*data)
                return cli_usage_error("--data needs a directory");
            continue;
        }
        return cli_usage_error("unexpected argument '%s'\n%s", argv[i], usage_text);
    }
    if (i + 1 >= argc) {
        fputs(usage_text, stderr);
        return CLI_USAGE;
    }
    const char *group = argv[i], *verb = argv[i + 1];
    const admin_action *act = NULL;
    for (size_t k = 0; k < sizeof(actions) / sizeof(actions[0]); k++)
        if (!strcmp(actions[k].group, group) && !strcmp(actions[k].verb, verb))
            act = &actions[k];
    if (!act)
        return cli_usage_error("unknown admin command '%s %s'\n%s", group, verb, usage_text);

    admin_opts o;
    int rc = parse_opts(argc - i - 1, argv + i + 1, act->allowed, &o);
    if (rc)
        return rc;
    if (!data)
        return cli_usage_error("admin needs --data DIR (the server's data directory)");

    parley_store *st = NULL;
    char err[512];
    rc = parley_store_open(data, &st, err, sizeof(err));
    if (rc) {
        fprintf(stderr, "parley: %s\n", err);
        return CLI_FAILED;
    }
    rc = act->run(st, &o);
    parley_store_close(st);
    return rc;
}
