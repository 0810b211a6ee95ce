import FlyingFox
import FlyingSocks
import Foundation

extension DigitServer {
    /// The socket address for `host` (an IPv4 or IPv6 literal, brackets allowed, or "localhost"
    /// for 127.0.0.1) and `port`, or nil when `host` is neither.
    static func socketAddress(host: String, port: UInt16) -> (any SocketAddress)? {
        let literal = host == "localhost" ? "127.0.0.1" : host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return literal.contains(":") ? try? sockaddr_in6.inet6(ip6: literal, port: port)
                                     : try? sockaddr_in.inet(ip4: literal, port: port)
    }

    /// True when `serve(host:…)` can listen on `host`: an IPv4 or IPv6 address, or localhost.
    public static func isValidHost(_ host: String) -> Bool {
        socketAddress(host: host, port: 0) != nil
    }

    /// Listens on `host`:`port` (0: any free port) and serves until `stopRequested` turns true,
    /// which is polled every 50 ms; then closes the listening socket and gives open connections up
    /// to a second to finish. `listening` is called once with the URL, such as
    /// "http://127.0.0.1:8080/", when the socket is bound. Throws `ServeError` when the server
    /// cannot listen (the port is taken, the address is not this machine's) or fails.
    public func serve(host: String, port: UInt16, listening: @escaping @Sendable (String) -> Void,
                      stopRequested: @escaping @Sendable () -> Bool) async throws {
        guard let address = Self.socketAddress(host: host, port: port) else {
            throw ServeError(address: "\(host):\(port)", problem: "not an IPv4 or IPv6 address")
        }
        let server = HTTPServer(config: .init(address: address, logger: DisabledLogger.disabled), handler: self)
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                group.addTask {
                    try await server.waitUntilListening(timeout: 30)
                    if let bound = await server.listeningAddress { listening(Self.url(of: bound)) }
                    while !stopRequested() { try await Task.sleep(for: .milliseconds(50)) }
                }
                // The first to finish: the stop watcher, or the server failing to start.
                try await group.next()
                group.cancelAll()
                await server.stop(timeout: 1)
            }
        } catch {
            throw ServeError(address: "\(host):\(port)", problem: "\(error)")
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

/// The server could not listen, or stopped on an error.
public struct ServeError: Error, CustomStringConvertible {
    /// host:port as given.
    public let address: String
    public let problem: String

    public var description: String {
        "cannot serve on \(address): \(problem)"
            + "\nHINT: if the port is taken, choose another with --port, or --port 0 for any free one"
    }
}
