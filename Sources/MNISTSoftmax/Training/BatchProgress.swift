/// Where training stands after one batch: what `SoftmaxTrainer.train`'s `afterBatch` receives.
public struct BatchProgress: Sendable, Equatable {
    /// Counted from 1.
    public let epoch: Int
    /// Batches finished in this epoch, 1…`batchCount`.
    public let batchesDone: Int
    /// Samples seen in this epoch so far, the sum of the finished batches' sizes.
    public let samplesDone: Int
    /// Samples in one epoch.
    public let sampleCount: Int
    /// Samples per batch, B (the last batch of an epoch may be smaller).
    public let batchSize: Int
    /// Mean of (batch cross-entropy + (λ/2)‖W‖²) over this epoch's finished batches.
    public let runningLoss: Double

    public init(epoch: Int, batchesDone: Int, samplesDone: Int, sampleCount: Int, batchSize: Int, runningLoss: Double) {
        self.epoch = epoch
        self.batchesDone = batchesDone
        self.samplesDone = samplesDone
        self.sampleCount = sampleCount
        self.batchSize = batchSize
        self.runningLoss = runningLoss
    }

    /// Batches in one epoch: ⌈sampleCount / batchSize⌉.
    public var batchCount: Int { (sampleCount + batchSize - 1) / batchSize }
}
