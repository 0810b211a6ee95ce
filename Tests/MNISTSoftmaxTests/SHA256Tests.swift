import MNISTSoftmax
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
            let error = try #require(thrownError(GzipError.self) { try IDXArray.readWithContentDigest(contentsOf: path) })
            #expect(error.problem == .truncated)
        }
    }
}
