#!/usr/bin/env python3
"""Media signaling (docs/protocol.md §2.2-2.3): publish-offer answered with
the server's SDP, stream-enabled/stream-disabled, subscribe offers and their
answers, candidates, and every refusal provoked for its real cause with real
SDP text (a Chrome offer)."""
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
from server import Server, token  # noqa: E402

HERE = os.path.dirname(__file__)
with open(os.path.join(HERE, "..", "sfu", "fixtures", "chrome_offer.sdp"), newline="") as f:
    OFFER = f.read()

S = Server("--sdp-timeout", "1")
KEY = S.account()
NEXT = [1000]


def offer():
    """The Chrome offer with SSRCs of its own (SSRCs are unique per server)."""
    NEXT[0] += 10
    base = NEXT[0]
    ssrcs = sorted(set(re.findall(r"a=ssrc:(\d+)", OFFER)))
    text = OFFER
    for i, s in enumerate(ssrcs):
        text = text.replace(s, str(base + i))
    return text


def inactive(text):
    """Every m-line of the offer turned inactive: nothing is sent."""
    return re.sub(r"a=(sendrecv|sendonly)", "a=inactive", text)


def meeting(*names, settings=None, **fields):
    room = S.room(KEY, settings=settings)
    out = []
    for n in names:
        ws, _ = S.join(token(KEY), room, n, **fields)
        out.append(ws)
    for i, ws in enumerate(out):
        for _ in out[i + 1:]:
            ws.wait("participant-joined")
    return room, out


def publish(ws, rid="po"):
    ws.send({"type": "publish-offer", "id": rid, "sdp": offer()})
    r = ws.wait("response", id=rid)
    assert r["ok"] is True and r["sdp"].startswith("v=0"), r
    return r["sdp"]


def test_publish_offer_is_answered_and_others_see_the_streams():
    room, (a, b) = meeting("a", "b")
    sdp = publish(a)
    assert "a=ice-lite" in sdp and sdp.count("m=") == 2 and "a=candidate:" in sdp
    kinds = {b.wait("stream-enabled", participantId="a")["kind"] for _ in range(2)}
    assert kinds == {"audio", "video"}
    a.send({"type": "unpublish", "id": "u"})
    a.wait("response", id="u")
    assert {b.wait("stream-disabled", participantId="a")["kind"] for _ in range(2)} == {"audio", "video"}
    a.close()
    b.close()


def test_a_late_joiner_is_told_of_the_streams_already_published():
    room, (a,) = meeting("a")
    publish(a)
    b, joined = S.join(token(KEY), room, "b")
    assert [p["participantId"] for p in joined["participants"]] == ["a"], joined
    kinds = {b.wait("stream-enabled", participantId="a")["kind"] for _ in range(2)}
    assert kinds == {"audio", "video"}
    # and it can subscribe to them right away
    b.send({"type": "subscribe", "id": "s", "participantId": "a"})
    assert b.wait("subscribe-offer", participantId="a")["sdp"].count("m=") == 2
    a.close()
    b.close()


def test_leaving_or_becoming_a_viewer_disables_the_streams():
    room, (a, b, c) = meeting("a", "b", "c")
    publish(a)
    publish(b)
    a.send({"type": "change-mode", "id": "m", "mode": "VIEWER"})
    a.wait("response", id="m")
    assert {c.wait("stream-disabled", participantId="a")["kind"] for _ in range(2)} == {"audio", "video"}
    b.send({"type": "leave", "id": "bye"})
    assert {c.wait("stream-disabled", participantId="b")["kind"] for _ in range(2)} == {"audio", "video"}
    a.close()
    c.close()


# provokes 102
def test_publish_offer_before_join_is_102():
    ws = S.ws()
    ws.send({"type": "publish-offer", "id": "x", "sdp": offer()})
    assert ws.error(102)["id"] == "x"
    ws.close()


# provokes 101
def test_publish_offer_of_a_viewer_is_101():
    room, (v,) = meeting("v", mode="VIEWER")
    v.send({"type": "publish-offer", "id": "x", "sdp": offer()})
    e = v.error(101)
    assert e["id"] == "x" and "VIEWER" in e["hint"]
    v.close()


# provokes 105
def test_publish_offer_sending_nothing_is_105():
    room, (a,) = meeting("a")
    a.send({"type": "publish-offer", "id": "x", "sdp": inactive(offer())})
    assert a.error(105)["id"] == "x"
    # no m-line at all
    head = offer().split("m=audio")[0].replace("a=group:BUNDLE 0 1\r\n", "")
    a.send({"type": "publish-offer", "id": "y", "sdp": head})
    assert a.error(105)["id"] == "y"
    publish(a)  # the participant may still publish
    a.close()


# provokes 206
def test_publish_offer_past_the_publisher_limit_is_206():
    room, (a, b) = meeting("a", "b", settings={"maxPublishers": 1})
    publish(a)
    b.send({"type": "publish-offer", "id": "x", "sdp": offer()})
    assert b.error(206)["id"] == "x"
    a.close()
    b.close()


# provokes 303
def test_second_publish_offer_is_303():
    room, (a,) = meeting("a")
    publish(a)
    a.send({"type": "publish-offer", "id": "x", "sdp": offer()})
    assert a.error(303)["id"] == "x"
    a.close()


# provokes 803
def test_bad_sdp_is_803_with_the_reason():
    room, (a,) = meeting("a")
    bad = offer().replace("a=rtpmap:111 opus/48000/2", "a=rtpmap:111 opus/fast/2")
    a.send({"type": "publish-offer", "id": "x", "sdp": bad})
    e = a.error(803)
    assert e["id"] == "x" and "line" in e["hint"], e
    a.send({"type": "publish-offer", "id": "y"})
    assert a.error(803)["id"] == "y"
    publish(a)
    a.close()


# provokes 102
def test_subscribe_to_nobody_is_102():
    room, (a,) = meeting("a")
    a.send({"type": "subscribe", "id": "x", "participantId": "ghost"})
    assert a.error(102)["id"] == "x"
    a.close()


# provokes 105
def test_subscribe_to_someone_publishing_nothing_is_105():
    room, (a, b) = meeting("a", "b")
    b.send({"type": "subscribe", "id": "x", "participantId": "a"})
    assert b.error(105)["id"] == "x"
    a.close()
    b.close()


# provokes 303
def test_subscribe_twice_is_303_and_a_missing_answer_times_out_with_303():
    room, (a, b) = meeting("a", "b")
    publish(a)
    b.send({"type": "subscribe", "id": "s1", "participantId": "a"})
    b.wait("response", id="s1")
    o = b.wait("subscribe-offer", participantId="a")
    assert o["sdp"].count("m=") == 2 and "a=sendonly" in o["sdp"] and "a=setup:actpass" in o["sdp"]
    b.send({"type": "subscribe", "id": "s2", "participantId": "a"})
    assert b.error(303)["id"] == "s2"
    t0 = time.monotonic()
    e = b.error(303, timeout=4)  # --sdp-timeout 1
    assert "answer" in e["hint"] and time.monotonic() - t0 < 3.5, e
    # after the timeout a new subscription may start
    b.send({"type": "subscribe", "id": "s3", "participantId": "a"})
    b.wait("subscribe-offer", participantId="a")
    a.close()
    b.close()


# provokes 103
def test_publisher_leaving_during_the_exchange_is_103():
    room, (a, b) = meeting("a", "b")
    publish(a)
    b.send({"type": "subscribe", "id": "s1", "participantId": "a"})
    b.wait("subscribe-offer", participantId="a")
    a.send({"type": "leave", "id": "bye"})
    assert "publisher left" in b.error(103)["hint"]
    b.close()


# provokes 105
def test_subscribe_answer_without_an_offer_is_105():
    room, (a, b) = meeting("a", "b")
    publish(a)
    b.send({"type": "subscribe-answer", "id": "x", "participantId": "a", "sdp": offer()})
    assert b.error(105)["id"] == "x"
    a.close()
    b.close()


# provokes 803
def test_subscribe_answer_that_is_not_an_answer_is_803():
    room, (a, b) = meeting("a", "b")
    publish(a)
    b.send({"type": "subscribe", "id": "s1", "participantId": "a"})
    b.wait("subscribe-offer", participantId="a")
    b.send({"type": "subscribe-answer", "id": "x", "participantId": "a", "sdp": "v=0\r\nbogus"})
    assert b.error(803)["id"] == "x"
    a.close()
    b.close()


# provokes 101
def test_more_than_64_pending_candidates_is_101():
    room, (a,) = meeting("a")
    cand = "candidate:1 1 udp 2122260223 192.0.2.1 50000 typ host"
    for i in range(64):
        if i and i % 40 == 0:
            time.sleep(1.1)  # stay under the message rate limit
        a.send({"type": "candidate", "id": f"c{i}", "candidate": cand})
        a.wait("response", id=f"c{i}")
    a.send({"type": "candidate", "id": "c64", "candidate": cand})
    assert a.error(101)["id"] == "c64"
    a.close()


def test_server_stops_cleanly():
    S.assert_serving()
    S.stop()


harness.main()
