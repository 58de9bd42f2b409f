#!/usr/bin/env bash
# build.sh - configure (once) and build Parley with Meson and Ninja.
#
#   scripts/build.sh [BUILDDIR] [meson options...]
#
# BUILDDIR defaults to build/. Options are applied on the first configure and
# again on later runs, so a changed option takes effect.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's own python3 and node first: the build records the interpreter the
# tests run with, and the tests use Debian's python3 modules.
export PATH="/usr/bin:/bin:$PATH"
dir="${1:-build}"
shift || true
if [ -f "$dir/build.ninja" ]; then
  [ $# -eq 0 ] || meson configure "$dir" "$@" >/dev/null
else
  meson setup "$dir" "$@" >/dev/null
fi
ninja -C "$dir" >/dev/null || ninja -C "$dir"
