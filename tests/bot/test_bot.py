#!/usr/bin/env python3
"""`parley bot publish` and `parley bot subscribe` against a real parleyd.

The media are made by Debian's ffmpeg in a temporary directory: a VP8 test
pattern (IVF, 30 fps, a keyframe a second) and an Opus sine (Ogg, 20 ms
packets). A publisher bot sends them through the server's media port and a
subscriber bot receives, counts and saves them: what it saved must be the
source's frames and packets, byte for byte and in order (the subscriber starts
at a keyframe; the files loop), with the RTP timestamps advancing by one frame
interval every frame, across loops too. Then two publishers and one
subscriber that joins after them; a publisher that leaves counted to its last
frame; fixed audio levels electing the active speaker; a screen share; the
server's keyframe request for a late subscriber; and the files and grants a
publisher must refuse."""
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
from server import Server, token  # noqa: E402

S = Server()
KEY = S.account()
MEDIA = tempfile.mkdtemp(prefix="parley-bot-")
IVF = os.path.join(MEDIA, "pattern.ivf")
OGG = os.path.join(MEDIA, "sine.ogg")
FPS = 30


def ffmpeg(*args):
    cp = subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", *args],
                        capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, cp.stderr


ffmpeg("-f", "lavfi", "-i", f"testsrc=size=320x240:rate={FPS}", "-t", "3", "-c:v", "libvpx", "-b:v", "600k",
       "-g", "30", "-f", "ivf", IVF)
ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "3", "-c:a", "libopus", "-b:a", "32k", OGG)


# ---- the files --------------------------------------------------------------

def ivf_frames(path):
    """[(pts, bytes)] of an IVF file, and its timebase (rate, scale)."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"DKIF", path
    rate, scale = int.from_bytes(data[16:20], "little"), int.from_bytes(data[20:24], "little")
    at, out = int.from_bytes(data[6:8], "little"), []
    while at + 12 <= len(data):
        size = int.from_bytes(data[at:at + 4], "little")
        pts = int.from_bytes(data[at + 4:at + 12], "little")
        out.append((pts, data[at + 12:at + 12 + size]))
        at += 12 + size
    assert at == len(data), f"{path}: {len(data) - at} bytes left over"
    return out, (rate, scale)


def ogg_packets(path):
    """The packets of the first logical stream of an Ogg file (headers included)."""
    with open(path, "rb") as f:
        data = f.read()
    at, packets, partial, serial = 0, [], b"", None
    while at < len(data):
        assert data[at:at + 4] == b"OggS", f"{path}: no page at {at}"
        nseg = data[at + 26]
        lacing = data[at + 27:at + 27 + nseg]
        body = at + 27 + nseg
        page_serial = data[at + 14:at + 18]
        serial = serial or page_serial
        for lace in lacing:
            if page_serial == serial:
                partial += data[body:body + lace]
                if lace < 255:
                    packets.append(partial)
                    partial = b""
            body += lace
        at = body
    return packets


SOURCE_VIDEO = [frame for _, frame in ivf_frames(IVF)[0]]
SOURCE_AUDIO = ogg_packets(OGG)[2:]  # after OpusHead and OpusTags
assert len(SOURCE_VIDEO) == 90 and len(SOURCE_AUDIO) >= 150


def assert_in_source_order(saved, source, what):
    """saved is a run of source, in order, wrapping around at its end."""
    assert saved, f"no {what} saved"
    index = {frame: i for i, frame in enumerate(source)}
    assert len(index) == len(source), f"the source {what} repeats itself"
    positions = []
    for n, frame in enumerate(saved):
        assert frame in index, f"saved {what} {n} ({len(frame)} bytes) is none of the source's"
        positions.append(index[frame])
    for n in range(1, len(positions)):
        assert positions[n] == (positions[n - 1] + 1) % len(source), \
            f"saved {what} {n} is source {positions[n]} after {positions[n - 1]}"
    return positions


# ---- the bots ---------------------------------------------------------------

class Bot:
    """A `parley bot ... --json` in the background; its JSON lines as dicts."""

    def __init__(self, command, tok, meeting, *args, participant=None, seconds=None):
        cmd = [harness.binary("parley"), "bot", command, "--url", S.url, "--token", tok, "--meeting", meeting,
               "--json"]
        if participant is not None:
            cmd += ["--participant-id", participant]
        if seconds is not None:
            cmd += ["--seconds", str(seconds)]
        self.proc = subprocess.Popen(cmd + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.events, self.partial, self.stderr, self.rc = [], b"", "", None

    def _take(self, data):
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        self.events += [json.loads(line) for line in lines if line.strip()]

    def wait(self, event, timeout=15, nth=1, **match):
        """The nth event named event with those field values."""
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.events if e["event"] == event and all(e.get(k) == v for k, v in match.items())]
            if len(found) >= nth:
                return found[nth - 1]
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None and not select.select([self.proc.stdout], [], [], 0)[0]:
                raise AssertionError(f"no {event} {match}; got {self.events}")
            if select.select([self.proc.stdout], [], [], min(left, 0.5))[0]:
                data = os.read(self.proc.stdout.fileno(), 65536)
                if data:
                    self._take(data)

    def finish(self, timeout=30):
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        self._take(out + b"\n")
        self.stderr += err.decode(errors="replace")
        self.rc = self.proc.returncode
        assert "Sanitizer" not in self.stderr and "runtime error:" not in self.stderr, self.stderr
        return self.rc

    def stop(self):
        """SIGTERM (which leaves cleanly), then the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.finish()

    def summary(self):
        s = [e for e in self.events if e["event"] == "summary"]
        assert len(s) == 1 and self.events[-1] is s[0], self.events
        return s[0]

    def errors(self):
        return [e for e in self.events if e["event"] in ("error", "bot-error")]


def publish(room, participant, *files, seconds=None):
    args = []
    for f in files:
        args += ["--video" if f.endswith(".ivf") else "--audio", f]
    return Bot("publish", token(KEY), room, *args, participant=participant, seconds=seconds)


def publish_args(room, participant, *args, seconds=None):
    return Bot("publish", token(KEY), room, *args, participant=participant, seconds=seconds)


def subscribe(room, participant, save_dir, seconds=None):
    return Bot("subscribe", token(KEY), room, "--save", save_dir, participant=participant, seconds=seconds)


def tracks_by(summary):
    return {(t["participantId"], t["kind"]): t for t in summary["tracks"]}


def check_saved(save_dir, participant, kinds=("video", "audio")):
    """The saved files of participant are the source's frames, in order."""
    if "video" in kinds:
        frames, timebase = ivf_frames(os.path.join(save_dir, f"{participant}-video.ivf"))
        assert timebase == (90000, 1), timebase
        positions = assert_in_source_order([f for _, f in frames], SOURCE_VIDEO, "video frame")
        assert SOURCE_VIDEO[positions[0]][0] & 1 == 0, "the saved video does not start at a keyframe"
        steps = {frames[n][0] - frames[n - 1][0] for n in range(1, len(frames))}
        assert steps == {90000 // FPS}, f"RTP timestamp steps {sorted(steps)}"
    if "audio" in kinds:
        packets = ogg_packets(os.path.join(save_dir, f"{participant}-audio.opus"))
        assert packets[0][:8] == b"OpusHead" and packets[1][:8] == b"OpusTags"
        assert_in_source_order(packets[2:], SOURCE_AUDIO, "audio packet")


# ---- tests ------------------------------------------------------------------

def test_a_publisher_bot_reaches_a_subscriber_bot_frame_for_frame():
    room = S.room(KEY)
    save = tempfile.mkdtemp(dir=MEDIA)
    sub = subscribe(room, "watcher", save)
    sub.wait("meeting-joined")
    pub = publish(room, "source", IVF, OGG, seconds=7)
    pub.wait("media-state-changed", state="CONNECTED")
    sub.wait("stream-enabled", participantId="source", kind="video")
    sub.wait("media-state-changed", participantId="source", state="CONNECTED")
    seconds = 4.5  # past the end of the 3 s files: one loop at least
    time.sleep(seconds)
    assert sub.stop() == 0, (sub.events, sub.stderr)
    assert pub.finish() == 0, (pub.events, pub.stderr)
    assert not sub.errors() and not pub.errors(), (sub.errors(), pub.errors())

    sent = {s["kind"]: s for s in pub.summary()["sent"]}
    # 7 s from its start, less the join and the connection
    assert 5 * FPS <= sent["video"]["frames"] <= 7 * FPS and sent["video"]["loops"] >= 1, sent
    assert 5 * 50 <= sent["audio"]["frames"] <= 7 * 50 and sent["audio"]["loops"] >= 1, sent

    tracks = tracks_by(sub.summary())
    assert set(tracks) == {("source", "video"), ("source", "audio")}, tracks
    video, audio = tracks[("source", "video")], tracks[("source", "audio")]
    for t in (video, audio):
        assert t["packets"] > 0 and t["lost"] == 0 and t["frames"] > 0 and t["bytes"] > 0, t
    # 30 fps for the seconds waited, less the wait for a keyframe (up to 1 s)
    assert (seconds - 1.5) * FPS <= video["frames"] <= (seconds + 1) * FPS, video
    assert (seconds - 1) * 50 <= audio["frames"] <= (seconds + 1) * 50, audio
    assert video["packets"] >= video["frames"], video
    # everything counted was saved (frames arriving after the last count too)
    assert video["saved"] >= video["frames"] - FPS and audio["saved"] >= audio["frames"] - 50, tracks
    check_saved(save, "source")
    shutil.rmtree(save, ignore_errors=True)


def test_two_publishers_and_a_subscriber_that_joins_after_them():
    room = S.room(KEY)
    save = tempfile.mkdtemp(dir=MEDIA)
    first = publish(room, "first", IVF, OGG, seconds=10)
    second = publish(room, "second", IVF, seconds=10)
    first.wait("media-state-changed", state="CONNECTED")
    second.wait("media-state-changed", state="CONNECTED")
    sub = subscribe(room, "both", save, seconds=5)
    # the streams already published are announced right after joining
    sub.wait("stream-enabled", participantId="first", kind="video")
    sub.wait("stream-enabled", participantId="second", kind="video")
    assert sub.finish() == 0, (sub.events, sub.stderr)
    assert first.stop() == 0, (first.events, first.stderr)
    assert second.stop() == 0, (second.events, second.stderr)
    assert not sub.errors(), sub.errors()
    tracks = tracks_by(sub.summary())
    assert set(tracks) == {("first", "video"), ("first", "audio"), ("second", "video")}, tracks
    for t in tracks.values():
        assert t["packets"] > 0 and t["lost"] == 0 and t["frames"] > 0 and t["saved"] > 0, t
    for pid in ("first", "second"):
        assert 2 * FPS <= tracks[(pid, "video")]["frames"] <= 6 * FPS, tracks
    check_saved(save, "first")
    check_saved(save, "second", kinds=("video",))
    assert not os.path.exists(os.path.join(save, "second-audio.opus"))
    shutil.rmtree(save, ignore_errors=True)


def test_a_publisher_that_comes_back_is_subscribed_again():
    room = S.room(KEY)
    save = tempfile.mkdtemp(dir=MEDIA)
    sub = subscribe(room, "stayer", save)
    sub.wait("meeting-joined")
    for n in (1, 2):
        pub = publish(room, "again", IVF, seconds=3)
        sub.wait("media-state-changed", nth=n, participantId="again", state="CONNECTED")
        assert pub.finish() == 0, (pub.events, pub.stderr)
        sub.wait("participant-left", nth=n, participantId="again")
    assert sub.stop() == 0, (sub.events, sub.stderr)
    assert not sub.errors(), sub.errors()
    tracks = tracks_by(sub.summary())
    video = tracks[("again", "video")]
    # both subscriptions counted: the sum of their final counters
    ends = [e for e in sub.events if e["event"] == "media-state-changed" and e.get("participantId") == "again"
            and e["state"] == "DISCONNECTED"]
    finals = [t["frames"] for e in ends for t in e["tracks"] if t["kind"] == "video"]
    assert len(finals) == 2 and all(n > 0 for n in finals), ends
    assert video["frames"] == sum(finals) <= 180 and video["lost"] == 0, (video, finals)
    frames, _ = ivf_frames(os.path.join(save, "again-video.ivf"))
    assert len(frames) == video["saved"] >= video["frames"], (len(frames), video)
    index = {frame: i for i, frame in enumerate(SOURCE_VIDEO)}
    assert all(f in index for _, f in frames), "a saved frame is none of the source's"
    assert all(frames[n][0] > frames[n - 1][0] for n in range(1, len(frames))), "pts not increasing"
    shutil.rmtree(save, ignore_errors=True)


def test_bad_files_are_refused_before_joining():
    room = S.room(KEY)
    garbage = os.path.join(MEDIA, "garbage.ivf")
    with open(garbage, "wb") as f:
        f.write(os.urandom(5000))
    with open(IVF, "rb") as f:
        whole = f.read()
    cut = os.path.join(MEDIA, "cut.ivf")
    with open(cut, "wb") as f:
        f.write(whole[:len(whole) // 2])
    with open(OGG, "rb") as f:
        whole = f.read()
    cut_ogg = os.path.join(MEDIA, "cut.ogg")
    with open(cut_ogg, "wb") as f:
        f.write(whole[:len(whole) - 50])
    cases = [
        (["--video", garbage], "garbage.ivf: not an IVF file"),
        (["--video", cut], "cut.ivf: truncated frame"),
        (["--audio", cut_ogg], "cut.ogg: truncated"),
        (["--audio", IVF], "not an Ogg file"),
        (["--video", OGG], "not an IVF file"),
        (["--video", os.path.join(MEDIA, "missing.ivf")], "missing.ivf: No such file"),
        (["--video", IVF, "--audio", garbage], "garbage.ivf: not an Ogg file"),
    ]
    for args, message in cases:
        cp = harness.parley("bot", "publish", "--url", S.url, "--token", token(KEY), "--meeting", room,
                            "--seconds", "5", *args)
        assert cp.returncode == 2, (args, cp.returncode, cp.stderr)
        assert message in cp.stderr and cp.stderr.startswith("parley: "), (args, cp.stderr)
        assert "Sanitizer" not in cp.stderr and "runtime error:" not in cp.stderr, cp.stderr
        assert cp.stdout == "", cp.stdout
    # nobody joined
    status, sessions = S.rest("GET", f"/v2/sessions/?roomId={room}", S.admin_token(KEY))
    assert status == 200 and sessions["data"] == [], sessions
    cp = harness.parley("bot", "publish", "--url", S.url, "--token", token(KEY), "--meeting", room)
    assert cp.returncode == 2 and "--video FILE.ivf, --audio FILE.ogg or both" in cp.stderr, cp.stderr
    cp = harness.parley("bot", "subscribe", "--url", S.url, "--token", token(KEY), "--meeting", room,
                        "--video", IVF)
    assert cp.returncode == 2 and "unexpected argument '--video'" in cp.stderr, cp.stderr


def test_a_publisher_that_leaves_is_counted_to_its_last_frame():
    """The subscriber's summary is exact: every frame the publisher sent from
    the first one the subscriber got (video: its first keyframe) to its last,
    though the publisher left before the subscriber did. The publisher runs
    shorter than the files (no loop), so a saved frame's place in the file
    is its place in what was sent."""
    room = S.room(KEY)
    save = tempfile.mkdtemp(dir=MEDIA)
    sub = subscribe(room, "counter", save)
    sub.wait("meeting-joined")
    pub = publish(room, "leaver", IVF, OGG, seconds=2.5)
    assert pub.finish() == 0, (pub.events, pub.stderr)
    sub.wait("participant-left", participantId="leaver")
    ended = sub.wait("media-state-changed", participantId="leaver", state="DISCONNECTED")
    assert sub.stop() == 0, (sub.events, sub.stderr)
    assert not sub.errors() and not pub.errors(), (sub.errors(), pub.errors())
    sources = {e["kind"]: e["source"] for e in sub.events
               if e["event"] == "stream-enabled" and e["participantId"] == "leaver"}
    assert sources == {"video": "camera", "audio": "microphone"}, sources

    sent = {s["kind"]: s["frames"] for s in pub.summary()["sent"]}
    assert 0 < sent["video"] < len(SOURCE_VIDEO) and 0 < sent["audio"] < len(SOURCE_AUDIO), sent
    frames, _ = ivf_frames(os.path.join(save, "leaver-video.ivf"))
    first_video = assert_in_source_order([f for _, f in frames], SOURCE_VIDEO, "video frame")[0]
    packets = ogg_packets(os.path.join(save, "leaver-audio.opus"))[2:]
    first_audio = assert_in_source_order(packets, SOURCE_AUDIO, "audio packet")[0]
    tracks = tracks_by(sub.summary())
    video, audio = tracks[("leaver", "video")], tracks[("leaver", "audio")]
    assert video["frames"] == sent["video"] - first_video == video["saved"] == len(frames), (sent, first_video, video)
    assert audio["frames"] == sent["audio"] - first_audio == audio["saved"] == len(packets), (sent, first_audio, audio)
    assert video["lost"] == 0 and audio["lost"] == 0, tracks
    # the end of the subscription carries the same final counters
    final = {t["kind"]: t for t in ended["tracks"]}
    for kind, t in (("video", video), ("audio", audio)):
        assert {k: final[kind][k] for k in ("packets", "lost", "frames", "bytes")} == \
            {k: t[k] for k in ("packets", "lost", "frames", "bytes")}, (final, tracks)
    shutil.rmtree(save, ignore_errors=True)


def test_the_louder_of_two_publishers_is_the_active_speaker():
    """Two bots send fixed audio levels (RFC 6464) through SRTP; a third
    participant is told the active speaker: the quiet one while alone, the
    loud one once it speaks, and it stays so."""
    room = S.room(KEY)
    watcher = Bot("subscribe", token(KEY), room, participant="listener")
    watcher.wait("meeting-joined")
    quiet = publish_args(room, "quiet", "--audio", OGG, "--audio-level", "60", seconds=12)
    watcher.wait("active-speaker", participantId="quiet")
    loud = publish_args(room, "loud", "--audio", OGG, "--audio-level", "10", seconds=12)
    watcher.wait("active-speaker", participantId="loud", timeout=10)
    time.sleep(1.5)
    assert watcher.stop() == 0, (watcher.events, watcher.stderr)
    speakers = [e["participantId"] for e in watcher.events if e["event"] == "active-speaker"]
    assert speakers[-1] == "loud" and speakers.count("loud") == 1, speakers
    for pub in (quiet, loud):
        assert pub.stop() == 0, (pub.events, pub.stderr)
        assert not pub.errors(), pub.errors()
    # without --audio-level no level is sent: such a publisher is never elected
    room = S.room(KEY)
    watcher = Bot("subscribe", token(KEY), room, participant="listener")
    watcher.wait("meeting-joined")
    mute = publish_args(room, "unmeasured", "--audio", OGG, seconds=10)
    watcher.wait("media-state-changed", participantId="unmeasured", state="CONNECTED")
    time.sleep(2)
    assert watcher.stop() == 0 and mute.stop() == 0, (watcher.events, mute.events)
    assert not [e for e in watcher.events if e["event"] == "active-speaker"], watcher.events
    cp = harness.parley("bot", "publish", "--url", S.url, "--token", token(KEY), "--meeting", room,
                        "--audio", OGG, "--audio-level", "128")
    assert cp.returncode == 2 and "--audio-level takes a level" in cp.stderr, cp.stderr
    cp = harness.parley("bot", "publish", "--url", S.url, "--token", token(KEY), "--meeting", room,
                        "--video", IVF, "--audio-level", "20")
    assert cp.returncode == 2 and "--audio-level needs --audio" in cp.stderr, cp.stderr


def test_a_screen_is_published_as_a_screen():
    room = S.room(KEY)
    watcher = Bot("subscribe", token(KEY), room, participant="viewer")
    watcher.wait("meeting-joined")
    pub = publish_args(room, "presenter", "--video", IVF, "--audio", OGG, "--screen", seconds=8)
    enabled = watcher.wait("stream-enabled", participantId="presenter", kind="video")
    assert enabled["source"] == "screen", enabled
    assert watcher.wait("stream-enabled", participantId="presenter", kind="audio")["source"] == "microphone"
    watcher.wait("media-state-changed", participantId="presenter", state="CONNECTED")
    time.sleep(1.5)  # the file's next keyframe (one a second) and a few frames after it
    assert pub.stop() == 0, (pub.events, pub.stderr)
    assert watcher.stop() == 0, (watcher.events, watcher.stderr)
    video = tracks_by(watcher.summary())[("presenter", "video")]
    assert video["frames"] > 0 and video["lost"] == 0, video
    cp = harness.parley("bot", "publish", "--url", S.url, "--token", token(KEY), "--meeting", room,
                        "--audio", OGG, "--screen")
    assert cp.returncode == 2 and "--screen needs --video" in cp.stderr, cp.stderr


# provokes 107
def test_a_screen_without_the_screen_grant_fails_with_107():
    room = S.room(KEY)
    pub = Bot("publish", token(KEY, publish=("camera", "microphone")), room, "--video", IVF, "--screen",
              participant="noscreen", seconds=10)
    assert pub.finish() == 1, (pub.events, pub.stderr)
    err = next(e for e in pub.events if e["event"] == "error")
    assert err["code"] == 107 and "screen" in err.get("hint", ""), err


def test_a_late_subscriber_makes_the_server_ask_the_publisher_for_a_keyframe():
    """The server asks the publisher for a keyframe (PLI) when a subscriber
    joins mid-stream; the publisher's --json prints keyframe-requested (a
    file cannot honour it: its frames keep their order)."""
    room = S.room(KEY)
    pub = publish(room, "streamer", IVF, seconds=10)
    pub.wait("media-state-changed", state="CONNECTED")
    time.sleep(1)
    assert not [e for e in pub.events if e["event"] == "keyframe-requested"], pub.events
    sub = Bot("subscribe", token(KEY), room, participant="latecomer", seconds=3)
    asked = pub.wait("keyframe-requested", timeout=10)
    assert asked == {"event": "keyframe-requested", "kind": "video", "source": "camera",
                     "feedback": asked["feedback"]} and asked["feedback"] in ("PLI", "FIR"), asked
    assert sub.finish() == 0, (sub.events, sub.stderr)
    assert pub.stop() == 0, (pub.events, pub.stderr)
    video = tracks_by(sub.summary())[("streamer", "video")]
    assert video["frames"] > 0, video


# provokes 107
def test_publishing_video_without_the_camera_grant_fails_with_107():
    room = S.room(KEY)
    pub = Bot("publish", token(KEY, publish=("microphone",)), room, "--video", IVF, participant="nocam",
              seconds=10)
    assert pub.finish() == 1, (pub.events, pub.stderr)
    err = next(e for e in pub.events if e["event"] == "error")
    assert err["code"] == 107 and err["fatal"] is False, err
    assert pub.events[-1]["event"] == "summary", pub.events
    assert pub.summary()["sent"] == [{"kind": "video", "frames": 0, "bytes": 0, "loops": 0}], pub.summary()


# provokes 4003
def test_bad_meeting_gives_the_servers_error_and_exit_1():
    save = tempfile.mkdtemp(dir=MEDIA)
    sub = Bot("subscribe", token(KEY), "zzzz-zzzz-zzzz", "--save", save, seconds=5)
    assert sub.finish() == 1, (sub.events, sub.stderr)
    err = next(e for e in sub.events if e["event"] == "error")
    assert err["code"] == 4003 and err["fatal"] is True, err
    assert sub.summary()["tracks"] == [], sub.events
    assert os.listdir(save) == []
    shutil.rmtree(save, ignore_errors=True)


def test_server_stops_cleanly():
    S.stop()
    shutil.rmtree(MEDIA, ignore_errors=True)


harness.main()
