import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

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
final class ProgressReportingDownload: NSObject, URLSessionDataDelegate, @unchecked Sendable {
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
    static func get(_ address: URL, report: @escaping @Sendable (DownloadProgress) -> Void) async throws -> (
        status: Int, body: [UInt8]
    ) {
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

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
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
        let (continuation, result) = lock.withLock {
            () -> (CheckedContinuation<(status: Int, body: [UInt8]), Error>?, (status: Int, body: [UInt8])) in
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
