#!/usr/bin/env python3
"""The media forwarding generator still works: 1 publisher, 3 subscribers, ~4 s.

Runs bench's sfuload against a parleyd of the tests/lib/server.py fixture (its
media port on 127.0.0.1), then checks that every figure was printed, in the
human block and in the JSON line, that all three subscribers connected and
received media, and that nothing failed. When janus is installed, the same
load runs against its VideoRoom through bench/sfu/run.sh --only janus, which
creates a network namespace of its own for it (Janus gathers no loopback
candidate: its media is on a veth address inside that namespace) and deletes
it; without root or `ip netns` that part is skipped. Nothing uses the
machine's own interfaces. No timing, loss or CPU figure is asserted: this
guards the benchmark against rot, not the servers' speed.
"""
import json
import os
import shutil
import signal
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


def sfuload(*args):
    return run([binary("sfuload"), "--publishers", "1", "--subscribers", "3", "--seconds", "4", "--warmup", "2.5",
                "--timeout", "60", *args], timeout=90)


def check_output(cp):
    assert cp.returncode == 0, f"sfuload exited {cp.returncode}\n{cp.stdout}\n{cp.stderr}"
    return check_figures(cp.stdout)


def check_figures(stdout):
    lines = stdout.splitlines()
    for label in HUMAN_LINES:
        found = [l for l in lines if l.strip().startswith(label)]
        assert found, f"no '{label}' line in:\n{stdout}"
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


def remove_netns(name):
    """Delete run.sh's namespace should it still exist (run.sh deletes it itself on every exit it sees)."""
    if not shutil.which("ip"):
        return
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
    if name not in listed:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True).stdout.split()
        for pid in pids:
            try:
                os.kill(int(pid), sig)
            except (OSError, ValueError):
                pass
        if pids:
            time.sleep(2)
    subprocess.run(["ip", "netns", "del", name], capture_output=True)


def test_one_publisher_three_subscribers_on_janus():
    if not shutil.which("janus"):
        print("# janus is not installed: the Janus side is not exercised")
        return
    out = tempfile.mkdtemp(prefix="sfu-smoke-janus-")
    proc = subprocess.Popen([os.path.join(SOURCE, "bench", "sfu", "run.sh"), "--only", "janus", "--publishers", "1",
                             "--subscribers", "3", "--seconds", "4", "--warmup", "2.5", "--timeout", "40",
                             "--builddir", BUILD, "--no-build", "--out", out],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        try:
            stdout, stderr = proc.communicate(timeout=75)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGTERM)  # run.sh stops Janus and the generator and deletes its namespace
            stdout, stderr = proc.communicate(timeout=40)
            raise AssertionError(f"run.sh did not finish in 75 s\n{stdout}\n{stderr}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        remove_netns(f"parley-sfubench-{proc.pid}")
    try:
        if proc.returncode == 77:
            reason = stderr.strip().splitlines()[-1] if stderr.strip() else "no reason given"
            print(f"# the Janus side is not exercised: {reason}")
            return
        assert proc.returncode == 0, f"run.sh exited {proc.returncode}\n{stdout}\n{stderr}"
        with open(os.path.join(out, "janus.txt")) as f:
            r = check_figures(f.read())
        assert r["target"] == "janus"
    finally:
        shutil.rmtree(out, ignore_errors=True)


def test_refuses_media_off_loopback_outside_a_namespace():
    # outside a network namespace of its own, media binds to loopback only
    for addr in ("10.77.0.1", "192.0.2.1", "0.0.0.0"):
        cp = run([binary("sfuload"), "--target", "janus", "--url", "ws://127.0.0.1:8188/", "--media-address", addr])
        assert cp.returncode == 2 and "media-address" in cp.stderr, (addr, cp.stderr)


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
