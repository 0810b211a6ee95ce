/// A malformed IDX file; its location is the byte offset of the problem (in the decompressed
/// content when the file is gzip-compressed).
public typealias IDXError = LocatedError<IDXProblem>

/// What is wrong with an IDX file.
public enum IDXProblem: FileProblem {
    /// Fewer bytes than the 4-byte magic plus 4 bytes per dimension.
    case truncatedHeader(needed: Int, available: Int)
    /// The first two bytes are not zero; `found` holds up to the first 4 bytes.
    case badMagic(found: [UInt8])
    case unknownElementType(code: UInt8)
    /// IDX files here have 1 to 4 dimensions.
    case unsupportedRank(Int)
    /// The product of the dimensions times the element size does not fit in memory addresses.
    case sizeOverflow(dimensions: [Int])
    /// The payload is shorter than the header promises.
    case truncatedPayload(expected: Int, available: Int)
    /// The header promises more bytes than the compressed file could ever expand to.
    case impossiblePayload(expected: Int, maximum: Int)
    /// The file goes on after the payload the header describes.
    case trailingBytes

    public var message: String {
        switch self {
        case .truncatedHeader(let needed, let available):
            "truncated header: needs \(needed) bytes, the file has \(available)"
        case .badMagic(let found):
            "bad magic at byte 0: expected 0x00 0x00 <type> <ndims>, found \(found.map { $0.hexLiteral(digits: 2) }.joined(separator: " "))"
        case .unknownElementType(let code):
            "unknown element type \(code.hexLiteral(digits: 2)) at byte 2; expected one of "
                + IDXElementType.allCases.map { $0.rawValue.hexLiteral(digits: 2) }.joined(separator: ", ")
        case .unsupportedRank(let rank):
            "\(rank) dimensions at byte 3; expected 1 to 4"
        case .sizeOverflow(let dimensions):
            "dimensions \(dimensions.map(String.init).joined(separator: "×")) overflow: the payload size does not fit in 64 bits"
        case .truncatedPayload(let expected, let available):
            "truncated payload: the header promises \(expected) bytes of data, the file has \(available)"
        case .impossiblePayload(let expected, let maximum):
            "the header promises \(expected) bytes of data, but the compressed file can hold at most \(maximum) more"
        case .trailingBytes:
            "unexpected bytes after the payload the header describes"
        }
    }

    public var hint: String? {
        switch self {
        case .truncatedHeader, .truncatedPayload:
            "the file is incomplete; download it again"
        case .badMagic(let found) where found.first == UInt8(ascii: "<"):
            "this looks like an HTML page, usually an error page saved by a failed download"
        case .badMagic:
            "this is not an IDX file"
        case .impossiblePayload:
            "gzip expands at most 1032-fold, so the header or the file is corrupt"
        case .unknownElementType, .unsupportedRank, .sizeOverflow, .trailingBytes:
            nil
        }
    }

    public var namesItsLocation: Bool {
        switch self {
        case .badMagic, .unknownElementType, .unsupportedRank: true
        default: false
        }
    }
}
