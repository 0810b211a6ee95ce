#!/usr/bin/env bash
# Installs what building and testing need, only when it is missing:
# Debian's libpng-dev, zlib1g-dev and pkg-config (the C libraries behind CLibPNG and CZlib),
# and Python's numpy and safetensors (the interop test).
set -euo pipefail

missing=()
for package in libpng-dev zlib1g-dev pkg-config; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! python3 -c 'import numpy, safetensors' >/dev/null 2>&1; then
  echo "installing numpy and safetensors for the interop test" >&2
  python3 -m pip install --quiet --disable-pip-version-check numpy safetensors
fi
