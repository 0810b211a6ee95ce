#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure to read or write a file, naming the path and the operating system's reason.
public typealias FileAccessError = LocatedError<FileAccessProblem>

/// Why a file could not be read or written.
public enum FileAccessProblem: FileProblem {
    case cannotOpen(reason: String)
    case notARegularFile(kind: String)
    case readFailed(reason: String)
    case writeFailed(reason: String)
    case targetIsDirectory

    public var message: String {
        switch self {
        case .cannotOpen(let reason): "cannot open: \(reason)"
        case .notARegularFile(let kind): "is a \(kind), expected a regular file"
        case .readFailed(let reason): "read failed: \(reason)"
        case .writeFailed(let reason): "write failed: \(reason)"
        case .targetIsDirectory: "is a directory; give a file name to write"
        }
    }
}

package func systemErrorMessage(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}

/// read(2), named apart from `FileReader.read(upTo:)`.
private func readDescriptor(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, buffer, count)
}

/// A regular file open for reading from its start, a piece at a time; closed when released.
///
/// Directories, FIFOs, sockets and devices are refused before anything is read, so a misplaced
/// FIFO cannot block the tool.
package final class FileReader {
    package let path: String
    /// The size `fstat` gave when the file was opened: the reader never reads past it.
    package let size: Int
    private let fd: Int32
    private var position = 0

    package init(_ path: String) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw FileAccessError(path: path, problem: .cannotOpen(reason: systemErrorMessage()))
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let reason = systemErrorMessage()
            close(fd)
            throw FileAccessError(path: path, problem: .readFailed(reason: reason))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw FileAccessError(path: path, problem: .notARegularFile(kind: FileIO.fileKindName(mode: info.st_mode)))
        }
        size = Int(info.st_size)
    }

    deinit { close(fd) }

    /// The next `count` bytes, or fewer at the end of the file (none once it is read); sized from
    /// `count` and `fstat`, never from the file's content.
    package func read(upTo count: Int) throws -> [UInt8] {
        let wanted = max(0, min(count, size - position))
        var bytes = [UInt8](repeating: 0, count: wanted)
        var filled = 0
        try bytes.withUnsafeMutableBytes { buffer in
            while filled < wanted {
                let n = readDescriptor(fd, buffer.baseAddress! + filled, wanted - filled)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw FileAccessError(path: path, problem: .readFailed(reason: systemErrorMessage()))
                }
                if n == 0 { break }
                filled += n
            }
        }
        position += filled
        if filled < wanted { bytes.removeSubrange(filled...) }
        return bytes
    }
}

/// Whole-file reads and atomic whole-file writes.
public enum FileIO {
    /// Reads every byte of the regular file at `path`.
    ///
    /// Directories, FIFOs, sockets and devices are refused before anything is read, so a
    /// misplaced FIFO cannot block the tool. The buffer is sized from `fstat`, never from
    /// the file's own content.
    public static func readAll(_ path: String) throws -> [UInt8] {
        let file = try FileReader(path)
        return try file.read(upTo: file.size)
    }

    /// Writes `bytes` to `path` so that a reader sees either the old file or the whole new one.
    ///
    /// The data goes to a temporary file in the same directory, is flushed with `fsync`, and is
    /// then renamed over `path`. A failure removes the temporary file and leaves `path` untouched.
    public static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        try writeAtomically(to: path) { temporaryPath in
            let fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw FileAccessError(path: path, problem: .writeFailed(reason: systemErrorMessage()))
            }
            defer { close(fd) }
            if let failure = bytes.withUnsafeBytes({ writeAll($0, to: fd) }) {
                throw FileAccessError(path: path, problem: .writeFailed(reason: systemErrorMessage(failure)))
            }
        }
    }

    /// Writes every byte of `buffer` to `descriptor`, again after a signal interrupts a write;
    /// returns nil, or the errno of the write that failed (EIO for a write that wrote nothing).
    package static func writeAll(_ buffer: UnsafeRawBufferPointer, to descriptor: Int32) -> Int32? {
        var written = 0
        while written < buffer.count {
            let n = write(descriptor, buffer.baseAddress! + written, buffer.count - written)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return errno }
            if n == 0 { return EIO }
            written += n
        }
        return nil
    }

    /// Runs `produce` with a temporary path in the directory of `path`, then fsyncs the file it
    /// wrote and renames it to `path`. Used by writers that need a path (libpng) rather than bytes.
    public static func writeAtomically(to path: String, _ produce: (String) throws -> Void) throws {
        try requireNotDirectory(path)
        let directory = PathName.directory(of: path)
        let name = PathName.lastComponent(of: path)
        let temporaryPath =
            (directory.isEmpty ? "" : directory + "/")
            + ".\(name).tmp-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        do {
            try produce(temporaryPath)
            try syncFile(temporaryPath, reportingAs: path)
            guard rename(temporaryPath, path) == 0 else {
                throw FileAccessError(path: path, problem: .writeFailed(reason: systemErrorMessage()))
            }
        } catch {
            unlink(temporaryPath)
            throw error
        }
    }

    /// Throws unless `writeAtomically` can put a file at `path`: `path` must not be a directory,
    /// and the folder it names must exist. Lets a command refuse a bad output path before it
    /// spends minutes producing the output.
    public static func requireWritableTarget(_ path: String) throws {
        try requireNotDirectory(path)
        let directory = PathName.directory(of: path)
        var info = stat()
        guard directory.isEmpty || stat(directory, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR else {
            throw FileAccessError(path: path, problem: .writeFailed(reason: "the folder \(directory) does not exist"))
        }
    }

    private static func requireNotDirectory(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw FileAccessError(path: path, problem: .targetIsDirectory)
        }
    }

    /// Throws unless `path` names a regular file, so that a library which opens the file itself
    /// (libpng) is never handed a directory, or a FIFO that would block it.
    static func requireRegularFile(_ path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw FileAccessError(path: path, problem: .cannotOpen(reason: systemErrorMessage()))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw FileAccessError(path: path, problem: .notARegularFile(kind: fileKindName(mode: info.st_mode)))
        }
    }

    /// Creates `path` and its parents if they do not exist. A failure names the first folder
    /// that could not be made and the operating system's reason.
    public static func createDirectory(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "/" : ""
        for component in path.split(separator: "/") {
            prefix += (prefix.isEmpty || prefix.hasSuffix("/") ? "" : "/") + component
            var info = stat()
            if stat(prefix, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR { continue }
            guard
                mkdir(prefix, 0o755) == 0
                    || errno == EEXIST && stat(prefix, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
            else {
                let reason = errno == EEXIST ? "a file of that name is in the way" : systemErrorMessage()
                throw FileAccessError(
                    path: path, problem: .writeFailed(reason: "cannot create directory \(prefix): \(reason)"))
            }
        }
    }

    private static func syncFile(_ temporaryPath: String, reportingAs path: String) throws {
        let fd = open(temporaryPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw FileAccessError(path: path, problem: .writeFailed(reason: systemErrorMessage()))
        }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw FileAccessError(path: path, problem: .writeFailed(reason: systemErrorMessage()))
        }
    }

    fileprivate static func fileKindName(mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: return "directory"
        case S_IFIFO: return "FIFO"
        case S_IFSOCK: return "socket"
        case S_IFCHR: return "character device"
        case S_IFBLK: return "block device"
        case S_IFLNK: return "symbolic link"
        default: return "special file"
        }
    }
}
