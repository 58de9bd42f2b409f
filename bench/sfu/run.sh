#!/usr/bin/env bash
# run.sh - Parley's media forwarding benchmark, side by side with Janus's VideoRoom.
#
#   bench/sfu/run.sh [--publishers P] [--subscribers S] [--seconds T] [--warmup W]
#                    [--rate R] [--only parley|janus] [--builddir DIR]
#                    [--janus-event-loops L] [--timeout SECS] [--out DIR] [--no-build]
#
# Defaults: P=1, S=200, T=20 s measured after the subscribers' ramp and a 3 s
# warm-up; each generator run is stopped after SECS seconds whatever happened
# (default 90 + the ramp + W + T). Each publisher sends 600 kbit/s VP8 +
# 32 kbit/s Opus; subscriber i receives publisher i mod P; every endpoint has
# its own WebSocket and its own media connection (UDP socket, ICE, DTLS,
# SRTP). The generator is bench/sfu/ (sfuload); see docs/benchmarks.md.
#
# Network: everything runs in a network namespace this script creates
# (parley-sfubench-PID, deleted on every exit path, with whatever still runs
# in it), holding only `lo` and a veth pair whose two ends are both inside:
# pb0 10.77.0.1/24 and pb1 10.77.0.2/24, no route out. The script re-runs
# itself in it (ip netns exec). Janus 1.1.2 gathers no loopback candidate,
# so its ICE is confined to pb0's address and the generator's sockets bind
# to it (sfuload refuses any media address that is neither loopback nor in
# a namespace of its own); signaling and Parley stay on 127.0.0.1. Without
# `ip netns` (not root, no iproute2) the Janus side is skipped, saying why,
# and Parley runs on the machine's loopback.
#
# Parley: parleyd on 127.0.0.1 (REST, WebSocket and the media port), data in
# a temporary directory; one organisation without limits, one API key, one
# token, one room per publisher, made with the parley command.
# Janus: janus with a configuration from bench/signaling/janus-config.sh in
# its media mode (VideoRoom and WebSocket transport on 127.0.0.1 only,
# ICE-lite, host candidates of pb0's address only, no STUN/TURN, no mDNS,
# one room per publisher), handles on L event loops (default 2; 0 for
# Janus's thread per handle).
#
# Uses an existing build in BUILDDIR (default build-sfubench) or builds one
# (PARLEYD=path and PARLEY_CLI=path use those binaries instead of building them;
# --no-build takes BUILDDIR's binaries as they are);
# raises the open-file limit; stops what it started when it exits. Prints
# each run's figures, then the table with Parley/Janus ratios
# (bench/sfu/compare.py). The generator shares the machine's cores with the
# server it measures. Nothing leaves the machine; bounded in count and time.
# With --only janus, exits 77 when Janus cannot be run here (not installed,
# or no network namespace).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
here=$root/bench/sfu

args=("$@")
builddir=build-sfubench only="" out="" build=1 pubs=1 subs=200 secs=20 warm=3 rate=200 jloops=2 netns="" bound=""
while [ $# -gt 0 ]; do
  case "$1" in
    --publishers) pubs=$2; shift 2 ;;
    --subscribers) subs=$2; shift 2 ;;
    --seconds) secs=$2; shift 2 ;;
    --warmup) warm=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --builddir) builddir=$2; shift 2 ;;
    --janus-event-loops) jloops=$2; shift 2 ;;
    --timeout) bound=$2; shift 2 ;;
    --in-netns) netns=$2; shift 2 ;; # internal: this is the re-run inside the namespace
    --out) out=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$only" in ""|both|parley|janus) ;; *) echo "run.sh: --only parley|janus" >&2; exit 2 ;; esac
[ "$only" != both ] || only=""
want() { [ -z "$only" ] || [ "$only" = "$1" ]; }
no_janus() { # REASON
  if [ "$only" = janus ]; then echo "run.sh: $1: the Janus side cannot run here" >&2; exit 77; fi
  echo "run.sh: $1: the Janus side is skipped, Parley only" >&2
  only=parley
}
if [ -z "$netns" ] && want janus && ! command -v janus >/dev/null; then no_janus "janus is not installed"; fi

# The namespace's private link: pb0 is Janus's media address, pb1 its peer.
ns_addr=10.77.0.1 ns_peer=10.77.0.2

# ---- build ----
export PATH=/usr/bin:/bin:$PATH
[ -z "$netns" ] || build=0
targets=(bench/sfuload)
want parley && [ -z "${PARLEYD:-}" ] && targets+=(server/parleyd)
want parley && [ -z "${PARLEY_CLI:-}" ] && targets+=(cli/parley)
if [ "$build" = 1 ]; then
  [ -f "$builddir/build.ninja" ] || meson setup "$builddir" >/dev/null
  ninja -C "$builddir" "${targets[@]}" >/dev/null || ninja -C "$builddir" "${targets[@]}"
else
  for t in "${targets[@]}"; do
    [ -x "$builddir/$t" ] || { echo "run.sh: --no-build, but $builddir/$t is not built" >&2; exit 1; }
  done
fi
sfuload=$builddir/bench/sfuload
parleyd=${PARLEYD:-$builddir/server/parleyd}
parley=${PARLEY_CLI:-$builddir/cli/parley}

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
need=$(( (pubs + subs) * 4 + 200 ))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
  echo "run.sh: $((pubs + subs)) endpoints need about $need open files; the limit is $(ulimit -n)" >&2
  exit 1
fi

# ---- the network namespace: made here, then this script runs again inside it ----
if [ -z "$netns" ]; then
  why=""
  if [ "$(id -u)" != 0 ]; then why="not root, so no network namespace"
  elif ! command -v ip >/dev/null; then why="no ip command (iproute2), so no network namespace"
  elif ! ip netns list >/dev/null 2>&1; then why="ip netns does not work here"
  fi
  if [ -z "$why" ]; then
    # namespaces of earlier runs killed before they could delete theirs: empty, their script gone
    for old in $(ip netns list 2>/dev/null | awk '$1 ~ /^parley-sfubench-[0-9]+$/ {print $1}'); do
      [ ! -e "/proc/${old#parley-sfubench-}" ] && [ -z "$(ip netns pids "$old" 2>/dev/null)" ] &&
        ip netns del "$old" 2>/dev/null || true
    done
    ns=parley-sfubench-$$ child=""
    ns_cleanup() {
      local p
      if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
        kill -TERM "$child" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$child" 2>/dev/null || break; sleep 0.2; done
      fi
      # anything still in the namespace was started by this run
      for p in $(ip netns pids "$ns" 2>/dev/null); do kill -TERM "$p" 2>/dev/null || true; done
      for _ in $(seq 25); do [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break; sleep 0.2; done
      for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
      ip netns del "$ns" 2>/dev/null || true
    }
    trap ns_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    if ip netns add "$ns" 2>/dev/null; then
      if ip netns exec "$ns" sh -ec "
          ip link set lo up
          ip link add pb0 type veth peer name pb1
          ip addr add $ns_addr/24 dev pb0
          ip addr add $ns_peer/24 dev pb1
          ip link set pb0 up
          ip link set pb1 up"; then
        rc=0
        ip netns exec "$ns" "$here/run.sh" "${args[@]}" --builddir "$builddir" --only "${only:-both}" \
          --in-netns "$ns" &
        child=$!
        wait "$child" || rc=$?
        child=""
        exit "$rc"
      fi
      why="the namespace's links could not be made (veth)"
    else
      why="ip netns add failed"
    fi
    ns_cleanup
    trap - EXIT
  fi
  want janus && no_janus "$why"
  echo "run.sh: $why: Parley runs on the machine's loopback" >&2
fi

# ---- processes we start, and their end ----
work=$(mktemp -d /tmp/parley-sfubench.XXXXXX)
keep_out=$out
[ -n "$out" ] || out=$work/out
mkdir -p "$out"
pids=()
stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL "$pid" 2>/dev/null || true
}
stop() {
  local pid=$1 keep=()
  stop_pid "$pid"
  for p in "${pids[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  pids=("${keep[@]}")
}
cleanup() {
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[i]}"; done # the generator first
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
free_udp_port() { python3 -c 'import socket; s=socket.socket(type=socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { # PORT PID
  for _ in $(seq 100); do
    kill -0 "$2" 2>/dev/null || return 1
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
[ -n "$bound" ] || bound=$(python3 -c "print(int(90 + 3 * $subs / $rate + $warm + $secs))")
gen() { # TARGET OUTFILE ARGS...
  local target=$1 file=$2 gpid; shift 2
  echo "== $target: $pubs x $subs, $secs s" >&2
  # in the background, so that a signal to this script is handled at once
  # (bash runs traps only between foreground commands); it prints at the end
  timeout --signal=INT --kill-after=30 "$((bound + 30))" \
    "$sfuload" --target "$target" --publishers "$pubs" --subscribers "$subs" --seconds "$secs" \
    --warmup "$warm" --rate "$rate" --timeout "$bound" "$@" >"$file" &
  gpid=$!
  pids+=("$gpid")
  wait "$gpid" || true
  stop "$gpid"
  grep -v '^{' "$file" || true
}

# ---- Parley ----
if want parley; then
  data=$work/parley-data
  mkdir -p "$data"
  "$parley" admin --data "$data" org create bench >/dev/null
  key=$("$parley" admin --data "$data" key create --org bench --json)
  apikey=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["apikey"])' <<<"$key")
  secret=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])' <<<"$key")
  token=$("$parley" token --apikey "$apikey" --secret "$secret" --permissions allow_join --ttl 2h | tail -n1)
  pport=$(free_port)
  rport=$(free_udp_port)
  "$parleyd" --listen "127.0.0.1:$pport" --rtc-port "$rport" --data "$data" --log-level warn \
    >>"$out/parleyd.log" 2>&1 &
  ppid=$!
  pids+=("$ppid")
  wait_port "$pport" "$ppid" || { echo "run.sh: parleyd did not start (see $out/parleyd.log)" >&2; exit 1; }
  rooms=()
  for ((i = 0; i < pubs; i++)); do
    rooms+=("$("$parley" room create --url "http://127.0.0.1:$pport" --token "$token" --json |
      python3 -c 'import json,sys; print(json.load(sys.stdin)["roomId"])')")
  done
  gen parley "$out/parley.txt" --url "ws://127.0.0.1:$pport/v1/signaling" \
    --room-ids "$(IFS=,; echo "${rooms[*]}")" --token "$token" --server-pid "$ppid" --label "parley"
  stop "$ppid"
fi

# ---- Janus (only inside the namespace) ----
if want janus; then
  [ -n "$netns" ] || { echo "run.sh: the Janus side runs only inside the run's network namespace" >&2; exit 1; }
  jport=$(free_port)
  "$root/bench/signaling/janus-config.sh" "$work/janus" "$jport" "$pubs" 1000 "$jloops" media "$ns_addr"
  janus -C "$work/janus/janus.jcfg" -F "$work/janus" -o >>"$out/janus.log" 2>&1 &
  jpid=$!
  pids+=("$jpid")
  wait_port "$jport" "$jpid" || { echo "run.sh: janus did not start (see $out/janus.log)" >&2; exit 1; }
  gen janus "$out/janus.txt" --url "ws://127.0.0.1:$jport/" --janus-room-base 1000 --server-pid "$jpid" \
    --media-address "$ns_addr" --label "janus"
  stop "$jpid"
fi

python3 "$here/compare.py" --json "$out/summary.json" "$out/parley.txt" "$out/janus.txt"
[ -z "$keep_out" ] || echo "outputs: $out"
