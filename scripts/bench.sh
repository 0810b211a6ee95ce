#!/usr/bin/env bash
# Side-by-side benchmark of `mnist-softmax train`, the numpy reference (scripts/numpy_reference.py)
# and the PyTorch CPU reference (scripts/torch_reference.py), on the same MNIST, the same
# hyperparameters and the same batch size, plus how `train` behaves when other processes want the cores.
#
#   scripts/bench.sh [--runs N] [--batch-size N] [--fma-peak-gflops X] [--work-dir DIR] [--no-build]
#                    [--binary FILE]    (another mnist-softmax executable; implies --no-build)
#                    [--clean-builds N] (default 1; 0 skips them)
#
# First, unless --no-build: N clean release builds of the working tree as a fresh clone sees it
# (its tracked files, copied to a new folder, with Package.resolved and .build/ left out), each
# timed from `swift build -c release` to the linked binary, package resolution included; the
# report shows their median beside the epoch. Then the release build of this tree, if needed.
# Each round runs, in this order (interleaved, so a slow spell of a shared machine hits every tool):
#   (a) mnist-softmax train with no hyperparameter flags: its defaults, all threads (the whole-process run),
#       right after the same probe has run on each CPU the bench may use, one at a time (taskset), so
#       that a slow all-threads round can be told from a round where one CPU's core was shared
#   (a') only when its defaults differ from the shared hyperparameters: mnist-softmax with them, all threads
#   (b) mnist-softmax with the shared hyperparameters, --threads 1, right after scripts/cpu_clock.c
#       --l1-loads measures the L1 loads per cycle the core sustains (2 uncontended; fewer while
#       another guest's hardware thread shares the core, which slows load-bound kernels)
#   (c) numpy with the shared hyperparameters, BLAS on all threads (numpy's whole-process run)
#   (d) numpy with the shared hyperparameters, OPENBLAS/OMP/MKL_NUM_THREADS=1
#   (e) PyTorch with the shared hyperparameters, torch.set_num_threads(all cores)
#   (e') PyTorch with the shared hyperparameters, torch.set_num_threads(1) (its OpenMP threads spin at
#       barriers: on a busy machine its all-threads run can be many times slower than this one)
#   (f) contention A: two default `mnist-softmax train` runs started together (each one's wall)
#   (g) contention B: a busy loop in another process keeps one core busy (started 1 s before, killed
#       after), beside it the default `train` run, then `train --threads 1`
# The shared hyperparameters are mnist-softmax's defaults, read from the metadata of the model file
# that (a) saved in round 1, with the batch size set by --batch-size (default 100).
# Every run is under /usr/bin/time (wall seconds, peak RSS) with its JSON Lines captured; then
# scripts/bench_report.py prints the CPU, a Markdown table, the ratios and issue 13's done-lines on
# standard output. Progress goes to standard error. Data: $MNIST_DATA_DIR, else ../shared/mnist,
# else data/mnist. PyTorch: installed with pip from a CPU wheel on disk (/opt/wheels/torch-*cpu*.whl)
# or else from download.pytorch.org's CPU index when `import torch` fails; without it its rows are n/a.
# The single-thread FMA-peak line needs one core's FMA peak in GFLOP/s: --fma-peak-gflops X or
# $FMA_PEAK_GFLOPS; else the bench derives it as float lanes (16 with AVX-512F, 8 with AVX2 + FMA)
# × 2 FMA pipes (1 for AVX-512 on AMD's Zen 4, which splits a 512-bit FMA over its two 256-bit
# pipes) × 2 FLOP × the clock that scripts/cpu_clock.c measures (a dependent-addition chain,
# one per cycle), when a C compiler is at hand (else n/a; bench_report.py says how to derive it). The kernel build
# shown is $MNIST_SOFTMAX_TARGET_CPU's (as for `swift build`). Timings are for people to read; no
# test depends on them.
set -euo pipefail
script="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
start_dir="$(pwd)"
cd "$(dirname "$0")/.."
repo="$(pwd)"

# The comment block at the top, up to the first line that is not a comment.
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$script"; }

runs=5
clean_builds=1
batch_size=100
fma_peak="${FMA_PEAK_GFLOPS:-}"
work_dir=""
build=1
binary=""
binary_given=0
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="${2:?--runs needs a number}"; shift 2 ;;
    --batch-size) batch_size="${2:?--batch-size needs a number}"; shift 2 ;;
    --fma-peak-gflops) fma_peak="${2:?--fma-peak-gflops needs a number}"; shift 2 ;;
    --work-dir) work_dir="${2:?--work-dir needs a folder}"; shift 2 ;;
    --no-build) build=0; shift ;;
    --clean-builds) clean_builds="${2:?--clean-builds needs a number}"; shift 2 ;;
    --binary) binary="${2:?--binary needs a file}"; build=0; binary_given=1; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench: unknown option $1" >&2; usage >&2; exit 64 ;;
  esac
done
# Paths given on the command line are relative to where the script was started.
case "$work_dir" in "" | /*) ;; *) work_dir="$start_dir/$work_dir" ;; esac
case "$binary" in "" | /*) ;; *) binary="$start_dir/$binary" ;; esac
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "bench: --runs must be a positive integer" >&2; exit 64; }
[[ "$clean_builds" =~ ^[0-9]+$ ]] || { echo "bench: --clean-builds must be 0 or a positive integer" >&2; exit 64; }
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
# PyTorch, for its row: from a CPU wheel on disk, else from PyTorch's CPU index; optional.
torch_ok=1
if ! python3 -c 'import torch, safetensors.torch' >/dev/null 2>&1; then
  python_tag="$(python3 -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
  wheel="$(ls /opt/wheels/torch-*cpu*-"$python_tag"-*.whl 2>/dev/null | head -n 1 || true)"
  if [ -n "$wheel" ]; then
    echo "bench: installing PyTorch from $wheel" >&2
    python3 -m pip install --quiet --disable-pip-version-check "$wheel" >&2 || true
  else
    echo "bench: installing PyTorch (CPU) from download.pytorch.org" >&2
    python3 -m pip install --quiet --disable-pip-version-check torch --index-url https://download.pytorch.org/whl/cpu >&2 || true
  fi
  if ! python3 -c 'import torch, safetensors.torch' >/dev/null 2>&1; then
    torch_ok=0
    echo "bench: warning: PyTorch could not be installed; its rows are n/a" >&2
  fi
fi
# Clean builds: the tracked files of the working tree (as committed or edited), nothing else.
clean_build_seconds=()
if [ "$build" = 1 ] && [ "$clean_builds" -gt 0 ]; then
  for round in $(seq 1 "$clean_builds"); do
    clean="$(mktemp -d "${TMPDIR:-/tmp}/mnist-softmax-clean-build.XXXXXX")"
    git ls-files -z | grep -zv '^Package.resolved$' | xargs -0 cp --parents -t "$clean"
    started="$(date +%s.%N)"
    if (cd "$clean" && swift build -c release >"$clean.log" 2>&1); then
      seconds="$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')"
      clean_build_seconds+=("$seconds")
      echo "bench: [$round/$clean_builds] clean swift build -c release: $seconds s" >&2
    else
      echo "bench: [$round/$clean_builds] clean build FAILED: $(tail -n 1 "$clean.log")" >&2
    fi
    rm -rf "$clean" "$clean.log"
  done
fi
if [ "$build" = 1 ]; then
  echo "bench: swift build -c release" >&2
  swift build -c release >&2
fi
[ -n "$binary" ] || binary="$repo/.build/release/mnist-softmax"
[ -x "$binary" ] || { echo "bench: no $binary (build it: swift build -c release)" >&2; exit 1; }
reference="$repo/scripts/numpy_reference.py"
torch_reference="$repo/scripts/torch_reference.py"
cores="$(nproc)"

threads_supported=1
# The help is read whole first: `grep -q` would stop reading early, and under pipefail the
# SIGPIPE that ends the writer would count as "no --threads".
train_help="$("$binary" train --help 2>&1 || true)"
if ! grep -q -- '--threads' <<<"$train_help"; then
  threads_supported=0
  echo "bench: warning: mnist-softmax train has no --threads option; its 1-thread row runs at its default" >&2
fi

# The busy loop of (g), while it runs; cleanup ends it whatever way the script ends.
busy_pid=""
work=""
remove_work=0
cleanup() {
  if [ -n "$busy_pid" ]; then
    kill "$busy_pid" 2>/dev/null || true
    wait "$busy_pid" 2>/dev/null || true
    busy_pid=""
  fi
  if [ "$remove_work" = 1 ] && [ -n "$work" ]; then
    rm -rf "$work"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
if [ -n "$work_dir" ]; then
  mkdir -p "$work_dir"
  work="$(cd "$work_dir" && pwd)"
else
  work="$(mktemp -d "${TMPDIR:-/tmp}/mnist-softmax-bench.XXXXXX")"
  remove_work=1
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

# scripts/cpu_clock.c, when a C compiler is at hand and the CPU has AVX: the clock for the FMA peak
# (below) and, right before each single-thread run, how many L1 loads per cycle the core sustains.
lanes=0
grep -qw avx512f /proc/cpuinfo && lanes=16
[ "$lanes" = 0 ] && grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && lanes=8
# Vectors of that width one core completes per cycle: 2 FMA pipes, except on AMD's family 25 with
# AVX-512 (Zen 4), whose two FMA pipes are 256 bits wide and take one 512-bit FMA together.
fma_pipes=2
pipes_note="2 FMA pipes"
if [ "$lanes" = 16 ] && grep -qm1 'AuthenticAMD' /proc/cpuinfo && grep -qm1 '^cpu family[[:space:]]*: 25$' /proc/cpuinfo; then
  fma_pipes=1
  pipes_note="1 (Zen 4's two 256-bit FMA pipes take one 512-bit FMA together)"
fi
probe=""
compiler="$(command -v cc || command -v clang || command -v gcc || true)"
if [ -n "$compiler" ] && [ "$lanes" != 0 ] && "$compiler" -O2 "$repo/scripts/cpu_clock.c" -o "$work/cpu_clock" 2>/dev/null; then
  probe="$work/cpu_clock"
fi
l1_loads="$work/l1_loads.tsv"
: >"$l1_loads"
# The CPUs this process may run on (its affinity, which a cgroup may narrow), for the probe before (a).
read -r -a cpus <<<"$(python3 -c 'import os; print(*sorted(os.sched_getaffinity(0)))')"
l1_loads_per_cpu="$work/l1_loads_per_cpu.tsv"
: >"$l1_loads_per_cpu"

load_before="$(cut -d ' ' -f 1-3 /proc/loadavg)"
echo "bench: data $data_dir, $runs rounds, $cores cores, load average $load_before" >&2
shared=()
default_flags=""
differ=0
for round in $(seq 1 "$runs"); do
  if [ -n "$probe" ] && command -v taskset >/dev/null; then
    rates=()
    for cpu in "${cpus[@]}"; do rates+=("$cpu:$(taskset -c "$cpu" "$probe" --l1-loads)"); done
    printf '%s\t%s\n' "$round" "${rates[*]}" >>"$l1_loads_per_cpu"
    echo "bench: [$round/$runs] L1 loads per cycle of each CPU before the all-threads run: ${rates[*]}" >&2
  fi
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
  if [ -n "$probe" ]; then
    loads="$("$probe" --l1-loads)"
    printf '%s\t%s\n' "$round" "$loads" >>"$l1_loads"
    echo "bench: [$round/$runs] L1 loads per cycle before the 1-thread run: $loads (2 on an uncontended core)" >&2
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
  if [ "$torch_ok" = 1 ]; then
    run torch_all "$round" "PyTorch, $cores threads" \
      "${all_threads[@]}" python3 "$torch_reference" --data-dir "$data_dir" \
      --model "$work/torch_all.$round.safetensors" "${shared[@]}" --threads "$cores" --json
    run torch_one "$round" "PyTorch, 1 thread" \
      "${one_thread[@]}" python3 "$torch_reference" --data-dir "$data_dir" \
      --model "$work/torch_one.$round.safetensors" "${shared[@]}" --threads 1 --json
  fi
  # (f) Two default runs started together; each one's wall against (a)'s of this round.
  run pair_first "$round" "mnist-softmax defaults, first of two at once" \
    "$binary" train --data-dir "$data_dir" --model "$work/pair_first.$round.safetensors" --json &
  first_pid=$!
  run pair_second "$round" "mnist-softmax defaults, second of two at once" \
    "$binary" train --data-dir "$data_dir" --model "$work/pair_second.$round.safetensors" --json &
  second_pid=$!
  wait "$first_pid" "$second_pid"
  # (g) One core kept busy by another process: the default run, then --threads 1, beside it.
  python3 -c 'while True: pass' </dev/null >/dev/null 2>&1 &
  busy_pid=$!
  sleep 1
  run busy_default "$round" "mnist-softmax defaults, beside a busy core" \
    "$binary" train --data-dir "$data_dir" --model "$work/busy_default.$round.safetensors" --json
  run busy_one "$round" "mnist-softmax defaults --threads 1, beside a busy core" \
    "$binary" train --data-dir "$data_dir" --model "$work/busy_one.$round.safetensors" \
    ${ours_one_flags[@]+"${ours_one_flags[@]}"} --json
  kill "$busy_pid" 2>/dev/null || true
  wait "$busy_pid" 2>/dev/null || true
  busy_pid=""
done
load_after="$(cut -d ' ' -f 1-3 /proc/loadavg)"

# One core's FMA peak, when not given: lanes × FMA vectors per cycle × 2 FLOP × the measured clock.
fma_peak_source="given"
if [ -z "$fma_peak" ] && [ -n "$probe" ]; then
  clock_ghz="$("$probe")"
  fma_peak="$(awk -v lanes="$lanes" -v pipes="$fma_pipes" -v ghz="$clock_ghz" 'BEGIN { printf "%.1f", lanes * pipes * 2 * ghz }')"
  fma_peak_source="$lanes lanes × $pipes_note × 2 FLOP × $clock_ghz GHz (scripts/cpu_clock.c: dependent additions, one per cycle)"
  echo "bench: one core's FMA peak: $fma_peak GFLOP/s = $fma_peak_source" >&2
fi

# What bench_report.py needs to know about the configurations.
SHARED="${shared[*]}" DEFAULTS="$default_flags" DIFFER="$differ" RUNS="$runs" CORES="$cores" \
THREADS_SUPPORTED="$threads_supported" FMA_PEAK="$fma_peak" FMA_PEAK_SOURCE="$fma_peak_source" TORCH_OK="$torch_ok" \
LOAD_BEFORE="$load_before" LOAD_AFTER="$load_after" TARGET_CPU="${MNIST_SOFTMAX_TARGET_CPU-(unset)}" \
BINARY_GIVEN="$binary_given" L1_LOADS="$l1_loads" L1_LOADS_PER_CPU="$l1_loads_per_cpu" \
CLEAN_BUILD_SECONDS="${clean_build_seconds[*]-}" \
python3 - >"$work/configs.json" <<'EOF'
import json, os, platform
import numpy

torch_ok = os.environ["TORCH_OK"] == "1"
torch_version = None
if torch_ok:
    import torch
    torch_version = torch.__version__

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
    {"key": "torch_all", "label": "PyTorch reference, shared", "threads": f"all ({cores})"},
    {"key": "torch_one", "label": "PyTorch reference, shared", "threads": "1"},
]
contention = [
    {"key": "pair_first", "label": "(f) defaults, first of two started together", "threads": f"all ({cores})"},
    {"key": "pair_second", "label": "(f) defaults, second of two started together", "threads": f"all ({cores})"},
    {"key": "busy_default", "label": "(g) defaults, beside a busy core", "threads": f"all ({cores})"},
    {"key": "busy_one", "label": "(g) defaults, beside a busy core",
     "threads": "1" if threads_supported else "default (no --threads)"},
]
print(json.dumps({
    "runs": int(os.environ["RUNS"]), "nproc": int(cores), "cpu": cpu,
    "numpy": f"numpy {numpy.__version__} with {blas}",
    "torch": f"torch {torch_version}" if torch_ok else None,
    "load_before": os.environ["LOAD_BEFORE"], "load_after": os.environ["LOAD_AFTER"],
    "target_cpu": os.environ["TARGET_CPU"], "binary_given": os.environ["BINARY_GIVEN"] == "1",
    "hyperparameters": flags_to_dict(os.environ["SHARED"]),
    "default_hyperparameters": os.environ["DEFAULTS"], "defaults_differ": differ,
    "threads_supported": threads_supported,
    "clean_build_seconds": [float(value) for value in os.environ["CLEAN_BUILD_SECONDS"].split()],
    "fma_peak_gflops": float(os.environ["FMA_PEAK"]) if os.environ["FMA_PEAK"] else None,
    "fma_peak_source": os.environ["FMA_PEAK_SOURCE"],
    "l1_loads": {line.split("\t")[0]: float(line.split("\t")[1]) for line in open(os.environ["L1_LOADS"]) if line.strip()},
    "l1_loads_per_cpu": {line.split("\t")[0]: {cpu: float(rate) for cpu, rate in
                                                (pair.split(":") for pair in line.split("\t")[1].split())}
                         for line in open(os.environ["L1_LOADS_PER_CPU"]) if line.strip()},
    "configurations": configurations, "contention": contention,
    "keys": {"ours_default": "ours_default", "ours_all": "ours_all" if differ else "ours_default",
             "ours_one": "ours_one", "numpy_all": "numpy_all", "numpy_one": "numpy_one"},
}, indent=1))
EOF

python3 "$repo/scripts/bench_report.py" --manifest "$manifest" --configs "$work/configs.json"
if [ -n "$work_dir" ]; then
  echo "bench: runs kept in $work" >&2
fi
