import FoundationEssentials

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
            .map { $0.trimming(where: HTTPSyntax.isSpaceOrTab).lowercased() }
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
        var lines = head.split(separator: HTTPSyntax.lineFeed, omittingEmptySubsequences: false).map { line in
            line.last == HTTPSyntax.carriageReturn ? line.dropLast() : line
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
        let partial = RequestHead(
            method: method, target: target, path: path, minorVersion: minorVersion,
            fields: fields, framing: .length(0))
        return RequestHead(
            method: method, target: target, path: path, minorVersion: minorVersion,
            fields: fields, framing: try partial.bodyFraming())
    }

    /// "METHOD SP TARGET SP HTTP/1.x", single spaces, no control bytes.
    private static func parseRequestLine(_ line: ArraySlice<UInt8>) throws(HTTPRefusal) -> (String, String, Int) {
        guard line.allSatisfy({ $0 > 0x20 && $0 < 0x7F || $0 == 0x20 }) else {
            throw HTTPRefusal(
                .badRequest,
                "the request line has a control byte or a byte outside ASCII; it must be METHOD TARGET HTTP/1.1")
        }
        let parts = line.split(separator: 0x20, omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        guard parts.count == 3, !parts[1].isEmpty else {
            throw HTTPRefusal(
                .badRequest, "the request line must be METHOD TARGET HTTP/1.1, separated by single spaces")
        }
        let (method, target, version) = (parts[0], parts[1], parts[2])
        guard isToken(method) else { throw HTTPRefusal(.badRequest, "'\(method)' is not a method name") }
        switch version {
        case "HTTP/1.1": return (method, target, 1)
        case "HTTP/1.0": return (method, target, 0)
        default:
            let digits = version.utf8.dropFirst(5)
            if version.hasPrefix("HTTP/"), digits.count == 3, digits.dropFirst().first == UInt8(ascii: "."),
                digits.allSatisfy({ $0 == UInt8(ascii: ".") || (UInt8(ascii: "0") ... UInt8(ascii: "9")).contains($0) })
            {
                throw HTTPRefusal(
                    .versionNotSupported, "\(version) is not supported; this server speaks HTTP/1.1 and HTTP/1.0")
            }
            throw HTTPRefusal(
                .badRequest, "'\(version)' is not an HTTP version; the request line must end with HTTP/1.1")
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
            throw HTTPRefusal(
                .badRequest, "a header line starts with white space (obsolete line folding is not accepted)")
        }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            throw HTTPRefusal(
                .badRequest, "a header line has no colon: '\(String(decoding: line.prefix(64), as: UTF8.self))'")
        }
        let name = String(decoding: line[..<colon], as: UTF8.self)
        guard isToken(name) else {
            throw HTTPRefusal(.badRequest, "'\(name.prefix(64))' is not a header name (no spaces before the colon)")
        }
        let value = line[(colon + 1)...]
        guard value.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }) else {
            throw HTTPRefusal(.badRequest, "the value of header \(name) has a control byte")
        }
        let trimmed = String(decoding: value, as: UTF8.self).trimming(where: HTTPSyntax.isSpaceOrTab)
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
                throw HTTPRefusal(
                    .notImplemented,
                    "Transfer-Encoding \(codings.joined(separator: ", ")) is not supported; send chunked or a Content-Length"
                )
            }
            return .chunked
        }
        guard let length = lengths.first else { return .length(0) }
        guard lengths.allSatisfy({ $0 == length }),
            !length.isEmpty, length.utf8.allSatisfy({ (UInt8(ascii: "0") ... UInt8(ascii: "9")).contains($0) })
        else {
            throw HTTPRefusal(
                .badRequest,
                "Content-Length must be one decimal number, not '\(lengths.joined(separator: ", ").prefix(64))'")
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
            throw HTTPRefusal(
                .badRequest,
                "'\(String(decoding: line.prefix(32), as: UTF8.self))' is not a chunk size (hexadecimal digits)")
        }
        return Int(text, radix: 16) ?? Int.max
    }

    /// RFC 9110 §5.6.2: one or more of !#$%&'*+-.^_`|~, digits and letters.
    private static func isToken(_ text: String) -> Bool {
        !text.isEmpty
            && text.utf8.allSatisfy { byte in
                (UInt8(ascii: "a") ... UInt8(ascii: "z")).contains(byte | 0x20)
                    || (UInt8(ascii: "0") ... UInt8(ascii: "9")).contains(byte)
                    || "!#$%&'*+-.^_`|~".utf8.contains(byte)
            }
    }
}
