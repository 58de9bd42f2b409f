/* token.c - verifying, judging and minting Parley's HS256 tokens.
 *
 * libjwt decodes, verifies and encodes; OpenSSL computes the HMAC a second
 * time. The installed libjwt (1.10.2) compares signatures with its own
 * jwt_strcmp, an XOR-accumulating loop over the base64url strings, which does
 * not stop at the first differing byte; older builds of the same version used
 * strcmp. Rather than depend on which build is installed, verification always
 * also recomputes HMAC-SHA256 over "header.payload" and compares it with
 * CRYPTO_memcmp, and only then trusts the token.
 *
 * The apikey claim must be read before the signature can be checked (it names
 * the secret): libjwt decodes without a key for that peek, and nothing read
 * from an unverified payload but the apikey is used. */
#include "token.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jwt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <parley/error_codes.h>
#include "errtext.h"

#define HS256_SIG_LEN 43 /* base64url of 32 bytes, unpadded */

/* ---- names of list values ---------------------------------------------- */

static const char *const list_names[3][3] = {
    {"allow_join", "ask_join", "allow_mod"},
    {"rtc", "crawler", NULL},
    {"camera", "microphone", "screen"},
};

unsigned parley_token_flag(parley_token_list list, const char *name)
{
    if ((unsigned)list > PARLEY_TOKEN_PUBLISH || !name)
        return 0;
    for (unsigned i = 0; i < 3; i++)
        if (list_names[list][i] && !strcmp(list_names[list][i], name))
            return 1u << i;
    return 0;
}

json_t *parley_token_flags_json(parley_token_list list, unsigned mask)
{
    json_t *arr = json_array();
    if ((unsigned)list > PARLEY_TOKEN_PUBLISH)
        return arr;
    for (unsigned i = 0; i < 3; i++)
        if ((mask & (1u << i)) && list_names[list][i])
            json_array_append_new(arr, json_string(list_names[list][i]));
    return arr;
}

bool parley_token_flags_parse(parley_token_list list, const char *csv, unsigned *mask, char *err,
                              size_t errlen)
{
    unsigned m = 0;
    if (!csv)
        csv = "";
    const char *p = csv;
    while (*csv) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char item[32];
        if (n == 0 || n >= sizeof(item)) {
            parley_errtext(err, errlen, "empty or overlong item in '%.64s'", csv);
            return false;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        unsigned bit = parley_token_flag(list, item);
        if (!bit) {
            parley_errtext(err, errlen, "unknown value '%s'", item);
            return false;
        }
        m |= bit;
        if (!end)
            break;
        p = end + 1;
    }
    *mask = m;
    return true;
}

/* ---- claims ------------------------------------------------------------ */

void parley_token_claims_free(parley_token_claims *c)
{
    if (!c)
        return;
    free(c->apikey);
    free(c->room_id);
    free(c->participant_id);
    c->apikey = c->room_id = c->participant_id = NULL;
}

/* A list claim: the bits of its known strings; *invalid when it is not an
 * array, or holds anything but known strings. */
static unsigned read_list(const json_t *v, parley_token_list list, bool *invalid)
{
    unsigned m = 0;
    if (!json_is_array(v)) {
        *invalid = true;
        return 0;
    }
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item) {
        unsigned bit = parley_token_flag(list, json_string_value(item));
        if (!bit)
            *invalid = true;
        m |= bit;
    }
    return m;
}

/* A string claim; a present value of another type becomes "" (which binds
 * to nothing), so a malformed binding never widens a token. */
static char *read_string(const json_t *v)
{
    if (!v)
        return NULL;
    const char *s = json_string_value(v);
    return strdup(s ? s : "");
}

/* A NumericDate claim; false when present and not a number. */
static bool read_time(const json_t *obj, const char *key, bool *has, long *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v)
        return true;
    if (!json_is_number(v))
        return false;
    double d = json_number_value(v);
    if (d != d || d > 1e15 || d < -1e15)
        return false;
    *has = true;
    *out = (long)d;
    return true;
}

/* Fill c from the verified payload; false (with detail) for a malformed
 * time claim. */
static bool parse_claims(const json_t *obj, parley_token_claims *c, char *detail, size_t len)
{
    memset(c, 0, sizeof(*c));
    const char *apikey = json_string_value(json_object_get(obj, "apikey"));
    if (apikey)
        c->apikey = strdup(apikey);

    json_t *perms = json_object_get(obj, "permissions");
    if (perms) {
        c->permissions_present = true;
        c->permissions = read_list(perms, PARLEY_TOKEN_PERMISSIONS, &c->permissions_invalid);
        if (c->permissions == 0)
            c->permissions_invalid = true;
        if ((c->permissions & PARLEY_PERM_ASK_JOIN) &&
            (c->permissions & (PARLEY_PERM_ALLOW_JOIN | PARLEY_PERM_ALLOW_MOD)))
            c->permissions_invalid = true;
    }

    json_t *version = json_object_get(obj, "version");
    if (version) {
        c->version_present = true;
        double d = json_is_number(version) ? json_number_value(version) : 0;
        c->version = (d >= 0 && d <= 1000 && d == (double)(long)d) ? (long)d : 0;
    }
    c->room_id = read_string(json_object_get(obj, "roomId"));
    c->participant_id = read_string(json_object_get(obj, "participantId"));

    json_t *roles = json_object_get(obj, "roles");
    if (roles) {
        c->roles_present = true;
        c->roles = read_list(roles, PARLEY_TOKEN_ROLES, &c->roles_invalid);
    }
    json_t *publish = json_object_get(obj, "publish");
    if (publish) {
        c->publish_present = true;
        c->publish = read_list(publish, PARLEY_TOKEN_PUBLISH, &c->publish_invalid);
    }
    if (!read_time(obj, "exp", &c->has_exp, &c->exp) ||
        !read_time(obj, "nbf", &c->has_nbf, &c->nbf) ||
        !read_time(obj, "iat", &c->has_iat, &c->iat)) {
        parley_errtext(detail, len, "exp, nbf and iat must be numbers");
        return false;
    }
    return true;
}

/* ---- verification ------------------------------------------------------ */

/* HMAC-SHA256 of data with secret, base64url without padding, in out. */
static bool hs256_b64url(const char *secret, const char *data, size_t len,
                         char out[HS256_SIG_LEN + 2])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;
    if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)data, len, mac,
              &mac_len) ||
        mac_len != 32)
        return false;
    unsigned char b64[48];
    if (EVP_EncodeBlock(b64, mac, 32) != 44)
        return false;
    OPENSSL_cleanse(mac, sizeof(mac));
    for (int i = 0; i < HS256_SIG_LEN; i++) {
        char ch = (char)b64[i];
        out[i] = ch == '+' ? '-' : ch == '/' ? '_' : ch;
    }
    out[HS256_SIG_LEN] = '\0';
    return true;
}

/* The token's shape: exactly three non-empty-header parts; *signed_len is
 * the length of "header.payload", *sig the signature part. */
static bool split(const char *token, size_t *signed_len, const char **sig)
{
    const char *d1 = strchr(token, '.');
    if (!d1 || d1 == token)
        return false;
    const char *d2 = strchr(d1 + 1, '.');
    if (!d2 || d2 == d1 + 1 || strchr(d2 + 1, '.'))
        return false;
    *signed_len = (size_t)(d2 - token);
    *sig = d2 + 1;
    return true;
}

static bool shape_ok(const char *token, char *detail, size_t len)
{
    if (!token || !*token) {
        parley_errtext(detail, len, "no token");
        return false;
    }
    if (strlen(token) > PARLEY_TOKEN_MAX_LEN) {
        parley_errtext(detail, len, "token longer than %d characters", PARLEY_TOKEN_MAX_LEN);
        return false;
    }
    size_t signed_len;
    const char *sig;
    if (!split(token, &signed_len, &sig)) {
        parley_errtext(detail, len, "not a JWT (header.payload.signature)");
        return false;
    }
    return true;
}

int parley_token_verify(const char *token, const char *secret, time_t now,
                        parley_token_claims *claims, bool *expired, char *detail,
                        size_t detail_len)
{
    parley_token_claims scratch;
    if (!claims)
        claims = &scratch;
    memset(claims, 0, sizeof(*claims));
    if (expired)
        *expired = false;
    parley_errtext(detail, detail_len, "ok");
    if (!now)
        now = time(NULL);
    if (!shape_ok(token, detail, detail_len))
        return PARLEY_ERR_INVALID_TOKEN;
    if (!secret || !*secret) {
        parley_errtext(detail, detail_len, "no secret to verify with");
        return PARLEY_ERR_INVALID_TOKEN;
    }

    jwt_t *jwt = NULL;
    if (jwt_decode(&jwt, token, (const unsigned char *)secret, (int)strlen(secret)) != 0 || !jwt) {
        parley_errtext(detail, detail_len, "malformed token or bad signature");
        return PARLEY_ERR_INVALID_TOKEN;
    }
    int rc = PARLEY_ERR_INVALID_TOKEN;
    char *grants = NULL;
    json_t *payload = NULL;
    const char *alg = jwt_get_header(jwt, "alg");
    if (jwt_get_alg(jwt) != JWT_ALG_HS256 || !alg || strcmp(alg, "HS256") != 0) {
        parley_errtext(detail, detail_len, "alg %.16s refused: only HS256 is accepted", alg ? alg : "(none)");
        goto out;
    }

    /* The second, constant-time check of the signature. */
    size_t signed_len;
    const char *sig;
    char want[HS256_SIG_LEN + 2];
    split(token, &signed_len, &sig);
    if (strlen(sig) != HS256_SIG_LEN || !hs256_b64url(secret, token, signed_len, want) ||
        CRYPTO_memcmp(want, sig, HS256_SIG_LEN) != 0) {
        OPENSSL_cleanse(want, sizeof(want));
        parley_errtext(detail, detail_len, "bad signature");
        goto out;
    }
    OPENSSL_cleanse(want, sizeof(want));

    grants = jwt_get_grants_json(jwt, NULL);
    payload = grants ? json_loads(grants, 0, NULL) : NULL;
    if (!json_is_object(payload)) {
        parley_errtext(detail, detail_len, "payload is not a JSON object");
        goto out;
    }
    if (!parse_claims(payload, claims, detail, detail_len))
        goto out;
    if (claims->has_nbf && (long)now + PARLEY_TOKEN_LEEWAY < claims->nbf) {
        parley_errtext(detail, detail_len, "token not valid before %ld (now %ld)", claims->nbf, (long)now);
        goto out;
    }
    if (claims->has_exp && (long)now > claims->exp + PARLEY_TOKEN_LEEWAY) {
        parley_errtext(detail, detail_len, "token expired at %ld (now %ld)", claims->exp, (long)now);
        if (expired)
            *expired = true;
        goto out;
    }
    rc = 0;
out:
    if (rc || claims == &scratch)
        parley_token_claims_free(claims);
    json_decref(payload);
    free(grants);
    jwt_free(jwt);
    return rc;
}

char *parley_token_peek_apikey(const char *token)
{
    if (!shape_ok(token, NULL, 0))
        return NULL;
    jwt_t *jwt = NULL;
    if (jwt_decode(&jwt, token, NULL, 0) != 0 || !jwt)
        return NULL;
    const char *apikey = jwt_get_grant(jwt, "apikey");
    char *copy = apikey ? strdup(apikey) : NULL;
    jwt_free(jwt);
    return copy;
}

/* Whether the header, read without verifying, names HS256. */
static bool peek_hs256(const char *token)
{
    jwt_t *jwt = NULL;
    if (jwt_decode(&jwt, token, NULL, 0) != 0 || !jwt)
        return false;
    const char *alg = jwt_get_header(jwt, "alg");
    bool ok = alg && !strcmp(alg, "HS256");
    jwt_free(jwt);
    return ok;
}

/* ---- effective values --------------------------------------------------- */

static bool v2(const parley_token_claims *c) { return c->version == 2; }

const char *parley_token_bound_room(const parley_token_claims *c)
{
    return v2(c) ? c->room_id : NULL;
}

const char *parley_token_bound_participant(const parley_token_claims *c)
{
    return v2(c) ? c->participant_id : NULL;
}

bool parley_token_may_join(const parley_token_claims *c)
{
    return !v2(c) || !c->roles_present || (c->roles & PARLEY_ROLE_RTC);
}

bool parley_token_may_use_rest(const parley_token_claims *c)
{
    return !v2(c) || !c->roles_present || (c->roles & PARLEY_ROLE_CRAWLER);
}

unsigned parley_token_publish_grant(const parley_token_claims *c)
{
    return c->publish_present ? c->publish : PARLEY_PUBLISH_ALL;
}

static bool same(const char *a, const char *b) { return a && b && *b && !strcmp(a, b); }

int parley_token_check_room(const parley_token_claims *c, const char *room_id,
                            const char *custom_room_id)
{
    const char *bound = parley_token_bound_room(c);
    if (!bound || same(bound, room_id) || same(bound, custom_room_id))
        return 0;
    return PARLEY_ERR_UNAUTHORIZED_MEETING_ID;
}

int parley_token_check_participant(const parley_token_claims *c, const char *participant_id)
{
    const char *bound = parley_token_bound_participant(c);
    if (!bound || same(bound, participant_id))
        return 0;
    return PARLEY_ERR_UNAUTHORIZED_PARTCIPANT_ID;
}

int parley_token_check_key_room(const parley_api_key *key, const char *room_id,
                                const char *custom_room_id)
{
    if (!key->room_id[0] || same(key->room_id, room_id) || same(key->room_id, custom_room_id))
        return 0;
    return PARLEY_ERR_UNAUTHORIZED_REQUEST;
}

/* ---- the checks of §1 -------------------------------------------------- */

void parley_token_result_free(parley_token_result *r)
{
    if (r)
        parley_token_claims_free(&r->claims);
}

/* Set the answer: code in the join / REST contexts, or its refresh twin. */
static int answer(parley_token_result *out, parley_token_context ctx, int code, bool expired)
{
    if (ctx == PARLEY_TOKEN_CTX_REFRESH) {
        if (code == PARLEY_ERR_INVALID_TOKEN)
            code = expired ? PARLEY_ERR_TOKEN_EXPIRED : PARLEY_ERR_TOKEN_DATA_IS_NOT_VALID;
        else if (code == PARLEY_ERR_INVALID_API_KEY || code == PARLEY_ERR_INVALID_PERMISSIONS)
            code = PARLEY_ERR_TOKEN_DATA_IS_NOT_VALID;
    }
    out->code = code;
    return code;
}

int parley_token_check(parley_store *st, const char *token, parley_token_context ctx, time_t now,
                       parley_token_result *out)
{
    memset(out, 0, sizeof(*out));
    if (!now)
        now = time(NULL);

    /* 1, before the key is known: the token's shape and its alg. */
    if (!shape_ok(token, out->detail, sizeof(out->detail)))
        return answer(out, ctx, PARLEY_ERR_INVALID_TOKEN, false);
    if (!peek_hs256(token)) {
        parley_errtext(out->detail, sizeof(out->detail), "not an HS256 JWT");
        return answer(out, ctx, PARLEY_ERR_INVALID_TOKEN, false);
    }

    /* 2: the key. */
    char *apikey = parley_token_peek_apikey(token);
    if (!apikey) {
        parley_errtext(out->detail, sizeof(out->detail), "apikey claim missing");
        return answer(out, ctx, PARLEY_ERR_INVALID_API_KEY, false);
    }
    int rc = st ? parley_store_key_get(st, apikey, &out->key) : PARLEY_STORE_ERROR;
    if (rc == PARLEY_STORE_OK)
        rc = parley_store_org_get_by_id(st, out->key.org_id, &out->org);
    if (rc == PARLEY_STORE_NOT_FOUND) {
        parley_errtext(out->detail, sizeof(out->detail), "unknown API key '%.64s'", apikey);
        free(apikey);
        return answer(out, ctx, PARLEY_ERR_INVALID_API_KEY, false);
    }
    free(apikey);
    if (rc != PARLEY_STORE_OK) {
        parley_errtext(out->detail, sizeof(out->detail), "store: %s",
            st ? parley_store_errmsg(st) : "no store");
        return answer(out, ctx, PARLEY_ERR_UNKNOWN_ERROR, false);
    }
    out->key_found = true;

    /* 1, with the secret: signature, alg, nbf, exp. */
    bool expired = false;
    int code = parley_token_verify(token, out->key.secret, now, &out->claims, &expired,
                                   out->detail, sizeof(out->detail));
    if (code)
        return answer(out, ctx, code, expired);

    /* 3: the organisation. */
    if (out->org.state != PARLEY_ORG_ACTIVE) {
        bool disc = out->org.state == PARLEY_ORG_DISCONTINUED;
        parley_errtext(out->detail, sizeof(out->detail), "%s",
            out->org.message[0] ? out->org.message
                                : disc ? "organisation discontinued" : "organisation deactivated");
        return answer(out, ctx,
                      disc ? PARLEY_ERR_ACCOUNT_DISCONTINUED : PARLEY_ERR_ACCOUNT_DEACTIVATED,
                      false);
    }

    /* 4: permissions. */
    const parley_token_claims *c = &out->claims;
    if (!c->permissions_present || c->permissions_invalid) {
        parley_errtext(out->detail, sizeof(out->detail), "%s",
            !c->permissions_present ? "permissions claim missing"
            : (c->permissions & PARLEY_PERM_ASK_JOIN) &&
                    (c->permissions & (PARLEY_PERM_ALLOW_JOIN | PARLEY_PERM_ALLOW_MOD))
                ? "ask_join cannot be combined with allow_join or allow_mod"
                : "permissions must be a non-empty array of allow_join, ask_join, allow_mod");
        return answer(out, ctx, PARLEY_ERR_INVALID_PERMISSIONS, false);
    }

    /* 5: roles. */
    bool allowed = ctx == PARLEY_TOKEN_CTX_REST ? parley_token_may_use_rest(c)
                                                 : parley_token_may_join(c);
    if (!allowed) {
        parley_errtext(out->detail, sizeof(out->detail), "token roles do not include '%s'",
            ctx == PARLEY_TOKEN_CTX_REST ? "crawler" : "rtc");
        return answer(out, ctx, PARLEY_ERR_UNAUTHORIZED_ROLE, false);
    }
    parley_errtext(out->detail, sizeof(out->detail), "ok");
    out->code = 0;
    return 0;
}

/* ---- minting ----------------------------------------------------------- */

int parley_token_sign(const json_t *claims, const char *secret, char **out, char *err,
                      size_t errlen)
{
    *out = NULL;
    if (!json_is_object(claims)) {
        parley_errtext(err, errlen, "claims must be a JSON object");
        return -1;
    }
    if (!secret || !*secret) {
        parley_errtext(err, errlen, "no secret to sign with");
        return -1;
    }
    char *text = json_dumps(claims, JSON_COMPACT | JSON_PRESERVE_ORDER);
    jwt_t *jwt = NULL;
    int rc = -1;
    if (!text || jwt_new(&jwt) != 0) {
        parley_errtext(err, errlen, "out of memory");
        goto done;
    }
    if (jwt_add_grants_json(jwt, text) != 0) {
        parley_errtext(err, errlen, "libjwt refused the claims");
        goto done;
    }
    if (jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret)) != 0) {
        parley_errtext(err, errlen, "libjwt refused the key");
        goto done;
    }
    *out = jwt_encode_str(jwt);
    if (!*out) {
        parley_errtext(err, errlen, "libjwt could not encode the token (%s)", strerror(errno));
        goto done;
    }
    rc = 0;
done:
    free(text);
    jwt_free(jwt);
    return rc;
}

int parley_token_mint(const parley_token_grant *g, const char *secret, time_t now, char **out,
                      char *err, size_t errlen)
{
    *out = NULL;
    if (!g || !g->apikey || !*g->apikey) {
        parley_errtext(err, errlen, "an apikey is required");
        return -1;
    }
    if (!now)
        now = time(NULL);
    json_t *c = json_object();
    json_object_set_new(c, "apikey", json_string(g->apikey));
    if (g->permissions)
        json_object_set_new(c, "permissions",
                            parley_token_flags_json(PARLEY_TOKEN_PERMISSIONS, g->permissions));
    if (g->version)
        json_object_set_new(c, "version", json_integer(g->version));
    if (g->room_id)
        json_object_set_new(c, "roomId", json_string(g->room_id));
    if (g->participant_id)
        json_object_set_new(c, "participantId", json_string(g->participant_id));
    if (g->roles_set)
        json_object_set_new(c, "roles", parley_token_flags_json(PARLEY_TOKEN_ROLES, g->roles));
    if (g->publish_set)
        json_object_set_new(c, "publish", parley_token_flags_json(PARLEY_TOKEN_PUBLISH, g->publish));
    json_object_set_new(c, "iat", json_integer((json_int_t)now));
    json_object_set_new(c, "exp", json_integer((json_int_t)now + g->ttl));
    /* json_object_set_new drops a NULL value (text that is not UTF-8). */
    if ((g->room_id && !json_object_get(c, "roomId")) ||
        (g->participant_id && !json_object_get(c, "participantId")) ||
        !json_object_get(c, "apikey")) {
        parley_errtext(err, errlen, "claims must be UTF-8 text");
        json_decref(c);
        return -1;
    }
    int rc = parley_token_sign(c, secret, out, err, errlen);
    json_decref(c);
    return rc;
}
