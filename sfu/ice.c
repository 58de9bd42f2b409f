/* ice.c - the ICE-lite agent: credentials, answering checks, nomination,
 * consent freshness and restart (see ice.h).
 *
 * A request is judged in the order of RFC 8489 §9.1.3 and RFC 8445 §7.3:
 * parse, USERNAME and MESSAGE-INTEGRITY present (else 400), USERNAME known
 * and integrity right (else 401), role (487 when the peer also claims to be
 * controlled, 400 when it claims nothing), unknown comprehension-required
 * attributes (420), then the success response. A failed agent (consent lost)
 * answers nothing until it is restarted, so the peer's own consent fails too. */
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ice.h"
#include "stun.h"

typedef struct creds {
    char local_ufrag[PARLEY_ICE_UFRAG_LEN + 1];
    char local_pwd[PARLEY_ICE_PWD_LEN + 1];
    char remote_ufrag[PARLEY_ICE_REMOTE_MAX + 1];
    char remote_pwd[PARLEY_ICE_REMOTE_MAX + 1];
} creds;

struct parley_ice_agent {
    parley_ice_state state;
    parley_ice_state_fn fn;
    void *arg;
    creds cur, prev;
    bool has_prev;
    bool nominated;
    struct sockaddr_storage selected;
    int64_t last_valid;     /* last valid check, or when checking began */
};

/* ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.4): 64 symbols, so a
 * random byte's low six bits pick one uniformly. */
static int random_ice_chars(char *out, size_t n)
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned char raw[64];
    if (n > sizeof raw || RAND_bytes(raw, (int)n) != 1) {
        out[0] = '\0';
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        out[i] = set[raw[i] & 63];
    out[n] = '\0';
    return 0;
}

static int new_local(creds *c)
{
    memset(c, 0, sizeof *c);
    if (random_ice_chars(c->local_ufrag, PARLEY_ICE_UFRAG_LEN) ||
        random_ice_chars(c->local_pwd, PARLEY_ICE_PWD_LEN))
        return -1;
    return 0;
}

static void set_state(parley_ice_agent *a, parley_ice_state s)
{
    if (a->state == s)
        return;
    a->state = s;
    if (a->fn)
        a->fn(a, s, a->arg);
}

parley_ice_agent *parley_ice_new(parley_ice_state_fn fn, void *arg)
{
    parley_ice_agent *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    if (new_local(&a->cur)) {
        free(a);
        return NULL;
    }
    a->fn = fn;
    a->arg = arg;
    return a;
}

void parley_ice_free(parley_ice_agent *a)
{
    if (!a)
        return;
    OPENSSL_cleanse(a, sizeof *a);
    free(a);
}

const char *parley_ice_state_name(parley_ice_state s)
{
    static const char *names[] = {"new", "checking", "connected", "disconnected", "failed", "closed"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

parley_ice_state parley_ice_get_state(const parley_ice_agent *a)
{
    return a->state;
}

const char *parley_ice_local_ufrag(const parley_ice_agent *a)
{
    return a->cur.local_ufrag;
}

const char *parley_ice_local_pwd(const parley_ice_agent *a)
{
    return a->cur.local_pwd;
}

const char *parley_ice_previous_ufrag(const parley_ice_agent *a)
{
    return a->has_prev ? a->prev.local_ufrag : NULL;
}

int parley_ice_set_remote(parley_ice_agent *a, const char *ufrag, const char *pwd, int64_t now_ms)
{
    if (!ufrag || !pwd || !*ufrag || !*pwd || strlen(ufrag) > PARLEY_ICE_REMOTE_MAX ||
        strlen(pwd) > PARLEY_ICE_REMOTE_MAX || strchr(ufrag, ':') || a->state == PARLEY_ICE_CLOSED)
        return -1;
    strcpy(a->cur.remote_ufrag, ufrag);
    strcpy(a->cur.remote_pwd, pwd);
    if (a->state == PARLEY_ICE_NEW) {
        a->last_valid = now_ms;
        set_state(a, PARLEY_ICE_CHECKING);
    }
    return 0;
}

static bool ufrag_is(const char *mine, const char *s, size_t n)
{
    return strlen(mine) == n && memcmp(mine, s, n) == 0;
}

bool parley_ice_owns_ufrag(const parley_ice_agent *a, const char *ufrag, size_t len)
{
    return ufrag_is(a->cur.local_ufrag, ufrag, len) ||
           (a->has_prev && ufrag_is(a->prev.local_ufrag, ufrag, len));
}

/* "local:remote" against one set of credentials; the remote part is not
 * checked before the remote ufrag is known. */
static bool username_matches(const creds *c, const char *u, size_t n)
{
    const char *colon = memchr(u, ':', n);
    if (!colon)
        return false;
    size_t llen = (size_t)(colon - u);
    if (!ufrag_is(c->local_ufrag, u, llen))
        return false;
    return !c->remote_ufrag[0] || ufrag_is(c->remote_ufrag, colon + 1, n - llen - 1);
}

static parley_ice_result answer_error(const parley_stun_msg *m, int code, const char *pwd,
                                      parley_ice_result r, uint8_t *resp, size_t cap, size_t *resp_len)
{
    *resp_len = parley_stun_binding_error(resp, cap, m->txid, code, pwd, m->unknown, m->unknown_count);
    return r;
}

parley_ice_result parley_ice_handle(parley_ice_agent *a, const uint8_t *buf, size_t len,
                                    const struct sockaddr *from, int64_t now_ms, uint8_t *resp,
                                    size_t cap, size_t *resp_len)
{
    parley_stun_msg m;
    *resp_len = 0;
    if (parley_stun_parse(buf, len, &m, NULL) != 0)
        return PARLEY_ICE_MALFORMED;
    if (m.type != PARLEY_STUN_BINDING_REQUEST || a->state == PARLEY_ICE_CLOSED ||
        a->state == PARLEY_ICE_FAILED || !from)
        return PARLEY_ICE_IGNORED;
    if (!m.username || !m.has_integrity)
        return answer_error(&m, 400, NULL, PARLEY_ICE_BAD_REQUEST, resp, cap, resp_len);

    const creds *c = NULL;
    bool used_prev = false;
    if (username_matches(&a->cur, m.username, m.username_len))
        c = &a->cur;
    else if (a->has_prev && username_matches(&a->prev, m.username, m.username_len)) {
        c = &a->prev;
        used_prev = true;
    }
    if (!c || !parley_stun_check_integrity(&m, c->local_pwd, strlen(c->local_pwd)))
        return answer_error(&m, 401, NULL, PARLEY_ICE_UNAUTHORIZED, resp, cap, resp_len);
    if (m.has_controlled)
        return answer_error(&m, 487, c->local_pwd, PARLEY_ICE_ROLE_CONFLICT, resp, cap, resp_len);
    if (!m.has_controlling)
        return answer_error(&m, 400, c->local_pwd, PARLEY_ICE_BAD_REQUEST, resp, cap, resp_len);
    if (m.unknown_count > 0)
        return answer_error(&m, 420, c->local_pwd, PARLEY_ICE_UNKNOWN_ATTR, resp, cap, resp_len);

    *resp_len = parley_stun_binding_success(resp, cap, m.txid, from, c->local_pwd);
    if (*resp_len == 0)
        return PARLEY_ICE_IGNORED; /* no room to answer: as if never received */
    if (!used_prev && a->has_prev) {
        OPENSSL_cleanse(&a->prev, sizeof a->prev);
        a->has_prev = false; /* the peer has moved to the new credentials */
    }
    a->last_valid = now_ms;
    if (m.use_candidate) {
        size_t sl = from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
        memset(&a->selected, 0, sizeof a->selected);
        memcpy(&a->selected, from, sl);
        a->nominated = true;
    }
    if (a->nominated)
        set_state(a, PARLEY_ICE_CONNECTED);
    else if (a->state == PARLEY_ICE_NEW)
        set_state(a, PARLEY_ICE_CHECKING);
    return PARLEY_ICE_VALID;
}

void parley_ice_tick(parley_ice_agent *a, int64_t now_ms)
{
    int64_t quiet = now_ms - a->last_valid;
    switch (a->state) {
    case PARLEY_ICE_CHECKING:
        if (quiet >= PARLEY_ICE_CONSENT_MS)
            set_state(a, PARLEY_ICE_FAILED);
        break;
    case PARLEY_ICE_CONNECTED:
    case PARLEY_ICE_DISCONNECTED:
        if (quiet >= PARLEY_ICE_CONSENT_MS) {
            a->nominated = false;
            set_state(a, PARLEY_ICE_FAILED);
        } else if (quiet >= PARLEY_ICE_DISCONNECT_MS) {
            set_state(a, PARLEY_ICE_DISCONNECTED);
        }
        break;
    default:
        break;
    }
}

bool parley_ice_selected(const parley_ice_agent *a, struct sockaddr_storage *out)
{
    if (!a->nominated || a->state == PARLEY_ICE_FAILED || a->state == PARLEY_ICE_CLOSED)
        return false;
    if (out)
        *out = a->selected;
    return true;
}

int parley_ice_restart(parley_ice_agent *a, int64_t now_ms)
{
    if (a->state == PARLEY_ICE_CLOSED)
        return -1;
    creds fresh;
    if (new_local(&fresh))
        return -1;
    a->prev = a->cur;
    a->has_prev = true;
    a->cur = fresh;
    if (a->state == PARLEY_ICE_FAILED) {
        a->has_prev = false; /* nothing to keep alive */
        OPENSSL_cleanse(&a->prev, sizeof a->prev);
        a->nominated = false;
        a->last_valid = now_ms;
        set_state(a, PARLEY_ICE_CHECKING);
    }
    return 0;
}

void parley_ice_close(parley_ice_agent *a)
{
    a->nominated = false;
    set_state(a, PARLEY_ICE_CLOSED);
}
