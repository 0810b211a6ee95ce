#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// A fixed set of threads that run numbered shards of work in lockstep.
///
/// `run { shard in … }` executes the closure for shards 0..<threadCount, shard 0 on the calling
/// thread, and returns when every shard has finished. The threads live as long as the pool, and
/// a waiting thread spins briefly before it yields and then sleeps, so a step of a few
/// microseconds (one minibatch) is not eaten by synchronisation: publishing a step is one atomic
/// increment, and finishing it one more per worker.
package final class ShardPool: @unchecked Sendable {
    package let threadCount: Int
    /// Bumped by `run` to publish a step; workers run each generation once.
    private let generation = Atomic<Int>(0)
    /// Workers that finished the current step.
    private let finished = Atomic<Int>(0)
    /// Workers that have exited (after `deinit` asks them to).
    private let exited = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    /// Shards waiting at the current `barrier`, and how many barriers have opened.
    private let arrivedAtBarrier = Atomic<Int>(0)
    private let barriersOpened = Atomic<Int>(0)
    /// The current step's work. Written by `run` before the release of `generation` and read by
    /// workers after acquiring it, so the accesses are ordered.
    private var step: ((Int) -> Void)?

    /// A pool of `threadCount` ≥ 1 shards: the caller plus `threadCount − 1` worker threads.
    package init(threadCount: Int) {
        precondition(threadCount >= 1, "a pool needs at least one thread")
        self.threadCount = threadCount
        for shard in 1 ..< threadCount {
            let thread = Thread { [unowned(unsafe) self] in self.work(shard: shard) }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    deinit {
        stopping.store(true, ordering: .releasing)
        generation.add(1, ordering: .releasing)
        Self.wait { exited.load(ordering: .acquiring) == threadCount - 1 }
    }

    /// Runs `body(shard)` for every shard in 0..<threadCount and returns when all are done.
    package func run(_ body: (Int) -> Void) {
        guard threadCount > 1 else { return body(0) }
        withoutActuallyEscaping(body) { body in
            step = body
            finished.store(0, ordering: .relaxed)
            generation.add(1, ordering: .releasing)
            body(0)
            Self.wait { finished.load(ordering: .acquiring) == threadCount - 1 }
            step = nil
        }
    }

    /// Inside `run`: returns once every shard has called it. Everything a shard wrote before its
    /// call is visible to every shard after the barrier opens (the counter is released by each
    /// arrival and acquired by each waiter). Every shard must call it the same number of times.
    package func barrier() {
        guard threadCount > 1 else { return }
        let opened = barriersOpened.load(ordering: .acquiring)
        if arrivedAtBarrier.add(1, ordering: .acquiringAndReleasing).newValue == threadCount {
            // The last to arrive resets the count before opening, so a shard that hurries on to
            // the next barrier counts from zero.
            arrivedAtBarrier.store(0, ordering: .relaxed)
            barriersOpened.add(1, ordering: .releasing)
        } else {
            Self.wait { barriersOpened.load(ordering: .acquiring) != opened }
        }
    }

    private func work(shard: Int) {
        var seen = 0
        while true {
            Self.wait { generation.load(ordering: .acquiring) != seen }
            seen += 1
            if stopping.load(ordering: .acquiring) {
                exited.add(1, ordering: .releasing)
                return
            }
            step?(shard)
            finished.add(1, ordering: .releasing)
        }
    }

    /// Spins for up to 200 µs, then yields the core until 5 ms have passed, then sleeps in 50 µs
    /// naps until `condition` holds. A batch's wait (microseconds) ends while spinning, with no
    /// wake-up delay; a longer one (evaluation, saving) gives the core away, and with more
    /// threads than free cores the yields let the others run.
    private static func wait(until condition: () -> Bool) {
        guard !condition() else { return }
        let started = monotonicNanoseconds()
        var attempts = 0
        while !condition() {
            attempts += 1
            // Reading the clock costs about 20 ns: do it once per 256 checks while spinning.
            guard attempts & 255 == 0 else { continue }
            let waited = monotonicNanoseconds() - started
            if waited > 5_000_000 {
                usleep(50)
            } else if waited > 200_000 {
                sched_yield()
            }
        }
    }

    /// CLOCK_MONOTONIC in nanoseconds.
    private static func monotonicNanoseconds() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return time.tv_sec * 1_000_000_000 + time.tv_nsec
    }
}

extension ShardPool {
    /// The shard of `count` items that `shard` of `shardCount` takes: contiguous, in order, with
    /// sizes that differ by at most one.
    package static func range(ofShard shard: Int, of shardCount: Int, count: Int) -> Range<Int> {
        (count * shard / shardCount) ..< (count * (shard + 1) / shardCount)
    }
}
