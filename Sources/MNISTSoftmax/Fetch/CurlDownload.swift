#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch

/// How far one download has got.
public struct DownloadProgress: Sendable, Equatable {
    public let url: String
    public let receivedBytes: Int
    /// The Content-Length the server announced, if any.
    public let expectedBytes: Int?

    public init(url: String, receivedBytes: Int, expectedBytes: Int?) {
        self.url = url
        self.receivedBytes = receivedBytes
        self.expectedBytes = expectedBytes
    }

    /// received / expected in [0, 1], or nil when the length is unknown.
    public var fraction: Double? {
        expectedBytes.map { $0 > 0 ? min(1, Double(receivedBytes) / Double($0)) : 1 }
    }
}

/// One HTTP GET run by the `curl` program, so that no HTTP library is linked into the binary.
/// Its standard output (`--include`: every response head, then the final body) is read chunk by
/// chunk, so that each chunk of a 200 response's body can be reported as it arrives.
enum CurlDownload {
    /// curl's arguments before the URL. `-q` (first) skips ~/.curlrc. A mirror silent for
    /// `requestTimeout` fails: while connecting (`--connect-timeout`), or afterwards by sending
    /// less than 1 byte/s over that time (`--speed-limit`, `--speed-time`); the whole transfer
    /// may take `downloadTimeout` (`--max-time`). Redirects are followed, over HTTP(S) only.
    private static let options = [
        "-q", "--silent", "--show-error", "--location", "--include", "--proto", "=http,https",
        "--proto-redir", "=http,https", "--connect-timeout", "\(Int(MNISTFetcher.requestTimeout))",
        "--speed-limit", "1", "--speed-time", "\(Int(MNISTFetcher.requestTimeout))",
        "--max-time", "\(Int(MNISTFetcher.downloadTimeout))",
    ]

    /// The status code and body of `url`, reporting progress as a 200 response's body arrives.
    /// Runs `curl` through `/usr/bin/env` (found on PATH) on a Dispatch thread, not the caller's
    /// task. Throws `FetchError` with `.curlNotRunnable` when curl cannot be started, and with
    /// `.unreachable` when it fails or its output is no HTTP response.
    static func get(_ url: String, report: @escaping @Sendable (DownloadProgress) -> Void) async throws -> (
        status: Int, body: [UInt8]
    ) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try run(url, report: report) })
            }
        }
    }

    private static func run(_ url: String, report: (DownloadProgress) -> Void) throws -> (status: Int, body: [UInt8]) {
        let start = ContinuousClock.now
        let process: Subprocess
        do throws(Subprocess.SpawnFailure) {
            process = try Subprocess(["curl"] + options + ["--", url], mergingErrorsIntoOutput: false)
        } catch {
            throw FetchError(subject: url, problem: .curlNotRunnable(reason: error.reason))
        }
        var parser = CurlResponseParser()
        var body: [UInt8] = []
        var parseFailure: CurlResponseParser.Failure?
        /// Appends body bytes and reports them if the response is a 200.
        func receive(_ bytes: [UInt8]) {
            guard !bytes.isEmpty else { return }
            body.append(contentsOf: bytes)
            // Only a 200 response carries the file; an error page's bytes are not progress.
            if parser.status == 200 {
                report(DownloadProgress(url: url, receivedBytes: body.count, expectedBytes: parser.expectedBytes))
            }
        }
        // After a parse failure curl is asked to end, and the rest of its output is read and dropped.
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = Subprocess.readChunk(of: process.output, into: &buffer)
            guard count > 0 else {
                if count < 0 {
                    let reason = "cannot read curl's output: \(systemErrorMessage())"
                    process.terminate()
                    _ = process.wait()
                    throw FetchError(subject: url, problem: .unreachable(reason: reason))
                }
                break
            }
            guard parseFailure == nil else { continue }
            do {
                receive(try parser.consume(Array(buffer[..<count])))
            } catch {
                parseFailure = error
                process.terminate()
            }
        }
        // curl writes at most a line or two there, so reading it only now cannot block curl.
        let message = String(decoding: Subprocess.readToEnd(process.errors!), as: UTF8.self)
        let status: Int32
        switch process.wait() {
        case .exited(let code): status = code
        case .killed(let signal):
            let reason = parseFailure.map(\.description) ?? "curl was ended by signal \(signal)"
            throw FetchError(subject: url, problem: .unreachable(reason: reason))
        case .unknown(let reason):
            throw FetchError(subject: url, problem: .unreachable(reason: "cannot tell how curl ended: \(reason)"))
        }
        guard status == 0 else {
            throw FetchError(
                subject: url,
                problem: failure(exitStatus: status, message: message, elapsed: ContinuousClock.now - start))
        }
        do throws(CurlResponseParser.Failure) {
            if let parseFailure { throw parseFailure }
            receive(try parser.finish())
        } catch {
            throw FetchError(subject: url, problem: .unreachable(reason: error.description))
        }
        return (parser.status ?? 0, body)
    }

    /// The problem behind a non-zero exit `status` of `/usr/bin/env curl …`, whose standard error
    /// was `message`, after `elapsed`.
    private static func failure(exitStatus status: Int32, message: String, elapsed: Duration) -> FetchError.Problem {
        // Its last line, without curl's "curl: (7) " prefix.
        var line = message.split(whereSeparator: \.isNewline).last.map(String.init) ?? ""
        if line.hasPrefix("curl: ("), let end = line.firstRange(of: ") ") { line = String(line[end.upperBound...]) }
        switch status {
        case 126, 127:
            // env's own statuses: curl is not executable, or not on PATH.
            return .curlNotRunnable(reason: status == 127 ? "not found on PATH" : line)
        case 5:
            return .unreachable(reason: "cannot resolve the proxy's host name (offline?)")
        case 6:
            return .unreachable(reason: "cannot resolve the host name (offline?)")
        case 7:
            return .unreachable(reason: "cannot connect (offline?)")
        case 28:
            let limit = MNISTFetcher.downloadTimeout
            return .unreachable(
                reason: elapsed >= .seconds(limit)
                    ? "the download took longer than \(Int(limit)) s"
                    : "no answer within \(Int(MNISTFetcher.requestTimeout)) s")
        case 35, 51, 53, 54, 58, 59, 60, 64, 66, 77, 80, 82, 83, 90, 91:
            return .unreachable(reason: "the TLS connection failed" + (line.isEmpty ? "" : " (\(line))"))
        default:
            return .unreachable(reason: "curl exited with status \(status)" + (line.isEmpty ? "" : ": \(line)"))
        }
    }
}
