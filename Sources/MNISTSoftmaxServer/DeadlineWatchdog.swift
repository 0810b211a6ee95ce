import Synchronization

/// The deadline of a connection's current phase, which the connection moves with `arm`, later or
/// earlier. `watch` returns once the deadline has passed (it looks every `granularity`, so that an
/// earlier deadline is seen in time), or when its task is cancelled.
final class DeadlineWatchdog: Sendable {
    private let deadline: Mutex<ContinuousClock.Instant>
    private let expired = Atomic<Bool>(false)
    private static let granularity = Duration.milliseconds(250)

    /// Armed with `timeout` from now.
    init(timeout: Duration) { deadline = Mutex(.now + timeout) }

    /// True once `watch` has seen the deadline pass.
    var hasExpired: Bool { expired.load(ordering: .acquiring) }

    /// Sets the deadline to `timeout` from now.
    func arm(_ timeout: Duration) {
        deadline.withLock { $0 = .now + timeout }
    }

    func watch() async {
        while true {
            let current = deadline.withLock { $0 }
            if ContinuousClock.now >= current {
                expired.store(true, ordering: .releasing)
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
