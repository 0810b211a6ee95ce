/// Hyperparameters of minibatch SGD with momentum and a per-epoch learning-rate decay.
public struct TrainingConfiguration: Sendable, Equatable {
    /// Passes over the training set. Default 10.
    public var epochs = 10
    /// Samples per gradient step, B. Default 100.
    public var batchSize = 100
    /// η at the first epoch. Default 0.4.
    public var learningRate: Float = 0.4
    /// μ in v ← μv − η∇L, W ← W + v. Default 0.9.
    public var momentum: Float = 0.9
    /// Epoch e (from 1) uses η · decay^(e−1). Default 0.6.
    public var learningRateDecay: Float = 0.6
    /// λ in L = mean cross-entropy + (λ/2)‖W‖². The bias is not regularised. Default 1e-4.
    public var l2: Float = 1e-4
    /// Seeds the per-epoch shuffle. The same seed and thread count give bit-identical weights.
    /// Default 42.
    public var seed: UInt64 = 42
    /// Threads that share each batch, in fixed contiguous shards. Default: every core.
    public var threads = ShardPool.availableCores

    public init() {}

    /// The learning rate used during `epoch` (counted from 1).
    public func learningRate(atEpoch epoch: Int) -> Float {
        (1 ..< max(epoch, 1)).reduce(learningRate) { rate, _ in rate * learningRateDecay }
    }
}

/// What one epoch did.
public struct EpochSummary: Sendable {
    /// Counted from 1.
    public let epoch: Int
    /// Mean over the epoch's batches of (batch cross-entropy + (λ/2)‖W‖²), each at the weights the
    /// batch saw.
    public let trainingLoss: Double
    /// Fraction of the epoch's samples whose argmax was right, at the weights each batch saw.
    public let trainingAccuracy: Double
    /// The held-out split after the epoch, when there is one.
    public let validation: Evaluation?
    public let learningRate: Float
    public let seconds: Double
}

/// A training run that produced a non-finite loss: the step size is too large.
public struct DivergenceError: Error, CustomStringConvertible {
    public let epoch: Int
    public let batch: Int
    public let learningRate: Float

    public var description: String {
        "training diverged at epoch \(epoch), batch \(batch): the loss is not finite (learning rate \(learningRate))\nHINT: try a smaller --learning-rate, such as \(learningRate / 10)"
    }
}

/// Trains `SoftmaxModel` by minibatch SGD with momentum, using only the fused gradient p − y.
///
/// Per batch of B samples: ∇W = (1/B) Σ (p − y) xᵀ + λW, ∇b = (1/B) Σ (p − y);
/// v ← μv − η∇, θ ← θ + v. The order of samples is a seeded shuffle per epoch and every sum runs
/// in a fixed order, so a seed fixes the result bit for bit.
public struct SoftmaxTrainer: Sendable {
    public let configuration: TrainingConfiguration

    public init(configuration: TrainingConfiguration) {
        self.configuration = configuration
    }

    /// Trains from the zero model; `afterEpoch` sees each epoch's summary as it ends, and
    /// `afterBatch` where the epoch stands after each batch.
    public func train(on data: LabeledImages, validation: LabeledImages? = nil,
                      afterEpoch: (EpochSummary) -> Void = { _ in },
                      afterBatch: (BatchProgress) -> Void = { _ in }) throws -> SoftmaxModel
    {
        precondition(data.pixelsPerImage == SoftmaxModel.featureCount && data.count > 0, "train needs 28×28 images")
        precondition(configuration.batchSize > 0 && configuration.epochs > 0 && configuration.threads > 0, "invalid configuration")
        let state = ShardedGradient(threadCount: configuration.threads, model: SoftmaxModel())
        var order = (0 ..< Int32(data.count)).map { $0 }
        var generator = SeededGenerator(seed: configuration.seed)
        let clock = ContinuousClock()

        for epoch in 1 ... configuration.epochs {
            let started = clock.now
            let learningRate = configuration.learningRate(atEpoch: epoch)
            generator.shuffle(&order)
            var objectiveSum = 0.0, correct = 0, batches = 0

            for batchStart in stride(from: 0, to: data.count, by: configuration.batchSize) {
                let batchEnd = min(batchStart + configuration.batchSize, data.count)
                let (lossSum, batchCorrect) = order.withUnsafeBufferPointer {
                    state.accumulate(on: data, samples: UnsafeBufferPointer(rebasing: $0[batchStart ..< batchEnd]))
                }
                let squaredNorm = state.momentumStep(batchSize: batchEnd - batchStart, learningRate: learningRate,
                                                     momentum: configuration.momentum, l2: configuration.l2)
                batches += 1
                let objective = lossSum / Double(batchEnd - batchStart) + Double(configuration.l2) / 2 * squaredNorm
                guard objective.isFinite else {
                    throw DivergenceError(epoch: epoch, batch: batches, learningRate: learningRate)
                }
                objectiveSum += objective
                correct += batchCorrect
                afterBatch(BatchProgress(epoch: epoch, batchesDone: batches, samplesDone: batchEnd, sampleCount: data.count,
                                         batchSize: configuration.batchSize, runningLoss: objectiveSum / Double(batches)))
            }

            // Each batch's loss is measured before its step, so check the weights the last step made.
            guard state.isFinite else {
                throw DivergenceError(epoch: epoch, batch: batches, learningRate: learningRate)
            }
            let summary = EpochSummary(
                epoch: epoch, trainingLoss: objectiveSum / Double(batches),
                trainingAccuracy: Double(correct) / Double(data.count),
                validation: validation.map { Evaluation(of: state.model, on: $0) },
                learningRate: learningRate, seconds: (clock.now - started).seconds)
            afterEpoch(summary)
        }
        return state.model
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    public var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}
