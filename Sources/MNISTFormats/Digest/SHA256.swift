#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CCrypto
import Dispatch
import Synchronization

/// SHA-256 (FIPS 180-4) through the system's libcrypto: OpenSSL's `SHA256_Init`, `SHA256_Update`
/// and `SHA256_Final`, which run the same assembly as its EVP interface (the CPU's SHA extensions
/// where it has them, else AVX2 or SSSE3 code). EVP would first start OpenSSL 3's provider
/// machinery (its configuration file and algorithm tables), which leaves about 2 MB more resident
/// for the rest of the run. OpenSSL 3 marks these functions deprecated in favour of EVP; shim.h
/// asks for the 1.1.1 API, where they are not. Feed it bytes with `update`, then read the digest
/// once with `finalizeHex()`.
///
/// A class, not a struct: it owns the C digest context, which a copy must not share.
package final class SHA256 {
    private let context = UnsafeMutablePointer<SHA256_CTX>.allocate(capacity: 1)

    package init() {
        // SHA256_Init only fills in the initial state; it cannot fail.
        _ = SHA256_Init(context)
    }

    deinit { context.deallocate() }

    /// Adds `bytes` to the digested message.
    package func update(data bytes: some Collection<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
            _ = SHA256_Update(context, buffer.baseAddress, buffer.count)
        }
        if done == nil { update(data: Array(bytes)) }
    }

    /// The digest of everything added so far, as 64 lowercase hexadecimal digits: the form
    /// MNIST's publishers list. Call it once.
    package func finalizeHex() -> String {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        _ = SHA256_Final(&digest, context)
        return digest.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// SHA-256 of `bytes` as lowercase hex.
    package static func hex(of bytes: some Collection<UInt8>) -> String {
        let hasher = SHA256()
        hasher.update(data: bytes)
        return hasher.finalizeHex()
    }
}

/// SHA-256 of a message that its producer is still writing, computed on another thread: the
/// producer hands over each finished region with `update(region:)` and goes on writing the next
/// one, so that hashing overlaps producing (decompressing 47 MB of images and hashing them take
/// about as long as each other; on two cores this takes the time of the slower one alone).
///
/// The producer must keep every region it hands over alive and unchanged until `finish()` (or
/// `cancel()`) has returned. Regions are hashed in the order they were handed over.
package final class BackgroundSHA256: @unchecked Sendable {
    private let hasher = SHA256()
    /// Set by `cancel()`: regions still queued are skipped.
    private let cancelled = Mutex(false)
    private var finished = false

    package init() {}

    /// Queues `region` to be hashed after everything queued before it.
    package func update(region: UnsafeRawBufferPointer) {
        guard !region.isEmpty else { return }
        HashingThread.shared.enqueue { [self] in
            if !cancelled.withLock({ $0 }) { hasher.update(data: region.assumingMemoryBound(to: UInt8.self)) }
        }
    }

    /// Queues a copy of `bytes` (for small messages such as a file header).
    package func update(copying bytes: [UInt8]) {
        HashingThread.shared.enqueue { [self] in
            if !cancelled.withLock({ $0 }) { hasher.update(data: bytes) }
        }
    }

    /// Waits until every queued region is hashed; nothing can be added after this.
    package func finish() {
        guard !finished else { return }
        finished = true
        let done = DispatchSemaphore(value: 0)
        HashingThread.shared.enqueue { done.signal() }
        done.wait()
    }

    /// The digest of every region queued, as 64 lowercase hex digits. Call it once.
    package func finalizeHex() -> String {
        finish()
        return hasher.finalizeHex()
    }

    /// Skips what is still queued and waits until the hashing thread has let go of every region
    /// (when the message is abandoned, for instance because its file is corrupt).
    package func cancel() {
        cancelled.withLock { $0 = true }
        finish()
    }
}

/// The one thread that runs `BackgroundSHA256`'s work, in the order queued. It is started once
/// and never ends: while idle it sleeps. (A thread per digest, ending just as loading ends, was
/// still runnable for a moment when training counts the machine's runnable threads, and the
/// first epochs then ran on one thread.) The semaphore counts the queued jobs.
private final class HashingThread: @unchecked Sendable {
    static let shared = HashingThread()
    /// Guards `jobs`.
    private let lock = Mutex(())
    private var jobs: [() -> Void] = []
    private let queued = DispatchSemaphore(value: 0)

    /// False when the thread could not be started: jobs then run on the thread that queues them.
    private var started = false

    private init() {
        started = DetachedThread.start(named: "sha256") { [self] in run() }
    }

    func enqueue(_ job: @escaping () -> Void) {
        guard started else { return job() }
        lock.withLock { _ in jobs.append(job) }
        queued.signal()
    }

    private func run() -> Never {
        while true {
            queued.wait()
            let job = lock.withLock { _ in jobs.removeFirst() }
            job()
        }
    }
}
