#if canImport(Glibc)
import Glibc
#endif

extension IDXArray {
    /// Reads an IDX file, raw or gzip-compressed. Compression is judged by the gzip magic bytes,
    /// not by the file name.
    ///
    /// Every header field is validated before it is trusted: the magic, the element type, 1 to 4
    /// dimensions, a payload size computed without overflow, and a payload length equal to that
    /// size, with nothing after it. No buffer is sized from the header until the file is known to
    /// hold (or, compressed, to be able to hold) that many bytes.
    public static func read(contentsOf path: String) throws -> IDXArray {
        try read(contentsOf: path, digest: nil)
    }

    /// Reads an IDX file as `read(contentsOf:)` does, and the SHA-256 of its content (header and
    /// payload, decompressed) as 64 lowercase hex digits: the digest MNIST's publishers list.
    /// The content is hashed on another thread while it is being decompressed.
    public static func readWithContentDigest(contentsOf path: String) throws -> (array: IDXArray, sha256: String) {
        let digest = BackgroundSHA256()
        let array: IDXArray
        do {
            array = try read(contentsOf: path, digest: digest)
        } catch {
            digest.cancel()
            throw error
        }
        return (array, digest.finalizeHex())
    }

    /// A gzip file is decompressed as it is read, 1 MiB of compressed bytes at a time, so that it
    /// is never held whole beside its content; a raw file is read whole.
    private static func read(contentsOf path: String, digest: BackgroundSHA256?) throws -> IDXArray {
        let file = try FileReader(path)
        let magic = try file.read(upTo: 2)
        guard Gzip.isGzip(magic) else { return try decode(FileIO.readAll(path), path: path, digest: digest) }
        let inflater = Inflater(gzipFile: file, firstPiece: magic)
        let maximumSize = Gzip.maximumExpansion(ofCompressedByteCount: file.size)
        return try parse(
            from: CompressedSource(inflater: inflater, maximumSize: maximumSize), path: path, digest: digest)
    }

    /// Parses IDX content held in memory (raw or gzip); `path` names it in errors.
    public static func decode(_ bytes: [UInt8], path: String) throws -> IDXArray {
        try decode(bytes, path: path, digest: nil)
    }

    /// With a `digest`, hands it every content byte as it is read; the caller waits for the
    /// digest (or cancels it) before the payload's memory can go.
    private static func decode(_ bytes: [UInt8], path: String, digest: BackgroundSHA256?) throws -> IDXArray {
        if Gzip.isGzip(bytes) {
            let inflater = Inflater(compressed: bytes, path: path)
            return try parse(
                from: CompressedSource(
                    inflater: inflater,
                    maximumSize: Gzip.maximumExpansion(ofCompressedByteCount: bytes.count)),
                path: path, digest: digest)
        }
        return try parse(from: RawSource(bytes: bytes), path: path, digest: digest)
    }

    private static func parse(from source: IDXByteSource, path: String, digest: BackgroundSHA256?) throws -> IDXArray {
        // Magic: 0x00 0x00 <type> <ndims>.
        let magic = try source.read(count: 4)
        if magic.count >= 1 && magic[0] != 0 || magic.count >= 2 && magic[1] != 0 {
            throw IDXError(path: path, problem: .badMagic(found: magic), byteOffset: 0)
        }
        guard magic.count == 4 else {
            throw IDXError(
                path: path, problem: .truncatedHeader(needed: 4, available: magic.count), byteOffset: magic.count)
        }
        guard let elementType = IDXElementType(rawValue: magic[2]) else {
            throw IDXError(path: path, problem: .unknownElementType(code: magic[2]), byteOffset: 2)
        }
        let rank = Int(magic[3])
        guard (1 ... maximumRank).contains(rank) else {
            throw IDXError(path: path, problem: .unsupportedRank(rank), byteOffset: 3)
        }

        // Dimensions: `rank` big-endian UInt32s.
        let headerSize = 4 + 4 * rank
        let dimensionBytes = try source.read(count: 4 * rank)
        guard dimensionBytes.count == 4 * rank else {
            throw IDXError(
                path: path, problem: .truncatedHeader(needed: headerSize, available: 4 + dimensionBytes.count),
                byteOffset: 4 + dimensionBytes.count)
        }
        let dimensions = (0 ..< rank).map { axis in
            dimensionBytes[4 * axis ..< 4 * axis + 4].reduce(0) { $0 << 8 | Int($1) }
        }

        // Payload size, with every multiplication checked.
        guard let elementCount = elementCount(of: dimensions),
            case (let payloadSize, false) = elementCount.multipliedReportingOverflow(by: elementType.byteWidth)
        else {
            throw IDXError(path: path, problem: .sizeOverflow(dimensions: dimensions), byteOffset: 4)
        }
        if let available = source.exactRemaining {
            if available < payloadSize {
                throw IDXError(
                    path: path, problem: .truncatedPayload(expected: payloadSize, available: available),
                    byteOffset: headerSize + available)
            }
            if available > payloadSize {
                throw IDXError(path: path, problem: .trailingBytes, byteOffset: headerSize + payloadSize)
            }
        } else if payloadSize > source.maximumRemaining {
            throw IDXError(
                path: path, problem: .impossiblePayload(expected: payloadSize, maximum: source.maximumRemaining),
                byteOffset: headerSize)
        }

        // Payload: read straight into the array that keeps it, a chunk at a time when hashed.
        digest?.update(copying: magic + dimensionBytes)
        let payload = try source.read(count: payloadSize, handingChunksTo: digest)
        guard payload.count == payloadSize else {
            throw IDXError(
                path: path, problem: .truncatedPayload(expected: payloadSize, available: payload.count),
                byteOffset: headerSize + payload.count)
        }
        guard try source.read(count: 1).isEmpty else {
            throw IDXError(path: path, problem: .trailingBytes, byteOffset: headerSize + payloadSize)
        }
        return IDXArray(dimensions: dimensions, elements: decodeElements(payload, as: elementType))
    }

    /// Converts a big-endian payload to native values. UInt8 payloads are kept as they are.
    private static func decodeElements(_ payload: [UInt8], as type: IDXElementType) -> IDXElements {
        func words<T: FixedWidthInteger>(_: T.Type) -> [T] {
            let count = payload.count / MemoryLayout<T>.size
            return payload.withUnsafeBytes { raw in
                (0 ..< count).map {
                    T(bigEndian: raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self))
                }
            }
        }
        switch type {
        case .uint8: return .uint8(payload)
        case .int8: return .int8(payload.map { Int8(bitPattern: $0) })
        case .int16: return .int16(words(Int16.self))
        case .int32: return .int32(words(Int32.self))
        case .float32: return .float32(words(UInt32.self).map(Float.init(bitPattern:)))
        case .float64: return .float64(words(UInt64.self).map(Double.init(bitPattern:)))
        }
    }
}

/// Where IDX bytes come from while parsing.
private protocol IDXByteSource: AnyObject {
    /// Copies up to `count` bytes into `buffer`; fewer only at the end of the content.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
    /// The exact number of bytes left, when the source knows it without reading.
    var exactRemaining: Int? { get }
    /// No more than this many bytes can be left.
    var maximumRemaining: Int { get }
}

extension IDXByteSource {
    /// Reads up to `count` bytes into a new array, without zero-filling it first. With a `digest`,
    /// reads 1 MiB at a time and hands each chunk to it as soon as it is read, so that hashing
    /// one chunk overlaps reading the next; returns once the digest has read them all.
    func read(count: Int, handingChunksTo digest: BackgroundSHA256? = nil) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: count) { buffer, initializedCount in
            let whole = UnsafeMutableRawBufferPointer(buffer)
            adviseHugePages(whole)
            guard let digest else {
                initializedCount = try read(into: whole)
                return
            }
            let chunkSize = 1 << 20
            do {
                while initializedCount < count {
                    let end = min(count, initializedCount + chunkSize)
                    let chunk = UnsafeMutableRawBufferPointer(rebasing: whole[initializedCount ..< end])
                    let filled = try read(into: chunk)
                    digest.update(region: UnsafeRawBufferPointer(rebasing: chunk[..<filled]))
                    initializedCount += filled
                    if filled < chunk.count { break }
                }
            } catch {
                digest.cancel()
                throw error
            }
            // The buffer may move or go once this returns: the digest must be done with it.
            digest.finish()
        }
    }
}

private final class RawSource: IDXByteSource {
    private let bytes: [UInt8]
    private var position = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = min(buffer.count, bytes.count - position)
        bytes.withUnsafeBytes { source in
            buffer.baseAddress?.copyMemory(from: source.baseAddress! + position, byteCount: count)
        }
        position += count
        return count
    }

    var exactRemaining: Int? { bytes.count - position }
    var maximumRemaining: Int { bytes.count - position }
}

private final class CompressedSource: IDXByteSource {
    private let inflater: Inflater
    private let maximumSize: Int

    init(inflater: Inflater, maximumSize: Int) {
        self.inflater = inflater
        self.maximumSize = maximumSize
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try inflater.read(into: buffer)
    }

    var exactRemaining: Int? { nil }
    var maximumRemaining: Int { maximumSize - inflater.producedCount }
}

/// Asks the kernel to back the 2 MiB-aligned interior of a large buffer with huge pages, before
/// anything is written to it. Training reads images in shuffled order across the whole 47 MB of
/// pixels; with 4 KiB pages nearly every image would also miss the TLB. Only advice: where huge
/// pages are unavailable nothing changes.
private func adviseHugePages(_ buffer: UnsafeMutableRawBufferPointer) {
    #if os(Linux)
    let hugePage = 2 << 20
    guard buffer.count >= 2 * hugePage, let base = buffer.baseAddress else { return }
    let start = (Int(bitPattern: base) + hugePage - 1) / hugePage * hugePage
    let end = (Int(bitPattern: base) + buffer.count) / hugePage * hugePage
    _ = madvise(UnsafeMutableRawPointer(bitPattern: start), end - start, MADV_HUGEPAGE)
    #endif
}
