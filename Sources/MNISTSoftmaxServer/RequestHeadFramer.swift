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
            guard let newline = received[scanned...].firstIndex(of: HTTPSyntax.lineFeed) else {
                scanned = received.count
                try checkLimits(lineLength: scanned - lineStart - (received.last == HTTPSyntax.carriageReturn ? 1 : 0))
                return nil
            }
            scanned = newline + 1
            let lineLength =
                newline - lineStart
                - (newline > lineStart && received[newline - 1] == HTTPSyntax.carriageReturn ? 1 : 0)
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
                    throw HTTPRefusal(
                        .headerFieldsTooLarge, "the request has more than \(limits.maximumHeaderLines) header lines")
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
