import Dispatch

/// The PyPI source's subprocess: pip, run without blocking the caller's task.
extension MNISTFetcher {
    /// Runs `arguments` through `/usr/bin/env` (so `python3` is found on PATH) with stdout and
    /// stderr captured together; returns the exit status and the output. Blocks a Dispatch
    /// thread, not the caller's task.
    static func run(_ arguments: [String], describedAs command: String) async throws -> (status: Int32, output: String)
    {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                let process: Subprocess
                do throws(Subprocess.SpawnFailure) {
                    process = try Subprocess(arguments, mergingErrorsIntoOutput: true)
                } catch {
                    continuation.resume(
                        throwing: FetchError(subject: command, problem: .pipNotStarted(reason: error.reason)))
                    return
                }
                let output = String(decoding: Subprocess.readToEnd(process.output), as: UTF8.self)
                switch process.wait() {
                case .exited(let status):
                    continuation.resume(returning: (status, output))
                case .killed(let signal):
                    // As a shell reports it: 128 + the signal, with a last line that names it.
                    continuation.resume(returning: (128 + signal, output + "\n(ended by signal \(signal))"))
                case .unknown(let reason):
                    continuation.resume(
                        throwing: FetchError(subject: command, problem: .pipNotStarted(reason: reason)))
                }
            }
        }
    }
}
