#!/usr/bin/env python3
"""The REST API v2 (docs/protocol.md §3): shapes of rooms, sessions, pages and
the error history, and every refusal with its code and HTTP status."""
import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
from server import Server, claims, mint, token  # noqa: E402

S = Server("--operator-contact", "https://status.parley.example")
KEY = S.account()
ADMIN = S.admin_token(KEY)
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$")
ROOM_ID = re.compile(r"^[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}$")


def refused(method, path, tok, status, code, name=None, body=None, raw=None):
    got, r = S.rest(method, path, tok, body, raw=raw)
    assert (got, r and r.get("code")) == (status, code), (method, path, got, r)
    assert r["statusCode"] == status and r["message"] and r["requestId"], r
    if name:
        assert r["name"] == name, r
    return r


def test_healthz_needs_no_token():
    assert S.rest("GET", "/healthz") == (200, {"ok": True})


def test_room_shape():
    status, r = S.rest("POST", "/v2/rooms", ADMIN, {})
    assert status == 200
    assert ROOM_ID.match(r["roomId"]) and re.match(r"^[0-9a-f]{24}$", r["id"])
    assert r["customRoomId"] is None and r["disabled"] is False
    assert ISO.match(r["createdAt"]) and ISO.match(r["updatedAt"])
    assert r["settings"] == {"maxParticipants": 0, "maxSpeakers": 0, "maxPublishers": 0,
                             "duplicatePolicy": "replace", "allowedOrigins": [], "entryTimeout": 60}
    assert set(r["links"]) == {"get_room", "get_session"}
    # No body at all is the same as {}.
    status, r2 = S.rest("POST", "/v2/rooms", ADMIN)
    assert status == 200 and r2["roomId"] != r["roomId"]
    # "Bearer " is tolerated.
    status, r3 = S.rest("GET", "/v2/rooms/" + r["roomId"], "Bearer " + ADMIN)
    assert status == 200 and r3 == r


def test_custom_room_id_is_idempotent():
    _, a = S.rest("POST", "/v2/rooms", ADMIN, {"customRoomId": "design-review", "settings": {"maxSpeakers": 4}})
    _, b = S.rest("POST", "/v2/rooms", ADMIN, {"customRoomId": "design-review"})
    assert a["roomId"] == b["roomId"] and a["customRoomId"] == "design-review"
    assert S.rest("GET", "/v2/rooms/design-review", ADMIN)[1]["roomId"] == a["roomId"]
    assert S.rest("GET", "/v2/rooms/validate/design-review", ADMIN)[1]["roomId"] == a["roomId"]
    assert S.rest("POST", "/v2/rooms/validate/" + a["roomId"], ADMIN)[1]["customRoomId"] == "design-review"


def test_update_and_deactivate():
    room = S.room(KEY)
    status, r = S.rest("POST", "/v2/rooms/" + room, ADMIN,
                       {"settings": {"maxParticipants": 3, "duplicatePolicy": "reject"}})
    assert status == 200 and r["settings"]["maxParticipants"] == 3
    assert r["settings"]["duplicatePolicy"] == "reject" and r["settings"]["maxSpeakers"] == 0
    status, r = S.rest("POST", "/v2/rooms/" + room, ADMIN, {"status": "disabled"})
    assert r["disabled"] is True
    status, r = S.rest("POST", "/v2/rooms/" + room, ADMIN, {"status": "enabled"})
    assert r["disabled"] is False
    # Deactivating a live room ends its meeting.
    ws, _ = S.join(KEY, room, "inside")
    status, r = S.rest("POST", "/v2/rooms/deactivate", ADMIN, {"roomId": room})
    assert status == 200 and r["disabled"] is True
    assert ws.wait("meeting-left")["reason"]["code"] == 1006
    ws.expect_closed()


def test_room_list_pages():
    key = S.account()
    tok = S.admin_token(key)
    rooms = [S.room(key) for _ in range(3)]
    status, page = S.rest("GET", "/v2/rooms?perPage=2", tok)
    assert status == 200
    assert page["pageInfo"] == {"currentPage": 1, "perPage": 2, "lastPage": 2, "total": 3}
    assert [r["roomId"] for r in page["data"]] == rooms[::-1][:2]
    status, page = S.rest("GET", "/v2/rooms?perPage=2&page=2", tok)
    assert [r["roomId"] for r in page["data"]] == rooms[:1]


# provokes 803
def test_bad_bodies_and_queries_answer_803_400():
    refused("POST", "/v2/rooms", ADMIN, 400, 803, "TRANSPORT_ERROR_CODE", raw=b"{not json")
    refused("POST", "/v2/rooms", ADMIN, 400, 803, raw=b"[1,2]")
    refused("POST", "/v2/rooms", ADMIN, 400, 803, body={"settings": {"maxParticipants": "many"}})
    refused("POST", "/v2/rooms", ADMIN, 400, 803, body={"settings": {"duplicatePolicy": "merge"}})
    refused("POST", "/v2/rooms", ADMIN, 400, 803, body={"settings": 5})
    refused("POST", "/v2/rooms", ADMIN, 400, 803, body={"customRoomId": "has space"})
    refused("POST", "/v2/rooms", ADMIN, 400, 803, raw=b'{"customRoomId":"' + b"x" * 70000 + b'"}')
    refused("GET", "/v2/rooms?perPage=abc", ADMIN, 400, 803)
    refused("GET", "/v2/rooms?page=0", ADMIN, 400, 803)
    refused("POST", "/v2/rooms/deactivate", ADMIN, 400, 803, body={})
    refused("POST", "/v2/rooms/" + S.room(KEY), ADMIN, 400, 803, body={"status": "paused"})
    refused("POST", "/v2/sessions/end", ADMIN, 400, 803, body={"sessionId": "x"})
    refused("GET", "/v2/errors?code=lots", ADMIN, 400, 803)
    S.assert_serving()


# provokes 4003
def test_bad_or_unknown_room_answers_4003():
    refused("GET", "/v2/rooms/bad%20id", ADMIN, 400, 4003, "INVALID_MEETING_ID")
    refused("GET", "/v2/rooms/zzzz-zzzz-zzzz", ADMIN, 404, 4003)
    refused("GET", "/v2/rooms/validate/zzzz-zzzz-zzzz", ADMIN, 404, 4003)
    refused("GET", "/v2/sessions?roomId=zzzz-zzzz-zzzz", ADMIN, 404, 4003)
    # Another organisation's room is unknown here.
    other = S.room(S.account())
    refused("GET", "/v2/rooms/" + other, ADMIN, 404, 4003)


# provokes 999
def test_unknown_path_answers_999_404():
    refused("GET", "/v2/nothing-here", ADMIN, 404, 999, "GENERIC_ERROR_CODE")
    refused("GET", "/v3/rooms", None, 404, 999)
    refused("DELETE", "/v2/rooms", ADMIN, 404, 999)
    refused("PUT", "/v2/rooms/abcd-efgh-ijkl", ADMIN, 404, 999, body={})


# provokes 4002
def test_bad_tokens_answer_4002_401():
    c = claims(KEY, permissions=["allow_join"])
    for tok in (None, "", "garbage", mint(c, KEY["secret"], alg="none"), mint(c, KEY["secret"], alg="HS512"),
                mint(c, "wrong"), token(KEY, ttl=-120)):
        refused("GET", "/v2/rooms", tok, 401, 4002, "INVALID_TOKEN")


# provokes 4001
def test_unknown_apikey_answers_4001_401():
    stranger = {"apikey": "00000000-0000-4000-8000-000000000000", "secret": "s" * 64}
    refused("GET", "/v2/rooms", token(stranger), 401, 4001, "INVALID_API_KEY")
    refused("GET", "/v2/rooms", mint(claims(KEY, apikey=None), KEY["secret"]), 401, 4001)


# provokes 4006
# provokes 4007
def test_account_states_answer_4006_4007_403():
    org = S.org()
    key = S.key(org)
    S.admin("org", "set", org, "--state", "deactivated")
    r = refused("GET", "/v2/rooms", token(key), 403, 4006, "ACCOUNT_DEACTIVATED")
    assert r["message"].endswith("Contact the operator: https://status.parley.example."), r
    S.admin("org", "set", org, "--state", "discontinued", "--message", "Service ends in March.")
    r = refused("POST", "/v2/rooms", token(key), 403, 4007, "ACCOUNT_DISCONTINUED", body={})
    assert "Service ends in March." in r["message"]
    S.admin("org", "set", org, "--state", "active")
    assert S.rest("GET", "/v2/rooms", token(key))[0] == 200


# provokes 4008
def test_invalid_permissions_answer_4008_403():
    refused("GET", "/v2/rooms", token(KEY, permissions=["ask_join", "allow_mod"]), 403, 4008)
    refused("GET", "/v2/rooms", token(KEY, permissions=["superuser"]), 403, 4008, "INVALID_PERMISSIONS")


# provokes 4024
def test_token_without_crawler_role_answers_4024_403():
    refused("GET", "/v2/rooms", token(KEY, roles=["rtc"]), 403, 4024, "UNAUTHORIZED_ROLE")
    assert S.rest("GET", "/v2/rooms", token(KEY, roles=["crawler"]))[0] == 200


# provokes 4022
def test_token_bound_to_another_room_answers_4022_403():
    a, b = S.room(KEY), S.room(KEY)
    bound = token(KEY, room=a, permissions=["allow_join"])
    assert S.rest("GET", "/v2/rooms/" + a, bound)[0] == 200
    refused("GET", "/v2/rooms/" + b, bound, 403, 4022, "UNAUTHORIZED_MEETING_ID")
    refused("POST", "/v2/sessions/end", bound, 403, 4022, body={"roomId": b})


# provokes 4025
def test_key_bound_to_another_room_answers_4025_403():
    org = S.org()
    k = S.key(org)
    a, b = S.room(k), S.room(k)
    bound = S.key(org, room=a)
    assert S.rest("GET", "/v2/rooms/" + a, token(bound))[0] == 200
    refused("GET", "/v2/rooms/" + b, token(bound), 403, 4025, "UNAUTHORIZED_REQUEST")


def test_sessions_and_participants():
    room = S.room(KEY)
    a, joined = S.join(KEY, room, "alice", name="Alice")
    b, _ = S.join(KEY, room, "bob")
    sid = joined["sessionId"]
    status, page = S.rest("GET", f"/v2/sessions?roomId={room}", ADMIN)
    assert status == 200 and page["pageInfo"]["total"] == 1
    s = page["data"][0]
    assert s["id"] == sid and s["roomId"] == room and s["status"] == "ongoing" and s["end"] is None
    assert ISO.match(s["start"])
    assert [p["participantId"] for p in s["participants"]] == ["alice", "bob"]
    assert S.rest("GET", f"/v2/sessions/{sid}", ADMIN)[1] == s
    assert S.rest("GET", "/v2/sessions/", ADMIN)[0] == 200
    status, parts = S.rest("GET", f"/v2/sessions/{sid}/participants", ADMIN)
    assert parts["data"][0]["name"] == "Alice" and ISO.match(parts["data"][0]["timelog"][0]["start"])
    b.send({"type": "leave"})
    b.expect_closed()
    status, active = S.rest("GET", f"/v2/sessions/{sid}/participants/active", ADMIN)
    assert [p["participantId"] for p in active["data"]] == ["alice"]
    a.close()


# provokes 102
def test_unknown_session_or_participant_answers_102_404():
    refused("GET", "/v2/sessions/0123456789abcdef01234567", ADMIN, 404, 102, "USER_NOT_FOUND_ERROR_CODE")
    refused("GET", "/v2/sessions/not-an-id/participants", ADMIN, 404, 102)
    room = S.room(KEY)
    refused("POST", "/v2/sessions/end", ADMIN, 404, 102, body={"roomId": room})
    ws, _ = S.join(KEY, room, "alice")
    refused("POST", "/v2/sessions/participants/remove", ADMIN, 404, 102,
            body={"roomId": room, "participantId": "ghost"})
    ws.close()


def test_remove_participant_through_the_api_sends_1010():
    room = S.room(KEY)
    a, joined = S.join(KEY, room, "alice")
    b, _ = S.join(KEY, room, "bob")
    a.wait("participant-joined")
    status, s = S.rest("POST", "/v2/sessions/participants/remove", ADMIN,
                       {"roomId": room, "participantId": "bob", "sessionId": joined["sessionId"]})
    assert status == 200 and s["id"] == joined["sessionId"]
    assert b.wait("meeting-left")["reason"] == {"code": 1010, "name": "REMOVE_PEER_API",
                                                "message": "The participant was removed through the REST API."}
    b.expect_closed()
    assert a.wait("participant-left")["reason"]["code"] == 1010
    a.close()


# provokes 203
def test_end_session_through_the_api_sends_1009_and_then_answers_203():
    room = S.room(KEY)
    a, joined = S.join(KEY, room, "alice")
    b, _ = S.join(KEY, room, "bob")
    status, s = S.rest("POST", "/v2/sessions/end", ADMIN, {"roomId": room})
    assert status == 200 and s["status"] == "ended" and ISO.match(s["end"])
    assert all(t["end"] for p in s["participants"] for t in p["timelog"])
    for ws in (a, b):
        assert ws.wait("meeting-left")["reason"]["code"] == 1009
        ws.expect_closed()
    refused("POST", "/v2/sessions/end", ADMIN, 409, 203, "SESSION_CLOSED_ERROR_CODE",
            body={"roomId": room, "sessionId": joined["sessionId"]})
    S.rest("POST", "/v2/rooms/deactivate", ADMIN, {"roomId": room})
    refused("GET", "/v2/rooms/validate/" + room, ADMIN, 409, 203)


def test_error_history():
    room = S.room(KEY)
    r = refused("GET", "/v2/rooms/zzzz-zzzz-zzzz", ADMIN, 404, 4003)
    ws, e = S.join(KEY, room, "bad id", expect="error")
    status, page = S.rest("GET", "/v2/errors?code=4003", ADMIN)
    assert status == 200 and any(x["requestId"] == r["requestId"] for x in page["data"])
    status, page = S.rest("GET", f"/v2/errors?roomId={room}", ADMIN)
    row = page["data"][0]
    assert row["code"] == 4004 and row["name"] == "INVALID_PARTICIPANT_ID" and row["roomId"] == room
    assert row["requestId"] == e["requestId"] and ISO.match(row["at"]) and row["message"] == e["message"]
    # Another organisation sees none of it.
    status, page = S.rest("GET", "/v2/errors", S.admin_token(S.account()))
    assert page["data"] == [] and page["pageInfo"]["total"] == 0


# provokes -1 injected
def test_unforeseen_store_failure_answers_minus_1_500_with_a_logged_request_id():
    db = sqlite3.connect(os.path.join(S.data, "parley.db"))
    db.execute("ALTER TABLE sessions RENAME TO sessions_moved")
    db.commit()
    try:
        r = refused("GET", "/v2/sessions", ADMIN, 500, -1, "UNKNOWN_ERROR")
    finally:
        db.execute("ALTER TABLE sessions_moved RENAME TO sessions")
        db.commit()
        db.close()
    line = [x for x in S.log_lines() if x.get("requestId") == r["requestId"]]
    assert line and line[0]["level"] == "error" and line[0]["code"] == -1 and line[0].get("detail"), line
    assert S.rest("GET", "/v2/sessions", ADMIN)[0] == 200


def test_command_line():
    parleyd = harness.binary("parleyd")
    cp = harness.run([parleyd, "--help"])
    assert cp.returncode == 0 and "--listen" in cp.stdout and "--reconnect-grace" in cp.stdout
    for args in (["--bogus"], ["--listen", "nowhere:port"], ["--max-sessions", "-3"], ["--cert", "c.pem"],
                 ["--config", "/nonexistent/parley.conf"], ["stray"]):
        cp = harness.run([parleyd, *args])
        assert cp.returncode == 2 and cp.stderr.startswith("parleyd: "), (args, cp.returncode, cp.stderr)
    # The port is taken: a clear message and status 1.
    cp = harness.run([parleyd, "--listen", f"127.0.0.1:{S.port}", "--data", os.path.join(S.dir, "second")])
    assert cp.returncode == 1 and "cannot listen" in cp.stderr, (cp.returncode, cp.stderr)
    S.assert_serving()


def test_server_stops_cleanly():
    S.assert_serving()
    S.stop()


harness.main()
