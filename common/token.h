/* token.h - Parley's access tokens: HS256 JWTs signed with an API key's
 * secret (docs/protocol.md §1).
 *
 * Verifying a token is done in one call, parley_token_check(): it reads the
 * `apikey` claim from the still-unverified payload, finds the key and its
 * organisation in the store, verifies the signature with the key's secret
 * (HS256 only: `none`, HS384, HS512, RS*, ES* are refused; the HMAC is
 * recomputed with OpenSSL and compared in constant time), enforces exp and
 * nbf with PARLEY_TOKEN_LEEWAY seconds of leeway, parses the claims, and
 * answers the catalog code of the first failed check, in the order of §1:
 *
 *   join / REST      4002 -> 4001 -> 4006/4007 -> 4008 -> 4024
 *   refresh          1100 (expired) and 1101 (anything else that would be
 *   and reconnect    4002 or 4001, and 4008) -> 4006/4007 -> 4024
 *
 * At join, step 5 refuses version-2 `roles` without `rtc`; for the REST API it
 * refuses version-2 `roles` without `crawler`. The checks that need the room
 * and the participant (4022, 4023, 4025) come later in a join (§2.4) and use
 * the helpers at the bottom.
 *
 * JWT encoding, decoding and signing are libjwt's; HMACs are OpenSSL's.
 *
 * Ownership: a parley_token_claims / parley_token_result owns its strings;
 * release them with parley_token_claims_free / parley_token_result_free (safe
 * on a zeroed struct and twice in a row). Minted tokens are malloc'd; free()
 * them. Strings passed in are only read during the call. Everything here is
 * thread-safe given a store handle per thread. */
#ifndef PARLEY_COMMON_TOKEN_H
#define PARLEY_COMMON_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "store.h"

#define PARLEY_TOKEN_LEEWAY 30     /* seconds, for exp and nbf */
#define PARLEY_TOKEN_MAX_LEN 16384 /* longer strings are not tokens (4002) */

/* permissions */
enum {
    PARLEY_PERM_ALLOW_JOIN = 1u << 0,
    PARLEY_PERM_ASK_JOIN = 1u << 1,
    PARLEY_PERM_ALLOW_MOD = 1u << 2,
};
/* roles */
enum {
    PARLEY_ROLE_RTC = 1u << 0,
    PARLEY_ROLE_CRAWLER = 1u << 1,
};
/* publish grant (a Parley extension claim) */
enum {
    PARLEY_PUBLISH_CAMERA = 1u << 0,
    PARLEY_PUBLISH_MICROPHONE = 1u << 1,
    PARLEY_PUBLISH_SCREEN = 1u << 2,
    PARLEY_PUBLISH_ALL = 7u,
};

/* The three string-list claims. */
typedef enum parley_token_list {
    PARLEY_TOKEN_PERMISSIONS = 0,
    PARLEY_TOKEN_ROLES,
    PARLEY_TOKEN_PUBLISH,
} parley_token_list;

/* The claims of a token, as written in it. The flags say what was there;
 * *_invalid marks a claim that is present but not an array of known strings
 * (for permissions also: empty, or ask_join with allow_join / allow_mod). */
typedef struct parley_token_claims {
    char *apikey; /* NULL when absent or not a string */
    bool permissions_present, permissions_invalid;
    unsigned permissions;
    bool version_present;
    long version;         /* 0 when absent or not an integer */
    char *room_id;        /* NULL when absent; effective only for version 2 */
    char *participant_id; /* NULL when absent; effective only for version 2 */
    bool roles_present, roles_invalid; /* roles effective only for version 2 */
    unsigned roles;
    bool publish_present, publish_invalid;
    unsigned publish;
    bool has_exp, has_nbf, has_iat;
    long exp, nbf, iat;
} parley_token_claims;

typedef enum parley_token_context {
    PARLEY_TOKEN_CTX_JOIN = 0, /* signaling join */
    PARLEY_TOKEN_CTX_REFRESH,  /* refresh-token and reconnect */
    PARLEY_TOKEN_CTX_REST,     /* the REST API */
} parley_token_context;

typedef struct parley_token_result {
    int code;                   /* 0: accepted; else the PARLEY_ERR_* code */
    char detail[192];           /* why, in words (for the log and the hint) */
    parley_token_claims claims; /* as far as they were read */
    bool key_found;             /* key and org are filled in */
    parley_api_key key;         /* the signing key (bound room: key.room_id) */
    parley_org org;             /* its organisation (message for 4007) */
} parley_token_result;

/* Check token for ctx at time now (0: the current time). Returns out->code
 * (0 when accepted). A store failure while finding the key answers
 * PARLEY_ERR_UNKNOWN_ERROR (-1) with the store's message in detail. The
 * caller frees out with parley_token_result_free, whatever the code. */
int parley_token_check(parley_store *st, const char *token, parley_token_context ctx, time_t now,
                       parley_token_result *out);
void parley_token_result_free(parley_token_result *r);

/* Verify token with a known secret (HS256, constant-time HMAC comparison,
 * exp / nbf with leeway at now, 0: the current time) and parse its claims.
 * Returns 0, or PARLEY_ERR_INVALID_TOKEN (with *expired set when the only
 * problem is exp; expired may be NULL). Claim values are not judged here.
 * claims (may be NULL) is filled on success and left empty on failure. */
int parley_token_verify(const char *token, const char *secret, time_t now,
                        parley_token_claims *claims, bool *expired, char *detail,
                        size_t detail_len);
/* Read the apikey claim of a token without verifying it, into a malloc'd
 * string; NULL when the token is not a JWT or has no string apikey. */
char *parley_token_peek_apikey(const char *token);
void parley_token_claims_free(parley_token_claims *c);

/* Effective values, per the version rule: */
/* the bound room / participant (NULL: not bound; only version 2 binds) */
const char *parley_token_bound_room(const parley_token_claims *c);
const char *parley_token_bound_participant(const parley_token_claims *c);
/* roles allow joining a meeting / using the REST API (true when roles are
 * absent or the version is not 2) */
bool parley_token_may_join(const parley_token_claims *c);
bool parley_token_may_use_rest(const parley_token_claims *c);
/* the publish grant (PARLEY_PUBLISH_ALL when absent) */
unsigned parley_token_publish_grant(const parley_token_claims *c);

/* Join-time binding checks of §2.4. Each returns 0 or the code. */
/* 4022 unless the token is unbound or bound to room_id or custom_room_id */
int parley_token_check_room(const parley_token_claims *c, const char *room_id,
                            const char *custom_room_id);
/* 4023 unless unbound or bound to participant_id */
int parley_token_check_participant(const parley_token_claims *c, const char *participant_id);
/* 4025 unless the key is unbound or bound to room_id or custom_room_id */
int parley_token_check_key_room(const parley_api_key *key, const char *room_id,
                                const char *custom_room_id);

/* What to put in a new token. */
typedef struct parley_token_grant {
    const char *apikey;         /* required */
    unsigned permissions;       /* PARLEY_PERM_* bits; 0: no permissions claim */
    long version;               /* 0: no version claim */
    const char *room_id;        /* NULL: none */
    const char *participant_id; /* NULL: none */
    bool roles_set;             /* write roles (possibly empty) */
    unsigned roles;
    bool publish_set; /* write publish (possibly empty) */
    unsigned publish;
    long ttl; /* seconds from now to exp; negative: already expired */
} parley_token_grant;

/* Mint an HS256 token signed with secret at now (0: the current time); iat is
 * now, exp is now + ttl. *out is malloc'd. Returns 0, or -1 with err. */
int parley_token_mint(const parley_token_grant *grant, const char *secret, time_t now,
                      char **out, char *err, size_t errlen);
/* Sign an arbitrary claims object (read only) with HS256, for tests and
 * tools that need tokens the grant cannot express. */
int parley_token_sign(const json_t *claims, const char *secret, char **out, char *err,
                      size_t errlen);

/* Names of the list values ("allow_join", "rtc", "camera", ...): the bit for
 * a name (0 when unknown), and a JSON array of the names of a mask. */
unsigned parley_token_flag(parley_token_list list, const char *name);
json_t *parley_token_flags_json(parley_token_list list, unsigned mask);
/* Parse a comma-separated list of names into a mask; false (with the first
 * unknown name in err) on an unknown or empty item. "" gives 0. */
bool parley_token_flags_parse(parley_token_list list, const char *csv, unsigned *mask, char *err,
                              size_t errlen);

#endif
