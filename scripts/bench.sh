#!/usr/bin/env bash
# Side-by-side benchmark of `mnist-softmax train` and the numpy reference (scripts/numpy_reference.py),
# on the same MNIST, the same hyperparameters and the same batch size.
#
#   scripts/bench.sh [--runs N] [--batch-size N] [--fma-peak-gflops X] [--work-dir DIR] [--no-build]
#                    [--binary FILE]    (another mnist-softmax executable; implies --no-build)
#
# Each round runs, in this order (interleaved, so a slow spell of a shared machine hits both tools):
#   (a) mnist-softmax train with no hyperparameter flags: its defaults, all threads (the whole-process run)
#   (a') only when its defaults differ from the shared hyperparameters: mnist-softmax with them, all threads
#   (b) mnist-softmax with the shared hyperparameters, --threads 1
#   (c) numpy with the shared hyperparameters, BLAS on all threads (numpy's whole-process run)
#   (d) numpy with the shared hyperparameters, OPENBLAS/OMP/MKL_NUM_THREADS=1
# The shared hyperparameters are mnist-softmax's defaults, read from the metadata of the model file
# that (a) saved in round 1, with the batch size set by --batch-size (default 100).
# Every run is under /usr/bin/time (wall seconds, peak RSS) with its JSON Lines captured; then
# scripts/bench_report.py prints a Markdown table, the ratios and the issue's done-lines on standard
# output. Progress goes to standard error. Data: $MNIST_DATA_DIR, else ../shared/mnist, else data/mnist.
# The single-thread FMA-peak line needs one core's FMA peak in GFLOP/s: --fma-peak-gflops X or
# $FMA_PEAK_GFLOPS (else it prints n/a). Timings are for people to read; no test depends on them.
set -euo pipefail
script="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
start_dir="$(pwd)"
cd "$(dirname "$0")/.."
repo="$(pwd)"

usage() { sed -n '2,20p' "$script" | sed 's/^# \{0,1\}//'; }

runs=5
batch_size=100
fma_peak="${FMA_PEAK_GFLOPS:-}"
work_dir=""
build=1
binary=""
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="${2:?--runs needs a number}"; shift 2 ;;
    --batch-size) batch_size="${2:?--batch-size needs a number}"; shift 2 ;;
    --fma-peak-gflops) fma_peak="${2:?--fma-peak-gflops needs a number}"; shift 2 ;;
    --work-dir) work_dir="${2:?--work-dir needs a folder}"; shift 2 ;;
    --no-build) build=0; shift ;;
    --binary) binary="${2:?--binary needs a file}"; build=0; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench: unknown option $1" >&2; usage >&2; exit 64 ;;
  esac
done
# Paths given on the command line are relative to where the script was started.
case "$work_dir" in "" | /*) ;; *) work_dir="$start_dir/$work_dir" ;; esac
case "$binary" in "" | /*) ;; *) binary="$start_dir/$binary" ;; esac
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "bench: --runs must be a positive integer" >&2; exit 64; }
[[ "$batch_size" =~ ^[1-9][0-9]*$ ]] || { echo "bench: --batch-size must be a positive integer" >&2; exit 64; }
if [ -n "$fma_peak" ] && ! [[ "$fma_peak" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  echo "bench: the FMA peak must be a number of GFLOP/s, not '$fma_peak'" >&2; exit 64
fi

# The data.
data_dir="${MNIST_DATA_DIR:-}"
if [ -z "$data_dir" ]; then
  for candidate in ../shared/mnist data/mnist; do
    if [ -e "$candidate/train-images-idx3-ubyte.gz" ] || [ -e "$candidate/train-images-idx3-ubyte" ]; then
      data_dir="$candidate"
      break
    fi
  done
fi
if [ -z "$data_dir" ] || ! [ -d "$data_dir" ]; then
  echo "bench: no MNIST folder ${data_dir:-in ../shared/mnist or data/mnist} (set MNIST_DATA_DIR, or run: mnist-softmax fetch --data-dir data/mnist)" >&2
  exit 1
fi
data_dir="$(cd "$data_dir" && pwd)"

# What it needs: /usr/bin/time, numpy and safetensors, the release build.
if ! [ -x /usr/bin/time ]; then
  echo "bench: installing time" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null
fi
if ! python3 -c 'import numpy, safetensors' >/dev/null 2>&1; then
  echo "bench: installing numpy and safetensors" >&2
  python3 -m pip install --quiet --disable-pip-version-check numpy safetensors
fi
if [ "$build" = 1 ]; then
  echo "bench: swift build -c release" >&2
  swift build -c release >&2
fi
[ -n "$binary" ] || binary="$repo/.build/release/mnist-softmax"
[ -x "$binary" ] || { echo "bench: no $binary (build it: swift build -c release)" >&2; exit 1; }
reference="$repo/scripts/numpy_reference.py"
cores="$(nproc)"

threads_supported=1
# The help is read whole first: `grep -q` would stop reading early, and under pipefail the
# SIGPIPE that ends the writer would count as "no --threads".
train_help="$("$binary" train --help 2>&1 || true)"
if ! grep -q -- '--threads' <<<"$train_help"; then
  threads_supported=0
  echo "bench: warning: mnist-softmax train has no --threads option; its 1-thread row runs at its default" >&2
fi

if [ -n "$work_dir" ]; then
  mkdir -p "$work_dir"
  work="$(cd "$work_dir" && pwd)"
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/mnist-softmax-bench.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
fi
manifest="$work/manifest.tsv"
: >"$manifest"

# run KEY ROUND LABEL COMMAND...: one timed run; records it in the manifest and never stops the script.
run() {
  local key="$1" round="$2" label="$3"
  shift 3
  local base="$work/$key.$round"
  local status=0
  /usr/bin/time -f '%e %M' -o "$base.time" "$@" >"$base.jsonl" 2>"$base.err" </dev/null || status=$?
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$key" "$round" "$status" "$base.jsonl" "$base.time" "$base.err" >>"$manifest"
  local measured
  measured="$(tail -n 1 "$base.time" 2>/dev/null | awk '{ printf "%.2f s wall, %.1f MB peak RSS", $1, $2 * 1024 / 1e6 }')"
  if [ "$status" = 0 ]; then
    echo "bench: [$round/$runs] $label: $measured" >&2
  else
    echo "bench: [$round/$runs] $label: FAILED with exit status $status: $(tail -n 1 "$base.err")" >&2
  fi
  return 0
}

# The hyperparameters mnist-softmax saved in its model file's __metadata__, as command-line flags.
metadata_flags() {
  python3 - "$1" <<'EOF'
import json, struct, sys
with open(sys.argv[1], "rb") as handle:
    length = struct.unpack("<Q", handle.read(8))[0]
    metadata = json.loads(handle.read(length)).get("__metadata__", {})
keys = ["epochs", "batch_size", "learning_rate", "momentum", "learning_rate_decay", "l2", "seed"]
missing = [key for key in keys if key not in metadata]
if missing:
    sys.exit(f"{sys.argv[1]}: no {', '.join(missing)} in __metadata__")
print(" ".join(f"--{key.replace('_', '-')} {metadata[key]}" for key in keys))
EOF
}

one_thread=(env OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1)
all_threads=(env OPENBLAS_NUM_THREADS="$cores" OMP_NUM_THREADS="$cores" MKL_NUM_THREADS="$cores")
ours_one_flags=(--threads 1)
[ "$threads_supported" = 1 ] || ours_one_flags=()

echo "bench: data $data_dir, $runs rounds, $cores cores" >&2
shared=()
default_flags=""
differ=0
for round in $(seq 1 "$runs"); do
  run ours_default "$round" "mnist-softmax defaults, all threads" \
    "$binary" train --data-dir "$data_dir" --model "$work/ours_default.$round.safetensors" --json
  if [ "$round" = 1 ]; then
    if ! [ -f "$work/ours_default.1.safetensors" ]; then
      echo "bench: mnist-softmax's default run saved no model; its stderr:" >&2
      cat "$work/ours_default.1.err" >&2
      exit 1
    fi
    default_flags="$(metadata_flags "$work/ours_default.1.safetensors")"
    read -r -a shared <<<"$default_flags"
    for i in "${!shared[@]}"; do
      [ "${shared[$i]}" = "--batch-size" ] && shared[i+1]="$batch_size"
    done
    [ "${shared[*]}" = "$default_flags" ] || differ=1
    echo "bench: shared hyperparameters: ${shared[*]}" >&2
  fi
  if [ "$differ" = 1 ]; then
    run ours_all "$round" "mnist-softmax shared hyperparameters, all threads" \
      "$binary" train --data-dir "$data_dir" --model "$work/ours_all.$round.safetensors" "${shared[@]}" --json
  fi
  run ours_one "$round" "mnist-softmax shared hyperparameters, 1 thread" \
    "$binary" train --data-dir "$data_dir" --model "$work/ours_one.$round.safetensors" "${shared[@]}" \
    ${ours_one_flags[@]+"${ours_one_flags[@]}"} --json
  run numpy_all "$round" "numpy, BLAS on $cores threads" \
    "${all_threads[@]}" python3 "$reference" --data-dir "$data_dir" --model "$work/numpy_all.$round.safetensors" \
    "${shared[@]}" --json
  run numpy_one "$round" "numpy, BLAS on 1 thread" \
    "${one_thread[@]}" python3 "$reference" --data-dir "$data_dir" --model "$work/numpy_one.$round.safetensors" \
    "${shared[@]}" --json
done

# What bench_report.py needs to know about the configurations.
SHARED="${shared[*]}" DEFAULTS="$default_flags" DIFFER="$differ" RUNS="$runs" CORES="$cores" \
THREADS_SUPPORTED="$threads_supported" FMA_PEAK="$fma_peak" \
python3 - >"$work/configs.json" <<'EOF'
import json, os, platform
import numpy

def flags_to_dict(text):
    words = text.split()
    return {words[i].lstrip("-").replace("-", "_"): words[i + 1] for i in range(0, len(words) - 1, 2)}

cpu = platform.processor() or "unknown CPU"
try:
    with open("/proc/cpuinfo") as handle:
        cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
except (OSError, StopIteration):
    pass
try:
    blas = numpy.show_config(mode="dicts")["Build Dependencies"]["blas"]
    blas = f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
except Exception:
    blas = "unknown BLAS"
cores = os.environ["CORES"]
differ = os.environ["DIFFER"] == "1"
threads_supported = os.environ["THREADS_SUPPORTED"] == "1"
configurations = [{"key": "ours_default", "label": "mnist-softmax, defaults (a)", "threads": f"all ({cores})"}]
if differ:
    configurations.append({"key": "ours_all", "label": "mnist-softmax, shared", "threads": f"all ({cores})"})
configurations += [
    {"key": "ours_one", "label": "mnist-softmax, shared",
     "threads": "1" if threads_supported else "default (no --threads)"},
    {"key": "numpy_all", "label": "numpy reference, shared", "threads": f"all ({cores})"},
    {"key": "numpy_one", "label": "numpy reference, shared", "threads": "1"},
]
print(json.dumps({
    "runs": int(os.environ["RUNS"]), "nproc": int(cores), "cpu": cpu,
    "numpy": f"numpy {numpy.__version__} with {blas}",
    "hyperparameters": flags_to_dict(os.environ["SHARED"]),
    "default_hyperparameters": os.environ["DEFAULTS"], "defaults_differ": differ,
    "threads_supported": threads_supported,
    "fma_peak_gflops": float(os.environ["FMA_PEAK"]) if os.environ["FMA_PEAK"] else None,
    "configurations": configurations,
    "keys": {"ours_default": "ours_default", "ours_all": "ours_all" if differ else "ours_default",
             "ours_one": "ours_one", "numpy_all": "numpy_all", "numpy_one": "numpy_one"},
}, indent=1))
EOF

python3 "$repo/scripts/bench_report.py" --manifest "$manifest" --configs "$work/configs.json"
if [ -n "$work_dir" ]; then
  echo "bench: runs kept in $work" >&2
fi
