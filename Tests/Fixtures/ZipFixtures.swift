// Fixture builders shared by the unit tests and the fuzz targets' seed corpora (Fuzz/): small
// files of the formats the fetcher reads, built in code, never MNIST data.
import MNISTSoftmax

/// The CRC-32 and raw deflate stream of `content`, taken from a gzip member: gzip is a 10-byte
/// header, the raw deflate stream, then CRC-32 and length, both little-endian (RFC 1952) — the
/// same CRC-32 that zip records.
func deflateAndCRC(_ content: [UInt8]) -> (deflated: [UInt8], crc32: UInt32) {
    let gzip = Gzip.compress(content)
    let trailer = gzip.count - 8
    let crc = gzip[trailer ..< trailer + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    return (Array(gzip[10 ..< trailer]), crc)
}

/// One entry of a hand-built zip; the recorded fields can be set wrong on purpose.
public struct ZipEntry {
    public var name: String
    /// 0 stored, 8 deflate.
    public var method: UInt16
    public var data: [UInt8]
    public var crc32: UInt32
    public var compressedSize: Int
    public var uncompressedSize: Int

    public static func stored(_ name: String, _ content: [UInt8]) -> ZipEntry {
        ZipEntry(
            name: name, method: 0, data: content, crc32: deflateAndCRC(content).crc32,
            compressedSize: content.count, uncompressedSize: content.count)
    }

    public static func deflated(_ name: String, _ content: [UInt8]) -> ZipEntry {
        let (deflated, crc) = deflateAndCRC(content)
        return ZipEntry(
            name: name, method: 8, data: deflated, crc32: crc,
            compressedSize: deflated.count, uncompressedSize: content.count)
    }
}

extension Array where Element == UInt8 {
    /// Appends `value` in little-endian byte order.
    public mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

/// Local headers and data, then the central directory, then the end record (PKWARE APPNOTE 4.3).
public func makeZip(_ entries: [ZipEntry]) -> [UInt8] {
    var archive: [UInt8] = []
    var directory: [UInt8] = []
    for entry in entries {
        let name = Array(entry.name.utf8)
        let localOffset = archive.count
        // Local header: signature, version 2.0, flags, method, time, date, CRC, sizes, name length, extra length.
        archive.appendLittleEndian(UInt32(0x0403_4b50))
        archive.appendLittleEndian(UInt16(20))
        archive.appendLittleEndian(UInt16(0))
        archive.appendLittleEndian(entry.method)
        archive.appendLittleEndian(UInt32(0))
        archive.appendLittleEndian(entry.crc32)
        archive.appendLittleEndian(UInt32(entry.compressedSize))
        archive.appendLittleEndian(UInt32(entry.uncompressedSize))
        archive.appendLittleEndian(UInt16(name.count))
        archive.appendLittleEndian(UInt16(0))
        archive += name + entry.data
        // Central header: as above plus version made by, comment length, disk, attributes, local offset.
        directory.appendLittleEndian(UInt32(0x0201_4b50))
        directory.appendLittleEndian(UInt16(20))
        directory.appendLittleEndian(UInt16(20))
        directory.appendLittleEndian(UInt16(0))
        directory.appendLittleEndian(entry.method)
        directory.appendLittleEndian(UInt32(0))
        directory.appendLittleEndian(entry.crc32)
        directory.appendLittleEndian(UInt32(entry.compressedSize))
        directory.appendLittleEndian(UInt32(entry.uncompressedSize))
        directory.appendLittleEndian(UInt16(name.count))
        directory += [UInt8](repeating: 0, count: 12)
        directory.appendLittleEndian(UInt32(localOffset))
        directory += name
    }
    let directoryOffset = archive.count
    archive += directory
    archive.appendLittleEndian(UInt32(0x0605_4b50))
    archive.appendLittleEndian(UInt32(0))
    archive.appendLittleEndian(UInt16(entries.count))
    archive.appendLittleEndian(UInt16(entries.count))
    archive.appendLittleEndian(UInt32(directory.count))
    archive.appendLittleEndian(UInt32(directoryOffset))
    archive.appendLittleEndian(UInt16(0))
    return archive
}
