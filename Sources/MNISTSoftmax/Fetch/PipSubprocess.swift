import Foundation

/// The PyPI source's subprocess: pip, run without blocking the caller's task.
extension MNISTFetcher {
    /// Runs `arguments` through `/usr/bin/env` (so `python3` is found on PATH) with stdout and
    /// stderr captured together; returns the exit status and the output. Blocks a Dispatch
    /// thread, not the caller's task.
    static func run(_ arguments: [String], describedAs command: String) async throws -> (status: Int32, output: String)
    {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = arguments
                let pipe = Pipe()
                process.standardOutput = pipe
                process.standardError = pipe
                process.standardInput = FileHandle.nullDevice
                do {
                    try process.run()
                } catch {
                    continuation.resume(
                        throwing: FetchError(subject: command, problem: .pipNotStarted(reason: "\(error)")))
                    return
                }
                let output = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (process.terminationStatus, String(decoding: output, as: UTF8.self)))
            }
        }
    }
}
