"""harness.py - a minimal TAP test runner for Parley's Python tests.

A test file defines functions named test_*, then calls harness.main(). Every
test runs in this process, in file order; an exception or a failed assert marks
it 'not ok' with the traceback as TAP comments. Helpers for the build tree
(where the binaries are) live here too, so tests never guess paths.
"""
import inspect
import json
import os
import subprocess
import sys
import traceback

SOURCE = os.environ.get("PARLEY_SOURCE", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("PARLEY_BUILD", os.path.join(SOURCE, "build"))


def binary(name):
    """Path of a built program: parley, parleyd, ..."""
    for sub in ("cli", "server", "bench", ""):
        p = os.path.join(BUILD, sub, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    raise FileNotFoundError(f"{name} is not built in {BUILD}")


def run(args, check=False, timeout=30, **kw):
    """Run a command; return CompletedProcess with text stdout/stderr."""
    cp = subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    if check and cp.returncode != 0:
        raise AssertionError(f"{args!r} exited {cp.returncode}: {cp.stderr.strip()}")
    return cp


def parley(*args, **kw):
    return run([binary("parley"), *args], **kw)


def parley_json(*args, **kw):
    cp = parley(*args, **kw)
    assert cp.returncode == 0, f"parley {' '.join(args)} exited {cp.returncode}: {cp.stderr.strip()}"
    return json.loads(cp.stdout)


def main():
    caller = inspect.stack()[1].frame.f_globals
    tests = [(n, f) for n, f in caller.items() if n.startswith("test_") and callable(f)]
    only = os.environ.get("PARLEY_TEST_ONLY")
    failed = 0
    count = 0
    for name, fn in tests:
        if only and only not in name:
            continue
        count += 1
        try:
            fn()
            print(f"ok {count} - {name}", flush=True)
        except Exception:
            failed += 1
            for line in traceback.format_exc().rstrip().splitlines():
                print(f"# {line}")
            print(f"not ok {count} - {name}", flush=True)
    print(f"1..{count}", flush=True)
    sys.exit(1 if failed else 0)
