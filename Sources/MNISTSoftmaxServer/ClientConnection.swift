#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FlyingSocks
import FoundationEssentials

/// One client's connection: requests read one after another (pipelined ones too) and answered in
/// order, each within the deadlines of `HTTPLimits`, until the client or an answer closes it.
///
/// Memory: what is received and not yet consumed stays under the head limit plus one read
/// (64 KiB); a wanted body is held (up to `maximumBodyBytes`) only while it is handled, and an
/// unwanted one is dropped as it arrives.
final class ClientConnection {
    /// Serves `socket` until it closes, then closes it. The connection runs beside a watchdog; when
    /// the current deadline passes, the watchdog ends and the connection's task is cancelled.
    static func serve(
        _ socket: Socket, pool: any AsyncSocketPool, handler: any HTTPRequestHandler,
        limits: HTTPLimits, bodyTurns: AsyncSemaphore
    ) async {
        let watchdog = DeadlineWatchdog(timeout: limits.headTimeout)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                let connection = ClientConnection(
                    socket: socket, pool: pool, handler: handler, limits: limits,
                    bodyTurns: bodyTurns, watchdog: watchdog)
                await connection.run()
            }
            group.addTask { await watchdog.watch() }
            await group.next()
            group.cancelAll()
        }
        try? socket.close()
    }

    private enum Phase {
        /// Waiting for the first byte of a request.
        case idle
        /// Part of a head has arrived.
        case head
        /// Reading the body.
        case body
        /// Handling the request and sending the answer.
        case answering
        /// After a refusal, dropping what the client still sends.
        case lingering
    }

    private let socket: Socket
    private let pool: any AsyncSocketPool
    private let handler: any HTTPRequestHandler
    private let limits: HTTPLimits
    private let bodyTurns: AsyncSemaphore
    private let watchdog: DeadlineWatchdog
    /// Received and not yet consumed: the start of the next request, or of the rest of this one.
    private var received: [UInt8] = []
    private var phase = Phase.idle

    private static let readSize = 64 << 10

    private init(
        socket: Socket, pool: any AsyncSocketPool, handler: any HTTPRequestHandler, limits: HTTPLimits,
        bodyTurns: AsyncSemaphore, watchdog: DeadlineWatchdog
    ) {
        self.socket = socket
        self.pool = pool
        self.handler = handler
        self.limits = limits
        self.bodyTurns = bodyTurns
        self.watchdog = watchdog
    }

    private func run() async {
        do {
            while try await answerNextRequest() {}
        } catch let refusal as HTTPRefusal {
            await refuse(refusal)
        } catch {
            // The deadline passed (the watchdog cancelled this task), the client went away, or a
            // socket call failed. A client in the middle of sending a request learns why.
            if watchdog.hasExpired && (phase == .head || phase == .body) {
                let message =
                    phase == .head
                    ? "the request head did not arrive within \(limits.headTimeout)"
                    : "the request body did not arrive within \(limits.exchangeTimeout)"
                sendWithoutWaiting(HTTPResponse.error(.requestTimeout, message).serialized(keepAlive: false))
            }
        }
    }

    /// Reads one request, answers it and consumes it; false when the connection is to close.
    /// Throws `HTTPRefusal` for a request refused before it reached the handler.
    private func answerNextRequest() async throws -> Bool {
        watchdog.arm(limits.headTimeout)
        phase = received.isEmpty ? .idle : .head
        var framer = RequestHeadFramer(limits: limits)
        var headLength: Int
        while true {
            if let length = try framer.headLength(in: received) {
                headLength = length
                break
            }
            let chunk = try await receive()
            guard !chunk.isEmpty else {
                if received.isEmpty { return false }  // closed between requests
                throw HTTPRefusal(.badRequest, "the connection was closed in the middle of the request head")
            }
            received.append(contentsOf: chunk)
            phase = .head
        }
        let head = try RequestHead.parse(received[..<headLength])
        received.removeFirst(headLength)

        watchdog.arm(limits.exchangeTimeout)
        phase = .body
        let response: HTTPResponse
        if handler.wantsBody(head) {
            await bodyTurns.wait()
            do {
                let body = try await readBody(of: head, keeping: true)
                phase = .answering
                response = await handler.respond(to: head, body: body)
            } catch {
                await bodyTurns.signal()
                throw error
            }
            await bodyTurns.signal()
        } else {
            _ = try await readBody(of: head, keeping: false)
            phase = .answering
            response = await handler.respond(to: head, body: [])
        }
        try await send(response.serialized(keepAlive: head.keepsAlive, omitBody: head.method == "HEAD"))
        if let stream = response.stream, head.method != "HEAD" {
            // Each piece must leave within the exchange deadline of the one before; a client gone
            // away makes the next write fail, which ends the stream (and its subscription).
            for await piece in stream {
                watchdog.arm(limits.exchangeTimeout)
                try await send(piece)
            }
            return false
        }
        return head.keepsAlive && response.stream == nil
    }

    /// The body framed by `head`, or [] when not `keeping` it (its bytes are then dropped as they arrive).
    private func readBody(of head: RequestHead, keeping: Bool) async throws -> [UInt8] {
        let limit = limits.maximumBodyBytes
        var body: [UInt8] = []
        switch head.framing {
        case .length(let length):
            guard length <= limit else {
                throw HTTPRefusal(
                    .contentTooLarge,
                    "the request body has \(length) bytes, above the limit of \(limit) "
                        + "(\(limit >> 20) MiB); HINT: send a smaller image")
            }
            if length > 0 && head.expectsContinue { try await sendContinue() }
            if keeping { body.reserveCapacity(length) }
            try await take(length, into: &body, keeping: keeping)
        case .chunked:
            if head.expectsContinue { try await sendContinue() }
            var total = 0
            while true {
                let size = try RequestHead.chunkSize(
                    try await readLine(
                        maximum: limits.maximumChunkSizeLineBytes,
                        what: "chunk-size line")[...])
                if size == 0 { break }
                guard size <= limit - total else {
                    throw HTTPRefusal(
                        .contentTooLarge,
                        "the chunked request body is over the limit of \(limit) bytes "
                            + "(\(limit >> 20) MiB); HINT: send a smaller image")
                }
                total += size
                try await take(size, into: &body, keeping: keeping)
                guard try await readLine(maximum: 2, what: "line after chunk data").isEmpty else {
                    throw HTTPRefusal(.badRequest, "chunk data is longer than its chunk size")
                }
            }
            // Trailer fields are read and dropped, under the head's limits.
            var trailerLines = 0
            var trailerBytes = 0
            while true {
                let line = try await readLine(maximum: limits.maximumHeadBytes, what: "trailer line")
                if line.isEmpty { break }
                trailerLines += 1
                trailerBytes += line.count + 2
                guard trailerLines <= limits.maximumHeaderLines && trailerBytes <= limits.maximumHeadBytes else {
                    throw HTTPRefusal(
                        .headerFieldsTooLarge,
                        "the chunked body's trailer has more than "
                            + "\(limits.maximumHeaderLines) lines or \(limits.maximumHeadBytes) bytes")
                }
            }
        }
        return body
    }

    /// Consumes `count` bytes, appending them to `body` when `keeping`.
    private func take(_ count: Int, into body: inout [UInt8], keeping: Bool) async throws {
        let buffered = min(count, received.count)
        if keeping { body.append(contentsOf: received[..<buffered]) }
        received.removeFirst(buffered)
        var remaining = count - buffered
        while remaining > 0 {
            let chunk = try await receive()
            guard !chunk.isEmpty else {
                throw HTTPRefusal(
                    .badRequest, "the connection was closed \(remaining) bytes before the end of the request body")
            }
            let used = min(remaining, chunk.count)
            if keeping { body.append(contentsOf: chunk[..<used]) }
            received.append(contentsOf: chunk[used...])
            remaining -= used
        }
    }

    /// The next line, without its CRLF (or LF); refused when longer than `maximum` bytes.
    private func readLine(maximum: Int, what: String) async throws -> [UInt8] {
        var searched = 0
        while true {
            if let newline = received[searched...].firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(received[..<newline])
                received.removeFirst(newline + 1)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                guard line.count <= maximum else {
                    throw HTTPRefusal(.badRequest, "a \(what) is longer than \(maximum) bytes")
                }
                return line
            }
            searched = received.count
            guard received.count <= maximum + 1 else {
                throw HTTPRefusal(.badRequest, "a \(what) is longer than \(maximum) bytes")
            }
            let chunk = try await receive()
            guard !chunk.isEmpty else {
                throw HTTPRefusal(.badRequest, "the connection was closed in the middle of the chunked request body")
            }
            received.append(contentsOf: chunk)
        }
    }

    /// Answers a refused request with "Connection: close", then reads and drops what the client
    /// still sends for `lingerTimeout` (or until it closes), so that it reads the answer rather than
    /// a reset: closing a socket with unread bytes resets the connection.
    private func refuse(_ refusal: HTTPRefusal) async {
        try? await send(HTTPResponse.error(refusal.status, refusal.message).serialized(keepAlive: false))
        _ = shutdown(socket.file.rawValue, Int32(SHUT_WR))
        phase = .lingering
        watchdog.arm(limits.lingerTimeout)
        while let chunk = try? await receive(), !chunk.isEmpty {}
    }

    private func sendContinue() async throws {
        try await send(HTTPResponse(.continue).serializedInterim())
    }

    /// The next bytes from the client, at most 64 KiB; [] when it has closed its side.
    private func receive() async throws -> [UInt8] {
        while true {
            try Task.checkCancellation()
            do {
                return try socket.read(atMost: Self.readSize)
            } catch SocketError.blocked {
                try await pool.suspendSocket(socket, untilReadyFor: .read)
            } catch SocketError.disconnected {
                return []
            }
        }
    }

    private func send(_ data: Data) async throws {
        var sent = data.startIndex
        while sent < data.endIndex {
            try Task.checkCancellation()
            do {
                sent = try socket.write(data, from: sent)
            } catch SocketError.blocked {
                try await pool.suspendSocket(socket, untilReadyFor: .write)
            }
        }
    }

    /// Writes what the socket takes now, without waiting: for a last word to a client that may not read.
    private func sendWithoutWaiting(_ data: Data) {
        _ = try? socket.write(data)
    }
}
