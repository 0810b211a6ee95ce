#!/usr/bin/env bash
# The test suite under AddressSanitizer, and multi-threaded training under ThreadSanitizer.
#
#   scripts/sanitize.sh [asan|tsan]     (default: both)
#
# Each sanitizer has its own build folder (.build-asan, .build-tsan) beside the normal .build.
# ASan runs the whole suite in release, as scripts/test.sh does: in debug the kernel is too slow
# for the end-to-end test on real MNIST (found as the tests find it: $MNIST_DATA_DIR,
# ../shared/mnist or data/mnist). The parsers' debug-only overflow checks are exercised by
# scripts/fuzz.sh instead. TSan runs only the multi-threaded training tests, which are small,
# so it builds in debug: quicker to compile, and every check on.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

# The tests that train with two or more threads: the lockstep pool's hand-offs and the sharded
# gradient in-process, one thread taking over the other's tasks (the task boards' hand-offs),
# and the executable's stop-signal handling during a two-thread run.
tsan_filter='sameSeedAndThreadCountGiveBitIdenticalWeights|aThreadThatFallsBehindIsHelpedAndTheBitsStayTheSame|stopSignalEndsTrainingAtABatchBoundaryWritingNothing'

run_asan() {
  swift build -c release --build-tests --sanitize=address --scratch-path .build-asan
  # Leaks outside this project's code, and one false positive: see the file.
  LSAN_OPTIONS="suppressions=$PWD/scripts/lsan-suppressions.txt" \
    swift test -c release --skip-build --sanitize=address --scratch-path .build-asan
}

run_tsan() {
  swift build --build-tests --sanitize=thread --scratch-path .build-tsan
  TSAN_OPTIONS="halt_on_error=1" \
    swift test --skip-build --sanitize=thread --scratch-path .build-tsan --filter "$tsan_filter"
}

case "${1:-both}" in
  asan) run_asan ;;
  tsan) run_tsan ;;
  both) run_asan; run_tsan ;;
  *) echo "usage: scripts/sanitize.sh [asan|tsan]" >&2; exit 64 ;;
esac
