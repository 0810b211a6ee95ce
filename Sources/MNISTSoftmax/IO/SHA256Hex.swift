import Crypto

extension SHA256.Digest {
    /// The digest as 64 lowercase hexadecimal digits, the form MNIST's publishers list.
    var hexString: String {
        map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }
}

extension IDXArray {
    /// SHA-256 of the array's IDX content (header and payload, decompressed), as 64 lowercase
    /// hexadecimal digits: for MNIST's files, the digests `MNISTFile.sha256` lists.
    public var contentSHA256: String {
        SHA256.hash(data: encoded()).hexString
    }
}
