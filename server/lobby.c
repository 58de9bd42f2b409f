/* lobby.c - the ask_join waiting room: waiting, deciding, timing out.
 *
 * The limits are checked again at admission, since the room may have filled
 * while the joiner waited; a joiner that no longer fits gets the limit's
 * error as it would have at join. */
#include <string.h>

#include "access.h"
#include "lobby.h"
#include "server.h"
#include "signaling.h"
#include "token.h"

static void entry_expired(void *arg)
{
    participant *p = arg;
    p->timer = NULL;
    lobby_decide(p, false);
}

void lobby_wait(participant *p)
{
    room *r = p->room;
    json_t *w = json_pack("{s:s, s:s}", "type", "waiting", "meetingId", r->room_id);
    if (p->join_id[0])
        json_object_set_new(w, "id", json_string(p->join_id));
    sig_send(p->conn, w);
    int secs = access_entry_timeout(&r->settings);
    p->timer = ptimer_start((uint64_t)secs * 1000, entry_expired, p);
    room_broadcast_perm(r,
                        json_pack("{s:s, s:s, s:s}", "type", "entry-requested", "participantId",
                                  p->id, "name", p->name),
                        PARLEY_PERM_ALLOW_JOIN, p);
    if (!p->timer)
        lobby_decide(p, false);
}

void lobby_decide(participant *p, bool allowed)
{
    room *r = p->room;
    ptimer_cancel(p->timer);
    p->timer = NULL;
    json_t *ev = json_pack("{s:s, s:s, s:s}", "type", "entry-responded", "participantId", p->id,
                           "decision", allowed ? "allowed" : "denied");
    room_broadcast_perm(r, json_incref(ev), PARLEY_PERM_ALLOW_JOIN, p);
    sig_send(p->conn, ev);
    if (!allowed) {
        participant_remove(p, PARLEY_LEAVE_JOIN_ROOM_FAILED, TELL_SELF);
        return;
    }
    int code = access_check_limits(r, p, p->mode, true);
    if (code) {
        ev_ctx ctx = {.id = p->join_id[0] ? p->join_id : NULL,
                      .hint = "the meeting filled up while waiting"};
        sig_fatal(p->conn, code, &ctx, PARLEY_LEAVE_JOIN_ROOM_FAILED);
        return;
    }
    participant_admit(p, p->join_id);
}
