#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A program run through `/usr/bin/env` (so that it is found on PATH) with `posix_spawn`: its
/// standard input is /dev/null, its standard output a pipe, and its standard error either the
/// same pipe or a second one. The child starts with every signal at its default action and none
/// blocked. Read the pipes, then `wait()` for the exit status.
struct Subprocess {
    /// How a subprocess ended.
    enum Termination: Equatable {
        case exited(status: Int32)
        case killed(signal: Int32)
        /// waitpid failed (for example when SIGCHLD is ignored and the child was reaped already):
        /// how it ended is not known.
        case unknown(reason: String)
    }

    private let pid: pid_t
    /// The read end of the child's standard output (and of its standard error when merged).
    let output: Int32
    /// The read end of the child's standard error, nil when it goes to `output`.
    let errors: Int32?

    /// Starts `/usr/bin/env arguments…`; throws the operating system's reason (strerror text)
    /// when the program cannot be started.
    init(_ arguments: [String], mergingErrorsIntoOutput merge: Bool) throws(SpawnFailure) {
        let outputPipe = try Self.makePipe()
        var errorPipe: (read: Int32, write: Int32)?
        if !merge {
            do {
                errorPipe = try Self.makePipe()
            } catch {
                close(outputPipe.read)
                close(outputPipe.write)
                throw error
            }
        }
        defer {
            close(outputPipe.write)
            if let errorPipe { close(errorPipe.write) }
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputPipe.write, 1)
        posix_spawn_file_actions_adddup2(&actions, errorPipe?.write ?? outputPipe.write, 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var allSignals = sigset_t(), noSignals = sigset_t()
        sigfillset(&allSignals)
        sigemptyset(&noSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv: [UnsafeMutablePointer<CChar>?] = (["/usr/bin/env"] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid = pid_t()
        let status = posix_spawn(&pid, "/usr/bin/env", &actions, &attributes, argv, environ)
        guard status == 0 else {
            close(outputPipe.read)
            if let errorPipe { close(errorPipe.read) }
            throw SpawnFailure(reason: systemErrorMessage(status))
        }
        self.pid = pid
        output = outputPipe.read
        errors = errorPipe?.read
    }

    /// Why a program could not be started.
    struct SpawnFailure: Error {
        let reason: String
    }

    private static func makePipe() throws(SpawnFailure) -> (read: Int32, write: Int32) {
        var descriptors: [Int32] = [0, 0]
        guard pipe(&descriptors) == 0 else { throw SpawnFailure(reason: systemErrorMessage()) }
        // Close-on-exec, so that no other child inherits them; the file actions' dup2 gives
        // this child its copies.
        for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        return (descriptors[0], descriptors[1])
    }

    /// Reads up to `buffer.count` bytes of `descriptor` (one of the pipes) into `buffer`,
    /// retrying when a signal interrupts: the count read, 0 at the end, or -1 with `errno` set.
    static func readChunk(of descriptor: Int32, into buffer: inout [UInt8]) -> Int {
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            return count
        }
    }

    /// Everything left in `descriptor` (one of the pipes), up to its end or a read error.
    static func readToEnd(_ descriptor: Int32) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while case let count = readChunk(of: descriptor, into: &buffer), count > 0 {
            bytes.append(contentsOf: buffer[..<count])
        }
        return bytes
    }

    /// Asks the program to end (SIGTERM).
    func terminate() {
        kill(pid, SIGTERM)
    }

    /// Waits for the program to end, closes the pipes, and returns how it ended.
    func wait() -> Termination {
        var status: Int32 = 0
        var waited: pid_t
        repeat { waited = waitpid(pid, &status, 0) } while waited < 0 && errno == EINTR
        let failure = waited < 0 ? systemErrorMessage() : nil
        close(output)
        if let errors { close(errors) }
        if let failure { return .unknown(reason: "waitpid: \(failure)") }
        // The <sys/wait.h> macros, which Swift does not import: the low 7 bits are the signal
        // that ended the child (0 if it exited), the next 8 its exit status.
        let signal = status & 0x7F
        return signal == 0 ? .exited(status: (status >> 8) & 0xFF) : .killed(signal: signal)
    }
}
