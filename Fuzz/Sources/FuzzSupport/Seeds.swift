#if canImport(Glibc)
import Glibc
#endif
import MNISTSoftmax
import MNISTSoftmaxFixtures

/// Seed inputs for the fuzz targets, all built here: small valid files of each kind, and a few
/// near-misses, so that libFuzzer starts from inputs that pass the early checks.
public enum Seeds {
    /// IDX arrays of every element type and rank, plus an MNIST-shaped pair (2 images, 2 labels)
    /// of made-up pixels.
    public static func idxArrays() -> [IDXArray] {
        [
            IDXArray(dimensions: [3], elements: .uint8([0, 7, 9])),
            IDXArray(
                dimensions: [2, 28, 28], elements: .uint8((0 ..< 2 * 784).map { UInt8(truncatingIfNeeded: $0 &* 37) })),
            IDXArray(dimensions: [2, 3], elements: .int8([-128, -1, 0, 1, 2, 127])),
            IDXArray(dimensions: [2, 2, 2], elements: .int16([-32768, -1, 0, 1, 2, 3, 4, 32767])),
            IDXArray(dimensions: [1, 1, 2, 2], elements: .int32([.min, -1, 0, .max])),
            IDXArray(dimensions: [4], elements: .float32([0, -0.0, .infinity, .nan])),
            IDXArray(dimensions: [2, 1], elements: .float64([1.5, -2.25])),
            IDXArray(dimensions: [0, 28, 28], elements: .uint8([])),
        ]
    }

    /// Raw IDX files: every array of `idxArrays`, and truncated, trailing and bad-magic variants.
    public static func rawIDX() -> [[UInt8]] {
        let valid = idxArrays().map { $0.encoded() }
        return valid + [
            Array(valid[0].dropLast()),
            valid[0] + [0],
            [0, 0, 8, 1, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3],
            Array("<!DOCTYPE html><html><body>404</body></html>".utf8),
        ]
    }

    /// gzip files: each raw seed compressed, a two-member file, and a truncated stream.
    public static func gzipIDX() -> [[UInt8]] {
        let raw = rawIDX()
        let compressed = raw.map { Gzip.compress($0) }
        let header = idxHeader(rank: 1, count: 4)
        return compressed + [
            Gzip.compress(header) + Gzip.compress([1, 2, 3, 4]),
            Array(compressed[1].dropLast(5)),
        ]
    }

    /// Model files: a valid one, one with the bias first and no metadata, and small broken ones.
    public static func modelFiles() -> [[UInt8]] {
        let model = SoftmaxModel(
            weights: (0 ..< SoftmaxModel.classCount * SoftmaxModel.featureCount).map { Float($0 % 17) / 16 - 0.5 },
            bias: (0 ..< SoftmaxModel.classCount).map { Float($0) })
        let valid = SafeTensorsFile.encode(StoredModel(model: model, metadata: ["note": "fuzz seed"]))
        let biasFirstHeader = Array(
            #"{"bias":{"dtype":"F32","shape":[10],"data_offsets":[0,40]},"weight":{"dtype":"F32","shape":[10,784],"data_offsets":[40,31400]}}"#
                .utf8)
        let biasFirst =
            littleEndianLength(biasFirstHeader.count) + biasFirstHeader
            + [UInt8](repeating: 0, count: 40 + 31360)
        let smallHeader = Array(
            #"{"__metadata__":{"format_version":"2"},"bias":{"dtype":"F16","shape":[10],"data_offsets":[0,20]}}"#.utf8)
        return [
            valid,
            biasFirst,
            littleEndianLength(smallHeader.count) + smallHeader + [UInt8](repeating: 0, count: 20),
            littleEndianLength(2) + Array("{}".utf8),
            littleEndianLength(1 << 40),
        ]
    }

    /// The entry names `FuzzWheel` asks each input for: those of `zipArchives`, and the wheel's.
    public static let zipEntryNames = ["pkg/README.txt", "pkg/data/ramp.bin", "mnist/data/mnist.pkl.gz"]

    /// Zip files: stored and deflated entries, one holding a small MNIST-shaped pickle, and a
    /// wrong CRC, a wrong size and a truncated end record.
    public static func zipArchives() -> [[UInt8]] {
        let text = Array("a stored entry\n".utf8)
        let ramp = (0 ..< 3000).map { UInt8(truncatingIfNeeded: $0 * ($0 / 100 + 1)) }
        var wrongCRC = ZipEntry.deflated("pkg/data/ramp.bin", ramp)
        wrongCRC.crc32 ^= 1
        var wrongSize = ZipEntry.deflated("pkg/data/ramp.bin", ramp)
        wrongSize.uncompressedSize -= 1
        let valid = makeZip([.stored("pkg/README.txt", text), .deflated("pkg/data/ramp.bin", ramp)])
        return [
            valid,
            makeZip([.deflated("mnist/data/mnist.pkl.gz", Gzip.compress(pickles()[0]))]),
            makeZip([wrongCRC]),
            makeZip([wrongSize]),
            Array(valid.dropLast(30)),
        ]
    }

    /// Pickles shaped like mnist.pkl (one or two made-up images per split), and near-misses: a
    /// truncated one, a label of 10, a disallowed global.
    public static func pickles() -> [[UInt8]] {
        func splits(images: Int, label: Int64) -> [(images: [Float], labels: [Int64])] {
            (0 ..< 3).map { split in
                (
                    (0 ..< images * 784).map { Float(($0 * 7 + split * 50) % 256) / 256 },
                    [Int64](repeating: label, count: images)
                )
            }
        }
        let valid = mnistPickle(splits(images: 1, label: 3))
        var disallowed = PickleAssembler()
        disallowed.global("os", "system")
        disallowed.shortString("true")
        disallowed.tuple(1)
        disallowed.opcode("R")
        disallowed.opcode(".")
        return [
            valid, mnistPickle(splits(images: 2, label: 9)), Array(valid.dropLast(50)),
            mnistPickle(splits(images: 1, label: 10)),
            disallowed.bytes,
        ]
    }

    /// Writes `seeds` as files 0, 1, … into `directory`, which must exist.
    public static func write(_ seeds: [[UInt8]], to directory: String) {
        for (index, bytes) in seeds.enumerated() {
            let path = directory + "/seed-\(index)"
            guard let file = fopen(path, "wb") else { fatalError("cannot create \(path)") }
            _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
            fclose(file)
        }
    }

    private static func idxHeader(rank: UInt8, count: UInt32) -> [UInt8] {
        [0, 0, 8, rank, UInt8(count >> 24), UInt8(count >> 16 & 0xFF), UInt8(count >> 8 & 0xFF), UInt8(count & 0xFF)]
    }

    private static func littleEndianLength(_ length: UInt64) -> [UInt8] {
        withUnsafeBytes(of: length.littleEndian) { Array($0) }
    }

    private static func littleEndianLength(_ length: Int) -> [UInt8] {
        littleEndianLength(UInt64(length))
    }
}

/// For `LLVMFuzzerInitialize`: when $MNIST_FUZZ_WRITE_SEEDS names a folder, writes `seeds()` there
/// and exits, so scripts/fuzz.sh needs no second, uninstrumented build to make the corpus.
@discardableResult
public func writeSeedsIfAsked(_ seeds: () -> [[UInt8]]) -> CInt {
    guard let directory = getenv("MNIST_FUZZ_WRITE_SEEDS").map({ String(cString: $0) }) else { return 0 }
    Seeds.write(seeds(), to: directory)
    exit(0)
}

/// `LLVMFuzzerInitialize`'s argv.
public typealias FuzzerArgumentVector = UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>

/// libFuzzer's input as bytes.
public func fuzzInput(_ start: UnsafeRawPointer?, _ count: Int) -> [UInt8] {
    [UInt8](UnsafeRawBufferPointer(start: start, count: count))
}

/// The value `decode` returns; nil when it throws the reader's own error type `Refusal` (an
/// input refused is a correct outcome). Any other error is a finding.
public func valueOrRefusal<Value, Refusal: Error>(_ refusal: Refusal.Type, _ decode: () throws -> Value) -> Value? {
    do {
        return try decode()
    } catch is Refusal {
        return nil
    } catch {
        preconditionFailure("not a \(Refusal.self): \(error)")
    }
}
