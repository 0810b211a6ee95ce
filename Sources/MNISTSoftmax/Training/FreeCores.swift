#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FoundationEssentials

/// How many threads a training pass should use so that it does not fight other processes for
/// cores: the cores that other processes leave free, rounded to the nearest whole core, at
/// least 1 and at most the caller's maximum.
///
/// The kernels run their threads in lockstep, two barriers per block of samples: when one of
/// them loses its core to another process for a scheduler time slice (milliseconds), the others
/// can take over the tasks it has not started, but not the one it is in, nor its share of the
/// block's logits, and wait for it at the next barrier. So with a core busy, two threads are slower than one. (Measured on AMD EPYC Zen 3,
/// 2 cores: see docs/performance.md.) Because the results do not depend on the thread count,
/// the count may change from one pass to the next.
///
/// Linux: from /proc/stat, the busy time of all cores minus this process's own CPU time, over
/// the wall time since the last reading (at least `window`); before there is such a window, from
/// the number of runnable threads in /proc/loadavg, less the one reading it. Elsewhere, or when
/// those files cannot be read, the maximum.
struct FreeCores {
    /// The shortest interval a reading of /proc/stat is trusted over: its counters tick 100 times
    /// a second.
    static let window = 100_000_000
    private var last: Reading?
    private var decided: Int?
    private let cores = ProcessInfo.processInfo.activeProcessorCount

    /// A point in time: CPU time the machine spent busy and this process used, in nanoseconds.
    private struct Reading {
        let wall: Int
        let machineBusy: Int
        let ownCPU: Int
    }

    init() {
        last = Self.read()
    }

    /// The thread count for the next pass, in 1...maximum.
    mutating func threads(atMost maximum: Int) -> Int {
        guard maximum > 1 else { return 1 }
        if let previous = last, let now = Self.read(), now.wall - previous.wall >= Self.window {
            let others =
                Double(now.machineBusy - previous.machineBusy - (now.ownCPU - previous.ownCPU))
                / Double(now.wall - previous.wall)
            decided = Self.threads(freeCores: Double(cores) - others, atMost: maximum)
            last = now
        } else if decided == nil {
            decided =
                Self.runnableOthers().map { Self.threads(freeCores: Double(cores - $0), atMost: maximum) } ?? maximum
        }
        return min(decided ?? maximum, maximum)
    }

    /// freeCores rounded to the nearest integer, clamped to 1...maximum.
    static func threads(freeCores: Double, atMost maximum: Int) -> Int {
        guard freeCores.isFinite else { return maximum }
        return max(1, min(maximum, Int((freeCores + 0.5).rounded(.down))))
    }

    private static func read() -> Reading? {
        #if os(Linux)
        guard let stat = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = stat.split(separator: "\n").first, line.hasPrefix("cpu ")
        else { return nil }
        // cpu user nice system idle iowait irq softirq steal …, in clock ticks.
        let ticks = line.split(separator: " ").dropFirst().compactMap { Int($0) }
        guard ticks.count >= 7 else { return nil }
        let busyTicks = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6]
        let ticksPerSecond = sysconf(Int32(_SC_CLK_TCK))
        guard ticksPerSecond > 0 else { return nil }
        var wall = timespec(), own = timespec()
        clock_gettime(CLOCK_MONOTONIC, &wall)
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &own)
        return Reading(
            wall: wall.tv_sec * 1_000_000_000 + wall.tv_nsec,
            machineBusy: busyTicks * (1_000_000_000 / ticksPerSecond),
            ownCPU: own.tv_sec * 1_000_000_000 + own.tv_nsec)
        #else
        return nil
        #endif
    }

    /// Runnable threads of other processes: /proc/loadavg's fourth field is runnable/total, and
    /// the runnable count includes the thread reading it. The fewest of four readings 250 µs
    /// apart: a thread that runs for a moment (a kernel worker, a process exiting, one of ours
    /// going to sleep) is runnable in one snapshot but not the next, while a process that keeps
    /// a core busy is runnable in all of them.
    private static func runnableOthers() -> Int? {
        #if os(Linux)
        var fewest = Int.max
        for reading in 0 ..< 4 {
            if reading > 0 { usleep(250) }
            guard let loadavg = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return nil }
            let fields = loadavg.split(separator: " ")
            guard fields.count >= 4, let runnable = fields[3].split(separator: "/").first.flatMap({ Int($0) })
            else { return nil }
            fewest = min(fewest, runnable)
        }
        return max(0, fewest - 1)
        #else
        return nil
        #endif
    }
}
