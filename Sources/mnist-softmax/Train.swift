import ArgumentParser
import MNISTSoftmax

extension Optimizer: ExpressibleByArgument {}
extension LearningRateSchedule: ExpressibleByArgument {}
extension LossFunction: ExpressibleByArgument {}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the 784→10 softmax regression on the 60,000 training images.",
        discussion: """
            By default: 10 epochs of minibatch SGD with momentum on the fused softmax–cross-entropy \
            gradient p − y, with L2 on the weights and a learning rate that decays per epoch. \
            --optimizer lbfgs instead minimises the same objective over the whole training set. \
            Prints one line per epoch (or iteration), then the accuracy on the 10,000 test images, \
            and saves the model atomically, with every epoch's loss and accuracies in its metadata \
            (`history`, which `report` draws). While it runs, standard error shows a live progress bar \
            when it is a terminal and one plain line per epoch otherwise.
            """)

    private static let defaults = TrainingConfiguration()

    @OptionGroup var data: DataOptions
    @OptionGroup var modelPath: ModelPathOption
    @OptionGroup var progress: ProgressOptions

    @Option(help: "sgd: minibatch SGD with momentum; lbfgs: full-batch L-BFGS with a Wolfe line search.")
    var optimizer: Optimizer = defaults.optimizer

    @Option(
        help: ArgumentHelp(
            "The cost: softmax-ce (cross-entropy), sigmoid-bce (ten sigmoids with binary cross-entropy) or mse (softmax with the quadratic cost).",
            valueName: "loss"))
    var loss: LossFunction = defaults.lossFunction

    @Option(help: "L2 strength λ: the loss adds (λ/2)‖W‖² (the bias is not regularised).")
    var l2: Float = defaults.l2

    @Flag(
        help:
            "Deskew every image by its moments before training; the model file records it, so evaluate applies it too.")
    var deskew = false

    @Option(help: ArgumentHelp("SGD: passes over the training set. [default: \(defaults.epochs)]"))
    var epochs: Int?

    @Option(help: ArgumentHelp("SGD: samples per gradient step. [default: \(defaults.batchSize)]"))
    var batchSize: Int?

    @Option(help: ArgumentHelp("SGD: step size η of the first epoch. [default: \(defaults.learningRate)]"))
    var learningRate: Float?

    @Option(help: ArgumentHelp("SGD: momentum μ, in [0, 1). [default: \(defaults.momentum)]"))
    var momentum: Float?

    @Flag(help: "SGD: use Nesterov's momentum.")
    var nesterov = false

    @Option(
        help: ArgumentHelp(
            "SGD: the learning rate per epoch: constant, step (× --learning-rate-decay per epoch) or cosine (a half cosine down to 0). [default: \(defaults.schedule.rawValue)]",
            valueName: "schedule"))
    var schedule: LearningRateSchedule?

    @Option(
        help: ArgumentHelp(
            "SGD, step schedule: factor applied to the learning rate after each epoch, in (0, 1]. [default: \(defaults.learningRateDecay)]"
        ))
    var learningRateDecay: Float?

    @Option(
        help: ArgumentHelp(
            "SGD: seed of the per-epoch shuffle; the same seed gives bit-identical weights, whatever --threads. [default: \(defaults.seed)]"
        ))
    var seed: UInt64?

    @Option(
        help: ArgumentHelp(
            "L-BFGS: iterations at most; it stops sooner when the gradient or the loss stops changing. [default: \(defaults.maxIterations)]"
        ))
    var maxIterations: Int?

    @Option(
        help: ArgumentHelp(
            "Threads per pass, at most; the kernels use at most \(SoftmaxTrainer.maximumThreads) (one per column shard), and the model file records the count after that cap. A pass uses fewer while other processes keep cores busy. The weights are the same for every count. The default is every core."
        ))
    var threads: Int = defaults.threads

    @Flag(
        inversion: .prefixedNo,
        help:
            "Use fewer threads while other processes keep cores busy (--no-follow-free-cores: always --threads, capped as it says, as for timing runs)."
    )
    var followFreeCores = true

    @Option(help: ArgumentHelp("Hold out the last N training images for validation (0: none).", valueName: "n"))
    var validationSplit: Int = 0

    @Option(
        help: ArgumentHelp(
            "Stop when the validation loss has not improved for N epochs (or iterations), keeping the best weights; needs --validation-split.",
            valueName: "n"))
    var patience: Int?

    @Option(
        help: ArgumentHelp("SGD: save the training state every N epochs to --checkpoint, atomically.", valueName: "n"))
    var checkpointEvery: Int?

    @Option(
        help: ArgumentHelp("Where --checkpoint-every saves. [default: the model path + .checkpoint]", valueName: "file")
    )
    var checkpoint: String?

    @Option(
        help: ArgumentHelp(
            "SGD: continue from a checkpoint written by --checkpoint-every, with the same settings; the result equals an uninterrupted run's.",
            valueName: "file"))
    var resume: String?

    @Flag(help: "Print JSON Lines instead of the table: one object per epoch, then a summary.")
    var json = false

    @Option(help: ArgumentHelp("Also write the per-epoch metrics to this CSV file, for plotting.", valueName: "file"))
    var metricsCsv: String?

    /// Whether this binary was compiled without optimisation. `swift build` and `swift run` build
    /// debug by default, and there every bounds and overflow check stays in the kernels' loops.
    static var isUnoptimisedBuild: Bool { _isDebugAssertConfiguration() }

    /// The one line `train` prints on standard error in a debug build.
    static let unoptimisedBuildNote =
        "note: this mnist-softmax is a debug build, where training is far slower; "
        + "build with `swift build -c release`, or run `swift run -c release mnist-softmax train`"

    /// Where checkpoints go.
    var checkpointPath: String { checkpoint ?? modelPath.model + ".checkpoint" }

    func validate() throws {
        if optimizer == .lbfgs {
            let sgdOnly: [(String, Bool)] = [
                ("--epochs", epochs != nil), ("--batch-size", batchSize != nil),
                ("--learning-rate", learningRate != nil),
                ("--momentum", momentum != nil), ("--nesterov", nesterov), ("--schedule", schedule != nil),
                ("--learning-rate-decay", learningRateDecay != nil), ("--seed", seed != nil),
            ]
            if let (name, _) = sgdOnly.first(where: \.1) {
                throw ValidationError(
                    "\(name) applies to --optimizer sgd; L-BFGS takes every sample at every step (see --max-iterations)"
                )
            }
        } else if maxIterations != nil {
            throw ValidationError("--max-iterations applies to --optimizer lbfgs; SGD runs for --epochs")
        }
        if let epochs, epochs < 1 { throw ValidationError("--epochs must be at least 1") }
        if let batchSize, batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if let learningRate, !(learningRate.isFinite && learningRate > 0) {
            throw ValidationError("--learning-rate must be a positive number")
        }
        if let momentum, !(momentum >= 0 && momentum < 1) { throw ValidationError("--momentum must be in [0, 1)") }
        if nesterov && momentum == 0 { throw ValidationError("--nesterov needs a momentum above 0") }
        if let learningRateDecay {
            guard learningRateDecay > 0 && learningRateDecay <= 1 else {
                throw ValidationError("--learning-rate-decay must be in (0, 1]")
            }
            guard (schedule ?? Self.defaults.schedule) == .step else {
                throw ValidationError("--learning-rate-decay applies to --schedule step")
            }
        }
        if let maxIterations, maxIterations < 1 { throw ValidationError("--max-iterations must be at least 1") }
        if checkpointEvery != nil || resume != nil {
            guard optimizer == .sgd else {
                throw ValidationError("--checkpoint-every and --resume apply to --optimizer sgd")
            }
            guard patience == nil else {
                throw ValidationError(
                    "--patience cannot be combined with --checkpoint-every or --resume: a checkpoint does not hold the early-stopping state"
                )
            }
        }
        if let checkpointEvery, checkpointEvery < 1 { throw ValidationError("--checkpoint-every must be at least 1") }
        if checkpoint != nil && checkpointEvery == nil {
            throw ValidationError("--checkpoint needs --checkpoint-every")
        }
        guard l2.isFinite && l2 >= 0 else { throw ValidationError("--l2 must be zero or positive") }
        guard threads >= 1 && threads <= 256 else { throw ValidationError("--threads must be between 1 and 256") }
        guard validationSplit >= 0 else { throw ValidationError("--validation-split must be zero or positive") }
        if let patience {
            guard patience >= 1 else { throw ValidationError("--patience must be at least 1") }
            guard validationSplit > 0 else {
                throw ValidationError("--patience needs a validation set: add --validation-split N")
            }
        }
    }

    var trainingConfiguration: TrainingConfiguration {
        var configuration = TrainingConfiguration()
        configuration.optimizer = optimizer
        configuration.lossFunction = loss
        configuration.l2 = l2
        configuration.threads = threads
        configuration.threadsFollowFreeCores = followFreeCores
        configuration.patience = patience
        if let epochs { configuration.epochs = epochs }
        if let batchSize { configuration.batchSize = batchSize }
        if let learningRate { configuration.learningRate = learningRate }
        if let momentum { configuration.momentum = momentum }
        configuration.nesterov = nesterov
        if let schedule { configuration.schedule = schedule }
        if let learningRateDecay { configuration.learningRateDecay = learningRateDecay }
        if let seed { configuration.seed = seed }
        if let maxIterations { configuration.maxIterations = maxIterations }
        return configuration
    }

    func run() throws {
        // Before anything else, so that a CPU too old for this build gets a message, not SIGILL.
        try KernelCPU.verify()
        if Self.isUnoptimisedBuild { progress.diagnostic(Self.unoptimisedBuildNote) }
        for output in [modelPath.model] + (metricsCsv.map { [$0] } ?? []) {
            try FileIO.requireWritableTarget(output)
        }
        StopSignals.install()
        // A missing file fails now, the test set's too, not after training.
        try data.directory.requireFiles(of: [.train, .test])
        let report = TrainingReport(json: json, optimizer: optimizer)
        let trained = try loadAndTrain(report: report)
        // The training images are released by now: the test set takes their place, so that the
        // two never share the process's memory.
        let test = try loadTestSet(preprocessing: trained.provenance.preprocessing)
        let evaluation = Evaluation(of: trained.model, on: test, lossFunction: loss)
        report.summary(
            evaluation, trainingSeconds: trained.seconds, epochsRun: trained.epochsRun, modelPath: modelPath.model)
        try writeMetricsCSV(trained.provenance.epochs)
        var provenance = trained.provenance
        provenance.test = evaluation
        if StopSignals.received != nil {
            throw StopSignals.exit(notWriting: modelPath.model, during: "the final evaluation")
        }
        try SafeTensorsFile.write(StoredModel(model: trained.model, provenance: provenance), to: modelPath.model)
        progress.diagnostic("saved model to \(modelPath.model)")
    }

    /// Loads the training set, checks the `--resume` checkpoint against this run's settings, and
    /// trains. The training images live only inside this call.
    private func loadAndTrain(report: TrainingReport) throws -> TrainedModel {
        let prepared = try loadTrainingData()
        let configuration = trainingConfiguration
        let settings = provenance(configuration, data: prepared).checkpointSettings
        let resumed = try readCheckpoint(matching: settings)
        let policy = try checkpointPolicy(settings: settings)
        return try train(configuration, on: prepared, resumingFrom: resumed, checkpoints: policy, report: report)
    }

    /// The training images of one run, split and preprocessed as training sees them.
    private struct PreparedData {
        let training: LabeledImages
        let validation: LabeledImages?
        let preprocessing: Preprocessing
        /// SHA-256 of the training images and labels, recorded in the model file and checkpoints.
        let digests: (images: String, labels: String)
    }

    /// What the training loop produced, and the wall time it took. Holds no image.
    private struct TrainedModel {
        let model: SoftmaxModel
        let epochsRun: Int
        /// The trainer's provenance (with every epoch's summary), completed with what only this
        /// command knows: the data as loaded, before preprocessing and the validation split.
        let provenance: TrainingProvenance
        let seconds: Double
    }

    /// "epoch" for SGD, "iteration" for L-BFGS: the unit of progress in messages.
    private var stepName: String { optimizer == .sgd ? "epoch" : "iteration" }

    /// Loads the training set, deskews it when asked, and holds out the last `--validation-split`
    /// images.
    private func loadTrainingData() throws -> PreparedData {
        let directory = data.directory
        progress.diagnostic("loading MNIST from \(directory.path)")
        let loaded = try directory.load(.train)
        let preprocessing: Preprocessing = deskew ? .deskew : .none
        if deskew { progress.diagnostic("deskewing \(loaded.count) training images") }
        let allTraining = preprocessing.apply(to: loaded)
        guard validationSplit < allTraining.count else {
            throw ValidationError(
                "--validation-split \(validationSplit) leaves no training images (the set has \(allTraining.count))")
        }
        let trainingCount = allTraining.count - validationSplit
        let training = validationSplit == 0 ? allTraining : allTraining.slice(0 ..< trainingCount)
        let validation = validationSplit == 0 ? nil : allTraining.slice(trainingCount ..< allTraining.count)
        progress.diagnostic(
            "training on \(training.count) images" + (validation.map { ", validating on \($0.count)" } ?? ""))
        return PreparedData(
            training: training, validation: validation, preprocessing: preprocessing,
            digests: loaded.contentDigests())
    }

    /// Loads the test set, preprocessed as the training images were.
    private func loadTestSet(preprocessing: Preprocessing) throws -> LabeledImages {
        let test = try data.directory.load(.test)
        if deskew { progress.diagnostic("deskewing \(test.count) test images") }
        return preprocessing.apply(to: test)
    }

    /// The `--resume` checkpoint, refused unless it was taken with `settings`.
    private func readCheckpoint(matching settings: [String: String]) throws -> TrainingCheckpoint? {
        try resume.map { path in
            let checkpoint = try TrainingCheckpoint.read(path)
            try checkpoint.requireSettings(settings, path: path)
            progress.diagnostic("resuming after epoch \(checkpoint.epochsCompleted) from \(path)")
            return checkpoint
        }
    }

    /// With `--checkpoint-every`: saves the state, stamped with `settings`, to `checkpointPath`.
    private func checkpointPolicy(settings: [String: String]) throws -> CheckpointPolicy? {
        try checkpointEvery.map { interval in
            try FileIO.requireWritableTarget(checkpointPath)
            return CheckpointPolicy(every: interval) { checkpoint in
                var checkpoint = checkpoint
                checkpoint.settings = settings
                try checkpoint.write(to: checkpointPath)
                progress.diagnostic("saved checkpoint after epoch \(checkpoint.epochsCompleted) to \(checkpointPath)")
            }
        }
    }

    /// Runs the trainer with the live progress bar and the per-epoch report; a stop signal ends
    /// it at a batch boundary with nothing written.
    private func train(
        _ configuration: TrainingConfiguration, on data: PreparedData, resumingFrom resumed: TrainingCheckpoint?,
        checkpoints policy: CheckpointPolicy?, report: TrainingReport
    ) throws -> TrainedModel {
        report.begin()
        var lastBatch: BatchProgress?
        let liveProgress = TrainingProgress(
            style: progress.style, epochs: optimizer == .sgd ? configuration.epochs : configuration.maxIterations,
            unit: stepName)
        defer { liveProgress.finish() }
        let clock = ContinuousClock()
        let started = clock.now
        let outcome: TrainingOutcome
        do {
            outcome = try SoftmaxTrainer(configuration: configuration).run(
                on: data.training, validation: data.validation, resumingFrom: resumed, checkpoints: policy,
                afterEpoch: { summary in
                    liveProgress.epochFinished(summary, lastBatch: lastBatch)
                    report.epoch(summary)
                },
                afterBatch: { batch in
                    lastBatch = batch
                    liveProgress.batchFinished(batch)
                },
                shouldStop: { StopSignals.received != nil })
        } catch let interrupted as TrainingInterrupted {
            throw StopSignals.exit(notWriting: modelPath.model, during: interrupted.positionDescription)
        }
        let seconds = (clock.now - started).seconds
        if let reason = outcome.stoppedBecause {
            progress.diagnostic(
                "stopped after \(stepName) \(outcome.epochsRun): \(reason)"
                    + (outcome.bestEpoch.map { "; keeping the weights of \(stepName) \($0)" } ?? ""))
        }
        var provenance = outcome.provenance
        provenance.preprocessing = data.preprocessing
        provenance.trainingDigests = data.digests
        return TrainedModel(
            model: outcome.model, epochsRun: outcome.epochsRun, provenance: provenance, seconds: seconds)
    }

    /// With `--metrics-csv`: one row per epoch, written atomically.
    private func writeMetricsCSV(_ epochs: [EpochSummary]) throws {
        guard let metricsCsv else { return }
        try FileIO.writeAtomically(Array(TrainingReport.csv(epochs).utf8), to: metricsCsv)
        progress.diagnostic("wrote metrics to \(metricsCsv)")
    }

    /// The run's provenance before training: the settings a checkpoint must share, with the data
    /// identified by the digests of the whole training file, as loaded.
    private func provenance(_ configuration: TrainingConfiguration, data: PreparedData) -> TrainingProvenance {
        TrainingProvenance(
            configuration: configuration, preprocessing: data.preprocessing, trainingSamples: data.training.count,
            validationSamples: validationSplit, trainingDigests: data.digests)
    }
}
