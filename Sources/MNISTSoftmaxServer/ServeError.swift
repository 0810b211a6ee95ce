/// The server could not listen, or stopped on an error. It says what went wrong in the server's
/// terms; the command line adds which flag to change.
public struct ServeError: Error, CustomStringConvertible {
    /// host:port as given.
    public let address: String
    public let problem: String
    /// True when another socket holds the address (EADDRINUSE): another port would do.
    public let addressInUse: Bool

    public var description: String { "cannot serve on \(address): \(problem)" }
}
