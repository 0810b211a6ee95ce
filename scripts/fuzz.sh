#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (a separate package, so the main build never sees them)
# with -sanitize=fuzzer,address and runs each for a bounded time, one after another, niced.
#
#   scripts/fuzz.sh [--seconds N] [TARGET...]
#
# --seconds N: run time per target (default 600). TARGETs: FuzzIDX (the IDX parser on raw bytes
# and on gzip files), FuzzIDXGzip (the input gzip-compressed first, so IDX mutations reach the
# streaming reader), FuzzModelFile (the safetensors reader), FuzzWheel (the PyPI fallback's zip
# reader), FuzzPickle (its pickle reader). Default: all five.
#
# What is fuzzed is what ships: the release configuration with the package's own per-target
# flags (the readers with Swift's checks on, the kernels unchecked; see Package.swift), plus
# -sanitize=fuzzer,address. A bounds or overflow trap in a reader is a finding.
#
# Each target's seed corpus is generated in code by the target itself (MNIST_FUZZ_WRITE_SEEDS)
# into Fuzz/corpus/TARGET, which then keeps what libFuzzer finds; crashes, leaks, timeouts and
# out-of-memory inputs go to Fuzz/findings/. Neither is committed: each finding becomes an
# in-code regression test. Exits non-zero when any target found something.
set -euo pipefail
cd "$(dirname "$0")/../Fuzz"

seconds=600
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    -h|--help) sed -n "2,19p" "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 64 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(FuzzIDX FuzzIDXGzip FuzzModelFile FuzzWheel FuzzPickle)

nice -n 10 swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
bin="$(swift build -c release --show-bin-path)"

mkdir -p findings
status=0
for target in "${targets[@]}"; do
  corpus="corpus/$target"
  mkdir -p "$corpus"
  MNIST_FUZZ_WRITE_SEEDS="$corpus" "$bin/$target"
  log="findings/$target.log"
  echo "== $target: ${seconds}s, $(ls "$corpus" | wc -l) inputs in $corpus, log $log" >&2
  # rss_limit and malloc_limit: any single allocation above 2 GiB is a finding, since no input
  # libFuzzer makes (64 KiB at most) can justify one. The timeout is generous because a shared
  # machine can stall a process for over a minute (seen here); every input takes milliseconds.
  if nice -n 10 "$bin/$target" "$corpus" -max_total_time="$seconds" -max_len=65536 -timeout=300 \
      -rss_limit_mb=2048 -malloc_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="findings/$target-" >"$log" 2>&1; then
    result="no findings"
  else
    result="FOUND SOMETHING (see $log and findings/$target-*)"
    status=1
  fi
  runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log")
  echo "== $target: $runs executions in ${seconds}s, $(ls "$corpus" | wc -l) corpus inputs: $result" >&2
done
exit $status
