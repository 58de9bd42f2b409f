/* ice.h - the ICE-lite agent of one peer connection (RFC 8445 §2.5).
 *
 * Design. Parley's SFU is a lite agent: it has one host candidate (the UDP
 * port of udp.h), never sends checks, and is always controlled. The browser
 * or the C SDK (the controlling, full agent) sends binding requests; the
 * agent answers those whose USERNAME is "localufrag:remoteufrag" and whose
 * MESSAGE-INTEGRITY verifies with the local pwd, learns the sender's address,
 * and selects it when the request carries USE-CANDIDATE. Consent (RFC 7675)
 * is the peer's stream of valid requests: PARLEY_ICE_DISCONNECT_MS without
 * one makes the agent disconnected, PARLEY_ICE_CONSENT_MS makes it failed
 * (consent lost). ICE restart makes new local credentials; the old ones are
 * still answered until a request with the new ones arrives.
 *
 * Threads and time: pure logic, no I/O, no clock of its own. Every call that
 * needs the time takes now_ms (any monotonic millisecond clock), so tests
 * drive it without sleeping. One agent is used by one thread (the loop's).
 *
 * Ownership: the caller owns the agent (parley_ice_new / parley_ice_free).
 * Strings returned point into the agent and live until the next restart or
 * free; strings and buffers passed in are only read during the call. The
 * state callback runs inside parley_ice_handle / parley_ice_tick /
 * parley_ice_close and must not free the agent. */
#ifndef PARLEY_SFU_ICE_H
#define PARLEY_SFU_ICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define PARLEY_ICE_UFRAG_LEN 8         /* local ufrag: 8 chars (>= 4) */
#define PARLEY_ICE_PWD_LEN 24          /* local pwd: 24 chars (>= 22) */
#define PARLEY_ICE_REMOTE_MAX 256      /* longest remote ufrag or pwd */
#define PARLEY_ICE_DISCONNECT_MS 10000 /* no valid check: disconnected */
#define PARLEY_ICE_CONSENT_MS 30000    /* no valid check: consent lost, failed */

typedef enum parley_ice_state {
    PARLEY_ICE_NEW = 0,     /* no remote credentials yet */
    PARLEY_ICE_CHECKING,    /* remote credentials known, nothing nominated */
    PARLEY_ICE_CONNECTED,   /* a nominated address, consent fresh */
    PARLEY_ICE_DISCONNECTED,/* nominated, but no valid check for a while */
    PARLEY_ICE_FAILED,      /* consent lost or never obtained; restart needed */
    PARLEY_ICE_CLOSED,      /* closed by the owner */
} parley_ice_state;

/* What parley_ice_handle made of a datagram. */
typedef enum parley_ice_result {
    PARLEY_ICE_VALID = 0,   /* a valid check: success response to send */
    PARLEY_ICE_BAD_REQUEST, /* 400 to send (missing USERNAME/MESSAGE-INTEGRITY/role) */
    PARLEY_ICE_UNAUTHORIZED,/* 401 to send (unknown USERNAME, wrong integrity) */
    PARLEY_ICE_UNKNOWN_ATTR,/* 420 to send */
    PARLEY_ICE_ROLE_CONFLICT,/* 487 to send (the peer claims to be controlled) */
    PARLEY_ICE_IGNORED,     /* not a binding request (responses, indications) */
    PARLEY_ICE_MALFORMED,   /* not parseable STUN; nothing to send */
} parley_ice_result;

typedef struct parley_ice_agent parley_ice_agent;
typedef void (*parley_ice_state_fn)(parley_ice_agent *a, parley_ice_state state, void *arg);

/* A new agent with fresh random credentials, state new; NULL on failure. */
parley_ice_agent *parley_ice_new(parley_ice_state_fn fn, void *arg);
/* Free the agent (no callback). NULL is fine. */
void parley_ice_free(parley_ice_agent *a);
const char *parley_ice_state_name(parley_ice_state s);
parley_ice_state parley_ice_get_state(const parley_ice_agent *a);
const char *parley_ice_local_ufrag(const parley_ice_agent *a);
const char *parley_ice_local_pwd(const parley_ice_agent *a);
/* The remote ufrag/pwd from the peer's SDP; new -> checking. -1 if too long
 * or empty. After a restart, the remote's new credentials. */
int parley_ice_set_remote(parley_ice_agent *a, const char *ufrag, const char *pwd, int64_t now_ms);
/* True when ufrag (the part of a USERNAME before ':') is one this agent
 * answers (current, or previous during a restart). */
bool parley_ice_owns_ufrag(const parley_ice_agent *a, const char *ufrag, size_t len);
/* The ufrag still accepted from before the last restart, or NULL. */
const char *parley_ice_previous_ufrag(const parley_ice_agent *a);
/* Handle a STUN datagram from `from`; writes the response (if any) into
 * resp[cap] and its length into *resp_len (0 when nothing to send). */
parley_ice_result parley_ice_handle(parley_ice_agent *a, const uint8_t *buf, size_t len,
                                    const struct sockaddr *from, int64_t now_ms, uint8_t *resp,
                                    size_t cap, size_t *resp_len);
/* Run the consent timers; call at least once a second. */
void parley_ice_tick(parley_ice_agent *a, int64_t now_ms);
/* The nominated address media goes to; false when none. */
bool parley_ice_selected(const parley_ice_agent *a, struct sockaddr_storage *out);
/* ICE restart: new local credentials (old ones kept until used no more). */
int parley_ice_restart(parley_ice_agent *a, int64_t now_ms);
/* Close: state closed, nothing answered any more. */
void parley_ice_close(parley_ice_agent *a);

#endif
