#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A fixed set of threads that run one closure together, in lockstep: every participant runs it
/// with its own thread number, and they meet at barriers inside it.
///
/// `run(participants: n) { thread in … }` executes the closure for threads 0..<n (n ≤
/// `threadCount`), thread 0 on the calling thread, and returns when every one has finished; the
/// other threads of the pool sit it out. Publishing a step is one atomic increment, finishing it
/// one more per worker, and `barrier()` one per participant.
///
/// Waiting: a thread spins for at most `spinNanoseconds` (a minibatch's barrier normally opens
/// within a few microseconds, and a wake-up from sleep costs tens), then sleeps on a condition
/// variable until the state it waits for changes. A waiting thread therefore never holds a core
/// that another process, or the thread it waits for, needs. (Before, waiters spun, then yielded,
/// for up to 5 ms: two processes training at once, or the test runner's parallel suites, took
/// 3–5 times as long as they should.)
package final class LockstepPool: @unchecked Sendable {
    package let threadCount: Int
    /// Bumped by `run` to publish a step; workers run each generation once.
    private let generation = Atomic<Int>(0)
    /// Workers that finished the current step (participants or not).
    private let finished = Atomic<Int>(0)
    /// Workers that have exited (after `deinit` asks them to).
    private let exited = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    /// Threads waiting at the current `barrier`, and how many barriers have opened.
    private let arrivedAtBarrier = Atomic<Int>(0)
    private let barriersOpened = Atomic<Int>(0)
    /// Threads asleep in `wait`, or about to be: a change of state wakes them only when this is
    /// not 0, so that the common case (nobody asleep) costs no lock.
    private let sleepers = Atomic<Int>(0)
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    /// The current step's work and how many threads take part. Written by `run` before the
    /// release of `generation` and read by workers after acquiring it, so the accesses are ordered.
    private var step: ((Int) -> Void)?
    private var participants = 1
    /// Per thread, nanoseconds spent waiting at barriers since the pool was made, one 64-byte
    /// line each (8 Ints apart) so that the threads' counters share no cache line.
    private let waited: UnsafeMutablePointer<Int>

    /// How long a waiting thread spins before it sleeps.
    static var spinNanoseconds: Int { 50_000 }

    /// A pool of `threadCount` ≥ 1 threads: the caller plus `threadCount − 1` worker threads.
    package init(threadCount: Int) {
        precondition(threadCount >= 1, "a pool needs at least one thread")
        self.threadCount = threadCount
        waited = .allocate(capacity: threadCount * 8)
        waited.initialize(repeating: 0, count: threadCount * 8)
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        for worker in 1 ..< threadCount {
            Self.startThread { [unowned(unsafe) self] in self.work(as: worker) }
        }
    }

    /// Starts a detached POSIX thread with a 1 MiB stack that runs `body`.
    private static func startThread(_ body: @escaping () -> Void) {
        final class Box {
            let body: () -> Void
            init(_ body: @escaping () -> Void) { self.body = body }
        }
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, 1 << 20)
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let context = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(
            &thread, &attributes,
            { context in
                Unmanaged<Box>.fromOpaque(context!).takeRetainedValue().body()
                return nil
            }, context)
        precondition(status == 0, "cannot start a worker thread: \(String(cString: strerror(status)))")
    }

    deinit {
        stopping.store(true, ordering: .sequentiallyConsistent)
        generation.add(1, ordering: .sequentiallyConsistent)
        wakeSleepers()
        wait { exited.load(ordering: .sequentiallyConsistent) == threadCount - 1 }
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
        waited.deallocate()
    }

    /// Runs `body(thread)` for every thread in 0..<participants (1 ≤ participants ≤
    /// `threadCount`) and returns when all are done.
    package func run(participants: Int, _ body: (Int) -> Void) {
        precondition(participants >= 1 && participants <= threadCount, "participants out of range")
        guard threadCount > 1 else { return body(0) }
        withoutActuallyEscaping(body) { body in
            step = body
            self.participants = participants
            finished.store(0, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            wakeSleepers()
            body(0)
            wait { finished.load(ordering: .sequentiallyConsistent) == threadCount - 1 }
            step = nil
        }
    }

    /// Inside `run`: returns once every participant has called it. Everything a thread wrote
    /// before its call is visible to every participant after the barrier opens (the counter is
    /// released by each arrival and acquired by each waiter). Every participant must call it the
    /// same number of times.
    package func barrier(thread: Int) {
        guard participants > 1 else { return }
        let opened = barriersOpened.load(ordering: .acquiring)
        if arrivedAtBarrier.add(1, ordering: .acquiringAndReleasing).newValue == participants {
            // The last to arrive resets the count before opening, so a thread that hurries on to
            // the next barrier counts from zero.
            arrivedAtBarrier.store(0, ordering: .relaxed)
            barriersOpened.add(1, ordering: .sequentiallyConsistent)
            wakeSleepers()
        } else {
            wait(thread: thread) { barriersOpened.load(ordering: .sequentiallyConsistent) != opened }
        }
    }

    /// Inside `run`: returns once `isDone` holds (a barrier's opening, or a state another
    /// participant changes), spinning briefly, then asleep; the wait counts as `thread`'s barrier
    /// wait. `isDone` must read with sequentially consistent loads, and the participant that
    /// makes it true must write with a sequentially consistent store, then call `announceChange`.
    package func wait(thread: Int, until isDone: () -> Bool) {
        guard !isDone() else { return }
        let started = Self.monotonicNanoseconds()
        wait(until: isDone)
        waited[thread * 8] += Self.monotonicNanoseconds() - started
    }

    /// Wakes the participants asleep in `wait(thread:until:)`, after a sequentially consistent
    /// store that may end their wait.
    package func announceChange() {
        wakeSleepers()
    }

    /// Nanoseconds that all threads together have spent waiting in `barrier` and
    /// `wait(thread:until:)` since the pool was made: the cost of running them in lockstep. Read
    /// it between runs.
    package var barrierWaitNanoseconds: Int {
        (0 ..< threadCount).reduce(0) { $0 + waited[$1 * 8] }
    }

    private func work(as worker: Int) {
        var seen = 0
        while true {
            wait { generation.load(ordering: .sequentiallyConsistent) != seen }
            seen += 1
            if stopping.load(ordering: .acquiring) {
                exited.add(1, ordering: .sequentiallyConsistent)
                wakeSleepers()
                return
            }
            if worker < participants { step?(worker) }
            finished.add(1, ordering: .sequentiallyConsistent)
            wakeSleepers()
        }
    }

    /// Returns when `isDone` holds: spins for up to `spinNanoseconds`, then sleeps until a change
    /// of state (`wakeSleepers`). `isDone` must read with sequentially consistent loads, and every
    /// change it waits for must be a sequentially consistent write followed by `wakeSleepers()`:
    /// then either the waiter sees the change before it sleeps, or the writer sees the waiter in
    /// `sleepers` and wakes it (the mutex closes the gap between that check and the sleep).
    private func wait(until isDone: () -> Bool) {
        guard !isDone() else { return }
        let started = Self.monotonicNanoseconds()
        var attempts = 0
        while !isDone() {
            attempts += 1
            // Reading the clock costs about 20 ns: do it once per 256 checks.
            guard attempts & 255 == 0 else { continue }
            if Self.monotonicNanoseconds() - started > Self.spinNanoseconds {
                pthread_mutex_lock(mutex)
                sleepers.add(1, ordering: .sequentiallyConsistent)
                while !isDone() { pthread_cond_wait(condition, mutex) }
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                pthread_mutex_unlock(mutex)
                return
            }
        }
    }

    /// Wakes every sleeping waiter, if there is one, after a change of state.
    private func wakeSleepers() {
        guard sleepers.load(ordering: .sequentiallyConsistent) > 0 else { return }
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// CLOCK_MONOTONIC in nanoseconds.
    private static func monotonicNanoseconds() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return time.tv_sec * 1_000_000_000 + time.tv_nsec
    }
}

/// Part `part` of `count` items split into `parts` contiguous runs, in order, whose sizes differ
/// by at most one, the larger ones first: ⌈count · part / parts⌉ ..< ⌈count · (part + 1) / parts⌉.
func contiguousPart(_ part: Int, of parts: Int, splitting count: Int) -> Range<Int> {
    (count * part + parts - 1) / parts ..< (count * (part + 1) + parts - 1) / parts
}
