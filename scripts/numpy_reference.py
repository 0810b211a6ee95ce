#!/usr/bin/env python3
"""numpy reference of mnist-softmax's training, for scripts/bench.sh.

The same algorithm as `mnist-softmax train`, written the way the classic course code writes it:
one vectorized softmax loss and gradient on float32 arrays with BLAS matmuls, trained by
minibatch SGD with momentum.

  x = pixel/255 (float32); z = x Wᵀ + b with W (10, 784), b (10), both starting at zero.
  Each epoch: a seeded shuffle, then minibatches of B (the last one may be smaller).
  loss = mean cross-entropy of the stable softmax + (λ/2)‖W‖²
  dz = (p − onehot(y)) / B;  dW = dzᵀ x + λW;  db = Σ dz
  v ← μv − η g;  θ ← θ + v;  η of epoch e (from 1) is η·decay^(e−1).

Takes the flags of `mnist-softmax train` and with --json prints the same JSON Lines: one object
per epoch ("seconds" is the wall time of that epoch's training work), then a summary. The model
is saved with safetensors.numpy.save_file ({"weight", "bias"}) to a temporary file that is then
renamed. Needs only numpy and safetensors (pip). Diagnostics go to standard error.
"""
import argparse
import gzip
import json
import math
import os
import sys
import tempfile
import time

import numpy as np
from safetensors.numpy import save_file

IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def softmax_loss_vectorized(W, b, X, y, reg, count_correct=False):
    """Softmax loss and gradient, vectorized.

    W: (C, D) weights, b: (C,) bias, X: (N, D) inputs, y: (N,) labels in [0, C), reg: λ.
    Returns (loss, dW, db); with count_correct=True also the number of rows of X whose highest
    score is their label (the running training accuracy, from scores already computed).
    """
    num_train = X.shape[0]
    scores = X @ W.T + b
    scores -= scores.max(axis=1, keepdims=True)  # every exponent ≤ 0
    exp_scores = np.exp(scores)
    sum_exp = exp_scores.sum(axis=1, keepdims=True)
    rows = np.arange(num_train)
    # −log p_y = log Σ e^z − z_y, which stays finite where p_y itself would underflow to 0.
    loss = np.mean(np.log(sum_exp[:, 0]) - scores[rows, y]) + 0.5 * reg * np.sum(W * W)

    dscores = exp_scores / sum_exp  # p
    dscores[rows, y] -= 1  # p − onehot(y)
    dscores /= num_train
    dW = dscores.T @ X + reg * W
    db = dscores.sum(axis=0)
    if count_correct:
        return loss, dW, db, int(np.count_nonzero(scores.argmax(axis=1) == y))
    return loss, dW, db


def read_idx(directory, name):
    """NAME or NAME.gz in directory → uint8 numpy array; gzip is told by the first bytes."""
    for candidate in (name, name + ".gz"):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            with open(path, "rb") as handle:
                raw = handle.read()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
                raise ValueError(f"{path}: not an IDX file of unsigned bytes")
            ndims = raw[3]
            dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndims)]
            offset = 4 + 4 * ndims
            if len(raw) != offset + math.prod(dims):
                raise ValueError(f"{path}: {len(raw) - offset} data bytes, the header says {dims}")
            return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(dims)
    raise FileNotFoundError(f"{directory}: no {name} or {name}.gz")


def load(directory, split):
    """(X float32 (N, 784) = pixel/255, y int64 (N,))."""
    images_name, labels_name = IDX_FILES[split]
    images = read_idx(directory, images_name)
    labels = read_idx(directory, labels_name)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{directory}: {images.shape[0]} {split} images but {labels.shape[0]} labels")
    X = images.reshape(images.shape[0], -1).astype(np.float32) / 255
    return X, labels.astype(np.int64)


def evaluate(W, b, X, y):
    """(accuracy, mean cross-entropy) of the model on X, y."""
    scores = X @ W.T + b
    scores -= scores.max(axis=1, keepdims=True)
    log_sum_exp = np.log(np.exp(scores).sum(axis=1))
    loss = float(np.mean(log_sum_exp - scores[np.arange(len(y)), y], dtype=np.float64))
    return float(np.mean(scores.argmax(axis=1) == y)), loss


def save_model(path, W, b, metadata):
    """safetensors.numpy.save_file to a temporary file in the same folder, then rename."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(prefix=".numpy-reference-", suffix=".safetensors", dir=directory)
    os.close(handle)
    try:
        save_file({"weight": W, "bias": b}, temporary, metadata=metadata)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


class Parser(argparse.ArgumentParser):
    def error(self, message):  # usage errors exit 64, like mnist-softmax
        self.print_usage(sys.stderr)
        self.exit(64, f"{self.prog}: error: {message}\n")


def make_parser(default_model):
    """The flags shared with `mnist-softmax train` (and scripts/torch_reference.py)."""
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("MNIST_DATA_DIR") or "data/mnist",
                        help="folder holding the four MNIST IDX files, raw or .gz "
                             "(default: $MNIST_DATA_DIR, else data/mnist)")
    parser.add_argument("--model", default=default_model, help="where to save the model")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--learning-rate-decay", type=float, default=0.8)
    parser.add_argument("--l2", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", action="store_true", help="print JSON Lines: one object per epoch, then a summary")
    return parser


def check_arguments(parser, arguments):
    """Usage errors (exit 64) for values the training cannot take."""
    if arguments.epochs < 1:
        parser.error("--epochs must be at least 1")
    if arguments.batch_size < 1:
        parser.error("--batch-size must be at least 1")
    if not (arguments.learning_rate > 0 and math.isfinite(arguments.learning_rate)):
        parser.error("--learning-rate must be a positive number")
    if not 0 <= arguments.momentum < 1:
        parser.error("--momentum must be in [0, 1)")
    if not 0 < arguments.learning_rate_decay <= 1:
        parser.error("--learning-rate-decay must be in (0, 1]")
    if not (arguments.l2 >= 0 and math.isfinite(arguments.l2)):
        parser.error("--l2 must be zero or positive")
    return arguments


def parse_arguments():
    parser = make_parser("numpy-reference.safetensors")
    return check_arguments(parser, parser.parse_args())


def load_splits(data_dir):
    """(X, y, X_test, y_test) from `load`, or None after printing why not."""
    print(f"loading MNIST from {data_dir}", file=sys.stderr)
    try:
        return load(data_dir, "train") + load(data_dir, "test")
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return None


def report_summary(arguments, test_accuracy, test_loss, test_count, training_seconds):
    """The last lines, as `mnist-softmax train` prints them: the test result, then where the model went."""
    if arguments.json:
        emit({"type": "summary", "test_accuracy": test_accuracy, "test_loss": test_loss,
              "test_count": test_count, "training_seconds": training_seconds, "model": arguments.model})
    else:
        print(f"test accuracy {test_accuracy:.2%} ({test_count} images), mean cross-entropy {test_loss:.4f}; "
              f"trained in {training_seconds:.2f} s")
    print(f"saved model to {arguments.model}", file=sys.stderr)


def emit(record):
    print(json.dumps(record, sort_keys=True, separators=(",", ":")), flush=True)


def main():
    arguments = parse_arguments()
    splits = load_splits(arguments.data_dir)
    if splits is None:
        return 1
    X, y, X_test, y_test = splits
    num_train, dim = X.shape
    num_classes = 10
    print(f"training on {num_train} images", file=sys.stderr)

    W = np.zeros((num_classes, dim), dtype=np.float32)
    b = np.zeros(num_classes, dtype=np.float32)
    v_W, v_b = np.zeros_like(W), np.zeros_like(b)
    reg, mu, batch_size = arguments.l2, arguments.momentum, arguments.batch_size
    rng = np.random.default_rng(arguments.seed)
    training_seconds = 0.0
    if not arguments.json:
        print("epoch      loss  train acc    val acc  learning rate  seconds")

    for epoch in range(1, arguments.epochs + 1):
        started = time.perf_counter()
        learning_rate = arguments.learning_rate * arguments.learning_rate_decay ** (epoch - 1)
        order = rng.permutation(num_train)
        loss_sum, correct, batches = 0.0, 0, 0
        for start in range(0, num_train, batch_size):
            batch = order[start:start + batch_size]
            X_batch, y_batch = X[batch], y[batch]
            loss, dW, db, batch_correct = softmax_loss_vectorized(W, b, X_batch, y_batch, reg, count_correct=True)
            if not math.isfinite(loss):
                print(f"error: the loss diverged in epoch {epoch}, batch {batches + 1} "
                      f"(learning rate {learning_rate:g}); try a smaller --learning-rate", file=sys.stderr)
                return 1
            v_W = mu * v_W - learning_rate * dW
            v_b = mu * v_b - learning_rate * db
            W += v_W
            b += v_b
            loss_sum += float(loss)
            correct += batch_correct
            batches += 1
        seconds = time.perf_counter() - started
        training_seconds += seconds
        loss, accuracy = loss_sum / batches, correct / num_train
        if arguments.json:
            emit({"type": "epoch", "epoch": epoch, "loss": loss, "train_accuracy": accuracy,
                  "validation_accuracy": None, "validation_loss": None,
                  "learning_rate": learning_rate, "seconds": seconds})
        else:
            print(f"{epoch:5d} {loss:9.4f} {accuracy:10.2%} {'—':>10} {learning_rate:14.5g} {seconds:8.3f}", flush=True)

    test_accuracy, test_loss = evaluate(W, b, X_test, y_test)
    metadata = {
        "format": "numpy-reference", "epochs": str(arguments.epochs), "batch_size": str(batch_size),
        "learning_rate": repr(arguments.learning_rate), "momentum": repr(mu),
        "learning_rate_decay": repr(arguments.learning_rate_decay), "l2": repr(reg),
        "seed": str(arguments.seed), "test_accuracy": repr(test_accuracy), "test_loss": repr(test_loss),
    }
    save_model(arguments.model, W, b, metadata)
    report_summary(arguments, test_accuracy, test_loss, len(y_test), training_seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
