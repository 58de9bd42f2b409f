/* parley/errors.h - the error catalog, as seen from C.
 *
 * Every failure in Parley is one entry of the catalog: a numeric code, a
 * constant name (exactly as documented, misspellings kept), a human message,
 * a layer, a profile and a fatal flag. The entries are generated at build time
 * from catalog/errors.toml; <parley/error_codes.h> holds the PARLEY_ERR_<NAME>
 * constants.
 *
 * The client codes 30xx exist twice: the web profile (browser media errors) and
 * the native profile (libparley's device errors) give them different meanings.
 * Every other code has the profile PARLEY_PROFILE_ALL.
 *
 * Ownership: every pointer returned here points into static, read-only data
 * that lives as long as the program. Nothing is to be freed. All functions are
 * thread-safe. */
#ifndef PARLEY_ERRORS_H
#define PARLEY_ERRORS_H

#include <stdbool.h>
#include <stddef.h>

#include <parley/error_codes.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum parley_profile {
    PARLEY_PROFILE_ALL = 0, /* a code outside 30xx; as a lookup filter: any profile */
    PARLEY_PROFILE_WEB,
    PARLEY_PROFILE_NATIVE,
} parley_profile;

typedef enum parley_layer {
    PARLEY_LAYER_SESSION = 0, /* 1xx, 2xx, 3xx, 8xx, 9xx, -1 */
    PARLEY_LAYER_TOKEN,       /* 1100, 1101 */
    PARLEY_LAYER_CLIENT,      /* 30xx */
    PARLEY_LAYER_REQUEST,     /* 40xx */
    PARLEY_LAYER_RUNTIME,     /* 50xx */
} parley_layer;

typedef struct parley_error_info {
    int code;
    const char *name;
    const char *const *aliases; /* NULL-terminated, possibly empty */
    parley_profile profile;
    parley_layer layer;
    bool fatal;
    const char *message;
    const char *trigger; /* when Parley emits it */
    const char *remedy;  /* what the developer who sees it should do */
} parley_error_info;

typedef struct parley_leave_reason {
    int code;
    const char *name;
    const char *origin; /* "server" or "sdk" */
    const char *message;
} parley_leave_reason;

/* The entry for code as seen by a client of the given profile: the entry of
 * that profile, or the profile-'all' entry. With PARLEY_PROFILE_ALL, a code
 * that has both a web and a native entry is ambiguous and yields NULL; use
 * parley_error_at() to see both. NULL when the code is unknown. */
const parley_error_info *parley_error_lookup(int code, parley_profile profile);

/* The entry whose name or alias is name (case-sensitive), for the profile as
 * above. NULL when unknown, or ambiguous under PARLEY_PROFILE_ALL. */
const parley_error_info *parley_error_by_name(const char *name, parley_profile profile);

/* Iteration in catalog order (by layer, then code, then profile). */
size_t parley_error_count(void);
const parley_error_info *parley_error_at(size_t index);

/* Leave reasons: lookup by code (NULL when unknown) and iteration. */
const parley_leave_reason *parley_leave_reason_lookup(int code);
size_t parley_leave_reason_count(void);
const parley_leave_reason *parley_leave_reason_at(size_t index);

/* "all", "web", "native" / "session", "token", ...; NULL for an invalid value. */
const char *parley_profile_name(parley_profile profile);
const char *parley_layer_name(parley_layer layer);
/* Parse those names; return false for an unknown one. */
bool parley_profile_parse(const char *text, parley_profile *out);
bool parley_layer_parse(const char *text, parley_layer *out);

#ifdef __cplusplus
}
#endif

#endif
