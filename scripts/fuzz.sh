#!/usr/bin/env bash
# fuzz.sh - build the libFuzzer targets with clang (ASan + UBSan) and run each
# for a bounded time; ends with the 'N passed, N failed' line like the tests.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 30)
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/bin:/bin:$PATH"
scripts/deps.sh fuzz || exit 1
dir=build-fuzz
export FUZZ_SECONDS="${1:-30}"
export ASAN_OPTIONS="detect_leaks=1" UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
CC=clang scripts/build.sh "$dir" -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug \
  || { echo "0 passed, 1 failed, 0 skipped" | tee "$dir/summary.txt"; exit 1; }
rm -f "$dir/meson-logs/testlog.json"
meson test -C "$dir" --suite fuzz --print-errorlogs >"$dir/meson-logs/fuzz-output.txt" 2>&1
grep -hE "^(stat::number_of_executed_units|Done [0-9]+ runs)" "$dir"/meson-logs/testlog.txt | sed 's/^/  /' || true
python3 tests/summarize.py "$dir/meson-logs/testlog.json" | tee "$dir/summary.txt"
exit "${PIPESTATUS[0]}"
