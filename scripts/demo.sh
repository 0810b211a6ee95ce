#!/usr/bin/env bash
# The whole job on a fresh clone: build, fetch MNIST if needed (verified by SHA-256),
# train with the defaults, evaluate on the test set, and draw the weight templates.
#   data:    $MNIST_DATA_DIR, else data/mnist
#   outputs: out/model.safetensors, out/templates/*.png
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
swift build -c release
bin=.build/release/mnist-softmax
data="${MNIST_DATA_DIR:-data/mnist}"

"$bin" fetch --data-dir "$data"
mkdir -p out
"$bin" train --data-dir "$data" --model out/model.safetensors
"$bin" evaluate --data-dir "$data" --model out/model.safetensors
"$bin" export-weights --model out/model.safetensors --output-dir out/templates
