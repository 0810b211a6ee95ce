#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Detached POSIX threads, for work that must neither wait for nor hold a thread of Swift's
/// concurrency pool: the SHA-256 thread here, and the server's training threads.
/// (`LockstepPool` starts its own: the kernels depend on nothing above them.)
package enum DetachedThread {
    /// Starts `body` on a new detached thread with a stack of `stackSize` bytes (nil: the
    /// system's default), named `name` on Linux (at most 15 bytes are kept; `top -H` and debuggers
    /// show it). Returns false, and `body` does not run, when no thread can be created (the
    /// process is out of threads or memory): the caller decides what to do instead.
    @discardableResult
    package static func start(named name: String, stackSize: Int? = nil, _ body: @escaping @Sendable () -> Void)
        -> Bool
    {
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        if let stackSize { pthread_attr_setstacksize(&attributes, stackSize) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        // The new thread takes this retain; when none starts, it is given back below.
        let context = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        let status = pthread_create(
            &thread, &attributes,
            { context in
                let start = Unmanaged<Start>.fromOpaque(context!).takeRetainedValue()
                start.nameCurrentThread()
                start.body()
                return nil
            }, context)
        guard status == 0 else {
            Unmanaged<Start>.fromOpaque(context).release()
            return false
        }
        return true
    }

    /// What a new thread runs, boxed to pass through pthread_create's context pointer.
    private final class Start: Sendable {
        let name: String
        let body: @Sendable () -> Void

        init(name: String, body: @escaping @Sendable () -> Void) { (self.name, self.body) = (name, body) }

        /// Writes the name to /proc/thread-self/comm (Linux only; the kernel keeps 15 bytes).
        func nameCurrentThread() {
            #if os(Linux)
            let comm = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
            guard comm >= 0 else { return }
            _ = write(comm, name, name.utf8.count)
            close(comm)
            #endif
        }
    }
}
