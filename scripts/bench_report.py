#!/usr/bin/env python3
"""Builds scripts/bench.sh's Markdown tables from the runs it recorded.

Reads a manifest (TSV: configuration, round, exit status, stdout JSON Lines, /usr/bin/time
output "%e %M", stderr) and a JSON file describing the configurations; prints the CPU and its
instruction sets, the kernel build, the table of mnist-softmax, numpy and PyTorch, the contention
table, the ratios and the done-lines of issue 13 on standard output. Every ratio comes from the
runs of this one bench.sh invocation: medians over epochs (the tools' own per-epoch "seconds") or
over rounds (wall times, each paired with the same round's reference run). Standard library only.

One core's FMA peak (--fma-peak-gflops / $FMA_PEAK_GFLOPS for bench.sh), in GFLOP/s:
  float32 lanes per vector × FMA pipes × 2 FLOP per fused multiply-add × clock in GHz.
  AMD EPYC Zen 3 with AVX2: 8 lanes (ymm) × 2 FMA pipes × 2 = 32 FLOP/cycle; at 2.45 GHz, 78.4.
  Intel Xeon with AVX-512 and 2 FMA units: 16 × 2 × 2 = 64 FLOP/cycle × clock.
  AMD EPYC Zen 4 with AVX-512: 16 lanes (zmm) × 1 (its two 256-bit FMA pipes take one zmm FMA
  together) × 2 = 32 FLOP/cycle × clock, the same as with AVX2.
Take the clock the core holds under a long vector load, not the nameplate: for example
`perf stat -e cycles,task-clock` around a single-thread `train --threads 1` run (cycles / seconds),
or `grep MHz /proc/cpuinfo` while it runs; on a virtual machine that hides the clock, the
nominal clock of the CPU model (its vendor's sheet).
"""
import argparse
import json
import math
import re
import statistics
import sys

# Multiply-adds counted as 2 FLOP: forward x·Wᵀ (2·784·10) + backward dzᵀ·x (2·784·10) per sample.
# The O(10) softmax work, the bias and the momentum step are ignored.
FLOP_PER_SAMPLE = 2 * 784 * 10 + 2 * 784 * 10  # 31,360
# Issue 13's targets.
NUMPY_TARGET = 7.0  # epoch, batch 100, all (2) threads: numpy's epoch / ours
TORCH_TARGET = 10.0  # the same against PyTorch CPU
THREAD_SCALING_TARGET = 1.6  # epoch with --threads 1 / epoch with the default (2) threads
FMA_TARGET = 0.35  # single-thread executed GFLOP/s / one core's FMA peak
PAIR_TARGET = 2.5  # two default runs started together: each one's wall / one run alone
BUSY_TARGET = 1.10  # beside a busy core: the default run's wall / the --threads 1 run's
# A 1-minute load average from this up, before the bench starts, means other processes were running.
BUSY_LOAD = 0.5
ACCURACY_TARGET = 0.925  # a speed figure counts only if the default run still learns


def median(values):
    return statistics.median(values) if values else math.nan


def per_round_shares(one, peak, l1_loads):
    """'; per round: 36.1% at 1.12 L1 loads/cycle, …' for the single-thread run: each round's median
    executed GFLOP/s over the peak, beside what `cpu_clock --l1-loads` measured just before it."""
    parts = []
    for run in sorted(one["ok"], key=lambda run: run["round"]):
        rates = [record["kernel_flop"] / record["seconds"] for record in run["epochs"]
                 if "kernel_flop" in record and record["seconds"] > 0]
        if not rates:
            continue
        loads = l1_loads.get(str(run["round"]))
        parts.append(f"{median(rates) / 1e9 / peak * 100:.1f}%" + (f" at {loads:.2f}" if loads is not None else ""))
    if not parts:
        return ""
    loads_note = (" L1 loads/cycle (scripts/cpu_clock.c --l1-loads just before; an uncontended core sustains 2, "
                  "and the kernels, which stream W from L1, slow when it drops)") if l1_loads else ""
    return "; per round: " + ", ".join(parts) + loads_note


def per_round_scaling(one, every, l1_loads_per_cpu):
    """'; per round: 1.94× (CPU 0: 1.95, CPU 1: 1.97), …' for the 1 → all threads ratio: each round's
    ratio of epoch medians, beside the L1 loads per cycle that `cpu_clock --l1-loads` measured on each
    CPU just before the all-threads run. A round where one CPU's core was shared runs at the pace of
    that CPU's thread, as both threads meet at every block's barriers."""
    parts = []
    for round_ in sorted(set(one["per_round"]) & set(every["per_round"])):
        rates = l1_loads_per_cpu.get(str(round_), {})
        rates_text = " (" + ", ".join(f"CPU {cpu}: {rate:.2f}" for cpu, rate in rates.items()) + ")" if rates else ""
        parts.append(f"{one['per_round'][round_] / every['per_round'][round_]:.2f}×{rates_text}")
    if not parts or not l1_loads_per_cpu:
        return ""
    return ("; per round: " + ", ".join(parts) + " (L1 loads/cycle of each CPU, scripts/cpu_clock.c --l1-loads "
            "just before the all-threads run; an uncontended core sustains 2)")


def parse_run(config, round_, status, stdout_path, time_path, stderr_path):
    run = {"config": config, "round": int(round_), "status": int(status), "epochs": [], "summary": None,
           "wall": math.nan, "rss_kb": math.nan, "train_count": None, "error": ""}
    try:
        with open(time_path) as handle:
            # /usr/bin/time -o writes "Command exited with non-zero status N" first on failure.
            fields = handle.read().strip().splitlines()[-1].split()
        run["wall"], run["rss_kb"] = float(fields[0]), float(fields[1])
    except (OSError, IndexError, ValueError):
        pass
    try:
        with open(stdout_path) as handle:
            for line in handle:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                record = json.loads(line)
                if record.get("type") == "epoch":
                    run["epochs"].append(record)
                elif record.get("type") == "summary":
                    run["summary"] = record
    except (OSError, ValueError) as error:
        run["error"] = f"unreadable output: {error}"
    try:
        with open(stderr_path, errors="replace") as handle:
            text = handle.read()
        found = re.search(r"training on (\d+) images", text)
        if found:
            run["train_count"] = int(found.group(1))
        if run["status"] != 0 and not run["error"]:
            lines = [line for line in text.splitlines() if line.strip()]
            run["error"] = lines[-1] if lines else f"exit status {run['status']}"
    except OSError:
        pass
    run["ok"] = run["status"] == 0 and run["summary"] is not None and bool(run["epochs"])
    return run


def times(value, spread=""):
    """A ratio as '7.96×' plus its per-round spread, or 'n/a' when it could not be computed."""
    return "n/a" if value is None or math.isnan(value) else f"{value:.2f}×{spread}"


def fmt(value, spec):
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)



def cpu_description():
    """(model name, instruction-set text, the kernel CPU an unset MNIST_SOFTMAX_TARGET_CPU picks)."""
    model, flags = "unknown CPU", set()
    try:
        with open("/proc/cpuinfo") as handle:
            for text in handle:
                key, _, value = text.partition(":")
                if key.strip() == "model name" and model == "unknown CPU":
                    model = value.strip()
                elif key.strip() == "flags" and not flags:
                    flags = set(value.split())
    except OSError:
        pass
    if not flags:
        return model, "instruction sets unknown (no flags in /proc/cpuinfo)", None

    def has(*names):
        return "yes" if all(name in flags for name in names) else "no"

    sets = f"AVX-512F {has('avx512f')}, AVX2 + FMA {has('avx2', 'fma')}, AVX {has('avx')}"
    # Package.swift's rule for an unset MNIST_SOFTMAX_TARGET_CPU (its -march=native).
    v3 = ["avx", "avx2", "fma", "f16c", "bmi1", "bmi2", "abm", "movbe", "popcnt", "sse4_2", "ssse3", "cx16"]
    v4 = ["avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"]
    host = ("skylake-avx512" if all(f in flags for f in v4) else "haswell") if all(f in flags for f in v3) \
        else "x86-64 baseline"
    return model, sets, host


def kernel_build(setup, host):
    target = setup.get("target_cpu", "(unset)")
    if target == "(unset)":
        text = f"default: host (MNIST_SOFTMAX_TARGET_CPU unset; Package.swift picks {host or 'the host CPU'} here)"
    elif target == "":
        text = "portable x86-64 baseline (MNIST_SOFTMAX_TARGET_CPU empty)"
    else:
        text = f"MNIST_SOFTMAX_TARGET_CPU={target}"
    if setup.get("binary_given"):
        text += "; a --binary was given, so this is the environment's setting, not necessarily the binary's build"
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", required=True)
    parser.add_argument("--configs", required=True, help="JSON written by bench.sh")
    arguments = parser.parse_args()

    with open(arguments.configs) as handle:
        setup = json.load(handle)
    runs = []
    with open(arguments.manifest) as handle:
        for line in handle:
            if line.strip():
                runs.append(parse_run(*line.rstrip("\n").split("\t")))

    stats = {}
    for config in setup["configurations"] + setup.get("contention", []):
        key = config["key"]
        mine = [run for run in runs if run["config"] == key]
        ok = [run for run in mine if run["ok"]]
        epoch_seconds = [record["seconds"] for run in ok for record in run["epochs"]]
        train_count = next((run["train_count"] for run in ok if run["train_count"]), 60000)
        epoch_median = median(epoch_seconds)
        accuracies = [run["summary"]["test_accuracy"] for run in ok]
        per_round = {run["round"]: median([record["seconds"] for record in run["epochs"]]) for run in ok}
        # mnist-softmax reports the FLOP its kernels executed ("kernel_flop": it skips vectors of 16
        # pixels that are all 0); numpy's BLAS multiplies every zero, so its dense count is executed.
        executed = [record["kernel_flop"] / record["seconds"] for run in ok for record in run["epochs"]
                    if "kernel_flop" in record and record["seconds"] > 0]
        # Newer builds: the threads each epoch's pass used and the seconds they waited at barriers.
        threads_used = [record["threads"] for run in ok for record in run["epochs"] if "threads" in record]
        barrier = [record["barrier_wait_seconds"] for run in ok for record in run["epochs"]
                   if "barrier_wait_seconds" in record]
        # Newer still: the pieces of work a thread took over from another that fell behind.
        taken_over = [record["tasks_taken_over"] for run in ok for record in run["epochs"] if "tasks_taken_over" in record]
        # Of the thread time: the waits of all threads over threads × the epoch's seconds.
        barrier_share = [record["barrier_wait_seconds"] / (record["seconds"] * record.get("threads", 1))
                         for run in ok for record in run["epochs"]
                         if "barrier_wait_seconds" in record and record["seconds"] > 0]
        dense_gflops = FLOP_PER_SAMPLE * train_count / epoch_median / 1e9 if epoch_seconds else math.nan
        stats[key] = {
            "config": config, "runs": mine, "ok": ok, "epoch": epoch_median,
            "epoch_count": len(epoch_seconds), "per_round": per_round, "train_count": train_count,
            "samples": train_count / epoch_median if epoch_seconds else math.nan,
            "gflops": dense_gflops,
            "executed_gflops": median(executed) / 1e9 if executed else dense_gflops,
            "wall": median([run["wall"] for run in ok]),
            "walls": {run["round"]: run["wall"] for run in ok},
            "rss_mb": median([run["rss_kb"] * 1024 / 1e6 for run in ok]),
            "rss_max_mb": max([run["rss_kb"] * 1024 / 1e6 for run in ok], default=math.nan),
            "accuracy": median(accuracies), "accuracy_min": min(accuracies, default=math.nan),
            "accuracy_max": max(accuracies, default=math.nan),
            "threads_used": threads_used, "barrier": median(barrier) if barrier else None,
            "barrier_share": median(barrier_share) if barrier_share else None,
            "taken_over": median(taken_over) if taken_over else None,
        }

    def threads_used_text(s):
        """'2 in 10 epochs' or '1 in 7, 2 in 3 epochs'; n/a when the build does not report it."""
        if not s["threads_used"]:
            return "n/a"
        counts = {value: s["threads_used"].count(value) for value in sorted(set(s["threads_used"]))}
        return ", ".join(f"{value} in {count}" for value, count in counts.items()) + " epochs"

    def barrier_text(s):
        if s["barrier"] is None:
            return "n/a"
        return f"{s['barrier'] * 1e3:.2f} ms ({s['barrier_share'] * 100:.1f}%)"

    out = []
    hyper = setup["hyperparameters"]
    rounds_text = "1 round" if setup["runs"] == 1 else f"{setup['runs']} interleaved rounds"
    model, sets, host = cpu_description()
    out.append(f"## mnist-softmax vs numpy and PyTorch references ({rounds_text})")
    out.append("")
    out.append(f"- CPU: {model}, {setup['nproc']} cores; {sets}")
    out.append(f"- kernel build: {kernel_build(setup, host)}")
    out.append(f"- load average (1, 5, 15 min) before: {setup.get('load_before', '?')}; "
               f"after: {setup.get('load_after', '?')}")
    try:
        busy_before = float(setup.get("load_before", "").split()[0])
    except (IndexError, ValueError):
        busy_before = None
    if busy_before is not None and busy_before >= BUSY_LOAD:
        out.append(f"- WARNING: the machine was busy before the bench (1-min load {busy_before:g} on {setup['nproc']} "
                   "cores). numpy's OpenBLAS and PyTorch's OpenMP threads spin at their barriers, so their "
                   "all-threads rows can be many times slower than their 1-thread rows, and mnist-softmax uses "
                   "fewer threads while cores are busy: the ratios below measure the load as much as the code")
    builds = setup.get("clean_build_seconds") or []
    if builds:
        out.append(f"- clean `swift build -c release` of the tracked tree (a fresh clone's view, package "
                   f"resolution included): median {median(builds):.1f} s over {len(builds)} "
                   f"(each: {', '.join(f'{b:.1f}' for b in builds)} s)")
    out.append(f"- {setup['numpy']}; " + (setup.get("torch") or "PyTorch not installed: its rows are n/a"))
    out.append("- shared hyperparameters (mnist-softmax's defaults, batch size "
               f"{hyper['batch_size']}): " + ", ".join(f"{k} {v}" for k, v in hyper.items()))
    if setup.get("defaults_differ"):
        out.append(f"- mnist-softmax's defaults differ from these: {setup['default_hyperparameters']}")
    out.append(f"- FLOP count: {FLOP_PER_SAMPLE:,} FLOP/sample (forward 2·784·10 + backward 2·784·10, "
               "a multiply-add = 2 FLOP; softmax, bias and update ignored) = "
               f"{FLOP_PER_SAMPLE * 60000 / 1e9:.2f} GFLOP per 60,000-sample epoch")
    out.append("- GFLOP/s dense: that count over the epoch time, the same work for every tool. GFLOP/s executed: "
               "what the kernels issued over the epoch time (median over epochs). mnist-softmax skips the "
               "vectors of 16 pixels that are all 0 and reports the rest as \"kernel_flop\"; numpy's BLAS and "
               "PyTorch multiply every zero, so their two columns are equal")
    out.append("- per-epoch: median over every epoch of every run, of the tool's own \"seconds\" "
               "(the epoch's training work); wall and RSS: /usr/bin/time (%e, %M) of the whole "
               "process, median over runs; MB = 10⁶ bytes")
    out.append("- ratios (below): each round's ratio of the two runs' epoch medians (or walls), median over rounds; "
               "a round's runs follow each other within seconds, so a slow spell hits both sides of most of "
               "them. The ratio of the epoch medians pooled over all rounds is shown beside it")
    out.append("- PyTorch's momentum is v ← μv + g, θ ← θ − ηv (ours: v ← μv − ηg, θ ← θ + v): the same "
               "steps at a constant η, slightly different after each learning-rate decay; the same work")
    out.append("")
    out.append("| configuration | threads | epoch median (s) | samples/s | GFLOP/s dense | GFLOP/s executed "
               "| whole process wall (s) | peak RSS (MB) | test accuracy | runs ok |")
    out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for config in setup["configurations"]:
        s = stats[config["key"]]
        if config["key"].startswith("torch_") and not setup.get("torch"):
            out.append(f"| {config['label']} | {config['threads']} | n/a | n/a | n/a | n/a | n/a | n/a | n/a | "
                       "not installed |")
            continue
        accuracy = fmt(s["accuracy"] * 100, ".2f") + "%" if s["ok"] else "—"
        if s["ok"] and s["accuracy_min"] != s["accuracy_max"]:
            accuracy += f" ({s['accuracy_min'] * 100:.2f}–{s['accuracy_max'] * 100:.2f})"
        out.append(f"| {config['label']} | {config['threads']} | {fmt(s['epoch'], '.4f')} | "
                   f"{fmt(s['samples'], ',.0f')} | {fmt(s['gflops'], '.2f')} | {fmt(s['executed_gflops'], '.2f')} | "
                   f"{fmt(s['wall'], '.2f')} | "
                   f"{fmt(s['rss_mb'], '.1f')} | {accuracy} | {len(s['ok'])}/{len(s['runs'])} |")

    keys = setup["keys"]
    default = stats[keys["ours_default"]]

    # Contention: each run's wall over its same-round reference, median over rounds.
    def wall_ratios(key, reference_key):
        a, b = stats[key], stats[reference_key]
        return [a["walls"][r] / b["walls"][r] for r in sorted(a["walls"]) if r in b["walls"] and b["walls"][r] > 0]

    contention_reference = {"pair_first": keys["ours_default"], "pair_second": keys["ours_default"],
                            "busy_default": "busy_one", "busy_one": None}
    reference_name = {keys["ours_default"]: "(a) alone", "busy_one": "(g) --threads 1"}
    if setup.get("contention"):
        out.append("")
        out.append("### Contention (f, g)")
        out.append("")
        out.append("Wall ratio: the run's whole-process wall over its reference's in the same round, median over "
                   "rounds. Threads used: the \"threads\" of the epoch records (a pass uses fewer while other "
                   "processes keep cores busy). Barrier wait: \"barrier_wait_seconds\" per epoch (all threads' waits added up), "
                   "median, and its share of the threads' time (threads × the epoch's seconds).")
        out.append("")
        out.append("| run | threads asked | threads used | epoch median (s) | barrier wait per epoch | wall (s) "
                   "| wall ratio | runs ok |")
        out.append("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
        rows = [(keys["ours_default"], {"label": "(a) defaults, alone", "threads": default["config"]["threads"]})] + \
            [(config["key"], config) for config in setup["contention"]]
        for key, config in rows:
            s = stats[key]
            reference = contention_reference.get(key)
            if reference:
                values = wall_ratios(key, reference)
                ratio_text = f"{fmt(median(values), '.2f')}× of {reference_name[reference]}" if values else "—"
            else:
                ratio_text = "(reference)"
            out.append(f"| {config['label']} | {config['threads']} | {threads_used_text(s)} | "
                       f"{fmt(s['epoch'], '.4f')} | {barrier_text(s)} | {fmt(s['wall'], '.2f')} | {ratio_text} | "
                       f"{len(s['ok'])}/{len(s['runs'])} |")

    def ratio(numerator_key, denominator_key, field):
        """The two configurations' ratio in the same round (of the epoch medians, or of the walls),
        median over rounds, with its spread and, beside it, the ratio of the medians pooled over all
        rounds. A round's runs follow each other within seconds, so a slow spell of the shared machine
        mostly hits both sides of a same-round ratio, and the median over rounds sets aside the rounds
        where it hit one side only; the pooled ratio has no such pairing."""
        a, b = stats[numerator_key], stats[denominator_key]
        pooled = a[field] / b[field] if a["ok"] and b["ok"] else math.nan
        source = "per_round" if field == "epoch" else "walls"
        rounds = [a[source][r] / b[source][r] for r in a[source] if r in b[source]]
        if not rounds:
            return pooled, ""
        pooled_text = "n/a" if math.isnan(pooled) else f"{pooled:.2f}×"
        spread = f" (per round {min(rounds):.2f}–{max(rounds):.2f}; pooled medians {pooled_text})" if len(rounds) > 1 else ""
        return median(rounds), spread

    out.append("")
    out.append("### Ratios")
    out.append("")
    speedup_all, spread_all = ratio(keys["numpy_all"], keys["ours_all"], "epoch")
    speedup_one, spread_one = ratio(keys["numpy_one"], keys["ours_one"], "epoch")
    speedup_torch, spread_torch = ratio("torch_all", keys["ours_all"], "epoch") if setup.get("torch") else (math.nan, "")
    speedup_torch_one, spread_torch_one = ratio("torch_one", keys["ours_one"], "epoch") if setup.get("torch") \
        else (math.nan, "")
    scaling, spread_scaling = ratio(keys["ours_one"], keys["ours_all"], "epoch")
    wall_ratio, spread_wall = ratio(keys["ours_default"], keys["numpy_all"], "wall")
    ours_all_row = "its defaults row (a), which uses the shared hyperparameters" if keys["ours_all"] == keys["ours_default"] \
        else "its shared-hyperparameter row"
    out.append(f"- epoch speed-up numpy/ours, all threads vs all threads: {times(speedup_all, spread_all)} "
               f"(mnist-softmax: {ours_all_row})")
    one_note = "" if setup["threads_supported"] else " — mnist-softmax has no --threads yet: its row ran at its default"
    out.append(f"- epoch speed-up numpy/ours, 1 thread vs 1 thread: {times(speedup_one, spread_one)}{one_note}")
    out.append(f"- epoch speed-up PyTorch/ours, all threads vs all threads: {times(speedup_torch, spread_torch)}")
    out.append(f"- epoch speed-up PyTorch/ours, 1 thread vs 1 thread: {times(speedup_torch_one, spread_torch_one)}")
    out.append(f"- epoch 1 thread / all threads (mnist-softmax): {times(scaling, spread_scaling)}")
    out.append(f"- whole-process wall ours (defaults) / numpy: {fmt(wall_ratio, '.3f')}{spread_wall}")
    out.append(f"- barrier wait of the default run (a): {barrier_text(default)} per epoch (median; share of the "
               f"threads' time); threads used: {threads_used_text(default)}"
               + ("" if default["taken_over"] is None else
                  f"; tasks taken over from a thread that fell behind: {default['taken_over']:g} per epoch (median)"))
    out.append("")
    out.append(f"### Done-lines (issue 13; {model}, {setup['nproc']} cores)")
    out.append("")

    def line(passed, text):
        verdict = "n/a" if passed is None else ("PASS" if passed else "FAIL")
        out.append(f"- {verdict}: {text}")

    def verdict(value, test):
        return None if value is None or math.isnan(value) else test(value)

    accurate = bool(default["ok"]) and default["accuracy_min"] >= ACCURACY_TARGET
    accuracy_note = "" if accurate or not default["ok"] else \
        f"; but its test accuracy {default['accuracy_min'] * 100:.2f}% < {ACCURACY_TARGET * 100:.1f}%"
    batch_note = "" if str(hyper["batch_size"]) == "100" else f" (measured at batch {hyper['batch_size']}, not 100)"
    threads_note = "" if setup["nproc"] == 2 else f" (this machine has {setup['nproc']} cores: all of them)"
    line(verdict(speedup_all, lambda v: v >= NUMPY_TARGET and accurate),
         f"epoch (batch 100, 2 threads{threads_note}) ≥ {NUMPY_TARGET:g}× numpy's: "
         f"{fmt(stats[keys['numpy_all']]['epoch'], '.4f')} s and {fmt(stats[keys['ours_all']]['epoch'], '.4f')} s "
         f"per epoch; same-round ratio {times(speedup_all, spread_all)}{batch_note}{accuracy_note}")
    torch_text = f"{times(speedup_torch, spread_torch)}" if setup.get("torch") else "PyTorch not installed"
    line(verdict(speedup_torch, lambda v: v >= TORCH_TARGET and accurate),
         f"epoch ≥ {TORCH_TARGET:g}× PyTorch CPU's: {fmt(stats['torch_all']['epoch'], '.4f')} s and "
         f"{fmt(stats[keys['ours_all']]['epoch'], '.4f')} s per epoch; same-round ratio {torch_text}{batch_note}{accuracy_note}")
    scaling_ok = verdict(scaling, lambda v: v >= THREAD_SCALING_TARGET) if setup["threads_supported"] else None
    # A pass uses fewer threads while other processes keep cores busy: then the default run did not
    # run on all cores, and its ratio to --threads 1 says nothing about scaling.
    all_used = stats[keys["ours_all"]]["threads_used"]
    fewer = sum(1 for value in all_used if value < setup["nproc"])
    scaling_note = ""
    if all_used and fewer * 2 > len(all_used):
        scaling_ok = None
        scaling_note = (f"; not measured: the default run used fewer than {setup['nproc']} threads in {fewer} of "
                        f"{len(all_used)} epochs (other processes kept cores busy)")
    line(scaling_ok, f"1 → {setup['nproc']} threads ≥ {THREAD_SCALING_TARGET:g}×: epoch --threads 1 / default: "
                     f"{fmt(stats[keys['ours_one']]['epoch'], '.4f')} s and {fmt(stats[keys['ours_all']]['epoch'], '.4f')} s "
                     f"per epoch; same-round ratio {times(scaling, spread_scaling)}{scaling_note}"
                     f"{per_round_scaling(stats[keys['ours_one']], stats[keys['ours_all']], setup.get('l1_loads_per_cpu', {}))}")

    one = stats[keys["ours_one"]]
    peak = setup.get("fma_peak_gflops")
    if not peak:
        line(None, f"single-thread kernel ≥ {FMA_TARGET:.0%} of one core's FMA peak: "
                   f"{fmt(one['executed_gflops'], '.2f')} GFLOP/s executed, no peak given "
                   "(--fma-peak-gflops X or $FMA_PEAK_GFLOPS; lanes × FMA pipes × 2 × GHz, e.g. Zen 3 AVX2: "
                   "8 × 2 × 2 × GHz)")
    elif not setup["threads_supported"]:
        line(None, f"single-thread kernel ≥ {FMA_TARGET:.0%} of one core's FMA peak ({peak:g} GFLOP/s): "
                   "mnist-softmax has no --threads, so no single-thread run")
    else:
        share = one["executed_gflops"] / peak
        line(verdict(share, lambda v: v >= FMA_TARGET),
             f"single-thread kernel ≥ {FMA_TARGET:.0%} of one core's FMA peak: {fmt(one['executed_gflops'], '.2f')} "
             f"GFLOP/s executed (kernel_flop / seconds) of {peak:g} GFLOP/s ({setup.get('fma_peak_source', 'given')}) "
             f"= {fmt(share * 100, '.1f')}% "
             f"(dense-equivalent: {fmt(one['gflops'], '.2f')} GFLOP/s = {fmt(one['gflops'] / peak * 100, '.1f')}%)"
             f"{per_round_shares(one, peak, setup.get('l1_loads', {}))}")

    if setup.get("contention"):
        pair = [median(wall_ratios(key, keys["ours_default"])) for key in ("pair_first", "pair_second")]
        worst = math.nan if any(math.isnan(value) for value in pair) else max(pair)
        line(verdict(worst, lambda v: v <= PAIR_TARGET),
             f"two default runs started together: each ≤ {PAIR_TARGET:g}× the wall of one alone (same round's (a), "
             f"median over rounds): {fmt(pair[0], '.2f')}× and {fmt(pair[1], '.2f')}× "
             f"(threads used: {threads_used_text(stats['pair_first'])}; {threads_used_text(stats['pair_second'])})")
        busy = median(wall_ratios("busy_default", "busy_one"))
        busy_ok = verdict(busy, lambda v: v <= BUSY_TARGET) if setup["threads_supported"] else None
        line(busy_ok, f"beside a busy core: default ≤ {BUSY_TARGET:.2f}× the wall of --threads 1 (same round, median "
                      f"over rounds): {fmt(stats['busy_default']['wall'], '.2f')} s vs "
                      f"{fmt(stats['busy_one']['wall'], '.2f')} s, {fmt(busy, '.2f')}× "
                      f"(threads used by the default run: {threads_used_text(stats['busy_default'])})")

    print("\n".join(out))

    failures = [run for run in runs if not run["ok"]]
    for run in failures:
        print(f"bench: {run['config']} round {run['round']} failed (exit {run['status']}): {run['error']}",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
