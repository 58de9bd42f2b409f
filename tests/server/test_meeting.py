#!/usr/bin/env python3
"""Inside a meeting (docs/protocol.md §2.2-2.3): leaving, ending, removal,
mute requests, the lock, modes, publishing, the synchronizer role and sync
data, chat, and token refresh, each refusal provoked for its real cause."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
from server import Server, claims, mint, token  # noqa: E402

S = Server()
KEY = S.account()
MOD = ["allow_join", "allow_mod"]


def meeting(*people, settings=None, key=KEY):
    """A new room with people joined: names, or (name, permissions) pairs."""
    room = S.room(key, settings=settings)
    out = []
    for p in people:
        name, perms = (p, ["allow_join"]) if isinstance(p, str) else p
        ws, _ = S.join(token(key, permissions=perms), room, name)
        out.append(ws)
    for i, ws in enumerate(out):  # everyone has seen everyone arrive
        for _ in out[i + 1:]:
            ws.wait("participant-joined")
    return room, out


def close_all(*sockets):
    for ws in sockets:
        ws.close()


def test_leave_answers_then_meeting_left_1101():
    room, (a, b) = meeting("a", "b")
    b.send({"type": "leave", "id": "bye"})
    assert b.next()["type"] == "response"
    assert b.wait("meeting-left")["reason"]["code"] == 1101
    b.expect_closed()
    left = a.wait("participant-left")
    assert left == {"type": "participant-left", "participantId": "b",
                    "reason": {"code": 1101, "name": "MANUAL_LEAVE_CALLED",
                               "message": "The application called leave()."}}
    a.close()


def test_end_by_a_moderator_sends_everyone_meeting_left_1008():
    room, (host, a) = meeting(("host", MOD), "a")
    host.send({"type": "end", "id": "e"})
    assert host.wait("response")["id"] == "e"
    for ws in (host, a):
        assert ws.wait("meeting-left")["reason"]["code"] == 1008
        ws.expect_closed()
    status, page = S.rest("GET", f"/v2/sessions?roomId={room}", S.admin_token(KEY))
    assert page["data"][0]["status"] == "ended" and page["data"][0]["end"]


# provokes 4024
def test_moderator_requests_without_allow_mod_answer_4024():
    room, (a, b) = meeting("a", "b")
    for msg in ({"type": "end"}, {"type": "lock"}, {"type": "unlock"},
                {"type": "remove-participant", "participantId": "b"},
                {"type": "request-mute", "participantId": "b", "kind": "audio"},
                {"type": "set-synchronizer", "participantId": "b"},
                {"type": "change-mode", "participantId": "b", "mode": "VIEWER"}):
        msg["id"] = msg["type"]
        a.send(msg)
        e = a.error(4024)
        assert e["name"] == "UNAUTHORIZED_ROLE" and e["fatal"] is False and e["id"] == msg["type"], e
    viewer, _ = S.join(token(KEY, permissions=["allow_mod"]), room, "modonly")
    viewer.send({"type": "entry-response", "id": "er", "participantId": "x", "decision": "allowed"})
    assert viewer.error(4024)["id"] == "er"
    assert b.wait("participant-joined")["participant"]["participantId"] == "modonly"
    assert b.quiet() is None
    close_all(a, b, viewer)


def test_remove_participant_sends_meeting_left_1002():
    room, (host, a, b) = meeting(("host", MOD), "a", "b")
    host.send({"type": "remove-participant", "id": "r", "participantId": "a"})
    host.wait("response")
    assert a.wait("meeting-left")["reason"]["code"] == 1002
    a.expect_closed()
    for ws in (host, b):
        m = ws.wait("participant-left")
        assert m["participantId"] == "a" and m["reason"]["name"] == "REMOVE_PEER"
    close_all(host, b)


# provokes 803
def test_request_mute_reaches_the_target():
    room, (host, a) = meeting(("host", MOD), "a")
    host.send({"type": "request-mute", "id": "m", "participantId": "a", "kind": "video"})
    host.wait("response")
    assert a.wait("mute-requested") == {"type": "mute-requested", "by": "host", "kind": "video"}
    host.send({"type": "request-mute", "id": "m2", "participantId": "a", "kind": "smell"})
    assert host.error(803)["id"] == "m2"
    close_all(host, a)


# provokes 201
def test_lock_twice_answers_201_without_leaving():
    room, (host, a) = meeting(("host", MOD), "a")
    host.send({"type": "lock", "id": "l1"})
    host.wait("response", id="l1")
    for ws in (host, a):
        assert ws.wait("lock-changed") == {"type": "lock-changed", "locked": True, "by": "host"}
    host.send({"type": "lock", "id": "l2"})
    e = host.error(201)
    assert e["name"] == "SESSION_GENERIC_ERROR_CODE" and e["fatal"] is False and e["id"] == "l2"
    host.send({"type": "unlock", "id": "u"})
    host.wait("response", id="u")
    assert a.wait("lock-changed")["locked"] is False
    close_all(host, a)


# provokes 101
# provokes 4010
def test_change_mode():
    room, (host, a, b) = meeting(("host", MOD), "a", "b", settings={"maxSpeakers": 3})
    a.send({"type": "change-mode", "id": "c1", "mode": "VIEWER"})
    a.wait("response", id="c1")
    for ws in (host, a, b):
        assert ws.wait("mode-changed") == {"type": "mode-changed", "participantId": "a", "mode": "VIEWER"}
    a.send({"type": "change-mode", "id": "c2", "mode": "DANCER"})
    assert a.error(101)["fatal"] is False
    # A moderator changes someone else's mode.
    host.send({"type": "change-mode", "id": "c3", "participantId": "b", "mode": "SIGNALLING_ONLY"})
    host.wait("response", id="c3")
    assert b.wait("mode-changed")["mode"] == "VIEWER"
    # Back to CONFERENCE: one speaker slot is free, then the limit holds.
    c, _ = S.join(KEY, room, "c")
    a.send({"type": "change-mode", "id": "c4", "mode": "CONFERENCE"})
    a.wait("response", id="c4")
    b.send({"type": "change-mode", "id": "c5", "mode": "CONFERENCE"})
    e = b.error(4010)
    assert e["fatal"] is False and e["id"] == "c5"
    b.send({"type": "ping", "id": "p"})
    b.wait("pong")
    close_all(host, a, b, c)


# provokes 4026
# provokes 4027
def test_change_mode_respects_organisation_limits():
    key = S.key(S.org(None, "--max-speakers", "1", "--max-viewers", "1"))
    room = S.room(key)
    a, _ = S.join(key, room, "a")
    b, _ = S.join(key, room, "b", mode="VIEWER")
    b.send({"type": "change-mode", "id": "s", "mode": "CONFERENCE"})
    assert b.error(4026)["fatal"] is False
    c, e = S.join(key, S.room(key), "c", expect="error", mode="VIEWER")
    assert e["code"] == 4027 and e["fatal"] is True
    a.send({"type": "change-mode", "id": "v", "mode": "VIEWER"})
    assert a.error(4027)["fatal"] is False
    close_all(a, b)


# provokes 105
# provokes 107
# provokes 108
# provokes 206
def test_publish():
    room, (a, b) = meeting("a", "b", settings={"maxPublishers": 1})
    a.send({"type": "publish", "id": "p1", "audio": True, "video": False})
    r = a.wait("response", id="p1")
    assert r["audio"] is True and r["video"] is False
    assert b.wait("publish-changed") == {"type": "publish-changed", "participantId": "a",
                                         "audio": True, "video": False}
    a.send({"type": "publish", "id": "p0", "audio": False, "video": False})
    assert a.error(105)["name"] == "USER_NOT_STREAMING_ERROR_CODE"
    b.send({"type": "publish", "id": "p2", "audio": True, "video": True})
    e = b.error(206)
    assert e["fatal"] is False and e["id"] == "p2"
    a.send({"type": "unpublish", "id": "u"})
    a.wait("response", id="u")
    assert b.wait("publish-changed")["audio"] is False
    b.send({"type": "publish", "id": "p3", "audio": True, "video": True})
    assert b.wait("response", id="p3")["video"] is True
    # Grants from the token.
    mic_only, _ = S.join(token(KEY, publish=["microphone"]), room, "mic")
    mic_only.send({"type": "publish", "id": "v", "audio": False, "video": True})
    assert mic_only.error(107)["id"] == "v"
    cam_only, _ = S.join(token(KEY, publish=["camera"]), room, "cam")
    cam_only.send({"type": "publish", "id": "m", "audio": True, "video": False})
    assert cam_only.error(108)["id"] == "m"
    close_all(a, b, mic_only, cam_only)


# provokes 101
def test_viewers_do_not_publish():
    room = S.room(KEY)
    v, _ = S.join(KEY, room, "v", mode="VIEWER")
    v.send({"type": "publish", "id": "p", "audio": True, "video": False})
    e = v.error(101)
    assert e["fatal"] is False and "VIEWER" in e["hint"]
    v.close()


# provokes 106
def test_sync_needs_the_synchronizer_role():
    room, (host, a, b) = meeting(("host", MOD), "a", "b")
    a.send({"type": "sync", "id": "s0", "position": 1.5, "rate": 1})
    e = a.error(106)
    assert e["name"] == "USER_NOT_AUTHORIZED_ERROR_CODE" and e["fatal"] is False
    host.send({"type": "set-synchronizer", "id": "ss", "participantId": "a"})
    host.wait("response", id="ss")
    for ws in (host, a, b):
        assert ws.wait("synchronizer-changed") == {"type": "synchronizer-changed", "participantId": "a"}
    a.send({"type": "sync", "id": "s1", "position": 12.25, "rate": 1.5, "paused": True})
    a.wait("response", id="s1")
    for ws in (host, b):
        assert ws.wait("sync-data") == {"type": "sync-data", "participantId": "a", "position": 12.25,
                                        "rate": 1.5, "paused": True}
    for bad in ({"position": -1, "rate": 1}, {"position": 1, "rate": 0}, {"rate": 1}):
        a.send({"type": "sync", "id": "bad", **bad})
        a.error(803)
    # The role goes with its holder.
    a.send({"type": "leave"})
    assert b.wait("synchronizer-changed")["participantId"] is None
    close_all(host, b)


def test_chat_reaches_everyone():
    room, (a, b) = meeting("a", "b")
    a.send({"type": "chat", "id": "c", "topic": "general", "message": "héllo"})
    a.wait("response", id="c")
    for ws in (a, b):
        m = ws.wait("chat")
        assert m["topic"] == "general" and m["from"] == "a" and m["message"] == "héllo"
        assert isinstance(m["timestamp"], int) and m["timestamp"] > 1_600_000_000_000
    close_all(a, b)


def test_refresh_token_answers_exp():
    room, (a,) = meeting("a")
    fresh = token(KEY, ttl=7200)
    a.send({"type": "refresh-token", "id": "rt", "token": fresh})
    r = a.wait("response", id="rt")
    assert isinstance(r["exp"], int) and r["exp"] > 0
    a.close()


# provokes 1100
def test_refresh_with_an_expired_token_answers_1100():
    room, (a, b) = meeting("a", "b")
    a.send({"type": "refresh-token", "id": "rt", "token": token(KEY, ttl=-120)})
    e, _ = a.fatal(1100, 1007, name="TOKEN_EXPIRED")
    assert e["id"] == "rt"
    assert b.wait("participant-left")["participantId"] == "a"
    b.close()


# provokes 1101
def test_refresh_with_missing_claims_answers_1101():
    room, (a,) = meeting("a")
    a.send({"type": "refresh-token", "id": "rt", "token": mint(claims(KEY, permissions=None), KEY["secret"])})
    a.fatal(1101, 1007, name="TOKEN_DATA_IS_NOT_VALID")
    room, (b,) = meeting("b")
    b.send({"type": "refresh-token", "id": "rt", "token": "garbage"})
    b.fatal(1101, 1007)


# provokes 4022
# provokes 4023
def test_refresh_with_a_token_bound_elsewhere_answers_4022_4023():
    room, (a,) = meeting("a")
    a.send({"type": "refresh-token", "id": "rt", "token": token(KEY, room=S.room(KEY))})
    a.fatal(4022, 1007, name="UNAUTHORIZED_MEETING_ID")
    room, (b,) = meeting("b")
    b.send({"type": "refresh-token", "id": "rt", "token": token(KEY, participant="someone-else")})
    b.fatal(4023, 1007, name="UNAUTHORIZED_PARTCIPANT_ID")


def test_session_ends_when_the_last_participant_leaves():
    room, (a,) = meeting("a")
    a.send({"type": "leave"})
    a.expect_closed()
    status, page = S.rest("GET", f"/v2/sessions?roomId={room}", S.admin_token(KEY))
    s = page["data"][0]
    assert s["status"] == "ended" and s["participants"][0]["timelog"][0]["end"]
    b, joined = S.join(KEY, room, "b")
    assert joined["sessionId"] != s["id"]
    b.close()


def test_server_stops_cleanly():
    S.assert_serving()
    S.stop()


harness.main()
