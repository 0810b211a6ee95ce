#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Threads for training, outside Swift's concurrency pool and below the server's priority: on
/// Linux each runs at nice 19, so that when a request arrives, the scheduler gives its thread the
/// core (CFS weighs a nice-0 thread about 70 times a nice-19 one). Training then takes what the
/// server leaves, and GET / and POST /api/predict keep answering during a race on two cores.
enum BackgroundThread {
    /// The nice value of training threads: the lowest priority.
    static let niceness: Int32 = 19

    /// Starts `body` on a new thread of low priority.
    static func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            lowerPriority()
            body()
        }
        thread.name = name
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Lowers the calling thread's priority. On Linux the nice value belongs to each thread, and
    /// setpriority(PRIO_PROCESS, 0, n) sets the calling thread's (man 2 setpriority, NOTES);
    /// elsewhere the thread's QoS is lowered.
    private static func lowerPriority() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
        #else
        Thread.current.qualityOfService = .background
        #endif
    }

    /// Runs `body` on a new low-priority thread and waits for its result without holding a
    /// thread of Swift's pool: for work that blocks, such as reading and decompressing files.
    static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            start(name: name) { continuation.resume(with: Result { try body() }) }
        }
    }
}
