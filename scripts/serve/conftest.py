"""Shared fixtures of the `mnist-softmax serve` tests: the binary, a model trained on real MNIST
for the session, running servers, and PNGs made in code (no MNIST image is ever written).

The binary is $MNIST_SOFTMAX_BINARY, else .build/release/mnist-softmax; MNIST is $MNIST_DATA_DIR,
else ../shared/mnist, else data/mnist. Without MNIST the tests are skipped with the reason.
"""
import os
import re
import signal
import struct
import subprocess
import tempfile
import time
import zlib

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BINARY = os.environ.get("MNIST_SOFTMAX_BINARY", os.path.join(ROOT, ".build/release/mnist-softmax"))
LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)/")


def data_dir():
    candidates = [os.environ.get("MNIST_DATA_DIR"), os.path.join(ROOT, "../shared/mnist"), os.path.join(ROOT, "data/mnist")]
    for candidate in candidates:
        if candidate and any(os.path.exists(os.path.join(candidate, "train-images-idx3-ubyte" + ext)) for ext in ("", ".gz")):
            return os.path.abspath(candidate)
    return None


# --- PNG files made in code -------------------------------------------------------------------

def png_chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


def png_bytes(pixels):
    """An 8-bit PNG of pixels: (h, w) grey, (h, w, 2) grey+alpha, (h, w, 3) RGB or (h, w, 4) RGBA."""
    pixels = np.asarray(pixels, dtype=np.uint8)
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    height, width, channels = pixels.shape
    colour_type = {1: 0, 2: 4, 3: 2, 4: 6}[channels]
    raw = b"".join(b"\x00" + pixels[row].tobytes() for row in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0))
            + png_chunk(b"IDAT", zlib.compress(raw, 9))
            + png_chunk(b"IEND", b""))


def header_only_png(width, height):
    """A signature and a valid IHDR declaring width × height, and nothing else."""
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))


def bomb_png(width, height):
    """A complete, valid grey PNG of width × height zeros: a few hundred KB inflating to width·height bytes."""
    compressor = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    data = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (b"\x89PNG\r\n\x1a\n"
            + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + png_chunk(b"IDAT", data)
            + png_chunk(b"IEND", b""))


def ink_strokes(size, strokes, width):
    """(size, size) float ink in [0, 1]: polylines of (x, y) points in [0, 1] drawn with round
    pens of `width` (a fraction of size), anti-aliased over one pixel."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    distance = np.full((size, size), np.inf)
    for line in strokes:
        points = np.asarray(line, dtype=np.float64) * size
        for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
            dx, dy = x1 - x0, y1 - y0
            t = np.clip(((xs - x0) * dx + (ys - y0) * dy) / max(dx * dx + dy * dy, 1e-9), 0, 1)
            distance = np.minimum(distance, np.hypot(xs - (x0 + t * dx), ys - (y0 + t * dy)))
    return np.clip(width * size / 2 - distance + 0.5, 0, 1)


SEVEN = [[(0.25, 0.2), (0.75, 0.2), (0.45, 0.85)]]
ZERO = [[(0.5 + 0.22 * np.sin(a), 0.5 - 0.32 * np.cos(a)) for a in np.linspace(0, 2 * np.pi, 40)]]
ONE = [[(0.52, 0.15), (0.48, 0.85)]]


@pytest.fixture(scope="session")
def workdir():
    with tempfile.TemporaryDirectory(prefix="serve-test-") as directory:
        yield directory


@pytest.fixture(scope="session")
def model(workdir):
    """A model trained by the binary on real MNIST with default settings (about a second)."""
    data = data_dir()
    if data is None:
        pytest.skip("MNIST not found in $MNIST_DATA_DIR, ../shared/mnist or data/mnist; run `mnist-softmax fetch`")
    assert os.path.exists(BINARY), f"{BINARY} missing: run swift build -c release"
    path = os.path.join(workdir, "model.safetensors")
    subprocess.run([BINARY, "train", "--data-dir", data, "--model", path], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
    return path


class Server:
    """`mnist-softmax serve --port 0` on a model, training on MNIST (`--data-dir`), its port read
    from the line it prints on stderr; `arguments` are added to the command."""

    def __init__(self, model_path, *arguments):
        command = [BINARY, "serve", "--model", model_path, "--port", "0", "--data-dir", data_dir(), *arguments]
        self.process = subprocess.Popen(command,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.first_line = self.process.stderr.readline()
        match = LISTENING.search(self.first_line)
        if not match:
            self.process.kill()
            raise AssertionError(f"serve printed {self.first_line!r}, not 'listening on http://127.0.0.1:PORT/'")
        self.port = int(match.group(1))
        self.url = f"http://127.0.0.1:{self.port}"

    def peak_rss_kib(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        raise AssertionError("no VmHWM in /proc/PID/status")

    def stop(self, number=signal.SIGTERM):
        """Sends the signal and returns (exit status, rest of stderr)."""
        self.process.send_signal(number)
        try:
            _, rest = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            raise AssertionError(f"serve did not stop within 10 s of signal {number}")
        return self.process.returncode, rest


@pytest.fixture(scope="session")
def server(model):
    running = Server(model)
    yield running
    if running.process.poll() is None:
        status, rest = running.stop()
        assert status == 0, f"serve exited {status} on SIGTERM: {rest}"


def wait_until(condition, timeout=10.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s")


def read_events(port, timeout=120, until=("done", "diverged", "stopped", "failed")):
    """The Server-Sent Events of GET /api/train/events as (name, data, seconds since the request),
    up to and including the first event named in `until`, and the response's Content-Type."""
    import http.client
    import json
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    started = time.monotonic()
    try:
        connection.request("GET", "/api/train/events")
        response = connection.getresponse()
        kind = response.getheader("Content-Type", "")
        if response.status != 200:
            return response.status, kind, json.loads(response.read())
        events, name = [], None
        while True:
            line = response.fp.readline()
            if not line:
                return 200, kind, events
            line = line.decode().rstrip("\n")
            if line.startswith("event: "):
                name = line[len("event: "):]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[len("data: "):]), time.monotonic() - started))
                if name in until:
                    return 200, kind, events
    finally:
        connection.close()
