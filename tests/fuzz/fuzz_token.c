/* fuzz_token.c - libFuzzer target for token parsing and checking.
 *
 * The first input byte picks the mode:
 *   even  the rest is a token string, checked as a join would check it
 *         (unsigned, forged and malformed tokens: every one must be refused
 *         with a catalog code, never crash);
 *   odd   the rest is a JWT payload, signed here with the test key's secret,
 *         so that claims parsing and the claim rules behind a valid
 *         signature are reached too.
 * A store in a temporary directory holds one organisation and the key. */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "token.h"

#define APIKEY "fuzz-key"
#define SECRET "fuzz-secret-0123456789abcdef0123456789abcdef"

static parley_store *store;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char dir[] = "/tmp/parley-fuzz-token-XXXXXX";
    char err[256];
    parley_org org;
    if (!mkdtemp(dir) || parley_store_open(dir, &store, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_token: cannot open a store: %s\n", err);
        abort();
    }
    parley_org_init(&org, "fuzz");
    if (parley_store_org_create(store, &org, NULL) != 0 ||
        parley_store_key_import(store, "fuzz", APIKEY, SECRET, NULL, NULL) != 0) {
        fprintf(stderr, "fuzz_token: cannot set up the key: %s\n", parley_store_errmsg(store));
        abort();
    }
    return 0;
}

/* base64url without padding into out (which holds 4/3 n + 4). */
static size_t b64url(const uint8_t *in, size_t n, char *out)
{
    int len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
    while (len > 0 && out[len - 1] == '=')
        len--;
    for (int i = 0; i < len; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    out[len] = '\0';
    return (size_t)len;
}

static char *sign_payload(const uint8_t *payload, size_t n)
{
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    char *tok = malloc(2 * n + 256);
    if (!tok)
        return NULL;
    size_t len = b64url((const uint8_t *)header, sizeof header - 1, tok);
    tok[len++] = '.';
    len += b64url(payload, n, tok + len);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned maclen = 0;
    HMAC(EVP_sha256(), SECRET, (int)strlen(SECRET), (unsigned char *)tok, len, mac, &maclen);
    tok[len++] = '.';
    b64url(mac, maclen, tok + len);
    return tok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    char *token;
    if (data[0] & 1) {
        token = sign_payload(data + 1, size - 1);
    } else {
        token = malloc(size);
        if (token) {
            memcpy(token, data + 1, size - 1);
            token[size - 1] = '\0';
        }
    }
    if (!token)
        return 0;

    static const parley_token_context ctxs[] = {PARLEY_TOKEN_CTX_JOIN, PARLEY_TOKEN_CTX_REFRESH,
                                                PARLEY_TOKEN_CTX_REST};
    for (size_t i = 0; i < sizeof ctxs / sizeof ctxs[0]; i++) {
        parley_token_result r;
        int code = parley_token_check(store, token, ctxs[i], 1700000000, &r);
        if (code != 0 && code != r.code)
            abort(); /* the returned code and the result must agree */
        if (code == 0) {
            (void)parley_token_bound_room(&r.claims);
            (void)parley_token_bound_participant(&r.claims);
            (void)parley_token_publish_grant(&r.claims);
        }
        parley_token_result_free(&r);
    }
    char *apikey = parley_token_peek_apikey(token);
    free(apikey);
    free(token);
    return 0;
}
