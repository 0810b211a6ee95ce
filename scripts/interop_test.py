#!/usr/bin/env python3
"""Interop between mnist-softmax's model files and Python's safetensors + numpy.

1. A model trained by mnist-softmax loads with safetensors.numpy.load_file, and numpy's test
   accuracy from its weights equals what `mnist-softmax evaluate --json` reports.
2. A model made by numpy (bias stored first, no metadata) is evaluated by mnist-softmax with
   numpy's accuracy.

Accuracies may differ by at most 2 images in 10,000: numpy sums in float64, the tool in float32,
so an argmax can flip on a near-tie. Needs MNIST (MNIST_DATA_DIR); without it the checks are
skipped with the reason printed.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file, save_file

from mnist_idx import read_idx

TOLERANCE = 2 / 10_000


def numpy_accuracy(weight, bias, images, labels):
    """argmax(x W^T + b) with x = pixel/255, in float64."""
    x = images.reshape(len(images), -1).astype(np.float64) / 255.0
    logits = x @ weight.astype(np.float64).T + bias.astype(np.float64)
    return float(np.mean(np.argmax(logits, axis=1) == labels))


def evaluate(binary, data, model):
    output = subprocess.run([binary, "evaluate", "--data-dir", data, "--model", model, "--json"],
                            check=True, capture_output=True, text=True).stdout
    return json.loads(output)["accuracy"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True, help="path of the mnist-softmax executable")
    arguments = parser.parse_args()

    data = os.environ.get("MNIST_DATA_DIR")
    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    present = lambda name: any(os.path.exists(os.path.join(data, name + suffix)) for suffix in ["", ".gz"])
    if not data or not all(present(name) for name in names):
        print("interop: skipped, no MNIST data (set MNIST_DATA_DIR)")
        return 0
    images, _ = read_idx(data, "t10k-images-idx3-ubyte")
    labels, _ = read_idx(data, "t10k-labels-idx1-ubyte")
    passed = failed = 0

    def check(name, condition, detail):
        nonlocal passed, failed
        print(f"{'PASS' if condition else 'FAIL'} {name}: {detail}")
        passed, failed = passed + bool(condition), failed + (not condition)

    with tempfile.TemporaryDirectory() as work:
        ours = os.path.join(work, "ours.safetensors")
        subprocess.run([arguments.binary, "train", "--data-dir", data, "--model", ours, "--epochs", "2"],
                       check=True, capture_output=True)
        tensors = load_file(ours)
        with safe_open(ours, framework="numpy") as handle:
            metadata = handle.metadata()
        check("python reads mnist-softmax's file",
              tensors["weight"].shape == (10, 784) and tensors["bias"].shape == (10,)
              and tensors["weight"].dtype == np.float32 and metadata.get("format") == "mnist-softmax",
              f"weight {tensors['weight'].shape} {tensors['weight'].dtype}, bias {tensors['bias'].shape}, "
              f"metadata keys {sorted(metadata)[:4]}…")
        theirs_accuracy = numpy_accuracy(tensors["weight"], tensors["bias"], images, labels)
        tool_accuracy = evaluate(arguments.binary, data, ours)
        check("numpy's accuracy from our weights equals evaluate's",
              abs(theirs_accuracy - tool_accuracy) <= TOLERANCE,
              f"numpy {theirs_accuracy:.4f}, mnist-softmax {tool_accuracy:.4f}")

        # A model numpy makes on its own: class-mean templates, centred, bias first, no metadata.
        train_images = read_idx(data, "train-images-idx3-ubyte")[0].reshape(-1, 784).astype(np.float64) / 255.0
        train_labels, _ = read_idx(data, "train-labels-idx1-ubyte")
        means = np.stack([train_images[train_labels == k].mean(axis=0) for k in range(10)])
        weight = (means - means.mean(axis=0)).astype(np.float32)
        bias = (-0.5 * np.sum(weight.astype(np.float64) ** 2, axis=1)).astype(np.float32)
        foreign = os.path.join(work, "numpy.safetensors")
        save_file({"bias": bias, "weight": weight}, foreign)
        numpy_made = numpy_accuracy(weight, bias, images, labels)
        tool_made = evaluate(arguments.binary, data, foreign)
        check("mnist-softmax evaluates a numpy-made file with numpy's accuracy",
              abs(numpy_made - tool_made) <= TOLERANCE and numpy_made > 0.5,
              f"numpy {numpy_made:.4f}, mnist-softmax {tool_made:.4f}")

    print(f"interop: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
