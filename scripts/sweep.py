#!/usr/bin/env python3
"""Sweep loss × optimizer × deskew with mnist-softmax and print a Markdown table.

For each combination it runs `mnist-softmax train --json` on the same data and reads its JSON
Lines: test accuracy, training seconds, and the first epoch (or L-BFGS iteration) whose training
accuracy reaches 90%. The optimizers are:

  sgd        the defaults of `mnist-softmax train` (momentum 0.9, η 0.4 decaying ×0.6, 10 epochs);
  sgd-plain  plain SGD at one small constant rate (μ 0, η 0.05, 15 epochs), where the difference
             in learning speed between the costs is not hidden by momentum;
  lbfgs      full-batch L-BFGS (at most 300 iterations).

  python3 scripts/sweep.py --binary .build/release/mnist-softmax --data-dir ../shared/mnist
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

OPTIMIZERS = {
    "sgd": [],
    "sgd-plain": ["--momentum", "0", "--schedule", "constant", "--learning-rate", "0.05", "--epochs", "15"],
    "lbfgs": ["--optimizer", "lbfgs", "--max-iterations", "300"],
}
LOSSES = ["softmax-ce", "sigmoid-bce", "mse"]


def run(binary, data_dir, loss, optimizer, deskew, model_path):
    """One training run → (test accuracy, training seconds, first epoch with ≥ 90% train accuracy, epochs run)."""
    command = [binary, "train", "--data-dir", data_dir, "--model", model_path, "--json", "--loss", loss]
    command += OPTIMIZERS[optimizer] + (["--deskew"] if deskew else [])
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr}")
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    steps = [line for line in lines if line["type"] in ("epoch", "iteration")]
    summary = lines[-1]
    reached = next((index + 1 for index, step in enumerate(steps) if step["train_accuracy"] >= 0.9), None)
    return summary["test_accuracy"], summary["training_seconds"], reached, len(steps)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default=".build/release/mnist-softmax", help="the mnist-softmax executable")
    parser.add_argument("--data-dir", required=True, help="folder with the four MNIST IDX files")
    args = parser.parse_args()

    print("| loss | optimizer | deskew | test accuracy | training time (s) | epochs (iterations) to 90% train accuracy |")
    print("| --- | --- | --- | ---: | ---: | ---: |")
    with tempfile.TemporaryDirectory(prefix="mnist-softmax-sweep-") as directory:
        for deskew in (False, True):
            for optimizer in OPTIMIZERS:
                for loss in LOSSES:
                    accuracy, seconds, reached, steps = run(args.binary, args.data_dir, loss, optimizer, deskew,
                                                            os.path.join(directory, "model.safetensors"))
                    epochs = str(reached) if reached is not None else f"> {steps}"
                    print(f"| {loss} | {optimizer} | {'yes' if deskew else 'no'} | {accuracy * 100:.2f}% | {seconds:.2f} | {epochs} |",
                          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
