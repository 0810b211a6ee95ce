/// What serves requests: routes a head, then answers it with its body.
protocol HTTPRequestHandler: Sendable {
    /// Whether the body of a request with this head is wanted. A wanted body is read whole (up to
    /// `HTTPLimits.maximumBodyBytes`) while holding one of `HTTPLimits.concurrentBodyLimit`
    /// turns, which `respond` also holds; an unwanted body is read and dropped.
    func wantsBody(_ head: RequestHead) -> Bool
    /// The answer to a request; `body` is empty when it was not wanted.
    func respond(to head: RequestHead, body: [UInt8]) async -> HTTPResponse
}
