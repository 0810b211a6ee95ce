/// A zip archive (such as a Python wheel) that cannot give up an entry; its location is the byte
/// offset in the archive of the record or data where the problem was found.
public typealias WheelArchiveError = LocatedError<WheelArchiveProblem>

/// What is wrong with a zip archive.
public enum WheelArchiveProblem: FileProblem {
    /// No end-of-central-directory record: not a zip file, or one cut short.
    case noEndOfCentralDirectory
    /// A zip feature this reader does not implement (zip64, split archives, encryption).
    case unsupported(feature: String)
    /// A record (`structure`) runs past the end of the bytes that may hold it.
    case truncated(structure: String)
    /// A record does not start with its 4-byte signature.
    case badSignature(structure: String)
    case entryNotFound(name: String)
    /// The local header names a different entry than the central directory says is there.
    case localHeaderMismatch(name: String, localName: String)
    case unsupportedMethod(name: String, method: Int)
    /// The entry decompresses to a different length than the central directory records.
    case sizeMismatch(name: String, expected: Int, found: Int)
    case crcMismatch(name: String, expected: UInt32, found: UInt32)
    /// zlib rejected the entry's deflate data.
    case corruptDeflate(name: String, zlibMessage: String)
    /// The recorded uncompressed size is more than the compressed bytes could ever expand to.
    case impossibleSize(name: String, uncompressed: Int, compressed: Int)

    public var message: String {
        switch self {
        case .noEndOfCentralDirectory:
            "no zip end-of-central-directory record; this is not a zip file, or it is truncated"
        case .unsupported(let feature):
            "uses \(feature), which this zip reader does not support"
        case .truncated(let structure):
            "the \(structure) runs past the end of the archive; the file is truncated or corrupt"
        case .badSignature(let structure):
            "no \(structure) signature where the archive says one starts"
        case .entryNotFound(let name):
            "no entry named \(name)"
        case .localHeaderMismatch(let name, let localName):
            "the central directory puts \(name) here, but the local header names \(localName)"
        case .unsupportedMethod(let name, let method):
            "\(name) uses compression method \(method); expected 0 (stored) or 8 (deflate)"
        case .sizeMismatch(let name, let expected, let found):
            // Inflating stops one byte past the recorded size, so a longer entry shows `expected + 1`.
            "\(name) decompresses to \(found > expected ? "at least " : "")\(found) bytes; the archive records \(expected)"
        case .crcMismatch(let name, let expected, let found):
            "\(name) has CRC-32 \(found.hexLiteral(digits: 8, uppercase: false)); the archive records \(expected.hexLiteral(digits: 8, uppercase: false))"
        case .corruptDeflate(let name, let zlibMessage):
            "\(name): corrupt deflate data: \(zlibMessage)"
        case .impossibleSize(let name, let uncompressed, let compressed):
            "\(name) claims \(uncompressed) bytes from \(compressed) compressed bytes, more than deflate can produce"
        }
    }

    public var hint: String? {
        switch self {
        case .noEndOfCentralDirectory, .truncated: "download it again"
        case .entryNotFound: "is this the right archive and version?"
        case .crcMismatch, .corruptDeflate: "the archive is corrupt; download it again"
        case .unsupported, .badSignature, .localHeaderMismatch, .unsupportedMethod, .sizeMismatch, .impossibleSize: nil
        }
    }
}

/// Reads single entries out of a zip archive held in memory, such as a Python wheel.
///
/// Only what wheels use is supported: one disk, no zip64, no encryption, entries stored
/// (method 0) or deflated (method 8). Sizes and the CRC-32 come from the central directory and
/// are checked against the extracted bytes.
public enum WheelArchive {
    /// The bytes of the entry `entryName` (its full path inside the archive, `/`-separated).
    ///
    /// `path` names the archive in errors.
    public static func extract(_ entryName: String, fromZip bytes: [UInt8], path: String) throws -> [UInt8] {
        let reader = ArchiveReader(bytes: bytes, path: path)
        let directory = try reader.endOfCentralDirectory()
        let entry = try reader.centralDirectoryEntry(named: entryName, in: directory)
        let data = try reader.dataRange(of: entry, endingBefore: directory.centralDirectoryOffset)
        let content: [UInt8]
        switch entry.method {
        case 0:
            guard data.count == entry.uncompressedSize else {
                throw WheelArchiveError(
                    path: path,
                    problem: .sizeMismatch(
                        name: entryName, expected: entry.uncompressedSize,
                        found: data.count),
                    byteOffset: data.lowerBound)
            }
            content = Array(bytes[data])
        case 8:
            content = try inflateRaw(bytes, range: data, entry: entry, path: path)
        default:
            throw WheelArchiveError(
                path: path, problem: .unsupportedMethod(name: entryName, method: entry.method),
                byteOffset: entry.localHeaderOffset)
        }
        let crc = Gzip.crc32(of: content)
        guard crc == entry.crc32 else {
            throw WheelArchiveError(
                path: path, problem: .crcMismatch(name: entryName, expected: entry.crc32, found: crc),
                byteOffset: data.lowerBound)
        }
        return content
    }

    /// Inflates a raw deflate stream (no zlib or gzip framing) into exactly
    /// `entry.uncompressedSize` bytes.
    private static func inflateRaw(
        _ bytes: [UInt8], range: Range<Int>, entry: CentralDirectoryEntry,
        path: String
    ) throws -> [UInt8] {
        let maximum = Gzip.maximumExpansion(ofCompressedByteCount: range.count)
        guard entry.uncompressedSize <= maximum else {
            throw WheelArchiveError(
                path: path,
                problem: .impossibleSize(
                    name: entry.name, uncompressed: entry.uncompressedSize,
                    compressed: range.count),
                byteOffset: range.lowerBound)
        }
        // One spare byte: data that goes on past the recorded size fills it instead of being lost.
        var output = [UInt8](repeating: 0, count: entry.uncompressedSize + 1)
        let produced: Int
        do {
            let inflater = Inflater(compressed: bytes, range: range, framing: .rawDeflate, path: path)
            produced = try output.withUnsafeMutableBytes { try inflater.read(into: $0) }
        } catch let error as GzipError {
            throw WheelArchiveError(
                path: path, problem: error.problem.inZipEntry(named: entry.name),
                byteOffset: error.compressedOffset)
        }
        guard produced == entry.uncompressedSize else {
            throw WheelArchiveError(
                path: path, problem: .sizeMismatch(name: entry.name, expected: entry.uncompressedSize, found: produced),
                byteOffset: range.lowerBound)
        }
        output.removeLast()
        return output
    }
}

/// The fields of the end-of-central-directory record this reader uses.
private struct EndOfCentralDirectory {
    let entryCount: Int
    let centralDirectoryOffset: Int
    let centralDirectorySize: Int
}

/// One central-directory file header, reduced to what extraction needs.
private struct CentralDirectoryEntry {
    let name: String
    let method: Int
    let flags: Int
    let crc32: UInt32
    let compressedSize: Int
    let uncompressedSize: Int
    let localHeaderOffset: Int
}

/// Bounds-checked little-endian field access to the archive bytes.
private struct ArchiveReader {
    let bytes: [UInt8]
    let path: String

    private static let endOfCentralDirectorySignature: UInt32 = 0x0605_4b50
    private static let centralDirectorySignature: UInt32 = 0x0201_4b50
    private static let localHeaderSignature: UInt32 = 0x0403_4b50
    /// The fixed part of the end-of-central-directory record.
    private static let endOfCentralDirectorySize = 22
    private static let centralHeaderSize = 46
    private static let localHeaderSize = 30

    /// Finds the end-of-central-directory record, searching back from the end over at most the
    /// longest possible archive comment (65,535 bytes).
    ///
    /// Layout (22 bytes + comment): signature u32, disk u16, directory disk u16, entries on this
    /// disk u16, entries u16, directory size u32, directory offset u32, comment length u16.
    func endOfCentralDirectory() throws -> EndOfCentralDirectory {
        let size = Self.endOfCentralDirectorySize
        guard bytes.count >= size else {
            throw WheelArchiveError(path: path, problem: .noEndOfCentralDirectory, byteOffset: bytes.count)
        }
        let lowest = max(0, bytes.count - size - Int(UInt16.max))
        var offset = bytes.count - size
        while offset >= lowest {
            // A real record's comment reaches exactly to the end of the archive.
            if uint32(at: offset) == Self.endOfCentralDirectorySignature,
                offset + size + uint16(at: offset + 20) == bytes.count
            {
                return try decodeEndOfCentralDirectory(at: offset)
            }
            offset -= 1
        }
        throw WheelArchiveError(path: path, problem: .noEndOfCentralDirectory, byteOffset: bytes.count)
    }

    private func decodeEndOfCentralDirectory(at offset: Int) throws -> EndOfCentralDirectory {
        let disk = uint16(at: offset + 4)
        let directoryDisk = uint16(at: offset + 6)
        let entriesOnDisk = uint16(at: offset + 8)
        let entries = uint16(at: offset + 10)
        let directorySize = uint32(at: offset + 12)
        let directoryOffset = uint32(at: offset + 16)
        guard disk == 0, directoryDisk == 0, entriesOnDisk == entries else {
            throw WheelArchiveError(
                path: path, problem: .unsupported(feature: "a split (multi-disk) archive"), byteOffset: offset)
        }
        // zip64 archives put 0xFFFF / 0xFFFFFFFF here and the real values elsewhere.
        guard entries != Int(UInt16.max), directorySize != UInt32.max, directoryOffset != UInt32.max else {
            throw WheelArchiveError(path: path, problem: .unsupported(feature: "zip64"), byteOffset: offset)
        }
        // The central directory must end where this record starts, or before.
        let start = Int(directoryOffset)
        let (end, overflow) = start.addingReportingOverflow(Int(directorySize))
        guard !overflow, end <= offset else {
            throw WheelArchiveError(path: path, problem: .truncated(structure: "central directory"), byteOffset: start)
        }
        return EndOfCentralDirectory(
            entryCount: entries, centralDirectoryOffset: start,
            centralDirectorySize: Int(directorySize))
    }

    /// Walks the central directory for the header whose file name is `name`.
    ///
    /// Each header: signature u32, version made by u16, version needed u16, flags u16, method u16,
    /// time u16, date u16, CRC-32 u32, compressed size u32, uncompressed size u32, name length u16,
    /// extra length u16, comment length u16, disk u16, internal attributes u16, external attributes
    /// u32, local header offset u32 (46 bytes), then the name, extra field and comment.
    func centralDirectoryEntry(named name: String, in directory: EndOfCentralDirectory) throws -> CentralDirectoryEntry
    {
        let end = directory.centralDirectoryOffset + directory.centralDirectorySize
        var offset = directory.centralDirectoryOffset
        let wanted = Array(name.utf8)
        for _ in 0 ..< directory.entryCount {
            guard offset + Self.centralHeaderSize <= end else {
                throw WheelArchiveError(
                    path: path, problem: .truncated(structure: "central directory"), byteOffset: offset)
            }
            guard uint32(at: offset) == Self.centralDirectorySignature else {
                throw WheelArchiveError(
                    path: path, problem: .badSignature(structure: "central directory file header"),
                    byteOffset: offset)
            }
            let nameLength = uint16(at: offset + 28)
            let headerEnd =
                offset + Self.centralHeaderSize + nameLength + uint16(at: offset + 30) + uint16(at: offset + 32)
            guard headerEnd <= end else {
                throw WheelArchiveError(
                    path: path, problem: .truncated(structure: "central directory"), byteOffset: offset)
            }
            let nameStart = offset + Self.centralHeaderSize
            if bytes[nameStart ..< nameStart + nameLength].elementsEqual(wanted) {
                let compressedSize = uint32(at: offset + 20)
                let uncompressedSize = uint32(at: offset + 24)
                let localOffset = uint32(at: offset + 42)
                guard compressedSize != UInt32.max, uncompressedSize != UInt32.max, localOffset != UInt32.max else {
                    throw WheelArchiveError(path: path, problem: .unsupported(feature: "zip64"), byteOffset: offset)
                }
                return CentralDirectoryEntry(
                    name: name, method: uint16(at: offset + 10), flags: uint16(at: offset + 8),
                    crc32: uint32(at: offset + 16), compressedSize: Int(compressedSize),
                    uncompressedSize: Int(uncompressedSize), localHeaderOffset: Int(localOffset))
            }
            offset = headerEnd
        }
        throw WheelArchiveError(
            path: path, problem: .entryNotFound(name: name), byteOffset: directory.centralDirectoryOffset)
    }

    /// The compressed bytes of `entry`, after its local header, which must name the same entry.
    ///
    /// Local header: signature u32, version needed u16, flags u16, method u16, time u16, date u16,
    /// CRC-32 u32, compressed size u32, uncompressed size u32, name length u16, extra length u16
    /// (30 bytes), then the name and extra field. Its sizes and CRC may be zero (flag bit 3: they
    /// follow the data), so the central directory's values are the ones used.
    func dataRange(of entry: CentralDirectoryEntry, endingBefore limit: Int) throws -> Range<Int> {
        let offset = entry.localHeaderOffset
        guard entry.flags & 1 == 0 else {
            throw WheelArchiveError(
                path: path, problem: .unsupported(feature: "encryption (\(entry.name))"), byteOffset: offset)
        }
        guard offset <= limit - Self.localHeaderSize else {
            throw WheelArchiveError(
                path: path, problem: .truncated(structure: "local header of \(entry.name)"), byteOffset: offset)
        }
        guard uint32(at: offset) == Self.localHeaderSignature else {
            throw WheelArchiveError(
                path: path, problem: .badSignature(structure: "local file header of \(entry.name)"),
                byteOffset: offset)
        }
        let nameLength = uint16(at: offset + 26)
        let nameStart = offset + Self.localHeaderSize
        let dataStart = nameStart + nameLength + uint16(at: offset + 28)
        guard dataStart <= limit, entry.compressedSize <= limit - dataStart else {
            throw WheelArchiveError(
                path: path, problem: .truncated(structure: "data of \(entry.name)"), byteOffset: offset)
        }
        let localName = bytes[nameStart ..< nameStart + nameLength]
        guard localName.elementsEqual(entry.name.utf8) else {
            throw WheelArchiveError(
                path: path,
                problem: .localHeaderMismatch(
                    name: entry.name,
                    localName: String(decoding: localName, as: UTF8.self)),
                byteOffset: offset)
        }
        return dataStart ..< dataStart + entry.compressedSize
    }

    /// Callers check `offset + 2 <= bytes.count` first.
    private func uint16(at offset: Int) -> Int {
        Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
    }

    /// Callers check `offset + 4 <= bytes.count` first.
    private func uint32(at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8 | UInt32(bytes[offset + 2]) << 16 | UInt32(
            bytes[offset + 3]) << 24
    }
}

extension GzipProblem {
    /// The zip reader's name for a problem of the deflate stream of the entry `name`.
    fileprivate func inZipEntry(named name: String) -> WheelArchiveProblem {
        switch self {
        case .truncated: .truncated(structure: "deflate data of \(name)")
        case .corrupt(let message): .corruptDeflate(name: name, zlibMessage: message)
        // Raw deflate has no members after the first, and no limit is asked for.
        case .trailingGarbage, .tooLarge: .corruptDeflate(name: name, zlibMessage: message)
        }
    }
}
