#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import MNISTSoftmax

/// Threads for training, outside Swift's concurrency pool and below the server's priority: on
/// Linux each runs at nice 19, so that when a request arrives, the scheduler gives its thread the
/// core (CFS weighs a nice-0 thread about 70 times a nice-19 one). Training then takes what the
/// server leaves, and GET / and POST /api/predict keep answering during a race on two cores.
enum BackgroundThread {
    /// The nice value of training threads: the lowest priority.
    static let niceness: Int32 = 19
    /// The stack of each thread: 1 MiB.
    static let stackSize = 1 << 20

    /// Starts `body` on a new detached POSIX thread of low priority; returns false, and `body`
    /// does not run, when no thread can be created (the process is out of threads or memory).
    static func start(_ body: @escaping @Sendable () -> Void) -> Bool {
        DetachedThread.start(named: "training", stackSize: stackSize) {
            // Named in full: Swift 6.3.1's region analysis crashes on the implicit `Self`.
            BackgroundThread.lowerPriority()
            body()
        }
    }

    /// Why `run` could not run its body.
    struct Unavailable: Error, CustomStringConvertible {
        var description: String { "cannot start a thread (the process is out of threads or memory)" }
    }

    /// Lowers the calling thread's priority. On Linux the nice value belongs to each thread, and
    /// setpriority(PRIO_PROCESS, 0, n) sets the calling thread's (man 2 setpriority, NOTES);
    /// elsewhere the thread's QoS class is lowered to background.
    private static func lowerPriority() {
        #if os(Linux)
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
        #else
        _ = pthread_set_qos_class_self_np(QOS_CLASS_BACKGROUND, 0)
        #endif
    }

    /// Runs `body` on a new low-priority thread and waits for its result without holding a
    /// thread of Swift's pool: for work that blocks, such as reading and decompressing files.
    /// Throws `Unavailable` when no thread can be created.
    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let started = start { continuation.resume(with: Result { try body() }) }
            if !started { continuation.resume(throwing: Unavailable()) }
        }
    }

    /// Blocks the calling thread for `duration` (nanosleep, resumed after a signal until the whole
    /// duration has passed); a zero or negative duration returns at once.
    static func sleep(for duration: Duration) {
        let (seconds, attoseconds) = duration.components
        guard seconds > 0 || (seconds == 0 && attoseconds > 0) else { return }
        var request = timespec(tv_sec: Int(seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        var remaining = timespec()
        while nanosleep(&request, &remaining) == -1 && errno == EINTR { request = remaining }
    }
}
