import FoundationEssentials

/// The mirror client: each missing file from the HTTPS mirrors, downloaded by `CurlDownload` and
/// verified before it is installed.
extension MNISTFetcher {
    /// The public HTTPS mirrors serving `NAME.gz`, tried in this order.
    public static let mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
    ]
    /// Seconds a mirror may stay silent before the request fails.
    static let requestTimeout: TimeInterval = 20
    /// Seconds a whole download (the largest file is 9.9 MB) may take.
    static let downloadTimeout: TimeInterval = 300

    struct MirrorOutcome {
        var written: [String: String] = [:]
        var stillNeeded: [NeededFile] = []
        var failures: [String] = []
        /// Set when curl could not be started: then no mirror was asked after that attempt.
        var curlNotRunnable: FetchError?
    }

    /// Tries each mirror in turn for each file. A mirror that cannot be reached at all is not
    /// asked again for the other files, so an offline machine fails after one attempt per mirror;
    /// when curl cannot be started, no mirror is asked again.
    func fetchFromMirrors(_ needed: [NeededFile]) async throws -> MirrorOutcome {
        var outcome = MirrorOutcome()
        var unreachableMirrors: Set<String> = []
        for neededFile in needed {
            var download: [UInt8]?
            for mirror in mirrorList where !unreachableMirrors.contains(mirror) && outcome.curlNotRunnable == nil {
                let url = mirror + neededFile.file.name + ".gz"
                log("downloading \(url)")
                do {
                    download = try await verifiedDownload(of: neededFile.file, from: url)
                    break
                } catch {
                    let summary = Self.summary(of: error)
                    log(summary)
                    outcome.failures.append(summary)
                    switch (error as? FetchError)?.problem {
                    case .unreachable: unreachableMirrors.insert(mirror)
                    case .curlNotRunnable: outcome.curlNotRunnable = error as? FetchError
                    default: break
                    }
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
        guard let scheme = URL(string: url)?.scheme?.lowercased(), scheme == "https" || scheme == "http" else {
            throw FetchError(subject: url, problem: .unreachable(reason: "not an http or https URL"))
        }
        let (status, body) = try await CurlDownload.get(url, report: downloadProgress)
        guard status == 200 else { throw FetchError(subject: url, problem: .httpStatus(status)) }
        let digest = try Self.contentDigest(of: body, path: url)
        guard digest == file.sha256 else {
            throw FetchError(
                subject: "\(file.name).gz from \(url)",
                problem: .digestMismatch(content: "the decompressed content", found: digest, expected: file.sha256))
        }
        // A mirror serving the raw IDX bytes is accepted too; they are stored compressed.
        return Gzip.isGzip(body) ? body : Gzip.compress(body)
    }
}
