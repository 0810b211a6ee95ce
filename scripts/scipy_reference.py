#!/usr/bin/env python3
"""scipy reference for `mnist-softmax train --optimizer lbfgs`.

Minimises the same objective in float64 with scipy's L-BFGS-B (its defaults: history 10,
ftol 2.2e-9, gtol 1e-5), from W = 0, b = 0:

  L(W, b) = (1/N) Σ_n −log softmax(W x_n + b)_{y_n} + (λ/2)‖W‖²,   x = pixel/255.

Prints one JSON object: iterations, function evaluations, the final objective, train and test
accuracy, seconds and scipy's message, so that `mnist-softmax`'s final objective can be checked
against it (it should be at most this one + 1e-4). Needs numpy and scipy (pip).

  python3 scripts/scipy_reference.py --data-dir ../shared/mnist --l2 1e-4
"""
import argparse
import json
import sys
import time

import numpy as np
from scipy.optimize import minimize

from numpy_reference import load


def objective(theta, X, y, l2):
    """(L, ∇L) for θ = (W (10, 784) row-major, b (10)) flattened, in float64."""
    W = theta[:7840].reshape(10, 784)
    b = theta[7840:]
    scores = X @ W.T + b
    scores -= scores.max(axis=1, keepdims=True)
    exp_scores = np.exp(scores)
    sum_exp = exp_scores.sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    loss = np.mean(np.log(sum_exp[:, 0]) - scores[rows, y]) + 0.5 * l2 * np.sum(W * W)
    delta = exp_scores / sum_exp
    delta[rows, y] -= 1  # p − onehot(y)
    delta /= len(y)
    gradient = np.concatenate([(delta.T @ X + l2 * W).ravel(), delta.sum(axis=0)])
    return loss, gradient


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", required=True, help="folder with the four MNIST IDX files, raw or .gz")
    parser.add_argument("--l2", type=float, default=1e-4, help="λ of the (λ/2)‖W‖² term (default 1e-4)")
    parser.add_argument("--max-iterations", type=int, default=15000, help="L-BFGS-B maxiter (default 15000, scipy's)")
    args = parser.parse_args()

    X, y = load(args.data_dir, "train")
    X_test, y_test = load(args.data_dir, "test")
    X, X_test = X.astype(np.float64), X_test.astype(np.float64)
    started = time.perf_counter()
    result = minimize(objective, np.zeros(7850), args=(X, y, args.l2), jac=True, method="L-BFGS-B",
                      options={"maxiter": args.max_iterations})
    seconds = time.perf_counter() - started
    W, b = result.x[:7840].reshape(10, 784), result.x[7840:]

    def accuracy(X, y):
        return float(np.mean((X @ W.T + b).argmax(axis=1) == y))

    print(json.dumps({
        "iterations": int(result.nit), "evaluations": int(result.nfev), "objective": float(result.fun),
        "train_accuracy": accuracy(X, y), "test_accuracy": accuracy(X_test, y_test),
        "l2": args.l2, "seconds": seconds, "message": str(result.message),
    }, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
