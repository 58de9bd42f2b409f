#!/usr/bin/env python3
"""Joining a meeting over raw WebSocket: every refusal of docs/protocol.md §1
and §2.4 provoked for its real cause, with its code, name, fatal flag, the
meeting-left that follows (JOIN_ROOM_FAILED, 1103) and the close; and the
server still serving others afterwards."""
import os
import sqlite3
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
from server import Server, claims, mint, token  # noqa: E402

CONTACT = "ops@parley.example"
S = Server("--operator-contact", CONTACT)
KEY = S.account()
JOIN_FAILED = 1103


def refused(tok, meeting, code, name=None, participant=None, **fields):
    """Join and expect a fatal code; returns the error event."""
    ws, _ = S.join(tok, meeting, participant, expect="error", **fields)
    ws.pending.insert(0, _)
    e, _ = ws.fatal(code, JOIN_FAILED, name=name)
    assert e["id"] == "j1" and e["requestId"], e
    return e


# provokes 4002
def test_bad_tokens_answer_4002():
    room = S.room(KEY)
    c = claims(KEY)
    bad = {
        "not a JWT": "not-a-token",
        "alg none": mint(c, KEY["secret"], alg="none"),
        "HS512": mint(c, KEY["secret"], alg="HS512"),
        "wrong secret": mint(c, "x" * 64),
        "expired": token(KEY, ttl=-120),
        "not yet valid": mint(claims(KEY, nbf=int(__import__("time").time()) + 600), KEY["secret"]),
    }
    for what, tok in bad.items():
        e = refused(tok, room, 4002, "INVALID_TOKEN")
        assert "roomId" not in e, (what, e)
    # A join without any token at all.
    ws = S.ws()
    ws.send({"type": "join", "meetingId": room})
    ws.fatal(4002, JOIN_FAILED)
    S.assert_serving()


# provokes 4001
def test_unknown_or_missing_apikey_answers_4001():
    room = S.room(KEY)
    stranger = {"apikey": "00000000-0000-4000-8000-000000000000", "secret": "s" * 64}
    refused(token(stranger), room, 4001, "INVALID_API_KEY")
    refused(mint(claims(KEY, apikey=None), KEY["secret"]), room, 4001)
    S.assert_serving()


# provokes 4006
def test_deactivated_organisation_answers_4006_with_the_operator_contact():
    org = S.org()
    key = S.key(org)
    room = S.room(key)
    S.admin("org", "set", org, "--state", "deactivated")
    e = refused(token(key), room, 4006, "ACCOUNT_DEACTIVATED")
    assert e["message"].endswith(f"Contact the operator: {CONTACT}."), e
    S.admin("org", "set", org, "--state", "active")
    ws, joined = S.join(key, room, "back")
    assert joined["participantId"] == "back"
    ws.close()


# provokes 4007
def test_discontinued_organisation_answers_4007_with_the_operators_words():
    org = S.org()
    key = S.key(org)
    room = S.room(key)
    S.admin("org", "set", org, "--state", "discontinued", "--message", "Moved to the new cluster.")
    e = refused(token(key), room, 4007, "ACCOUNT_DISCONTINUED")
    assert "Moved to the new cluster." in e["message"] and CONTACT in e["message"], e


# provokes 4008
def test_invalid_permissions_answer_4008():
    room = S.room(KEY)
    for perms in (("ask_join", "allow_join"), ("ask_join", "allow_mod"), ("allow_join", "dance"), (), None):
        refused(token(KEY, permissions=perms), room, 4008, "INVALID_PERMISSIONS")


# provokes 4024
def test_token_without_rtc_role_answers_4024():
    room = S.room(KEY)
    refused(token(KEY, roles=["crawler"]), room, 4024, "UNAUTHORIZED_ROLE")
    # Roles only take effect with version 2.
    ws, joined = S.join(token(KEY, roles=["crawler"], version=1), room, "v1")
    ws.close()


# provokes 4003
def test_bad_or_unknown_meeting_answers_4003():
    other_org_room = S.room(S.account())
    for meeting in ("", "no spaces allowed", "x" * 200, "zzzz-zzzz-zzzz", other_org_room):
        refused(token(KEY), meeting, 4003, "INVALID_MEETING_ID")
    ws = S.ws()
    ws.send({"type": "join", "id": "j1", "token": token(KEY)})
    ws.fatal(4003, JOIN_FAILED)


# provokes 203
def test_deactivated_room_answers_203():
    room = S.room(KEY)
    status, _ = S.rest("POST", "/v2/rooms/deactivate", S.admin_token(KEY), {"roomId": room})
    assert status == 200
    e = refused(token(KEY), room, 203, "SESSION_CLOSED_ERROR_CODE")
    assert e["roomId"] == room


# provokes 4022
def test_token_bound_to_another_room_answers_4022():
    room, other = S.room(KEY), S.room(KEY)
    refused(token(KEY, room=other), room, 4022, "UNAUTHORIZED_MEETING_ID")
    ws, _ = S.join(token(KEY, room=room), room, "bound")
    ws.close()
    # customRoomId binding works the same way.
    S.room(KEY, custom="weekly-sync")
    ws, joined = S.join(token(KEY, room="weekly-sync"), "weekly-sync", "bound2")
    ws.close()


# provokes 4004
def test_invalid_participant_id_answers_4004():
    room = S.room(KEY)
    for pid in ("two words", "", "x" * 65, "tab\there", "nl\n"):
        refused(token(KEY), room, 4004, "INVALID_PARTICIPANT_ID", participant=pid)
    # With no participantId the server picks one.
    ws, joined = S.join(KEY, room)
    assert joined["participantId"]
    ws.close()


# provokes 4023
def test_token_bound_to_another_participant_answers_4023():
    room = S.room(KEY)
    refused(token(KEY, participant="alice"), room, 4023, "UNAUTHORIZED_PARTCIPANT_ID", participant="mallory")
    ws, joined = S.join(token(KEY, participant="alice"), room)
    assert joined["participantId"] == "alice"
    ws.close()


# provokes 4025
def test_origin_or_key_outside_the_rooms_security_answers_4025():
    room = S.room(KEY, settings={"allowedOrigins": ["https://app.example"]})
    ws = S.ws(origin="https://evil.example")
    ws.send({"type": "join", "id": "j1", "token": token(KEY), "meetingId": room, "participantId": "eve"})
    e, _ = ws.fatal(4025, JOIN_FAILED, name="UNAUTHORIZED_REQUEST")
    ws = S.ws(origin="https://app.example")
    ws.send({"type": "join", "id": "j1", "token": token(KEY), "meetingId": room, "participantId": "amy"})
    ws.wait("joined")
    ws.close()
    # A key bound to one room used for another.
    org = S.org()
    k = S.key(org)
    a, b = S.room(k), S.room(k)
    bound = S.key(org, room=a)
    refused(token(bound), b, 4025)
    ws, _ = S.join(bound, a, "ok")
    ws.close()


# provokes 101
def test_invalid_mode_answers_101_and_the_connection_stays():
    room = S.room(KEY)
    ws = S.ws()
    ws.send({"type": "join", "id": "j1", "token": token(KEY), "meetingId": room, "mode": "PRESENTER"})
    e = ws.error(101)
    assert e["name"] == "USER_GENERIC_ERROR_CODE" and e["fatal"] is False
    ws.send({"type": "join", "id": "j2", "token": token(KEY), "meetingId": room, "mode": "SIGNALLING_ONLY"})
    joined = ws.wait("joined")
    assert joined["mode"] == "VIEWER" and joined["id"] == "j2"
    ws.close()


def moderator(room, pid="host"):
    return S.join(token(KEY, permissions=["allow_join", "allow_mod"]), room, pid)[0]


# provokes 201
def test_locked_room_answers_201():
    room = S.room(KEY)
    host = moderator(room)
    host.send({"type": "lock", "id": "l"})
    host.wait("response", id="l")
    refused(token(KEY), room, 201, "SESSION_GENERIC_ERROR_CODE", participant="late")
    host.send({"type": "unlock", "id": "u"})
    host.wait("response", id="u")
    ws, _ = S.join(KEY, room, "late")
    ws.close()
    host.close()


# provokes 104
def test_duplicate_under_reject_policy_answers_104_to_the_newcomer():
    room = S.room(KEY, settings={"duplicatePolicy": "reject"})
    first, _ = S.join(KEY, room, "alice")
    refused(token(KEY), room, 104, "EXISTING_USER_IN_SESSION_ERROR_CODE", participant="alice")
    first.send({"type": "ping", "id": "p"})
    assert first.wait("pong")["id"] == "p"
    assert first.quiet() is None
    first.close()


# provokes 4005
def test_duplicate_under_replace_policy_sends_4005_to_the_older_connection():
    room = S.room(KEY)
    watcher, _ = S.join(KEY, room, "watcher")
    old, _ = S.join(KEY, room, "alice")
    watcher.wait("participant-joined")
    new, joined = S.join(KEY, room, "alice")
    e, left = old.fatal(4005, 1011, name="DUPLICATE_PARTICIPANT")
    assert left["reason"]["name"] == "DUPLICATE_PARTICIPANT"
    assert e["participantId"] == "alice" and e["roomId"] == room
    assert joined["participantId"] == "alice" and joined["sessionId"]
    gone = watcher.wait("participant-left")
    assert gone["participantId"] == "alice" and gone["reason"]["code"] == 1011
    assert watcher.wait("participant-joined")["participant"]["participantId"] == "alice"
    for ws in (watcher, new):
        ws.close()


# provokes 4009
def test_participant_limit_answers_4009():
    room = S.room(KEY, settings={"maxParticipants": 2})
    a, _ = S.join(KEY, room, "a")
    b, _ = S.join(KEY, room, "b")
    e = refused(token(KEY), room, 4009, "MAX_PARTCIPANT_REACHED", participant="c")
    assert CONTACT in e["message"]
    b.send({"type": "leave"})
    b.expect_closed()
    c, _ = S.join(KEY, room, "c")
    for ws in (a, c):
        ws.close()


# provokes 4010
def test_speaker_limit_answers_4010_and_viewers_still_join():
    room = S.room(KEY, settings={"maxSpeakers": 1})
    a, _ = S.join(KEY, room, "speaker")
    refused(token(KEY), room, 4010, "MAX_SPEAKER_REACHED", participant="second")
    v, joined = S.join(KEY, room, "viewer", mode="VIEWER")
    assert joined["mode"] == "VIEWER"
    for ws in (a, v):
        ws.close()


# provokes 4026
def test_organisation_speaker_limit_answers_4026():
    key = S.key(S.org(None, "--max-speakers", "1"))
    r1, r2 = S.room(key), S.room(key)
    a, _ = S.join(key, r1, "a")
    refused(token(key), r2, 4026, "MAX_SPEAKER_LIMIT_REACHED_ON_ORGANIZATION", participant="b")
    v, _ = S.join(key, r2, "v", mode="VIEWER")
    for ws in (a, v):
        ws.close()


# provokes 4027
def test_organisation_viewer_limit_answers_4027():
    key = S.key(S.org(None, "--max-viewers", "1"))
    r1, r2 = S.room(key), S.room(key)
    a, _ = S.join(key, r1, "a", mode="VIEWER")
    refused(token(key), r2, 4027, "MAX_VIEWER_LIMIT_REACHED_ON_ORGANIZATION", participant="b", mode="VIEWER")
    s, _ = S.join(key, r2, "s")
    for ws in (a, s):
        ws.close()


# provokes 204
def test_session_capacity_answers_204():
    with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
        f.write("# capacity for one meeting\nmax-sessions = 1\n")
    try:
        with Server("--config", f.name) as s:
            key = s.account()
            r1, r2 = s.room(key), s.room(key)
            a, _ = s.join(key, r1, "a")
            ws, e = s.join(key, r2, "b", expect="error")
            ws.pending.insert(0, e)
            e, _ = ws.fatal(204, JOIN_FAILED, name="SESSION_CANNOT_BE_CREATED_ERROR_CODE")
            # The live meeting is unaffected and takes more people.
            b, _ = s.join(key, r1, "b")
            a.send({"type": "leave"})
            b.send({"type": "leave"})
            a.expect_closed()
            b.expect_closed()
            c, _ = s.join(key, r2, "c")
            c.close()
    finally:
        os.unlink(f.name)


# provokes 204 injected
def test_store_failure_when_creating_the_session_answers_204():
    room = S.room(KEY)
    db = sqlite3.connect(os.path.join(S.data, "parley.db"))
    db.execute("CREATE TRIGGER fail_sessions BEFORE INSERT ON sessions "
               "BEGIN SELECT RAISE(FAIL, 'disk quota exceeded'); END")
    db.commit()
    try:
        refused(token(KEY), room, 204, "SESSION_CANNOT_BE_CREATED_ERROR_CODE", participant="a")
    finally:
        db.execute("DROP TRIGGER fail_sessions")
        db.commit()
        db.close()
    ws, _ = S.join(KEY, room, "a")
    ws.close()


# provokes 107
# provokes 108
def test_media_without_the_publish_grant_answers_107_108_after_joined():
    room = S.room(KEY)
    ws, joined = S.join(token(KEY, publish=["screen"]), room, "nomedia", micEnabled=True, webcamEnabled=True)
    assert joined["audio"] is False and joined["video"] is False
    e108 = ws.error(108)
    e107 = ws.error(107)
    assert e108["name"] == "USER_AUDIO_PERMISSION_DENIED_ERROR_CODE" and e108["fatal"] is False
    assert e107["name"] == "USER_VIDEO_PERMISSION_DENIED_ERROR_CODE" and e107["fatal"] is False
    ws.send({"type": "ping", "id": "still"})
    ws.wait("pong")
    ok, joined = S.join(token(KEY, publish=["microphone"]), room, "mic", micEnabled=True)
    assert joined["audio"] is True and joined["video"] is False
    assert ok.quiet() is None
    for w in (ws, ok):
        w.close()


# provokes 206
def test_publisher_limit_at_join_answers_206():
    room = S.room(KEY, settings={"maxPublishers": 1})
    a, ja = S.join(KEY, room, "a", micEnabled=True)
    assert ja["audio"] is True
    b, jb = S.join(KEY, room, "b", micEnabled=True, webcamEnabled=True)
    assert jb["audio"] is False and jb["video"] is False
    e = b.error(206)
    assert e["name"] == "SESSION_IS_FULL_ERROR_CODE" and e["fatal"] is False
    for w in (a, b):
        w.close()


def test_checks_run_in_the_documented_order():
    room = S.room(KEY, settings={"maxParticipants": 1})
    other = S.room(KEY)
    # An invalid meetingId wins over an invalid participantId, a bad token over both.
    refused("garbage", "bad id!", 4002, participant="bad id")
    refused(token(KEY), "bad id!", 4003, participant="bad id")
    # Room binding (4022) before the participant (4004).
    refused(token(KEY, room=other), room, 4022, participant="bad id")
    # Mode (101) before the lock and the limits.
    a, _ = S.join(KEY, room, "a")
    ws, e = S.join(KEY, room, "b", expect="error", mode="BOSS")
    assert e["code"] == 101
    ws.close()
    refused(token(KEY), room, 4009, participant="b")
    a.close()


def test_joined_message_shape():
    room = S.room(KEY)
    a, _ = S.join(KEY, room, "alice", name="Alice")
    b, joined = S.join(token(KEY, permissions=["allow_join", "allow_mod"]), room, "bob", name="Bob")
    assert joined["type"] == "joined" and joined["id"] == "j1"
    assert joined["meetingId"] == room and len(joined["secret"]) >= 32
    assert joined["permissions"] == ["allow_join", "allow_mod"]
    assert joined["locked"] is False and joined["synchronizer"] is None and joined["reconnected"] is False
    assert joined["participants"] == [{"participantId": "alice", "name": "Alice", "mode": "CONFERENCE",
                                       "audio": False, "video": False}]
    pj = a.wait("participant-joined")["participant"]
    assert pj["participantId"] == "bob" and pj["name"] == "Bob"
    for w in (a, b):
        w.close()


def test_errors_are_recorded_with_their_request_id():
    room = S.room(KEY)
    e = refused(token(KEY), room, 4004, participant="a b")
    rows = S.errors(KEY, roomId=room, code=4004)
    assert any(r["requestId"] == e["requestId"] for r in rows), rows
    assert any(line.get("requestId") == e["requestId"] and line.get("code") == 4004
               for line in S.log_lines())


def test_server_stops_cleanly():
    S.assert_serving()
    S.stop()


harness.main()
