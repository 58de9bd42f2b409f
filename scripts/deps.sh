#!/usr/bin/env bash
# deps.sh - install the Debian packages Parley needs, and nothing else.
#
#   scripts/deps.sh run    what building and starting Parley needs
#   scripts/deps.sh test   that, plus what the tests need
#   scripts/deps.sh fuzz   that, plus clang and libFuzzer
#
# Packages already installed are not fetched again; otherwise this runs
# apt-get update and apt-get install -y (as root, or through sudo).
set -euo pipefail

run_pkgs=(
  build-essential meson ninja-build pkg-config python3
  libjansson-dev libwebsockets-dev libuv1-dev libssl-dev libsqlite3-dev libjwt-dev libcurl4-openssl-dev
  libsrtp2-dev zlib1g-dev libogg-dev
)
test_pkgs=(
  nodejs python3-websockets chromium ffmpeg iproute2
)
fuzz_pkgs=(
  clang libclang-rt-14-dev
)

case "${1:-run}" in
  run)  want=("${run_pkgs[@]}") ;;
  test) want=("${run_pkgs[@]}" "${test_pkgs[@]}") ;;
  fuzz) want=("${run_pkgs[@]}" "${test_pkgs[@]}" "${fuzz_pkgs[@]}") ;;
  *) echo "usage: $0 run|test|fuzz" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# The browser tests drive chromium with playwright-core from the committed
# lock file (tests/browser/package-lock.json); npm comes with some nodejs
# builds, and from Debian's npm package otherwise.
if [ "${1:-run}" != run ] && ! command -v npm >/dev/null 2>&1; then
  missing+=(npm)
fi
browser_deps() {
  [ "${1:-run}" = run ] && return 0
  local dir
  dir="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
  [ -d "$dir/node_modules/playwright-core" ] && return 0
  echo "deps: npm ci in tests/browser" >&2
  (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
}
if [ ${#missing[@]} -eq 0 ]; then
  browser_deps "${1:-run}"
  exit 0
fi

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
echo "deps: installing ${missing[*]}" >&2
"${as_root[@]}" apt-get update
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
browser_deps "${1:-run}"
