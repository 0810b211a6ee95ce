import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

/// A local mirror: python3's http.server on a free loopback port, serving `directory`.
private final class LocalMirror {
    let process = Process()
    let url: String

    init(serving directory: String) throws {
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-u", "-m", "http.server", "--bind", "127.0.0.1", "--directory", directory, "0",
        ]
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // "Serving HTTP on 127.0.0.1 port 41234 (http://127.0.0.1:41234/) ..."
        var banner = ""
        while !banner.contains(") ...") {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { break }
            banner += String(decoding: chunk, as: UTF8.self)
        }
        guard let start = banner.range(of: "(http://"),
            let end = banner.range(of: ")", range: start.upperBound ..< banner.endIndex)
        else {
            kill(process.processIdentifier, SIGKILL)
            throw FetchError(subject: "python3 -m http.server", problem: .unreachable(reason: "no port in \(banner)"))
        }
        url = String(banner[banner.index(after: start.lowerBound) ..< end.lowerBound])
    }

    deinit {
        // SIGKILL: the child may inherit a signal mask that blocks SIGTERM from a Dispatch thread.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

@Test(.enabled(if: RealMNIST.directory != nil, RealMNIST.unavailableReason))
func fetchPrintsDownloadProgressInBytesAndPercentWhenNotOnATerminal() throws {
    let mirror = try LocalMirror(serving: try #require(RealMNIST.directory))
    let target = try makeScratchDirectory()
    defer { removeScratchDirectory(target) }
    let run = try CommandRun(["fetch", "--data-dir", target, "--source", "mirrors", "--mirror", mirror.url])
    #expect(run.status == 0, "\(run.standardError)")
    let source = try DataDirectory(path: try #require(RealMNIST.directory)).location(of: .trainImages)
    let size = try #require(try FileManager.default.attributesOfItem(atPath: source)[.size] as? Int)
    let url = mirror.url + (source as NSString).lastPathComponent
    for percent in [25, 50, 75, 100] {
        // Each quarter is printed once, at the first chunk that reaches it.
        let lines = run.standardError.split(separator: "\n").filter {
            $0.hasPrefix("\(url): ") && $0.hasSuffix(" of \(size) bytes (\(percent)%)")
        }
        let received = lines.first.flatMap { Int($0.dropFirst(url.count + 2).prefix { $0 != " " }) }
        #expect(
            lines.count == 1 && received.map { $0 * 100 >= size * percent && $0 <= size } == true,
            "\(percent)%: \(run.standardError)")
    }
    #expect(!run.standardError.contains("\r"))
}

/// Collects log lines from the fetcher, which may call from any thread.
private final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}

@Test(.enabled(if: RealMNIST.directory != nil, RealMNIST.unavailableReason))
func fetcherKeepsVerifiedFilesWithoutDownloading() async throws {
    let source = DataDirectory(path: try #require(RealMNIST.directory))
    let directory = try makeScratchDirectory()
    defer { removeScratchDirectory(directory) }
    var copies: [String] = []
    for file in MNISTFile.all {
        let original = try source.location(of: file)
        copies.append("\(directory)/\((original as NSString).lastPathComponent)")
        try FileManager.default.copyItem(atPath: original, toPath: copies.last!)
    }
    let log = LogLines()
    // `.mirrors` would download; every file verifies, so nothing is asked of the network.
    let paths = try await MNISTFetcher(directory: DataDirectory(path: directory), log: { log.append($0) }).fetch(
        from: .mirrors)
    #expect(paths == copies)
    #expect(log.all == zip(MNISTFile.all, copies).map { "\($0.name): verified \($1)" })
}
