#!/usr/bin/env python3
"""The signaling transport (docs/protocol.md §2.1-2.2): malformed input gets
803 and the connection stays, unknown types 999, requests before joining
102; binary, oversized and flooding clients get 803 and are closed; silent
connections are closed; nothing of it stops the server serving others."""
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
import websockets.exceptions  # noqa: E402
from server import WS, Server, token  # noqa: E402

S = Server()
KEY = S.account()
ROOM = S.room(KEY)


def still_open(ws):
    ws.send({"type": "ping", "id": "alive"})
    assert ws.wait("pong")["id"] == "alive"


# provokes 803
def test_malformed_messages_answer_803_and_the_connection_stays():
    ws = S.ws()
    cases = [
        ("not json at all", None),
        ("[1, 2, 3]", None),
        ('"just a string"', None),
        ('{"id": "x1"}', "x1"),                      # no type
        ('{"type": 7, "id": "x2"}', "x2"),           # type not a string
        ('{"type": "ping", "id": 12}', None),        # id not a string
        ('{"type": "ping", "id": "' + "i" * 65 + '"}', None),
        ('{"type": "join", "id": "x3", "token": 5}', "x3"),            # mistyped field
        ('{"type": "join", "id": "x4", "micEnabled": "yes"}', "x4"),
        ('{"type":"ping"' + "]" * 3, None),
        (b'\xff\xfe{"type":"ping"}'.decode("latin-1"), None),
    ]
    for text, want_id in cases:
        ws.send(text)
        e = ws.error(803)
        assert e["name"] == "TRANSPORT_ERROR_CODE" and e["fatal"] is False, (text, e)
        assert e.get("id") == want_id and e["requestId"], (text, e)
    still_open(ws)
    # Deep nesting and huge numbers are just more bad input.
    ws.send("[" * 5000 + "]" * 5000)
    ws.error(803)
    ws.send('{"type": "join", "id": "x5", "micEnabled": 1e999}')
    ws.error(803)
    still_open(ws)
    ws.close()
    S.assert_serving()


# provokes 803
def test_mistyped_fields_of_joined_requests_answer_803_naming_the_field():
    a, _ = S.join(KEY, ROOM, "typist")
    for msg, field in (({"type": "chat", "id": "c", "topic": 1, "message": "x"}, "topic"),
                       ({"type": "chat", "id": "c", "topic": "t"}, "message"),
                       ({"type": "publish", "id": "p", "audio": "on", "video": False}, "audio"),
                       ({"type": "sync", "id": "s", "position": "0", "rate": 1}, "position")):
        a.send(msg)
        e = a.error(803)
        assert field in e["hint"] and e["id"] == msg["id"], e
    a.send({"type": "chat", "id": "c2", "topic": "t" * 65, "message": "x"})
    assert a.error(803)["id"] == "c2"
    a.send({"type": "chat", "id": "c3", "topic": "t", "message": "m" * 4097})
    assert a.error(803)["id"] == "c3"
    still_open(a)
    a.close()


# provokes 999
def test_unknown_type_answers_999_and_the_connection_stays():
    ws = S.ws()
    ws.send({"type": "teleport", "id": "t1"})
    e = ws.error(999)
    assert e["name"] == "GENERIC_ERROR_CODE" and e["fatal"] is False and e["id"] == "t1"
    assert "teleport" in e["hint"]
    a, _ = S.join(KEY, ROOM, "joined999")
    a.send({"type": "start-recording", "id": "r"})
    assert a.error(999)["participantId"] == "joined999"
    still_open(ws)
    still_open(a)
    ws.close()
    a.close()


# provokes 102
def test_requests_before_joining_answer_102():
    ws = S.ws()
    for t in ("leave", "chat", "publish", "end", "lock", "sync", "refresh-token", "entry-response"):
        ws.send({"type": t, "id": t})
        e = ws.error(102)
        assert e["name"] == "USER_NOT_FOUND_ERROR_CODE" and e["id"] == t and e["fatal"] is False
    still_open(ws)
    ws.close()


# provokes 102
def test_requests_about_someone_absent_answer_102():
    host, _ = S.join(token(KEY, permissions=["allow_join", "allow_mod"]), ROOM, "host102")
    for msg in ({"type": "remove-participant", "participantId": "ghost"},
                {"type": "request-mute", "participantId": "ghost", "kind": "audio"},
                {"type": "set-synchronizer", "participantId": "ghost"},
                {"type": "change-mode", "participantId": "ghost", "mode": "VIEWER"},
                {"type": "entry-response", "participantId": "ghost", "decision": "allowed"}):
        msg["id"] = msg["type"]
        host.send(msg)
        assert host.error(102)["id"] == msg["type"]
    host.close()


# provokes 803
def test_binary_frame_is_refused_and_closed():
    watcher, _ = S.join(KEY, ROOM, "watcher-bin")
    a, _ = S.join(KEY, ROOM, "binary")
    watcher.wait("participant-joined")
    a.send(b'{"type":"ping"}')
    e, left = a.fatal(803, 1001)
    assert "binary" in e["hint"]
    gone = watcher.wait("participant-left")
    assert gone["participantId"] == "binary" and gone["reason"]["code"] == 1001
    watcher.close()
    S.assert_serving()


# provokes 803
def test_message_over_64_kib_is_refused_and_closed():
    ws = S.ws()
    ws.send('{"type":"chat","message":"' + "x" * (70 * 1024) + '"}')
    e, _ = ws.fatal(803, 1001)
    assert "64 KiB" in e["hint"]
    # The same in fragments: the total counts.
    ws = S.ws()
    ws.send(iter(["{" + " " * 40000, " " * 40000 + "}"]))
    ws.fatal(803, 1001)
    # Exactly at the limit is fine.
    ws = S.ws()
    body = '{"type":"ping","id":"big","pad":"'
    ws.send(body + "p" * (64 * 1024 - len(body) - 2) + '"}')
    assert ws.wait("pong")["id"] == "big"
    ws.close()
    S.assert_serving()


# provokes 803
def test_flood_is_rate_limited_and_closed():
    watcher, _ = S.join(KEY, ROOM, "watcher-flood")
    a, _ = S.join(KEY, ROOM, "flooder")
    watcher.wait("participant-joined")
    for i in range(80):
        a.send({"type": "ping", "id": str(i)})
    e, _ = a.fatal(803, 1001)
    assert e["hint"] == "rate limited"
    pongs = len([m for m in a.history if m["type"] == "pong"])
    assert pongs in (49, 50), pongs  # the join counts in the first second
    assert watcher.wait("participant-left")["reason"]["code"] == 1001
    # Before joining too.
    ws = S.ws()
    for i in range(60):
        ws.send("junk")
    e = ws.wait("error", hint="rate limited")
    assert e["fatal"] is True
    ws.expect_closed()
    watcher.close()
    S.assert_serving()


def test_ping_pong_and_subprotocols():
    ws = S.ws()
    ws.send({"type": "ping"})
    assert ws.wait("pong") == {"type": "pong"}
    assert ws.conn.subprotocol == "parley.v1"
    ws.close()
    plain = WS(S.ws_url, subprotocols=None)
    plain.send({"type": "ping", "id": "p"})
    assert plain.wait("pong")["id"] == "p"
    plain.close()


def test_websocket_elsewhere_than_v1_signaling_is_refused():
    for path in ("/", "/v1/other", "/v2/rooms"):
        try:
            WS(S.url.replace("http", "ws") + path)
        except (websockets.exceptions.InvalidHandshake, OSError):
            continue
        raise AssertionError(f"upgrade accepted on {path}")
    S.assert_serving()


def test_silent_connections_are_closed():
    with Server("--idle-timeout", "1") as s:
        key = s.account()
        room = s.room(key)
        silent = s.ws()
        t0 = time.monotonic()
        silent.expect_closed(timeout=4)
        assert time.monotonic() - t0 < 3.5
        # A half-open TCP connection that never upgrades goes too.
        raw = socket.create_connection(("127.0.0.1", s.port))
        raw.settimeout(6)
        assert raw.recv(100) == b""
        raw.close()
        # A joined client that pings stays (twice the idle timeout) ...
        alive, _ = s.join(key, room, "alive")
        quiet, _ = s.join(key, room, "quiet")
        for _ in range(6):
            time.sleep(0.5)
            alive.send({"type": "ping"})
            alive.wait("pong")
        # ... while a silent one was dropped and, after the grace, left.
        quiet.expect_closed(timeout=1)
        s.assert_serving()
        alive.close()


def test_tls_serves_rest_and_signaling_on_one_port():
    fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
    with Server("--cert", os.path.join(fixtures, "localhost-cert.pem"),
                "--key", os.path.join(fixtures, "localhost-key.pem")) as s:
        assert s.url.startswith("https://")
        assert s.rest("GET", "/healthz") == (200, {"ok": True})
        key = s.account()
        room = s.room(key)
        ws, joined = s.join(key, room, "secure")
        assert joined["meetingId"] == room
        ws.send("not json")
        assert ws.error(803)["fatal"] is False
        ws.close()


def test_server_stops_cleanly():
    S.assert_serving()
    S.stop()


harness.main()
