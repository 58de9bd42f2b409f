/* catalog.c - lookups over the generated error catalog.
 *
 * The catalog is small (about 120 entries) and read-only, so lookups are
 * plain linear scans: no index to build, nothing to initialise, nothing that
 * can go stale. Callers on a hot path keep the returned pointer. */
#include <string.h>

#include "catalog_data.h"

static bool profile_matches(const parley_error_info *e, parley_profile want)
{
    return want == PARLEY_PROFILE_ALL || e->profile == PARLEY_PROFILE_ALL || e->profile == want;
}

static bool has_name(const parley_error_info *e, const char *name)
{
    if (strcmp(e->name, name) == 0)
        return true;
    for (const char *const *a = e->aliases; *a; a++)
        if (strcmp(*a, name) == 0)
            return true;
    return false;
}

/* The single entry matching both tests, or NULL if none or several do. */
static const parley_error_info *find_unique(int code, const char *name, parley_profile profile)
{
    const parley_error_info *found = NULL;
    for (size_t i = 0; i < parley__catalog_count; i++) {
        const parley_error_info *e = &parley__catalog[i];
        if (!profile_matches(e, profile))
            continue;
        if (name ? !has_name(e, name) : e->code != code)
            continue;
        if (found)
            return NULL;
        found = e;
    }
    return found;
}

const parley_error_info *parley_error_lookup(int code, parley_profile profile)
{
    return find_unique(code, NULL, profile);
}

const parley_error_info *parley_error_by_name(const char *name, parley_profile profile)
{
    return name ? find_unique(0, name, profile) : NULL;
}

size_t parley_error_count(void) { return parley__catalog_count; }

const parley_error_info *parley_error_at(size_t index)
{
    return index < parley__catalog_count ? &parley__catalog[index] : NULL;
}

const parley_leave_reason *parley_leave_reason_lookup(int code)
{
    for (size_t i = 0; i < parley__leave_reason_count; i++)
        if (parley__leave_reasons[i].code == code)
            return &parley__leave_reasons[i];
    return NULL;
}

size_t parley_leave_reason_count(void) { return parley__leave_reason_count; }

const parley_leave_reason *parley_leave_reason_at(size_t index)
{
    return index < parley__leave_reason_count ? &parley__leave_reasons[index] : NULL;
}

static const char *const profile_names[] = {"all", "web", "native"};
static const char *const layer_names[] = {"session", "token", "client", "request", "runtime"};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *parley_profile_name(parley_profile p)
{
    return (unsigned)p < COUNT(profile_names) ? profile_names[p] : NULL;
}

const char *parley_layer_name(parley_layer l)
{
    return (unsigned)l < COUNT(layer_names) ? layer_names[l] : NULL;
}

static bool parse_name(const char *text, const char *const *names, size_t n, int *out)
{
    for (size_t i = 0; text && i < n; i++) {
        if (strcmp(text, names[i]) == 0) {
            *out = (int)i;
            return true;
        }
    }
    return false;
}

bool parley_profile_parse(const char *text, parley_profile *out)
{
    int v;
    if (!parse_name(text, profile_names, COUNT(profile_names), &v))
        return false;
    *out = (parley_profile)v;
    return true;
}

bool parley_layer_parse(const char *text, parley_layer *out)
{
    int v;
    if (!parse_name(text, layer_names, COUNT(layer_names), &v))
        return false;
    *out = (parley_layer)v;
    return true;
}
