/* stun.c - STUN parsing and building for Parley's ICE (see stun.h).
 *
 * Every read goes through rd16/rd32 on offsets already checked against the
 * message length, which itself was checked against the datagram length, so a
 * truncated or lying datagram is refused rather than read past. */
#include <pthread.h>
#include <string.h>

#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <zlib.h>

#include "stun.h"

#define FINGERPRINT_XOR 0x5354554eu
#define HMAC_LEN 20

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t fingerprint(const uint8_t *p, size_t n)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n) ^ FINGERPRINT_XOR;
}

bool parley_stun_looks_like(const uint8_t *buf, size_t len)
{
    return buf && len >= PARLEY_STUN_HEADER_LEN && (buf[0] & 0xC0) == 0 &&
           rd32(buf + 4) == PARLEY_STUN_MAGIC;
}

/* Decode an XOR'd address value; false when malformed. */
static bool xor_addr(const uint8_t *v, size_t n, const uint8_t *header, struct sockaddr_storage *out)
{
    if (n < 4 || v[0] != 0)
        return false;
    uint16_t port = rd16(v + 2) ^ (uint16_t)(PARLEY_STUN_MAGIC >> 16);
    memset(out, 0, sizeof *out);
    if (v[1] == 0x01 && n == 8) {
        struct sockaddr_in *sin = (struct sockaddr_in *)out;
        sin->sin_family = AF_INET;
        sin->sin_port = htons(port);
        uint32_t a = rd32(v + 4) ^ PARLEY_STUN_MAGIC;
        sin->sin_addr.s_addr = htonl(a);
        return true;
    }
    if (v[1] == 0x02 && n == 20) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons(port);
        for (int i = 0; i < 16; i++)
            sin6->sin6_addr.s6_addr[i] = v[4 + i] ^ header[4 + i]; /* cookie + txid */
        return true;
    }
    return false;
}

static int fail(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return -1;
}

int parley_stun_parse(const uint8_t *buf, size_t len, parley_stun_msg *m, const char **why)
{
    memset(m, 0, sizeof *m);
    if (!buf || len < PARLEY_STUN_HEADER_LEN)
        return fail(why, "truncated header");
    if (buf[0] & 0xC0)
        return fail(why, "not STUN (top bits set)");
    if (rd32(buf + 4) != PARLEY_STUN_MAGIC)
        return fail(why, "bad magic cookie");
    size_t body = rd16(buf + 2);
    if (body % 4)
        return fail(why, "length not a multiple of 4");
    if (PARLEY_STUN_HEADER_LEN + body > len)
        return fail(why, "truncated message");
    if (PARLEY_STUN_HEADER_LEN + body < len)
        return fail(why, "trailing bytes after message");
    m->type = rd16(buf);
    memcpy(m->txid, buf + 8, PARLEY_STUN_TXID_LEN);
    m->raw = buf;
    m->len = len;

    size_t off = PARLEY_STUN_HEADER_LEN;
    while (off < len) {
        if (len - off < 4)
            return fail(why, "truncated attribute header");
        uint16_t type = rd16(buf + off);
        size_t alen = rd16(buf + off + 2);
        size_t padded = (alen + 3) & ~(size_t)3;
        if (padded > len - off - 4)
            return fail(why, "attribute runs past the message");
        const uint8_t *v = buf + off + 4;
        if (m->has_fingerprint)
            return fail(why, "attribute after FINGERPRINT");
        if (type == PARLEY_STUN_ATTR_FINGERPRINT) {
            if (alen != 4)
                return fail(why, "bad FINGERPRINT length");
            if (off + 8 != len)
                return fail(why, "FINGERPRINT not last");
            if (rd32(v) != fingerprint(buf, off))
                return fail(why, "bad fingerprint");
            m->has_fingerprint = true;
        } else if (m->has_integrity) {
            /* ignored: only FINGERPRINT may follow MESSAGE-INTEGRITY */
        } else {
            switch (type) {
            case PARLEY_STUN_ATTR_USERNAME:
                if (alen == 0 || alen > PARLEY_STUN_USERNAME_MAX)
                    return fail(why, "bad USERNAME length");
                if (m->username)
                    break; /* only the first of a kind counts */
                m->username = (const char *)v;
                m->username_len = alen;
                break;
            case PARLEY_STUN_ATTR_MESSAGE_INTEGRITY:
                if (alen != HMAC_LEN)
                    return fail(why, "bad MESSAGE-INTEGRITY length");
                m->has_integrity = true;
                m->integrity_at = off;
                break;
            case PARLEY_STUN_ATTR_PRIORITY:
                if (alen != 4)
                    return fail(why, "bad PRIORITY length");
                if (m->has_priority)
                    break;
                m->has_priority = true;
                m->priority = rd32(v);
                break;
            case PARLEY_STUN_ATTR_USE_CANDIDATE:
                if (alen != 0)
                    return fail(why, "bad USE-CANDIDATE length");
                m->use_candidate = true;
                break;
            case PARLEY_STUN_ATTR_ICE_CONTROLLING:
            case PARLEY_STUN_ATTR_ICE_CONTROLLED:
                if (alen != 8)
                    return fail(why, "bad ICE role length");
                if (m->has_controlling || m->has_controlled)
                    break;
                if (type == PARLEY_STUN_ATTR_ICE_CONTROLLING)
                    m->has_controlling = true;
                else
                    m->has_controlled = true;
                m->tiebreaker = (uint64_t)rd32(v) << 32 | rd32(v + 4);
                break;
            case PARLEY_STUN_ATTR_XOR_MAPPED_ADDRESS:
                if (m->has_mapped)
                    break;
                if (!xor_addr(v, alen, buf, &m->mapped))
                    return fail(why, "bad XOR-MAPPED-ADDRESS");
                m->has_mapped = true;
                break;
            case PARLEY_STUN_ATTR_ERROR_CODE: {
                if (alen < 4 || alen - 4 > PARLEY_STUN_REASON_MAX)
                    return fail(why, "bad ERROR-CODE length");
                int cls = v[2] & 0x07, num = v[3];
                if (cls < 3 || cls > 6 || num > 99)
                    return fail(why, "bad ERROR-CODE value");
                if (m->has_error)
                    break;
                m->has_error = true;
                m->error_code = cls * 100 + num;
                m->reason = (const char *)v + 4;
                m->reason_len = alen - 4;
                break;
            }
            default:
                if (type < 0x8000 && m->unknown_count < PARLEY_STUN_MAX_UNKNOWN)
                    m->unknown[m->unknown_count++] = type;
                break;
            }
        }
        off += 4 + padded;
    }
    return 0;
}

/* OpenSSL's HMAC, fetched once for the process (fetching costs more than
 * the HMAC of a STUN message). */
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;
static EVP_MAC *hmac_impl;

static void hmac_fetch(void)
{
    hmac_impl = EVP_MAC_fetch(NULL, "HMAC", NULL);
}

/* HMAC-SHA1 over buf[0, at) with the header length set as if the message
 * ended right after the MESSAGE-INTEGRITY attribute at offset at. */
static bool integrity_hmac(const uint8_t *buf, size_t at, const void *key, size_t keylen,
                           uint8_t out[HMAC_LEN])
{
    uint8_t head[4];
    memcpy(head, buf, 2);
    wr16(head + 2, (uint16_t)(at - PARLEY_STUN_HEADER_LEN + 4 + HMAC_LEN));
    bool ok = false;
    pthread_once(&hmac_once, hmac_fetch);
    EVP_MAC_CTX *h = hmac_impl ? EVP_MAC_CTX_new(hmac_impl) : NULL;
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA1", 0), OSSL_PARAM_construct_end()};
    size_t n = 0;
    if (h && EVP_MAC_init(h, key, keylen, params) && EVP_MAC_update(h, head, 4) &&
        EVP_MAC_update(h, buf + 4, at - 4) && EVP_MAC_final(h, out, &n, HMAC_LEN) && n == HMAC_LEN)
        ok = true;
    EVP_MAC_CTX_free(h);
    return ok;
}

bool parley_stun_check_integrity(const parley_stun_msg *m, const void *key, size_t keylen)
{
    if (!m->has_integrity || !key)
        return false;
    uint8_t mac[HMAC_LEN];
    if (!integrity_hmac(m->raw, m->integrity_at, key, keylen, mac))
        return false;
    return CRYPTO_memcmp(mac, m->raw + m->integrity_at + 4, HMAC_LEN) == 0;
}

void parley_stun_begin(parley_stun_builder *b, uint8_t *buf, size_t cap, uint16_t type,
                       const uint8_t txid[PARLEY_STUN_TXID_LEN])
{
    b->buf = buf;
    b->cap = cap;
    b->len = 0;
    b->pad = 0;
    b->overflow = !buf || cap < PARLEY_STUN_HEADER_LEN;
    if (b->overflow)
        return;
    wr16(buf, type);
    wr16(buf + 2, 0);
    wr32(buf + 4, PARLEY_STUN_MAGIC);
    memcpy(buf + 8, txid, PARLEY_STUN_TXID_LEN);
    b->len = PARLEY_STUN_HEADER_LEN;
}

/* Reserve an attribute of value length n; returns its value or NULL. The
 * header length is kept current so integrity and fingerprint see it. */
static uint8_t *reserve(parley_stun_builder *b, uint16_t attr, size_t n)
{
    size_t padded = (n + 3) & ~(size_t)3;
    if (b->overflow || n > 0xFFFF || b->cap - b->len < 4 + padded ||
        b->len + 4 + padded - PARLEY_STUN_HEADER_LEN > 0xFFFF) {
        b->overflow = true;
        return NULL;
    }
    uint8_t *p = b->buf + b->len;
    wr16(p, attr);
    wr16(p + 2, (uint16_t)n);
    memset(p + 4 + n, b->pad, padded - n);
    b->len += 4 + padded;
    wr16(b->buf + 2, (uint16_t)(b->len - PARLEY_STUN_HEADER_LEN));
    return p + 4;
}

void parley_stun_add(parley_stun_builder *b, uint16_t attr, const void *value, size_t len)
{
    uint8_t *p = reserve(b, attr, len);
    if (p && len)
        memcpy(p, value, len);
}

void parley_stun_add_u32(parley_stun_builder *b, uint16_t attr, uint32_t v)
{
    uint8_t *p = reserve(b, attr, 4);
    if (p)
        wr32(p, v);
}

void parley_stun_add_u64(parley_stun_builder *b, uint16_t attr, uint64_t v)
{
    uint8_t *p = reserve(b, attr, 8);
    if (p) {
        wr32(p, (uint32_t)(v >> 32));
        wr32(p + 4, (uint32_t)v);
    }
}

void parley_stun_add_xor_addr(parley_stun_builder *b, uint16_t attr, const struct sockaddr *sa)
{
    if (!sa || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)) {
        b->overflow = true; /* nothing sensible to write: fail the message */
        return;
    }
    bool v4 = sa->sa_family == AF_INET;
    uint8_t *p = reserve(b, attr, v4 ? 8 : 20);
    if (!p)
        return;
    p[0] = 0;
    p[1] = v4 ? 0x01 : 0x02;
    if (v4) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
        wr16(p + 2, ntohs(sin->sin_port) ^ (uint16_t)(PARLEY_STUN_MAGIC >> 16));
        wr32(p + 4, ntohl(sin->sin_addr.s_addr) ^ PARLEY_STUN_MAGIC);
    } else {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
        wr16(p + 2, ntohs(sin6->sin6_port) ^ (uint16_t)(PARLEY_STUN_MAGIC >> 16));
        for (int i = 0; i < 16; i++)
            p[4 + i] = sin6->sin6_addr.s6_addr[i] ^ b->buf[4 + i];
    }
}

void parley_stun_add_error(parley_stun_builder *b, int code, const char *reason)
{
    if (code < 300 || code > 699) {
        b->overflow = true;
        return;
    }
    size_t rlen = reason ? strlen(reason) : 0;
    if (rlen > PARLEY_STUN_REASON_MAX)
        rlen = PARLEY_STUN_REASON_MAX;
    uint8_t *p = reserve(b, PARLEY_STUN_ATTR_ERROR_CODE, 4 + rlen);
    if (!p)
        return;
    p[0] = p[1] = 0;
    p[2] = (uint8_t)(code / 100);
    p[3] = (uint8_t)(code % 100);
    if (rlen)
        memcpy(p + 4, reason, rlen);
}

void parley_stun_add_integrity(parley_stun_builder *b, const void *key, size_t keylen)
{
    size_t at = b->len;
    uint8_t *p = reserve(b, PARLEY_STUN_ATTR_MESSAGE_INTEGRITY, HMAC_LEN);
    if (p && !integrity_hmac(b->buf, at, key, keylen, p))
        b->overflow = true;
}

void parley_stun_add_fingerprint(parley_stun_builder *b)
{
    size_t at = b->len;
    uint8_t *p = reserve(b, PARLEY_STUN_ATTR_FINGERPRINT, 4);
    if (p)
        wr32(p, fingerprint(b->buf, at));
}

size_t parley_stun_finish(const parley_stun_builder *b)
{
    return b->overflow ? 0 : b->len;
}

int parley_stun_new_txid(uint8_t txid[PARLEY_STUN_TXID_LEN])
{
    return RAND_bytes(txid, PARLEY_STUN_TXID_LEN) == 1 ? 0 : -1;
}

size_t parley_stun_binding_request(uint8_t *buf, size_t cap, const uint8_t txid[PARLEY_STUN_TXID_LEN],
                                   const parley_stun_request *r)
{
    parley_stun_builder b;
    parley_stun_begin(&b, buf, cap, PARLEY_STUN_BINDING_REQUEST, txid);
    if (!r->username || !r->password)
        return 0;
    parley_stun_add(&b, PARLEY_STUN_ATTR_USERNAME, r->username, strlen(r->username));
    parley_stun_add_u32(&b, PARLEY_STUN_ATTR_PRIORITY, r->priority);
    parley_stun_add_u64(&b, r->controlling ? PARLEY_STUN_ATTR_ICE_CONTROLLING : PARLEY_STUN_ATTR_ICE_CONTROLLED,
                        r->tiebreaker);
    if (r->use_candidate)
        parley_stun_add(&b, PARLEY_STUN_ATTR_USE_CANDIDATE, NULL, 0);
    parley_stun_add_integrity(&b, r->password, strlen(r->password));
    parley_stun_add_fingerprint(&b);
    return parley_stun_finish(&b);
}

size_t parley_stun_binding_success(uint8_t *buf, size_t cap, const uint8_t txid[PARLEY_STUN_TXID_LEN],
                                   const struct sockaddr *from, const char *pwd)
{
    parley_stun_builder b;
    parley_stun_begin(&b, buf, cap, PARLEY_STUN_BINDING_SUCCESS, txid);
    if (!pwd)
        return 0;
    parley_stun_add_xor_addr(&b, PARLEY_STUN_ATTR_XOR_MAPPED_ADDRESS, from);
    parley_stun_add_integrity(&b, pwd, strlen(pwd));
    parley_stun_add_fingerprint(&b);
    return parley_stun_finish(&b);
}

static const char *reason_for(int code)
{
    switch (code) {
    case 400: return "Bad Request";
    case 401: return "Unauthenticated";
    case 420: return "Unknown Attribute";
    case 487: return "Role Conflict";
    default: return "Error";
    }
}

size_t parley_stun_binding_error(uint8_t *buf, size_t cap, const uint8_t txid[PARLEY_STUN_TXID_LEN],
                                 int code, const char *pwd, const uint16_t *unknown, int n_unknown)
{
    parley_stun_builder b;
    parley_stun_begin(&b, buf, cap, PARLEY_STUN_BINDING_ERROR, txid);
    parley_stun_add_error(&b, code, reason_for(code));
    if (unknown && n_unknown > 0) {
        uint8_t list[2 * PARLEY_STUN_MAX_UNKNOWN];
        int n = n_unknown < PARLEY_STUN_MAX_UNKNOWN ? n_unknown : PARLEY_STUN_MAX_UNKNOWN;
        for (int i = 0; i < n; i++)
            wr16(list + 2 * i, unknown[i]);
        parley_stun_add(&b, PARLEY_STUN_ATTR_UNKNOWN_ATTRIBUTES, list, 2 * (size_t)n);
    }
    if (pwd)
        parley_stun_add_integrity(&b, pwd, strlen(pwd));
    parley_stun_add_fingerprint(&b);
    return parley_stun_finish(&b);
}
