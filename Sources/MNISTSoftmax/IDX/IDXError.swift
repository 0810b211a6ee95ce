/// A malformed IDX file: which file, what is wrong, and the byte offset of the problem
/// (in the decompressed content when the file is gzip-compressed).
public struct IDXError: Error, CustomStringConvertible, Equatable {
    public enum Problem: Equatable, Sendable {
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
    }

    public let path: String
    public let problem: Problem
    /// Byte offset of the problem in the (decompressed) IDX content.
    public let byteOffset: Int

    public init(path: String, problem: Problem, byteOffset: Int) {
        self.path = path
        self.problem = problem
        self.byteOffset = byteOffset
    }

    public var description: String {
        let message: String
        var hint: String?
        switch problem {
        case .truncatedHeader(let needed, let available):
            message = "truncated header: needs \(needed) bytes, the file has \(available)"
            hint = "the file is incomplete; download it again (mnist-softmax fetch)"
        case .badMagic(let found):
            let hex = found.map { "0x" + String($0, radix: 16, uppercase: true).leftPadded(to: 2) }
            message = "bad magic at byte 0: expected 0x00 0x00 <type> <ndims>, found \(hex.joined(separator: " "))"
            if found.first == UInt8(ascii: "<") {
                hint = "this looks like an HTML page, usually an error page saved by a failed download"
            } else {
                hint = "this is not an IDX file"
            }
        case .unknownElementType(let code):
            let known = IDXElementType.allCases.map { "0x" + String($0.rawValue, radix: 16, uppercase: true).leftPadded(to: 2) }
            message = "unknown element type 0x\(String(code, radix: 16, uppercase: true).leftPadded(to: 2)) at byte 2; expected one of \(known.joined(separator: ", "))"
        case .unsupportedRank(let rank):
            message = "\(rank) dimensions at byte 3; expected 1 to 4"
        case .sizeOverflow(let dimensions):
            message = "dimensions \(dimensions.map(String.init).joined(separator: "×")) overflow: the payload size does not fit in 64 bits"
        case .truncatedPayload(let expected, let available):
            message = "truncated payload: the header promises \(expected) bytes of data, the file has \(available)"
            hint = "the file is incomplete; download it again (mnist-softmax fetch)"
        case .impossiblePayload(let expected, let maximum):
            message = "the header promises \(expected) bytes of data, but the compressed file can hold at most \(maximum) more"
            hint = "gzip expands at most 1032-fold, so the header or the file is corrupt"
        case .trailingBytes:
            message = "unexpected bytes after the payload the header describes"
        }
        let location = " (byte \(byteOffset))"
        return "\(path): \(message)\(problem.namesItsOffset ? "" : location)" + (hint.map { "\nHINT: \($0)" } ?? "")
    }
}

extension IDXError.Problem {
    /// Problems whose message already says where they are.
    var namesItsOffset: Bool {
        switch self {
        case .badMagic, .unknownElementType, .unsupportedRank: return true
        default: return false
        }
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
