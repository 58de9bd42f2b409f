#!/usr/bin/env bash
# run.sh - Parley's media forwarding benchmark, side by side with Janus's VideoRoom.
#
#   bench/sfu/run.sh [--publishers P] [--subscribers S] [--seconds T] [--warmup W]
#                    [--rate R] [--only parley|janus] [--builddir DIR]
#                    [--janus-event-loops L] [--janus-address A] [--out DIR] [--no-build]
#
# Defaults: P=1, S=200, T=20 s measured after the subscribers' ramp and a 3 s
# warm-up. Each publisher sends 600 kbit/s VP8 + 32 kbit/s Opus; subscriber i
# receives publisher i mod P; every endpoint has its own WebSocket and its
# own media connection (UDP socket, ICE, DTLS, SRTP). The generator is
# bench/sfu/ (sfuload); see docs/benchmarks.md.
#
# Parley: parleyd on 127.0.0.1 (REST, WebSocket and the media port), data in
# a temporary directory; one organisation without limits, one API key, one
# token, one room per publisher, made with the parley command.
# Janus: janus with a configuration from bench/signaling/janus-config.sh in
# its media mode (VideoRoom and WebSocket transport on 127.0.0.1 only,
# ICE-lite, no STUN/TURN, one room per publisher), handles on L event loops
# (default 2; 0 for Janus's thread per handle). Janus 1.1.2 gathers no
# loopback candidate, so its ICE is confined to one address of this
# machine's own interfaces (the first non-loopback IPv4 one, or
# --janus-address A) and the generator's sockets bind to the same address:
# the kernel delivers that traffic over the loopback device, nothing leaves
# the machine.
#
# Uses an existing build in BUILDDIR (default build-sfubench) or builds one
# (PARLEYD=path and PARLEY_CLI=path use those binaries instead of building them;
# --no-build takes BUILDDIR's binaries as they are);
# raises the open-file limit; stops what it started when it exits. Prints
# each run's figures, then the table with Parley/Janus ratios
# (bench/sfu/compare.py). The generator shares the machine's cores with the
# server it measures. Nothing leaves the machine; bounded in count and time.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
here=$root/bench/sfu

builddir=build-sfubench only="" out="" build=1 pubs=1 subs=200 secs=20 warm=3 rate=200 jloops=2 jaddr=
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
    --janus-address) jaddr=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$only" in ""|parley|janus) ;; *) echo "run.sh: --only parley|janus" >&2; exit 2 ;; esac
want() { [ -z "$only" ] || [ "$only" = "$1" ]; }
if want janus && ! command -v janus >/dev/null; then
  if [ "$only" = janus ]; then echo "run.sh: janus is not installed" >&2; exit 1; fi
  echo "run.sh: janus is not installed: Parley only" >&2
  only=parley
fi

# ---- build ----
export PATH=/usr/bin:/bin:$PATH
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
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
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
bound=$(python3 -c "print(int(90 + 3 * $subs / $rate + $warm + $secs))")
gen() { # TARGET OUTFILE ARGS...
  local target=$1 file=$2; shift 2
  echo "== $target: $pubs x $subs, $secs s" >&2
  timeout --signal=INT --kill-after=30 "$((bound + 30))" \
    "$sfuload" --target "$target" --publishers "$pubs" --subscribers "$subs" --seconds "$secs" \
    --warmup "$warm" --rate "$rate" --timeout "$bound" "$@" | tee "$file" | grep -v '^{' || true
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

# ---- Janus ----
if want janus; then
  jport=$(free_port)
  if [ -z "$jaddr" ]; then
    jaddr=$(python3 -c '
import socket, fcntl, struct
for _, name in socket.if_nameindex():
    if name == "lo":
        continue
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        print(socket.inet_ntoa(fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))[20:24]))
        break
    except OSError:
        pass')
  fi
  [ -n "$jaddr" ] || { echo "run.sh: no non-loopback IPv4 address for Janus's media (--janus-address)" >&2; exit 1; }
  "$root/bench/signaling/janus-config.sh" "$work/janus" "$jport" "$pubs" 1000 "$jloops" media "$jaddr"
  janus -C "$work/janus/janus.jcfg" -F "$work/janus" -o >>"$out/janus.log" 2>&1 &
  jpid=$!
  pids+=("$jpid")
  wait_port "$jport" "$jpid" || { echo "run.sh: janus did not start (see $out/janus.log)" >&2; exit 1; }
  gen janus "$out/janus.txt" --url "ws://127.0.0.1:$jport/" --janus-room-base 1000 --server-pid "$jpid" \
    --media-address "$jaddr" --label "janus"
  stop "$jpid"
fi

python3 "$here/compare.py" --json "$out/summary.json" "$out/parley.txt" "$out/janus.txt"
[ -z "$keep_out" ] || echo "outputs: $out"
