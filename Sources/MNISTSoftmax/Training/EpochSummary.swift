import MNISTKernels

/// What one epoch (or one L-BFGS iteration) did.
public struct EpochSummary: Sendable {
    /// SGD: the epoch. L-BFGS: the iteration. Counted from 1.
    public let epochOrIteration: Int
    /// SGD: the mean over the epoch's batches of (batch cost + (λ/2)‖W‖²), each at the weights
    /// the batch saw. L-BFGS: the full objective at the new weights.
    public let trainingLoss: Double
    /// Fraction of the training samples whose argmax was right: SGD at the weights each batch
    /// saw, L-BFGS at the new weights.
    public let trainingAccuracy: Double
    /// The held-out split after the epoch, when there is one.
    public let validation: Evaluation?
    /// SGD: the epoch's learning rate η. L-BFGS: the step length α its line search accepted.
    public let stepSize: Float
    public let seconds: Double
    /// The floating-point operations the fused kernels executed in the epoch: 2 per multiply-add
    /// lane of the forward (W x) and backward (δ xᵀ) kernels, leaving out the vectors of 16
    /// pixels they skip as all 0. A dense count would be 31,360 per sample and pass.
    public let kernelFLOP: Int
    /// Threads the epoch's pass used: the configuration's `threadLimit`, or fewer while other
    /// processes kept cores busy.
    public let threads: Int
    /// Seconds that the threads together spent waiting at the kernels' barriers, and for another
    /// thread's update of a column shard, in the epoch: the cost of running them in lockstep (0 on
    /// one thread).
    public let barrierWaitSeconds: Double
    /// Pieces of work (a column shard's backward pass and update, or a quarter of its forward
    /// pass over a block) that a thread took over from another that had fallen behind, in the
    /// epoch: 0 on one thread, and when the cores keep pace.
    public let tasksTakenOver: Int

    /// The summary of an epoch whose kernels did `kernel`'s work and waiting.
    init(
        epochOrIteration: Int, trainingLoss: Double, trainingAccuracy: Double, validation: Evaluation?, stepSize: Float,
        seconds: Double, threads: Int, kernel: ColumnShardedSoftmax.Counters
    ) {
        self.epochOrIteration = epochOrIteration
        self.trainingLoss = trainingLoss
        self.trainingAccuracy = trainingAccuracy
        self.validation = validation
        self.stepSize = stepSize
        self.seconds = seconds
        self.threads = threads
        kernelFLOP = kernel.executedFLOP
        barrierWaitSeconds = Double(kernel.barrierWaitNanoseconds) * 1e-9
        tasksTakenOver = kernel.tasksTakenOver
    }
}

extension TrainingHistory {
    /// The history of `summaries`, in the order given; validation accuracy is kept only when
    /// every summary has one.
    public init(_ summaries: [EpochSummary], unit: Unit) {
        let validation = summaries.compactMap { $0.validation.map { Float($0.accuracy) } }
        self.init(
            unit: unit, start: summaries.first?.epochOrIteration ?? 1,
            loss: summaries.map { Float($0.trainingLoss) },
            trainingAccuracy: summaries.map { Float($0.trainingAccuracy) },
            validationAccuracy: !summaries.isEmpty && validation.count == summaries.count ? validation : nil)
    }
}
