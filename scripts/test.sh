#!/usr/bin/env bash
# The test suite: Swift tests in release (the end-to-end test trains on real MNIST), then the
# Python interop test. Real data comes from $MNIST_DATA_DIR, else ../shared/mnist, else data/mnist;
# tests that need it are skipped, with the reason printed, when there is none.
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
swift test -c release --skip-build
python3 scripts/interop_test.py --binary .build/release/mnist-softmax
