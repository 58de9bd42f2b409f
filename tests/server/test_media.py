#!/usr/bin/env python3
"""Media signaling (docs/protocol.md §2.2-2.3): publish-offer answered with
the server's SDP, stream-enabled/stream-disabled, subscribe offers and their
answers, candidates, and every refusal provoked for its real cause with real
SDP text (a Chrome offer)."""
import hashlib
import hmac
import os
import re
import socket
import struct
import sys
import time
import zlib

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
    assert "a=rtcp-fb:96 goog-remb\r\n" in sdp  # the publisher acts on the SFU's REMB
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


def sdp_field(sdp, name):
    return re.search(rf"a={name}:(\S+)", sdp).group(1)


def ice_check(answer, offer_sdp, sock=None):
    """One ICE connectivity check, as the controlling browser would send it
    (USE-CANDIDATE, signed with the server's pwd), to the answer's candidate,
    which must answer it with a success response; from sock when given (the
    address ICE then selects), else from a socket of its own."""
    cand = re.search(r"a=candidate:\S+ 1 udp \d+ (\S+) (\d+) typ host", answer)
    user = f"{sdp_field(answer, 'ice-ufrag')}:{sdp_field(offer_sdp, 'ice-ufrag')}".encode()
    txid = os.urandom(12)
    attrs = b""

    def attr(t, v):
        return struct.pack("!HH", t, len(v)) + v + b"\0" * (-len(v) % 4)

    attrs += attr(0x0006, user)  # USERNAME
    attrs += attr(0x0024, struct.pack("!I", 0x6E0001FF))  # PRIORITY
    attrs += attr(0x802A, os.urandom(8))  # ICE-CONTROLLING
    attrs += attr(0x0025, b"")  # USE-CANDIDATE
    head = struct.pack("!HHI", 0x0001, len(attrs) + 24, 0x2112A442) + txid
    mac = hmac.new(sdp_field(answer, "ice-pwd").encode(), head + attrs, hashlib.sha1).digest()
    attrs += attr(0x0008, mac)  # MESSAGE-INTEGRITY
    head = struct.pack("!HHI", 0x0001, len(attrs) + 8, 0x2112A442) + txid
    crc = (zlib.crc32(head + attrs) ^ 0x5354554E) & 0xFFFFFFFF
    msg = head + attrs + attr(0x8028, struct.pack("!I", crc))  # FINGERPRINT
    u = sock or socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(2)
    u.sendto(msg, (cand.group(1), int(cand.group(2))))
    resp = u.recv(2048)
    if not sock:
        u.close()
    assert struct.unpack("!H", resp[:2])[0] == 0x0101 and resp[8:20] == txid, resp
    return (cand.group(1), int(cand.group(2)))


def subscribe_answer(o):
    """The subscriber's answer to a subscribe-offer: recvonly, DTLS active."""
    text = o.replace("a=sendonly", "a=recvonly").replace("a=setup:actpass", "a=setup:active")
    text = re.sub(r"a=(ice-lite|candidate:[^\r]*|ssrc:[^\r]*|end-of-candidates)\r\n", "", text)
    text = re.sub(r"a=ice-ufrag:\S+", "a=ice-ufrag:subB", text)
    return re.sub(r"a=ice-pwd:\S+", "a=ice-pwd:subscriberBpassword0123456", text)


M = Server("--media-timeout", "1")
MKEY = M.account()


# provokes 303
def test_a_subscription_without_ice_ends_with_303_and_can_start_again():
    room = M.room(MKEY)
    a, _ = M.join(token(MKEY), room, "a")
    b, _ = M.join(token(MKEY), room, "b")
    a.wait("participant-joined")
    sent = offer()
    a.send({"type": "publish-offer", "id": "po", "sdp": sent})
    answer = a.wait("response", id="po")["sdp"]
    ice_check(answer, sent)  # the publisher's transport passes ICE: it stays
    for n in (1, 2):
        b.send({"type": "subscribe", "id": f"s{n}", "participantId": "a"})
        b.wait("response", id=f"s{n}")
        o = b.wait("subscribe-offer", participantId="a")["sdp"]
        b.send({"type": "subscribe-answer", "id": f"a{n}", "participantId": "a",
                "sdp": subscribe_answer(o)})
        assert b.wait("response", id=f"a{n}")["ok"] is True
        if n == 1:
            # no ICE from the subscriber: after --media-timeout the subscription ends
            t0 = time.monotonic()
            e = b.error(303, timeout=4)
            assert "subscription to a" in e["hint"] and "ICE" in e["hint"], e
            assert e.get("id") is None and time.monotonic() - t0 < 3, e
            # the publisher is not affected
            assert a.quiet(0.5) is None
    # the second subscription is live (its answer was taken), until it fails too
    b.error(303, timeout=4)
    a.close()
    b.close()


# provokes 303
def test_a_dtls_alert_ends_the_subscription_with_303_and_it_can_start_again():
    room = M.room(MKEY)
    a, _ = M.join(token(MKEY), room, "a")
    b, _ = M.join(token(MKEY), room, "b")
    a.wait("participant-joined")
    sent = offer()
    a.send({"type": "publish-offer", "id": "po", "sdp": sent})
    ice_check(a.wait("response", id="po")["sdp"], sent)
    b.send({"type": "subscribe", "id": "s1", "participantId": "a"})
    o = b.wait("subscribe-offer", participantId="a")["sdp"]
    answer = subscribe_answer(o)
    b.send({"type": "subscribe-answer", "id": "a1", "participantId": "a", "sdp": answer})
    b.wait("response", id="a1")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        # ICE passes from u, then u sends a fatal DTLS alert (handshake_failure)
        where = ice_check(o, answer, u)
        u.sendto(bytes([21, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 40]), where)
        e = b.error(303, timeout=2)
    assert "subscription to a" in e["hint"] and "DTLS" in e["hint"] and e.get("id") is None, e
    assert a.quiet(0.3) is None
    b.send({"type": "subscribe", "id": "s2", "participantId": "a"})
    b.wait("response", id="s2")
    b.wait("subscribe-offer", participantId="a")
    a.close()
    b.close()


# provokes 303
def test_a_publication_without_ice_ends_with_303_stream_disabled_and_can_start_again():
    room = M.room(MKEY)
    a, _ = M.join(token(MKEY), room, "a")
    b, _ = M.join(token(MKEY), room, "b")
    a.wait("participant-joined")
    a.send({"type": "publish-offer", "id": "po", "sdp": offer()})
    a.wait("response", id="po")
    assert {b.wait("stream-enabled", participantId="a")["kind"] for _ in range(2)} == {"audio", "video"}
    e = a.error(303, timeout=4)
    assert e["hint"].startswith("publishing") and "ICE" in e["hint"], e
    assert {b.wait("stream-disabled", participantId="a")["kind"] for _ in range(2)} == {"audio", "video"}
    b.wait("publish-changed", participantId="a", audio=False, video=False)
    # a new publish-offer is taken (not 303: the failed one is gone)
    sent = offer()
    a.send({"type": "publish-offer", "id": "po2", "sdp": sent})
    ice_check(a.wait("response", id="po2")["sdp"], sent)
    assert {b.wait("stream-enabled", participantId="a")["kind"] for _ in range(2)} == {"audio", "video"}
    assert a.quiet(1.5) is None  # past ICE: no failure
    a.close()
    b.close()
    M.assert_serving()
    M.stop()


def back(room, pid, secret):
    """`reconnect` over a new connection; returns it once `joined` came."""
    ws = S.ws()
    ws.send({"type": "reconnect", "id": "r1", "token": token(KEY), "meetingId": room,
             "participantId": pid, "secret": secret})
    assert ws.wait("joined", id="r1")["reconnected"] is True
    return ws


def answer_to(offer_sdp):
    """A subscriber's answer to a subscribe-offer (recvonly, DTLS active)."""
    text = offer_sdp.replace("a=sendonly", "a=recvonly").replace("a=setup:actpass", "a=setup:active")
    text = re.sub(r"a=(ice-lite|candidate:[^\r]*|ssrc:[^\r]*|end-of-candidates)\r\n", "", text)
    text = re.sub(r"a=ice-ufrag:\S+", "a=ice-ufrag:back", text)
    return re.sub(r"a=ice-pwd:\S+", "a=ice-pwd:reconnectedsubscriber0123", text)


# provokes 105
# provokes 303
def test_publish_offer_after_reconnect_is_accepted_not_303():
    room = S.room(KEY)
    a, joined = S.join(token(KEY), room, "a")
    b, _ = S.join(token(KEY), room, "b")
    a.wait("participant-joined")
    publish(a)
    assert {b.wait("stream-enabled", participantId="a")["kind"] for _ in range(2)} == {"audio", "video"}
    b.wait("publish-changed", participantId="a")
    a.close()  # the signaling connection drops; the publication was complete
    a = back(room, "a", joined["secret"])
    assert b.quiet(0.3) is None  # it carries on: nobody notices
    publish(a, "po2")  # replaces it, not 303
    assert {b.wait("stream-disabled", participantId="a")["kind"] for _ in range(2)} == {"audio", "video"}
    assert {b.wait("stream-enabled", participantId="a")["source"] for _ in range(2)} == {"microphone", "camera"}
    # while connected, a second offer is still 303
    a.send({"type": "publish-offer", "id": "x", "sdp": offer()})
    assert a.error(303)["id"] == "x"
    # a publish-offer cut off: the connection closes before its answer is read
    a.send({"type": "unpublish", "id": "u"})
    a.wait("response", id="u")
    a.send({"type": "publish-offer", "id": "lost", "sdp": offer()})
    assert {b.wait("stream-enabled", participantId="a")["kind"] for _ in range(2)} == {"audio", "video"}
    a.close()
    a = back(room, "a", joined["secret"])
    publish(a, "po3")  # not 303
    # b was mid-exchange with a's replaced publication: it ends (not 103:
    # nobody left), b sees the streams go and come, and subscribes again
    b.pending.clear()
    b.send({"type": "subscribe", "id": "s1", "participantId": "a"})
    o = b.wait("subscribe-offer", participantId="a")["sdp"]
    a.close()
    a = back(room, "a", joined["secret"])
    publish(a, "po4")
    assert {b.wait("stream-disabled", participantId="a")["kind"] for _ in range(2)} == {"audio", "video"}
    assert {b.wait("stream-enabled", participantId="a")["kind"] for _ in range(2)} == {"audio", "video"}
    b.send({"type": "subscribe-answer", "id": "late", "participantId": "a", "sdp": answer_to(o)})
    assert b.error(105)["id"] == "late"
    assert not [m for m in b.history if m.get("type") == "error" and m["code"] == 103]
    b.send({"type": "subscribe", "id": "s1b", "participantId": "a"})
    b.wait("subscribe-offer", participantId="a")

    # the subscriber's side: the reconnected participant is told the streams again
    c, _ = S.join(token(KEY), room, "c")
    publish(c, "pc")
    assert {a.wait("stream-enabled", participantId="c")["kind"] for _ in range(2)} == {"audio", "video"}
    a.send({"type": "subscribe", "id": "s2", "participantId": "c"})
    a.wait("subscribe-offer", participantId="c")
    a.close()  # cut off mid-exchange
    a = back(room, "a", joined["secret"])
    assert {a.wait("stream-enabled", participantId="c")["kind"] for _ in range(2)} == {"audio", "video"}
    assert a.quiet(1.5) is None  # the cut-off exchange is gone: no 303 when its --sdp-timeout passes
    a.send({"type": "subscribe", "id": "s3", "participantId": "c"})  # taken, not 303
    o = a.wait("subscribe-offer", participantId="c")["sdp"]
    a.send({"type": "subscribe-answer", "id": "a3", "participantId": "c", "sdp": answer_to(o)})
    assert a.wait("response", id="a3")["ok"] is True
    a.send({"type": "subscribe", "id": "s4", "participantId": "c"})  # a live one: 303
    assert a.error(303)["id"] == "s4"
    a.close()  # a completed subscription carries on, stale
    a = back(room, "a", joined["secret"])
    a.send({"type": "subscribe", "id": "s5", "participantId": "c"})  # replaces it, not 303
    assert a.wait("subscribe-offer", participantId="c")["sdp"].count("m=") == 2
    for ws in (a, b, c):
        ws.close()


def with_ice(text, ufrag, pwd):
    """The SDP with other ICE credentials (what restartIce() changes)."""
    text = re.sub(r"a=ice-ufrag:\S+", f"a=ice-ufrag:{ufrag}", text)
    return re.sub(r"a=ice-pwd:\S+", f"a=ice-pwd:{pwd}", text)


def without_ice(text):
    return re.sub(r"a=ice-(ufrag|pwd):\S+\r\n", "", text)


def other_fingerprint(text):
    return re.sub(r"(a=fingerprint:sha-256 )\S+", lambda m: m.group(1) + ":".join(["AB"] * 32), text)


# provokes 303
# provokes 803
def test_a_publish_offer_with_new_ice_credentials_restarts_ice():
    room, (a, b) = meeting("a", "b")
    sent = offer()
    a.send({"type": "publish-offer", "id": "po", "sdp": sent})
    first = a.wait("response", id="po")["sdp"]
    assert {b.wait("stream-enabled", participantId="a")["kind"] for _ in range(2)} == {"audio", "video"}
    b.wait("publish-changed", participantId="a")
    ice_check(first, sent)  # connected with the first credentials (ufrag EsAw)
    again = with_ice(sent, "rstB", "restartedpublisher0123456")
    a.send({"type": "publish-offer", "id": "po2", "sdp": again, "iceRestart": True})
    second = a.wait("response", id="po2")["sdp"]
    # new server credentials, and otherwise the first answer
    assert sdp_field(second, "ice-ufrag") != sdp_field(first, "ice-ufrag")
    assert sdp_field(second, "ice-pwd") != sdp_field(first, "ice-pwd")
    assert without_ice(second) == without_ice(first)
    ice_check(first, sent)  # the old credentials still answered until the new are used
    ice_check(second, again)  # a check with the new credentials succeeds
    # the publication is the same: nobody is told anything
    assert b.quiet(0.5) is None
    # and it restarts again
    third_offer = with_ice(sent, "rstC", "restartedpublisher6543210")
    a.send({"type": "publish-offer", "id": "po3", "sdp": third_offer})
    third = a.wait("response", id="po3")["sdp"]
    assert sdp_field(third, "ice-ufrag") not in (sdp_field(first, "ice-ufrag"), sdp_field(second, "ice-ufrag"))
    ice_check(third, third_offer)
    # a new fingerprint is a new DTLS association: not a restart, 303
    a.send({"type": "publish-offer", "id": "x1",
            "sdp": other_fingerprint(with_ice(sent, "rstD", "restartedpublisher0000000"))})
    assert a.error(303)["id"] == "x1"
    # other m-lines (here other SSRCs) are a renegotiation: 303
    a.send({"type": "publish-offer", "id": "x2", "sdp": with_ice(offer(), "rstE", "restartedpublisher1111111")})
    assert a.error(303)["id"] == "x2"
    # the same, said to be a restart: 303 too (not taken as a new publication)
    a.send({"type": "publish-offer", "id": "x2b", "iceRestart": True,
            "sdp": with_ice(offer(), "rstE", "restartedpublisher1111111")})
    assert a.error(303)["id"] == "x2b"
    # other sources on the same m-lines: 303
    a.send({"type": "publish-offer", "id": "x3", "sdp": with_ice(sent, "rstF", "restartedpublisher2222222"),
            "sources": {"1": "screen"}})
    assert a.error(303)["id"] == "x3"
    assert b.quiet(0.3) is None
    # the restarted publication is subscribed to as before
    b.send({"type": "subscribe", "id": "s", "participantId": "a"})
    assert b.wait("subscribe-offer", participantId="a")["sdp"].count("m=") == 2
    # a restart of a publication the server no longer holds: 303, nothing published
    a.send({"type": "unpublish", "id": "u"})
    a.wait("response", id="u")
    assert {b.wait("stream-disabled", participantId="a")["kind"] for _ in range(2)} == {"audio", "video"}
    b.wait("publish-changed", participantId="a", audio=False, video=False)
    a.send({"type": "publish-offer", "id": "x4", "iceRestart": True,
            "sdp": with_ice(sent, "rstG", "restartedpublisher3333333")})
    assert a.error(303)["id"] == "x4"
    a.send({"type": "publish-offer", "id": "x5", "iceRestart": 1, "sdp": sent})
    assert a.error(803)["id"] == "x5"
    assert b.quiet(0.3) is None
    a.close()
    b.close()


# provokes 102
# provokes 105
# provokes 303
# provokes 803
def test_subscribe_with_ice_restart_sends_a_new_offer():
    room, (a, b, c) = meeting("a", "b", "c")
    sent = offer()
    a.send({"type": "publish-offer", "id": "po", "sdp": sent})
    ice_check(a.wait("response", id="po")["sdp"], sent)
    # without a subscription: 102
    b.send({"type": "subscribe", "id": "s0", "participantId": "a", "iceRestart": True})
    assert b.error(102)["id"] == "s0"
    b.send({"type": "subscribe", "id": "s1", "participantId": "a"})
    b.wait("response", id="s1")
    m1 = b.wait("subscribe-offer", participantId="a")
    o1 = m1["sdp"]
    # before its answer: the exchange is under way, 303
    b.send({"type": "subscribe", "id": "s1b", "participantId": "a", "iceRestart": True})
    assert b.error(303)["id"] == "s1b"
    ans1 = subscribe_answer(o1)
    b.send({"type": "subscribe-answer", "id": "a1", "participantId": "a", "sdp": ans1})
    assert b.wait("response", id="a1")["ok"] is True
    ice_check(o1, ans1)
    b.send({"type": "subscribe", "id": "s2", "participantId": "a", "iceRestart": True})
    assert b.wait("response", id="s2")["ok"] is True
    m2 = b.wait("subscribe-offer", participantId="a")
    o2 = m2["sdp"]
    assert m2["tracks"] == m1["tracks"]
    assert sdp_field(o2, "ice-ufrag") != sdp_field(o1, "ice-ufrag")
    assert without_ice(o2) == without_ice(o1)  # the same m-lines and SSRCs
    ans2 = with_ice(ans1, "subC", "subscriberCpassword0123456")
    b.send({"type": "subscribe-answer", "id": "a2", "participantId": "a", "sdp": ans2})
    assert b.wait("response", id="a2")["ok"] is True
    ice_check(o2, ans2)  # the client's new credentials with the server's new ones
    # its answer taken, a second one is refused as before
    b.send({"type": "subscribe-answer", "id": "a2b", "participantId": "a", "sdp": ans2})
    assert b.error(105)["id"] == "a2b"
    # an answer with another fingerprint is not an ICE restart: 303
    b.send({"type": "subscribe", "id": "s3", "participantId": "a", "iceRestart": True})
    o3 = b.wait("subscribe-offer", participantId="a")["sdp"]
    ans3 = other_fingerprint(with_ice(subscribe_answer(o3), "subD", "subscriberDpassword0123456"))
    b.send({"type": "subscribe-answer", "id": "a3", "participantId": "a", "sdp": ans3})
    assert b.error(303)["id"] == "a3"
    assert a.quiet(0.3) is None  # nobody else is told anything
    for ws in (b, c):
        assert not [m for m in ws.history if m.get("type") == "stream-disabled"]
    # iceRestart that is not a boolean: 803
    b.send({"type": "subscribe", "id": "s4", "participantId": "a", "iceRestart": "yes"})
    assert b.error(803)["id"] == "s4"
    for ws in (a, b, c):
        ws.close()


def test_sources_name_the_screen():
    room, (a, b) = meeting("a", "b")
    a.send({"type": "publish-offer", "id": "po", "sdp": offer(), "sources": {"1": "screen"}})
    a.wait("response", id="po")
    got = {e["kind"]: e["source"] for e in (b.wait("stream-enabled", participantId="a") for _ in range(2))}
    assert got == {"audio": "microphone", "video": "screen"}, got
    b.send({"type": "subscribe", "id": "s", "participantId": "a"})
    o = b.wait("subscribe-offer", participantId="a")
    assert sorted((t["kind"], t["source"], t["trackId"]) for t in o["tracks"]) == \
        [("audio", "microphone", "0"), ("video", "screen", "1")], o["tracks"]
    assert [t["mid"] for t in o["tracks"]] == ["0", "1"]
    a.send({"type": "unpublish", "id": "u"})
    got = {e["kind"]: e["source"] for e in (b.wait("stream-disabled", participantId="a") for _ in range(2))}
    assert got == {"audio": "microphone", "video": "screen"}, got
    a.close()
    b.close()


# provokes 107
# provokes 108
def test_publishing_a_source_without_the_grant_is_107_or_108():
    room = S.room(KEY)
    a, _ = S.join(token(KEY, publish=["camera", "microphone"]), room, "a")
    a.send({"type": "publish-offer", "id": "x", "sdp": offer(), "sources": {"1": "screen"}})
    e = a.error(107)
    assert e["id"] == "x" and "screen" in e["hint"], e
    a.send({"type": "publish", "id": "p", "audio": False, "video": False, "screen": True})
    assert "screen" in a.error(107)["hint"]
    b, _ = S.join(token(KEY, publish=["camera"]), room, "b")
    b.send({"type": "publish-offer", "id": "y", "sdp": offer()})
    assert "microphone" in b.error(108)["hint"]
    publish(a)  # camera and microphone are granted
    s, _ = S.join(token(KEY, publish=["screen"]), room, "s")
    s.send({"type": "publish", "id": "p", "audio": False, "video": False, "screen": True})
    assert s.wait("response", id="p")["screen"] is True
    for ws in (a, b, s):
        ws.close()


# provokes 803
def test_sources_that_do_not_fit_are_803():
    room, (a,) = meeting("a")
    for rid, sources in (("x", {"0": "camera"}), ("y", {"1": "microphone"}), ("z", {"1": "window"}),
                         ("w", ["screen"])):
        a.send({"type": "publish-offer", "id": rid, "sdp": offer(), "sources": sources})
        assert a.error(803)["id"] == rid
    publish(a)
    a.close()


with open(os.path.join(HERE, "..", "sfu", "fixtures", "chrome_simulcast.sdp"), newline="") as f:
    SIMULCAST_OFFER = f.read()


# provokes 303
def test_a_simulcast_offer_is_answered_with_its_layers():
    room, (a, b) = meeting("a", "b")
    a.send({"type": "publish-offer", "id": "po", "sdp": SIMULCAST_OFFER})
    sdp = a.wait("response", id="po")["sdp"]
    assert "a=rid:q recv\r\na=rid:h recv\r\na=rid:f recv\r\n" in sdp, sdp
    assert "a=simulcast:recv q;h;f\r\n" in sdp, sdp
    assert "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n" in sdp, sdp
    assert b.wait("stream-enabled", participantId="a")["kind"] == "video"
    b.send({"type": "subscribe", "id": "s", "participantId": "a"})
    o = b.wait("subscribe-offer", participantId="a")
    assert o["tracks"][0]["layers"] == 3 and o["sdp"].count("m=video") == 1, o
    assert "a=rid" not in o["sdp"] and "a=simulcast" not in o["sdp"]  # one stream to the subscriber
    # an ICE restart keeps the layers; other rids are another publication: 303
    again = with_ice(SIMULCAST_OFFER, "simB", "restartedsimulcast0123456")
    a.send({"type": "publish-offer", "id": "po2", "sdp": again, "iceRestart": True})
    second = a.wait("response", id="po2")["sdp"]
    assert without_ice(second) == without_ice(sdp) and sdp_field(second, "ice-ufrag") != sdp_field(sdp, "ice-ufrag")
    renamed = with_ice(SIMULCAST_OFFER, "simC", "restartedsimulcast6543210")
    renamed = renamed.replace("a=rid:h send", "a=rid:m send").replace("q;h;f", "q;m;f")
    assert renamed.count("a=rid:m send") == 1 and "q;m;f" in renamed
    a.send({"type": "publish-offer", "id": "x", "sdp": renamed})
    assert a.error(303)["id"] == "x"
    assert b.quiet(0.3) is None
    a.close()
    b.close()


# provokes 102
# provokes 105
# provokes 803
def test_set_layer_picks_a_simulcast_layer_and_refuses_what_does_not_fit():
    room, (a, b, c) = meeting("a", "b", "c")
    a.send({"type": "publish-offer", "id": "po", "sdp": SIMULCAST_OFFER})
    a.wait("response", id="po")
    publish(c)
    for rid, layer in (("l1", "huge"), ("l2", 3), ("l3", None), ("l4", -1), ("l5", "0")):
        msg = {"type": "set-layer", "id": rid, "participantId": "a"}
        if layer is not None:
            msg["layer"] = layer
        b.send(msg)
        assert b.error(803)["id"] == rid
    # no subscription yet, or its exchange not done: 102, as for no one
    b.send({"type": "set-layer", "id": "n1", "participantId": "a", "layer": "low"})
    assert "no subscription" in b.error(102)["hint"]
    b.send({"type": "set-layer", "id": "n2", "participantId": "ghost", "layer": "low"})
    assert b.error(102)["id"] == "n2"
    b.send({"type": "subscribe", "id": "s", "participantId": "a"})
    o = b.wait("subscribe-offer", participantId="a")
    b.send({"type": "set-layer", "id": "n3", "participantId": "a", "layer": "low"})
    assert b.error(102)["id"] == "n3"
    b.send({"type": "subscribe-answer", "id": "sa", "participantId": "a",
            "sdp": subscribe_answer(o["sdp"])})
    b.wait("response", id="sa")
    for rid, layer in (("ok1", "low"), ("ok2", "medium"), ("ok3", "high"), ("ok4", 0), ("ok5", 2)):
        b.send({"type": "set-layer", "id": rid, "participantId": "a", "layer": layer})
        assert b.wait("response", id=rid)["ok"] is True
    # a subscription without simulcast: 105
    b.send({"type": "subscribe", "id": "s2", "participantId": "c"})
    o = b.wait("subscribe-offer", participantId="c")
    assert all("layers" not in t for t in o["tracks"]), o
    b.send({"type": "subscribe-answer", "id": "sa2", "participantId": "c",
            "sdp": subscribe_answer(o["sdp"])})
    b.wait("response", id="sa2")
    b.send({"type": "set-layer", "id": "x", "participantId": "c", "layer": "low"})
    assert "no simulcast" in b.error(105)["hint"]
    for ws in (a, b, c):
        ws.close()


def test_server_stops_cleanly():
    S.assert_serving()
    S.stop()


harness.main()
