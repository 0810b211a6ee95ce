/// A look at minibatch SGD while it runs, for live displays and probes: every `interval` batches
/// (and after each epoch's last batch), `observe` gets where the epoch stands and a way to read the
/// weights that the last batch's update left.
///
/// With an observer, `SoftmaxTrainer` runs each epoch as passes of `interval` batches instead of
/// one pass, so that no thread is updating the weights while `observe` runs. The batches, their
/// order and every sum are the same, so the weights are bit-identical to a run without an
/// observer. Training waits while `observe` runs: keep it short (copy what you need and hand it
/// to another thread), or make it sleep on purpose to slow training down for a person to watch.
/// An error it throws ends training, and `run` rethrows it.
public struct TrainingObserver {
    /// Batches between two calls, at least 1. Fewer means finer-grained looks and passes that
    /// the kernels cannot pipeline across (a few per cent slower at 1).
    public let interval: Int
    /// Called on the training thread. `weights()` copies W (10, 784) and b (10) as they stand
    /// (31,400 bytes): call it only when you need them, and only during the call.
    public let observe: (_ progress: BatchProgress, _ weights: () -> SoftmaxModel) throws -> Void

    public init(
        every interval: Int,
        observe: @escaping (_ progress: BatchProgress, _ weights: () -> SoftmaxModel) throws -> Void
    ) {
        precondition(interval >= 1, "an observer looks at least every batch")
        self.interval = interval
        self.observe = observe
    }
}
