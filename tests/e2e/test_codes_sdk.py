#!/usr/bin/env python3
"""Every control-plane code libparley can be made to cause, provoked through
`parley join --json` against a real parleyd, the way a user would: a wrong or
stale token, a room set up to refuse, an organisation the operator switched
off while the server runs, a moderator's lock, a scripted request (--do) the
server refuses.

The tokens a user gets wrong come from the real `parley token` (mint() only
for one it never makes: a claim missing). For each: the error line's code,
its exact catalog name and its fatal flag; for a fatal one, the meeting-left that follows (1103 after a refused join,
1011 for a replaced duplicate, 1007 after a refused token refresh) and exit
status 1; for a non-fatal one, that the process stayed (it still gets an
answer to a later request, leaves as asked and exits 0).

Codes libparley refuses to send (an invalid mode at join) are not here: the
raw-WebSocket tests in tests/server/ provoke them."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
from server import Server, claims, cli_token, mint, token  # noqa: E402

S = Server("--operator-contact", "ops@parley.test")
KEY = S.account()
MOD = ("allow_join", "allow_mod")
JOIN_ROOM_FAILED = 1103
UNKNOWN = 1007  # the leave reason after a refused token refresh


def join(tok, meeting, *args, **kw):
    return S.parley_join(tok, meeting, *args, **kw)


def error_of(j, code):
    errs = [e for e in j.errors() if e["code"] == code]
    assert len(errs) == 1, (code, j.events, j.stderr)
    return errs[0]


def refused(j, code, name, reason=JOIN_ROOM_FAILED, request="join"):
    """j got the fatal error code (and no other error), then meeting-left reason, and exited 1."""
    assert j.finish() == 1, (j.events, j.stderr)
    e = error_of(j, code)
    assert e["name"] == name and e["fatal"] is True, e
    assert e["message"] and e["requestId"], e
    if request:
        assert e["request"] == request, e
    assert [x["code"] for x in j.errors()] == [code], j.events
    names = j.names()
    assert names[-1] == "meeting-left" and names.index("error") < len(names) - 1, names
    assert j.events[-1]["reason"]["code"] == reason, j.events
    if reason == JOIN_ROOM_FAILED:
        assert "meeting-joined" not in names, names
    return e


def kept(j, code, name, request):
    """j got the non-fatal error code for request, stayed, then left as asked (exit 0)."""
    assert j.finish() == 0, (j.events, j.stderr)
    e = error_of(j, code)
    assert e["name"] == name and e["fatal"] is False and e["request"] == request, e
    names = j.names()
    assert "meeting-joined" in names and names.index("meeting-joined") < j.events.index(e), names
    assert j.events[-1]["event"] == "meeting-left" and j.events[-1]["reason"]["code"] == 1101, j.events
    return e


def responded(j, request):
    return [e for e in j.events if e["event"] == "response" and e["request"] == request]


# ---- token checks at join ---------------------------------------------------

# provokes 4001
def test_unknown_apikey_is_4001():
    j = join(cli_token({"apikey": "pk_nobody_knows_this", "secret": KEY["secret"]}), S.room(KEY))
    refused(j, 4001, "INVALID_API_KEY")


# provokes 4002
def test_expired_token_or_wrong_secret_is_4002():
    room = S.room(KEY)
    expired = join(cli_token(KEY, "--ttl=-2m"), room)
    forged = join(cli_token({"apikey": KEY["apikey"], "secret": "not-the-secret"}), room)
    for j in (expired, forged):
        refused(j, 4002, "INVALID_TOKEN")


# provokes 4008
def test_ask_join_with_allow_join_is_4008():
    j = join(cli_token(KEY, "--permissions", "ask_join,allow_join"), S.room(KEY))
    refused(j, 4008, "INVALID_PERMISSIONS")


# provokes 4024
def test_crawler_only_token_is_4024():
    j = join(cli_token(KEY, "--roles", "crawler"), S.room(KEY))
    refused(j, 4024, "UNAUTHORIZED_ROLE")


# provokes 4006
# provokes 4007
def test_organisation_switched_off_while_the_server_runs_is_4006_then_4007():
    org = S.org()
    key = S.key(org)
    room = S.room(key)
    before = join(token(key), room, "--do", "leave")
    assert before.finish() == 0, (before.events, before.stderr)
    S.admin("org", "set", org, "--state", "deactivated")
    e = refused(join(token(key), room), 4006, "ACCOUNT_DEACTIVATED")
    assert "ops@parley.test" in e["message"], e
    words = "This workspace moved to the new cluster."
    S.admin("org", "set", org, "--state", "discontinued", "--message", words)
    e = refused(join(token(key), room), 4007, "ACCOUNT_DISCONTINUED")
    assert words in e["message"] and "ops@parley.test" in e["message"], e
    S.admin("org", "set", org, "--state", "active")
    after = join(token(key), room, "--do", "leave")
    assert after.finish() == 0, (after.events, after.stderr)


# ---- the room and participant named at join ---------------------------------

# provokes 4003
def test_unknown_room_is_4003():
    refused(join(token(KEY), "zzzz-zzzz-zzzz"), 4003, "INVALID_MEETING_ID")


# provokes 4004
def test_participant_id_with_whitespace_is_4004():
    refused(join(token(KEY), S.room(KEY), participant="ada lovelace"), 4004, "INVALID_PARTICIPANT_ID")


# provokes 4022
# provokes 4023
def test_token_bound_to_another_room_or_participant_is_4022_4023():
    room, other = S.room(KEY), S.room(KEY)
    wrong_room = join(cli_token(KEY, "--room", other), room)
    wrong_participant = join(cli_token(KEY, "--participant", "ada"), room, participant="grace")
    refused(wrong_room, 4022, "UNAUTHORIZED_MEETING_ID")
    refused(wrong_participant, 4023, "UNAUTHORIZED_PARTCIPANT_ID")
    # bound to this room and participant, the same join goes through
    right = join(cli_token(KEY, "--room", room, "--participant", "grace"), room, "--do", "leave",
                 participant="grace")
    assert right.finish() == 0, (right.events, right.stderr)


# provokes 4025
def test_origin_outside_the_rooms_allowed_origins_is_4025():
    room = S.room(KEY, {"allowedOrigins": ["https://app.example"]})
    foreign = join(token(KEY), room, "--origin", "https://evil.example")
    none = join(token(KEY), room)
    allowed = join(token(KEY), room, "--origin", "https://app.example", seconds=1)
    e = refused(foreign, 4025, "UNAUTHORIZED_REQUEST")
    assert "Origin" in e["hint"], e
    refused(none, 4025, "UNAUTHORIZED_REQUEST")
    # the allowed origin, sent as the application gave it, gets in
    allowed.wait("meeting-joined")
    assert allowed.finish() == 0 and not allowed.errors(), (allowed.events, allowed.stderr)


# provokes 203
def test_room_deactivated_with_parley_room_is_203():
    tok = token(KEY, permissions=MOD)
    cli = ["--url", S.url, "--token", tok, "--json"]
    room = harness.parley_json("room", "create", *cli)["roomId"]
    inside = join(token(KEY), room, participant="inside")
    inside.wait("meeting-joined")
    assert harness.parley_json("room", "deactivate", *cli, "--room", room)["disabled"] is True
    # the live meeting ends for who was in it, and the room can no longer be joined
    assert inside.finish() == 1, (inside.events, inside.stderr)
    assert inside.events[-1]["event"] == "meeting-left" and inside.events[-1]["reason"]["code"] == 1006
    refused(join(token(KEY), room), 203, "SESSION_CLOSED_ERROR_CODE")


# ---- the room's own rules and limits -----------------------------------------

# provokes 4005
def test_same_participant_again_replaces_the_first_with_4005():
    room = S.room(KEY)
    first = join(token(KEY), room, participant="twin")
    first.wait("meeting-joined")
    second = join(token(KEY), room, participant="twin")
    refused(first, 4005, "DUPLICATE_PARTICIPANT", reason=1011, request=None)
    assert first.events[-1]["reason"]["name"] == "DUPLICATE_PARTICIPANT", first.events
    assert "RECONNECTING" not in [e.get("state") for e in first.events], first.events
    second.wait("meeting-joined")
    assert second.stop() == 0, (second.events, second.stderr)
    assert not second.errors(), second.events


# provokes 104
def test_same_participant_again_under_reject_policy_is_104():
    room = S.room(KEY, {"duplicatePolicy": "reject"})
    first = join(token(KEY), room, participant="twin")
    first.wait("meeting-joined")
    refused(join(token(KEY), room, participant="twin"), 104, "EXISTING_USER_IN_SESSION_ERROR_CODE")
    assert first.stop() == 0, (first.events, first.stderr)  # it stayed all along
    assert not first.errors(), first.events


# provokes 4009
def test_participant_limit_is_4009():
    room = S.room(KEY, {"maxParticipants": 1})
    first = join(token(KEY), room)
    first.wait("meeting-joined")
    refused(join(token(KEY), room, "--mode", "VIEWER"), 4009, "MAX_PARTCIPANT_REACHED")
    assert first.stop() == 0, (first.events, first.stderr)


# provokes 4010
def test_speaker_limit_is_4010_and_a_viewer_still_joins():
    room = S.room(KEY, {"maxSpeakers": 1})
    first = join(token(KEY), room)
    first.wait("meeting-joined")
    speaker = join(token(KEY), room)
    viewer = join(token(KEY), room, "--mode", "VIEWER", "--do", "leave")
    refused(speaker, 4010, "MAX_SPEAKER_REACHED")
    assert viewer.finish() == 0, (viewer.events, viewer.stderr)
    assert first.stop() == 0, (first.events, first.stderr)


# provokes 4026
# provokes 4027
def test_organisation_speaker_and_viewer_limits_are_4026_4027():
    key = S.key(S.org(None, "--max-speakers", "1", "--max-viewers", "1"))
    a, b = S.room(key), S.room(key)
    speaker = join(token(key), a)
    viewer = join(token(key), a, "--mode", "VIEWER")
    speaker.wait("meeting-joined")
    viewer.wait("meeting-joined")
    # the limits count over all the organisation's rooms
    too_many_speakers = join(token(key), b)
    too_many_viewers = join(token(key), b, "--mode", "VIEWER")
    refused(too_many_speakers, 4026, "MAX_SPEAKER_LIMIT_REACHED_ON_ORGANIZATION")
    refused(too_many_viewers, 4027, "MAX_VIEWER_LIMIT_REACHED_ON_ORGANIZATION")
    assert speaker.stop() == 0 and viewer.stop() == 0, (speaker.events, viewer.events)


# provokes 201
def test_room_locked_by_a_moderator_is_201():
    room = S.room(KEY)
    host = join(token(KEY, permissions=MOD), room, "--do", "lock", "--do", "lock", participant="host")
    host.wait("response", request="lock")
    # locking again is refused without leaving; a newcomer is refused for good
    again = host.wait("error", code=201)
    assert again["fatal"] is False and again["request"] == "lock", again
    refused(join(token(KEY), room), 201, "SESSION_GENERIC_ERROR_CODE")
    assert host.stop() == 0, (host.events, host.stderr)


# provokes 204
def test_server_session_capacity_is_204():
    with Server("--max-sessions", "1") as s:
        key = s.account()
        busy, other = s.room(key), s.room(key)
        first = s.parley_join(token(key), busy)
        first.wait("meeting-joined")
        refused(s.parley_join(token(key), other), 204, "SESSION_CANNOT_BE_CREATED_ERROR_CODE")
        # the room with the live session still takes newcomers
        more = s.parley_join(token(key), busy, "--do", "leave")
        assert more.finish() == 0, (more.events, more.stderr)
        assert first.stop() == 0, (first.events, first.stderr)


# ---- media -------------------------------------------------------------------

# provokes 107
# provokes 108
def test_webcam_and_mic_without_the_publish_grant_are_107_108_and_it_stays():
    j = join(cli_token(KEY, "--publish", "screen"), S.room(KEY), "--webcam", "--mic", "--do", "ping", "--do", "leave")
    assert j.finish() == 0, (j.events, j.stderr)
    assert sorted(e["code"] for e in j.errors()) == [107, 108], j.events
    video, audio = error_of(j, 107), error_of(j, 108)
    assert video["name"] == "USER_VIDEO_PERMISSION_DENIED_ERROR_CODE" and video["fatal"] is False, video
    assert audio["name"] == "USER_AUDIO_PERMISSION_DENIED_ERROR_CODE" and audio["fatal"] is False, audio
    joined = j.names().index("meeting-joined")
    assert joined < j.events.index(video) and joined < j.events.index(audio), j.names()
    assert "pong" in j.names(), j.events
    assert j.events[-1]["reason"]["code"] == 1101, j.events


# provokes 206
def test_publisher_limit_is_206_and_it_stays_as_a_viewer():
    room = S.room(KEY, {"maxPublishers": 1})
    first = join(token(KEY), room, "--do", "publish:audio", participant="first")
    first.wait("response", request="publish")
    late = join(token(KEY), room, "--do", "publish:audio", "--do", "chat:t:still here", "--do", "leave")
    kept(late, 206, "SESSION_IS_FULL_ERROR_CODE", "publish")
    assert responded(late, "chat"), late.events
    # with the microphone on at join, the refusal comes after meeting-joined
    at_join = join(token(KEY), room, "--mic", "--do", "ping", "--do", "leave")
    assert at_join.finish() == 0, (at_join.events, at_join.stderr)
    e = error_of(at_join, 206)
    assert e["fatal"] is False and e["name"] == "SESSION_IS_FULL_ERROR_CODE", e
    assert at_join.names().index("meeting-joined") < at_join.events.index(e), at_join.names()
    assert first.stop() == 0, (first.events, first.stderr)


# provokes 105
def test_publish_with_neither_audio_nor_video_is_105():
    j = join(token(KEY), S.room(KEY), "--do", "publish:none", "--do", "publish:audio", "--do", "leave")
    kept(j, 105, "USER_NOT_STREAMING_ERROR_CODE", "publish")
    assert responded(j, "publish") and responded(j, "publish")[0]["audio"] is True, j.events


# provokes 101
def test_publish_as_a_viewer_is_101():
    j = join(token(KEY), S.room(KEY), "--mode", "VIEWER", "--do", "publish:audio", "--do", "ping", "--do", "leave")
    kept(j, 101, "USER_GENERIC_ERROR_CODE", "publish")
    assert "pong" in j.names(), j.events


def test_an_invalid_mode_never_leaves_the_cli():
    # libparley only knows CONFERENCE and VIEWER: an invalid mode is refused as
    # bad usage before any connection (the server's 101 for it is provoked
    # over raw WebSocket in tests/server/test_join.py)
    for args in (["--mode", "SPECTATOR"], ["--do", "mode:SPECTATOR"]):
        cp = harness.parley("join", "--url", S.url, "--token", token(KEY), "--meeting", S.room(KEY), "--json", *args)
        assert cp.returncode == 2 and cp.stdout == "", (args, cp)


# ---- scripted requests the server refuses ------------------------------------

# provokes 106
def test_sync_without_the_synchronizer_role_is_106():
    j = join(token(KEY), S.room(KEY), "--do", "sync:1.5", "--do", "ping", "--do", "leave")
    kept(j, 106, "USER_NOT_AUTHORIZED_ERROR_CODE", "sync")
    assert "pong" in j.names(), j.events


# provokes 102
def test_removing_someone_absent_is_102():
    j = join(token(KEY, permissions=MOD), S.room(KEY), "--do", "remove:nobody", "--do", "ping", "--do", "leave")
    kept(j, 102, "USER_NOT_FOUND_ERROR_CODE", "remove-participant")
    assert "pong" in j.names(), j.events


# provokes 1100
# provokes 1101
def test_refresh_with_an_expired_or_incomplete_token_is_1100_1101():
    room = S.room(KEY)
    expired = join(token(KEY), room, "--do", "refresh-token:" + cli_token(KEY, "--ttl=-2m"), participant="stale")
    # correctly signed but without the permissions claim (`parley token` never mints one)
    incomplete = join(token(KEY), room, "--do", "refresh-token:" + mint(claims(KEY, permissions=None), KEY["secret"]),
                      participant="partial")
    for j, code, name in ((expired, 1100, "TOKEN_EXPIRED"), (incomplete, 1101, "TOKEN_DATA_IS_NOT_VALID")):
        refused(j, code, name, reason=UNKNOWN, request="refresh-token")
        assert "meeting-joined" in j.names(), j.events


# provokes 4022
# provokes 4023
def test_refresh_with_a_token_bound_elsewhere_is_4022_4023():
    room, other = S.room(KEY), S.room(KEY)
    wrong_room = join(token(KEY), room, "--do", "refresh-token:" + cli_token(KEY, "--room", other), participant="r1")
    wrong_participant = join(token(KEY), room, "--do", "refresh-token:" + cli_token(KEY, "--participant", "someone"),
                             participant="r2")
    refused(wrong_room, 4022, "UNAUTHORIZED_MEETING_ID", reason=UNKNOWN, request="refresh-token")
    refused(wrong_participant, 4023, "UNAUTHORIZED_PARTCIPANT_ID", reason=UNKNOWN, request="refresh-token")


def test_server_stops_cleanly():
    S.stop()


harness.main()
