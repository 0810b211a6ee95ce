#!/usr/bin/env bash
# Installs what building and testing need, only when it is missing:
# Debian's libpng-dev, zlib1g-dev, libisal-dev, libssl-dev and pkg-config (the C libraries behind
# CLibPNG, CZlib, CISAL and CCrypto), curl (the program `fetch` downloads the mirrors with),
# and Python's numpy and safetensors (the interop test).
set -euo pipefail
source "$(dirname "$0")/lib/install.sh"

need_apt libpng-dev zlib1g-dev libisal-dev libssl-dev pkg-config curl
need_pip "numpy, safetensors" numpy safetensors
