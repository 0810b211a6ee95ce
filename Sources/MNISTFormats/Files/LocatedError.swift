/// Where in a file a problem is.
public enum FileLocation: Equatable, Sendable, CustomStringConvertible {
    /// A byte offset in the file's content (after decompression, for a compressed file).
    case byte(Int)
    /// A byte offset in the compressed bytes of a gzip file.
    case compressedByte(Int)

    public var description: String {
        switch self {
        case .byte(let offset): "byte \(offset)"
        case .compressedByte(let offset): "compressed byte \(offset)"
        }
    }
}

/// One reader's kinds of problem (IDX, gzip, zip, pickle, safetensors, PNG, data directory, …),
/// each case carrying what was expected and what was found.
public protocol FileProblem: Equatable, Sendable {
    /// What was expected and what was found, without the file's name or location.
    var message: String { get }
    /// The likely cause or the remedy, in the library's terms; nil when there is nothing to add.
    /// It never names a command-line flag: the command line adds its own advice.
    var hint: String? { get }
    /// True when `message` already says where the problem is, so the location is not repeated.
    var namesItsLocation: Bool { get }
}

extension FileProblem {
    public var hint: String? { nil }
    public var namesItsLocation: Bool { false }
}

/// A problem found in a file: the one error shape every reader of the library throws.
///
/// Its description is always `PATH: MESSAGE (LOCATION)`, then `HINT: …` on a line of its own when
/// there is a hint. Each reader keeps its own typed cases (`IDXError.Problem`, `GzipError.Problem`,
/// …), so callers match on them, and shares this storage, initialiser and format.
public struct LocatedError<P: FileProblem>: Error, Equatable, CustomStringConvertible {
    public typealias Problem = P

    /// The file (or URL, or command) the problem is about, as the caller named it.
    public let path: String
    public let problem: Problem
    /// Where in the file; nil when the problem concerns the file as a whole.
    public let location: FileLocation?

    public init(path: String, problem: Problem, location: FileLocation? = nil) {
        self.path = path
        self.problem = problem
        self.location = location
    }

    /// A problem at byte `byteOffset` of the (decompressed) content.
    public init(path: String, problem: Problem, byteOffset: Int) {
        self.init(path: path, problem: problem, location: .byte(byteOffset))
    }

    /// The byte offset in the (decompressed) content, when the location is one.
    public var byteOffset: Int? {
        if case .byte(let offset) = location { offset } else { nil }
    }

    public var hint: String? { problem.hint }

    /// `PATH: MESSAGE (LOCATION)`, without the hint: for lists of attempts.
    public var summary: String {
        let located = location.map { problem.namesItsLocation ? "" : " (\($0))" } ?? ""
        return "\(path): \(problem.message)\(located)"
    }

    public var description: String {
        summary + (hint.map { "\nHINT: \($0)" } ?? "")
    }
}

/// An error that can say itself without its hint, for the lists of attempts `fetch` prints.
public protocol SummarizableError: Error {
    var summary: String { get }
}

extension LocatedError: SummarizableError {}
