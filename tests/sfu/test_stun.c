/* test_stun.c - STUN parsing and building: the RFC 5769 sample messages
 * (their MESSAGE-INTEGRITY and FINGERPRINT must verify, and our builder must
 * reproduce them byte for byte), round trips of everything Parley builds, and
 * truncated or garbled datagrams refused with a reason. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "stun.h"
#include "../lib/tap.h"

/* RFC 5769 §2.1: sample request (short-term credentials). */
static const uint8_t req_vec[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

/* RFC 5769 §2.2: sample IPv4 response. */
static const uint8_t resp4_vec[] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* RFC 5769 §2.3: sample IPv6 response. */
static const uint8_t resp6_vec[] = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

static const char vec_pwd[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const uint8_t vec_txid[12] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

TEST(rfc5769_request)
{
    parley_stun_msg m;
    const char *why = NULL;
    REQUIRE(parley_stun_parse(req_vec, sizeof req_vec, &m, &why) == 0);
    CHECK(m.type == PARLEY_STUN_BINDING_REQUEST);
    CHECK(memcmp(m.txid, vec_txid, 12) == 0);
    CHECK(m.username_len == 9 && memcmp(m.username, "evtj:h6vY", 9) == 0);
    CHECK(m.has_priority && m.priority == 0x6e0001ff);
    CHECK(m.has_controlled && !m.has_controlling && m.tiebreaker == 0x932ff9b151263b36ull);
    CHECK(m.has_fingerprint && m.has_integrity && !m.use_candidate);
    CHECK(m.unknown_count == 0); /* SOFTWARE is comprehension-optional */
    CHECK(parley_stun_check_integrity(&m, vec_pwd, strlen(vec_pwd)));
    CHECK(!parley_stun_check_integrity(&m, "VOkJxbRl1RmTxUk/WvJxBT", 22));
}

TEST(rfc5769_request_rebuilt)
{
    uint8_t buf[256];
    parley_stun_builder b;
    parley_stun_begin(&b, buf, sizeof buf, PARLEY_STUN_BINDING_REQUEST, vec_txid);
    b.pad = ' '; /* the RFC's samples pad with spaces */
    parley_stun_add(&b, PARLEY_STUN_ATTR_SOFTWARE, "STUN test client", 16);
    parley_stun_add_u32(&b, PARLEY_STUN_ATTR_PRIORITY, 0x6e0001ff);
    parley_stun_add_u64(&b, PARLEY_STUN_ATTR_ICE_CONTROLLED, 0x932ff9b151263b36ull);
    parley_stun_add(&b, PARLEY_STUN_ATTR_USERNAME, "evtj:h6vY", 9);
    parley_stun_add_integrity(&b, vec_pwd, strlen(vec_pwd));
    parley_stun_add_fingerprint(&b);
    size_t n = parley_stun_finish(&b);
    CHECK(n == sizeof req_vec);
    CHECK(n == sizeof req_vec && memcmp(buf, req_vec, n) == 0);
}

TEST(rfc5769_ipv4_response)
{
    parley_stun_msg m;
    REQUIRE(parley_stun_parse(resp4_vec, sizeof resp4_vec, &m, NULL) == 0);
    CHECK(m.type == PARLEY_STUN_BINDING_SUCCESS);
    CHECK(parley_stun_check_integrity(&m, vec_pwd, strlen(vec_pwd)));
    REQUIRE(m.has_mapped && m.mapped.ss_family == AF_INET);
    struct sockaddr_in *s = (struct sockaddr_in *)&m.mapped;
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &s->sin_addr, ip, sizeof ip);
    CHECKF(strcmp(ip, "192.0.2.1") == 0, "%s", ip);
    CHECK(ntohs(s->sin_port) == 32853);

    /* rebuilt byte for byte */
    uint8_t buf[256];
    parley_stun_builder b;
    parley_stun_begin(&b, buf, sizeof buf, PARLEY_STUN_BINDING_SUCCESS, vec_txid);
    b.pad = ' ';
    parley_stun_add(&b, PARLEY_STUN_ATTR_SOFTWARE, "test vector", 11);
    parley_stun_add_xor_addr(&b, PARLEY_STUN_ATTR_XOR_MAPPED_ADDRESS, (struct sockaddr *)&m.mapped);
    parley_stun_add_integrity(&b, vec_pwd, strlen(vec_pwd));
    parley_stun_add_fingerprint(&b);
    size_t n = parley_stun_finish(&b);
    CHECK(n == sizeof resp4_vec && memcmp(buf, resp4_vec, n) == 0);
}

TEST(rfc5769_ipv6_response)
{
    parley_stun_msg m;
    REQUIRE(parley_stun_parse(resp6_vec, sizeof resp6_vec, &m, NULL) == 0);
    CHECK(parley_stun_check_integrity(&m, vec_pwd, strlen(vec_pwd)));
    REQUIRE(m.has_mapped && m.mapped.ss_family == AF_INET6);
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&m.mapped;
    char ip[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof ip);
    CHECKF(strcmp(ip, "2001:db8:1234:5678:11:2233:4455:6677") == 0, "%s", ip);
    CHECK(ntohs(s->sin6_port) == 32853);

    uint8_t buf[256];
    parley_stun_builder b;
    parley_stun_begin(&b, buf, sizeof buf, PARLEY_STUN_BINDING_SUCCESS, vec_txid);
    b.pad = ' ';
    parley_stun_add(&b, PARLEY_STUN_ATTR_SOFTWARE, "test vector", 11);
    parley_stun_add_xor_addr(&b, PARLEY_STUN_ATTR_XOR_MAPPED_ADDRESS, (struct sockaddr *)&m.mapped);
    parley_stun_add_integrity(&b, vec_pwd, strlen(vec_pwd));
    parley_stun_add_fingerprint(&b);
    size_t n = parley_stun_finish(&b);
    CHECK(n == sizeof resp6_vec && memcmp(buf, resp6_vec, n) == 0);
}

TEST(request_round_trip)
{
    uint8_t txid[12], buf[512];
    REQUIRE(parley_stun_new_txid(txid) == 0);
    parley_stun_request r = {.username = "abcd:wxyz", .password = "0123456789abcdefghijkl",
                             .priority = 1862270975u, .controlling = true,
                             .tiebreaker = 0x0102030405060708ull, .use_candidate = true};
    size_t n = parley_stun_binding_request(buf, sizeof buf, txid, &r);
    REQUIRE(n > 0 && n % 4 == 0);
    parley_stun_msg m;
    REQUIRE(parley_stun_parse(buf, n, &m, NULL) == 0);
    CHECK(m.type == PARLEY_STUN_BINDING_REQUEST && memcmp(m.txid, txid, 12) == 0);
    CHECK(m.username_len == 9 && memcmp(m.username, "abcd:wxyz", 9) == 0);
    CHECK(m.has_priority && m.priority == 1862270975u);
    CHECK(m.has_controlling && !m.has_controlled && m.tiebreaker == 0x0102030405060708ull);
    CHECK(m.use_candidate && m.has_fingerprint);
    CHECK(parley_stun_check_integrity(&m, r.password, strlen(r.password)));
    CHECK(!parley_stun_check_integrity(&m, "wrong", 5));
    /* too small a buffer: 0, never a partial message */
    CHECK(parley_stun_binding_request(buf, n - 1, txid, &r) == 0);
    CHECK(parley_stun_binding_request(buf, 10, txid, &r) == 0);
}

TEST(responses_round_trip)
{
    uint8_t txid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, buf[512];
    struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(50000)};
    inet_pton(AF_INET6, "2001:db8::42", &a6.sin6_addr);
    size_t n = parley_stun_binding_success(buf, sizeof buf, txid, (struct sockaddr *)&a6, "pw");
    parley_stun_msg m;
    REQUIRE(n > 0 && parley_stun_parse(buf, n, &m, NULL) == 0);
    CHECK(m.type == PARLEY_STUN_BINDING_SUCCESS && m.has_mapped && m.has_fingerprint);
    CHECK(memcmp(&((struct sockaddr_in6 *)&m.mapped)->sin6_addr, &a6.sin6_addr, 16) == 0);
    CHECK(((struct sockaddr_in6 *)&m.mapped)->sin6_port == a6.sin6_port);
    CHECK(parley_stun_check_integrity(&m, "pw", 2));

    int codes[] = {400, 401, 487};
    for (int i = 0; i < 3; i++) {
        const char *pw = codes[i] == 487 ? "pw" : NULL;
        n = parley_stun_binding_error(buf, sizeof buf, txid, codes[i], pw, NULL, 0);
        REQUIRE(n > 0 && parley_stun_parse(buf, n, &m, NULL) == 0);
        CHECK(m.type == PARLEY_STUN_BINDING_ERROR && m.has_error && m.error_code == codes[i]);
        CHECK(m.reason_len > 0 && m.has_fingerprint);
        CHECK(m.has_integrity == (pw != NULL));
        if (pw)
            CHECK(parley_stun_check_integrity(&m, pw, 2));
    }
    uint16_t unk[] = {0x7777};
    n = parley_stun_binding_error(buf, sizeof buf, txid, 420, "pw", unk, 1);
    REQUIRE(n > 0 && parley_stun_parse(buf, n, &m, NULL) == 0);
    CHECK(m.error_code == 420);
}

TEST(unknown_attributes_skipped)
{
    uint8_t buf[256], txid[12] = {0};
    parley_stun_builder b;
    parley_stun_begin(&b, buf, sizeof buf, PARLEY_STUN_BINDING_REQUEST, txid);
    parley_stun_add(&b, 0xC001, "xyz", 3);           /* optional, odd length */
    parley_stun_add(&b, 0x0033, "hello", 5);         /* required, unknown */
    parley_stun_add(&b, PARLEY_STUN_ATTR_USERNAME, "a:b", 3);
    parley_stun_add_fingerprint(&b);
    size_t n = parley_stun_finish(&b);
    parley_stun_msg m;
    REQUIRE(n > 0 && parley_stun_parse(buf, n, &m, NULL) == 0);
    CHECK(m.unknown_count == 1 && m.unknown[0] == 0x0033);
    CHECK(m.username_len == 3 && memcmp(m.username, "a:b", 3) == 0);
}

/* Every prefix of a valid message is refused, never read past. */
TEST(truncations_refused)
{
    const uint8_t *vecs[] = {req_vec, resp4_vec, resp6_vec};
    size_t lens[] = {sizeof req_vec, sizeof resp4_vec, sizeof resp6_vec};
    for (int v = 0; v < 3; v++) {
        for (size_t n = 0; n < lens[v]; n++) {
            uint8_t *copy = malloc(n ? n : 1); /* exact size, so ASan sees any overread */
            memcpy(copy, vecs[v], n);
            parley_stun_msg m;
            const char *why = NULL;
            CHECKF(parley_stun_parse(copy, n, &m, &why) == -1 && why, "vector %d length %zu", v, n);
            free(copy);
        }
    }
}

static int parse_why(const uint8_t *d, size_t n, const char *want)
{
    parley_stun_msg m;
    const char *why = NULL;
    int r = parley_stun_parse(d, n, &m, &why);
    if (r == 0 || !why || strcmp(why, want) != 0) {
        printf("#   wanted \"%s\", got r=%d \"%s\"\n", want, r, why ? why : "(none)");
        return 0;
    }
    return 1;
}

TEST(garbled_refused)
{
    uint8_t d[sizeof req_vec];

    memcpy(d, req_vec, sizeof d);
    d[4] ^= 1;
    CHECK(parse_why(d, sizeof d, "bad magic cookie"));

    memcpy(d, req_vec, sizeof d);
    d[0] |= 0x80;
    CHECK(parse_why(d, sizeof d, "not STUN (top bits set)"));

    memcpy(d, req_vec, sizeof d);
    d[3] = 0x59; /* not a multiple of four */
    CHECK(parse_why(d, sizeof d, "length not a multiple of 4"));

    memcpy(d, req_vec, sizeof d);
    d[3] = 0x54; /* claims less than there is */
    CHECK(parse_why(d, sizeof d, "trailing bytes after message"));

    memcpy(d, req_vec, sizeof d);
    d[3] = 0x5c; /* claims more than there is */
    CHECK(parse_why(d, sizeof d, "truncated message"));

    memcpy(d, req_vec, sizeof d);
    d[sizeof d - 1] ^= 1;
    CHECK(parse_why(d, sizeof d, "bad fingerprint"));

    memcpy(d, req_vec, sizeof d);
    d[23] = 0xff; /* SOFTWARE length runs past the end */
    CHECK(parse_why(d, sizeof d, "attribute runs past the message"));

    memcpy(d, req_vec, sizeof d);
    d[46] = 0x00, d[47] = 0x05; /* PRIORITY of length 5 (padded: 8, eats the next header) */
    {
        parley_stun_msg m;
        CHECK(parley_stun_parse(d, sizeof d, &m, NULL) == -1);
    }

    /* a tampered message still parses but no longer verifies */
    memcpy(d, req_vec, sizeof d);
    d[44] ^= 1; /* PRIORITY value */
    parley_stun_msg m;
    CHECK(parley_stun_parse(d, sizeof d, &m, NULL) == -1); /* the fingerprint catches it first */

    /* XOR-MAPPED-ADDRESS with a bad family */
    uint8_t r4[sizeof resp4_vec];
    memcpy(r4, resp4_vec, sizeof r4);
    r4[41] = 0x03;
    r4[sizeof r4 - 8] = 0x00, r4[sizeof r4 - 7] = 0x00; /* turn FINGERPRINT into an ignored attribute */
    CHECK(parse_why(r4, sizeof r4, "bad XOR-MAPPED-ADDRESS"));

    CHECK(parse_why(NULL, 0, "truncated header"));
    CHECK(!parley_stun_looks_like((const uint8_t *)"\x16\xfe\xfd", 3));
    CHECK(parley_stun_looks_like(req_vec, sizeof req_vec));
}

TEST(integrity_ignores_later_attributes)
{
    /* attributes between MESSAGE-INTEGRITY and FINGERPRINT are ignored */
    uint8_t buf[256], txid[12] = {9};
    parley_stun_builder b;
    parley_stun_begin(&b, buf, sizeof buf, PARLEY_STUN_BINDING_REQUEST, txid);
    parley_stun_add(&b, PARLEY_STUN_ATTR_USERNAME, "a:b", 3);
    parley_stun_add_integrity(&b, "k", 1);
    parley_stun_add(&b, PARLEY_STUN_ATTR_USE_CANDIDATE, NULL, 0);
    parley_stun_add_fingerprint(&b);
    size_t n = parley_stun_finish(&b);
    parley_stun_msg m;
    REQUIRE(n > 0 && parley_stun_parse(buf, n, &m, NULL) == 0);
    CHECK(!m.use_candidate);
    CHECK(parley_stun_check_integrity(&m, "k", 1));
}

TEST(first_of_repeated_counts)
{
    uint8_t buf[256], txid[12] = {3};
    parley_stun_builder b;
    parley_stun_begin(&b, buf, sizeof buf, PARLEY_STUN_BINDING_REQUEST, txid);
    parley_stun_add(&b, PARLEY_STUN_ATTR_USERNAME, "first:x", 7);
    parley_stun_add(&b, PARLEY_STUN_ATTR_USERNAME, "second:y", 8);
    parley_stun_add_u32(&b, PARLEY_STUN_ATTR_PRIORITY, 1);
    parley_stun_add_u32(&b, PARLEY_STUN_ATTR_PRIORITY, 2);
    parley_stun_add_fingerprint(&b);
    size_t n = parley_stun_finish(&b);
    parley_stun_msg m;
    REQUIRE(n > 0 && parley_stun_parse(buf, n, &m, NULL) == 0);
    CHECK(m.username_len == 7 && memcmp(m.username, "first:x", 7) == 0);
    CHECK(m.priority == 1);
}

int main(void)
{
    RUN(rfc5769_request);
    RUN(rfc5769_request_rebuilt);
    RUN(rfc5769_ipv4_response);
    RUN(rfc5769_ipv6_response);
    RUN(request_round_trip);
    RUN(responses_round_trip);
    RUN(unknown_attributes_skipped);
    RUN(truncations_refused);
    RUN(garbled_refused);
    RUN(integrity_ignores_later_attributes);
    RUN(first_of_repeated_counts);
    return tap_done();
}
