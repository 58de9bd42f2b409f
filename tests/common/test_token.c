/* test_token.c - tokens: minting, verification, and the codes of
 * docs/protocol.md §1 for every way a token can be wrong.
 *
 * A real store in a temporary directory holds the organisations and keys;
 * forged tokens (alg none, HS512, tampered payloads) are built here from
 * their parts so that nothing in token.c helps make them. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <parley/error_codes.h>

#include "../lib/tap.h"
#include "token.h"

static parley_store *st;
static char tmpdir[] = "/tmp/parley-test-token-XXXXXX";
static parley_api_key key, key2, dead_key, gone_key, bound_key;
static time_t now;

/* base64url without padding of n bytes, into a static-size buffer. */
static void b64url(const void *data, size_t n, char *out)
{
    unsigned char buf[4096];
    int len = EVP_EncodeBlock(buf, data, (int)n);
    int j = 0;
    for (int i = 0; i < len; i++) {
        char c = (char)buf[i];
        if (c == '=')
            break;
        out[j++] = c == '+' ? '-' : c == '/' ? '_' : c;
    }
    out[j] = '\0';
}

/* header.payload.signature from JSON texts: an empty signature, or with
 * sign a correct HMAC-SHA256 of "header.payload" with secret. */
static char *forge(const char *header, const char *payload, const char *secret, bool sign)
{
    static char token[8192];
    char h[2048], p[4096];
    b64url(header, strlen(header), h);
    b64url(payload, strlen(payload), p);
    snprintf(token, sizeof(token), "%s.%s.", h, p);
    if (sign) {
        unsigned char mac[32];
        unsigned int mlen = 0;
        HMAC(EVP_sha256(), secret, (int)strlen(secret), (unsigned char *)token,
             strlen(token) - 1, mac, &mlen);
        b64url(mac, mlen, token + strlen(token));
    }
    return token;
}

/* Sign claims (JSON text) with HS256 through token.c; caller frees. */
static char *signed_json(const char *claims, const char *secret)
{
    json_t *c = json_loads(claims, 0, NULL);
    char *tok = NULL;
    char err[128];
    if (!c || parley_token_sign(c, secret, &tok, err, sizeof(err)) != 0)
        printf("# cannot sign %s: %s\n", claims, err);
    json_decref(c);
    return tok;
}

/* The code of a token in a context. */
static int code_of(const char *token, parley_token_context ctx)
{
    parley_token_result r;
    int code = parley_token_check(st, token, ctx, now, &r);
    if (code != r.code)
        code = 999999;
    parley_token_result_free(&r);
    return code;
}

static int json_code(const char *claims_fmt, const char *apikey, const char *secret,
                     parley_token_context ctx)
{
    char claims[2048];
    snprintf(claims, sizeof(claims), claims_fmt, apikey);
    char *tok = signed_json(claims, secret);
    int code = tok ? code_of(tok, ctx) : 999998;
    free(tok);
    return code;
}

static char *mint(const parley_token_grant *g, const char *secret)
{
    char *tok = NULL;
    char err[128];
    if (parley_token_mint(g, secret, now, &tok, err, sizeof(err)) != 0)
        printf("# mint failed: %s\n", err);
    return tok;
}

TEST(mint_and_verify_round_trip)
{
    parley_token_grant g = {.apikey = key.apikey,
                            .permissions = PARLEY_PERM_ALLOW_JOIN | PARLEY_PERM_ALLOW_MOD,
                            .version = 2, .room_id = "abcd-efgh-ijkl", .participant_id = "alice",
                            .roles_set = true, .roles = PARLEY_ROLE_RTC, .publish_set = true,
                            .publish = PARLEY_PUBLISH_CAMERA | PARLEY_PUBLISH_SCREEN, .ttl = 3600};
    char *tok = mint(&g, key.secret);
    REQUIRE(tok);
    parley_token_result r;
    CHECK(parley_token_check(st, tok, PARLEY_TOKEN_CTX_JOIN, now, &r) == 0);
    CHECKF(r.code == 0, "code %d: %s", r.code, r.detail);
    CHECK(r.key_found && !strcmp(r.key.apikey, key.apikey) && !strcmp(r.org.name, "acme"));
    const parley_token_claims *c = &r.claims;
    CHECK(c->apikey && !strcmp(c->apikey, key.apikey));
    CHECK(c->permissions_present && !c->permissions_invalid);
    CHECK(c->permissions == (PARLEY_PERM_ALLOW_JOIN | PARLEY_PERM_ALLOW_MOD));
    CHECK(c->version_present && c->version == 2);
    CHECK(c->room_id && !strcmp(c->room_id, "abcd-efgh-ijkl"));
    CHECK(c->participant_id && !strcmp(c->participant_id, "alice"));
    CHECK(c->roles_present && c->roles == PARLEY_ROLE_RTC && !c->roles_invalid);
    CHECK(c->publish_present && c->publish == (PARLEY_PUBLISH_CAMERA | PARLEY_PUBLISH_SCREEN));
    CHECK(parley_token_publish_grant(c) == (PARLEY_PUBLISH_CAMERA | PARLEY_PUBLISH_SCREEN));
    CHECK(c->has_exp && c->exp == (long)now + 3600 && c->has_iat && c->iat == (long)now);
    CHECK(!c->has_nbf);
    CHECK(parley_token_may_join(c) && !parley_token_may_use_rest(c));
    parley_token_result_free(&r);
    parley_token_result_free(&r); /* twice is fine */

    /* The same token through parley_token_verify, and peeked. */
    parley_token_claims cl;
    bool expired = true;
    char detail[128];
    CHECK(parley_token_verify(tok, key.secret, now, &cl, &expired, detail, sizeof(detail)) == 0);
    CHECK(!expired && cl.apikey && !strcmp(cl.apikey, key.apikey));
    parley_token_claims_free(&cl);
    char *peek = parley_token_peek_apikey(tok);
    CHECK(peek && !strcmp(peek, key.apikey));
    free(peek);
    free(tok);

    /* Defaults: no publish claim grants everything; no roles may do both. */
    parley_token_grant plain = {.apikey = key.apikey, .permissions = PARLEY_PERM_ASK_JOIN,
                                .ttl = 60};
    tok = mint(&plain, key.secret);
    REQUIRE(tok);
    CHECK(parley_token_check(st, tok, PARLEY_TOKEN_CTX_JOIN, now, &r) == 0);
    CHECK(parley_token_publish_grant(&r.claims) == PARLEY_PUBLISH_ALL);
    CHECK(!r.claims.version_present && !r.claims.roles_present && !r.claims.room_id);
    CHECK(parley_token_may_join(&r.claims) && parley_token_may_use_rest(&r.claims));
    parley_token_result_free(&r);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_REST) == 0);
    free(tok);
}

TEST(wrong_secret_and_tampering_answer_4002)
{
    parley_token_grant g = {.apikey = key.apikey, .permissions = PARLEY_PERM_ALLOW_JOIN, .ttl = 600};
    char *tok = mint(&g, key2.secret); /* another key's secret */
    REQUIRE(tok);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_TOKEN);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_REFRESH) == PARLEY_ERR_TOKEN_DATA_IS_NOT_VALID);
    CHECK(parley_token_verify(tok, key.secret, now, NULL, NULL, NULL, 0) == PARLEY_ERR_INVALID_TOKEN);
    free(tok);

    /* A good token whose payload is swapped for a more generous one. */
    tok = mint(&g, key.secret);
    REQUIRE(tok);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_JOIN) == 0);
    char claims[512];
    snprintf(claims, sizeof(claims),
             "{\"apikey\":\"%s\",\"permissions\":[\"allow_join\",\"allow_mod\"],\"exp\":%ld}",
             key.apikey, (long)now + 600);
    char p[1024], forged[4096];
    b64url(claims, strlen(claims), p);
    const char *d1 = strchr(tok, '.'), *d2 = strrchr(tok, '.');
    snprintf(forged, sizeof(forged), "%.*s.%s%s", (int)(d1 - tok), tok, p, d2);
    CHECK(code_of(forged, PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_TOKEN);
    /* One flipped signature character. */
    char *flip = strdup(tok);
    char *last = flip + strlen(flip) - 2;
    *last = *last == 'A' ? 'B' : 'A';
    CHECK(code_of(flip, PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_TOKEN);
    /* The signature cut short or made longer. */
    flip[strlen(flip) - 1] = '\0';
    CHECK(code_of(flip, PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_TOKEN);
    free(flip);
    char longer[4096];
    snprintf(longer, sizeof(longer), "%sAA", tok);
    CHECK(code_of(longer, PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_TOKEN);
    free(tok);
}

TEST(alg_none_is_refused)
{
    char payload[512];
    snprintf(payload, sizeof(payload), "{\"apikey\":\"%s\",\"permissions\":[\"allow_join\"]}",
             key.apikey);
    const char *tok = forge("{\"alg\":\"none\"}", payload, NULL, false);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_TOKEN);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_REST) == PARLEY_ERR_INVALID_TOKEN);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_REFRESH) == PARLEY_ERR_TOKEN_DATA_IS_NOT_VALID);
    CHECK(parley_token_verify(tok, key.secret, now, NULL, NULL, NULL, 0) ==
          PARLEY_ERR_INVALID_TOKEN);
    tok = forge("{\"alg\":\"none\",\"typ\":\"JWT\"}", payload, NULL, false);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_TOKEN);
    /* "none" carrying a correct HS256 signature of its own parts. */
    tok = forge("{\"alg\":\"none\"}", payload, key.secret, true);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_TOKEN);
    /* A lower-case "hs256" correctly signed is still not "HS256". */
    tok = forge("{\"alg\":\"hs256\",\"typ\":\"JWT\"}", payload, key.secret, true);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_TOKEN);
    CHECK(parley_token_verify(tok, key.secret, now, NULL, NULL, NULL, 0) ==
          PARLEY_ERR_INVALID_TOKEN);
    /* The control: the same forge with HS256 is accepted, so the refusals
     * above are about alg. */
    tok = forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, key.secret, true);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_JOIN) == 0);
    /* HS256 header with an empty signature. */
    tok = forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, NULL, false);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_TOKEN);
}

/* A token signed by libjwt with another HMAC algorithm and the right secret. */
static char *other_alg(jwt_alg_t alg)
{
    jwt_t *jwt = NULL;
    char claims[512];
    snprintf(claims, sizeof(claims), "{\"apikey\":\"%s\",\"permissions\":[\"allow_join\"],\"exp\":%ld}",
             key.apikey, (long)now + 600);
    if (jwt_new(&jwt) || jwt_add_grants_json(jwt, claims) ||
        jwt_set_alg(jwt, alg, (const unsigned char *)key.secret, (int)strlen(key.secret))) {
        jwt_free(jwt);
        return NULL;
    }
    char *tok = jwt_encode_str(jwt);
    jwt_free(jwt);
    return tok;
}

TEST(hs512_and_hs384_are_refused)
{
    char *tok = other_alg(JWT_ALG_HS512);
    REQUIRE(tok);
    /* libjwt alone accepts it with this secret; Parley must not. */
    jwt_t *jwt = NULL;
    CHECK(jwt_decode(&jwt, tok, (const unsigned char *)key.secret, (int)strlen(key.secret)) == 0);
    jwt_free(jwt);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_TOKEN);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_REFRESH) == PARLEY_ERR_TOKEN_DATA_IS_NOT_VALID);
    free(tok);
    tok = other_alg(JWT_ALG_HS384);
    REQUIRE(tok);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_TOKEN);
    free(tok);
    tok = other_alg(JWT_ALG_HS256); /* the control */
    REQUIRE(tok);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_JOIN) == 0);
    free(tok);
}

TEST(expiry_with_leeway)
{
    parley_token_grant g = {.apikey = key.apikey, .permissions = PARLEY_PERM_ALLOW_JOIN, .ttl = -120};
    char *tok = mint(&g, key.secret);
    REQUIRE(tok);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_TOKEN);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_REST) == PARLEY_ERR_INVALID_TOKEN);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_REFRESH) == PARLEY_ERR_TOKEN_EXPIRED);
    bool expired = false;
    CHECK(parley_token_verify(tok, key.secret, now, NULL, &expired, NULL, 0) ==
          PARLEY_ERR_INVALID_TOKEN);
    CHECK(expired);
    free(tok);

    /* exp = now: fine until now + 30, refused at now + 31. */
    g.ttl = 0;
    tok = mint(&g, key.secret);
    REQUIRE(tok);
    parley_token_result r;
    CHECK(parley_token_check(st, tok, PARLEY_TOKEN_CTX_JOIN, now + 30, &r) == 0);
    parley_token_result_free(&r);
    CHECK(parley_token_check(st, tok, PARLEY_TOKEN_CTX_JOIN, now + 31, &r) ==
          PARLEY_ERR_INVALID_TOKEN);
    parley_token_result_free(&r);
    CHECK(parley_token_check(st, tok, PARLEY_TOKEN_CTX_REFRESH, now + 31, &r) ==
          PARLEY_ERR_TOKEN_EXPIRED);
    parley_token_result_free(&r);
    free(tok);

    /* A non-numeric exp is not a token. */
    CHECK(json_code("{\"apikey\":\"%s\",\"permissions\":[\"allow_join\"],\"exp\":\"tomorrow\"}",
                    key.apikey, key.secret, PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_TOKEN);
}

TEST(not_before_in_the_future)
{
    char claims[512];
    snprintf(claims, sizeof(claims), "{\"apikey\":\"%s\",\"permissions\":[\"allow_join\"],\"nbf\":%ld}",
             key.apikey, (long)now + 120);
    char *tok = signed_json(claims, key.secret);
    REQUIRE(tok);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_TOKEN);
    bool expired = true;
    CHECK(parley_token_verify(tok, key.secret, now, NULL, &expired, NULL, 0) ==
          PARLEY_ERR_INVALID_TOKEN);
    CHECK(!expired);
    /* not yet valid is not "expired" on refresh */
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_REFRESH) == PARLEY_ERR_TOKEN_DATA_IS_NOT_VALID);
    free(tok);
    snprintf(claims, sizeof(claims), "{\"apikey\":\"%s\",\"permissions\":[\"allow_join\"],\"nbf\":%ld}",
             key.apikey, (long)now + 20); /* within the leeway */
    tok = signed_json(claims, key.secret);
    REQUIRE(tok);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_JOIN) == 0);
    free(tok);
}

TEST(malformed_strings)
{
    const char *bad[] = {
        "", "x", ".", "..", "...", "a.b", "abc", "garbage garbage", "a.b.c", ".b.c", "a..c",
        "eyJhbGciOiJIUzI1NiJ9", "eyJhbGciOiJIUzI1NiJ9.", "eyJhbGciOiJIUzI1NiJ9.e30",
        "eyJhbGciOiJIUzI1NiJ9.e30.", "eyJhbGciOiJIUzI1NiJ9.e30.x.y", "!!!.@@@.###",
        "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln", /* payload "not json" */
        "bm90IGpzb24.e30.c2ln",                   /* header "not json" */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int join = code_of(bad[i], PARLEY_TOKEN_CTX_JOIN);
        int refresh = code_of(bad[i], PARLEY_TOKEN_CTX_REFRESH);
        CHECKF(join == PARLEY_ERR_INVALID_TOKEN || join == PARLEY_ERR_INVALID_API_KEY,
               "'%s' answered %d", bad[i], join);
        CHECKF(refresh == PARLEY_ERR_TOKEN_DATA_IS_NOT_VALID, "'%s' answered %d", bad[i], refresh);
    }
    /* Only the well-formed HS256 ones without apikey reach step 2. */
    CHECK(code_of("garbage", PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_TOKEN);
    CHECK(code_of("a.b.c", PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_TOKEN);
    CHECK(code_of(NULL, PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_TOKEN);
    CHECK(parley_token_peek_apikey(NULL) == NULL && parley_token_peek_apikey("x.y") == NULL);

    /* Huge: a valid token padded past the limit, and a megabyte of 'a'. */
    size_t n = 1 << 20;
    char *huge = malloc(n + 1);
    REQUIRE(huge);
    memset(huge, 'a', n);
    huge[n] = '\0';
    huge[1000] = '.';
    huge[2000] = '.';
    CHECK(code_of(huge, PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_TOKEN);
    free(huge);
    char claims[PARLEY_TOKEN_MAX_LEN + 256];
    int len = snprintf(claims, sizeof(claims), "{\"apikey\":\"%s\",\"permissions\":[\"allow_join\"],\"pad\":\"",
                       key.apikey);
    memset(claims + len, 'p', PARLEY_TOKEN_MAX_LEN);
    strcpy(claims + len + PARLEY_TOKEN_MAX_LEN, "\"}");
    char *tok = signed_json(claims, key.secret);
    REQUIRE(tok);
    CHECK(strlen(tok) > PARLEY_TOKEN_MAX_LEN);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_TOKEN);
    free(tok);
    /* Not valid UTF-8 / embedded nonsense in an otherwise valid shape. */
    CHECK(code_of("\xff\xfe.\x01\x02.\x03", PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_TOKEN);
}

TEST(api_key_missing_or_unknown_answers_4001)
{
    CHECK(json_code("{\"permissions\":[\"allow_join\"]%s}", "", key.secret,
                    PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_API_KEY);
    CHECK(json_code("{\"apikey\":\"%s\",\"permissions\":[\"allow_join\"]}", "no-such-key",
                    key.secret, PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_API_KEY);
    CHECK(json_code("{\"apikey\":42,\"permissions\":[\"allow_join\"]%s}", "", key.secret,
                    PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_API_KEY);
    /* A deleted key is unknown. */
    CHECK(json_code("{\"apikey\":\"%s\",\"permissions\":[\"allow_join\"]}", gone_key.apikey,
                    gone_key.secret, PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_INVALID_API_KEY);
    /* On refresh the same problems are 1101. */
    CHECK(json_code("{\"permissions\":[\"allow_join\"]%s}", "", key.secret,
                    PARLEY_TOKEN_CTX_REFRESH) == PARLEY_ERR_TOKEN_DATA_IS_NOT_VALID);
    CHECK(json_code("{\"apikey\":\"%s\",\"permissions\":[\"allow_join\"]}", "no-such-key",
                    key.secret, PARLEY_TOKEN_CTX_REFRESH) == PARLEY_ERR_TOKEN_DATA_IS_NOT_VALID);
    /* Without a store the key cannot be found: an internal failure. */
    parley_token_result r;
    char *tok = signed_json("{\"apikey\":\"k\",\"permissions\":[\"allow_join\"]}", key.secret);
    REQUIRE(tok);
    CHECK(parley_token_check(NULL, tok, PARLEY_TOKEN_CTX_JOIN, now, &r) == PARLEY_ERR_UNKNOWN_ERROR);
    parley_token_result_free(&r);
    free(tok);
}

TEST(organisation_state_answers_4006_4007)
{
    const char *good = "{\"apikey\":\"%s\",\"permissions\":[\"allow_join\"]}";
    CHECK(json_code(good, dead_key.apikey, dead_key.secret, PARLEY_TOKEN_CTX_JOIN) == 0);
    parley_org org;
    REQUIRE(parley_store_org_get(st, dead_key.org_name, &org) == 0);
    org.state = PARLEY_ORG_DEACTIVATED;
    snprintf(org.message, sizeof(org.message), "Billing overdue; write to ops@example.org");
    REQUIRE(parley_store_org_update(st, &org) == 0);
    CHECK(json_code(good, dead_key.apikey, dead_key.secret, PARLEY_TOKEN_CTX_JOIN) ==
          PARLEY_ERR_ACCOUNT_DEACTIVATED);
    CHECK(json_code(good, dead_key.apikey, dead_key.secret, PARLEY_TOKEN_CTX_REST) ==
          PARLEY_ERR_ACCOUNT_DEACTIVATED);
    /* Step 3 comes before step 4. */
    CHECK(json_code("{\"apikey\":\"%s\",\"permissions\":[]}", dead_key.apikey, dead_key.secret,
                    PARLEY_TOKEN_CTX_JOIN) == PARLEY_ERR_ACCOUNT_DEACTIVATED);
    /* ...and after step 1: a bad signature is still 4002. */
    CHECK(json_code(good, dead_key.apikey, key.secret, PARLEY_TOKEN_CTX_JOIN) ==
          PARLEY_ERR_INVALID_TOKEN);

    org.state = PARLEY_ORG_DISCONTINUED;
    REQUIRE(parley_store_org_update(st, &org) == 0);
    char claims[256];
    snprintf(claims, sizeof(claims), good, dead_key.apikey);
    char *tok = signed_json(claims, dead_key.secret);
    REQUIRE(tok);
    parley_token_result r;
    CHECK(parley_token_check(st, tok, PARLEY_TOKEN_CTX_JOIN, now, &r) ==
          PARLEY_ERR_ACCOUNT_DISCONTINUED);
    CHECKF(strstr(r.detail, "Billing overdue") != NULL, "detail '%s'", r.detail);
    CHECK(!strcmp(r.org.message, org.message));
    parley_token_result_free(&r);
    org.state = PARLEY_ORG_ACTIVE;
    REQUIRE(parley_store_org_update(st, &org) == 0);
    CHECK(code_of(tok, PARLEY_TOKEN_CTX_JOIN) == 0);
    free(tok);
}

TEST(permission_errors_answer_4008)
{
    static const char *const bad[] = {
        "{\"apikey\":\"%s\"}",
        "{\"apikey\":\"%s\",\"permissions\":[]}",
        "{\"apikey\":\"%s\",\"permissions\":\"allow_join\"}",
        "{\"apikey\":\"%s\",\"permissions\":null}",
        "{\"apikey\":\"%s\",\"permissions\":{\"allow_join\":true}}",
        "{\"apikey\":\"%s\",\"permissions\":[\"allow_join\",\"superuser\"]}",
        "{\"apikey\":\"%s\",\"permissions\":[\"ALLOW_JOIN\"]}",
        "{\"apikey\":\"%s\",\"permissions\":[1]}",
        "{\"apikey\":\"%s\",\"permissions\":[\"ask_join\",\"allow_join\"]}",
        "{\"apikey\":\"%s\",\"permissions\":[\"ask_join\",\"allow_mod\"]}",
        "{\"apikey\":\"%s\",\"permissions\":[\"allow_mod\",\"ask_join\",\"allow_join\"]}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int join = json_code(bad[i], key.apikey, key.secret, PARLEY_TOKEN_CTX_JOIN);
        CHECKF(join == PARLEY_ERR_INVALID_PERMISSIONS, "%s answered %d", bad[i], join);
        int refresh = json_code(bad[i], key.apikey, key.secret, PARLEY_TOKEN_CTX_REFRESH);
        CHECKF(refresh == PARLEY_ERR_TOKEN_DATA_IS_NOT_VALID, "%s answered %d", bad[i], refresh);
    }
    static const char *const good[] = {
        "{\"apikey\":\"%s\",\"permissions\":[\"ask_join\"]}",
        "{\"apikey\":\"%s\",\"permissions\":[\"allow_join\",\"allow_mod\"]}",
        "{\"apikey\":\"%s\",\"permissions\":[\"allow_mod\"]}",
        "{\"apikey\":\"%s\",\"permissions\":[\"allow_join\",\"allow_join\"]}",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECKF(json_code(good[i], key.apikey, key.secret, PARLEY_TOKEN_CTX_JOIN) == 0, "%s", good[i]);
}

TEST(roles_answer_4024)
{
    const char *crawler = "{\"apikey\":\"%s\",\"permissions\":[\"allow_join\"],\"version\":2,"
                          "\"roles\":[\"crawler\"]}";
    const char *rtc = "{\"apikey\":\"%s\",\"permissions\":[\"allow_join\"],\"version\":2,"
                      "\"roles\":[\"rtc\"]}";
    CHECK(json_code(crawler, key.apikey, key.secret, PARLEY_TOKEN_CTX_JOIN) ==
          PARLEY_ERR_UNAUTHORIZED_ROLE);
    CHECK(json_code(crawler, key.apikey, key.secret, PARLEY_TOKEN_CTX_REFRESH) ==
          PARLEY_ERR_UNAUTHORIZED_ROLE);
    CHECK(json_code(crawler, key.apikey, key.secret, PARLEY_TOKEN_CTX_REST) == 0);
    CHECK(json_code(rtc, key.apikey, key.secret, PARLEY_TOKEN_CTX_JOIN) == 0);
    CHECK(json_code(rtc, key.apikey, key.secret, PARLEY_TOKEN_CTX_REST) ==
          PARLEY_ERR_UNAUTHORIZED_ROLE);
    CHECK(json_code("{\"apikey\":\"%s\",\"permissions\":[\"allow_join\"],\"version\":2,"
                    "\"roles\":[]}", key.apikey, key.secret, PARLEY_TOKEN_CTX_JOIN) ==
          PARLEY_ERR_UNAUTHORIZED_ROLE);
    CHECK(json_code("{\"apikey\":\"%s\",\"permissions\":[\"allow_join\"],\"version\":2,"
                    "\"roles\":\"rtc\"}", key.apikey, key.secret, PARLEY_TOKEN_CTX_JOIN) ==
          PARLEY_ERR_UNAUTHORIZED_ROLE);
    CHECK(json_code("{\"apikey\":\"%s\",\"permissions\":[\"allow_join\"],\"version\":2,"
                    "\"roles\":[\"rtc\",\"crawler\"]}", key.apikey, key.secret,
                    PARLEY_TOKEN_CTX_REST) == 0);
    /* Without version 2 roles do not take effect. */
    CHECK(json_code("{\"apikey\":\"%s\",\"permissions\":[\"allow_join\"],\"roles\":[\"crawler\"]}",
                    key.apikey, key.secret, PARLEY_TOKEN_CTX_JOIN) == 0);
    CHECK(json_code("{\"apikey\":\"%s\",\"permissions\":[\"allow_join\"],\"version\":1,"
                    "\"roles\":[\"crawler\"]}", key.apikey, key.secret, PARLEY_TOKEN_CTX_JOIN) == 0);
    /* Step 4 comes before step 5. */
    CHECK(json_code("{\"apikey\":\"%s\",\"permissions\":[\"bogus\"],\"version\":2,"
                    "\"roles\":[\"crawler\"]}", key.apikey, key.secret, PARLEY_TOKEN_CTX_JOIN) ==
          PARLEY_ERR_INVALID_PERMISSIONS);
}

TEST(bindings_of_room_participant_and_key)
{
    char *tok = signed_json("{\"apikey\":\"k\",\"permissions\":[\"allow_join\"],\"version\":2,"
                            "\"roomId\":\"room-one\",\"participantId\":\"alice\"}", "s3cr3t-s3cr3t-s3cr3t");
    REQUIRE(tok);
    parley_token_claims c;
    REQUIRE(parley_token_verify(tok, "s3cr3t-s3cr3t-s3cr3t", now, &c, NULL, NULL, 0) == 0);
    free(tok);
    CHECK(parley_token_check_room(&c, "abcd-efgh-ijkl", "room-one") == 0);
    CHECK(parley_token_check_room(&c, "room-one", NULL) == 0);
    CHECK(parley_token_check_room(&c, "abcd-efgh-ijkl", "other") == PARLEY_ERR_UNAUTHORIZED_MEETING_ID);
    CHECK(parley_token_check_room(&c, "abcd-efgh-ijkl", NULL) == PARLEY_ERR_UNAUTHORIZED_MEETING_ID);
    CHECK(parley_token_check_participant(&c, "alice") == 0);
    CHECK(parley_token_check_participant(&c, "bob") == PARLEY_ERR_UNAUTHORIZED_PARTCIPANT_ID);
    CHECK(parley_token_check_participant(&c, NULL) == PARLEY_ERR_UNAUTHORIZED_PARTCIPANT_ID);
    /* Version 1: the same claims bind nothing. */
    c.version = 1;
    CHECK(parley_token_check_room(&c, "abcd-efgh-ijkl", "other") == 0);
    CHECK(parley_token_check_participant(&c, "bob") == 0);
    CHECK(parley_token_bound_room(&c) == NULL && parley_token_bound_participant(&c) == NULL);
    parley_token_claims_free(&c);

    /* A non-string roomId binds to nothing at all. */
    tok = signed_json("{\"apikey\":\"k\",\"permissions\":[\"allow_join\"],\"version\":2,"
                      "\"roomId\":17}", "s3cr3t-s3cr3t-s3cr3t");
    REQUIRE(tok);
    REQUIRE(parley_token_verify(tok, "s3cr3t-s3cr3t-s3cr3t", now, &c, NULL, NULL, 0) == 0);
    free(tok);
    CHECK(parley_token_check_room(&c, "abcd-efgh-ijkl", "17") == PARLEY_ERR_UNAUTHORIZED_MEETING_ID);
    CHECK(parley_token_check_room(&c, "abcd-efgh-ijkl", "") == PARLEY_ERR_UNAUTHORIZED_MEETING_ID);
    parley_token_claims_free(&c);

    CHECK(parley_token_check_key_room(&key, "abcd-efgh-ijkl", NULL) == 0);
    CHECK(parley_token_check_key_room(&bound_key, "abcd-efgh-ijkl", "lobby") == 0);
    CHECK(parley_token_check_key_room(&bound_key, "lobby", NULL) == 0);
    CHECK(parley_token_check_key_room(&bound_key, "abcd-efgh-ijkl", "hall") ==
          PARLEY_ERR_UNAUTHORIZED_REQUEST);
}

TEST(list_names_and_parsing)
{
    unsigned m = 99;
    char err[64];
    CHECK(parley_token_flags_parse(PARLEY_TOKEN_PERMISSIONS, "allow_join,allow_mod", &m, err, sizeof(err)));
    CHECK(m == (PARLEY_PERM_ALLOW_JOIN | PARLEY_PERM_ALLOW_MOD));
    CHECK(parley_token_flags_parse(PARLEY_TOKEN_ROLES, "", &m, err, sizeof(err)) && m == 0);
    CHECK(!parley_token_flags_parse(PARLEY_TOKEN_ROLES, "rtc,admin", &m, err, sizeof(err)));
    CHECK(strstr(err, "admin") != NULL);
    CHECK(!parley_token_flags_parse(PARLEY_TOKEN_PUBLISH, "camera,", &m, err, sizeof(err)));
    CHECK(!parley_token_flags_parse(PARLEY_TOKEN_PUBLISH, ",camera", &m, err, sizeof(err)));
    CHECK(parley_token_flag(PARLEY_TOKEN_PUBLISH, "screen") == PARLEY_PUBLISH_SCREEN);
    CHECK(parley_token_flag(PARLEY_TOKEN_ROLES, "screen") == 0);
    CHECK(parley_token_flag((parley_token_list)7, "rtc") == 0);
    json_t *j = parley_token_flags_json(PARLEY_TOKEN_PERMISSIONS, PARLEY_PERM_ASK_JOIN);
    char *s = json_dumps(j, JSON_COMPACT);
    CHECK(s && !strcmp(s, "[\"ask_join\"]"));
    free(s);
    json_decref(j);
    /* Minting refuses what it cannot sign. */
    char *tok = (char *)1;
    parley_token_grant g = {.apikey = "k", .ttl = 1};
    CHECK(parley_token_mint(&g, "", now, &tok, err, sizeof(err)) != 0 && tok == NULL);
    g.apikey = NULL;
    CHECK(parley_token_mint(&g, "secret", now, &tok, err, sizeof(err)) != 0);
    g.apikey = "\xff\xfe";
    CHECK(parley_token_mint(&g, "secret", now, &tok, err, sizeof(err)) != 0);
}

static void setup(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        exit(1);
    }
    char err[256];
    if (parley_store_open(tmpdir, &st, err, sizeof(err)) != 0) {
        printf("Bail out! store: %s\n", err);
        exit(1);
    }
    const char *orgs[] = {"acme", "doomed"};
    for (int i = 0; i < 2; i++) {
        parley_org o;
        parley_org_init(&o, orgs[i]);
        if (parley_store_org_create(st, &o, NULL) != 0) {
            printf("Bail out! org: %s\n", parley_store_errmsg(st));
            exit(1);
        }
    }
    if (parley_store_key_create(st, "acme", NULL, &key) || parley_store_key_create(st, "acme", NULL, &key2) ||
        parley_store_key_create(st, "doomed", NULL, &dead_key) ||
        parley_store_key_create(st, "acme", NULL, &gone_key) ||
        parley_store_key_create(st, "acme", "lobby", &bound_key) ||
        parley_store_key_delete(st, gone_key.apikey)) {
        printf("Bail out! key: %s\n", parley_store_errmsg(st));
        exit(1);
    }
    now = time(NULL);
}

static void teardown(void)
{
    parley_store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        printf("# could not remove %s\n", tmpdir);
}

int main(void)
{
    setup();
    RUN(mint_and_verify_round_trip);
    RUN(wrong_secret_and_tampering_answer_4002);
    RUN(alg_none_is_refused);
    RUN(hs512_and_hs384_are_refused);
    RUN(expiry_with_leeway);
    RUN(not_before_in_the_future);
    RUN(malformed_strings);
    RUN(api_key_missing_or_unknown_answers_4001);
    RUN(organisation_state_answers_4006_4007);
    RUN(permission_errors_answer_4008);
    RUN(roles_answer_4024);
    RUN(bindings_of_room_participant_and_key);
    RUN(list_names_and_parsing);
    teardown();
    return tap_done();
}
