import FoundationEssentials

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
