#!/usr/bin/env python3
"""libparley against a real parleyd, through `parley join --json` and `parley room`.

Every event the SDK delivers is a JSON line on the command's stdout, so these
tests see what an application sees: the join and leave sequence, a fatal error
followed by meeting-left and exit status 1, scripted moderator actions and
what the others receive, the waiting room, and automatic reconnection for two
real causes — the server closing a silent connection (--idle-timeout) and the
server going away (reconnection attempts exhausted, 1102)."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
from server import Join, Server, token  # noqa: E402

S = Server()
KEY = S.account()
MOD = ("allow_join", "allow_mod")


def join(tok, meeting, *args, **kw):
    return Join(S, tok, meeting, *args, **kw)


def mod_token(**kw):
    return token(KEY, permissions=MOD, **kw)


def test_join_and_leave_events():
    room = S.room(KEY)
    j = join(token(KEY), room, "--name", "Ada", participant="ada", seconds=1)
    assert j.finish() == 0, (j.events, j.stderr)
    names = j.names()
    assert names[:3] == ["meeting-state-changed", "meeting-state-changed", "meeting-joined"], names
    assert [e["state"] for e in j.events if e["event"] == "meeting-state-changed"] == \
        ["CONNECTING", "CONNECTED", "DISCONNECTED"], j.events
    joined = j.events[2]
    assert joined["meetingId"] == room and joined["participantId"] == "ada" and joined["name"] == "Ada"
    assert "secret" not in joined and "type" not in joined
    assert names[-1] == "meeting-left"
    assert j.events[-1]["reason"] == {"code": 1101, "name": "MANUAL_LEAVE_CALLED",
                                      "message": j.events[-1]["reason"]["message"]}


# provokes 4002
def test_fatal_error_prints_the_error_then_meeting_left_and_exits_1():
    room = S.room(KEY)
    j = join(token(KEY, ttl=-120), room, seconds=5)
    assert j.finish() == 1, (j.events, j.stderr)
    err = next(e for e in j.events if e["event"] == "error")
    assert err["code"] == 4002 and err["name"] == "INVALID_TOKEN" and err["fatal"] is True, err
    assert err["message"] and err["requestId"] and err["request"] == "join", err
    assert err["id"], err  # the id of the join it answers
    left = j.events[-1]
    assert left["event"] == "meeting-left" and left["reason"]["code"] == 1103, j.events
    assert j.names().index("error") < j.names().index("meeting-left")
    states = [e["state"] for e in j.events if e["event"] == "meeting-state-changed"]
    assert states == ["CONNECTING", "FAILED"], states


# provokes 4005
def test_replaced_duplicate_gets_4005_then_meeting_left_1011():
    room = S.room(KEY)
    first = join(token(KEY), room, participant="dup", seconds=10)
    first.wait("meeting-joined")
    second = join(token(KEY), room, participant="dup", seconds=0.5)
    assert first.finish() == 1, (first.events, first.stderr)
    err = next(e for e in first.events if e["event"] == "error")
    assert err["code"] == 4005 and err["fatal"] is True, err
    assert first.events[-1]["event"] == "meeting-left"
    assert first.events[-1]["reason"]["code"] == 1011
    assert first.events[-1]["reason"]["name"] == "DUPLICATE_PARTICIPANT"
    assert "RECONNECTING" not in [e.get("state") for e in first.events]
    assert second.finish() == 0, (second.events, second.stderr)


def test_scripted_moderator_actions_reach_the_others():
    room = S.room(KEY)
    guest = join(token(KEY), room, participant="guest", seconds=15)
    guest.wait("meeting-joined")
    host = join(mod_token(), room, "--do", "lock", "--do", "publish:audio,video", "--do", "set-synchronizer:host",
                "--do", "sync:12.5:1.5", "--do", "chat:general:hello: world", "--do", "mute:guest:audio",
                "--do", "mode:VIEWER:guest", "--do", "unlock", "--do", "ping",
                "--do", "refresh-token:" + mod_token(), "--do", "leave", participant="host", seconds=15)
    assert host.finish() == 0, (host.events, host.stderr)
    answered = [e["request"] for e in host.events if e["event"] in ("response", "pong")]
    assert answered == ["lock", "publish", "set-synchronizer", "sync", "chat", "request-mute", "change-mode",
                        "unlock", "ping", "refresh-token", "leave"], (answered, host.events)
    refreshed = next(e for e in host.events if e.get("request") == "refresh-token")
    assert refreshed["exp"] > time.time(), refreshed
    assert not [e for e in host.events if e["event"] == "error"], host.events
    guest.wait("lock-changed", locked=True, by="host")
    guest.wait("publish-changed", participantId="host", audio=True, video=True)
    guest.wait("synchronizer-changed", participantId="host")
    sync = guest.wait("sync-data", participantId="host")
    assert sync["position"] == 12.5 and sync["rate"] == 1.5 and sync["paused"] is False, sync
    chat = guest.wait("chat", topic="general", message="hello: world")
    assert chat["from"] == "host", chat
    guest.wait("mute-requested", by="host", kind="audio")
    guest.wait("mode-changed", participantId="guest", mode="VIEWER")
    guest.wait("lock-changed", locked=False)
    left = guest.wait("participant-left", participantId="host")
    assert left["reason"]["code"] == 1101, left
    guest.proc.terminate()  # SIGTERM leaves cleanly
    assert guest.finish() == 0, (guest.events, guest.stderr)
    assert guest.events[-1]["event"] == "meeting-left" and guest.events[-1]["reason"]["code"] == 1101


# provokes 4024
def test_moderator_action_without_allow_mod_is_a_nonfatal_4024():
    room = S.room(KEY)
    j = join(token(KEY), room, "--do", "lock", "--do", "chat:t:still here", participant="plain", seconds=3)
    assert j.finish() == 0, (j.events, j.stderr)  # non-fatal: it stays, then leaves as asked
    err = next(e for e in j.events if e["event"] == "error")
    assert err["code"] == 4024 and err["fatal"] is False and err["request"] == "lock", err
    assert any(e["event"] == "response" and e["request"] == "chat" for e in j.events), j.events
    assert j.events[-1]["reason"]["code"] == 1101


def test_end_and_remove_give_the_others_their_leave_reasons():
    room = S.room(KEY)
    removed = join(token(KEY), room, participant="removed", seconds=15)
    stays = join(token(KEY), room, participant="stays", seconds=15)
    removed.wait("meeting-joined")
    stays.wait("meeting-joined")
    host = join(mod_token(), room, "--do", "remove:removed", "--do", "end", participant="host2", seconds=15)
    assert host.finish() == 0, (host.events, host.stderr)  # it asked for the end
    assert host.events[-1]["reason"]["code"] == 1008, host.events
    assert removed.finish() == 1  # a meeting-left it did not ask for
    assert removed.events[-1]["reason"] == {"code": 1002, "name": "REMOVE_PEER",
                                            "message": removed.events[-1]["reason"]["message"]}
    assert stays.finish() == 1
    assert stays.events[-1]["reason"]["code"] == 1008 and stays.events[-1]["reason"]["name"] == "REMOVE_ALL"


def test_waiting_room_with_auto_admit():
    room = S.room(KEY)
    host = join(token(KEY), room, "--auto-admit", "allowed", participant="door", seconds=15)
    host.wait("meeting-joined")
    guest = join(token(KEY, permissions=("ask_join",)), room, participant="knock", seconds=1)
    guest.wait("waiting")
    guest.wait("meeting-joined")
    assert guest.finish() == 0, (guest.events, guest.stderr)
    host.wait("entry-requested", participantId="knock")
    host.wait("participant-joined")

    denied_host = join(token(KEY), S.room(KEY), "--auto-admit", "denied", participant="bouncer", seconds=15)
    joined = denied_host.wait("meeting-joined")
    turned_away = join(token(KEY, permissions=("ask_join",)), joined["meetingId"], participant="late", seconds=10)
    assert turned_away.finish() == 1, (turned_away.events, turned_away.stderr)
    names = turned_away.names()
    assert "waiting" in names and "meeting-joined" not in names, names
    assert any(e["event"] == "entry-responded" and e["decision"] == "denied" for e in turned_away.events)
    assert names[-1] == "meeting-left"
    for j in (host, denied_host):
        j.proc.terminate()
        assert j.finish() == 0, (j.events, j.stderr)


def test_reconnects_after_the_server_closes_a_silent_connection():
    # joined connections that stay silent 2 x 1 s are closed by the server
    with Server("--idle-timeout", "1") as s:
        key = s.account()
        room = s.room(key)
        other = Join(s, token(key), room, "--keepalive", "0.3", participant="other", seconds=10)
        other.wait("meeting-joined")
        quiet = Join(s, token(key), room, "--keepalive", "0", participant="quiet", seconds=3.5)
        assert quiet.finish() == 0, (quiet.events, quiet.stderr)
        states = [e for e in quiet.events if e["event"] == "meeting-state-changed"]
        assert [e["state"] for e in states[:4]] == ["CONNECTING", "CONNECTED", "RECONNECTING", "CONNECTED"], states
        back = states[3]
        assert back["reconnected"] is True, back
        assert [p["participantId"] for p in back["participants"]] == ["other"], back
        assert quiet.names().count("meeting-joined") == 1
        assert quiet.events[-1]["reason"]["code"] == 1101
        # the others saw it leave once, when it asked to, never as a drop
        left = other.wait("participant-left", participantId="quiet")
        assert left["reason"]["code"] == 1101, left
        other.proc.terminate()
        assert other.finish() == 0, (other.events, other.stderr)
        assert "RECONNECTING" not in [e.get("state") for e in other.events], other.events


def test_reconnection_gives_up_when_the_server_is_gone():
    s = Server()
    key = s.account()
    j = Join(s, token(key), s.room(key), "--reconnect-attempts", "3", participant="alone", seconds=20)
    j.wait("meeting-joined")
    s.stop()
    assert j.finish() == 1, (j.events, j.stderr)
    states = [e["state"] for e in j.events if e["event"] == "meeting-state-changed"]
    assert states == ["CONNECTING", "CONNECTED", "RECONNECTING", "FAILED"], states
    assert j.events[-1]["event"] == "meeting-left"
    assert j.events[-1]["reason"] == {"code": 1102, "name": "WEBSOCKET_CONNECTION_ATTEMPTS_EXHAUSTED",
                                      "message": j.events[-1]["reason"]["message"]}


# provokes 3023 native
def test_join_to_a_closed_port_is_3023_then_1103():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nobody listens there now
    cp = harness.parley("join", "--url", f"http://127.0.0.1:{port}", "--token", token(KEY), "--meeting",
                        "abcd-efgh-ijkl", "--json", "--seconds", "5")
    assert cp.returncode == 1, cp
    events = [json.loads(line) for line in cp.stdout.splitlines()]
    err = events[1]
    assert err["event"] == "error" and err["code"] == 3023 and err["name"] == "ERROR_JOINING_MEETING", events
    assert err["fatal"] is True and str(port) in err["hint"], err
    assert events[-1]["reason"]["code"] == 1103, events


# provokes 3023 native
def test_tls_untrusted_certificate_is_3023_trusted_joins():
    tmp = tempfile.mkdtemp(prefix="parley-tls-")
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    try:
        with Server("--cert", cert, "--key", key) as s:
            k = s.account()
            url = f"https://127.0.0.1:{s.port}"
            tok = token(k, permissions=MOD)
            room = harness.parley_json("room", "create", "--url", url, "--token", tok, "--insecure", "--json")["roomId"]
            base = ["join", "--url", url, "--token", tok, "--meeting", room, "--json", "--seconds", "0.5"]
            # a self-signed certificate nobody said to trust: the TLS handshake fails
            cp = harness.parley(*base)
            events = [json.loads(line) for line in cp.stdout.splitlines()]
            assert cp.returncode == 1, cp
            assert events[1]["code"] == 3023 and "TLS" in events[1]["hint"], events
            assert events[-1]["reason"]["code"] == 1103, events
            # trusted through --ca-file, or accepted with --insecure (wss:// too)
            for extra in (["--ca-file", cert], ["--insecure"]):
                cp = harness.parley(*base, *extra)
                names = [json.loads(line)["event"] for line in cp.stdout.splitlines()]
                assert cp.returncode == 0 and "meeting-joined" in names, (extra, cp)
            cp = harness.parley("join", "--url", f"wss://localhost:{s.port}", *base[3:], "--ca-file", cert)
            assert cp.returncode == 0, cp
            # without --insecure the REST call fails at the transport, not with a JSON error
            cp = harness.parley("room", "list", "--url", url, "--token", tok)
            assert cp.returncode == 1 and cp.stdout == "" and "certificate" in cp.stderr.lower(), cp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_room_commands():
    tok = mod_token()
    args = ["--url", S.url, "--token", tok, "--json"]
    created = harness.parley_json("room", "create", *args, "--custom-id", "weekly-sync", "--max-participants", "5",
                                  "--duplicate-policy", "reject", "--allowed-origin", "https://a.example",
                                  "--allowed-origin", "https://b.example")
    rid = created["roomId"]
    assert created["customRoomId"] == "weekly-sync"
    assert created["settings"]["maxParticipants"] == 5 and created["settings"]["duplicatePolicy"] == "reject"
    assert created["settings"]["allowedOrigins"] == ["https://a.example", "https://b.example"]
    assert harness.parley_json("room", "get", *args, "--room", rid)["roomId"] == rid
    assert harness.parley_json("room", "validate", *args, "--room", rid)["roomId"] == rid
    listed = harness.parley_json("room", "list", *args, "--per-page", "100")
    assert rid in [r["roomId"] for r in listed["data"]], listed
    assert harness.parley_json("room", "deactivate", *args, "--room", rid)["disabled"] is True
    # a REST refusal: the error object on stdout, exit 1
    cp = harness.parley("room", "validate", *args, "--room", "zzzz-zzzz-zzzz")
    assert cp.returncode == 1, cp
    err = json.loads(cp.stdout)
    assert err["code"] == 4003 and err["name"] == "INVALID_MEETING_ID" and err["message"], err
    assert err["statusCode"] == 404 and err["requestId"], err
    cp = harness.parley("room", "list", "--url", S.url, "--token", "not-a-token", "--json")
    assert cp.returncode == 1 and json.loads(cp.stdout)["code"] == 4002, cp
    # the room the CLI created is one parley join can enter; deactivated, it answers 203
    j = join(token(KEY), rid, seconds=3)
    assert j.finish() == 1
    assert any(e["event"] == "error" and e["code"] == 203 for e in j.events), j.events


def test_usage_errors_exit_2():
    for args in (["join"], ["join", "--url", S.url, "--token", "t"], ["join", "--url", S.url, "--token", "t",
                 "--meeting", "m", "--do", "dance"], ["join", "--url", S.url, "--token", "t", "--meeting", "m",
                 "--do", "publish:screen"], ["join", "--url", "ftp://x", "--token", "t", "--meeting", "m"],
                 ["room"], ["room", "get", "--url", S.url, "--token", "t"], ["room", "paint"],
                 ["room", "create", "--url", S.url, "--token", "t", "--max-speakers", "many"]):
        assert harness.parley(*args).returncode == 2, args


def test_server_stops_cleanly():
    S.stop()


harness.main()
