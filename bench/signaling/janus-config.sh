#!/usr/bin/env bash
# janus-config.sh - write a minimal Janus configuration for the signaling benchmark.
#
#   bench/signaling/janus-config.sh DIR PORT ROOMS [ROOM_BASE] [EVENT_LOOPS] [media ADDRESS]
#
# DIR gets janus.jcfg and one config per loaded module, and plugins/ and
# transports/ folders holding links to only the VideoRoom plugin and the
# WebSocket transport: no other plugin, transport, logger or event handler is
# loaded, and there is no admin API. The transport listens on 127.0.0.1:PORT.
# ROOMS VideoRoom rooms numbered from ROOM_BASE (default 1000) are declared
# with room for every participant and notify_joining on, so each join is
# announced to the room as Parley's participant-joined is.
#
# EVENT_LOOPS (default 2, one per core here) is Janus's event_loops setting:
# handles share that many loop threads. 0 keeps Janus's default, a thread and
# a GLib main context per handle, which costs about two more file descriptors
# per participant: at 10,000 participants that passes a 20,000 open-file limit
# and Janus aborts ("Creating pipes for GWakeup: Too many open files").
#
# With `media ADDRESS` (the media forwarding benchmark, bench/sfu/run.sh)
# Janus's ICE is confined to ADDRESS: ICE-lite (like parleyd: the clients
# are the controlling agents), host candidates of ADDRESS only
# (ice_enforce_list; also the SDP's address, `interface`), no STUN or TURN
# server (none is configured), no mDNS, and RTP ports in 20000-40000. Janus 1.1.2 skips loopback interfaces when
# it gathers (with ice_enforce_list = "lo" it is left with none, and libnice
# then gathers every other interface), so 127.0.0.1 cannot be a Janus
# candidate: bench/sfu/run.sh runs Janus in a network namespace of its own
# and gives ADDRESS to a veth link inside it (pb0, 10.77.0.1), never an
# address of the machine's real interfaces.
#
# Janus is then run as: janus -C DIR/janus.jcfg -F DIR
set -euo pipefail
dir=${1:?usage: janus-config.sh DIR PORT ROOMS [ROOM_BASE] [EVENT_LOOPS] [media ADDRESS]}
port=${2:?port}
rooms=${3:?rooms}
base=${4:-1000}
loops=${5:-2}
media=${6:-}
media_address=${7:-}
if [ "$media" = media ] && [ -z "$media_address" ]; then
  echo "janus-config: media needs the address Janus's ICE is confined to" >&2
  exit 2
fi

libdir=$(dirname "$(dpkg -L janus 2>/dev/null | grep -m1 '/plugins/libjanus_videoroom.so$')" 2>/dev/null || true)
libdir=${libdir%/plugins}
[ -n "$libdir" ] && [ -f "$libdir/plugins/libjanus_videoroom.so" ] || libdir=/usr/lib/x86_64-linux-gnu/janus
for f in plugins/libjanus_videoroom.so transports/libjanus_websockets.so; do
  [ -f "$libdir/$f" ] || { echo "janus-config: $libdir/$f not found (apt-get install janus)" >&2; exit 1; }
done

mkdir -p "$dir/plugins" "$dir/transports" "$dir/events" "$dir/loggers"
ln -sf "$libdir/plugins/libjanus_videoroom.so" "$dir/plugins/"
ln -sf "$libdir/transports/libjanus_websockets.so" "$dir/transports/"

cat >"$dir/janus.jcfg" <<EOF
general: {
	configs_folder = "$dir"
	plugins_folder = "$dir/plugins"
	transports_folder = "$dir/transports"
	events_folder = "$dir/events"
	loggers_folder = "$dir/loggers"
	debug_level = 3
	server_name = "bench"
	session_timeout = 900
$([ "$loops" -gt 0 ] && printf '\tevent_loops = %d' "$loops")
$([ "$media" = media ] && printf '\tinterface = "%s"' "$media_address")
}
certificates: {
}
media: {
$([ "$media" = media ] && printf '\trtp_port_range = "20000-40000"')
}
nat: {
	nice_debug = false
$([ "$media" = media ] && printf '\tice_lite = true\n\tice_enforce_list = "%s"\n\tignore_mdns = true' "$media_address")
}
plugins: {
}
transports: {
}
loggers: {
}
events: {
}
EOF

cat >"$dir/janus.transport.websockets.jcfg" <<EOF
general: {
	json = "compact"
	ws = true
	ws_port = $port
	ws_ip = "127.0.0.1"
	wss = false
}
admin: {
	admin_ws = false
	admin_wss = false
}
EOF

{
  echo 'general: {'
  echo '}'
  for ((i = 0; i < rooms; i++)); do
    echo "room-$((base + i)): {"
    echo "	description = \"bench room $i\""
    echo "	publishers = 100000"
    echo "	notify_joining = true"
    echo '}'
  done
} >"$dir/janus.plugin.videoroom.jcfg"
