/// A pickle the restricted reader refuses; its location is the byte offset in the
/// (decompressed) pickle of the opcode or value at fault.
public typealias PickleError = LocatedError<PickleProblem>

/// What the restricted pickle reader refuses.
public enum PickleProblem: FileProblem {
    /// The data ends inside an opcode's operand or before STOP.
    case truncated
    case unsupportedProtocol(Int)
    /// An opcode outside the small set that pickled numpy arrays need.
    case unsupportedOpcode(UInt8)
    /// A GLOBAL other than `numpy.core.multiarray._reconstruct`, `numpy.ndarray`, `numpy.dtype`.
    case disallowedGlobal(module: String, name: String)
    /// The opcodes do not build the values they should (stack, memo, arguments or state).
    case malformed(String)
    /// Bytes after STOP.
    case trailingBytes
    /// Well-formed opcodes building something other than the MNIST tuple of `<f4` / `<i8` arrays.
    case unexpectedLayout(String)
    /// An image value `v` for which `v × 256` is not an integer in 0…255.
    case notAPixel(value: Float, split: String, index: Int)
    case labelOutOfRange(value: Int64, split: String, index: Int)

    public var message: String {
        switch self {
        case .truncated:
            "the pickle ends early; the file is truncated"
        case .unsupportedProtocol(let version):
            "pickle protocol \(version); this reader accepts protocol 2"
        case .unsupportedOpcode(let opcode):
            "opcode \(opcode.hexLiteral(digits: 2, uppercase: false)) is not one a pickled numpy array needs; refusing it"
        case .disallowedGlobal(let module, let name):
            "refusing GLOBAL \(module).\(name); only numpy.core.multiarray._reconstruct, numpy.ndarray and numpy.dtype are allowed"
        case .malformed(let reason):
            "malformed pickle: \(reason)"
        case .trailingBytes:
            "unexpected bytes after the STOP opcode"
        case .unexpectedLayout(let reason):
            "not the MNIST pickle: \(reason)"
        case .notAPixel(let value, let split, let index):
            "\(split) image value \(value) at element \(index) is not pixel/256 for a pixel in 0…255"
        case .labelOutOfRange(let value, let split, let index):
            "\(split) label \(value) at index \(index) is outside 0…9"
        }
    }
}

/// The callables a pickled numpy array names; the reader refuses every other GLOBAL.
package enum PickleGlobal {
    /// `numpy.core.multiarray._reconstruct`
    case reconstruct
    /// `numpy.ndarray`
    case ndarray
    /// `numpy.dtype`
    case dtype

    init?(module: String, name: String) {
        switch (module, name) {
        case ("numpy.core.multiarray", "_reconstruct"): self = .reconstruct
        case ("numpy", "ndarray"): self = .ndarray
        case ("numpy", "dtype"): self = .dtype
        default: return nil
        }
    }
}

/// The numpy element types the reader accepts, as (type code, byte order) in a pickled dtype.
package enum PickledElementType: Equatable {
    /// `<f4`
    case float32LittleEndian
    /// `<i8`
    case int64LittleEndian

    package var byteWidth: Int { self == .float32LittleEndian ? 4 : 8 }

    package var numpyName: String { self == .float32LittleEndian ? "<f4" : "<i8" }
}

/// A `numpy.dtype(code, 0, 1)` whose byte order BUILD sets later.
///
/// A class, because the pickle memoizes the dtype before BUILD and fetches it from the memo
/// afterwards: both must see the same object, as in Python.
package final class PickledDType {
    let code: String
    package var elementType: PickledElementType?

    init(code: String) { self.code = code }
}

/// An ndarray made by `_reconstruct(ndarray, (0,), b'b')` and filled in by BUILD.
package final class PickledNDArray {
    /// Offset of the REDUCE that created it, for errors.
    package let byteOffset: Int
    package var elementType: PickledElementType?
    package var shape: [Int] = []
    /// The raw element bytes: a range of the pickle itself, never a copy.
    package var data: Range<Int> = 0 ..< 0

    init(byteOffset: Int) { self.byteOffset = byteOffset }
}

/// The values a restricted pickle can build. Strings are ranges of the pickle's bytes.
package indirect enum PickleValue {
    case none
    /// NEWFALSE: the C-order flag of an ndarray's state (the pinned pickle has no True).
    case `false`
    case int(Int)
    case string(Range<Int>)
    /// `depth` is 1 for a tuple of non-tuples, and bounds the nesting (see `maximumNesting`).
    case tuple([PickleValue], depth: Int)
    case global(PickleGlobal)
    case dtype(PickledDType)
    case array(PickledNDArray)

    var nesting: Int {
        if case .tuple(_, let depth) = self { return depth }
        return 0
    }
}

/// A pickle virtual machine that builds values and never runs code.
///
/// It implements only the protocol-2 opcodes that the pinned wheel's `mnist.pkl.gz` uses (checked
/// with `pickletools.genops`: PROTO, GLOBAL, BINPUT, BINGET, MARK, TUPLE, TUPLE1–3, BININT,
/// BININT1, BININT2, SHORT_BINSTRING, BINSTRING, NONE, NEWFALSE, REDUCE, BUILD, STOP), lets REDUCE call nothing but `_reconstruct` (for an empty ndarray) and `dtype`,
/// and lets BUILD set nothing but an ndarray's or a dtype's state, in the exact forms numpy
/// writes. Every operand is bounds-checked; every other opcode or global is an error.
package struct PickleMachine {
    private let bytes: [UInt8]
    private let path: String
    private var position = 0
    /// Offset of the opcode being run, for errors.
    private var opcodeOffset = 0
    private var stack: [PickleValue] = []
    /// Stack heights at each open MARK; values below the innermost one cannot be popped.
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]

    /// Tuples nest at most this deep; the MNIST pickle needs 3. Bounding it keeps the recursive
    /// release of nested values shallow whatever the input.
    static let maximumNesting = 16

    package init(bytes: [UInt8], path: String) {
        self.bytes = bytes
        self.path = path
    }

    /// The value the pickle builds, which must end at STOP with the last byte.
    package mutating func run() throws -> PickleValue {
        while true {
            opcodeOffset = position
            let opcode = try readByte()
            switch opcode {
            case 0x80:  // PROTO u8
                let version = Int(try readByte())
                guard version == 2 else { throw error(.unsupportedProtocol(version)) }
            case UInt8(ascii: "c"):  // GLOBAL "module\nname\n"
                let module = try readLine()
                let name = try readLine()
                guard let global = PickleGlobal(module: module, name: name) else {
                    throw error(.disallowedGlobal(module: module, name: name))
                }
                stack.append(.global(global))
            case UInt8(ascii: "q"):  // BINPUT u8
                memo[Int(try readByte())] = try top()
            case UInt8(ascii: "h"):  // BINGET u8
                try pushMemo(Int(try readByte()))
            case UInt8(ascii: "("):  // MARK
                marks.append(stack.count)
            case UInt8(ascii: "t"):  // TUPLE: everything above the innermost MARK
                guard let mark = marks.popLast() else { throw error(.malformed("TUPLE without a MARK")) }
                let items = Array(stack[mark...])
                stack.removeSubrange(mark...)
                try pushTuple(items)
            case 0x85, 0x86, 0x87:  // TUPLE1, TUPLE2, TUPLE3
                let count = Int(opcode - 0x84)
                var items: [PickleValue] = []
                for _ in 0 ..< count { items.append(try pop()) }
                try pushTuple(items.reversed())
            case UInt8(ascii: "J"):  // BININT i32 little-endian
                stack.append(.int(Int(Int32(bitPattern: try readUInt32()))))
            case UInt8(ascii: "K"):  // BININT1 u8
                stack.append(.int(Int(try readByte())))
            case UInt8(ascii: "M"):  // BININT2 u16 little-endian
                let low = Int(try readByte())
                stack.append(.int(low | Int(try readByte()) << 8))
            case UInt8(ascii: "U"):  // SHORT_BINSTRING u8 length, bytes
                stack.append(.string(try readRange(count: Int(try readByte()))))
            case UInt8(ascii: "T"):  // BINSTRING i32 little-endian length, bytes
                let length = Int(Int32(bitPattern: try readUInt32()))
                guard length >= 0 else { throw error(.malformed("BINSTRING with negative length \(length)")) }
                stack.append(.string(try readRange(count: length)))
            case UInt8(ascii: "N"):  // NONE
                stack.append(.none)
            case 0x89:  // NEWFALSE
                stack.append(.false)
            case UInt8(ascii: "R"):  // REDUCE: callable, argument tuple
                let arguments = try pop()
                let callable = try pop()
                stack.append(try call(callable, arguments))
            case UInt8(ascii: "b"):  // BUILD: object (left on the stack), state
                let state = try pop()
                try build(try top(), state: state)
            case UInt8(ascii: "."):  // STOP
                guard marks.isEmpty, stack.count == 1, let result = stack.first else {
                    throw error(
                        .malformed(
                            "STOP with \(stack.count) values and \(marks.count) open MARKs on the stack; expected one value"
                        ))
                }
                guard position == bytes.count else { throw error(.trailingBytes, at: position) }
                return result
            default:
                throw error(.unsupportedOpcode(opcode))
            }
        }
    }

    /// REDUCE, for the two calls numpy's pickles make.
    private func call(_ callable: PickleValue, _ arguments: PickleValue) throws -> PickleValue {
        guard case .global(let function) = callable, case .tuple(let arguments, _) = arguments else {
            throw error(.malformed("REDUCE needs an allowed global and a tuple of arguments"))
        }
        switch function {
        case .reconstruct:
            // _reconstruct(ndarray, (0,), b'b'): an empty array that BUILD fills in.
            guard arguments.count == 3, case .global(.ndarray) = arguments[0],
                case .tuple(let shape, _) = arguments[1], shape.count == 1, case .int(0) = shape[0],
                case .string(let typeCode) = arguments[2], text(typeCode) == "b"
            else {
                throw error(.malformed("_reconstruct arguments are not (numpy.ndarray, (0,), b'b')"))
            }
            return .array(PickledNDArray(byteOffset: opcodeOffset))
        case .dtype:
            // dtype(code, 0, 1): align False, copy True.
            guard arguments.count == 3, case .string(let code) = arguments[0],
                case .int(0) = arguments[1], case .int(1) = arguments[2], let codeText = text(code)
            else {
                throw error(.malformed("dtype arguments are not (type code, 0, 1)"))
            }
            return .dtype(PickledDType(code: codeText))
        case .ndarray:
            throw error(.malformed("numpy.ndarray may only be passed to _reconstruct, not called"))
        }
    }

    /// BUILD, for a dtype's or an ndarray's state.
    private func build(_ object: PickleValue, state: PickleValue) throws {
        guard case .tuple(let fields, _) = state else {
            throw error(.malformed("BUILD state is not a tuple"))
        }
        switch object {
        case .dtype(let dtype):
            // (3, byte order, subarray None, names None, fields None, elsize -1, alignment -1, flags 0)
            guard dtype.elementType == nil, fields.count == 8, case .int(3) = fields[0],
                case .string(let order) = fields[1],
                case .none = fields[2], case .none = fields[3], case .none = fields[4],
                case .int(-1) = fields[5], case .int(-1) = fields[6], case .int(0) = fields[7]
            else {
                throw error(
                    .malformed("dtype state is not (3, byte order, None, None, None, -1, -1, 0), or is set twice"))
            }
            let name = (text(order) ?? "?") + dtype.code
            switch name {
            case "<f4": dtype.elementType = .float32LittleEndian
            case "<i8": dtype.elementType = .int64LittleEndian
            default: throw error(.unexpectedLayout("dtype \(name) is not supported; expected <f4 or <i8"))
            }
        case .array(let array):
            // (version 1, shape tuple, dtype, Fortran order False, raw element bytes)
            guard array.elementType == nil, fields.count == 5, case .int(1) = fields[0],
                case .tuple(let shapeValues, _) = fields[1],
                case .dtype(let dtype) = fields[2], case .false = fields[3], case .string(let data) = fields[4]
            else {
                throw error(.malformed("ndarray state is not (1, shape, dtype, False, bytes), or is set twice"))
            }
            guard let elementType = dtype.elementType else {
                throw error(.malformed("ndarray uses a dtype whose state was never set"))
            }
            var shape: [Int] = []
            var byteCount = elementType.byteWidth
            for value in shapeValues {
                guard case .int(let extent) = value, extent >= 0 else {
                    throw error(.malformed("ndarray shape holds something other than a non-negative integer"))
                }
                let (product, overflow) = byteCount.multipliedReportingOverflow(by: extent)
                guard !overflow else { throw error(.malformed("ndarray shape \(shape + [extent]) overflows")) }
                byteCount = product
                shape.append(extent)
            }
            guard data.count == byteCount else {
                throw error(
                    .malformed(
                        "ndarray data holds \(data.count) bytes; shape \(shape) of \(elementType.numpyName) needs \(byteCount)"
                    ))
            }
            array.elementType = elementType
            array.shape = shape
            array.data = data
        default:
            throw error(.malformed("BUILD may only set the state of an ndarray or a dtype"))
        }
    }

    /// The text of a short string operand (type codes, byte orders); nil when long or not UTF-8.
    private func text(_ range: Range<Int>) -> String? {
        guard range.count <= 16 else { return nil }
        return String(validating: bytes[range], as: UTF8.self)
    }

    private mutating func pushTuple(_ items: [PickleValue]) throws {
        let depth = 1 + (items.map(\.nesting).max() ?? 0)
        guard depth <= Self.maximumNesting else {
            throw error(.malformed("tuples nest deeper than \(Self.maximumNesting)"))
        }
        stack.append(.tuple(items, depth: depth))
    }

    private mutating func pushMemo(_ key: Int) throws {
        guard let value = memo[key] else { throw error(.malformed("memo entry \(key) is read before it is written")) }
        stack.append(value)
    }

    /// The top value above the innermost MARK.
    private func top() throws -> PickleValue {
        guard stack.count > (marks.last ?? 0), let value = stack.last else {
            throw error(.malformed("the stack is empty"))
        }
        return value
    }

    private mutating func pop() throws -> PickleValue {
        let value = try top()
        stack.removeLast()
        return value
    }

    private mutating func readByte() throws -> UInt8 {
        guard position < bytes.count else { throw error(.truncated, at: bytes.count) }
        defer { position += 1 }
        return bytes[position]
    }

    private mutating func readUInt32() throws -> UInt32 {
        let range = try readRange(count: 4)
        return bytes[range].reversed().reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The next `count` bytes, as a range of the pickle.
    private mutating func readRange(count: Int) throws -> Range<Int> {
        guard count <= bytes.count - position else { throw error(.truncated, at: bytes.count) }
        defer { position += count }
        return position ..< position + count
    }

    /// A newline-terminated ASCII operand (GLOBAL's module and name), at most 256 bytes.
    private mutating func readLine() throws -> String {
        let end = min(bytes.count, position + 256)
        guard let newline = bytes[position ..< end].firstIndex(of: UInt8(ascii: "\n")) else {
            if end == bytes.count { throw error(.truncated, at: bytes.count) }
            throw error(.malformed("GLOBAL operand longer than 256 bytes"))
        }
        defer { position = newline + 1 }
        return String(decoding: bytes[position ..< newline], as: UTF8.self)
    }

    private func error(_ problem: PickleProblem, at offset: Int? = nil) -> PickleError {
        PickleError(path: path, problem: problem, byteOffset: offset ?? opcodeOffset)
    }
}
