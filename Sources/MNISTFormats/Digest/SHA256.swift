import CCrypto
import Foundation

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

/// SHA-256 of a message that its producer is still writing, computed on a thread of its own: the
/// producer hands over each finished region with `update(region:)` and goes on writing the next
/// one, so that hashing overlaps producing (decompressing 47 MB of images and hashing them take
/// about as long as each other; on two cores this takes the time of the slower one alone).
///
/// The producer must keep every region it hands over alive and unchanged until `finish()` (or
/// `cancel()`) has returned. Regions are hashed in the order they were handed over.
package final class BackgroundSHA256: @unchecked Sendable {
    private let hasher = SHA256()
    private let condition = NSCondition()
    /// Regions handed over and not yet hashed, oldest first; guarded by `condition`.
    private var pending: [UnsafeRawBufferPointer] = []
    /// Small messages copied in (headers), kept alive here until the end.
    private var copies: [[UInt8]] = []
    private var closed = false
    private var cancelled = false
    private var finished = false

    package init() {
        let thread = Thread { [self] in hashUntilClosed() }
        thread.name = "sha256"
        thread.start()
    }

    /// Queues `region` to be hashed after everything queued before it.
    package func update(region: UnsafeRawBufferPointer) {
        guard !region.isEmpty else { return }
        condition.withLock {
            pending.append(region)
            condition.signal()
        }
    }

    /// Queues a copy of `bytes` (for small messages such as a file header).
    package func update(copying bytes: [UInt8]) {
        condition.withLock { copies.append(bytes) }
        copies.last!.withUnsafeBytes { update(region: $0) }
    }

    /// Waits until every queued region is hashed; nothing can be added after this.
    package func finish() { waitUntilFinished(cancelling: false) }

    /// The digest of every region queued, as 64 lowercase hex digits. Call it once.
    package func finalizeHex() -> String {
        finish()
        return hasher.finalizeHex()
    }

    /// Stops hashing and waits for the thread to let go of every region (when the message is
    /// abandoned, for instance because its file is corrupt).
    package func cancel() { waitUntilFinished(cancelling: true) }

    private func waitUntilFinished(cancelling: Bool) {
        condition.withLock {
            closed = true
            cancelled = cancelled || cancelling
            condition.broadcast()
            while !finished { condition.wait() }
        }
    }

    private func hashUntilClosed() {
        while true {
            let next: UnsafeRawBufferPointer? = condition.withLock {
                while pending.isEmpty && !closed { condition.wait() }
                if cancelled || pending.isEmpty {
                    finished = true
                    condition.broadcast()
                    return nil
                }
                return pending.removeFirst()
            }
            guard let next else { return }
            hasher.update(data: next.assumingMemoryBound(to: UInt8.self))
        }
    }
}
