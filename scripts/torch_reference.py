#!/usr/bin/env python3
"""PyTorch CPU reference of mnist-softmax's training, for scripts/bench.sh.

The same algorithm as `mnist-softmax train` and scripts/numpy_reference.py, written the way a
PyTorch user writes it: nn.Linear(784, 10) + F.cross_entropy + torch.optim.SGD with momentum.

  x = pixel/255, preloaded as one float32 tensor (N, 784); nn.Linear's weight (10, 784) and bias (10)
  both start at zero. Each epoch: a seeded shuffle (torch.Generator seeded by --seed), then
  minibatches of B rows picked by index (the last one may be smaller).
  loss = F.cross_entropy (mean) ; L2 through SGD's weight_decay=λ on the weight only (a parameter
  group with weight_decay=0 for the bias), the same gradient as (λ/2)‖W‖² added to the loss.
  η of epoch e (from 1) is η·decay^(e−1) (the step schedule, set in the parameter groups).

One difference from mnist-softmax and numpy_reference.py: PyTorch's momentum is
  v ← μv + g;  θ ← θ − ηv
where ours is
  v ← μv − ηg;  θ ← θ + v.
The two are the same update while η is constant (PyTorch's v is ours divided by −η); with the step
schedule they differ slightly after each decay, because PyTorch's stored v was summed with the old
η's gradients and is then scaled by the new η. The accuracy is the same to within noise; the work per
step, which is what bench.sh compares, is identical.

Threads: torch.set_num_threads(N) from --threads, else $TORCH_NUM_THREADS, else every core (like
numpy's all-threads row). Takes the flags of `mnist-softmax train` and with --json prints the same
JSON Lines: one object per epoch ("seconds" is the wall time of that epoch's training work), then a
summary. The loss (the reported one adds (λ/2)‖W‖², like the others) is accumulated as a tensor
and read once per epoch, so that no step waits on a host copy. The model is saved with
safetensors.torch.save_file ({"weight" (10, 784), "bias" (10)}, float32) to a temporary file that
is then renamed. Needs torch and safetensors (pip). Diagnostics go to standard error.
"""
import argparse
import math
import os
import sys
import tempfile
import time

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

from numpy_reference import check_arguments, emit, load_splits, make_parser, report_summary


def evaluate(model, X, y):
    """(accuracy, mean cross-entropy) of the model on X, y."""
    with torch.no_grad():
        scores = model(X)
        loss = float(F.cross_entropy(scores.double(), y))
        return float((scores.argmax(dim=1) == y).double().mean()), loss


def save_model(path, model, metadata):
    """safetensors.torch.save_file to a temporary file in the same folder, then rename."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".torch-reference-", suffix=".safetensors", dir=directory)
    os.close(handle)
    try:
        tensors = {"weight": model.weight.detach().contiguous(), "bias": model.bias.detach().contiguous()}
        save_file(tensors, temporary, metadata=metadata)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def parse_arguments():
    parser = make_parser("torch-reference.safetensors")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch.set_num_threads (default: $TORCH_NUM_THREADS, else every core)")
    arguments = check_arguments(parser, parser.parse_args())
    if arguments.threads is None:
        from_environment = os.environ.get("TORCH_NUM_THREADS", "")
        if from_environment and not (from_environment.isdigit() and int(from_environment) >= 1):
            parser.error(f"$TORCH_NUM_THREADS must be a positive integer, not '{from_environment}'")
        arguments.threads = int(from_environment) if from_environment else (os.cpu_count() or 1)
    if arguments.threads < 1:
        parser.error("--threads must be at least 1")
    return arguments


def main():
    arguments = parse_arguments()
    torch.set_num_threads(arguments.threads)
    splits = load_splits(arguments.data_dir)
    if splits is None:
        return 1
    X_array, y_array, X_test_array, y_test_array = splits
    X, y = torch.from_numpy(X_array), torch.from_numpy(y_array)  # (N, 784) float32, (N,) int64
    X_test, y_test = torch.from_numpy(X_test_array), torch.from_numpy(y_test_array)
    num_train, dim = X.shape
    print(f"training on {num_train} images (torch {torch.__version__}, {torch.get_num_threads()} threads)",
          file=sys.stderr)

    model = torch.nn.Linear(dim, 10)
    with torch.no_grad():
        model.weight.zero_()
        model.bias.zero_()
    reg, mu, batch_size = arguments.l2, arguments.momentum, arguments.batch_size
    optimizer = torch.optim.SGD([{"params": [model.weight], "weight_decay": reg},
                                 {"params": [model.bias], "weight_decay": 0.0}],
                                lr=arguments.learning_rate, momentum=mu)
    generator = torch.Generator().manual_seed(arguments.seed)
    training_seconds = 0.0
    if not arguments.json:
        print("epoch      loss  train acc    val acc  learning rate  seconds")

    for epoch in range(1, arguments.epochs + 1):
        started = time.perf_counter()
        learning_rate = arguments.learning_rate * arguments.learning_rate_decay ** (epoch - 1)
        for group in optimizer.param_groups:
            group["lr"] = learning_rate
        order = torch.randperm(num_train, generator=generator)
        loss_sum = torch.zeros((), dtype=torch.float64)
        correct = torch.zeros((), dtype=torch.int64)
        batches = 0
        for start in range(0, num_train, batch_size):
            batch = order[start:start + batch_size]
            X_batch, y_batch = X[batch], y[batch]
            scores = model(X_batch)
            loss = F.cross_entropy(scores, y_batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            with torch.no_grad():
                loss_sum += loss.detach() + 0.5 * reg * model.weight.square().sum()
                correct += (scores.argmax(dim=1) == y_batch).sum()
            optimizer.step()
            batches += 1
        seconds = time.perf_counter() - started
        training_seconds += seconds
        loss, accuracy = float(loss_sum) / batches, int(correct) / num_train
        if not math.isfinite(loss):
            print(f"error: the loss diverged in epoch {epoch} (learning rate {learning_rate:g}); "
                  "try a smaller --learning-rate", file=sys.stderr)
            return 1
        if arguments.json:
            emit({"type": "epoch", "epoch": epoch, "loss": loss, "train_accuracy": accuracy,
                  "validation_accuracy": None, "validation_loss": None,
                  "learning_rate": learning_rate, "seconds": seconds, "threads": torch.get_num_threads()})
        else:
            print(f"{epoch:5d} {loss:9.4f} {accuracy:10.2%} {'—':>10} {learning_rate:14.5g} {seconds:8.3f}", flush=True)

    test_accuracy, test_loss = evaluate(model, X_test, y_test)
    metadata = {
        "format": "torch-reference", "torch": torch.__version__, "epochs": str(arguments.epochs),
        "batch_size": str(batch_size), "learning_rate": repr(arguments.learning_rate), "momentum": repr(mu),
        "learning_rate_decay": repr(arguments.learning_rate_decay), "l2": repr(reg),
        "seed": str(arguments.seed), "threads": str(torch.get_num_threads()),
        "test_accuracy": repr(test_accuracy), "test_loss": repr(test_loss),
    }
    save_model(arguments.model, model, metadata)
    report_summary(arguments, test_accuracy, test_loss, len(y_test), training_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
