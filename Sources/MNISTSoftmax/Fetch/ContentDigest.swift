/// The digest every file is checked by before it counts as present or is installed.
extension MNISTFetcher {
    /// The largest decompressed MNIST file: the training images, 60000 × 28 × 28 bytes and a
    /// 16-byte header.
    public static let largestContentSize = 47_040_016

    /// SHA-256 (lowercase hex) of `bytes`, decompressed first when they start with the gzip magic:
    /// what `fetch` compares with `MNISTFile.sha256`. `path` names the bytes in errors.
    ///
    /// The content is hashed as it is decompressed, 4 MiB at a time, and decompression stops
    /// with `GzipError.tooLarge` once it passes `largestContentSize`: a downloaded or misplaced
    /// decompression bomb costs neither gigabytes of memory nor minutes.
    public static func contentDigest(of bytes: [UInt8], path: String) throws -> String {
        guard Gzip.isGzip(bytes) else { return sha256Hex(bytes) }
        let hasher = SHA256()
        try Inflater(compressed: bytes, path: path).forEachChunk(limit: largestContentSize) { hasher.update(data: $0) }
        return hasher.finalizeHex()
    }

    static func sha256Hex(_ bytes: [UInt8]) -> String {
        SHA256.hex(of: bytes)
    }
}
