/// The Protocol Buffers wire format, writing side only: enough to serialise the few ONNX
/// messages an exported model needs (see `ONNX.Model`).
///
/// Why a writer of our own rather than apple/swift-protobuf: the export writes ten message types
/// with three field kinds (varint, length-delimited bytes, nested message). That is this short
/// file, tested byte for byte against known encodings and end to end by PyPI's `onnx.checker` and
/// `onnxruntime` in CI. swift-protobuf would add a runtime dependency and either its build plugin
/// (protoc at build time) or a large generated `onnx.pb.swift` committed and kept in step with
/// ONNX, to produce the same bytes. Nothing here reads protobuf, so no parser is needed.
///
/// Encoding (https://protobuf.dev/programming-guides/encoding/): each field is a key,
/// `field_number << 3 | wire_type`, as a varint, then the value. Wire type 0 is a varint: 7 bits
/// per byte, least significant group first, the high bit set on every byte but the last. Wire
/// type 2 is a varint length, then that many bytes: strings, bytes and nested messages.
public struct ProtobufWriter: Sendable {
    /// The encoded message so far.
    public private(set) var bytes: [UInt8] = []

    public init() {}

    /// The wire types used here.
    enum WireType: UInt64 {
        case varint = 0
        case lengthDelimited = 2
    }

    /// A varint: 7 bits per byte, least significant group first.
    mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func appendKey(_ field: Int, _ wireType: WireType) {
        precondition(field >= 1 && field < 1 << 29, "protobuf field numbers are 1 ..< 2^29")
        appendVarint(UInt64(field) << 3 | wireType.rawValue)
    }

    /// An int32, int64 or enum field. Negative values take ten bytes (two's complement as a
    /// 64-bit varint), as protobuf specifies for int32 and int64.
    public mutating func writeInteger(_ field: Int, _ value: Int64) {
        appendKey(field, .varint)
        appendVarint(UInt64(bitPattern: value))
    }

    /// A bytes field: the length, then the bytes.
    public mutating func writeBytes(_ field: Int, _ value: [UInt8]) {
        appendKey(field, .lengthDelimited)
        appendVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// A string field: its UTF-8 bytes.
    public mutating func writeString(_ field: Int, _ value: String) {
        writeBytes(field, Array(value.utf8))
    }

    /// A nested message field: the message that `body` writes, length-prefixed.
    public mutating func writeMessage(_ field: Int, _ body: (inout ProtobufWriter) -> Void) {
        var nested = ProtobufWriter()
        body(&nested)
        writeBytes(field, nested.bytes)
    }
}
