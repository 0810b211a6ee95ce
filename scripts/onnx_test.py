#!/usr/bin/env python3
"""The ONNX export, checked by the real tools.

1. `mnist-softmax train` (defaults), then `export-onnx`: PyPI's onnx.checker accepts the file
   with full_check=True (which runs shape inference), and the graph is Gemm → Softmax at opset 13
   with input "pixels" [N, 784] (N symbolic) and outputs "logits" and "probabilities" [N, 10].
2. onnxruntime runs it on all 10,000 test images, read here from the IDX .gz with numpy, as
   x = pixel / 255 in float32: its accuracy equals `evaluate --json`'s exactly (the same count of
   correct images, and the same confusion matrix), and its probabilities are within 1e-5 of the
   tool's own, compared on the top three classes that `predict --idx --json` prints, for the
   first 20 test images and the 20 with the smallest gap between their two largest logits
   (where a difference would matter).
3. A sigmoid-bce model trained with --deskew: the checker accepts it, its output is Sigmoid with
   probabilities = σ(logits), and its metadata says the input must be deskewed.

Needs MNIST ($MNIST_DATA_DIR, ../shared/mnist beside the package, or data/mnist): without it it fails,
as a CI check of the export must not pass silently. Prints `N passed, N failed`; exit 1 on failure.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime

from mnist_idx import read_idx

PROBABILITY_TOLERANCE = 1e-5


def run(binary, *arguments):
    completed = subprocess.run([binary, *arguments], capture_output=True, text=True)
    if completed.returncode != 0:
        raise RuntimeError(f"mnist-softmax {' '.join(arguments)} exited {completed.returncode}:\n{completed.stderr}")
    return completed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True, help="path of the mnist-softmax executable")
    arguments = parser.parse_args()
    binary = os.path.abspath(arguments.binary)
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    candidates = [os.environ.get("MNIST_DATA_DIR"), os.path.join(package, "..", "shared", "mnist"),
                  os.path.join(package, "data", "mnist")]
    data = next((c for c in candidates if c and os.path.isdir(c)), None)
    if data is None:
        print("onnx: 0 passed, 1 failed: no MNIST data (set MNIST_DATA_DIR, or put it in ../shared/mnist or data/mnist)")
        return 1

    passed = failed = 0

    def check(name, condition, detail):
        nonlocal passed, failed
        print(f"{'PASS' if condition else 'FAIL'} {name}: {detail}")
        passed, failed = passed + bool(condition), failed + (not condition)

    images, images_path = read_idx(data, "t10k-images-idx3-ubyte")
    labels, _ = read_idx(data, "t10k-labels-idx1-ubyte")
    pixels = images.reshape(len(images), 784).astype(np.float32) / np.float32(255)

    with tempfile.TemporaryDirectory() as work:
        model_path, onnx_path = os.path.join(work, "default.safetensors"), os.path.join(work, "default.onnx")
        run(binary, "train", "--data-dir", data, "--model", model_path, "--quiet")
        exported = run(binary, "export-onnx", "--model", model_path, "--output", onnx_path)
        check("export-onnx prints the path it wrote", exported.stdout == onnx_path + "\n", repr(exported.stdout))

        model = onnx.load(onnx_path)
        try:
            onnx.checker.check_model(model, full_check=True)
            check("onnx.checker (full_check) accepts the export", True, f"IR {model.ir_version}, onnx {onnx.__version__}")
        except onnx.checker.ValidationError as error:
            check("onnx.checker (full_check) accepts the export", False, str(error))
        graph = model.graph
        input_dims = [d.dim_param or d.dim_value for d in graph.input[0].type.tensor_type.shape.dim]
        output_dims = [[d.dim_param or d.dim_value for d in o.type.tensor_type.shape.dim] for o in graph.output]
        check("the graph is Gemm(transB=1) → Softmax(axis=-1), opset 13",
              [n.op_type for n in graph.node] == ["Gemm", "Softmax"]
              and onnx.helper.get_node_attr_value(graph.node[0], "transB") == 1
              and onnx.helper.get_node_attr_value(graph.node[1], "axis") == -1
              and [(o.domain, o.version) for o in model.opset_import] == [("", 13)],
              f"{[n.op_type for n in graph.node]}, opsets {[(o.domain, o.version) for o in model.opset_import]}")
        check("input pixels [N, 784], outputs logits and probabilities [N, 10]",
              graph.input[0].name == "pixels" and input_dims == ["N", 784]
              and [o.name for o in graph.output] == ["logits", "probabilities"] and output_dims == [["N", 10]] * 2,
              f"{graph.input[0].name} {input_dims}, {[o.name for o in graph.output]} {output_dims}")
        metadata = {entry.key: entry.value for entry in model.metadata_props}
        check("metadata: producer, training settings, preprocessing",
              metadata.get("producer") == "mnist-softmax" and metadata.get("optimizer") == "sgd"
              and "epochs" in metadata and metadata.get("preprocessing") == "none" and "pixel / 255" in metadata.get("input", ""),
              f"{len(metadata)} keys: {sorted(metadata)}")

        session = onnxruntime.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
        logits, probabilities = session.run(["logits", "probabilities"], {"pixels": pixels})
        onnx_correct = int(np.sum(np.argmax(logits, axis=1) == labels))
        evaluation = json.loads(run(binary, "evaluate", "--data-dir", data, "--model", model_path, "--json").stdout)
        tool_correct = sum(evaluation["confusion_matrix"][k][k] for k in range(10))
        check("onnxruntime's accuracy on the 10,000 test images equals evaluate's exactly",
              onnx_correct == tool_correct and evaluation["count"] == len(labels) == 10_000,
              f"onnxruntime {onnx_correct}/{len(labels)}, evaluate {tool_correct}/{evaluation['count']} ({evaluation['accuracy']:.4%})")
        confusion = np.zeros((10, 10), dtype=int)
        np.add.at(confusion, (labels, np.argmax(logits, axis=1)), 1)
        check("onnxruntime's confusion matrix equals evaluate's",
              confusion.tolist() == evaluation["confusion_matrix"],
              f"{int(np.sum(np.abs(confusion - np.array(evaluation['confusion_matrix']))))} cells' worth of difference")

        top_two = np.sort(logits, axis=1)[:, -2:]
        closest = np.argsort(top_two[:, 1] - top_two[:, 0], kind="stable")[:20]
        indices = sorted(set(range(20)) | set(int(i) for i in closest))
        largest, worst = 0.0, None
        for index in indices:
            predicted = json.loads(run(binary, "predict", "--model", model_path, "--idx", images_path,
                                       "--index", str(index), "--json").stdout)[0]
            for entry in predicted["top"]:
                difference = abs(entry["probability"] - float(probabilities[index, entry["label"]]))
                if difference > largest:
                    largest, worst = difference, (index, entry["label"])
        check(f"onnxruntime's probabilities are within {PROBABILITY_TOLERANCE:g} of predict's",
              largest <= PROBABILITY_TOLERANCE,
              f"largest difference {largest:.2e} (image {worst and worst[0]}, class {worst and worst[1]}) "
              f"over the top 3 of {len(indices)} images")
        check("the probabilities are a softmax of the logits",
              np.allclose(probabilities.sum(axis=1), 1, atol=1e-5),
              f"row sums in [{probabilities.sum(axis=1).min():.7f}, {probabilities.sum(axis=1).max():.7f}]")

        other_model, other_onnx = os.path.join(work, "bce.safetensors"), os.path.join(work, "bce.onnx")
        run(binary, "train", "--data-dir", data, "--model", other_model, "--quiet", "--loss", "sigmoid-bce", "--deskew", "--epochs", "1")
        exported = run(binary, "export-onnx", "--model", other_model, "--output", other_onnx)
        model = onnx.load(other_onnx)
        onnx.checker.check_model(model, full_check=True)
        metadata = {entry.key: entry.value for entry in model.metadata_props}
        session = onnxruntime.InferenceSession(other_onnx, providers=["CPUExecutionProvider"])
        logits, probabilities = session.run(["logits", "probabilities"], {"pixels": pixels[:100]})
        sigmoid = 1 / (1 + np.exp(-logits.astype(np.float64)))
        check("a sigmoid-bce --deskew model: Sigmoid output, deskewed input in the metadata and on stderr",
              [n.op_type for n in model.graph.node] == ["Gemm", "Sigmoid"]
              and np.max(np.abs(probabilities - sigmoid)) < 1e-6
              and metadata.get("preprocessing") == "deskew" and "DESKEWED" in metadata.get("input", "")
              and "DESKEWED" in exported.stderr,
              f"{[n.op_type for n in model.graph.node]}, |p − σ(z)| ≤ {np.max(np.abs(probabilities - sigmoid)):.1e}, "
              f"input: {metadata.get('input', '')[:60]}…")

    print(f"onnx: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
