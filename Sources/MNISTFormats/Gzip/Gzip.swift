import CISAL
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
    /// The content goes on past `limit` bytes, more than the reader expects: decompression
    /// stopped there.
    case tooLarge(limit: Int)

    public var message: String {
        switch self {
        case .truncated: "gzip data ends early; the file is truncated"
        case .corrupt(let message): "corrupt gzip data: \(message)"
        case .trailingGarbage: "unexpected bytes after the gzip stream"
        case .tooLarge(let limit): "decompresses to more than \(limit) bytes, more than expected"
        }
    }

    public var hint: String? {
        switch self {
        case .truncated, .corrupt: "the file is damaged; download it again"
        case .tooLarge: "this is the wrong file, or a decompression bomb"
        case .trailingGarbage: nil
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
        let status = deflateInit2_(
            &stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
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

/// ISA-L's inflate (igzip) over compressed bytes held in memory or read from a file a piece at a
/// time, into buffers the caller owns, one request at a time: the one decompressor of the library
/// (gzip files, the wheel's deflated zip entry, and `fetch`'s digests).
///
/// With `.gzip` framing every member of a multi-member file is decompressed in turn, and each
/// member's CRC-32 and length are checked by ISA-L when its end is reached. With `.rawDeflate` (a
/// zip entry) decompression ends with the deflate stream.
package final class Inflater {
    package enum Framing {
        case gzip
        case rawDeflate
    }

    /// ISA-L's state (about 70 KB: it holds the history window), on the heap.
    private let state = UnsafeMutablePointer<inflate_state>.allocate(capacity: 1)
    /// The compressed bytes held now: all of them, or (from a file) the piece being read, after
    /// the last 8 bytes of the piece before (a gzip trailer's, for `trailerMismatch`).
    private var compressed: [UInt8]
    /// The offset in the file (or in the bytes given) of `compressed[0]`.
    private var compressedStart = 0
    /// The compressed stream, as offsets in the file (or the bytes given).
    private var range: Range<Int>
    /// The rest of the file, when the stream is read from one.
    private let file: FileReader?
    private let framing: Framing
    private let path: String
    /// Compressed bytes used so far, from the start of `range`.
    package private(set) var consumed = 0
    private var finished = false

    /// Decompressed bytes handed out so far.
    package private(set) var producedCount = 0

    package init(compressed: [UInt8], range: Range<Int>? = nil, framing: Framing = .gzip, path: String) {
        self.compressed = compressed
        self.range = range ?? compressed.indices
        self.framing = framing
        self.path = path
        file = nil
        startStream()
    }

    /// Reads the gzip file `file` from its start, 1 MiB at a time: at most about 1 MiB of the
    /// compressed bytes is held at once. `firstPiece` is what was read of it already.
    package init(gzipFile file: FileReader, firstPiece: [UInt8]) {
        compressed = firstPiece
        range = 0 ..< file.size
        self.file = file
        framing = .gzip
        path = file.path
        startStream()
    }

    /// The size of each piece read from a file.
    package static let filePieceSize = 1 << 20

    /// Compressed bytes held from the current offset on, without reading more.
    private var heldInput: Int {
        min(range.upperBound, compressedStart + compressed.count) - (range.lowerBound + consumed)
    }

    /// Reads the file's next piece when fewer than `count` bytes are held; keeps the 8 bytes
    /// before the current offset. A file that ends before its `fstat` size ends the stream there.
    private func holdInput(atLeast count: Int) throws(GzipError) {
        guard let file, heldInput < count, compressedStart + compressed.count < range.upperBound else { return }
        let piece: [UInt8]
        do {
            piece = try file.read(upTo: Self.filePieceSize)
        } catch {
            // Only a read(2) failure: report it where decompression stopped.
            throw self.error(.corrupt(zlibMessage: "cannot read further: \(error)"))
        }
        let keepFrom = max(0, range.lowerBound + consumed - 8 - compressedStart)
        compressedStart += keepFrom
        compressed = Array(compressed[keepFrom...]) + piece
        if piece.isEmpty { range = range.lowerBound ..< compressedStart + compressed.count }
    }

    deinit { state.deallocate() }

    /// Starts a deflate stream (a gzip member, header and trailer included, or a raw one).
    private func startStream() {
        isal_inflate_init(state)
        state.pointee.crc_flag = UInt32(framing == .gzip ? ISAL_GZIP : ISAL_DEFLATE)
    }

    /// Fills `buffer` completely, unless the stream ends first; returns the bytes written.
    package func read(into buffer: UnsafeMutableRawBufferPointer) throws(GzipError) -> Int {
        var produced = 0
        while produced < buffer.count && !finished {
            try holdInput(atLeast: 1)
            let outputRoom = min(buffer.count - produced, 1 << 30)
            let inputLeft = min(heldInput, 1 << 30)
            let status: Int32 = compressed.withUnsafeBufferPointer { source in
                state.pointee.next_in = UnsafeMutablePointer(
                    mutating: source.baseAddress.map { $0 + range.lowerBound + consumed - compressedStart })
                state.pointee.avail_in = UInt32(inputLeft)
                state.pointee.next_out = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self) + produced
                state.pointee.avail_out = UInt32(outputRoom)
                return isal_inflate(state)
            }
            let used = inputLeft - Int(state.pointee.avail_in)
            let written = outputRoom - Int(state.pointee.avail_out)
            consumed += used
            produced += written
            guard status == ISAL_DECOMP_OK else { throw error(problem(status: status)) }
            if state.pointee.block_state == ISAL_BLOCK_FINISH {
                try endStream()
            } else if state.pointee.avail_out > 0 && consumed == range.count {
                // Output room left and no input: the stream stops before its end.
                throw error(.truncated)
            } else if used == 0 && written == 0 {
                throw error(.corrupt(zlibMessage: "invalid deflate data"))
            }
        }
        producedCount += produced
        return produced
    }

    /// What an ISA-L status other than ISAL_DECOMP_OK means, in zlib's words.
    private func problem(status: Int32) -> GzipProblem {
        switch status {
        case ISAL_INVALID_BLOCK: .corrupt(zlibMessage: "invalid block type")
        case ISAL_INVALID_SYMBOL: .corrupt(zlibMessage: "invalid code")
        case ISAL_INVALID_LOOKBACK: .corrupt(zlibMessage: "invalid distance too far back")
        case ISAL_INVALID_WRAPPER: .corrupt(zlibMessage: "incorrect header check")
        case ISAL_UNSUPPORTED_METHOD: .corrupt(zlibMessage: "unknown compression method")
        case ISAL_INCORRECT_CHECKSUM: .corrupt(zlibMessage: trailerMismatch())
        case ISAL_NEED_DICT: .corrupt(zlibMessage: "needs a preset dictionary")
        default: .corrupt(zlibMessage: "invalid deflate data (igzip status \(status))")
        }
    }

    /// Which of a gzip member's trailer fields disagrees with the content: ISA-L reports both as
    /// one status, having read the 8 trailer bytes (CRC-32, then the length mod 2³², little-endian).
    private func trailerMismatch() -> String {
        let end = range.lowerBound + consumed - compressedStart
        guard end - 8 >= 0 && end <= compressed.count else { return "incorrect data check" }
        let storedCRC = (0 ..< 4).reduce(UInt32(0)) { $0 | UInt32(compressed[end - 8 + $1]) << (8 * $1) }
        return storedCRC == state.pointee.crc ? "incorrect length check" : "incorrect data check"
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
        try holdInput(atLeast: 2)
        let rest = range.count - consumed
        let next = range.lowerBound + consumed - compressedStart
        if framing == .rawDeflate || rest == 0 {
            finished = true
        } else if rest >= 2 && compressed[next] == 0x1f && compressed[next + 1] == 0x8b {
            startStream()
        } else {
            throw error(.trailingGarbage)
        }
    }
}
