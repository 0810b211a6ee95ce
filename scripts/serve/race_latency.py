#!/usr/bin/env python3
"""How `mnist-softmax serve` answers while it trains: GET / and POST /api/predict latencies from
two clients, first with the server idle, then during back-to-back races of the three costs (each
watched through GET /api/train/events, as the page does), and the server's peak RSS.

    python3 scripts/serve/race_latency.py [--seconds 20] [--races 3]

Needs MNIST ($MNIST_DATA_DIR or ../shared/mnist) and a release build. Prints figures only; nothing
is asserted (timings belong in docs/serve.md, with the CPU they were measured on)."""
import argparse
import http.client
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import BINARY, SEVEN, Server, data_dir, ink_strokes, png_bytes, read_events  # noqa: E402


def cpu_name():
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def hammer(port, stop, latencies, failures):
    """Alternates GET / and POST /api/predict on one keep-alive connection until `stop` is set."""
    digit = png_bytes(255 - (255 * ink_strokes(200, SEVEN, 0.1)).astype(np.uint8))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    index = 0
    while not stop.is_set():
        kind = "page" if index % 2 == 0 else "predict"
        started = time.perf_counter()
        try:
            if kind == "page":
                connection.request("GET", "/")
            else:
                connection.request("POST", "/api/predict", digit, {"Content-Type": "image/png"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                failures.append(response.status)
        except Exception as error:  # noqa: BLE001 - counted and shown
            failures.append(repr(error))
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies[kind].append(time.perf_counter() - started)
        index += 1
        time.sleep(0.005)
    connection.close()


def measure(port, seconds, during=None):
    stop = threading.Event()
    latencies, failures = {"page": [], "predict": []}, []
    clients = [threading.Thread(target=hammer, args=(port, stop, latencies, failures)) for _ in range(2)]
    for client in clients:
        client.start()
    extra = during() if during else time.sleep(seconds)
    stop.set()
    for client in clients:
        client.join()
    return latencies, failures, extra


def summary(name, values):
    values = np.array(sorted(values)) * 1000
    return (f"{name:8} {len(values):6} requests   p50 {np.percentile(values, 50):6.1f} ms   "
            f"p99 {np.percentile(values, 99):6.1f} ms   max {values.max():6.1f} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of the idle measurement")
    parser.add_argument("--races", type=int, default=3, help="races of the default settings (10 epochs each)")
    arguments = parser.parse_args()
    if data_dir() is None:
        sys.exit("MNIST not found: set MNIST_DATA_DIR")
    with tempfile.TemporaryDirectory() as directory:
        model = os.path.join(directory, "model.safetensors")
        subprocess.run([BINARY, "train", "--data-dir", data_dir(), "--model", model], check=True, capture_output=True)
        server = Server(model)
        try:
            print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; serve {BINARY}")
            idle, idle_failures, _ = measure(server.port, arguments.seconds)

            def races():
                seconds = []
                for _ in range(arguments.races):
                    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                    connection.request("POST", "/api/race", b"{}", {"Content-Type": "application/json"})
                    answer = connection.getresponse()
                    assert answer.status == 202, answer.read()
                    answer.read()
                    _, _, events = read_events(server.port, timeout=300)
                    assert events[-1][0] == "done", events[-1]
                    seconds.append(events[-1][1]["seconds"])
                    frames = sum(1 for name, _, _ in events if name == "frame")
                    print(f"race: {events[-1][1]['seconds']:.2f} s, {frames} frames, test accuracy "
                          + ", ".join(f"{run['cost']} {100 * run['test_accuracy']:.2f}%" for run in events[-1][1]["runs"]))
                return seconds

            busy, busy_failures, _ = measure(server.port, 0, during=races)
            print("\nidle (no training):")
            for kind in ("page", "predict"):
                print("  " + summary(kind, idle[kind]))
            print(f"during {arguments.races} races of the three costs (10 epochs each, default settings):")
            for kind in ("page", "predict"):
                print("  " + summary(kind, busy[kind]))
            print(f"failures: idle {len(idle_failures)}, during races {len(busy_failures)}")
            print(f"peak RSS of serve: {server.peak_rss_kib() / 1024:.0f} MiB")
        finally:
            server.stop()


if __name__ == "__main__":
    main()
