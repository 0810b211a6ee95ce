#!/usr/bin/env bash
# CI for `report`: trains the default model on real MNIST, writes its report, and checks in
# headless Chromium (selenium + Debian's chromium and chromium-driver) that the page renders with
# every picture loaded, its charts drawn, nothing fetched from the network and no console error.
# The page and a screenshot stay in .build/ci-report/ (never committed: they show MNIST images).
# Data: $MNIST_DATA_DIR, else ../shared/mnist, else data/mnist.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/install.sh
scripts/install-deps.sh
need_apt chromium chromium-driver
need_pip selenium selenium

data="${MNIST_DATA_DIR:-}"
if [ -z "$data" ]; then
  for candidate in ../shared/mnist data/mnist; do
    if [ -e "$candidate/t10k-images-idx3-ubyte.gz" ] || [ -e "$candidate/t10k-images-idx3-ubyte" ]; then data="$candidate"; break; fi
  done
fi
if [ -z "$data" ]; then
  echo "ci-report: no MNIST data (set MNIST_DATA_DIR or put it in ../shared/mnist)" >&2
  exit 1
fi

swift build -c release
binary=.build/release/mnist-softmax
out=.build/ci-report
rm -rf "$out"
mkdir -p "$out"
"$binary" train --data-dir "$data" --model "$out/model.safetensors" >/dev/null
"$binary" report --data-dir "$data" --model "$out/model.safetensors" --output "$out/report"
python3 scripts/check_report.py "$out/report" --screenshot "$out/report.png"
