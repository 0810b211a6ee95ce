import Foundation

// The bytes of small files in the formats the tool reads, built in code for the tests.

/// IDX header bytes: magic then big-endian UInt32 dimensions.
public func idxHeader(type: UInt8, dimensions: [UInt32]) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, type, UInt8(dimensions.count)]
    for d in dimensions { bytes += [UInt8(d >> 24), UInt8(d >> 16 & 0xFF), UInt8(d >> 8 & 0xFF), UInt8(d & 0xFF)] }
    return bytes
}

/// The bytes of a safetensors file with the given header object and data section.
public func safetensorsBytes(header: [String: Any], data: [UInt8]) -> [UInt8] {
    let json = [UInt8](try! JSONSerialization.data(withJSONObject: header))
    return withUnsafeBytes(of: UInt64(json.count).littleEndian) { [UInt8]($0) } + json + data
}

public func littleEndianBytes(_ values: [Float]) -> [UInt8] {
    values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { [UInt8]($0) } }
}

/// A PNG signature, an 8-bit RGB IHDR of the given size and an empty IDAT: enough for
/// libpng to parse the header, nothing more.
public func headerOnlyPNG(width: UInt32, height: UInt32) -> [UInt8] {
    func bigEndian(_ value: UInt32) -> [UInt8] {
        [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) }
    }
    func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let typeAndData = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + typeAndData + bigEndian(crc32(typeAndData))
    }
    let header = bigEndian(width) + bigEndian(height) + [8, 2, 0, 0, 0]
    return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", header) + chunk("IDAT", [])
}

/// CRC-32 (polynomial 0xEDB88320, reflected), as PNG chunks use.
private func crc32(_ bytes: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for byte in bytes {
        crc ^= UInt32(byte)
        for _ in 0 ..< 8 {
            crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
        }
    }
    return ~crc
}
