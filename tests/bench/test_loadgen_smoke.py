#!/usr/bin/env python3
"""The signaling load generator still works: a tiny load against a real parleyd.

Runs bench's loadgen with 20 participants in 2 rooms (and 2 duplicate-id
probes) against a parleyd of the tests/lib/server.py fixture, then checks that every figure
was printed, in the human block and in the JSON line, and that nothing failed.
No timing is asserted: this guards the benchmark against rot, not the server's
speed. When janus is installed, the same tiny load runs against it too.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import harness  # noqa: E402
from harness import BUILD, SOURCE, binary, run  # noqa: E402

HUMAN_LINES = ("joins", "join latency", "presence events", "error delivery", "server CPU", "server RSS",
               "leaves", "generator", "failures")


def built(name):
    try:
        return binary(name)
    except FileNotFoundError:
        return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, seconds=10):
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


def check_output(cp, participants, rooms):
    assert cp.returncode == 0, f"loadgen exited {cp.returncode}\n{cp.stdout}\n{cp.stderr}"
    lines = cp.stdout.splitlines()
    for label in HUMAN_LINES:
        found = [l for l in lines if l.strip().startswith(label)]
        assert found, f"no '{label}' line in:\n{cp.stdout}"
        assert "n/a" not in found[0], f"'{label}' not measured: {found[0]}"
    assert lines[-1].startswith("{"), "the JSON line is not last"
    r = json.loads(lines[-1])
    assert r["participants"] == participants and r["rooms"] == rooms
    assert r["joined"] == participants and r["join_failures"] == 0
    assert r["failures"] == 0 and r["drops"] == 0 and not r["timed_out"], r["failure_reasons"]
    assert r["presence"]["received"] == r["presence"]["expected"] > 0
    assert r["error"]["probes"] == 2 and r["error"]["ok"] == 2
    for key in ("p50", "p99", "max"):
        assert r["join_ms"][key] is not None and r["join_ms"][key] >= 0
        assert r["error"]["ms"][key] is not None and r["error"]["ms"][key] >= 0
    assert r["joins_per_s"] > 0
    for key in ("cpu_s_per_1000_joins", "rss_kib_per_participant", "rss_kib_before", "rss_kib_joined"):
        assert r["server"][key] is not None, key
    return r


def loadgen(*args, timeout=90):
    return run([binary("loadgen"), "--participants", "20", "--rate", "200", "--hold", "0", "--probes", "2",
                "--timeout", "60", *args], timeout=timeout)


def test_tiny_load_against_parleyd():
    from server import Server  # tests/lib: a parleyd of its own, stopped with an exit-status check
    with Server("--log-level", "warn") as srv:
        key = srv.account()
        cp = harness.parley("token", "--apikey", key["apikey"], "--secret", key["secret"],
                            "--permissions", "allow_join", "--ttl", "2h")
        assert cp.returncode == 0, cp.stderr
        tok = cp.stdout.strip().splitlines()[-1]
        rooms = [srv.room(key) for _ in range(2)]
        cp = loadgen("--target", "parley", "--url", srv.ws_url, "--room-ids", ",".join(rooms),
                     "--token", tok, "--server-pid", str(srv.proc.pid))
        r = check_output(cp, 20, 2)
        assert r["target"] == "parley" and r["error"]["code"] == 4005 and r["error"]["to_older"]
        assert r["left"] == 20  # the 2 replaced participants' newcomers left in their place
        srv.assert_serving()


def test_tiny_load_against_janus():
    if not shutil.which("janus"):
        print("# janus is not installed: the Janus side is not exercised")
        return
    d = tempfile.mkdtemp(prefix="janus-smoke-")
    port = free_port()
    subprocess.run([os.path.join(SOURCE, "bench", "signaling", "janus-config.sh"), d, str(port), "2"], check=True)
    log = open(os.path.join(d, "janus.log"), "w")
    proc = subprocess.Popen(["janus", "-C", os.path.join(d, "janus.jcfg"), "-F", d, "-o"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_port(port, proc, 20)
        cp = loadgen("--target", "janus", "--url", f"ws://127.0.0.1:{port}/", "--rooms", "2",
                     "--server-pid", str(proc.pid))
        r = check_output(cp, 20, 2)
        assert r["target"] == "janus" and r["error"]["code"] == 436 and r["left"] == 20
    finally:
        stop(proc)
        log.close()
        shutil.rmtree(d, ignore_errors=True)


def test_refuses_non_loopback_targets():
    for url in ("ws://10.0.0.1:7880/v1/signaling", "ws://example.com/", "wss://127.0.0.1:7880/"):
        cp = run([binary("loadgen"), "--target", "janus", "--url", url, "--participants", "1"])
        assert cp.returncode == 2 and "loopback" in cp.stderr.lower(), (url, cp.stderr)


if __name__ == "__main__":
    missing = [n for n in ("loadgen", "parleyd", "parley") if not built(n)]
    if missing:
        print(f"ok 1 - loadgen smoke # SKIP not built in {BUILD}: {', '.join(missing)}")
        print("1..1")
        sys.exit(0)
    harness.main()
