import CCrypto

/// SHA-256 (FIPS 180-4) through the system's libcrypto, OpenSSL's EVP digest interface, which
/// uses the CPU's SHA extensions where it has them. Feed it bytes with `update`, then read the
/// digest once with `finalizeHex()`.
///
/// A class, not a struct: it owns the C digest context, which a copy must not share.
package final class SHA256 {
    private let context: OpaquePointer

    package init() {
        // Both calls fail only when memory runs out, which no input can cause.
        guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            fatalError("libcrypto could not start a SHA-256 digest (out of memory)")
        }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Adds `bytes` to the digested message.
    package func update(data bytes: some Collection<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            _ = EVP_DigestUpdate(context, buffer.baseAddress, buffer.count)
        }
        if done == nil { update(data: Array(bytes)) }
    }

    /// The digest of everything added so far, as 64 lowercase hexadecimal digits: the form
    /// MNIST's publishers list. Call it once.
    package func finalizeHex() -> String {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = EVP_DigestFinal_ex(context, &digest, &length)
        return digest[..<Int(length)].map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// SHA-256 of `bytes` as lowercase hex.
    package static func hex(of bytes: some Collection<UInt8>) -> String {
        let hasher = SHA256()
        hasher.update(data: bytes)
        return hasher.finalizeHex()
    }
}
