import MNISTSoftmax
import MNISTSoftmaxTestSupport
import Testing

/// FIPS 180-4's SHA-256 examples (and the NIST vector of a million "a"), through libcrypto.
struct SHA256Tests {
    static let emptyDigest = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let abcDigest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    static let message448 = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
    static let message448Digest = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    static let millionADigest = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

    @Test func theFIPSExamplesHashToThePublishedDigests() {
        #expect(SHA256.hex(of: [UInt8]()) == Self.emptyDigest)
        #expect(SHA256.hex(of: Array("abc".utf8)) == Self.abcDigest)
        #expect(Self.message448.count * 8 == 448)
        #expect(SHA256.hex(of: Self.message448) == Self.message448Digest)
    }

    @Test func updatesInPiecesGiveTheDigestOfTheWholeMessage() {
        let hasher = SHA256()
        for piece in ["a", "", "bc"] { hasher.update(data: Array(piece.utf8)) }
        #expect(hasher.finalizeHex() == Self.abcDigest)
        // A million "a" in 1,000 updates of 1,000 bytes: many 64-byte blocks cross update borders.
        let thousand = [UInt8](repeating: UInt8(ascii: "a"), count: 1000)
        let million = SHA256()
        for _ in 0 ..< 1000 { million.update(data: thousand) }
        #expect(million.finalizeHex() == Self.millionADigest)
    }

    @Test func theBackgroundDigestHashesRegionsInTheOrderHandedOver() {
        let message = [UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000)
        let digest = BackgroundSHA256()
        digest.update(copying: Array(message[..<7]))
        message.withUnsafeBytes { bytes in
            // Uneven regions, so that order matters and blocks straddle them.
            var start = 7
            for size in [1, 63, 65, 4096, 100_000] {
                digest.update(region: UnsafeRawBufferPointer(rebasing: bytes[start ..< start + size]))
                start += size
            }
            digest.update(region: UnsafeRawBufferPointer(rebasing: bytes[start...]))
            digest.finish()
        }
        #expect(digest.finalizeHex() == Self.millionADigest)
    }

    @Test func readingAnIDXFileWithItsDigestHashesEveryChunkAndStopsCleanlyOnATruncatedOne() throws {
        // 2 × 1000 × 1000 bytes: the payload is read and hashed in two 1 MiB chunks and a rest.
        let pixels = (0 ..< 2_000_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) }
        let array = IDXArray(dimensions: [2, 1000, 1000], elements: .uint8(pixels))
        try withTemporaryDirectory { directory in
            let path = directory + "/images-idx3-ubyte.gz"
            let compressed = Gzip.compress(array.encoded())
            try FileIO.writeAtomically(compressed, to: path)
            let (read, digest) = try IDXArray.readWithContentDigest(contentsOf: path)
            #expect(read == array)
            #expect(digest == SHA256.hex(of: array.encoded()))
            try FileIO.writeAtomically(Array(compressed.prefix(compressed.count / 2)), to: path)
            let error = try #require(
                thrownError(GzipError.self) { try IDXArray.readWithContentDigest(contentsOf: path) })
            #expect(error.problem == .truncated)
        }
    }
}

/// Gzip IDX files read from disk a MiB at a time (`Inflater(gzipFile:)`) decode and fail exactly
/// as the same bytes decoded in memory.
struct GzipFileStreamingTests {
    /// 3 × 1000 × 1000 bytes of xorshift noise, which deflate cannot shrink: about three 1 MiB
    /// pieces of gzip.
    static let array: IDXArray = {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let noise = (0 ..< 3_000_000).map { _ in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        return IDXArray(dimensions: [3, 1000, 1000], elements: .uint8(noise))
    }()

    func readFromFile(_ bytes: [UInt8]) throws -> Result<IDXArray, GzipError> {
        try withTemporaryDirectory { directory in
            let path = directory + "/file.gz"
            try FileIO.writeAtomically(bytes, to: path)
            do {
                return .success(try IDXArray.read(contentsOf: path))
            } catch let error as GzipError {
                return .failure(error)
            }
        }
    }

    func decodedInMemory(_ bytes: [UInt8]) throws -> Result<IDXArray, GzipError> {
        do {
            return .success(try IDXArray.decode(bytes, path: "memory"))
        } catch let error as GzipError {
            return .failure(error)
        }
    }

    @Test func aFileOfSeveralPiecesAndMembersReadsAsInMemoryAndFailsAtTheSameOffsets() throws {
        let encoded = Self.array.encoded()
        let oneMember = Gzip.compress(encoded, level: 1)
        #expect(oneMember.count > 2 * Inflater.filePieceSize, "\(oneMember.count) bytes of gzip")
        // Members split inside the second piece, so that a member ends and the next one's magic
        // is read across a piece boundary.
        let split = Inflater.filePieceSize + 12_345
        let twoMembers =
            Gzip.compress(Array(encoded[..<split]), level: 1) + Gzip.compress(Array(encoded[split...]), level: 1)
        var badCRC = twoMembers
        badCRC[badCRC.count - 8] ^= 0xFF
        var badLength = twoMembers
        badLength[badLength.count - 1] ^= 0x01
        let cases: [(String, [UInt8])] = [
            ("one member", oneMember), ("two members", twoMembers),
            ("truncated", Array(oneMember.prefix(oneMember.count - 100_000))),
            ("trailing garbage", twoMembers + [0, 1, 2]), ("bad CRC", badCRC), ("bad length", badLength),
        ]
        for (name, bytes) in cases {
            let (fromFile, inMemory) = (try readFromFile(bytes), try decodedInMemory(bytes))
            switch (fromFile, inMemory) {
            case (.success(let a), .success(let b)):
                #expect(a == Self.array && b == Self.array, "\(name)")
            case (.failure(let a), .failure(let b)):
                #expect(a.problem == b.problem && a.compressedOffset == b.compressedOffset, "\(name): \(a) vs \(b)")
            default:
                Issue.record("\(name): from the file \(fromFile), in memory \(inMemory)")
            }
        }
    }
}
