#!/usr/bin/env bash
# CI for `export-onnx`: installs PyPI's onnx and onnxruntime when missing, builds the release
# executable (incremental after scripts/test.sh), and runs scripts/onnx_test.py on real MNIST from
# $MNIST_DATA_DIR, ../shared/mnist beside the clone, or data/mnist.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
if ! python3 -c 'import onnx, onnxruntime' >/dev/null 2>&1; then
  echo "installing onnx and onnxruntime for the ONNX test" >&2
  python3 -m pip install --quiet --disable-pip-version-check onnx onnxruntime
fi
swift build -c release
python3 scripts/onnx_test.py --binary .build/release/mnist-softmax
