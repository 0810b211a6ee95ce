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
