#!/usr/bin/env python3
"""Count TAP results across a meson test log and print the closing line.

Usage: summarize.py TESTLOG.json [TESTLOG.json ...]

Each test program prints TAP ('ok N - name', 'not ok N - name', '# SKIP'); a
program that crashed or timed out before its plan counts as one failure more.
Prints the failing cases, then one line 'N passed, N failed, N skipped', and
exits 1 when anything failed or nothing ran.
"""
import json
import re
import sys

LINE = re.compile(r"^(not ok|ok)\b[^#]*(#\s*(SKIP|TODO)\b.*)?", re.I)


def main(paths):
    passed = failed = skipped = 0
    failures = []
    for path in paths:
        with open(path) as f:
            for raw in f:
                if not raw.strip():
                    continue
                t = json.loads(raw)
                out = t.get("stdout") or ""
                seen = 0
                for line in out.splitlines():
                    m = LINE.match(line)
                    if not m:
                        continue
                    seen += 1
                    if m.group(3):
                        skipped += 1
                    elif m.group(1).lower() == "ok":
                        passed += 1
                    else:
                        failed += 1
                        failures.append(f"{t['name']}: {line}")
                plan = re.search(r"^1\.\.(\d+)", out, re.M)
                if seen == 0 and not plan:
                    # A plain program (a fuzzer, a smoke run): its exit status is one result.
                    if t.get("result") in ("OK", "EXPECTEDFAIL"):
                        passed += 1
                    elif t.get("result") == "SKIP":
                        skipped += 1
                    else:
                        failed += 1
                        failures.append(f"{t['name']}: {t.get('result')} (exit {t.get('returncode')})")
                    continue
                if t.get("result") not in ("OK", "EXPECTEDFAIL", "SKIP") and (not plan or seen < int(plan.group(1)) or seen == 0):
                    failed += 1
                    failures.append(f"{t['name']}: {t.get('result')} (exit {t.get('returncode')}) before finishing")
                elif plan and seen < int(plan.group(1)):
                    failed += 1
                    failures.append(f"{t['name']}: planned {plan.group(1)}, ran {seen}")
    for f in failures:
        print(f"FAILED {f}")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
