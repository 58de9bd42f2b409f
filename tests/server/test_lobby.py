#!/usr/bin/env python3
"""The ask_join waiting room and reconnection (docs/protocol.md §2.3, §2.5),
on a server with short timers: --entry-timeout 1, --reconnect-grace 1."""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
from server import Server, claims, mint, token  # noqa: E402

S = Server("--entry-timeout", "1", "--reconnect-grace", "1")
KEY = S.account()
HOST = ["allow_join", "allow_mod"]


def host_in(room, name="host"):
    ws, joined = S.join(token(KEY, permissions=HOST), room, name)
    return ws, joined


def ask(room, name):
    ws, waiting = S.join(token(KEY, permissions=["ask_join"]), room, name, expect="waiting")
    assert waiting == {"type": "waiting", "meetingId": room, "id": "j1"}, waiting
    return ws


def test_admitted_joiner_gets_joined():
    room = S.room(KEY)
    host, _ = host_in(room)
    guest = ask(room, "guest")
    req = host.wait("entry-requested")
    assert req == {"type": "entry-requested", "participantId": "guest", "name": "guest"}
    host.send({"type": "entry-response", "id": "d", "participantId": "guest", "decision": "allowed"})
    host.wait("response", id="d")
    assert host.wait("entry-responded") == {"type": "entry-responded", "participantId": "guest",
                                            "decision": "allowed"}
    assert guest.wait("entry-responded")["decision"] == "allowed"
    joined = guest.wait("joined")
    assert joined["id"] == "j1" and joined["permissions"] == ["ask_join"]
    assert [p["participantId"] for p in joined["participants"]] == ["host"]
    assert host.wait("participant-joined")["participant"]["participantId"] == "guest"
    # Admitted, the guest may act like anyone else.
    guest.send({"type": "chat", "id": "c", "topic": "t", "message": "thanks"})
    guest.wait("response", id="c")
    host.close()
    guest.close()


def test_denied_joiner_leaves():
    room = S.room(KEY)
    host, _ = host_in(room)
    guest = ask(room, "guest")
    host.wait("entry-requested")
    host.send({"type": "entry-response", "id": "d", "participantId": "guest", "decision": "denied"})
    host.wait("response", id="d")
    assert guest.wait("entry-responded")["decision"] == "denied"
    assert guest.wait("meeting-left")["reason"]["code"] == 1103
    guest.expect_closed()
    assert host.wait("entry-responded")["decision"] == "denied"
    assert host.quiet() is None  # no participant-left: the guest never joined
    host.close()


def test_nobody_decides_within_the_entry_timeout():
    room = S.room(KEY)
    t0 = time.monotonic()
    guest = ask(room, "guest")
    assert guest.wait("entry-responded", timeout=4)["decision"] == "denied"
    assert 0.8 < time.monotonic() - t0 < 3
    assert guest.wait("meeting-left")["reason"]["code"] == 1103
    guest.expect_closed()


def test_a_host_arriving_later_is_asked():
    room = S.room(KEY, settings={"entryTimeout": 5})
    guest = ask(room, "early")
    host, joined = host_in(room)
    assert joined["participants"] == []  # the waiting joiner is not in the meeting
    assert host.wait("entry-requested")["participantId"] == "early"
    host.send({"type": "entry-response", "participantId": "early", "decision": "allowed"})
    guest.wait("joined")
    host.close()
    guest.close()


# provokes 803
# provokes 4024
def test_entry_response_checks():
    room = S.room(KEY)
    host, _ = host_in(room)
    plain, _ = S.join(token(KEY, permissions=["allow_mod"]), room, "plain")
    guest = ask(room, "guest")
    host.wait("entry-requested")
    plain.send({"type": "entry-response", "id": "x", "participantId": "guest", "decision": "allowed"})
    assert plain.error(4024)["fatal"] is False
    host.send({"type": "entry-response", "id": "y", "participantId": "guest", "decision": "maybe"})
    assert host.error(803)["id"] == "y"
    host.send({"type": "entry-response", "id": "z", "participantId": "plain", "decision": "allowed"})
    assert host.error(102)["id"] == "z"  # plain is in, not waiting
    # A waiting joiner cannot act before it is admitted.
    guest.send({"type": "chat", "id": "c", "topic": "t", "message": "let me in"})
    assert guest.error(102)["id"] == "c"
    for ws in (host, plain, guest):
        ws.close()


# provokes 901
def test_closing_while_waiting_is_recorded_as_901():
    room = S.room(KEY, settings={"entryTimeout": 5})
    host, _ = host_in(room)
    guest = ask(room, "impatient")
    host.wait("entry-requested")
    guest.close()
    deadline = time.monotonic() + 3
    rows = []
    while time.monotonic() < deadline and not rows:
        rows = S.errors(KEY, code=901, roomId=room)
        time.sleep(0.05)
    assert len(rows) == 1, rows
    r = rows[0]
    assert r["name"] == "GENERIC_CONNECTION_ERROR" and r["participantId"] == "impatient" and r["requestId"]
    assert any(line.get("code") == 901 and line.get("requestId") == r["requestId"] for line in S.log_lines())
    # The host may no longer admit it.
    host.send({"type": "entry-response", "id": "late", "participantId": "impatient", "decision": "allowed"})
    assert host.error(102)["id"] == "late"
    host.close()


def reconnect(room, pid, secret, tok=None):
    ws = S.ws()
    ws.send({"type": "reconnect", "id": "r1", "token": tok or token(KEY), "meetingId": room,
             "participantId": pid, "secret": secret})
    return ws


def test_reconnect_within_the_grace_keeps_the_place():
    room = S.room(KEY)
    other, _ = S.join(KEY, room, "other")
    alice, joined = S.join(KEY, room, "alice")
    other.wait("participant-joined")
    alice.conn.transport.abort()  # the network drops, no goodbye
    back = reconnect(room, "alice", joined["secret"])
    again = back.wait("joined")
    assert again["reconnected"] is True and again["id"] == "r1"
    assert again["sessionId"] == joined["sessionId"] and again["secret"] == joined["secret"]
    assert [p["participantId"] for p in again["participants"]] == ["other"]
    time.sleep(1.3)  # past the grace: nobody noticed anything
    assert other.quiet() is None
    back.send({"type": "chat", "id": "c", "topic": "t", "message": "I am back"})
    assert other.wait("chat")["from"] == "alice"
    other.close()
    back.close()


def test_grace_expiry_tells_the_others_1001():
    room = S.room(KEY)
    other, _ = S.join(KEY, room, "other")
    alice, joined = S.join(KEY, room, "alice")
    other.wait("participant-joined")
    alice.conn.transport.abort()
    t0 = time.monotonic()
    left = other.wait("participant-left", timeout=4)
    assert 0.8 < time.monotonic() - t0 < 3
    assert left["participantId"] == "alice" and left["reason"]["code"] == 1001
    assert left["reason"]["name"] == "WEBSOCKET_DISCONNECTED"
    # Too late now: no such participant to resume.
    late = reconnect(room, "alice", joined["secret"])
    assert late.error(106)["fatal"] is False
    other.close()


# provokes 103
def test_asking_a_participant_whose_connection_dropped_answers_103():
    room = S.room(KEY)
    host, _ = host_in(room)
    alice, _ = S.join(KEY, room, "alice")
    host.wait("participant-joined")
    alice.conn.transport.abort()  # the network drops; alice is away, within her grace
    # Until the server has seen the drop, the request still reaches her socket
    # (answered ok); once it has, the answer is 103, never a silent ok.
    deadline = time.monotonic() + 0.8
    answer = None
    n = 0
    while time.monotonic() < deadline:
        n += 1
        host.send({"type": "request-mute", "id": f"m{n}", "participantId": "alice", "kind": "audio"})
        answer = host.next()
        if answer["type"] == "error":
            break
        assert answer["type"] == "response" and answer["ok"] is True, answer
        time.sleep(0.05)
    assert answer["type"] == "error" and answer["code"] == 103, answer
    assert answer["name"] == "USER_CLOSED_ERROR_CODE" and answer["fatal"] is False, answer
    assert answer["id"] == f"m{n}" and "closed" in answer["hint"], answer
    # After the grace she has left: the same request is about nobody (102).
    host.wait("participant-left", timeout=4)
    host.send({"type": "request-mute", "id": "late", "participantId": "alice", "kind": "audio"})
    assert host.error(102)["id"] == "late"
    host.close()


def test_reconnect_replaces_a_half_open_connection():
    room = S.room(KEY)
    other, _ = S.join(KEY, room, "other")
    alice, joined = S.join(KEY, room, "alice")
    other.wait("participant-joined")
    back = reconnect(room, "alice", joined["secret"])
    back.wait("joined")
    alice.fatal(4005, 1011)
    assert other.quiet() is None
    other.close()
    back.close()


# provokes 106
def test_reconnect_with_a_wrong_secret_answers_106():
    room = S.room(KEY)
    alice, joined = S.join(KEY, room, "alice")
    alice.conn.transport.abort()
    ws = reconnect(room, "alice", "not-the-secret")
    e = ws.error(106)
    assert e["name"] == "USER_NOT_AUTHORIZED_ERROR_CODE" and e["fatal"] is False and e["id"] == "r1"
    ws.send({"type": "reconnect", "id": "r2", "token": token(KEY), "meetingId": room,
             "participantId": "alice", "secret": joined["secret"]})
    assert ws.wait("joined")["reconnected"] is True
    ws.close()


# provokes 1100
def test_reconnect_with_an_expired_token_answers_1100():
    room = S.room(KEY)
    alice, joined = S.join(KEY, room, "alice")
    alice.conn.transport.abort()
    ws = reconnect(room, "alice", joined["secret"], tok=token(KEY, ttl=-120))
    ws.fatal(1100, 1001, name="TOKEN_EXPIRED")


# provokes 1101
def test_reconnect_with_missing_claims_answers_1101():
    room = S.room(KEY)
    alice, joined = S.join(KEY, room, "alice")
    alice.conn.transport.abort()
    for tok in (mint(claims(KEY, permissions=None), KEY["secret"]),
                mint(claims(KEY, apikey=None), KEY["secret"]),
                mint(claims(KEY), "wrong-secret"), token(KEY, room=S.room(KEY))):
        ws = reconnect(room, "alice", joined["secret"], tok=tok)
        ws.fatal(1101, 1001, name="TOKEN_DATA_IS_NOT_VALID")


# provokes 203
def test_reconnect_after_the_session_ended_answers_203():
    room = S.room(KEY)
    alice, joined = S.join(KEY, room, "alice")
    status, _ = S.rest("POST", "/v2/sessions/end", S.admin_token(KEY), {"roomId": room})
    assert status == 200
    assert alice.wait("meeting-left")["reason"]["code"] == 1009
    ws = reconnect(room, "alice", joined["secret"])
    e, left = ws.fatal(203, 1006, name="SESSION_CLOSED_ERROR_CODE")
    assert left["reason"]["name"] == "ROOM_CLOSE"


# provokes 4003
def test_reconnect_to_an_unknown_meeting_answers_4003():
    ws = reconnect("zzzz-zzzz-zzzz", "alice", "s")
    ws.fatal(4003, 1001)


# provokes 803
def test_reconnect_needs_its_fields():
    ws = S.ws()
    ws.send({"type": "reconnect", "id": "r", "token": token(KEY), "meetingId": "abcd-efgh-ijkl",
             "participantId": "alice"})
    e = ws.error(803)
    assert "secret" in e["hint"] and e["fatal"] is False
    ws.close()


def test_server_stops_cleanly():
    S.assert_serving()
    S.stop()


harness.main()
