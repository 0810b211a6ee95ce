import CZlib

/// A gzip (or raw deflate) stream that cannot be decompressed; its location is the compressed
/// byte offset where it failed.
public typealias GzipError = LocatedError<GzipProblem>

/// What is wrong with a gzip or deflate stream.
public enum GzipProblem: FileProblem {
    /// The compressed data stops before the end of the stream.
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

    public var message: String {
        switch self {
        case .truncated: "gzip data ends early; the file is truncated"
        case .corrupt(let message): "corrupt gzip data: \(message)"
        case .trailingGarbage: "unexpected bytes after the gzip stream"
        case .zlibFailure(let code): "zlib failed to start (code \(code))"
        case .tooLarge(let limit): "decompresses to more than \(limit) bytes, more than expected"
        }
    }

    public var hint: String? {
        switch self {
        case .truncated, .corrupt: "the file is damaged; download it again"
        case .tooLarge: "this is the wrong file, or a decompression bomb"
        case .trailingGarbage, .zlibFailure: nil
        }
    }
}

extension LocatedError where P == GzipProblem {
    init(path: String, problem: GzipProblem, compressedOffset: Int) {
        self.init(path: path, problem: problem, location: .compressedByte(compressedOffset))
    }

    /// Offset into the compressed bytes where decompression stopped.
    public var compressedOffset: Int {
        if case .compressedByte(let offset) = location { offset } else { 0 }
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

    /// zlib's CRC-32 (the polynomial zip and gzip use), fed in chunks that fit its `uInt` length.
    static func crc32(of bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { buffer in
            var crc = CZlib.crc32(0, nil, 0)
            var offset = 0
            while offset < buffer.count {
                let chunk = min(buffer.count - offset, 1 << 30)
                crc = CZlib.crc32(crc, buffer.baseAddress.map { $0 + offset }, UInt32(chunk))
                offset += chunk
            }
            return UInt32(truncatingIfNeeded: crc)
        }
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

/// zlib's inflate over compressed bytes held in memory, into buffers the caller owns, one request
/// at a time: the one decompressor of the library (gzip files, the wheel's deflated zip entry, and
/// `fetch`'s digests).
///
/// With `.gzip` framing every member of a multi-member file is decompressed in turn, and each
/// member's CRC-32 and length are checked by zlib when its end is reached. With `.rawDeflate` (a
/// zip entry) decompression ends with the deflate stream.
package final class Inflater {
    package enum Framing {
        case gzip
        case rawDeflate
    }

    private var stream = z_stream()
    private let compressed: [UInt8]
    /// The compressed stream: a range of `compressed`.
    private let range: Range<Int>
    private let framing: Framing
    private let path: String
    /// Compressed bytes used so far, from the start of `range`.
    package private(set) var consumed = 0
    private var finished = false

    /// Decompressed bytes handed out so far.
    package private(set) var producedCount = 0

    package init(compressed: [UInt8], range: Range<Int>? = nil, framing: Framing = .gzip, path: String) throws(GzipError) {
        self.compressed = compressed
        self.range = range ?? compressed.indices
        self.framing = framing
        self.path = path
        // windowBits 15 + 16: gzip framing; −15: raw deflate, as zip stores it.
        let status = inflateInit2_(&stream, framing == .gzip ? 15 + 16 : -15, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            throw GzipError(path: path, problem: .zlibFailure(code: status), compressedOffset: self.range.lowerBound)
        }
    }

    deinit { inflateEnd(&stream) }

    /// Fills `buffer` completely, unless the stream ends first; returns the bytes written.
    package func read(into buffer: UnsafeMutableRawBufferPointer) throws(GzipError) -> Int {
        var produced = 0
        while produced < buffer.count && !finished {
            let outputRoom = min(buffer.count - produced, 1 << 30)
            let inputLeft = min(range.count - consumed, 1 << 30)
            let status: Int32 = compressed.withUnsafeBufferPointer { source in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress.map { $0 + range.lowerBound + consumed })
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
                try endStream()
            case Z_BUF_ERROR where consumed == range.count:
                throw error(.truncated)
            case Z_NEED_DICT, Z_DATA_ERROR, Z_STREAM_ERROR, Z_BUF_ERROR:
                throw error(.corrupt(zlibMessage: stream.msg.map { String(cString: $0) } ?? "invalid deflate data"))
            default:
                throw error(.zlibFailure(code: status))
            }
        }
        producedCount += produced
        return produced
    }

    /// Hands the whole decompressed content to `body`, 4 MiB at a time. With a `limit`, stops with
    /// `.tooLarge` as soon as the content passes it, so a decompression bomb costs neither
    /// gigabytes of memory nor minutes.
    package func forEachChunk(limit: Int? = nil, _ body: (ArraySlice<UInt8>) throws -> Void) throws {
        var chunk = [UInt8](repeating: 0, count: 1 << 22)
        while true {
            let count = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if let limit, producedCount > limit { throw error(.tooLarge(limit: limit)) }
            try body(chunk[..<count])
            if count < chunk.count { return }
        }
    }

    /// The error at the current compressed offset, counted from the start of the file.
    private func error(_ problem: GzipProblem) -> GzipError {
        GzipError(path: path, problem: problem, compressedOffset: range.lowerBound + consumed)
    }

    /// After a deflate stream (a gzip member's trailer): finish, or start the next gzip member,
    /// or reject what follows.
    private func endStream() throws(GzipError) {
        let rest = range.count - consumed
        let next = range.lowerBound + consumed
        if framing == .rawDeflate || rest == 0 {
            finished = true
        } else if rest >= 2 && compressed[next] == 0x1f && compressed[next + 1] == 0x8b {
            inflateReset(&stream)
        } else {
            throw error(.trailingGarbage)
        }
    }
}
