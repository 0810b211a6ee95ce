import FoundationEssentials
import MNISTSoftmax

/// An answer: a status, header fields, and a body sent with its Content-Length, or a stream of
/// bytes sent as they come, the connection closing at its end (Server-Sent Events).
struct HTTPResponse: Sendable {
    var status: HTTPStatus
    var fields: [HeaderField]
    var body: Data
    /// When set, the body: sent piece by piece until the stream ends, without Content-Length.
    var stream: AsyncStream<Data>?

    init(_ status: HTTPStatus, fields: [HeaderField] = [], body: Data = Data()) {
        self.status = status
        self.fields = fields
        self.body = body
    }

    /// A 200 streaming `events` as text/event-stream.
    static func eventStream(_ events: AsyncStream<Data>) -> HTTPResponse {
        var response = HTTPResponse(
            .ok,
            fields: [
                HeaderField(name: "Content-Type", value: "text/event-stream"),
                HeaderField(name: "Cache-Control", value: "no-cache"),
            ])
        response.stream = events
        return response
    }

    /// `body` as application/json.
    static func json(_ status: HTTPStatus, _ body: Data) -> HTTPResponse {
        HTTPResponse(status, fields: [HeaderField(name: "Content-Type", value: "application/json")], body: body)
    }

    /// `value` encoded as the server's JSON (`JSONCoding`).
    static func json(_ status: HTTPStatus, encoding value: some Encodable) -> HTTPResponse {
        do {
            return json(status, try JSONCoding.encoder.encode(value))
        } catch {
            return .error(.internalServerError, "cannot encode the answer: \(error)")
        }
    }

    /// {"error": message}, with `status`.
    static func error(_ status: HTTPStatus, _ message: String) -> HTTPResponse {
        json(status, (try? JSONCoding.encoder.encode(ErrorResponse(error: message))) ?? Data())
    }

    /// The bytes on the wire: status line, fields, Content-Length (none for a stream, whose end
    /// is the connection's), "Connection: close" unless `keepAlive` (always for a stream), and the
    /// body unless `omitBody` (the answer to HEAD).
    func serialized(keepAlive: Bool, omitBody: Bool = false) -> Data {
        var head = "HTTP/1.1 \(status.code) \(status.reason)\r\n"
        for field in fields { head += "\(field.name): \(field.value)\r\n" }
        if stream == nil { head += "Content-Length: \(body.count)\r\n" }
        if !keepAlive || stream != nil { head += "Connection: close\r\n" }
        head += "\r\n"
        var bytes = Data(head.utf8)
        if !omitBody { bytes.append(body) }
        return bytes
    }

    /// An interim answer (100 Continue): the status line alone.
    func serializedInterim() -> Data {
        Data("HTTP/1.1 \(status.code) \(status.reason)\r\n\r\n".utf8)
    }
}
