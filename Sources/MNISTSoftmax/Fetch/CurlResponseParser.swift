/// Splits what `curl --include --location` writes to standard output into the final response's
/// status, its Content-Length and its body, as the bytes arrive in chunks of any size.
///
/// curl writes one head per response, in order: each followed redirect, any 1xx interim response,
/// and a proxy's answer to CONNECT ("HTTP/1.1 200 Connection established") come before the final
/// one; only the final response's body follows, and bodies of followed redirects are not written.
/// A head is a status line ("HTTP/1.1 200 OK", "HTTP/2 200") and header lines, ended by an empty
/// line; lines end in CRLF or LF. A head is followed by another one when its status is 1xx, or
/// 3xx with a Location header (curl follows it), or 2xx without Content-Length and
/// Transfer-Encoding (a CONNECT answer) with "HTTP/" as the next bytes.
public struct CurlResponseParser: Sendable {
    /// Why curl's output is not a sequence of HTTP heads and a body.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The first line of a head, which is not "HTTP/<version> <3-digit status> …".
        case notAStatusLine(String)
        /// A head longer than `maximumHeadSize` bytes.
        case headTooLong
        /// The output ended inside a head, or before any.
        case noCompleteHead

        public var description: String {
            switch self {
            case .notAStatusLine(let line): "curl's output has \"\(line)\" where an HTTP status line belongs"
            case .headTooLong: "a response head is longer than \(maximumHeadSize) bytes"
            case .noCompleteHead: "curl's output ended before a whole response head"
            }
        }
    }

    /// The longest head accepted, in bytes (curl itself caps one header line at 100 KiB).
    public static let maximumHeadSize = 1 << 20

    /// The final response's status code, once its head is complete.
    public private(set) var status: Int?
    /// The final response's Content-Length, if it sent one.
    public private(set) var expectedBytes: Int?

    private struct Head {
        let status: Int
        let contentLength: Int?
        let hasLocation: Bool
        let hasTransferEncoding: Bool
    }

    private enum State {
        /// Reading a head; `previous` is the last complete one, if any.
        case head(previous: Head?)
        /// After a head that may be a CONNECT answer: waiting for 5 bytes to tell "HTTP/" from a body.
        case deciding(Head)
        case body
    }

    private var state = State.head(previous: nil)
    /// Bytes of the head being read, or the undecided bytes after a possible CONNECT answer.
    private var pending: [UInt8] = []
    private static let statusLinePrefix = Array("HTTP/".utf8)

    public init() {}

    /// Takes the next `bytes` of curl's output and returns those that belong to the final body.
    public mutating func consume(_ bytes: [UInt8]) throws(Failure) -> [UInt8] {
        if case .body = state { return bytes }
        pending.append(contentsOf: bytes)
        while true {
            switch state {
            case .body:
                defer { pending = [] }
                return pending
            case .head:
                guard let (headLength, bodyStart) = Self.endOfHead(in: pending) else {
                    guard pending.count <= Self.maximumHeadSize else { throw .headTooLong }
                    return []
                }
                let head = try Self.parseHead(pending[..<headLength])
                pending.removeFirst(bodyStart)
                if (100 ..< 200).contains(head.status) || (300 ..< 400).contains(head.status) && head.hasLocation {
                    state = .head(previous: head)
                } else if (200 ..< 300).contains(head.status) && head.contentLength == nil && !head.hasTransferEncoding
                {
                    state = .deciding(head)
                } else {
                    startBody(of: head)
                }
            case .deciding(let head):
                let compared = min(pending.count, Self.statusLinePrefix.count)
                if pending.prefix(compared).elementsEqual(Self.statusLinePrefix.prefix(compared)) {
                    guard compared == Self.statusLinePrefix.count else { return [] }
                    state = .head(previous: head)
                } else {
                    startBody(of: head)
                }
            }
        }
    }

    /// Ends the output and returns the body bytes still held back. A head that turned out to be
    /// the last one is the final response, with an empty body.
    public mutating func finish() throws(Failure) -> [UInt8] {
        switch state {
        case .body:
            return []
        case .deciding(let head):
            startBody(of: head)
        case .head(let previous):
            guard let previous, pending.isEmpty else { throw .noCompleteHead }
            startBody(of: previous)
        }
        defer { pending = [] }
        return pending
    }

    private mutating func startBody(of head: Head) {
        status = head.status
        expectedBytes = head.contentLength
        state = .body
    }

    /// The length of the head at the start of `bytes` without its ending empty line, and where
    /// the bytes after that line start; nil while no empty line has arrived.
    private static func endOfHead(in bytes: [UInt8]) -> (headLength: Int, bodyStart: Int)? {
        let newline = UInt8(ascii: "\n"), carriageReturn = UInt8(ascii: "\r")
        var index = bytes.startIndex
        while let lineFeed = bytes[index...].firstIndex(of: newline) {
            let next = lineFeed + 1
            if next < bytes.endIndex, bytes[next] == newline { return (lineFeed, next + 1) }
            if next + 1 < bytes.endIndex, bytes[next] == carriageReturn, bytes[next + 1] == newline {
                return (lineFeed, next + 2)
            }
            index = next
        }
        return nil
    }

    private static func parseHead(_ bytes: ArraySlice<UInt8>) throws(Failure) -> Head {
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map {
            String(decoding: $0.last == UInt8(ascii: "\r") ? $0.dropLast() : $0, as: UTF8.self)
        }
        let statusLine = lines.first ?? ""
        let fields = statusLine.split(separator: " ")
        guard fields.count >= 2, fields[0].hasPrefix("HTTP/"), fields[1].count == 3, let status = Int(fields[1])
        else { throw .notAStatusLine(String(statusLine.prefix(80))) }
        var contentLength: Int?
        var hasLocation = false, hasTransferEncoding = false
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].trimming(where: { $0 == " " || $0 == "\t" })
            switch line[..<colon].lowercased() {
            case "content-length": contentLength = Int(value).flatMap { $0 >= 0 ? $0 : nil }
            case "location": hasLocation = true
            case "transfer-encoding": hasTransferEncoding = true
            default: break
            }
        }
        return Head(
            status: status, contentLength: contentLength, hasLocation: hasLocation,
            hasTransferEncoding: hasTransferEncoding)
    }
}
