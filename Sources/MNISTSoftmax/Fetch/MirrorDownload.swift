import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The mirror client: each missing file from the HTTPS mirrors, verified before it is installed.
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
    }

    /// Tries each mirror in turn for each file. A mirror that cannot be reached at all is not
    /// asked again for the other files, so an offline machine fails after one attempt per mirror.
    func fetchFromMirrors(_ needed: [NeededFile]) async throws -> MirrorOutcome {
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
            throw FetchError(
                subject: "\(file.name).gz from \(url)",
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
}
