"""test_media.py - runs tests/sdk/test_media.c (libparley's media) against a
real parleyd: one organisation and key (the real `parley admin`), a room and
a token per run, passed in the environment; the C program's TAP lines are
renumbered and passed through, and each server must stop cleanly (exit 0: no
leak under the sanitizer build), as must the C program.

Two runs. The first is direct. In the second the server binds its media
port on 127.0.0.2 and advertises 127.0.0.1, where a relay here forwards
every datagram and drops one video RTP packet in nine on the way from the
server to the clients and one in eleven on the way from the clients to the
server: the subscriber must still get every frame intact and count nothing
lost, through its NACKs and the server's retransmissions, and the server's
NACKs answered from the publisher's send history. A third run advertises
an address where nothing answers: the publications fail (3011, 3012).

Usage: test_media.py PATH_TO_test_sdk_media
"""
import os
import select
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
from server import Server, token  # noqa: E402

COUNT = 0


def tap(ok, name, comments=()):
    global COUNT
    COUNT += 1
    print(f"{'ok' if ok else 'not ok'} {COUNT} - {name}")
    for c in comments:
        print("# " + c)


def is_video(data):
    """An SRTP packet of payload type 96 (its header is in the clear)."""
    return len(data) > 12 and 128 <= data[0] <= 191 and not 192 <= data[1] <= 223 and data[1] & 0x7f == 96


class LossyRelay:
    """UDP between clients (on 127.0.0.1:port) and the server (127.0.0.2:port),
    one upstream socket per client; drops every ninth video RTP packet
    (payload type 96) that the server sends and every eleventh that a
    client sends."""

    def __init__(self, port):
        self.listen = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.listen.bind(("127.0.0.1", port))
        self.server = ("127.0.0.2", port)
        self.up = {}    # client address -> upstream socket
        self.down = {}  # upstream socket -> client address
        self.video = self.video_up = 0
        self.dropped = self.dropped_up = 0
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            socks = [self.listen, *self.down]
            ready, _, _ = select.select(socks, [], [], 0.1)
            for s in ready:
                data, addr = s.recvfrom(65536)
                if s is self.listen:
                    if is_video(data):
                        self.video_up += 1
                        if self.video_up % 11 == 6:
                            self.dropped_up += 1
                            continue
                    u = self.up.get(addr)
                    if u is None:
                        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                        u.bind(("127.0.0.1", 0))
                        self.up[addr] = u
                        self.down[u] = addr
                    u.sendto(data, self.server)
                    continue
                if is_video(data):
                    self.video += 1
                    if self.video % 9 == 4:
                        self.dropped += 1
                        continue
                self.listen.sendto(data, self.down[s])

    def close(self):
        self.stop = True
        self.thread.join()
        for s in [self.listen, *self.down]:
            s.close()


def free_udp_port(host):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((host, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(prog, suffix, lossy, unreachable=False):
    relay = None
    flags = ()
    if lossy or unreachable:
        port = free_udp_port("127.0.0.2")
        flags = ("--rtc-port", str(port), "--rtc-address", "127.0.0.2", "--advertise", "127.0.0.1")
    s = Server(*flags)
    if lossy:
        relay = LossyRelay(port)
    key = s.account()
    room = s.room(key)
    env = dict(os.environ, PARLEY_URL=s.url, PARLEY_ROOM=room, PARLEY_TOKEN=token(key))
    if unreachable:
        env["PARLEY_MEDIA_UNREACHABLE"] = "1"
    try:
        cp = subprocess.run([prog], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        out, err, rc = cp.stdout, cp.stderr, cp.returncode
    except subprocess.TimeoutExpired as e:
        out, err, rc = e.stdout or b"", e.stderr or b"", "hung"
    out = out.decode(errors="replace")
    err = err.decode(errors="replace")
    comments = []
    for ln in out.splitlines():
        if ln.startswith(("ok ", "not ok ")):
            ok = ln.startswith("ok ")
            name = ln.split(" - ", 1)[1] if " - " in ln else ln
            tap(ok, name + suffix, comments)
            comments = []
        elif ln.startswith("#"):
            comments.append(ln[1:].strip())
    if relay:
        relay.close()
        tap(relay.dropped > 0 and relay.dropped_up > 0, f"the relay dropped video packets{suffix}",
            [f"{relay.dropped} of {relay.video} video packets to the clients dropped, "
             f"{relay.dropped_up} of {relay.video_up} from them"])
    try:
        s.stop()
        tap(True, f"parleyd stopped cleanly{suffix}")
    except AssertionError as e:
        tap(False, f"parleyd stopped cleanly{suffix}", str(e).splitlines()[-40:])
    tap(rc == 0, f"the test program exited 0{suffix}",
        [] if rc == 0 else [f"it exited {rc}"] + comments + err.splitlines()[-60:])


def main():
    prog = sys.argv[1]
    run(prog, "", False)
    run(prog, " (lossy)", True)
    run(prog, " (unreachable)", False, unreachable=True)
    print(f"1..{COUNT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
