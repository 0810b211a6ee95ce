#!/usr/bin/env bash
# CI for `export-onnx`: installs PyPI's onnx and onnxruntime when missing, builds the release
# executable (incremental after scripts/test.sh), and runs scripts/onnx_test.py on real MNIST from
# $MNIST_DATA_DIR, ../shared/mnist beside the clone, or data/mnist.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/install.sh
scripts/install-deps.sh
need_pip "onnx, onnxruntime" onnx onnxruntime
swift build -c release
python3 scripts/onnx_test.py --binary .build/release/mnist-softmax
