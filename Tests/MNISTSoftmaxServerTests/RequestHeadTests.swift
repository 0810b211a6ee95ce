import MNISTSoftmaxServer
import Testing

/// The HTTP/1.1 head parser under `serve`: where a head ends, the limits that refuse it before it
/// is whole, and the strict reading of its request line, fields and body framing.
struct RequestHeadTests {
    /// Limits small enough to pass with a few bytes.
    static let tiny: HTTPLimits = {
        var limits = HTTPLimits()
        limits.maximumRequestLineBytes = 24
        limits.maximumHeadBytes = 64
        limits.maximumHeaderLines = 3
        return limits
    }()

    /// Feeds `text` to a framer in pieces of `piece` bytes; the head's length once whole, or nil.
    static func frame(_ text: String, piece: Int, limits: HTTPLimits = tiny) throws(HTTPRefusal) -> Int? {
        let bytes = Array(text.utf8)
        var framer = RequestHeadFramer(limits: limits)
        var end = 0
        while end < bytes.count {
            end = min(end + piece, bytes.count)
            if let length = try framer.headLength(in: Array(bytes[..<end])) { return length }
        }
        return nil
    }

    /// What `body` threw, when it threw a refusal.
    static func refusal(_ body: () throws -> Void) -> HTTPRefusal? {
        do { try body() } catch { return error as? HTTPRefusal }
        return nil
    }

    static func parse(_ text: String) throws(HTTPRefusal) -> RequestHead {
        try RequestHead.parse(Array(text.utf8)[...])
    }

    @Test(arguments: [1, 2, 3, 7, 100])
    func theHeadEndsAtItsBlankLineHoweverTheBytesArrive(piece: Int) throws {
        let head = "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
        #expect(try Self.frame(head + "GET /next", piece: piece) == head.utf8.count)
        #expect(try Self.frame("GET / HTTP/1.1\nHost: x\n\nrest", piece: piece) == 24)  // bare line feeds
        #expect(try Self.frame("GET / HTTP/1.1\r\nHost: x\r\n", piece: piece) == nil)
    }

    @Test func emptyLinesBeforeTheRequestLineAreSkippedButCountAgainstTheHeadLimit() throws {
        #expect(try Self.frame("\r\n\r\nGET / HTTP/1.1\r\n\r\n", piece: 5) == 22)
        let refusal = Self.refusal { _ = try Self.frame(String(repeating: "\r\n", count: 40), piece: 8) }
        #expect(refusal?.status == .headerFieldsTooLarge)
    }

    @Test func aRequestLineOverItsLimitIs414BeforeItEnds() throws {
        // 25 bytes of request line and no line feed yet: refused without waiting for the rest;
        // 24 bytes and CRLF is within the limit.
        let refusal = Self.refusal { _ = try Self.frame("GET /" + String(repeating: "a", count: 20), piece: 5) }
        #expect(refusal == HTTPRefusal(.uriTooLong, "the request line is longer than 24 bytes"))
        #expect(try Self.frame("GET /" + String(repeating: "a", count: 10) + " HTTP/1.1\r\n\r\n", piece: 5) == 28)
    }

    @Test func aHeadOverItsByteLimitIs431WhileStillArriving() {
        let refusal = Self.refusal {
            _ = try Self.frame("GET / HTTP/1.1\r\nX: " + String(repeating: "v", count: 60), piece: 10)
        }
        #expect(refusal == HTTPRefusal(.headerFieldsTooLarge, "the request head is longer than 64 bytes"))
    }

    @Test func moreHeaderLinesThanTheLimitIs431() throws {
        #expect(try Self.frame("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", piece: 4) == 36)
        let refusal = Self.refusal {
            _ = try Self.frame("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n", piece: 4)
        }
        #expect(refusal == HTTPRefusal(.headerFieldsTooLarge, "the request has more than 3 header lines"))
    }

    @Test func aRequestIsParsedIntoMethodPathVersionAndTrimmedFields() throws {
        let head = try Self.parse(
            "POST /api/predict?x=1 HTTP/1.1\r\nHost: localhost\r\nContent-Type:  image/png \r\n"
                + "content-length: 12\r\n\r\n")
        #expect(head.method == "POST" && head.target == "/api/predict?x=1" && head.path == "/api/predict")
        #expect(head.minorVersion == 1 && head.framing == .length(12))
        #expect(head.field("CONTENT-TYPE") == "image/png")
        #expect(
            try Self.parse("GET http://localhost:8080/api/model?a HTTP/1.1\r\nHost: x\r\n\r\n").path == "/api/model")
        #expect(try Self.parse("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n").framing == .chunked)
        #expect(try Self.parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n").framing == .length(0))
    }

    @Test func keepAliveIsTheDefaultOfHTTP11AndOptInForHTTP10() throws {
        #expect(try Self.parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n").keepsAlive)
        #expect(try !Self.parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: Keep-Alive, Close\r\n\r\n").keepsAlive)
        #expect(try !Self.parse("GET / HTTP/1.0\r\n\r\n").keepsAlive)
        #expect(try Self.parse("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n").keepsAlive)
    }

    @Test func aContentLengthTooLongForAnIntIsKeptAsOverAnyLimit() throws {
        #expect(
            try Self.parse("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n").framing
                == .length(Int.max))
    }

    static let refused: [(String, HTTPStatus, String)] = [
        (
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", .badRequest,
            "both Content-Length"
        ),
        (
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", .badRequest,
            "one decimal number"
        ),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n", .badRequest, "one decimal number"),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\n", .badRequest, "one decimal number"),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", .notImplemented, "gzip is not supported"),
        ("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", .badRequest, "HTTP/1.0"),
        ("GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\t2\r\n\r\n", .badRequest, "obsolete line folding"),
        ("GET / HTTP/1.1\r\nHost : x\r\n\r\n", .badRequest, "not a header name"),
        ("GET / HTTP/1.1\r\nHost x\r\n\r\n", .badRequest, "no colon"),
        ("GET / HTTP/1.1\r\nHost: x\r\nX-A: a\u{0}b\r\n\r\n", .badRequest, "control byte"),
        ("GET / HTTP/1.1\r\n\r\n", .badRequest, "exactly one Host"),
        ("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", .badRequest, "exactly one Host"),
        ("GET / HTTP/2.0\r\nHost: x\r\n\r\n", .versionNotSupported, "HTTP/2.0 is not supported"),
        ("GET / HTTX/1.1\r\nHost: x\r\n\r\n", .badRequest, "not an HTTP version"),
        ("GET  / HTTP/1.1\r\nHost: x\r\n\r\n", .badRequest, "single spaces"),
        ("GET /a\rb HTTP/1.1\r\nHost: x\r\n\r\n", .badRequest, "control byte"),
        ("G(T / HTTP/1.1\r\nHost: x\r\n\r\n", .badRequest, "not a method name"),
        ("GET api HTTP/1.1\r\nHost: x\r\n\r\n", .badRequest, "must start with /"),
    ]

    @Test(arguments: refused)
    func headsThatALenientParserWouldGuessAtAreRefused(text: String, status: HTTPStatus, words: String) {
        let refusal = Self.refusal { _ = try Self.parse(text) }
        #expect(refusal?.status == status, "\(text.debugDescription)")
        #expect(refusal?.message.contains(words) == true, "\(refusal?.message ?? "accepted")")
    }

    @Test func chunkSizesAreHexadecimalWithExtensionsIgnored() throws {
        #expect(try RequestHead.chunkSize(Array("1a".utf8)[...]) == 26)
        #expect(try RequestHead.chunkSize(Array("FF;name=value".utf8)[...]) == 255)
        #expect(try RequestHead.chunkSize(Array(String(repeating: "f", count: 40).utf8)[...]) == Int.max)
        #expect(Self.refusal { _ = try RequestHead.chunkSize(Array("zz".utf8)[...]) }?.status == .badRequest)
        #expect(Self.refusal { _ = try RequestHead.chunkSize(Array("".utf8)[...]) }?.status == .badRequest)
    }
}
