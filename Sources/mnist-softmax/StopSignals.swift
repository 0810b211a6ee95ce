#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import Synchronization

/// SIGINT and SIGTERM as a request to stop at the next batch boundary, instead of dying mid-write.
///
/// The handler only stores the signal number in an atomic, which is async-signal-safe, and then
/// restores the default action, so a second Ctrl-C ends the process at once. The trainer polls
/// `received` between batches; `train` then exits with 128 + the signal number (130 or 143),
/// as a shell reports a process killed by it, having written nothing.
enum StopSignals {
    private static let pending = Atomic<Int32>(0)

    /// Installs the handlers. Call before the work that `received` is polled in.
    static func install() {
        // Touch the global first, so that the handler never runs its lazy initialisation.
        pending.store(0, ordering: .relaxed)
        // A parent (a test runner, a CI shell) may hand down these signals blocked: unblock them on
        // this thread, which polls `received`, so that they reach the handler.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        for number in [SIGINT, SIGTERM] { sigaddset(&stopSignals, number) }
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, nil)
        for number in [SIGINT, SIGTERM] {
            _ = signal(number) { number in
                StopSignals.pending.store(number, ordering: .relaxed)
                _ = signal(number, SIG_DFL)
            }
        }
    }

    /// The stop signal received since `install`, if any.
    static var received: Int32? {
        let number = pending.load(ordering: .relaxed)
        return number == 0 ? nil : number
    }

    /// Reports on standard error that `path` was not written because a stop signal arrived during
    /// `phase`, and returns the exit status a shell shows for a process that signal killed.
    static func exit(notWriting path: String, during phase: String) -> ExitCode {
        let number = received ?? SIGINT
        let name = number == SIGTERM ? "SIGTERM" : "SIGINT"
        printDiagnostic("\(path): not written: \(name) stopped training during \(phase)")
        return ExitCode(128 + number)
    }
}
