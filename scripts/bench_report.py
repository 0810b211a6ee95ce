#!/usr/bin/env python3
"""Builds scripts/bench.sh's Markdown table from the runs it recorded.

Reads a manifest (TSV: configuration, round, exit status, stdout JSON Lines, /usr/bin/time
output "%e %M", stderr) and a JSON file describing the configurations, prints the table,
the ratios and the done-lines of issue 3 on standard output. Standard library only.
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
SPEEDUP_TARGET = 6.0  # epoch, batch 100: numpy / ours
WALL_TARGET = 1 / 3  # whole default train / numpy's whole process
RSS_TARGET_MB = 120.0  # peak RSS of the default train, MB = 10^6 bytes
FMA_TARGET = 0.25  # single-thread executed GFLOP/s / one core's FMA peak
ACCURACY_TARGET = 0.925


def median(values):
    return statistics.median(values) if values else math.nan


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


def fmt(value, spec):
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


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
    for config in setup["configurations"]:
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
        }

    out = []
    hyper = setup["hyperparameters"]
    rounds_text = "1 round" if setup["runs"] == 1 else f"{setup['runs']} interleaved rounds"
    out.append(f"## mnist-softmax vs numpy reference ({rounds_text})")
    out.append("")
    out.append(f"- machine: {setup['cpu']}, {setup['nproc']} cores; {setup['numpy']}")
    out.append("- shared hyperparameters (mnist-softmax's defaults, batch size "
               f"{hyper['batch_size']}): " + ", ".join(f"{k} {v}" for k, v in hyper.items()))
    if setup.get("defaults_differ"):
        out.append(f"- mnist-softmax's defaults differ from these: {setup['default_hyperparameters']}")
    out.append(f"- FLOP count: {FLOP_PER_SAMPLE:,} FLOP/sample (forward 2·784·10 + backward 2·784·10, "
               "a multiply-add = 2 FLOP; softmax, bias and update ignored) = "
               f"{FLOP_PER_SAMPLE * 60000 / 1e9:.2f} GFLOP per 60,000-sample epoch")
    out.append("- GFLOP/s dense: that count over the epoch time, the same work for both tools. GFLOP/s executed: "
               "what the kernels issued over the epoch time (median over epochs). mnist-softmax skips the "
               "vectors of 16 pixels that are all 0 and reports the rest as \"kernel_flop\"; numpy's BLAS "
               "multiplies every zero, so its two columns are equal")
    out.append("- per-epoch: median over every epoch of every run, of the tool's own \"seconds\" "
               "(the epoch's training work); wall and RSS: /usr/bin/time (%e, %M) of the whole "
               "process, median over runs; MB = 10⁶ bytes")
    out.append("")
    out.append("| configuration | threads | epoch median (s) | samples/s | GFLOP/s dense | GFLOP/s executed "
               "| whole process wall (s) | peak RSS (MB) | test accuracy | runs ok |")
    out.append("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for config in setup["configurations"]:
        s = stats[config["key"]]
        accuracy = fmt(s["accuracy"] * 100, ".2f") + "%" if s["ok"] else "—"
        if s["ok"] and s["accuracy_min"] != s["accuracy_max"]:
            accuracy += f" ({s['accuracy_min'] * 100:.2f}–{s['accuracy_max'] * 100:.2f})"
        out.append(f"| {config['label']} | {config['threads']} | {fmt(s['epoch'], '.4f')} | "
                   f"{fmt(s['samples'], ',.0f')} | {fmt(s['gflops'], '.2f')} | {fmt(s['executed_gflops'], '.2f')} | "
                   f"{fmt(s['wall'], '.2f')} | "
                   f"{fmt(s['rss_mb'], '.1f')} | {accuracy} | {len(s['ok'])}/{len(s['runs'])} |")

    def ratio(numerator_key, denominator_key, field):
        a, b = stats[numerator_key], stats[denominator_key]
        value = a[field] / b[field] if a["ok"] and b["ok"] else math.nan
        source = "per_round" if field == "epoch" else "walls"
        rounds = [a[source][r] / b[source][r] for r in a[source] if r in b[source]]
        spread = f" (per round {min(rounds):.2f}–{max(rounds):.2f})" if len(rounds) > 1 else ""
        return value, spread

    keys = setup["keys"]
    out.append("")
    out.append("### Ratios")
    out.append("")
    speedup_all, spread_all = ratio(keys["numpy_all"], keys["ours_all"], "epoch")
    speedup_one, spread_one = ratio(keys["numpy_one"], keys["ours_one"], "epoch")
    wall_ratio, spread_wall = ratio(keys["ours_default"], keys["numpy_all"], "wall")
    ours_all_row = "its defaults row (a), which uses the shared hyperparameters" if keys["ours_all"] == keys["ours_default"] \
        else "its shared-hyperparameter row"
    out.append(f"- epoch speed-up numpy/ours, all threads vs all threads: {fmt(speedup_all, '.2f')}×{spread_all} "
               f"(mnist-softmax: {ours_all_row})")
    one_note = "" if setup["threads_supported"] else " — mnist-softmax has no --threads yet: its row ran at its default"
    out.append(f"- epoch speed-up numpy/ours, 1 thread vs 1 thread: {fmt(speedup_one, '.2f')}×{spread_one}{one_note}")
    out.append(f"- whole-process wall ours (defaults) / numpy: {fmt(wall_ratio, '.3f')}{spread_wall}")
    out.append("")
    out.append("### Done-lines")
    out.append("")

    def line(passed, text):
        verdict = "n/a" if passed is None else ("PASS" if passed else "FAIL")
        out.append(f"- {verdict}: {text}")

    batch_note = "" if str(hyper["batch_size"]) == "100" else f" (measured at batch {hyper['batch_size']}, not 100)"
    line(None if math.isnan(speedup_all) else speedup_all >= SPEEDUP_TARGET,
         f"epoch (batch 100) ≥ {SPEEDUP_TARGET:g}× faster than numpy, median ratio all threads: "
         f"{fmt(speedup_all, '.2f')}×{batch_note}")

    default = stats[keys["ours_default"]]
    accurate = bool(default["ok"]) and default["accuracy_min"] >= ACCURACY_TARGET
    wall_ok = None if math.isnan(wall_ratio) else (wall_ratio <= WALL_TARGET and accurate)
    accuracy_note = "" if accurate or not default["ok"] else \
        f"; but its test accuracy {default['accuracy_min'] * 100:.2f}% < {ACCURACY_TARGET * 100:.1f}%"
    line(wall_ok, f"whole default train ≤ 1/3 of numpy's whole-process wall: "
                  f"{fmt(default['wall'], '.2f')} s / {fmt(stats[keys['numpy_all']]['wall'], '.2f')} s = "
                  f"{fmt(wall_ratio, '.3f')}{accuracy_note}")

    rss = default["rss_max_mb"]
    line(None if math.isnan(rss) else rss <= RSS_TARGET_MB,
         f"peak RSS of the default train ≤ {RSS_TARGET_MB:g} MB: {fmt(rss, '.1f')} MB (highest of its runs)")

    one = stats[keys["ours_one"]]
    peak = setup.get("fma_peak_gflops")
    if not peak:
        line(None, f"single-thread kernel ≥ {FMA_TARGET:.0%} of one core's FMA peak: "
                   f"{fmt(one['executed_gflops'], '.2f')} GFLOP/s executed, no peak given "
                   "(--fma-peak-gflops X or $FMA_PEAK_GFLOPS)")
    elif not setup["threads_supported"]:
        line(None, f"single-thread kernel ≥ {FMA_TARGET:.0%} of one core's FMA peak ({peak:g} GFLOP/s): "
                   "mnist-softmax has no --threads, so no single-thread run")
    else:
        share = one["executed_gflops"] / peak
        line(None if math.isnan(share) else share >= FMA_TARGET,
             f"single-thread kernel ≥ {FMA_TARGET:.0%} of one core's FMA peak: {fmt(one['executed_gflops'], '.2f')} "
             f"GFLOP/s executed of {peak:g} GFLOP/s = {fmt(share * 100, '.1f')}% "
             f"(dense-equivalent: {fmt(one['gflops'], '.2f')} GFLOP/s = {fmt(one['gflops'] / peak * 100, '.1f')}%)")

    print("\n".join(out))

    failures = [run for run in runs if not run["ok"]]
    for run in failures:
        print(f"bench: {run['config']} round {run['round']} failed (exit {run['status']}): {run['error']}",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
