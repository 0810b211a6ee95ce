#!/usr/bin/env bash
# The `serve` tests: the JSON API (every status, hostile PNGs, agreement with `predict --json`,
# signals, the HTTP limits of docs/serve.md: oversized heads, malformed framing, stalled clients,
# pipelining; a load run of 480 requests from 8 clients; live training: tensors byte for byte against
# `train`, refused settings, 409/429, divergence, the unwatched timeout, "Use this model") and the
# page in headless Chromium through selenium, a race of the three costs started with real clicks.
# Installs what they need when it is missing: Debian's chromium and chromium-driver, Python's pytest
# and selenium. Screenshots go to $SERVE_SCREENSHOT_DIR (default out/serve), the
# load figures to out/serve/load.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/lib/install.sh
need_apt chromium chromium-driver
need_pip "numpy, pytest, selenium" numpy pytest selenium

swift build -c release --product mnist-softmax
export SERVE_SCREENSHOT_DIR="${SERVE_SCREENSHOT_DIR:-$PWD/out/serve}"
mkdir -p "$SERVE_SCREENSHOT_DIR"
export SERVE_LOAD_REPORT="$SERVE_SCREENSHOT_DIR/load.txt"
rm -f "$SERVE_LOAD_REPORT"
python3 -m pytest -q -p no:cacheprovider scripts/serve -rs
cat "$SERVE_LOAD_REPORT"
