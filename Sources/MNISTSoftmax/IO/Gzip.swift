import CZlib

/// A gzip stream that cannot be decompressed, with the compressed byte offset where it failed.
public struct GzipError: Error, CustomStringConvertible, Equatable {
    public enum Problem: Equatable, Sendable {
        /// The compressed data stops before the end of the gzip stream.
        case truncated
        /// zlib rejected the data (a bad CRC or length check says "incorrect data check").
        case corrupt(zlibMessage: String)
        /// Bytes after the last gzip member that are not another gzip member.
        case trailingGarbage
        /// zlib could not start (out of memory).
        case zlibFailure(code: Int32)
        /// The content goes on past `limit` bytes, more than the reader expects: decompression
        /// stopped there.
        case tooLarge(limit: Int)
    }

    public let path: String
    public let problem: Problem
    /// Offset into the compressed file.
    public let compressedOffset: Int

    public var description: String {
        switch problem {
        case .truncated:
            return "\(path): gzip data ends early at compressed byte \(compressedOffset); the file is truncated\nHINT: download it again (mnist-softmax fetch)"
        case .corrupt(let message):
            return "\(path): corrupt gzip data near compressed byte \(compressedOffset): \(message)\nHINT: download it again (mnist-softmax fetch)"
        case .trailingGarbage:
            return "\(path): unexpected bytes after the gzip stream at compressed byte \(compressedOffset)"
        case .zlibFailure(let code):
            return "\(path): zlib failed to start (code \(code))"
        case .tooLarge(let limit):
            return "\(path): decompresses to more than \(limit) bytes (stopped at compressed byte \(compressedOffset)), more than expected\nHINT: this is the wrong file, or a decompression bomb"
        }
    }
}

/// gzip framing: detection by magic bytes, streaming decompression, and compression.
public enum Gzip {
    /// True when `bytes` start with the gzip magic 0x1f 0x8b, whatever the file is called.
    public static func isGzip(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b
    }

    /// The most that `compressedByteCount` bytes of deflate data can expand to.
    ///
    /// deflate cannot exceed a ratio of 1032:1, so an allocation bounded by this figure is
    /// justified by bytes that exist on disk, never by a header's promise alone.
    public static func maximumExpansion(ofCompressedByteCount compressedByteCount: Int) -> Int {
        compressedByteCount.multipliedReportingOverflow(by: 1032).overflow
            ? Int.max : compressedByteCount * 1032
    }

    /// Compresses `bytes` into a single gzip member (zlib level 6 unless told otherwise).
    public static func compress(_ bytes: [UInt8], level: Int32 = 6) -> [UInt8] {
        var stream = z_stream()
        let status = deflateInit2_(&stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                   zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "deflateInit2 failed with \(status): out of memory")
        defer { deflateEnd(&stream) }
        // gzip adds 18 bytes of framing to deflate's bound.
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 18)
        var input = bytes
        let produced = input.withUnsafeMutableBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = source.baseAddress
                stream.avail_in = UInt32(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = UInt32(target.count)
                let result = deflate(&stream, Z_FINISH)
                precondition(result == Z_STREAM_END, "deflate into its own bound failed with \(result)")
                return target.count - Int(stream.avail_out)
            }
        }
        output.removeSubrange(produced...)
        return output
    }
}

/// Decompresses a gzip file held in memory into buffers the caller owns, one request at a time.
///
/// Every member of a multi-member file is decompressed in turn, and each member's CRC-32 and
/// length are checked by zlib when its end is reached.
final class GzipInflater {
    private var stream = z_stream()
    private let compressed: [UInt8]
    private let path: String
    /// Compressed bytes used so far.
    private(set) var consumed = 0
    private var finished = false

    /// Decompressed bytes handed out so far.
    private(set) var producedCount = 0

    init(compressed: [UInt8], path: String) throws {
        self.compressed = compressed
        self.path = path
        let status = inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            throw GzipError(path: path, problem: .zlibFailure(code: status), compressedOffset: 0)
        }
    }

    deinit { inflateEnd(&stream) }

    /// Fills `buffer` completely, unless the gzip data ends first; returns the bytes written.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var produced = 0
        while produced < buffer.count && !finished {
            let outputRoom = min(buffer.count - produced, 1 << 30)
            let inputLeft = min(compressed.count - consumed, 1 << 30)
            let status: Int32 = compressed.withUnsafeBufferPointer { source in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress! + consumed)
                stream.avail_in = UInt32(inputLeft)
                stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self) + produced
                stream.avail_out = UInt32(outputRoom)
                return inflate(&stream, Z_NO_FLUSH)
            }
            consumed += inputLeft - Int(stream.avail_in)
            produced += outputRoom - Int(stream.avail_out)
            switch status {
            case Z_OK:
                continue
            case Z_STREAM_END:
                try endMember()
            case Z_BUF_ERROR where consumed == compressed.count:
                throw GzipError(path: path, problem: .truncated, compressedOffset: consumed)
            case Z_NEED_DICT, Z_DATA_ERROR, Z_STREAM_ERROR, Z_BUF_ERROR:
                let message = stream.msg.map { String(cString: $0) } ?? "invalid deflate data"
                throw GzipError(path: path, problem: .corrupt(zlibMessage: message), compressedOffset: consumed)
            default:
                throw GzipError(path: path, problem: .zlibFailure(code: status), compressedOffset: consumed)
            }
        }
        producedCount += produced
        return produced
    }

    /// After one member's trailer: finish, or start the next member, or reject what follows.
    private func endMember() throws {
        let rest = compressed.count - consumed
        if rest == 0 {
            finished = true
        } else if rest >= 2 && compressed[consumed] == 0x1f && compressed[consumed + 1] == 0x8b {
            inflateReset(&stream)
        } else {
            throw GzipError(path: path, problem: .trailingGarbage, compressedOffset: consumed)
        }
    }
}
