import MNISTKernels

/// Trains `SoftmaxModel` by minibatch SGD or full-batch L-BFGS, using only the gradient the
/// kernel forms from ∂L/∂z (p − y for the softmax cross-entropy).
///
/// SGD, per batch of B samples: ∇W = (1/B) Σ δ xᵀ + λW, ∇b = (1/B) Σ δ; v ← μv − η∇,
/// θ ← θ + v (or Nesterov's θ ← θ + μv − η∇). The order of samples is a seeded shuffle per epoch
/// and every sum has the same shape on any number of threads, so the seed alone fixes the result
/// bit for bit, whatever the thread count.
/// L-BFGS: the same objective over the whole training set at every step.
public struct SoftmaxTrainer: Sendable {
    public let configuration: TrainingConfiguration

    /// The most threads a pass can use: one per column shard of the kernels (2). More would find
    /// no shard of their own, and more shards would change the shape of every sum.
    public static var maximumThreads: Int { ColumnShardedSoftmax.columnShardCount }

    public init(configuration: TrainingConfiguration) {
        self.configuration = configuration
    }

    /// Trains from the zero model and returns the weights; `afterEpoch` sees each epoch's summary
    /// as it ends, and `afterBatch` where the epoch stands after each SGD batch. See `run` for
    /// `shouldStop`.
    public func train(
        on data: LabeledImages, validation: LabeledImages? = nil,
        afterEpoch: (EpochSummary) -> Void = { _ in },
        afterBatch: (BatchProgress) -> Void = { _ in },
        shouldStop: () -> Bool = { false }
    ) throws -> SoftmaxModel {
        try run(
            on: data, validation: validation, afterEpoch: afterEpoch, afterBatch: afterBatch, shouldStop: shouldStop
        ).model
    }

    /// Trains from the zero model; `afterEpoch` sees each epoch's summary as it ends, and
    /// `afterBatch` where the epoch stands after each SGD batch.
    /// With `configuration.patience` and a validation set, stops once the validation loss has
    /// not improved for that many epochs, and returns the best weights.
    ///
    /// `shouldStop` is asked before every batch (every L-BFGS iteration); when it returns true,
    /// training throws `TrainingInterrupted` at once. Throws `DivergenceError` when the loss
    /// stops being finite, and `UnsupportedCPUError` before anything else on a CPU that cannot
    /// run the kernels.
    ///
    /// SGD only: `resumingFrom` continues from a checkpoint's epoch, weights and velocity (with
    /// the same configuration, the result equals the uninterrupted run's bit for bit),
    /// `checkpoints` receives the state every few epochs, and `observer` looks at the weights every
    /// few batches (the weights stay bit-identical).
    public func run(
        on data: LabeledImages, validation: LabeledImages? = nil, resumingFrom checkpoint: TrainingCheckpoint? = nil,
        checkpoints: CheckpointPolicy? = nil, observer: TrainingObserver? = nil,
        afterEpoch: (EpochSummary) -> Void = { _ in },
        afterBatch: (BatchProgress) -> Void = { _ in },
        shouldStop: () -> Bool = { false }
    ) throws -> TrainingOutcome {
        precondition(
            configuration.optimizer == .sgd || (checkpoint == nil && checkpoints == nil && observer == nil),
            "checkpoints and observers are SGD's")
        precondition(
            configuration.patience == nil || (checkpoint == nil && checkpoints == nil),
            "a checkpoint does not hold the early-stopping state")
        precondition(data.pixelsPerImage == SoftmaxModel.featureCount && data.count > 0, "train needs 28×28 images")
        precondition(
            configuration.batchSize > 0 && configuration.epochs > 0 && configuration.threads > 0
                && configuration.maxIterations > 0, "invalid configuration")
        try KernelCPU.verify()
        let state = ColumnShardedSoftmax(
            threadCount: configuration.threadLimit, lossFunction: configuration.lossFunction.kernelCost)
        var earlyStopping = configuration.patience.flatMap { patience in
            validation.map { _ in EarlyStopping(patience: patience) }
        }
        var provenance = TrainingProvenance(
            configuration: configuration, trainedOn: data, validationSamples: validation?.count ?? 0)
        // Reports an epoch; false when early stopping ends training.
        let finishEpoch = { (summary: EpochSummary) -> Bool in
            provenance.epochs.append(summary)
            afterEpoch(summary)
            guard let loss = summary.validation?.meanLoss else { return true }
            return earlyStopping?.shouldContinue(
                after: summary.epochOrIteration, validationLoss: loss, model: { state.model }) ?? true
        }
        let (epochsRun, stoppedBecause) =
            switch configuration.optimizer {
            case .sgd:
                try trainBySGD(
                    state, on: data, validation: validation, resumingFrom: checkpoint, checkpoints: checkpoints,
                    observer: observer, finishEpoch: finishEpoch, afterBatch: afterBatch, shouldStop: shouldStop)
            case .lbfgs:
                try trainByLBFGS(
                    state, on: data, validation: validation, finishEpoch: finishEpoch, shouldStop: shouldStop)
            }
        let best = earlyStopping?.best
        provenance.epochsRun = epochsRun
        provenance.bestEpoch = best?.epoch
        provenance.stoppedBecause = stoppedBecause
        return TrainingOutcome(
            model: best?.model ?? state.model, epochsRun: epochsRun, bestEpoch: best?.epoch,
            stoppedBecause: stoppedBecause, provenance: provenance)
    }

    /// The threads the next pass over `state` uses: all it has, or with `threadsFollowFreeCores`
    /// as many as other processes leave cores free.
    private func threadsForNextPass(of state: ColumnShardedSoftmax, freeCores: inout FreeCores) -> Int {
        configuration.threadsFollowFreeCores
            ? freeCores.threads(atMost: state.maximumParticipants) : state.maximumParticipants
    }

    /// Minibatch SGD for `configuration.epochs` epochs; returns the epochs run and why it stopped
    /// early, if it did.
    private func trainBySGD(
        _ state: ColumnShardedSoftmax, on data: LabeledImages, validation: LabeledImages?,
        resumingFrom checkpoint: TrainingCheckpoint?, checkpoints: CheckpointPolicy?, observer: TrainingObserver?,
        finishEpoch: (EpochSummary) -> Bool, afterBatch: (BatchProgress) -> Void,
        shouldStop: () -> Bool
    ) throws -> (Int, String?) {
        var order = (0 ..< Int32(data.count)).map { $0 }
        let images = data.maskedForKernels
        var generator = SeededGenerator(seed: configuration.seed)
        var freeCores = FreeCores()
        let clock = ContinuousClock()
        let firstEpoch = (checkpoint?.epochsCompleted ?? 0) + 1
        if let checkpoint {
            state.model = checkpoint.model
            state.velocityModel = checkpoint.velocity
            // The order is not stored: the same seeded shuffles, replayed, rebuild it.
            for _ in 1 ..< firstEpoch { generator.shuffle(&order) }
        }
        guard firstEpoch <= configuration.epochs else { return (configuration.epochs, nil) }
        for epoch in firstEpoch ... configuration.epochs {
            let started = clock.now, countersBefore = state.counters
            let learningRate = configuration.learningRate(atEpoch: epoch)
            generator.shuffle(&order)
            var objectiveSum = 0.0, correct = 0, batches = 0, samplesDone = 0
            let batchCount = (data.count + configuration.batchSize - 1) / configuration.batchSize
            if shouldStop() { throw TrainingInterrupted(at: .epoch(epoch, batchesCompleted: 0)) }
            let update = ColumnShardedSoftmax.MomentumUpdate(
                learningRate: learningRate, momentum: configuration.momentum,
                nesterov: configuration.nesterov, l2: configuration.l2)
            // Fewer threads while other processes keep cores busy; the results are the same.
            state.participatingThreads = threadsForNextPass(of: state, freeCores: &freeCores)
            var progress: BatchProgress?
            // One pass over the epoch, or with an observer passes of `interval` batches (the same
            // steps), between which the weights hold still.
            let samplesPerPass = (observer?.interval ?? batchCount) * configuration.batchSize
            try order.withUnsafeBufferPointer { order in
                for start in stride(from: 0, to: order.count, by: samplesPerPass) {
                    let passSamples = UnsafeBufferPointer(
                        rebasing: order[start ..< min(start + samplesPerPass, order.count)])
                    try state.pass(over: passSamples, of: images, stepSize: configuration.batchSize, update: update) {
                        step in
                        batches += 1
                        let objective =
                            step.lossSum / Double(step.count) + Double(configuration.l2) / 2 * step.squaredNorm
                        guard objective.isFinite else {
                            throw DivergenceError(epoch: epoch, batch: batches, learningRate: learningRate)
                        }
                        objectiveSum += objective
                        correct += step.correct
                        samplesDone += step.count
                        let batchProgress = BatchProgress(
                            epoch: epoch, batchesDone: batches, samplesDone: samplesDone,
                            sampleCount: data.count, batchSize: configuration.batchSize,
                            runningLoss: objectiveSum / Double(batches))
                        progress = batchProgress
                        afterBatch(batchProgress)
                        // Asked before every batch: here for the next one of this epoch.
                        if batches < batchCount, shouldStop() {
                            throw TrainingInterrupted(at: .epoch(epoch, batchesCompleted: batches))
                        }
                    }
                    if let observer, let progress { try observer.observe(progress) { state.model } }
                }
            }
            // Each batch's loss is measured before its step, so check the weights the last step made.
            guard state.logitsAreFinite else {
                throw DivergenceError(epoch: epoch, batch: batches, learningRate: learningRate)
            }
            let summary = EpochSummary(
                epochOrIteration: epoch, trainingLoss: objectiveSum / Double(batches),
                trainingAccuracy: Double(correct) / Double(data.count),
                validation: validation.map {
                    Evaluation(of: state.model, on: $0, lossFunction: configuration.lossFunction)
                },
                stepSize: learningRate, seconds: (clock.now - started).seconds, threads: state.participatingThreads,
                kernel: state.counters - countersBefore)
            if !finishEpoch(summary) {
                return (epoch, "the validation loss did not improve for \(configuration.patience ?? 0) epochs")
            }
            if let checkpoints, epoch % checkpoints.interval == 0 {
                try checkpoints.save(
                    TrainingCheckpoint(epochsCompleted: epoch, model: state.model, velocity: state.velocityModel))
            }
        }
        return (configuration.epochs, nil)
    }

    /// Full-batch L-BFGS on L(θ) = (1/N) Σ L_n + (λ/2)‖W‖², θ = (W, b) in Double, each objective
    /// and gradient computed by the kernel at θ rounded to Float. Returns the iterations run and
    /// why it stopped, if before the limit.
    private func trainByLBFGS(
        _ state: ColumnShardedSoftmax, on data: LabeledImages, validation: LabeledImages?,
        finishEpoch: (EpochSummary) -> Bool, shouldStop: () -> Bool
    ) throws -> (Int, String?) {
        let weightCount = ColumnShardedSoftmax.weightCount
        let samples = (0 ..< Int32(data.count)).map { $0 }
        let images = data.maskedForKernels
        let l2 = Double(configuration.l2)
        var lastCorrect = 0
        var freeCores = FreeCores()
        func objective(_ theta: [Double]) -> LBFGS.Evaluation {
            let model = SoftmaxModel(
                weights: theta[..<weightCount].map { Float($0) }, bias: theta[weightCount...].map { Float($0) })
            state.model = model
            var lossSum = 0.0
            state.participatingThreads = threadsForNextPass(of: state, freeCores: &freeCores)
            samples.withUnsafeBufferPointer { samples in
                state.pass(over: samples, of: images, stepSize: samples.count, update: nil) { step in
                    lossSum = step.lossSum
                    lastCorrect = step.correct
                }
            }
            let scale = 1 / Double(data.count)
            let sums = state.gradientSum
            var squaredNorm = 0.0
            var gradient = [Double](repeating: 0, count: weightCount + SoftmaxModel.classCount)
            for i in 0 ..< weightCount {
                let weight = Double(model.weights[i])
                squaredNorm += weight * weight
                gradient[i] = Double(sums.weights[i]) * scale + l2 * weight
            }
            for k in 0 ..< SoftmaxModel.classCount { gradient[weightCount + k] = Double(sums.bias[k]) * scale }
            return (lossSum * scale + l2 / 2 * squaredNorm, gradient)
        }
        let minimizer = LBFGS(
            historySize: configuration.historySize, maxIterations: configuration.maxIterations,
            gradientTolerance: configuration.gradientTolerance, relativeTolerance: configuration.relativeTolerance)
        let clock = ContinuousClock()
        var started = clock.now, countersBefore = state.counters
        var iterations = 0
        let start = [Double](repeating: 0, count: weightCount + SoftmaxModel.classCount)
        let (theta, _, stop) = try minimizer.minimize(from: start, objective: objective) { iteration, _, value, step in
            iterations = iteration
            // The accepted point is the last one evaluated: `state` holds it, and `lastCorrect`
            // is its count.
            if shouldStop() { throw TrainingInterrupted(at: .iteration(iteration)) }
            let model = state.model
            let summary = EpochSummary(
                epochOrIteration: iteration, trainingLoss: value,
                trainingAccuracy: Double(lastCorrect) / Double(data.count),
                validation: validation.map { Evaluation(of: model, on: $0, lossFunction: configuration.lossFunction) },
                stepSize: Float(step), seconds: (clock.now - started).seconds, threads: state.participatingThreads,
                kernel: state.counters - countersBefore)
            started = clock.now
            countersBefore = state.counters
            return finishEpoch(summary)
        }
        state.model = SoftmaxModel(
            weights: theta[..<weightCount].map { Float($0) }, bias: theta[weightCount...].map { Float($0) })
        return (iterations, stop == .maxIterations ? nil : stop.rawValue)
    }
}
