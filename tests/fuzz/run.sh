#!/usr/bin/env bash
# run.sh - run one libFuzzer target for a bounded time.
#   run.sh FUZZER SEED_CORPUS WORK_DIR
# New inputs go to WORK_DIR/corpus (never into the source tree), crashes to
# WORK_DIR/; FUZZ_SECONDS (default 30) bounds the run. Exits non-zero when the
# fuzzer found a crash, a leak, a timeout or undefined behaviour.
set -euo pipefail
fuzzer=$1 seeds=$2 work=$3
mkdir -p "$work/corpus"
exec "$fuzzer" -max_total_time="${FUZZ_SECONDS:-30}" -timeout=10 -rss_limit_mb=2048 \
  -max_len=16384 -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" "$seeds"
