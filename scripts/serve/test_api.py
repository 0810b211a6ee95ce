"""The HTTP API of `mnist-softmax serve`: every status, hostile PNGs, agreement with
`predict --json`, stopping on signals, and a load run (its figures are printed, never asserted)."""
import concurrent.futures
import http.client
import json
import os
import signal
import socket
import subprocess
import time

import numpy as np
import pytest

from conftest import (BINARY, ONE, SEVEN, ZERO, Server, bomb_png, header_only_png, ink_strokes, png_bytes, png_chunk)


def declared_png(width, height):
    """A PNG whose IHDR declares width × height, with an empty IDAT: libpng reads the header whole."""
    return header_only_png(width, height) + png_chunk(b"IDAT", b"")


def request(server, method, path, body=None, headers=None):
    """(status, headers, parsed JSON or raw bytes) of one request on a fresh connection."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        kind = response.getheader("Content-Type", "")
        return response.status, response, json.loads(data) if kind.startswith("application/json") else data
    finally:
        connection.close()


def post_png(server, body, content_type="image/png"):
    return request(server, "POST", "/api/predict", body, {"Content-Type": content_type})


def user_digit(strokes, size=200, pen=0.1):
    return ink_strokes(size, strokes, pen)


def still_answers(server):
    status, _, page = request(server, "GET", "/")
    assert status == 200 and b'id="top-label"' in page


# --- statuses ----------------------------------------------------------------------------------

def test_page_and_its_files_come_from_this_server_alone(server):
    status, response, page = request(server, "GET", "/")
    assert status == 200
    assert response.getheader("Content-Type").startswith("text/html")
    text = page.decode()
    assert 'id="top-label"' in text and "<canvas" in text
    assert 'href="/page.css"' in text and 'src="/page.js"' in text
    for path, kind in [("/page.css", "text/css"), ("/page.js", "text/javascript")]:
        status, response, body = request(server, "GET", path)
        assert status == 200 and response.getheader("Content-Type").startswith(kind), (path, status)
        text += body.decode()
    # No asset from anywhere else: no src= or href= to another host.
    assert "http://" not in text and "https://" not in text and "//cdn" not in text


def test_colormap_is_the_librarys_diverging_map(server):
    status, _, table = request(server, "GET", "/api/colormap")
    assert status == 200
    colours = table["diverging"]
    assert len(colours) == 511
    # DivergingColorMap: faded = round(255 (1 − |t|)), t = (i − 255) / 255; blue below 0, red above.
    for i, colour in enumerate(colours):
        faded = 255 - abs(i - 255)
        assert colour == ([faded, faded, 255] if i < 255 else [255, faded, faded]), (i, colour)


def test_model_endpoint_reports_metadata_and_weights(server):
    status, _, summary = request(server, "GET", "/api/model")
    assert status == 200
    assert summary["preprocessing"] == "none"
    assert 0.85 < float(summary["metadata"]["test_accuracy"]) < 0.95
    assert len(summary["weights"]) == 10 and all(len(row) == 784 for row in summary["weights"])
    assert len(summary["bias"]) == 10
    # The templates' colour scale: numpy's 99.5th percentile of |W|, and the count beyond it.
    # (JSON carries each Float's shortest decimal: back to float32 first, as the server holds them.)
    magnitudes = np.abs(np.array(summary["weights"], dtype=np.float32)).astype(np.float64)
    scale = summary["template_scale"]
    expected = np.percentile(magnitudes, 99.5)
    assert scale["percentile"] == 99.5
    assert abs(scale["limit"] - expected) <= 1e-6 * expected, (scale["limit"], expected)
    assert scale["clipped"] == int((magnitudes > np.float32(scale["limit"])).sum())
    assert np.float32(scale["maximum"]) == np.float32(magnitudes.max())


@pytest.mark.parametrize("method, path", [("GET", "/api/predict"), ("PUT", "/api/predict"), ("POST", "/"),
                                          ("DELETE", "/api/model"), ("POST", "/api/model")])
def test_wrong_method_is_405_with_allow(server, method, path):
    status, response, body = request(server, method, path, b"" if method in ("POST", "PUT") else None)
    assert status == 405, body
    assert response.getheader("Allow") in ("GET", "POST")
    assert method in body["error"]


@pytest.mark.parametrize("path", ["/nope", "/api", "/api/predict/extra", "/index.html", "/favicon.ico"])
def test_unknown_path_is_404(server, path):
    status, _, body = request(server, "GET", path)
    assert status == 404
    assert path in body["error"]


def test_body_over_8_mib_is_413_from_its_length(server):
    status, _, body = post_png(server, b"\x89PNG" + b"\0" * (8 << 20))
    assert status == 413
    assert "8388608" in body["error"]
    still_answers(server)


def test_body_over_8_mib_is_413_when_chunked(server):
    def chunks():
        for _ in range(9):
            yield b"\0" * (1 << 20)
    # http.client sends an iterable body with Transfer-Encoding: chunked and no Content-Length.
    status, _, body = request(server, "POST", "/api/predict", chunks(), {"Content-Type": "image/png"})
    assert status == 413
    assert "limit" in body["error"]
    still_answers(server)


def test_body_of_exactly_8_mib_is_read(server):
    status, _, body = post_png(server, b"\x89PNG" + b"\0" * ((8 << 20) - 4))
    assert status == 400  # read whole, then refused by libpng, not by size
    assert "cannot read PNG" in body["error"]


def test_wrong_content_type_is_415(server):
    status, _, body = post_png(server, png_bytes(255 - (255 * user_digit(ONE)).astype(np.uint8)), "text/plain")
    assert status == 415
    assert "text/plain" in body["error"]


def test_empty_body_is_400(server):
    status, _, body = post_png(server, b"")
    assert status == 400
    assert "empty" in body["error"]


# --- hostile PNGs: the table of Tests/MNISTSoftmaxEndToEndTests/HostileInputTests.swift, and more

def valid_png():
    return png_bytes(255 - (255 * user_digit(SEVEN, size=64)).astype(np.uint8))


def corrupt_crc():
    data = bytearray(valid_png())
    data[29] ^= 0xFF  # the last byte of IHDR's CRC
    return bytes(data)


def corrupt_zlib():
    data = bytearray(valid_png())
    start = data.index(b"IDAT") + 4
    length = int.from_bytes(data[start - 8:start - 4], "big")
    payload = bytearray(data[start:start + length])
    payload[2:40] = b"\xff" * 38  # garbage in the deflate stream, with a CRC that matches it
    return bytes(data[:start - 8]) + png_chunk(b"IDAT", bytes(payload)) + bytes(data[start + length + 4:])


HOSTILE = [
    # name, body, status, words the error must contain
    ("an HTML page", b"<html><body>404 Not Found</body></html>", 400, ["Not a PNG file"]),
    ("the PNG signature alone", b"\x89PNG\r\n\x1a\n", 400, ["cannot read PNG"]),
    ("a PNG truncated to 60 bytes", lambda: valid_png()[:60], 400, ["cannot read PNG", "truncated"]),
    ("a PNG cut in the middle of IDAT", lambda: valid_png()[:len(valid_png()) // 2], 400, ["cannot read PNG"]),
    ("a corrupt IHDR CRC", corrupt_crc, 400, ["cannot read PNG"]),
    ("a corrupt zlib stream", corrupt_zlib, 400, ["cannot read PNG"]),
    ("a 1×1 PNG", lambda: png_bytes(np.full((1, 1), 128)), 422, ["blank", "HINT:"]),
    ("a blank white PNG", lambda: png_bytes(np.full((64, 64), 255)), 422, ["blank"]),
    ("a fully transparent PNG", lambda: png_bytes(np.zeros((32, 32, 4))), 422, ["transparent"]),
    ("an IHDR alone", lambda: header_only_png(64, 64), 400, ["cannot read PNG", "incomplete"]),
    ("a PNG declaring 8192×8193", lambda: declared_png(8192, 8193), 400, ["8192×8193", "above the limit of 4194304"]),
    ("a PNG declaring 2049×2048, just over the cap", lambda: declared_png(2049, 2048), 400, ["2049×2048", "above the limit"]),
    ("a PNG declaring 2³¹−1 × 2³¹−1", lambda: declared_png(2**31 - 1, 2**31 - 1), 400, ["cannot read PNG"]),
    ("a decompression bomb of 30000×30000 zeros", lambda: bomb_png(30000, 30000), 400, ["30000×30000", "above the limit"]),
    ("a decompression bomb of 2048×2048 zeros, within the cap", lambda: bomb_png(2048, 2048), 422, ["blank"]),
]


@pytest.mark.parametrize("name, body, expected_status, words", HOSTILE, ids=[case[0] for case in HOSTILE])
def test_hostile_png_gets_4xx_and_the_server_goes_on(server, name, body, expected_status, words):
    data = body() if callable(body) else body
    assert len(data) <= 8 << 20
    status, _, answer = post_png(server, data)
    assert status == expected_status, answer
    for word in words:
        assert word in answer["error"], answer["error"]
    still_answers(server)


def test_malformed_http_is_refused_and_the_server_goes_on(server):
    for garbage in [b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" * 20, b"GARBAGE\r\n\r\n",
                    b"POST /api/predict HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                    b"POST /api/predict HTTP/1.1\r\nContent-Length: 100\r\n\r\nshort"]:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
            raw.sendall(garbage)
            raw.shutdown(socket.SHUT_WR)
            try:
                raw.recv(4096)
            except (ConnectionResetError, socket.timeout):
                pass
        still_answers(server)


# --- the same answers as predict --json --------------------------------------------------------

def user_style_pngs():
    """Name → PNG bytes of the kinds users send: none of them MNIST-like as stored."""
    seven, zero, one = user_digit(SEVEN), user_digit(ZERO), user_digit(ONE)
    rgb = np.zeros((200, 200, 3))
    rgb[...] = (250, 240, 200)  # cream paper
    rgb -= seven[:, :, None] * np.array([240, 200, 120])  # dark blue ink
    rgba = np.zeros((200, 200, 4))
    rgba[..., :3] = 20
    rgba[..., 3] = 255 * zero  # dark ink on a transparent background
    off_centre = np.full((300, 480), 255.0)
    off_centre[10:110, 340:440] -= 255 * ink_strokes(100, ONE, 0.14)  # small, in the top right corner
    wide = np.full((120, 400), 230.0)
    wide[10:110, 30:130] -= 200 * ink_strokes(100, SEVEN, 0.12)
    return {
        "dark-on-light grey": png_bytes(255 - 255 * seven),
        "light-on-dark grey": png_bytes(255 * zero),
        "RGB": png_bytes(rgb),
        "RGBA": png_bytes(rgba),
        "grey + alpha": png_bytes(np.stack([255 - 255 * one, np.full_like(one, 255)], axis=-1)),
        "off-centre": png_bytes(off_centre),
        "wide, low contrast": png_bytes(wide),
    }


def test_predict_endpoint_equals_predict_json(server, model, workdir):
    pictures = user_style_pngs()
    paths = []
    for index, (name, data) in enumerate(pictures.items()):
        path = os.path.join(workdir, f"user-{index}.png")
        with open(path, "wb") as handle:
            handle.write(data)
        paths.append(path)
    cli = json.loads(subprocess.run([BINARY, "predict", "--json", "--model", model, *paths],
                                    check=True, capture_output=True, text=True).stdout)
    for (name, data), expected in zip(pictures.items(), cli):
        status, _, answer = post_png(server, data)
        assert status == 200, (name, answer)
        assert answer["top"] == expected["top"], name  # labels and probabilities, to the last digit
        assert len(answer["probabilities"]) == 10 and abs(sum(answer["probabilities"]) - 1) < 1e-5
        assert max(range(10), key=lambda k: answer["logits"][k]) == answer["top"][0]["label"]
        assert len(answer["preprocessed"]) == 28 and all(len(row) == 28 for row in answer["preprocessed"])


def test_logits_are_w_x_plus_b_of_the_preprocessed_image(server):
    _, _, summary = request(server, "GET", "/api/model")
    _, _, answer = post_png(server, png_bytes(255 - 255 * user_digit(SEVEN)))
    x = np.array(answer["preprocessed"], dtype=np.float64).reshape(784) / 255
    logits = np.array(summary["weights"], dtype=np.float64) @ x + np.array(summary["bias"])
    largest = np.max(np.abs(logits - np.array(answer["logits"])))
    assert largest < 1e-5, f"largest difference {largest}"
    probabilities = np.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    largest = np.max(np.abs(probabilities - np.array(answer["probabilities"])))
    assert largest < 1e-5, f"largest difference {largest}"


def test_the_drawn_shapes_are_classified_as_meant(server):
    for strokes, label in [(SEVEN, 7), (ZERO, 0), (ONE, 1)]:
        _, _, answer = post_png(server, png_bytes(255 - 255 * user_digit(strokes)))
        assert answer["top"][0]["label"] == label, answer["top"]


# --- signals -------------------------------------------------------------------------------------

@pytest.mark.parametrize("number, name", [(signal.SIGINT, "SIGINT"), (signal.SIGTERM, "SIGTERM")])
def test_a_stop_signal_ends_serve_with_status_0(model, number, name):
    running = Server(model)
    still_answers(running)
    status, rest = running.stop(number)
    assert status == 0, rest
    assert f"stopped by {name}" in rest


def test_a_taken_port_is_an_error_with_a_hint(server, model):
    result = subprocess.run([BINARY, "serve", "--model", model, "--port", str(server.port)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert f"cannot serve on 127.0.0.1:{server.port}" in result.stderr and "HINT:" in result.stderr


# --- load ----------------------------------------------------------------------------------------

CLIENTS = 8
REQUESTS_PER_CLIENT = 60


def test_load_run_has_no_failures(server):
    bodies = list(user_style_pngs().values())

    def client(number):
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        latencies, failures = [], []
        for index in range(REQUESTS_PER_CLIENT):
            body = bodies[(number + index) % len(bodies)]
            started = time.perf_counter()
            try:
                connection.request("POST", "/api/predict", body, {"Content-Type": "image/png"})
                response = connection.getresponse()
                answer = json.loads(response.read())
                if response.status != 200 or len(answer["top"]) != 3:
                    failures.append(f"{response.status}: {answer}")
            except Exception as error:  # noqa: BLE001 - every failure is counted and shown
                failures.append(repr(error))
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            latencies.append(time.perf_counter() - started)
        connection.close()
        return latencies, failures

    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(client, range(CLIENTS)))
    elapsed = time.perf_counter() - started
    latencies = sorted(latency for result, _ in results for latency in result)
    failures = [failure for _, result in results for failure in result]
    total = CLIENTS * REQUESTS_PER_CLIENT
    p50, p99 = latencies[len(latencies) // 2], latencies[int(len(latencies) * 0.99) - 1]
    report = (f"load: {total} POST /api/predict from {CLIENTS} clients (keep-alive), {len(failures)} failed; "
              f"{total / elapsed:.0f} req/s, p50 {1000 * p50:.1f} ms, p99 {1000 * p99:.1f} ms, "
              f"server peak RSS (VmHWM) {server.peak_rss_kib() / 1024:.1f} MiB")
    print("\n" + report)
    if os.environ.get("SERVE_LOAD_REPORT"):
        with open(os.environ["SERVE_LOAD_REPORT"], "a") as handle:
            handle.write(report + "\n")
    assert not failures, failures[:5]
    still_answers(server)


# --- the HTTP layer's limits: heads, framing, deadlines --------------------------------------------
# The limits (Sources/MNISTSoftmaxServer/RequestHead.swift, HTTPLimits): request line 8 KiB (414),
# head 16 KiB and 100 header lines (431), 10 s for a head (408), 2 s of lingering after a refusal.

HEAD_TIMEOUT = 10


def vm_kib(process, field):
    with open(f"/proc/{process.pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/PID/status")


@pytest.fixture
def fresh_server(model):
    """A server of its own, so that its peak RSS is that of the test alone."""
    running = Server(model)
    still_answers(running)
    yield running
    status, rest = running.stop()
    assert status == 0, rest


def raw_exchange(server, data, timeout=10):
    """Sends data on a fresh connection (as far as the server reads it) and returns everything it
    answers until it closes, with the seconds that took."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as raw:
        try:
            raw.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while chunk := raw.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass
    return answer, time.monotonic() - started


def status_of(answer):
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer[9:12])


def error_of(answer):
    return json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]


MEBIBYTE = 1 << 20
HOSTILE_HEADS = [
    # name, bytes sent, status, words of the error
    ("a header line of 1 MiB", b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * MEBIBYTE + b"\r\n\r\n",
     431, ["longer than 16384 bytes"]),
    ("10,000 short headers", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: v\r\n" % n for n in range(10000)) + b"\r\n",
     431, ["more than 100 header lines"]),
    ("a request line of 1 MiB", b"GET /" + b"a" * MEBIBYTE + b" HTTP/1.1\r\nHost: x\r\n\r\n",
     414, ["request line is longer than 8192 bytes"]),
    ("1 MiB of empty lines", b"\r\n" * (MEBIBYTE // 2), 431, ["longer than 16384 bytes"]),
]


@pytest.mark.parametrize("name, data, expected_status, words", HOSTILE_HEADS, ids=[case[0] for case in HOSTILE_HEADS])
def test_an_oversized_head_is_refused_quickly_in_little_memory(fresh_server, name, data, expected_status, words):
    before = vm_kib(fresh_server.process, "VmRSS")
    # Eight at once: a server that held each head whole would grow by 8 MiB.
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: raw_exchange(fresh_server, data), range(8)))
    growth = vm_kib(fresh_server.process, "VmHWM") - before
    for answer, seconds in answers:
        assert status_of(answer) == expected_status, answer[:300]
        assert b"Connection: close" in answer
        for word in words:
            assert word in error_of(answer)
        assert seconds < 5, f"the refusal took {seconds:.1f} s"
    assert growth < 4096, f"the server's peak RSS grew by {growth} KiB"
    still_answers(fresh_server)


MALFORMED = [
    ("Content-Length and Transfer-Encoding", b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
     400, "both Content-Length and Transfer-Encoding"),
    ("two different Content-Lengths", b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
     400, "Content-Length must be one decimal number"),
    ("a negative Content-Length", b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400, "Content-Length"),
    ("a gzip Transfer-Encoding", b"POST /api/predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
     501, "not supported"),
    ("a folded header line", b"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n", 400, "folding"),
    ("a space before the colon", b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400, "not a header name"),
    ("no Host in HTTP/1.1", b"GET / HTTP/1.1\r\n\r\n", 400, "Host"),
    ("HTTP/2.0 in a request line", b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "HTTP/2.0"),
    ("two spaces in the request line", b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400, "single spaces"),
    ("a bad chunk size", b"POST /api/predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "chunk size"),
    ("a body cut short", b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nshort", 400, "closed 95 bytes before"),
]


@pytest.mark.parametrize("name, data, expected_status, words", MALFORMED, ids=[case[0] for case in MALFORMED])
def test_malformed_framing_is_refused_and_the_connection_closed(server, name, data, expected_status, words):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        raw.sendall(data)
        raw.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := raw.recv(65536):
            answer += chunk
    assert status_of(answer) == expected_status, answer[:300]
    assert words in error_of(answer)
    still_answers(server)


def test_a_stalled_or_trickling_head_gets_408_at_the_deadline_while_others_are_served(server):
    stalled = socket.create_connection(("127.0.0.1", server.port), timeout=HEAD_TIMEOUT + 5)
    trickling = socket.create_connection(("127.0.0.1", server.port), timeout=HEAD_TIMEOUT + 5)
    idle = socket.create_connection(("127.0.0.1", server.port), timeout=HEAD_TIMEOUT + 5)
    # A connection that had a request answered, then stalls in its second head: the deadline of a
    # head runs from the end of the previous answer (shorter than the 30 s of an exchange).
    second = socket.create_connection(("127.0.0.1", server.port), timeout=HEAD_TIMEOUT + 5)
    second_stream = second.makefile("rb")
    second.sendall(b"GET /api/model HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_response(second_stream)[0] == 200
    started = time.monotonic()
    second.sendall(b"GET / HTTP/1.1\r\n")
    stalled.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Half: ")
    head = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"a" * 200

    def trickle():
        try:
            for byte in head:
                trickling.sendall(bytes([byte]))
                time.sleep(0.1)
        except OSError:
            pass  # closed by the server at its deadline

    with concurrent.futures.ThreadPoolExecutor(5) as pool:
        pool.submit(trickle)
        answers = [pool.submit(lambda s=s: s.recv(65536)) for s in (stalled, trickling, idle)]
        answers.append(pool.submit(second_stream.read))
        served = 0
        while not all(answer.done() for answer in answers):
            asked = time.monotonic()
            still_answers(server)
            assert time.monotonic() - asked < 2
            served += 1
            time.sleep(0.2)
        closed = time.monotonic() - started
        stalled_answer, trickling_answer, idle_answer, second_answer = (answer.result() for answer in answers)
    for connection in (stalled, trickling, idle, second):
        connection.close()
    assert HEAD_TIMEOUT - 1 < closed < HEAD_TIMEOUT + 4, f"closed after {closed:.1f} s"
    assert served > 10
    for answer in (stalled_answer, trickling_answer, second_answer):
        assert status_of(answer) == 408 and "did not arrive within 10" in error_of(answer)
    assert idle_answer == b""  # an idle connection is closed without a word


def read_response(stream):
    """(status, headers, body) of one response read from a file over a socket."""
    status_line = stream.readline()
    assert status_line.startswith(b"HTTP/1.1 "), status_line
    headers = {}
    while (line := stream.readline()) not in (b"\r\n", b""):
        name, value = line.decode().split(":", 1)
        headers[name.strip().lower()] = value.strip()
    return int(status_line[9:12]), headers, stream.read(int(headers["content-length"]))


def test_pipelined_requests_are_answered_in_order_on_one_connection(server):
    picture = png_bytes(255 - 255 * user_digit(SEVEN))
    requests = (b"GET /api/model HTTP/1.1\r\nHost: x\r\n\r\n"
                + b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n" % len(picture)
                + picture
                + b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                + b"POST /api/predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                + b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in (picture[:100], picture[100:]))
                + b"0\r\nX-Trailer: 1\r\n\r\n"
                + b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        raw.sendall(requests)
        stream = raw.makefile("rb")
        statuses = []
        bodies = []
        for _ in range(5):
            status, headers, body = read_response(stream)
            statuses.append(status)
            bodies.append(body)
        assert stream.read() == b""  # closed after the request with Connection: close
    assert statuses == [200, 200, 404, 200, 200]
    assert json.loads(bodies[1])["top"][0]["label"] == 7
    assert json.loads(bodies[3]) == json.loads(bodies[1])  # chunked, the same answer
    assert b'id="top-label"' in bodies[4]


def test_expect_100_continue_is_answered_before_the_body(server):
    picture = png_bytes(255 - 255 * user_digit(ONE))
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
        raw.sendall(b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: image/png\r\nExpect: 100-continue\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(picture))
        assert raw.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        raw.sendall(picture)
        status, _, body = read_response(raw.makefile("rb"))
    assert status == 200 and json.loads(body)["top"][0]["label"] == 1


# --- live training: POST /api/train and /api/race, the event stream, the trained model ------------

from conftest import data_dir, read_events  # noqa: E402


@pytest.fixture
def trainer(model):
    """A server of its own for training, which stops unwatched jobs after 2 s."""
    running = Server(model, "--unwatched-timeout", "2")
    yield running
    status, rest = running.stop()
    assert status == 0, rest


def post_json(server, path, settings):
    body = settings if isinstance(settings, bytes) else json.dumps(settings).encode()
    return request(server, "POST", path, body, {"Content-Type": "application/json"})


def safetensors_tensors(data):
    """name → raw bytes of each tensor of a safetensors file, and its metadata."""
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + length])
    payload = data[8 + length:]
    metadata = header.pop("__metadata__", {})
    return {name: payload[entry["data_offsets"][0]:entry["data_offsets"][1]] for name, entry in header.items()}, metadata


def test_a_model_trained_from_the_api_has_trains_tensors_byte_for_byte(trainer, workdir):
    settings = {"loss": "sigmoid-bce", "learning_rate": 0.2, "momentum": 0.5, "batch_size": 50, "l2": 0.001,
                "epochs": 2, "deskew": True, "seed": 7}
    status, _, started = post_json(trainer, "/api/train", settings)
    assert status == 202, started
    assert started["kind"] == "train" and started["costs"] == ["sigmoid-bce"]
    status, kind, events = read_events(trainer.port)
    assert status == 200 and kind.startswith("text/event-stream"), (status, kind)
    names = [name for name, _, _ in events]
    assert names[-1] == "done" and set(names[:-1]) == {"frame"}, names
    status, response, served = request(trainer, "GET", "/api/train/model")
    assert status == 200 and response.getheader("Content-Type") == "application/octet-stream"
    path = os.path.join(workdir, "from-api.safetensors")
    with open(path, "wb") as file:
        file.write(served)
    cli = os.path.join(workdir, "from-cli.safetensors")
    subprocess.run([BINARY, "train", "--data-dir", data_dir(), "--model", cli, "--loss", "sigmoid-bce",
                    "--learning-rate", "0.2", "--momentum", "0.5", "--batch-size", "50", "--l2", "0.001",
                    "--epochs", "2", "--deskew", "--seed", "7"], check=True, capture_output=True, timeout=300)
    with open(cli, "rb") as file:
        expected, expected_metadata = safetensors_tensors(file.read())
    tensors, metadata = safetensors_tensors(served)
    assert set(tensors) == {"weight", "bias"}
    for name in tensors:
        assert tensors[name] == expected[name], f"tensor {name} differs from train's"
    # The same provenance, but for the thread cap (each run of the server trains on one thread).
    assert metadata.pop("threads") == "1"
    expected_metadata.pop("threads")
    assert metadata == expected_metadata
    # The tools that read model files take it as train's.
    evaluated = subprocess.run([BINARY, "evaluate", "--model", path, "--data-dir", data_dir()],
                               capture_output=True, text=True, timeout=120)
    assert evaluated.returncode == 0, evaluated.stderr
    assert "deskew" in evaluated.stdout
    onnx = subprocess.run([BINARY, "export-onnx", "--model", path, "--output", os.path.join(workdir, "from-api.onnx")],
                          capture_output=True, text=True, timeout=120)
    assert onnx.returncode == 0, onnx.stderr


@pytest.mark.parametrize("name, body, expected_status, words", [
    ("learning rate 0", {"learning_rate": 0}, 400, "learning_rate must be a positive number"),
    ("negative learning rate", {"learning_rate": -0.1}, 400, "learning_rate must be a positive number"),
    ("NaN learning rate", b'{"learning_rate": NaN}', 400, "not valid JSON"),
    ("infinite learning rate", b'{"learning_rate": 1e999}', 400, "learning_rate must be a finite number"),
    ("learning rate as text", {"learning_rate": "fast"}, 400, "learning_rate must be a finite number"),
    ("negative seed", {"seed": -1}, 400, "seed must be a whole number from 0 to 18446744073709551615"),
    ("batch size 0", {"batch_size": 0}, 400, "batch_size must be 1…60000"),
    ("batch size above the training set", {"batch_size": 60001}, 400, "batch_size must be 1…60000"),
    ("unknown cost", {"loss": "hinge"}, 400, "unknown cost 'hinge'"),
    ("unknown setting", {"learning_rte": 0.1}, 400, "unknown setting 'learning_rte'"),
    ("momentum 1", {"momentum": 1}, 400, "momentum must be in [0, 1)"),
    ("epochs 0", {"epochs": 0}, 400, "epochs must be 1…100"),
    ("negative l2", {"l2": -1}, 400, "l2 must be zero or positive"),
    ("pace too fast", {"batches_per_second": 1000}, 400, "batches_per_second"),
    ("malformed JSON", b'{"epochs": 1', 400, "not valid JSON"),
    ("not an object", b'[1, 2]', 400, "must be a JSON object"),
    ("a setting of the wrong type", {"epochs": "ten"}, 400, "epochs must be a whole number"),
    ("oversized body", b'{"seed": 1' + b' ' * 5000 + b'}', 413, "above the limit of 4096"),
])
def test_bad_settings_get_4xx_with_a_message_and_start_nothing(trainer, name, body, expected_status, words):
    status, _, answer = post_json(trainer, "/api/train", body)
    assert status == expected_status, (name, answer)
    assert words in answer["error"], (name, answer)
    # Nothing started: there is still no job to watch.
    status, _, answer = request(trainer, "GET", "/api/train/events")
    assert status == 404 and "no training job yet" in answer["error"]


def test_defaults_are_trains(trainer):
    status, _, defaults = request(trainer, "GET", "/api/train/defaults")
    assert status == 200
    assert defaults == {"loss": "softmax-ce", "learning_rate": 0.4, "momentum": 0.9, "batch_size": 100, "l2": 0.0001,
                        "epochs": 10, "deskew": False, "seed": 42}


def test_a_race_refuses_a_cost(trainer):
    status, _, answer = post_json(trainer, "/api/race", {"loss": "mse"})
    assert status == 400 and "leave out loss" in answer["error"]


def test_a_second_job_gets_409_naming_the_running_one_and_delete_stops_it(trainer):
    status, _, started = post_json(trainer, "/api/race", {"batches_per_second": 2, "epochs": 1})
    assert status == 202, started
    for path in ["/api/train", "/api/race"]:
        status, _, busy = post_json(trainer, path, {})
        assert status == 409, busy
        assert busy["running"] == {"job": started["job"], "kind": "race", "costs": ["softmax-ce", "sigmoid-bce", "mse"]}
        assert "race of softmax-ce, sigmoid-bce and mse" in busy["error"] and "DELETE /api/train" in busy["error"]
    status, _, _ = request(trainer, "GET", "/api/train/model?loss=mse")
    assert status == 409
    status, _, answer = request(trainer, "DELETE", "/api/train")
    assert status == 202 and answer == {"job": started["job"]}
    status, _, events = read_events(trainer.port, timeout=30)
    assert events[-1][0] == "stopped" and events[-1][1]["message"] == "stopped by DELETE /api/train"
    still_answers(trainer)
    status, _, again = post_json(trainer, "/api/train", {"epochs": 1})
    assert status == 202 and again["job"] == started["job"] + 1
    read_events(trainer.port)


def test_divergence_is_reported_with_trains_message_and_the_server_goes_on(trainer, workdir):
    status, _, _ = post_json(trainer, "/api/train", {"learning_rate": 1e30, "epochs": 1})
    assert status == 202
    _, _, events = read_events(trainer.port)
    name, ending, _ = events[-1]
    assert name == "diverged", events[-1]
    cli = subprocess.run([BINARY, "train", "--data-dir", data_dir(), "--model", os.path.join(workdir, "diverged.safetensors"),
                          "--learning-rate", "1e30", "--epochs", "1"], capture_output=True, text=True, timeout=120)
    assert cli.returncode == 1
    first_line = ending["message"].splitlines()[0]
    assert first_line.startswith("training diverged at epoch 1") and first_line in cli.stderr, (ending, cli.stderr)
    assert ending["runs"][0]["outcome"] == "diverged"
    status, _, _ = request(trainer, "GET", "/api/train/model")
    assert status == 409
    still_answers(trainer)
    assert post_png(trainer, png_bytes(255 - (255 * user_digit(ONE)).astype(np.uint8)))[0] == 200


@pytest.mark.parametrize("watched_first", [False, True])
def test_an_unwatched_job_is_stopped_after_the_timeout(trainer, watched_first):
    status, _, _ = post_json(trainer, "/api/train", {"batches_per_second": 5})
    assert status == 202
    if watched_first:
        # A page that watches for a moment and goes away: its stream is dropped at the next frame.
        _, _, seen = read_events(trainer.port, timeout=30, until=("frame",))
        assert seen[-1][0] == "frame"
    time.sleep(4)
    _, _, events = read_events(trainer.port, timeout=30)
    assert events[-1][0] == "stopped" and "nobody watched the job for 2" in events[-1][1]["message"], events[-1]


def test_the_slowed_down_mode_sends_every_batch_at_its_pace(trainer):
    status, _, _ = post_json(trainer, "/api/race", {"batches_per_second": 5})
    assert status == 202
    connection = http.client.HTTPConnection("127.0.0.1", trainer.port, timeout=30)
    connection.request("GET", "/api/train/events")
    response = connection.getresponse()
    started, points = time.monotonic(), {}
    while time.monotonic() - started < 2.5:
        line = response.fp.readline().decode()
        if line.startswith("data: "):
            for run in json.loads(line[6:])["runs"]:
                points.setdefault(run["cost"], []).extend(point["batch"] for point in run["points"])
                assert run["points"] == [] or run["templates"] is not None, "a paced frame comes with its templates"
    connection.close()
    request(trainer, "DELETE", "/api/train")
    read_events(trainer.port, timeout=30)
    for cost, batches in points.items():
        # One point per batch, in order, at about 5 a second (2.5 s: 12 batches, give or take the start).
        assert batches == list(range(1, len(batches) + 1)), (cost, batches)
        assert 8 <= len(batches) <= 14, (cost, batches)


def test_frames_are_throttled_and_carry_every_cost(trainer):
    status, _, _ = post_json(trainer, "/api/race", {"epochs": 3})
    assert status == 202
    _, _, events = read_events(trainer.port)
    frames = [(data, at) for name, data, at in events if name == "frame"]
    assert events[-1][0] == "done" and len(frames) >= 2
    for data, _ in frames:
        assert [run["cost"] for run in data["runs"]] == ["softmax-ce", "sigmoid-bce", "mse"]
        assert {"job", "epoch", "batch", "runs"} <= set(data)
    gaps = [later - earlier for (_, earlier), (_, later) in zip(frames[1:], frames[2:])]
    # The server sends at most one frame per 100 ms (a reader may receive two close together).
    assert len(frames) <= 2 + 10 * (frames[-1][1] - frames[0][1]) + 1, (len(frames), gaps)
    done = events[-1][1]
    scores = {run["cost"]: run["test_accuracy"] for run in done["runs"]}
    assert all(0.85 < score < 0.95 for score in scores.values()), scores
    # |∂L/∂z_y| on misclassified images: near 1 for the cross-entropies, far lower for the quadratic cost.
    last = {run["cost"]: run["latest"]["wrong_gradient"] for run in frames[-1][0]["runs"]}
    assert last["softmax-ce"] > 0.5 and last["sigmoid-bce"] > 0.5 and last["mse"] < 0.3, last


def test_at_most_eight_event_streams_then_429(trainer):
    status, _, _ = post_json(trainer, "/api/train", {"batches_per_second": 2})
    assert status == 202
    streams = []
    try:
        for _ in range(8):
            connection = http.client.HTTPConnection("127.0.0.1", trainer.port, timeout=10)
            connection.request("GET", "/api/train/events")
            assert connection.getresponse().status == 200
            streams.append(connection)
        status, _, answer = request(trainer, "GET", "/api/train/events")
        assert status == 429 and "8 event streams" in answer["error"]
    finally:
        for connection in streams:
            connection.close()
    request(trainer, "DELETE", "/api/train")


def test_use_this_model_makes_predict_answer_with_the_trained_model(trainer):
    body = png_bytes(255 - (255 * user_digit(SEVEN)).astype(np.uint8))
    before = post_png(trainer, body)[2]
    status, _, _ = post_json(trainer, "/api/race", {"epochs": 1, "learning_rate": 0.1, "momentum": 0})
    assert status == 202
    read_events(trainer.port)
    status, _, answer = request(trainer, "POST", "/api/train/use")
    assert status == 400 and "?loss=" in answer["error"]
    status, _, summary = request(trainer, "POST", "/api/train/use?loss=mse")
    assert status == 200 and summary["metadata"]["loss"] == "mse", summary.get("error")
    assert request(trainer, "GET", "/api/model")[2]["path"] == summary["path"]
    after = post_png(trainer, body)[2]
    assert after["probabilities"] != before["probabilities"]
    # The logits are those of the trained model's W x + b.
    weights, bias = np.array(summary["weights"], dtype=np.float32), np.array(summary["bias"], dtype=np.float32)
    x = np.array(after["preprocessed"], dtype=np.float32).reshape(784) / 255
    assert np.max(np.abs(weights @ x + bias - np.array(after["logits"]))) < 1e-4
