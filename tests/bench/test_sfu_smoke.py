#!/usr/bin/env python3
"""The media forwarding generator still works: 1 publisher, 3 subscribers, ~4 s.

Runs bench's sfuload against a parleyd of the tests/lib/server.py fixture (its
media port on 127.0.0.1), then checks that every figure was printed, in the
human block and in the JSON line, that all three subscribers connected and
received media, and that nothing failed. When janus is installed, the same
load runs against its VideoRoom (configured by bench/signaling/janus-config.sh
in its media mode). No timing, loss or CPU figure is asserted: this guards
the benchmark against rot, not the servers' speed.
"""
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
from harness import BUILD, SOURCE, binary, run  # noqa: E402

HUMAN_LINES = ("subscribers connected", "sent by publishers", "forwarded (received)", "server CPU",
               "forwarded per core", "CPU per subscriber", "subscribers per core", "loss", "latency",
               "server RSS", "generator CPU", "failures")
JSON_FIGURES = ("pps", "server_cpu_s", "pps_per_core", "cpu_ms_per_sub_s", "subs_per_core", "loss_pct",
                "lat_p50_ms", "lat_p99_ms", "rss_mb")


def built(name):
    try:
        return binary(name)
    except FileNotFoundError:
        return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, seconds=20):
    end = time.time() + seconds
    while time.time() < end:
        if proc.poll() is not None:
            raise AssertionError(f"server exited {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {port}")


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def own_ipv4():
    """The first non-loopback IPv4 address of this machine (Janus gathers no loopback candidate)."""
    import fcntl
    for _, name in socket.if_nameindex():
        if name == "lo":
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            try:
                packed = fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))  # SIOCGIFADDR
                return socket.inet_ntoa(packed[20:24])
            except OSError:
                continue
    return None


def sfuload(*args):
    return run([binary("sfuload"), "--publishers", "1", "--subscribers", "3", "--seconds", "4", "--warmup", "2.5",
                "--timeout", "60", *args], timeout=90)


def check_output(cp):
    assert cp.returncode == 0, f"sfuload exited {cp.returncode}\n{cp.stdout}\n{cp.stderr}"
    lines = cp.stdout.splitlines()
    for label in HUMAN_LINES:
        found = [l for l in lines if l.strip().startswith(label)]
        assert found, f"no '{label}' line in:\n{cp.stdout}"
        assert "n/a" not in found[0], f"'{label}' not measured: {found[0]}"
    assert lines[-1].startswith("{"), "the JSON line is not last"
    r = json.loads(lines[-1])
    assert r["publishers"] == 1 and r["subscribers"] == 3 and r["subscribers_connected"] == 3, r
    assert r["failures"] == 0 and not r["timed_out"], r["failure_reasons"]
    assert r["packets_tx"] > 0 and r["packets_rx"] > 0 and r["expected"] > 0, r
    for key in JSON_FIGURES:
        assert r[key] is not None, key
    return r


def test_one_publisher_three_subscribers_on_parleyd():
    from server import Server  # tests/lib: a parleyd of its own, stopped with an exit-status check
    with Server("--log-level", "warn") as srv:
        key = srv.account()
        cp = harness.parley("token", "--apikey", key["apikey"], "--secret", key["secret"],
                            "--permissions", "allow_join", "--ttl", "2h")
        assert cp.returncode == 0, cp.stderr
        tok = cp.stdout.strip().splitlines()[-1]
        room = srv.room(key)
        cp = sfuload("--target", "parley", "--url", srv.ws_url, "--room-ids", room, "--token", tok,
                     "--server-pid", str(srv.proc.pid))
        r = check_output(cp)
        assert r["target"] == "parley"
        srv.assert_serving()


def test_one_publisher_three_subscribers_on_janus():
    if not shutil.which("janus"):
        print("# janus is not installed: the Janus side is not exercised")
        return
    addr = own_ipv4()
    if not addr:
        print("# no non-loopback IPv4 address for Janus's media: the Janus side is not exercised")
        return
    d = tempfile.mkdtemp(prefix="janus-sfu-smoke-")
    port = free_port()
    subprocess.run([os.path.join(SOURCE, "bench", "signaling", "janus-config.sh"), d, str(port), "1", "1000", "2",
                    "media", addr], check=True)
    log = open(os.path.join(d, "janus.log"), "w")
    proc = subprocess.Popen(["janus", "-C", os.path.join(d, "janus.jcfg"), "-F", d, "-o"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_port(port, proc)
        cp = sfuload("--target", "janus", "--url", f"ws://127.0.0.1:{port}/", "--janus-room-base", "1000",
                     "--media-address", addr, "--server-pid", str(proc.pid))
        r = check_output(cp)
        assert r["target"] == "janus"
    finally:
        stop(proc)
        log.close()
        shutil.rmtree(d, ignore_errors=True)


def test_refuses_non_loopback_targets():
    for url in ("ws://10.0.0.1:7880/v1/signaling", "ws://example.com/", "wss://127.0.0.1:7880/"):
        cp = run([binary("sfuload"), "--target", "janus", "--url", url])
        assert cp.returncode == 2 and "loopback" in cp.stderr.lower(), (url, cp.stderr)


if __name__ == "__main__":
    missing = [n for n in ("sfuload", "parleyd", "parley") if not built(n)]
    if missing:
        print(f"ok 1 - sfu bench smoke # SKIP not built in {BUILD}: {', '.join(missing)}")
        print("1..1")
        sys.exit(0)
    harness.main()
