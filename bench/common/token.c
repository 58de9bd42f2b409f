/* token.c - HS256 tokens for runs that were given an API key instead of a token.
 *
 * The claims are the least a join needs (docs/protocol.md §1): apikey,
 * permissions ["allow_join"], version 2, iat and exp. The `parley token`
 * command is the usual source; this keeps the generator usable without it. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "bench.h"

static char *b64url(const unsigned char *in, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = malloc(n / 3 * 4 + 5);
    if (!out)
        return NULL;
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
        out[o++] = tbl[v >> 6 & 63];
        out[o++] = tbl[v & 63];
    }
    if (n - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
    } else if (n - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
        out[o++] = tbl[v >> 6 & 63];
    }
    out[o] = '\0';
    return out;
}

static char *b64url_json(json_t *v)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(v);
    if (!text)
        return NULL;
    char *out = b64url((const unsigned char *)text, strlen(text));
    free(text);
    return out;
}

char *lg_token_mint(const char *apikey, const char *secret, long ttl_s)
{
    json_int_t now = (json_int_t)time(NULL);
    char *head = b64url_json(json_pack("{s:s, s:s}", "alg", "HS256", "typ", "JWT"));
    char *body = b64url_json(json_pack("{s:s, s:[s], s:i, s:I, s:I}", "apikey", apikey,
        "permissions", "allow_join", "version", 2, "iat", now, "exp", now + (json_int_t)ttl_s));
    char *token = NULL, *sig = NULL;
    if (!head || !body)
        goto out;
    size_t hl = strlen(head), bl = strlen(body);
    token = malloc(hl + bl + 2 + 64);
    if (!token)
        goto out;
    memcpy(token, head, hl);
    token[hl] = '.';
    memcpy(token + hl + 1, body, bl + 1);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)token, hl + 1 + bl, mac, &maclen)) {
        free(token);
        token = NULL;
        goto out;
    }
    sig = b64url(mac, maclen);
    if (!sig) {
        free(token);
        token = NULL;
        goto out;
    }
    token[hl + 1 + bl] = '.';
    strcpy(token + hl + 2 + bl, sig);
out:
    free(head);
    free(body);
    free(sig);
    return token;
}
