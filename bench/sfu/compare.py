#!/usr/bin/env python3
"""compare.py - the media forwarding benchmark's table: Parley, Janus, ratios, targets.

Usage: compare.py [--json SUMMARY] PARLEY_OUTPUT JANUS_OUTPUT

Each output is what bench/sfu's generator printed (its last line is JSON); a
missing or empty file leaves that column out. Ratios are Parley / Janus for
throughput and Janus / Parley for costs, so above 1 always means Parley is
better. Then the targets: 2,000 subscribers per server core, loss under
0.1 % on loopback, and at least 3x Janus's forwarded packets per core.
"""
import json
import os
import sys


def load(path):
    if not path or not os.path.exists(path):
        return None
    lines = [l for l in open(path).read().splitlines() if l.startswith("{")]
    return json.loads(lines[-1]) if lines else None


def fmt(v, digits=2):
    if v is None:
        return "n/a"
    if isinstance(v, float) and abs(v) >= 100:
        return f"{v:,.0f}"
    return f"{v:,.{digits}f}" if isinstance(v, float) else f"{v:,}"


def ratio(a, b, higher_better):
    if a is None or b is None or not a or not b:
        return None
    return a / b if higher_better else b / a


def main():
    args = sys.argv[1:]
    out_json = None
    if len(args) >= 2 and args[0] == "--json":
        out_json = args[1]
        args = args[2:]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    p, j = load(args[0]), load(args[1])
    runs = [r for r in (p, j) if r]
    if not runs:
        print("compare: no results", file=sys.stderr)
        return 1
    r0 = runs[0]
    print()
    print(f"Media forwarding: {r0['publishers']} publisher(s) x {r0['subscribers']} subscribers, "
          f"600 kbit/s VP8 + 32 kbit/s Opus, {r0['seconds']:.0f} s measured "
          "(the generator shares the machine's cores with the server)")
    rows = [
        ("subscribers connected", "subscribers_connected", None, 0),
        ("forwarded packets/s (received by subscribers)", "pps", True, 0),
        ("forwarded Mbit/s", "mbps", True, 1),
        ("server CPU, cores", "server_cores", None, 3),
        ("forwarded packets/s per server core", "pps_per_core", True, 0),
        ("server CPU ms per subscriber per second", "cpu_ms_per_sub_s", False, 4),
        ("subscribers per server core at 600 kbit/s", "subs_per_core", True, 0),
        ("loss %", "loss_pct", None, 4),
        ("forwarding latency p50, ms", "lat_p50_ms", False, 2),
        ("forwarding latency p99, ms", "lat_p99_ms", False, 2),
        ("server RSS, MB", "rss_mb", False, 1),
        ("server threads", "server_threads", None, 0),
        ("generator CPU, cores", None, None, 3),
        ("SRTP connections AES-GCM / AES-CM", "srtp", None, 0),
        ("machine load average (1 min) at the end", "loadavg_end", None, 2),
        ("failures", "failures", None, 0),
    ]
    summary = {"parley": p, "janus": j, "ratios": {}}
    w = 46
    print(f"| {'figure':<{w}} | {'Parley':>10} | {'Janus':>10} | {'ratio':>6} |")
    print(f"| {'-' * w} | {'-' * 9}: | {'-' * 9}: | {'-' * 5}: |")
    for label, key, higher, digits in rows:
        if key == "srtp":
            pv = f"{p['srtp_gcm']} / {p['srtp_cm']}" if p and "srtp_gcm" in p else None
            jv = f"{j['srtp_gcm']} / {j['srtp_cm']}" if j and "srtp_gcm" in j else None
        elif key is None:
            pv = p["loadgen_cpu_s"] / p["seconds"] if p and p["seconds"] else None
            jv = j["loadgen_cpu_s"] / j["seconds"] if j and j["seconds"] else None
        else:
            pv = p.get(key) if p else None
            jv = j.get(key) if j else None
        rv = ratio(pv, jv, higher) if higher is not None else None
        if rv is not None:
            summary["ratios"][key] = rv
        ps = fmt(float(pv), digits) if isinstance(pv, (int, float)) and digits else (pv if isinstance(pv, str) else fmt(pv, 0))
        js = fmt(float(jv), digits) if isinstance(jv, (int, float)) and digits else (jv if isinstance(jv, str) else fmt(jv, 0))
        print(f"| {label:<{w}} | {ps:>10} | {js:>10} | {fmt(rv, 2) if rv else '':>6} |")
    print("ratios: Parley/Janus for throughput, Janus/Parley for costs: above 1, Parley is better")
    if p:
        print()
        print("targets (Parley):")
        spc = p.get("subs_per_core")
        print(f"  2,000 subscribers per server core      {'met' if spc and spc >= 2000 else 'missed'} "
              f"({fmt(spc, 0)})")
        loss = p.get("loss_pct")
        print(f"  loss under 0.1 % on loopback           {'met' if loss is not None and loss < 0.1 else 'missed'} "
              f"({fmt(loss, 4)} %)")
        rv = summary["ratios"].get("pps_per_core")
        print(f"  >= 3x Janus's forwarded packets/core   "
              f"{'n/a (no Janus run)' if rv is None else ('met' if rv >= 3 else 'missed')}"
              f"{'' if rv is None else f' ({rv:.2f}x)'}")
    if out_json:
        with open(out_json, "w") as f:
            json.dump(summary, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
