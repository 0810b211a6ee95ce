#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FlyingSocks
import FoundationEssentials

extension DigitServer {
    /// The socket address for `host` (an IPv4 or IPv6 literal, brackets allowed, or "localhost"
    /// for 127.0.0.1) and `port`, or nil when `host` is neither.
    static func socketAddress(host: String, port: UInt16) -> (any SocketAddress)? {
        let literal = host == "localhost" ? "127.0.0.1" : host.trimming { $0 == "[" || $0 == "]" }
        return literal.contains(":")
            ? try? sockaddr_in6.inet6(ip6: literal, port: port)
            : try? sockaddr_in.inet(ip4: literal, port: port)
    }

    /// True when `serve(host:…)` can listen on `host`: an IPv4 or IPv6 address, or localhost.
    public static func isValidHost(_ host: String) -> Bool {
        socketAddress(host: host, port: 0) != nil
    }

    /// Listens on `host`:`port` (0: any free port) and serves until `stopRequested` turns true,
    /// which is polled every 50 ms; then stops accepting and closes every connection, answered or
    /// not. `listening` is called once with the URL, such as "http://127.0.0.1:8080/", when the
    /// socket is bound. Throws `ServeError` when the server cannot listen (the port is taken, the
    /// address is not this machine's) or fails.
    public func serve(
        host: String, port: UInt16, listening: @escaping @Sendable (String) -> Void,
        stopRequested: @escaping @Sendable () -> Bool
    ) async throws {
        try await serve(
            host: host, port: port, limits: HTTPLimits(), listening: listening, stopRequested: stopRequested)
    }

    func serve(
        host: String, port: UInt16, limits: HTTPLimits, listening: @escaping @Sendable (String) -> Void,
        stopRequested: @escaping @Sendable () -> Bool
    ) async throws {
        guard let address = Self.socketAddress(host: host, port: port) else {
            throw ServeError(address: "\(host):\(port)", problem: "not an IPv4 or IPv6 address", addressInUse: false)
        }
        do {
            let pool = Self.makePool()
            try await pool.prepare()
            let listener = try Socket(domain: Int32(type(of: address).family))
            defer { try? listener.close() }
            try listener.setValue(true, for: .localAddressReuse)
            try listener.bind(to: address)
            try listener.listen()
            listening(Self.url(of: try listener.sockname()))
            let acceptor = try AsyncSocket(socket: listener, pool: pool)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await pool.run() }
                group.addTask { try await self.acceptConnections(on: acceptor, pool: pool, limits: limits) }
                group.addTask { while !stopRequested() { try await Task.sleep(for: .milliseconds(50)) } }
                // The first to finish: the stop watcher, or the pool or the accept loop failing.
                try await group.next()
                group.cancelAll()
            }
        } catch {
            let inUse = if case SocketError.failed(_, EADDRINUSE, _) = error { true } else { false }
            throw ServeError(address: "\(host):\(port)", problem: "\(error)", addressInUse: inUse)
        }
    }

    /// epoll on Linux, kqueue on macOS.
    private static func makePool() -> some AsyncSocketPool { .make() }

    /// Accepts clients while fewer than `limits.maximumConnections` are open, each served in a
    /// task of its own. A failed accept (out of file descriptors, a client gone before it was
    /// accepted) is retried after 100 ms rather than ending the server.
    private func acceptConnections(on acceptor: AsyncSocket, pool: some AsyncSocketPool, limits: HTTPLimits)
        async throws
    {
        let connectionSlots = AsyncSemaphore(permits: limits.maximumConnections)
        let bodyTurns = AsyncSemaphore(permits: limits.concurrentBodyLimit)
        try await withThrowingDiscardingTaskGroup { group in
            while true {
                try Task.checkCancellation()
                await connectionSlots.wait()
                let client: AsyncSocket
                do {
                    client = try await acceptor.accept()
                } catch let failure as SocketError where failure != .disconnected {
                    await connectionSlots.signal()
                    try await Task.sleep(for: .milliseconds(100))
                    continue
                }
                group.addTask {
                    await ClientConnection.serve(
                        client.socket, pool: pool, handler: self, limits: limits, bodyTurns: bodyTurns)
                    await connectionSlots.signal()
                }
            }
        }
    }

    /// "http://127.0.0.1:8080/", with an IPv6 address in brackets.
    static func url(of address: Socket.Address) -> String {
        switch address {
        case .ip4(let ip, let port): "http://\(ip):\(port)/"
        case .ip6(let ip, let port): "http://[\(ip)]:\(port)/"
        case .unix(let path): "unix:\(path)"
        }
    }
}
