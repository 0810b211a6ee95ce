#!/usr/bin/env bash
# The test suite: Swift tests in release (unit, end-to-end and server targets; the end-to-end
# test trains on real MNIST), then the Python interop test. Real data comes from $MNIST_DATA_DIR,
# else ../shared/mnist, else data/mnist; tests that need it are skipped when there is none, and
# the last line of the Swift tests says how many were skipped and why.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
if [ -z "${MNIST_DATA_DIR:-}" ]; then
  for candidate in ../shared/mnist data/mnist; do
    if [ -e "$candidate/train-images-idx3-ubyte.gz" ] || [ -e "$candidate/train-images-idx3-ubyte" ]; then
      MNIST_DATA_DIR="$(cd "$candidate" && pwd)"
      export MNIST_DATA_DIR
      break
    fi
  done
fi

swift build -c release --build-tests
# Swift Testing writes this run's results, each skipped test with its reason, to
# <name>-swift-testing.xml beside the XCTest report <name>.xml; scripts/skipped_tests.py counts them.
results=.build/test-results.xml
rm -f "$results" "${results%.xml}-swift-testing.xml" .build/interop.log
status=0
swift test -c release --skip-build --xunit-output "$results" || status=$?
if [ "$status" -eq 0 ]; then
  python3 scripts/interop_test.py --binary .build/release/mnist-softmax 2>&1 | tee .build/interop.log || status=$?
fi
python3 scripts/skipped_tests.py "${results%.xml}-swift-testing.xml" --interop-log .build/interop.log
exit "$status"
