#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

// MARK: - Fixtures

/// One IDX array to round-trip, named for the test log.
struct IDXFixture: Sendable, CustomTestStringConvertible {
    let name: String
    let array: IDXArray
    var testDescription: String { name }

    static let all: [IDXFixture] = [
        IDXFixture(
            name: "u8 1-D extremes", array: IDXArray(dimensions: [6], elements: .uint8([0, 1, 127, 128, 254, 255]))),
        IDXFixture(
            name: "u8 3-D 2×3×4",
            array: IDXArray(dimensions: [2, 3, 4], elements: .uint8((0 ..< 24).map { UInt8($0 * 11 % 256) }))),
        IDXFixture(
            name: "u8 4-D 2×1×3×2",
            array: IDXArray(dimensions: [2, 1, 3, 2], elements: .uint8((0 ..< 12).map { UInt8(255 - $0 * 7) }))),
        IDXFixture(
            name: "i8 2-D negatives", array: IDXArray(dimensions: [2, 3], elements: .int8([-128, -1, 0, 1, 126, 127]))),
        IDXFixture(
            name: "i16 3-D extremes",
            array: IDXArray(
                dimensions: [2, 2, 2],
                elements: .int16([.min, -1, 0, 1, 255, 256, -256, .max]))),
        IDXFixture(
            name: "i32 4-D extremes",
            array: IDXArray(
                dimensions: [1, 2, 2, 2],
                elements: .int32([.min, -1, 0, 1, 0x0102_0304, -0x0102_0304, 65536, .max]))),
        IDXFixture(
            name: "f32 2-D specials",
            array: IDXArray(
                dimensions: [2, 4],
                elements: .float32([
                    -0.0, 1, -1.5, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude,
                    .infinity, 0.1,
                ]))),
        IDXFixture(
            name: "f64 1-D specials",
            array: IDXArray(
                dimensions: [7],
                elements: .float64([
                    .pi, -.ulpOfOne, .greatestFiniteMagnitude, -.leastNonzeroMagnitude, -.infinity, -0.0, 1e-300,
                ]))),
        IDXFixture(name: "f64 4-D 1×1×1×1", array: IDXArray(dimensions: [1, 1, 1, 1], elements: .float64([-2.5e100]))),
        IDXFixture(name: "i16 with a zero dimension", array: IDXArray(dimensions: [2, 0, 5], elements: .int16([]))),
    ]
}

/// How a round-tripped array is stored.
enum IDXStorage: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case memoryRaw, memoryGzip, fileRaw, fileGzipWithGzSuffix, fileGzipWithoutGzSuffix, fileRawWithGzSuffix
    var testDescription: String { rawValue }
}

/// Element bit patterns, so −0.0 and 0.0 (or two NaNs) can never compare equal by accident.
func bitPatterns(_ elements: IDXElements) -> [UInt64] {
    switch elements {
    case .uint8(let v): return v.map { UInt64($0) }
    case .int8(let v): return v.map { UInt64(UInt8(bitPattern: $0)) }
    case .int16(let v): return v.map { UInt64(UInt16(bitPattern: $0)) }
    case .int32(let v): return v.map { UInt64(UInt32(bitPattern: $0)) }
    case .float32(let v): return v.map { UInt64($0.bitPattern) }
    case .float64(let v): return v.map { $0.bitPattern }
    }
}

/// The IDX error that decoding `bytes` throws (recording an issue if it throws anything else).
func idxFailure(
    _ bytes: [UInt8], path: String = "fixtures/bad-idx3-ubyte",
    sourceLocation: SourceLocation = #_sourceLocation
) -> IDXError? {
    thrownError(IDXError.self, sourceLocation: sourceLocation) { try IDXArray.decode(bytes, path: path) }
}

func gzipFailure(
    _ bytes: [UInt8], path: String = "fixtures/bad-idx3-ubyte.gz",
    sourceLocation: SourceLocation = #_sourceLocation
) -> GzipError? {
    thrownError(GzipError.self, sourceLocation: sourceLocation) { try IDXArray.decode(bytes, path: path) }
}

/// A valid 2×3 u8 array's bytes: 12-byte header, 6-byte payload.
let smallValidIDX: [UInt8] = idxHeader(type: 0x08, dimensions: [2, 3]) + [1, 2, 3, 4, 5, 6]

// MARK: - Round trips

@Suite("IDX round trips")
struct IDXRoundTripTests {
    @Test(arguments: IDXFixture.all, IDXStorage.allCases)
    func everyElementTypeRoundTripsThroughEveryStorage(fixture: IDXFixture, storage: IDXStorage) throws {
        let encoded = fixture.array.encoded()
        let decoded: IDXArray
        switch storage {
        case .memoryRaw:
            decoded = try IDXArray.decode(encoded, path: "memory")
        case .memoryGzip:
            decoded = try IDXArray.decode(Gzip.compress(encoded), path: "memory.gz")
        case .fileRaw, .fileGzipWithGzSuffix, .fileGzipWithoutGzSuffix, .fileRawWithGzSuffix:
            decoded = try withTemporaryDirectory { directory in
                let compressed = storage == .fileGzipWithGzSuffix || storage == .fileGzipWithoutGzSuffix
                let name =
                    storage == .fileGzipWithGzSuffix || storage == .fileRawWithGzSuffix ? "array-idx.gz" : "array-idx"
                let path = (directory as NSString).appendingPathComponent(name)
                let bytes = compressed ? Gzip.compress(encoded) : encoded
                #expect(Gzip.isGzip(bytes) == compressed)
                try FileIO.writeAtomically(bytes, to: path)
                return try IDXArray.read(contentsOf: path)
            }
        }
        #expect(decoded.dimensions == fixture.array.dimensions)
        #expect(decoded.elementType == fixture.array.elementType)
        #expect(decoded.elements.count == fixture.array.elements.count)
        #expect(bitPatterns(decoded.elements) == bitPatterns(fixture.array.elements))
        #expect(decoded.encoded() == encoded)
    }

    /// Round trips alone cannot catch a symmetric mistake (say, little-endian on both sides),
    /// so pin the exact bytes of the format.
    @Test func encodedBytesAreBigEndianWithTheDocumentedHeader() {
        #expect(
            IDXArray(dimensions: [2], elements: .int16([0x0102, -2])).encoded()
                == [0, 0, 0x0B, 1, 0, 0, 0, 2, 0x01, 0x02, 0xFF, 0xFE])
        #expect(
            IDXArray(dimensions: [1, 1], elements: .float32([1])).encoded()
                == [0, 0, 0x0D, 2, 0, 0, 0, 1, 0, 0, 0, 1, 0x3F, 0x80, 0x00, 0x00])
        #expect(
            IDXArray(dimensions: [1], elements: .int32([0x0A0B_0C0D])).encoded()
                == [0, 0, 0x0C, 1, 0, 0, 0, 1, 0x0A, 0x0B, 0x0C, 0x0D])
        #expect(
            IDXArray(dimensions: [1], elements: .float64([-2])).encoded()
                == [0, 0, 0x0E, 1, 0, 0, 0, 1, 0xC0, 0, 0, 0, 0, 0, 0, 0])
        #expect(
            IDXArray(dimensions: [300], elements: .uint8([UInt8](repeating: 7, count: 300))).encoded().prefix(8)
                == [0, 0, 0x08, 1, 0, 0, 0x01, 0x2C])
    }

    @Test func handWrittenBytesDecodeToTheExpectedValues() throws {
        let array = try IDXArray.decode(
            idxHeader(type: 0x0B, dimensions: [3]) + [0x80, 0x00, 0xFF, 0xFF, 0x01, 0x00], path: "x")
        #expect(array.dimensions == [3])
        #expect(array.elements == .int16([-32768, -1, 256]))
    }

    @Test func multiMemberGzipDecodesAsOneStream() throws {
        let header = Array(smallValidIDX.prefix(12)), payload = Array(smallValidIDX.dropFirst(12))
        let array = try IDXArray.decode(Gzip.compress(header) + Gzip.compress(payload), path: "two-members.gz")
        #expect(array.dimensions == [2, 3])
        #expect(array.elements == .uint8([1, 2, 3, 4, 5, 6]))
    }
}

// MARK: - Malformed files

@Suite("IDX malformations")
struct IDXMalformationTests {
    struct Malformation: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        let problem: IDXError.Problem
        let byteOffset: Int
        var testDescription: String { name }
    }

    static let fourBillion: UInt32 = 4_000_000_000

    static let malformations: [Malformation] = [
        Malformation(name: "empty file", bytes: [], problem: .truncatedHeader(needed: 4, available: 0), byteOffset: 0),
        Malformation(
            name: "three bytes of magic", bytes: [0, 0, 8],
            problem: .truncatedHeader(needed: 4, available: 3), byteOffset: 3),
        Malformation(
            name: "magic only", bytes: [0, 0, 8, 3],
            problem: .truncatedHeader(needed: 16, available: 4), byteOffset: 4),
        Malformation(
            name: "partial dimensions", bytes: [0, 0, 8, 3, 0, 0, 0, 2, 0, 0],
            problem: .truncatedHeader(needed: 16, available: 10), byteOffset: 10),
        Malformation(
            name: "bad magic", bytes: [0x12, 0x34, 0x56, 0x78, 0, 0, 0, 1, 9],
            problem: .badMagic(found: [0x12, 0x34, 0x56, 0x78]), byteOffset: 0),
        Malformation(
            name: "second magic byte not zero", bytes: [0, 1, 8, 1, 0, 0, 0, 1, 9],
            problem: .badMagic(found: [0, 1, 8, 1]), byteOffset: 0),
        Malformation(
            name: "one non-zero byte", bytes: [0x41],
            problem: .badMagic(found: [0x41]), byteOffset: 0),
        Malformation(
            name: "unknown type 0x0A", bytes: [0, 0, 0x0A, 1, 0, 0, 0, 1, 9],
            problem: .unknownElementType(code: 0x0A), byteOffset: 2),
        Malformation(
            name: "unknown type 0x07", bytes: [0, 0, 0x07, 1, 0, 0, 0, 1, 9],
            problem: .unknownElementType(code: 0x07), byteOffset: 2),
        Malformation(
            name: "ndims 0", bytes: [0, 0, 8, 0, 9],
            problem: .unsupportedRank(0), byteOffset: 3),
        Malformation(
            name: "ndims 5", bytes: idxHeader(type: 8, dimensions: [1, 1, 1, 1, 1]) + [9],
            problem: .unsupportedRank(5), byteOffset: 3),
        Malformation(
            name: "f64 dimensions overflow", bytes: idxHeader(type: 0x0E, dimensions: [.max, .max, .max, .max]),
            problem: .sizeOverflow(dimensions: [4_294_967_295, 4_294_967_295, 4_294_967_295, 4_294_967_295]),
            byteOffset: 4),
        Malformation(
            name: "u8 dimensions overflow", bytes: idxHeader(type: 0x08, dimensions: [.max, .max, 3]) + [1, 2, 3],
            problem: .sizeOverflow(dimensions: [4_294_967_295, 4_294_967_295, 3]), byteOffset: 4),
        Malformation(
            name: "4 billion items in 100 bytes",
            bytes: idxHeader(type: 0x08, dimensions: [fourBillion]) + [UInt8](repeating: 1, count: 92),
            problem: .truncatedPayload(expected: 4_000_000_000, available: 92), byteOffset: 100),
        Malformation(
            name: "2^62 bytes promised in 100 bytes",
            bytes: idxHeader(type: 0x08, dimensions: [1 << 31, 1 << 31]) + [UInt8](repeating: 1, count: 88),
            problem: .truncatedPayload(expected: 1 << 62, available: 88), byteOffset: 100),
        Malformation(
            name: "truncated payload", bytes: Array(smallValidIDX.dropLast()),
            problem: .truncatedPayload(expected: 6, available: 5), byteOffset: 17),
        Malformation(
            name: "i32 payload cut mid-element", bytes: idxHeader(type: 0x0C, dimensions: [2]) + [0, 0, 0, 1, 0, 0],
            problem: .truncatedPayload(expected: 8, available: 6), byteOffset: 14),
        Malformation(
            name: "trailing byte", bytes: smallValidIDX + [0],
            problem: .trailingBytes, byteOffset: 18),
    ]

    @Test(arguments: malformations)
    func rawMalformationReportsItsProblemPathAndOffset(_ case_: Malformation) throws {
        let path = "fixtures/\(case_.name.replacingOccurrences(of: " ", with: "-"))-idx3-ubyte"
        let error = try #require(idxFailure(case_.bytes, path: path))
        #expect(error.problem == case_.problem)
        #expect(error.byteOffset == case_.byteOffset)
        #expect(error.path == path)
        #expect(error.description.hasPrefix(path + ": "), "\(error.description)")
        #expect(error.description.contains("byte \(case_.byteOffset)"), "\(error.description)")
    }

    /// The same malformations inside a valid gzip stream give the same IDX problems (offsets are in
    /// the decompressed content), except where only the compressed size bounds the payload.
    @Test(arguments: malformations.filter { !$0.name.contains("in 100 bytes") })
    func gzipMalformationReportsTheSameProblem(_ case_: Malformation) throws {
        let error = try #require(idxFailure(Gzip.compress(case_.bytes), path: "fixtures/bad.gz"))
        #expect(error.problem == case_.problem)
        #expect(error.byteOffset == case_.byteOffset)
        #expect(error.description.hasPrefix("fixtures/bad.gz: "))
    }

    @Test func htmlPageIsReportedAsBadMagicWithAnHTMLHint() throws {
        let html = Array(
            "<!DOCTYPE html>\n<html><head><title>404 Not Found</title></head><body>Not Found</body></html>\n".utf8)
        for bytes in [html, Gzip.compress(html)] {
            let error = try #require(idxFailure(bytes, path: "data/train-images-idx3-ubyte"))
            #expect(error.problem == .badMagic(found: Array("<!DO".utf8)))
            #expect(error.byteOffset == 0)
            #expect(error.description.contains("HTML"), "\(error.description)")
            #expect(error.description.contains("0x3C 0x21 0x44 0x4F"), "\(error.description)")
            #expect(error.description.hasPrefix("data/train-images-idx3-ubyte: "))
        }
        // Non-HTML garbage must not be called HTML.
        let other = try #require(idxFailure([0x12, 0x34, 0x56, 0x78]))
        #expect(!other.description.contains("HTML"), "\(other.description)")
    }

    @Test(arguments: [IDXMalformationTests.fourBillion, 1 << 31])
    func hugeClaimInASmallGzipIsImpossibleRatherThanAllocated(_ firstDimension: UInt32) throws {
        // 4e9 items, or 2^62 bytes (2^31 × 2^31): neither could ever be allocated.
        let dimensions: [UInt32] =
            firstDimension == Self.fourBillion ? [firstDimension] : [firstDimension, firstDimension]
        let header = idxHeader(type: 0x08, dimensions: dimensions)
        let raw = header + [UInt8](repeating: 1, count: 100 - header.count)
        let compressed = Gzip.compress(raw)
        let expected = dimensions.reduce(1) { $0 * Int($1) }
        let error = try #require(idxFailure(compressed, path: "huge.gz"))
        #expect(
            error.problem == .impossiblePayload(expected: expected, maximum: compressed.count * 1032 - header.count),
            "compressed \(compressed.count) bytes: \(error)")
        #expect(error.byteOffset == header.count)
        #expect(error.description.contains("\(expected)"))
    }

    /// A zero dimension makes an empty array whatever its position; the product of the dimensions
    /// (0) fits easily, so `sizeOverflow` ("does not fit in memory addresses") does not apply.
    @Test(arguments: [[0, UInt32.max, UInt32.max, UInt32.max], [UInt32.max, UInt32.max, UInt32.max, 0]])
    func zeroDimensionGivesAnEmptyArrayWhateverItsPosition(_ dimensions: [UInt32]) {
        let decoded = thrownNothing {
            try IDXArray.decode(idxHeader(type: 0x08, dimensions: dimensions), path: "empty-idx")
        }
        #expect(decoded?.dimensions == dimensions.map { Int($0) })
        #expect(decoded?.elements == .uint8([]))
    }

    @Test func gzipTrailingBytesInsideTheStreamAreTrailingBytes() throws {
        let error = try #require(idxFailure(Gzip.compress(smallValidIDX + [0xAA, 0xBB]), path: "t.gz"))
        #expect(error.problem == .trailingBytes)
        #expect(error.byteOffset == 18)
    }

    @Test(arguments: [1, 4, 8, 12])
    func truncatedGzipStreamIsAGzipTruncation(droppedBytes: Int) throws {
        let compressed = Gzip.compress(smallValidIDX)
        let cut = Array(compressed.dropLast(droppedBytes))
        let error = try #require(gzipFailure(cut, path: "cut.gz"))
        #expect(error.problem == .truncated, "\(error)")
        #expect(error.compressedOffset == cut.count)
        #expect(error.path == "cut.gz")
        #expect(error.description.contains("compressed byte \(cut.count)"), "\(error.description)")
    }

    @Test func gzipCutInsideLargeDeflateDataIsAGzipTruncation() throws {
        var generator = SeededGenerator(seed: 5)
        let array = IDXArray(
            dimensions: [4000], elements: .uint8((0 ..< 4000).map { _ in UInt8(generator.next(below: 16)) }))
        let compressed = Gzip.compress(array.encoded())
        let cut = Array(compressed.prefix(compressed.count / 2))
        let error = try #require(gzipFailure(cut))
        #expect(error.problem == .truncated)
        #expect(error.compressedOffset == cut.count)
    }

    @Test func gzipHeaderOnlyIsAGzipTruncation() throws {
        let compressed = Gzip.compress(smallValidIDX)
        let error = try #require(gzipFailure(Array(compressed.prefix(10))))
        #expect(error.problem == .truncated)
    }

    @Test func flippedCRCByteIsCorruptDataCheck() throws {
        var compressed = Gzip.compress(smallValidIDX)
        compressed[compressed.count - 8] ^= 0xFF  // first byte of the CRC-32 trailer
        let error = try #require(gzipFailure(compressed, path: "crc.gz"))
        #expect(error.problem == .corrupt(zlibMessage: "incorrect data check"), "\(error)")
        #expect((1 ... compressed.count).contains(error.compressedOffset), "offset \(error.compressedOffset)")
        #expect(error.description.hasPrefix("crc.gz: corrupt gzip data"), "\(error.description)")
    }

    @Test func flippedLengthByteIsCorruptLengthCheck() throws {
        var compressed = Gzip.compress(smallValidIDX)
        compressed[compressed.count - 1] ^= 0x01  // last byte of ISIZE
        let error = try #require(gzipFailure(compressed))
        #expect(error.problem == .corrupt(zlibMessage: "incorrect length check"), "\(error)")
    }

    @Test func garbageAfterTheGzipStreamIsTrailingGarbage() throws {
        let compressed = Gzip.compress(smallValidIDX)
        let error = try #require(gzipFailure(compressed + [0x00, 0x01, 0x02, 0x03], path: "garbage.gz"))
        #expect(error.problem == .trailingGarbage)
        #expect(error.compressedOffset == compressed.count)
        #expect(error.description.contains("after the gzip stream"), "\(error.description)")
    }

    @Test func emptyGzipStreamIsATruncatedHeader() throws {
        let error = try #require(idxFailure(Gzip.compress([])))
        #expect(error.problem == .truncatedHeader(needed: 4, available: 0))
    }
}

// MARK: - Datasets

@Suite("Dataset checks")
struct DatasetTests {
    @Test(arguments: [false, true])
    func matchingFilesLoadWithTheirPixelsAndLabels(gzip: Bool) throws {
        try withTemporaryDirectory { directory in
            let images = imageArray(count: 5, rows: 3, columns: 2)
            let imagesPath = try writeIDX(images, named: "i", in: directory, gzip: gzip)
            let labelsPath = try writeIDX(labelArray([9, 0, 4, 4, 1]), named: "l", in: directory, gzip: gzip)
            let data = try LabeledImages.load(imagesAt: imagesPath, labelsAt: labelsPath)
            #expect(data.count == 5)
            #expect(data.rows == 3 && data.columns == 2 && data.pixelsPerImage == 6)
            #expect(data.labels == [9, 0, 4, 4, 1])
            guard case .uint8(let pixels) = images.elements else { Issue.record("fixture is not u8"); return }
            #expect(data.pixels == pixels)
        }
    }

    @Test func labelElevenAtIndex42IsOutOfRange() throws {
        try withTemporaryDirectory { directory in
            var labels = (0 ..< 50).map { UInt8($0 % 10) }
            labels[42] = 11
            let imagesPath = try writeIDX(imageArray(count: 50, rows: 2, columns: 2), named: "images", in: directory)
            let labelsPath = try writeIDX(labelArray(labels), named: "labels", in: directory)
            let error = try #require(
                thrownError(DatasetError.self) {
                    try LabeledImages.load(imagesAt: imagesPath, labelsAt: labelsPath)
                })
            #expect(error.problem == .labelOutOfRange(label: 11, index: 42))
            #expect(error.path == labelsPath)
            #expect(error.description == "\(labelsPath): label 11 at index 42 is outside 0…9")
        }
    }

    @Test func firstOutOfRangeLabelIsReported() throws {
        let error = try #require(
            thrownError(DatasetError.self) {
                try LabeledImages(pixels: [0, 0, 0], labels: [10, 255, 3], rows: 1, columns: 1, source: "s")
            })
        #expect(error.problem == .labelOutOfRange(label: 10, index: 0))
    }

    @Test func imageAndLabelCountMismatchNamesBothFiles() throws {
        try withTemporaryDirectory { directory in
            let imagesPath = try writeIDX(imageArray(count: 5, rows: 2, columns: 2), named: "images", in: directory)
            let labelsPath = try writeIDX(labelArray([1, 2, 3, 4]), named: "labels", in: directory)
            let error = try #require(
                thrownError(DatasetError.self) {
                    try LabeledImages.load(imagesAt: imagesPath, labelsAt: labelsPath)
                })
            #expect(error.problem == .countMismatch(images: 5, labels: 4, imagesPath: imagesPath))
            #expect(error.path == labelsPath)
            #expect(
                error.description.contains("4 labels") && error.description.contains("5 images"), "\(error.description)"
            )
        }
    }

    @Test func imageFileGivenAsLabelsIsNotALabelFile() throws {
        try withTemporaryDirectory { directory in
            let imagesPath = try writeIDX(imageArray(count: 5, rows: 2, columns: 2), named: "images", in: directory)
            let error = try #require(
                thrownError(DatasetError.self) {
                    try LabeledImages.load(imagesAt: imagesPath, labelsAt: imagesPath)
                })
            #expect(error.problem == .notALabelFile(dimensions: [5, 2, 2]))
            #expect(error.path == imagesPath)
        }
    }

    @Test func labelFileGivenAsImagesIsNotAnImageFile() throws {
        try withTemporaryDirectory { directory in
            let labelsPath = try writeIDX(labelArray([1, 2, 3]), named: "labels", in: directory)
            let error = try #require(
                thrownError(DatasetError.self) {
                    try LabeledImages.load(imagesAt: labelsPath, labelsAt: labelsPath)
                })
            #expect(error.problem == .notAnImageFile(dimensions: [3]))
            #expect(error.path == labelsPath)
        }
    }

    @Test func wrongElementTypeIsRejectedForImagesAndLabels() throws {
        try withTemporaryDirectory { directory in
            let goodImages = try writeIDX(imageArray(count: 2, rows: 2, columns: 2), named: "images", in: directory)
            let goodLabels = try writeIDX(labelArray([1, 2]), named: "labels", in: directory)
            let int8Images = try writeIDX(
                IDXArray(dimensions: [2, 2, 2], elements: .int8([Int8](repeating: -1, count: 8))),
                named: "int8-images", in: directory)
            let floatLabels = try writeIDX(
                IDXArray(dimensions: [2], elements: .float32([1, 2])), named: "float-labels", in: directory)

            let imageError = try #require(
                thrownError(DatasetError.self) {
                    try LabeledImages.load(imagesAt: int8Images, labelsAt: goodLabels)
                })
            #expect(imageError.problem == .wrongElementType(found: .int8, expected: .uint8))
            #expect(imageError.path == int8Images)

            let labelError = try #require(
                thrownError(DatasetError.self) {
                    try LabeledImages.load(imagesAt: goodImages, labelsAt: floatLabels)
                })
            #expect(labelError.problem == .wrongElementType(found: .float32, expected: .uint8))
            #expect(labelError.path == floatLabels)
            #expect(
                labelError.description.contains("float32") && labelError.description.contains("0x08"),
                "\(labelError.description)")
        }
    }

    @Test func requireModelInputSizeRejects32By32() throws {
        let data = try LabeledImages(
            pixels: [UInt8](repeating: 0, count: 2 * 32 * 32), labels: [0, 1], rows: 32, columns: 32)
        let error = try #require(
            thrownError(DatasetError.self) { try data.requireModelInputSize(source: "big-images") })
        #expect(error.problem == .wrongImageSize(rows: 32, columns: 32))
        #expect(error.path == "big-images")
        #expect(error.description.contains("32×32") && error.description.contains("28×28"), "\(error.description)")
    }

    @Test func requireModelInputSizeAccepts28By28AndRejectsAnEmptySet() throws {
        let data = try LabeledImages(pixels: [UInt8](repeating: 0, count: 784), labels: [3], rows: 28, columns: 28)
        try data.requireModelInputSize(source: "ok")
        let empty = try LabeledImages(pixels: [], labels: [], rows: 28, columns: 28)
        let error = try #require(thrownError(DatasetError.self) { try empty.requireModelInputSize(source: "empty") })
        #expect(error.problem == .emptyDataset)
    }

    /// The documentation of `requireModelInputSize` (and of `DataDirectory.load`) says it throws
    /// unless the images are 28×28; 14×56 images have 784 pixels but are not 28×28.
    @Test func requireModelInputSizeRejects14By56EvenThoughItHas784Pixels() throws {
        let data = try LabeledImages(pixels: [UInt8](repeating: 0, count: 784), labels: [3], rows: 14, columns: 56)
        let error = thrownError(DatasetError.self) { try data.requireModelInputSize(source: "flat") }
        #expect(error?.problem == .wrongImageSize(rows: 14, columns: 56))
    }

    @Test func labeledImagesRejectsPixelCountThatDoesNotMatchTheLabels() throws {
        let error = try #require(
            thrownError(DatasetError.self) {
                try LabeledImages(
                    pixels: [UInt8](repeating: 0, count: 10), labels: [0, 1, 2], rows: 2, columns: 2, source: "s")
            })
        #expect(error.problem == .countMismatch(images: 2, labels: 3, imagesPath: "s"))
    }

    @Test func sliceKeepsTheImagesInOrder() throws {
        let data = try LabeledImages(pixels: Array(0 ..< 12), labels: [0, 1, 2], rows: 2, columns: 2)
        let slice = data.slice(1 ..< 3)
        #expect(slice.labels == [1, 2])
        #expect(slice.pixels == [4, 5, 6, 7, 8, 9, 10, 11])
    }
}

@Suite("Data directory")
struct DataDirectoryTests {
    @Test func locationPrefersTheRawFileOverTheGzip() throws {
        try withTemporaryDirectory { directory in
            let name = MNISTFile.trainImages.name
            let raw = (directory as NSString).appendingPathComponent(name)
            try FileIO.writeAtomically(Gzip.compress([1]), to: raw + ".gz")
            #expect(try DataDirectory(path: directory).location(of: .trainImages) == raw + ".gz")
            try FileIO.writeAtomically([1], to: raw)
            #expect(try DataDirectory(path: directory).location(of: .trainImages) == raw)
        }
    }

    /// The library's hint names no command-line flag; `mnist-softmax` adds `fetch --data-dir`
    /// (checked in HostileInputTests, "train without data").
    @Test func missingFileNamesTheDirectoryAndHintsAtFetch() throws {
        try withTemporaryDirectory { directory in
            let error = try #require(
                thrownError(DatasetError.self) {
                    try DataDirectory(path: directory).location(of: .testLabels)
                })
            #expect(error.problem == .missingFile(name: "t10k-labels-idx1-ubyte", directory: directory))
            #expect(error.description.hasPrefix("\(directory): no t10k-labels-idx1-ubyte or "), "\(error.description)")
            #expect(error.hint == "download and verify MNIST into this directory", "\(error.description)")
            #expect(!error.description.contains("--"), "\(error.description)")
            #expect(error.description.contains("t10k-labels-idx1-ubyte.gz"), "\(error.description)")
        }
    }

    @Test func resolvePrefersExplicitThenEnvironmentThenDefault() {
        let environment = [DataDirectory.environmentVariable: "/from/env"]
        #expect(DataDirectory.environmentVariable == "MNIST_DATA_DIR")
        #expect(DataDirectory.resolve(explicitPath: "/explicit", environment: environment).path == "/explicit")
        #expect(DataDirectory.resolve(explicitPath: nil, environment: environment).path == "/from/env")
        #expect(DataDirectory.resolve(explicitPath: nil, environment: ["OTHER": "x"]).path == "data/mnist")
        #expect(DataDirectory.resolve(explicitPath: "/explicit", environment: [:]).path == "/explicit")
    }

    @Test func loadReadsASplitFromMixedRawAndGzipFiles() throws {
        try withTemporaryDirectory { directory in
            try writeIDX(
                imageArray(count: 3, rows: 28, columns: 28), named: "t10k-images-idx3-ubyte.gz", in: directory,
                gzip: true)
            try writeIDX(labelArray([7, 2, 1]), named: "t10k-labels-idx1-ubyte", in: directory)
            let data = try DataDirectory(path: directory).load(.test)
            #expect(data.count == 3)
            #expect(data.labels == [7, 2, 1])
            #expect(data.pixelsPerImage == 784)
        }
    }

    @Test func loadRejects32By32ImagesNamingTheImageFile() throws {
        try withTemporaryDirectory { directory in
            let imagesPath = try writeIDX(
                imageArray(count: 2, rows: 32, columns: 32), named: "train-images-idx3-ubyte", in: directory)
            try writeIDX(labelArray([0, 1]), named: "train-labels-idx1-ubyte", in: directory)
            let error = try #require(thrownError(DatasetError.self) { try DataDirectory(path: directory).load(.train) })
            #expect(error.problem == .wrongImageSize(rows: 32, columns: 32))
            #expect(error.path == imagesPath)
        }
    }
}

// MARK: - File access

@Suite("File access")
struct FileAccessTests {
    @Test func readingADirectoryIsNotARegularFile() throws {
        try withTemporaryDirectory { directory in
            let error = try #require(thrownError(FileAccessError.self) { try IDXArray.read(contentsOf: directory) })
            #expect(error.problem == .notARegularFile(kind: "directory"))
            #expect(error.path == directory)
            #expect(error.description.contains("expected a regular file"))
        }
    }

    #if canImport(Glibc) || canImport(Darwin)
    /// The reads run on a thread of their own, timed from when they start: a time limit on the
    /// test would also count the time the test waits for a free thread while the suite runs.
    @Test func readingAFIFOIsRefusedWithoutBlocking() throws {
        try withTemporaryDirectory { directory in
            let fifo = (directory as NSString).appendingPathComponent("train-images-idx3-ubyte")
            try #require(mkfifo(fifo, 0o600) == 0, "mkfifo failed: errno \(errno)")
            // No writer ever opens the FIFO: a blocking open or read would hang the thread.
            let finished = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var outcomes:
                (direct: Result<IDXArray, any Error>?, viaDataset: Result<LabeledImages, any Error>?)
            Thread {
                outcomes.direct = Result { try IDXArray.read(contentsOf: fifo) }
                outcomes.viaDataset = Result { try LabeledImages.load(imagesAt: fifo, labelsAt: fifo) }
                finished.signal()
            }.start()
            try #require(finished.wait(timeout: .now() + 30) == .success, "reading a FIFO blocked for 30 s")
            let error = try #require(thrownError(FileAccessError.self) { try outcomes.direct?.get() })
            #expect(error.problem == .notARegularFile(kind: "FIFO"))
            #expect(error.path == fifo)
            let viaDataset = try #require(thrownError(FileAccessError.self) { try outcomes.viaDataset?.get() })
            #expect(viaDataset.problem == .notARegularFile(kind: "FIFO"))
        }
    }
    #endif

    @Test func missingFileCannotBeOpened() throws {
        try withTemporaryDirectory { directory in
            let path = (directory as NSString).appendingPathComponent("absent")
            let error = try #require(thrownError(FileAccessError.self) { try FileIO.readAll(path) })
            guard case .cannotOpen(let reason) = error.problem else {
                Issue.record("expected cannotOpen, got \(error.problem)")
                return
            }
            #expect(reason.contains("No such file"), "\(reason)")
        }
    }

    @Test func writeAtomicallyReplacesTheFileAndLeavesNoTemporaryFiles() throws {
        try withTemporaryDirectory { directory in
            let path = (directory as NSString).appendingPathComponent("out.bin")
            try FileIO.writeAtomically([1, 2, 3], to: path)
            try FileIO.writeAtomically([4, 5], to: path)
            #expect(try FileIO.readAll(path) == [4, 5])
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["out.bin"])
            let error = try #require(
                thrownError(FileAccessError.self) { try FileIO.writeAtomically([1], to: directory) })
            #expect(error.problem == .targetIsDirectory)
        }
    }
}
