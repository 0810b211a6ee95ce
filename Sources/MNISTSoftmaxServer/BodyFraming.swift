/// How the body of a request is delimited (RFC 9112 §6): by a byte count (0 when the request
/// has neither Content-Length nor Transfer-Encoding), or by chunks.
package enum BodyFraming: Equatable, Sendable {
    case length(Int)
    case chunked
}
