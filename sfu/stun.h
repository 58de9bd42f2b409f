/* stun.h - STUN messages (RFC 8489, formerly 5389) as Parley's ICE uses them.
 *
 * Parsing: parley_stun_parse() checks a whole datagram (header, magic cookie,
 * length, every attribute's bounds and padding, FINGERPRINT when present) and
 * fills a parley_stun_msg whose strings point into the datagram. A malformed
 * datagram is refused with a static reason string; nothing is ever read
 * outside [buf, buf + len). Attributes after MESSAGE-INTEGRITY other than
 * FINGERPRINT are ignored, anything after FINGERPRINT is an error; of a
 * repeated attribute only the first counts. Unknown attributes are skipped;
 * unknown comprehension-required ones (< 0x8000) are listed so a server may
 * answer 420.
 *
 * Building: a parley_stun_builder writes into a caller's buffer; when the
 * buffer is too small the builder remembers it and parley_stun_finish()
 * returns 0. MESSAGE-INTEGRITY is HMAC-SHA1 (OpenSSL) with the short-term
 * credential key (the password as given), FINGERPRINT is zlib's CRC-32 XOR
 * 0x5354554e.
 *
 * Ownership: a parsed message borrows the datagram it was parsed from (keep
 * the datagram alive while using it); builders borrow the caller's buffer.
 * No function allocates; all are thread-safe. */
#ifndef PARLEY_SFU_STUN_H
#define PARLEY_SFU_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PARLEY_STUN_HEADER_LEN 20
#define PARLEY_STUN_MAGIC 0x2112A442u
#define PARLEY_STUN_TXID_LEN 12
#define PARLEY_STUN_MAX_UNKNOWN 8

/* Message types (method binding with its four classes). */
#define PARLEY_STUN_BINDING_REQUEST 0x0001
#define PARLEY_STUN_BINDING_INDICATION 0x0011
#define PARLEY_STUN_BINDING_SUCCESS 0x0101
#define PARLEY_STUN_BINDING_ERROR 0x0111

/* Attribute types. */
#define PARLEY_STUN_ATTR_USERNAME 0x0006
#define PARLEY_STUN_ATTR_MESSAGE_INTEGRITY 0x0008
#define PARLEY_STUN_ATTR_ERROR_CODE 0x0009
#define PARLEY_STUN_ATTR_UNKNOWN_ATTRIBUTES 0x000A
#define PARLEY_STUN_ATTR_XOR_MAPPED_ADDRESS 0x0020
#define PARLEY_STUN_ATTR_PRIORITY 0x0024
#define PARLEY_STUN_ATTR_USE_CANDIDATE 0x0025
#define PARLEY_STUN_ATTR_SOFTWARE 0x8022
#define PARLEY_STUN_ATTR_FINGERPRINT 0x8028
#define PARLEY_STUN_ATTR_ICE_CONTROLLED 0x8029
#define PARLEY_STUN_ATTR_ICE_CONTROLLING 0x802A

#define PARLEY_STUN_USERNAME_MAX 513 /* bytes, RFC 8489 §14.3 */
#define PARLEY_STUN_REASON_MAX 763   /* bytes, RFC 8489 §14.8 */

typedef struct parley_stun_msg {
    uint16_t type;                          /* e.g. PARLEY_STUN_BINDING_REQUEST */
    uint8_t txid[PARLEY_STUN_TXID_LEN];
    const uint8_t *raw;                     /* the datagram (borrowed) */
    size_t len;                             /* 20 + the header's length */

    const char *username;                   /* not NUL-terminated; NULL if absent */
    size_t username_len;
    bool has_integrity;                     /* MESSAGE-INTEGRITY present */
    size_t integrity_at;                    /* offset of its attribute header */
    bool has_fingerprint;                   /* present (and parse checked it) */
    bool has_priority;
    uint32_t priority;
    bool use_candidate;
    bool has_controlling, has_controlled;
    uint64_t tiebreaker;                    /* of ICE-CONTROLLING/-CONTROLLED */
    bool has_mapped;                        /* XOR-MAPPED-ADDRESS, decoded */
    struct sockaddr_storage mapped;
    bool has_error;
    int error_code;                         /* 300..699 */
    const char *reason;                     /* not NUL-terminated */
    size_t reason_len;
    int unknown_count;                      /* comprehension-required, unknown */
    uint16_t unknown[PARLEY_STUN_MAX_UNKNOWN];
} parley_stun_msg;

/* True when buf looks like STUN: first two bits zero, 20 bytes or more, the
 * magic cookie. A cheap test for demultiplexing, not a validation. */
bool parley_stun_looks_like(const uint8_t *buf, size_t len);
/* Parse and check a datagram. 0 on success; -1 with *why set to a static
 * reason ("truncated header", "bad fingerprint", ...) when refused. */
int parley_stun_parse(const uint8_t *buf, size_t len, parley_stun_msg *m, const char **why);
/* Verify MESSAGE-INTEGRITY with key (the short-term password); false when
 * absent or wrong. Constant-time compare. */
bool parley_stun_check_integrity(const parley_stun_msg *m, const void *key, size_t keylen);

typedef struct parley_stun_builder {
    uint8_t *buf;
    size_t cap, len;
    bool overflow;
    uint8_t pad;                            /* padding byte, 0 unless set */
} parley_stun_builder;

/* Start a message of the given type and transaction id in buf[cap]. */
void parley_stun_begin(parley_stun_builder *b, uint8_t *buf, size_t cap, uint16_t type,
                       const uint8_t txid[PARLEY_STUN_TXID_LEN]);
/* Append an attribute with its value (padded to 4 bytes). */
void parley_stun_add(parley_stun_builder *b, uint16_t attr, const void *value, size_t len);
void parley_stun_add_u32(parley_stun_builder *b, uint16_t attr, uint32_t v);
void parley_stun_add_u64(parley_stun_builder *b, uint16_t attr, uint64_t v);
/* XOR-MAPPED-ADDRESS (or another XOR'd address type) for AF_INET/AF_INET6. */
void parley_stun_add_xor_addr(parley_stun_builder *b, uint16_t attr, const struct sockaddr *sa);
/* ERROR-CODE: code 300..699 and a reason phrase (may be NULL). */
void parley_stun_add_error(parley_stun_builder *b, int code, const char *reason);
/* MESSAGE-INTEGRITY over everything so far, then FINGERPRINT. */
void parley_stun_add_integrity(parley_stun_builder *b, const void *key, size_t keylen);
void parley_stun_add_fingerprint(parley_stun_builder *b);
/* The message's length, or 0 if it did not fit. */
size_t parley_stun_finish(const parley_stun_builder *b);

/* What a binding request carries (the controlling side: the C SDK). */
typedef struct parley_stun_request {
    const char *username;                   /* "remoteufrag:localufrag" */
    const char *password;                   /* the remote agent's pwd */
    uint32_t priority;
    bool controlling;                       /* ICE-CONTROLLING, else -CONTROLLED */
    uint64_t tiebreaker;
    bool use_candidate;
} parley_stun_request;

/* A new random transaction id (OpenSSL RAND_bytes); -1 if that failed. */
int parley_stun_new_txid(uint8_t txid[PARLEY_STUN_TXID_LEN]);
/* A binding request with USERNAME, PRIORITY, ICE-CONTROLLING/-CONTROLLED,
 * USE-CANDIDATE, MESSAGE-INTEGRITY, FINGERPRINT; its length, 0 if too big. */
size_t parley_stun_binding_request(uint8_t *buf, size_t cap, const uint8_t txid[PARLEY_STUN_TXID_LEN],
                                   const parley_stun_request *r);
/* A success response: XOR-MAPPED-ADDRESS = from, MESSAGE-INTEGRITY with pwd,
 * FINGERPRINT; its length, 0 if too big. */
size_t parley_stun_binding_success(uint8_t *buf, size_t cap, const uint8_t txid[PARLEY_STUN_TXID_LEN],
                                   const struct sockaddr *from, const char *pwd);
/* An error response (400, 401, 420, 487) with FINGERPRINT, and with
 * MESSAGE-INTEGRITY when pwd is not NULL (never for 400/401: the request
 * was not authenticated). unknown lists attributes for 420 (may be NULL). */
size_t parley_stun_binding_error(uint8_t *buf, size_t cap, const uint8_t txid[PARLEY_STUN_TXID_LEN],
                                 int code, const char *pwd, const uint16_t *unknown, int n_unknown);

#endif
