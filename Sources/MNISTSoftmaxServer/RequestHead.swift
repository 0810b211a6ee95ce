import Foundation

/// The limits on what one client may send and how long it may take, which bound the memory and
/// the time any request can cost the server. The defaults are `serve`'s; tests shrink them.
package struct HTTPLimits: Sendable {
    /// The request line, "POST /api/predict HTTP/1.1": longer gets 414.
    package var maximumRequestLineBytes = 8 << 10
    /// The whole head, request line and header lines up to the blank line: longer gets 431.
    package var maximumHeadBytes = 16 << 10
    /// Header lines in a head (or trailer lines after a chunked body): more get 431.
    package var maximumHeaderLines = 100
    /// A request body, by Content-Length or summed over its chunks: larger gets 413.
    package var maximumBodyBytes = 8 << 20
    /// A chunk-size line of a chunked body: longer gets 400.
    package var maximumChunkSizeLineBytes = 1 << 10
    /// From the first byte a connection may send (or the end of its previous answer) to the blank
    /// line ending the head. Past it, a connection that sent part of a head gets 408 and is closed;
    /// an idle keep-alive connection is closed.
    package var headTimeout: Duration = .seconds(10)
    /// From the end of the head to the last byte of the answer: reading the body, waiting for a
    /// turn, decoding and writing. Past it, the connection is closed (after a 408 when its body
    /// was still arriving).
    package var exchangeTimeout: Duration = .seconds(30)
    /// After a refusal: how long the rest of what the client sends is read and dropped, so that it
    /// reads the refusal rather than a reset.
    package var lingerTimeout: Duration = .seconds(2)
    /// Connections open at once; further clients wait in the kernel's accept queue.
    package var maximumConnections = 256
    /// Wanted request bodies read and handled at once (each up to `maximumBodyBytes`, and the
    /// handler's own memory); other requests wait their turn.
    package var concurrentBodyLimit = 8

    /// `serve`'s limits.
    package init() {}
}

/// An HTTP status with its reason phrase: the ones this server sends.
package struct HTTPStatus: Sendable, Equatable, CustomStringConvertible {
    package let code: Int
    package let reason: String

    package static let `continue` = HTTPStatus(code: 100, reason: "Continue")
    package static let ok = HTTPStatus(code: 200, reason: "OK")
    package static let badRequest = HTTPStatus(code: 400, reason: "Bad Request")
    package static let notFound = HTTPStatus(code: 404, reason: "Not Found")
    package static let methodNotAllowed = HTTPStatus(code: 405, reason: "Method Not Allowed")
    package static let requestTimeout = HTTPStatus(code: 408, reason: "Request Timeout")
    package static let contentTooLarge = HTTPStatus(code: 413, reason: "Content Too Large")
    package static let uriTooLong = HTTPStatus(code: 414, reason: "URI Too Long")
    package static let unsupportedMediaType = HTTPStatus(code: 415, reason: "Unsupported Media Type")
    package static let unprocessableContent = HTTPStatus(code: 422, reason: "Unprocessable Content")
    package static let headerFieldsTooLarge = HTTPStatus(code: 431, reason: "Request Header Fields Too Large")
    package static let internalServerError = HTTPStatus(code: 500, reason: "Internal Server Error")
    package static let notImplemented = HTTPStatus(code: 501, reason: "Not Implemented")
    package static let versionNotSupported = HTTPStatus(code: 505, reason: "HTTP Version Not Supported")

    package var description: String { "\(code) \(reason)" }
}

/// A request refused before it reached a route: the status to answer and what was wrong. The
/// connection is closed after the answer, since the server may no longer know where the next
/// request starts.
package struct HTTPRefusal: Error, Equatable, CustomStringConvertible {
    package let status: HTTPStatus
    package let message: String

    package init(_ status: HTTPStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    package var description: String { "\(status): \(message)" }
}

/// How the body of a request is delimited (RFC 9112 §6): by a byte count (0 when the request
/// has neither Content-Length nor Transfer-Encoding), or by chunks.
package enum BodyFraming: Equatable, Sendable {
    case length(Int)
    case chunked
}

private let lineFeed = UInt8(ascii: "\n")
private let carriageReturn = UInt8(ascii: "\r")
private let spaceAndTab = CharacterSet(charactersIn: " \t")

/// Finds the end of a request head in bytes as they arrive, and refuses the head as soon as it
/// passes a limit: a request line over `maximumRequestLineBytes` (414), a head over
/// `maximumHeadBytes` or with more than `maximumHeaderLines` header lines (431). So no more than
/// the limits (plus one read) is ever held for a head, however the client sends it. Each byte is
/// examined once, however finely the head is split across reads.
package struct RequestHeadFramer {
    package let limits: HTTPLimits
    /// Bytes examined so far, from the head's first byte.
    private var scanned = 0
    /// Where the line being examined starts.
    private var lineStart = 0
    private var sawRequestLine = false
    private var headerLines = 0

    package init(limits: HTTPLimits) { self.limits = limits }

    /// The head's length up to and including the blank line that ends it, or nil while it is
    /// incomplete. `received`: every byte received so far for this request, from its first;
    /// each call passes the previous call's bytes and more. Empty lines before the request line
    /// are skipped (RFC 9112 §2.2) but count against `maximumHeadBytes`.
    package mutating func headLength(in received: [UInt8]) throws(HTTPRefusal) -> Int? {
        while scanned < received.count {
            guard let newline = received[scanned...].firstIndex(of: lineFeed) else {
                scanned = received.count
                try checkLimits(lineLength: scanned - lineStart - (received.last == carriageReturn ? 1 : 0))
                return nil
            }
            scanned = newline + 1
            let lineLength = newline - lineStart - (newline > lineStart && received[newline - 1] == carriageReturn ? 1 : 0)
            try checkLimits(lineLength: lineLength)
            let isEmpty = lineLength == 0
            lineStart = scanned
            if !sawRequestLine {
                sawRequestLine = !isEmpty
            } else if isEmpty {
                return scanned
            } else {
                headerLines += 1
                if headerLines > limits.maximumHeaderLines {
                    throw HTTPRefusal(.headerFieldsTooLarge, "the request has more than \(limits.maximumHeaderLines) header lines")
                }
            }
        }
        return nil
    }

    /// `lineLength`: of the line being examined, without its CRLF (or LF, or a last CR that may be
    /// the start of its CRLF).
    private func checkLimits(lineLength: Int) throws(HTTPRefusal) {
        if !sawRequestLine && lineLength > limits.maximumRequestLineBytes {
            throw HTTPRefusal(.uriTooLong, "the request line is longer than \(limits.maximumRequestLineBytes) bytes")
        }
        if scanned > limits.maximumHeadBytes {
            throw HTTPRefusal(.headerFieldsTooLarge, "the request head is longer than \(limits.maximumHeadBytes) bytes")
        }
    }
}

/// One header line, its name as sent (compare with `caseInsensitiveName`) and its value without
/// surrounding spaces.
package struct HeaderField: Equatable, Sendable {
    package let name: String
    package let value: String
}

/// A request's method, target and header fields, parsed strictly (RFC 9110, 9112): anything a
/// lenient parser would have to guess at is refused with 400, so that this server and any proxy
/// in front of it cannot disagree on where a request ends.
package struct RequestHead: Equatable, Sendable {
    /// "GET", "POST", … as sent (methods are case-sensitive).
    package let method: String
    /// The request target as sent, such as "/api/model?x=1".
    package let target: String
    /// The target's path, without query: "/api/model".
    package let path: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    package let minorVersion: Int
    package let fields: [HeaderField]
    package let framing: BodyFraming

    /// The value of the first field named `name` (case-insensitively), or nil.
    package func field(_ name: String) -> String? {
        fields.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The comma-separated tokens of every field named `name`, lowercased.
    package func tokens(_ name: String) -> [String] {
        fields.filter { $0.name.lowercased() == name.lowercased() }
            .flatMap { $0.value.split(separator: ",") }
            .map { $0.trimmingCharacters(in: spaceAndTab).lowercased() }
            .filter { !$0.isEmpty }
    }

    /// Whether the connection stays open after the answer: HTTP/1.1 unless "Connection: close",
    /// HTTP/1.0 only with "Connection: keep-alive".
    package var keepsAlive: Bool {
        let connection = tokens("Connection")
        return minorVersion >= 1 ? !connection.contains("close") : connection.contains("keep-alive")
    }

    /// Whether the client waits for "100 Continue" before sending its body.
    package var expectsContinue: Bool { minorVersion >= 1 && tokens("Expect").contains("100-continue") }

    /// Parses a complete head, as delimited by `RequestHeadFramer`: the request line, the header
    /// lines and the blank line, each ended by CRLF (or a bare LF).
    package static func parse(_ head: ArraySlice<UInt8>) throws(HTTPRefusal) -> RequestHead {
        var lines = head.split(separator: lineFeed, omittingEmptySubsequences: false).map { line in
            line.last == carriageReturn ? line.dropLast() : line
        }
        while lines.first?.isEmpty == true { lines.removeFirst() }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let requestLine = lines.first else { throw HTTPRefusal(.badRequest, "the request head is empty") }
        let (method, target, minorVersion) = try parseRequestLine(requestLine)
        var fields: [HeaderField] = []
        for line in lines.dropFirst() { fields.append(try parseField(line)) }
        let path = try parsePath(target)
        if minorVersion >= 1 && fields.count(where: { $0.name.lowercased() == "host" }) != 1 {
            throw HTTPRefusal(.badRequest, "an HTTP/1.1 request must have exactly one Host header")
        }
        let partial = RequestHead(method: method, target: target, path: path, minorVersion: minorVersion,
                                  fields: fields, framing: .length(0))
        return RequestHead(method: method, target: target, path: path, minorVersion: minorVersion,
                           fields: fields, framing: try partial.bodyFraming())
    }

    /// "METHOD SP TARGET SP HTTP/1.x", single spaces, no control bytes.
    private static func parseRequestLine(_ line: ArraySlice<UInt8>) throws(HTTPRefusal) -> (String, String, Int) {
        guard line.allSatisfy({ $0 > 0x20 && $0 < 0x7F || $0 == 0x20 }) else {
            throw HTTPRefusal(.badRequest, "the request line has a control byte or a byte outside ASCII; it must be METHOD TARGET HTTP/1.1")
        }
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard parts.count == 3, !parts[1].isEmpty else {
            throw HTTPRefusal(.badRequest, "the request line must be METHOD TARGET HTTP/1.1, separated by single spaces")
        }
        let (method, target, version) = (parts[0], parts[1], parts[2])
        guard isToken(method) else { throw HTTPRefusal(.badRequest, "'\(method)' is not a method name") }
        switch version {
        case "HTTP/1.1": return (method, target, 1)
        case "HTTP/1.0": return (method, target, 0)
        default:
            let digits = version.utf8.dropFirst(5)
            if version.hasPrefix("HTTP/"), digits.count == 3, digits.dropFirst().first == UInt8(ascii: "."),
               digits.allSatisfy({ $0 == UInt8(ascii: ".") || (UInt8(ascii: "0") ... UInt8(ascii: "9")).contains($0) }) {
                throw HTTPRefusal(.versionNotSupported, "\(version) is not supported; this server speaks HTTP/1.1 and HTTP/1.0")
            }
            throw HTTPRefusal(.badRequest, "'\(version)' is not an HTTP version; the request line must end with HTTP/1.1")
        }
    }

    /// The path of an origin-form ("/a?b") or absolute-form ("http://host/a?b") target, or "*".
    private static func parsePath(_ target: String) throws(HTTPRefusal) -> String {
        var rest = Substring(target)
        if target == "*" { return target }
        for scheme in ["http://", "https://"] where target.lowercased().hasPrefix(scheme) {
            rest = target.dropFirst(scheme.count)
            rest = rest.firstIndex(of: "/").map { rest[$0...] } ?? "/"
        }
        guard rest.hasPrefix("/") else {
            throw HTTPRefusal(.badRequest, "the request target '\(target)' must start with / or http://")
        }
        return String(rest.prefix { $0 != "?" && $0 != "#" })
    }

    /// "Name: value", the name a token right before the colon, the value free of control bytes
    /// other than tab; a line starting with a space or tab (obsolete folding) is refused.
    private static func parseField(_ line: ArraySlice<UInt8>) throws(HTTPRefusal) -> HeaderField {
        if line.first == 0x20 || line.first == 0x09 {
            throw HTTPRefusal(.badRequest, "a header line starts with white space (obsolete line folding is not accepted)")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw HTTPRefusal(.badRequest, "a header line has no colon: '\(String(decoding: line.prefix(64), as: UTF8.self))'")
        }
        let name = String(decoding: line[..<colon], as: UTF8.self)
        guard isToken(name) else {
            throw HTTPRefusal(.badRequest, "'\(name.prefix(64))' is not a header name (no spaces before the colon)")
        }
        let value = line[(colon + 1)...]
        guard value.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }) else {
            throw HTTPRefusal(.badRequest, "the value of header \(name) has a control byte")
        }
        let trimmed = String(decoding: value, as: UTF8.self).trimmingCharacters(in: spaceAndTab)
        return HeaderField(name: name, value: trimmed)
    }

    /// Content-Length or chunked Transfer-Encoding, refusing what RFC 9112 §6.3 calls unrecoverable:
    /// both at once, differing or malformed lengths, codings other than chunked.
    private func bodyFraming() throws(HTTPRefusal) -> BodyFraming {
        let lengths = tokens("Content-Length")
        let codings = tokens("Transfer-Encoding")
        if !codings.isEmpty {
            guard lengths.isEmpty else {
                throw HTTPRefusal(.badRequest, "the request has both Content-Length and Transfer-Encoding; send one")
            }
            guard minorVersion >= 1 else { throw HTTPRefusal(.badRequest, "Transfer-Encoding in an HTTP/1.0 request") }
            guard codings == ["chunked"] else {
                throw HTTPRefusal(.notImplemented, "Transfer-Encoding \(codings.joined(separator: ", ")) is not supported; send chunked or a Content-Length")
            }
            return .chunked
        }
        guard let length = lengths.first else { return .length(0) }
        guard lengths.allSatisfy({ $0 == length }),
              !length.isEmpty, length.utf8.allSatisfy({ (UInt8(ascii: "0") ... UInt8(ascii: "9")).contains($0) })
        else {
            throw HTTPRefusal(.badRequest, "Content-Length must be one decimal number, not '\(lengths.joined(separator: ", ").prefix(64))'")
        }
        // More digits than an Int holds is certainly over any limit.
        return .length(Int(length) ?? Int.max)
    }

    /// The size in a chunk-size line ("1a2b" or "1a2b;ext=1"), hexadecimal; Int.max when it has
    /// more digits than an Int holds (certainly over any limit).
    package static func chunkSize(_ line: ArraySlice<UInt8>) throws(HTTPRefusal) -> Int {
        let digits = line.prefix { $0 != UInt8(ascii: ";") && $0 != 0x20 && $0 != 0x09 }
        let text = String(decoding: digits, as: UTF8.self)
        guard !text.isEmpty, text.allSatisfy(\.isHexDigit) else {
            throw HTTPRefusal(.badRequest, "'\(String(decoding: line.prefix(32), as: UTF8.self))' is not a chunk size (hexadecimal digits)")
        }
        return Int(text, radix: 16) ?? Int.max
    }

    /// RFC 9110 §5.6.2: one or more of !#$%&'*+-.^_`|~, digits and letters.
    private static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            (UInt8(ascii: "a") ... UInt8(ascii: "z")).contains(byte | 0x20) || (UInt8(ascii: "0") ... UInt8(ascii: "9")).contains(byte)
                || "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
