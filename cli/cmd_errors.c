/* cmd_errors.c - `parley errors list` and `parley errors explain`.
 *
 * Reads only the compiled-in catalog (<parley/errors.h>), so it works with no
 * server and no network. A code or name that the catalog does not know exits 2.
 * A 30xx code asked without --profile shows both its web and native entries. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <parley/errors.h>

#include "cli.h"

typedef struct errors_opts {
    bool json;
    bool has_layer;
    parley_layer layer;
    parley_profile profile; /* PARLEY_PROFILE_ALL: not given */
    const char *subject;    /* explain: the code or name */
} errors_opts;

static const char usage_text[] =
    "usage: parley errors list [--layer L] [--profile web|native] [--json]\n"
    "       parley errors explain <code|NAME> [--profile web|native] [--json]\n"
    "\n"
    "layers: session, token, client, request, runtime\n"
    "explain --json prints one object, or an array when a code has two profiles.\n";

static int parse_opts(int argc, char **argv, errors_opts *o, bool want_subject)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            exit(CLI_OK);
        } else if (!strcmp(a, "--json")) {
            o->json = true;
        } else if (!strcmp(a, "--layer") || !strcmp(a, "--profile")) {
            if (i + 1 >= argc)
                return cli_usage_error("%s needs a value", a);
            val = argv[++i];
            if (!strcmp(a, "--layer")) {
                if (!parley_layer_parse(val, &o->layer))
                    return cli_usage_error("unknown layer '%s' (session, token, client, request, runtime)", val);
                o->has_layer = true;
            } else if (!parley_profile_parse(val, &o->profile) || o->profile == PARLEY_PROFILE_ALL) {
                return cli_usage_error("unknown profile '%s' (web or native)", val);
            }
        } else if (want_subject && !o->subject && (a[0] != '-' || isdigit((unsigned char)a[1]))) {
            o->subject = a; /* "-1" is a code, not an option */
        } else {
            return cli_usage_error("unexpected argument '%s'\n%s", a, usage_text);
        }
    }
    if (want_subject && !o->subject)
        return cli_usage_error("explain needs a code or a name\n%s", usage_text);
    return CLI_OK;
}

static json_t *entry_json(const parley_error_info *e)
{
    json_t *aliases = json_array();
    for (const char *const *a = e->aliases; *a; a++)
        json_array_append_new(aliases, json_string(*a));
    return json_pack("{s:i, s:s, s:o, s:s, s:s, s:b, s:s, s:s, s:s}",
                     "code", e->code, "name", e->name, "aliases", aliases,
                     "profile", parley_profile_name(e->profile), "layer", parley_layer_name(e->layer),
                     "fatal", e->fatal, "message", e->message, "trigger", e->trigger, "remedy", e->remedy);
}

static void print_entry(const parley_error_info *e)
{
    printf("%d %s\n", e->code, e->name);
    if (e->aliases[0]) {
        fputs("  aliases:  ", stdout);
        for (const char *const *a = e->aliases; *a; a++)
            printf("%s%s", *a, a[1] ? ", " : "\n");
    }
    printf("  layer:    %s\n", parley_layer_name(e->layer));
    printf("  profile:  %s\n", parley_profile_name(e->profile));
    printf("  fatal:    %s\n", e->fatal ? "yes" : "no");
    printf("  message:  %s\n", e->message);
    printf("  trigger:  %s\n", e->trigger);
    printf("  remedy:   %s\n", e->remedy);
}

/* A web or native entry is shown when no profile was asked for, or that one. */
static bool profile_selected(const parley_error_info *e, parley_profile want)
{
    return want == PARLEY_PROFILE_ALL || e->profile == PARLEY_PROFILE_ALL || e->profile == want;
}

static int errors_list(int argc, char **argv)
{
    errors_opts o = {0};
    int rc = parse_opts(argc, argv, &o, false);
    if (rc)
        return rc;
    json_t *arr = o.json ? json_array() : NULL;
    for (size_t i = 0; i < parley_error_count(); i++) {
        const parley_error_info *e = parley_error_at(i);
        if ((o.has_layer && e->layer != o.layer) || !profile_selected(e, o.profile))
            continue;
        if (arr)
            json_array_append_new(arr, entry_json(e));
        else
            printf("%5d  %-7s %-8s %s\n", e->code, parley_profile_name(e->profile),
                   parley_layer_name(e->layer), e->name);
    }
    if (arr)
        cli_print_json(arr);
    return CLI_OK;
}

/* Parse a whole decimal code; false when text is not one. */
static bool parse_code(const char *text, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < -1000000 || v > 1000000)
        return false;
    *out = (int)v;
    return true;
}

static int errors_explain(int argc, char **argv)
{
    errors_opts o = {0};
    int rc = parse_opts(argc, argv, &o, true);
    if (rc)
        return rc;

    int code = 0;
    bool by_code = parse_code(o.subject, &code);
    char name[128];
    if (!by_code) {
        size_t n = strlen(o.subject);
        if (n >= sizeof(name))
            return cli_usage_error("unknown error code or name '%.40s...'", o.subject);
        for (size_t i = 0; i <= n; i++)
            name[i] = (char)toupper((unsigned char)o.subject[i]);
    }

    const parley_error_info *hits[4];
    size_t nhits = 0;
    for (size_t i = 0; i < parley_error_count() && nhits < 4; i++) {
        const parley_error_info *e = parley_error_at(i);
        if (!profile_selected(e, o.profile))
            continue;
        if (by_code ? e->code == code : parley_error_by_name(name, e->profile) == e)
            hits[nhits++] = e;
    }
    if (nhits == 0) {
        if (o.profile != PARLEY_PROFILE_ALL)
            return cli_usage_error("unknown error code or name '%s' in the %s profile", o.subject,
                                   parley_profile_name(o.profile));
        return cli_usage_error("unknown error code or name '%s' (see 'parley errors list')", o.subject);
    }
    if (o.json) {
        if (nhits == 1) {
            cli_print_json(entry_json(hits[0]));
        } else {
            json_t *arr = json_array();
            for (size_t i = 0; i < nhits; i++)
                json_array_append_new(arr, entry_json(hits[i]));
            cli_print_json(arr);
        }
        return CLI_OK;
    }
    for (size_t i = 0; i < nhits; i++) {
        if (i)
            putchar('\n');
        print_entry(hits[i]);
    }
    return CLI_OK;
}

int cmd_errors(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_text, stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "list"))
        return errors_list(argc - 1, argv + 1);
    if (!strcmp(argv[1], "explain"))
        return errors_explain(argc - 1, argv + 1);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage_text, stdout);
        return CLI_OK;
    }
    return cli_usage_error("unknown errors subcommand '%s'\n%s", argv[1], usage_text);
}
