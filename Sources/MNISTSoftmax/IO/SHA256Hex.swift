import Crypto

extension SHA256.Digest {
    /// The digest as 64 lowercase hexadecimal digits, the form MNIST's publishers list.
    var hexString: String {
        map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }
}
