#!/usr/bin/env bash
# run.sh - Parley's signaling benchmark, side by side with Janus.
#
#   bench/signaling/run.sh [--profile quick|full] [--builddir DIR] [--only parley|janus]
#                          [--participants N] [--rooms R] [--rate J] [--hold S]
#                          [--window W] [--janus-event-loops L] [--out DIR]
#
# Profiles, sized for a 2-core machine:
#   quick (default)  1,000 participants in 10 rooms, 1,000 joins/s, hold 5 s   (about 1 min)
#   full            10,000 participants in 100 rooms, 1,000 joins/s, hold 30 s (about 5 min)
#
# Each server gets two runs of the generator (bench/signaling/loadgen.c), each
# on a freshly started process, loopback only:
#   paced        --rate J: join latency, error delivery, server CPU and RSS
#   unthrottled  --rate 0 --window W (default 256): join throughput (the
#                better of a server's two runs counts)
# Parley: parleyd on 127.0.0.1 with a temporary data directory; one
# organisation, API key, token and R rooms, made with the parley command
# (mint_token.py and plain REST stand in if it lacks `token` or `room`).
# Janus: janus with a generated configuration (janus-config.sh): the VideoRoom
# plugin and the WebSocket transport only, R rooms, handles sharing L event
# loops (default 2; 0 for Janus's default of one per handle, see there).
#
# Installs what is missing (Parley's build packages and janus, from Debian; as
# root or through sudo), builds in BUILDDIR (default build-bench), raises the
# open-file limit, and stops everything it started when it exits. Prints each
# run's figures, then both side by side with the ratios and the targets
# (compare.py). With --out DIR the raw outputs and summary.json are kept there.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
here=$root/bench/signaling

profile=quick builddir=build-bench only="" out=""
n="" rooms="" rate="" hold="" window=256 jloops=2
while [ $# -gt 0 ]; do
  case "$1" in
    --profile) profile=$2; shift 2 ;;
    --builddir) builddir=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --participants) n=$2; shift 2 ;;
    --rooms) rooms=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --hold) hold=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --janus-event-loops) jloops=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$profile" in
  quick) : "${n:=1000}" "${rooms:=10}" "${rate:=1000}" "${hold:=5}" ;;
  full)  : "${n:=10000}" "${rooms:=100}" "${rate:=1000}" "${hold:=30}" ;;
  *) echo "run.sh: --profile quick|full" >&2; exit 2 ;;
esac
case "$only" in ""|parley|janus) ;; *) echo "run.sh: --only parley|janus" >&2; exit 2 ;; esac
want() { [ -z "$only" ] || [ "$only" = "$1" ]; }

# ---- packages, build, limits ----
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
scripts/deps.sh run
if want janus && ! command -v janus >/dev/null; then
  echo "run.sh: installing janus" >&2
  "${as_root[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y --no-install-recommends janus
fi
[ -f "$builddir/build.ninja" ] || meson setup "$builddir" >/dev/null
targets=(bench/loadgen)
want parley && targets+=(server/parleyd cli/parley)
ninja -C "$builddir" "${targets[@]}" >/dev/null || ninja -C "$builddir" "${targets[@]}"
loadgen=$builddir/bench/loadgen
parleyd=$builddir/server/parleyd
parley=$builddir/cli/parley

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
need=$((n + n / 10 + 200))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
  echo "run.sh: $n participants need about $need open files; the limit is $(ulimit -n)" >&2
  exit 1
fi

# ---- processes we start, and their end ----
work=$(mktemp -d /tmp/parley-bench.XXXXXX)
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
stop() { # stop one process we started, and forget it
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
wait_port() { # PORT PID
  for _ in $(seq 100); do
    kill -0 "$2" 2>/dev/null || return 1
    python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', $1), 0.2)" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
bound=$(python3 -c "print(int(120 + 6 * $n / $rate + $hold + $n / 500))")
gen() { # TARGET OUTFILE ARGS... ; the generator, bounded in time
  local target=$1 file=$2; shift 2
  echo "== $target: $(basename "$file" .txt)" >&2
  timeout --signal=INT --kill-after=30 "$((bound + 30))" \
    "$loadgen" --target "$target" --participants "$n" --timeout "$bound" "$@" | tee "$file" | grep -v '^{' || true
}

# ---- Parley ----
parley_start() { # sets ppid, pport
  pport=$(free_port)
  "$parleyd" --listen "127.0.0.1:$pport" --data "$work/parley-data" --log-level warn \
    >>"$out/parleyd.log" 2>&1 &
  ppid=$!
  pids+=("$ppid")
  wait_port "$pport" "$ppid" || { echo "run.sh: parleyd did not start (see $out/parleyd.log)" >&2; exit 1; }
}

parley_setup() { # org, key, token, rooms; sets token
  local key apikey secret
  "$parley" admin --data "$work/parley-data" org create bench >/dev/null
  key=$("$parley" admin --data "$work/parley-data" key create --org bench --json)
  apikey=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["apikey"])' <<<"$key")
  secret=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["secret"])' <<<"$key")
  if "$parley" token --help >/dev/null 2>&1; then
    token=$("$parley" token --apikey "$apikey" --secret "$secret" --permissions allow_join --ttl 2h | tail -n1)
  else # the same claims, minted here (docs/protocol.md §1)
    token=$(python3 "$here/mint_token.py" "$apikey" "$secret")
  fi
}

parley_rooms() { # R rooms on the running server, ids to $work/rooms
  : >"$work/rooms"
  local url="http://127.0.0.1:$pport"
  if "$parley" room --help >/dev/null 2>&1; then
    for ((i = 0; i < rooms; i++)); do
      "$parley" room create --url "$url" --token "$token" --json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["roomId"])' >>"$work/rooms"
    done
  else
    python3 - "$url" "$token" "$rooms" >>"$work/rooms" <<'EOF'
import json, sys, urllib.request
url, token, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
for _ in range(count):
    req = urllib.request.Request(url + "/v2/rooms", data=b"{}", method="POST",
                                 headers={"Authorization": token, "Content-Type": "application/json"})
    print(json.load(urllib.request.urlopen(req, timeout=10))["roomId"])
EOF
  fi
}

parley_run() { # NAME ARGS...
  local name=$1; shift
  parley_start
  parley_rooms
  gen parley "$out/parley-$name.txt" --url "ws://127.0.0.1:$pport/v1/signaling" --rooms-file "$work/rooms" \
    --token "$token" --server-pid "$ppid" --label "$name" "$@"
  stop "$ppid"
}

if want parley; then
  rm -rf "$work/parley-data"
  mkdir -p "$work/parley-data"
  parley_setup
  parley_run paced --rate "$rate" --hold "$hold"
  parley_run max --rate 0 --window "$window" --hold 1
fi

# ---- Janus ----
janus_run() { # NAME ARGS...
  local name=$1; shift
  local jport jpid
  jport=$(free_port)
  rm -rf "$work/janus"
  "$here/janus-config.sh" "$work/janus" "$jport" "$rooms" 1000 "$jloops"
  janus -C "$work/janus/janus.jcfg" -F "$work/janus" -o >>"$out/janus.log" 2>&1 &
  jpid=$!
  pids+=("$jpid")
  wait_port "$jport" "$jpid" || { echo "run.sh: janus did not start (see $out/janus.log)" >&2; exit 1; }
  gen janus "$out/janus-$name.txt" --url "ws://127.0.0.1:$jport/" --rooms "$rooms" --janus-room-base 1000 \
    --server-pid "$jpid" --label "$name" "$@"
  stop "$jpid"
}

if want janus; then
  janus_run paced --rate "$rate" --hold "$hold"
  janus_run max --rate 0 --window "$window" --hold 1
fi

python3 "$here/compare.py" --profile "$profile" --json "$out/summary.json" \
  "$out/parley-paced.txt" "$out/parley-max.txt" "$out/janus-paced.txt" "$out/janus-max.txt"
[ -z "$keep_out" ] || echo "outputs: $out"
