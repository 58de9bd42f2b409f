/* test_ice.c - the ICE-lite agent with an injected clock: credentials,
 * checks with the right and wrong password and username, role conflicts,
 * nomination, consent freshness and loss, restart. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "ice.h"
#include "stun.h"
#include "../lib/tap.h"

#define REMOTE_UFRAG "rmt1"
#define REMOTE_PWD "remote-password-0123456789"

static parley_ice_state states[32];
static int nstates;

static void on_state(parley_ice_agent *a, parley_ice_state s, void *arg)
{
    (void)a;
    (void)arg;
    if (nstates < 32)
        states[nstates++] = s;
}

static struct sockaddr_in addr4(const char *ip, int port)
{
    struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, ip, &s.sin_addr);
    return s;
}

/* Build a check from the controlling side and hand it to the agent. */
static parley_ice_result check(parley_ice_agent *a, const char *user, const char *pwd, bool use_cand,
                               bool controlling, const struct sockaddr_in *from, int64_t now,
                               parley_stun_msg *resp_out)
{
    static uint8_t req[512], resp[512]; /* resp_out points into resp */
    uint8_t txid[12];
    parley_stun_new_txid(txid);
    parley_stun_request r = {.username = user, .password = pwd, .priority = 100, .controlling = controlling,
                             .tiebreaker = 42, .use_candidate = use_cand};
    size_t n = parley_stun_binding_request(req, sizeof req, txid, &r);
    size_t rlen = 0;
    parley_ice_result res = parley_ice_handle(a, req, n, (const struct sockaddr *)from, now, resp, sizeof resp, &rlen);
    memset(resp_out, 0, sizeof *resp_out);
    if (rlen && parley_stun_parse(resp, rlen, resp_out, NULL) == 0 && memcmp(resp_out->txid, txid, 12) != 0)
        resp_out->type = 0xFFFF; /* wrong transaction: make the test fail */
    return res;
}

static char *user_for(parley_ice_agent *a)
{
    static char u[64];
    snprintf(u, sizeof u, "%s:%s", parley_ice_local_ufrag(a), REMOTE_UFRAG);
    return u;
}

static parley_ice_agent *ready_agent(void)
{
    nstates = 0;
    parley_ice_agent *a = parley_ice_new(on_state, NULL);
    if (a)
        parley_ice_set_remote(a, REMOTE_UFRAG, REMOTE_PWD, 0);
    return a;
}

TEST(credentials)
{
    parley_ice_agent *a = parley_ice_new(NULL, NULL), *b = parley_ice_new(NULL, NULL);
    REQUIRE(a && b);
    CHECK(strlen(parley_ice_local_ufrag(a)) >= 4 && strlen(parley_ice_local_pwd(a)) >= 22);
    CHECK(strcmp(parley_ice_local_ufrag(a), parley_ice_local_ufrag(b)) != 0);
    CHECK(strcmp(parley_ice_local_pwd(a), parley_ice_local_pwd(b)) != 0);
    for (const char *p = parley_ice_local_pwd(a); *p; p++)
        CHECK((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '+' ||
              *p == '/');
    CHECK(parley_ice_get_state(a) == PARLEY_ICE_NEW);
    CHECK(parley_ice_set_remote(a, "", "x", 0) == -1);
    CHECK(parley_ice_set_remote(a, "a:b", "x", 0) == -1);
    CHECK(parley_ice_set_remote(a, "abcd", "pw-pw-pw-pw-pw-pw-pw-pw", 0) == 0);
    CHECK(parley_ice_get_state(a) == PARLEY_ICE_CHECKING);
    CHECK(strcmp(parley_ice_state_name(PARLEY_ICE_DISCONNECTED), "disconnected") == 0);
    parley_ice_free(a);
    parley_ice_free(b);
}

TEST(right_password_answered)
{
    parley_ice_agent *a = ready_agent();
    REQUIRE(a);
    struct sockaddr_in from = addr4("192.0.2.7", 40000);
    parley_stun_msg m;
    CHECK(check(a, user_for(a), parley_ice_local_pwd(a), false, true, &from, 100, &m) == PARLEY_ICE_VALID);
    CHECK(m.type == PARLEY_STUN_BINDING_SUCCESS && m.has_fingerprint);
    CHECK(parley_stun_check_integrity(&m, parley_ice_local_pwd(a), strlen(parley_ice_local_pwd(a))));
    REQUIRE(m.has_mapped && m.mapped.ss_family == AF_INET);
    struct sockaddr_in *mapped = (struct sockaddr_in *)&m.mapped;
    CHECK(mapped->sin_port == from.sin_port && mapped->sin_addr.s_addr == from.sin_addr.s_addr);
    /* checked but not nominated: still checking, nothing selected */
    CHECK(parley_ice_get_state(a) == PARLEY_ICE_CHECKING);
    CHECK(!parley_ice_selected(a, NULL));
    parley_ice_free(a);
}

TEST(wrong_password_or_username_refused)
{
    parley_ice_agent *a = ready_agent();
    REQUIRE(a);
    struct sockaddr_in from = addr4("192.0.2.7", 40000);
    parley_stun_msg m;
    CHECK(check(a, user_for(a), "not-the-password-at-all", true, true, &from, 1, &m) == PARLEY_ICE_UNAUTHORIZED);
    CHECK(m.type == PARLEY_STUN_BINDING_ERROR && m.error_code == 401 && !m.has_integrity);
    /* the remote password (a classic mistake) is not the key either */
    CHECK(check(a, user_for(a), REMOTE_PWD, true, true, &from, 1, &m) == PARLEY_ICE_UNAUTHORIZED);

    char u[64];
    snprintf(u, sizeof u, "zzzz:%s", REMOTE_UFRAG);
    CHECK(check(a, u, parley_ice_local_pwd(a), true, true, &from, 1, &m) == PARLEY_ICE_UNAUTHORIZED);
    snprintf(u, sizeof u, "%s:other", parley_ice_local_ufrag(a));
    CHECK(check(a, u, parley_ice_local_pwd(a), true, true, &from, 1, &m) == PARLEY_ICE_UNAUTHORIZED);
    snprintf(u, sizeof u, "%s", parley_ice_local_ufrag(a)); /* no colon */
    CHECK(check(a, u, parley_ice_local_pwd(a), true, true, &from, 1, &m) == PARLEY_ICE_UNAUTHORIZED);
    CHECK(m.error_code == 401);
    CHECK(parley_ice_get_state(a) == PARLEY_ICE_CHECKING && !parley_ice_selected(a, NULL));
    CHECK(nstates == 1); /* only new -> checking */
    parley_ice_free(a);
}

TEST(bad_requests)
{
    parley_ice_agent *a = ready_agent();
    REQUIRE(a);
    struct sockaddr_in from = addr4("192.0.2.7", 40000);
    uint8_t req[256], resp[256], txid[12] = {7};
    size_t rlen;

    /* no USERNAME, no MESSAGE-INTEGRITY: 400 */
    parley_stun_builder b;
    parley_stun_begin(&b, req, sizeof req, PARLEY_STUN_BINDING_REQUEST, txid);
    parley_stun_add_fingerprint(&b);
    size_t n = parley_stun_finish(&b);
    CHECK(parley_ice_handle(a, req, n, (struct sockaddr *)&from, 1, resp, sizeof resp, &rlen) ==
          PARLEY_ICE_BAD_REQUEST);
    parley_stun_msg m;
    CHECK(rlen > 0 && parley_stun_parse(resp, rlen, &m, NULL) == 0 && m.error_code == 400);

    /* the peer says it is controlled too: 487, authenticated */
    CHECK(check(a, user_for(a), parley_ice_local_pwd(a), true, false, &from, 1, &m) == PARLEY_ICE_ROLE_CONFLICT);
    CHECK(m.error_code == 487 && parley_stun_check_integrity(&m, parley_ice_local_pwd(a), 24));

    /* an unknown comprehension-required attribute: 420, authenticated */
    char user[64];
    snprintf(user, sizeof user, "%s:%s", parley_ice_local_ufrag(a), REMOTE_UFRAG);
    parley_stun_begin(&b, req, sizeof req, PARLEY_STUN_BINDING_REQUEST, txid);
    parley_stun_add(&b, PARLEY_STUN_ATTR_USERNAME, user, strlen(user));
    parley_stun_add_u64(&b, PARLEY_STUN_ATTR_ICE_CONTROLLING, 1);
    parley_stun_add(&b, 0x0033, "x", 1);
    parley_stun_add_integrity(&b, parley_ice_local_pwd(a), strlen(parley_ice_local_pwd(a)));
    parley_stun_add_fingerprint(&b);
    n = parley_stun_finish(&b);
    CHECK(parley_ice_handle(a, req, n, (struct sockaddr *)&from, 1, resp, sizeof resp, &rlen) ==
          PARLEY_ICE_UNKNOWN_ATTR);
    CHECK(rlen > 0 && parley_stun_parse(resp, rlen, &m, NULL) == 0 && m.error_code == 420);
    CHECK(parley_stun_check_integrity(&m, parley_ice_local_pwd(a), 24));

    /* garbage and responses: nothing to send */
    CHECK(parley_ice_handle(a, (const uint8_t *)"\x00\x01hello", 7, (struct sockaddr *)&from, 1, resp,
                            sizeof resp, &rlen) == PARLEY_ICE_MALFORMED && rlen == 0);
    n = parley_stun_binding_success(req, sizeof req, txid, (struct sockaddr *)&from, "x");
    CHECK(parley_ice_handle(a, req, n, (struct sockaddr *)&from, 1, resp, sizeof resp, &rlen) ==
          PARLEY_ICE_IGNORED && rlen == 0);
    CHECK(!parley_ice_selected(a, NULL));
    parley_ice_free(a);
}

TEST(nomination_selects_address)
{
    parley_ice_agent *a = ready_agent();
    REQUIRE(a);
    struct sockaddr_in f1 = addr4("192.0.2.7", 40000), f2 = addr4("198.51.100.9", 41000);
    parley_stun_msg m;
    const char *pw = parley_ice_local_pwd(a);
    CHECK(check(a, user_for(a), pw, false, true, &f1, 10, &m) == PARLEY_ICE_VALID);
    CHECK(check(a, user_for(a), pw, true, true, &f2, 20, &m) == PARLEY_ICE_VALID);
    CHECK(parley_ice_get_state(a) == PARLEY_ICE_CONNECTED);
    struct sockaddr_storage sel;
    REQUIRE(parley_ice_selected(a, &sel));
    CHECK(sel.ss_family == AF_INET && ((struct sockaddr_in *)&sel)->sin_port == f2.sin_port);
    /* a later nomination from another address (a network change) moves media */
    CHECK(check(a, user_for(a), pw, true, true, &f1, 30, &m) == PARLEY_ICE_VALID);
    REQUIRE(parley_ice_selected(a, &sel));
    CHECK(((struct sockaddr_in *)&sel)->sin_port == f1.sin_port);
    CHECK(nstates == 2 && states[0] == PARLEY_ICE_CHECKING && states[1] == PARLEY_ICE_CONNECTED);
    parley_ice_free(a);
}

TEST(consent_freshness)
{
    parley_ice_agent *a = ready_agent();
    REQUIRE(a);
    struct sockaddr_in f = addr4("192.0.2.7", 40000);
    parley_stun_msg m;
    const char *pw = parley_ice_local_pwd(a);
    CHECK(check(a, user_for(a), pw, true, true, &f, 1000, &m) == PARLEY_ICE_VALID);
    /* consent refreshed every 5 s: stays connected for a minute */
    for (int64_t t = 1000; t <= 61000; t += 1000) {
        if (t % 5000 == 0)
            check(a, user_for(a), pw, false, true, &f, t, &m);
        parley_ice_tick(a, t);
        CHECK(parley_ice_get_state(a) == PARLEY_ICE_CONNECTED);
    }
    /* then silence: disconnected after 10 s, failed (consent lost) after 30 s */
    parley_ice_tick(a, 60000 + PARLEY_ICE_DISCONNECT_MS - 1);
    CHECK(parley_ice_get_state(a) == PARLEY_ICE_CONNECTED);
    parley_ice_tick(a, 60000 + PARLEY_ICE_DISCONNECT_MS);
    CHECK(parley_ice_get_state(a) == PARLEY_ICE_DISCONNECTED);
    CHECK(parley_ice_selected(a, NULL)); /* still sending: consent not yet lost */
    /* a check comes back: connected again */
    CHECK(check(a, user_for(a), pw, false, true, &f, 75000, &m) == PARLEY_ICE_VALID);
    CHECK(parley_ice_get_state(a) == PARLEY_ICE_CONNECTED);
    parley_ice_tick(a, 75000 + PARLEY_ICE_CONSENT_MS - 1);
    CHECK(parley_ice_get_state(a) == PARLEY_ICE_DISCONNECTED);
    parley_ice_tick(a, 75000 + PARLEY_ICE_CONSENT_MS);
    CHECK(parley_ice_get_state(a) == PARLEY_ICE_FAILED);
    CHECK(!parley_ice_selected(a, NULL)); /* consent lost: no more media */
    /* a failed agent answers nothing until restarted */
    CHECK(check(a, user_for(a), pw, true, true, &f, 110000, &m) == PARLEY_ICE_IGNORED);
    parley_ice_state want[] = {PARLEY_ICE_CHECKING, PARLEY_ICE_CONNECTED, PARLEY_ICE_DISCONNECTED,
                               PARLEY_ICE_CONNECTED, PARLEY_ICE_DISCONNECTED, PARLEY_ICE_FAILED};
    REQUIRE(nstates == 6);
    CHECK(memcmp(states, want, sizeof want) == 0);
    parley_ice_free(a);
}

TEST(never_checked_fails)
{
    parley_ice_agent *a = ready_agent();
    REQUIRE(a);
    parley_ice_tick(a, PARLEY_ICE_CONSENT_MS - 1);
    CHECK(parley_ice_get_state(a) == PARLEY_ICE_CHECKING);
    parley_ice_tick(a, PARLEY_ICE_CONSENT_MS);
    CHECK(parley_ice_get_state(a) == PARLEY_ICE_FAILED);
    parley_ice_free(a);
}

TEST(restart)
{
    parley_ice_agent *a = ready_agent();
    REQUIRE(a);
    struct sockaddr_in f = addr4("192.0.2.7", 40000);
    parley_stun_msg m;
    char old_user[64], old_pwd[64], old_ufrag[16];
    snprintf(old_user, sizeof old_user, "%s", user_for(a));
    snprintf(old_pwd, sizeof old_pwd, "%s", parley_ice_local_pwd(a));
    snprintf(old_ufrag, sizeof old_ufrag, "%s", parley_ice_local_ufrag(a));
    CHECK(check(a, old_user, old_pwd, true, true, &f, 1000, &m) == PARLEY_ICE_VALID);

    REQUIRE(parley_ice_restart(a, 2000) == 0);
    CHECK(strcmp(parley_ice_local_ufrag(a), old_ufrag) != 0);
    CHECK(strcmp(parley_ice_local_pwd(a), old_pwd) != 0);
    CHECK(parley_ice_get_state(a) == PARLEY_ICE_CONNECTED); /* media keeps flowing */
    CHECK(parley_ice_previous_ufrag(a) && strcmp(parley_ice_previous_ufrag(a), old_ufrag) == 0);
    CHECK(parley_ice_owns_ufrag(a, old_ufrag, strlen(old_ufrag)));
    /* the old credentials still work until the new ones are used */
    CHECK(check(a, old_user, old_pwd, false, true, &f, 3000, &m) == PARLEY_ICE_VALID);
    CHECK(parley_stun_check_integrity(&m, old_pwd, strlen(old_pwd)));
    /* the peer's new answer: new remote credentials */
    REQUIRE(parley_ice_set_remote(a, "rmt2", "remote-password-two-0123456", 3500) == 0);
    char new_user[64];
    snprintf(new_user, sizeof new_user, "%s:rmt2", parley_ice_local_ufrag(a));
    /* new ufrag with the old password: refused */
    CHECK(check(a, new_user, old_pwd, false, true, &f, 4000, &m) == PARLEY_ICE_UNAUTHORIZED);
    CHECK(check(a, new_user, parley_ice_local_pwd(a), true, true, &f, 4000, &m) == PARLEY_ICE_VALID);
    /* the new ones were used: the old ones are gone */
    CHECK(parley_ice_previous_ufrag(a) == NULL);
    CHECK(!parley_ice_owns_ufrag(a, old_ufrag, strlen(old_ufrag)));
    CHECK(check(a, old_user, old_pwd, false, true, &f, 5000, &m) == PARLEY_ICE_UNAUTHORIZED);

    /* restart after consent was lost: back to checking */
    parley_ice_tick(a, 4000 + PARLEY_ICE_CONSENT_MS);
    CHECK(parley_ice_get_state(a) == PARLEY_ICE_FAILED);
    REQUIRE(parley_ice_restart(a, 40000) == 0);
    CHECK(parley_ice_get_state(a) == PARLEY_ICE_CHECKING);
    CHECK(!parley_ice_selected(a, NULL));
    snprintf(new_user, sizeof new_user, "%s:rmt3", parley_ice_local_ufrag(a));
    CHECK(check(a, new_user, parley_ice_local_pwd(a), true, true, &f, 41000, &m) == PARLEY_ICE_VALID);
    CHECK(parley_ice_get_state(a) == PARLEY_ICE_CONNECTED);
    parley_ice_close(a);
    CHECK(parley_ice_get_state(a) == PARLEY_ICE_CLOSED);
    CHECK(check(a, new_user, parley_ice_local_pwd(a), true, true, &f, 42000, &m) == PARLEY_ICE_IGNORED);
    CHECK(parley_ice_restart(a, 43000) == -1);
    parley_ice_free(a);
}

int main(void)
{
    RUN(credentials);
    RUN(right_password_answered);
    RUN(wrong_password_or_username_refused);
    RUN(bad_requests);
    RUN(nomination_selects_address);
    RUN(consent_freshness);
    RUN(never_checked_fails);
    RUN(restart);
    return tap_done();
}
