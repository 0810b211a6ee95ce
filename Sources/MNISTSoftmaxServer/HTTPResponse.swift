import Foundation

/// An answer: a status, header fields, and a body sent with its Content-Length.
struct HTTPResponse: Sendable {
    var status: HTTPStatus
    var fields: [HeaderField]
    var body: Data

    init(_ status: HTTPStatus, fields: [HeaderField] = [], body: Data = Data()) {
        self.status = status
        self.fields = fields
        self.body = body
    }

    /// `body` as application/json.
    static func json(_ status: HTTPStatus, _ body: Data) -> HTTPResponse {
        HTTPResponse(status, fields: [HeaderField(name: "Content-Type", value: "application/json")], body: body)
    }

    /// `value` encoded as the server's JSON (`ServerJSON`).
    static func json(_ status: HTTPStatus, encoding value: some Encodable) -> HTTPResponse {
        do {
            return json(status, try ServerJSON.encoder.encode(value))
        } catch {
            return .error(.internalServerError, "cannot encode the answer: \(error)")
        }
    }

    /// {"error": message}, with `status`.
    static func error(_ status: HTTPStatus, _ message: String) -> HTTPResponse {
        json(status, (try? ServerJSON.encoder.encode(ErrorResponse(error: message))) ?? Data())
    }

    /// The bytes on the wire: status line, fields, Content-Length, "Connection: close" unless
    /// `keepAlive`, and the body unless `omitBody` (the answer to HEAD).
    func serialized(keepAlive: Bool, omitBody: Bool = false) -> Data {
        var head = "HTTP/1.1 \(status.code) \(status.reason)\r\n"
        for field in fields { head += "\(field.name): \(field.value)\r\n" }
        head += "Content-Length: \(body.count)\r\n"
        if !keepAlive { head += "Connection: close\r\n" }
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
