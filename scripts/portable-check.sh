#!/usr/bin/env bash
# Runs mnist-softmax as on older CPUs, under Debian's qemu-user, and checks that it never dies of
# an illegal instruction:
# - the default build (kernels for the build machine's CPU) under `-cpu Nehalem` (no AVX):
#   --help, inspect and fetch work; train exits 1 with one message naming the missing
#   instruction sets and the portable build;
# - the default build under `-cpu Haswell` (AVX2 + FMA): one epoch on one thread (on the first
#   6,000 training images, evaluated on the first 1,000 test images, as every train here) gives the same
#   model file, byte for byte, as natively (on an AVX-512 build machine, where the kernels need
#   AVX-512, it exits 1 with the message instead);
# - the portable build (MNIST_SOFTMAX_TARGET_CPU=, in .build-portable) under `-cpu Nehalem`:
#   trains, to the same model file, byte for byte, as the native build (AVX2 or AVX-512 kernels:
#   the same logical lanes and fused multiply-adds give the same bits);
# - the kernels built for AVX-512 (MNIST_SOFTMAX_TARGET_CPU=skylake-avx512, in .build-avx512)
#   compile and use zmm registers, on any build machine (qemu cannot run AVX-512; on an AVX-512
#   machine the native build is that path, and the portable check above compares it).
# Needs the default release build (.build/release) and real MNIST ($MNIST_DATA_DIR, else
# ../shared/mnist, else data/mnist). Prints a line per check, then `N passed, N failed`.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

command -v qemu-x86_64 >/dev/null || { apt-get update -qq && apt-get install -y -qq qemu-user >/dev/null; }
data="${MNIST_DATA_DIR:-}"
for candidate in ../shared/mnist data/mnist; do
  [ -n "$data" ] && break
  [ -e "$candidate/train-images-idx3-ubyte.gz" ] && data="$(cd "$candidate" && pwd)"
done
[ -n "$data" ] || { echo "portable-check: no MNIST (set MNIST_DATA_DIR)" >&2; exit 1; }
binary="$repo/.build/release/mnist-softmax"
[ -x "$binary" ] || { echo "portable-check: no $binary; run swift build -c release first" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() { # check DESCRIPTION COMMAND...: passes when the command exits 0
  local description="$1"; shift
  if "$@"; then echo "ok    $description"; passed=$((passed + 1)); else echo "FAIL  $description"; failed=$((failed + 1)); fi
}
# run NAME CPU BINARY ARGS...: the binary under qemu (CPU "native": directly) in $work, with its
# exit status in $work/NAME.status, its standard error in $work/NAME.err.
run() {
  local name="$1" cpu="$2" program="$3"; shift 3
  local status=0
  if [ "$cpu" = native ]; then
    (cd "$work" && "$program" "$@" >"$work/$name.out" 2>"$work/$name.err") || status=$?
  else
    (cd "$work" && qemu-x86_64 -cpu "$cpu" "$program" "$@" >"$work/$name.out" 2>"$work/$name.err") || status=$?
  fi
  echo "$status" >"$work/$name.status"
  echo "  $name (cpu $cpu): exit $status, $(tail -n 1 "$work/$name.out" 2>/dev/null)" >&2
}
status() { cat "$work/$1.status"; }
accuracy() { grep -o 'test accuracy [0-9.]*%' "$work/$1.out"; }
# The trains compare builds, byte for byte, so they need not see all of MNIST: the first 6,000
# training and 1,000 test images, uncompressed, in $work (under qemu a 60,000-image epoch took
# minutes). `fetch` and `inspect` below still read the real files.
subset="$work/subset"
mkdir "$subset"
python3 - "$data" "$subset" <<'PY'
import gzip, os, sys
source, target = sys.argv[1:]
for name, count in [("train-images-idx3-ubyte", 6000), ("train-labels-idx1-ubyte", 6000),
                    ("t10k-images-idx3-ubyte", 1000), ("t10k-labels-idx1-ubyte", 1000)]:
    path = os.path.join(source, name)
    raw = open(path, "rb").read() if os.path.exists(path) else gzip.open(path + ".gz", "rb").read()
    rank = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank)]
    per_item = 1
    for dim in dims[1:]:
        per_item *= dim
    header = raw[:4] + count.to_bytes(4, "big") + raw[8:4 + 4 * rank]
    with open(os.path.join(target, name), "wb") as handle:
        handle.write(header + raw[4 + 4 * rank: 4 + 4 * rank + count * per_item])
PY
train=(train --data-dir "$subset" --epochs 1 --threads 1 --quiet)

echo "== default build under -cpu Nehalem (no AVX)" >&2
run help Nehalem "$binary" --help
check "--help exits 0 on a CPU without AVX" test "$(status help)" = 0
run inspect Nehalem "$binary" inspect "$data/t10k-labels-idx1-ubyte.gz"
check "inspect exits 0 on a CPU without AVX" test "$(status inspect)" = 0
mkdir "$work/fetched" && cp "$data"/*-ubyte.gz "$work/fetched/"
run fetch Nehalem "$binary" fetch --data-dir "$work/fetched"
check "fetch (files present: verified by digest) exits 0 on a CPU without AVX" test "$(status fetch)" = 0
run train-nehalem Nehalem "$binary" "${train[@]}" --model nehalem.safetensors
check "train exits 1, not 132 (SIGILL), on a CPU without AVX" test "$(status train-nehalem)" = 1
check "its message names the missing AVX2 and the portable build" \
  grep -q 'lacks .*AVX2.*MNIST_SOFTMAX_TARGET_CPU=' <(tr '\n' ' ' <"$work/train-nehalem.err")
check "and writes no model file" test ! -e "$work/nehalem.safetensors"

echo "== default build under -cpu Haswell (AVX2, FMA)" >&2
run train-native native "$binary" "${train[@]}" --model native.safetensors
check "train runs natively" test "$(status train-native)" = 0
run train-haswell Haswell "$binary" "${train[@]}" --model haswell.safetensors
if grep -q 'lacks .*AVX512' "$work/train-haswell.err"; then
  check "an AVX-512 build exits 1 with the message on a CPU without AVX-512" test "$(status train-haswell)" = 1
else
  check "train exits 0 under -cpu Haswell" test "$(status train-haswell)" = 0
  check "the same model file as natively, byte for byte" cmp -s "$work/native.safetensors" "$work/haswell.safetensors"
  check "the same test accuracy as natively ($(accuracy train-native))" test "$(accuracy train-haswell)" = "$(accuracy train-native)"
fi

echo "== portable build (MNIST_SOFTMAX_TARGET_CPU=) under -cpu Nehalem" >&2
MNIST_SOFTMAX_TARGET_CPU= swift build -c release --product mnist-softmax --scratch-path .build-portable >&2
run train-portable Nehalem "$repo/.build-portable/release/mnist-softmax" "${train[@]}" --model portable.safetensors
check "the portable build trains on a CPU without AVX" test "$(status train-portable)" = 0
check "to the native accuracy ($(accuracy train-native))" test "$(accuracy train-portable)" = "$(accuracy train-native)"
check "the same model file as the native build, byte for byte" cmp -s "$work/native.safetensors" "$work/portable.safetensors"

echo "== the AVX-512 kernels (MNIST_SOFTMAX_TARGET_CPU=skylake-avx512) compile" >&2
avx512_status=0
MNIST_SOFTMAX_TARGET_CPU=skylake-avx512 swift build -c release --target MNISTKernels --scratch-path .build-avx512 >&2 \
  || avx512_status=$?
check "the kernel target builds for skylake-avx512" test "$avx512_status" = 0
kernel_objects=(.build-avx512/release/MNISTKernels.build/*.o)
check "and its forward kernel uses zmm registers" grep -q zmm <(objdump -d "${kernel_objects[@]}" 2>/dev/null)

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
