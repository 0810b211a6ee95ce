import Foundation

/// The deadline of a connection's current phase, which the connection moves with `arm`, later or
/// earlier. `watch` returns once the deadline has passed (it looks every `granularity`, so that an
/// earlier deadline is seen in time), or when its task is cancelled.
final class DeadlineWatchdog: @unchecked Sendable {
    private let lock = NSLock()
    private var deadline: ContinuousClock.Instant
    private var expired = false
    private static let granularity = Duration.milliseconds(250)

    /// Armed with `timeout` from now.
    init(timeout: Duration) { deadline = .now + timeout }

    /// True once `watch` has seen the deadline pass.
    var hasExpired: Bool { lock.withLock { expired } }

    /// Sets the deadline to `timeout` from now.
    func arm(_ timeout: Duration) {
        lock.withLock { deadline = .now + timeout }
    }

    func watch() async {
        while true {
            let current = lock.withLock { deadline }
            if ContinuousClock.now >= current {
                lock.withLock { expired = true }
                return
            }
            do {
                try await Task.sleep(until: min(current, .now + Self.granularity), clock: .continuous)
            } catch {
                return
            }
        }
    }
}
