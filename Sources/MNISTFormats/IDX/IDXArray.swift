/// The element types of the IDX format: the third byte of the magic number.
public enum IDXElementType: UInt8, CaseIterable, Sendable {
    case uint8 = 0x08
    case int8 = 0x09
    case int16 = 0x0B
    case int32 = 0x0C
    case float32 = 0x0D
    case float64 = 0x0E

    /// Bytes per element in the (big-endian) payload.
    public var byteWidth: Int {
        switch self {
        case .uint8, .int8: return 1
        case .int16: return 2
        case .int32, .float32: return 4
        case .float64: return 8
        }
    }

    public var name: String {
        switch self {
        case .uint8: return "unsigned byte"
        case .int8: return "signed byte"
        case .int16: return "int16"
        case .int32: return "int32"
        case .float32: return "float32"
        case .float64: return "float64"
        }
    }
}

/// The elements of an IDX array in native byte order, one case per IDX element type.
public enum IDXElements: Equatable, Sendable {
    case uint8([UInt8])
    case int8([Int8])
    case int16([Int16])
    case int32([Int32])
    case float32([Float])
    case float64([Double])

    public var elementType: IDXElementType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .int16: return .int16
        case .int32: return .int32
        case .float32: return .float32
        case .float64: return .float64
        }
    }

    public var count: Int {
        switch self {
        case .uint8(let values): return values.count
        case .int8(let values): return values.count
        case .int16(let values): return values.count
        case .int32(let values): return values.count
        case .float32(let values): return values.count
        case .float64(let values): return values.count
        }
    }
}

/// An n-dimensional array in the IDX format (LeCun's MNIST container).
///
/// Layout on disk: magic `0x00 0x00 <type> <ndims>`, then `ndims` big-endian UInt32 dimensions,
/// then the elements, row-major and big-endian. Invariant: the product of `dimensions` equals
/// `elements.count`.
public struct IDXArray: Equatable, Sendable {
    public let dimensions: [Int]
    public let elements: IDXElements

    /// The largest number of dimensions this tool accepts.
    public static let maximumRank = 4

    /// Wraps `elements` with `dimensions`; their product must equal the element count.
    public init(dimensions: [Int], elements: IDXElements) {
        precondition((1 ... Self.maximumRank).contains(dimensions.count), "IDX arrays have 1 to 4 dimensions")
        precondition(dimensions.allSatisfy { $0 >= 0 && $0 <= Int(UInt32.max) }, "IDX dimensions are UInt32")
        precondition(
            Self.elementCount(of: dimensions) == elements.count,
            "dimensions \(dimensions) do not match \(elements.count) elements")
        self.dimensions = dimensions
        self.elements = elements
    }

    public var elementType: IDXElementType { elements.elementType }

    /// The number of elements an array of `dimensions` holds, or nil when it does not fit in an
    /// Int. A zero dimension empties the array whatever the others are, so [2³²−1, 2³²−1, 2³²−1, 0]
    /// holds 0 elements rather than overflowing.
    public static func elementCount(of dimensions: [Int]) -> Int? {
        if dimensions.contains(0) { return 0 }
        var count = 1
        for dimension in dimensions {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            count = product
        }
        return count
    }

    /// The IDX bytes of this array: header, then the big-endian payload.
    public func encoded() -> [UInt8] {
        var bytes: [UInt8] = [0, 0, elementType.rawValue, UInt8(dimensions.count)]
        bytes.reserveCapacity(4 + 4 * dimensions.count + elements.count * elementType.byteWidth)
        for dimension in dimensions { bytes.appendBigEndian(UInt32(dimension)) }
        switch elements {
        case .uint8(let values): bytes.append(contentsOf: values)
        case .int8(let values): bytes.append(contentsOf: values.map { UInt8(bitPattern: $0) })
        case .int16(let values): for value in values { bytes.appendBigEndian(UInt16(bitPattern: value)) }
        case .int32(let values): for value in values { bytes.appendBigEndian(UInt32(bitPattern: value)) }
        case .float32(let values): for value in values { bytes.appendBigEndian(value.bitPattern) }
        case .float64(let values): for value in values { bytes.appendBigEndian(value.bitPattern) }
        }
        return bytes
    }
}

extension Array where Element == UInt8 {
    package mutating func appendBigEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}

extension IDXArray {
    /// SHA-256 of the array's IDX content (header and payload, decompressed), as 64 lowercase
    /// hexadecimal digits: for MNIST's files, the digests `MNISTFile.sha256` lists.
    public var contentSHA256: String {
        SHA256.hex(of: encoded())
    }
}
