// Fixture builders shared by the unit tests and the fuzz targets' seed corpora (Fuzz/): small
// files of the formats the fetcher reads, built in code, never MNIST data.

/// Protocol-2 pickle opcodes and operands, appended in order.
public struct PickleAssembler {
    public var bytes: [UInt8] = [0x80, 2]  // PROTO 2
    var memoized: Set<UInt8> = []

    public init() {}

    public mutating func opcode(_ character: Character) { bytes.append(character.asciiValue ?? 0) }
    public mutating func global(_ module: String, _ name: String) {
        opcode("c"); bytes += Array("\(module)\n\(name)\n".utf8)
    }
    public mutating func put(_ key: UInt8) { opcode("q"); bytes.append(key); memoized.insert(key) }
    public mutating func get(_ key: UInt8) { opcode("h"); bytes.append(key) }
    public mutating func int1(_ value: UInt8) { opcode("K"); bytes.append(value) }
    public mutating func int2(_ value: UInt16) { opcode("M"); bytes.appendLittleEndian(value) }
    public mutating func int4(_ value: Int32) { opcode("J"); bytes.appendLittleEndian(value) }
    public mutating func shortString(_ text: String) {
        opcode("U"); bytes.append(UInt8(text.utf8.count)); bytes += Array(text.utf8)
    }
    public mutating func string(_ data: [UInt8]) {
        opcode("T"); bytes.appendLittleEndian(Int32(data.count)); bytes += data
    }
    public mutating func tuple(_ count: Int) { bytes.append(0x84 + UInt8(count)) }  // TUPLE1…TUPLE3

    /// `_reconstruct(ndarray, (0,), b'b')` then BUILD `(1, shape, dtype, False, data)`, as numpy
    /// writes it. Globals and dtypes are memoized where first used and fetched from the memo after:
    /// keys 1 `_reconstruct`, 2 `ndarray`, 3 `dtype`, `dtypeKey` the built dtype.
    public mutating func array(shape: [UInt16], code: String, dtypeKey: UInt8, data: [UInt8]) {
        if memoized.contains(1) {
            get(1); get(2)
        } else {
            global("numpy.core.multiarray", "_reconstruct"); put(1); global("numpy", "ndarray"); put(2)
        }
        int1(0); tuple(1); shortString("b"); tuple(3); opcode("R")
        opcode("("); int1(1)
        for extent in shape { int2(extent) }
        tuple(shape.count)
        if memoized.contains(dtypeKey) {
            get(dtypeKey)
        } else {
            if memoized.contains(3) { get(3) } else { global("numpy", "dtype"); put(3) }
            shortString(code); int1(0); int1(1); tuple(3); opcode("R"); put(dtypeKey)
            opcode("("); int1(3); shortString("<"); opcode("N"); opcode("N"); opcode("N")
            int4(-1); int4(-1); int1(0); opcode("t"); opcode("b")
        }
        bytes.append(0x89)  // NEWFALSE
        string(data)
        opcode("t"); opcode("b")
    }
}

/// A pickle shaped like mnist.pkl: a tuple of 3 splits, each (images `<f4` (N, 784), labels `<i8` (N,)).
public func mnistPickle(_ splits: [(images: [Float], labels: [Int64])]) -> [UInt8] {
    var pickle = PickleAssembler()
    for split in splits {
        var imageBytes: [UInt8] = []
        for value in split.images { imageBytes.appendLittleEndian(value.bitPattern) }
        var labelBytes: [UInt8] = []
        for label in split.labels { labelBytes.appendLittleEndian(label) }
        pickle.array(shape: [UInt16(split.labels.count), 784], code: "f4", dtypeKey: 4, data: imageBytes)
        pickle.array(shape: [UInt16(split.labels.count)], code: "i8", dtypeKey: 5, data: labelBytes)
        pickle.tuple(2)
    }
    pickle.tuple(3)
    pickle.opcode(".")
    return pickle.bytes
}
